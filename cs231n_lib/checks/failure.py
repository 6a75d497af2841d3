"""How a failed check shows in a notebook: one short message, no traceback through the checks.

A check raises ``CheckFailed`` (an AssertionError, so nbval, nbgrader and
pytest still count it as a failure). IPython shows an exception through its
``_render_traceback_`` method when it has one: here that is the message,
wrapped to the width of a notebook, preceded by the frames of the student's
own code when the student's code raised the error the check explains.

nbgrader's Validate button lists only the cells that failed. While it runs a
notebook (nbgrader sets NBGRADER_VALIDATING=1 for the kernel), each failure
also lists the checks that passed before it in the same run, so the last
failure listed says what passed (``record_pass``: the one record a kernel keeps).
"""

import os
import textwrap
import traceback

WIDTH = 88
_CHECKS_DIR = os.path.dirname(os.path.abspath(__file__))
_RED, _BOLD_RED, _RESET = "\x1b[0;31m", "\x1b[1;31m", "\x1b[0m"
_GREEN = "\x1b[0;32m"
PASS_SHOWN = 80  # characters of each passed check's line listed under a failure
_passed_in_this_kernel = []


def record_pass(message):
    """Remember a passed check's line (once) for the failures listed after it while validating."""
    line = message.splitlines()[0] if message else ""
    if line not in _passed_in_this_kernel:
        _passed_in_this_kernel.append(line)


def _passed_before():
    if os.environ.get("NBGRADER_VALIDATING") != "1" or not _passed_in_this_kernel:
        return []
    shorten = [line if len(line) <= PASS_SHOWN else line[:PASS_SHOWN - 3] + "..." for line in _passed_in_this_kernel]
    return ["", f"{_GREEN}Passed before this check in this run ({len(shorten)}):{_RESET}",
            *(f"  OK: {line}" for line in shorten)]


class CheckFailed(AssertionError):
    """A check cell's verdict: what was expected, what came out, and a hint."""

    def _render_traceback_(self):
        message = [wrapped for line in ("Check failed: " + str(self)).splitlines()
                   for wrapped in _wrap(line)]
        message[0] = message[0].replace("Check failed:", f"{_BOLD_RED}Check failed:{_RESET}", 1)
        return _student_frames(self) + message + _passed_before()


def _wrap(line):
    if len(line) <= WIDTH:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()))
    return textwrap.wrap(line, WIDTH, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def _student_frames(error):
    """The traceback of the error the student's code raised (if the check explains one), checks' frames left out."""
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    if cause is None or cause.__traceback__ is None:
        return []
    frames = [frame for frame in traceback.extract_tb(cause.__traceback__)
              if not os.path.abspath(frame.filename).startswith(_CHECKS_DIR + os.sep)]
    if not frames:
        return []
    lines = [f"{_RED}Your code raised this error:{_RESET}"]
    lines += "".join(traceback.format_list(frames)).rstrip("\n").splitlines()
    lines += traceback.format_exception_only(type(cause), cause)[-1].rstrip("\n").splitlines()
    return lines + [""]
