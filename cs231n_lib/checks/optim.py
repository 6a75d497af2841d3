"""Checks for notebook 05: the hand-written SGD loop and the update rules.

check_sgd_loop runs the student's train_by_hand on a small FullyConnectedNet
and the digits, watching each model.loss call, and names the usual slips: no
update, gradient ascent, the learning rate ignored, the gradient divided by the
batch size again, batches not drawn from the seeded generator, the same batch
every time, batches from the first rows only.

The update-rule checks run each rule for three steps on a 4-vector and compare
with values worked out in advance and written here as literals (proven by
tests/test_checks_optim.py, which keeps a reference of each rule and of each
mistake). They also hold the values common mistakes give on these inputs, so a
wrong answer can be named: Adam without bias correction, epsilon inside the
square root, the gradient not squared, and so on. Every array passed in (w, dw
and the state in config) must come back unchanged, and a float32 w must keep
next_w and its state in float32.

The literals use large epsilons (0.1, 0.01) on purpose: with the defaults,
epsilon's placement would change the result by far less than the tolerance.
"""

import numpy as np

from cs231n_lib.checks.common import (
    EXACT_FLOAT64,
    OPTIM_FILE,
    call_student,
    close,
    fail,
    passed,
)
from cs231n_lib.data import load_digits
from cs231n_lib.models import FullyConnectedNet

WHERE = OPTIM_FILE

W0 = [1.0, -2.0, 0.5, 0.0]
# The gradient of each step. The third coordinate's first gradient is 0: a
# missing epsilon then divides 0 by 0.
DWS = [[0.5, -1.5, 0.0, 2.0], [-0.3, -1.0, 0.2, 1.0], [0.4, 0.5, -0.1, 0.0]]

