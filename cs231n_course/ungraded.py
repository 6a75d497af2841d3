"""``ExecuteGradedOnly``: a notebook with no graded cell is not run when grading.

A notebook without a single graded cell (``"grade": true``: a check or a written answer
worth points), such as the course's ``00_welcome``, cannot change a grade; running it
costs a kernel start and its cells (2.2 s of a full submission's 36 s). Its feedback page
shows its cells without outputs. Every other notebook runs as with ``ExecuteUntilKernelDies``.
"""

from nbgrader import utils

from cs231n_course.crash import ExecuteUntilKernelDies


def has_graded_cell(nb):
    return any(utils.is_grade(cell) for cell in nb.cells)


class ExecuteGradedOnly(ExecuteUntilKernelDies):
    """ExecuteUntilKernelDies for notebooks with a graded cell; the others are returned unrun."""

    def preprocess(self, nb, resources=None, km=None):
        if not has_graded_cell(nb):
            self.log.info("%s has no graded cell: not run", (resources or {}).get("unique_key", "notebook"))
            return nb, resources
        return super().preprocess(nb, resources, km)
