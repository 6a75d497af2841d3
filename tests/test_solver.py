"""Tests for cs231n_lib.solver: options, training, divergence, checkpoints, resume, targets."""

import os
import pickle
import time

import numpy as np
import pytest

from cs231n_lib.data import load_digits
from cs231n_lib.models import FullyConnectedNet, ThreeLayerConvNet
from cs231n_lib.solver import Solver, TrainingDiverged


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=0)


def small_data(rng, n_train=60, n_val=20, dim=6, classes=3):
    return {
        "X_train": rng.standard_normal((n_train, dim)).astype(np.float32),
        "y_train": rng.integers(0, classes, n_train),
        "X_val": rng.standard_normal((n_val, dim)).astype(np.float32),
        "y_val": rng.integers(0, classes, n_val),
    }


def small_model(seed=0, dropout=0.0):
    return FullyConnectedNet([8], input_dim=6, num_classes=3, dropout=dropout, weight_scale=0.1, seed=seed)


# ---------------------------------------------------------------------------
# Options and data
# ---------------------------------------------------------------------------


def test_unknown_option_is_named_with_a_suggestion():
    data = small_data(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"unknown Solver option 'num_epoch' \(did you mean 'num_epochs'\?\)"):
        Solver(small_model(), data, num_epoch=3)


def test_unknown_option_lists_the_valid_ones():
    data = small_data(np.random.default_rng(0))
    with pytest.raises(ValueError, match="the options are: update_rule, optim_config"):
        Solver(small_model(), data, momentum=0.9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size must be a whole number >= 1, got 0"),
        ({"num_epochs": 2.5}, "num_epochs must be a whole number >= 1, got 2.5"),
        ({"lr_decay": 1.5}, r"lr_decay must be in \(0, 1\], got 1.5"),
        ({"num_val_samples": 0}, "num_val_samples must be None"),
        ({"update_rule": "adma"}, "adam"),
    ],
)
def test_bad_option_values_are_explained(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Solver(small_model(), small_data(np.random.default_rng(0)), **kwargs)


def test_data_must_have_the_four_arrays_of_matching_lengths():
    data = small_data(np.random.default_rng(0))
    with pytest.raises(ValueError, match="data is missing y_val"):
        Solver(small_model(), {k: v for k, v in data.items() if k != "y_val"})
    data["y_train"] = data["y_train"][:-1]
    with pytest.raises(ValueError, match="X_train has 60 samples but y_train has 59 labels"):
        Solver(small_model(), data)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def test_histories_decay_and_best_parameters():
    rng = np.random.default_rng(1)
    data = small_data(rng)
    solver = Solver(small_model(), data, update_rule="sgd", optim_config={"learning_rate": 0.1},
                    lr_decay=0.5, batch_size=10, num_epochs=3, seed=0, verbose=False)
    solver.train()
    assert len(solver.loss_history) == 3 * 6  # 60 // 10 iterations per epoch
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 1 + 3  # first iteration + epochs
    assert solver.best_val_acc == max(solver.val_acc_history)
    for name, value in solver.model.params.items():
        np.testing.assert_array_equal(value, solver.best_params[name])
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(0.1 * 0.5**3)


def test_each_parameter_gets_its_own_update_state():
    data = small_data(np.random.default_rng(2))
    solver = Solver(small_model(), data, update_rule="adam", num_epochs=1, batch_size=20, verbose=False, seed=0)
    solver.train()
    for name, value in solver.model.params.items():
        assert solver.optim_configs[name]["m"].shape == value.shape
        assert solver.optim_configs[name]["t"] == 3


def test_update_rule_may_be_a_function():
    calls = []

    def halve_step(w, dw, config=None):
        calls.append(w.shape)
        return w - 0.5 * dw, config or {}

    solver = Solver(small_model(), small_data(np.random.default_rng(3)), update_rule=halve_step,
                    num_epochs=1, batch_size=30, verbose=False)
    solver.train()
    assert len(calls) == 2 * 4  # 2 iterations x 4 parameters


def test_same_seed_same_run_and_accuracy_checks_do_not_change_batches():
    data = small_data(np.random.default_rng(4))
    runs = []
    for extra_checks in (0, 3):
        solver = Solver(small_model(seed=1), data, update_rule="sgd", num_epochs=2, batch_size=10,
                        seed=5, verbose=False, num_train_samples=7)
        for _ in range(extra_checks):
            solver.check_accuracy(data["X_train"], data["y_train"], num_samples=5)
        solver.train()
        runs.append(solver.loss_history)
    assert runs[0] == runs[1]


def test_quiet_when_not_verbose(capsys):
    Solver(small_model(), small_data(np.random.default_rng(5)), num_epochs=1, batch_size=30, verbose=False).train()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_reports_each_epoch(capsys):
    Solver(small_model(), small_data(np.random.default_rng(5)), num_epochs=2, batch_size=30, verbose=True).train()
    text = "".join(capsys.readouterr())
    assert "epoch 1/2" in text and "epoch 2/2" in text and "val acc" in text


def test_a_diverging_run_stops_with_the_iteration_and_learning_rate():
    data = small_data(np.random.default_rng(6))
    model = small_model()
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e30},
                    batch_size=10, num_epochs=5, verbose=False, seed=0)
    with pytest.raises(TrainingDiverged, match=r"the loss became (nan|inf) at iteration \d+ \(epoch \d+\) with learning_rate 1e\+30"):
        solver.train()
    assert len(solver.loss_history) < 5 * 6
    assert all(np.isfinite(solver.loss_history))


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------


