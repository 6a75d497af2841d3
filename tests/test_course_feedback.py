"""Tests for cs231n_course.feedback: capped outputs, hidden test lines redacted, a safe page.

Oracles, each independent of the code under test:
- CapOutputs: byte counts worked out by hand (ASCII lines of 100 bytes, "é" = 2 bytes,
  "😀" = 4 bytes), and nbgrader's own ``determine_grade`` run on the cell before and
  after (the score must not change).
- RedactHiddenOutputs: every output is read back as a student would see it (ANSI
  escapes stripped by a regex written here, HTML unescaped by ``html.unescape``) and
  searched for every hidden line; the escapers a kernel library really uses
  (html.escape, markupsafe, xml.sax.saxutils) make the HTML outputs.
- secure_html: the page is re-read with the standard library's ``html.parser`` (not
  BeautifulSoup, which the sanitizer uses) and every tag, attribute and comment checked;
  attacks are the usual XSS cheat-sheet vectors. An optional check loads the pages in
  headless Chromium (skipped when it is not installed).
- Formulas: the MathML is read back with BeautifulSoup and compared with what the TeX
  means, counted by hand ($[0, 1]$: two numbers; a 2x2 matrix: 2 rows, 4 cells); the
  elements allowed are MathML Core's, listed here from the specification; every formula
  the markdown parser finds in notebooks/*.ipynb must convert with nothing dropped.
- Paths: a real folder made with grade.py's SCRATCH_PREFIX, an IPython traceback line
  as the sandbox writes it, and texts that look like paths but are not in the assignment.
"""

import base64
import copy
import html
import re
import shutil
import subprocess
import sysconfig
import tempfile
import xml.sax.saxutils
from html.parser import HTMLParser
from pathlib import Path

import markupsafe
import nbgrader
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import MarkdownWithMath
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.utils import determine_grade
from traitlets import TraitError
from traitlets.config import Config

from cs231n_course.feedback import (
    FEEDBACK_CSP,
    KEPT_FOR_GRADING,
    MIN_HIDDEN_LINE,
    CapOutputs,
    RedactHiddenOutputs,
    SecureFeedbackExporter,
    path_rewriter,
    secure_feedback_folder,
    secure_html,
)
from cs231n_course.feedback_math import (
    MATHML_ATTRIBUTES,
    Formulas,
    MathMLRenderer,
    mathml_tree,
)
from cs231n_course.grade import SCRATCH_PREFIX
from cs231n_course.preprocessors import (
    HIDDEN_MARKERS,
    RedactHiddenTracebacks,
    StrictClearHiddenTests,
)

