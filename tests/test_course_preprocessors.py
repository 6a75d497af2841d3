"""Tests for cs231n_course.preprocessors: the strict marker rules and the grading fixes.

Oracles: the exact source each replacement must produce, written out by hand;
nbformat cells with the nbgrader metadata the course uses, run through the
preprocessors' own ``preprocess_cell``; traceback lines as IPython colours them.
No kernel, no nbgrader app: everything runs in memory.
"""

import nbformat
import pytest

from cs231n_course.preprocessors import (
    HIDDEN_LINE_NOTE,
    HIDDEN_MARKERS,
    SOLUTION_MARKERS,
    RedactHiddenTracebacks,
    StderrToStdout,
    StrictClearHiddenTests,
    StrictClearSolutions,
    hidden_test_lines,
    redact,
    replace_regions,
)

STUB = ["# STUB", "raise NotImplementedError()"]
PROSE = "Write your code between ### BEGIN SOLUTION and ### END SOLUTION: nothing else is graded."
PYTHON = {"language": "python"}


def nbgrader_meta(solution=False, grade=False, locked=False, points=None, grade_id="x"):
    meta = {"solution": solution, "grade": grade, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def answer_cell(source, cell_type="code"):
    make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    return make(source, metadata=nbgrader_meta(solution=True))


def grade_cell(source):
    return nbformat.v4.new_code_cell(source, metadata=nbgrader_meta(grade=True, locked=True, points=1))


# --- replace_regions -----------------------------------------------------------------------


def test_a_whole_line_region_is_replaced_by_the_stub():
    source = "x = None\n### BEGIN SOLUTION\nx = 42\n### END SOLUTION\nprint(x)"
    assert replace_regions(source, SOLUTION_MARKERS, STUB) == (
        "x = None\n# STUB\nraise NotImplementedError()\nprint(x)", True)


def test_the_stub_takes_the_indentation_of_the_begin_marker():
    source = ("def f(x):\n"
              "    y = 2 * x\n"
              "    ### BEGIN SOLUTION\n"
              "        return y + 1\n"       # the body's own indentation does not matter
              "  ### END SOLUTION\n"         # nor does the END marker's
              "\n")
    new, found = replace_regions(source, SOLUTION_MARKERS, STUB)
    assert found
    assert new == "def f(x):\n    y = 2 * x\n    # STUB\n    raise NotImplementedError()\n\n"


def test_markers_with_trailing_spaces_still_count_as_whole_lines():
    new, found = replace_regions("\t### BEGIN SOLUTION   \nsecret\n### END SOLUTION \t", SOLUTION_MARKERS, ["s"])
    assert (new, found) == ("\ts", True)


@pytest.mark.parametrize("line", [
    PROSE,
    "x = 1  ### BEGIN SOLUTION",
    "# ### BEGIN SOLUTION",
    "### BEGIN SOLUTIONS",
    "`### BEGIN SOLUTION`",
])
def test_a_marker_inside_a_longer_line_is_not_a_marker(line):
    source = f"Intro\n{line}\nsecret = 1\n{line.replace('BEGIN', 'END')}\nOutro"
    assert replace_regions(source, SOLUTION_MARKERS, STUB) == (source, False)


def test_every_region_of_a_source_is_replaced():
    source = ("### BEGIN SOLUTION\na = 1\n### END SOLUTION\n"
              "keep = True\n"
              "    ### BEGIN SOLUTION\n    b = 2\n    ### END SOLUTION")
    new, found = replace_regions(source, SOLUTION_MARKERS, ["S"])
    assert (new, found) == ("S\nkeep = True\n    S", True)


def test_an_empty_stub_removes_the_region_and_its_markers():
    source = "check(1)\n### BEGIN HIDDEN TESTS\ncheck(2)\ncheck(3)\n### END HIDDEN TESTS\ncheck(4)"
    assert replace_regions(source, HIDDEN_MARKERS, []) == ("check(1)\ncheck(4)", True)


@pytest.mark.parametrize("source, words", [
    ("### BEGIN SOLUTION\na\n### BEGIN SOLUTION\nb\n### END SOLUTION\n### END SOLUTION", "nested"),
    ("x = 1\n### BEGIN SOLUTION\nsecret = 2", "never closed"),
    ("x = 1\n### END SOLUTION", "without"),
    ("### BEGIN SOLUTION\na\n### END SOLUTION\n### END SOLUTION", "without"),
])
def test_unbalanced_markers_raise_runtime_error(source, words):
    with pytest.raises(RuntimeError, match=words) as info:
        replace_regions(source, SOLUTION_MARKERS, STUB)
    assert source in str(info.value)  # the message shows the offending source


def test_hidden_test_markers_follow_the_same_rules():
    with pytest.raises(RuntimeError, match="never closed"):
        replace_regions("### BEGIN HIDDEN TESTS\ncheck()", HIDDEN_MARKERS, [])
    prose = "Hidden tests sit between ### BEGIN HIDDEN TESTS and ### END HIDDEN TESTS."
    assert replace_regions(prose, HIDDEN_MARKERS, []) == (prose, False)


# --- StrictClearSolutions / StrictClearHiddenTests through preprocess_cell ------------------


def test_clear_solutions_replaces_a_code_region_with_nbgraders_python_stub():
    cell = answer_cell("p = None\n### BEGIN SOLUTION\np = 0.2\n### END SOLUTION")
    cell, _ = StrictClearSolutions().preprocess_cell(cell, dict(PYTHON), 0)
    assert cell.source == "p = None\n# YOUR CODE HERE\nraise NotImplementedError()"


def test_clear_solutions_leaves_markdown_prose_about_the_markers_alone():
    cell = nbformat.v4.new_markdown_cell(PROSE)
    cell, _ = StrictClearSolutions().preprocess_cell(cell, dict(PYTHON), 0)
    assert cell.source == PROSE


def test_clear_solutions_leaves_prose_in_an_unmarked_code_comment_alone():
    source = f"# {PROSE}\nx = 1"
    cell, _ = StrictClearSolutions().preprocess_cell(nbformat.v4.new_code_cell(source), dict(PYTHON), 0)
    assert cell.source == source


def test_a_code_answer_cell_without_regions_becomes_the_code_stub():
    cell = answer_cell("def f():\n    return 42")
    cell, _ = StrictClearSolutions().preprocess_cell(cell, dict(PYTHON), 0)
    assert cell.source == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_a_markdown_answer_cell_without_regions_becomes_the_text_stub():
    cell = answer_cell(f"My written answer. {PROSE}", cell_type="markdown")
    cell, _ = StrictClearSolutions().preprocess_cell(cell, dict(PYTHON), 0)
    assert cell.source == "YOUR ANSWER HERE"


def test_a_markdown_region_is_replaced_by_the_text_stub_keeping_the_rest():
    cell = answer_cell("Question: why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", cell_type="markdown")
    cell, _ = StrictClearSolutions().preprocess_cell(cell, dict(PYTHON), 0)
    assert cell.source == "Question: why?\n\nYOUR ANSWER HERE"


def test_a_region_outside_an_answer_cell_is_refused():
    cell = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    with pytest.raises(RuntimeError, match="non-solution cell"):
        StrictClearSolutions().preprocess_cell(cell, dict(PYTHON), 0)


def test_clear_hidden_tests_removes_the_region_from_a_test_cell():
    source = ("from lib import f\n\ncheck(f, 1)\n"
              "### BEGIN HIDDEN TESTS\ncheck(f, 2)\n### END HIDDEN TESTS")
    cell, _ = StrictClearHiddenTests().preprocess_cell(grade_cell(source), {}, 0)
    assert cell.source == "from lib import f\n\ncheck(f, 1)"


def test_clear_hidden_tests_leaves_prose_about_the_markers_alone():
    prose = "Some tests are hidden: ### BEGIN HIDDEN TESTS ... ### END HIDDEN TESTS in the source."
    cell, _ = StrictClearHiddenTests().preprocess_cell(nbformat.v4.new_markdown_cell(prose), {}, 0)
    assert cell.source == prose
    code = "print('### BEGIN HIDDEN TESTS')\ncheck(1)"
    cell, _ = StrictClearHiddenTests().preprocess_cell(grade_cell(code), {}, 0)
    assert cell.source == code


def test_a_hidden_region_outside_a_test_cell_is_refused():
    cell = answer_cell("### BEGIN HIDDEN TESTS\ncheck()\n### END HIDDEN TESTS")
    with pytest.raises(RuntimeError, match="non-grade cell"):
        StrictClearHiddenTests().preprocess_cell(cell, {}, 0)


# --- hidden_test_lines and redact ----------------------------------------------------------


def test_hidden_test_lines_are_the_stripped_non_blank_lines_of_every_region():
    source = ("check(1)\n"
              "### BEGIN HIDDEN TESTS\n    check(2)  \n\n   \ncheck(3)\n### END HIDDEN TESTS\n"
              "check(4)\n"
              "  ### BEGIN HIDDEN TESTS\ncheck(5)\n  ### END HIDDEN TESTS\n"
              "# the markers are ### BEGIN HIDDEN TESTS and ### END HIDDEN TESTS")
    assert hidden_test_lines(source) == ["check(2)", "check(3)", "check(5)"]


def test_hidden_test_lines_of_a_cell_without_regions_is_empty():
    assert hidden_test_lines("check(1)\ncheck(2)") == []


HIDDEN = ["check_dropout_forward(dropout_forward, p=0.6)"]
# IPython 8 colours a traceback line token by token: the hidden line is only
# found once the escape codes are removed.
COLOURED = ("\x1b[0;32m----> 4\x1b[0m \x1b[43mcheck_dropout_forward\x1b[49m(dropout_forward, "
            "p\x1b[38;5;241m=\x1b[39m\x1b[38;5;241m0.6\x1b[39m)")


def test_redact_replaces_a_plain_traceback_line_quoting_a_hidden_line():
    text = "Cell In[3], line 4\n----> 4 check_dropout_forward(dropout_forward, p=0.6)\nAssertionError: wrong"
    assert redact(text, HIDDEN) == f"Cell In[3], line 4\n{HIDDEN_LINE_NOTE}\nAssertionError: wrong"


def test_redact_finds_a_hidden_line_split_by_ansi_colour_codes():
    assert HIDDEN[0] not in COLOURED  # what makes this test worth having
    text = ("\x1b[0;31mAssertionError\x1b[0m Traceback\n" + COLOURED
            + "\n\x1b[0;31mAssertionError\x1b[0m: p=0.6 is wrong")
    assert redact(text, HIDDEN).split("\n") == [
        "\x1b[0;31mAssertionError\x1b[0m Traceback", HIDDEN_LINE_NOTE,
        "\x1b[0;31mAssertionError\x1b[0m: p=0.6 is wrong"]


def test_redact_keeps_text_without_hidden_lines_byte_for_byte():
    text = "\x1b[0;32m----> 2\x1b[0m check_dropout_forward(dropout_forward, p=0.3)\n\nValueError: x"
    assert redact(text, HIDDEN) == text


def test_redact_hidden_tracebacks_edits_only_error_outputs_of_cells_with_hidden_tests():
    source = ("check_dropout_forward(dropout_forward, p=0.3)\n"
              "### BEGIN HIDDEN TESTS\n" + HIDDEN[0] + "\n### END HIDDEN TESTS")
    error = nbformat.v4.new_output("error", ename="AssertionError", evalue="wrong",
                                   traceback=["\x1b[0;31m-----\x1b[0m", COLOURED, "AssertionError: wrong"])
    stream = nbformat.v4.new_output("stream", name="stdout", text=HIDDEN[0] + "\n")
    cell = grade_cell(source)
    cell.outputs = [stream, error]
    cell, _ = RedactHiddenTracebacks().preprocess_cell(cell, {}, 0)
    assert cell.outputs[1].traceback == ["\x1b[0;31m-----\x1b[0m", HIDDEN_LINE_NOTE, "AssertionError: wrong"]
    assert cell.outputs[0].text == HIDDEN[0] + "\n"

    public = grade_cell("check_dropout_forward(dropout_forward, p=0.6)")  # the same line, not hidden here
    public.outputs = [nbformat.v4.new_output("error", ename="E", evalue="", traceback=[COLOURED])]
    public, _ = RedactHiddenTracebacks().preprocess_cell(public, {}, 0)
    assert public.outputs[0].traceback == [COLOURED]


# --- StderrToStdout ------------------------------------------------------------------------


def outputs_with_stderr():
    return [
        nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: overflow\n"),
        nbformat.v4.new_output("stream", name="stdout", text="ok\n"),
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=["ValueError: bad"]),
    ]


def test_stderr_becomes_stdout_in_a_grade_cell():
    cell = grade_cell("check()")
    cell.outputs = outputs_with_stderr()
    cell, _ = StderrToStdout().preprocess_cell(cell, {}, 0)
    assert [(o.output_type, o.get("name")) for o in cell.outputs] == [
        ("stream", "stdout"), ("stream", "stdout"), ("error", None)]
    assert cell.outputs[0].text == "RuntimeWarning: overflow\n"


@pytest.mark.parametrize("metadata", [{}, nbgrader_meta(solution=True), nbgrader_meta(locked=True)])
def test_stderr_stays_stderr_outside_grade_cells(metadata):
    cell = nbformat.v4.new_code_cell("work()", metadata=metadata)
    cell.outputs = outputs_with_stderr()
    cell, _ = StderrToStdout().preprocess_cell(cell, {}, 0)
    assert [o.get("name") for o in cell.outputs] == ["stderr", "stdout", None]
