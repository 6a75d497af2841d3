"""Copy one student's submission (scores, comments, flags) from one nbgrader gradebook to another.

``grade --jobs N`` with N > 1 gives each job a gradebook of its own (a copy of the
course's, made when the run starts), so that no two nbgrader processes write one sqlite
file. Before a student is graded, their submission is copied from the course's gradebook
into the job's (so nbgrader sees the points given by hand since the run started, as it
would in a serial run); afterwards it is copied back. Every field nbgrader keeps per
student is copied: the student's names, email and LMS id; the submission's timestamp and
extension; each notebook's flag and late penalty; each grade's automatic, manual and
extra-credit points and whether it needs a manual grade; each comment's automatic and
manual text.
"""

import warnings

STUDENT_FIELDS = ("first_name", "last_name", "email", "lms_user_id")
SUBMISSION_FIELDS = ("timestamp", "extension")
NOTEBOOK_FIELDS = ("flagged", "late_submission_penalty")
GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
COMMENT_FIELDS = ("auto_comment", "manual_comment")
NOT_IN_SESSION = r"Object of type <\w+> not in session"


def copy_fields(source, target, names):
    for name in names:
        setattr(target, name, getattr(source, name))


def copy_submission(source_url, target_url, assignment, student):
    """Make ``student``'s submission of ``assignment`` in ``target_url`` what it is in ``source_url``.

    Both are gradebook URLs (``sqlite:///...``) of the same release. Returns False (and
    changes nothing) when the source has no such submission.
    """
    from nbgrader.api import Gradebook, MissingEntry

    # nbgrader's add_submission warns about its own session's autoflush (sqlalchemy's SAWarning,
    # harmless, as in autograde's own log).
    with warnings.catch_warnings(), Gradebook(source_url) as source:
        warnings.filterwarnings("ignore", message=NOT_IN_SESSION)
        try:
            submitted = source.find_submission(assignment, student)
        except MissingEntry:
            return False
        with Gradebook(target_url) as target:
            person = submitted.student
            target.update_or_create_student(student, **{name: getattr(person, name) for name in STUDENT_FIELDS})
            copy = target.update_or_create_submission(
                assignment, student, **{name: getattr(submitted, name) for name in SUBMISSION_FIELDS})
            notebooks = {notebook.name: notebook for notebook in copy.notebooks}
            for notebook in submitted.notebooks:
                into = notebooks[notebook.name]
                copy_fields(notebook, into, NOTEBOOK_FIELDS)
                grades = {grade.name: grade for grade in into.grades}
                for grade in notebook.grades:
                    copy_fields(grade, grades[grade.name], GRADE_FIELDS)
                comments = {comment.name: comment for comment in into.comments}
                for comment in notebook.comments:
                    copy_fields(comment, comments[comment.name], COMMENT_FIELDS)
            target.db.commit()
    return True