# Written here, wider than the module's: any CSI sequence (ECMA-48), as a terminal reads it.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def nbgrader_meta(grade_id, solution=False, grade=False, locked=False, points=None):
    meta = {"solution": solution, "grade": grade, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def check_cell(source="assert True", outputs=(), points=2):
    cell = new_code_cell(source, metadata=nbgrader_meta("check", grade=True, locked=True, points=points))
    cell.outputs = list(outputs)
    return cell


def utf8_size(text):
    return len(text.encode("utf-8"))


def stdout(text):
    return new_output("stream", name="stdout", text=text)


def capped(outputs, max_bytes):
    """The outputs of a plain code cell after CapOutputs."""
    cell = new_code_cell("print(...)")
    cell.outputs = outputs
    cell, _ = CapOutputs(max_bytes=max_bytes).preprocess_cell(cell, {}, 0)
    return cell.outputs


def notes(outputs):
    return [o for o in outputs if o.output_type == "stream" and o.text.lstrip().startswith("[output cut:")]


def the_note(outputs):
    found = notes(outputs)
    assert len(found) == 1, outputs
    return found[0].text


# --- CapOutputs ------------------------------------------------------------------------------

LINE = "x" * 99 + "\n"            # 100 bytes
HUGE = LINE * 50_000              # 5 000 000 bytes: "5.0 MB"


def test_a_huge_stream_is_cut_to_max_bytes_plus_one_note_saying_what_was_printed_and_the_limit():
    outputs = capped([stdout(HUGE)], 10_000)
    assert [o.output_type for o in outputs] == ["stream", "stream"]
    assert outputs[0].text == LINE * 100                  # exactly 10 000 bytes: 100 whole lines
    note = the_note(outputs)
    assert "5.0 MB printed" in note                       # 5 000 000 bytes
    assert "10 kB per cell" in note                       # the limit, 10 000 bytes


def test_a_stream_is_cut_after_its_last_whole_line_that_fits():
    outputs = capped([stdout(HUGE)], 10_050)
    assert outputs[0].text == LINE * 100                  # line 101 would end at byte 10 100 > 10 050


def test_a_single_huge_line_is_cut_at_max_bytes_exactly():
    outputs = capped([stdout("y" * 5_000_000)], 10_000)
    assert outputs[0].text == "y" * 10_000
    assert "5.0 MB printed" in the_note(outputs)


def test_several_outputs_keep_what_fits_in_order_and_the_note_follows_the_first_cut():
    outputs = capped([stdout("a" * 400), stdout("b" * 400), stdout("c" * 400), stdout("d" * 10)], 1_000)
    texts = [o.text for o in outputs]
    assert texts[:3] == ["a" * 400, "b" * 400, "c" * 200]  # 400 + 400 + 200 = 1 000; "d" has no room
    assert len(outputs) == 4 and notes(outputs) == [outputs[3]]
    assert "1.2 kB printed" in outputs[3].text            # 1 210 bytes


def test_an_image_over_the_budget_is_dropped_and_named_in_the_note():
    image = new_output("display_data", data={"image/png": "iVBORw0KGgo" + "A" * 5_000, "text/plain": "<Figure>"})
    outputs = capped([stdout("a" * 900), image, stdout("z" * 50)], 1_000)
    assert [o.output_type for o in outputs] == ["stream", "stream", "stream"]
    assert outputs[0].text == "a" * 900
    note = the_note(outputs)
    assert "1 output (image/png) dropped" in note
    assert outputs[2].text == "z" * 50                    # later small outputs still fit: 900 + 50


def test_two_images_dropped_are_counted_as_two_outputs():
    images = [new_output("display_data", data={"image/png": "A" * 3_000, "text/plain": "<Figure>"}) for _ in range(2)]
    note = the_note(capped([stdout("a" * 900), *images], 1_000))
    assert "2 outputs (image/png) dropped" in note


def test_an_error_is_kept_shortened_so_the_check_still_fails():
    failure = new_output("error", ename="AssertionError", evalue="expected 42, got " + "9" * 1_000_000, traceback=[
        "\x1b[31m---------------------------------------------------------------------------\x1b[39m",
        "\x1b[31mAssertionError\x1b[39m                            Traceback (most recent call last)",
        "Cell In[3], line 2\n      1 x = f()\n----> 2 assert x == 42, f'expected 42, got {x}'\n",
        "AssertionError: expected 42, got " + "9" * 1_000_000,
    ])
    cell = check_cell(outputs=[stdout(HUGE), failure])
    assert determine_grade(cell) == (0, 2)
    cell, _ = CapOutputs(max_bytes=1_000).preprocess_cell(cell, {}, 0)
    kept = [o for o in cell.outputs if o.output_type == "error"]
    assert len(kept) == 1
    assert determine_grade(cell) == (0, 2)
    size = utf8_size(kept[0].evalue) + sum(utf8_size(entry) for entry in kept[0].traceback)
    assert size <= 2 * KEPT_FOR_GRADING + 100             # evalue and traceback: KEPT_FOR_GRADING each
    assert kept[0].evalue.startswith("expected 42, got 999")
    assert "----> 2 assert x == 42" in "".join(kept[0].traceback)   # a short frame is kept whole


def test_an_error_with_thousands_of_traceback_entries_is_bounded_and_keeps_the_last_ones():
    entries = [f"frame {i}: " + "f" * 140 for i in range(10_000)] + ["RecursionError: too deep"]
    failure = new_output("error", ename="RecursionError", evalue="too deep", traceback=entries)
    outputs = capped([stdout(HUGE), failure], 1_000)
    kept = next(o for o in outputs if o.output_type == "error")
    assert sum(utf8_size(entry) for entry in kept.traceback) <= KEPT_FOR_GRADING + 100
    assert kept.traceback[-1] == "RecursionError: too deep"
    marker = re.fullmatch(r"\[(\d+) traceback entries cut\]", kept.traceback[0])
    assert marker, kept.traceback[0]
    assert int(marker.group(1)) + len(kept.traceback) - 1 == len(entries)
    assert kept.traceback[1:-1] == [entry[:200] for entry in entries[-(len(kept.traceback) - 1):-1]]


def test_stderr_keeps_at_least_kept_for_grading_bytes_so_the_check_still_fails():
    cell = check_cell(outputs=[stdout("o" * 5_000), new_output("stream", name="stderr", text="e" * 5_000)])
    assert determine_grade(cell) == (0, 2)
    cell, _ = CapOutputs(max_bytes=1_000).preprocess_cell(cell, {}, 0)
    stderr = [o for o in cell.outputs if o.get("name") == "stderr"]
    assert [o.text for o in stderr] == ["e" * KEPT_FOR_GRADING]
    assert determine_grade(cell) == (0, 2)


def test_an_execute_result_is_kept_as_text_plain_so_the_partial_grade_does_not_change():
    result = new_output("execute_result", execution_count=3,
                        data={"text/plain": "0.5", "text/html": "<b>half</b>" * 1_000}, metadata={"a": "b" * 100})
    cell = check_cell(outputs=[stdout(HUGE), result])
    before = determine_grade(copy.deepcopy(cell))
    assert before == (0.5, 2)                 # nbgrader: a number as the result is the score
    cell, _ = CapOutputs(max_bytes=1_000).preprocess_cell(cell, {}, 0)
    results = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(results) == 1 and dict(results[0].data) == {"text/plain": "0.5"}
    assert determine_grade(cell) == before
    note = the_note(cell.outputs)
    assert "text/html" in note and "dropped" not in note.replace("text/html dropped", "")   # the result was kept


def payload_bytes(output):
    """UTF-8 bytes of every string an output carries (type and stream name aside)."""
    def size(value):
        if isinstance(value, str):
            return utf8_size(value)
        if isinstance(value, dict):
            return sum(size(item) for item in value.values())
        if isinstance(value, list):
            return sum(size(item) for item in value)
        return 0
    return size({key: value for key, value in output.items() if key not in ("output_type", "name")})


def stderr(text):
    return new_output("stream", name="stderr", text=text)


def error(evalue="boom"):
    return new_output("error", ename="ValueError", evalue=evalue, traceback=[f"ValueError: {evalue}"])


def result(text):
    return new_output("execute_result", execution_count=1, data={"text/plain": text})


MANY_DECIDING = {
    # A cell that writes and flushes stderr in a loop, or sends raw error/result messages.
    "1000-stderr": lambda: [stderr("w" * 3_000) for _ in range(1_000)],
    "500-errors": lambda: [stdout(HUGE)] + [error("e" * 3_000) for _ in range(500)],
    "500-results": lambda: [stdout(HUGE)] + [result("r" * 3_000) for _ in range(500)],
    "result-then-errors": lambda: [stdout(HUGE), result("0.5")] + [error("e" * 3_000) for _ in range(100)],
    "error-then-results": lambda: [stdout(HUGE), error("e" * 3_000)] + [result("1") for _ in range(100)],
    "stdout-then-stderr": lambda: [stdout(HUGE), stderr("w" * 3_000), stderr("v" * 3_000)],
}


@pytest.mark.parametrize("name", MANY_DECIDING)
def test_many_outputs_that_could_decide_the_grade_keep_the_grade_and_the_bound(name):
    """nbgrader scores a cell by its first error, stderr or execute_result: that one is
    kept (KEPT_FOR_GRADING bytes at least), the others share the budget like any output."""
    cell = check_cell(outputs=MANY_DECIDING[name]())
    before = determine_grade(copy.deepcopy(cell))
    cell, _ = CapOutputs(max_bytes=1_000).preprocess_cell(cell, {}, 0)
    assert determine_grade(cell) == before
    kept = [output for output in cell.outputs if output not in notes(cell.outputs)]
    assert sum(payload_bytes(output) for output in kept) <= 1_000 + 2 * KEPT_FOR_GRADING + 100
    assert len(notes(cell.outputs)) == 1


def test_under_the_cap_nothing_changes_not_even_the_objects():
    image = new_output("display_data", data={"image/png": "A" * 400, "text/plain": "<Figure>"})
    failure = new_output("error", ename="E", evalue="v", traceback=["E: v"])
    outputs = [stdout("a" * 100), image, failure]
    snapshot = copy.deepcopy(outputs)
    same = capped(outputs, 1_000)
    assert same is outputs and all(a is b for a, b in zip(same, outputs))
    assert same == snapshot


def test_the_cap_is_per_cell():
    nb = new_notebook(cells=[new_code_cell("a", outputs=[stdout("a" * 900)]),
                             new_code_cell("b", outputs=[stdout("b" * 900)])])
    nb, _ = CapOutputs(max_bytes=1_000).preprocess(nb, {})
    assert [[o.text for o in cell.outputs] for cell in nb.cells] == [["a" * 900], ["b" * 900]]


@pytest.mark.parametrize("char, max_bytes, kept", [
    ("é", 1_001, 500),        # 2 bytes each: 500 fit in 1 000, the 501st would end at 1 002
    ("😀", 10, 2),            # 4 bytes each: 2 fit in 8, the third would end at 12
    ("€", 8, 2),              # 3 bytes each: 2 fit in 6
])
def test_non_ascii_text_is_cut_on_a_character_boundary(char, max_bytes, kept):
    outputs = capped([stdout(char * 1_000)], max_bytes)
    assert outputs[0].text == char * kept
    assert utf8_size(outputs[0].text) <= max_bytes


@pytest.mark.parametrize("value", [0, -5])
def test_max_bytes_below_one_is_refused_with_a_message_naming_the_number(value):
    with pytest.raises(TraitError, match=rf"positive number of bytes, got {value}\b"):
        CapOutputs(max_bytes=value)
    with pytest.raises(TraitError, match=rf"got {value}\b"):
        CapOutputs(config=Config({"CapOutputs": {"max_bytes": value}}))


def test_max_bytes_is_configurable():
    assert CapOutputs(config=Config({"CapOutputs": {"max_bytes": 123}})).max_bytes == 123


# --- RedactHiddenOutputs ---------------------------------------------------------------------

DOUBLE = 'assert abs(secret_total(x) - 41.75) < 1e-6, "hidden: the total"'
SINGLE = "assert layer_name(x) == 'conv', 'hidden: the name'"
COMPARE = "assert np.all(out < 7) and np.all(out > -7) & True"
BARE = "hiddenCheckValue"                 # only base64 letters: it can occur in image data
EIGHT = "ab = 123"                        # 8 characters: long enough to be redacted
SEVEN = "a = 123"                         # 7 characters: too common to bother
HIDDEN = [DOUBLE, SINGLE, COMPARE, BARE, EIGHT]
PUBLIC = "assert total(x) == 3, 'the public check'"
CHECK_SOURCE = "\n".join([PUBLIC, HIDDEN_MARKERS[0], *HIDDEN, SEVEN, HIDDEN_MARKERS[1], "print('visible line')"])
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256))).decode() + BARE + "AAAA"


