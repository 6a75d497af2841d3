"""What a student's feedback page may contain: no live script, no hidden test, no unbounded output.

- ``CapOutputs`` (autograde, after ``LimitOutput``): a cell keeps at most ``max_bytes``
  of outputs, in the autograded notebook and so in the feedback rendered from it. What
  is cut is said in a note; an output that decides the grade (an error, stderr, an
  ``execute_result``) is shortened, never removed.
- ``RedactHiddenOutputs`` (feedback, before ``StrictClearHiddenTests``): every hidden
  test line of the notebook is replaced by a note wherever an output quotes it
  (a ``pre_run_cell`` hook printing ``In[-1]`` would otherwise show them).
- ``SecureFeedbackExporter`` / ``secure_feedback_html(path)``: the rendered page keeps
  only allow-listed elements and attributes (no ``<script>``, no ``on*`` handler, no
  ``javascript:`` URL, no comment), and its ``<head>`` starts with ``FEEDBACK_CSP``,
  a Content-Security-Policy that allows no script at all (so MathJax does not run:
  formulas show as their TeX source) and no network request.
"""

import bisect
import html
import re
from pathlib import Path

from bs4 import BeautifulSoup
from bs4.element import PreformattedString
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, TraitError, default, validate

from cs231n_course.preprocessors import ANSI_ESCAPE, HIDDEN_LINE_NOTE, hidden_test_lines

# --- CapOutputs ------------------------------------------------------------------------------

DEFAULT_MAX_OUTPUT_BYTES = 1_000_000
# Bytes an output that decides the grade keeps even when the cell's budget is spent,
# so the student still sees why a check failed.
KEPT_FOR_GRADING = 2_000
# Outputs nbgrader's determine_grade reads: removing one could change the score.
GRADING_OUTPUTS = ("error", "execute_result")


def byte_size(value):
    """UTF-8 bytes of every string in ``value`` (a str, or nested dicts and lists of them)."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, dict):
        return sum(byte_size(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return sum(byte_size(item) for item in value)
    return 0


def output_size(output):
    """The bytes an output adds to the notebook, not counting its type and stream name."""
    return byte_size({key: item for key, item in output.items() if key not in ("output_type", "name")})


def cut_text(text, max_bytes):
    """The longest start of ``text`` that is at most ``max_bytes`` UTF-8 bytes."""
    if text.isascii():
        return text[:max(max_bytes, 0)]
    return text.encode("utf-8", "surrogatepass")[:max(max_bytes, 0)].decode("utf-8", "ignore")


def joined(text):
    return "".join(text) if isinstance(text, list) else text


def format_size(count):
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count / 1_000:.1f} kB"
    return f"{count} bytes"


def format_limit(count):
    if count >= 1_000_000:
        return f"{count / 1_000_000:g} MB"
    if count >= 1_000:
        return f"{count / 1_000:g} kB"
    return f"{count} bytes"


def cap_note(total, kept, max_bytes, dropped):
    """The line that replaces what a cell's outputs lost."""
    parts = [f"{format_size(total)} printed, the first {format_size(kept)} kept"]
    if dropped:
        kinds = ", ".join(sorted(set(dropped)))
        parts.append(f"{len(dropped)} display output{'s' if len(dropped) > 1 else ''} ({kinds}) dropped")
    parts.append(f"the grader keeps at most {format_limit(max_bytes)} per cell")
    return f"\n[output cut: {'; '.join(parts)}]\n"


