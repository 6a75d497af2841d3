"""The dependency lists agree with each other and with what the code imports.

pyproject.toml is the source of truth. environment.yml must list the same packages
with the same version bounds, and every third-party module imported by the library,
the notebooks, the tests or the benchmarks must come from a declared distribution.
"""

import ast
import inspect
import json
import re
import sys
from functools import lru_cache
from importlib.metadata import distributions, packages_distributions
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli usually comes along with pytest; skip if it did not.
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
# The library the notebooks import, the instructor tooling behind cs231n-course, and
# cs231n, CS231n's module paths re-exporting the library (for the course's own notebooks).
PACKAGES = ("cs231n_lib", "cs231n_course", "cs231n")
# tomllib is stdlib from 3.11 on; the guard above covers 3.10.
STDLIB = set(sys.stdlib_module_names) | {"tomllib"}
# Imports that a test guards itself, on top of those found in importorskip("...") calls.
# torch: the benchmarks compare with it when it is installed; it is never a dependency.
OPTIONAL_IMPORTS: set[str] = {"torch"}
LOWER_BOUND_OPERATORS = {">=", ">", "==", "~=", "==="}


def normalize(name):
    """PEP 503 name: 'PyYAML' and 'scikit_learn' become 'pyyaml' and 'scikit-learn'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def show(spec):
    if spec is None:
        return "nothing (not listed)"
    return f"'{spec}'" if str(spec) else "no version bound"


# ---------------------------------------------------------------- the two files


@lru_cache
def pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def pyproject_groups():
    """{'runtime': {name: SpecifierSet}, 'test': {...}, 'instructor': {...}}."""
    groups = {"runtime": pyproject()["dependencies"], **pyproject().get("optional-dependencies", {})}
    return {
        group: {normalize(r.name): r.specifier for r in map(Requirement, lines)}
        for group, lines in groups.items()
    }


def environment_yml():
    """{name: SpecifierSet} from environment.yml, conda and pip sections together."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    specs = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # the `- pip:` section: PEP 508 lines and `-e .`
            for line in dep.get("pip", []):
                if not line.startswith("-"):
                    req = Requirement(line)
                    specs[normalize(req.name)] = req.specifier
        else:  # conda match spec such as `numpy>=1.25` or `nbgrader >=0.9,<0.10`
            name, spec = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", dep).groups()
            specs[normalize(name)] = SpecifierSet(spec.replace(" ", ""))
    return env, specs


def test_environment_yml_lists_the_same_packages_and_bounds_as_pyproject():
    declared = {}
    for group in pyproject_groups().values():
        for name, spec in group.items():
            declared[name] = declared.get(name, SpecifierSet()) & spec
    _, listed = environment_yml()
    listed.pop("python", None)
    listed.pop("pip", None)
    problems = [
        f"{name}: pyproject.toml has {show(declared.get(name))}, "
        f"environment.yml has {show(listed.get(name))}"
        for name in sorted(declared.keys() | listed.keys())
        if declared.get(name) != listed.get(name)
    ]
    if problems:
        pytest.fail("pyproject.toml and environment.yml disagree:\n" + "\n".join(problems), pytrace=False)


def test_environment_yml_asks_for_the_same_python_and_installs_the_package():
    env, listed = environment_yml()
    wanted = SpecifierSet(pyproject()["requires-python"])
    assert listed.get("python") == wanted, (
        f"python: pyproject.toml requires-python is {show(wanted)}, "
        f"environment.yml has {show(listed.get('python'))}"
    )
    pip_lines = [line for dep in env["dependencies"] if isinstance(dep, dict) for line in dep.get("pip", [])]
    assert "pip" in listed and "-e ." in pip_lines, (
        "environment.yml must list `pip` and install the course with `- pip:` / `  - -e .`"
    )


def test_every_runtime_dependency_has_a_lower_bound():
    unbounded = [
        f"{name} ({show(spec)})"
        for name, spec in pyproject_groups()["runtime"].items()
        if not any(s.operator in LOWER_BOUND_OPERATORS for s in spec)
    ]
    if unbounded:
        pytest.fail(
            "runtime dependencies without a lower bound (add one, e.g. '>=X.Y', in pyproject.toml "
            "and environment.yml): " + ", ".join(unbounded),
            pytrace=False,
        )


# ---------------------------------------------------------------- what the code imports


def imported_modules(source):
    """Top-level names of the absolute imports in source, wherever they stand."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.partition(".")[0]


def importorskip_names(source):
    """Top-level names passed as a literal to importorskip(...)."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "importorskip"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value.partition(".")[0]


