"""Checks for notebook 02, the convolution layer.

- ``check_conv_forward(conv_forward)``: the worked example of the notebook,
  then small fixed cases (several images, channels and filters; non-square
  inputs and filters; padding; stride 2; 1x1 filters with stride 3; float32);
- ``check_conv_backward(conv_forward, conv_backward)``: dx, dw and db on a
  case whose windows do not overlap (stride 2, 2x2 filters), cases where they
  do, 1x1 filters with stride 3 and float32; then, on the overlapping case, a
  float64 numerical gradient of your own (already checked) forward pass.

Every input is made of small whole numbers (``fixed_values``) and every
expected output is written out below as a literal. When an output is wrong,
the check names the common mistake whose precomputed output it matches: those
outputs are stored as salted hashes (``answer_digest``), one table per case.
tests/test_checks_conv.py recomputes every literal and hash from a reference
implementation and from mutants kept there, so a wrong literal fails a test.
Shapes are checked before values, because a wrong shape already says a lot
(the size without padding, the size with stride 1, ...). A crash inside the
student's code is explained with the shapes it involved.
"""

import re

import numpy as np

from cs231n_lib.checks.common import (
    LAYERS_FILE,
    NUMERICAL_GRADIENT,
    SUMMED_FLOAT32,
    SUMMED_FLOAT64,
    answer_digest,
    call_student,
    fail,
    max_relative_error,
    passed,
    require_array,
)
from cs231n_lib.gradient_check import eval_numerical_gradient_array

WHERE = LAYERS_FILE

# The worked example of the notebook: a 1x1x4x4 input, one 2x2 filter, bias 1,
# stride 1, no padding. Every entry of WORKED_OUT is worked out by hand there.
WORKED_X = np.array([[1., 2., 0., 1.],
                     [0., 1., 3., 1.],
                     [2., 1., 0., 0.],
                     [1., 0., 1., 2.]]).reshape(1, 1, 4, 4)
WORKED_W = np.array([[1., 2.],
                     [0., -1.]]).reshape(1, 1, 2, 2)
WORKED_B = np.array([1.])
WORKED_PARAM = {"stride": 1, "pad": 0}
WORKED_OUT = np.array([[5., 0., 2.],
                       [2., 8., 6.],
                       [5., 1., -1.]]).reshape(1, 1, 3, 3)
WORKED = "the worked example"


