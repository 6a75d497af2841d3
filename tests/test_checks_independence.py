"""shipped_alternatives_disabled: delegating code fails inside the block, honest code passes,
and everything is as before afterwards, even after an error."""

import importlib

import numpy as np
import pytest

import cs231n_lib.fast_layers as fast_layers
import cs231n_lib.gradient_check as gradient_check
import cs231n_lib.layer_utils as layer_utils
import cs231n_lib.layers as layers
import cs231n_lib.optim as optim
import cs231n_lib.solver as solver
from cs231n_lib.checks.conv import check_conv_forward
from cs231n_lib.checks.independence import (
    SHIPPED,
    SPATIAL_TOOLS,
    STUDENT_MODULES,
    shipped_alternatives_disabled,
)
from cs231n_lib.checks.spatial import check_output_size
from cs231n_lib.shapes import conv_output_size

MESSAGE = "this exercise must not call conv_forward_fast: write it yourself"
PARAM = {"stride": 1, "pad": 1}


def case():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)


def delegating(x, w, b, conv_param):
    return fast_layers.conv_forward_fast(x, w, b, conv_param)


def bindings():
    return {name: getattr(importlib.import_module(module), name) for name, module in SHIPPED.items()}


ORIGINALS = bindings()


def test_a_function_that_calls_the_fast_layer_fails_with_the_message():
    with shipped_alternatives_disabled("conv_forward_fast"):
        with pytest.raises(AssertionError, match=MESSAGE):
            delegating(*case(), PARAM)


def test_the_public_check_fails_on_a_delegating_answer_and_passes_an_honest_one(capsys):
    with shipped_alternatives_disabled("conv_forward_fast", "conv_backward_fast"):
        with pytest.raises(AssertionError, match=MESSAGE):
            check_conv_forward(delegating)
        check_conv_forward(layers.conv_forward_naive)
    assert capsys.readouterr().out == ""  # quiet: a hidden test prints nothing


def test_names_captured_by_from_import_are_stubbed_too():
    namespace = {"conv_forward_fast": fast_layers.conv_forward_fast, "other": 1}
    with shipped_alternatives_disabled("conv_forward_fast", namespace=namespace):
        assert layer_utils.conv_forward_fast is not ORIGINALS["conv_forward_fast"]
        with pytest.raises(AssertionError, match=MESSAGE):
            namespace["conv_forward_fast"](*case(), PARAM)
        with pytest.raises(AssertionError, match=MESSAGE):
            layer_utils.conv_relu_forward(*case(), PARAM)
        assert namespace["other"] == 1
    assert namespace["conv_forward_fast"] is fast_layers.conv_forward_fast
    assert layer_utils.conv_forward_fast is fast_layers.conv_forward_fast


def test_update_rule_table_and_solver_are_stubbed():
    with shipped_alternatives_disabled("sgd", "Solver"):
        with pytest.raises(AssertionError, match="must not call sgd"):
            optim.get_update_rule("sgd")(np.zeros(2), np.ones(2))
        with pytest.raises(AssertionError, match="must not call Solver"):
            solver.Solver()
    assert optim.get_update_rule("sgd") is ORIGINALS["sgd"]
    assert solver.Solver is ORIGINALS["Solver"]


def test_numerical_gradient_stubbed_in_a_notebook_namespace():
    namespace = {"eval_numerical_gradient": gradient_check.eval_numerical_gradient}
    exec("def numerical_gradient(f, x):\n    return eval_numerical_gradient(f, x)", namespace)
    with shipped_alternatives_disabled("eval_numerical_gradient", namespace=namespace):
        with pytest.raises(AssertionError, match="must not call eval_numerical_gradient"):
            namespace["numerical_gradient"](lambda v: float(np.sum(v)), np.zeros(3))
    assert namespace["numerical_gradient"](lambda v: float(np.sum(v ** 2)), np.ones(2)) == pytest.approx([2, 2])


def test_originals_are_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with shipped_alternatives_disabled(*SHIPPED):
            raise ZeroDivisionError
    after = bindings()
    for name, original in ORIGINALS.items():
        if SHIPPED[name] in STUDENT_MODULES:  # reloaded on exit: a fresh function of the same source
            assert after[name].__qualname__ == name and after[name].__module__ == SHIPPED[name]
        else:
            assert after[name] is original, name
    assert layer_utils.conv_forward_fast is ORIGINALS["conv_forward_fast"]
    assert optim.UPDATE_RULES["sgd"] is ORIGINALS["sgd"]
    out, _ = layers.conv_forward_naive(*case(), PARAM)
    assert np.allclose(out, fast_layers.conv_forward_fast(*case(), PARAM)[0])


