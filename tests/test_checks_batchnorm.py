"""Tests for cs231n_lib.checks.batchnorm, the checks of notebook 09.

Every literal of the check module is recomputed here: the expected outputs and
gradients from the reference implementation in tests/batchnorm_reference.py
(cross-checked with the library), the salted hashes of the named mistakes from
mutants of the model solution (one textual edit each, tests/mutation_harness.py).
A wrong literal, or a hash that names the wrong mistake, fails a test.
"""

import inspect

import batchnorm_reference as reference
import numpy as np
import pytest
from mutation_harness import mutated_function

from cs231n_lib import layers
from cs231n_lib.checks import batchnorm as bn
from cs231n_lib.checks.batchnorm import (
    check_batchnorm_backward,
    check_batchnorm_backward_alt,
    check_batchnorm_forward,
    check_spatial_batchnorm_backward,
    check_spatial_batchnorm_forward,
)
from cs231n_lib.checks.common import NOT_IMPLEMENTED, answer_digest

# ---------------------------------------------------------------------------
# The named mistakes, as edits of the model solution
# ---------------------------------------------------------------------------

STD = "std = np.sqrt(var + eps)"
VAR = "var = np.mean(centred ** 2, axis=0)"
OUT = "out = gamma * x_hat + beta"
RUN_MEAN = "momentum * running_mean + (1 - momentum) * mean"
RUN_VAR = "momentum * running_var + (1 - momentum) * var"

FORWARD_EDITS = {
    "unbiased variance": ((VAR, "var = np.sum(centred ** 2, axis=0) / (N - 1)"),),
    "eps outside the square root": ((STD, "std = np.sqrt(var) + eps"),
                                    ("np.sqrt(running_var + eps)", "np.sqrt(running_var) + eps")),
    "eps ignored": ((STD, "std = np.sqrt(var)"), ("np.sqrt(running_var + eps)", "np.sqrt(running_var)")),
    "variance not square-rooted": ((STD, "std = var + eps"), ("np.sqrt(running_var + eps)", "running_var + eps")),
    "statistics per sample": (("mean = x.mean(axis=0)", "mean = x.mean(axis=1, keepdims=True)"),
                              (VAR, "var = np.mean(centred ** 2, axis=1, keepdims=True)")),
    "mean not subtracted": (("x_hat = centred / std", "x_hat = x / std"),),
    "gamma forgotten": ((OUT, "out = x_hat + beta"),),
    "beta forgotten": ((OUT, "out = gamma * x_hat"),),
    "gamma and beta swapped": ((OUT, "out = beta * x_hat + gamma"),),
    "shift before scale": ((OUT, "out = gamma * (x_hat + beta)"),),
    "batch statistics in test mode": (('if mode == "train":', "if True:"),),
    "running averages swapped": (("centred = x - running_mean", "centred = x - running_var"),
                                 ("np.sqrt(running_var + eps)", "np.sqrt(running_mean + eps)")),
}

RUNNING_EDITS = {
    "momentum the wrong way round": ((RUN_MEAN, "(1 - momentum) * running_mean + momentum * mean"),
                                     (RUN_VAR, "(1 - momentum) * running_var + momentum * var")),
    "momentum ignored": ((RUN_MEAN, "mean"), (RUN_VAR, "var")),
    "momentum fixed": ((RUN_MEAN, "0.9 * running_mean + (1 - 0.9) * mean"),
                       (RUN_VAR, "0.9 * running_var + (1 - 0.9) * var")),
    "unbiased running variance": ((RUN_VAR, "momentum * running_var + (1 - momentum) * var * N / (N - 1)"),),
    "running standard deviation": ((RUN_VAR, "momentum * running_var + (1 - momentum) * std"),),
    "running variance with eps": ((RUN_VAR, "momentum * running_var + (1 - momentum) * (var + eps)"),),
    "running averages swapped": ((RUN_MEAN, "momentum * running_mean + (1 - momentum) * var"),
                                 (RUN_VAR, "momentum * running_var + (1 - momentum) * mean")),
}

