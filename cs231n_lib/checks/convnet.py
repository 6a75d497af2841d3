"""Checks for notebook 07, a small ConvNet end to end.

- ``check_expected_initial_loss``: the softmax loss of a network whose
  scores are all equal, for three C (answers stored as salted hashes);
- ``check_gradient_check``: a float64 gradient check of every parameter of a
  tiny ThreeLayerConvNet, all relative errors below 1e-6;
- ``check_overfit``: 100% training accuracy on a small subset of the data;
- ``check_test_accuracy``: the trained ThreeLayerConvNet reaches 97% on the
  held-out digits.

The references are salted hashes of answers worked out in advance, a few
centred differences the check takes itself on grad_model, and accuracies the
check computes itself from the model's scores, not with the Solver.
"""

import math

import numpy as np

from cs231n_lib.checks.common import (
    EXACT_FLOAT64,
    MODEL_GRADIENT,
    call_student,
    close,
    fail,
    matches_digest,
    passed,
    require_answered,
)
from cs231n_lib.gradient_check import (
    _centred_difference,  # the library's own step, not a copy
)

# Classes the initial-loss check asks about, each with the salted hash of its answer,
# answer_digest(value, digits=6, tag="07-initial-loss-<C>"), proven in tests/test_checks_convnet.py.
INITIAL_LOSSES = {
    10: "bc54a87f2842c6f0",
    2: "a2be9134918c6d48",
    1000: "88cdd8538d6a449c",
}
# What the usual slips return for each C, hashed the same way with tag "07-initial-loss-<C>-<slip>".
INITIAL_LOSS_SLIPS = {
    10: {"sign": "d09a227a2a4d05f3", "log10": "72b74e06f9b82d58", "log2": "c8e2fa97c06a341b",
         "probability": "2b34a9fd2dc5a378", "divided": "0735b4df26d534c2"},
    2: {"sign": "fa0d7b7177734783", "log10": "cbcd43d0d1c279fb", "log2": "c0a767739e2b1358",
        "probability": "c13526bee099c5ff", "divided": "4f100b0eb8c74b7d"},
    1000: {"sign": "569d977edacd36e1", "log10": "5ab40e1696939d6e", "log2": "20adca407553a716",
           "probability": "6a07fee737f20feb", "divided": "0cba5f6a293495dd"},
}
SLIP_DIAGNOSES = {
    "sign": "the sign is flipped: the loss is minus the log of a probability, and the log of a probability "
            "below 1 is negative, so the loss is a positive number",
    "log10": "that is log10(C): the softmax loss uses the natural logarithm, np.log",
    "log2": "that is log2(C): the softmax loss uses the natural logarithm, np.log",
    "probability": "that is 1/C, the probability the untrained network gives the correct class; "
                   "the loss is -log of that probability",
    "divided": "the log is divided by C: every example has the same loss, and the mean of equal "
               "losses is that same value; nothing is divided by the number of classes",
}
DIGITS = 6
SMALL_SUBSET = 100  # "a small subset": at most this many training images
TEST_THRESHOLD = 0.97
RISING = 0.05  # accuracy gained in the second half of a run that counts as still rising
LARGE_REG = 1e-2  # an L2 strength that visibly holds back memorising 50 images
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


def _initial_loss_mistake(got, num_classes, earlier):
    """Name the mistake that gives ``got`` for ``num_classes`` (``earlier``: the right answers so far), or None."""
    for other, value in earlier.items():
        if other != num_classes and close(got, value, EXACT_FLOAT64):
            return (f"the same number as for C = {other}: the answer is hard-coded, right only for C = {other}. "
                    "Work it out from num_classes, so that it holds for any number of classes")
    for slip, digest in INITIAL_LOSS_SLIPS[num_classes].items():
        if matches_digest(got, digest, DIGITS, tag=f"07-initial-loss-{num_classes}-{slip}"):
            return SLIP_DIAGNOSES[slip]
    return None


