"""CS231n's module paths, mapped onto cs231n_lib, so the course's notebooks import unchanged.

CS231n's assignment-2 notebooks (spring 2017 and later years) import from a
package called ``cs231n``: ``from cs231n.layers import *``,
``from cs231n.solver import Solver``, ... This package holds one module per
path they use, and each only re-exports, under the course's names, what
cs231n_lib already provides with the same contract:

    cs231n.layers                -> cs231n_lib.layers
    cs231n.fast_layers           -> cs231n_lib.fast_layers
    cs231n.layer_utils           -> cs231n_lib.layer_utils
    cs231n.gradient_check        -> cs231n_lib.gradient_check
    cs231n.optim                 -> cs231n_lib.optim
    cs231n.solver                -> cs231n_lib.solver
    cs231n.classifiers.fc_net    -> cs231n_lib.models
    cs231n.classifiers.cnn       -> cs231n_lib.models
    cs231n.data_utils            -> cs231n_lib.data
    cs231n.vis_utils             -> cs231n_lib.vis

A course name the library does not provide is left out rather than imitated
(an ImportError names it); each module's docstring lists them, with why.
Nothing here is part of the student release: students import cs231n_lib.
"""