DBETA = "dbeta = dout.sum(axis=0)"
DGAMMA = "dgamma = np.sum(dout * x_hat, axis=0)"
ALT_DX = "dx = gamma / (N * std) * (N * dout - dbeta - x_hat * dgamma)"
GRAPH = layers.batchnorm_backward
ALT = layers.batchnorm_backward_alt
BACKWARD_EDITS = [
    ("dbeta mean", GRAPH, ((DBETA, "dbeta = dout.mean(axis=0)"),)),
    ("dgamma mean", GRAPH, ((DGAMMA, "dgamma = np.mean(dout * x_hat, axis=0)"),)),
    ("dgamma with x", GRAPH, ((DGAMMA, "dgamma = np.sum(dout * x, axis=0)"),)),
    ("dgamma dbeta swapped", GRAPH, ((DBETA, "dgamma = dout.sum(axis=0)"),
                                     (DGAMMA, "dbeta = np.sum(dout * x_hat, axis=0)"))),
    ("gamma forgotten in dx", GRAPH, (("dx_hat = dout * gamma", "dx_hat = dout"),)),
    ("mean branch missing", GRAPH, (("dx = dcentred + dmean / N", "dx = dcentred"),)),
    ("variance branch missing", GRAPH, (("dcentred = dcentred + 2 * centred * dvar / N", "dcentred = dcentred"),)),
    ("both branches missing", GRAPH, (("dcentred = dcentred + 2 * centred * dvar / N", "dcentred = dcentred"),
                                      ("dx = dcentred + dmean / N", "dx = dcentred"))),
    ("unbiased variance in backward", GRAPH, (("2 * centred * dvar / N", "2 * centred * dvar / (N - 1)"),)),
    ("factor 2 of the square", GRAPH, (("2 * centred * dvar / N", "centred * dvar / N"),)),
    ("factor 1/2 of the square root", GRAPH, (("dvar = dstd / (2 * std)", "dvar = dstd / std"),)),
    ("sign of the variance path", GRAPH, (("dstd = -np.sum", "dstd = np.sum"),)),
    ("power of std", GRAPH, (("/ std ** 2", "/ std"),)),
    ("sign of the mean path", GRAPH, (("dmean = -np.sum", "dmean = np.sum"),)),
    ("dmean not divided by N", GRAPH, (("dx = dcentred + dmean / N", "dx = dcentred + dmean"),)),
    ("factor N", ALT, ((ALT_DX, "dx = gamma / std * (N * dout - dbeta - x_hat * dgamma)"),)),
    ("factor N", ALT, ((ALT_DX, "dx = gamma / (N * std) * (dout - dbeta - x_hat * dgamma)"),)),
    ("sign of the variance path", ALT, ((ALT_DX, "dx = gamma / (N * std) * (N * dout - dbeta + x_hat * dgamma)"),)),
    ("x instead of x_hat", ALT, ((ALT_DX, "dx = gamma / (N * std) * (N * dout - dbeta - x * dgamma)"),)),
    ("power of std", ALT, ((ALT_DX, "dx = gamma / (N * std ** 2) * (N * dout - dbeta - x_hat * dgamma)"),)),
    ("gamma forgotten in dx", ALT, ((ALT_DX, "dx = 1 / (N * std) * (N * dout - dbeta - x_hat * dgamma)"),)),
    ("mean branch missing", ALT, ((ALT_DX, "dx = gamma / (N * std) * (N * dout - x_hat * dgamma)"),)),
    ("variance branch missing", ALT, ((ALT_DX, "dx = gamma / (N * std) * (N * dout - dbeta)"),)),
    ("both branches missing", ALT, ((ALT_DX, "dx = gamma / (N * std) * (N * dout)"),)),
    ("dbeta mean", ALT, ((DBETA, "dbeta = dout.mean(axis=0)"),)),
    ("dgamma with x", ALT, ((DGAMMA, "dgamma = np.sum(dout * x, axis=0)"),)),
]

