"""Mutation suite for notebooks 03 (gradient checks), 06 (dropout) and 07 (a small ConvNet).

Each mutation is the model solution with one student-style mistake; the PUBLIC check (the
check cell without its hidden tests) must fail on it with a message that names the mistake.
Mistakes a public check misses or misnames today are ``xfail(strict=True)`` with what the
check lacks (issue 11), so fixing the check turns the mark into a failure asking for its removal.
"""

import inspect

import nbformat
import numpy as np
import pytest
from mutation_harness import (
    ROOT,
    Mutation,
    answer_source,
    assert_caught,
    mutate,
    mutated_function,
    run_answer,
)

from cs231n_lib import layers
from cs231n_lib.checks.common import require_answered
from cs231n_lib.checks.convnet import (
    check_expected_initial_loss,
    check_gradient_check,
    check_overfit,
    check_test_accuracy,
)
from cs231n_lib.checks.dropout import (
    check_conventions,
    check_dropout_backward,
    check_dropout_forward,
)
from cs231n_lib.checks.gradients import check_numerical_gradient, check_verdicts
from cs231n_lib.data import load_digits
from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.models import ThreeLayerConvNet
from cs231n_lib.solver import Solver

HIDDEN = "### BEGIN HIDDEN TESTS"


def cell_source(notebook, grade_id):
    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def public_check(notebook, grade_id):
    """The check cell's source without its hidden tests: what a student's notebook runs."""
    return cell_source(notebook, grade_id).split(HIDDEN)[0]


def cases(mutations, misses):
    """pytest params, one per mutation; those in ``misses`` (name -> reason) are strict xfails."""
    params = []
    for mutation in mutations:
        marks = ()
        if mutation.name in misses:
            marks = pytest.mark.xfail(strict=True, reason=f"issue 11: {misses[mutation.name]}")
        params.append(pytest.param(mutation, id=mutation.name, marks=marks))
    unknown = set(misses) - {m.name for m in mutations}
    assert not unknown, f"xfail reasons for unknown mutations: {unknown}"
    return params


def require_in_solution(source, mutation, allowed_outside=()):
    """The mutation edits the solution region, not a docstring or the skeleton (unless named in ``allowed_outside``)."""
    if mutation.name in allowed_outside:
        return
    mutated = mutate(source, mutation.edits)
    head = "### BEGIN SOLUTION"
    assert mutated.split(head)[0] == source.split(head)[0], f"{mutation.name} edits outside the solution region"


def quietly(check):
    """``check`` with numpy's floating-point warnings off (a mutant may divide by zero)."""
    def run():
        with np.errstate(all="ignore"):
            check()
    return run


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# ---------------------------------------------------------------------------
# 03: numerical_gradient (answer cell 03-numgrad-answer, check cell 03-numgrad-check)
# ---------------------------------------------------------------------------

