"""What ``review`` looks for in code a student wrote, with a short reason for each finding.

``scan(source, ...)`` returns ``[(first_line, last_line, reason), ...]``. Where the code
parses (after IPython's own rewriting of magics, ``!`` and ``;f x`` escapes), the
``ast`` is read; where it does not (a cell with a syntax error), ``scan_text`` searches
the text line by line for the same things.

Flagged, because an honest answer to this course's exercises never needs them:
- assigning or deleting an attribute or item of a module (``np.allclose = ...``,
  ``numpy.testing.assert_allclose = ...``, ``d.check_forward = ...``, ``sys.modules[...] = ...``)
  or of anything the code imported, including through an alias (``m = np``) or a module
  passed around as a value (``f(np)``); rebinding a name the notebook or file imported,
  a ``check_...`` name, or a builtin (``all = lambda *a: True``) at module level;
- names built at run time: ``globals()`` / ``vars()`` / ``locals()``, ``getattr`` /
  ``hasattr`` with a computed name, ``setattr``, ``delattr``;
- running text as code or reaching under the language: ``exec``, ``eval``, ``compile``,
  ``__import__``, and imports of ``base64``, ``importlib``, ``ctypes``, ``gc``, ``inspect``,
  ``builtins``, ``pickle``, ``types``, ``IPython``, ``unittest.mock``, ...; ``sys.modules``
  and the other import and trace hooks of ``sys``; dunder and frame attributes
  (``__class__``, ``__globals__``, ``__code__``, ``__dict__``, ``f_globals``, ...);
- IPython's input history (``In``, ``_ih``, ...), from which hidden tests rerun value answers;
- IPython hooks: ``get_ipython()``, ``events.register``, ``ast_transformers``, input
  transformers, custom exception handlers, and any magic or shell command other than a
  few harmless ones (``%time``, ``%timeit`` and ``%%capture`` have their code read too);
- inside an exercise: importing the checks or a shipped alternative (``cs231n_lib.checks``,
  ``fast_layers``, ``layer_utils``, ``gradient_check``, ``solver``), using a fast layer,
  and using the gradient checker or ``Solver`` inside a function the student writes or
  as a value (in library code: using any of them). Calling ``Solver(...)`` or
  ``eval_numerical_gradient(...)`` directly in a notebook answer is what some exercises ask.
"""

import ast
import builtins
import re

