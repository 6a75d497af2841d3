"""Checks for notebook 06: inverted dropout and the two conventions for p.

Dropout is random, so no output of forward can be compared with a fixed
expected array (two correct implementations may draw their masks
differently). The forward check works on a large seeded input with no zeros
and measures what any correct mask must give: the fraction of units dropped
is close to p, every kept unit is exactly x / (1 - p), the mean is
preserved, the cached mask is out / x, the same seed (or generator) gives the
same mask, and test mode is the identity.

Backward draws nothing, so its check uses worked cases: a fixed dout and a
fixed cached mask for p = 0.3 and p = 0.5 (in float64, and cast to float32),
with the literal dx a correct backward returns and the literal dx of each
named mistake on the same inputs (BACKWARD_CASES, proven in
tests/test_checks_dropout.py). It then runs backward after the student's own
forward and checks that backward is the transpose of forward: zeros exactly
where out is 0, and sum(dx * x) = sum(dout * out).

Both checks first make sure the student's functions leave their inputs alone
(x in forward; dout and the cache's mask in backward): each is copied before
the call and compared after it, before any value is looked at.

Named diagnoses: x or dout changed in place; dropout scaled at test time
instead of train time (also vanilla dropout's test-mode output in train mode);
p used as the keep probability; the mask not applied in backward; the scale
applied twice in backward; dividing by the mask; dout forgotten; a new mask
drawn in backward; numpy's global generator used; the cache holding the mask
without its scale; a float32 input (forward) or dout (backward) turned into
float64; the seed or rng ignored.

The conventions exercise holds no answer: its right values, and the named
wrong ones, are stored as salted hashes (see _digest), proven in
tests/test_checks_dropout.py.
"""

import hashlib
import numbers

import numpy as np

from cs231n_lib.checks.common import (
    DROPPED_FRACTION,
    LAYERS_FILE,
    ROUNDING,
    call_student,
    close_elementwise,
    fail,
    passed,
    require_answered,
    require_shape,
)

WHERE = LAYERS_FILE

# The conventions exercise: the lecture's code keeps a unit with probability 0.8, in a layer
# of 500 hidden units (the question's data, not its answers).
LECTURE_KEEP = 0.8
HIDDEN_UNITS = 500
SALT = "cs231n-06-dropout-conventions"
DIGITS = 3  # answers are compared after rounding to 3 decimals

GLOBAL_HINT = (
    "looks like numpy's global generator is used (np.random.rand, np.random.binomial, "
    "np.random.seed, ...). Draw the mask from `rng`, the generator dropout_forward builds "
    "from dropout_param's 'seed' or 'rng'; the library never touches numpy's global "
    "generator, so that a model's seed alone fixes its training run."
)
TEST_TIME_HINT = (
    "looks like dropout is scaled at test time instead of train time ('vanilla' dropout). "
    "Inverted dropout divides the kept units by 1 - p during training, so that test mode "
    "can return x unchanged."
)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _positive_input(shape, seed):
    """Values in [0.5, 1.5): no zeros, so out == 0 means 'dropped' and out / x is the scale."""
    return 0.5 + np.random.default_rng(seed).random(shape)


def _same_global_state(before, after):
    return (before[0] == after[0] and np.array_equal(before[1], after[1])
            and tuple(before[2:]) == tuple(after[2:]))


def _watching_global_generator(function, *args, name):
    """Call the student's function; return (result, whether numpy's global generator moved).

    The global generator is put back as it was, so the check itself changes nothing.
    """
    before = np.random.get_state()
    try:
        result = call_student(function, *args, name=name, where=WHERE)
        moved = not _same_global_state(before, np.random.get_state())
    finally:
        np.random.set_state(before)
    return result, moved


