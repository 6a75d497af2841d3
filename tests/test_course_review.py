"""grade's review column: code a student wrote that reaches for the grading machinery is listed,
with a reason; the course's own model solutions are not."""

import importlib
import inspect
from pathlib import Path

import nbformat
import pytest

from cs231n_course import review
from cs231n_course.review import (
    review_submission,
    suspicious_answer_cells,
    suspicious_library_lines,
    suspicious_notebook_cells,
)
from cs231n_course.review_patterns import FAST_NAMES, HELPER_NAMES
from cs231n_course.solutions import solution_regions, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
SETUP = """%load_ext autoreload
%autoreload 2
import numpy as np
from cs231n_lib.checks.dropout import check_conventions, check_dropout_forward
from cs231n_lib.fast_layers import conv_forward_fast
from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.solver import Solver
"""


def answer(source, grade_id="06-conventions-answer"):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata.nbgrader = {"solution": True, "grade": False, "locked": False, "grade_id": grade_id,
                              "schema_version": 3}
    return cell


def locked(source, grade_id):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata.nbgrader = {"solution": False, "grade": False, "locked": True, "grade_id": grade_id,
                              "schema_version": 3}
    return cell


def write(folder, name, cells):
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nbformat.write(nb, folder / f"{name}.ipynb")


def flags_for(tmp_path, source):
    """The review entries for a notebook with the usual setup cell and one answer cell holding source."""
    write(tmp_path, "06_dropout", [locked(SETUP, "06-setup"), answer(source)])
    return suspicious_answer_cells(tmp_path)


def assert_one_flag(flagged, start, reason):
    assert len(flagged) == 1, flagged
    assert flagged[0].startswith(start + " ("), flagged
    assert reason in flagged[0], f"{reason!r} is not in {flagged[0]!r}"