CHECKS_MODULE = "cs231n_lib.checks"
FAST_MODULES = ("cs231n_lib.fast_layers", "cs231n_lib.layer_utils")
HELPER_MODULES = ("cs231n_lib.gradient_check", "cs231n_lib.solver")
ALTERNATIVE_MODULES = FAST_MODULES + HELPER_MODULES
# Shipped fast code: an alternative to every layer exercise, wherever it appears in an answer.
FAST_NAMES = frozenset({
    "conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast", "max_pool_backward_fast",
    "_conv_forward", "_max_pool_backward",
    "affine_relu_forward", "affine_relu_backward", "conv_relu_forward", "conv_relu_backward",
    "conv_relu_pool_forward", "conv_relu_pool_backward", "affine_bn_relu_forward", "affine_bn_relu_backward",
    "conv_bn_relu_forward", "conv_bn_relu_backward", "fast_layers", "layer_utils",
})
# Shipped helpers some notebook exercises are meant to call, and others to write by hand.
HELPER_NAMES = frozenset({
    "eval_numerical_gradient", "eval_numerical_gradient_array", "grad_check_sparse", "gradient_check", "Solver",
})
SUSPICIOUS_MODULES = frozenset({
    "base64", "binascii", "codecs", "importlib", "ctypes", "gc", "inspect", "builtins", "__builtin__",
    "marshal", "pickle", "dill", "cloudpickle", "types", "IPython", "ipykernel", "unittest.mock", "mock",
    "code", "codeop", "runpy", "subprocess", "dis",
})
# Names that are modules wherever they appear in this course's code.
MODULE_ALIASES = {
    "np": "numpy", "numpy": "numpy", "torch": "torch", "sys": "sys", "os": "os", "builtins": "builtins",
    "IPython": "IPython", "cs231n_lib": "cs231n_lib", "plt": "matplotlib.pyplot", "matplotlib": "matplotlib",
    "math": "math", "scipy": "scipy",
}
RUN_CODE = frozenset({"exec", "eval", "compile", "__import__", "setattr", "delattr", "breakpoint"})
NAMESPACES = frozenset({"globals", "vars", "locals"})
BUILTIN_MODULE_NAMES = frozenset({"builtins", "__builtins__", "__builtin__"})
DUNDER_ATTRS = frozenset({
    "__class__", "__globals__", "__code__", "__builtins__", "__dict__", "__subclasses__", "__closure__",
    "__defaults__", "__kwdefaults__", "__bases__", "__base__", "__mro__", "__getattribute__", "__setattr__",
    "__delattr__", "__setitem__", "__delitem__", "__import__", "__loader__", "__spec__", "__self__",
    "__func__", "__wrapped__", "__reduce__", "__reduce_ex__", "__getattr__",
})
FRAME_ATTRS = frozenset({
    "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "f_trace", "gi_frame", "gi_code", "cr_frame",
    "ag_frame", "tb_frame", "tb_next", "co_code", "co_consts", "co_names",
})
IPYTHON_ATTRS = frozenset({
    "get_ipython", "events", "ast_transformers", "input_transformers_post", "input_transformers_cleanup",
    "input_transformer_manager", "set_custom_exc", "custom_exceptions", "register_magic_function",
    "register_magics", "magics_manager", "user_ns", "user_global_ns", "showtraceback", "run_cell",
    "run_cell_async", "run_ast_nodes", "run_line_magic", "run_cell_magic", "history_manager", "execution_count",
})
# IPython's input and output history: the hidden tests rerun value answers from In.
HISTORY_NAMES = frozenset({"In", "Out", "_ih", "_oh", "_i", "_ii", "_iii"})
SYS_ATTRS = frozenset({
    "modules", "meta_path", "path_hooks", "path_importer_cache", "settrace", "setprofile", "_getframe",
    "excepthook", "displayhook", "addaudithook", "__excepthook__", "__displayhook__",
})
# Trace and profile hooks see (and can change) every frame, whichever module offers them.
TRACE_ATTRS = frozenset({"settrace", "setprofile", "settrace_all_threads", "setprofile_all_threads"})
SYS_IMPORTS = frozenset(f"sys.{attr}" for attr in SYS_ATTRS)
BUILTIN_NAMES = frozenset(name for name in dir(builtins) if not name.startswith("_"))
# Magics whose argument or body is Python code: that code is read like the rest.
CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture"})
HARMLESS_MAGICS = frozenset({"matplotlib", "precision", "who", "whos", "who_ls", "pinfo", "pinfo2", "pdoc",
                             "pdef", "psource", "xmode", "pprint", "html", "markdown", "latex", "svg"})
HARMLESS_WITH_ARGUMENT = frozenset({("load_ext", "autoreload"), ("reload_ext", "autoreload"), ("autoreload", "2"),
                                    ("autoreload", "1"), ("autoreload", "0"), ("autoreload", "")})
MAGIC_CALLS = frozenset({"run_line_magic", "run_cell_magic", "system", "getoutput"})
MAX_MAGIC_DEPTH = 3
SHOWN = 60
UNPARSED = " [code does not parse]"
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def scan(source, imported=None, strict=False, ipython=False, package=None, exercise=True):
    """[(first_line, last_line, reason), ...] for what in ``source`` is worth a human look.

    imported: {name: (qualified, is_module)} bound outside ``source`` (the notebook's setup
    cells, the released library file); see ``imports_of``.
    strict: library code, where any use of a shipped alternative is flagged.
    ipython: rewrite magics and escapes as IPython does before parsing.
    package: the package of a library file, to resolve ``from . import x``.
    exercise: an answer (False: a plain notebook cell the student edited or added, where
    importing the checks or the fast layers is what the setup and demo cells do).
    """
    return _scan(source, dict(imported or {}), (strict, exercise or strict), ipython, package, depth=0)


def _scan(source, imported, mode, ipython, package, depth):
    code = ipython_to_python(source) if ipython else source
    try:
        tree = ast.parse(code)
        return _Scanner(tree, imported, mode, package, depth).findings
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return scan_text(source, imported)


def ipython_to_python(source):
    """``source`` as IPython would run it (``%time x`` -> ``get_ipython().run_line_magic(...)``).

    Without IPython, or when its rewriting fails, ``source`` unchanged.
    """
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # hostile text can break the transformer; the parse or text search still reads it
        return source


