"""Mutation suite for notebook 05: the hand-written SGD loop and the update rules.

Each mutation is the model solution with one student-style mistake. Its exercise's
PUBLIC check (the notebook's check cell without its hidden tests) must fail with a
message that names the mistake. Mistakes the public checks miss or misname today are
``xfail(strict=True)`` with what is missing (issue 11), so fixing a check flips them.
"""

import inspect
import textwrap

import numpy as np
import pytest
from mutation_harness import (
    Mutation,
    answer_source,
    assert_caught,
    mutate,
    mutated_function,
    run_answer,
)

from cs231n_lib import optim
from cs231n_lib.checks import optim as checks
from cs231n_lib.data import load_digits

NOTEBOOK = "05_sgd_and_update_rules"
BEGIN = "### BEGIN SOLUTION"

# The rule each library exercise implements and the check its check cell calls:
# "check_sgd_momentum(sgd_momentum)" and so on (check_keeps_dtype is hidden).
RULES = {
    "sgd_momentum": (optim.sgd_momentum, checks.check_sgd_momentum),
    "nesterov_momentum": (optim.nesterov_momentum, checks.check_nesterov_momentum),
    "adagrad": (optim.adagrad, checks.check_adagrad),
    "rmsprop": (optim.rmsprop, checks.check_rmsprop),
    "adam": (optim.adam, checks.check_adam),
    "adadelta": (optim.adadelta, checks.check_adadelta),
}

# Words a message must contain to name the mistake. The fallback message of the rule
# checks prints the config ("learning_rate", "momentum", "decay_rate", "epsilon", "beta1"
# all appear in it) and the rule's name, so those bare words name nothing.
IN_PLACE = ("in place",)
DTYPE = ("dtype", "float32")
LEARNING_RATE = ("learning rate", "learning_rate is missing", "without learning_rate")
SIGN = ("wrong sign", "uphill")
NOT_STORED = ("not stored back",)
NO_SQUARE = ("not squared", "forgot to square", "square the gradient", "square dw", "square dx")
EPS_INSIDE = ("epsilon inside",)


def _m(name, edits, named):
    return Mutation(name, tuple(edits), tuple(named))


def _gap(reason):
    return pytest.mark.xfail(strict=True, reason=f"issue 11: {reason}")


def _float64_state(key, variable):
    """The new state stored without _like(..., w): a float64 dw makes a float32 w's state float64."""
    return _m(
        f"{key} stored without _like (float32 in, float64 out)",
        [(f'config["{key}"] = _like({variable}, w)', f'config["{key}"] = {variable}')],
        DTYPE,
    )


