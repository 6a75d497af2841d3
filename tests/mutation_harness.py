"""Student-style mistakes, made by patching the model solution, and the public check that must catch them.

A mutation is the model solution with one textual edit a student might make (``+=`` for
``=``, a forgotten ``+ 1``, the wrong axis, ...). ``assert_caught`` runs the exercise's
PUBLIC check (the check cell without its hidden tests) on the mutant and asserts that it
fails with a message naming or pointing at the mistake. The suite measures the checks;
a mistake a check misses today is marked ``xfail(strict=True)`` with what is missing, so
fixing the check turns the mark into a failure that asks for it to be removed.
"""

import inspect
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    """One mistake: ``edits`` (old, new) pairs applied to the model solution; ``named``: words
    (any of them, case-insensitive) that the check's message must contain."""

    name: str
    edits: tuple
    named: tuple


def mutate(source, edits):
    """``source`` with each (old, new) edit applied once; every ``old`` must occur in it."""
    for old, new in edits:
        if old not in source:
            raise AssertionError(f"mutation does not apply: {old!r} is not in\n{source}")
        source = source.replace(old, new, 1)
    return source


def mutated_function(function, edits):
    """The library function ``function`` recompiled from its source with ``edits`` applied.

    It runs in a copy of its module's globals, so the library itself is not changed.
    """
    source = textwrap.dedent(inspect.getsource(function))
    namespace = dict(function.__globals__)
    exec(compile(mutate(source, edits), f"<mutant of {function.__name__}>", "exec"), namespace)
    return namespace[function.__name__]


def answer_source(notebook, grade_id):
    """The model solution's source of an answer cell of ``notebooks/<notebook>.ipynb``."""
    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def run_answer(source, namespace):
    """Run an answer cell's source in ``namespace`` (the names the notebook set before it); returns it."""
    exec(compile(source, "<answer cell>", "exec"), namespace)
    return namespace


def assert_caught(check, mutation):
    """``check()`` must raise AssertionError whose message contains one of ``mutation.named``."""
    try:
        check()
    except AssertionError as error:
        message = str(error)
    else:
        raise AssertionError(f"{mutation.name}: the public check passed it")
    words = [word for word in mutation.named if re.search(re.escape(word), message, re.IGNORECASE)]
    assert words, f"{mutation.name}: caught, but the message names none of {mutation.named}:\n{message}"