def imports_of(source, ipython=False, package=None):
    """{name: (qualified, is_module)} bound by the import statements of ``source`` ({} if it does not parse)."""
    try:
        tree = ast.parse(ipython_to_python(source) if ipython else source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update((name, (qualified, is_module)) for name, qualified, is_module, _ in _bound(node, package))
    return found


def _bound(node, package):
    """(name, qualified, is_module, full) for each name an import statement binds.

    ``import a.b`` binds a (qualified "a", full "a.b"); ``from a import b as c`` binds c
    (qualified and full "a.b"); relative imports are resolved against ``package``.
    """
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                yield alias.asname, alias.name, True, alias.name
            else:
                top = alias.name.split(".")[0]
                yield top, top, True, alias.name
        return
    module = node.module or ""
    if node.level:
        parts = package.split(".") if package else []
        base = ".".join(parts[:max(len(parts) - node.level + 1, 0)])
        module = ".".join(part for part in (base, module) if part) or "." * node.level
    for alias in node.names:
        full = f"{module}.{alias.name}"
        yield alias.asname or alias.name, full, False, full


def _shown(node):
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError, AttributeError):
        text = "..."
    return _clip(text)


def _root(node):
    """The innermost expression of ``a.b[c].d(...)``: ``a``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def _dotted(node):
    """'a.b.c' for a chain of names and attributes, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _within(qualified, modules):
    return any(qualified == m or qualified.startswith(m + ".") for m in modules)


def _is_namespace_call(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in NAMESPACES)


