"""Checks for notebook 03, gradient checks: a numerical gradient, and reading check results.

``check_numerical_gradient`` runs a student's ``numerical_gradient(f, x, h)``
on functions whose gradients are known in closed form and names the usual
slips: a one-sided difference, dividing by h instead of 2h, ``/ 2 * h``,
a perturbed entry that is never put back, only some entries computed,
whole rows perturbed at once, a copy perturbed instead of x, h ignored,
a default h that is too large, f_minus taken at x itself, grad aliasing x.
The slips are recognised from their results on sum(x**3), worked out by
hand in closed form (proven against the slips in tests/); the module holds
no finite-difference loop of its own.

``check_verdicts`` grades the student's reading of five gradient-check
results ("correct", "suspicious" or "wrong") against answers fixed in
advance and stored as salted hashes; a wrong verdict gets a question about
the context it needed, not the verdict.
"""

import numpy as np

from cs231n_lib.checks.common import (
    EXACT_FLOAT64,
    NUMERICAL_GRADIENT,
    ROUNDING,
    SLIP_MATCH,
    call_student,
    close,
    fail,
    matches_digest,
    max_relative_error,
    passed,
    require_answered,
    require_shape,
)

WHERE = "the numerical_gradient cell above"

# ---------------------------------------------------------------------------
# Exercise 1: numerical_gradient(f, x, h=1e-5)
# ---------------------------------------------------------------------------


def _cube_sum(x):
    return np.sum(x**3)


def _points(shape, rng):
    """Entries with |x| in [0.5, 2], so 3x^2 is never near zero."""
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _cube_differences(x, h):
    """What the usual slips give for f = sum(x**3), worked out by hand (tests/test_checks_gradients.py
    proves each against the slip itself): the forward and backward one-sided differences
    3x^2 +- 3xh + h^2, and half the forward one (f_minus taken at x itself)."""
    forward = 3 * x**2 + 3 * x * h + h**2
    backward = 3 * x**2 - 3 * x * h + h**2
    return {
        "forward": forward,
        "backward": backward,
        "half": forward / 2,
    }


def _same_along_rows(got):
    """Is every slice got[i] one repeated number (and the slices not all equal)? What perturbing x[i] gives."""
    if got.ndim < 2 or got[0].size < 2:
        return False
    flat = got.reshape(got.shape[0], -1)
    return bool(np.all(flat == flat[:, :1])) and not np.all(flat == flat[0, 0])


def _scaled_slips(h):
    """(factor, hint): slips whose gradient is the true one times a factor."""
    return (
        (2, "your gradient is exactly twice the true one: the centred difference divides by 2 * h, not h."),
        (h**2, "your gradient is the true one times h^2: (f_plus - f_minus) / 2 * h divides by 2 and then "
               "multiplies by h. Write / (2 * h)."),
        (-1, "your gradient has the wrong sign: it is (f(x + h) - f(x - h)) / (2h), the plus side first."),
    )