def shorten_for_grading(output, allowance):
    """Keep an output that decides the grade, with its strings cut to about ``allowance`` bytes.

    Returns the mime types removed (an execute_result keeps only text/plain).
    """
    if output.output_type == "error":
        output.evalue = cut_text(output.get("evalue", ""), allowance)
        traceback = output.get("traceback", [])
        share = max(allowance // max(len(traceback), 1), 200)
        output.traceback = [cut_text(line, share) for line in traceback]
        return []
    dropped = [mime for mime in output.get("data", {}) if mime != "text/plain"]
    if "text/plain" in output.get("data", {}):
        output.data = {"text/plain": cut_text(joined(output.data["text/plain"]), allowance)}
    else:
        output.data = {}
    output.metadata = {}
    return dropped


def cap_outputs(outputs, max_bytes):
    """(new_outputs, cut) for one cell's outputs, at most ``max_bytes`` of them plus a note.

    Streams are cut; display outputs that no longer fit are dropped; errors, stderr
    and execute_results are kept, shortened (``KEPT_FOR_GRADING`` bytes at least).
    """
    total = sum(output_size(output) for output in outputs)
    if total <= max_bytes:
        return outputs, False
    kept, dropped, remaining, note_at = [], [], max_bytes, None
    for output in outputs:
        size = output_size(output)
        if size <= remaining:
            kept.append(output)
            remaining -= size
            continue
        kind = output.get("output_type")
        keep = True
        if kind == "stream":
            floor = KEPT_FOR_GRADING if output.get("name") == "stderr" else 0
            output.text = cut_text(joined(output.get("text", "")), max(remaining, floor))
            keep = bool(output.text)
        elif kind in GRADING_OUTPUTS:
            dropped += shorten_for_grading(output, max(remaining, KEPT_FOR_GRADING))
        else:
            dropped += list(output.get("data", {})) or [str(kind)]
            keep = False
        if keep:
            kept.append(output)
            remaining = max(remaining - output_size(output), 0)
        if note_at is None:
            note_at = len(kept)  # right after the first output cut
    note = cap_note(total, sum(output_size(output) for output in kept), max_bytes, dropped)
    kept.insert(note_at, new_output("stream", name="stdout", text=note))
    return kept, True


class CapOutputs(NbGraderPreprocessor):
    """Limit the total size of each code cell's outputs to ``max_bytes`` (after Execute).

    nbgrader's LimitOutput counts lines, so one long line (or an image) passes it.
    """

    max_bytes = Integer(DEFAULT_MAX_OUTPUT_BYTES,
                        help="Most bytes of outputs one cell keeps; the rest is cut, with a note.").tag(config=True)

    @validate("max_bytes")
    def _positive(self, proposal):
        if proposal.value < 1:
            raise TraitError(f"CapOutputs.max_bytes must be a positive number of bytes, got {proposal.value}; "
                             f"the default is {DEFAULT_MAX_OUTPUT_BYTES:_}")
        return proposal.value

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.get("outputs"):
            cell.outputs, cut = cap_outputs(cell.outputs, self.max_bytes)
            if cut:
                self.log.warning("Outputs of cell %d cut to %s", index, format_limit(self.max_bytes))
        return cell, resources


# --- RedactHiddenOutputs ---------------------------------------------------------------------

HIDDEN_OUTPUT_NOTE = HIDDEN_LINE_NOTE.strip()
# Shorter hidden lines ("pass", "x = 1") are too common to be a leak worth the noise.
MIN_HIDDEN_LINE = 8
# Output keys that never hold text a kernel chose.
UNTOUCHED_KEYS = ("output_type", "name", "execution_count")


def notebook_hidden_lines(nb):
    """The hidden test lines (stripped, MIN_HIDDEN_LINE characters at least) of every instructor cell."""
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and not utils.is_solution(cell):
            found.update(line for line in hidden_test_lines(cell.source) if len(line) >= MIN_HIDDEN_LINE)
    return found


def quoted_forms(lines):
    """Each line as printed, and as escaped in HTML; longest first."""
    forms = set()
    for line in lines:
        forms.update((line, html.escape(line, quote=False), html.escape(line)))
    return sorted(forms, key=len, reverse=True)


def without_ansi(text):
    """(plain, runs): ``text`` without ANSI escapes, and (plain_start, text_start) of each run kept."""
    pieces, runs, position, length = [], [], 0, 0
    for match in ANSI_ESCAPE.finditer(text):
        if match.start() > position:
            runs.append((length, position))
            pieces.append(text[position:match.start()])
            length += match.start() - position
        position = match.end()
    if position < len(text):
        runs.append((length, position))
        pieces.append(text[position:])
    return "".join(pieces), runs


def redact_hidden(text, forms, note=HIDDEN_OUTPUT_NOTE):
    """``text`` with each occurrence of any of ``forms`` (ANSI escapes inside ignored) replaced by ``note``."""
    plain, runs = without_ansi(text)
    spans = []
    for form in forms:
        start = plain.find(form)
        while start >= 0:
            spans.append((start, start + len(form)))
            start = plain.find(form, start + len(form))
    if not spans:
        return text
    starts = [plain_start for plain_start, _ in runs]

    def in_text(plain_index):
        run = bisect.bisect_right(starts, plain_index) - 1
        return runs[run][1] + plain_index - runs[run][0]

    pieces, position = [], 0
    for start, end in merged(spans):
        pieces += [text[position:in_text(start)], note]
        position = in_text(end - 1) + 1
    pieces.append(text[position:])
    return "".join(pieces)


def merged(spans):
    result = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(end, result[-1][1]))
        else:
            result.append((start, end))
    return result