NUMGRAD = [
    Mutation("numgrad-one-sided-forward",
             (("x[ix] = old_value - h", "x[ix] = old_value"), ("(2 * h)", "h")),
             ("one-sided", "forward difference")),
    Mutation("numgrad-one-sided-backward",
             (("x[ix] = old_value + h", "x[ix] = old_value"), ("(2 * h)", "h")),
             ("one-sided", "backward difference")),
    Mutation("numgrad-h-too-big",
             (("h=1e-5)", "h=1e-2)"),),
             ("too large", "too big", "smaller h", "default h", "h = 1e-5")),
    Mutation("numgrad-h-ignored",
             (("    grad = np.zeros(x.shape)", "    h = 1e-5\n    grad = np.zeros(x.shape)"),),
             ("ignores its h", "h argument")),
    Mutation("numgrad-on-a-copy",
             (("    grad = np.zeros(x.shape)", "    x = x.copy()\n    grad = np.zeros(x.shape)"),),
             ("copy",)),
    Mutation("numgrad-new-array-x-plus-h",
             (("        x[ix] = old_value + h\n        f_plus = f(x)\n        x[ix] = old_value - h\n"
               "        f_minus = f(x)\n",
               "        step = np.zeros(x.shape)\n        step[ix] = h\n        f_plus = f(x + step)\n"
               "        f_minus = f(x - step)\n"),),
             ("copy", "new array")),
    Mutation("numgrad-divide-by-h",
             (("(2 * h)", "h"),),
             ("2 * h", "twice")),
    Mutation("numgrad-precedence-slash-2-times-h",
             (("/ (2 * h)", "/ 2 * h"),),
             ("/ (2 * h)", "h^2")),
    Mutation("numgrad-not-restored",
             (("        x[ix] = old_value\n        grad", "        grad"),),
             ("restore", "put back")),
    Mutation("numgrad-return-inside-loop",
             (("    return grad", "        return grad"),),
             ("after the loop", "only the first entry")),
    Mutation("numgrad-sign",
             (("f_plus - f_minus", "f_minus - f_plus"),),
             ("sign",)),
    Mutation("numgrad-whole-row-perturbed",
             (("for ix in np.ndindex(x.shape):", "for ix in range(x.shape[0]):"),),
             ("row", "full index", "one entry at a time")),
    Mutation("numgrad-minus-from-perturbed",
             (("x[ix] = old_value - h", "x[ix] -= h"),),
             ("half",)),
    Mutation("numgrad-grad-aliases-x",
             (("grad = np.zeros(x.shape)", "grad = x"),),
             ("alias", "grad = x", "same array", "np.zeros")),
]

NUMGRAD_MISSES: dict = {}


def test_numgrad_model_solution_passes():
    namespace = run_answer(answer_source("03_gradient_checks", "03-numgrad-answer"), {"np": np})
    run_answer(public_check("03_gradient_checks", "03-numgrad-check"),
               {**namespace, "check_numerical_gradient": check_numerical_gradient})


@pytest.mark.parametrize("mutation", cases(NUMGRAD, NUMGRAD_MISSES))
def test_numgrad_mutation_is_caught(mutation):
    model = answer_source("03_gradient_checks", "03-numgrad-answer")
    require_in_solution(model, mutation, allowed_outside={"numgrad-h-too-big"})  # that one edits the default h
    source = mutate(model, mutation.edits)
    namespace = run_answer(source, {"np": np, "check_numerical_gradient": check_numerical_gradient})
    check = public_check("03_gradient_checks", "03-numgrad-check")
    assert_caught(quietly(lambda: run_answer(check, namespace)), mutation)


# ---------------------------------------------------------------------------
# 03: verdicts (answer cell 03-verdicts-answer, check cell 03-verdicts-check)
# ---------------------------------------------------------------------------

VERDICTS = [
    Mutation("verdicts-key-lower-case", (('"A": "correct"', '"a": "correct"'),), ("capital", "case")),
    Mutation("verdicts-kink-called-wrong", (('"D": "correct"', '"D": "wrong"'),), ("kink",)),
    Mutation("verdicts-float32-called-wrong", (('"E": "suspicious"', '"E": "wrong"'),), ("float32",)),
    Mutation("verdicts-smooth-2e-4-called-correct", (('"C": "suspicious"', '"C": "correct"'),),
             ("smooth", "without kinks")),
    Mutation("verdicts-0.6-called-suspicious", (('"B": "wrong"', '"B": "suspicious"'),),
             ("first digit", "bug")),
    Mutation("verdicts-label-not-allowed", (('"B": "wrong"', '"B": "incorrect"'),), ("labels",)),
    Mutation("verdicts-scenario-forgotten",
             (('    "E": "suspicious",   # float32 at h = 1e-5: the check itself is unreliable\n', ""),),
             ("none for E",)),
]

VERDICTS_MISSES: dict = {}


def test_verdicts_model_solution_passes():
    namespace = run_answer(answer_source("03_gradient_checks", "03-verdicts-answer"), {})
    run_answer(public_check("03_gradient_checks", "03-verdicts-check"), {**namespace, "check_verdicts": check_verdicts})


