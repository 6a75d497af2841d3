"""Which sandbox limits a student's graded notebooks ran into, for the status column.

Read from the autograded notebooks' outputs: a MemoryError (the address-space limit),
a fork or thread refused for want of processes (the process limit), outputs cut to the
per-cell cap (``feedback.CapOutputs``) and a kernel that died (``crash.py``).
"""

from pathlib import Path

import nbformat

from cs231n_course.crash import DIED_MESSAGE

OUTPUT_CUT = "[output cut:"
DIED_PREFIX = DIED_MESSAGE.split("(")[0]
# What Python says when fork/clone or a new thread is refused (EAGAIN under RLIMIT_NPROC).
PROCESS_REFUSALS = ("Resource temporarily unavailable", "can't start new thread")


def outputs_text(output):
    """The text a person would read in one output (stream, error, plain-text data)."""
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    elif output.get("output_type") == "error":
        text = "\n".join([output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])])
    else:
        text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else text


def notebook_limits(nb):
    """The set of limit names ("memory", "processes", "output", "kernel") this notebook ran into."""
    found = set()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = outputs_text(output)
            if output.get("output_type") == "error" and output.get("ename") == "MemoryError":
                found.add("memory")
            if output.get("output_type") == "error" and output.get("ename") == "DeadKernelError":
                found.add("kernel")
            if any(refusal in text for refusal in PROCESS_REFUSALS):
                found.add("processes")
            if OUTPUT_CUT in text:
                found.add("output")
    return found


def limit_notes(folder, names, settings=None):
    """Sentences for the status column, one per limit reached, naming the notebooks."""
    by_limit = {}
    for name in names:
        path = Path(folder) / f"{name}.ipynb"
        if not path.is_file():
            continue
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - nbgrader wrote it; an unreadable one is reported elsewhere
            continue
        for limit in notebook_limits(nb):
            by_limit.setdefault(limit, []).append(name)
    memory = f" ({settings.memory_mb} MB per process)" if settings else ""
    processes = f" ({settings.max_processes})" if settings else ""
    words = {
        "memory": f"memory limit{memory} reached in",
        "processes": f"process limit{processes} reached in",
        "output": "output over the per-cell cap cut in",
        "kernel": "kernel died in",
    }
    return [f"{words[limit]} {', '.join(found)}" for limit, found in sorted(by_limit.items())]
