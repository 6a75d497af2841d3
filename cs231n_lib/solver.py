"""The Solver: mini-batch training of any model with the library's model API.

The lecture's loop, as code:

    for each iteration:
        sample a mini-batch of training data
        forward it through the model, get the loss
        backprop to get the gradients
        update every parameter with the update rule

Usage:

    solver = Solver(model, data, update_rule="adam",
                    optim_config={"learning_rate": 1e-3},
                    num_epochs=10, batch_size=50, seed=0)
    solver.train()
    solver.check_accuracy(data["X_test"], data["y_test"])

``data`` holds X_train, y_train, X_val, y_val. ``model.params`` ends as the
parameters with the best validation accuracy. Histories are kept in
``loss_history`` (per iteration), ``train_acc_history`` and
``val_acc_history`` (at the first iteration, each epoch's end and the last).

With ``checkpoint_name`` set, the state is saved at each epoch's end to
``{checkpoint_name}_epoch_{epoch}.pkl``, atomically (written to a temporary
file, then renamed, so a kill mid-write leaves the previous file intact).
``Solver.from_checkpoint`` resumes from one and continues exactly as the
uninterrupted run would have.
"""

import difflib
import os
import pickle
import tempfile

import numpy as np
from tqdm.auto import tqdm

from cs231n_lib.optim import get_update_rule
from cs231n_lib.randomness import require_seed

