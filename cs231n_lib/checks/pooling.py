"""Checks for notebook 04: max pooling (naive forward and backward) and the im2col matrix.

Every case is a small fixed input (a fixed permutation of whole numbers, so no
two values tie unless a case wants ties) with its expected output written out
below as a literal; the im2col answers are stored as salted hashes. Common
mistakes are recognised from their precomputed outputs on the same inputs
(salted hashes, see ``answer_digest``). tests/test_checks_pooling.py
recomputes every literal and hash from the library's layers and from mutants
of them, so a wrong literal fails a test.
"""

import numpy as np

from cs231n_lib.checks.common import (
    EXACT_FLOAT32,
    EXACT_FLOAT64,
    LAYERS_FILE,
    answer_digest,
    call_student,
    close,
    fail,
    passed,
    require_array,
)

WHERE = LAYERS_FILE


def _pool(size_h, size_w, stride):
    return {"pool_height": size_h, "pool_width": size_w, "stride": stride}


def fixed_values(shape, k, dtype=np.float64):
    """Distinct whole numbers in a fixed scrambled order: (index * k) mod size, centred on 0."""
    size = int(np.prod(shape))
    return ((np.arange(size) * k) % size - size // 2).reshape(shape).astype(dtype)


# (label, x shape, pool_param) of the first two cases, as before.
TILING = ("tiling 2x2 windows, stride 2", (1, 2, 4, 6), _pool(2, 2, 2))
OVERLAPPING = ("overlapping 3x3 windows, stride 2", (1, 1, 5, 7), _pool(3, 3, 2))
NON_SQUARE = ("overlapping 2x3 windows, stride 1", (1, 2, 4, 5), _pool(2, 3, 1))
ODD_STRIDE = ("3x2 windows, stride 3", (1, 1, 6, 8), _pool(3, 2, 3))

# (label, x shape, pool_param, dtype, k): x = fixed_values(x shape, k, dtype).
FORWARD_CASES = [
    TILING + (np.float64, 5),
    OVERLAPPING + (np.float64, 8),
    NON_SQUARE + (np.float64, 7),
    ODD_STRIDE + (np.float64, 5),
    (TILING[0] + ", float32",) + TILING[1:] + (np.float32, 5),
]

# Tied maxima in each 2x2 window (the top-right window is all zeros, as after a ReLU).
TIES_X = np.array([[[[1.0, 3.0, 0.0, 0.0],
                     [3.0, 0.0, 0.0, 0.0],
                     [0.0, 5.0, 4.0, 0.0],
                     [1.0, 5.0, 0.0, 4.0]]]])
TIES_DOUT = np.array([[[[1.0, 2.0],
                        [3.0, 4.0]]]])
# Each window's dout goes to its first maximum in row-major order, worked out by hand.
TIES_DX = np.array([[[[0.0, 1.0, 2.0, 0.0],
                      [0.0, 0.0, 0.0, 0.0],
                      [0.0, 3.0, 4.0, 0.0],
                      [0.0, 0.0, 0.0, 0.0]]]])
TIES = "tied maxima in 2x2 windows, stride 2"


def _dout(x_shape, pool_param, k, dtype=np.float64):
    """Positive whole numbers 1..5, one per output: a lost or duplicated gradient shows in sum(dx)."""
    N, C, H, W = x_shape
    PH, PW, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    shape = (N, C, (H - PH) // S + 1, (W - PW) // S + 1)
    return ((np.arange(int(np.prod(shape))) * k) % 5 + 1).reshape(shape).astype(dtype)


def _overlap_x(x_shape):
    """Distinct values, with x[..., 2, 2] the largest: the max of four overlapping 3x3 windows."""
    x = fixed_values(x_shape, 8)
    x[:, :, 2, 2] = x.max() + 1.0
    return x


def backward_cases():
    """(label, x, pool_param, dout) of check_max_pool_backward, in order (fresh arrays every call)."""
    return [
        (TILING[0], fixed_values(TILING[1], 7), TILING[2], _dout(TILING[1], TILING[2], 3)),
        (OVERLAPPING[0], _overlap_x(OVERLAPPING[1]), OVERLAPPING[2], _dout(OVERLAPPING[1], OVERLAPPING[2], 2)),
        (TIES, TIES_X.copy(), _pool(2, 2, 2), TIES_DOUT.copy()),
        (NON_SQUARE[0], fixed_values(NON_SQUARE[1], 3), NON_SQUARE[2], _dout(NON_SQUARE[1], NON_SQUARE[2], 3)),
        (ODD_STRIDE[0], fixed_values(ODD_STRIDE[1], 5), ODD_STRIDE[2], _dout(ODD_STRIDE[1], ODD_STRIDE[2], 2)),
        (TILING[0] + ", float32", fixed_values(TILING[1], 7, np.float32), TILING[2],
         _dout(TILING[1], TILING[2], 3, np.float32)),
    ]


IM2COL_CASES = [
    # (x_shape, w_shape, stride, pad)
    ((2, 3, 32, 32), (16, 3, 5, 5), 1, 2),
    ((5, 2, 9, 7), (4, 2, 3, 3), 2, 1),
    ((1, 1, 4, 4), (1, 1, 3, 3), 1, 0),
    ((3, 2, 9, 12), (6, 2, 3, 2), 2, 1),
]

# Literals and salted hashes, recomputed by tests/test_checks_pooling.py.
FORWARD_OUT = {'tiling 2x2 windows, stride 2': [[[[11.0, 21.0, 1.0], [23.0, 3.0, 13.0]],
                                   [[5.0, 15.0, 20.0], [17.0, 22.0, 19.0]]]],
 'overlapping 3x3 windows, stride 2': [[[[12.0, 15.0, 17.0], [13.0, 14.0, 16.0]]]],
 'overlapping 2x3 windows, stride 1': [[[[15.0, 1.0, 8.0], [17.0, 17.0, 3.0], [19.0, 19.0, 19.0]],
                                        [[14.0, 16.0, 16.0], [9.0, 16.0, 18.0], [4.0, 11.0, 18.0]]]],
 '3x2 windows, stride 3': [[[[21.0, 23.0, 11.0], [5.0, 20.0, 22.0]]]]}
# The float32 case has the same integer inputs, so the same expected values.
FORWARD_OUT['tiling 2x2 windows, stride 2, float32'] = FORWARD_OUT['tiling 2x2 windows, stride 2']
FORWARD_MISTAKES = {'tiling 2x2 windows, stride 2': {'48b3659ed3ee40c5': 'mean',
                                  '27de32db636e41a1': 'min',
                                  '721a1894d13fc9e1': 'stride ignored',
                                  '11858242d857e6b6': 'window one short',
                                  'dae61e9c4fb91a7c': 'window one too large',
                                  'f7e9d0da7cc4b9ba': 'last channel skipped'},
 'overlapping 3x3 windows, stride 2': {'1ae761243ac008d4': 'mean',
                                       'f2991c6ab1db9e17': 'min',
                                       '5b4fa9acf7aaae4a': 'stride ignored',
                                       '51aba4b2bfde319e': 'stride-size window',
                                       'e3a63668723d3ab8': 'window one too large',
                                       'fb83c65f36bd80a6': 'last channel skipped'},
 'overlapping 2x3 windows, stride 1': {'c86ce499e52d8185': 'mean',
                                       'b730609a11b8c018': 'min',
                                       '1315e93e2aa4d38e': 'stride-size window',
                                       '629f5cbba1d40444': 'window one short',
                                       '031b97e84e54d90f': 'window one too large',
                                       '3d274c5cfc72925d': 'pool sizes swapped',
                                       'b857920a5bfee027': 'last channel skipped'},
 '3x2 windows, stride 3': {'fb90a0a8c858fdd1': 'mean',
                           '11072bcac554203a': 'min',
                           '822c562db5d42d70': 'stride ignored',
                           'cab917454bd390bd': 'stride-size window',
                           '3de1a54b371c24c6': 'window one short',
                           '416b2b642bb5ab28': 'pool sizes swapped',
                           '432eacd31098fea3': 'last channel skipped'},
 'tiling 2x2 windows, stride 2, float32': {'953017a1ffa8e1d6': 'mean',
                                           'eaf9a79165ab957f': 'min',
                                           '1a9fccedc6a85e25': 'stride ignored',
                                           '998db266a74cf600': 'window one short',
                                           '36e3325760329427': 'window one too large',
                                           '076a8a1fcdb63ecd': 'last channel skipped'}}
BACKWARD_DX = {'tiling 2x2 windows, stride 2': [[[[0.0, 0.0, 0.0, 4.0, 0.0, 2.0],
                                    [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                    [0.0, 5.0, 0.0, 0.0, 0.0, 1.0],
                                    [0.0, 0.0, 3.0, 0.0, 0.0, 0.0]],
                                   [[0.0, 4.0, 0.0, 2.0, 0.0, 0.0],
                                    [0.0, 0.0, 0.0, 0.0, 5.0, 0.0],
                                    [0.0, 3.0, 0.0, 1.0, 0.0, 4.0],
                                    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]],
 'overlapping 3x3 windows, stride 2': [[[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                         [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0],
                                         [0.0, 0.0, 10.0, 0.0, 0.0, 0.0, 0.0],
                                         [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                                         [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]],
 'tied maxima in 2x2 windows, stride 2': [[[[0.0, 1.0, 2.0, 0.0],
                                            [0.0, 0.0, 0.0, 0.0],
                                            [0.0, 3.0, 4.0, 0.0],
                                            [0.0, 0.0, 0.0, 0.0]]]],
 'overlapping 2x3 windows, stride 1': [[[[0.0, 0.0, 0.0, 0.0, 0.0],
                                         [0.0, 0.0, 1.0, 4.0, 2.0],
                                         [0.0, 0.0, 9.0, 11.0, 0.0],
                                         [0.0, 0.0, 0.0, 0.0, 0.0]],
                                        [[0.0, 0.0, 0.0, 0.0, 4.0],
                                         [0.0, 11.0, 0.0, 0.0, 0.0],
                                         [0.0, 0.0, 0.0, 0.0, 3.0],
                                         [0.0, 0.0, 1.0, 4.0, 2.0]]]],
 '3x2 windows, stride 3': [[[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0],
                             [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 2.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]]}
# The float32 case has the same integer inputs, so the same expected values.
BACKWARD_DX['tiling 2x2 windows, stride 2, float32'] = BACKWARD_DX['tiling 2x2 windows, stride 2']
BACKWARD_MISTAKES = {'tiling 2x2 windows, stride 2': {'1603dbfdfe383064': 'every element',
                                  '69b7886d8f0c687c': 'evenly',
                                  'd0bb785d2ee284d5': 'offset forgotten',
                                  '05cc36ab437c472d': 'stride left out of the offset',
                                  'f5f603e810f1457d': 'argmin'},
 'overlapping 3x3 windows, stride 2': {'d6bc7f14ca73968f': 'assigned',
                                       '17a0cd09dc9c6e34': 'every element',
                                       'daa764df7e6e1faf': 'evenly',
                                       '8deebbfc0c880fff': 'offset forgotten',
                                       '77697876d66241a0': 'stride left out of the offset',
                                       'c294b687f1d0c96c': 'argmin'},
 'tied maxima in 2x2 windows, stride 2': {'093e61c903071b5a': 'every element',
                                          '9df3ea37cc7e7fdf': 'evenly',
                                          'd101db696e6533c8': 'every tied maximum',
                                          '83281ea3f9d5fbc3': 'last tied maximum',
                                          '14f837bd4da13ef4': 'offset forgotten',
                                          'bacc33cd627dfdfb': 'stride left out of the offset',
                                          'f66f9fdecd12e2a8': 'argmin'},
 'overlapping 2x3 windows, stride 1': {'1369cff5b88065ec': 'assigned',
                                       'e11840b1f2447188': 'every element',
                                       '62467dc0bebaf643': 'evenly',
                                       '5944b54651418dbb': 'offset forgotten',
                                       'be0a192600a7ba7f': 'argmin'},
 '3x2 windows, stride 3': {'b2d654e7ffd065b0': 'every element',
                           '6392ac817c829d4f': 'evenly',
                           '846b25234961d9cb': 'offset forgotten',
                           '4efe01b6ac754e1d': 'stride left out of the offset',
                           '8ee737f09a3d35a2': 'argmin'},
 'tiling 2x2 windows, stride 2, float32': {'27222acaf977ebbd': 'every element',
                                           '8d625ed1c66e0d9b': 'evenly',
                                           '911ac812e30c49d7': 'offset forgotten',
                                           '3459100034599411': 'stride left out of the offset',
                                           'fc2997160e6cbe1c': 'argmin'}}
IM2COL_EXPECTED = ['8f678b46d85db670', '76af7b12961ce7ce', '34f086528ba0ef18', 'd37f7a773b8f8be5']
IM2COL_MISTAKES = [{'d2ed882878ca601c': 'swapped',
  '105f5606e33b350e': 'one image',
  '7a2c6773cab78485': 'no channels',
  '2085aabad8a21224': 'no pad',
  '41486c6b1070eb95': 'filters in rows',
  '6933ad21e6eb6590': 'no + 1',
  'd99df59d54d6afe9': 'pad once'},
 {'dcd3750845ee45b1': 'swapped',
  '6a0d93c478c973e1': 'one image',
  'ceda7ae473856d73': 'no channels',
  'a373732f6b8fe486': 'no pad',
  '3e946574155c358d': 'no stride',
  '0dfe584c3b190441': 'filters in rows',
  'b88131b70d260384': 'width from height'},
 {'f7fe6047609bbcfb': 'swapped', 'f9ad400210616236': 'no + 1'},
 {'1d1fcf46f901bb16': 'swapped',
  'b976df4fab894f2a': 'one image',
  '1d1dafb549134f34': 'no channels',
  '075a873150b1ed59': 'no pad',
  'c39f1589102fabe9': 'no stride',
  '36345ee8196cf994': 'filters in rows',
  '6b3e95e02f174c59': 'width from height'}]


# ---------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------


def _digest(array, label):
    try:
        return answer_digest(np.asarray(array, dtype=np.float64), tag=label)
    except (TypeError, ValueError):
        return None


def _unpack(result, name):
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"what {name} returns", "a pair (out, cache)", type(result).__name__,
             "keep the last lines of the function: cache = (x, pool_param); return out, cache")
    return result[0]


def _run(function, args, name, what, explain):
    try:
        return call_student(function, *args, name=name, where=WHERE)
    except (IndexError, ValueError, TypeError) as err:
        fail(what, "no error", f"{type(err).__name__}: {err}", explain(err))


# ---------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------

FORWARD_MESSAGES = {
    "mean": "average pooling instead of max pooling: each output is the mean of its window; max "
            "pooling keeps the largest value: window.max()",
    "min": "the minimum of each window instead of the maximum (min() for max()): max pooling keeps "
           "the largest value, window.max()",
    "stride ignored": "the stride was ignored (windows moved by 1): output (i, j) starts at row i*S and "
                      "column j*S of the input: slice x[n, c, i*S:i*S + PH, j*S:j*S + PW]",
    "stride-size window": "windows of the wrong size (S by S instead of PH by PW): a window is PH rows "
                          "by PW columns, x[n, c, i*S:i*S + PH, j*S:j*S + PW]; its size does not "
                          "depend on the stride",
    "window one short": "windows of the wrong size (one row and one column short): the slice "
                        "i*S:i*S + PH already includes PH rows, no - 1",
    "window one too large": "windows of the wrong size (one row and one column too many): the slice "
                            "i*S:i*S + PH has PH rows, no + 1",
    "pool sizes swapped": "pool_height and pool_width are swapped: a window is pool_height rows (along H) "
                          "by pool_width columns (along W): x[n, c, i*S:i*S + PH, j*S:j*S + PW]",
    "last channel skipped": "the last channel was never computed (its outputs are still 0): loop over "
                            "every channel, range(C)",
}


def _explain_forward_crash(err):
    message = str(err)
    if isinstance(err, TypeError) and ("integer" in message or "slice" in message):
        return ("an output size is not a whole number: use integer division //, "
                "H' = 1 + (H - PH) // S (or g.H_out and g.W_out)")
    if isinstance(err, ValueError) and "zero-size" in message:
        return ("a window was empty: it started past the bottom or right edge of x. Looks like the "
                "output size was computed without the stride: H' = 1 + (H - PH) // S, not H - PH + 1 "
                "(g.out_shape has it)")
    return "read the traceback above: it ends at the line of your code that failed"


def _check_forward_case(forward, label, x_shape, pool_param, dtype, k):
    g_name = "max_pool_forward_naive"
    x = fixed_values(x_shape, k, dtype)
    x_before = x.copy()
    what = f"{g_name} on {label}, x of shape {x_shape}, pool_param {pool_param}"
    result = _run(forward, (x, dict(pool_param)), g_name, what, _explain_forward_crash)
    if not np.array_equal(x, x_before):
        fail(f"{what}: the input x", "unchanged", "a modified x",
             "pooling reads x and writes only into out; do not assign into x (and do not sort or "
             "change a window in place: it is a view of x)")
    out = require_array(_unpack(result, g_name), f"{g_name} output ({label})",
                        "out should be a numpy array of shape (N, C, H', W')")
    expected = np.array(FORWARD_OUT[label], dtype=dtype)
    N, C, H, W = x_shape
    PH, PW = pool_param["pool_height"], pool_param["pool_width"]
    if out.shape != expected.shape:
        hint = ("H' = 1 + (H - PH) / S and W' = 1 + (W - PW) / S, with integer division; the geometry "
                "g computed at the top of the function has them: np.zeros(g.out_shape, dtype=x.dtype)")
        if out.shape == (N, C, H - PH + 1, W - PW + 1):
            hint = "looks like the stride was ignored (output sized without the stride). " + hint
        elif out.shape == (N, C, expected.shape[3], expected.shape[2]) and PH != PW:
            hint = "height and width are swapped (pool_height against H, pool_width against W). " + hint
        fail(f"{what}: output shape", "(N, C, H', W') for this input", out.shape, hint)
    if out.dtype != x.dtype:
        fail(f"{what}: output dtype", x.dtype, out.dtype,
             "keep the caller's dtype: allocate out with dtype=x.dtype (integers would also cut the "
             "values)")
    if close(out, expected, EXACT_FLOAT32 if dtype == np.float32 else EXACT_FLOAT64):
        return
    key = FORWARD_MISTAKES[label].get(_digest(out, label))
    if key is not None:
        fail(what, f"the max of each {PH}x{PW} window", "something else",
             f"looks like {FORWARD_MESSAGES[key]}")
    first = tuple(int(v) for v in np.argwhere(~np.isclose(out, expected))[0])
    fail(what, f"the max of each {PH}x{PW} window", f"a wrong value at out{first}",
         "out[n, c, i, j] is the max of x[n, c, i*S:i*S + PH, j*S:j*S + PW]; "
         "check the four loops (n, c, i, j) and the slice")


def check_max_pool_forward(forward):
    """Check a max-pooling forward pass on fixed inputs with outputs written out below.

    Cases: windows that tile the input, overlapping windows, non-square
    windows, stride 3, and a float32 input.
    """
    for case in FORWARD_CASES:
        _check_forward_case(forward, *case)
    passed(f"max_pool_forward_naive gives the maximum of every window in {len(FORWARD_CASES)} worked cases "
           "(tiling, overlapping and non-square windows, stride 3, float32).")


# ---------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------

BACKWARD_MESSAGES = {
    "assigned": "= instead of += : with overlapping windows one input can be the maximum of several "
                "windows, and each of them sends it a gradient; accumulate with dx[...] += dout[n, c, i, j]",
    "every element": "the gradient was sent to every element of the window: only the maximum moved the "
                     "output; the other elements of the window get no gradient",
    "evenly": "the gradient was spread evenly over the window (average pooling's backward pass): max "
              "pooling sends the whole dout[n, c, i, j] to the window's maximum",
    "every tied maximum": "the gradient was sent to every tied maximum: when several elements share the "
                          "maximum, send dout to one of them only (the library's convention: the first "
                          "in row-major order, which np.argmax(window) returns)",
    "last tied maximum": "the gradient went to the last tied maximum instead of the first: the library's "
                         "convention is the first maximum in row-major order, as "
                         "np.unravel_index(np.argmax(window), window.shape) gives",
    "offset forgotten": "the window's offset was forgotten: the maximum (a, b) of window (i, j) is at "
                        "x[n, c, i*S + a, j*S + b], not x[n, c, a, b]",
    "stride left out of the offset": "the stride was left out of the offset: the maximum (a, b) of window "
                                     "(i, j) is at x[n, c, i*S + a, j*S + b], not x[n, c, i + a, j + b]",
    "argmin": "the gradient went to the minimum of each window (argmin for argmax): it belongs to the "
              "maximum, np.argmax(window)",
    "divmod by pool_height": "the flat index of the maximum was unravelled with pool_height (divmod by the "
                             "wrong size, or height and width swapped): a window row has pool_width "
                             "elements, so (a, b) = divmod(k, pool_width) = "
                             "np.unravel_index(k, window.shape)",
}


def _explain_backward_crash(err):
    if isinstance(err, IndexError):
        return ("an index ran past the edge of dx: the position of the maximum inside window (i, j) is "
                "(a, b) = np.unravel_index(np.argmax(window), window.shape), i.e. divmod(k, pool_width) "
                "(the window's shape, not x's), and it sits at dx[n, c, i*S + a, j*S + b]")
    return "read the traceback above: it ends at the line of your code that failed"


def _check_backward_case(backward, label, x, pool_param, dout):
    name = "max_pool_backward_naive"
    expected = np.array(BACKWARD_DX[label], dtype=x.dtype)
    cache = (x.copy(), dict(pool_param))
    what = f"{name} on {label}, x of shape {x.shape}, pool_param {pool_param}"
    dx = _run(backward, (dout.copy(), cache), name, what, _explain_backward_crash)
    if not np.array_equal(cache[0], x):
        fail(f"{what}: the cached x", "unchanged", "changed in place",
             "the backward pass only reads x; a window is a view of x, so window -= ... or "
             "window.sort() modifies x: work on window.copy() or use np.argmax(window)")
    dx = require_array(dx, f"{name} result ({label})", "return dx, a numpy array shaped like x")
    if dx.shape != x.shape:
        fail(f"{what}: dx shape", x.shape, dx.shape, "dx has the shape of x: np.zeros_like(x)")
    if dx.dtype != x.dtype:
        fail(f"{what}: dx dtype", x.dtype, dx.dtype,
             "keep the caller's dtype: dx = np.zeros_like(x) (float32 in, float32 out)")
    if close(dx, expected, EXACT_FLOAT32 if x.dtype == np.float32 else EXACT_FLOAT64):
        return
    total, total_dout = float(np.sum(dx)), float(np.sum(dout))
    sums = f"sum(dx) = {total:.4f}, sum(dout) = {total_dout:.4f}"
    key = BACKWARD_MISTAKES[label].get(_digest(dx, label))
    if key is not None:
        fail(what, "each dout[n, c, i, j] sent to the first maximum of its window",
             f"something else ({sums})", f"looks like {BACKWARD_MESSAGES[key]}")
    if total < total_dout - 1e-6:
        hint = ("some windows' gradient is lost: check that the loops visit every (n, c, i, j) "
                "and that you accumulate with +=")
    elif total > total_dout + 1e-6:
        hint = "more gradient came out than went in: each dout[n, c, i, j] goes to one element only"
    else:
        hint = ("the gradient adds up but lands on the wrong elements: the maximum of window (i, j) "
                "is at x[n, c, i*S + a, j*S + b] where (a, b) = np.unravel_index(np.argmax(window), "
                "window.shape)")
    first = tuple(int(v) for v in np.argwhere(~np.isclose(dx, expected))[0])
    fail(what, "each dout[n, c, i, j] sent to the first maximum of its window",
         f"a wrong value at dx{first} ({sums})", hint)


def check_max_pool_backward(backward):
    """Check a max-pooling backward pass on fixed inputs with gradients written out below.

    Cases: tiling windows, overlapping windows whose maxima are shared, tied
    maxima, non-square windows, stride 3, float32.
    """
    cases = backward_cases()
    for case in cases:
        _check_backward_case(backward, *case)
    passed(f"max_pool_backward_naive gives the right gradient in {len(cases)} worked cases (tiling, "
           "overlapping windows sharing a maximum, tied maxima, non-square windows, stride 3, float32).")


# ---------------------------------------------------------------------------
# im2col
# ---------------------------------------------------------------------------

IM2COL_MESSAGES = {
    "swapped": "rows and columns are swapped: one row per filter weight (C*HH*WW rows) and one column "
               "per receptive field, so that w.reshape(F, -1) @ cols multiplies (F, C*HH*WW) by "
               "(C*HH*WW, columns)",
    "one image": "the columns count one image only: the receptive fields of all N images sit side by "
                 "side, N * H' * W' columns",
    "no channels": "the rows leave out the channels: a filter spans all C input channels, so a "
                   "receptive field holds C * HH * WW numbers",
    "no pad": "the padding was left out of H' and W': H' = (H + 2P - HH) // S + 1",
    "no stride": "the stride was left out of H' and W': with stride S the filter visits every S-th "
                 "position, H' = (H + 2P - HH) // S + 1",
    "filters in rows": "the rows include the number of filters: the filters live in w, not in the im2col "
                       "matrix; its rows are C * HH * WW",
    "no + 1": "you forgot the + 1 in H' = (H + 2P - HH) // S + 1 (the first position is at 0, then one "
              "more every S steps): off by one",
    "pad once": "the padding was counted once: P zeros go on each side, both sides, so H + 2P",
    "width from height": "the width W' was computed from the height: W' = (W + 2P - WW) // S + 1 uses W "
                         "and WW",
}


def check_im2col_shape(im2col_shape):
    """Check im2col_shape(x_shape, w_shape, stride, pad) -> (rows, columns) on a few layers."""
    for index, (x_shape, w_shape, stride, pad) in enumerate(IM2COL_CASES):
        got = call_student(im2col_shape, x_shape, w_shape, stride, pad, name="im2col_shape")
        what = f"im2col_shape({x_shape}, {w_shape}, stride={stride}, pad={pad})"
        if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != 2:
            fail(what, "a pair of whole numbers (rows, columns)", repr(got),
                 "return (rows, columns) as a tuple of ints")
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in got):
            fail(what, "a pair of ints (whole numbers)",
                 "a pair of " + ", ".join(type(v).__name__ for v in got),
                 "sizes are whole numbers: compute H' and W' with integer division //, not /, "
                 "which gives a float")
        got_pair = tuple(int(v) for v in got)
        tag = f"im2col {index}"
        if answer_digest(got_pair, tag=tag) == IM2COL_EXPECTED[index]:
            continue
        key = IM2COL_MISTAKES[index].get(answer_digest(got_pair, tag=tag))
        hint = (f"looks like {IM2COL_MESSAGES[key]}" if key is not None else
                "rows: C * HH * WW (one per filter weight); columns: N * H' * W' (one per output "
                "position of every image), with H' = (H + 2P - HH) // S + 1")
        fail(what, "(C*HH*WW, N*H'*W') for this layer", got_pair, hint)
    passed("im2col_shape gives (C*HH*WW, N*H'*W') for every layer tried.")