def colour(line):
    """The line as IPython's traceback prints it: every word and number in its own ANSI colour."""
    return re.sub(r"(\w+)", "\x1b[38;5;28;01m\\1\x1b[39;00m", line)


def visible(value, is_html=False):
    """All the text of an output value as a student sees it (base64 images aside)."""
    if isinstance(value, dict):
        return "\n".join(visible(item, is_html or key == "text/html") for key, item in value.items()
                         if key not in ("image/png", "image/jpeg"))
    if isinstance(value, list):
        return "\n".join(visible(item, is_html) for item in value)
    if not isinstance(value, str):
        return ""
    text = ANSI.sub("", value)
    return html.unescape(text) if is_html else text


def quoting_notebook(escape=html.escape):
    """A check cell with hidden tests, and an answer cell whose outputs quote all of it."""
    hook_print = "\n".join(["visible before", CHECK_SOURCE, "visible after"])    # print(In[-1]) in a hook
    traceback = [
        "\x1b[31m---------------------------------------------------------------------------\x1b[39m",
        "\x1b[31mAssertionError\x1b[39m                            Traceback (most recent call last)",
        "Cell In[4], line 3\n      1 " + colour(PUBLIC) + "\n      2 visible frame line\n"
        + "".join(f"----> {n} " + colour(line) + "\n" for n, line in enumerate(HIDDEN, 3)),
        "\x1b[31mAssertionError\x1b[39m: hidden: the total",
    ]
    answer = new_code_cell("answer = 42", metadata=nbgrader_meta("answer", solution=True))
    answer.outputs = [
        stdout(hook_print),
        new_output("execute_result", execution_count=2, data={
            "text/plain": "<HTML>",
            "text/html": "<pre>" + "\n".join(str(escape(line)) for line in [PUBLIC, *HIDDEN, SEVEN]) + "</pre>",
        }),
        new_output("error", ename="AssertionError", evalue="hidden: the total", traceback=traceback),
        new_output("display_data", data={"text/plain": "repr: " + " | ".join(HIDDEN), "image/png": PNG},
                   metadata={"note": SINGLE}),
    ]
    check = check_cell(CHECK_SOURCE, outputs=[stdout(hook_print)])
    setup = new_code_cell("import numpy as np", metadata=nbgrader_meta("setup", locked=True))
    return new_notebook(cells=[setup, answer, new_markdown_cell("Some prose."), check])


def redacted(nb):
    nb, _ = RedactHiddenOutputs().preprocess(nb, {})
    return nb


def all_visible(nb):
    return [(index, visible(output)) for index, cell in enumerate(nb.cells) for output in cell.get("outputs", [])]


@pytest.mark.parametrize("output", range(4))
def test_each_output_of_the_notebook_quotes_every_hidden_line_before_redaction(output):
    """The oracle sees the leak in each output, so the next tests can fail."""
    text = visible(quoting_notebook().cells[1].outputs[output])
    assert [line for line in HIDDEN if line not in text] == []


