"""Mutation suite for notebook 09 (batch normalization): the five exercises in cs231n_lib/layers.py.

Each mutation is the model solution with one student-style mistake (tests/mutation_harness.py); the
PUBLIC check, called as the notebook's check cell calls it (without its hidden tests), must fail on
it with a message that names the mistake. A mistake a public check misses or misnames would be
``xfail(strict=True)`` with what the check lacks; today there is none.
"""

import inspect

import nbformat
import numpy as np
import pytest
from mutation_harness import ROOT, Mutation, assert_caught, mutate, mutated_function

from cs231n_lib import layers
from cs231n_lib.checks.batchnorm import (
    check_batchnorm_backward,
    check_batchnorm_backward_alt,
    check_batchnorm_forward,
    check_spatial_batchnorm_backward,
    check_spatial_batchnorm_forward,
)

HIDDEN = "### BEGIN HIDDEN TESTS"
NOTEBOOK = ROOT / "notebooks" / "09_batch_normalization.ipynb"

# The calls the public part of each check cell makes; the tests below make them with a mutant instead.
CALLS = {
    "09-forward-check": "check_batchnorm_forward(batchnorm_forward)",
    "09-backward-check": "check_batchnorm_backward(batchnorm_forward, batchnorm_backward)",
    "09-alt-check": "check_batchnorm_backward_alt(batchnorm_forward, batchnorm_backward_alt)",
    "09-spatial-forward-check": "check_spatial_batchnorm_forward(spatial_batchnorm_forward)",
    "09-spatial-backward-check": "check_spatial_batchnorm_backward(spatial_batchnorm_forward, "
                                 "spatial_batchnorm_backward)",
}


def public_check(grade_id):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return cell.source.split(HIDDEN)[0]


@pytest.mark.parametrize("grade_id", sorted(CALLS))
def test_the_check_cells_make_these_calls(grade_id):
    assert CALLS[grade_id] in public_check(grade_id)


def require_in_solution(function, mutation):
    """The mutation edits the solution region, not the docstring or the validation around it."""
    source = inspect.getsource(function)
    head = "### BEGIN SOLUTION"
    assert mutate(source, mutation.edits).split(head)[0] == source.split(head)[0], mutation.name


def quietly(check):
    def run():
        with np.errstate(all="ignore"):
            check()
    return run


def cases(mutations, misses=None):
    misses = misses or {}
    return [pytest.param(m, id=m.name, marks=pytest.mark.xfail(strict=True, reason=misses[m.name])
                         if m.name in misses else ()) for m in mutations]


# ---------------------------------------------------------------------------
# (a) batchnorm_forward: train mode, running averages, test mode
# ---------------------------------------------------------------------------

STD = "std = np.sqrt(var + eps)"
VAR = "var = np.mean(centred ** 2, axis=0)"
OUT = "out = gamma * x_hat + beta"
RUN_MEAN = 'bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean'
RUN_VAR = 'bn_param["running_var"] = momentum * running_var + (1 - momentum) * var'

