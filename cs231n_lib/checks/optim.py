"""Checks for notebook 05: the hand-written SGD loop and the update rules.

check_sgd_loop runs the student's train_by_hand on a small FullyConnectedNet
and the digits, and names the usual slips: no update, gradient ascent, batches
not drawn from the seeded generator, the same batch every time.

The update-rule checks run each rule for three steps on a 4-vector and compare
with values worked out in advance and written here as literals (computed once
with a scalar re-implementation of each formula, one element at a time). They
also hold the values some common mistakes give, so a wrong answer can be named:
Adam without bias correction, epsilon inside the square root, and so on.

The literals use large epsilons (0.1, 0.01) on purpose: with the defaults,
epsilon's placement would change the result by far less than the tolerance.
"""

import numpy as np

from cs231n_lib.checks.common import call_student, fail, max_relative_error, passed
from cs231n_lib.data import load_digits
from cs231n_lib.models import FullyConnectedNet

WHERE = "cs231n_lib/optim.py"
TOLERANCE = 1e-9  # relative; the literals carry 12 significant digits

W0 = [1.0, -2.0, 0.5, 0.0]
# The gradient of each step. The third coordinate's first gradient is 0: a
# missing epsilon then divides 0 by 0.
DWS = [[0.5, -1.5, 0.0, 2.0], [-0.3, -1.0, 0.2, 1.0], [0.4, 0.5, -0.1, 0.0]]