DEFAULTS = {
    "update_rule": "sgd",
    "optim_config": None,
    "lr_decay": 1.0,
    "batch_size": 100,
    "num_epochs": 10,
    "num_train_samples": 1000,
    "num_val_samples": None,
    "seed": None,
    "verbose": True,
    "print_every": 10,
    "checkpoint_name": None,
}
DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
CHECKPOINT_VERSION = 1


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: training stopped before it could spoil the model."""


def _check_options(kwargs):
    unknown = sorted(set(kwargs) - set(DEFAULTS))
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, DEFAULTS, n=1)
            hints.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ValueError(
            f"unknown Solver option {', '.join(hints)}; the options are: {', '.join(DEFAULTS)}"
        )
    options = {**DEFAULTS, **kwargs}
    for name in ("batch_size", "num_epochs", "print_every"):
        value = options[name]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    for name in ("num_train_samples", "num_val_samples"):
        value = options[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be None (all) or a whole number >= 1, got {value!r}")
    if not 0 < options["lr_decay"] <= 1:
        raise ValueError(f"lr_decay must be in (0, 1], got {options['lr_decay']}: it multiplies the learning rate each epoch")
    if options["optim_config"] is not None and not isinstance(options["optim_config"], dict):
        raise TypeError(f"optim_config must be a dict such as {{'learning_rate': 1e-3}}, got {options['optim_config']!r}")
    return options


def _check_data(data):
    if not isinstance(data, dict):
        raise TypeError(f"data must be a dict with keys {', '.join(DATA_KEYS)}, got {type(data).__name__}")
    missing = [k for k in DATA_KEYS if k not in data]
    if missing:
        raise ValueError(f"data is missing {', '.join(missing)}; it needs {', '.join(DATA_KEYS)}")
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        if len(X) != len(y):
            raise ValueError(f"X_{split} has {len(X)} samples but y_{split} has {len(y)} labels")
        if len(X) == 0:
            raise ValueError(f"X_{split} is empty")


def _solver_seed(seed):
    """The seed of the Solver's generators; with None, one draw from numpy's global generator.

    The generators stay private (a checkpoint stores their state), and
    np.random.seed before building the Solver still repeats the run.
    """
    seed = require_seed("seed", seed)
    return int(np.random.randint(0, 2**31)) if seed is None else seed


class Solver:
    """Trains ``model`` on ``data`` with mini-batch gradient descent.

    Inputs:
    - model: an object with ``params`` (dict name -> array) and
      ``loss(X) -> scores``, ``loss(X, y) -> (loss, grads)``
    - data: dict with X_train (N, ...), y_train (N,), X_val, y_val
    Options (keyword arguments; anything else is a ValueError):
    - update_rule: a name from cs231n_lib.optim ('sgd', 'adam', ...) or a
      function with the contract next_w, config = rule(w, dw, config)
    - optim_config: hyperparameters for the rule, e.g. {'learning_rate': 1e-3};
      each parameter gets its own copy (its own state)
    - lr_decay: the learning rate is multiplied by this after each epoch
    - batch_size: images per mini-batch
    - num_epochs: passes over the training data (iterations per epoch =
      N_train // batch_size)
    - num_train_samples, num_val_samples: how many samples the accuracy
      checks use (None: all)
    - seed: seeds the batch sampling, so runs are repeatable; None draws that
      seed from numpy's global generator (see cs231n_lib.randomness)
    - verbose: a progress bar (a widget in Jupyter, text in a terminal) and a
      line per epoch; False prints nothing
    - print_every: the bar shows the loss every this many iterations
    - checkpoint_name: if set, save a checkpoint at each epoch's end
    """

    def __init__(self, model, data, **kwargs):
        options = _check_options(kwargs)
        _check_data(data)
        if not hasattr(model, "params") or not callable(getattr(model, "loss", None)):
            raise TypeError("model must have a params dict and a loss(X, y=None) method")
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.options = options
        for name, value in options.items():
            setattr(self, name, value)
        self.update_rule = get_update_rule(options["update_rule"])
        self.optim_config = dict(options["optim_config"] or {})
        # One generator for batches, one for the accuracy checks' subsamples,
        # so checking accuracy never changes which batches training sees.
        seeds = np.random.SeedSequence(_solver_seed(options["seed"])).spawn(2)
        self.batch_rng = np.random.default_rng(seeds[0])
        self.check_rng = np.random.default_rng(seeds[1])
        self._reset()

    def _reset(self):
        self.epoch = 0
        self.iteration = 0
        self.best_val_acc = 0.0
        self.best_params = {k: v.copy() for k, v in self.model.params.items()}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    @property
    def iterations_per_epoch(self):
        return max(len(self.X_train) // self.batch_size, 1)

    def _step(self):
        """One mini-batch: forward, backward, update every parameter."""
        num_train = len(self.X_train)
        batch = self.batch_rng.choice(num_train, size=min(self.batch_size, num_train), replace=False)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        if not np.isfinite(loss):
            rates = sorted({c.get("learning_rate") for c in self.optim_configs.values()} - {None})
            rate = f"learning_rate {rates[0]:g}" if len(rates) == 1 else f"learning rates {rates}"
            raise TrainingDiverged(
                f"the loss became {loss} at iteration {self.iteration + 1} (epoch {self.epoch + 1}) "
                f"with {rate}: training diverged and was stopped. Lower the learning rate "
                "(e.g. by 10x) or the weight scale, and train again."
            )
        self.loss_history.append(float(loss))
        for name, w in self.model.params.items():
            self.model.params[name], self.optim_configs[name] = self.update_rule(
                w, grads[name], self.optim_configs[name]
            )

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of X classified as y, on a random subsample of num_samples if given.

        Inputs:
        - X: (N, ...) inputs, y: (N,) labels
        - num_samples: check on this many random samples (None: all)
        - batch_size: score this many at a time, to bound memory
        Returns the accuracy, a float in [0, 1].
        """
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels")
        if num_samples is not None and num_samples < len(X):
            keep = self.check_rng.choice(len(X), num_samples, replace=False)
            X, y = X[keep], y[keep]
        predictions = np.concatenate([
            np.argmax(self.model.loss(X[start:start + batch_size]), axis=1)
            for start in range(0, len(X), batch_size)
        ])
        return float(np.mean(predictions == y))

    def _record_accuracies(self):
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}
        return train_acc, val_acc

    def train(self):
        """Run the remaining iterations, then keep the best parameters in model.params."""
        total = self.num_epochs * self.iterations_per_epoch
        # A diverging run overflows before its loss is NaN; the check in _step
        # explains that better than numpy's overflow warnings would.
        with tqdm(total=total, initial=self.iteration, disable=not self.verbose,
                  desc="training", unit="it", leave=True) as bar, np.errstate(over="ignore", invalid="ignore"):
            while self.iteration < total:
                self._step()
                self.iteration += 1
                bar.update(1)
                if self.iteration % self.print_every == 0:
                    bar.set_postfix(loss=f"{self.loss_history[-1]:.4f}", refresh=False)
                epoch_end = self.iteration % self.iterations_per_epoch == 0
                if epoch_end:
                    self.epoch += 1
                    for config in self.optim_configs.values():
                        if "learning_rate" in config:
                            config["learning_rate"] *= self.lr_decay
                if self.iteration == 1 or epoch_end or self.iteration == total:
                    train_acc, val_acc = self._record_accuracies()
                    if self.verbose:
                        bar.write(
                            f"epoch {self.epoch}/{self.num_epochs}: loss {self.loss_history[-1]:.4f}, "
                            f"train acc {train_acc:.3f}, val acc {val_acc:.3f}"
                        )
                    if epoch_end and self.checkpoint_name:
                        self.save_checkpoint()
        self.model.params = {k: v.copy() for k, v in self.best_params.items()}
        return self

    # -- checkpoints ---------------------------------------------------------

    def _state(self):
        return {
            "version": CHECKPOINT_VERSION,
            "model": self.model,
            "options": self.options,
            "optim_configs": self.optim_configs,
            "epoch": self.epoch,
            "iteration": self.iteration,
            "num_train": len(self.X_train),
            "batch_rng": self.batch_rng.bit_generator.state,
            "check_rng": self.check_rng.bit_generator.state,
            "best_val_acc": self.best_val_acc,
            "best_params": self.best_params,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }

    def save_checkpoint(self, filename=None):
        """Save everything needed to resume, atomically. Returns the file name.

        The default name is '{checkpoint_name}_epoch_{epoch}.pkl'. The file is
        written next to its destination under a temporary name and renamed
        into place only when complete.
        """
        filename = filename or f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        folder = os.path.dirname(os.path.abspath(filename))
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".checkpoint-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as f:
                pickle.dump(self._state(), f, protocol=pickle.HIGHEST_PROTOCOL)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, filename)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        return filename

    @classmethod
    def from_checkpoint(cls, filename, data, **overrides):
        """A Solver that continues from a checkpoint written by save_checkpoint.

        ``data`` must be the same data the run started with; ``overrides``
        may change options, e.g. num_epochs=20 to train for longer or
        verbose=False. Only load checkpoints you wrote yourself: unpickling a
        file can run code.
        """
        try:
            with open(filename, "rb") as f:
                state = pickle.load(f)
        except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as err:
            raise ValueError(f"{filename} is not a readable checkpoint ({err}); it may be truncated") from err
        if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"{filename} is not a checkpoint of this Solver (version {CHECKPOINT_VERSION})")
        options = {**state["options"], **overrides}
        solver = cls(state["model"], data, **options)
        if len(solver.X_train) != state["num_train"]:
            raise ValueError(
                f"the checkpoint was trained on {state['num_train']} samples but X_train has "
                f"{len(solver.X_train)}: resume with the same data"
            )
        solver.optim_configs = state["optim_configs"]
        solver.epoch, solver.iteration = state["epoch"], state["iteration"]
        solver.batch_rng.bit_generator.state = state["batch_rng"]
        solver.check_rng.bit_generator.state = state["check_rng"]
        solver.best_val_acc, solver.best_params = state["best_val_acc"], state["best_params"]
        solver.loss_history = state["loss_history"]
        solver.train_acc_history = state["train_acc_history"]
        solver.val_acc_history = state["val_acc_history"]
        return solver
