"""The files a student who gets only the zip needs beside the notebooks.

``write_student_files`` puts three files at the top of a release folder:

- ``requirements.txt``: the runtime dependencies of this package, read from its
  installed metadata (so from pyproject.toml's ``dependencies``; never a second list
  to keep in step), without the extras (tests) and without comments;
- ``environment.yml``: a conda environment with Python and pip that installs
  ``requirements.txt`` (one list of packages, installed the way the tests install it);
- ``README.md``: set-up, where the exercises are (a table made from the released
  notebooks and library), how to check and how to hand in.

Everything here describes the released copy only: no solution, no grading detail.
"""

import ast
import re
from importlib.metadata import metadata, requires
from pathlib import Path

import nbformat

from cs231n_course.config import LIBRARY_NAME

DISTRIBUTION = "cs231n-course"
STUDENT_FILES = ("README.md", "requirements.txt", "environment.yml")
STUB = "raise NotImplementedError()"


def runtime_requirements():
    """The package's runtime requirements as PEP 508 lines, in pyproject.toml's order."""
    lines = requires(DISTRIBUTION) or []
    return [line for line in lines if not re.search(r";.*\bextra\s*==", line)]


def python_requirement():
    """The Python versions the package supports, e.g. '>=3.10'."""
    return metadata(DISTRIBUTION)["Requires-Python"] or ""


def requirements_text():
    return (
        f"# Python {python_requirement()}. Install into a fresh environment with\n"
        "#   python -m pip install -r requirements.txt\n"
        + "".join(line + "\n" for line in runtime_requirements())
    )


def environment_text(assignment):
    version = python_requirement().replace(" ", "")
    return (
        "# conda env create -f environment.yml   (run it in this folder)\n"
        f"name: {assignment}\n"
        "channels:\n"
        "  - conda-forge\n"
        "dependencies:\n"
        f"  - python{version}\n"
        "  - pip\n"
        "  - pip:\n"
        "      - -r requirements.txt\n"
    )


def is_stub(node, lines):
    """True for a ``raise NotImplementedError()`` statement right under a ``# YOUR CODE HERE`` line."""
    return (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
            and isinstance(node.exc.func, ast.Name) and node.exc.func.id == "NotImplementedError"
            and node.lineno >= 2 and lines[node.lineno - 2].strip() == "# YOUR CODE HERE")


def library_exercises(folder):
    """{function name: 'cs231n_lib/<file>.py'} for every released library function left as a stub."""
    found = {}
    for path in sorted((Path(folder) / LIBRARY_NAME).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if STUB not in text:
            continue
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.FunctionDef) and any(is_stub(inner, lines) for inner in ast.walk(node)):
                found[node.name] = path.relative_to(folder).as_posix()
    return found


def notebook_exercises(path, functions):
    """What a released notebook asks for.

    Returns (tested, used, code, written): the library stubs its check cells test, the
    stubs its other code cells call, and its answer cells (code, written).
    """
    nb = nbformat.read(path, as_version=4)
    graded = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    other = [c.source for c in nb.cells if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")]

    def named(sources):
        return [name for name in functions if any(re.search(rf"\b{re.escape(name)}\b", s) for s in sources)]

    tested = named(graded)
    used = [name for name in named(other) if name not in tested]
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    code = sum(c.cell_type == "code" for c in answers)
    return tested, used, code, len(answers) - code


def plural(count, noun):
    return f"{count} {noun}{'s' if count != 1 else ''}"


def exercise_table(folder):
    """A markdown table: for each released notebook, where its exercises are."""
    folder = Path(folder)
    functions = library_exercises(folder)
    notebooks = sorted(folder.glob("*.ipynb"))
    found = {path: notebook_exercises(path, functions) for path in notebooks}
    tested_in = {}
    for path in notebooks:
        for name in found[path][0]:
            tested_in.setdefault(name, path.name.split("_")[0])
    rows = ["| notebook | where your code goes |", "|---|---|"]
    for path in notebooks:
        tested, used, code, written = found[path]
        parts = []
        for file in dict.fromkeys(functions[name] for name in tested):
            names = ", ".join(f"`{name}`" for name in tested if functions[name] == file)
            parts.append(f"{names} in `{file}`")
        if code:
            parts.append(plural(code, "code cell") + " in the notebook")
        if written:
            parts.append(plural(written, "written answer"))
        text = "; ".join(parts) or "nothing to write: read and run it"
        earlier = [f"`{name}` ({tested_in.get(name) or f'in `{functions[name]}`'})" for name in used]
        if earlier:
            text += "; runs your " + ", ".join(earlier)
        rows.append(f"| `{path.name}` | {text} |")
    return "\n".join(rows)


def example_notebook(folder):
    """The first released notebook with a check cell (the one the README's examples name)."""
    notebooks = sorted(Path(folder).glob("*.ipynb"))
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        if any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells):
            return path.name
    return notebooks[0].name if notebooks else "01_notebook.ipynb"