X_ROWS = "x.transpose(0, 2, 3, 1).reshape(N * H * W, C)"
OUT_BACK = "out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)"
SPATIAL_EDITS = {
    "no transpose": ((X_ROWS, "x.reshape(N * H * W, C)"),),
    "not transposed back": ((OUT_BACK, "out_rows.reshape(N, C, H, W)"),),
    "H and W swapped": ((X_ROWS, "x.transpose(0, 3, 2, 1).reshape(N * H * W, C)"),),
    # Reshaped both ways without a transpose: "no transpose" names it too.
    "no transpose either way": ((X_ROWS, "x.reshape(N * H * W, C)"), (OUT_BACK, "out_rows.reshape(N, C, H, W)")),
}
SPATIAL_KEYS = {"no transpose either way": "no transpose"}
DOUT_ROWS = "dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)"
DX_BACK = "dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)"
SPATIAL_BACKWARD_EDITS = {
    "no transpose": ((DOUT_ROWS, "dout.reshape(N * H * W, C)"),),
    "not transposed back": ((DX_BACK, "dx_rows.reshape(N, C, H, W)"),),
    "H and W swapped": ((DX_BACK, "dx_rows.reshape(N, H, W, C).transpose(0, 3, 2, 1)"),),
}


# ---------------------------------------------------------------------------
# Recomputing the module's tables
# ---------------------------------------------------------------------------


def literal(array):
    """An array as the module writes it: nested lists of floats with 12 significant digits."""
    return np.vectorize(lambda v: float(f"{v:.12g}"))(np.asarray(array, dtype=np.float64)).tolist()


def quiet(function, *args):
    try:
        with np.errstate(all="ignore"):
            return function(*args)
    except (ValueError, IndexError, TypeError):
        return None


def add_mistake(table, digest, key, where):
    assert table.get(digest, key) == key, f"{where}: {key} and {table[digest]} give the same output"
    table[digest] = key


def add_first_wrong(table, grads, right, label, key):
    """Hash the first wrong gradient in the order the check compares them (dbeta, dgamma, dx): a mistake
    is named where the check first sees it, and a later gradient it spoiled names nothing."""
    if grads is None or len(grads) != 3:
        return
    got, good = dict(zip(("dx", "dgamma", "dbeta"), grads)), dict(zip(("dx", "dgamma", "dbeta"), right))
    for name in ("dbeta", "dgamma", "dx"):
        if np.shape(got[name]) != np.shape(good[name]):
            return
        if differs(got[name], good[name]):
            add_mistake(table, bn._digest(got[name], f"{label}|{name}"), key, f"{label}|{name}")
            return


def differs(got, right):
    return got is not None and np.shape(got) == np.shape(right) and not np.allclose(got, right)


def forward_tables():
    expected, mistakes = {}, {}
    for label in (bn.STANDARDISE, bn.SCALE_SHIFT, bn.TEST_MODE, bn.NUMERIC):
        x, gamma, beta, bn_param, _ = bn.case_arrays(bn.INPUTS, label)
        right, _, _ = reference.forward(x, gamma, beta, dict(bn_param))
        np.testing.assert_allclose(layers.batchnorm_forward(x, gamma, beta, dict(bn_param))[0], right,
                                   rtol=1e-12, atol=1e-12)
        expected[label] = literal(right)
        if label == bn.NUMERIC:
            continue
        table = {}
        for key, edits in FORWARD_EDITS.items():
            result = quiet(mutated_function(layers.batchnorm_forward, edits), x.copy(), gamma.copy(),
                           beta.copy(), dict(bn_param))
            got = None if result is None else result[0]
            if differs(got, right):
                add_mistake(table, bn._digest(got, label), key, label)
        mistakes[label] = table
    return expected, mistakes


def run_batches(forward):
    bn_param = {"mode": "train", "momentum": bn.RUNNING_MOMENTUM, "eps": bn.RUNNING_EPS}
    for batch in bn.RUNNING_BATCHES:
        forward(np.array(batch), np.ones(3), np.zeros(3), bn_param)
    return bn_param


def running_tables():
    right = run_batches(reference.forward)
    library = run_batches(layers.batchnorm_forward)
    expected = {}
    for key in ("running_mean", "running_var"):
        np.testing.assert_allclose(library[key], right[key], rtol=1e-12)
        expected[key] = literal(right[key])
    mistakes = {"running_mean": {}, "running_var": {}}
    for name, edits in RUNNING_EDITS.items():
        got = run_batches(mutated_function(layers.batchnorm_forward, edits))
        for key in ("running_mean", "running_var"):
            if differs(got[key], right[key]):
                add_mistake(mistakes[key], bn._digest(got[key], key), name, key)
    return expected, mistakes


