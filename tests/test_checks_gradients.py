"""Tests for cs231n_lib.checks.gradients: right answers pass, each named mistake is named."""

import numpy as np
import pytest

from cs231n_lib.checks.common import NOT_IMPLEMENTED, answer_digest
from cs231n_lib.checks.gradients import (
    LABELS,
    SCENARIOS,
    _cube_differences,
    check_numerical_gradient,
    check_verdicts,
)
from cs231n_lib.gradient_check import eval_numerical_gradient

# ---------------------------------------------------------------------------
# Exercise 1: numerical_gradient
# ---------------------------------------------------------------------------


def centred(f, x, h=1e-5):
    """A correct answer written the way a student would."""
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = f(x)
        x[ix] = old_value - h
        f_minus = f(x)
        x[ix] = old_value
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def nditer_version(f, x, h=1e-5):
    """Also correct: np.nditer with a multi-index, restoring by adding h back (a rounding-level drift)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        x[ix] += h
        f_plus = f(x)
        x[ix] -= 2 * h
        f_minus = f(x)
        x[ix] += h
        grad[ix] = (f_plus - f_minus) / (2 * h)
        it.iternext()
    return grad


def forward_difference(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    f0 = f(x)
    for ix in np.ndindex(x.shape):
        old_value = x[ix]
        x[ix] = old_value + h
        grad[ix] = (f(x) - f0) / h
        x[ix] = old_value
    return grad


def backward_difference(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    f0 = f(x)
    for ix in np.ndindex(x.shape):
        old_value = x[ix]
        x[ix] = old_value - h
        grad[ix] = (f0 - f(x)) / h
        x[ix] = old_value
    return grad


def not_restored(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        x[ix] += h
        f_plus = f(x)
        x[ix] -= 2 * h
        f_minus = f(x)
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def divides_by_h(f, x, h=1e-5):
    return centred(f, x, h) * 2  # the same as (f_plus - f_minus) / h


def precedence_slip(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = f(x)
        x[ix] = old_value - h
        f_minus = f(x)
        x[ix] = old_value
        grad[ix] = (f_plus - f_minus) / 2 * h
    return grad


def sign_flipped(f, x, h=1e-5):
    return -centred(f, x, h)


def first_entry_only(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = f(x)
        x[ix] = old_value - h
        f_minus = f(x)
        x[ix] = old_value
        grad[ix] = (f_plus - f_minus) / (2 * h)
        return grad  # returns inside the loop


def first_row_only(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for j in range(x.shape[-1]):
        ix = (0,) * (x.ndim - 1) + (j,)
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = f(x)
        x[ix] = old_value - h
        f_minus = f(x)
        x[ix] = old_value
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def whole_rows(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in range(x.shape[0]):
        old_value = x[i].copy()
        x[i] = old_value + h
        f_plus = f(x)
        x[i] = old_value - h
        f_minus = f(x)
        x[i] = old_value
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def perturbs_a_copy(f, x, h=1e-5):
    x = x.copy()
    return centred(f, x, h)


def new_arrays(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[ix] = h
        grad[ix] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def ignores_h(f, x, h=1e-5):
    return centred(f, x, 1e-5)


def never_evaluates_after_perturbing(f, x, h=1e-5):
    f0 = f(x)
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        grad[ix] = (f0 - f0) / (2 * h)
    return grad


def returns_nothing(f, x, h=1e-5):
    centred(f, x, h)


def flattens(f, x, h=1e-5):
    return centred(f, x, h).ravel()


def whole_rows_through_a_view(f, x, h=1e-5):
    """for ix in range(x.shape[0]): old_value = x[ix] is a view, so the row ends where it started."""
    grad = np.zeros(x.shape)
    for ix in range(x.shape[0]):
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = f(x)
        x[ix] = old_value - h
        f_minus = f(x)
        x[ix] = old_value
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def minus_from_perturbed(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = f(x)
        x[ix] -= h
        f_minus = f(x)
        x[ix] = old_value
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def default_h_too_big(f, x, h=1e-2):
    return centred(f, x, h)


def grad_aliases_x(f, x, h=1e-5):
    grad = x
    for ix in np.ndindex(x.shape):
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = f(x)
        x[ix] = old_value - h
        f_minus = f(x)
        x[ix] = old_value
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def not_implemented(f, x, h=1e-5):
    raise NotImplementedError()


@pytest.mark.parametrize("answer", [centred, nditer_version, eval_numerical_gradient])
def test_correct_numerical_gradients_pass(answer, capsys):
    check_numerical_gradient(answer)
    check_numerical_gradient(answer, shape=(2, 3, 2), seed=1)
    assert capsys.readouterr().out.startswith("OK:")


def test_the_library_gradient_is_within_the_tolerances_by_a_wide_margin():
    # The check would pass a correct answer even with 100x looser rounding.
    check_numerical_gradient(lambda f, x, h=1e-5: eval_numerical_gradient(f, x, h=h) * (1 + 1e-10))


@pytest.mark.parametrize("mistake, diagnosis", [
    (forward_difference, "forward difference"),
    (backward_difference, "backward difference"),
    (not_restored, "not restored"),
    (divides_by_h, "divides by 2 * h, not h"),
    (precedence_slip, "/ 2 * h"),
    (sign_flipped, "wrong sign"),
    (first_entry_only, "only the first entry"),
    (first_row_only, "only 4 of 12 entries"),
    (whole_rows, "perturbs a whole row"),
    (perturbs_a_copy, "changed a copy of x"),
    (new_arrays, "new array x + h"),
    (ignores_h, "ignores its h argument"),
    (never_evaluates_after_perturbing, "every entry is 0"),
    (returns_nothing, "got NoneType"),
    (flattens, "shape"),
    (whole_rows_through_a_view, "perturbs a whole row"),
    (minus_from_perturbed, "half the forward difference"),
    (default_h_too_big, "the step is too large"),
    (grad_aliases_x, "grad = x makes grad an alias of x"),
])
def test_each_mistake_is_named(mistake, diagnosis):
    with pytest.raises(AssertionError) as raised:
        check_numerical_gradient(mistake)
    assert diagnosis in str(raised.value)
    assert "Hint:" in str(raised.value)


@pytest.mark.parametrize("shape, seed", [((3, 4), 0), ((2, 3, 2), 1), ((5,), 2)])
@pytest.mark.parametrize("h", [1e-5, 1e-2])
def test_the_worked_out_slips_are_what_the_slips_compute(shape, seed, h):
    # The check recognises slips from closed forms for sum(x**3), not by running them: prove each closed form.
    def cube_sum(v):
        return np.sum(v**3)

    x = np.random.default_rng(seed).uniform(0.5, 2.0, size=shape) * np.random.default_rng(seed + 9).choice([-1.0, 1.0], size=shape)
    slips = _cube_differences(x, h)
    for key, slip in (("forward", forward_difference), ("backward", backward_difference), ("half", minus_from_perturbed)):
        np.testing.assert_allclose(slips[key], slip(cube_sum, x.copy(), h), rtol=1e-9 if h > 1e-3 else 1e-6)
    # and the centred difference of a cubic is 3x^2 + h^2 exactly, which the h checks rely on
    np.testing.assert_allclose(3 * x**2 + h**2, centred(cube_sum, x.copy(), h), rtol=1e-9 if h > 1e-3 else 1e-7)


def test_the_module_holds_no_finite_difference_loop():
    # No second numerical gradient ships: no loop over the entries of an array anywhere in the module.
    import ast
    import inspect

    import cs231n_lib.checks.gradients as module

    tree = ast.parse(inspect.getsource(module))
    loops = [node for node in ast.walk(tree) if isinstance(node, ast.For) and "ndindex" in ast.unparse(node.iter)]
    assert loops == []
    assert not hasattr(module, "_one_sided") and not hasattr(module, "_slab_difference")


def test_forward_difference_message_gives_the_error_order():
    with pytest.raises(AssertionError, match=r"shrinks like h"):
        check_numerical_gradient(forward_difference)


def test_whole_rows_on_a_three_dimensional_x():
    with pytest.raises(AssertionError, match="perturbs a whole row"):
        check_numerical_gradient(whole_rows, shape=(2, 3, 2), seed=1)


def test_unimplemented_numerical_gradient_says_so():
    with pytest.raises(AssertionError, match=NOT_IMPLEMENTED):
        check_numerical_gradient(not_implemented)


def test_check_leaves_numpy_error_state_alone_and_emits_no_warnings():
    # pyproject turns warnings into errors: a NaN-producing answer must fail by assertion only.
    def nan_gradient(f, x, h=1e-5):
        return centred(f, x, h) * np.float64(0.0) / np.float64(0.0)

    with pytest.raises(AssertionError, match="NaN or infinite"):
        check_numerical_gradient(nan_gradient)


# ---------------------------------------------------------------------------
# Exercise 2: verdicts
# ---------------------------------------------------------------------------

RIGHT = {"A": "correct", "B": "wrong", "C": "suspicious", "D": "correct", "E": "suspicious"}


def test_right_verdicts_pass(capsys):
    check_verdicts(RIGHT)
    assert capsys.readouterr().out.startswith("OK:")


def test_verdicts_ignore_case_and_spaces():
    check_verdicts({key: f" {value.upper()} " for key, value in RIGHT.items()})


def test_scenarios_and_answers_agree():
    # The check stores only salted hashes of the verdicts: each is the hash of the right one, of no other label.
    assert set(SCENARIOS) == set(RIGHT)
    for key, (_, digest, _) in SCENARIOS.items():
        assert answer_digest(RIGHT[key], tag=f"03-verdict-{key}") == digest
        assert [label for label in LABELS if answer_digest(label, tag=f"03-verdict-{key}") == digest] == [RIGHT[key]]


def test_the_shipped_module_does_not_spell_out_the_verdicts():
    import inspect

    import cs231n_lib.checks.gradients as module

    source = inspect.getsource(module)
    for key, verdict in RIGHT.items():
        assert f'"{key}": ("' in source
        assert f'"{verdict}", ' not in source.split('"' + key + '": (', 1)[1].split("),", 1)[0]


@pytest.mark.parametrize("key, answer, diagnosis", [
    ("A", "suspicious", "rounding floor"),
    ("B", "suspicious", "it is a bug"),
    ("C", "correct", "without kinks"),
    ("C", "wrong", "without kinks"),
    ("D", "wrong", "within h of the kink"),
    ("D", "suspicious", "within h of the kink"),
    ("E", "wrong", "float32 resolve"),
    ("E", "correct", "float32 resolve"),
])
def test_each_misreading_is_explained(key, answer, diagnosis):
    verdicts = dict(RIGHT, **{key: answer})
    with pytest.raises(AssertionError) as raised:
        check_verdicts(verdicts)
    message = str(raised.value)
    assert diagnosis in message
    assert f"scenario {key}" in message
    assert f"expected {RIGHT[key]!r}" not in message  # the message asks, it does not tell


def test_reading_the_numbers_alone_is_caught_at_the_kink():
    by_size = {"A": "correct", "B": "wrong", "C": "suspicious", "D": "wrong", "E": "wrong"}
    with pytest.raises(AssertionError, match="within h of the kink"):
        check_verdicts(by_size)


@pytest.mark.parametrize("verdicts, diagnosis", [
    ({"A": "correct"}, "none for B, C, D, E"),
    (dict(RIGHT, F="wrong"), "also F"),
    ({"a" if key == "A" else key: value for key, value in RIGHT.items()}, "in capitals"),
    (dict(RIGHT, B="bug"), "one of the three labels"),
    (dict(RIGHT, B=1), "one of the three labels"),
    (list(RIGHT.values()), "a dict"),
])
def test_malformed_verdicts_are_explained(verdicts, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_verdicts(verdicts)


def test_unanswered_verdicts_say_so():
    with pytest.raises(AssertionError, match=NOT_IMPLEMENTED):
        check_verdicts(None)