ATTACKS = [
    # module attributes, numpy included
    ("np.allclose = lambda *a, **k: True", "assigns np.allclose"),
    ("import numpy\nnumpy.testing.assert_allclose = lambda *a, **k: None", "assigns numpy.testing.assert_allclose"),
    ("m = np.testing\nm.assert_allclose = print", "assigns m.assert_allclose"),
    ("del np.allclose", "deletes np.allclose"),
    ("for m in [np]:\n    m.allclose = print", "passes the module np around as a value"),
    ("[np][0].allclose = print", "assigns part of a computed object ([np][0].allclose)"),
    ("Solver.train = lambda self: None", "assigns Solver.train"),
    # names built from strings
    ("g = globals()\ng['check' + '_dropout'] = lambda *a: None", "writes g['check' + '_dropout']"),
    ("globals()['check_' + 'conventions'] = print", "writes globals()['check_' + 'conventions']"),
    ("vars(np)['allclose'] = print", "writes vars()['allclose']"),
    ("import cs231n_lib.checks.dropout as mod\nf = getattr(mod, 'che' + 'ck_x')",
     "calls getattr with a computed name ('che' + 'ck_x')"),
    ("setattr(checks, 'check_conventions', print)", "calls setattr"),
    ("object.__setattr__(np, 'allclose', print)", "uses object.__setattr__"),
    # the checks themselves
    ("check_conventions = lambda *a: None", "rebinds check_conventions"),
    ("def check_dropout_forward(*args):\n    pass", "rebinds check_dropout_forward"),
    ("import cs231n_lib.checks.dropout as d\nd.check_dropout_forward = print", "assigns d.check_dropout_forward"),
    ("import cs231n_lib.checks", "imports cs231n_lib.checks"),
    ("from cs231n_lib import checks", "imports checks from cs231n_lib"),
    ("check_conventions.__code__ = (lambda *a: None).__code__", "uses check_conventions.__code__"),
    ("all = lambda *args: True", "rebinds all"),
    ("np = None", "rebinds np"),
    # IPython hooks
    ("get_ipython().ast_transformers.append(SwallowErrors())", "uses the IPython hook get_ipython().ast_transformers"),
    ("ip = get_ipython()\nip.events.register('pre_run_cell', f)", "uses the IPython hook ip.events"),
    ("get_ipython().input_transformers_post.append(f)", "uses the IPython hook get_ipython().input_transformers_post"),
    ("get_ipython().set_custom_exc((AssertionError,), handler)", "uses the IPython hook get_ipython().set_custom_exc"),
    ("In.append('alexnet_size = 55')", "uses In, IPython's input history"),
    ("del _ih[1:]", "uses _ih, IPython's input history"),
    ("get_ipython().history_manager.reset()", "uses the IPython hook get_ipython().history_manager"),
    ("%load_ext my_extension", "runs the magic %load_ext"),
    ("!cp my_checks.py cs231n_lib/checks/dropout.py", "runs a shell command (!cp my_checks.py"),
    ("%time np.allclose = print", "assigns np.allclose"),
    ("%%capture\nnp.allclose = print", "assigns np.allclose"),
    (";exec np.allclose = print", "calls exec"),
    # running text as code, reaching under the language
    ("exec(payload)", "calls exec"),
    ("eval(payload)", "calls eval"),
    ("run = compile(payload, 'x', 'exec')", "calls compile"),
    ("import base64\npayload = base64.b64decode('bnAuYWxsY2xvc2UgPSBwcmludA==')", "imports base64"),
    ("from base64 import b64decode", "imports b64decode from base64"),
    ("np2 = __import__('numpy')", "calls __import__"),
    ("import importlib\nimportlib.reload(np)", "imports importlib"),
    ("import ctypes", "imports ctypes"),
    ("import gc\nchecks = gc.get_referrers(check_conventions)", "imports gc"),
    ("import inspect\nframe = inspect.currentframe()", "imports inspect"),
    ("import sys\nsys.modules['cs231n_lib.checks.dropout'] = fake", "uses sys.modules"),
    ("from sys import modules", "imports modules from sys"),
    ("import builtins\nbuiltins.AssertionError = Exception", "imports builtins"),
    ("__builtins__.all = lambda *a: True", "uses __builtins__"),
    ("x = ().__class__.__base__", "uses ().__class__"),
    ("g = check_conventions.__globals__", "uses check_conventions.__globals__"),
    ("check_conventions.__dict__['calls'] = 0", "uses check_conventions.__dict__"),
    ("import sys\nf = sys._getframe(0).f_globals", "uses sys._getframe"),
    # shipped alternatives inside an exercise
    ("from cs231n_lib.fast_layers import conv_forward_fast, max_pool_forward_fast",
     "imports conv_forward_fast, max_pool_forward_fast from cs231n_lib.fast_layers (a shipped alternative)"),
    ("import cs231n_lib.gradient_check", "imports cs231n_lib.gradient_check (a shipped alternative)"),
    ("from cs231n_lib.solver import Solver", "imports Solver from cs231n_lib.solver (a shipped alternative)"),
    ("def im2col_shape(x_shape, w_shape, stride, pad):\n    out, _ = conv_forward_fast(x, w, b, p)\n"
     "    return out.shape", "uses conv_forward_fast (a shipped alternative)"),
    ("def numerical_gradient(f, x, h=1e-5):\n    return eval_numerical_gradient(f, x, h=h)",
     "uses eval_numerical_gradient inside a function (a shipped alternative)"),
    ("numerical_gradient = eval_numerical_gradient",
     "uses eval_numerical_gradient as a value (a shipped alternative)"),
    ("def train_by_hand(model, X, y, **kwargs):\n    return Solver(model, {'X_train': X}).train()",
     "uses Solver inside a function (a shipped alternative)"),
]


@pytest.mark.parametrize("source, reason", ATTACKS, ids=[reason for _, reason in ATTACKS])
def test_an_answer_cell_that_reaches_for_the_grading_machinery_is_flagged_with_its_reason(tmp_path, source, reason):
    assert_one_flag(flags_for(tmp_path, source), "06_dropout:06-conventions-answer", reason)


def test_the_entry_names_the_notebook_the_cell_and_each_reason_once(tmp_path):
    flagged = flags_for(tmp_path, "np.allclose = lambda *a, **k: True\nnp.allclose = print\nexec('1')")
    assert flagged == ["06_dropout:06-conventions-answer (assigns np.allclose; calls exec)"]


def test_a_cell_that_does_not_parse_is_still_searched_as_text(tmp_path):
    source = "np.allclose = lambda *a: True\nexec(payload\nthis is not python ("
    flagged = flags_for(tmp_path, source)
    assert_one_flag(flagged, "06_dropout:06-conventions-answer", "assigns np.allclose [code does not parse]")
    assert "calls exec [code does not parse]" in flagged[0]


