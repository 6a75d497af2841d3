"""The process that grades one student (``autograde_student``), and stopping every such process at once.

``run_student`` starts it with a wall-clock limit and turns how it ended into the student's
status; ``RunningStudents`` keeps the processes of a run in progress so that Ctrl-C or
SIGTERM (``grade``'s main thread) ends all of them, each with its kernels.
"""

import json
import os
import signal
import subprocess
import sys
import threading

from cs231n_course.kernel_launcher import die_with_parent
from cs231n_course.limits import PROCESS_REFUSALS


def run_student(job, run, env, result, log_file):
    """Run autograde_student for one student; sets result.status on failure; returns its output."""
    command = [sys.executable, "-I", "-m", "cs231n_course.autograde_student", json.dumps(job)]
    process = run.processes.start(command, env=env, cwd=run.course_dir, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                  preexec_fn=die_with_parent)
    if process is None:  # the run is stopping
        return ""
    try:
        output, _ = process.communicate(timeout=run.limit)
    except subprocess.TimeoutExpired:
        kill_group(process)
        output, _ = process.communicate()
        result.status = f"error: grading took longer than {run.limit:.0f} s and was stopped"
        return output
    except BaseException:
        kill_group(process)
        process.wait()
        raise
    finally:
        run.processes.finished(process)
    if process.returncode != 0 and any(refusal in (output or "") for refusal in PROCESS_REFUSALS):
        result.status = ("error: the student's code reached the process limit, and the kernel stopped answering; "
                         f"see logs/{log_file.name}")
    elif process.returncode != 0 and "CellTimeoutError" in (output or ""):
        result.status = (f"error: a cell went on running after being interrupted at the {job['cell_timeout']} s "
                         f"timeout, so nbgrader gave up on the notebook; see logs/{log_file.name}")
    elif process.returncode != 0:
        result.status = f"error: nbgrader failed, see logs/{log_file.name}"
    return output


class RunningStudents:
    """The autograde_student processes in progress, so that stopping the run ends every one of them.

    Each is started in a thread of its own (one per job); PR_SET_PDEATHSIG (die_with_parent)
    fires when that thread ends, and each thread waits for its process before it ends.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._processes = set()
        self.stopped = False

    def start(self, command, **popen_arguments):
        """subprocess.Popen(command, ...), or None once the run is stopping."""
        with self._lock:
            if self.stopped:
                return None
            process = subprocess.Popen(command, **popen_arguments)
            self._processes.add(process)
            return process

    def finished(self, process):
        with self._lock:
            self._processes.discard(process)

    def stop(self):
        """No new student starts, and each process in progress is killed with its kernels."""
        with self._lock:
            self.stopped = True
            for process in self._processes:
                kill_group(process)


def kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its kernels die with it (bubblewrap --die-with-parent)
    except ProcessLookupError:
        pass