def _forward(dropout_forward, x, param):
    """(out, mask, moved) from the student's forward, with the cache unpacked and its shape checked.

    x is copied before the call and compared after it: an x changed in place is named first.
    """
    x_before = x.copy()
    result, moved = _watching_global_generator(dropout_forward, x, param, name="dropout_forward")
    if not np.array_equal(x, x_before):
        fail(f"x after dropout_forward in {param['mode']} mode", "left unchanged",
             f"{int(np.sum(x != x_before))} entries changed: dropout_forward modified x in place",
             "an in-place operation (x *= ..., x[...] = ...) overwrites the caller's array, "
             "which the previous layer's cache may still hold. Build out as a new array and "
             "leave x as it was given.")
    if not (isinstance(result, tuple) and len(result) == 2):
        fail("dropout_forward's return value", "a pair (out, cache)", type(result).__name__,
             "end with `return out, (dropout_param, mask)`, as the skeleton does.")
    out, cache = result
    require_shape(out, x.shape, f"dropout_forward's out in {param['mode']} mode",
                  "out has the shape of x: dropout acts on each unit separately.")
    if not (isinstance(cache, tuple) and len(cache) == 2):
        fail("dropout_forward's cache", "a pair (dropout_param, mask)", repr(type(cache).__name__),
             "keep the skeleton's `return out, (dropout_param, mask)`.")
    mask = np.asarray(cache[1])
    require_shape(mask, x.shape, "the mask in dropout_forward's cache",
                  "the mask has one entry per unit: draw one random number for every entry of x.")
    return out, mask, moved


def _check_global(moved, name):
    if moved:
        fail(f"{name}: numpy's global generator", "left untouched",
             "its state changed (np.random.get_state() differs after the call)", GLOBAL_HINT)


# ---------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------


def _check_not_test_time_output(out, x, p):
    """Train mode returning x * (1 - p) everywhere: vanilla dropout's test-mode output."""
    if np.any(out == 0) or not close_elementwise(out / x, np.full(x.shape, 1 - p), ROUNDING):
        return
    fail(f"dropout_forward in train mode with p = {p}", f"about {p:.0%} of the units set to 0",
         "no zeros, and every unit equal to x * (1 - p)",
         "that is vanilla dropout's test mode output (scaled at test time by the keep "
         "probability), returned in train mode. In train mode drop each unit with probability "
         "p and divide the kept ones by 1 - p; test mode returns x unchanged.")


def _check_fraction_dropped(out, p):
    frac = float(np.mean(out == 0))
    if abs(frac - p) <= DROPPED_FRACTION:
        return frac
    what = f"fraction of units dropped in train mode with p = {p}"
    if abs(frac - (1 - p)) <= DROPPED_FRACTION:
        fail(what, f"about p = {p}", f"{frac:.3f}, close to 1 - p = {1 - p:.1f}",
             "looks like p is used as the keep probability (the lecture's convention). In this "
             "library, as in torch.nn.Dropout, p is the probability of DROPPING a unit, so a "
             "unit must survive with probability 1 - p: choose the comparison of each uniform "
             "draw with p that is true with that probability.")
    if frac == 0:
        fail(what, f"about p = {p}", "0 (nothing was dropped)",
             "in train mode every unit is zeroed with probability p: the output must be x "
             "multiplied by a mask that is 0 for the dropped units.")
    fail(what, f"about p = {p}", f"{frac:.3f}",
         "each unit gets one uniform draw in [0, 1); compare it with p so that, on average, "
         "a fraction p of the units becomes 0.")