def check_expected_initial_loss(expected_initial_loss):
    """expected_initial_loss(C) must be the mean softmax loss of equal scores, for C = 10, 2 and 1000."""
    where = "the Exercise 1 cell"
    hint = ("with all scores equal, softmax gives every class probability 1/C, and the loss "
            "of one example is -log(probability of its correct class)")
    right = {}
    for num_classes, digest in INITIAL_LOSSES.items():
        got = call_student(expected_initial_loss, num_classes, name="expected_initial_loss", where=where)
        what = f"expected_initial_loss({num_classes})"
        got = _number(got, what, "return one number (a float)")
        if not matches_digest(got, digest, DIGITS, tag=f"07-initial-loss-{num_classes}"):
            mistake = _initial_loss_mistake(got, num_classes, right)
            fail(what, f"the mean softmax loss of {num_classes} equal scores", f"{got:.4f}", mistake or hint)
        right[num_classes] = got
    passed(f"expected_initial_loss(10) = {right[10]:.4f}: an untrained 10-class network should "
           f"start near a loss of {right[10]:.2f}")  # the student's own value: none is stored in clear


# ---------------------------------------------------------------------------
# 2. The gradient check
# ---------------------------------------------------------------------------


def _probe_batch(params, dtype):
    """A fixed batch of 2 images that ThreeLayerConvNet-shaped ``params`` accept, or None: the channels
    come from W1 (F, C, HH, WW), the side from W2, whose rows are F * (side / 2)**2 pooled values."""
    try:
        filters, channels = params["W1"].shape[:2]
        cells, rest = divmod(params["W2"].shape[0], filters)
        half = math.isqrt(cells)
        num_classes = params["W3"].shape[1]
    except (KeyError, AttributeError, ValueError, TypeError, ZeroDivisionError, IndexError):
        return None
    if rest or half * half != cells or half == 0:
        return None
    X = np.random.default_rng(231).standard_normal((2, channels, 2 * half, 2 * half)).astype(dtype)
    return X, np.arange(2) % num_classes