@pytest.mark.parametrize("source, reason", [
    ("import cs231n_lib.checks.dropout as d\nd.check_dropout_forward = print\n)", "uses cs231n_lib.checks"),
    ("get_ipython().ast_transformers.append(T()) +", "uses get_ipython"),
    ("import base64, os\nbad syntax", "imports base64"),
    ("from cs231n_lib.fast_layers import conv_forward_fast\n(", "imports cs231n_lib.fast_layers"),
    ("def check_conventions(*a):\n  pass\n)", "rebinds check_conventions"),
    ("In.append('p_library = 0.2') +", "uses In, IPython's input history"),
])
def test_the_text_search_finds_the_same_kinds_of_thing(tmp_path, source, reason):
    assert_one_flag(flags_for(tmp_path, source), "06_dropout:06-conventions-answer", reason)


def test_honest_answers_check_cells_and_plain_attribute_writes_are_not_flagged(tmp_path):
    honest = answer("p_library = 0.5\nkept_scale = 1 / (1 - p_library)\nexpected_dropped = 50", "06-a")
    objects = answer(
        "class Net:\n"
        "    def __init__(self):\n"
        "        self.params = {}\n"
        "        self.params['W1'] = np.zeros((3, 4))\n"
        "        self.x = np.random.default_rng(0).random((2, 2))\n"
        "def step(w, dw, config):\n"
        "    config.setdefault('learning_rate', 1e-2)\n"
        "    v = config.get('velocity', np.zeros_like(w))\n"
        "    config['velocity'] = v\n"
        "    cache = (w, dw)\n"
        "    return w - v, config\n"
        "solver = Solver(Net(), {}, update_rule='sgd')\n"
        "error = rel_error(eval_numerical_gradient(lambda _: 0.0, np.ones(3)), np.zeros(3))\n"
        "%time total = np.sum(np.pad(np.ones((2, 2)), 1))",
        "06-b")
    check = nbformat.v4.new_code_cell("check_conventions(p_library, kept_scale, expected_dropped)")
    check.metadata.nbgrader = {"grade": True, "solution": False, "locked": True, "points": 1,
                               "grade_id": "06-check", "schema_version": 3}
    write(tmp_path, "06_dropout", [locked(SETUP, "06-setup"), honest, objects, check])
    assert suspicious_answer_cells(tmp_path) == []


def test_the_model_solutions_of_every_notebook_answer_cell_are_not_flagged():
    notebooks = ROOT / "notebooks"
    answers = [cell for path in notebooks.glob("*.ipynb") for cell in nbformat.read(path, as_version=4).cells
               if cell.cell_type == "code" and review.is_answer(cell)]
    assert len(answers) >= 15  # the scan below really read the course's answer cells
    assert suspicious_answer_cells(notebooks) == []
    assert suspicious_notebook_cells(notebooks, release_folder=notebooks) == []


def library_files_with_solutions():
    return sorted(path for path in (ROOT / "cs231n_lib").rglob("*.py")
                  if solution_regions(path.read_text(encoding="utf-8"), str(path)))