FORWARD = [
    Mutation("unbiased variance with np.var ddof=1", ((VAR, "var = np.var(x, axis=0, ddof=1)"),),
             ("N - 1", "unbiased")),
    Mutation("np.std plus eps", ((STD, "std = np.std(x, axis=0) + eps"),), ("after the square root",)),
    Mutation("eps hard-coded", ((STD, "std = np.sqrt(var + 1e-5)"),), ("eps was not used",)),
    Mutation("no eps at all", ((STD, "std = np.sqrt(var)"),), ("eps",)),
    Mutation("mean over axis 1", (("mean = x.mean(axis=0)", "mean = x.mean(axis=1, keepdims=True)"),
                                  (VAR, "var = np.mean(centred ** 2, axis=1, keepdims=True)")),
             ("layer normalization", "axis 1")),
    Mutation("mean over axis 1 without keepdims", (("mean = x.mean(axis=0)", "mean = x.mean(axis=1)"),),
             ("axis 0", "shapes did not line up")),
    Mutation("divides by the variance", ((STD, "std = var + eps"),), ("instead of the standard deviation",)),
    Mutation("gamma forgotten", ((OUT, "out = x_hat + beta"),), ("gamma was left out",)),
    Mutation("beta forgotten", ((OUT, "out = gamma * x_hat"),), ("beta was left out",)),
    Mutation("gamma and beta swapped", ((OUT, "out = beta * x_hat + gamma"),), ("swapped",)),
    Mutation("momentum the wrong way round",
             ((RUN_MEAN, 'bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mean'),
              (RUN_VAR, 'bn_param["running_var"] = (1 - momentum) * running_var + momentum * var')),
             ("wrong way round",)),
    Mutation("running averages not stored",
             ((RUN_MEAN, "running_mean = momentum * running_mean + (1 - momentum) * mean"),
              (RUN_VAR, "running_var = momentum * running_var + (1 - momentum) * var")),
             ("never stored into bn_param",)),
    Mutation("running variance not stored", ((RUN_VAR, "running_var = momentum * running_var + (1 - momentum) * var"),),
             ("never stored into bn_param",)),
    Mutation("running average replaced by the batch statistic",
             ((RUN_MEAN, 'bn_param["running_mean"] = mean'), (RUN_VAR, 'bn_param["running_var"] = var')),
             ("replaced by the last batch",)),
    Mutation("PyTorch's unbiased running variance",
             ((RUN_VAR, 'bn_param["running_var"] = momentum * running_var + (1 - momentum) * var * N / (N - 1)'),),
             ("PyTorch", "unbiased")),
    Mutation("running standard deviation",
             ((RUN_VAR, 'bn_param["running_var"] = momentum * running_var + (1 - momentum) * std'),),
             ("standard deviation",)),
    Mutation("test mode uses the batch statistics", (('if mode == "train":', "if True:"),),
             ("test mode gives what train mode gives",)),
    Mutation("test mode uses the batch statistics, running averages untouched",
             (('if mode == "train":', 'if True:\n        train = mode == "train"'),
              ('        bn_param["running_mean"] =', '        if train:\n            bn_param["running_mean"] ='),
              ('        bn_param["running_var"] =', '        if train:\n            bn_param["running_var"] =')),
             ("test mode gives what train mode gives",)),
    Mutation("test mode without the square root",
             (("std = np.sqrt(running_var + eps)", "std = running_var + eps"),),
             ("instead of the standard deviation",)),
    Mutation("float32 turned into float64", ((OUT, "out = (gamma * x_hat + beta).astype(np.float64)"),),
             ("float32",)),
    Mutation("x centred in place", (("centred = x - mean", "x -= mean\n        centred = x"),),
             ("in place",)),
]


def test_forward_model_solution_passes():
    check_batchnorm_forward(layers.batchnorm_forward)


@pytest.mark.parametrize("mutation", cases(FORWARD))
def test_forward_mutation_is_caught(mutation):
    require_in_solution(layers.batchnorm_forward, mutation)
    mutant = mutated_function(layers.batchnorm_forward, mutation.edits)
    assert_caught(quietly(lambda: check_batchnorm_forward(mutant)), mutation)


# ---------------------------------------------------------------------------
# (b) batchnorm_backward, the computational graph
# ---------------------------------------------------------------------------

DBETA = "dbeta = dout.sum(axis=0)"
DGAMMA = "dgamma = np.sum(dout * x_hat, axis=0)"