def _diagnose(got, truth, f, x, h):
    """The hint for a gradient that does not match ``truth``: the first mistake whose result it reproduces."""
    if not np.all(np.isfinite(got)):
        return "some entries are NaN or infinite: does f(x) return a finite number, and do you divide by 2 * h?"
    if np.all(got == 0):
        return ("every entry is 0: fill grad[ix] for each index ix, and evaluate f after changing x[ix] "
                "(f(x) computed once before the loop never sees the perturbation).")
    flat_got, flat_truth = got.ravel(), truth.ravel()
    computed = flat_got != 0
    if computed.sum() < computed.size and close(flat_got[computed], flat_truth[computed], ROUNDING):
        if computed.sum() == 1 and computed[0]:
            return ("only the first entry was computed, the rest are still 0: the loop must visit every "
                    "index of x (for ix in np.ndindex(x.shape)), and return grad after the loop, not inside it.")
        return (f"only {int(computed.sum())} of {computed.size} entries were computed, the rest are still 0: "
                "visit every index of x, e.g. for ix in np.ndindex(x.shape).")
    if _same_along_rows(got):
        return ("each result is the same along a row: x[i] on a multi-dimensional x perturbs a whole row at once. "
                "Perturb one entry at a time with a full index, for ix in np.ndindex(x.shape): x[ix] = ...")
    for factor, hint in _scaled_slips(h):
        if close(got, factor * truth, ROUNDING):
            return hint
    if f is not _cube_sum:
        return ("compare one entry by hand: grad[ix] = (f(x with x[ix] + h) - f(x with x[ix] - h)) / (2 * h), "
                "with x[ix] put back to its old value after both evaluations.")
    slips = _cube_differences(x, h)
    error = max_relative_error(got, truth)
    for key, name in (("forward", "forward difference (f(x + h) - f(x)) / h"),
                      ("backward", "backward difference (f(x) - f(x - h)) / h")):
        if close(got, slips[key], SLIP_MATCH):
            return (f"your gradient matches the one-sided {name}: its error shrinks like h "
                    f"(here {error:.1e}), while the centred difference (f(x + h) - f(x - h)) / (2h) "
                    f"is off by only about h^2 = {h**2:.0e}. Use both sides.")
    if close(got, slips["half"], SLIP_MATCH):
        return ("your gradient is half the forward difference: f_minus was evaluated at x itself. "
                "x[ix] -= h after x[ix] = old_value + h only undoes the + h; set x[ix] = old_value - h.")
    step_squared = float(np.mean(got - 3 * x**2))  # the centred difference of a cubic is 3x^2 + step^2
    if step_squared > max(4 * h**2, 1e-9) and close(got, 3 * x**2 + step_squared, SLIP_MATCH):
        return (f"your gradient is the centred difference with a step near {step_squared ** 0.5:.0e}, "
                f"not h = {h:g}: the step is too large (is the default h = 1e-5?). The error of the centred "
                "difference grows like h^2; use the h the function is given, with default h = 1e-5.")
    return ("compare one entry by hand: grad[ix] = (f(x with x[ix] + h) - f(x with x[ix] - h)) / (2 * h), "
            "with x[ix] put back to its old value after both evaluations.")


def _run(fn, f, x, what, **kwargs):
    """fn(f, x, **kwargs), checking it returns an array shaped like x and leaves x as it was."""
    before = x.copy()
    with np.errstate(all="ignore"):
        got = call_student(fn, f, x, name="numerical_gradient", where=WHERE, **kwargs)
    require_shape(got, x.shape, what, "return grad, an array shaped like x (np.zeros(x.shape) to start), after the loop.")
    if isinstance(got, np.ndarray) and np.shares_memory(got, x):
        fail(f"{what}: the array returned", "a new array", "the same array as x (or a view of it)",
             "grad = x makes grad an alias of x: writing grad[ix] overwrites x while f still reads it. "
             "Start from a new array, grad = np.zeros(x.shape).")
    change = float(np.max(np.abs(x - before)))
    if change > 1e-12 * float(np.max(np.abs(before))):
        fail(f"{what}: x after the call", "x unchanged", f"entries moved by up to {change:.1e}",
             "the perturbed entry is not restored. Save old_value = x[ix] before perturbing and set "
             "x[ix] = old_value after the two evaluations; otherwise every later evaluation (and the "
             "caller) sees a shifted x.")
    return np.asarray(got, dtype=np.float64)


def _require_gradient(got, truth, f, x, h, what, tol):
    with np.errstate(all="ignore"):
        error = max_relative_error(got, truth)
    if not error <= tol:
        fail(what, f"the analytic gradient within {tol:g} (relative)", f"a relative error of {error:.2e}",
             _diagnose(got, truth, f, x, h))