def test_the_model_solutions_of_every_library_region_are_not_flagged(tmp_path):
    files = library_files_with_solutions()
    assert {p.name for p in files} >= {"layers.py", "optim.py"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        (tmp_path / "released.py").write_text(strip_solutions(text, str(path)), encoding="utf-8")
        (tmp_path / "student.py").write_text(text, encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        assert suspicious_library_lines(tmp_path / "student.py", tmp_path / "released.py", name) == [], name


# --- library files: only the lines the student wrote are read -----------------------------------

def student_layers(tmp_path, replace, by):
    """(student file, released file, text) for layers.py with the dropout solution line ``replace``
    rewritten as ``by`` (as a student would have written it in place of the stub)."""
    instructor = (ROOT / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
    assert instructor.count(replace) == 1
    student = "".join(line for line in instructor.replace(replace, by).splitlines(keepends=True)
                      if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    # a student's copy: the markers are gone, the answer stands where the stub was
    released = tmp_path / "released.py"
    released.write_text(strip_solutions(instructor), encoding="utf-8")
    path = tmp_path / "student.py"
    path.write_text(student, encoding="utf-8")
    return path, released, student


def line_of(text, fragment):
    """The number of the first line of ``text`` that starts with ``fragment`` (indentation aside)."""
    return next(number for number, line in enumerate(text.splitlines(), 1) if line.strip().startswith(fragment))


@pytest.mark.parametrize("attack, reason", [
    ("import numpy\n    numpy.testing.assert_allclose = lambda *a, **k: None",
     "assigns numpy.testing.assert_allclose"),
    ("import cs231n_lib.checks.dropout as d\n    d.check_forward = lambda *a: None", "imports cs231n_lib.checks.dropout"),
    ("import cs231n_lib.checks.dropout as d\n    d.check_forward = lambda *a: None", "assigns d.check_forward"),
    ("np.allclose = lambda *a, **k: True", "assigns np.allclose"),
    ("get_ipython().events.register('pre_run_cell', f)", "uses the IPython hook get_ipython().events"),
    ("exec(open('patch.py').read())", "calls exec"),
    ("from cs231n_lib.fast_layers import conv_forward_fast", "imports conv_forward_fast from cs231n_lib.fast_layers"),
    ("from .gradient_check import eval_numerical_gradient", "imports eval_numerical_gradient from cs231n_lib.gradient_check"),
    ("from . import solver", "imports solver from cs231n_lib (a shipped alternative)"),
    ("getattr(np, 'all' + 'close')", "calls getattr with a computed name ('all' + 'close')"),
])
def test_a_library_answer_that_patches_from_inside_the_library_is_flagged_on_its_line(tmp_path, attack, reason):
    path, released, text = student_layers(tmp_path, "    out = x * mask\n", f"    {attack}\n    out = x * mask\n")
    flagged = suspicious_library_lines(path, released, "cs231n_lib/layers.py")
    lines = {line_of(text, line.strip()) for line in attack.splitlines()}
    assert any(reason in entry and int(entry.split(":")[1].split(" ")[0]) in lines for entry in flagged), flagged


def test_a_library_patch_is_reported_as_the_issue_shows_it(tmp_path):
    path, released, text = student_layers(
        tmp_path, "    out = x * mask\n",
        "    out = x * mask\n    numpy.testing.assert_allclose = lambda *a, **k: None\n")
    line = line_of(text, "numpy.testing.assert_allclose =")
    assert suspicious_library_lines(path, released, "cs231n_lib/layers.py") == [
        f"cs231n_lib/layers.py:{line} (assigns numpy.testing.assert_allclose)"]


def test_the_fast_layers_inside_a_library_exercise_are_flagged_even_when_only_called(tmp_path):
    instructor = (ROOT / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
    path, released, text = student_layers(
        tmp_path, "    out = x * mask\n",
        "    from cs231n_lib.layer_utils import conv_relu_forward\n    out = conv_relu_forward(x, mask, 0, {})[0]\n")
    flagged = suspicious_library_lines(path, released, "cs231n_lib/layers.py")
    assert f"cs231n_lib/layers.py:{line_of(text, 'out = conv_relu_forward')} " \
           "(uses conv_relu_forward (a shipped alternative))" in flagged
    assert "import" not in instructor.split("def dropout_forward")[1].split("def dropout_backward")[0]


def test_suspicious_code_the_release_already_holds_is_not_the_students(tmp_path):
    released = "import inspect\n\n\ndef f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    student = "import inspect\n\n\ndef f(x):\n    return x + 1\n"
    (tmp_path / "r.py").write_text(released)
    (tmp_path / "s.py").write_text(student)
    assert suspicious_library_lines(tmp_path / "s.py", tmp_path / "r.py", "cs231n_lib/f.py") == []
    (tmp_path / "s.py").write_text(student.replace("x + 1", "inspect.currentframe().f_back"))
    assert suspicious_library_lines(tmp_path / "s.py", tmp_path / "r.py", "cs231n_lib/f.py") == [
        "cs231n_lib/f.py:5 (uses inspect.currentframe().f_back)"]


def test_a_missing_student_file_gives_nothing_and_an_oversized_one_says_its_size(tmp_path):
    assert suspicious_library_lines(tmp_path / "none.py", tmp_path / "none.py", "cs231n_lib/layers.py") == []
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * (review.MAX_LIBRARY_BYTES // 6 + 1))
    size = big.stat().st_size
    assert suspicious_library_lines(big, tmp_path / "none.py", "cs231n_lib/layers.py") == [
        f"cs231n_lib/layers.py (not reviewed: {size} bytes is over the {review.MAX_LIBRARY_BYTES} byte limit)"]


# --- one submission: notebooks, edited cells and library files together -------------------------

def test_review_submission_combines_answer_cells_edited_cells_and_library_lines(tmp_path):
    release, graded = tmp_path / "release", tmp_path / "graded"
    demo = "out, _ = conv_forward_fast(x, w, b, {'stride': 1, 'pad': 0})"
    write(release, "06_dropout", [locked(SETUP, "06-setup"), nbformat.v4.new_code_cell(demo),
                                  answer("p_library = None")])
    write(graded, "06_dropout", [locked(SETUP, "06-setup"), nbformat.v4.new_code_cell(demo),
                                 answer("p_library = 0.2\nnp.allclose = print"),
                                 nbformat.v4.new_code_cell("ip = get_ipython()"),
                                 nbformat.v4.new_code_cell(demo + "\nprint(out.shape)")])
    instructor = (ROOT / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
    student = strip_solutions(instructor).replace(
        "raise NotImplementedError()", "import gc  # noqa\n    raise NotImplementedError()", 1)
    for folder, text in ((release, strip_solutions(instructor)), (graded, student)):
        (folder / "cs231n_lib").mkdir()
        (folder / "cs231n_lib" / "layers.py").write_text(text, encoding="utf-8")
    line = line_of(student, "import gc")
    assert review_submission(graded, release, ["cs231n_lib/layers.py", "cs231n_lib/optim.py"]) == [
        "06_dropout:06-conventions-answer (assigns np.allclose)",
        "06_dropout:cell3 (edited or added cell: calls get_ipython())",
        f"cs231n_lib/layers.py:{line} (imports gc)",
    ]


@pytest.mark.parametrize("files, error, message", [
    ("cs231n_lib/layers.py", TypeError, "must be a list of relative paths (str), got 'cs231n_lib/layers.py'"),
    ([3], TypeError, "got [3]"),
    (["/etc/passwd"], ValueError, "student file '/etc/passwd' is not a relative path inside the assignment"),
    (["../other/cs231n_lib/layers.py"], ValueError, "'../other/cs231n_lib/layers.py' is not a relative path"),
])
def test_review_submission_refuses_student_files_outside_the_assignment(tmp_path, files, error, message):
    with pytest.raises(error) as raised:
        review_submission(tmp_path, tmp_path, files)
    assert message in str(raised.value)


def test_a_hostile_grade_id_cannot_break_the_line_or_the_csv_field(tmp_path):
    write(tmp_path, "06_dropout", [answer("exec(x)", grade_id="a,b\nREVIEW ok \x1b[2J" + "x" * 200)])
    (entry,) = suspicious_answer_cells(tmp_path)
    grade_id = entry.split(":", 1)[1].split(" (")[0]
    assert grade_id.startswith("a_b_REVIEW_ok__") and len(grade_id) == 80
    assert entry.endswith("(calls exec)") and "\n" not in entry and "," not in entry


def test_odd_metadata_does_not_crash_the_scan_and_the_release_still_catches_the_cell(tmp_path):
    release, graded = tmp_path / "release", tmp_path / "graded"
    write(release, "06_dropout", [answer("p_library = None")])
    write(graded, "06_dropout", [answer("exec(x)")])
    path = graded / "06_dropout.ipynb"
    path.write_text(path.read_text().replace('"nbgrader": {', '"nbgrader": "solution", "was": {'))
    assert suspicious_answer_cells(graded) == []  # no longer marked as an answer cell
    assert suspicious_notebook_cells(graded, release) == ["06_dropout:cell0 (edited or added cell: calls exec)"]
    (graded / "broken.ipynb").write_text("{not json")
    assert suspicious_notebook_cells(graded, release) == ["06_dropout:cell0 (edited or added cell: calls exec)"]


# --- the rule set and the module's promise --------------------------------------------------------

@pytest.mark.parametrize("module, names, exempt", [
    ("cs231n_lib.fast_layers", FAST_NAMES, {"Workspace", "release_buffers"}),
    ("cs231n_lib.layer_utils", FAST_NAMES, set()),
    ("cs231n_lib.gradient_check", HELPER_NAMES, {"rel_error"}),
    ("cs231n_lib.solver", HELPER_NAMES, {"TrainingDiverged"}),
])
def test_every_public_function_of_a_shipped_alternative_is_known(module, names, exempt):
    loaded = importlib.import_module(module)
    public = {name for name, value in vars(loaded).items()
              if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
              and value.__module__ == module}
    assert public - exempt <= names, f"add {sorted(public - exempt - names)} to review_patterns"


def test_the_module_says_plainly_that_flags_are_for_a_human_not_a_verdict():
    text = " ".join(review.__doc__.split())
    assert "Code running in the kernel can defeat any in-kernel check" in text
    assert "A flag is a pointer for a human to read that code, not a verdict" in text
