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
from cs231n_lib.checks.independence import SHIPPED, shipped_alternatives_disabled

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
            1 / 0
    assert bindings() == ORIGINALS
    assert layer_utils.conv_forward_fast is ORIGINALS["conv_forward_fast"]
    assert optim.UPDATE_RULES["sgd"] is ORIGINALS["sgd"]
    out, _ = layers.conv_forward_naive(*case(), PARAM)
    assert np.allclose(out, fast_layers.conv_forward_fast(*case(), PARAM)[0])


def test_an_unknown_name_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="conv_forward_fastest"):
        with shipped_alternatives_disabled("conv_forward_fastest"):
            pass