BACKWARD = [
    Mutation("dbeta averaged", ((DBETA, "dbeta = dout.mean(axis=0)"),), ("mean of dout",)),
    Mutation("dgamma over the features", ((DGAMMA, "dgamma = np.sum(dout * x_hat, axis=1)"),), ("wrong axis",)),
    Mutation("dbeta over the features", ((DBETA, "dbeta = dout.sum(axis=1)"),), ("wrong axis",)),
    Mutation("dgamma not summed", ((DGAMMA, "dgamma = dout * x_hat"),), ("not summed over the batch",)),
    Mutation("dgamma with x", ((DGAMMA, "dgamma = np.sum(dout * x, axis=0)"),), ("where it needs x_hat",)),
    Mutation("gamma forgotten", (("dx_hat = dout * gamma", "dx_hat = dout"),), ("factor gamma",)),
    Mutation("no mean branch", (("dx = dcentred + dmean / N", "dx = dcentred"),), ("through the batch mean",)),
    Mutation("no variance branch", (("dcentred = dcentred + 2 * centred * dvar / N", "dcentred = dcentred"),),
             ("through the batch variance",)),
    Mutation("mean and variance treated as constants",
             (("dcentred = dcentred + 2 * centred * dvar / N", "dcentred = dcentred"),
              ("dx = dcentred + dmean / N", "dx = dcentred")),
             ("treated as constants",)),
    Mutation("variance path overwrites the direct path",
             (("dcentred = dcentred + 2 * centred * dvar / N", "dcentred = 2 * centred * dvar / N"),),
             ("path through the batch mean", "mean")),
    Mutation("N - 1 in the variance's derivative", (("2 * centred * dvar / N", "2 * centred * dvar / (N - 1)"),),
             ("N - 1",)),
    Mutation("forgot the 2 of the square", (("2 * centred * dvar / N", "centred * dvar / N"),), ("factor 2",)),
    Mutation("forgot the 1/2 of the square root", (("dvar = dstd / (2 * std)", "dvar = dstd / std"),),
             ("factor 1/2",)),
    Mutation("sign of 1/std's derivative", (("dstd = -np.sum", "dstd = np.sum"),), ("wrong sign",)),
    Mutation("derivative of 1/std without the square", (("/ std ** 2", "/ std"),), ("std squared",)),
    Mutation("dmean not divided by N", (("dx = dcentred + dmean / N", "dx = dcentred + dmean"),),
             ("not divided by N",)),
    Mutation("float32 turned into float64", (("dx = dcentred + dmean / N", "dx = (dcentred + dmean / N).astype(float)"),),
             ("float32",)),
    Mutation("dout changed in place", (("dx_hat = dout * gamma", "dout *= gamma\n    dx_hat = dout"),),
             ("in place",)),
]


def test_backward_model_solution_passes():
    check_batchnorm_backward(layers.batchnorm_forward, layers.batchnorm_backward)


@pytest.mark.parametrize("mutation", cases(BACKWARD))
def test_backward_mutation_is_caught(mutation):
    require_in_solution(layers.batchnorm_backward, mutation)
    mutant = mutated_function(layers.batchnorm_backward, mutation.edits)
    assert_caught(quietly(lambda: check_batchnorm_backward(layers.batchnorm_forward, mutant)), mutation)


# ---------------------------------------------------------------------------
# (c) batchnorm_backward_alt, the closed form
# ---------------------------------------------------------------------------

DX = "dx = gamma / (N * std) * (N * dout - dbeta - x_hat * dgamma)"

ALT = [
    Mutation("the 1/N forgotten", ((DX, "dx = gamma / std * (N * dout - dbeta - x_hat * dgamma)"),), ("factor N",)),
    Mutation("dout without its N", ((DX, "dx = gamma / (N * std) * (dout - dbeta - x_hat * dgamma)"),),
             ("factor N",)),
    Mutation("sign of the variance term", ((DX, "dx = gamma / (N * std) * (N * dout - dbeta + x_hat * dgamma)"),),
             ("wrong sign",)),
    Mutation("x for x_hat", ((DX, "dx = gamma / (N * std) * (N * dout - dbeta - x * dgamma)"),), ("uses x where",)),
    Mutation("variance for std", ((DX, "dx = gamma / (N * std ** 2) * (N * dout - dbeta - x_hat * dgamma)"),),
             ("std squared",)),
    Mutation("gamma forgotten", ((DX, "dx = 1 / (N * std) * (N * dout - dbeta - x_hat * dgamma)"),), ("factor gamma",)),
    Mutation("no mean term", ((DX, "dx = gamma / (N * std) * (N * dout - x_hat * dgamma)"),),
             ("through the batch mean",)),
    Mutation("no variance term", ((DX, "dx = gamma / (N * std) * (N * dout - dbeta)"),),
             ("through the batch variance",)),
    Mutation("dgamma and dbeta swapped", ((DBETA, "dgamma = dout.sum(axis=0)"),
                                          (DGAMMA, "dbeta = np.sum(dout * x_hat, axis=0)")),
             ("swapped",)),
    Mutation("mean of dout instead of the sum in dx",
             ((DX, "dx = gamma / (N * std) * (N * dout - dbeta / N - x_hat * dgamma)"),),
             ("path through the batch mean",)),
]