@pytest.mark.parametrize("escape", [html.escape, lambda s: html.escape(s, quote=False), markupsafe.escape,
                                    xml.sax.saxutils.escape],
                         ids=["html.escape", "html.escape-quote-false", "markupsafe", "saxutils"])
def test_no_hidden_line_appears_in_any_output_after_redaction(escape):
    nb = redacted(quoting_notebook(escape))
    for index, text in all_visible(nb):
        for line in HIDDEN:
            assert line not in text, f"cell {index} still quotes {line!r}:\n{text}"


def test_text_that_is_not_hidden_survives_redaction():
    nb = redacted(quoting_notebook())
    answer = nb.cells[1]
    stream, shown, failure, display = answer.outputs
    for text in ("visible before", "visible after", PUBLIC, "print('visible line')", SEVEN):
        assert text in stream.text
    assert PUBLIC in html.unescape(shown.data["text/html"])
    assert shown.data["text/plain"] == "<HTML>"
    traceback = visible(failure.traceback)
    assert "visible frame line" in traceback and PUBLIC in traceback
    assert failure.traceback[0] == quoting_notebook().cells[1].outputs[2].traceback[0]   # colours kept
    assert failure.ename == "AssertionError" and failure.evalue == "hidden: the total"
    assert display.data["text/plain"].startswith("repr: ")


def test_base64_image_data_is_untouched_even_when_it_contains_a_hidden_line():
    nb = redacted(quoting_notebook())
    display = nb.cells[1].outputs[3]
    assert display.data["image/png"] == PNG and BARE in PNG
    assert BARE not in display.data["text/plain"]


def test_lines_shorter_than_min_hidden_line_are_not_redacted():
    assert len(SEVEN) == MIN_HIDDEN_LINE - 1 and len(EIGHT) == MIN_HIDDEN_LINE
    stream = redacted(quoting_notebook()).cells[1].outputs[0].text
    assert SEVEN in stream.split("\n")
    assert EIGHT not in stream.split("\n")


def test_hidden_lines_are_only_taken_from_instructor_cells():
    """A student's answer cell with hidden markers hides nothing (nor can it hide text)."""
    answer = new_code_cell("\n".join([HIDDEN_MARKERS[0], "visible line one", HIDDEN_MARKERS[1]]),
                           metadata=nbgrader_meta("answer", solution=True))
    answer.outputs = [stdout("visible line one\n")]
    nb = redacted(new_notebook(cells=[answer]))
    assert nb.cells[0].outputs[0].text == "visible line one\n"


def test_a_hidden_line_cut_by_cap_outputs_does_not_leak_its_start():
    """CapOutputs (autograde) runs before the redaction (feedback): a cut must not leave
    part of a hidden line that the redaction no longer recognises."""
    frame = "Cell In[4], line 9\n" + "".join(f"      {n} filler line {n:03d}\n" for n in range(1, 18)) \
        + "----> 18 " + colour(DOUBLE) + "\n"
    # Three entries share 2 000 bytes: 666 each, a cut that falls well inside the hidden line.
    assert utf8_size(frame.split("---->")[0]) + 150 < 2_000 // 3 < utf8_size(frame) - 50
    failure = new_output("error", ename="AssertionError", evalue="",
                         traceback=["header", frame, "AssertionError: " + "z" * 1_500])
    nb = new_notebook(cells=[check_cell(CHECK_SOURCE, outputs=[stdout(HUGE), failure])])
    nb, _ = CapOutputs(max_bytes=1_000).preprocess(nb, {})
    for preprocessor in (RedactHiddenTracebacks(), RedactHiddenOutputs()):
        nb, _ = preprocessor.preprocess(nb, {})
    text = visible(nb.cells[0].outputs)
    assert "filler line 001" in text
    for start in range(12, len(DOUBLE) + 1):
        assert DOUBLE[:start] not in text, text[-300:]


# --- secure_html -----------------------------------------------------------------------------


class Page(HTMLParser):
    """Every start tag (name, attributes, parent chain) and comment of a page, as html.parser reads it."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.comments, self.stack, self.text = [], [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs), tuple(self.stack)))
        if tag not in ("meta", "img", "br", "hr", "wbr", "col", "link", "input"):
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs), tuple(self.stack)))

    def handle_endtag(self, tag):
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_data(self, data):
        self.text.append(data)


def compact_url(value):
    return re.sub(r"[\x00-\x20\x7f]", "", value).lower()


def assert_safe(page):
    """No script, handler, script URL, comment, embed or refresh anywhere; the CSP first in <head>."""
    parsed = Page(page)
    names = [name for name, _, _ in parsed.tags]
    assert parsed.comments == []
    for banned in ("script", "iframe", "object", "embed", "svg", "link", "base", "form", "noscript",
                   "frame", "applet", "template", "textarea", "xmp", "plaintext", "mglyph", "maction",
                   "annotation-xml", "semantics"):
        assert banned not in names, page
    for name, attrs, parents in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (name, attrs)
        if "math" in parents:     # inside a formula: presentation MathML, no link
            assert name in MATHML_PRESENTATION and name != "math", (name, parents)
        if "math" in parents or name == "math":
            assert not {"href", "src", "xlink:href", "actiontype"} & set(attrs), (name, attrs)
        for key in ("href", "src", "action", "formaction", "data", "xlink:href"):
            if key in attrs:
                assert not compact_url(attrs[key]).startswith(("javascript:", "vbscript:", "data:text")), attrs
        if name == "meta":
            assert parents == ("html", "head"), (attrs, parents)
            assert set(attrs) <= {"charset", "http-equiv", "content"}, attrs
            assert attrs.get("http-equiv", "Content-Security-Policy") == "Content-Security-Policy", attrs
        if name == "style":
            assert parents == ("html", "head"), parents
    assert_csp_first(page)
    return parsed


def assert_csp_first(page):
    # Nothing but the doctype and blanks before <head>, and the CSP as its first child.
    opening = re.match(r"\s*<!DOCTYPE html>\s*<html[^>]*>\s*<head>\s*(<meta [^>]*>)", page)
    assert opening, page[:300]
    parsed = Page(opening.group(1))
    assert len(parsed.tags) == 1
    _, attrs, _ = parsed.tags[0]
    assert attrs["http-equiv"] == "Content-Security-Policy"
    directives = {part.split()[0]: part.split()[1:] for part in attrs["content"].split(";") if part.strip()}
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'none'"]
    assert directives["img-src"] == ["data:"]
    assert set(directives.get("style-src", [])) <= {"'unsafe-inline'"}   # no style from the network
    assert sum(1 for name, a, _ in Page(page).tags if a.get("http-equiv") == "Content-Security-Policy") == 1


# MathML Core's presentation elements (w3.org/TR/mathml-core), written here; mglyph,
# maction, semantics and annotation-xml (images, actions, HTML islands) left out.
MATHML_PRESENTATION = frozenset("""
    math mi mn mo ms mspace mtext mrow mfrac msqrt mroot mstyle merror mpadded mphantom msub msup
    msubsup munder mover munderover mmultiscripts mprescripts none mtable mtr mtd menclose