def _probe_errors(model):
    """Centred differences (h = 1e-5, via gradient_check) at three entries of each parameter of ``model``,
    against its analytic gradient on a fixed batch: {name: largest relative error}, or None if the model
    does not take the batch. Every perturbed entry is put back."""
    params = model.params
    batch = _probe_batch(params, np.float64)
    if batch is None:
        return None
    X, y = batch
    try:
        with np.errstate(all="ignore"):
            _, grads = model.loss(X, y)
            errors = {}
            for name in sorted(params):
                array = params[name]
                worst = 0.0
                for flat in sorted({0, array.size // 2, array.size - 1}):
                    index = np.unravel_index(flat, array.shape)
                    plus, minus = _centred_difference(lambda _: model.loss(X, y)[0], array, index, 1e-5)
                    numerical = (plus - minus) / 2e-5
                    analytic = float(grads[name][index])
                    worst = max(worst, abs(numerical - analytic) / max(1e-8, abs(numerical) + abs(analytic)))
                errors[name] = worst
    except Exception:  # a model that does not take the batch: the reported numbers are all there is
        return None
    return errors


def _typed_in(error):
    """A computed relative error is never a round number such as 1e-9 or 2.5e-10."""
    return error != 0.0 and math.isfinite(error) and error == float(f"{error:.2g}")


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
    if all(error == 1.0 for error in errors.values()):
        fail("the relative errors", f"below {MODEL_GRADIENT:g} for every parameter", "exactly 1.0 for every parameter",
             "a relative error of exactly 1 is what an all-zero numerical gradient gives (the loss never "
             "saw the perturbation) or one of the opposite sign. eval_numerical_gradient must perturb "
             "grad_model.params[name] itself, in place, not a copy of it (no .copy()), because the loss "
             "reads the model's arrays; and its function must return grad_model.loss(X, y)[0] for the "
             "same X and y that gave the analytic grads")

    before = {name: np.array(value, copy=True) for name, value in params.items()}
    probed = _probe_errors(grad_model)
    moved = sorted(name for name in params if not np.array_equal(params[name], before[name]))
    assert not moved, f"the check changed grad_model.params {moved}"  # internal: every probe is put back
    if probed is not None:
        off = {name: error for name, error in probed.items() if not error < 1e-5}
        if off:
            listed = ", ".join(f"{name}: {error:.1e}" for name, error in off.items())
            fail("grad_model's analytic gradient at a few entries the check probed itself", "within 1e-5",
                 listed, "the reported errors cannot be right for this model: they must be computed by "
                         "comparing its own grads with a numerical gradient of grad_model.loss(X, y)[0]")
    passing = {name: error for name, error in errors.items() if error < MODEL_GRADIENT}
    typed = sorted(name for name, error in passing.items() if _typed_in(error))
    if typed or (len(passing) == len(errors) > 1 and len(set(errors.values())) == 1):
        names = typed or sorted(errors)
        fail("the relative errors", "numbers computed by rel_error(numerical, analytic)",
             ", ".join(f"{name}: {errors[name]:g}" for name in names),
             "these look typed in or made up, not computed: a real relative error is never a round number, "
             "and no two parameters give exactly the same one. Compute each one in the cell with "
             "rel_error(eval_numerical_gradient(...), grads[name]) and store what it returns")
    bad = {name: error for name, error in errors.items() if not error < MODEL_GRADIENT}
    if bad:
        listed = ", ".join(f"{name}: {error:.1e}" for name, error in bad.items())
        fail("the relative errors", f"below {MODEL_GRADIENT:g} for every parameter", listed,
             "the function given to eval_numerical_gradient must return the loss only "
             "(grad_model.loss(X, y)[0]) for the same X and y that gave the analytic grads; "
             "keep the default h = 1e-5")
    passed(f"all {len(errors)} parameters of the float64 model agree with their numerical "
           f"gradients (relative errors below {MODEL_GRADIENT:g})")


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
        reg = getattr(getattr(overfit_solver, "model", None), "reg", 0.0)
        reg = float(reg) if isinstance(reg, (int, float, np.floating)) else 0.0
        if reg >= LARGE_REG:
            hint = (f"regularisation reg={reg:g} keeps the model from memorising: the L2 penalty pulls the "
                    "weights towards 0, against fitting every training image exactly. This sanity check "
                    "tests whether the model can learn at all, so build the model with reg=0")
        elif final - middle >= RISING:
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


def _row_digests(X, dtype=None):
    """A set of hashes of the rows (images) of X, by content: copies and concatenations are found too."""
    import hashlib

    X = np.ascontiguousarray(X if dtype is None else np.asarray(X).astype(dtype, copy=False))
    return {hashlib.sha256(row.tobytes()).hexdigest() for row in X.reshape(len(X), -1)}


def _holds_most_of(used, test_rows, dtype):
    """Does ``used`` contain at least half of the test images (by content)? A few duplicates can occur by chance."""
    if not isinstance(used, np.ndarray) or used.ndim < 1 or len(used) == 0 or not test_rows:
        return False
    return len(test_rows & _row_digests(used, dtype)) >= 0.5 * len(test_rows)


def check_test_accuracy(solver, data, threshold=TEST_THRESHOLD):
    """The solver's trained ThreeLayerConvNet classifies at least 97% of data['X_test'] right."""
    where = "the Exercise 4 cell"
    require_answered(solver, "solver", where)
    _require_trained(solver, "solver", where)
    from cs231n_lib.models import (
        ThreeLayerConvNet,  # here: the models import the fast layers
    )

    if not isinstance(solver.model, ThreeLayerConvNet):
        fail("solver.model", "a ThreeLayerConvNet", type(solver.model).__name__,
             "this section trains ThreeLayerConvNet(input_dim=(1, 8, 8), ...)")
    test_rows = _row_digests(data["X_test"], np.float32)  # float32 on both sides: a cast copy is found too
    for split in ("X_train", "X_val"):
        used = getattr(solver, split, None)
        if _same_data(used, data["X_test"]) or _holds_most_of(used, test_rows, np.float32):
            fail(f"solver.{split}", f"data['{split}']", "data['X_test']",
                 "the test set was used while training (its images, found by content): keep it for this final check, "
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
