"""End to end: release notebook 06 (a notebook exercise and a library exercise), grade fake submissions.

Each fake submission is written here (or in grading_attacks.py, the hostile ones)
from the real release and the real solutions; the points each must get are worked
out in its comment. All are graded in one run, attackers before a correct victim. Notebook
06's auto-graded cells: 06-conventions-check (1 point, the notebook exercise),
06-forward-check (2, dropout_forward in cs231n_lib/layers.py, with hidden
tests), 06-backward-check (2, dropout_backward). Its three written answers
(1 point each) are graded by hand and count 0 until then. Two more: the
release zipped (0 points), and a notebook exercise that catches the interrupt
and runs on (nbgrader gives up on it: an error row, the others unaffected).
"""

import csv
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grading_attacks as attacks
import nbformat
import pytest
from bs4 import BeautifulSoup

from cs231n_course.preprocessors import hidden_test_lines
from cs231n_course.sandbox import (
    DEFAULT_SANDBOX_UID,
    THREAD_VARIABLES,
    processes_of,
    sandbox_available,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "06_dropout"
ASSIGNMENT = "ps06"
CELL_TIMEOUT = 5
AUTO_POINTS = 5
SOLVED_LAYERS = (ROOT / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")

EXPECTED = {
    "correct": 5,           # everything right
    "untouched": 0,         # the release as handed out
    "infinite_loop": 4,     # the notebook exercise never ends: that cell times out, 0 + 2 + 2
    "raises": 3,            # dropout_backward raises: 1 + 2 + 0
    "warns": 5,             # right, but prints warnings on stderr in every check
    "edits_test": 1,        # library not done, forward check edited to `pass`: 1 + 0 + 0
    "deletes_test": 5,      # everything right, forward check deleted: restored and run, 1 + 2 + 2
    "reads_solutions": 0,   # nothing done; hunts the instructor's files for solutions
    "victim-correct": 5,    # everything right, graded after every attacker
}
# Hostile submissions (grading_attacks.py): points, and words their status must hold ("" = plain "ok").
ATTACKS = {
    "attack-shadow": (0, ""),            # blank, plus packages shadowing the grader, ipykernel, the checks
    "attack-leftover": (5, ""),          # right, plus daemons that try to outlive their kernel
    # forks until refused: its kernel can no longer start a thread and stops answering
    "attack-forkbomb": (None, "error: the student's code reached the process limit"),
    "attack-hiddenprint": (5, ""),       # right, plus hooks printing every later cell's source
    "attack-script": (5, ""),            # right, plus <script> in an output and a written answer
    "attack-bigoutput": (5, "output over the per-cell cap cut in 06_dropout"),  # prints 200 MB
    "attack-memory": (5, "memory limit (2048 MB per process) reached in 06_dropout"),  # a cell taking 8 GB
    "attack-crash": (0, "kernel died in 06_dropout"),  # os._exit in the answer: no check runs after it
    "attack-tampered": (5, ""),          # check made an answer cell, grade_id renamed, ids duplicated
    "attack-thief": (0, ""),             # reads the checkout, its git origin, the machine
}
# Entry name -> words its "not graded" status holds (filled by grading_attacks.make_bad_entries).
BAD_ENTRIES = {}


def run_cli(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "cs231n_course", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


# BLAS threads per kernel, pinned so that the fork bomb's outcome does not depend on the machine's
# cores: with two, its kernel cannot start OpenBLAS's threads once the process limit is used up and
# stops answering (the case attack-forkbomb covers); ``grade`` gives one per kernel when it runs as
# many jobs as cores, and then that kernel survives and only the fork bomb's own cell fails.
PINNED_THREADS = dict.fromkeys(THREAD_VARIABLES, "2")


def instructor_cell(grade_id):
    nb = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def replace_region(text, function, new_body):
    """layers.py with the solution region of ``function`` replaced by ``new_body`` (indented 4)."""
    start = text.index(f"def {function}(")
    begin = text.index("### BEGIN SOLUTION", start)
    end = text.index("### END SOLUTION", begin)
    body = "".join(f"    {line}\n" for line in new_body.splitlines())
    return text[:begin] + "### BEGIN SOLUTION\n" + body + "    " + text[end:]


def edit_cells(folder, edit):
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    edit(nb)
    nbformat.write(nb, path)


def cell_by_id(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def solve_notebook(nb):
    cell_by_id(nb, "06-conventions-answer").source = instructor_cell("06-conventions-answer").source


def write_submissions(release, submissions, course_dir):
    def make(name, layers=None, notebook_edit=None):
        folder = submissions / name
        shutil.copytree(release, folder)
        if layers is not None:
            (folder / "cs231n_lib" / "layers.py").write_text(layers, encoding="utf-8")
        if notebook_edit is not None:
            edit_cells(folder, notebook_edit)
        return folder

    def answers(nb):
        solve_notebook(nb)
        for grade_id in ("06-inline-q1-answer", "06-inline-q2-answer", "06-inline-q3-answer"):
            cell_by_id(nb, grade_id).source = instructor_cell(grade_id).source

    make("correct", SOLVED_LAYERS, answers)
    make("victim-correct", SOLVED_LAYERS, answers)
    make("untouched")

    def loop_forever(nb):
        cell_by_id(nb, "06-conventions-answer").source = "while True:\n    pass"
    make("infinite_loop", SOLVED_LAYERS, loop_forever)

    def swallow_interrupts(nb):
        cell_by_id(nb, "06-conventions-answer").source = (
            "while True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        pass")
    make("ignores_interrupts", SOLVED_LAYERS, swallow_interrupts)

    raising = replace_region(SOLVED_LAYERS, "dropout_backward", 'raise RuntimeError("my backward is broken")')
    make("raises", raising, solve_notebook)

    noisy = replace_region(
        SOLVED_LAYERS, "dropout_forward",
        "import sys, warnings\n"
        "warnings.warn('dropout_forward: a RuntimeWarning on stderr', RuntimeWarning)\n"
        "print('dropout_forward says hello on stderr', file=sys.stderr)\n"
        "keep = rng.random(x.shape) >= p\n"
        "mask = (keep / (1 - p)).astype(x.dtype)\n"
        "out = x * mask")
    make("warns", noisy, solve_notebook)

    def edit_test(nb):
        solve_notebook(nb)
        cell_by_id(nb, "06-forward-check").source = "pass"
    make("edits_test", None, edit_test)

    def delete_test(nb):
        solve_notebook(nb)
        nb.cells.remove(cell_by_id(nb, "06-forward-check"))
    make("deletes_test", SOLVED_LAYERS, delete_test)

    targets = [course_dir / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", course_dir / "gradebook.db",
               ROOT / "cs231n_lib" / "layers.py", ROOT / "notebooks" / f"{NOTEBOOK}.ipynb",
               Path.home() / ".bash_history"]
    thief = (
        "import importlib, pathlib\n"
        f"targets = {[str(t) for t in targets]!r}\n"
        "found = []\n"
        "for target in targets:\n"
        "    try:\n"
        "        text = pathlib.Path(target).read_text(errors='replace')\n"
        "    except OSError as error:\n"
        "        continue\n"
        "    found.append(target)\n"
        "    if target.endswith('layers.py'):\n"
        "        namespace = {'__name__': 'stolen'}\n"
        "        exec(compile(text, 'stolen', 'exec'), namespace)\n"
        "        import cs231n_lib.layers as layers\n"
        "        layers.dropout_forward = namespace['dropout_forward']\n"
        "        layers.dropout_backward = namespace['dropout_backward']\n"
        "try:\n"
        f"    open({str(course_dir / 'gradebook.db')!r}, 'ab').write(b'garbage')\n"
        "    found.append('gradebook writable')\n"
        "except OSError:\n"
        "    pass\n"
        "print('THIEF FOUND:', found if found else 'nothing')\n"
        "p_library, kept_scale, expected_dropped = 0.5, 2.0, 50\n"
    )

    def steal(nb):
        cell_by_id(nb, "06-conventions-answer").source = thief
    make("reads_solutions", None, steal)
    BAD_ENTRIES.update(attacks.make_bad_entries(submissions, course_dir.parent / "release" / f"{ASSIGNMENT}.zip",
                                                make))
    if not sandbox_available():
        return  # never run a fork bomb or a memory hog outside the sandbox
    made = {
        "attack-shadow": attacks.make_shadowing(make),
        "attack-leftover": attacks.make_leftover(make, answers, SOLVED_LAYERS),
        "attack-forkbomb": attacks.make_fork_bomb(make, answers, SOLVED_LAYERS),
        "attack-hiddenprint": attacks.make_hidden_printer(make, answers, SOLVED_LAYERS),
        "attack-script": attacks.make_script(make, answers, SOLVED_LAYERS),
        "attack-bigoutput": attacks.make_big_output(make, answers, SOLVED_LAYERS),
        "attack-memory": attacks.make_memory_hog(make, answers, SOLVED_LAYERS),
        "attack-crash": attacks.make_crash(make, answers, SOLVED_LAYERS),
        "attack-tampered": attacks.make_tampered(make, answers, SOLVED_LAYERS),
        "attack-thief": attacks.make_thief(make, ROOT, course_dir),
    }
    assert made == {name: points for name, (points, _) in ATTACKS.items()}


def snapshot(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    work = tmp_path_factory.mktemp("grading")
    released = run_cli("release", "--notebooks", NOTEBOOK, "--assignment", ASSIGNMENT, cwd=work)
    assert released.returncode == 0, released.stdout + released.stderr
    submissions = work / "submissions"
    write_submissions(work / "release" / ASSIGNMENT, submissions, work / "grading")
    shutil.make_archive(str(submissions / "zipped"), "zip", work / "release", ASSIGNMENT)
    before = snapshot(submissions)
    for marker in attacks.PWNED_DIR.glob(attacks.PWNED_GLOB):
        marker.unlink()
    result = run_cli("grade", "submissions", "--timeout", str(CELL_TIMEOUT), "--jobs", "2", cwd=work,
                     env=dict(os.environ, **PINNED_THREADS))
    with open(work / "grading" / f"grades-{ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return {"work": work, "result": result, "rows": rows, "before": before, "after": snapshot(submissions),
            "submissions": submissions, "markers": sorted(attacks.PWNED_DIR.glob(attacks.PWNED_GLOB)),
            "survivors": [pid for uid in (DEFAULT_SANDBOX_UID, DEFAULT_SANDBOX_UID + 1) for pid in processes_of(uid)]
            if sandbox_available() else []}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_fake_submission_gets_exactly_its_points(graded, student):
    if student == "reads_solutions" and not sandbox_available():
        pytest.skip("the sandbox needs root on Linux; without it student code can read what you can")
    row = graded["rows"][student]
    assert row["status"] == "ok", f"{student}: {row['status']}\n{graded['result'].stdout}"
    assert float(row[f"{NOTEBOOK}_auto"]) == EXPECTED[student], f"{student}: {row}"
    assert float(row["auto_total"]) == EXPECTED[student]
    assert (row[f"{NOTEBOOK}_auto_max"], row["auto_max"]) == (str(AUTO_POINTS), str(AUTO_POINTS)), row
    assert (row[f"{NOTEBOOK}_manual_max"], row["manual_max"]) == ("3", "3"), row


needs_sandbox = pytest.mark.skipif(not sandbox_available(), reason="the sandbox needs root on Linux and bwrap")


@needs_sandbox
@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_each_attack_gets_exactly_its_points_and_status(graded, student):
    points, words = ATTACKS[student]
    row = graded["rows"][student]
    if points is None:  # not graded
        assert row["status"].startswith(words) and row["auto_total"] == "", f"{student}: {row}"
        return
    assert row["status"] == (f"ok, {words}" if words else "ok"), f"{student}: {row}"
    assert float(row[f"{NOTEBOOK}_auto"]) == points, f"{student}: {row}"


@needs_sandbox
def test_no_submission_code_ran_outside_the_sandbox(graded):
    assert graded["markers"] == [], "submission code ran on the host: " + ", ".join(map(str, graded["markers"]))
    for student in graded_attackers():
        page = feedback_page(graded, student).read_text(encoding="utf-8")
        assert "PWNED" not in page and "OK (shadow)" not in page, student


@needs_sandbox
def test_no_process_of_any_student_outlives_grading(graded):
    assert graded["survivors"] == [], f"processes of the sandbox uid still running: {graded['survivors']}"
    for row in graded["rows"].values():
        assert "still running after grading" not in row["status"], row


@needs_sandbox
def test_the_thief_found_nothing_of_the_machine_or_the_checkout(graded):
    assert len(attacks.thief_targets(ROOT, graded["work"] / "grading")) >= 8
    text = visible_text(feedback_page(graded, "attack-thief").read_text(encoding="utf-8"))
    assert "THIEF FOUND: nothing" in text, text[text.find("THIEF"):][:600]


def test_bad_entries_get_a_row_saying_why_and_the_rest_are_graded(graded):
    assert len(BAD_ENTRIES) == 6
    for student, words in BAD_ENTRIES.items():
        row = graded["rows"][student]
        assert row["status"].startswith("not graded:") and words in row["status"], f"{student}: {row}"
        assert (row["auto_total"], row[f"{NOTEBOOK}_auto"], row["auto_max"]) == ("", "", str(AUTO_POINTS)), row
    assert graded["rows"]["victim-correct"]["status"] == "ok"


@needs_sandbox
def test_feedback_runs_no_script_and_loads_nothing(graded):
    page = feedback_page(graded, "attack-script").read_text(encoding="utf-8")
    assert "pwned-html" in page, "the attack's code is not in the page: this test would prove nothing"
    soup = BeautifulSoup(page, "html.parser")
    assert soup.find_all(["script", "iframe", "object", "embed", "base", "link"]) == []
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), f"<{tag.name} {name}=...>"
            if name in ("href", "src"):
                text = " ".join(value) if isinstance(value, list) else value
                assert not text.lower().startswith(("javascript:", "http:", "https:")) or name == "href", \
                    f"<{tag.name} {name}={text!r}> loads something"
                assert not text.lower().replace(" ", "").startswith("javascript:"), text
    policy = soup.head.contents[0]
    assert policy.name == "meta" and policy["http-equiv"].lower() == "content-security-policy"
    assert "default-src 'none'" in policy["content"] and "script-src 'none'" in policy["content"]


def graded_attackers():
    """Attackers that were graded (so have a feedback page)."""
    return [student for student, (points, _) in ATTACKS.items() if points is not None]


@needs_sandbox
def test_a_huge_output_is_cut_in_the_notebook_and_the_feedback(graded):
    page = feedback_page(graded, "attack-bigoutput")
    notebook = graded["work"] / "grading" / "autograded" / "attack-bigoutput" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert page.stat().st_size < 3_000_000, page.stat().st_size
    assert notebook.stat().st_size < 3_000_000, notebook.stat().st_size
    assert "[output cut: 200.0 MB printed" in page.read_text(encoding="utf-8")


def feedback_page(graded, student):
    return graded["work"] / "grading" / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html"


def test_a_kernel_that_ignores_interrupts_costs_only_its_own_grade(graded):
    row = graded["rows"]["ignores_interrupts"]
    assert row["status"].startswith(f"error: a cell went on running after being interrupted at the {CELL_TIMEOUT} s"), row
    assert row["auto_total"] == ""
    assert float(row["seconds"]) < 60, row
    assert "logs/ignores_interrupts.log" in row["status"]


def test_a_zipped_submission_is_graded_like_a_folder(graded):
    assert graded["rows"]["zipped"]["status"] == "ok"
    assert float(graded["rows"]["zipped"]["auto_total"]) == 0


def test_written_answers_wait_for_manual_grading(graded):
    correct, untouched = graded["rows"]["correct"], graded["rows"]["untouched"]
    # Three answers await a grade by hand: their points are not known yet, so not 0.
    manual = ("manual_pending", f"{NOTEBOOK}_manual", "manual_total")
    assert tuple(correct[c] for c in manual) == ("3", "", ""), correct
    # Unanswered: nbgrader scores them 0 at once, with nothing to grade.
    assert tuple(untouched[c] for c in manual) == ("0", "0", "0"), untouched


def test_grade_exits_one_and_reports_each_student(graded):
    # 1: one submission (ignores_interrupts) could not be graded, and the exit status says so.
    assert graded["result"].returncode == 1, graded["result"].stdout + graded["result"].stderr
    for student in EXPECTED:
        assert student in graded["result"].stdout


def test_submissions_are_byte_identical_after_grading(graded):
    assert graded["before"] == graded["after"]
    assert len(graded["before"]) > 9 * 10


def test_the_thief_read_nothing_and_left_the_gradebook_alone(graded):
    if not sandbox_available():
        pytest.skip("the sandbox needs root on Linux")
    feedback = (graded["work"] / "grading" / "feedback" / "reads_solutions" / ASSIGNMENT / f"{NOTEBOOK}.html")
    text = visible_text(feedback.read_text(encoding="utf-8"))
    assert "THIEF FOUND: nothing" in text


def visible_text(page):
    """An HTML page's text: tags and ANSI codes removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"\x1b\[[0-9;]*m", "", page)))


def test_feedback_holds_no_hidden_test_text(graded):
    nb = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    hidden = [line for cell in nb.cells for line in hidden_test_lines(cell.source)]
    assert hidden, "notebook 06 has no hidden tests: this test would prove nothing"
    pages = sorted((graded["work"] / "grading" / "feedback").rglob("*"))
    files = [p for p in pages if p.is_file()]
    # One page per graded student: EXPECTED, the attackers and the zipped one (ignores_interrupts has none).
    expected_pages = len(EXPECTED) + 1 + (len(graded_attackers()) if sandbox_available() else 0)
    assert len(files) == expected_pages and all(p.suffix == ".html" for p in files), files
    for page in files:
        text = visible_text(page.read_text(encoding="utf-8"))
        flat = re.sub(r"\s+", "", text)
        for line in hidden:
            assert re.sub(r"\s+", "", line) not in flat, f"{page}: shows hidden test line {line!r}"


def test_the_infinite_loop_was_stopped_by_the_cell_timeout(graded):
    seconds = float(graded["rows"]["infinite_loop"]["seconds"])
    feedback = graded["work"] / "grading" / "feedback" / "infinite_loop" / ASSIGNMENT / f"{NOTEBOOK}.html"
    assert "KeyboardInterrupt" in visible_text(feedback.read_text(encoding="utf-8")) \
        or "CellTimeoutError" in feedback.read_text(encoding="utf-8")
    assert seconds < 60, f"took {seconds} s: the {CELL_TIMEOUT} s cell timeout did not stop it"


def test_release_info_names_the_library_file_students_edit(graded):
    info = json.loads((graded["work"] / "grading" / f"cs231n-release-{ASSIGNMENT}.json").read_text())
    assert "cs231n_lib/layers.py" in info["student_files"]


HONEST = ("correct", "victim-correct", "untouched", "raises", "warns", "deletes_test", "edits_test")


def test_honest_submissions_are_not_flagged_for_review(graded):
    for student in HONEST:
        assert graded["rows"][student]["review"] == "", graded["rows"][student]


@needs_sandbox
@pytest.mark.parametrize("student, words", [
    ("reads_solutions", "assigns layers.dropout_forward"),
    ("attack-hiddenprint", "events"),
])
def test_answers_that_patch_the_grading_are_flagged_for_review(graded, student, words):
    assert words in graded["rows"][student]["review"], graded["rows"][student]