# For each rule: its config; w after steps 1, 2, 3; each state array after
# steps 1, 2, 3; and the w that a named mistake gives at each step, when it is
# fed the right w and state of the step before.
CASES = {
    "sgd_momentum": {
        "config": {"learning_rate": 0.1, "momentum": 0.8},
        "w": [
            [0.95, -1.85, 0.5, -0.2],
            [0.94, -1.63, 0.48, -0.46],
            [0.892, -1.504, 0.474, -0.668],
        ],
        "state": {
            "velocity": [
                [-0.05, 0.15, 0.0, -0.2],
                [-0.01, 0.22, -0.02, -0.26],
                [-0.048, 0.126, -0.006, -0.208],
            ],
        },
        "mistakes": {
        },
    },
    "nesterov_momentum": {
        "config": {"learning_rate": 0.1, "momentum": 0.8},
        "w": [
            [0.91, -1.73, 0.5, -0.36],
            [0.932, -1.454, 0.464, -0.668],
            [0.8536, -1.4032, 0.4692, -0.8344],
        ],
        "state": {
            "velocity": [
                [-0.05, 0.15, 0.0, -0.2],
                [-0.01, 0.22, -0.02, -0.26],
                [-0.048, 0.126, -0.006, -0.208],
            ],
        },
        "mistakes": {
            "plain_momentum": [
                [0.95, -1.85, 0.5, -0.2],
                [0.9, -1.51, 0.48, -0.62],
                [0.884, -1.328, 0.458, -0.876],
            ],
            "plus_v_prev": [
                [0.91, -1.73, 0.5, -0.36],
                [0.852, -1.214, 0.464, -0.988],
                [0.8376, -1.0512, 0.4372, -1.2504],
            ],
        },
    },
    "adagrad": {
        "config": {"learning_rate": 0.5, "epsilon": 0.1},
        "w": [
            [0.583333333333, -1.53125, 0.5, -0.47619047619],
            [0.802922055826, -1.26847598183, 0.166666666667, -0.690225343675],
            [0.555123369628, -1.39532617477, 0.321175163854, -0.690225343675],
        ],
        "state": {
            "cache": [
                [0.25, 2.25, 0.0, 4.0],
                [0.34, 3.25, 0.04, 5.0],
                [0.5, 3.5, 0.05, 5.0],
            ],
        },
        "mistakes": {
            "no_sqrt": [
                [0.285714285714, -1.68085106383, 0.5, -0.243902439024],
                [0.924242424242, -1.38199626866, -0.214285714286, -0.574229691877],
                [0.469588722493, -1.33792042628, 0.5, -0.690225343675],
            ],
            "eps_inside_sqrt": [
                [0.577422872636, -1.51075394521, 0.5, -0.493864798325],
                [0.809466841767, -1.25807081765, 0.232738758088, -0.697594197576],
                [0.544723166079, -1.40023755101, 0.29576611154, -0.690225343675],
            ],
            "cache_replaced": [
                [0.583333333333, -1.53125, 0.5, -0.47619047619],
                [0.958333333333, -1.07670454545, 0.166666666667, -0.930735930736],
                [0.402922055826, -1.6851426485, 0.416666666667, -0.690225343675],
            ],
        },
    },
    "rmsprop": {
        "config": {"learning_rate": 0.1, "decay_rate": 0.9, "epsilon": 0.1},
        "w": [
            [0.806287056639, -1.73883140766, 0.5, -0.273054118992],
            [0.914402024303, -1.58498525381, 0.377485177345, -0.401550340839],
            [0.785616700418, -1.66247983744, 0.437071659139, -0.401550340839],
        ],
        "state": {
            "cache": [
                [0.025, 0.225, 0.0, 0.4],
                [0.0315, 0.3025, 0.004, 0.46],
                [0.04435, 0.29725, 0.0046, 0.414],
            ],
        },
        "mistakes": {
            "no_sqrt": [
                [0.6, -1.53846153846, 0.5, -0.4],
                [1.03442393877, -1.49038420269, 0.307692307692, -0.451625547563],
                [0.637297763825, -1.71085057791, 0.4730874718, -0.401550340839],
            ],
            "eps_inside_sqrt": [
                [0.858578643763, -1.73688259421, 0.5, -0.282842712475],
                [0.88901617161, -1.58120932641, 0.437982632705, -0.406684739948],
                [0.809120637443, -1.66431536288, 0.40840479805, -0.401550340839],
            ],
            "decay_swapped": [
                [0.912943802552, -1.90151179054, 0.5, -0.100131843794],
                [0.883415083388, -1.64453347499, 0.4309718003, -0.366552610549],
                [0.831689270216, -1.66759946852, 0.428258558206, -0.401550340839],
            ],
        },
    },
    "adam": {
        "config": {"learning_rate": 0.1, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-08},
        "w": [
            [0.900000002, -1.90000000067, 0.5, -0.0999999995],
            [0.880850198942, -1.80296478862, 0.425586322904, -0.193217962791],
            [0.832488761752, -1.74777559946, 0.402722287099, -0.265275718488],
        ],
        "state": {
            "m": [
                [0.05, -0.15, 0.0, 0.2],
                [0.015, -0.235, 0.02, 0.28],
                [0.0535, -0.1615, 0.008, 0.252],
            ],
            "v": [
                [0.00025, 0.00225, 0.0, 0.004],
                [0.00033975, 0.00324775, 4e-05, 0.004996],
                [0.00049941025, 0.00349450225, 4.996e-05, 0.004991004],
            ],
        },
        "mistakes": {
            "no_bias_correction": [
                [0.683772433983, -1.68377230065, 0.5, -0.316227716017],
                [0.818621200273, -1.48764003922, 0.183772733982, -0.496138227937],
                [0.641449804373, -1.52976535731, 0.312404116037, -0.549920764371],
            ],
            "only_m_corrected": [
                [-2.16227566017, 1.1622769935, 0.5, -3.16227716017],
                [0.471690519226, 0.270315585869, -1.16435403167, -2.18493804391],
                [-0.00254609098062, -0.794848805936, 0.00793980309946, -1.50946446308],
            ],
            "only_v_corrected": [
                [0.9900000002, -1.99000000007, 0.5, -0.00999999995],
                [0.896361539419, -1.88156331038, 0.485861401352, -0.117711412525],
                [0.867744249463, -1.78800851836, 0.419390169201, -0.212745614585],
            ],
        },
    },
    "adadelta": {
        "config": {"learning_rate": 0.5, "rho": 0.9, "epsilon": 0.01},
        "w": [
            [0.866369379044, -1.84528681306, 0.5, -0.156173761889],
            [0.962776433442, -1.72014859161, 0.415484574527, -0.258685041914],
            [0.841009921885, -1.79129069128, 0.462405418059, -0.258685041914],
        ],
        "state": {
            "accum_grad": [
                [0.025, 0.225, 0.0, 0.4],
                [0.0315, 0.3025, 0.004, 0.46],
                [0.04435, 0.29725, 0.0046, 0.414],
            ],
            "accum_update": [
                [0.00714285714286, 0.00957446808511, 0.0, 0.00975609756098],
                [0.0101462994836, 0.0148808510638, 0.00285714285714, 0.0129839128179],
                [0.0150625028699, 0.0154172452954, 0.00345205479452, 0.0116855215361],
            ],
        },
        "mistakes": {
            "old_accum_grad": [
                [0.75, -1.25, 0.5, -1.0],
                [0.971347510877, -1.7009819198, 0.4, -0.26592985945],
                [0.823427518899, -1.79069056644, 0.463400316902, -0.258685041914],
            ],
        },
    },
}

