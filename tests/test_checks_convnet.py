"""The checks of notebook 07 (a small ConvNet): pass on right answers, name the common mistakes."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from cs231n_lib.checks.common import NOT_IMPLEMENTED, answer_digest
from cs231n_lib.checks.convnet import (
    DIGITS,
    INITIAL_LOSS_SLIPS,
    INITIAL_LOSSES,
    SLIP_DIAGNOSES,
    _probe_errors,
    check_expected_initial_loss,
    check_gradient_check,
    check_overfit,
    check_test_accuracy,
)
from cs231n_lib.data import load_digits
from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.models import FullyConnectedNet, ThreeLayerConvNet
from cs231n_lib.solver import Solver


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


def failure(check, *args):
    with pytest.raises(AssertionError) as info:
        check(*args)
    return str(info.value)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def digit_net(seed=0):
    return ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=32, filter_size=3, hidden_dim=100,
                             weight_scale="he", seed=seed)


def first(data, n):
    """The first n training images, with the real validation split."""
    return {"X_train": data["X_train"][:n], "y_train": data["y_train"][:n],
            "X_val": data["X_val"], "y_val": data["y_val"]}


def run(model, data, learning_rate=1e-3, num_epochs=20, batch_size=10):
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": learning_rate},
                    num_epochs=num_epochs, batch_size=batch_size, seed=0, verbose=False)
    solver.train()
    return solver


# ---------------------------------------------------------------------------
# Exercise 1: the expected initial loss
# ---------------------------------------------------------------------------


def test_initial_loss_passes_on_the_natural_log(capsys):
    check_expected_initial_loss(lambda C: float(np.log(C)))
    assert capsys.readouterr().out.startswith("OK: expected_initial_loss(10) = 2.3026")


def test_initial_loss_accepts_a_numpy_scalar():
    check_expected_initial_loss(np.log)


@pytest.mark.parametrize("mistake, diagnosis", [
    (lambda C: -np.log(C), "the sign is flipped"),
    (lambda C: np.log(1.0 / C), "the sign is flipped"),
    (np.log10, "that is log10(C)"),
    (math.log2, "that is log2(C)"),
    (lambda C: 1.0 / C, "that is 1/C"),
    (lambda C: np.log(C) / C, "the log is divided by C"),
], ids=["minus-log", "log-of-probability", "log10", "log2", "probability", "divided"])
def test_initial_loss_names_the_mistake(mistake, diagnosis):
    message = failure(check_expected_initial_loss, mistake)
    assert diagnosis in message
    assert "expected_initial_loss(10): expected the mean softmax loss of 10 equal scores" in message
    assert "expected 2.3026" not in message  # the value answer is never printed


# The reference answer and the slips, kept here: they prove the hashes the shipped check holds.
def reference_initial_loss(num_classes):
    return math.log(num_classes)


REFERENCE_SLIPS = {
    "sign": lambda C: -math.log(C),
    "log10": math.log10,
    "log2": math.log2,
    "probability": lambda C: 1.0 / C,
    "divided": lambda C: math.log(C) / C,
}


def test_the_initial_loss_hashes_are_the_reference_answers():
    assert sorted(INITIAL_LOSSES) == [2, 10, 1000]
    for C, digest in INITIAL_LOSSES.items():
        assert answer_digest(reference_initial_loss(C), DIGITS, tag=f"07-initial-loss-{C}") == digest
        assert set(INITIAL_LOSS_SLIPS[C]) == set(REFERENCE_SLIPS) == set(SLIP_DIAGNOSES)
        for slip, value in REFERENCE_SLIPS.items():
            assert answer_digest(value(C), DIGITS, tag=f"07-initial-loss-{C}-{slip}") == INITIAL_LOSS_SLIPS[C][slip]


def test_the_shipped_check_holds_no_initial_loss_value():
    import inspect

    import cs231n_lib.checks.convnet as module

    source = inspect.getsource(module)
    for C in INITIAL_LOSSES:
        assert f"{math.log(C):.4f}"[:5] not in source
        assert f"{math.log(C):.2f}" not in source  # e.g. 2.30, also in a message
    assert "math.log(" not in source and "np.log(" not in source and "log(10)" not in source


def test_initial_loss_success_prints_the_students_own_values(capsys):
    """Within the hash's precision, the message repeats what the student computed, never a stored value."""
    check_expected_initial_loss(lambda C: np.float32(np.log(C)))
    assert capsys.readouterr().out == ("OK: expected_initial_loss(10) = 2.3026: an untrained 10-class "
                                       "network should start near a loss of 2.30\n")