""".split())


def page_with(body):
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\"/>\n<title>feedback</title>\n"
            "<style>p { color: #333; }</style>\n<script src=\"https://cdn.example/mathjax.js\"></script>\n"
            f"</head>\n<body>\n<p>before</p>\n{body}\n<p>after</p>\n</body>\n</html>\n")


ATTACKS = {
    "script": "<script>alert(1)</script>",
    "onerror": "<img src=x onerror=alert(1)>",
    "javascript-url": '<a href="javascript:alert(1)">click</a>',
    "tab-in-scheme": '<a href="java&#9;script:alert(1)">click</a>',
    "entity-scheme": '<a href="&#106;avascript&colon;alert(1)">click</a>',
    "upper-scheme": '<a href=" JaVaScRiPt:alert(1)">click</a>',
    "svg-onload": "<svg onload=alert(1)><circle r=1></circle></svg>",
    "iframe": '<iframe src="https://evil.example/" srcdoc="<script>alert(1)</script>"></iframe>',
    "object": '<object data="data:text/html,<script>alert(1)</script>"></object>',
    "embed": '<embed src="https://evil.example/x.swf">',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "link-stylesheet": "<link rel=stylesheet href=http://evil.example/x.css>",
    "style-import": "<style>@import url(http://evil.example/x.css); body { display: none }</style>",
    "comment-hiding-script": "<!--><script>alert(1)</script>-->",
    "comment-bang": "<!--!><img src=x onerror=alert(2)>-->",
    "after-html": "</body></html><script>alert(1)</script><img src=x onerror=alert(1)>",
    "style-end-slash": "<style></style/><script>alert(1)</script></style>",
    "noscript-attribute": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "math-mglyph": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "form": '<form action="https://evil.example/"><input name=x><button formaction="javascript:alert(1)">go</button></form>',
    "base": '<base href="https://evil.example/">',
    "body-onload": "<body onload=alert(1)><p>x</p></body>",
    "details-ontoggle": "<details open ontoggle=alert(1)><summary>s</summary></details>",
    "data-html-link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "cdata": "<![CDATA[<script>alert(1)</script>]]>",
    "nested-script": "<scr<script>ipt>alert(1)</script>",
}


# Never closed: what follows is inside the <math> element, dropped with it.
UNCLOSED = ("math-mglyph",)


@pytest.mark.parametrize("name", ATTACKS)
def test_an_attack_in_the_body_leaves_only_safe_markup(name):
    page = secure_html(page_with(ATTACKS[name]))
    parsed = assert_safe(page)
    assert "evil.example" not in page
    assert "alert(" not in "".join(value for _, attrs, _ in parsed.tags for value in attrs.values())
    text = "".join(parsed.text)
    assert "before" in text
    assert ("after" in text) == (name not in UNCLOSED)


def test_the_template_head_keeps_charset_title_and_style_but_loses_its_scripts():
    parsed = assert_safe(secure_html(page_with("")))
    head = [(name, attrs) for name, attrs, parents in parsed.tags if parents == ("html", "head")]
    assert [name for name, _ in head] == ["meta", "meta", "title", "style"]
    assert head[1][1] == {"charset": "utf-8"}


def test_a_style_element_from_the_student_is_dropped_with_its_content():
    page = secure_html(page_with("<style>@import url(http://evil.example/x.css); p { color: red }</style>"))
    assert "color: red" not in page and "@import" not in page


@pytest.mark.parametrize("kept", [
    '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==" alt="a dot"/>',
    '<a href="https://cs231n.github.io/convolutional-networks/">notes</a>',
    '<a href="http://example.org/a?b=1&amp;c=2">plain http</a>',
    '<a href="mailto:staff@example.org">mail</a>',
    '<a href="#top">top</a>',
    '<table border="1"><tr><td colspan="2"><b>bold</b> <code>x</code></td></tr></table>',
])
def test_safe_markup_is_kept_as_it_was(kept):
    parsed = assert_safe(secure_html(page_with(kept)))
    expected = Page(kept)
    found = [(name, attrs) for name, attrs, _ in parsed.tags]
    for name, attrs, _ in expected.tags:
        assert (name, attrs) in found
    assert "".join(expected.text) in "".join(parsed.text)


def test_a_data_url_that_is_not_an_image_is_removed_from_an_img():
    page = secure_html(page_with('<img src="data:text/html,<b>x</b>" alt="x">'))
    assert [attrs for name, attrs, _ in Page(page).tags if name == "img"] == [{"alt": "x"}]


@pytest.mark.parametrize("document", [
    "stray text<html><head><title>t</title></head><body><p>x</p></body></html>",
    "<p>first</p><html><head></head><body>x</body></html>",
    "<html>text before the head<head><title>t</title></head><body>x</body></html>",
    "<div><html><head><title>t</title></head><body>x</body></html></div>",
    "<p>a fragment</p>",
    "",
])
def test_the_csp_is_the_first_child_of_the_head_a_browser_sees(document):
    """A browser starts the body at any text or element before <head> and then ignores
    a CSP meta; whatever the document, nothing may come before the head."""
    assert_safe(secure_html(document))


def test_secure_html_is_idempotent_and_keeps_one_csp():
    once = secure_html(page_with(ATTACKS["onerror"] + ATTACKS["script"]))
    twice = secure_html(once)
    assert re.sub(r"\s+", " ", twice) == re.sub(r"\s+", " ", once)      # blank text aside
    assert twice.count("Content-Security-Policy") == 1


def test_the_csp_is_the_modules_policy():
    metas = [attrs for name, attrs, _ in Page(secure_html(page_with(""))).tags if name == "meta"]
    assert metas[0] == {"http-equiv": "Content-Security-Policy", "content": FEEDBACK_CSP}


def test_secure_feedback_folder_rewrites_every_page(tmp_path):
    (tmp_path / "student" / "ps1").mkdir(parents=True)
    page = tmp_path / "student" / "ps1" / "01.html"
    page.write_text(page_with(ATTACKS["script"]), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("<script>alert(1)</script>", encoding="utf-8")
    assert secure_feedback_folder(tmp_path) == [page]
    assert_safe(page.read_text(encoding="utf-8"))
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "<script>alert(1)</script>"


# --- SecureFeedbackExporter on a real notebook -----------------------------------------------

FEEDBACK_TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"


def feedback_config():
    """What nbgrader's GenerateFeedback sets on HTMLExporter (its feedback template)."""
    c = Config()
    c.HTMLExporter.template_name = "feedback"
    c.HTMLExporter.extra_template_basedirs = [str(FEEDBACK_TEMPLATES / "templates")]
    c.HTMLExporter.extra_template_paths = [str(FEEDBACK_TEMPLATES / "static" / "node_modules" / "bootstrap" / "dist"
                                               / "css")]
    return c