def backward_tables():
    expected, mistakes = {}, {}
    for label in (bn.SCALE_SHIFT, bn.STANDARDISE, bn.NUMERIC):
        x, gamma, beta, bn_param, dout = bn.case_arrays(bn.INPUTS, label)
        right = reference.backward(dout, x, gamma, bn_param.get("eps", 1e-5))
        _, cache = layers.batchnorm_forward(x, gamma, beta, dict(bn_param))
        for backward in (GRAPH, ALT):
            for mine, library in zip(right, backward(dout, cache)):
                np.testing.assert_allclose(library, mine, rtol=1e-10, atol=1e-12)
        if label == bn.NUMERIC:
            continue
        expected[label] = {key: literal(g) for key, g in zip(("dx", "dgamma", "dbeta"), right)}
        table = {}
        for key, function, edits in BACKWARD_EDITS:
            grads = quiet(mutated_function(function, edits), dout.copy(), cache)
            add_first_wrong(table, grads, right, label, key)
        mistakes[label] = table
    return expected, mistakes


def spatial_tables():
    out, running, mistakes = {}, {}, {}
    for label in (bn.SPATIAL_STANDARDISE, bn.SPATIAL_SCALE_SHIFT, bn.SPATIAL_TEST_MODE):
        x, gamma, beta, bn_param, _ = bn.case_arrays(bn.SPATIAL_INPUTS, label)
        ref_param, lib_param = dict(bn_param), dict(bn_param)
        right = reference.spatial_forward(x, gamma, beta, ref_param)
        np.testing.assert_allclose(layers.spatial_batchnorm_forward(x, gamma, beta, lib_param)[0], right,
                                   rtol=1e-12, atol=1e-12)
        out[label] = literal(right)
        if label == bn.SPATIAL_SCALE_SHIFT:
            for key in ("running_mean", "running_var"):
                np.testing.assert_allclose(lib_param[key], ref_param[key], rtol=1e-12)
                running[key] = literal(ref_param[key])
        table = {}
        for key, edits in SPATIAL_EDITS.items():
            result = quiet(mutated_function(layers.spatial_batchnorm_forward, edits), x.copy(), gamma.copy(),
                           beta.copy(), dict(bn_param))
            got = None if result is None else result[0]
            if differs(got, right):
                add_mistake(table, bn._digest(got, label), SPATIAL_KEYS.get(key, key), label)
        mistakes[label] = table
    return out, running, mistakes


def spatial_backward_tables():
    label = bn.SPATIAL_SCALE_SHIFT
    x, gamma, beta, bn_param, dout = bn.case_arrays(bn.SPATIAL_INPUTS, label)
    right = reference.spatial_backward(dout, x, gamma, bn_param["eps"])
    _, cache = layers.spatial_batchnorm_forward(x, gamma, beta, dict(bn_param))
    for mine, library in zip(right, layers.spatial_batchnorm_backward(dout, cache)):
        np.testing.assert_allclose(library, mine, rtol=1e-10, atol=1e-12)
    table = {}
    for key, edits in SPATIAL_BACKWARD_EDITS.items():
        grads = quiet(mutated_function(layers.spatial_batchnorm_backward, edits), dout.copy(), cache)
        add_first_wrong(table, grads, right, label, key)
    grads = {label: {key: literal(g) for key, g in zip(("dx", "dgamma", "dbeta"), right)}}
    return grads, {label: table}


