"""grading_progress: a bar with done/total, mean seconds and ETA on a terminal; plain lines elsewhere."""

import io

from cs231n_course.progress import grading_progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(stream, seconds=(2.0, 4.0, 6.0), **kwargs):
    lines = []
    with grading_progress(len(seconds), lines.append, stream=stream, **kwargs) as progress:
        for number, spent in enumerate(seconds):
            progress.log(f"student{number}: ok")
            progress.done(spent)
    return lines


def test_on_a_terminal_the_bar_counts_students_and_shows_the_mean_and_an_eta():
    screen = Terminal()
    lines = run(screen)
    drawn = screen.getvalue()
    assert lines == []  # the per-student lines went through the bar, above it
    assert "student0: ok" in drawn and "student2: ok" in drawn
    assert "grading: 3/3" in drawn and "ETA" in drawn
    assert "4.0 s/student (mean)" in drawn  # (2 + 4 + 6) / 3
    assert "grading: 1/3" in drawn and "2.0 s/student (mean)" in drawn


def test_elsewhere_only_one_line_per_student():
    log_file = io.StringIO()
    assert run(log_file) == ["student0: ok", "student1: ok", "student2: ok"]
    assert log_file.getvalue() == ""


def test_the_bar_can_be_forced_off_on_a_terminal():
    screen = Terminal()
    assert run(screen, enabled=False) == ["student0: ok", "student1: ok", "student2: ok"]
    assert screen.getvalue() == ""
