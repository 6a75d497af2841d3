"""Checks for notebook 09, batch normalization.

- ``check_batchnorm_forward(batchnorm_forward)``: a batch standardised with
  gamma = 1 and beta = 0 (each feature's mean 0 and std 1), a batch scaled and
  shifted with eps = 0.5 taken from bn_param, the running averages after three
  train-mode calls with momentum 0.6, test mode with given running averages,
  and float32 in, float32 out (the running averages too);
- ``check_batchnorm_backward(batchnorm_forward, batchnorm_backward)`` and
  ``check_batchnorm_backward_alt(batchnorm_forward, batchnorm_backward_alt)``:
  dbeta, dgamma and dx after your forward pass on two worked cases and in
  float32, then against a numerical gradient of your own forward pass;
- ``check_spatial_batchnorm_forward(spatial_batchnorm_forward)`` and
  ``check_spatial_batchnorm_backward(spatial_batchnorm_forward,
  spatial_batchnorm_backward)``: the same for images (N, C, H, W), one set of
  statistics per channel.

Every input is a small literal array and every expected output is written out
below as a literal (12 significant digits). When an output is wrong, the check
names the common mistake whose precomputed output it matches: unbiased
variance, eps outside the square root or ignored, statistics over the wrong
axis, gamma or beta forgotten or swapped, momentum the wrong way round or
ignored, running averages not stored into bn_param or changed in test mode,
batch statistics in test mode, the unbiased or square-rooted variance in the
running average; in backward, a missing mean or variance branch, gamma
forgotten, a missing factor, a wrong sign or power, dgamma or dbeta summed over
the wrong axis or swapped; in the spatial versions, a reshape without moving
the channels last, or without moving them back. Those outputs are stored as
salted hashes (``answer_digest``), one table per case. No expected value is
ever printed, and the module holds no implementation of batch normalization:
tests/test_checks_batchnorm.py recomputes every literal and hash from a
reference implementation kept there and from mutants of the model solution.
"""

import numpy as np

