"""``ExecuteUntilKernelDies``: nbgrader's Execute, where a dead kernel ends only its notebook.

Plain nbgrader lets nbclient's DeadKernelError (``os._exit(1)`` or ``os.kill(os.getpid(), 9)``
in an answer cell) escape autograde: the whole submission fails and no notebook of the
student is graded. Here the cell that killed the kernel gets an error output saying so, the
rest of the notebook is not run, and every later graded code cell gets an error output too
(an unrun check cell has no output, which nbgrader would score as full points). nbgrader then
saves this notebook's grades and goes on to the next notebook with a fresh kernel.

Configuration set on ``Execute`` (timeout, interrupt_on_timeout, kernel_name, ...) applies
to this subclass, as traitlets configures a class through its parents' sections.
"""

import nbformat
from nbclient.exceptions import DeadKernelError
from nbgrader import utils
from nbgrader.preprocessors import Execute

DIED_MESSAGE = "the kernel died while running this cell ({how}); the rest of this notebook was not run"
NOT_RUN_MESSAGE = "not run: the kernel died in an earlier cell, so this check scores 0"


def error_output(ename, message):
    return nbformat.v4.new_output("error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"])


class ExecuteUntilKernelDies(Execute):
    """Execute that turns a kernel death into an error on that cell and stops the notebook there."""

    def preprocess(self, nb, resources=None, km=None):
        self.kernel_died = False
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if self.kernel_died:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
                if utils.is_grade(cell):
                    cell.outputs.append(error_output("NotRun", NOT_RUN_MESSAGE))
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self.kernel_died = True
            how = self.kernel_exit()
            self.log.warning("Cell %d killed the kernel (%s): the rest of the notebook is not run", index, how)
            cell.outputs.append(error_output("DeadKernelError", DIED_MESSAGE.format(how=how)))
            return cell, self.resources

    def kernel_exit(self):
        """'exit code N', 'killed by signal N', or 'exit status unknown' for the dead kernel."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None and hasattr(process, "poll") else None
        if code is None:
            return "exit status unknown"
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"
