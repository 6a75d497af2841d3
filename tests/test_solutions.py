"""Tests for cs231n_course.solutions: stripping solution regions, and the library's own regions."""

from pathlib import Path

import pytest

from cs231n_course.solutions import solution_regions, strip_solutions

LIBRARY = Path(__file__).resolve().parents[1] / "cs231n_lib"


def test_a_region_becomes_not_implemented_at_its_indentation():
    source = (
        "def f(x):\n"
        "    y = 1\n"
        "    ### BEGIN SOLUTION\n"
        "    y = x * 2\n"
        "    ### END SOLUTION\n"
        "    return y\n"
    )
    assert strip_solutions(source) == (
        "def f(x):\n"
        "    y = 1\n"
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "    return y\n"
    )
    assert solution_regions(source) == ["    y = x * 2"]


def test_several_regions_and_text_outside_them_are_kept():
    source = "a\n### BEGIN SOLUTION\nb\n### END SOLUTION\nc\n  ### BEGIN SOLUTION\n  d\n  e\n  ### END SOLUTION\n"
    assert strip_solutions(source) == (
        "a\n# YOUR CODE HERE\nraise NotImplementedError()\nc\n  # YOUR CODE HERE\n  raise NotImplementedError()\n"
    )
    assert solution_regions(source) == ["b", "  d\n  e"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nx\n", "f.py:1: ### BEGIN SOLUTION is never closed"),
        ("x\n### END SOLUTION\n", "f.py:2: ### END SOLUTION without a ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n", "f.py:2: ### BEGIN SOLUTION inside the region opened at line 1"),
    ],
)
def test_unmatched_markers_name_the_file_and_line(source, message):
    with pytest.raises(ValueError, match=message):
        strip_solutions(source, filename="f.py")


@pytest.mark.parametrize("path", sorted(LIBRARY.rglob("*.py")), ids=lambda p: p.name)
def test_every_library_file_stays_importable_python_once_stripped(path):
    stripped = strip_solutions(path.read_text(encoding="utf-8"), filename=str(path))
    compile(stripped, str(path), "exec")
    for region in solution_regions(path.read_text(encoding="utf-8")):
        assert region.strip(), f"{path.name} has an empty solution region"