def assert_literals_equal(got, expected):
    """Same nesting and keys; numbers equal to 1e-11 (relative) of the recomputed 12-digit values."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(expected), (sorted(got), sorted(expected))
        for key in expected:
            assert_literals_equal(got[key], expected[key])
    else:
        np.testing.assert_allclose(np.array(got, dtype=np.float64), np.array(expected), rtol=1e-11, atol=0)


def test_forward_literals_are_the_reference_and_its_mutants():
    expected, mistakes = forward_tables()
    assert_literals_equal(bn.FORWARD_OUT, expected)
    assert bn.FORWARD_MISTAKES == mistakes


def test_running_average_literals_are_the_reference_and_its_mutants():
    expected, mistakes = running_tables()
    assert_literals_equal(bn.RUNNING_AVERAGES, expected)
    assert bn.RUNNING_MISTAKES == mistakes


def test_backward_literals_are_the_reference_and_its_mutants():
    expected, mistakes = backward_tables()
    assert_literals_equal(bn.BACKWARD_GRADS, expected)
    assert bn.BACKWARD_MISTAKES == mistakes


def test_spatial_literals_are_the_reference_and_its_mutants():
    out, running, mistakes = spatial_tables()
    assert_literals_equal(bn.SPATIAL_OUT, out)
    assert_literals_equal(bn.SPATIAL_RUNNING, running)
    assert bn.SPATIAL_MISTAKES == mistakes
    grads, backward_mistakes = spatial_backward_tables()
    assert_literals_equal(bn.SPATIAL_GRADS, grads)
    assert bn.SPATIAL_BACKWARD_MISTAKES == backward_mistakes


def test_every_named_mistake_has_a_message_and_every_message_a_mistake():
    tables = [(bn.FORWARD_MISTAKES, bn.FORWARD_MESSAGES), (bn.RUNNING_MISTAKES, bn.RUNNING_MESSAGES),
              (bn.BACKWARD_MISTAKES, bn.BACKWARD_MESSAGES), (bn.SPATIAL_MISTAKES, bn.SPATIAL_MESSAGES),
              (bn.SPATIAL_BACKWARD_MISTAKES, bn.SPATIAL_BACKWARD_MESSAGES)]
    for mistakes, messages in tables:
        named = {key for table in mistakes.values() for key in table.values()}
        assert named == set(messages), (set(messages) - named, named - set(messages))


def _hashed_values():
    """Every array whose hash a table holds, with its tag: the mutants' outputs in float64."""
    for label in (bn.STANDARDISE, bn.SCALE_SHIFT, bn.TEST_MODE):
        x, gamma, beta, bn_param, _ = bn.case_arrays(bn.INPUTS, label)
        for edits in FORWARD_EDITS.values():
            result = quiet(mutated_function(layers.batchnorm_forward, edits), x.copy(), gamma, beta, dict(bn_param))
            if result is not None:
                yield result[0]
    for edits in RUNNING_EDITS.values():
        got = run_batches(mutated_function(layers.batchnorm_forward, edits))
        yield got["running_mean"]
        yield got["running_var"]
    for label in (bn.SCALE_SHIFT, bn.STANDARDISE):
        x, gamma, beta, bn_param, dout = bn.case_arrays(bn.INPUTS, label)
        _, cache = layers.batchnorm_forward(x, gamma, beta, dict(bn_param))
        for _, function, edits in BACKWARD_EDITS:
            yield from quiet(mutated_function(function, edits), dout.copy(), cache) or ()
    for label in (bn.SPATIAL_STANDARDISE, bn.SPATIAL_SCALE_SHIFT, bn.SPATIAL_TEST_MODE):
        x, gamma, beta, bn_param, dout = bn.case_arrays(bn.SPATIAL_INPUTS, label)
        for edits in SPATIAL_EDITS.values():
            result = quiet(mutated_function(layers.spatial_batchnorm_forward, edits), x.copy(), gamma, beta,
                           dict(bn_param))
            if result is not None:
                yield result[0]
        if dout is not None:
            _, cache = layers.spatial_batchnorm_forward(x, gamma, beta, dict(bn_param))
            for edits in SPATIAL_BACKWARD_EDITS.values():
                yield from quiet(mutated_function(layers.spatial_batchnorm_backward, edits), dout.copy(), cache) or ()


def test_hashed_values_are_far_from_a_rounding_boundary():
    """A student's output that differs from a mutant's by rounding (1e-12) must give the same hash."""
    for values in _hashed_values():
        values = np.asarray(values, dtype=np.float64).ravel()
        scale = np.max(np.abs(values)) if values.size else 0
        for v in values:
            if not np.isfinite(v) or abs(v) <= 1e-9 * scale or float(v).is_integer():
                continue
            exponent = int(np.floor(np.log10(abs(v))))
            units = abs(v) / 10.0 ** (exponent - 3)  # four significant digits: the rounding step is 1 unit
            assert abs(units - np.floor(units) - 0.5) > 1e-6, v