@pytest.mark.parametrize("mutation", cases(VERDICTS, VERDICTS_MISSES))
def test_verdicts_mutation_is_caught(mutation):
    model = answer_source("03_gradient_checks", "03-verdicts-answer")
    require_in_solution(model, mutation)
    source = mutate(model, mutation.edits)
    namespace = run_answer(source, {"check_verdicts": check_verdicts})
    check = public_check("03_gradient_checks", "03-verdicts-check")
    assert_caught(lambda: run_answer(check, namespace), mutation)


# ---------------------------------------------------------------------------
# 06: the conventions for p (answer cell 06-conventions-answer, check cell 06-conventions-check)
# ---------------------------------------------------------------------------

CONVENTIONS = [
    Mutation("conventions-lecture-p", (("p_library = 0.2", "p_library = 0.8"),), ("KEEPING", "keep probability")),
    Mutation("conventions-scale-one-over-p", (("kept_scale = 1 / 0.8", "kept_scale = 1 / 0.2"),),
             ("drop probability",)),
    Mutation("conventions-scale-test-time", (("kept_scale = 1 / 0.8", "kept_scale = 0.8"),),
             ("test time", "vanilla")),
    Mutation("conventions-count-kept", (("500 * 0.2", "500 * 0.8"),), ("kept",)),
    Mutation("conventions-count-fraction-only", (("500 * 0.2", "0.2"),), ("500 * p", "of the 500")),
    Mutation("conventions-floor-division", (("1 / 0.8", "1 // 0.8"),), ("//", "floor", "integer division")),
    Mutation("conventions-p-in-percent", (("p_library = 0.2", "p_library = 20"),),
             ("percent", "fraction", "between 0 and 1")),
]

CONVENTIONS_MISSES: dict = {}


def test_conventions_model_solution_passes():
    namespace = run_answer(answer_source("06_dropout", "06-conventions-answer"), {})
    run_answer(public_check("06_dropout", "06-conventions-check"),
               {**namespace, "check_conventions": check_conventions})


@pytest.mark.parametrize("mutation", cases(CONVENTIONS, CONVENTIONS_MISSES))
def test_conventions_mutation_is_caught(mutation):
    model = answer_source("06_dropout", "06-conventions-answer")
    require_in_solution(model, mutation)
    source = mutate(model, mutation.edits)
    namespace = run_answer(source, {"check_conventions": check_conventions})
    check = public_check("06_dropout", "06-conventions-check")
    assert_caught(lambda: run_answer(check, namespace), mutation)


# ---------------------------------------------------------------------------
# 06: dropout_forward and dropout_backward (cs231n_lib/layers.py)
# ---------------------------------------------------------------------------

# The check cells import the library's functions and call these; the tests pass the mutant instead.
FORWARD_CALL = "check_dropout_forward(dropout_forward, p=0.3)"
BACKWARD_CALL = "check_dropout_backward(dropout_forward, dropout_backward, p=0.3)"


def test_the_dropout_check_cells_make_these_calls():
    assert FORWARD_CALL in public_check("06_dropout", "06-forward-check")
    assert BACKWARD_CALL in public_check("06_dropout", "06-backward-check")