# What each named mistake in CASES means, and how to fix it.
MISTAKE_HINTS = {
    "plain_momentum": (
        "your step equals plain momentum's (w + v). Nesterov's step is "
        "w - momentum * v_prev + (1 + momentum) * v, with v_prev the velocity from before this step"
    ),
    "plus_v_prev": (
        "the step adds + momentum * v_prev where the formula subtracts it: "
        "next_w = w - momentum * v_prev + (1 + momentum) * v"
    ),
    "no_sqrt": (
        "the square root is missing: divide by np.sqrt(cache) + epsilon, not by cache + epsilon. "
        "The cache holds squared gradients, so its root has the gradient's units"
    ),
    "eps_inside_sqrt": (
        "epsilon inside the square root: the formula adds it after the root, "
        "np.sqrt(cache) + epsilon (this check uses a large epsilon so the difference shows)"
    ),
    "cache_replaced": (
        "the cache was replaced instead of accumulated: Adagrad adds every squared gradient "
        "to the cache (cache + dw**2), so it remembers all earlier steps"
    ),
    "decay_swapped": (
        "decay_rate and 1 - decay_rate swapped: the old cache keeps decay_rate of itself "
        "and the new dw**2 comes in with weight 1 - decay_rate"
    ),
    "no_bias_correction": (
        "Adam without bias correction: your first step is {ratio} times the learning rate, where it "
        "should be about 1. m and v start at 0, so at t = 1 they are (1 - beta1) * dw and "
        "(1 - beta2) * dw**2, and without the correction the step is (1 - beta1) / sqrt(1 - beta2) "
        "= 0.1 / 0.0316 = 3.16 times too large. Use m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t)"
    ),
    "only_m_corrected": (
        "only m is bias-corrected: v_hat = v / (1 - beta2**t) is missing, "
        "so the denominator is far too small in the first steps"
    ),
    "only_v_corrected": (
        "only v is bias-corrected: m_hat = m / (1 - beta1**t) is missing, "
        "so the first steps are about 10 times too small"
    ),
    "old_accum_grad": (
        "dx was computed before E[g^2] was updated: first fold this step's dw**2 into "
        "E[g^2], then compute dx with the new E[g^2]"
    ),
}

