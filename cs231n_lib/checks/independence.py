"""Independence checks: run a student's code with the shipped alternatives switched off.

Several exercises ask for something the library also provides in another
form: the naive convolution and pooling next to the fast layers, a numerical
gradient next to ``gradient_check``, an SGD loop next to the ``Solver``. An
answer that only calls the shipped version passes every check on values, so a
hidden test runs the same public check again inside::

    with shipped_alternatives_disabled("conv_forward_fast", namespace=globals()):
        check_conv_forward(conv_forward_naive)

Inside the block each named object is replaced by a function that raises
``AssertionError("this exercise must not call <name>: write it yourself")``
in its home module, in every other loaded ``cs231n_lib`` module that holds it
and in the dicts at their top level such as ``optim.UPDATE_RULES`` (so
``from cs231n_lib.fast_layers import conv_forward_fast`` in the student's file
and ``get_update_rule("sgd")`` are caught too; the checks' own modules are
left alone), and in the given namespace (a notebook's ``globals()``, where a
notebook answer looks its names up at call time). The student's library modules are reloaded, so code
that captured a shipped function at import time captures the stub. On exit
everything is restored and the modules reloaded again, even after an error.
What the check prints on success is swallowed (a hidden test prints nothing).
"""

import contextlib
import importlib
import io
import sys

# name -> home module of each shipped alternative.
SHIPPED = {
    "conv_forward_fast": "cs231n_lib.fast_layers",
    "conv_backward_fast": "cs231n_lib.fast_layers",
    "max_pool_forward_fast": "cs231n_lib.fast_layers",
    "max_pool_backward_fast": "cs231n_lib.fast_layers",
    "eval_numerical_gradient": "cs231n_lib.gradient_check",
    "eval_numerical_gradient_array": "cs231n_lib.gradient_check",
    "grad_check_sparse": "cs231n_lib.gradient_check",
    "Solver": "cs231n_lib.solver",
    "sgd": "cs231n_lib.optim",
    "affine_relu_forward": "cs231n_lib.layer_utils",
    "affine_relu_backward": "cs231n_lib.layer_utils",
    "conv_relu_forward": "cs231n_lib.layer_utils",
    "conv_relu_backward": "cs231n_lib.layer_utils",
    "conv_relu_pool_forward": "cs231n_lib.layer_utils",
    "conv_relu_pool_backward": "cs231n_lib.layer_utils",
}

# The modules students write in: reloaded so import-time captures see the stubs.
STUDENT_MODULES = ("cs231n_lib.layers",)


def _stub(name):
    def shipped_alternative_disabled(*args, **kwargs):
        raise AssertionError(f"this exercise must not call {name}: write it yourself")

    shipped_alternative_disabled.__name__ = name
    return shipped_alternative_disabled


def _holders():
    """Loaded cs231n_lib modules other than the checks (which keep their references)."""
    return [module for modname, module in list(sys.modules.items())
            if module is not None
            and (modname == "cs231n_lib" or modname.startswith("cs231n_lib."))
            and not modname.startswith("cs231n_lib.checks")]


def _patch(originals, stubs, namespace, saved):
    """Replace every binding of an original object; record (mapping, key, old) in saved."""
    targets = [vars(module) for module in _holders()]
    # one level down too: a module's tables of functions (optim.UPDATE_RULES)
    targets += [value for mapping in list(targets) for value in list(mapping.values())
                if isinstance(value, dict)
                and value is not mapping]
    if namespace is not None:
        targets.append(namespace)
    for mapping in targets:
        for key, value in list(mapping.items()):
            for name, original in originals.items():
                if value is original:
                    saved.append((mapping, key, value))
                    mapping[key] = stubs[name]
                    break


@contextlib.contextmanager
def shipped_alternatives_disabled(*names, namespace=None, reload=STUDENT_MODULES, quiet=True):
    """Within the block, calling any of ``names`` raises an AssertionError.

    Inputs:
    - names: keys of SHIPPED, e.g. "conv_forward_fast", "eval_numerical_gradient"
    - namespace: a dict (a notebook's globals()) whose bindings of those objects
      are replaced too
    - reload: student modules to reload after patching and again on exit
    - quiet: swallow what is printed inside the block
    """
    unknown = [name for name in names if name not in SHIPPED]
    if unknown:
        raise ValueError(f"unknown shipped alternative(s) {unknown}; known: {sorted(SHIPPED)}")
    originals = {name: getattr(importlib.import_module(SHIPPED[name]), name) for name in names}
    stubs = {name: _stub(name) for name in names}
    saved = []
    reloaded = [sys.modules[m] for m in reload if m in sys.modules]
    try:
        _patch(originals, stubs, namespace, saved)
        for module in reloaded:
            importlib.reload(module)
        _patch(originals, stubs, namespace, saved)  # names a reload re-bound to an original
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            yield stubs
    finally:
        for mapping, key, value in reversed(saved):
            mapping[key] = value
        for module in reloaded:
            importlib.reload(module)
