"""Autograde one student and write their feedback, in a process of its own.

``python -m cs231n_course.autograde_student COURSE_DIR ASSIGNMENT STUDENT TIMEOUT STUDENT_FILES_JSON``

``cs231n-course grade`` runs one of these per student with a wall-clock limit,
so a kernel that ignores interrupts costs that student's grade, not the run.
The kernelspec to use is found through JUPYTER_PATH and named by the
environment variable CS231N_GRADING_KERNEL (empty: the notebook's own kernel).
"""

import json
import os
import sys

from cs231n_course.config import nbgrader_config
from cs231n_course.nbgrader_run import NbgraderFailed, run_nbgrader

KERNEL_ENV = "CS231N_GRADING_KERNEL"


def main(argv=None):
    course_dir, assignment, student, timeout, student_files = (sys.argv[1:] if argv is None else argv)
    config = nbgrader_config(course_dir, assignment, cell_timeout=int(timeout),
                             kernel_name=os.environ.get(KERNEL_ENV) or None,
                             student_files=json.loads(student_files))
    try:
        run_nbgrader("autograde", config, assignment, student)
        run_nbgrader("generate_feedback", config, assignment, student)
    except NbgraderFailed as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