RULE_MUTATIONS = {
    "sgd_momentum": [
        (_m("velocity updated in place", [("v = mu * v - lr * dw", "v *= mu\n    v -= lr * dw")], IN_PLACE), None),
        (_m("momentum factor forgotten", [("v = mu * v - lr * dw", "v = v - lr * dw")],
            ("momentum * v", "momentum factor")), None),
        (_m("(1 - mu) on the gradient", [("v = mu * v - lr * dw", "v = mu * v - (1 - mu) * lr * dw")],
            ("1 - momentum", "1 - mu")), None),
        (_m("learning rate ignored", [("v = mu * v - lr * dw", "v = mu * v - dw")], LEARNING_RATE), None),
        (_m("velocity adds the gradient", [("v = mu * v - lr * dw", "v = mu * v + lr * dw")], SIGN), None),
        (_m("step with the old velocity",
            [("v = mu * v - lr * dw\n    next_w = w + v", "next_w = w + v\n    v = mu * v - lr * dw")],
            ("new velocity first",)), None),
        (_m("velocity not stored", [('config["velocity"] = _like(v, w)', "pass")], NOT_STORED), None),
        (_m("w changed in place", [("next_w = w + v", "w += v\n    next_w = w")], IN_PLACE), None),
        (_float64_state("velocity", "v"), None),
    ],
    "nesterov_momentum": [
        (_m("velocity updated in place (v_prev copied)",
            [("v_prev = v\n    v = mu * v - lr * dw", "v_prev = v.copy()\n    v *= mu\n    v -= lr * dw")], IN_PLACE),
         None),
        (_m("velocity updated in place (v_prev aliases it)",
            [("v = mu * v - lr * dw", "v *= mu\n    v -= lr * dw")], ("in place", "copy")), None),
        (_m("plain momentum step", [("next_w = w - mu * v_prev + (1 + mu) * v", "next_w = w + v")],
            ("plain momentum",)), None),
        (_m("+ mu * v_prev", [("next_w = w - mu * v_prev", "next_w = w + mu * v_prev")],
            ("+ momentum * v_prev",)), None),
        # At step 1 (v_prev = 0) this is plain momentum's step; the hint prints the formula with (1 + momentum).
        (_m("(1 + mu) forgotten", [("(1 + mu) * v", "v")], ("1 + momentum", "1 + mu")), None),
        (_m("momentum factor forgotten", [("v = mu * v - lr * dw", "v = v - lr * dw")],
            ("momentum factor", "v = momentum * v")), None),
        (_m("(1 - mu) on the gradient", [("v = mu * v - lr * dw", "v = mu * v - (1 - mu) * lr * dw")],
            ("1 - momentum", "1 - mu")), None),
        (_m("learning rate ignored", [("v = mu * v - lr * dw", "v = mu * v - dw")], LEARNING_RATE), None),
        (_m("velocity adds the gradient", [("v = mu * v - lr * dw", "v = mu * v + lr * dw")], SIGN), None),
        (_m("velocity not stored", [('config["velocity"] = _like(v, w)', "pass")], NOT_STORED), None),
        (_float64_state("velocity", "v"), None),
    ],
    "adagrad": [
        (_m("cache updated in place", [("cache = cache + dw**2", "cache += dw**2")], IN_PLACE), None),
        (_m("epsilon inside the root", [("np.sqrt(cache) + eps", "np.sqrt(cache + eps)")], EPS_INSIDE), None),
        (_m("no squaring", [("cache = cache + dw**2", "cache = cache + dw")], NO_SQUARE), None),
        (_m("no square root", [("np.sqrt(cache) + eps", "cache + eps")], ("square root",)), None),
        (_m("cache replaced", [("cache = cache + dw**2", "cache = dw**2")], ("replaced",)), None),
        (_m("old cache used",
            [("cache = cache + dw**2\n    next_w = w - lr * dw / (np.sqrt(cache) + eps)",
              "next_w = w - lr * dw / (np.sqrt(cache) + eps)\n    cache = cache + dw**2")],
            ("old cache", "new cache", "update the cache first")), None),
        (_m("learning rate ignored", [("next_w = w - lr * dw", "next_w = w - dw")], LEARNING_RATE), None),
        (_m("step uphill", [("next_w = w - lr * dw", "next_w = w + lr * dw")], SIGN), None),
        (_m("epsilon missing", [("np.sqrt(cache) + eps", "np.sqrt(cache)")], ("epsilon is missing",)), None),
        (_m("cache not stored", [('config["cache"] = _like(cache, w)', "pass")], NOT_STORED), None),
        (_float64_state("cache", "cache"), None),
    ],
    "rmsprop": [
        (_m("cache updated in place",
            [("cache = decay * cache + (1 - decay) * dw**2", "cache *= decay\n    cache += (1 - decay) * dw**2")],
            IN_PLACE), None),
        (_m("no squaring", [("(1 - decay) * dw**2", "(1 - decay) * dw")], NO_SQUARE), None),
        (_m("(1 - decay) missing", [("(1 - decay) * dw**2", "dw**2")], ("1 - decay",)), None),
        (_m("decay and 1 - decay swapped",
            [("decay * cache + (1 - decay) * dw**2", "(1 - decay) * cache + decay * dw**2")], ("swapped",)), None),
        (_m("epsilon inside the root", [("np.sqrt(cache) + eps", "np.sqrt(cache + eps)")], EPS_INSIDE), None),
        (_m("no square root", [("np.sqrt(cache) + eps", "cache + eps")], ("square root",)), None),
        (_m("old cache used",
            [("cache = decay * cache + (1 - decay) * dw**2\n    next_w = w - lr * dw / (np.sqrt(cache) + eps)",
              "next_w = w - lr * dw / (np.sqrt(cache) + eps)\n    cache = decay * cache + (1 - decay) * dw**2")],
            ("old cache", "new cache", "update the cache first")), None),
        (_m("no decay (Adagrad's cache)", [("cache = decay * cache + (1 - decay) * dw**2", "cache = cache + dw**2")],
            ("leaky", "decay_rate * cache", "adagrad")), None),
        (_m("learning rate ignored", [("next_w = w - lr * dw", "next_w = w - dw")], LEARNING_RATE), None),
        (_m("step uphill", [("next_w = w - lr * dw", "next_w = w + lr * dw")], SIGN), None),
        (_float64_state("cache", "cache"), None),
    ],
    "adam": [
        (_m("no bias correction",
            [("m_hat = m / (1 - beta1**t)", "m_hat = m"), ("v_hat = v / (1 - beta2**t)", "v_hat = v")],
            ("bias correction", "bias-corrected")), None),
        (_m("only m corrected", [("v_hat = v / (1 - beta2**t)", "v_hat = v")], ("only m is bias-corrected",)), None),
        (_m("only v corrected", [("m_hat = m / (1 - beta1**t)", "m_hat = m")], ("only v is bias-corrected",)), None),
        (_m("epsilon inside the root", [("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)")], EPS_INSIDE), None),
        (_m("t incremented after the correction",
            [("t = t + 1\n    m = beta1", "m = beta1"),
             ("v_hat = v / (1 - beta2**t)\n", "v_hat = v / (1 - beta2**t)\n    t = t + 1\n")],
            ("t is incremented after", "increment t first")), None),
        (_m("t reset to 1 every step", [("t = t + 1", "t = 1")], ("t = 1", "counts the steps", "reset")), None),
        (_m("t not stored", [('config["t"] = t', "pass")], ("not stored back",)), None),
        (_m("no squaring", [("v = beta2 * v + (1 - beta2) * dw**2", "v = beta2 * v + (1 - beta2) * dw")],
            NO_SQUARE), None),
        (_m("(1 - beta1) missing", [("m = beta1 * m + (1 - beta1) * dw", "m = beta1 * m + dw")], ("1 - beta1",)), None),
        (_m("learning rate ignored", [("next_w = w - lr * m_hat", "next_w = w - m_hat")], LEARNING_RATE), None),
        (_m("m and v updated in place",
            [("m = beta1 * m + (1 - beta1) * dw", "m *= beta1\n    m += (1 - beta1) * dw"),
             ("v = beta2 * v + (1 - beta2) * dw**2", "v *= beta2\n    v += (1 - beta2) * dw**2")], IN_PLACE), None),
        (_m("step uphill", [("next_w = w - lr * m_hat", "next_w = w + lr * m_hat")], SIGN), None),
        (_float64_state("m", "m"), None),
    ],
    "adadelta": [
        (_m("old E[g^2] used",
            [("accum_grad = rho * accum_grad + (1 - rho) * dw**2\n    dx", "dx"),
             ("accum_update = rho", "accum_grad = rho * accum_grad + (1 - rho) * dw**2\n    accum_update = rho")],
            ("before E[g^2] was updated",)), None),
        (_m("epsilon missing from the numerator", [("np.sqrt(accum_update + eps)", "np.sqrt(accum_update)")],
            ("epsilon inside the numerator",)), None),
        (_m("epsilon outside the root", [("np.sqrt(accum_grad + eps)", "(np.sqrt(accum_grad) + eps)")],
            ("epsilon outside", "inside the square root", "inside the root")), None),
        (_m("(1 - rho) missing",
            [("accum_grad = rho * accum_grad + (1 - rho) * dw**2", "accum_grad = rho * accum_grad + dw**2")],
            ("1 - rho",)), None),
        (_m("dx not squared",
            [("accum_update = rho * accum_update + (1 - rho) * dx**2",
              "accum_update = rho * accum_update + (1 - rho) * dx")], NO_SQUARE), None),
        (_m("learning rate ignored", [("next_w = w + lr * dx", "next_w = w + dx")], LEARNING_RATE), None),
        (_m("step uphill", [("next_w = w + lr * dx", "next_w = w - lr * dx")], SIGN), None),
        (_m("accumulators updated in place",
            [("accum_grad = rho * accum_grad + (1 - rho) * dw**2",
              "accum_grad *= rho\n    accum_grad += (1 - rho) * dw**2"),
             ("accum_update = rho * accum_update + (1 - rho) * dx**2",
              "accum_update *= rho\n    accum_update += (1 - rho) * dx**2")], IN_PLACE), None),
        (_m("no square root in the numerator", [("-np.sqrt(accum_update + eps)", "-(accum_update + eps)")],
            ("square root",)), None),
        (_float64_state("accum_grad", "accum_grad"), None),
    ],
}


