"""A gradebook built with nbgrader's own API, as ``release`` and ``grade`` would leave it (for fast tests)."""

import warnings

from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from cs231n_course.nbgrader_run import interpreter_scripts_on_path


def build_gradebook(course_dir, assignment, notebooks, checks, written, grades, answers=()):
    """Write ``course_dir/gradebook.db``; returns course_dir.

    checks, written: (cell, notebook, points) of check cells and of written answers;
    answers: (cell, notebook) of answer cells that are not graded themselves;
    grades: {student: {cell: (auto_score, manual_score, needs_manual_grade)}}.
    """
    notebook_of = {cell: notebook for cell, notebook, _ in [*checks, *written]}
    # A new gradebook runs `alembic` from PATH; add_submission warns about its own session.
    with interpreter_scripts_on_path(), warnings.catch_warnings(), \
            Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore", SAWarning)
        gb.add_assignment(assignment)
        for name in notebooks:
            gb.add_notebook(name, assignment)
        for cell, notebook, points in checks:
            gb.add_grade_cell(cell, notebook, assignment, max_score=points, cell_type="code")
        for cell, notebook, points in written:
            gb.add_grade_cell(cell, notebook, assignment, max_score=points, cell_type="markdown")
            gb.add_solution_cell(cell, notebook, assignment)
        for cell, notebook in answers:
            gb.add_solution_cell(cell, notebook, assignment)
        for student, cells in grades.items():
            gb.add_student(student)
            gb.add_submission(assignment, student)
            for cell, (auto, manual, needs) in cells.items():
                grade = gb.find_grade(cell, notebook_of[cell], assignment, student)
                grade.auto_score, grade.manual_score, grade.needs_manual_grade = auto, manual, needs
        gb.db.commit()
    return course_dir