def fixed_values(shape, k, m=7, dtype=np.float64):
    """Small whole numbers in a fixed scrambled order: (index * k + 1) mod m, centred on 0."""
    size = int(np.prod(shape))
    return (((np.arange(size) * k + 1) % m) - m // 2).reshape(shape).astype(dtype)


class _Case:
    """One fixed input: x (N, C, H, W), w (F, C, HH, WW), b (F,), stride and pad."""

    def __init__(self, label, x, w, b, stride, pad, dout=None):
        self.label = label
        self.x, self.w, self.b = x, w, b
        self.stride, self.pad = stride, pad
        self.dout = dout

    @property
    def param(self):
        return {"stride": self.stride, "pad": self.pad}

    @property
    def dims(self):
        N, C, H, W = self.x.shape
        F, _, HH, WW = self.w.shape
        return N, C, H, W, F, HH, WW, self.stride, self.pad

    @property
    def overlapping(self):
        return self.stride < max(self.w.shape[2:])

    def describe(self):
        return (f"{self.label} (x {self.x.shape}, w {self.w.shape}, "
                f"stride {self.stride}, pad {self.pad})")


def _fixed_case(label, x_shape, w_shape, stride, pad, dout_shape=None, dtype=np.float64):
    x = fixed_values(x_shape, 5, 7, dtype)
    w = fixed_values(w_shape, 3, 5, dtype)
    b = fixed_values((w_shape[0],), 2, 5, dtype)
    dout = None if dout_shape is None else fixed_values(dout_shape, 4, 5, dtype)
    return _Case(label, x, w, b, stride, pad, dout)


def forward_cases():
    """The cases check_conv_forward runs, in order (fresh arrays on every call)."""
    return [
        _Case(WORKED, WORKED_X.copy(), WORKED_W.copy(), WORKED_B.copy(), 1, 0),
        _fixed_case("several images, channels and filters", (2, 2, 3, 5), (3, 2, 2, 3), 1, 0),
        _fixed_case("zero padding", (1, 2, 3, 4), (2, 2, 3, 3), 1, 1),
        _fixed_case("stride 2 with padding", (2, 2, 5, 3), (3, 2, 3, 3), 2, 1),
        _fixed_case("1x1 filters, stride 3", (1, 2, 7, 4), (2, 2, 1, 1), 3, 0),
        _fixed_case("stride 2 with padding in float32", (2, 2, 5, 3), (3, 2, 3, 3), 2, 1, dtype=np.float32),
    ]


def backward_cases():
    """The cases check_conv_backward runs, in order: first one without overlapping windows."""
    return [
        _fixed_case("windows that do not overlap", (2, 2, 4, 6), (2, 2, 2, 2), 2, 1, (2, 2, 3, 4)),
        _fixed_case("overlapping windows", (2, 2, 4, 3), (2, 2, 3, 3), 1, 1, (2, 2, 4, 3)),
        _fixed_case("non-square filters, overlapping in height", (2, 2, 5, 4), (2, 2, 3, 2), 2, 1, (2, 2, 3, 3)),
        _fixed_case("1x1 filters, stride 3", (1, 2, 7, 4), (2, 2, 1, 1), 3, 0, (1, 2, 3, 2)),
        _fixed_case("non-square filters in float32", (2, 2, 5, 4), (2, 2, 3, 2), 2, 1, (2, 2, 3, 3),
                    dtype=np.float32),
    ]


# Literals and salted hashes, recomputed by tests/test_checks_conv.py.
FORWARD_OUT = {'the worked example': [[[[5.0, 0.0, 2.0], [2.0, 8.0, 6.0], [5.0, 1.0, -1.0]]]],
 'several images, channels and filters': [[[[21.0, -2.0, -4.0], [-17.0, -5.0, 21.0]],
                                           [[-16.0, -12.0, 13.0], [-17.0, 29.0, -16.0]],
                                           [[-13.0, 8.0, -20.0], [8.0, 8.0, -13.0]]],
                                          [[[-4.0, -20.0, 20.0], [21.0, -2.0, -4.0]],
                                           [[13.0, 24.0, -14.0], [-16.0, -12.0, 13.0]],
                                           [[-20.0, 8.0, -13.0], [-13.0, 8.0, -20.0]]]],
 'zero padding': [[[[-12.0, -6.0, 5.0, -3.0], [-17.0, 16.0, 28.0, -18.0], [-10.0, 5.0, -2.0, -13.0]],
                   [[8.0, -12.0, 0.0, 21.0], [-9.0, -9.0, 9.0, -4.0], [-9.0, 12.0, 23.0, -8.0]]]],
 'stride 2 with padding': [[[[-11.0, -12.0], [13.0, 18.0], [-4.0, -19.0]],
                            [[-9.0, -5.0], [10.0, 14.0], [2.0, 4.0]],
                            [[3.0, -3.0], [-8.0, -20.0], [-2.0, 12.0]]],
                           [[[0.0, 2.0], [-2.0, -7.0], [-19.0, -4.0]],
                            [[1.0, 15.0], [10.0, -10.0], [-8.0, 4.0]],
                            [[-3.0, 8.0], [7.0, 7.0], [8.0, -3.0]]]],
 '1x1 filters, stride 3': [[[[-3.0, -2.0], [1.0, 2.0], [-2.0, -1.0]],
                            [[5.0, 3.0], [-3.0, -5.0], [3.0, 1.0]]]]}
# The float32 case has the same integer inputs, so the same expected values.
FORWARD_OUT['stride 2 with padding in float32'] = FORWARD_OUT['stride 2 with padding']
FORWARD_MISTAKES = {'the worked example': {'c35eb04bab285878': 'bias forgotten',
                        'e7e3ecf4afc5cb7f': 'bias twice',
                        '216b7c804c20602a': 'bias subtracted',
                        '0edd1eaed0906d09': 'flipped',
                        'cb1749fa1747c674': 'flipped rows',
                        '4785d6df0d5f1779': 'transposed',
                        '7e325526c7d5069a': 'off by one',
                        '391eb83d0d3c34cc': 'mean',
                        '05d07cce2b377bfa': 'last image'},
 'several images, channels and filters': {'48ff961efaffc515': 'bias forgotten',
                                          '3a952e14c20b0149': 'bias twice',
                                          '576076b3b23f8951': 'bias subtracted',
                                          '11d1d7b451d32792': 'bias of image',
                                          '44a00f375fb13b59': 'flipped',
                                          '90bb98e2cefc9e10': 'flipped rows',
                                          'a040efdb265a9a5b': 'first channel',
                                          'f88dfbc890443130': 'mean',
                                          '05cd905fa1514c05': 'last image'},
 'zero padding': {'88b4165aa58ccd1d': 'bias forgotten',
                  '1f6b3ac0ae144b79': 'bias twice',
                  '9980a0e9baf9bbe8': 'bias subtracted',
                  '1f20b44c8f82d48a': 'bias of image',
                  'f88f5a961ab32c54': 'flipped',
                  'dbc3483526d7d104': 'flipped rows',
                  '1b8a7620974f98be': 'transposed',
                  '5951cf84bbbaf7c0': 'padding one side',
                  'f6535cbc76deb9ec': 'first channel',
                  'becbf36ee7a0ed0d': 'mean',
                  'f86266e66187e051': 'last image',
                  'd3f6a6f96d821fbb': 'too much padding',
                  'a8b52030e5b19668': 'batch padded',
                  'c073f63d7fa4d745': 'channels padded'},
 'stride 2 with padding': {'29d42e9fcdecd8b3': 'bias forgotten',
                           '23d1125f074962aa': 'bias twice',
                           '759198c019440516': 'bias subtracted',
                           'dc9658b985322185': 'bias of image',
                           '865d4622616653c6': 'flipped',
                           'e259fc396965df89': 'flipped rows',
                           'a796218f701eb93d': 'transposed',
                           '1037aba78f9ecb93': 'stride on output',
                           '74628f383609da5a': 'stride width only',
                           '9d874a84c916d43a': 'stride in output loop',
                           '40dbb6575a36dc59': 'padding one side',
                           '6c0584092e79b71c': 'first channel',
                           '26e6baec30fedfe7': 'mean',
                           'a21584b1bf3a6f69': 'last image',
                           'a11be495ef8f3f7a': 'too much padding',
                           '9f334030a7553c4e': 'batch padded',
                           'f0b5a82aa33ff107': 'channels padded'},
 '1x1 filters, stride 3': {'49bc3871c8345ece': 'bias forgotten',
                           'c52e0cdeb0de04fe': 'bias twice',
                           '8fc2c7ceeff3740c': 'bias subtracted',
                           '087abc5614920ec3': 'bias of image',
                           '015b6b15b35af3f9': 'stride on output',
                           'b6141e33526daed4': 'stride width only',
                           '07ef4a4f27fa2b04': 'stride in output loop',
                           'f26c2e825bf0b44d': 'off by one',
                           '7d2bed96a6384c8a': 'mean',
                           '508b2fcf412f9542': 'last image'},
 'stride 2 with padding in float32': {'30bf120969423cc4': 'bias forgotten',
                                      '441224ca94bd7174': 'bias twice',
                                      '90f816d288d78b16': 'bias subtracted',
                                      'b0ff248b40a49b39': 'bias of image',
                                      '991e34bf40f40757': 'flipped',
                                      'c92559c87af87a2a': 'flipped rows',
                                      'e80c8e9f7b61f698': 'transposed',
                                      '6c352aa531d77de2': 'stride on output',
                                      'c75f03e6bc4f9f33': 'stride width only',
                                      '14a87392ac157118': 'stride in output loop',
                                      'affecdc611db8dbf': 'padding one side',
                                      '3c937a7e5d5ee7f2': 'first channel',
                                      'eed4c80a0d2516d8': 'mean',
                                      '396fd07b7c905357': 'last image',
                                      '13faf07ab1df1ada': 'too much padding',
                                      '86c90fcf807fa039': 'batch padded',
                                      '44bb7485ad8f0540': 'channels padded'}}
BACKWARD_GRADS = {'windows that do not overlap': {'dx': [[[[6.0, -1.0, 6.0, 0.0, -4.0, 1.0],
                                          [-2.0, -3.0, 0.0, 0.0, -3.0, -2.0],
                                          [-4.0, -2.0, 6.0, -1.0, 6.0, 0.0],
                                          [1.0, 4.0, -2.0, -3.0, 0.0, 0.0]],
                                         [[-2.0, -3.0, -1.0, 4.0, 0.0, 1.0],
                                          [4.0, -1.0, -3.0, -2.0, 0.0, 2.0],
                                          [2.0, 0.0, -2.0, -3.0, -1.0, 4.0],
                                          [1.0, 0.0, 4.0, -1.0, -3.0, -2.0]]],
                                        [[[-4.0, -2.0, 6.0, -1.0, 6.0, 0.0],
                                          [1.0, 4.0, -2.0, -3.0, 0.0, 0.0],
                                          [-4.0, 2.0, -4.0, -2.0, 6.0, -1.0],
                                          [4.0, 1.0, 1.0, 4.0, -2.0, -3.0]],
                                         [[2.0, 0.0, -2.0, -3.0, -1.0, 4.0],
                                          [1.0, 0.0, 4.0, -1.0, -3.0, -2.0],
                                          [1.0, -2.0, 2.0, 0.0, -2.0, -3.0],
                                          [-2.0, 1.0, 1.0, 0.0, 4.0, -1.0]]]],
                                 'dw': [[[[-13.0, -6.0], [-20.0, -13.0]], [[-6.0, 8.0], [4.0, -6.0]]],
                                        [[[4.0, 20.0], [-6.0, 4.0]], [[-20.0, -12.0], [-13.0, -20.0]]]],
                                 'db': [-4.0, 3.0]},
 'overlapping windows': {'dx': [[[[10.0, -13.0, 4.0],
                                  [-13.0, 20.0, 10.0],
                                  [-12.0, -2.0, -12.0],
                                  [9.0, 16.0, -8.0]],
                                 [[6.0, 9.0, -11.0],
                                  [0.0, -16.0, 14.0],
                                  [14.0, -16.0, 0.0],
                                  [-11.0, 9.0, 6.0]]],
                                [[[11.0, 14.0, -6.0],
                                  [0.0, -21.0, 9.0],
                                  [11.0, -18.0, 2.0],
                                  [-8.0, 16.0, 9.0]],
                                 [[-7.0, 10.0, 10.0],
                                  [-13.0, 4.0, -13.0],
                                  [11.0, 14.0, -12.0],
                                  [-2.0, -12.0, 9.0]]]],
                         'dw': [[[[-8.0, 0.0, 1.0], [15.0, -3.0, 9.0], [0.0, -8.0, -11.0]],
                                 [[16.0, 0.0, -2.0], [-8.0, -5.0, -3.0], [-14.0, 9.0, 5.0]]],
                                [[[14.0, -14.0, 6.0], [-7.0, -11.0, 6.0], [-3.0, 19.0, 2.0]],
                                 [[-7.0, 3.0, 1.0], [-5.0, 8.0, -1.0], [1.0, 3.0, -7.0]]]],
                         'db': [-4.0, 3.0]},
 'non-square filters, overlapping in height': {'dx': [[[[2.0, -1.0, 5.0, -2.0],
                                                        [-1.0, -4.0, 0.0, -1.0],
                                                        [-4.0, 1.0, -1.0, 0.0],
                                                        [-3.0, 0.0, 8.0, -2.0],
                                                        [5.0, -2.0, -2.0, 2.0]],
                                                       [[-1.0, 5.0, -4.0, -2.0],
                                                        [0.0, 0.0, -1.0, -4.0],
                                                        [5.0, -1.0, 2.0, 2.0],
                                                        [-3.0, 8.0, -4.0, -1.0],
                                                        [-4.0, -2.0, -2.0, -4.0]]],
                                                      [[[-4.0, 1.0, -1.0, 0.0],
                                                        [-3.0, 0.0, 8.0, -2.0],
                                                        [5.0, -2.0, -2.0, 2.0],
                                                        [0.0, -1.0, -4.0, 7.0],
                                                        [-1.0, 0.0, 2.0, -1.0]],
                                                       [[5.0, -1.0, 2.0, 2.0],
                                                        [-3.0, 8.0, -4.0, -1.0],
                                                        [-4.0, -2.0, -2.0, -4.0],
                                                        [-1.0, -4.0, 8.0, -3.0],
                                                        [2.0, 2.0, -1.0, 5.0]]]],
                                               'dw': [[[[8.0, -21.0], [-12.0, 2.0], [-19.0, 12.0]],
                                                       [[-2.0, 0.0], [11.0, -30.0], [11.0, -11.0]]],
                                                      [[[14.0, 0.0], [13.0, 3.0], [7.0, -2.0]],
                                                       [[-21.0, 3.0], [2.0, -11.0], [12.0, 2.0]]]],
                                               'db': [-2.0, 1.0]},
 '1x1 filters, stride 3': {'dx': [[[[1.0, 0.0, 0.0, 2.0],
                                    [0.0, 0.0, 0.0, 0.0],
                                    [0.0, 0.0, 0.0, 0.0],
                                    [-2.0, 0.0, 0.0, -1.0],
                                    [0.0, 0.0, 0.0, 0.0],
                                    [0.0, 0.0, 0.0, 0.0],
                                    [0.0, 0.0, 0.0, 1.0]],
                                   [[2.0, 0.0, 0.0, -8.0],
                                    [0.0, 0.0, 0.0, 0.0],
                                    [0.0, 0.0, 0.0, 0.0],
                                    [2.0, 0.0, 0.0, 2.0],
                                    [0.0, 0.0, 0.0, 0.0],
                                    [0.0, 0.0, 0.0, 0.0],
                                    [2.0, 0.0, 0.0, 2.0]]]],
                           'dw': [[[[11.0]], [[11.0]]], [[[5.0]], [[5.0]]]],
                           'db': [-1.0, -2.0]}}
# The float32 case has the same integer inputs, so the same expected values.
BACKWARD_GRADS['non-square filters in float32'] = BACKWARD_GRADS['non-square filters, overlapping in height']
BACKWARD_MISTAKES = {'windows that do not overlap': {'a69f0069672329b4': 'dx assigned',
                                 '3e331e1d9c93ded6': 'dw assigned',
                                 '97f54ef6fce62e51': 'dw reset',
                                 'ec578ccdbcb6e706': 'dw averaged',
                                 '9a3781a8528807b6': 'db mean',
                                 'ab36ec16515f39be': 'db over filters',
                                 '694e9ca870b80b38': 'stride ignored',
                                 '4cf615cd058667ae': 'stride ignored',
                                 '165ae7e38833fb8f': 'flipped dx',
                                 '38faeac656789506': 'dx dw swapped',
                                 'c4351f43f861bb0f': 'dx dw swapped',
                                 '790fcbf3ac267e80': 'cropped top-left'},
 'overlapping windows': {'b89eebc829397c78': 'dx assigned',
                         '50d0b43a0a7a9b88': 'dw assigned',
                         '28ab36b8a7a9ceef': 'dw reset',
                         'a7fbff14c89c3ec1': 'dw averaged',
                         '934606ae1650c886': 'db mean',
                         '494a22e82b2dd49f': 'db over filters',
                         '5c8b43e0f564f8f3': 'flipped dx',
                         'd636324e18dd9163': 'dx dw swapped',
                         '249b4f3f07285392': 'dx dw swapped',
                         '14f53b3383d4b718': 'cropped top-left',
                         '0cab9c7a0b1aded0': 'dx assigned',
                         '004d260dcb533533': 'dx assigned'},
 'non-square filters, overlapping in height': {'1f5b326b5aa819de': 'dx assigned',
                                               'aca0cea2ba5be892': 'dw assigned',
                                               '19f39e0032682e1f': 'dw reset',
                                               '0fd339a8fc7ef7da': 'dw averaged',
                                               '87186d95adb3aeca': 'db mean',
                                               '94de8b747fdb109e': 'db over filters',
                                               '490fb6f7823b1f5b': 'stride ignored',
                                               'bc8b39718942634c': 'stride ignored',
                                               'a17bd09b295f357c': 'flipped dx',
                                               '37bbd681f8c50c1d': 'dx dw swapped',
                                               '7b406b96d1b3922b': 'dx dw swapped',
                                               '2d28e63b4ba72f36': 'cropped top-left',
                                               '1ec09f5b522f72ac': 'dx assigned',
                                               '68e545a70c707951': 'dx assigned'},
 '1x1 filters, stride 3': {'3386d3f926da7f55': 'dx assigned',
                           '98b085c2ef8f2a70': 'dw assigned',
                           'ab761eba3b50df2e': 'db mean',
                           '5ab09fe2642cb5a0': 'stride ignored',
                           'dd3c0b0e76a369c6': 'stride ignored',
                           '38b74dff775dd568': 'dx dw swapped',
                           '02a1f23cb5994602': 'dx dw swapped'},
 'non-square filters in float32': {'40cdcbb859789ab5': 'dx assigned',
                                   '34fd6e37b801e655': 'dw assigned',
                                   '2b2516601e665649': 'dw reset',
                                   'd91a02dfcaaf5514': 'dw averaged',
                                   'af6acf69e015cfa6': 'db mean',
                                   'dac6e326b4f4a620': 'db over filters',
                                   'f3679cd7acf094f5': 'stride ignored',
                                   '26d4abaab6c5ce72': 'stride ignored',
                                   '6ad72bee78774e7d': 'flipped dx',
                                   '718646fece79c0e8': 'dx dw swapped',
                                   'a9e461bab192b221': 'dx dw swapped',
                                   'ffd694c09570718c': 'cropped top-left',
                                   '658f718d0289bbcf': 'dx assigned',
                                   'cb4c6b18aa2f7911': 'dx assigned'}}


def _size(n, k, stride, pad):
    """Output positions along one axis, rounded down as integer division would; None if none fit."""
    return (n + 2 * pad - k) // stride + 1 if n + 2 * pad >= k else None


def _shape_text(shape):
    return "(" + ", ".join(str(int(v)) for v in shape) + ")"


# ---------------------------------------------------------------------------
# Explaining a crash inside the student's code
# ---------------------------------------------------------------------------

_TUPLE = re.compile(r"\(([\d, ]*)\)")


def _shapes_in(message):
    """Every tuple of integers written in an error message, e.g. '(3,2,3) (3,3,3)'."""
    shapes = []
    for text in _TUPLE.findall(message):
        values = [v for v in text.replace(" ", "").split(",") if v]
        if values:
            shapes.append(tuple(int(v) for v in values))
    return shapes


def _explain_crash(err, case, backward=False):
    message = str(err)
    N, C, H, W, F, HH, WW, S, P = case.dims
    padded = f"({N}, {C}, {H + 2 * P}, {W + 2 * P})"
    shapes = _shapes_in(message) if "broadcast" in message else []
    if (C, HH - 1, WW - 1) in shapes:
        return (f"a window of shape ({C}, {HH - 1}, {WW - 1}) is one row and one column short (off by "
                f"one): the slice i*S:i*S + HH already has HH = {HH} rows, no - 1")
    for shape in shapes:
        if len(shape) >= 3 and P > 0 and shape[-3] == C + 2 * P and C + 2 * P != F:
            return (f"an array of shape {_shape_text(shape)} has {C + 2 * P} = C + 2P channels: looks "
                    f"like the padding was applied to the channel axis as well. Pad only height and "
                    f"width: np.pad(x, ((0, 0), (0, 0), (P, P), (P, P))) gives {padded}")
    for shape in shapes:
        if len(shape) >= 2 and shape[-2] <= HH and shape[-1] <= WW and shape[-2:] != (HH, WW):
            where = "dx" if backward else "x"
            return (f"a window of shape {_shape_text(shape)} is smaller than a {HH}x{WW} filter: "
                    f"the slice ran past the bottom or right edge of {where}, so the window was cut "
                    f"short. Looks like the padding was not applied: slice every window from the "
                    f"padded array (x_padded, {padded})"
                    + (", accumulate into a dx_padded of that same shape and crop P on each side at "
                       "the end" if backward else "")
                    + ". Window (i, j) starts at row i*S and column j*S of it")
    if shapes:
        return (f"a window and a filter w[f] must have the same shape (C, HH, WW) = ({C}, {HH}, {WW}); "
                f"the shapes in the error were {', '.join(_shape_text(s) for s in shapes)}")
    if isinstance(err, IndexError) and C != F and f"axis 1 with size {C}" in message:
        return (f"out has C = {C} channels, the depth of the input; its depth is the number of "
                f"filters, F = {F}: allocate out with shape (N, F, H', W'), one activation map per filter")
    H_out, W_out = _size(H, HH, S, P), _size(W, WW, S, P)
    for axis, size, loop in ((2, H_out, "i"), (3, W_out, "j")):
        if (isinstance(err, IndexError) and H_out != W_out
                and f"axis {axis} with size {size}" in message):
            return (f"an index ran past the end of out along axis {axis}, which has {size} positions: "
                    f"are the loops over height and width swapped, or over the input size instead of "
                    f"the output size? {loop} runs over range("
                    f"{'H_out' if axis == 2 else 'W_out'}) (i for rows, j for columns)")
    if isinstance(err, IndexError):
        return (f"an index ran past the end of an array: loop over the output positions "
                f"i in range(H_out), j in range(W_out), with H_out = 1 + (H + 2P - HH) // S, and take "
                f"windows from the padded input, which is {padded}")
    if isinstance(err, TypeError) and ("integer" in message or "slice" in message):
        return ("an index or a size is not a whole number: compute output sizes with integer "
                "division, 1 + (H + 2 * P - HH) // S, or use g.H_out and g.W_out")
    return "read the traceback above: it ends at the line of your code that failed"


def _run_student(function, args, name, case, backward=False):
    try:
        return call_student(function, *args, name=name, where=WHERE)
    except (ValueError, IndexError, TypeError) as err:
        fail(f"{name} on {case.describe()}", "no error",
             f"{type(err).__name__}: {err}", _explain_crash(err, case, backward))


# ---------------------------------------------------------------------------
# conv_forward
# ---------------------------------------------------------------------------

FORWARD_HINT = ("out[n, f, i, j] = b[f] + sum over c, a, b' of x_padded[n, c, i*S + a, j*S + b'] * "
                "w[f, c, a, b']: pad x with P zeros on each side of height and width, and slide each "
                "filter over it without flipping it")


def _forward_shape_mistake(shape, case):
    """Name the mistake that gives an output of this shape, or None."""
    N, C, H, W, F, HH, WW, S, P = case.dims
    H_out, W_out = _size(H, HH, S, P), _size(W, WW, S, P)
    formula = (f"H' = 1 + (H + 2P - HH) / S = 1 + ({H} + 2*{P} - {HH}) / {S} = {H_out} and "
               f"W' = 1 + ({W} + 2*{P} - {WW}) / {S} = {W_out}")
    unpadded = (_size(H, HH, S, 0), _size(W, WW, S, 0))
    if P > 0:
        if shape == (N, F) + unpadded:
            return (f"padding not applied: {_shape_text(shape)} is the output size without padding, "
                    f"1 + ({H} - {HH}) / {S} = {unpadded[0]} by 1 + ({W} - {WW}) / {S} = {unpadded[1]}; "
                    f"with P = {P} zeros on each side, {formula}. Pad x first: "
                    f"np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))")
        if len(shape) == 4 and shape[0] == N + 2 * P and shape[1] == F:
            return (f"padding applied to the batch axis: your output has {shape[0]} = N + 2P images "
                    f"for N = {N} inputs. Pad only height and width: "
                    f"np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))")
    if S > 1 and shape == (N, F, _size(H, HH, 1, P), _size(W, WW, 1, P)):
        return (f"stride not used: {_shape_text(shape)} is the output size for stride 1; with stride "
                f"{S}, {formula}. Loop over those output positions and start window (i, j) at row i*S "
                f"and column j*S of the padded input")
    if H_out != W_out and shape == (N, F, W_out, H_out):
        return f"height and width are swapped: out is (N, F, H', W') with {formula}"
    if C != F and shape == (N, C, H_out, W_out):
        return (f"out has C = {C} channels, the depth of the input; its depth is the number of "
                f"filters, F = {F}: one activation map per filter")
    if N != F and shape == (F, N, H_out, W_out):
        return "the first two axes are swapped: out is (N, F, H', W'), images first"
    return None




def _digest(array, tag):
    try:
        return answer_digest(np.asarray(array, dtype=np.float64), tag=tag)
    except (TypeError, ValueError):
        return None


FORWARD_MESSAGES = {
    "bias forgotten": "the bias was forgotten: add b[f] to every output of filter f",
    "bias twice": "the bias was added twice: once in the loop is enough",
    "bias subtracted": "the bias has the wrong sign (subtracted): out[n, f, i, j] = sum + b[f]",
    "bias of image": "the bias of image n, b[n], was added: each filter f has its own bias, b[f]",
    "flipped": "the filters are flipped: your output is the true (flipped) convolution. A CNN's "
               "convolution layer slides the filter as it is: window * w[f], no [::-1]",
    "flipped rows": "the filters are flipped along one axis (upside down or left to right): use w[f] "
                    "as it is",
    "transposed": "the filters are transposed (rows and columns exchanged): window[c, a, b'] meets "
                  "w[f, c, a, b'], so use w[f] as it is, no .T or transpose",
    "stride on output": "the stride was applied to the output instead of the input: window (i, j) "
                        "starts at row i*S and column j*S of the padded input, not at (i, j)",
    "stride width only": "the stride was ignored along the width: window (i, j) starts at column j*S "
                         "(and row i*S) of the padded input",
    "stride in output loop": "the stride was applied to the loop over output positions "
                             "(range(0, H_out, S)): only the output positions whose row and column "
                             "are multiples of S were computed, the others are still 0. Visit every "
                             "output position, i in range(H_out), and move the window in the input: "
                             "it starts at row i*S",
    "padding one side": "all the padding went on one side, the bottom and right: np.pad's pad width "
                        "(P, P) puts P zeros before (top and left) and P after",
    "too much padding": "too much padding: (2P, 2P) zeros on each side instead of (P, P). np.pad's pad "
                        "width is the number of zeros added on each side",
    "batch padded": "padding applied to the wrong axes: the batch axis N was padded too, so your loops "
                    "read zeros and shifted images. Pad only height and width: "
                    "np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))",
    "channels padded": "padding applied to the wrong axes: the channel axis C was padded too, so your "
                       "loops read zeros and shifted channels. Pad only height and width: "
                       "np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))",
    "off by one": "each window is one row and one column short (off by one): the slice i*S:i*S + HH "
                  "already has HH rows, no - 1",
    "first channel": "only the first channel (channel 0) was used: a window spans every channel, "
                     "x_padded[n, :, rows, cols], and meets all of w[f]",
    "mean": "the mean of the products instead of their sum: out = np.sum(window * w[f]) + b[f], "
            "not divided by the window size",
    "last image": "the last image was never computed (its outputs are still 0): loop over every "
                  "image, range(N)",
}


def _check_forward_case(conv_forward, case):
    x0, w0, b0 = case.x.copy(), case.w.copy(), case.b.copy()
    result = _run_student(conv_forward, (case.x, case.w, case.b, case.param), "conv_forward_naive", case)
    what = f"conv_forward_naive on {case.describe()}"
    for name, before, after in (("x", x0, case.x), ("w", w0, case.w), ("b", b0, case.b)):
        if not np.array_equal(before, after):
            fail(f"{what}: the input {name} after the call", "unchanged", "changed",
                 f"the layer must not modify {name} in place: pad into a new array (np.pad returns "
                 f"one) and do not multiply a window in place (window *= ...): it is a view of x")
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(what, "a pair (out, cache)", type(result).__name__,
             "keep the last lines of the function: cache = (x, w, b, conv_param); return out, cache")
    out = require_array(result[0], f"{what}: out", "build out as a numpy array, e.g. np.zeros(...)")
    expected = np.array(FORWARD_OUT[case.label], dtype=case.x.dtype)
    if out.shape != expected.shape:
        mistake = _forward_shape_mistake(out.shape, case)
        N, C, H, W, F, HH, WW, S, P = case.dims
        fail(f"{what}: out shape", expected.shape, out.shape, mistake or (
            f"out is (N, F, H', W') with H' = 1 + (H + 2P - HH) / S = 1 + ({H} + 2*{P} - {HH}) / {S} "
            f"and W' = 1 + ({W} + 2*{P} - {WW}) / {S}"))
    if out.dtype != case.x.dtype:
        fail(f"{what}: out.dtype", case.x.dtype, out.dtype,
             "keep the caller's dtype: create out with np.zeros(shape, dtype=x.dtype) (an integer "
             "array would also cut the values)")
    tol = SUMMED_FLOAT32 if case.x.dtype == np.float32 else SUMMED_FLOAT64
    error = max_relative_error(out, expected)
    if not error <= tol:
        key = FORWARD_MISTAKES[case.label].get(_digest(out, case.label))
        mistake = FORWARD_MESSAGES[key] if key is not None else None
        if case.label == WORKED:
            got_text, expected_text = f"\n{out[0, 0]}", f"\n{expected[0, 0]}"
        else:
            got_text = f"a relative error of {error:.2e}"
            expected_text = f"values within {tol:g} (relative) of the expected output"
        fail(f"{what}: out", expected_text, got_text, mistake or FORWARD_HINT)
    return out


def check_conv_forward(conv_forward):
    """conv_forward(x, w, b, conv_param) -> (out, cache) must give the outputs written out below."""
    for case in forward_cases():
        _check_forward_case(conv_forward, case)
    passed(f"conv_forward_naive matches the worked example and {len(forward_cases()) - 1} more worked cases "
           "(several images and filters, padding, stride 2 and 3, non-square inputs and filters, 1x1 "
           "filters) and keeps float32")


# ---------------------------------------------------------------------------
# conv_backward
# ---------------------------------------------------------------------------

BACKWARD_HINT = ("send each dout[n, f, i, j] back along the paths its output came from: forward added "
                 "b[f] and the window times w[f] into it, so it adds to db[f], to dw[f] in proportion to "
                 "the window it saw, and to each pixel of that window in proportion to the weight that "
                 "multiplied it. Windows overlap and every filter reads every pixel, so accumulate; "
                 "work on a padded dx and remove the padding at the end")

BACKWARD_MESSAGES = {
    "dx assigned": "dx is assigned (=) where it must accumulate (+=): a pixel covered by several "
                   "windows, or reached by several filters, keeps only one contribution. Its gradient "
                   "is the sum of all of them: use +=",
    "dw assigned": "dw is assigned (=) where it must accumulate (+=): only the last window's "
                   "contribution survives. dw[f] sums dout[n, f, i, j] * window over every image and "
                   "every position",
    "dw reset": "dw is not summed over the batch: it holds the gradient of the last image alone (was "
                "dw reset or assigned inside the loop over images?). Start dw at zero once, before the "
                "loops, and add every image's contribution to it",
    "dw averaged": "dw is averaged over the batch (divided by N): the layer's gradient is the sum over "
                   "images; any averaging belongs to the loss",
    "db mean": "db is the mean of dout instead of its sum: db[f] = dout[:, f, :, :].sum(), not divided "
               "by the number of positions",
    "stride ignored": "the stride was ignored in the backward pass (windows move by 1): window (i, j) "
                      "covers rows i*S:i*S + HH and columns j*S:j*S + WW, as in the forward pass",
    "flipped dx": "the filter is flipped in dx: dx_padded[n, :, rows, cols] += dout[n, f, i, j] * w[f], "
                  "w[f] as it is, as in the forward pass",
    "dx dw swapped": "the contributions to dx and dw are swapped: dx gets dout * w[f] (the filter), "
                     "dw gets dout * window (the input)",
    "db over filters": "db was summed over the filters instead of over the images: db[f] is the sum of "
                       "dout[:, f, :, :], i.e. dout.sum(axis=(0, 2, 3))",
    "cropped top-left": "dx is cropped at the wrong place, at the top-left corner: take "
                        "dx_padded[:, :, P:P + H, P:P + W], the part that lines up with x",
}


def _check_backward_shapes(grads, case):
    what = f"conv_backward_naive on {case.describe()}"
    if not (isinstance(grads, tuple) and len(grads) == 3):
        fail(what, "a tuple (dx, dw, db)", type(grads).__name__, "end with: return dx, dw, db")
    N, C, H, W, F, HH, WW, S, P = case.dims
    dx, dw, db = grads
    for name, value, like in (("db", db, case.b), ("dw", dw, case.w), ("dx", dx, case.x)):
        require_array(value, f"{what}: {name}", f"{name} is a numpy array shaped like {name[1:]}")
        if value.shape == like.shape:
            continue
        hint = f"{name} has the shape of {name[1:]}, {_shape_text(like.shape)}"
        swapped = (N, C, min(P + W, H + 2 * P) - P, min(P + H, W + 2 * P) - P)
        if name in ("db", "dw") and value.shape == (N,) + like.shape:
            hint = (f"{name} is not summed over the batch: {_shape_text(value.shape)} holds one {name} "
                    f"per image. The filters are shared by all images, so their gradients add up: "
                    f"sum over n as well")
        elif name == "db" and value.shape == (N,):
            hint = ("db was summed over the filters instead of over the images: db[f] is the sum of "
                    "dout[:, f, :, :], i.e. dout.sum(axis=(0, 2, 3))")
        elif name == "db":
            hint = (f"db is shaped like b, ({F},): db[f] is the sum of dout[:, f, :, :] over images and "
                    f"positions, dout.sum(axis=(0, 2, 3)), not a scalar")
        elif name == "dx" and value.shape == (N, C, H + 2 * P, W + 2 * P):
            hint = (f"dx still has the padding: {_shape_text(value.shape)} is the padded input. Crop "
                    f"it: dx_padded[:, :, P:P + H, P:P + W]")
        elif name == "dx" and P > 0 and value.shape == (N, C, H - P, W - P):
            hint = ("the crop ends one padding short: dx_padded[:, :, P:H] stops P rows early; take "
                    "dx_padded[:, :, P:P + H, P:P + W]")
        elif name == "dx" and H != W and value.shape == swapped:
            hint = ("height and width are swapped in the crop: rows go with H and columns with W, "
                    "dx_padded[:, :, P:P + H, P:P + W]")
        fail(f"{what}: {name} shape", like.shape, value.shape, hint)


def _check_backward_case(conv_forward, conv_backward, case):
    what = f"conv_backward_naive on {case.describe()}"
    result = _run_student(conv_forward, (case.x, case.w, case.b, case.param), "conv_forward_naive", case)
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"conv_forward_naive on {case.describe()}", "a pair (out, cache)", type(result).__name__,
             "run check_conv_forward first")
    x0, w0, b0 = case.x.copy(), case.w.copy(), case.b.copy()
    grads = _run_student(conv_backward, (case.dout.copy(), result[1]), "conv_backward_naive", case,
                         backward=True)
    for name, before, after in (("x", x0, case.x), ("w", w0, case.w), ("b", b0, case.b)):
        if not np.array_equal(before, after):
            fail(f"{what}: the cached {name} after the call", "unchanged", "changed in place",
                 f"the backward pass only reads {name}: allocate the gradients as new arrays "
                 f"(np.zeros_like(...)), never as an alias of the cached {name} (dw = w)")
    _check_backward_shapes(grads, case)
    tol = SUMMED_FLOAT32 if case.x.dtype == np.float32 else SUMMED_FLOAT64
    for name, got in zip(("dx", "dw", "db"), grads):
        if got.dtype != case.x.dtype:
            fail(f"{what}: {name}.dtype", case.x.dtype, got.dtype,
                 "keep the caller's dtype: np.zeros_like(x) and np.zeros_like(w) (float32 in, "
                 "float32 gradients out)")
    for name, got in (("db", grads[2]), ("dw", grads[1]), ("dx", grads[0])):
        expected = np.array(BACKWARD_GRADS[case.label][name], dtype=case.x.dtype)
        error = max_relative_error(got, expected)
        if not error <= tol:
            tag = f"{case.label}|{name}"
            key = BACKWARD_MISTAKES[case.label].get(_digest(got, tag))
            mistake = BACKWARD_MESSAGES[key] if key is not None else None
            fail(f"{what}: {name}", f"values within {tol:g} (relative) of the expected {name}",
                 f"a relative error of {error:.2e}", mistake or BACKWARD_HINT)
    return grads