def _check_kept_scale(out, x, p):
    kept = out != 0
    ratio = out[kept] / x[kept]
    expected = 1 / (1 - p)
    if close_elementwise(ratio, np.full(ratio.shape, expected), ROUNDING):
        return
    what = f"kept units divided by x in train mode with p = {p}"
    low, high = float(ratio.min()), float(ratio.max())
    got = f"{low:.4f}" if close_elementwise(low, high, ROUNDING) else f"values from {low:.4f} to {high:.4f}"
    if close_elementwise(ratio, np.full(ratio.shape, 1.0), ROUNDING):
        fail(what, f"1 / (1 - p) = {expected:.4f}", "1: kept units equal x, not rescaled", TEST_TIME_HINT)
    if close_elementwise(ratio, np.full(ratio.shape, 1 / p), ROUNDING):
        fail(what, f"1 / (1 - p) = {expected:.4f}", f"1 / p = {1 / p:.4f}",
             "divide the kept units by the probability of KEEPING them, 1 - p, not by p.")
    if close_elementwise(ratio, np.full(ratio.shape, 1 - p), ROUNDING):
        fail(what, f"1 / (1 - p) = {expected:.4f}", f"1 - p = {1 - p:.4f}",
             "divide the kept units by 1 - p rather than multiplying by it.")
    fail(what, f"1 / (1 - p) = {expected:.4f} for every kept unit", got,
         "every kept unit is divided by the probability of keeping it; one mask that holds "
         "both the zeros and that scale, multiplied into x, gives the whole output.")


def _check_mean(out, x, p):
    ratio = float(out.mean() / x.mean())
    if abs(ratio - 1) > 2 * DROPPED_FRACTION:
        fail(f"mean of out over mean of x in train mode with p = {p}", "about 1 (the mean is kept)",
             f"{ratio:.3f}",
             "with a fraction p dropped and the rest divided by 1 - p, E[out] = x.")


def _check_cache_mask(out, x, mask, p):
    """The cached mask must be the array that turned x into out: out / x, unit by unit (x has no zeros)."""
    made = out / x
    if close_elementwise(mask, made, ROUNDING):
        return
    what = "the mask in dropout_forward's cache"
    expected = "out / x, unit by unit (the array that multiplied x)"
    if close_elementwise(mask, made * (1 - p), ROUNDING):
        fail(what, expected, "out / x times (1 - p): the mask in the cache has 0s and 1s",
             "store the scaled mask (the zeros and the 1 / (1 - p) together), the very array "
             "that multiplies x: backward reuses the cached mask as its local derivative and "
             "would otherwise miss the scale.")
    fail(what, expected, "something else",
         "the cache must hold the very mask that made out, so that backward can reuse it.")


def _check_reproducible(dropout_forward, x, p, out_seed0):
    what = f"dropout_forward(x, {{'p': {p}, 'mode': 'train', 'seed': 0}}) run twice"
    again, _, _ = _forward(dropout_forward, x, {"p": p, "mode": "train", "seed": 0})
    if not np.array_equal(again, out_seed0):
        fail(what, "the same output twice", "two different outputs",
             "draw the mask from `rng` (built from dropout_param's seed), not from a new "
             "unseeded generator, so that the same seed gives the same mask.")
    other, _, _ = _forward(dropout_forward, x, {"p": p, "mode": "train", "seed": 1})
    if np.array_equal(other, out_seed0):
        fail("dropout_forward with seeds 0 and 1", "two different masks", "the same mask",
             "the mask must be random: a fresh draw from `rng` on each call, rather than a "
             "fixed pattern or a generator with a fixed seed.")


def _check_uses_rng(dropout_forward, x, p):
    generator = np.random.default_rng(7)
    first, _, _ = _forward(dropout_forward, x, {"p": p, "mode": "train", "rng": generator})
    twin, _, _ = _forward(dropout_forward, x, {"p": p, "mode": "train", "rng": np.random.default_rng(7)})
    if not np.array_equal(first, twin):
        fail("dropout_forward given two generators in the same state (dropout_param['rng'])",
             "the same output", "different outputs",
             "draw the mask from `rng`, which dropout_forward takes from dropout_param['rng'] "
             "when there is one: FullyConnectedNet passes its own generator this way.")
    second, _, _ = _forward(dropout_forward, x, {"p": p, "mode": "train", "rng": generator})
    if np.array_equal(first, second):
        fail("two calls with the same generator (dropout_param['rng'])",
             "two different masks (the generator moves on)", "the same mask twice",
             "each training step needs a new mask: draw it from the generator itself, not "
             "from a copy of it, so that the generator moves on.")