def test_resuming_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path):
    data = small_data(np.random.default_rng(7))
    options = dict(update_rule="adam", optim_config={"learning_rate": 1e-2}, lr_decay=0.9,
                   batch_size=10, num_epochs=4, seed=11, verbose=False, num_train_samples=20)
    name = str(tmp_path / "run")
    full = Solver(small_model(seed=3, dropout=0.3), data, checkpoint_name=name, **options)
    full.train()
    assert sorted(os.listdir(tmp_path)) == [f"run_epoch_{e}.pkl" for e in range(1, 5)]

    resumed = Solver.from_checkpoint(f"{name}_epoch_2.pkl", data)
    assert resumed.epoch == 2 and resumed.iteration == 12
    resumed.train()
    assert resumed.loss_history == full.loss_history
    assert resumed.val_acc_history == full.val_acc_history
    for param in full.model.params:
        np.testing.assert_array_equal(resumed.model.params[param], full.model.params[param])


def test_resume_may_extend_training_and_checks_the_data(tmp_path):
    data = small_data(np.random.default_rng(8))
    solver = Solver(small_model(), data, num_epochs=1, batch_size=20, verbose=False, seed=0,
                    checkpoint_name=str(tmp_path / "c"))
    solver.train()
    longer = Solver.from_checkpoint(tmp_path / "c_epoch_1.pkl", data, num_epochs=3)
    longer.train()
    assert len(longer.loss_history) == 3 * 3
    smaller = {**data, "X_train": data["X_train"][:30], "y_train": data["y_train"][:30]}
    with pytest.raises(ValueError, match="trained on 60 samples but X_train has 30"):
        Solver.from_checkpoint(tmp_path / "c_epoch_1.pkl", smaller)


def test_a_failed_write_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    data = small_data(np.random.default_rng(9))
    solver = Solver(small_model(), data, num_epochs=1, batch_size=20, verbose=False, seed=0)
    target = tmp_path / "ckpt.pkl"
    solver.save_checkpoint(str(target))
    before = target.read_bytes()

    def dump_half_then_die(obj, f, protocol=None):
        f.write(pickle.dumps(obj)[:100])
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(pickle, "dump", dump_half_then_die)
    solver.train()  # changes the state that would be saved
    with pytest.raises(KeyboardInterrupt):
        solver.save_checkpoint(str(target))
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pkl"]


def test_a_truncated_checkpoint_is_reported(tmp_path):
    data = small_data(np.random.default_rng(10))
    solver = Solver(small_model(), data, num_epochs=1, batch_size=20, verbose=False)
    path = tmp_path / "ckpt.pkl"
    solver.save_checkpoint(str(path))
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match="ckpt.pkl is not a readable checkpoint"):
        Solver.from_checkpoint(path, data)


# ---------------------------------------------------------------------------
# Targets from the issue
# ---------------------------------------------------------------------------


def test_three_layer_convnet_reaches_97_percent_on_digits(digits):
    start = time.perf_counter()
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=32, filter_size=3, hidden_dim=100,
                              weight_scale="he", seed=0)
    solver = Solver(model, digits, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    num_epochs=10, batch_size=50, seed=0, verbose=False)
    solver.train()
    accuracy = solver.check_accuracy(digits["X_test"], digits["y_test"])
    seconds = time.perf_counter() - start
    assert accuracy >= 0.97, f"test accuracy {accuracy:.3f} after {seconds:.1f} s"


def test_fully_connected_net_overfits_50_images(digits):
    small = {
        "X_train": digits["X_train"][:50], "y_train": digits["y_train"][:50],
        "X_val": digits["X_val"], "y_val": digits["y_val"],
    }
    model = FullyConnectedNet([100, 100], input_dim=64, num_classes=10, weight_scale="he", seed=0)
    solver = Solver(model, small, update_rule="sgd", optim_config={"learning_rate": 0.5},
                    num_epochs=20, batch_size=25, seed=0, verbose=False)
    solver.train()
    assert max(solver.train_acc_history) == 1.0, solver.train_acc_history


def test_without_a_seed_the_global_generator_repeats_the_run():
    data = small_data(np.random.default_rng(21))

    def run():
        solver = Solver(small_model(seed=2), data, update_rule="sgd", num_epochs=2, batch_size=10, verbose=False)
        solver.train()
        return solver.loss_history

    np.random.seed(231)
    first = run()
    np.random.seed(231)
    again = run()
    other = run()
    assert first == again
    assert first != other


@pytest.mark.parametrize(("seed", "error"), [(1.5, TypeError), (-1, ValueError)])
def test_a_bad_solver_seed_is_named(seed, error):
    with pytest.raises(error, match="seed must be"):
        Solver(small_model(), small_data(np.random.default_rng(0)), seed=seed, verbose=False)