def _rule_params():
    for rule, mutations in RULE_MUTATIONS.items():
        for mutation, gap in mutations:
            yield pytest.param(rule, mutation, id=f"{rule}: {mutation.name}", marks=[gap] if gap else [])


def _assert_edits_in_solution(source, edits):
    """The edits change only the solution region (the first match of each old is not in a docstring)."""
    head = source.split(BEGIN)[0]
    assert mutate(source, edits).split(BEGIN)[0] == head


@pytest.mark.parametrize(("rule", "mutation"), list(_rule_params()))
def test_update_rule_mutation_is_caught_and_named(rule, mutation):
    function, check = RULES[rule]
    _assert_edits_in_solution(textwrap.dedent(inspect.getsource(function)), mutation.edits)
    mutant = mutated_function(function, mutation.edits)
    with np.errstate(all="ignore"):
        assert_caught(lambda: check(mutant), mutation)


@pytest.mark.parametrize("rule", list(RULES))
def test_model_update_rule_passes_its_public_check(rule, capsys):
    function, check = RULES[rule]
    check(function)
    assert capsys.readouterr().out.startswith("OK:")


# ---------------------------------------------------------------------------
# The hand-written SGD loop: check_sgd_loop(train_by_hand, data)
# ---------------------------------------------------------------------------

