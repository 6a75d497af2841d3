"""What a student's feedback page may contain: no live script, no hidden test, no unbounded output.

- ``CapOutputs`` (autograde, after ``LimitOutput``): a cell keeps at most ``max_bytes``
  of outputs, in the autograded notebook and so in the feedback rendered from it. What
  is cut is said in a note; the output that decides the grade (the first error, stderr
  or ``execute_result``) is shortened, never removed.
- ``RedactHiddenOutputs`` (feedback, before ``StrictClearHiddenTests``): every hidden
  test line of the notebook is replaced by a note wherever an output quotes it
  (a ``pre_run_cell`` hook printing ``In[-1]`` would otherwise show them).
- ``SecureFeedbackExporter`` / ``secure_feedback_html(path)``: the rendered page keeps
  only allow-listed elements and attributes (no ``<script>``, no ``on*`` handler, no
  ``javascript:`` URL, no comment), and its ``<head>`` starts with ``FEEDBACK_CSP``,
  a Content-Security-Policy that allows no script at all and no network request. So
  MathJax cannot run: the exporter writes the formulas as MathML instead, when the page
  is built (``feedback_math.py``), which browsers draw offline.
- ``relative_paths``: in the feedback's outputs (tracebacks, warnings, printed text) the
  grader's folders become paths relative to the assignment
  (``/assignment/cs231n_lib/layers.py``, ``<course>/autograded/<student>/<assignment>/...``
  or ``/tmp/cs231n-grading-XXXX/...``: ``cs231n_lib/layers.py``), and its Python's
  site-packages ``site-packages/``.
"""

import bisect
import html
import os
import re
import site
import sysconfig
from pathlib import Path

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import MarkdownWithMath
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, TraitError, default, validate

from cs231n_course.config import DEFAULT_MAX_OUTPUT_BYTES, project_dir
from cs231n_course.feedback_math import (
    MATHML_ATTRIBUTES,
    MATHML_ELEMENTS,
    Formulas,
    MathMLRenderer,
)
from cs231n_course.kernel_launcher import SANDBOX_WORKDIR
from cs231n_course.preprocessors import ANSI_ESCAPE, HIDDEN_LINE_NOTE, hidden_test_lines

# --- CapOutputs ------------------------------------------------------------------------------

# Bytes the output that decides the grade keeps even when the cell's budget is spent,
# so the student still sees why a check failed.
KEPT_FOR_GRADING = 2_000
# Outputs nbgrader's determine_grade reads (with stderr streams): it scores the cell by
# the first of them, so removing that one could change the score.
GRADING_OUTPUTS = ("error", "execute_result")
# Bytes each traceback entry keeps at least when a long traceback is shortened; so a
# shortened traceback keeps at most (allowance // TRACEBACK_ENTRY_BYTES) entries.
TRACEBACK_ENTRY_BYTES = 200


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


def cut_lines(text, max_bytes):
    """``cut_text``, ended after its last line break when it has one.

    A line is kept whole or not at all (unless the first line alone is longer than
    ``max_bytes``), so a hidden test line quoted in an output cannot be cut to a
    start that ``RedactHiddenOutputs`` would no longer recognise.
    """
    if byte_size(text) <= max_bytes:
        return text
    start = cut_text(text, max_bytes)
    end = start.rfind("\n")
    return start[:end + 1] if end >= 0 else start


def joined(text):
    return "".join(text) if isinstance(text, list) else text


def format_size(count, precise=True):
    """``count`` bytes in MB or kB: 1.5 MB (precise) or 1.5 MB / 2 MB (``:g``, for limits)."""
    spec = ".1f" if precise else "g"
    if count >= 1_000_000:
        return f"{count / 1_000_000:{spec}} MB"
    if count >= 1_000:
        return f"{count / 1_000:{spec}} kB"
    return f"{count} bytes"


def cap_note(total, kept, max_bytes, dropped, removed=()):
    """The line that replaces what a cell's outputs lost.

    ``dropped``: one mime type (or output type) per output removed; ``removed``: the mime
    types taken out of outputs that were kept (an execute_result keeps only text/plain).
    """
    parts = [f"{format_size(total)} printed, the first {format_size(kept)} kept"]
    if dropped:
        kinds = ", ".join(sorted(set(dropped)))
        parts.append(f"{len(dropped)} output{'s' if len(dropped) > 1 else ''} ({kinds}) dropped")
    if removed:
        parts.append(f"the result shown as text only ({', '.join(sorted(set(removed)))} dropped)")
    parts.append(f"the grader keeps at most {format_size(max_bytes, precise=False)} per cell")
    return f"\n[output cut: {'; '.join(parts)}]\n"


