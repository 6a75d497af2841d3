"""Prove a release holds no solution: search every released file for every solution's text.

A *secret* is the text of one ``### BEGIN/END SOLUTION`` region (library or
notebook) or the whole source of an answer cell without regions (a written
answer). Texts are compared line by line with indentation and blank lines
dropped, so a re-indented copy is still found. A secret whose text also occurs
in the public part of the course (outside every solution) proves nothing and is
skipped, with its place reported.
"""

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from cs231n_course.config import course_files, read_text_or_none
from cs231n_course.preprocessors import (
    HIDDEN_MARKERS,
    SOLUTION_MARKERS,
    replace_regions,
)
from cs231n_course.solutions import solution_regions, strip_solutions


@dataclass(frozen=True)
class Secret:
    where: str
    text: str


def normalize(text):
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def secrets_of_library(library):
    """(secrets, public text) of the library: regions of every text file; public = its .py files."""
    secrets, public = [], []
    for path in course_files(library):
        text = read_text_or_none(path)
        if text is None:
            continue
        secrets += [Secret(f"{path.name} region {i + 1}", r) for i, r in enumerate(solution_regions(text, str(path)))]
        if path.suffix == ".py":  # code that ships; a note quoting a solution is a leak, not public text
            public.append(strip_solutions(text, str(path)))
    return secrets, public


def is_answer_cell(cell):
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def secrets_of_notebooks(paths):
    """(secrets, public text) of the instructor notebooks ``paths``."""
    secrets, public = [], []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            where = f"{Path(path).name} cell {index}"
            regions = solution_regions(cell.source, where)
            if regions:
                secrets += [Secret(where, r) for r in regions]
                public.append(replace_regions(cell.source, SOLUTION_MARKERS, [])[0])
            elif is_answer_cell(cell):
                secrets.append(Secret(where, cell.source))
            else:  # hidden tests are not public either
                public.append(replace_regions(cell.source, HIDDEN_MARKERS, [])[0])
    return secrets, public


def released_texts(roots):
    """{name: normalized text} of every file under the folders and zip files in ``roots``."""
    texts = {}
    for root in map(Path, roots):
        if root.is_file() and root.suffix == ".zip":
            with zipfile.ZipFile(root) as zf:
                for name in zf.namelist():
                    texts[f"{root.name}:{name}"] = readable(name, zf.read(name))
        else:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                texts[str(path)] = readable(path.name, path.read_bytes())
    return texts


def readable(name, data):
    text = data.decode("utf-8", errors="replace")
    if name.endswith(".ipynb"):
        # Search the decoded JSON too: sources there are escaped ("\n", "\"").
        text += "\n" + json_strings(json.loads(text))
    return normalize(text)


def json_strings(value):
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(json_strings(v) for v in value.values())
    if isinstance(value, list):
        return "".join(json_strings(v) for v in value) if all(isinstance(v, str) for v in value) \
            else "\n".join(json_strings(v) for v in value)
    return ""


def find_leaks(secrets, public, roots):
    """(leaks, skipped): messages for each secret found in a released file; secrets not checkable."""
    public_text = normalize("\n".join(public))
    texts = released_texts(roots)
    leaks, skipped = [], []
    for secret in secrets:
        needle = normalize(secret.text)
        if not needle or needle in public_text:
            skipped.append(secret.where)
            continue
        leaks += [f"  {secret.where} appears in {name}" for name, text in texts.items() if needle in text]
    return leaks, skipped