def hostile_notebook():
    written = new_markdown_cell(
        "## My answer\n\nBecause **pooling** halves it.\n\n<script>document.title = 'pwned-markdown'</script>\n\n"
        "<img src=\"x\" onerror=\"document.title = 'pwned-img'\">\n",
        metadata={"nbgrader": {**nbgrader_meta("why", solution=True, grade=True, points=1)["nbgrader"], "score": 1}})
    code = new_code_cell("show()", metadata={"nbgrader": {**nbgrader_meta("answer", solution=True)["nbgrader"]}})
    code.outputs = [new_output("display_data", data={
        "text/html": "<b>bold output</b><script>document.title = 'pwned-output'</script>",
        "text/plain": "<HTML>"})]
    nb = new_notebook(cells=[written, code])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


FEEDBACK_RESOURCES = {"nbgrader": {"notebook": "01_tiny", "score": 1, "max_score": 1, "late_penalty": 0}}


@pytest.mark.parametrize("config", [feedback_config(), Config()], ids=["nbgrader-feedback-template", "lab-template"])
def test_the_exporter_renders_a_notebook_without_script_or_handler_and_with_the_csp(config):
    page, _ = SecureFeedbackExporter(config=config).from_notebook_node(
        hostile_notebook(), resources=copy.deepcopy(FEEDBACK_RESOURCES))
    assert_safe(page)
    assert "<script" not in page.lower()
    assert not re.search(r"<[^<>]*\son[a-z]+\s*=", page, re.I)       # no handler in any tag
    assert "pooling" in page and "bold output" in page


def test_the_feedback_template_leaves_the_markdown_to_secure_html():
    """nbgrader's feedback template renders answer cells without nbconvert's sanitizer:
    their script and handler reach the page unless secure_html removes them."""
    config = feedback_config()
    plain, _ = HTMLExporter(config=config).from_notebook_node(hostile_notebook(),
                                                              resources=copy.deepcopy(FEEDBACK_RESOURCES))
    assert "<script>document.title = 'pwned-markdown'</script>" in plain
    page, _ = SecureFeedbackExporter(config=config).from_notebook_node(
        hostile_notebook(), resources=copy.deepcopy(FEEDBACK_RESOURCES))
    assert "pwned-markdown" not in page and "pwned-img" not in page
    assert "Because <strong>pooling</strong> halves it." in page


def test_the_exporter_sanitizes_outputs_by_default():
    assert SecureFeedbackExporter().sanitize_html is True


# --- optional: the pages in a real browser ----------------------------------------------------