def test_initial_loss_hard_coded_for_10_classes_is_named():
    message = failure(check_expected_initial_loss, lambda C: 2.302585092994046)
    assert "expected_initial_loss(2)" in message and "hard-coded, right only for C = 10" in message


def test_initial_loss_unknown_mistake_gets_the_general_hint():
    message = failure(check_expected_initial_loss, lambda C: 2.0)
    assert "got 2.0000" in message and "probability 1/C" in message


@pytest.mark.parametrize("wrong, said", [
    (lambda C: None, "a number"),
    (lambda C: np.full(2, np.log(C)), "a single number"),
])
def test_initial_loss_wants_one_number(wrong, said):
    assert said in failure(check_expected_initial_loss, wrong)


def test_initial_loss_not_implemented():
    message = failure(check_expected_initial_loss, not_implemented)
    assert NOT_IMPLEMENTED in message and "expected_initial_loss" in message


# ---------------------------------------------------------------------------
# Exercise 2: the gradient check
# ---------------------------------------------------------------------------


def tiny_check(dtype=np.float64, numeric_labels=None, skip=(), compare_with_itself=False):
    """The notebook's gradient check, optionally with one deliberate mistake."""
    model = ThreeLayerConvNet(input_dim=(1, 4, 4), num_filters=2, filter_size=3, hidden_dim=6,
                              num_classes=5, weight_scale=0.5, seed=0, dtype=dtype)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 1, 4, 4))
    y = np.array([0, 3, 4])
    y_numeric = y if numeric_labels is None else numeric_labels
    _, grads = model.loss(X, y)
    errors = {}
    for name in sorted(model.params):
        if name in skip:
            continue
        if compare_with_itself:
            errors[name] = rel_error(grads[name], grads[name])
            continue
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y_numeric)[0], model.params[name])
        errors[name] = rel_error(numerical, grads[name])
    return errors, model


def test_gradient_check_passes_in_float64(capsys):
    check_gradient_check(*tiny_check())
    assert "OK: all 6 parameters" in capsys.readouterr().out


def test_gradient_check_names_float32():
    message = failure(check_gradient_check, *tiny_check(dtype=np.float32))
    assert "float32 use" in message and "dtype=np.float64" in message


def test_gradient_check_names_the_parameters_left_out():
    message = failure(check_gradient_check, *tiny_check(skip=("b1", "W3")))
    assert "W3, b1 not checked" in message


def test_gradient_check_names_comparing_a_gradient_with_itself():
    message = failure(check_gradient_check, *tiny_check(compare_with_itself=True))
    assert "compared with itself" in message


def test_gradient_check_large_errors_point_at_the_loss_function():
    # The numerical gradient of a different batch's loss: both gradients are real, they just disagree.
    message = failure(check_gradient_check, *tiny_check(numeric_labels=np.array([1, 1, 2])))
    assert "below 1e-06 for every parameter" in message and "grad_model.loss(X, y)[0]" in message


def test_gradient_check_names_a_numerical_gradient_of_a_copy():
    model = tiny_check()[1]
    errors = {name: 1.0 for name in model.params}  # rel_error(zeros, analytic) for every parameter
    assert "not a copy of it" in failure(check_gradient_check, errors, model)


@pytest.mark.parametrize("reported", [1e-9, 2.5e-10])
def test_gradient_check_names_numbers_typed_in(reported):
    model = tiny_check()[1]
    message = failure(check_gradient_check, {name: reported for name in model.params}, model)
    assert "typed in or made up, not computed" in message


