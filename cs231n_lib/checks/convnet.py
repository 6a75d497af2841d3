"""Checks for notebook 07, a small ConvNet end to end.

- ``check_expected_initial_loss``: log(C), the softmax loss of a network
  whose scores are all equal;
- ``check_gradient_check``: a float64 gradient check of every parameter of a
  tiny ThreeLayerConvNet, all relative errors below 1e-6;
- ``check_overfit``: 100% training accuracy on a small subset of the data;
- ``check_test_accuracy``: the trained ThreeLayerConvNet reaches 97% on the
  held-out digits.

The references are numbers worked out in advance (log C) and accuracies the
check computes itself from the model's scores, not with the Solver.
"""

import math

import numpy as np

from cs231n_lib.checks.common import call_student, fail, passed, require_answered

# Classes the initial-loss check asks about, with log(C) written out.
INITIAL_LOSSES = {
    10: 2.302585092994046,
    2: 0.6931471805599453,
    1000: 6.907755278982137,
}
GRADIENT_TOLERANCE = 1e-6
SMALL_SUBSET = 100  # "a small subset": at most this many training images
TEST_THRESHOLD = 0.97
RISING = 0.05  # accuracy gained in the second half of a run that counts as still rising
TINY_LEARNING_RATE = 1e-4  # below this, 100 updates barely move a freshly initialised model


# ---------------------------------------------------------------------------
# 1. The loss at initialisation
# ---------------------------------------------------------------------------


def _number(value, what, hint):
    if isinstance(value, np.ndarray) and value.size != 1:
        fail(what, "a single number", f"an array of shape {value.shape}", hint)
    try:
        return float(value)
    except (TypeError, ValueError):
        fail(what, "a number", f"{value!r} ({type(value).__name__})", hint)


def _initial_loss_mistake(got, num_classes):
    """Name the mistake that turns log(C) into ``got``, or None."""
    candidates = [
        (-math.log(num_classes), "the sign is flipped: the loss is -log(1/C) = +log(C), a positive "
                                 "number (log(1/C) itself is negative)"),
        (math.log10(num_classes), "that is log10(C): the softmax loss uses the natural logarithm, np.log"),
        (math.log2(num_classes), "that is log2(C): the softmax loss uses the natural logarithm, np.log"),
        (1.0 / num_classes, "that is 1/C, the probability the untrained network gives the correct "
                            "class; the loss is -log of that probability"),
        (math.log(num_classes) / num_classes, "the log is divided by C: the loss of each example is "
                                              "-log(1/C), and the mean of equal losses is that same value"),
    ]
    for value, diagnosis in candidates:
        if math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-12):
            return diagnosis
    return None


def check_expected_initial_loss(expected_initial_loss):
    """expected_initial_loss(C) must be log(C) for C = 10, 2 and 1000."""
    where = "the Exercise 1 cell"
    hint = ("with all scores equal, softmax gives every class probability 1/C, and the loss "
            "of one example is -log(probability of its correct class)")
    for num_classes, expected in INITIAL_LOSSES.items():
        got = call_student(expected_initial_loss, num_classes, name="expected_initial_loss", where=where)
        what = f"expected_initial_loss({num_classes})"
        got = _number(got, what, "return one number (a float)")
        if not math.isclose(got, expected, rel_tol=1e-6):
            mistake = _initial_loss_mistake(got, num_classes)
            fail(what, f"{expected:.4f}", f"{got:.4f}", mistake or hint)
    passed(f"expected_initial_loss(10) = {INITIAL_LOSSES[10]:.4f}: "
           "an untrained 10-class network should start near a loss of 2.30")


# ---------------------------------------------------------------------------
# 2. The gradient check
# ---------------------------------------------------------------------------