FORWARD = [
    Mutation("forward-overwrites-x-in-place", (("    out = x * mask", "    x *= mask\n    out = x"),),
             ("in place", "overwrit", "modified x", "changes x")),
    Mutation("forward-one-over-p", (("keep / (1 - p)", "keep / p"),), ("1 / p",)),
    Mutation("forward-mask-not-applied", (("    out = x * mask", "    out = x.copy()"),),
             ("nothing was dropped", "out = x * mask")),
    Mutation("forward-vanilla-no-train-scale", (("(keep / (1 - p)).astype(x.dtype)", "keep.astype(x.dtype)"),),
             ("test time", "vanilla")),
    Mutation("forward-test-mode-in-train", (("    out = x * mask", "    out = x * (1 - p)"),),
             ("test mode", "test time")),
    Mutation("forward-p-as-keep-probability", ((">= p", "< p"),), ("keep probability",)),
    Mutation("forward-float32-in-float64-out", (("(keep / (1 - p)).astype(x.dtype)", "keep / (1 - p)"),),
             ("float32", "dtype")),
    Mutation("forward-multiplies-by-1-minus-p", (("keep / (1 - p)", "keep * (1 - p)"),), ("multiplying",)),
    Mutation("forward-global-generator", (("rng.random(x.shape)", "np.random.rand(*x.shape)"),),
             ("global generator",)),
    Mutation("forward-seed-ignored", (("rng.random(x.shape)", "np.random.default_rng().random(x.shape)"),),
             ("seed",)),
    Mutation("forward-rng-ignored",
             (("rng.random(x.shape)", 'np.random.default_rng(dropout_param.get("seed")).random(x.shape)'),),
             ("dropout_param['rng']",)),
    Mutation("forward-cache-mask-unscaled",
             (("    mask = (keep / (1 - p)).astype(x.dtype)\n    out = x * mask",
               "    mask = keep.astype(x.dtype)\n    out = x * mask / (1 - p)"),),
             ("scaled mask",)),
    Mutation("forward-one-mask-for-the-batch", (("rng.random(x.shape)", "rng.random(x.shape[1:])"),),
             ("one entry per unit",)),
    Mutation("forward-fixed-seed", (("rng.random(x.shape)", "np.random.default_rng(0).random(x.shape)"),),
             ("fresh draw", "same mask")),
]

FORWARD_MISSES: dict = {}


def test_dropout_forward_model_solution_passes():
    check_dropout_forward(layers.dropout_forward, p=0.3)


@pytest.mark.parametrize("mutation", cases(FORWARD, FORWARD_MISSES))
def test_dropout_forward_mutation_is_caught(mutation):
    require_in_solution(inspect.getsource(layers.dropout_forward), mutation)
    mutant = mutated_function(layers.dropout_forward, mutation.edits)
    assert_caught(quietly(lambda: check_dropout_forward(mutant, p=0.3)), mutation)


BACKWARD = [
    Mutation("backward-changes-dout-in-place", (("    dx = dout * mask", "    dout *= mask\n    dx = dout"),),
             ("in place",)),
    Mutation("backward-mask-not-applied", (("    dx = dout * mask", "    dx = dout"),), ("not applied",)),
    Mutation("backward-new-mask",
             (("    dx = dout * mask",
               '    p = dropout_param["p"]\n'
               "    dx = dout * (np.random.default_rng().random(dout.shape) >= p) / (1 - p)"),),
             ("new mask",)),
    Mutation("backward-new-mask-global-generator",
             (("    dx = dout * mask",
               '    p = dropout_param["p"]\n    dx = dout * (np.random.rand(*dout.shape) >= p) / (1 - p)'),),
             ("global generator", "new mask")),
    Mutation("backward-scales-again", (("    dx = dout * mask", '    dx = dout * mask / (1 - dropout_param["p"])'),),
             ("twice", "again", "already")),
    Mutation("backward-multiplies-by-1-minus-p", (("    dx = dout * mask", '    dx = dout * mask * (1 - dropout_param["p"])'),),
             ("(1 - p)",)),
    Mutation("backward-zeros-without-scale", (("    dx = dout * mask", "    dx = dout * (mask != 0)"),), ("1 / (1 - p)",)),
    Mutation("backward-zeros-dropped-units-of-dout",
             (("    dx = dout * mask", "    dx = dout.copy()\n    dx[mask == 0] = 0"),), ("1 / (1 - p)",)),
    Mutation("backward-divides-by-mask", (("    dx = dout * mask", "    dx = dout / mask"),), ("divid", "division", "nan", "inf")),
    Mutation("backward-float32-in-float64-out",
             (("    dx = dout * mask", "    dx = np.zeros(dout.shape)\n    dx[...] = dout * mask"),),
             ("float32", "dtype")),
    Mutation("backward-vanilla-scale-in-test-mode",
             (("    dx = dout * mask",
               '    dx = dout * mask\n    if dropout_param["mode"] == "test":\n'
               '        dx = dout * (1 - dropout_param["p"])'),),
             ("test mode",)),
    Mutation("backward-forgot-dout", (("    dx = dout * mask", "    dx = mask.copy()"),),
             ("chain rule", "multiply by dout", "times dout", "forgot dout")),
]