def check_numerical_gradient(fn, shape=(3, 4), seed=0):
    """Check a student's numerical_gradient(f, x, h=1e-5) against gradients known in closed form.

    1. f(x) = sum(x**3) on an array of ``shape``: the gradient is 3x^2;
    2. a quadratic form 0.5 x.A.x + b.x on a vector: the gradient is
       0.5 (A + A^T) x + b, and the centred difference of a quadratic is exact;
    3. an f that ignores its argument and reads x from a closure (as the
       layer checks do), so only in-place perturbation is seen;
    4. sum(x**3) with h = 1e-2: the centred difference of a cubic is exactly
       3x^2 + h^2, so the h argument must be used and both sides taken.
    """
    rng = np.random.default_rng(seed)
    h = 1e-5

    x = _points(shape, rng)
    what = f"numerical_gradient of sum(x**3) at an x of shape {shape}"
    got = _run(fn, _cube_sum, x, what)
    _require_gradient(got, 3 * x**2, _cube_sum, x, h, what, tol=NUMERICAL_GRADIENT)

    n = 5
    A = rng.standard_normal((n, n))
    b = rng.standard_normal(n)

    def quadratic(v):
        return 0.5 * v @ A @ v + b @ v

    v = rng.standard_normal(n)
    what = f"numerical_gradient of the quadratic form 0.5 x.A.x + b.x at an x of shape ({n},)"
    got = _run(fn, quadratic, v, what)
    _require_gradient(got, 0.5 * (A + A.T) @ v + b, quadratic, v, h, what, tol=NUMERICAL_GRADIENT)

    shared = _points((4,), rng)

    def reads_shared(_):
        return np.sum(shared**3)

    what = "numerical_gradient of an f that reads x from a closure, lambda _: np.sum(x**3)"
    got = _run(fn, reads_shared, shared, what)
    if np.all(got == 0):
        fail(what, f"3x^2 = {np.array2string(3 * shared**2, precision=4)}", "all zeros",
             "f never saw your perturbation: you changed a copy of x (or passed f a new array x + h). "
             "Layer checks use functions like lambda _: affine_forward(x, w, b)[0] that read the arrays "
             "themselves, so perturb x in place: x[ix] = old_value + h.")
    _require_gradient(got, 3 * shared**2, reads_shared, shared, h, what, tol=NUMERICAL_GRADIENT)

    big_h = 1e-2
    x = _points((2, 3), rng)
    exact = 3 * x**2 + big_h**2  # ((x + h)^3 - (x - h)^3) / (2h), worked out
    what = f"numerical_gradient(f, x, h={big_h:g}) of sum(x**3)"
    got = _run(fn, _cube_sum, x, what, h=big_h)
    with np.errstate(all="ignore"):
        error = max_relative_error(got, exact)
    if not error <= EXACT_FLOAT64:
        if close(got, 3 * x**2, SLIP_MATCH):
            fail(what, f"3x^2 + h^2, the centred difference with h = {big_h:g}",
                 "3x^2 to within 1e-8, as if h were much smaller",
                 "your function ignores its h argument: use the h it is given, not a fixed step.")
        fail(what, "3x^2 + h^2 within 1e-9 (relative)", f"a relative error of {error:.2e}",
             _diagnose(got, exact, _cube_sum, x, big_h))

    passed("numerical_gradient matches the analytic gradients, restores x, perturbs it in place and uses h.")


# ---------------------------------------------------------------------------
# Exercise 2: reading gradient-check results
# ---------------------------------------------------------------------------

LABELS = ("correct", "suspicious", "wrong")