def _string(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Scanner:
    """One pass over a parsed tree; the findings are in ``self.findings``."""

    def __init__(self, tree, imported, mode, package, depth):
        self.findings, self.seen, self.mode, self.package, self.depth = [], set(), mode, package, depth
        self.strict, self.exercise = mode
        self.origin = {name: (qualified, True) for name, qualified in MODULE_ALIASES.items()}
        self.origin.update(imported)
        self.outside = set(imported) | set(MODULE_ALIASES)
        self.parents, self.in_function, self.at_module_level = {}, {}, {tree: True}
        self.globals_declared, self.skip = set(), set()
        self.aliases, self.namespaces = set(), set()
        self._map_tree(tree)
        self._find_aliases(tree)
        for node in ast.walk(tree):
            if id(node) not in self.skip:
                self._check(node)

    # --- what the tree says about names -------------------------------------------------
    def _map_tree(self, tree):
        self.in_function[tree] = False
        for node in ast.walk(tree):
            inside = self.in_function[node] or isinstance(node, FUNCTIONS)
            module_level = self.at_module_level[node] and not isinstance(node, FUNCTIONS + (ast.ClassDef,))
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
                self.in_function[child] = inside
                self.at_module_level[child] = module_level
            if isinstance(node, ast.Global):
                self.globals_declared.update(node.names)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name, qualified, is_module, _ in _bound(node, self.package):
                    self.origin.setdefault(name, (qualified, is_module))

    def _find_aliases(self, tree):
        """Names bound to a module (``m = np.testing``) or a namespace (``g = globals()``)."""
        assignments = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign, ast.NamedExpr))]
        for _ in range(3):
            for node in assignments:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                if node.value is None:
                    continue
                if _is_namespace_call(node.value) or (isinstance(node.value, ast.Name)
                                                      and node.value.id in self.namespaces):
                    self.namespaces |= names
                chain = _dotted(node.value)
                if chain and self._is_imported(chain.split(".")[0]):
                    self.aliases |= names

    def _is_imported(self, name):
        return name in self.origin or name in self.aliases

    def _qualified(self, node):
        """The qualified name of a Name or attribute chain, resolved through imports (or None)."""
        chain = _dotted(node)
        if chain is None:
            return None
        head, _, rest = chain.partition(".")
        if head not in self.origin:
            return chain
        qualified = self.origin[head][0]
        return f"{qualified}.{rest}" if rest else qualified

    def _is_module_level(self, node, name):
        return self.at_module_level.get(node, False) or name in self.globals_declared

    def add(self, node, reason):
        first = getattr(node, "lineno", 1)
        self.add_span(first, getattr(node, "end_lineno", None) or first, reason)

    def add_line(self, line, reason):
        self.add_span(line, line, reason)

    def add_span(self, first, last, reason):
        if (first, last, reason) not in self.seen:
            self.seen.add((first, last, reason))
            self.findings.append((first, last, reason))

    # --- the rules ---------------------------------------------------------------------------
    def _check(self, node):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self._check_import(node)
        elif isinstance(node, ast.Call):
            self._check_call(node)
        elif isinstance(node, ast.Name):
            self._check_name(node)
        elif isinstance(node, ast.Attribute):
            self._check_attribute(node)
        elif isinstance(node, ast.Subscript):
            self._check_subscript(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._check_rebinding(node, node.name, node.lineno)

    def _check_import(self, node):
        """Imports of the checks, of shipped alternatives, of suspicious modules; imports that rebind a name."""
        kinds = {}
        for name, qualified, _, full in _bound(node, self.package):
            kind = None
            if _within(full, [CHECKS_MODULE]):
                kind = "" if self.exercise else None
            elif _within(full, ALTERNATIVE_MODULES):
                kind = " (a shipped alternative)" if self.exercise else None
            elif _within(full, SUSPICIOUS_MODULES) or full in SYS_IMPORTS:
                kind = ""
            if kind is not None:
                kinds.setdefault(kind, []).append(full)
            if name in self.outside and self.origin[name][0] != qualified:
                self.add_line(node.lineno, f"rebinds {name}")
            elif name.startswith("check_") and not _within(qualified, [CHECKS_MODULE]):
                self.add_line(node.lineno, f"rebinds {name}")
        for kind, fulls in kinds.items():
            if isinstance(node, ast.ImportFrom):
                module = fulls[0].rsplit(".", 1)[0]
                names = ", ".join(full.rsplit(".", 1)[1] for full in fulls)
                self.add(node, f"imports {_clip(names)} from {module}{kind}")
            else:
                self.add(node, f"imports {_clip(', '.join(fulls))}{kind}")

    def _check_rebinding(self, node, name, line):
        """A check_ name anywhere; an imported, module or builtin name at module level (or declared global)."""
        if name.startswith("check_") or (
                (name in self.outside or name in BUILTIN_NAMES) and self._is_module_level(node, name)):
            self.add_line(line, f"rebinds {name}")

    def _check_call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in MAGIC_CALLS and _is_get_ipython(func.value):
            if self._check_magic(node, func.attr):
                self.skip.update({id(func), id(func.value), id(func.value.func)})
            return
        if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr"):
            name = _string(node.args[1]) if len(node.args) >= 2 else None
            if name is None:
                shown = _shown(node.args[1]) if len(node.args) >= 2 else "not given"
                self.add(node, f"calls {func.id} with a computed name ({shown})")
            elif (name.startswith("check_") or name in DUNDER_ATTRS | FRAME_ATTRS | IPYTHON_ATTRS
                  or name in FAST_NAMES | HELPER_NAMES):
                self.add(node, f"calls {func.id}(..., {name!r})")

    def _check_magic(self, node, kind):
        """Read a magic or shell call; True when it was understood (its get_ipython is then no finding)."""
        args = [_string(a) for a in node.args]
        if not args or args[0] is None or any(a is None for a in args):
            return False
        if kind in ("system", "getoutput"):
            self.add(node, f"runs a shell command (!{_clip(args[0])})")
            return True
        name = args[0]
        prefix = "%" if kind == "run_line_magic" else "%%"
        if name in CODE_MAGICS:
            for code in args[1:]:
                self._scan_nested(node, code)
        elif (name, args[1].strip() if len(args) > 1 else "") in HARMLESS_WITH_ARGUMENT or (
                name == "config" and len(args) > 1 and args[1].strip().startswith("InlineBackend.")):
            pass
        elif name not in HARMLESS_MAGICS:
            self.add(node, f"runs the magic {prefix}{_clip(name)}")
        return True

    def _scan_nested(self, node, code):
        if self.depth >= MAX_MAGIC_DEPTH:
            self.add(node, "nests magics too deeply to read")
            return
        code = re.sub(r"^\s*(?:-\w+(?:\s+\d+)?\s+)*", "", code)  # %timeit -n1 -r1 ...
        imported = {name: origin for name, origin in self.origin.items()}
        for _, _, reason in _scan(code, imported, self.mode, True, self.package, self.depth + 1):
            self.add(node, reason)

    def _check_name(self, node):
        name, parent = node.id, self.parents.get(node)
        called = isinstance(parent, ast.Call) and parent.func is node
        if name in RUN_CODE:
            self.add(node, f"calls {name}" if called else f"uses {name}")
        elif name in NAMESPACES:
            self._check_namespace(node, called)
        elif name in ("getattr", "hasattr") and not called:
            self.add(node, f"uses {name} as a value")
        elif name in BUILTIN_MODULE_NAMES:
            self.add(node, f"uses {name}")
        elif name == "get_ipython":
            self.add(node, "calls get_ipython()" if called else "uses get_ipython")
        elif name in HISTORY_NAMES:
            self.add(node, f"uses {name}, IPython's input history, from which the hidden tests rerun answers")
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._check_rebinding(node, name, node.lineno)
        elif name in self.origin and self.origin[name][1] and not (
                isinstance(parent, ast.Attribute) and parent.value is node):
            self.add(node, f"passes the module {name} around as a value")
        self._check_shipped(node, self._qualified(node) or name, name)

    def _check_namespace(self, node, called):
        call = self.parents.get(node) if called else None
        outer = self.parents.get(call) if call is not None else None
        if isinstance(outer, ast.Subscript) and outer.value is call:
            self._namespace_subscript(outer, f"{node.id}()", "")
        elif isinstance(outer, ast.Attribute) and outer.value is call:
            self.add(node, f"changes {node.id}() with .{outer.attr}" if outer.attr != "get"
                     else f"reads {node.id}() with .get")
        else:
            self.add(node, f"calls {node.id}()" if called else f"uses {node.id}")

    def _namespace_subscript(self, node, shown, note):
        key = node.slice
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.add(node, f"writes {shown}[{_shown(key)}]{note}")
        elif _string(key) is None:
            self.add(node, f"reads {shown} with a computed name ({_shown(key)}){note}")
        else:
            self.add(node, f"reads {shown}[{_shown(key)}]{note}")

    def _check_attribute(self, node):
        attr = node.attr
        if attr in DUNDER_ATTRS or attr in FRAME_ATTRS:
            self.add(node, f"uses {_shown(node)}")
        elif attr in IPYTHON_ATTRS:
            self.add(node, f"uses the IPython hook {_shown(node)}")
        elif attr in TRACE_ATTRS:
            self.add(node, f"uses {_shown(node)}")
        elif attr in SYS_ATTRS and isinstance(node.value, ast.Name) \
                and self.origin.get(node.value.id, ("", False))[0] == "sys":
            self.add(node, f"uses sys.{attr}")
        if isinstance(node.value, ast.Name) and node.value.id in self.namespaces:
            self.add(node, f"changes {node.value.id} with .{attr} ({node.value.id} is a namespace from globals())")
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._check_store(node)
        qualified = self._qualified(node)
        if qualified and _within(qualified, [CHECKS_MODULE]):
            self.add(node, f"uses {qualified}")
        self._check_shipped(node, qualified or attr, attr)

    def _check_subscript(self, node):
        root = _root(node)
        if isinstance(root, ast.Name) and root.id in self.namespaces:
            self._namespace_subscript(node, root.id, f" ({root.id} is a namespace from globals())")
        elif isinstance(node.ctx, (ast.Store, ast.Del)):
            self._check_store(node)

    def _check_store(self, node):
        root, verb = _root(node), "deletes" if isinstance(node.ctx, ast.Del) else "assigns"
        if not isinstance(root, ast.Name):
            self.add(node, f"{verb} part of a computed object ({_shown(node)})")
        elif self._is_imported(root.id):
            self.add(node, f"{verb} {_shown(node)}")

    def _check_shipped(self, node, qualified, name):
        """Fast layers anywhere; the gradient checker and Solver in library code, or in a notebook
        inside a function or passed as a value (calling them directly is what some exercises ask)."""
        parent = self.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            return  # a chain a.b.c is judged once, at its last attribute
        fast = name in FAST_NAMES or _within(qualified, FAST_MODULES)
        helper = name in HELPER_NAMES or _within(qualified, HELPER_MODULES)
        shown = name if name in FAST_NAMES | HELPER_NAMES else qualified
        if not (fast or helper):
            return
        if self.strict or (fast and self.exercise):
            self.add(node, f"uses {shown} (a shipped alternative)")
        elif self.in_function.get(node):
            self.add(node, f"uses {shown} inside a function (a shipped alternative)")
        elif not (isinstance(parent, ast.Call) and parent.func is node):
            self.add(node, f"uses {shown} as a value (a shipped alternative)")


def _is_get_ipython(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython"
            and not node.args and not node.keywords)


def _clip(text):
    """``text`` on one line, printable, at most SHOWN characters."""
    text = "".join(c if c.isprintable() else "?" for c in " ".join(str(text).split()))
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


# --- text search, for code that does not parse ---------------------------------------------------
_TEXT_RULES = [
    (re.compile(r"\b(exec|eval|compile|__import__|setattr|delattr|getattr|hasattr|globals|vars|locals"
                r"|breakpoint)\s*\("), "calls {}"),
    (re.compile(r"(sys\s*\.\s*(?:modules|meta_path|path_hooks|settrace|setprofile|_getframe|excepthook))"),
     "uses {}"),
    (re.compile(r"\b(builtins|__builtins__|__builtin__|ctypes|base64|importlib|get_ipython|ast_transformers"
                r"|input_transformers_\w+|input_transformer_manager|set_custom_exc|user_ns"
                r"|events\s*\.\s*register|__class__|__globals__|__code__|__dict__|__subclasses__|__closure__"
                r"|__defaults__|__setattr__|__getattribute__|f_globals|f_locals|f_back)\b"), "uses {}"),
    (re.compile(r"\b((?:gc|inspect|pickle|marshal)\s*\.\s*\w+)"), "uses {}"),
    (re.compile(r"(?<![\w.])(" + "|".join(sorted(HISTORY_NAMES)) + r")\s*[\[.]"), "uses {}, IPython's input history"),
    (re.compile(r"(cs231n_lib\s*\.\s*checks|from\s+cs231n_lib\s+import\s+checks)"), "uses {}"),
    (re.compile(r"^\s*def\s+(check_\w+)|^\s*(check_\w+)\s*=(?!=)"), "rebinds {}"),
    (re.compile(r"\b(" + "|".join(sorted(FAST_NAMES | HELPER_NAMES)) + r")\b"), "uses {} (a shipped alternative)"),
    (re.compile(r"^\s*[!%]+\s*(\w+)"), "runs the magic or shell command {}"),
]
_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w., ()*]+)|import\s+([\w., ]+))")
_STORE = re.compile(r"([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)+)\s*(?:\[[^\]\n]*\]\s*)?"
                    r"(?:[-+*/%@&|^]|//|\*\*|<<|>>)?=(?!=)")