BACKWARD_MISSES: dict = {}


def test_dropout_backward_model_solution_passes():
    check_dropout_backward(layers.dropout_forward, layers.dropout_backward, p=0.3)


@pytest.mark.parametrize("mutation", cases(BACKWARD, BACKWARD_MISSES))
def test_dropout_backward_mutation_is_caught(mutation):
    require_in_solution(inspect.getsource(layers.dropout_backward), mutation)
    mutant = mutated_function(layers.dropout_backward, mutation.edits)
    assert_caught(quietly(lambda: check_dropout_backward(layers.dropout_forward, mutant, p=0.3)), mutation)


# ---------------------------------------------------------------------------
# 07: a small ConvNet (answer cells 07-initial-loss, 07-gradcheck, 07-overfit, 07-train)
# ---------------------------------------------------------------------------

CHECKS_07 = {
    "check_expected_initial_loss": check_expected_initial_loss,
    "check_gradient_check": check_gradient_check,
    "check_overfit": check_overfit,
    "check_test_accuracy": check_test_accuracy,
    "require_answered": require_answered,
}


def namespace_07(data):
    """What notebook 07's setup and data cells define before the exercises."""
    return {"np": np, "data": data, "rng": np.random.default_rng(0), "ThreeLayerConvNet": ThreeLayerConvNet,
            "Solver": Solver, "eval_numerical_gradient": eval_numerical_gradient, "rel_error": rel_error,
            **CHECKS_07}


# Each exercise: its answer cell, the cells run between it and the check, and the check cell.
EXERCISES_07 = {
    "initial-loss": ("07-initial-loss-answer", (), "07-initial-loss-check"),
    "gradcheck": ("07-gradcheck-answer", (), "07-gradcheck-check"),
    "overfit": ("07-overfit-answer", (), "07-overfit-check"),
    "train": ("07-train-answer", ("07-train-run",), "07-train-check"),
}


def run_07(exercise, data, edits=()):
    """The exercise's (mutated) answer cell and the cells after it; returns the public check to call."""
    answer, between, check = EXERCISES_07[exercise]
    if edits:
        require_in_solution(answer_source("07_small_convnet", answer), Mutation(exercise, edits, ()))
    namespace = namespace_07(data)
    with np.errstate(all="ignore"):
        run_answer(mutate(answer_source("07_small_convnet", answer), edits), namespace)
        for grade_id in between:
            run_answer(cell_source("07_small_convnet", grade_id), namespace)
    return quietly(lambda: run_answer(public_check("07_small_convnet", check), namespace))