def is_binary_mime(mime):
    """Mime types nbformat stores base64-encoded: no readable text to find there."""
    return (mime.startswith(("image/", "audio/", "video/")) and not mime.endswith(("+xml", "+json"))) \
        or mime in ("application/pdf", "application/octet-stream")


def redact_value(value, forms):
    if isinstance(value, str):
        return redact_hidden(value, forms)
    if isinstance(value, list):
        return [redact_value(item, forms) for item in value]
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = redact_value(item, forms)
    return value


class RedactHiddenOutputs(NbGraderPreprocessor):
    """Replace each hidden test line quoted anywhere in any output (run before clearing them).

    The hidden lines of every check cell are searched in every output of every cell:
    stream text, each mime type (but base64 images), metadata, error name, value and
    traceback, as printed (ANSI colours ignored) or HTML-escaped.
    """

    def preprocess(self, nb, resources):
        forms = quoted_forms(notebook_hidden_lines(nb))
        if forms:
            for cell in nb.cells:
                for output in cell.get("outputs", []):
                    redact_output(output, forms)
        return nb, resources


def redact_output(output, forms):
    for key in list(output):
        if key in UNTOUCHED_KEYS:
            continue
        if key == "data":
            for mime in list(output.data):
                if not is_binary_mime(mime):
                    output.data[mime] = redact_value(output.data[mime], forms)
        else:
            output[key] = redact_value(output[key], forms)


# --- The feedback page -----------------------------------------------------------------------