UPDATE = "model.params[name] = model.params[name] - learning_rate * grads[name]"
SAMPLE = "batch = rng.choice(len(X), size=batch_size, replace=False)"

LOOP_MUTATIONS = [
    (_m("update assigned to a local variable",
        [(UPDATE, "w = model.params[name]\n            w = w - learning_rate * grads[name]")],
        ("forgot the update", "assign the new array back")), None),
    (_m("gradient ascent", [(UPDATE, UPDATE.replace(" - ", " + "))], ("gradient ascent",)), None),
    (_m("batches from np.random", [(SAMPLE, SAMPLE.replace("rng.choice", "np.random.choice"))],
        ("not reproducible", "np.random.choice")), None),
    (_m("the same batch every iteration", [(SAMPLE, "batch = np.arange(batch_size)")],
        ("same data", "no sampling")), None),
    (_m("a new generator every iteration",
        [(SAMPLE, SAMPLE.replace("rng.choice", "np.random.default_rng(seed).choice"))],
        ("same data", "same batch", "inside the loop")), None),
    (_m("batches drawn from the first batch_size examples",
        [(SAMPLE, SAMPLE.replace("len(X)", "batch_size"))],
        ("len(X)", "whole training set", "first 50")), None),
    (_m("only the weights updated", [("for name in model.params:", 'for name in ("W1", "W2"):')],
        ("every parameter", "biases")), None),
    (_m("loss appended after the loop",
        [("        loss_history.append(float(loss))", "    loss_history.append(float(loss))")],
        ("one loss per iteration", "append each iteration")), None),
    (_m("learning rate ignored", [(UPDATE, UPDATE.replace("learning_rate * ", ""))],
        ("learning rate", "learning_rate argument")), None),
    (_m("gradient divided by batch_size again", [(UPDATE, UPDATE + " / batch_size")],
        ("batch_size", "already averaged")), None),
]


@pytest.fixture(scope="module")
def digits():
    return load_digits(dtype=np.float64)


def _train_by_hand(edits=()):
    source = answer_source(NOTEBOOK, "05-train-by-hand")
    mutant = mutate(source, edits)
    assert mutant.split(BEGIN)[0] == source.split(BEGIN)[0]
    return run_answer(mutant, {"np": np})["train_by_hand"]


@pytest.mark.parametrize(
    "mutation",
    [pytest.param(mutation, id=f"train_by_hand: {mutation.name}", marks=[gap] if gap else [])
     for mutation, gap in LOOP_MUTATIONS],
)
def test_sgd_loop_mutation_is_caught_and_named(mutation, digits):
    train_by_hand = _train_by_hand(mutation.edits)
    with np.errstate(all="ignore"):
        assert_caught(lambda: checks.check_sgd_loop(train_by_hand, digits), mutation)


def test_model_sgd_loop_passes_its_public_check(digits, capsys):
    checks.check_sgd_loop(_train_by_hand(), digits)
    assert capsys.readouterr().out.startswith("OK:")
