"""Independence checks: run a student's code with the shipped alternatives switched off.

Several exercises ask for something the library also provides in another
form: the naive convolution and pooling next to the fast layers, a numerical
gradient next to ``gradient_check``, an SGD loop next to the ``Solver``, an
output size worked out by hand next to ``shapes.conv_output_size``. An answer
that only calls the shipped version passes every check on values, so every
hidden test is written the same way: the public check again, inside::

    with shipped_alternatives_disabled("conv_forward_fast", namespace=globals()) as answers:
        check_conv_forward(conv_forward_naive)              # a function: call it again
        check_output_size(answers.rerun("alexnet_size"), 227, 11, stride=4, pad=0)  # a value

Inside the block each named object is replaced by a function that raises
``CheckFailed("this exercise must not call <name>: write it yourself")`` (an AssertionError)
in its home module, in every other loaded ``cs231n_lib`` module that holds it
and in the dicts at their top level such as ``optim.UPDATE_RULES`` (so
``from cs231n_lib.fast_layers import conv_forward_fast`` in the student's file
and ``get_update_rule("sgd")`` are caught too; the checks' own modules are
left alone), and in the given namespace (a notebook's ``globals()``, where a
notebook answer looks its names up at call time). The student's library
modules are reloaded, so code that captured a shipped function at import time
captures the stub. A value answer (a number or a shape typed into an answer
cell) is worked out again by ``answers.rerun(name, ...)``: the last cell run
before the check that assigns those names (IPython's ``In``) runs once more,
in a copy of the namespace, with the stubs in place. On exit everything is
restored and the modules reloaded again, even after an error. What is printed
inside the block is swallowed (a hidden test prints nothing).

Not detected: a value computed with a shipped tool in a cell other than the
one that assigns the answer (the rerun starts from that earlier cell's
result), and code that reaches a shipped function other than by the names
listed in SHIPPED (copying its source into the answer, for example).
"""

import ast
import contextlib
import importlib
import io
import sys

from cs231n_lib.checks.failure import CheckFailed

# name -> home module of each shipped alternative.
SHIPPED = {
    "conv_forward_fast": "cs231n_lib.fast_layers",
    "conv_backward_fast": "cs231n_lib.fast_layers",
    "max_pool_forward_fast": "cs231n_lib.fast_layers",
    "max_pool_backward_fast": "cs231n_lib.fast_layers",
    "_conv_forward": "cs231n_lib.fast_layers",
    "_max_pool_backward": "cs231n_lib.fast_layers",
    "eval_numerical_gradient": "cs231n_lib.gradient_check",
    "eval_numerical_gradient_array": "cs231n_lib.gradient_check",
    "grad_check_sparse": "cs231n_lib.gradient_check",
    "_centred_difference": "cs231n_lib.gradient_check",
    "Solver": "cs231n_lib.solver",
    "sgd": "cs231n_lib.optim",
    "affine_relu_forward": "cs231n_lib.layer_utils",
    "affine_relu_backward": "cs231n_lib.layer_utils",
    "conv_relu_forward": "cs231n_lib.layer_utils",
    "conv_relu_backward": "cs231n_lib.layer_utils",
    "conv_relu_pool_forward": "cs231n_lib.layer_utils",
    "conv_relu_pool_backward": "cs231n_lib.layer_utils",
    "conv_output_size": "cs231n_lib.shapes",
    "pool_output_size": "cs231n_lib.shapes",
    "conv_geometry": "cs231n_lib.shapes",
    "pool_geometry": "cs231n_lib.shapes",
    "summarize_stack": "cs231n_lib.shapes",
    "Conv": "cs231n_lib.shapes",
    "Pool": "cs231n_lib.shapes",
    "FC": "cs231n_lib.shapes",
    "softmax_loss": "cs231n_lib.layers",
    "svm_loss": "cs231n_lib.layers",
    "ThreeLayerConvNet": "cs231n_lib.models",
}

# Private functions that do all of a shipped alternative's work: switched off with it.
TWINS = {"conv_forward_fast": ("_conv_forward",), "max_pool_backward_fast": ("_max_pool_backward",)}

# The shapes tools notebook 01 teaches with: its exercises ask for what they compute.
SPATIAL_TOOLS = ("conv_output_size", "pool_output_size", "conv_geometry", "pool_geometry",
                 "summarize_stack", "Conv", "Pool", "FC")