# Rule-specific advice for three symptoms that need no literals.
DID_NOT_MOVE = {
    "sgd_momentum": (
        "w did not move although dw is not 0: compute the new velocity first "
        "(v = momentum * v - learning_rate * dw), then step with it, next_w = w + v"
    ),
    "nesterov_momentum": (
        "w did not move although dw is not 0: compute the new velocity v first, "
        "then next_w = w - momentum * v_prev + (1 + momentum) * v"
    ),
    "adadelta": (
        "w did not move: E[dx^2] starts at 0, so without epsilon inside the numerator "
        "sqrt(E[dx^2] + epsilon) every step is 0, forever"
    ),
}
SIGN_ADVICE = {
    "sgd_momentum": "the velocity subtracts the gradient, v = momentum * v - learning_rate * dw, and next_w = w + v",
    "nesterov_momentum": "the velocity subtracts the gradient, v = momentum * v - learning_rate * dw",
    "adagrad": "subtract: next_w = w - learning_rate * dw / (np.sqrt(cache) + epsilon)",
    "rmsprop": "subtract: next_w = w - learning_rate * dw / (np.sqrt(cache) + epsilon)",
    "adam": "subtract: next_w = w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)",
    "adadelta": "dx = -sqrt(E[dx^2] + epsilon) / sqrt(E[g^2] + epsilon) * dw, then next_w = w + learning_rate * dx",
}
EPSILON_MISSING = (
    "epsilon is missing from the denominator: where the gradient and the {state} are 0 "
    "you divide 0 by 0. Add it after the square root: {fix}"
)
EPSILON_FIX = {
    "adagrad": ("cache", "dw / (np.sqrt(cache) + epsilon)"),
    "rmsprop": ("cache", "dw / (np.sqrt(cache) + epsilon)"),
    "adam": ("second moment v", "m_hat / (np.sqrt(v_hat) + epsilon)"),
}


def _show(a):
    return np.array2string(np.asarray(a, dtype=np.float64), precision=6, separator=", ", floatmode="maxprec")


def _close(got, expected):
    return max_relative_error(got, expected) <= TOLERANCE


def _call_rule(rule, name, w, dw, config, step):
    """One step of the student's rule: (next_w, config), after checking what came back."""
    with np.errstate(all="ignore"):  # a 0 / 0 shows up as NaN below, with its cause
        result = call_student(rule, w, dw, config, name=name, where=WHERE)
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"{name}, step {step}: what the rule returns", "a pair (next_w, config)",
             type(result).__name__, "end with return next_w, config, as every update rule does")
    next_w, new_config = result
    if not isinstance(next_w, np.ndarray) or next_w.shape != w.shape:
        got = next_w.shape if isinstance(next_w, np.ndarray) else type(next_w).__name__
        fail(f"{name}, step {step}: next_w", f"an array of shape {w.shape}", got,
             "next_w is the updated copy of w, with w's shape")
    if not isinstance(new_config, dict):
        fail(f"{name}, step {step}: the returned config", "the config dict", type(new_config).__name__,
             "return the config dict you were given, with the new state stored in it")
    return next_w, new_config


def _diagnose_w(name, case, step, w_in, dw, got):
    """next_w at this step is not the expected one: say why as precisely as possible."""
    expected = np.array(case["w"][step - 1])
    what = f"{name}, step {step}: next_w"
    if not np.all(np.isfinite(got)):
        bad = ~np.isfinite(got)
        if name == "adam" and np.all(bad):
            fail(what, _show(expected), _show(got),
                 "t is incremented after the bias correction: at the first step that uses t = 0, "
                 "where 1 - beta1**0 = 0 and m / 0 is not a number. Increment t first (t = t + 1), then correct")
        if name in EPSILON_FIX and np.all(dw[bad] == 0):
            state, fix = EPSILON_FIX[name]
            fail(what, _show(expected), _show(got), EPSILON_MISSING.format(state=state, fix=fix))
        fail(what, _show(expected), _show(got),
             "next_w holds NaN or inf: look for a division by zero or a missing epsilon")
    for mistake, rows in case["mistakes"].items():
        if _close(got, rows[step - 1]):
            ratio = float(np.max(np.abs(got - w_in))) / case["config"]["learning_rate"]
            hint = MISTAKE_HINTS[mistake].format(ratio=f"{ratio:.2f}")
            fail(what, _show(expected), _show(got), "looks like " + hint)
    if _close(got, 2 * w_in - expected):
        fail(what, _show(expected), _show(got),
             "the step has the wrong sign: w moved by the right amount but uphill, along +dw; "
             + SIGN_ADVICE[name])
    if np.array_equal(got, w_in):
        fail(what, _show(expected), _show(got),
             DID_NOT_MOVE.get(name, "w did not move although dw is not 0"))
    fail(what, _show(expected), _show(got),
         f"compare your code with the formula in the docstring of {name} in {WHERE}, one line at a time; "
         f"the check starts from w = {W0}, config = {case['config']}")