def _check_dtype(dropout_forward, p):
    x32 = _positive_input((40, 50), seed=5).astype(np.float32)
    out, _, _ = _forward(dropout_forward, x32, {"p": p, "mode": "train", "seed": 2})
    if out.dtype != np.float32:
        fail("dtype of out for a float32 x", "float32", str(out.dtype),
             "keep the caller's dtype: a boolean array divided by a Python float is float64, "
             "so convert the mask to x's dtype before multiplying.")


def _check_p_zero(dropout_forward, x):
    out, _, _ = _forward(dropout_forward, x, {"p": 0.0, "mode": "train", "seed": 3})
    if not close_elementwise(out, x, ROUNDING):
        fail("dropout_forward with p = 0 in train mode", "out equal to x (nothing dropped, scale 1)",
             f"{int(np.sum(out == 0))} zeros and a relative difference from x",
             "with p = 0 every unit is kept and divided by 1 - 0 = 1.")


def _check_test_mode(dropout_forward, x, p):
    out, _, _ = _forward(dropout_forward, x, {"p": p, "mode": "test"})
    if np.array_equal(out, x):
        return
    what = f"dropout_forward in test mode with p = {p}"
    if close_elementwise(out / x, np.full(x.shape, 1 - p), ROUNDING):
        fail(what, "out equal to x", "x * (1 - p)", TEST_TIME_HINT)
    if np.any(out == 0):
        fail(what, "out equal to x", f"{int(np.sum(out == 0))} units set to 0",
             "nothing is dropped at test time: every unit takes part.")
    fail(what, "out equal to x", "something else", "test mode returns x unchanged.")


def check_dropout_forward(dropout_forward, p=0.3):
    """Check inverted dropout's forward pass statistically and exactly; p must not be 0.5.

    (At p = 0.5, p and 1 - p are the same number and the keep/drop mix-up
    would go unnoticed.)
    """
    if not (0 < p < 1 and abs(p - 0.5) > 0.05):
        raise ValueError(f"check with 0 < p < 1 away from 0.5, got p = {p}")
    x = _positive_input((400, 500), seed=101)  # not 0: x must not share the mask's stream
    out, mask, moved = _forward(dropout_forward, x, {"p": p, "mode": "train", "seed": 0})
    if out.dtype != x.dtype:
        fail("dtype of out for a float64 x", "float64", str(out.dtype), "keep the caller's dtype.")
    _check_not_test_time_output(out, x, p)
    _check_fraction_dropped(out, p)
    _check_kept_scale(out, x, p)
    _check_mean(out, x, p)
    _check_cache_mask(out, x, mask, p)
    _check_global(moved, "dropout_forward")
    _check_reproducible(dropout_forward, x, p, out)
    _check_uses_rng(dropout_forward, x, p)
    _check_p_zero(dropout_forward, x[:20])
    _check_dtype(dropout_forward, p)
    _check_test_mode(dropout_forward, x, p)
    passed(f"dropout_forward with p = {p} drops about {p:.0%} of the units, divides the kept ones "
           f"by 1 - p = {1 - p:.1f} (so the mean stays the same), draws its mask from the given "
           "seed or generator only, and returns x unchanged in test mode.")


# ---------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------

CHAIN_RULE = ("Forward multiplied each unit of x by its entry of the cached mask, so that entry is "
              "the local derivative of the unit's output with respect to its input; the chain rule "
              "combines it with the upstream gradient of the same unit")

# Worked cases of the backward check, one per p: a fixed upstream gradient dout and a fixed cached
# mask (what forward caches: 0 for a dropped unit, 1 / (1 - p) for a kept one), the dx a correct
# backward returns on them, and the dx each named mistake returns on the same inputs. All literals,
# proven in tests/test_checks_dropout.py; the float32 case is the same inputs cast to float32.
_DOUT_P30 = ((0.8, -1.2, 0.5, 2.0),
             (-0.3, 1.1, -0.7, 0.4),
             (1.5, -0.9, 0.6, -2.2))
