"""Progress of a grading run: a tqdm bar (students done / total, mean seconds per student, ETA).

The bar is drawn only when its stream is a terminal; in a log file or a pipe only the
one line per finished student appears. While the bar is drawn, those lines go through
``tqdm.write`` so that they print above it instead of breaking it.
"""

import contextlib
import sys

from tqdm import tqdm


class GradingProgress:
    """``log`` a line per finished student and move the bar; ``done(seconds)`` after each.

    ``done(None)`` counts a student whose earlier grade was kept: the bar moves, the mean
    seconds per student (of those graded) does not change.
    """

    def __init__(self, bar, log):
        self.bar, self._log, self._seconds, self._graded = bar, log, 0.0, 0

    def log(self, line):
        if self.bar.disable:
            self._log(line)
        else:
            self.bar.write(line, file=self.bar.fp)

    def done(self, seconds):
        if seconds is not None:
            self._seconds, self._graded = self._seconds + seconds, self._graded + 1
            self.bar.set_postfix_str(f"{self._seconds / self._graded:.1f} s/student (mean)", refresh=False)
        self.bar.update(1)


@contextlib.contextmanager
def grading_progress(total, log=print, stream=None, enabled=None):
    """A GradingProgress for ``total`` students.

    stream: where the bar goes (default: standard error); enabled: draw it (default: when
    ``stream`` is a terminal).
    """
    stream = sys.stderr if stream is None else stream
    if enabled is None:
        enabled = hasattr(stream, "isatty") and stream.isatty()
    bar = tqdm(total=total, unit="student", desc="grading", file=stream, disable=not enabled,
               bar_format="{desc}: {n_fmt}/{total_fmt} {bar} [{elapsed}, ETA {remaining}{postfix}]")
    try:
        yield GradingProgress(bar, log)
    finally:
        bar.close()