def test_gradient_check_names_one_typed_in_number_among_computed_ones():
    errors, model = tiny_check()
    errors["W2"] = 1e-10
    assert "W2: 1e-10" in failure(check_gradient_check, errors, model)


def test_the_checks_own_probe_agrees_with_the_model_and_puts_every_entry_back():
    model = tiny_check()[1]
    before = {name: value.copy() for name, value in model.params.items()}
    probed = _probe_errors(model)
    assert set(probed) == set(model.params) and max(probed.values()) < 1e-7
    assert all(np.array_equal(model.params[name], before[name]) for name in before)


def test_gradient_check_recomputes_on_the_model_and_catches_a_broken_backward():
    errors, model = tiny_check()
    real_loss = model.loss

    def broken_loss(X, y=None):
        if y is None:
            return real_loss(X)
        loss, grads = real_loss(X, y)
        return loss, {**grads, "W1": 2 * grads["W1"]}

    model.loss = broken_loss
    message = failure(check_gradient_check, errors, model)
    assert "the check probed itself" in message and "W1" in message


def test_gradient_check_wants_a_dict_and_a_model():
    errors, model = tiny_check()
    assert "a dict mapping" in failure(check_gradient_check, list(errors.values()), model)
    assert "a model with a params dict" in failure(check_gradient_check, errors, object())


@pytest.mark.parametrize("which", ["grad_model", "grad_errors"])
def test_gradient_check_not_implemented(which):
    errors, model = tiny_check()
    args = (errors, None) if which == "grad_model" else (None, model)
    message = failure(check_gradient_check, *args)
    assert NOT_IMPLEMENTED in message and which in message


# ---------------------------------------------------------------------------
# Exercise 3: overfitting a small subset
# ---------------------------------------------------------------------------


def test_overfit_passes_on_50_images(digits, capsys):
    check_overfit(run(digit_net(), first(digits, 50)))
    assert "OK: 100% training accuracy on 50 images after 20 epochs" in capsys.readouterr().out


def test_overfit_names_the_full_training_set(digits):
    solver = run(digit_net(), digits, num_epochs=1, batch_size=50)
    assert "used the full training set" in failure(check_overfit, solver)


def test_overfit_names_a_learning_rate_too_small_while_accuracy_rises(digits):
    solver = run(digit_net(), first(digits, 50), learning_rate=1e-4)
    message = failure(check_overfit, solver)
    assert "learning rate too small: accuracy still rising" in message
    assert "raise learning_rate 0.0001" in message


def test_overfit_names_a_learning_rate_so_small_that_nothing_moves(digits):
    solver = run(digit_net(), first(digits, 50), learning_rate=1e-6)
    message = failure(check_overfit, solver)
    assert "learning rate too small: with learning_rate 1e-06 the loss barely moved" in message


def test_overfit_stalled_accuracy_points_at_a_large_rate_or_regularisation(digits):
    solver = run(digit_net(), first(digits, 50), learning_rate=0.1)
    message = failure(check_overfit, solver)
    assert "accuracy is not rising any more" in message and "learning_rate 0.1 may be too large" in message


def test_overfit_names_a_solver_that_was_not_trained(digits):
    solver = Solver(digit_net(), first(digits, 50), verbose=False)
    assert "has not been trained yet" in failure(check_overfit, solver)


def test_overfit_wants_a_solver(digits):
    assert "a cs231n_lib.solver.Solver" in failure(check_overfit, digit_net())


def test_overfit_not_implemented():
    message = failure(check_overfit, None)
    assert NOT_IMPLEMENTED in message and "overfit_solver" in message


# ---------------------------------------------------------------------------
# Exercise 4: training on all the digits
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(digits):
    return run(digit_net(), digits, num_epochs=10, batch_size=50)