_MASK_P30 = ((1.42857142857, 0.0, 1.42857142857, 1.42857142857),
             (1.42857142857, 1.42857142857, 0.0, 1.42857142857),
             (0.0, 1.42857142857, 1.42857142857, 0.0))
_DOUT_P50 = ((0.7, -1.4, 0.3, 1.9, -0.6),
             (-1.1, 0.5, 2.3, -0.8, 1.2))
_MASK_P50 = ((2.0, 0.0, 0.0, 2.0, 2.0),
             (0.0, 2.0, 2.0, 0.0, 0.0))

BACKWARD_CASES = {
    0.3: {
        "dout": _DOUT_P30,
        "mask": _MASK_P30,
        "dx": ((1.14285714286, 0.0, 0.714285714286, 2.85714285714),
               (-0.428571428571, 1.57142857143, 0.0, 0.571428571429),
               (0.0, -1.28571428571, 0.857142857143, 0.0)),
        "mistakes": {
            "mask_not_applied": _DOUT_P30,
            "dout_forgotten": _MASK_P30,
            "no_scale": ((0.8, 0.0, 0.5, 2.0),
                         (-0.3, 1.1, 0.0, 0.4),
                         (0.0, -0.9, 0.6, 0.0)),
            "scaled_twice": ((1.63265306122, 0.0, 1.02040816327, 4.08163265306),
                             (-0.612244897959, 2.24489795918, 0.0, 0.816326530612),
                             (0.0, -1.83673469388, 1.22448979592, 0.0)),
        },
    },
    0.5: {
        "dout": _DOUT_P50,
        "mask": _MASK_P50,
        "dx": ((1.4, 0.0, 0.0, 3.8, -1.2),
               (0.0, 1.0, 4.6, 0.0, 0.0)),
        "mistakes": {
            "mask_not_applied": _DOUT_P50,
            "dout_forgotten": _MASK_P50,
            "no_scale": ((0.7, 0.0, 0.0, 1.9, -0.6),
                         (0.0, 0.5, 2.3, 0.0, 0.0)),
            "scaled_twice": ((2.8, 0.0, 0.0, 7.6, -2.4),
                             (0.0, 2.0, 9.2, 0.0, 0.0)),
        },
    },
}

# What each named mistake's dx looks like (the 'got' of the message) and its hint, in the order tried.
BACKWARD_MISTAKES = {
    "mask_not_applied": (
        "dout itself",
        "looks like the mask is not applied in backward: the dropped units had no effect on the "
        "loss, so their gradient is 0, and the kept ones were divided by 1 - p. " + CHAIN_RULE + "."),
    "dout_forgotten": (
        "the mask itself",
        "looks like dout was forgotten: the mask is only the local derivative; the chain rule "
        "combines it with the upstream gradient dout."),
    "no_scale": (
        "the right zeros without the 1 / (1 - p)",
        "the kept units were divided by 1 - p in forward, so their gradient is too: the cached "
        "mask already holds that scale."),
    "scaled_twice": (
        "the kept units' gradients divided by 1 - p once more",
        "the scale is applied twice: the cached mask already holds the 1 / (1 - p) of inverted "
        "dropout, so backward needs no further scaling. " + CHAIN_RULE + "."),
}

NEW_MASK_HINT = ("looks like a new mask is drawn in backward, so backward is not consistent with "
                 "forward. Backward must reuse the mask forward used, from the cache, and draw "
                 "nothing.")