def browser_title(page, folder):
    """document.title after a headless Chromium has loaded ``page`` and run what it may."""
    path = folder / "page.html"
    path.write_text(page, encoding="utf-8")
    run = subprocess.run(
        [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=2000",
         f"--user-data-dir={folder / 'profile'}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r"<title>(.*?)</title>", run.stdout, re.S)
    return found.group(1) if found else None


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_no_script_runs_in_a_browser(tmp_path):
    raw = page_with("<script>document.title = 'pwned'</script>")
    assert browser_title(raw, tmp_path) == "pwned"            # the harness sees a script that runs
    attacks = "".join(a.replace("alert(1)", "document.title='pwned'") for a in ATTACKS.values())
    assert browser_title(secure_html(page_with(attacks)), tmp_path) == "feedback"
    # Were a script to get past the sanitizer, the CSP would still stop it.
    slipped = secure_html(page_with("")).replace("</body>", "<script>document.title = 'pwned'</script></body>")
    assert browser_title(slipped, tmp_path) == "feedback"
    page, _ = SecureFeedbackExporter(config=feedback_config()).from_notebook_node(
        hostile_notebook(), resources=copy.deepcopy(FEEDBACK_RESOURCES))
    assert browser_title(page, tmp_path) == "01_tiny"


@pytest.mark.parametrize("src", ["https://tracker.example/p.png", "http://x/p.gif", "//tracker.example/p.png",
                                 "\\\\tracker.example\\p.png", "/\\tracker.example/p.png", " https://x/p.png"])
def test_an_image_from_another_host_loses_its_source(src):
    page = secure_html(f'<html><head></head><body><img src="{src}" alt="pixel"></body></html>')
    img = BeautifulSoup(page, "html.parser").find("img")
    assert img is not None and "src" not in img.attrs, page


@pytest.mark.parametrize("src", ["data:image/png;base64,iVBORw0KGgo=", "figures/plot.png"])
def test_an_inline_or_same_host_image_keeps_its_source(src):
    page = secure_html(f'<html><head></head><body><img src="{src}" alt="plot"></body></html>')
    assert BeautifulSoup(page, "html.parser").find("img")["src"] == src


# --- formulas as MathML, made when the page is built ------------------------------------------


def math_notebook(*sources):
    """A notebook of markdown cells (no nbgrader metadata: the feedback template renders them too)."""
    nb = new_notebook(cells=[new_markdown_cell(source) for source in sources])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def exported(nb, config=None, resources=None):
    """(page, resources) from the exporter with nbgrader's feedback template."""
    return SecureFeedbackExporter(config=config or feedback_config()).from_notebook_node(
        nb, resources=copy.deepcopy(resources or FEEDBACK_RESOURCES))


def math_elements(page):
    """Each <math> of the page as (display, names of the elements inside it in order, its text)."""
    soup = BeautifulSoup(page, "html.parser")
    return [(math.get("display"), [tag.name for tag in math.find_all(True)], math.get_text())
            for math in soup.find_all("math")]


def without_data_urls(page):
    return re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", "data:", page)


@pytest.mark.parametrize("config", [feedback_config(), Config()], ids=["nbgrader-feedback-template", "lab-template"])
def test_formulas_become_mathml_with_no_script_and_no_network(config):
    nb = math_notebook("Pixels are scaled to $[0, 1]$ first.",
                       "The output size is\n\n$$H' = 1 + \\frac{H + 2P - HH}{S}$$\n\nfor each side.",
                       "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}")
    page, resources = exported(nb, config)
    assert_safe(page)
    found = math_elements(page)
    assert [display for display, _, _ in found] == ["inline", "block", "block"]
    inline, fraction, matrix = found
    assert inline[2] == "[0,1]" and inline[1].count("mn") == 2          # [ 0 , 1 ]: two numbers
    assert "mfrac" in fraction[1]
    assert matrix[1].count("mtr") == 2 and matrix[1].count("mtd") == 4
    assert "$[0, 1]$" not in page and "\\frac" not in page              # no TeX left to typeset
    assert resources["cs231n"]["formulas"] == {"mathml": 3, "tex": []}
    lowered = without_data_urls(page).lower()
    assert "<script" not in lowered and "mathjax" not in lowered and "cdn" not in lowered
    assert not re.search(r"""\ssrc\s*=\s*["']?(https?:)?//""", lowered)


def test_a_dollar_in_code_or_escaped_is_not_a_formula():
    page, resources = exported(math_notebook("`cost = $5 + $6` and \\$7 or \\$8, but $x$ is one."))
    assert [text for _, _, text in math_elements(page)] == ["x"]
    assert "cost = $5 + $6" in page and "$7 or $8" in page


HOSTILE_FORMULAS = {
    "script-as-tex": "$<script>document.title = 'pwned-tex'</script>$",
    "tag-in-text": "$\\text{<img src=x onerror=\"document.title = 'pwned-text'\">}$",
    "href": "$\\href{javascript:document.title='pwned-href'}{click}$",
    "close-math": "$$\\text{</mtext></math><script>document.title = 'pwned-close'</script>}$$",
    "entity": "$\\text{&lt;script&gt;document.title = 'pwned-entity'&lt;/script&gt;}$",
}


@pytest.mark.parametrize("name", HOSTILE_FORMULAS)
def test_a_hostile_formula_is_escaped_text_inside_mathml(name):
    page, _ = exported(math_notebook(HOSTILE_FORMULAS[name]))
    parsed = assert_safe(page)
    assert [tag for tag, _, _ in parsed.tags if tag in ("script", "img")] == []
    assert not [attrs for _, attrs, _ in parsed.tags if "javascript:" in " ".join(attrs.values())]
    assert "<script" not in page
    texts = [text for _, _, text in math_elements(page)]
    assert len(texts) == 1
    if name == "href":                                                  # the link is dropped, the text kept
        assert texts == ["click"] and "pwned" not in page
    else:
        assert "pwned" in texts[0] and "<" in texts[0] and "&lt;" in page   # shown as text, escaped


def test_a_forged_placeholder_stays_text():
    formulas = Formulas()
    forged = "\ue000" + "0" * 16 + ":0\ue001"                          # the format, a wrong key
    page, _ = exported(math_notebook(f"$x$ and {forged}"))
    assert forged in page and len(math_elements(page)) == 1
    assert formulas.key != Formulas().key                               # a new key per page


def test_a_formula_latex2mathml_cannot_convert_stays_as_its_tex_source():
    page, resources = exported(math_notebook("Broken: $\\frac{1}{$ and fine: $y$."))
    assert [text for _, _, text in math_elements(page)] == ["y"]
    assert "$\\frac{1}{$" in html.unescape(page)
    assert resources["cs231n"]["formulas"] == {"mathml": 1, "tex": ["$\\frac{1}{$"]}


def test_a_formula_in_an_image_alt_text_is_its_source():
    page, _ = exported(math_notebook("![plot of $x^2$](figures/plot.png)"))
    alts = [attrs.get("alt") for name, attrs, _ in Page(page).tags if name == "img"]
    assert alts == ["plot of $x^2$"] and "\ue000" not in page


def test_the_mathml_page_is_unchanged_by_secure_html_again():
    """grade.py runs secure_feedback_folder on the written pages: the formulas must stay."""
    page, _ = exported(math_notebook("$\\hat m = \\frac{m}{1 - \\beta_1^t}$ and $$\\sum_i x_i^2$$"))
    again = secure_html(page)
    assert math_elements(again) == math_elements(page) and len(math_elements(page)) == 2
    assert re.sub(r"\s+", " ", again) == re.sub(r"\s+", " ", page)


def notebook_formulas():
    """(notebook, TeX, display) of every formula the markdown parser finds in notebooks/*.ipynb."""
    import nbformat

    found = []
    for path in sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb")):
        formulas = Formulas()
        renderer = MathMLRenderer(formulas, escape=False)
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                MarkdownWithMath(renderer=renderer).render(cell.source)
        found += [(path.name, tex, display) for tex, display, _ in formulas.items]
    return found


def test_every_formula_of_the_notebooks_converts_with_nothing_dropped():
    formulas = notebook_formulas()
    assert len(formulas) > 400, len(formulas)                           # 569 when this was written
    failed, dropped = [], []
    for name, tex, display in formulas:
        tree = mathml_tree(tex, display)
        if tree is None:
            failed.append((name, tex))
            continue
        for element in tree.iter():
            local = element.tag.rsplit("}", 1)[-1]
            extra = {key for key in element.attrib if key not in MATHML_ATTRIBUTES} - {"xmlns"}
            if local not in MATHML_PRESENTATION or extra:
                dropped.append((name, tex, local, extra))
            if (element.text or "").strip() in ("&", "\\"):                # an alignment mark shown as is
                dropped.append((name, tex, local, element.text))
    assert failed == [], f"{len(failed)} of {len(formulas)} formulas do not convert: {failed[:5]}"
    assert dropped == [], f"{len(dropped)} elements or attributes would be dropped: {dropped[:5]}"


def test_an_aligned_environment_is_a_table_of_right_and_left_columns():
    tex = "\\begin{aligned} y &= a + b \\\\ &= c \\end{aligned}"
    page, _ = exported(math_notebook(f"$${tex}$$"))
    table = BeautifulSoup(page, "html.parser").find("math").find("mtable")
    cells = [[(td.get("columnalign"), td.get_text()) for td in tr.find_all("mtd")] for tr in table.find_all("mtr")]
    assert cells == [[("right", "y"), ("left", "=a+b")], [("right", ""), ("left", "=c")]]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_hostile_formulas_run_no_script_in_a_browser(tmp_path):
    page, _ = exported(math_notebook(*HOSTILE_FORMULAS.values()))
    assert browser_title(page, tmp_path) == "01_tiny"


# --- paths relative to the assignment --------------------------------------------------------

SANDBOX_FRAME = ("\x1b[36mFile \x1b[39m\x1b[32m/assignment/cs231n_lib/checks/dropout.py:615\x1b[39m, in "
                 "\x1b[36mcheck_conventions\x1b[39m\x1b[34m(p_library)\x1b[39m")


def test_a_sandboxed_traceback_names_files_relative_to_the_assignment():
    rewrite = path_rewriter()
    assert rewrite(SANDBOX_FRAME) == SANDBOX_FRAME.replace("/assignment/", "")
    assert ANSI.sub("", rewrite(SANDBOX_FRAME)).startswith("File cs231n_lib/checks/dropout.py:615, in")


def test_the_graders_scratch_folder_is_cut_up_to_the_assignment():
    """A real folder made the way grade.py makes its scratch folder."""
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as scratch:
        rewrite = path_rewriter(assignment="ps06")
        assert rewrite(f"File {scratch}/copies/alice/ps06/cs231n_lib/layers.py:12") == \
            "File cs231n_lib/layers.py:12"
        assert rewrite(f"open('{scratch}/sockets/kernel-1.json')") == "open('sockets/kernel-1.json')"
        assert scratch not in rewrite(f"cwd: {scratch}") and "cs231n-grading" not in rewrite(f"cwd: {scratch}")


@pytest.mark.parametrize("text, expected", [
    ("File /course/autograded/alice/ps06/cs231n_lib/layers.py:3", "File cs231n_lib/layers.py:3"),
    ("FileNotFoundError: '/course/autograded/alice/ps06/data/x.npz'", "FileNotFoundError: 'data/x.npz'"),
    ("os.getcwd() == /course/autograded/alice/ps06", "os.getcwd() == ."),
    ("/assignment\n/assignment/a.py", ".\na.py"),
    # not a path in the assignment: left as written
    ("/assignments/x, foo/assignment/x, /assignmentx, /assignment.py", None),
    ("/course/autograded/alice/ps066/x.py", None),
])
def test_paths_in_the_assignment_and_only_those_become_relative(text, expected):
    assert path_rewriter(["/course/autograded/alice/ps06"], "ps06")(text) == (text if expected is None else expected)


def test_a_warning_from_the_graders_python_starts_at_site_packages():
    folder = sysconfig.get_paths()["purelib"]
    warning = f"{folder}/joblib/_multiprocessing_helpers.py:44: UserWarning: [Errno 13] Permission denied."
    assert path_rewriter()(warning) == "site-packages/joblib/_multiprocessing_helpers.py:44: UserWarning: " \
                                        "[Errno 13] Permission denied."


def test_the_feedback_page_shows_relative_paths_and_the_hidden_lines_stay_redacted(tmp_path):
    folder = tmp_path / "autograded" / "alice" / "ps06"
    secret = "assert hidden_total('/assignment/data') == 41.75"
    check = check_cell("\n".join(["assert True", HIDDEN_MARKERS[0], secret, HIDDEN_MARKERS[1]]))
    check.outputs = [
        new_output("error", ename="ValueError", evalue=f"no file {folder}/data/x.npz",
                   traceback=[SANDBOX_FRAME, f"File {folder}/cs231n_lib/layers.py:7", f"ValueError: no file {folder}/data/x.npz"]),
        stdout(f"hook: {secret}\n")]
    nb = math_notebook("Scaled to $[0, 1]$.")
    nb.cells.append(check)
    check.metadata.nbgrader["score"] = 0
    config = feedback_config()
    config.SecureFeedbackExporter.preprocessors = [RedactHiddenTracebacks, RedactHiddenOutputs,
                                                  StrictClearHiddenTests]
    resources = {**copy.deepcopy(FEEDBACK_RESOURCES), "metadata": {"path": str(folder)}}
    resources["nbgrader"]["assignment"] = "ps06"
    page, _ = exported(nb, config, resources)
    text = ANSI.sub("", html.unescape(BeautifulSoup(page, "html.parser").get_text()))
    assert "cs231n_lib/checks/dropout.py:615" in text and "cs231n_lib/layers.py:7" in text
    assert "no file data/x.npz" in text
    assert "/assignment/" not in text and str(tmp_path) not in text
    assert "hidden_total" not in text                                   # redacted before the paths changed