def test_test_accuracy_passes_with_the_known_good_settings(trained, digits, capsys):
    accuracy = check_test_accuracy(trained, digits)
    assert accuracy >= 0.97
    assert capsys.readouterr().out == f"OK: test accuracy {accuracy:.2f} (at least 0.97)\n"


def test_test_accuracy_names_an_untrained_solver(digits):
    solver = Solver(digit_net(), digits, verbose=False)
    assert "has not been trained yet: call solver.train()" in failure(check_test_accuracy, solver, digits)


def test_test_accuracy_names_the_wrong_model(digits):
    solver = run(FullyConnectedNet([20], input_dim=64, seed=0), digits, num_epochs=1, batch_size=50)
    assert "a ThreeLayerConvNet" in failure(check_test_accuracy, solver, digits)


@pytest.mark.parametrize("split", ["train", "val"])
def test_test_accuracy_names_training_on_the_test_set(digits, split):
    leaky = {"X_train": digits["X_train"], "y_train": digits["y_train"],
             "X_val": digits["X_val"], "y_val": digits["y_val"]}
    leaky[f"X_{split}"], leaky[f"y_{split}"] = digits["X_test"], digits["y_test"]
    solver = run(digit_net(), leaky, num_epochs=1, batch_size=50)
    assert "the test set was used while training" in failure(check_test_accuracy, solver, digits)


@pytest.mark.parametrize("how", ["concatenated", "copied", "shuffled-in", "cast-to-float64"])
def test_test_accuracy_finds_test_images_by_content(digits, how):
    X_test = digits["X_test"]
    if how == "concatenated":
        X_train = np.concatenate([digits["X_train"], X_test])
    elif how == "copied":
        X_train = X_test.copy()
    elif how == "cast-to-float64":
        X_train = np.concatenate([digits["X_train"], X_test]).astype(np.float64)
    else:
        X_train = np.concatenate([digits["X_train"][:500], X_test[::-1], digits["X_train"][500:]])
    leaky = SimpleNamespace(model=digit_net(), X_train=X_train, X_val=digits["X_val"],
                            loss_history=[0.1], train_acc_history=[1.0])
    assert "the test set was used while training" in failure(check_test_accuracy, leaky, digits)


def test_a_few_test_images_that_also_occur_in_training_are_not_called_a_leak(digits, trained):
    # Duplicates across splits happen in real data; only most of the test set in training is a leak.
    X_train = np.concatenate([digits["X_train"], digits["X_test"][:10]])
    honest = SimpleNamespace(model=trained.model, X_train=X_train, X_val=digits["X_val"],
                             loss_history=[0.1], train_acc_history=[1.0])
    check_test_accuracy(honest, digits)


def test_overfit_names_a_large_regularisation(digits):
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=32, filter_size=3, hidden_dim=100,
                              weight_scale="he", seed=0, reg=0.5)
    message = failure(check_overfit, run(model, first(digits, 50)))
    assert "regularisation reg=0.5 keeps the model from memorising" in message


def test_test_accuracy_names_a_training_subset(digits):
    solver = run(digit_net(), first(digits, 100), num_epochs=2, batch_size=50)
    assert "trained on 100 of the 1197 training images" in failure(check_test_accuracy, solver, digits)


def test_test_accuracy_names_underfitting(digits):
    solver = run(digit_net(), digits, learning_rate=1e-5, num_epochs=1, batch_size=50)
    assert "the model underfits" in failure(check_test_accuracy, solver, digits)


def test_test_accuracy_names_overfitting(digits):
    # Training accuracy 1.0 recorded on the full training set, but the model never learned.
    memoriser = SimpleNamespace(model=digit_net(), X_train=digits["X_train"], X_val=digits["X_val"],
                                loss_history=[0.01], train_acc_history=[0.1, 1.0])
    assert "the model overfits" in failure(check_test_accuracy, memoriser, digits)


def test_test_accuracy_not_implemented(digits):
    message = failure(check_test_accuracy, None, digits)
    assert NOT_IMPLEMENTED in message and "solver" in message