def _backward(dropout_backward, dout, cache):
    """(dx, moved) from the student's backward; dout and the cache's mask must come back unchanged.

    Both are copied before the call and compared after it, before any value is looked at.
    """
    dout_before = dout.copy()
    mask_before = np.array(cache[1], copy=True)
    dx, moved = _watching_global_generator(dropout_backward, dout, cache, name="dropout_backward")
    if not np.array_equal(dout, dout_before):
        fail("dout after dropout_backward", "left unchanged",
             f"{int(np.sum(dout != dout_before))} entries changed: dropout_backward modified dout in place",
             "an in-place operation (dout *= ..., dout[...] = ...) overwrites the upstream "
             "gradient, which the caller may still use. Build dx as a new array.")
    if not np.array_equal(np.asarray(cache[1]), mask_before):
        fail("the mask in the cache after dropout_backward", "left unchanged",
             "changed: dropout_backward modified the cache in place",
             "backward reads the cache and must not write into it (a second backward through "
             "the same cache would see another mask). Build dx as a new array.")
    return dx, moved


def _worked_case(dropout_backward, p, dtype):
    """Run the student's backward on the worked case for p in dtype: (dx, the case, moved)."""
    case = BACKWARD_CASES[p]
    dout = np.array(case["dout"], dtype=dtype)
    mask = np.array(case["mask"], dtype=dtype)
    param = {"p": p, "mode": "train", "rng": np.random.default_rng(12)}
    dx, moved = _backward(dropout_backward, dout, (param, mask))
    return dx, case, moved


def _diagnose_worked_case(dx, case, p, what):
    """Compare dx with the worked case's literal dx; name a mistake from its literal output on the same inputs."""
    shape = np.shape(case["dout"])
    require_shape(dx, shape, what, "dx has the shape of dout: one gradient per unit.")
    if close_elementwise(dx, case["dx"], ROUNDING):
        return
    expected_text = (f"the worked case's gradient (p = {p}, a fixed dout and cached mask; work one "
                     "entry out by hand with the chain rule)")
    dropped = np.asarray(case["mask"]) == 0
    if not np.all(np.isfinite(dx)):
        fail(what, expected_text,
             f"{int(np.sum(~np.isfinite(dx)))} entries that are inf or nan, where units were dropped",
             "looks like a division by the mask: its dropped entries are 0. " + CHAIN_RULE + ".")
    for name, (got, hint) in BACKWARD_MISTAKES.items():
        if close_elementwise(dx, case["mistakes"][name], ROUNDING):
            fail(what, expected_text, got, hint)
    zeros = dx == 0
    if np.any(zeros) and np.any(zeros != dropped):
        fail(what, "zeros exactly where forward dropped units (the zeros of the cached mask)",
             f"zeros at other places ({int(np.sum(zeros != dropped))} of {zeros.size} units disagree)",
             NEW_MASK_HINT)
    fail(what, expected_text, "something else", CHAIN_RULE + ".")


def _check_transpose_of_forward(dropout_forward, dropout_backward, p):
    """Backward after the student's own forward: zeros where out is 0, and sum(dx * x) = sum(dout * out).

    Forward is linear in x for a fixed mask, so its backward is the transpose of that linear map:
    for any x and dout, sum(dx * x) equals sum(dout * out). Both sides are positive here
    (x and dout are positive), so their ratio is well defined. Returns whether numpy's global
    generator moved.
    """
    shape = (300, 400)
    x = _positive_input(shape, seed=13)
    dout = _positive_input(shape, seed=16)
    param = {"p": p, "mode": "train", "rng": np.random.default_rng(14)}
    out, cache_mask, _ = _forward(dropout_forward, x, param)
    dx, moved = _backward(dropout_backward, dout, (param, cache_mask))
    what = "dropout_backward after your dropout_forward"
    require_shape(dx, shape, what, "dx has the shape of dout: one gradient per unit.")
    zeros_dx, zeros_out = dx == 0, out == 0
    if not np.array_equal(zeros_dx, zeros_out):
        fail(what, "zeros exactly where your forward dropped units (where out is 0)",
             f"zeros at other places ({float(np.mean(zeros_dx != zeros_out)):.0%} of the units disagree)",
             NEW_MASK_HINT)
    ratio = float(np.sum(dx * x) / np.sum(dout * out))
    if close_elementwise(ratio, 1.0, ROUNDING):
        return moved
    expected_text = "sum(dx * x) equal to sum(dout * out) (backward is the transpose of forward)"
    if close_elementwise(ratio, 1 - p, ROUNDING):
        fail(what, expected_text, f"sum(dx * x) / sum(dout * out) = {ratio:.4f}, which is 1 - p",
             "your backward passes the worked cases, so your forward stores the mask without "
             "its scale: cache the scaled mask, the very array that multiplied x, so that backward "
             "sees the 1 / (1 - p) too.")
    fail(what, expected_text, f"sum(dx * x) / sum(dout * out) = {ratio:.4f}",
         "backward must use the very mask your forward cached. " + CHAIN_RULE + ".")