# No script (the template's MathJax included), no request: styles and data: images only.
FEEDBACK_CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "font-src data:; base-uri 'none'; form-action 'none'")
BODY_ELEMENTS = frozenset("""
    a abbr acronym address article aside b bdi bdo big blockquote br caption center cite code col
    colgroup dd del details dfn div dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6 header
    hr i img ins kbd li main mark nav ol p pre q rp rt ruby s samp section small span strike strong
    sub summary sup table tbody td tfoot th thead time tr tt u ul var wbr
""".split())
HEAD_ELEMENTS = frozenset(("meta", "title", "style"))
# Elements whose content is code, a form, an embedded document or raw text: gone with it.
DROPPED_WITH_CONTENT = frozenset("""
    script style noscript template iframe frame frameset object embed applet param base link meta
    title textarea select option button input form xmp noembed noframes plaintext svg math audio
    video source track canvas dialog portal
""".split())
GLOBAL_ATTRIBUTES = frozenset(("class", "id", "title", "style", "lang", "dir", "align", "role"))
ELEMENT_ATTRIBUTES = {
    "a": {"href", "name", "rel", "target"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign"},
    "th": {"colspan", "rowspan", "valign", "scope"},
    "col": {"span"}, "colgroup": {"span"},
    "table": {"border", "cellpadding", "cellspacing"},
    "ol": {"start", "type", "reversed"}, "li": {"value"},
    "font": {"color", "face", "size"},
    "details": {"open"},
    "meta": {"charset"},
    "style": {"type"},
}
URL_ATTRIBUTES = ("href", "src")
SAFE_SCHEMES = ("http", "https", "mailto")
URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
# Browsers drop these from a URL before reading its scheme ("java\tscript:").
URL_IGNORED = re.compile(r"[\x00-\x20\x7f]+")


def safe_url(value, image=False):
    """True for a relative URL, http(s) or mailto, and (for an image) a data:image/ URL."""
    compact = URL_IGNORED.sub("", value).lower()
    scheme = URL_SCHEME.match(compact)
    if scheme is None:
        return True
    return scheme.group(1) in SAFE_SCHEMES or (image and compact.startswith("data:image/"))


def kept_attributes(tag):
    allowed = ELEMENT_ATTRIBUTES.get(tag.name, set())
    kept = {}
    for name, value in tag.attrs.items():
        if not (name in GLOBAL_ATTRIBUTES or name in allowed or name.startswith("aria-")):
            continue
        value = " ".join(value) if isinstance(value, list) else (value or "")
        if name in URL_ATTRIBUTES and not safe_url(value, image=tag.name == "img"):
            continue
        kept[name] = value
    return kept


def secure_html(document, csp=FEEDBACK_CSP):
    """The HTML page ``document`` with only allow-listed markup, and ``csp`` first in its <head>.

    Structure: the first <html>, its first <head> (meta charset, title, style) and first
    <body>; anywhere else only BODY_ELEMENTS, with GLOBAL_ATTRIBUTES and ELEMENT_ATTRIBUTES
    and safe URLs. Other elements are dropped with their content (DROPPED_WITH_CONTENT) or
    replaced by their content; comments, doctypes and processing instructions are dropped
    (a browser may end a comment where Python's parser does not).
    """
    soup = BeautifulSoup(document, "html.parser")
    for node in soup.find_all(string=lambda text: isinstance(text, PreformattedString)):
        node.extract()
    root = soup.find("html")
    if root is None:
        root = soup.new_tag("html")
        root.extend(list(soup.contents))
        soup.append(root)
    head = root.find("head", recursive=False)
    if head is None:
        head = soup.new_tag("head")
        root.insert(0, head)
    structure = {id(root), id(head), id(root.find("body", recursive=False))}
    for tag in soup.find_all(True):  # all of them: markup after </html> is shown too
        if tag.decomposed or id(tag) in structure:
            continue
        allowed = BODY_ELEMENTS | HEAD_ELEMENTS if tag.parent is head else BODY_ELEMENTS
        if tag.name not in allowed:
            if tag.name in DROPPED_WITH_CONTENT:
                tag.decompose()
            else:
                tag.unwrap()
            continue
        if tag.name == "meta" and "charset" not in tag.attrs:
            tag.decompose()
            continue
        tag.attrs = kept_attributes(tag)
    for tag in (root, head):
        tag.attrs = {key: value for key, value in tag.attrs.items() if key in ("lang", "dir")}
    body = root.find("body", recursive=False)
    if body is not None:
        body.attrs = kept_attributes(body)
    head.insert(0, soup.new_tag("meta", attrs={"http-equiv": "Content-Security-Policy", "content": csp}))
    return "<!DOCTYPE html>\n" + soup.decode(formatter="minimal")


def secure_feedback_html(path):
    """Rewrite the feedback page at ``path`` in place with ``secure_html`` (safe to repeat)."""
    path = Path(path)
    path.write_text(secure_html(path.read_text(encoding="utf-8")), encoding="utf-8")


def secure_feedback_folder(folder):
    """``secure_feedback_html`` on every .html file under ``folder``; returns their paths."""
    pages = sorted(Path(folder).rglob("*.html")) if Path(folder).is_dir() else []
    for page in pages:
        if page.is_file() and not page.is_symlink():
            secure_feedback_html(page)
    return pages


class SecureFeedbackExporter(HTMLExporter):
    """HTMLExporter for GenerateFeedback: sanitized outputs, then ``secure_html`` on the page.

    nbconvert's ``sanitize_html`` cleans outputs but not nbgrader's answer cells (the
    feedback template renders markdown cells without ``clean_html``); ``secure_html``
    covers the whole page.
    """

    @default("sanitize_html")
    def _sanitize_html_default(self):
        return True

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return secure_html(output), resources