# The modules students write in: reloaded so import-time captures see the stubs.
STUDENT_MODULES = ("cs231n_lib.layers",)


def _stub(name):
    def shipped_alternative_disabled(*args, **kwargs):
        raise CheckFailed(f"this exercise must not call {name}: write it yourself")

    shipped_alternative_disabled.__name__ = name
    return shipped_alternative_disabled


def _holders():
    """Loaded cs231n_lib modules other than the checks (which keep their references)."""
    return [module for modname, module in list(sys.modules.items())
            if module is not None
            and (modname == "cs231n_lib" or modname.startswith("cs231n_lib."))
            and not modname.startswith("cs231n_lib.checks")]


def _patch(originals, stubs, namespace, saved):
    """Replace every binding of an original object; record (mapping, key, old) in saved.

    originals: (name, object) pairs; a name may have two objects (before and after a reload).
    """
    targets = [vars(module) for module in _holders()]
    # one level down too: a module's tables of functions (optim.UPDATE_RULES)
    targets += [value for mapping in list(targets) for value in list(mapping.values())
                if isinstance(value, dict)
                and value is not mapping]
    if namespace is not None:
        targets.append(namespace)
    for mapping in targets:
        for key, value in list(mapping.items()):
            for name, original in originals:
                if value is original:
                    saved.append((mapping, key, value))
                    mapping[key] = stubs[name]
                    break


def _assigned_names(source):
    """The names a cell's code assigns at its top level (= targets, tuple targets, for, with, def)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


class AnswerCells:
    """Reruns a notebook's answer cells with the shipped alternatives switched off."""

    def __init__(self, namespace):
        self.namespace = namespace

    def source(self, *names):
        """The last cell run before the current one that assigns every one of ``names``."""
        history = list((self.namespace or {}).get("In") or [])
        for source in reversed(history[:-1]):  # the last entry is the check running now
            if set(names) <= _assigned_names(source):
                return source
        raise CheckFailed(
            f"no cell run before this check sets {', '.join(names)}: run the notebook from the top "
            "(Kernel > Restart Kernel and Run All Cells) so that the answer cell runs before its check"
        )

    def rerun(self, *names):
        """Run the answer cell again in a copy of the namespace; its value of each name (a tuple for several)."""
        if self.namespace is None:
            raise ValueError("rerun needs the notebook's namespace: shipped_alternatives_disabled(..., "
                             "namespace=globals())")
        scope = dict(self.namespace)
        exec(compile(self.source(*names), "<your answer cell>", "exec"), scope)
        values = tuple(scope.get(name) for name in names)
        return values[0] if len(values) == 1 else values


@contextlib.contextmanager
def shipped_alternatives_disabled(*names, namespace=None, reload=STUDENT_MODULES, quiet=True):
    """Within the block, calling any of ``names`` raises CheckFailed (an AssertionError).

    Inputs:
    - names: keys of SHIPPED, e.g. "conv_forward_fast", "eval_numerical_gradient"
      (a name's TWINS are switched off with it)
    - namespace: a dict (a notebook's globals()) whose bindings of those objects
      are replaced too
    - reload: student modules to reload after patching and again on exit
    - quiet: swallow what is printed inside the block
    Yields an AnswerCells on ``namespace``: ``.rerun("name")`` works a value answer out again.
    """
    unknown = [name for name in names if name not in SHIPPED]
    if unknown:
        raise ValueError(f"unknown shipped alternative(s) {unknown}; known: {sorted(SHIPPED)}")
    names = tuple(dict.fromkeys([*names, *(twin for name in names for twin in TWINS.get(name, ()))]))
    originals = [(name, getattr(importlib.import_module(SHIPPED[name]), name)) for name in names]
    stubs = {name: _stub(name) for name in names}
    saved = []
    reloaded = [sys.modules[m] for m in reload if m in sys.modules]
    try:
        _patch(originals, stubs, namespace, saved)
        for module in reloaded:
            importlib.reload(module)
        # a reloaded home module defines its shipped names afresh: stub the new objects too
        originals += [(name, vars(module)[name]) for module in reloaded for name in names
                      if SHIPPED[name] == module.__name__ and name in vars(module)]
        _patch(originals, stubs, namespace, saved)  # names a reload re-bound to an original
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            yield AnswerCells(namespace)
    finally:
        for mapping, key, value in reversed(saved):
            mapping[key] = value
        for module in reloaded:
            importlib.reload(module)