CONVNET = [
    ("initial-loss", Mutation("initial-loss-sign", (("np.log(num_classes)", "-np.log(num_classes)"),), ("sign",))),
    ("initial-loss", Mutation("initial-loss-log10", (("np.log(", "np.log10("),), ("log10",))),
    ("initial-loss", Mutation("initial-loss-probability", (("float(np.log(num_classes))", "1 / num_classes"),),
                              ("1/C",))),
    ("initial-loss", Mutation("initial-loss-log-of-probability",
                              (("np.log(num_classes)", "np.log(1 / num_classes)"),), ("sign",))),
    ("initial-loss", Mutation("initial-loss-divided-by-C",
                              (("np.log(num_classes)", "np.log(num_classes) / num_classes"),), ("divided by C",))),
    ("initial-loss", Mutation("initial-loss-hard-coded-for-10", (("float(np.log(num_classes))", "2.302585092994046"),),
                              ("num_classes", "hard-coded", "only for C = 10"))),
    ("gradcheck", Mutation("gradcheck-float32-model", (("dtype=np.float64", "dtype=np.float32"),), ("float32",))),
    ("gradcheck", Mutation("gradcheck-on-a-copy",
                           (("grad_model.params[name])", "grad_model.params[name].copy())"),), ("copy",))),
    ("gradcheck", Mutation("gradcheck-numbers-reported-not-computed",
                           (("grad_errors[name] = rel_error(numerical, analytic[name])",
                             "grad_errors[name] = 1e-9  # what my run printed"),),
                           ("computed", "typed in", "made up"))),
    ("gradcheck", Mutation("gradcheck-analytic-against-itself",
                           (("rel_error(numerical, analytic[name])", "rel_error(analytic[name], analytic[name])"),),
                           ("itself",))),
    ("gradcheck", Mutation("gradcheck-some-parameters-only",
                           (("for name in sorted(grad_model.params):", 'for name in ["W1", "b1"]:'),),
                           ("not checked",))),
    ("gradcheck", Mutation("gradcheck-different-batch",
                           (("lambda _: grad_model.loss(X_tiny, y_tiny)[0]",
                             "lambda _: grad_model.loss(X_tiny[:2], y_tiny[:2])[0]"),),
                           ("same X",))),
    ("gradcheck", Mutation("gradcheck-h-too-big",
                           (("grad_model.params[name])", "grad_model.params[name], h=1e-1)"),),
                           ("h = 1e-5",))),
    ("overfit", Mutation("overfit-full-training-set",
                         (('"X_train": data["X_train"][:50]', '"X_train": data["X_train"]'),
                          ('"y_train": data["y_train"][:50]', '"y_train": data["y_train"]')),
                         ("full training set",))),
    ("overfit", Mutation("overfit-too-few-epochs", (("num_epochs=20", "num_epochs=3"),), ("more epochs",))),
    ("overfit", Mutation("overfit-large-reg", (('weight_scale="he", seed=0)', 'weight_scale="he", seed=0, reg=0.5)'),),
                         ("reg",))),
    ("overfit", Mutation("overfit-tiny-learning-rate", (('"learning_rate": 1e-3', '"learning_rate": 1e-6'),),
                         ("learning rate too small",))),
    ("overfit", Mutation("overfit-huge-learning-rate", (('"learning_rate": 1e-3', '"learning_rate": 1.0'),),
                         ("too large",))),
    ("overfit", Mutation("overfit-not-trained", (("_ = overfit_solver.train()", ""),), ("not been trained",))),
    ("train", Mutation("train-test-set-concatenated-into-training",
                       (("Solver(model, data,",
                         'Solver(model, {**data, "X_train": np.concatenate([data["X_train"], data["X_test"]]), '
                         '"y_train": np.concatenate([data["y_train"], data["y_test"]])},'),),
                       ("test set",))),
    ("train", Mutation("train-test-set-as-validation",
                       (("Solver(model, data,", 'Solver(model, {**data, "X_val": data["X_test"], "y_val": data["y_test"]},'),),
                       ("test set",))),
    ("train", Mutation("train-too-few-epochs", (("num_epochs=10", "num_epochs=1"),), ("more epochs", "underfit"))),
    ("train", Mutation("train-on-a-subset",
                       (("Solver(model, data,",
                         'Solver(model, {**data, "X_train": data["X_train"][:100], "y_train": data["y_train"][:100]},'),),
                       ("whole data", "training images"))),
]

CONVNET_MISSES: dict = {}


@pytest.mark.parametrize("exercise", sorted(EXERCISES_07))
def test_convnet_model_solution_passes(exercise, digits):
    run_07(exercise, digits)()


@pytest.mark.parametrize("exercise, mutation", [
    pytest.param(exercise, mutation, id=mutation.name, marks=param.marks)
    for (exercise, mutation), param in zip(CONVNET, cases([m for _, m in CONVNET], CONVNET_MISSES))
])
def test_convnet_mutation_is_caught(exercise, mutation, digits):
    assert_caught(run_07(exercise, digits, mutation.edits), mutation)