def check_gradient_check(grad_errors, grad_model):
    """grad_errors maps every parameter of grad_model (float64) to a relative error below 1e-6."""
    where = "the Exercise 2 cell"
    require_answered(grad_model, "grad_model", where)
    require_answered(grad_errors, "grad_errors", where)
    params = getattr(grad_model, "params", None)
    if not isinstance(params, dict) or not params:
        fail("grad_model", "a model with a params dict (e.g. a ThreeLayerConvNet)",
             type(grad_model).__name__, "build grad_model = ThreeLayerConvNet(..., dtype=np.float64)")
    if not isinstance(grad_errors, dict):
        fail("grad_errors", "a dict mapping each parameter name to its relative error",
             type(grad_errors).__name__, "e.g. grad_errors['W1'] = rel_error(numerical, grads['W1'])")

    float32 = sorted(name for name, p in params.items() if np.asarray(p).dtype != np.float64)
    if float32:
        dtype = np.asarray(params[float32[0]]).dtype
        fail("the dtype of grad_model's parameters", "float64", f"{dtype} ({', '.join(float32)})",
             f"float32 use: a {dtype} number keeps about 7 digits, so the step h = 1e-5 of the "
             "centred difference is mostly lost to rounding and the check cannot pass; "
             "build the model with dtype=np.float64")

    missing = sorted(set(params) - set(grad_errors))
    if missing:
        fail("the parameters checked", sorted(params), sorted(grad_errors),
             f"{', '.join(missing)} not checked: loop over every name in grad_model.params")

    errors = {}
    for name in sorted(params):
        errors[name] = _number(np.max(grad_errors[name]), f"grad_errors[{name!r}]",
                               "store one relative error per parameter, e.g. rel_error(numerical, analytic)")
    if all(error == 0.0 for error in errors.values()):
        fail("the relative errors", "small but not all exactly 0", "0 for every parameter",
             "a numerical estimate always differs from the analytic gradient by some rounding; "
             "all zeros means the analytic gradient was compared with itself: compare "
             "eval_numerical_gradient(...) with grads[name] from grad_model.loss(X, y)")
    bad = {name: error for name, error in errors.items() if not error < GRADIENT_TOLERANCE}
    if bad:
        listed = ", ".join(f"{name}: {error:.1e}" for name, error in bad.items())
        fail("the relative errors", f"below {GRADIENT_TOLERANCE:g} for every parameter", listed,
             "the function given to eval_numerical_gradient must return the loss only "
             "(grad_model.loss(X, y)[0]) for the same X and y that gave the analytic grads; "
             "keep the default h = 1e-5")
    passed(f"all {len(errors)} parameters of the float64 model agree with their numerical "
           f"gradients (relative errors below {GRADIENT_TOLERANCE:g})")


# ---------------------------------------------------------------------------
# 3. Overfitting a small subset
# ---------------------------------------------------------------------------


def _require_trained(solver, name, where):
    """The solver looks like a Solver that has run train()."""
    for attribute in ("X_train", "loss_history", "train_acc_history", "model"):
        if not hasattr(solver, attribute):
            fail(name, "a cs231n_lib.solver.Solver", type(solver).__name__,
                 f"set {name} = Solver(model, data, ...) in {where}")
    if not solver.loss_history or not solver.train_acc_history:
        fail(f"{name}.loss_history", "the losses of a finished run", "an empty list",
             f"the solver has not been trained yet: call {name}.train()")


def _learning_rate(solver):
    config = getattr(solver, "optim_config", None) or {}
    return config.get("learning_rate")


