"""A notebook without a graded cell is not run when grading (ungraded.py); the others are."""

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cs231n_course.ungraded import ExecuteGradedOnly, has_graded_cell


def notebook(*cells):
    nb = new_notebook(cells=[new_markdown_cell("# Title"), *cells])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def cell(source, **nbgrader):
    metadata = {"nbgrader": {"grade_id": "c", "schema_version": 3, "locked": False, "solution": False,
                             "grade": False, **nbgrader}} if nbgrader else {}
    return new_code_cell(source, metadata=metadata)


def run(nb, tmp_path):
    return ExecuteGradedOnly(timeout=30, startup_timeout=30).preprocess(nb, {"metadata": {"path": str(tmp_path)}})[0]


def test_a_notebook_whose_cells_are_worth_no_points_is_returned_unrun(tmp_path):
    nb = notebook(cell("print('setup')"), cell("print('demo')", locked=True))
    assert not has_graded_cell(nb)
    ran = run(nb, tmp_path)
    assert [c.outputs for c in ran.cells if c.cell_type == "code"] == [[], []]
    assert all(c.get("execution_count") is None for c in ran.cells if c.cell_type == "code")


def test_a_check_or_a_written_answer_with_points_makes_the_notebook_run(tmp_path):
    for graded in (cell("print('check')", grade=True, points=1, locked=True),
                   cell("print('answer')", grade=True, solution=True, points=2)):
        nb = notebook(cell("print('setup')"), graded)
        assert has_graded_cell(nb)
        ran = run(nb, tmp_path)
        assert [c.outputs[0]["text"] for c in ran.cells if c.cell_type == "code"] == [
            "setup\n", graded.source.split("'")[1] + "\n"]