def _check_state(name, case, step, config):
    for key, rows in case["state"].items():
        expected = np.array(rows[step - 1])
        where = f"{name}, step {step}: config[{key!r}]"
        stored = config.get(key)
        if stored is None or (isinstance(stored, np.ndarray) and not np.any(stored) and np.any(expected)):
            got = "no such key" if stored is None else _show(stored)
            fail(where, _show(expected), got,
                 f"the new {key} was not stored back in config: without it the next step starts from "
                 f"an empty memory. End with config[{key!r}] = _like(new value, w)")
        if not isinstance(stored, np.ndarray) or stored.shape != expected.shape or not _close(stored, expected):
            fail(where, _show(expected), _show(stored) if isinstance(stored, np.ndarray) else repr(stored),
                 f"next_w was right, but the {key} stored for the next step is not: store the updated "
                 f"value, the one next_w was computed with")
    if name == "adam":
        t = config.get("t")
        if t != step:
            hint = ("the new t was not stored back in config: end with config['t'] = t"
                    if t == step - 1 else "t counts the steps taken: add 1 to it once per call")
            fail(f"adam, step {step}: config['t']", step, repr(t), hint)


def _check_rule(rule, name):
    case = CASES[name]
    w, config = np.array(W0), dict(case["config"])
    for step, dw_list in enumerate(DWS, start=1):
        dw = np.array(dw_list)
        w_in = w.copy()
        next_w, config = _call_rule(rule, name, w_in, dw, config, step)
        if not np.array_equal(w_in, w):
            fail(f"{name}, step {step}: the w passed in", f"unchanged, {_show(w)}", _show(w_in),
                 "w was changed in place (w += ... or w -= ...): compute a new array, "
                 "next_w = w + ..., because the caller may still need the old w")
        if not _close(next_w, case["w"][step - 1]):
            _diagnose_w(name, case, step, w, dw, next_w)
        _check_state(name, case, step, config)
        w = np.array(case["w"][step - 1])
    passed(f"{name} matches three steps worked out in advance, and keeps its state in config.")


def check_sgd_momentum(rule):
    """Check sgd_momentum(w, dw, config) on three steps: next_w, config['velocity']."""
    _check_rule(rule, "sgd_momentum")


def check_nesterov_momentum(rule):
    """Check nesterov_momentum(w, dw, config) on three steps: next_w, config['velocity']."""
    _check_rule(rule, "nesterov_momentum")


def check_adagrad(rule):
    """Check adagrad(w, dw, config) on three steps: next_w, config['cache']."""
    _check_rule(rule, "adagrad")


def check_rmsprop(rule):
    """Check rmsprop(w, dw, config) on three steps: next_w, config['cache']."""
    _check_rule(rule, "rmsprop")


def check_adam(rule):
    """Check adam(w, dw, config) on three steps: next_w, config['m'], config['v'], config['t']."""
    _check_rule(rule, "adam")


def check_adadelta(rule):
    """Check adadelta(w, dw, config) on three steps: next_w and both running averages."""
    _check_rule(rule, "adadelta")


def check_keeps_dtype(rule):
    """A float32 w with a float64 dw: next_w and every state array must stay float32."""
    name = getattr(rule, "__name__", "the rule")
    w = np.array(W0, dtype=np.float32)
    config = {}
    for step, dw_list in enumerate(DWS[:2], start=1):
        next_w, config = _call_rule(rule, name, w.copy(), np.array(dw_list), config, step)
        arrays = [("next_w", next_w)] + [(f"config[{k!r}]", v) for k, v in config.items() if isinstance(v, np.ndarray)]
        for what, array in arrays:
            if array.dtype != np.float32:
                fail(f"{name}, step {step}: {what} dtype", "float32, like w", str(array.dtype),
                     "a float64 gradient upcast it: store state as _like(value, w), "
                     "so a float32 model stays float32")
        w = next_w
    passed(f"{name} keeps a float32 w and its state in float32.")