def notebook_cells(path):
    """(label, source) for each code cell; IPython `%magic` and `!shell` lines become `pass`."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code_cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    for number, cell in enumerate(code_cells, start=1):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = [
            line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
            for line in source.splitlines()
        ]
        yield f"{path.relative_to(ROOT)} (code cell {number})", "\n".join(lines)


def code_to_check():
    """(where, source, group its imports must come from) for all the project's code."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"), "runtime"
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for where, source in notebook_cells(path):
            yield where, source, "runtime"
    for folder in ("tests", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"), "test"


def module_to_distributions():
    """{top-level module: {normalised distribution names}} for what is installed."""
    mapping = {module: set(map(normalize, dists)) for module, dists in packages_distributions().items()}
    if sys.version_info < (3, 11):  # 3.10 reads only top_level.txt, which numpy's wheels lack
        for dist in distributions():
            for file in dist.files or []:
                module = file.parts[0] if len(file.parts) > 1 else inspect.getmodulename(file.name)
                if module:
                    mapping.setdefault(module, set()).add(normalize(dist.metadata["Name"] or ""))
    return mapping


def test_every_import_comes_from_a_declared_dependency():
    code = list(code_to_check())
    local = {*PACKAGES, "tests", "benchmarks", "conftest"} | {
        path.stem for folder in ("tests", "benchmarks") for path in (ROOT / folder).rglob("*.py")
    }
    optional = OPTIONAL_IMPORTS | {name for _, source, _ in code for name in importorskip_names(source)}
    groups = pyproject_groups()
    allowed = {"runtime": set(groups["runtime"]), "test": set(groups["runtime"]) | set(groups.get("test", {}))}
    where_to_add = {
        "runtime": "[project] dependencies",
        "test": "the 'test' list in [project.optional-dependencies]",
    }
    module_to_dists = module_to_distributions()

    problems = []
    for where, source, group in code:
        for module in sorted(set(imported_modules(source)) - STDLIB - local - optional):
            dists = module_to_dists.get(module, set())
            if not dists & allowed[group]:
                provider = " or ".join(sorted(dists)) or "the distribution that provides it (not installed here)"
                problems.append(
                    f"{where} imports '{module}': add {provider} to {where_to_add[group]} "
                    f"in pyproject.toml, and to environment.yml"
                    + (", or guard it with pytest.importorskip" if group == "test" else "")
                )
    if problems:
        pytest.fail("undeclared imports:\n" + "\n".join(problems), pytrace=False)


def test_import_scanner_reads_imports_and_importorskip_calls():
    sample = (
        "import a.b, c\nfrom d.e import f\nfrom . import g\nfrom .h import i\n"
        "def j():\n    import k\nm = pytest.importorskip('n.o')\n"
    )
    assert set(imported_modules(sample)) == {"a", "c", "d", "k"}
    assert set(importorskip_names(sample)) == {"n"}


def test_the_library_never_imports_the_instructor_package():
    # Students get cs231n_lib without cs231n_course: an import would break their copy.
    importers = [
        str(path.relative_to(ROOT)) for path in sorted((ROOT / "cs231n_lib").rglob("*.py"))
        if "cs231n_course" in set(imported_modules(path.read_text(encoding="utf-8")))
    ]
    assert not importers, f"{importers} import cs231n_course, which no release contains"


def test_import_scanner_finds_numpy_in_the_library():
    modules = [p for p in (ROOT / "cs231n_lib").rglob("*.py") if p.name != "__init__.py"]
    if not modules:
        pytest.skip("cs231n_lib has no modules besides __init__.py yet")
    found = {name for p in modules for name in imported_modules(p.read_text(encoding="utf-8"))}
    assert "numpy" in found, f"the scanner found only {sorted(found)} in cs231n_lib"


def test_every_library_package_is_in_the_distribution():
    # A non-editable install ships only what package discovery finds; an editable
    # install hides a subpackage left out (it reads the source tree directly).
    from fnmatch import fnmatch

    setuptools_config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = sorted(
        ".".join(init.parent.relative_to(ROOT).parts)
        for package in PACKAGES for init in (ROOT / package).rglob("__init__.py")
    )
    assert set(PACKAGES) <= set(packages)
    declared = setuptools_config.get("packages", {})
    if isinstance(declared, list):
        missing = [p for p in packages if p not in declared]
    else:
        patterns = declared["find"]["include"]
        missing = [p for p in packages if not any(fnmatch(p, pattern) for pattern in patterns)]
    assert not missing, f"pyproject.toml leaves out {missing}: a pip install (not -e) would lack them"