def check_dropout_backward(dropout_forward, dropout_backward, p=0.3):
    """Check dropout_backward on a worked case (float64 and float32) and against the student's forward.

    p selects the worked case: one of the keys of BACKWARD_CASES.
    """
    if p not in BACKWARD_CASES:
        raise ValueError(f"there are worked cases for p = {' and '.join(map(str, BACKWARD_CASES))}, "
                         f"got p = {p}: call check_dropout_backward with one of these")
    # 1. The worked case in float64: a fixed dout and cached mask, a literal expected dx.
    dx, case, moved64 = _worked_case(dropout_backward, p, np.float64)
    _diagnose_worked_case(dx, case, p, f"dropout_backward on the worked case with p = {p}")

    # 2. The same in float32: dx keeps dout's dtype.
    what32 = f"dropout_backward on the worked case with p = {p} in float32"
    dx32, case, moved32 = _worked_case(dropout_backward, p, np.float32)
    require_shape(dx32, np.shape(case["dout"]), what32, "dx has the shape of dout: one gradient per unit.")
    if dx32.dtype != np.float32:
        fail("dtype of dx for a float32 dout and mask", "float32", str(dx32.dtype),
             "keep the caller's dtype: an array made with np.zeros(shape) (float64 by default) "
             "or a float64 constant turns the result into float64. Compute dx from dout and "
             "the mask alone.")
    _diagnose_worked_case(dx32, case, p, what32)

    # 3. Together with the student's forward: the mask is whatever forward chose.
    moved = _check_transpose_of_forward(dropout_forward, dropout_backward, p)

    # 4. Test mode: nothing was dropped, so the gradient passes through.
    x = _positive_input((30, 40), seed=17)
    dout = _positive_input((30, 40), seed=18) - 1.0
    _, test_mask, _ = _forward(dropout_forward, x, {"p": p, "mode": "test"})
    dx_test, moved_test = _backward(dropout_backward, dout, ({"p": p, "mode": "test"}, test_mask))
    require_shape(dx_test, dout.shape, "dropout_backward in test mode", "dx has the shape of dout.")
    if not close_elementwise(dx_test, dout, ROUNDING):
        fail("dropout_backward in test mode", "dx equal to dout", "something else",
             "in test mode forward is the identity (its mask is all ones), so the gradient "
             "passes through unchanged.")
    # Last: a backward with the right values that still touched numpy's global generator.
    _check_global(moved64 or moved32 or moved or moved_test, "dropout_backward")
    passed(f"dropout_backward gives the worked case's gradient for p = {p} in float64 and float32, "
           "is the transpose of your forward pass (zeros where it dropped units, "
           "sum(dx * x) = sum(dout * out)), passes the gradient through in test mode, and draws "
           "nothing.")


# ---------------------------------------------------------------------------
# The conventions for p
# ---------------------------------------------------------------------------


def _digest(name, value):
    """A salted hash of an answer: sha256 of SALT, the answer's name and the value rounded to DIGITS decimals.

    The first 16 hex digits are kept. Right answers and named wrong ones are stored only this way.
    """
    text = f"{round(float(value), DIGITS) + 0.0:.{DIGITS}f}"
    return hashlib.sha256(f"{SALT}:{name}:{text}".encode()).hexdigest()[:16]