def test_an_unknown_name_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="conv_forward_fastest"):
        with shipped_alternatives_disabled("conv_forward_fastest"):
            pass


def test_a_function_in_a_student_module_is_stubbed_after_the_reload_too():
    with shipped_alternatives_disabled("softmax_loss"):
        with pytest.raises(AssertionError, match="must not call softmax_loss"):
            importlib.import_module("cs231n_lib.layers").softmax_loss(np.zeros((1, 3)), np.array([0]))
    loss, _ = layers.softmax_loss(np.zeros((1, 3)), np.array([0]))
    assert loss == pytest.approx(np.log(3))


def notebook(*cells):
    """A notebook's globals after running ``cells`` in order, with IPython's In history."""
    namespace = {"conv_output_size": conv_output_size, "In": [""]}
    for source in cells:
        namespace["In"].append(source)
        exec(source, namespace)
    return namespace


CHECK_CELL = "check_output_size(alexnet_size, 227, 11, stride=4, pad=0)"


def rerun_alexnet(namespace):
    namespace["In"].append(CHECK_CELL)  # the check cell is the one running
    with shipped_alternatives_disabled(*SPATIAL_TOOLS, namespace=namespace) as answers:
        check_output_size(answers.rerun("alexnet_size"), 227, 11, stride=4, pad=0)


def test_rerun_works_a_value_typed_by_hand_out_again_and_leaves_the_notebook_alone():
    namespace = notebook("alexnet_size = None", "alexnet_size = (227 - 11) / 4 + 1\nother = [1]")
    other = namespace["other"]
    rerun_alexnet(namespace)
    assert namespace["other"] is other and namespace["alexnet_size"] == 55
    assert namespace["conv_output_size"] is conv_output_size


def test_rerun_fails_a_value_that_a_shipped_tool_computed():
    namespace = notebook("alexnet_size = conv_output_size(227, 11, stride=4)")
    with pytest.raises(AssertionError, match="must not call conv_output_size"):
        rerun_alexnet(namespace)
    aliased = notebook("from cs231n_lib import shapes as s\nsize = s.conv_output_size\n"
                       "alexnet_size, unused = size(227, 11, 4), 0")
    with pytest.raises(AssertionError, match="must not call conv_output_size"):
        rerun_alexnet(aliased)


def test_rerun_takes_the_last_cell_that_assigns_the_name_and_says_when_there_is_none():
    namespace = notebook("alexnet_size = conv_output_size(227, 11, stride=4)", "alexnet_size = 55")
    rerun_alexnet(namespace)  # the later, honest cell is the answer
    with pytest.raises(AssertionError, match="no cell run before this check sets stem_size"):
        with shipped_alternatives_disabled(*SPATIAL_TOOLS, namespace=namespace) as answers:
            answers.rerun("stem_size")


def test_the_library_s_private_centred_difference_is_switched_off_for_03():
    namespace = {"gradient_check": gradient_check}
    exec("def numerical_gradient(f, x, h=1e-5):\n"
         "    grad = np.zeros(x.shape)\n"
         "    for ix in np.ndindex(x.shape):\n"
         "        plus, minus = gradient_check._centred_difference(f, x, ix, h)\n"
         "        grad[ix] = (plus - minus) / (2 * h)\n"
         "    return grad", {**namespace, "np": np}, namespace)
    with shipped_alternatives_disabled("_centred_difference", namespace=namespace):
        with pytest.raises(AssertionError, match="must not call _centred_difference"):
            namespace["numerical_gradient"](lambda v: float(np.sum(v ** 2)), np.ones(2))
    assert namespace["numerical_gradient"](lambda v: float(np.sum(v ** 2)), np.ones(2)) == pytest.approx([2, 2])


@pytest.mark.parametrize("public, twin, call", [
    ("conv_forward_fast", "_conv_forward",
     lambda: fast_layers._conv_forward(*case(), PARAM, out_from_pool=False)),
    ("max_pool_backward_fast", "_max_pool_backward",
     lambda: fast_layers._max_pool_backward(np.ones((1, 1, 1, 1)), fast_layers.max_pool_forward_fast(
         np.ones((1, 1, 2, 2)), {"pool_height": 2, "pool_width": 2, "stride": 2})[1], dx_from_pool=False)),
])
def test_a_fast_layer_s_private_twin_is_switched_off_with_it(public, twin, call):
    with shipped_alternatives_disabled(public):
        with pytest.raises(AssertionError, match=f"must not call {twin}"):
            call()
    call()  # restored on exit