def test_hash_ignores_rounding_noise_of_a_zero():
    assert bn._digest(np.array([1.0, 1e-17]), "t") == bn._digest(np.array([1.0, 0.0]), "t")
    assert bn._digest(np.array([1.0, 1e-17]), "t") == answer_digest(np.array([1.0, 0.0]), tag="t")


def test_case_inputs_have_no_entry_at_its_features_mean():
    """No zero in x_hat: an output entry of exactly 0 would hash differently for rounding noise."""
    for label in (bn.STANDARDISE, bn.SCALE_SHIFT):
        x = np.array(bn.INPUTS[label]["x"])
        assert not np.any(np.isclose(x, x.mean(axis=0))), label
    x = np.array(bn.SPATIAL_INPUTS[bn.SPATIAL_STANDARDISE]["x"])
    assert not np.any(np.isclose(x, x.mean(axis=(0, 2, 3), keepdims=True)))


# ---------------------------------------------------------------------------
# The checks pass the model solution and name each mistake
# ---------------------------------------------------------------------------


def test_the_model_solution_passes_every_check(capsys):
    check_batchnorm_forward(layers.batchnorm_forward)
    check_batchnorm_backward(layers.batchnorm_forward, layers.batchnorm_backward)
    check_batchnorm_backward_alt(layers.batchnorm_forward, layers.batchnorm_backward_alt)
    check_spatial_batchnorm_forward(layers.spatial_batchnorm_forward)
    check_spatial_batchnorm_backward(layers.spatial_batchnorm_forward, layers.spatial_batchnorm_backward)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(line.startswith("OK: ") for line in lines), lines


def test_the_reference_passes_the_forward_check(capsys):
    def forward(x, gamma, beta, bn_param):
        return reference.forward(x, gamma, beta, bn_param)[0], (x,)

    check_batchnorm_forward(forward)
    assert capsys.readouterr().out.startswith("OK: batchnorm_forward")


def failure(check, *args):
    with pytest.raises(AssertionError) as error, np.errstate(all="ignore"):
        check(*args)
    return str(error.value)


@pytest.mark.parametrize("key", sorted(FORWARD_EDITS))
def test_forward_mistake_is_named(key):
    mutant = mutated_function(layers.batchnorm_forward, FORWARD_EDITS[key])
    message = failure(check_batchnorm_forward, mutant)
    assert bn.FORWARD_MESSAGES[key] in message


@pytest.mark.parametrize("key", sorted(RUNNING_EDITS))
def test_running_average_mistake_is_named(key):
    mutant = mutated_function(layers.batchnorm_forward, RUNNING_EDITS[key])
    message = failure(check_batchnorm_forward, mutant)
    assert bn.RUNNING_MESSAGES[key] in message


@pytest.mark.parametrize(("key", "function", "edits"), BACKWARD_EDITS,
                         ids=[f"{f.__name__}-{k}" for k, f, _ in BACKWARD_EDITS])
def test_backward_mistake_is_named(key, function, edits):
    mutant = mutated_function(function, edits)
    check = check_batchnorm_backward if function is GRAPH else check_batchnorm_backward_alt
    message = failure(check, layers.batchnorm_forward, mutant)
    assert bn.BACKWARD_MESSAGES[key] in message


@pytest.mark.parametrize("key", sorted(SPATIAL_EDITS))
def test_spatial_forward_mistake_is_named(key):
    mutant = mutated_function(layers.spatial_batchnorm_forward, SPATIAL_EDITS[key])
    assert bn.SPATIAL_MESSAGES[SPATIAL_KEYS.get(key, key)] in failure(check_spatial_batchnorm_forward, mutant)


@pytest.mark.parametrize("key", sorted(SPATIAL_BACKWARD_EDITS))
def test_spatial_backward_mistake_is_named(key):
    mutant = mutated_function(layers.spatial_batchnorm_backward, SPATIAL_BACKWARD_EDITS[key])
    message = failure(check_spatial_batchnorm_backward, layers.spatial_batchnorm_forward, mutant)
    assert bn.SPATIAL_BACKWARD_MESSAGES[key] in message