def python_words():
    """'>=3.10' as '3.10 or newer'; any other specifier as it is."""
    spec = python_requirement().replace(" ", "")
    match = re.fullmatch(r">=([0-9.]+)", spec)
    return f"{match.group(1)} or newer" if match else spec or "3"


README = """\
# {assignment}: convolutional networks from scratch, in numpy

This folder is your copy of the course: Jupyter notebooks to work through in order, and
`cs231n_lib/`, the small numpy library they import. Every exercise is left open: a
`raise NotImplementedError()` line (under `# YOUR CODE HERE`) marks where your code goes,
and a written question has an answer cell that says `YOUR ANSWER HERE`.

{table}

## Set up (once)

You need Python {python}. With pip, make an environment outside this folder (so it
stays out of your hand-in) and install `requirements.txt` into it:

```bash
python3 -m venv ~/cs231n-env
source ~/cs231n-env/bin/activate        # Windows: %USERPROFILE%\\cs231n-env\\Scripts\\activate
python -m pip install -r requirements.txt
```

Or with conda: `conda env create -f environment.yml`, then `conda activate {assignment}`.

## Work

With the environment active, start JupyterLab **in this folder** (the notebooks import
`cs231n_lib` from here): `jupyter lab`. Open the notebooks in order. For a library
exercise, open the file the table names in JupyterLab, replace the `raise` line with
your code and save; the notebooks reload the library, so re-run the cell that uses it.
Later notebooks run functions you wrote earlier (the table says which). Nothing needs
downloading: the digits data ships with scikit-learn and the photograph with matplotlib.

## Check

Each exercise is followed by a check cell: run it, and it says what was expected, what
came out and a hint. Do not edit or delete check cells; the grader runs its own copy.
The **Validate** button in the notebook's toolbar runs the whole notebook from the top,
the way the grader does, and lists the checks that fail. From a terminal:
`nbgrader validate {example}` does the same.

## Hand in

Save every notebook, then zip this whole folder (the notebooks and `cs231n_lib/`) and
hand it in the way your instructor says; unless told otherwise, name the zip by your
student id, e.g. `jdoe42.zip`. Keep the notebooks' names and their check cells as they
are. Only the notebooks and the library files with exercises are graded: code you put in
a new file is not seen.
"""


def readme_text(folder, assignment):
    return README.format(assignment=assignment, table=exercise_table(folder), python=python_words(),
                         example=example_notebook(folder))


def write_student_files(folder, assignment):
    """Write README.md, requirements.txt and environment.yml into the release folder; returns their paths."""
    folder = Path(folder)
    texts = {
        "README.md": readme_text(folder, assignment),
        "requirements.txt": requirements_text(),
        "environment.yml": environment_text(assignment),
    }
    paths = []
    for name in STUDENT_FILES:
        (folder / name).write_text(texts[name], encoding="utf-8")
        paths.append(folder / name)
    return paths