def _without_comment(line):
    """``line`` without a trailing ``# comment`` (a ``#`` inside quotes is kept)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:index]
    return line


def _imported_text(line):
    """The full names the import statements on ``line`` name: ``from a import b, c`` -> a, a.b, a.c."""
    for statement in line.split(";"):
        match = _IMPORT.match(statement)
        if not match:
            continue
        if match.group(1):
            names = [n.split(" as ")[0].strip(" ()") for n in match.group(2).split(",")]
            yield match.group(1)
            yield from (f"{match.group(1)}.{n}" for n in names if n)
        else:
            yield from (n.split(" as ")[0].strip() for n in match.group(3).split(","))


def scan_text(source, imported=None):
    """[(line, line, reason), ...]: the same things as ``scan`` looks for, found by text search."""
    modules = set(MODULE_ALIASES) | set(imported or {})
    findings = {}  # a dict keeps the order

    def add(number, reason):
        findings[(number, number, _clip(reason) + UNPARSED)] = None

    for number, line in enumerate(source.splitlines(), start=1):
        line = _without_comment(line)
        for pattern, reason in _TEXT_RULES:
            for match in pattern.finditer(line):
                add(number, reason.format(next(g for g in match.groups() if g)))
        for full in _imported_text(line):
            if _within(full, SUSPICIOUS_MODULES | set(ALTERNATIVE_MODULES) | {CHECKS_MODULE}) or full in SYS_IMPORTS:
                add(number, f"imports {full}")
        for match in _STORE.finditer(line):
            target = re.sub(r"\s+", "", match.group(1))
            if target.split(".")[0] in modules:
                add(number, f"assigns {target}")
        rebound = re.match(r"^\s*(" + "|".join(map(re.escape, sorted(MODULE_ALIASES))) + r")\s*=(?!=)", line)
        if rebound:
            add(number, f"rebinds {rebound.group(1)}")
    return list(findings)