def _numerical_gradients(conv_forward, case):
    """Centred-difference gradients of sum(conv_forward(...) * dout) in float64, your forward pass."""
    x, w, b = (a.astype(np.float64) for a in (case.x, case.w, case.b))
    param = case.param
    dx = eval_numerical_gradient_array(lambda v: conv_forward(v, w, b, param)[0], x, case.dout)
    dw = eval_numerical_gradient_array(lambda v: conv_forward(x, v, b, param)[0], w, case.dout)
    db = eval_numerical_gradient_array(lambda v: conv_forward(x, w, v, param)[0], b, case.dout)
    return dx, dw, db


def check_conv_backward(conv_forward, conv_backward):
    """conv_backward(dout, cache) -> (dx, dw, db) must give the gradients written out below."""
    cases = backward_cases()
    results = [_check_backward_case(conv_forward, conv_backward, case) for case in cases]
    # A second oracle on the overlapping case: the numerical gradient of your forward pass.
    case, grads = cases[1], results[1]
    for name, got, numerical in zip(("dx", "dw", "db"), grads, _numerical_gradients(conv_forward, case)):
        error = max_relative_error(got, numerical)  # scale-relative: exact zeros are fine
        if not error < NUMERICAL_GRADIENT:
            fail(f"conv_backward_naive on {case.describe()}: {name} against the numerical gradient",
                 f"a relative error below {NUMERICAL_GRADIENT:g}", f"{error:.2e}",
                 "your gradients match the expected ones, so the numerical gradient of your "
                 "conv_forward_naive is off: run check_conv_forward and fix the forward pass first")
    passed(f"dx, dw and db match {len(backward_cases())} worked cases (with and without overlapping "
           "windows, non-square and 1x1 filters, stride 3, float32) and a numerical gradient "
           f"(relative errors below {NUMERICAL_GRADIENT:g})")