# For each rule: its config; w after steps 1, 2, 3; each state array after
# steps 1, 2, 3; and the w that a named mistake gives at each step, when it is
# fed the right w and state of the step before.
NAN = float("nan")  # a mistake that takes the root of a negative number gives NaN there

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
            "momentum_forgotten": [
                [0.95, -1.85, 0.5, -0.2],
                [0.93, -1.6, 0.48, -0.5],
                [0.89, -1.46, 0.47, -0.72],
            ],
            "one_minus_mu": [
                [0.99, -1.97, 0.5, -0.04],
                [0.916, -1.71, 0.496, -0.38],
                [0.924, -1.464, 0.466, -0.668],
            ],
            "lr_ignored": [
                [0.5, -0.5, 0.5, -2.0],
                [1.21, -0.73, 0.3, -1.36],
                [0.532, -1.954, 0.564, -0.668],
            ],
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
            "momentum_forgotten": [
                [0.91, -1.73, 0.5, -0.36],
                [0.914, -1.4, 0.464, -0.74],
                [0.85, -1.324, 0.462, -0.928],
            ],
            "one_minus_mu": [
                [0.982, -1.946, 0.5, -0.072],
                [0.8888, -1.598, 0.4928, -0.524],
                [0.9112, -1.3312, 0.4548, -0.8344],
            ],
            "lr_ignored": [
                [0.1, 0.7, 0.5, -3.6],
                [1.418, 0.166, 0.14, -2.288],
                [0.2056, -2.2132, 0.6312, -0.8344],
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
            "no_square": [
                [0.690251642252, NAN, 0.5, -0.660408825313],
                [NAN, -1.12075242389, 0.317256002368, -0.690225343675],
                [0.594639171798, -1.39123612041, NAN, -0.690225343675],
            ],
            "old_cache": [
                [-1.5, 5.5, 0.5, -10.0],
                [0.833333333333, -1.21875, -0.5, -0.714285714286],
                [0.510137092502, -1.39986299092, 0.333333333333, -0.690225343675],
            ],
            "lr_ignored": [
                [0.166666666667, -1.0625, 0.5, -0.952380952381],
                [1.02251077832, -1.00570196366, -0.166666666667, -0.90426021116],
                [0.307324683429, -1.5221763677, 0.475683661042, -0.690225343675],
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
            "no_square": [
                [0.845491502813, NAN, 0.5, -0.365487995263],
                [NAN, -1.50082469212, 0.417157287525, -0.401550340839],
                [0.803733075376, -1.65987247225, NAN, -0.401550340839],
            ],
            "one_minus_decay_missing": [
                [0.916666666667, -1.90625, 0.5, -0.0952380952381],
                [0.875187601992, -1.65526028732, 0.433333333333, -0.3520311841],
                [0.839494687605, -1.645763064, 0.423649171503, -0.401550340839],
            ],
            "no_decay": [
                [0.916666666667, -1.90625, 0.5, -0.0952380952381],
                [0.874606056398, -1.65596744214, 0.433333333333, -0.350983324504],
                [0.839998249154, -1.6442758932, 0.4232891665, -0.401550340839],
            ],
            "old_cache": [
                [0.5, -0.5, 0.5, -2.0],
                [0.922514822655, -1.56471901276, 0.3, -0.409581178487],
                [0.770248734084, -1.66190833073, 0.438742588672, -0.401550340839],
            ],
            "lr_ignored": [
                [-0.937129433614, 0.611685923432, 0.5, -2.73054118992],
                [1.88743673328, -0.200369869195, -0.725148226554, -1.55801633746],
                [-0.37345121455, -2.35993109009, 0.973349995284, -0.401550340839],
            ],
        },
    },
    "adam": {
        "config": {"learning_rate": 0.05, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-08},
        "w": [
            [0.950000001, -1.95000000033, 0.5, -0.04999999975],
            [0.940425099471, -1.90148239431, 0.462793161452, -0.0966089813957],
            [0.916244380876, -1.87388779973, 0.451361143549, -0.132637859244],
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
                [0.841886216992, -1.84188615032, 0.5, -0.158113858008],
                [0.909310600136, -1.74382001961, 0.341886366991, -0.248069113969],
                [0.820724902186, -1.76488267866, 0.406202058018, -0.274960382185],
            ],
            "only_m_corrected": [
                [-0.581137830085, -0.418861503249, 0.5, -1.58113858008],
                [0.735845259613, -0.864842207065, -0.332177015836, -1.09246902195],
                [0.49872695451, -1.39742440297, 0.25396990155, -0.754732231542],
            ],
            "only_v_corrected": [
                [0.9950000001, -1.99500000003, 0.5, -0.004999999975],
                [0.948180769709, -1.94078165519, 0.492930700676, -0.0588557062627],
                [0.933872124732, -1.89400425918, 0.4596950846, -0.106372807293],
            ],
            "eps_inside_sqrt": [
                [0.950000001, -1.95000000011, 0.5, -0.0499999999375],
                [0.94042509952, -1.90148239408, 0.462793168119, -0.0966089815973],
                [0.916244381009, -1.87388779959, 0.451361146093, -0.132637859415],
            ],
            "t_reset": [
                [0.950000001, -1.95000000033, 0.5, -0.04999999975],
                [0.937132875904, -1.88480015455, 0.4500000025, -0.112634961838],
                [0.902572557089, -1.85828576431, 0.444897458719, -0.153008654164],
            ],
            "no_square": [
                [0.964644661441, NAN, 0.5, -0.0707106776187],
                [NAN, -1.87172431694, 0.483360595305, -0.0966089813957],
                [0.920552476304, -1.87482488115, NAN, -0.132637859244],
            ],
            "one_minus_beta1_missing": [
                [0.50000001, -1.50000000333, 0.5, -0.4999999975],
                [1.11277332699, -1.71567028613, 0.127931614519, -0.246423565257],
                [0.753533003414, -1.95077676296, 0.579971344954, -0.132637859244],
            ],
            "lr_ignored": [
                [1.99999996564e-08, -1.00000000667, 0.5, -0.999999995],
                [0.758501970418, -0.97964787985, -0.244136770962, -0.982179632665],
                [0.456810727572, -1.34959050268, 0.234152803399, -0.81718653836],
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
            "eps_outside_sqrt": [
                [0.85129128212, -1.84515062838, 0.5, -0.155652796207],
                [0.971123802941, -1.72036825514, 0.363472940504, -0.258287716061],
                [0.834089882416, -1.79117472524, 0.488335084688, -0.258685041914],
            ],
            "one_minus_rho_missing": [
                [0.950970966215, -1.95011074211, 0.5, -0.0499376169439],
                [0.922482550819, -1.78175750643, 0.45527864045, -0.21621647412],
                [0.899036510209, -1.77420096764, 0.452389661875, -0.258685041914],
            ],
            "no_sqrt_numerator": [
                [0.986636937904, -1.98452868131, 0.5, -0.0156173761889],
                [0.878992025453, -1.82777887656, 0.491548457453, -0.170582376902],
                [0.945493179658, -1.73137030815, 0.420804898097, -0.258685041914],
            ],
            "lr_ignored": [
                [0.732738758088, -1.69057362612, 0.5, -0.312347523777],
                [1.05918348784, -1.59501037016, 0.330969149054, -0.361196321939],
                [0.719243410329, -1.86243279094, 0.509326261591, -0.258685041914],
            ],
        },
        "state_mistakes": {
            "accum_update": {
                "dx_not_squared": [
                    [-0.0267261241912, 0.0309426373878, 0.0, -0.0312347523777],
                    [0.0257099823082, 0.0336446655669, -0.0169030850946, -0.0117217682002],
                    [-0.015221632776, -0.000835653975858, 0.0119555972778, 0.0116855215361],
                ],
            },
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
    "adam:eps_inside_sqrt": (
        "epsilon inside the square root: the formula adds it after the root, np.sqrt(v_hat) + epsilon. "
        "With epsilon = 1e-8 the two differ only from the 8th digit on, but they do differ"
    ),
    "cache_replaced": (
        "the cache was replaced instead of accumulated: Adagrad adds every squared gradient "
        "to the cache (cache + dw**2), so it remembers all earlier steps"
    ),
    "no_square": (
        "the gradient is not squared where it is accumulated: add dw**2, not dw. Raw gradients "
        "can add up to a negative number, and the square root of that is NaN"
    ),
    "old_cache": (
        "next_w was computed with the old cache: update the cache first (fold in this step's dw**2), "
        "then divide by the root of the new cache"
    ),
    "lr_ignored": (
        "the learning rate is not used: your steps are exactly those of learning_rate = 1. "
        "Multiply the step by config['learning_rate']"
    ),
    "momentum_forgotten": (
        "the momentum factor is missing: the old velocity must decay, v = momentum * v - learning_rate * dw, "
        "not v = v - learning_rate * dw (at step 1 v is 0, so only later steps show it)"
    ),
    "one_minus_mu": (
        "the gradient is scaled by (1 - momentum) as well as by the learning rate: in this form of "
        "momentum it enters alone, v = momentum * v - learning_rate * dw"
    ),
    "one_minus_decay_missing": (
        "the new dw**2 enters the cache with weight 1, not (1 - decay_rate): RMSProp's leaky cache is "
        "cache = decay_rate * cache + (1 - decay_rate) * dw**2"
    ),
    "no_decay": (
        "the cache never decays (that is Adagrad's ever-growing sum): RMSProp's leaky cache is "
        "cache = decay_rate * cache + (1 - decay_rate) * dw**2"
    ),
    "t_reset": (
        "t was reset to 1 instead of counting the steps: add 1 to the t stored in config "
        "(t = config['t'] + 1). With t = 1 forever, every step gets the first step's bias correction"
    ),
    "one_minus_beta1_missing": (
        "the first moment misses its (1 - beta1) factor: m = beta1 * m + (1 - beta1) * dw. "
        "Without it m_hat, and so every step, is about 10 times too large"
    ),
    "eps_outside_sqrt": (
        "epsilon outside the square root of E[g^2]: Adadelta adds it inside the root, "
        "np.sqrt(accum_grad + epsilon)"
    ),
    "one_minus_rho_missing": (
        "the new dw**2 enters E[g^2] with weight 1, not (1 - rho): "
        "accum_grad = rho * accum_grad + (1 - rho) * dw**2"
    ),
    "no_sqrt_numerator": (
        "the square root of the numerator is missing: "
        "dx = -np.sqrt(accum_update + epsilon) / np.sqrt(accum_grad + epsilon) * dw"
    ),
    "dx_not_squared": (
        "dx is not squared: E[dx^2] averages squared steps, so square dx before folding it in, "
        "accum_update = rho * accum_update + (1 - rho) * dx**2"
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


def _pair(expected, got):
    """expected and got as text, with enough digits that two different arrays do not look the same."""
    for digits in (6, 9, 12, 15):
        texts = [np.array2string(np.asarray(a, dtype=np.float64), precision=digits, separator=", ",
                                 floatmode="maxprec") for a in (expected, got)]
        if texts[0] != texts[1]:
            break
    return texts


def _matches(got, row):
    """got equals a precomputed row, NaN where the row has NaN (a root of a negative number)."""
    got, row = np.asarray(got, dtype=np.float64), np.asarray(row, dtype=np.float64)
    if got.shape != row.shape or not np.array_equal(np.isfinite(got), np.isfinite(row)):
        return False
    finite = np.isfinite(row)
    return not np.any(finite) or close(got[finite], row[finite], EXACT_FLOAT64)


def _hint(name, mistake):
    return MISTAKE_HINTS.get(f"{name}:{mistake}", MISTAKE_HINTS[mistake])


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
    shown = _pair(expected, got)
    for mistake, rows in case["mistakes"].items():
        if _matches(got, rows[step - 1]):
            with np.errstate(all="ignore"):
                ratio = float(np.max(np.abs(got - w_in))) / case["config"]["learning_rate"]
            hint = _hint(name, mistake).format(ratio=f"{ratio:.2f}")
            fail(what, *shown, "looks like " + hint)
    if not np.all(np.isfinite(got)):
        bad = ~np.isfinite(got)
        if name == "adam" and np.all(bad):
            fail(what, *shown,
                 "t is incremented after the bias correction: at the first step that uses t = 0, "
                 "where 1 - beta1**0 = 0 and m / 0 is not a number. Increment t first (t = t + 1), then correct")
        if name in EPSILON_FIX and np.all(dw[bad] == 0):
            state, fix = EPSILON_FIX[name]
            fail(what, *shown, EPSILON_MISSING.format(state=state, fix=fix))
        fail(what, *shown,
             "next_w holds NaN or inf: look for a division by zero, a missing epsilon, "
             "or the square root of a negative number")
    if close(got, 2 * w_in - expected, EXACT_FLOAT64):
        fail(what, *shown,
             "the step has the wrong sign: w moved by the right amount but uphill, along +dw; "
             + SIGN_ADVICE[name])
    if np.array_equal(got, w_in):
        fail(what, *shown,
             DID_NOT_MOVE.get(name, "w did not move although dw is not 0"))
    fail(what, *shown,
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
        if not isinstance(stored, np.ndarray) or stored.shape != expected.shape or not close(stored, expected, EXACT_FLOAT64):
            for mistake, mistake_rows in case.get("state_mistakes", {}).get(key, {}).items():
                if isinstance(stored, np.ndarray) and _matches(stored, mistake_rows[step - 1]):
                    fail(where, *_pair(expected, stored), "looks like " + _hint(name, mistake))
            fail(where, _show(expected), _show(stored) if isinstance(stored, np.ndarray) else repr(stored),
                 f"next_w was right, but the {key} stored for the next step is not: store the updated "
                 f"value, the one next_w was computed with")
    if name == "adam":
        t = config.get("t")
        if t != step:
            hint = ("the new t was not stored back in config: end with config['t'] = t"
                    if t == step - 1 else "t counts the steps taken: add 1 to it once per call")
            fail(f"adam, step {step}: config['t']", step, repr(t), hint)


def _check_not_changed(name, step, before):
    """Every array passed in (w, dw, the config's state) must be as it was before the call."""
    for what, array, copy in before:
        if not np.array_equal(array, copy, equal_nan=True):
            if what in ("w", "dw"):
                hint = (f"{what} was changed in place ({what} += ... or {what} -= ...): compute a new array, "
                        f"next_w = w + ..., because the caller may still need the old {what}")
            else:
                hint = (f"{what} was changed in place (*=, += or -= on the array taken from config): compute "
                        "a new array instead, x = x + ... rather than x += ..., because the caller "
                        "(or a copy you kept, like v_prev) may still need the old values")
            fail(f"{name}, step {step}: the {what} passed in", f"unchanged, {_show(copy)}", _show(array), hint)


def _dtype_problem(rule, name, config, steps):
    """(step, what, dtype) of the first array that is not float32 when w is float32, or None."""
    w = np.array(W0, dtype=np.float32)
    for step, dw_list in enumerate(DWS[:steps], start=1):
        next_w, config = _call_rule(rule, name, w.copy(), np.array(dw_list), config, step)
        arrays = [("next_w", next_w)] + [(f"config[{k!r}]", v) for k, v in config.items() if isinstance(v, np.ndarray)]
        for what, array in arrays:
            if array.dtype != np.float32:
                return step, what, array.dtype
        w = next_w
    return None


def _fail_dtype(name, problem):
    step, what, dtype = problem
    fail(f"{name}, step {step}: {what} dtype", "float32, like w", str(dtype),
         "a float64 gradient upcast it: store state as _like(value, w), "
         "so a float32 model stays float32")


def _check_rule(rule, name):
    case = CASES[name]
    w = np.array(W0)
    # The state starts as zeros passed in, so a state array changed in place shows at step 1.
    config = dict(case["config"], **{key: np.zeros(len(W0)) for key in case["state"]})
    for step, dw_list in enumerate(DWS, start=1):
        dw = np.array(dw_list)
        w_in = w.copy()
        before = [("w", w_in, w), ("dw", dw, dw.copy())]
        before += [(f"config[{key!r}]", value, value.copy()) for key, value in config.items()
                   if isinstance(value, np.ndarray)]
        next_w, config = _call_rule(rule, name, w_in, dw, config, step)
        _check_not_changed(name, step, before)
        if not close(next_w, case["w"][step - 1], EXACT_FLOAT64):
            _diagnose_w(name, case, step, w, dw, next_w)
        _check_state(name, case, step, config)
        w = np.array(case["w"][step - 1])
    problem = _dtype_problem(rule, name, dict(case["config"]), steps=len(DWS))
    if problem:
        _fail_dtype(name, problem)
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
    problem = _dtype_problem(rule, name, {}, steps=2)
    if problem:
        _fail_dtype(name, problem)
    passed(f"{name} keeps a float32 w and its state in float32.")


# ---------------------------------------------------------------------------
# The hand-written SGD loop
# ---------------------------------------------------------------------------

LOOP_ITERS = 60
LOOP_SETTINGS = {"batch_size": 50, "learning_rate": 0.1}


def _loop_run(train_by_hand, X, y, seed):
    """Run the loop on a fresh model; also returns what each model.loss(X, y) call saw.

    Each call is recorded as (batch of images, the params at that moment, the grads returned).
    """
    model = FullyConnectedNet([32], input_dim=64, weight_scale="he", dtype=np.float64, seed=0)
    before = {name: w.copy() for name, w in model.params.items()}
    calls = []
    model_loss = model.loss

    def recording_loss(X_batch, y_batch=None):
        result = model_loss(X_batch, y_batch)
        if y_batch is not None:
            params = {name: np.array(w, copy=True) for name, w in model.params.items()}
            calls.append((np.array(X_batch, copy=True), params, result[1]))
        return result

    model.loss = recording_loss
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
    return model, before, losses, calls


def _step_factor(model, calls):
    """s such that each iteration's step was -s * grads (least squares over all steps), or None."""
    if len(calls) != LOOP_ITERS:
        return None
    after = [params for _, params, _ in calls[1:]] + [{name: np.asarray(w) for name, w in model.params.items()}]
    along, size = 0.0, 0.0
    for (_, params, grads), next_params in zip(calls, after):
        for name, w in params.items():
            if name not in grads or name not in next_params:
                return None
            g = np.asarray(grads[name], dtype=np.float64)
            along -= float(np.sum((np.asarray(next_params[name], dtype=np.float64) - w) * g))
            size += float(np.sum(g * g))
    return along / size if size > 0 else None


def _check_batches(X, calls):
    """Name the two sampling slips the seeds do not show: one batch reused, the first rows only."""
    if len(calls) != LOOP_ITERS:
        return
    batches = [batch for batch, _, _ in calls]
    if all(b.shape == batches[0].shape and np.array_equal(b, batches[0]) for b in batches):
        fail("the batches of the 60 iterations", "a new random batch each iteration", "the same batch every time",
             "no sampling: every iteration trains on the same data. Make the generator once, before the loop "
             "(a generator made inside the loop from seed starts over, so it gives the same batch every time), "
             "then draw batch = rng.choice(len(X), size=batch_size, replace=False) inside the loop")
    batch_size = LOOP_SETTINGS["batch_size"]
    first = {row.tobytes() for row in np.asarray(X[:batch_size], dtype=np.float64)}
    if all(row.tobytes() in first for b in batches for row in np.asarray(b, dtype=np.float64)):
        fail("the images in the batches", "drawn from the whole training set",
             f"only the first {batch_size} images",
             f"the indices come from the first {batch_size} images only: draw them from the whole training "
             "set, rng.choice(len(X), size=batch_size, replace=False); rng.choice(batch_size, ...) "
             f"only picks among 0 .. {batch_size - 1}")


def check_sgd_loop(train_by_hand, data=None):
    """Run the student's train_by_hand on a small FullyConnectedNet and digits.

    Checks: one loss per iteration; every parameter changed; each step is
    learning_rate times the gradient of that iteration's batch; the loss went
    down; the same seed gives the same run; a new batch each iteration, drawn
    from the whole training set; another seed gives another run.
    """
    if data is None:
        data = load_digits(dtype=np.float64)
    X, y = data["X_train"], data["y_train"]
    model, before, losses, calls = _loop_run(train_by_hand, X, y, seed=0)

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

    factor = _step_factor(model, calls)
    learning_rate, batch_size = LOOP_SETTINGS["learning_rate"], LOOP_SETTINGS["batch_size"]
    if factor is not None and abs(factor - 1.0) <= 1e-6:
        fail("the step of each iteration", "learning_rate * grads", "1 * grads",
             "the learning rate is not used: multiply the gradient by the learning_rate argument, "
             "model.params[name] - learning_rate * grads[name]")
    if factor is not None and abs(factor - learning_rate / batch_size) <= 1e-6 * learning_rate:
        fail("the step of each iteration", "learning_rate * grads", "learning_rate * grads / batch_size",
             "the gradient is divided by batch_size again: model.loss already averaged the loss "
             "(and so its gradient) over the batch, so step by learning_rate * grads[name] alone")

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

    _, _, again, _ = _loop_run(train_by_hand, X, y, seed=0)
    if not np.array_equal(losses, again):
        fail("two runs with seed=0", "the same losses", "different losses",
             "the batches are not reproducible: draw them with the generator made from seed, "
             "rng = np.random.default_rng(seed) before the loop, then rng.choice(...), "
             "not np.random.choice or an unseeded generator")
    _check_batches(X, calls)
    _, _, other, _ = _loop_run(train_by_hand, X, y, seed=1)
    if np.array_equal(losses, other):
        fail("runs with seed=0 and seed=1", "different batches, so different losses", "the same losses",
             "no sampling: every iteration uses the same data. Draw a new random batch each "
             "iteration, batch = rng.choice(len(X), size=batch_size, replace=False)")
    passed(f"the loss fell from {first:.2f} to {last:.2f} (mean of the first and last 10 batches), "
           "every parameter moved, and the same seed gives the same run.")
