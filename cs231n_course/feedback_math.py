"""Formulas in the feedback page as MathML, made when the page is built: no script, no network.

The page allows no script (``feedback.FEEDBACK_CSP``), so MathJax cannot typeset it, and a
student reading it offline would see ``$[0, 1]$``. Instead each formula of a markdown cell
(or an instructor's comment) is converted by ``latex2mathml`` while the page is rendered;
browsers draw MathML themselves (Chromium from 109, Firefox, Safari).

How, so that student text can never become markup:

- ``MathMLRenderer`` (nbconvert's markdown renderer) writes, for each formula the markdown
  parser found (``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]``, ``\\begin{env}..\\end{env}``),
  a placeholder: plain text holding a random key and the formula's number. Template
  filters (nbconvert's ``clean_html``) and ``secure_html`` see text only.
- ``Formulas.insert`` then replaces each placeholder of the sanitized page with a MathML
  element built node by node from latex2mathml's element tree: names and attributes from
  ``MATHML_ELEMENTS`` and ``MATHML_ATTRIBUTES`` only, every text a text node (escaped when
  written). latex2mathml's own string output is never parsed (it writes ``\\text{<b>}``
  unescaped).
- A formula latex2mathml cannot convert stays as its TeX source, as text.
"""

import html
import re
import secrets

from bs4 import NavigableString
from latex2mathml.converter import convert_to_element
from nbconvert.filters.markdown_mistune import IPythonRenderer

# MathML Core's elements (and mstyle/menclose, which latex2mathml writes), without those
# that load or link anything (mglyph, maction, annotation-xml, semantics and its annotations).
MATHML_ELEMENTS = frozenset("""
    math menclose merror mfrac mi mmultiscripts mn mo mover mpadded mphantom mprescripts mroot
    mrow ms mspace msqrt mstyle msub msubsup msup mtable mtd mtext mtr munder munderover none
""".split())
# Presentation attributes; no href (MathML 3 allowed links on any element), no src, no on*.
MATHML_ATTRIBUTES = frozenset("""
    accent accentunder align columnalign columnlines columnspacing columnspan depth dir display
    displaystyle fence form frame height largeop linethickness lspace mathbackground mathcolor
    mathsize mathvariant maxsize minsize movablelimits notation rowalign rowlines rowspacing
    rowspan rspace scriptlevel separator stretchy symmetric voffset width
""".split())
DISPLAYS = ("inline", "block")
# Elements whose content a browser reads as text: a placeholder there becomes the TeX source.
RAW_TEXT_ELEMENTS = ("title", "style", "script", "textarea")


class Formulas:
    """The formulas of one page, by number, and the placeholders that stand for them."""

    def __init__(self):
        self.key = secrets.token_hex(8)
        self.items = []  # (tex, display, source as written)
        self.pattern = re.compile("\ue000" + self.key + r":(\d+)\ue001")

    def placeholder(self, tex, display, source):
        """Text that stands for the formula ``tex`` until ``insert``; a student cannot forge its key."""
        self.items.append((tex, display, source))
        return f"\ue000{self.key}:{len(self.items) - 1}\ue001"

    def insert(self, soup):
        """Replace every placeholder in ``soup``'s text by MathML (or the TeX source); returns (converted, failed)."""
        converted, failed = 0, []
        for node in soup.find_all(string=self.pattern):
            pieces, position, text = [], 0, str(node)
            if node.find_parent(RAW_TEXT_ELEMENTS) is not None:  # no markup there: the source
                node.replace_with(self.pattern.sub(lambda m: self.items[int(m.group(1))][2], text))
                continue
            for match in self.pattern.finditer(text):
                tex, display, source = self.items[int(match.group(1))]
                pieces.append(NavigableString(text[position:match.start()]))
                element = mathml(soup, tex, display)
                if element is None:
                    failed.append(source)
                    element = NavigableString(source)
                else:
                    converted += 1
                pieces.append(element)
                position = match.end()
            pieces.append(NavigableString(text[position:]))
            for piece in pieces:
                if not (isinstance(piece, NavigableString) and not piece):
                    node.insert_before(piece)
            node.extract()
        # A formula in an attribute (an image's alt text) is shown as its source.
        for tag in soup.find_all(True):
            for name, value in tag.attrs.items():
                if isinstance(value, str) and "\ue000" in value:
                    tag[name] = self.pattern.sub(lambda m: self.items[int(m.group(1))][2], value)
        return converted, failed


# amsmath's alignment environments, which latex2mathml writes as one line with "&" shown
# (02's convolution sum).
ALIGNED = re.compile(r"\\begin\{(aligned|align\*?|alignat\*?)\}(.*?)\\end\{\1\}", re.S)
ROW_END = re.compile(r"\\\\")
CELL_SEPARATOR = re.compile(r"(?<!\\)&")


def aligned_as_array(tex):
    """``tex`` with each aligned environment as the array it stands for: columns right, left, right, ..."""
    def replace(match):
        columns = max(len(CELL_SEPARATOR.findall(row)) for row in ROW_END.split(match.group(2))) + 1
        return f"\\begin{{array}}{{{('rl' * columns)[:columns]}}}{match.group(2)}\\end{{array}}"
    return ALIGNED.sub(replace, tex)


def mathml_tree(tex, display="inline"):
    """latex2mathml's xml.etree element for ``tex``, or None when it cannot convert it."""
    try:
        return convert_to_element(aligned_as_array(tex), display=display)
    except Exception:  # noqa: BLE001 (any TeX latex2mathml rejects, however it fails)
        return None


def mathml(soup, tex, display="inline"):
    """A ``<math>`` Tag of ``soup`` for ``tex`` (allow-listed names and attributes), or None."""
    tree = mathml_tree(tex, display)
    if tree is None or local_name(tree.tag) != "math":
        return None
    return build(soup, tree)


def local_name(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def build(soup, element):
    """The Tag for an etree element and its subtree; an element not allowed keeps only its text."""
    name = local_name(element.tag)
    allowed = name in MATHML_ELEMENTS
    tag = soup.new_tag(name if allowed else "mrow")
    if allowed:
        for key, value in element.attrib.items():
            key = local_name(key)
            if key in MATHML_ATTRIBUTES and (key != "display" or value in DISPLAYS):
                tag[key] = str(value)
    if element.text:
        tag.append(NavigableString(html.unescape(element.text)))
    for child in element:
        tag.append(build(soup, child))
        if child.tail:
            tag.append(NavigableString(html.unescape(child.tail)))
    return tag


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, writing each formula as a ``Formulas`` placeholder."""

    def __init__(self, formulas, **kwargs):
        super().__init__(**kwargs)
        self.formulas = formulas

    def block_math(self, body):
        return self.formulas.placeholder(body, "block", f"$${body}$$")

    def inline_math(self, body):
        return self.formulas.placeholder(body, "inline", f"${body}$")

    def latex_environment(self, name, body):
        source = f"\\begin{{{name}}}{body}\\end{{{name}}}"
        return self.formulas.placeholder(source, "block", source)