def check_overfit(overfit_solver):
    """The solver trained on at most 100 images and ended at 100% training accuracy."""
    where = "the Exercise 3 cell"
    require_answered(overfit_solver, "overfit_solver", where)
    _require_trained(overfit_solver, "overfit_solver", where)
    num_train = len(overfit_solver.X_train)
    if num_train > SMALL_SUBSET:
        fail("the number of training images", f"a small subset of about 50 (at most {SMALL_SUBSET})",
             num_train, "used the full training set: this sanity check trains on a few images "
                        "only, e.g. data['X_train'][:50] with data['y_train'][:50], so that a "
                        "working model can memorise them in seconds")
    history = [float(a) for a in overfit_solver.train_acc_history]
    final = history[-1]
    if final < 1.0:
        middle = history[len(history) // 2]
        rate = _learning_rate(overfit_solver)
        rate_text = f"learning_rate {rate:g}" if rate is not None else "the learning rate"
        losses = [float(loss) for loss in overfit_solver.loss_history]
        k = max(1, len(losses) // 10)
        first_loss, last_loss = float(np.mean(losses[:k])), float(np.mean(losses[-k:]))
        barely_moved = last_loss > 0.7 * first_loss and first_loss < 5.0
        if final - middle >= RISING:
            hint = (f"learning rate too small: accuracy still rising (from {middle:.2f} halfway to "
                    f"{final:.2f} at the end), so the run stopped before it could memorise the "
                    f"images; raise {rate_text} (Adam: try 1e-3) or train for more epochs")
        elif barely_moved and (rate is None or rate < TINY_LEARNING_RATE):
            hint = (f"learning rate too small: with {rate_text} the loss barely moved (from "
                    f"{first_loss:.2f} to {last_loss:.2f}) and accuracy is stuck; the weights "
                    "hardly change, so raise it (Adam: try 1e-3)")
        else:
            hint = (f"accuracy is not rising any more (it was {middle:.2f} halfway; the loss went "
                    f"from {first_loss:.2f} to {last_loss:.2f}): {rate_text} may be too large, or "
                    "regularisation (reg) or dropout keeps the model from memorising; use reg=0 "
                    "and Adam with 1e-3")
        fail(f"training accuracy after the last epoch on {num_train} images", "1.00",
             f"{final:.2f}", hint)
    passed(f"100% training accuracy on {num_train} images after {overfit_solver.epoch} epochs: "
           "the model and the optimiser can learn")


# ---------------------------------------------------------------------------
# 4. Training on the full data
# ---------------------------------------------------------------------------


def _predict(model, X, batch_size=200):
    return np.concatenate([
        np.argmax(model.loss(X[start:start + batch_size]), axis=1)
        for start in range(0, len(X), batch_size)
    ])


def _same_data(a, b):
    return a is b or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                      and a.shape == b.shape and np.shares_memory(a, b))


def check_test_accuracy(solver, data, threshold=TEST_THRESHOLD):
    """The solver's trained ThreeLayerConvNet classifies at least 97% of data['X_test'] right."""
    where = "the Exercise 4 cell"
    require_answered(solver, "solver", where)
    _require_trained(solver, "solver", where)
    from cs231n_lib.models import ThreeLayerConvNet  # here: the models import the fast layers

    if not isinstance(solver.model, ThreeLayerConvNet):
        fail("solver.model", "a ThreeLayerConvNet", type(solver.model).__name__,
             "this section trains ThreeLayerConvNet(input_dim=(1, 8, 8), ...)")
    for split in ("X_train", "X_val"):
        if _same_data(getattr(solver, split, None), data["X_test"]):
            fail(f"solver.{split}", f"data['{split}']", "data['X_test']",
                 "the test set was used while training: keep it for this final check, "
                 "or its accuracy no longer tells how the model does on new images")
    accuracy = float(np.mean(_predict(solver.model, data["X_test"]) == data["y_test"]))
    if accuracy < threshold:
        train_acc = float(solver.train_acc_history[-1])
        num_train, available = len(solver.X_train), len(data["X_train"])
        if num_train < available:
            hint = (f"the solver trained on {num_train} of the {available} training images: "
                    "pass the whole data dict")
        elif train_acc - accuracy > 0.05:
            hint = (f"training accuracy is {train_acc:.2f}, far above test accuracy: the model "
                    "overfits; train for fewer epochs or add regularisation (reg)")
        else:
            hint = (f"training accuracy is only {train_acc:.2f}: the model underfits; train for "
                    "more epochs, with Adam at learning_rate 1e-3 and weight_scale='he'")
        fail("test accuracy", f"at least {threshold:.2f}", f"{accuracy:.2f}", hint)
    passed(f"test accuracy {accuracy:.2f} (at least {threshold:.2f})")
    return accuracy