# ---------------------------------------------------------------------------
# The hand-written SGD loop
# ---------------------------------------------------------------------------

LOOP_ITERS = 60
LOOP_SETTINGS = {"batch_size": 50, "learning_rate": 0.1}


def _loop_run(train_by_hand, X, y, seed):
    model = FullyConnectedNet([32], input_dim=64, weight_scale="he", dtype=np.float64, seed=0)
    before = {name: w.copy() for name, w in model.params.items()}
    with np.errstate(all="ignore"):
        history = call_student(train_by_hand, model, X, y, num_iters=LOOP_ITERS, seed=seed,
                               name="train_by_hand", where="the train_by_hand cell (the loop body)",
                               **LOOP_SETTINGS)
    if history is None or not hasattr(history, "__len__") or len(history) != LOOP_ITERS:
        got = "None" if history is None else (f"{len(history)} values" if hasattr(history, "__len__")
                                              else type(history).__name__)
        fail("the loss history train_by_hand returns", f"{LOOP_ITERS} numbers, one loss per iteration", got,
             "append each iteration's loss to loss_history inside the loop")
    losses = np.array([float(value) for value in history])
    return model, before, losses


def check_sgd_loop(train_by_hand, data=None):
    """Run the student's train_by_hand on a small FullyConnectedNet and digits.

    Checks: one loss per iteration; every parameter changed; the loss went
    down; the same seed gives the same run; another seed gives another run.
    """
    if data is None:
        data = load_digits(dtype=np.float64)
    X, y = data["X_train"], data["y_train"]
    model, before, losses = _loop_run(train_by_hand, X, y, seed=0)

    unchanged = [name for name, w in model.params.items() if np.array_equal(w, before[name])]
    if len(unchanged) == len(model.params):
        fail("model.params after training", "new values", "the initial values, unchanged",
             "looks like you forgot the update: assign the new array back, "
             "model.params[name] = model.params[name] - learning_rate * grads[name] "
             "(w = w - ... only renames a local variable)")
    if unchanged:
        fail("model.params after training", "every parameter changed",
             f"{', '.join(unchanged)} did not change",
             "update every parameter: loop over model.params (weights and biases)")

    first, last = float(np.mean(losses[:10])), float(np.mean(losses[-10:]))
    what = "mean loss of the first 10 and the last 10 iterations"
    if not np.isfinite(last) or last >= first:
        fail(what, "going down", f"{first:.3f} -> {last:.3f}",
             "looks like gradient ascent: the gradient points uphill, so subtract it, "
             "w - learning_rate * dw, not w + learning_rate * dw")
    if last > 0.8 * first:
        fail(what, f"a drop of more than 20% from {first:.3f}", f"{first:.3f} -> {last:.3f}",
             f"one step per iteration with learning_rate {LOOP_SETTINGS['learning_rate']}: "
             "use the learning_rate argument and update every iteration")

    _, _, again = _loop_run(train_by_hand, X, y, seed=0)
    if not np.array_equal(losses, again):
        fail("two runs with seed=0", "the same losses", "different losses",
             "the batches are not reproducible: draw them with the generator made from seed, "
             "rng = np.random.default_rng(seed) before the loop, then rng.choice(...), "
             "not np.random.choice or an unseeded generator")
    _, _, other = _loop_run(train_by_hand, X, y, seed=1)
    if np.array_equal(losses, other):
        fail("runs with seed=0 and seed=1", "different batches, so different losses", "the same losses",
             "no sampling: every iteration uses the same data. Draw a new random batch each "
             "iteration, batch = rng.choice(len(X), size=batch_size, replace=False)")
    passed(f"the loss fell from {first:.2f} to {last:.2f} (mean of the first and last 10 batches), "
           "every parameter moved, and the same seed gives the same run.")