def shorten_traceback(traceback, allowance):
    """``traceback`` (a list of entries) in about ``allowance`` bytes.

    Each entry keeps an equal share (``TRACEBACK_ENTRY_BYTES`` at least) of whole lines;
    when there are more entries than fit at that share, the last ones (where the error
    was raised) are kept after an entry saying how many were cut.
    """
    traceback = list(traceback)
    if byte_size(traceback) <= allowance:
        return traceback
    most = max(allowance // TRACEBACK_ENTRY_BYTES, 2)
    if len(traceback) > most:
        cut = len(traceback) - (most - 1)
        traceback = [f"[{cut} traceback entries cut]"] + traceback[cut:]
    share = max(allowance // len(traceback), TRACEBACK_ENTRY_BYTES)
    return [cut_lines(entry, share) for entry in traceback]


def shorten_for_grading(output, allowance):
    """Keep an output that decides the grade, with its strings cut to about ``allowance`` bytes.

    Returns the mime types removed (an execute_result keeps only text/plain).
    """
    if output.output_type == "error":
        output.evalue = cut_lines(output.get("evalue", ""), allowance)
        output.traceback = shorten_traceback(output.get("traceback", []), allowance)
        return []
    dropped = [mime for mime in output.get("data", {}) if mime != "text/plain"]
    if "text/plain" in output.get("data", {}):
        output.data = {"text/plain": cut_text(joined(output.data["text/plain"]), allowance)}
    else:
        output.data = {}
    output.metadata = {}
    return dropped


def shown_kind(output):
    """What an output shows: an error's output type, else its first mime type other than text/plain."""
    mimes = list(output.get("data", {}))
    if output.get("output_type") == "error" or not mimes:
        return str(output.get("output_type"))
    return next((mime for mime in mimes if mime != "text/plain"), mimes[0])


def decides_grade(output):
    """True for the outputs nbgrader's determine_grade scores a cell by."""
    kind = output.get("output_type")
    return kind in GRADING_OUTPUTS or (kind == "stream" and output.get("name") == "stderr")


def cap_outputs(outputs, max_bytes):
    """(new_outputs, cut) for one cell's outputs, at most ``max_bytes`` of them plus a note.

    Streams are cut (after their last whole line that fits); display outputs that no
    longer fit are dropped. The first error, stderr or execute_result (the one nbgrader
    scores the cell by) is kept, shortened to ``KEPT_FOR_GRADING`` bytes at least;
    later ones only get what is left of the budget, like any other output.
    """
    total = sum(output_size(output) for output in outputs)
    if total <= max_bytes:
        return outputs, False
    kept, dropped, removed, remaining, note_at = [], [], [], max_bytes, None
    grade_seen = False
    for output in outputs:
        size = output_size(output)
        floor = 0 if grade_seen or not decides_grade(output) else KEPT_FOR_GRADING
        grade_seen = grade_seen or decides_grade(output)
        if size <= remaining:
            kept.append(output)
            remaining -= size
            continue
        kind = output.get("output_type")
        keep = True
        if kind == "stream":
            output.text = cut_lines(joined(output.get("text", "")), max(remaining, floor))
            keep = bool(output.text)
        elif kind in GRADING_OUTPUTS and max(remaining, floor) > 0:
            removed += shorten_for_grading(output, max(remaining, floor))
        else:
            dropped.append(shown_kind(output))
            keep = False
        if keep:
            kept.append(output)
            remaining = max(remaining - output_size(output), 0)
        if note_at is None:
            note_at = len(kept)  # right after the first output cut
    note = cap_note(total, sum(output_size(output) for output in kept), max_bytes, dropped, removed)
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
                self.log.warning("Outputs of cell %d cut to %s", index, format_size(self.max_bytes, precise=False))
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


# How common escapers write quotes in HTML text: as is (xml.sax.saxutils, pandas),
# html.escape's &quot; and &#x27;, markupsafe's (Jinja's) &#34; and &#39;.
HTML_QUOTES = {'"': ('"', "&quot;", "&#34;"), "'": ("'", "&#x27;", "&#39;")}


def quoted_forms(lines):
    """Each line as printed, and as escaped in HTML (each common way of writing quotes); longest first."""
    forms = set()
    for line in lines:
        forms.add(line)
        escaped = html.escape(line, quote=False)
        for double in HTML_QUOTES['"']:
            for single in HTML_QUOTES["'"]:
                forms.add(escaped.replace('"', double).replace("'", single))
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
    map_output_text(output, lambda text: redact_hidden(text, forms))


def map_text(value, change):
    """``value`` (a str, or nested dicts and lists of them) with ``change`` applied to every string."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_text(item, change) for item in value]
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = map_text(item, change)
    return value


def map_output_text(output, change):
    """Apply ``change`` to every text of an output a kernel chose (base64 data aside), in place."""
    for key in list(output):
        if key in UNTOUCHED_KEYS:
            continue
        if key == "data":
            for mime in list(output.data):
                if not is_binary_mime(mime):
                    output.data[mime] = map_text(output.data[mime], change)
        else:
            output[key] = map_text(output[key], change)


# --- Paths relative to the assignment --------------------------------------------------------

# grade.SCRATCH_PREFIX (not imported: grade imports this module) and the letters of
# tempfile's names; in any parent folder (TMPDIR may be set).
SCRATCH_FOLDER = r"(?:/[^\s/\"'<>]+)*/cs231n-grading-[A-Za-z0-9_]+"
# What may come just before a path: the start of a line, a character no path has, or the
# end of an ANSI colour (IPython colours a traceback's file names).
PATH_LEAD = r"(?P<lead>^|[^\w.~/\\-]|\x1b\[[0-9;]*m)"


def python_folders():
    """The grader's Python site-packages folders (the sandbox binds them at the same paths)."""
    found = {*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return sorted({os.path.normpath(path) for path in found if path})


def path_rewriter(assignment_dirs=(), assignment=None):
    """A function that shows, in a text, the grader's folders as paths relative to the assignment.

    ``assignment_dirs``: the folders the kernel ran in or saw the assignment at (each is
    cut: ``<dir>/cs231n_lib/layers.py`` -> ``cs231n_lib/layers.py``, ``<dir>`` alone -> ``.``);
    the sandbox's ``/assignment`` and the instructor's checkout are always among them.
    A path in the grader's scratch folder (``/tmp/cs231n-grading-XXXX/``) is cut up to
    the assignment's folder when it has one (``assignment``: its name), else up to the
    scratch folder; a path in the grader's site-packages starts at ``site-packages/``.
    """
    folders = {os.path.normpath(str(folder)) for folder in [SANDBOX_WORKDIR, *assignment_dirs] if folder}
    if project_dir() is not None:
        folders.add(os.path.normpath(str(project_dir())))
    roots = [(re.escape(folder), "") for folder in folders if folder != "/"]
    roots += [(re.escape(folder), "site-packages/") for folder in python_folders()]
    roots.sort(key=lambda root: len(root[0]), reverse=True)
    scratch = [SCRATCH_FOLDER + r"(?:/[^\s/\"'<>]+)*?/" + re.escape(assignment), SCRATCH_FOLDER] if assignment \
        else [SCRATCH_FOLDER]
    alternatives = [f"(?P<r{index}>{pattern})" for index, (pattern, _) in enumerate(roots)]
    alternatives += [f"(?P<s{index}>{pattern})" for index, pattern in enumerate(scratch)]
    pattern = re.compile(PATH_LEAD + "(?:" + "|".join(alternatives) + r")(?P<slash>/|(?![\w.~-]))", re.M)

    def replace(match):
        group = next(name for name, value in match.groupdict().items()
                     if value is not None and name not in ("lead", "slash"))
        shown = roots[int(group[1:])][1] if group.startswith("r") else ""
        if not match.group("slash"):
            shown = shown.rstrip("/") or "."
        return match.group("lead") + shown

    def rewrite(text):
        return pattern.sub(replace, text) if "/" in text else text

    return rewrite


def relative_paths(nb, assignment_dirs=(), assignment=None):
    """Rewrite every output of ``nb`` with ``path_rewriter`` (in place); returns ``nb``."""
    rewrite = path_rewriter(assignment_dirs, assignment)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            map_output_text(output, rewrite)
    return nb


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
    title textarea select option button input form xmp noembed noframes plaintext svg audio
    video source track canvas dialog portal mglyph maction annotation-xml semantics annotation
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
    """A link may be relative, http(s) or mailto; an image only a data:image/ URL or a path on the same host.

    Images are loaded as the page opens (a tracking pixel), links only when followed.
    """
    compact = URL_IGNORED.sub("", value).lower()
    scheme = URL_SCHEME.match(compact)
    if image:
        other_host = compact.startswith(("//", "\\\\", "/\\", "\\/"))
        return compact.startswith("data:image/") or (scheme is None and not other_host)
    return scheme is None or scheme.group(1) in SAFE_SCHEMES


def kept_attributes(tag):
    if tag.name in MATHML_ELEMENTS:  # no URL among them
        return {name: " ".join(value) if isinstance(value, list) else (value or "")
                for name, value in tag.attrs.items()
                if name in MATHML_ATTRIBUTES or name in GLOBAL_ATTRIBUTES or name.startswith("aria-")}
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


def is_decomposed(tag):
    """Whether ``tag`` was inside a tag decomposed earlier in the same walk.

    Not bs4's ``Tag.decomposed``: on a tag that was not decomposed, its lookup of
    ``_decomposed`` falls through to ``Tag.__getattr__``, which searches the whole subtree
    for a tag of that name (bs4 4.15): one search per tag, most of a page's cost.
    """
    return vars(tag).get("_decomposed", False)


def is_blank(node):
    return isinstance(node, NavigableString) and not node.strip()


def secure_html(document, csp=FEEDBACK_CSP):
    """The HTML page ``document`` with only allow-listed markup, and ``csp`` first in its <head>.

    Structure: the top-level <html>, its <head> (meta charset, title, style; a new one when
    anything but blank text comes before it, which a browser would put in the body) and its
    first <body>; markup before the <html> is moved after the head. Anywhere else only
    BODY_ELEMENTS, with GLOBAL_ATTRIBUTES and ELEMENT_ATTRIBUTES and safe URLs. Other
    elements are dropped with their content (DROPPED_WITH_CONTENT) or replaced by their
    content; comments, doctypes and processing instructions are dropped (a browser may
    end a comment where Python's parser does not).
    """
    return serialize(secure_soup(document, csp))


def serialize(soup):
    return "<!DOCTYPE html>\n" + soup.decode(formatter="minimal")


def allowed_here(tag, head):
    """Whether ``tag`` may stay where it is (its ancestors already checked).

    MathML: a ``<math>`` in the body (not in another), and inside it MathML elements only.
    """
    in_math = any(parent.name == "math" for parent in tag.parents)  # find_parent's filters cost 10x more
    if in_math:
        return tag.name in MATHML_ELEMENTS and tag.name != "math"
    if tag.name == "math":
        return tag.parent is not head
    return tag.name in (BODY_ELEMENTS | HEAD_ELEMENTS if tag.parent is head else BODY_ELEMENTS)


def secure_soup(document, csp=FEEDBACK_CSP):
    """``secure_html``'s work, as a BeautifulSoup tree."""
    soup = BeautifulSoup(document, "html.parser")
    for node in soup.find_all(string=lambda text: isinstance(text, PreformattedString)):
        node.extract()
    root = soup.find("html", recursive=False)
    if root is None:
        root = soup.new_tag("html")
        root.extend(list(soup.contents))
        soup.append(root)
    # A browser starts the body at the first text or element before <head>, and then
    # ignores a CSP <meta> (it must be in <head>): nothing may come before the head.
    head = root.find("head", recursive=False)
    if head is None or not all(is_blank(node) for node in head.previous_siblings):
        head = soup.new_tag("head")
        root.insert(0, head)
    for node in [node for node in root.previous_siblings if not is_blank(node)]:
        root.insert(root.index(head) + 1, node)
    structure = {id(root), id(head), id(root.find("body", recursive=False))}
    for tag in soup.find_all(True):  # all of them: markup after </html> is shown too
        if is_decomposed(tag) or id(tag) in structure:
            continue
        if not allowed_here(tag, head):
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
    return soup


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
    covers the whole page. Formulas become MathML (``feedback_math``), inserted into
    the page after ``secure_html``; after every preprocessor (the hidden-line redaction
    sees the outputs as the kernel wrote them), outputs show paths relative to the
    assignment (``relative_paths``: the notebook's folder, where the kernel ran).
    """

    @default("sanitize_html")
    def _sanitize_html_default(self):
        return True

    def _preprocess(self, nb, resources):
        nb, resources = super()._preprocess(nb, resources)
        folder = (resources.get("metadata") or {}).get("path")
        assignment = (resources.get("nbgrader") or {}).get("assignment")
        return relative_paths(nb, [os.path.abspath(folder)] if folder else [], assignment), resources

    @pass_context
    def markdown2html(self, context, source):
        """nbconvert's markdown filter, with each formula a placeholder of ``self.formulas``."""
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            self.formulas, escape=False, attachments=cell.get("attachments", {}), embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)

    def from_notebook_node(self, nb, resources=None, **kw):
        self.formulas = Formulas()
        output, resources = super().from_notebook_node(nb, resources, **kw)
        soup = secure_soup(output)
        converted, failed = self.formulas.insert(soup)
        if failed:
            self.log.warning("%d formula(s) shown as TeX (latex2mathml cannot convert them): %s",
                             len(failed), "; ".join(failed[:5]))
        resources.setdefault("cs231n", {})["formulas"] = {"mathml": converted, "tex": failed}
        return serialize(soup), resources