def test_running_averages_not_stored_are_named():
    mutant = mutated_function(layers.batchnorm_forward, (
        ('bn_param["running_mean"] = momentum', "running_mean = momentum"),
        ('bn_param["running_var"] = momentum', "running_var = momentum")))
    message = failure(check_batchnorm_forward, mutant)
    assert "bn_param['running_mean'] after three train-mode calls" in message
    assert "never stored into bn_param" in message


def test_running_averages_changed_in_test_mode_are_named():
    def forward(x, gamma, beta, bn_param):
        out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
        if bn_param["mode"] == "test":
            bn_param["running_mean"] = bn_param["running_mean"] * 0.5
        return out, cache

    message = failure(check_batchnorm_forward, forward)
    assert "after test mode" in message and "only reads the running averages" in message


def test_inputs_changed_in_place_are_named_before_any_value():
    def forward(x, gamma, beta, bn_param):
        out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
        x -= x.mean(axis=0)
        return out, cache

    def backward(dout, cache):
        grads = layers.batchnorm_backward(dout, cache)
        dout *= 2
        return grads

    assert "the input x after the call: expected unchanged" in failure(check_batchnorm_forward, forward)
    assert "dout after the call: expected unchanged" in failure(
        check_batchnorm_backward, layers.batchnorm_forward, backward)


def test_float64_outputs_for_float32_inputs_are_named():
    def forward(x, gamma, beta, bn_param):
        out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
        return out.astype(np.float64), cache

    def backward(dout, cache):
        return tuple(g.astype(np.float64) for g in layers.batchnorm_backward(dout, cache))

    assert "expected float32, got float64" in failure(check_batchnorm_forward, forward)
    assert "expected float32, got float64" in failure(check_batchnorm_backward, layers.batchnorm_forward, backward)


def test_float64_running_averages_for_float32_inputs_are_named():
    def forward(x, gamma, beta, bn_param):
        out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
        for key in ("running_mean", "running_var"):
            bn_param[key] = bn_param[key].astype(np.float64)
        return out, cache

    message = failure(check_batchnorm_forward, forward)
    assert "bn_param['running_mean']" in message and "expected float32, got float64" in message


def test_dgamma_summed_over_the_wrong_axis_is_named_by_its_shape():
    mutant = mutated_function(GRAPH, ((DGAMMA, "dgamma = np.sum(dout * x_hat, axis=1)"),))
    message = failure(check_batchnorm_backward, layers.batchnorm_forward, mutant)
    assert "dgamma shape: expected (4,), got (5,)" in message and "wrong axis" in message
    mutant = mutated_function(ALT, ((DBETA, "dbeta = dout.sum(axis=0, keepdims=True)"),))
    message = failure(check_batchnorm_backward_alt, layers.batchnorm_forward, mutant)
    assert "keepdims" in message


def test_an_unknown_dx_mistake_in_the_mean_path_is_explained_by_the_sums():
    mutant = mutated_function(GRAPH, (("dx = dcentred + dmean / N", "dx = dcentred + dmean / (2 * N)"),))
    message = failure(check_batchnorm_backward, layers.batchnorm_forward, mutant)
    assert "sums to" in message and "path through the batch mean" in message


def test_a_near_miss_is_named_on_the_case_with_a_large_eps_or_points_at_eps():
    mutant = mutated_function(layers.batchnorm_forward, ((STD, "std = np.sqrt(var + 2e-5)"),))
    message = failure(check_batchnorm_forward, mutant)
    assert message.startswith(f"batchnorm_forward on {bn.SCALE_SHIFT}: out")
    assert bn.FORWARD_MESSAGES["eps ignored"] in message
    # Wrong only for a small eps: the large-eps case passes, so the near miss is reported.
    mutant = mutated_function(layers.batchnorm_forward, ((STD, "std = np.sqrt(var + (eps if eps > 0.01 else 3e-5))"),))
    message = failure(check_batchnorm_forward, mutant)
    assert message.startswith(f"batchnorm_forward on {bn.STANDARDISE}: out")
    assert bn.NEAR_MISS in message