# Each scenario: (a short description, the salted hash of its verdict, a question that leads to it).
# The hashes are answer_digest(verdict, tag="03-verdict-<key>"); tests/test_checks_gradients.py proves them.
# The questions point at the context the verdict needs without naming the verdict.
SCENARIOS = {
    "A": ("affine_backward's dw, float64, h = 1e-5, max relative error 5e-11", "ecd315377bc61091",
          "what is the rounding floor of a float64 check with h = 1e-5 (see the figure of errors against h), "
          "and how far is 5e-11 from it?"),
    "B": ("conv_backward_naive's dx, float64, h = 1e-5, max relative error 0.6", "2405e235339181d5",
          "0.6 means the two gradients disagree in their first digit. How large can rounding make the "
          "error in float64, and how many entries can a kink touch? If neither explains it, it is a bug."),
    "C": ("a two-layer tanh network (smooth everywhere), float64, h = 1e-5, max relative error 2e-4",
          "aaa584dfc6c1dbeb",
          "the function is smooth, without kinks: what error do rounding and truncation explain for it "
          "in float64, and is 2e-4 near that or near the first-digit disagreement of a plain bug? "
          "Recall the missing regularisation gradient above."),
    "D": ("a ReLU + max-pool network, float64, h = 1e-5, max relative error 4e-2 at one entry whose ReLU input "
          "is 3e-6 (closer to 0 than h); at a new random point every entry is below 1e-8", "6891aabb2b5c9d79",
          "look beyond the maximum: the failing entry's ReLU input is within h of the kink, where the centred "
          "difference averages two slopes. What does the re-run at a new random point tell you?"),
    "E": ("conv_backward_naive's dw, float32, h = 1e-5, max relative error 0.2", "5650a719b79de154",
          "how many digits does float32 resolve, and what is left of f(x + h) - f(x - h) at h = 1e-5? "
          "Can this check tell a right gradient from a wrong one (see the float32 experiment above)?"),
}

MEANINGS = ("'correct': the error is explained by rounding or by a kink, not a bug; "
            "'wrong': a bug, the gradients disagree far beyond anything rounding or a kink explains; "
            "'suspicious': neither can be decided yet, look closer or re-run the check.")


def check_verdicts(verdicts):
    """Check the reading of the five scenarios: a dict {"A": "correct" | "suspicious" | "wrong", ...}."""
    require_answered(verdicts, "verdicts", where="the verdicts cell above")
    if not isinstance(verdicts, dict):
        fail("verdicts", 'a dict such as {"A": "correct", ...}', type(verdicts).__name__,
             "map each scenario letter to one of " + ", ".join(repr(label) for label in LABELS) + ".")
    wrong_case = sorted(str(key) for key in verdicts
                        if key not in SCENARIOS and isinstance(key, str) and key.strip().upper() in SCENARIOS)
    if wrong_case:
        fail("verdicts", f"the keys {', '.join(SCENARIOS)}", f"the key(s) {', '.join(map(repr, wrong_case))}",
             "keys are case-sensitive: use the scenario letters as keys, in capitals, e.g. \"A\".")
    missing = [key for key in SCENARIOS if key not in verdicts]
    if missing:
        fail("verdicts", f"a verdict for each of {', '.join(SCENARIOS)}", f"none for {', '.join(missing)}",
             "give every scenario a verdict.")
    extra = sorted(str(key) for key in verdicts if key not in SCENARIOS)
    if extra:
        fail("verdicts", f"the keys {', '.join(SCENARIOS)}", f"also {', '.join(extra)}",
             "use the scenario letters as keys, in capitals.")
    for key, (description, digest, question) in SCENARIOS.items():
        answer = verdicts[key]
        label = answer.strip().lower() if isinstance(answer, str) else answer
        if label not in LABELS:
            fail(f"verdict for scenario {key}", " or ".join(repr(item) for item in LABELS), repr(answer),
                 "use one of the three labels, as a string.")
        if not matches_digest(label, digest, tag=f"03-verdict-{key}"):
            fail(f"verdict for scenario {key} ({description})", "a different verdict", repr(answer),
                 f"{question}\n  {MEANINGS}")
    passed("all five verdicts agree: the size of the error, read in its context (smooth or kinked, float64 or float32).")