def test_alt_model_solution_passes():
    check_batchnorm_backward_alt(layers.batchnorm_forward, layers.batchnorm_backward_alt)


@pytest.mark.parametrize("mutation", cases(ALT))
def test_alt_mutation_is_caught(mutation):
    require_in_solution(layers.batchnorm_backward_alt, mutation)
    mutant = mutated_function(layers.batchnorm_backward_alt, mutation.edits)
    assert_caught(quietly(lambda: check_batchnorm_backward_alt(layers.batchnorm_forward, mutant)), mutation)


# ---------------------------------------------------------------------------
# (d) spatial_batchnorm_forward and (e) spatial_batchnorm_backward
# ---------------------------------------------------------------------------

X_ROWS = "x_rows = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)"
OUT_BACK = "out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)"

SPATIAL_FORWARD = [
    Mutation("reshape without transpose", ((X_ROWS, "x_rows = x.reshape(N * H * W, C)"),),
             ("without moving the channels last",)),
    Mutation("reshape back without transpose", ((OUT_BACK, "out = out_rows.reshape(N, C, H, W)"),),
             ("reshaped straight into",)),
    Mutation("no transpose either way", ((X_ROWS, "x_rows = x.reshape(N * H * W, C)"),
                                         (OUT_BACK, "out = out_rows.reshape(N, C, H, W)")),
             ("without moving the channels last", "mixed values of several channels")),
    Mutation("height and width swapped", ((X_ROWS, "x_rows = x.transpose(0, 3, 2, 1).reshape(N * H * W, C)"),),
             ("height and width are swapped",)),
    Mutation("left channels last", ((OUT_BACK, "out = out_rows.reshape(N, H, W, C)"),),
             ("reshaped straight into", "move the channels back")),
    Mutation("statistics per position", ((X_ROWS, "x_rows = x.reshape(N, C * H * W)"),),
             ("one column per channel",)),
]


def test_spatial_forward_model_solution_passes():
    check_spatial_batchnorm_forward(layers.spatial_batchnorm_forward)


@pytest.mark.parametrize("mutation", cases(SPATIAL_FORWARD))
def test_spatial_forward_mutation_is_caught(mutation):
    require_in_solution(layers.spatial_batchnorm_forward, mutation)
    mutant = mutated_function(layers.spatial_batchnorm_forward, mutation.edits)
    assert_caught(quietly(lambda: check_spatial_batchnorm_forward(mutant)), mutation)


DOUT_ROWS = "dout_rows = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)"
DX_BACK = "dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)"

SPATIAL_BACKWARD = [
    Mutation("dout reshaped without transpose", ((DOUT_ROWS, "dout_rows = dout.reshape(N * H * W, C)"),),
             ("without moving the channels last",)),
    Mutation("dx reshaped back without transpose", ((DX_BACK, "dx = dx_rows.reshape(N, C, H, W)"),),
             ("reshaped straight into",)),
    Mutation("height and width swapped", ((DX_BACK, "dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 2, 1)"),),
             ("height and width are swapped",)),
    Mutation("dx left channels last", ((DX_BACK, "dx = dx_rows.reshape(N, H, W, C)"),), ("shape",)),
    Mutation("dgamma per pixel", (("dx_rows, dgamma, dbeta = batchnorm_backward_alt(dout_rows, bn_cache)",
                                   "dx_rows, dgamma, dbeta = batchnorm_backward_alt(dout_rows, bn_cache)\n"
                                   "    dgamma = dout_rows * bn_cache[1]"),),
             ("not summed over the batch", "one value per channel")),
]


def test_spatial_backward_model_solution_passes():
    check_spatial_batchnorm_backward(layers.spatial_batchnorm_forward, layers.spatial_batchnorm_backward)


@pytest.mark.parametrize("mutation", cases(SPATIAL_BACKWARD))
def test_spatial_backward_mutation_is_caught(mutation):
    require_in_solution(layers.spatial_batchnorm_backward, mutation)
    mutant = mutated_function(layers.spatial_batchnorm_backward, mutation.edits)
    assert_caught(quietly(lambda: check_spatial_batchnorm_backward(layers.spatial_batchnorm_forward, mutant)),
                  mutation)