def test_a_wrong_forward_pass_is_blamed_before_backward():
    mutant = mutated_function(layers.batchnorm_forward, FORWARD_EDITS["beta forgotten"])
    message = failure(check_batchnorm_backward, mutant, layers.batchnorm_backward)
    assert "run check_batchnorm_forward and fix the forward pass first" in message


def test_a_backward_pass_that_only_fits_the_worked_cases_fails_the_numerical_gradient():
    def backward(dout, cache):
        dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
        if dout.shape[0] == 6:
            dx = dx * 1.01
        return dx, dgamma, dbeta

    message = failure(check_batchnorm_backward, layers.batchnorm_forward, backward)
    assert "against the numerical gradient of your forward pass" in message


def test_a_crash_in_the_spatial_reshape_is_explained():
    mutant = mutated_function(layers.spatial_batchnorm_forward,
                              ((X_ROWS, "x.reshape(N, C * H * W)"),))
    message = failure(check_spatial_batchnorm_forward, mutant)
    assert "(N*H*W, C) = (8, 3)" in message


def test_a_spatial_output_left_channels_last_is_named_by_its_shape():
    mutant = mutated_function(layers.spatial_batchnorm_forward,
                              ((OUT_BACK, "out_rows.reshape(N, H, W, C)"),))
    message = failure(check_spatial_batchnorm_forward, mutant)
    assert "out shape: expected (2, 3, 2, 2), got (2, 2, 2, 3)" in message


def not_implemented(*args):
    raise NotImplementedError()


@pytest.mark.parametrize(("check", "args", "name"), [
    (check_batchnorm_forward, (not_implemented,), "not_implemented"),
    (check_batchnorm_backward, (layers.batchnorm_forward, not_implemented), "not_implemented"),
    (check_batchnorm_backward_alt, (layers.batchnorm_forward, not_implemented), "not_implemented"),
    (check_spatial_batchnorm_forward, (not_implemented,), "not_implemented"),
    (check_spatial_batchnorm_backward, (layers.spatial_batchnorm_forward, not_implemented), "not_implemented"),
])
def test_unwritten_functions_say_not_implemented(check, args, name):
    message = failure(check, *args)
    assert NOT_IMPLEMENTED in message and "cs231n_lib/layers.py" in message


# ---------------------------------------------------------------------------
# What the student's copy holds and shows
# ---------------------------------------------------------------------------

SOLUTION_LINES = ["np.sqrt(var + eps)", "x.mean(axis=0)", "gamma * x_hat + beta", "(1 - momentum) * mean",
                  "(1 - momentum) * var", "N * dout - dbeta", "transpose(0, 2, 3, 1)", "transpose(0, 3, 1, 2)",
                  "dout * x_hat", "centred ** 2", "dout.sum(axis=0)"]


def test_module_holds_no_implementation_and_no_solution_line():
    source = inspect.getsource(bn)
    for line in SOLUTION_LINES:
        assert line not in source, line
    for word in ("np.sqrt", ".std(ddof", "keepdims=True)", ".transpose("):
        assert word not in source, word


def test_failure_messages_never_show_an_expected_value_or_a_solution_line():
    messages = [failure(check_batchnorm_forward, mutated_function(layers.batchnorm_forward, edits))
                for edits in list(FORWARD_EDITS.values()) + list(RUNNING_EDITS.values())]
    messages += [failure(check_batchnorm_backward if f is GRAPH else check_batchnorm_backward_alt,
                         layers.batchnorm_forward, mutated_function(f, edits)) for _, f, edits in BACKWARD_EDITS]
    expected_values = {f"{v:.4f}" for table in (bn.FORWARD_OUT, bn.RUNNING_AVERAGES) for v in
                       np.concatenate([np.ravel(a) for a in table.values()])}
    expected_values |= {f"{v:.4f}" for grads in bn.BACKWARD_GRADS.values() for a in grads.values()
                        for v in np.ravel(a)}
    expected_values -= {"0.0000", "-0.0000", "1.0000", "-1.0000"}
    for message in messages:
        for line in SOLUTION_LINES:
            assert line not in message, (line, message)
        for value in expected_values:
            assert value not in message, (value, message)