PERCENT_HINT = ("p is a probability, a fraction between 0 and 1, not a percentage: "
                "write the percentage as a fraction.")

RIGHT = {
    "p_library": "ed4db65e8a196f95",
    "kept_scale": "e48eaa08608fd7f5",
    "expected_dropped": "e3d454b9051c0aea",
}

# Named wrong values, as hashes of the wrong values (never the right ones).
WRONG = {
    "p_library": {
        "108d8f92977bd809": "this is the lecture's p, the probability of KEEPING a unit (its keep "
                            "probability); the library's p is the probability of dropping one.",
        "0594fc64ce6cb185": PERCENT_HINT,
        "aa0502a3c63f4f16": PERCENT_HINT + " It is also the lecture's keep probability, not the "
                            "library's drop probability.",
    },
    "kept_scale": {
        "7478d677340b13aa": "this divides by the drop probability; the kept units are divided by "
                            "the probability of keeping them.",
        "094ec6fbfdae10e1": "this is what vanilla dropout multiplies by at TEST time. Inverted "
                            "dropout scales the kept units at train time, dividing by their keep "
                            "probability.",
        "9406012799d5c1a9": "looks like // was used: in Python // is floor (integer) division, "
                            "which throws away the fraction. Use true division, /.",
        "61e0ca4c27da1299": "looks like // was used: in Python // is floor (integer) division, "
                            "which throws away the fraction. Use true division, /.",
    },
    "expected_dropped": {
        "f0455afe89f0cf83": "this is the number of units KEPT; a fraction p of the 500 is dropped.",
        "579f15136bb17037": "this is a fraction, not a count: the question asks how many of the "
                            "500 units are dropped on average, the fraction p of the 500.",
        "7d2253626d1f2463": "looks like p was taken as a percentage; the number dropped is the "
                            "fraction p of the 500 units.",
    },
}

GENERIC = {
    "p_library": "the library's p is the probability of dropping a unit: 1 minus the keep probability.",
    "kept_scale": "kept units are divided by the keep probability, 1 - p.",
    "expected_dropped": "on average a fraction p of the 500 units is dropped.",
}

EXPECTED_TEXT = {
    "p_library": "the library's p for the lecture's keep probability 0.8",
    "kept_scale": "the factor that multiplies each kept unit at train time",
    "expected_dropped": "the average number of the 500 units dropped",
}


def _require_number(value, name):
    require_answered(value, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, "a number", repr(value), f"set {name} to a number such as 0.5.")
    value = float(value)
    if not np.isfinite(value):
        fail(name, "a finite number", repr(value), f"set {name} to a number such as 0.5.")
    return value


def _require_right(name, value):
    """Compare value with the hashed answer (to DIGITS decimals); name a known wrong value, never the right one."""
    digest = _digest(name, value)
    if digest == RIGHT[name]:
        return round(value, DIGITS)
    hint = WRONG[name].get(digest)
    if hint is None and name == "p_library" and not 0 <= value <= 1:
        hint = PERCENT_HINT
    fail(name, EXPECTED_TEXT[name], f"{value:g}", hint or GENERIC[name])


def check_conventions(p_library, kept_scale, expected_dropped):
    """The lecture keeps each unit with probability 0.8: translate that to the library's p.

    Answers are compared to DIGITS decimals against salted hashes.
    """
    p_library = _require_number(p_library, "p_library")
    kept_scale = _require_number(kept_scale, "kept_scale")
    expected_dropped = _require_number(expected_dropped, "expected_dropped")
    p = _require_right("p_library", p_library)
    scale = _require_right("kept_scale", kept_scale)
    dropped = _require_right("expected_dropped", expected_dropped)
    passed(f"the lecture's keep probability {LECTURE_KEEP:g} is this library's p = {p:g}: about "
           f"{dropped:g} of {HIDDEN_UNITS} units are dropped and the other {HIDDEN_UNITS - dropped:g} "
           f"are multiplied by 1 / {LECTURE_KEEP:g} = {scale:g}.")