from cs231n_lib.checks.common import (
    EXACT_FLOAT64,
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
from cs231n_lib.checks.failure import CheckFailed
from cs231n_lib.gradient_check import eval_numerical_gradient_array

WHERE = LAYERS_FILE

# How far a column of a normalised output (gamma = 1, beta = 0) may be from mean 0 and std 1:
# with eps = 1e-5 and variances of 1 or more, the std is 1 - eps / (2 var) or closer to 1.
STANDARDISED = 1e-4
# The hint for an output right to 4 digits but not to 12: almost always a detail of eps.
NEAR_MISS = "Look at eps"


# ---------------------------------------------------------------------------
# The fixed inputs (small whole numbers; no entry equals its feature's mean)
# ---------------------------------------------------------------------------

STANDARDISE = "a batch of 4 samples with 3 features, gamma = 1, beta = 0"
SCALE_SHIFT = "a batch of 5 samples with 4 features, gamma and beta given, bn_param['eps'] = 0.5"
SCALE_SHIFT_32 = SCALE_SHIFT + ", in float32"
TEST_MODE = "test mode: 2 samples, given running averages, bn_param['eps'] = 0.25"
RUNNING = ("three train-mode calls with bn_param['momentum'] = 0.6 and bn_param['eps'] = 0.5, starting "
           "without running averages")
NUMERIC = "a batch of 6 samples with 3 features (numerical gradient)"

INPUTS = {
    STANDARDISE: {
        "x": ((1., 8., -2.), (3., 2., 0.), (0., 5., 5.), (6., 1., 2.)),
        "gamma": (1., 1., 1.),
        "beta": (0., 0., 0.),
        "bn_param": {"mode": "train"},
        "dout": ((1., -2., 0.5), (0., 3., -1.), (-1., 1., 2.), (2., 0., 1.)),
    },
    SCALE_SHIFT: {
        "x": ((2., -1., 0., 4.), (0., 3., 1., 4.), (1., 2., -1., 6.), (4., 0., 2., 3.), (-1., 2., 1., 5.)),
        "gamma": (2., -1., 0.5, 3.),
        "beta": (1., 0., -2., 0.5),
        "bn_param": {"mode": "train", "eps": 0.5},
        "dout": ((1., 0., -1., 2.), (-2., 1., 0., 1.), (0., 3., 1., -1.), (1., -1., 2., 0.), (3., 1., -2., 1.)),
    },
    TEST_MODE: {
        "x": ((2., -1., 4.), (0., 3., 1.)),
        "gamma": (1.5, -2., 1.),
        "beta": (0., 1., -1.),
        "bn_param": {"mode": "test", "eps": 0.25, "running_mean": (1., 0.5, 2.),
                     "running_var": (4., 0.25, 1.)},
    },
    NUMERIC: {
        "x": ((3., -1., 2.), (0., 4., 1.), (-2., 1., 5.), (1., 2., -3.), (4., 0., 1.), (2., 3., 0.)),
        "gamma": (1.5, -0.5, 2.),
        "beta": (0.5, 1., -1.),
        "bn_param": {"mode": "train", "eps": 0.1},
        "dout": ((1., 2., -1.), (0., -1., 3.), (2., 1., 0.), (-1., 0., 1.), (1., -2., 2.), (0., 1., -1.)),
    },
}
INPUTS[SCALE_SHIFT_32] = INPUTS[SCALE_SHIFT]

RUNNING_MOMENTUM = 0.6
RUNNING_EPS = 0.5
# The three batches of the running averages (3 samples, 3 features each).
RUNNING_BATCHES = (
    ((1., 8., -2.), (3., 2., 0.), (0., 4., 5.)),
    ((2., 0., 1.), (-1., 4., 3.), (5., 2., -2.)),
    ((3., 3., 0.), (1., -2., 4.), (-4., 6., 1.)),
)

SPATIAL_STANDARDISE = "images (2, 3, 2, 2), gamma = 1, beta = 0"
SPATIAL_SCALE_SHIFT = ("images (2, 3, 2, 2), gamma and beta given, bn_param['eps'] = 0.5, "
                       "bn_param['momentum'] = 0.5")
SPATIAL_SCALE_SHIFT_32 = SPATIAL_SCALE_SHIFT + ", in float32"
SPATIAL_TEST_MODE = "images (2, 3, 2, 2) in test mode, given running averages, bn_param['eps'] = 0.25"

_SPATIAL_X = ((((1., 4.), (-2., 3.)), ((0., 2.), (7., -1.)), ((3., 3.), (1., -4.))),
              (((2., -3.), (6., 0.)), ((4., 1.), (2., -2.)), ((0., 6.), (2., 1.))))
SPATIAL_INPUTS = {
    SPATIAL_STANDARDISE: {
        "x": _SPATIAL_X,
        "gamma": (1., 1., 1.),
        "beta": (0., 0., 0.),
        "bn_param": {"mode": "train"},
    },
    SPATIAL_SCALE_SHIFT: {
        "x": _SPATIAL_X,
        "gamma": (2., -1., 0.5),
        "beta": (0.5, 1., -1.),
        "bn_param": {"mode": "train", "eps": 0.5, "momentum": 0.5},
        "dout": ((((1., -1.), (0., 2.)), ((2., 0.), (-1., 1.)), ((0., 3.), (1., -2.))),
                 (((-2., 1.), (1., 0.)), ((1., 2.), (0., -3.)), ((2., -1.), (0., 1.)))),
    },
    SPATIAL_TEST_MODE: {
        "x": _SPATIAL_X,
        "gamma": (2., -1., 0.5),
        "beta": (0.5, 1., -1.),
        "bn_param": {"mode": "test", "eps": 0.25, "running_mean": (1., 2., -1.),
                     "running_var": (4., 1., 0.25)},
    },
}
SPATIAL_INPUTS[SPATIAL_SCALE_SHIFT_32] = SPATIAL_INPUTS[SPATIAL_SCALE_SHIFT]


def case_arrays(inputs, label, dtype=None):
    """Fresh arrays (x, gamma, beta, bn_param, dout) of a case; bn_param's running averages as arrays."""
    dtype = dtype or (np.float32 if label.endswith("float32") else np.float64)
    spec = inputs[label]
    x, gamma, beta = (np.array(spec[k], dtype=dtype) for k in ("x", "gamma", "beta"))
    bn_param = {k: (np.array(v, dtype=dtype) if isinstance(v, tuple) else v) for k, v in spec["bn_param"].items()}
    dout = np.array(spec["dout"], dtype=dtype) if "dout" in spec else None
    return x, gamma, beta, bn_param, dout


# ---------------------------------------------------------------------------
# Literals and salted hashes, recomputed by tests/test_checks_batchnorm.py
# ---------------------------------------------------------------------------

FORWARD_OUT = {STANDARDISE: ((-0.654653047229, 1.46059251295, -1.25675649613),
                             (0.21821768241, -0.730296256476, -0.483367883126),
                             (-1.09108841205, 0.365148128238, 1.45010364938),
                             (1.52752377687, -1.09544438471, 0.290020729876)),
               SCALE_SHIFT: ((1.86016532891, 1.34890654687, -2.24174688921, -0.46698755683),
                             (-0.290247993369, -1.10365081107, -1.83883540719, -0.46698755683),
                             (0.784958667772, -0.490511471588, -2.64465837122, 4.36795022732),
                             (4.01057865119, 0.735767207382, -1.43592392518, -2.88445644891),
                             (-1.36545465451, -0.490511471588, -1.83883540719, 1.95048133525)),
               TEST_MODE: ((0.727606875109, 5.24264068712, 0.788854382),
                           (-0.727606875109, -6.07106781187, -1.894427191)),
               NUMERIC: ((1.7517397364, 1.71969146244, -0.167148501534),
                         (-0.501391789122, 0.280308537563, -1.0),
                         (-2.0034794728, 1.14393829249, 2.33140599386),
                         (0.24965205272, 0.856061707513, -4.33140599386),
                         (2.50278357824, 1.43181487746, -1.0),
                         (1.00069589456, 0.568185122538, -1.83285149847))}
FORWARD_MISTAKES = {STANDARDISE: {'1c8141590a7b0832': 'unbiased variance',
                                  '0b2c79dc98119eb2': 'variance not square-rooted',
                                  '0e1398c0c43e4d46': 'statistics per sample',
                                  'e622a4d9dc617938': 'mean not subtracted',
                                  'a834abde2eb44198': 'gamma and beta swapped'},
                    SCALE_SHIFT: {'121dee6cabe9854a': 'unbiased variance',
                                  '63d4cb02ba42d517': 'eps outside the square root',
                                  '294120c6a1fd28c3': 'eps ignored',
                                  '1f42a47b154ee4be': 'variance not square-rooted',
                                  '6fe326435ac02e3a': 'statistics per sample',
                                  'ac9c3613add14803': 'mean not subtracted',
                                  '78a9d8fc5917e887': 'gamma forgotten',
                                  '932135764f7b6dfb': 'beta forgotten',
                                  'f535bbe56339bc61': 'gamma and beta swapped',
                                  '1f15721d8917dbd4': 'shift before scale'},
                    TEST_MODE: {'a586d7e1d303cc57': 'eps outside the square root',
                                'b26ddf50c98947d4': 'eps ignored',
                                '61f286d22b4cf83d': 'variance not square-rooted',
                                '8d629baf2eed7414': 'mean not subtracted',
                                '09180a7a93da4b34': 'gamma forgotten',
                                '35dd0917811f3ebb': 'beta forgotten',
                                'd36305931edd97f9': 'gamma and beta swapped',
                                'd6c5506b9a706832': 'shift before scale',
                                '3f0b99bf634de15a': 'batch statistics in test mode',
                                '244b9e6fd9fee5c3': 'running averages swapped'}}
RUNNING_AVERAGES = {'running_mean': (0.672, 2.08533333333, 0.970666666667),
                    'running_var': (5.13066666667, 5.89155555556, 3.41688888889)}
RUNNING_MISTAKES = {'running_mean': {'e48085b6fc94f5c8': 'momentum the wrong way round',
                                     'a25b46dd642fa191': 'momentum ignored',
                                     '6a76050f2c3ff67b': 'momentum fixed',
                                     '6f8b8c6fabb07306': 'running averages swapped'},
                    'running_var': {'583286505e300efa': 'momentum the wrong way round',
                                    '29fbff181df82839': 'momentum ignored',
                                    '82a6565f1a9e1c7b': 'momentum fixed',
                                    '8fbb3ffc89c2c05e': 'unbiased running variance',
                                    '08b06760e4a0f849': 'running standard deviation',
                                    'b1e9199e3e644364': 'running variance with eps',
                                    '3e210c6c4e2ef626': 'running averages swapped'}}
BACKWARD_GRADS = {SCALE_SHIFT: {'dx': ((0.459914988002, -0.138302106651, -0.371515782116, 3.10817428981),
                                       (-2.84028580429, 0.391855968844, -0.0209304665981, 0.690705397736),
                                       (-0.652582077571, -1.12024706387, 0.486633348405, -2.76282159094),
                                       (0.534495796868, 0.760661586579, 0.732566330932, -2.41746889208),
                                       (2.49845709699, 0.106031615099, -0.826753430623, 1.38141079547)),
                                'dgamma': (-0.322561998342, 3.80146390481, 0.805822964025, -1.77281052086),
                                'dbeta': (3.0, 4.0, 0.0, 3.0)},
                  STANDARDISE: {'dx': ((0.467608844419, -0.279947742213, 0.321642374598),
                                       (-0.301348069746, 0.596409031404, -0.486078570022),
                                       (-0.239001110548, 0.340804708715, 0.104805637312),
                                       (0.0727403358751, -0.657265997906, 0.0596305581125)),
                                'dgamma': (3.49148291856, -4.7469256671, 3.0452176637),
                                'dbeta': (2.0, 2.0, 2.5)}}
BACKWARD_MISTAKES = {SCALE_SHIFT: {'bcfe83eea7c227e3': 'dbeta mean',
                                   '9013cfe861df771f': 'dgamma mean',
                                   '722dcd8c80037622': 'dgamma with x',
                                   '0ab014cb851cba89': 'dgamma dbeta swapped',
                                   '36899e5fc77cc59c': 'gamma forgotten in dx',
                                   '8ee74b79ac63192b': 'mean branch missing',
                                   '02425c4a63846e18': 'variance branch missing',
                                   '1996ff5cd61af1f5': 'both branches missing',
                                   '75e6efe5261e1f49': 'unbiased variance in backward',
                                   'b0938bf2c10f17d0': 'factor 2 of the square',
                                   'abbbf67f1e050758': 'factor 1/2 of the square root',
                                   '84cb5a59c7f7c941': 'sign of the variance path',
                                   '80c5ee0c7af18381': 'power of std',
                                   '45866b43b1563de9': 'sign of the mean path',
                                   '7ca6fd65a8beaa2e': 'dmean not divided by N',
                                   'a747681895d1982a': 'factor N',
                                   'bdbbe0680e4402ea': 'factor N',
                                   'ba43b62a88c33666': 'x instead of x_hat',
                                   '5a0c11c1cafb505e': 'power of std'},
                     STANDARDISE: {'5c22534ed6194d64': 'dbeta mean',
                                   '765c5352e8e476e3': 'dgamma mean',
                                   '3154343981e2cdda': 'dgamma with x',
                                   'd0be289928d6010b': 'dgamma dbeta swapped',
                                   'a8ff4705a649de2f': 'mean branch missing',
                                   'fca45cca1ec8815e': 'variance branch missing',
                                   'fb0bab868f308191': 'both branches missing',
                                   '9254585d566d961d': 'unbiased variance in backward',
                                   'ffeea83eb64b27c7': 'factor 2 of the square',
                                   '4af8acbf98fd3d6c': 'factor 1/2 of the square root',
                                   '73d8bd8dc49cbb95': 'sign of the variance path',
                                   '6acc34f2f7337e5f': 'power of std',
                                   'c1989e4346b89fe7': 'sign of the mean path',
                                   'de9f6cf0699f9a5f': 'dmean not divided by N',
                                   '83f3f5575149d823': 'factor N',
                                   'b5bf73ca232be9ed': 'factor N',
                                   'd667f1bf1a0ba46d': 'x instead of x_hat',
                                   'b108fe4d0dd8effc': 'power of std'}}
SPATIAL_OUT = {SPATIAL_STANDARDISE: ((((-0.132712103454, 0.928984724176),
                                       (-1.19440893108, 0.575085781633)),
                                      ((-0.60416081848, 0.139421727341),
                                       (1.99837809189, -0.97595209139)),
                                      ((0.557085630334, 0.557085630334),
                                       (-0.185695210111, -2.04264731123))),
                                     (((0.22118683909, -1.54830787363),
                                       (1.63678260926, -0.486611045997)),
                                      ((0.883004273163, -0.232369545569),
                                       (0.139421727341, -1.3477433643)),
                                      ((-0.557085630334, 1.671256891),
                                       (0.185695210111, -0.185695210111)))),
               SPATIAL_SCALE_SHIFT: ((((0.242515354746, 2.30239251678),
                                       (-1.81736180728, 1.6157667961)),
                                      ((1.58430654747, 0.865160027507),
                                       (-0.932706272395, 1.94387980745)),
                                      ((-0.73059204696, -0.73059204696),
                                       (-1.08980265101, -1.98782916115))),
                                     (((0.929141075423, -2.50398752796),
                                       (3.67564395813, -0.44411036593)),
                                      ((0.146013507547, 1.22473328749),
                                       (0.865160027507, 2.30345306743)),
                                      ((-1.26940795304, -0.19177614088),
                                       (-0.910197348987, -1.08980265101)))),
               SPATIAL_TEST_MODE: ((((0.5, 3.41042750044),
                                     (-2.41042750044, 2.44028500029)),
                                    ((2.788854382, 1.0),
                                     (-3.472135955, 3.683281573)),
                                    ((1.82842712475, 1.82842712475),
                                     (0.414213562373, -3.12132034356))),
                                   (((1.47014250015, -3.38057000058),
                                     (5.35071250073, -0.470142500145)),
                                    ((-0.788854382, 1.894427191),
                                     (1.0, 4.577708764)),
                                    ((-0.292893218813, 3.94974746831),
                                     (1.12132034356, 0.414213562373))))}
SPATIAL_RUNNING = {'running_mean': (0.6875, 0.8125, 0.75),
                   'running_var': (3.9921875, 3.6171875, 3.625)}
SPATIAL_MISTAKES = {SPATIAL_STANDARDISE: {'59c48166341d62bb': 'no transpose',
                                          'eec9330da6621735': 'not transposed back',
                                          '6529b375ef9d0df0': 'H and W swapped',
                                          '5058c5c0b0e2ddc4': 'no transpose'},
                    SPATIAL_SCALE_SHIFT: {'8e3a8d60ab1638e3': 'no transpose',
                                          '1914e018474f99fc': 'not transposed back',
                                          '032a7d72dff64005': 'H and W swapped',
                                          'e44221b2b9f4a2c1': 'no transpose'},
                    SPATIAL_TEST_MODE: {'0339fdb783bb742c': 'no transpose',
                                        '1a36dbcc56879207': 'not transposed back',
                                        'd12273bb67af4110': 'H and W swapped',
                                        'ad5b646e29b91516': 'no transpose'}}
SPATIAL_GRADS = {SPATIAL_SCALE_SHIFT: {'dx': ((((0.512124156306, -0.838366211434),
                                                (-0.197262637984, 1.21392392606)),
                                               ((-0.636335708571, 0.0915277389041),
                                                (0.472893317671, -0.281120912348)),
                                               ((-0.12021967797, 0.418596228111),
                                                (0.0999416599988, -0.337484156228))),
                                              (((-1.54016598119, 0.481776058154),
                                                (0.550059278995, -0.182088588909)),
                                               ((-0.259328593562, -0.631977244814),
                                                (0.0915277389041, 1.15281366382)),
                                               ((0.299824979996, -0.360659033909),
                                                (-0.0999416599988, 0.0999416599988)))),
                                       'dgamma': (-0.257484645254, 0.269679944985, 2.51447422837),
                                       'dbeta': (2.0, 2.0, 4.0)}}
SPATIAL_BACKWARD_MISTAKES = {SPATIAL_SCALE_SHIFT: {'aaa6e5927f52c653': 'no transpose',
                                                   '844afd7107374b66': 'not transposed back',
                                                   'd36231a4b3330ee8': 'H and W swapped'}}


# ---------------------------------------------------------------------------
# What each named mistake looks like, and the hint for it
# ---------------------------------------------------------------------------

FORWARD_HINT = ("normalise each feature (a column of x) with its own statistics over the batch: its mean "
                "and its biased variance, with eps under the square root as in the docstring's formula; "
                "then scale by that feature's gamma and shift by its beta")

FORWARD_MESSAGES = {
    "unbiased variance": "looks like the variance is divided by N - 1 (the unbiased estimate, as "
                         "np.var(..., ddof=1) gives): batch normalization uses the batch's own variance, "
                         "the mean of the squared deviations, divided by N",
    "eps outside the square root": "looks like eps is added after the square root: it belongs under it, "
                                   "together with the variance",
    "eps ignored": "looks like bn_param's eps was not used (no eps at all, or a fixed 1e-5): use the eps "
                   "the function read from bn_param, added to the variance under the square root",
    "variance not square-rooted": "looks like x - mean is divided by the variance (plus eps) instead of "
                                  "the standard deviation, its square root",
    "statistics per sample": "looks like the statistics were taken over each sample's features (axis 1): "
                             "that is layer normalization. Batch normalization takes each feature's mean "
                             "and variance over the batch, axis 0",
    "mean not subtracted": "looks like x is divided by the standard deviation without subtracting the "
                           "mean first",
    "gamma forgotten": "looks like gamma was left out: each normalised feature is multiplied by its gamma",
    "beta forgotten": "looks like beta was left out: each feature is shifted by its beta after scaling",
    "gamma and beta swapped": "looks like gamma and beta are swapped: gamma scales, beta shifts",
    "shift before scale": "looks like beta is added before multiplying by gamma: scale first, then shift",
    "batch statistics in test mode": "your test mode gives what train mode gives: it normalises with the "
                                     "batch's own mean and variance. Test mode uses bn_param's running "
                                     "averages instead, so that a sample's output does not depend on its batch",
    "running averages swapped": "looks like the running mean and the running variance are swapped in test "
                                "mode: subtract the running mean, divide by the square root of the running "
                                "variance plus eps",
}

RUNNING_HINT = ("each train-mode call keeps the share momentum of the old running average and adds the share "
                "1 - momentum of the batch's statistic (its mean, and the same biased variance that "
                "normalised the batch), then stores the result in bn_param")

RUNNING_MESSAGES = {
    "momentum the wrong way round": "looks like momentum is applied the wrong way round: momentum is the "
                                    "share of the OLD running average that is kept, and 1 - momentum the "
                                    "share of the new batch statistic",
    "momentum ignored": "looks like the running average is replaced by the last batch's statistic: it "
                        "is a moving average, mostly the old value (momentum of it) plus a little of the "
                        "new one",
    "momentum fixed": "looks like momentum 0.9 was written into the code where bn_param gives 0.6: use "
                      "the momentum the function read from bn_param",
    "unbiased running variance": "looks like the running variance averages the unbiased variance (divided "
                                 "by N - 1, as PyTorch's BatchNorm does): in this course's contract it "
                                 "averages the same biased variance that normalised the batch",
    "running standard deviation": "looks like the standard deviation (sqrt(var + eps)) is averaged "
                                  "instead of the variance",
    "running variance with eps": "looks like var + eps is averaged: the running variance averages the "
                                 "variance alone; eps is added where it is used",
    "running averages swapped": "looks like the running mean and the running variance are swapped: "
                                "running_mean averages the means, running_var the variances",
}

BACKWARD_HINT = ("walk the graph back from out: the scale and shift give dgamma, dbeta and the gradient of "
                 "x_hat; x_hat depends on x directly, through the mean and through the variance, and x's "
                 "gradient is the sum over these paths")

BACKWARD_MESSAGES = {
    "dbeta mean": "dbeta is the mean of dout over the batch instead of its sum: every sample's output "
                  "used beta, so their gradients add up",
    "dgamma mean": "dgamma is averaged over the batch instead of summed: every sample's output used "
                   "gamma, so their gradients add up",
    "dgamma with x": "dgamma uses x where it needs x_hat: gamma multiplies the normalised x_hat, not x",
    "dgamma dbeta swapped": "dgamma and dbeta are swapped: beta is added, so its gradient is dout summed "
                            "over the batch; gamma multiplies x_hat",
    "gamma forgotten in dx": "dx misses the factor gamma: gamma multiplies x_hat in the forward pass, "
                             "so it multiplies the gradient on the way back as well",
    "mean branch missing": "dx misses the path through the batch mean: every x[i, j] moves the mean of "
                           "its feature, and with it every x_hat of that feature",
    "variance branch missing": "dx misses the path through the batch variance: every x[i, j] moves the "
                               "variance of its feature, and with it every x_hat of that feature",
    "both branches missing": "dx follows only the direct path from x to x_hat: the mean and the "
                             "variance were treated as constants, but both are computed from the batch",
    "unbiased variance in backward": "the gradient of the variance divides by N - 1: the forward pass "
                                     "divides by N, and so does its derivative",
    "factor 2 of the square": "the derivative of the squares in the variance misses its factor 2",
    "factor 1/2 of the square root": "the derivative of the square root misses its factor 1/2",
    "sign of the variance path": "the path through the variance has the wrong sign: dividing by a larger "
                                 "standard deviation makes x_hat smaller, so its derivative is negative",
    "power of std": "the derivative of dividing by the standard deviation needs std squared in the "
                    "denominator (the derivative of 1/s is -1/s**2)",
    "sign of the mean path": "the path through the mean has the wrong sign: x - mean goes down when "
                             "the mean goes up",
    "dmean not divided by N": "the gradient that reaches x through the mean is not divided by N: each "
                              "x[i, j] contributes 1/N of its feature's mean",
    "factor N": "a factor N (the batch size) is missing or one too many: check how N enters when the "
                "mean and variance paths are written as sums over the batch",
    "x instead of x_hat": "the closed form uses x where it needs x_hat",
}

SPATIAL_HINT = ("each channel is one feature: move the channel axis last, (N, H, W, C), make that an "
                "(N*H*W, C) array with one row per pixel, call batchnorm_forward, and undo both steps on "
                "its output")

SPATIAL_MESSAGES = {
    "no transpose": "looks like x was reshaped to (N*H*W, C) without moving the channels last first: "
                    "reshape keeps numpy's order of the values, so each column mixed values of several "
                    "channels. Transpose to (N, H, W, C) first",
    "not transposed back": "looks like the (N*H*W, C) output was reshaped straight into (N, C, H, W): "
                           "reshape it to (N, H, W, C) first, then move the channels back to axis 1",
    "H and W swapped": "height and width are swapped in one of the transposes: the axes (N, C, H, W) go "
                       "to (N, H, W, C), and back",
}

SPATIAL_BACKWARD_MESSAGES = {
    "no transpose": "looks like dout was reshaped to (N*H*W, C) without moving the channels last first, "
                    "so its rows do not line up with those of the forward pass",
    "not transposed back": "looks like dx was reshaped straight into (N, C, H, W) from (N*H*W, C): "
                           "reshape it to (N, H, W, C) first, then move the channels back to axis 1",
    "H and W swapped": "height and width are swapped in one of the transposes: the axes (N, C, H, W) go "
                       "to (N, H, W, C), and back",
}


# ---------------------------------------------------------------------------
# Calling the student's functions
# ---------------------------------------------------------------------------


def _digest(array, tag):
    """The salted hash an output is stored as: entries below 1e-9 of the largest one count as 0."""
    try:
        values = np.array(array, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if values.size and np.all(np.isfinite(values)):
        values[np.abs(values) <= 1e-9 * np.max(np.abs(values))] = 0.0
    return answer_digest(values, tag=tag)


def _explain_crash(err, x_shape):
    message = str(err)
    if "broadcast" in message and len(x_shape) == 2:
        N, D = x_shape
        return (f"shapes did not line up: x is (N, D) = ({N}, {D}); each feature's mean and variance "
                f"is taken over the batch, axis 0, giving a ({D},) array that broadcasts against x")
    if len(x_shape) == 4 and "expected (" in message and ("gamma" in message or "beta" in message):
        N, C, H, W = x_shape
        return (f"batchnorm_forward was given an array that does not have one column per channel: it "
                f"needs an (N*H*W, C) = ({N * H * W}, {C}) array, one row per pixel")
    if "unpack" in message:
        return ("the backward pass unpacks the cache into a different number of items than the forward "
                "pass put in it: make the two agree")
    return "read the traceback above: it ends at the line of your code that failed"


def _run(function, args, name, label, x_shape):
    try:
        return call_student(function, *args, name=name, where=WHERE)
    except (ValueError, IndexError, TypeError) as err:
        fail(f"{name} on {label}", "no error", f"{type(err).__name__}: {err}", _explain_crash(err, x_shape))


def _call_forward(forward, name, args, label):
    """(out, cache) of the student's forward; x, gamma and beta must come back unchanged."""
    x = args[0]
    before = [np.array(a, copy=True) for a in args[:3]]
    result = _run(forward, args, name, label, x.shape)
    for arg, old, new in zip(("x", "gamma", "beta"), before, args[:3]):
        if not np.array_equal(old, new):
            fail(f"{name} on {label}: the input {arg} after the call", "unchanged",
                 f"{int(np.sum(old != new))} entries changed in place",
                 f"build new arrays (x - mean is a new array); an in-place operation such as "
                 f"{arg} -= ... or {arg} *= ... overwrites the caller's {arg}, which it may still need")
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"{name} on {label}", "a pair (out, cache)", type(result).__name__, "end with: return out, cache")
    out = require_array(result[0], f"{name} on {label}: out", "out is a numpy array shaped like x")
    return out, result[1]


def _out_shape_hint(shape, x_shape):
    if len(x_shape) == 4:
        N, C, H, W = x_shape
        if shape == (N, H, W, C):
            return SPATIAL_MESSAGES["not transposed back"]
        if shape == (N * H * W, C):
            return ("that is batchnorm_forward's output as it comes: reshape it to (N, H, W, C) and move "
                    "the channels back to axis 1")
        return "out has the shape of x, (N, C, H, W)"
    return "out has the shape of x: one output per sample and feature"


def _require_dtype(value, dtype, what):
    if value.dtype != dtype:
        fail(f"{what}.dtype", np.dtype(dtype), value.dtype,
             "keep the caller's dtype (float32 in, float32 out): a float64 array made along the way "
             "(np.zeros(D) without dtype=..., np.float64(...)) turns the result into float64")


def _tolerance(dtype, float64_tol):
    return SUMMED_FLOAT32 if dtype == np.float32 else float64_tol


def _check_values(got, expected, what, tol, mistakes, messages, tag, hint, extra=None):
    """Fail unless got is within tol (scale-relative) of expected; name a known mistake from its hash."""
    error = max_relative_error(got, expected)
    if error <= tol:  # False for NaN
        return
    key = mistakes.get(_digest(got, tag)) if mistakes is not None else None
    if key is not None:
        hint = messages[key]
    elif extra is not None:
        hint = extra(got) or hint
    fail(what, f"values within {tol:g} (relative) of the worked case's", f"a relative error of {error:.2e}", hint)


def _near_miss(expected, tol):
    """A hint for an output that is right to 4 digits but not to tol: a detail of eps."""
    def hint(got):
        error = max_relative_error(got, expected)
        if error < 1e-4:
            return (f"your output is close (a relative error of {error:.1e}) but not equal: everything "
                    f"but a detail is right. {NEAR_MISS}: it comes from bn_param (default 1e-5) and goes "
                    "under the square root, with the variance")
        return None
    return hint


def _standardised(axes, expected, tol):
    """A hint from the means and standard deviations of an output that should be standardised."""
    near = _near_miss(expected, tol)
    unit, over = ("feature", "the batch") if axes == (0,) else ("channel", "all images and pixels")

    def hint(got):
        means, stds = got.mean(axis=axes), got.std(axis=axes)
        if np.all(np.isfinite(means)) and np.max(np.abs(means)) > STANDARDISED:
            return (f"with gamma = 1 and beta = 0 each {unit} of out has mean 0 over {over}; yours "
                    f"has means {np.array2string(means, precision=4)}: subtract each {unit}'s mean "
                    f"over {over}")
        if np.all(np.isfinite(stds)) and np.max(np.abs(stds - 1)) > STANDARDISED:
            return (f"with gamma = 1 and beta = 0 each {unit} of out has standard deviation 1 over "
                    f"{over}; yours has {np.array2string(stds, precision=4)}: divide each {unit} "
                    f"by its standard deviation over {over}")
        return near(got)
    return hint


# ---------------------------------------------------------------------------
# batchnorm_forward
# ---------------------------------------------------------------------------


def _check_forward_case(forward, label, name="batchnorm_forward", inputs=INPUTS, table=None,
                        mistakes=None, messages=FORWARD_MESSAGES, hint=FORWARD_HINT, axes=(0,)):
    """Run the student's forward on a case; check shape, dtype and values. Returns (out, bn_param)."""
    table = FORWARD_OUT if table is None else table
    mistakes = FORWARD_MISTAKES if mistakes is None else mistakes
    x, gamma, beta, bn_param, _ = case_arrays(inputs, label)
    out, _ = _call_forward(forward, name, (x, gamma, beta, bn_param), label)
    what = f"{name} on {label}: out"
    base = label[: -len(", in float32")] if label.endswith("float32") else label
    expected = np.array(table[base])
    if out.shape != expected.shape:
        fail(f"{what} shape", expected.shape, out.shape, _out_shape_hint(out.shape, x.shape))
    _require_dtype(out, x.dtype, f"{name} on {label}: out")
    tol = _tolerance(x.dtype, EXACT_FLOAT64)
    standardised = np.all(gamma == 1) and np.all(beta == 0) and bn_param["mode"] == "train"
    extra = _standardised(axes, expected, tol) if standardised else _near_miss(expected, tol)
    _check_values(out, expected, what, tol, mistakes.get(label) if x.dtype == np.float64 else None,
                  messages, label, hint, extra)
    return out, bn_param


def _check_running(forward):
    gamma, beta = np.ones(3), np.zeros(3)
    bn_param = {"mode": "train", "momentum": RUNNING_MOMENTUM, "eps": RUNNING_EPS}
    for call, batch in enumerate(RUNNING_BATCHES, 1):
        x = np.array(batch)
        _call_forward(forward, "batchnorm_forward", (x, gamma, beta, bn_param), f"{RUNNING} (call {call})")
    for key in ("running_mean", "running_var"):
        what = f"bn_param['{key}'] after {RUNNING}"
        if key not in bn_param:
            fail(what, "an array of shape (3,)", "no such key",
                 "the running averages live in bn_param: store the updated ones back into it")
        value = require_array(bn_param[key], what, "a running average is an array, one value per feature")
        if value.shape != (3,):
            fail(f"{what} shape", (3,), value.shape, "one running average per feature (D = 3)")
        if np.all(value == 0):
            fail(what, "averages that moved towards the batches' statistics", "still all zeros",
                 "looks like the updated running averages were never stored into bn_param: assign "
                 f"them to bn_param['{key}'], where the next call and test mode read them")
        _check_values(value, np.array(RUNNING_AVERAGES[key]), what, EXACT_FLOAT64, RUNNING_MISTAKES[key],
                      RUNNING_MESSAGES, key, RUNNING_HINT)


def _check_test_mode(forward):
    out, bn_param = _check_forward_case(forward, TEST_MODE)
    _, _, _, given, _ = case_arrays(INPUTS, TEST_MODE)
    for key in ("running_mean", "running_var"):
        if not np.array_equal(np.asarray(bn_param[key]), given[key]):
            fail(f"bn_param['{key}'] after {TEST_MODE}", "unchanged", "changed",
                 "test mode only reads the running averages: only train mode updates them")


def _check_float32(forward):
    _, bn_param = _check_forward_case(forward, SCALE_SHIFT_32)
    for key in ("running_mean", "running_var"):
        value = require_array(bn_param[key], f"bn_param['{key}']", "a running average is an array")
        _require_dtype(value, np.float32, f"bn_param['{key}'] after {SCALE_SHIFT_32}")


def check_batchnorm_forward(batchnorm_forward):
    """batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache) must give the outputs written out above."""
    try:
        _check_forward_case(batchnorm_forward, STANDARDISE)
    except CheckFailed as error:
        if NEAR_MISS not in str(error):
            raise
        # Off by a detail of eps, too small to name with the default eps: the case with a large eps names it.
        _check_forward_case(batchnorm_forward, SCALE_SHIFT)
        raise
    _check_forward_case(batchnorm_forward, SCALE_SHIFT)
    _check_running(batchnorm_forward)
    _check_test_mode(batchnorm_forward)
    _check_float32(batchnorm_forward)
    passed("batchnorm_forward standardises each feature over the batch, applies gamma, beta and "
           "bn_param's eps, updates the running averages in bn_param with its momentum, uses them in test "
           "mode, keeps float32 and leaves its inputs unchanged")


# ---------------------------------------------------------------------------
# batchnorm_backward and batchnorm_backward_alt
# ---------------------------------------------------------------------------


def _call_backward(backward, name, dout, cache, label, x_shape):
    """The student's gradients; dout and the arrays in the cache must come back unchanged."""
    dout_before = dout.copy()
    arrays = [item for item in (cache if isinstance(cache, tuple) else ()) if isinstance(item, np.ndarray)]
    before = [a.copy() for a in arrays]
    grads = _run(backward, (dout, cache), name, label, x_shape)
    if not np.array_equal(dout, dout_before):
        fail(f"{name} on {label}: dout after the call", "unchanged", "changed in place",
             "build new arrays for the gradients: an in-place operation (dout *= ...) overwrites the "
             "upstream gradient, which the caller may still use")
    if any(not np.array_equal(a, b) for a, b in zip(arrays, before)):
        fail(f"{name} on {label}: the cache after the call", "unchanged", "changed in place",
             "the backward pass only reads the cache: a second backward pass through it must see the "
             "same arrays")
    if not (isinstance(grads, tuple) and len(grads) == 3):
        fail(f"{name} on {label}", "a tuple (dx, dgamma, dbeta)", type(grads).__name__,
             "end with: return dx, dgamma, dbeta")
    return grads


def _grad_shape_hint(name, shape, x_shape, per):
    """Why dgamma or dbeta has this shape; ``per`` is 'feature' or 'channel'."""
    count = x_shape[1]
    if shape == (1, count):
        return f"{name} has shape ({count},): drop keepdims=True from the sum"
    if len(x_shape) == 2 and shape == x_shape:
        return (f"{name} is not summed over the batch: every sample used the same gamma and beta, so "
                "their gradients add up over the samples")
    if shape in ((x_shape[0],), (int(np.prod(x_shape)) // count,)):
        return (f"{name} was summed over the wrong axis: {name}[j] sums over the batch (every sample, "
                f"and every pixel for images), one value per {per}")
    return f"{name} has one value per {per}, shape ({count},)"


def _check_grads(grads, label, name, x, tables, mistakes, messages, hint, per):
    """Shapes, dtypes, then values of (dx, dgamma, dbeta) against the worked case's literals."""
    what = f"{name} on {label}"
    shapes = {"dx": x.shape, "dgamma": (x.shape[1],), "dbeta": (x.shape[1],)}
    named = dict(zip(("dx", "dgamma", "dbeta"), grads))
    for key in ("dbeta", "dgamma", "dx"):
        value = require_array(named[key], f"{what}: {key}", f"{key} is a numpy array")
        if value.shape != shapes[key]:
            shape_hint = (f"dx has the shape of x, {shapes['dx']}" if key == "dx"
                          else _grad_shape_hint(key, value.shape, x.shape, per))
            fail(f"{what}: {key} shape", shapes[key], value.shape, shape_hint)
        _require_dtype(value, x.dtype, f"{what}: {key}")
    base = label[: -len(", in float32")] if label.endswith("float32") else label
    tol = _tolerance(x.dtype, SUMMED_FLOAT64)
    table = mistakes.get(label) if x.dtype == np.float64 else None
    for key in ("dbeta", "dgamma", "dx"):
        extra = _column_sums(x.ndim) if key == "dx" else None
        _check_values(named[key], np.array(tables[base][key]), f"{what}: {key}", tol, table, messages,
                      f"{label}|{key}", hint, extra)


def _column_sums(ndim):
    """A hint from dx's sums over the batch, which are 0 for any correct batchnorm."""
    axes = (0,) if ndim == 2 else (0, 2, 3)

    def hint(dx):
        sums = dx.sum(axis=axes)
        scale = max(float(np.max(np.abs(dx))), 1e-12)
        if np.all(np.isfinite(sums)) and np.max(np.abs(sums)) > 1e-6 * scale * dx.shape[0]:
            return (f"your dx sums to {np.array2string(sums, precision=4)} over the batch, feature by "
                    "feature; a right dx sums to 0 there, because adding one number to a whole feature "
                    "of x changes nothing after normalization. The path through the batch mean is "
                    "missing or wrong")
        return None
    return hint


def _require_forward_right(out, label, name, check, tol):
    base = label[: -len(", in float32")] if label.endswith("float32") else label
    expected = np.array((SPATIAL_OUT if name.startswith("spatial") else FORWARD_OUT)[base])
    if out.shape != expected.shape or not max_relative_error(out, expected) <= tol:
        fail(f"{name} on {label}", "the output that check's worked case expects",
             "another output", f"run {check} and fix the forward pass first: the backward pass is "
             "checked on the cache of your forward pass")


def _numerical(forward, x, gamma, beta, bn_param, dout):
    """Centred-difference gradients of sum(forward(...) * dout) in float64: your forward pass, train mode."""
    def run(x_, gamma_, beta_):
        return forward(x_, gamma_, beta_, dict(bn_param))[0]
    dx = eval_numerical_gradient_array(lambda v: run(v, gamma, beta), x, dout)
    dgamma = eval_numerical_gradient_array(lambda v: run(x, v, beta), gamma, dout)
    dbeta = eval_numerical_gradient_array(lambda v: run(x, gamma, v), beta, dout)
    return dx, dgamma, dbeta


def _check_numerical(forward, backward, name, forward_name, check, inputs, label, per):
    x, gamma, beta, bn_param, dout = case_arrays(inputs, label)
    out, cache = _call_forward(forward, forward_name, (x, gamma, beta, dict(bn_param)), label)
    _require_forward_right(out, label, forward_name, check, EXACT_FLOAT64)
    grads = _call_backward(backward, name, dout.copy(), cache, label, x.shape)
    shapes = (x.shape, (x.shape[1],), (x.shape[1],))
    for key, got, shape in zip(("dx", "dgamma", "dbeta"), grads, shapes):
        require_array(got, f"{name} on {label}: {key}", f"{key} is a numpy array")
        if got.shape != shape:
            fail(f"{name} on {label}: {key} shape", shape, got.shape,
                 _grad_shape_hint(key, got.shape, x.shape, per) if key != "dx" else "dx has the shape of x")
    for key, got, numerical in zip(("dx", "dgamma", "dbeta"), grads, _numerical(forward, x, gamma, beta,
                                                                                bn_param, dout)):
        error = max_relative_error(got, numerical)
        if not error < NUMERICAL_GRADIENT:
            fail(f"{name} on {label}: {key} against the numerical gradient of your forward pass",
                 f"a relative error below {NUMERICAL_GRADIENT:g}", f"{error:.2e}",
                 "your gradients match the worked cases but not this batch: use the batch size and the "
                 "arrays of the cache you were given, never a number that only fits the worked cases")


def _check_backward(forward, backward, name):
    for label in (SCALE_SHIFT, STANDARDISE, SCALE_SHIFT_32):
        x, gamma, beta, bn_param, dout = case_arrays(INPUTS, label)
        out, cache = _call_forward(forward, "batchnorm_forward", (x, gamma, beta, bn_param), label)
        _require_forward_right(out, label, "batchnorm_forward", "check_batchnorm_forward",
                               _tolerance(x.dtype, EXACT_FLOAT64))
        grads = _call_backward(backward, name, dout, cache, label, x.shape)
        _check_grads(grads, label, name, x, BACKWARD_GRADS, BACKWARD_MISTAKES, BACKWARD_MESSAGES,
                     BACKWARD_HINT, "feature")
    _check_numerical(forward, backward, name, "batchnorm_forward", "check_batchnorm_forward", INPUTS,
                     NUMERIC, "feature")
    passed(f"{name} gives dx, dgamma and dbeta of 2 worked cases (with and without gamma, beta and a "
           "large eps) in float64 and float32, and agrees with the numerical gradient of your "
           f"batchnorm_forward (relative errors below {NUMERICAL_GRADIENT:g})")


def check_batchnorm_backward(batchnorm_forward, batchnorm_backward):
    """batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta) after your batchnorm_forward."""
    _check_backward(batchnorm_forward, batchnorm_backward, "batchnorm_backward")


def check_batchnorm_backward_alt(batchnorm_forward, batchnorm_backward_alt):
    """batchnorm_backward_alt(dout, cache) -> (dx, dgamma, dbeta): the same gradients as batchnorm_backward."""
    _check_backward(batchnorm_forward, batchnorm_backward_alt, "batchnorm_backward_alt")


# ---------------------------------------------------------------------------
# spatial_batchnorm_forward and spatial_batchnorm_backward
# ---------------------------------------------------------------------------


def _spatial_case(forward, label):
    return _check_forward_case(forward, label, name="spatial_batchnorm_forward", inputs=SPATIAL_INPUTS,
                               table=SPATIAL_OUT, mistakes=SPATIAL_MISTAKES, messages=SPATIAL_MESSAGES,
                               hint=SPATIAL_HINT, axes=(0, 2, 3))


def check_spatial_batchnorm_forward(spatial_batchnorm_forward):
    """spatial_batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache) on images (N, C, H, W)."""
    _spatial_case(spatial_batchnorm_forward, SPATIAL_STANDARDISE)
    _, bn_param = _spatial_case(spatial_batchnorm_forward, SPATIAL_SCALE_SHIFT)
    for key in ("running_mean", "running_var"):
        what = f"bn_param['{key}'] after spatial_batchnorm_forward on {SPATIAL_SCALE_SHIFT}"
        value = require_array(bn_param.get(key), what, "bn_param holds one running average per channel")
        if value.shape != (3,):
            fail(f"{what} shape", (3,), value.shape, "one running average per channel (C = 3)")
        _check_values(value, np.array(SPATIAL_RUNNING[key]), what, EXACT_FLOAT64, None, None, key,
                      "the running averages are those of batchnorm_forward given one column per channel")
    _spatial_case(spatial_batchnorm_forward, SPATIAL_TEST_MODE)
    _, bn_param = _spatial_case(spatial_batchnorm_forward, SPATIAL_SCALE_SHIFT_32)
    for key in ("running_mean", "running_var"):
        _require_dtype(bn_param[key], np.float32, f"bn_param['{key}'] after {SPATIAL_SCALE_SHIFT_32}")
    passed("spatial_batchnorm_forward normalises each channel over all images and pixels, applies gamma "
           "and beta per channel, keeps one running average per channel, uses them in test mode and "
           "keeps float32")


def check_spatial_batchnorm_backward(spatial_batchnorm_forward, spatial_batchnorm_backward):
    """spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta) after your spatial_batchnorm_forward."""
    name = "spatial_batchnorm_backward"
    for label in (SPATIAL_SCALE_SHIFT, SPATIAL_SCALE_SHIFT_32):
        x, gamma, beta, bn_param, dout = case_arrays(SPATIAL_INPUTS, label)
        out, cache = _call_forward(spatial_batchnorm_forward, "spatial_batchnorm_forward",
                                   (x, gamma, beta, bn_param), label)
        _require_forward_right(out, label, "spatial_batchnorm_forward", "check_spatial_batchnorm_forward",
                               _tolerance(x.dtype, EXACT_FLOAT64))
        grads = _call_backward(spatial_batchnorm_backward, name, dout, cache, label, x.shape)
        _check_grads(grads, label, name, x, SPATIAL_GRADS, SPATIAL_BACKWARD_MISTAKES,
                     SPATIAL_BACKWARD_MESSAGES, SPATIAL_HINT, "channel")
    _check_numerical(spatial_batchnorm_forward, spatial_batchnorm_backward, name, "spatial_batchnorm_forward",
                     "check_spatial_batchnorm_forward", SPATIAL_INPUTS, SPATIAL_SCALE_SHIFT, "channel")
    passed("spatial_batchnorm_backward gives dx, dgamma and dbeta of the worked case in float64 and "
           "float32, and agrees with the numerical gradient of your spatial_batchnorm_forward "
           f"(relative errors below {NUMERICAL_GRADIENT:g})")
