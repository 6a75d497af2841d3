"""Interactive pictures of convolution arithmetic, for the notebooks.

``conv_geometry_figure(n, f, stride, pad)`` draws, for an N x N input, an
F x F filter, stride S and P zeros of padding on each side:

- the padded input grid (padding cells grey and marked 0, the input framed),
  with the filter's first position outlined;
- above it, one bar per position the filter takes along the top row, the
  bars spread over as few lanes as keep them from overlapping;
- the output grid, whose top row has one cell per bar;
- a title holding (N - F + 2P) / S + 1 with the numbers filled in.

When the combination does not fit, it draws the positions that do fit, the
next one hanging over the edge (dashed, hatched, labelled), the columns the
filter never covers, and, instead of an output grid, the library's own
explanation from ``conv_output_size`` with the settings that would fit.

``spatial_explorer()`` puts that figure behind four ipywidgets sliders;
``show_conv_geometry`` displays it once, for a notebook without widgets.

``LivePicture`` shows controls over a picture so that a saved notebook still
shows the picture: the controls are a widget, the picture an ordinary PNG
output that the controls update (IPython's display_id). A widget's view is
lost with the kernel: a saved notebook holds only the widget's id, which
JupyterLab shows as its text repr (``VBox(children=(IntSlider(...``) or as
"Error displaying widget: model not found", and notebook viewers as text. An
ordinary PNG output shows everywhere, and no widget state is saved.

Colours come from ``vis.OKABE_ITO`` and no meaning rests on colour alone:
padding also carries 0s, the misfit is also dashed, hatched and labelled.
Figures are made with pyplot and never shown here; the caller shows or
closes them.
"""

import base64
import io
import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import FancyArrowPatch, Rectangle

from cs231n_lib.shapes import conv_output_size
from cs231n_lib.validation import require_non_negative_int, require_positive_int
from cs231n_lib.vis import OKABE_ITO, figure_png

# Largest padded input drawn: beyond it the cells get too small to read.
MAX_PADDED_SIZE = 64

# gid of the drawn artists, so tests (and curious students) can find them.
POSITION_GID = "filter-position"
OVERHANG_GID = "filter-overhang"
UNCOVERED_GID = "uncovered-columns"
FIRST_FILTER_GID = "first-filter"
FIRST_OUTPUT_GID = "first-output"
EXPLANATION_GID = "explanation"

_SKY_BLUE = OKABE_ITO[1]
_BLUE = OKABE_ITO[4]
_VERMILLION = OKABE_ITO[5]
_PAD_GREY = "#d9d9d9"
_LINE_GREY = "#7f7f7f"

_BAR_STEP = 1.0  # height of one lane of bars, in grid cells
_BAR_HEIGHT = 0.7
_GAP = 3.0  # cells between the input and the output grid


def filter_starts(n, f, stride=1, pad=0):
    """Where the filter's left edge sits along one row of the padded input.

    Inputs: n input size, f filter size, stride, pad (zeros on each side).
    Returns (starts, overhang): ``starts`` lists the columns, counted from the
    first padding column, of every position that lies inside the padded input;
    ``overhang`` is the column of the next position, which would hang over the
    edge, or None when the stride fits (the last position ends on the edge).
    """
    n, f, stride, pad = _validate(n, f, stride, pad)
    padded = n + 2 * pad
    starts = list(range(0, padded - f + 1, stride))
    if padded >= f and (padded - f) % stride == 0:
        return starts, None
    return starts, (starts[-1] + stride if starts else 0)


def formula_text(n, f, stride=1, pad=0):
    """'(N - F + 2P) / S + 1 = (7 - 3 + 2*0) / 2 + 1 = 3', with two decimals when not whole."""
    n, f, stride, pad = _validate(n, f, stride, pad)
    value = (n - f + 2 * pad) / stride + 1
    shown = str(int(value)) if value.is_integer() else f"{value:.2f}"
    return f"(N - F + 2P) / S + 1 = ({n} - {f} + 2*{pad}) / {stride} + 1 = {shown}"


def conv_geometry_figure(n, f, stride=1, pad=0):
    """Draw how an F x F filter slides over an N x N input; return the Figure.

    Inputs:
    - n: input size N (height = width)
    - f: filter size F
    - stride: step S between filter positions
    - pad: zeros P added on each side
    Returns a matplotlib Figure (not shown; call plt.show() or close it). Its
    title holds the formula with the numbers filled in. When the combination
    does not fit, the figure explains why instead of drawing an output.
    Raises TypeError/ValueError for sizes that are not whole numbers >= 1
    (pad >= 0), or a padded input larger than MAX_PADDED_SIZE.
    """
    n, f, stride, pad = _validate(n, f, stride, pad)
    padded = n + 2 * pad
    if padded > MAX_PADDED_SIZE:
        raise ValueError(
            f"the padded input {n} + 2*{pad} = {padded} is too large to draw (at most "
            f"{MAX_PADDED_SIZE}); conv_output_size({n}, {f}, stride={stride}, pad={pad}) gives the number"
        )
    try:
        out = conv_output_size(n, f, stride, pad)
        refusal = None
    except ValueError as err:
        out, refusal = None, str(err)
    starts, overhang = filter_starts(n, f, stride, pad)

    if out is not None:
        fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
        _draw_input(ax, n, f, stride, pad, starts, overhang)
        _draw_output(ax, padded, out)
        verdict = f"output {out}x{out}"
    else:
        fig, (ax, ax_text) = plt.subplots(
            2, 1, figsize=(9, 5.4), layout="constrained", gridspec_kw={"height_ratios": [3, 0.8]}
        )
        _draw_input(ax, n, f, stride, pad, starts, overhang)
        _draw_refusal(ax_text, n, f, stride, pad, starts, refusal)
        if padded < f:
            verdict = f"the {f}x{f} filter is larger than the {padded}x{padded} padded input"
        else:
            verdict = f"not a whole number, stride {stride} does not fit"
    fig.suptitle(f"{formula_text(n, f, stride, pad)}: {verdict}", fontsize=12)
    return fig


def show_conv_geometry(n, f, stride=1, pad=0):
    """The explorer's callback: draw the figure, display it in the notebook, close it."""
    from IPython.display import display

    fig = conv_geometry_figure(n, f, stride, pad)
    try:
        display(fig)
    finally:
        plt.close(fig)


def conv_geometry_png(n, f, stride=1, pad=0):
    """conv_geometry_figure(n, f, stride, pad) as PNG bytes (the figure is closed)."""
    return figure_png(conv_geometry_figure(n, f, stride, pad))


def spatial_explorer(n=7, f=3, stride=1, pad=0, *, max_n=16, max_f=7, max_stride=4, max_pad=3):
    """Sliders for N, F, S and P over the figure of ``conv_geometry_figure``.

    Returns a LivePicture: the four IntSliders (``.controls``), then the
    figure as a PNG output, redrawn when a slider is released; make it the last
    line of a cell to display it. A saved notebook keeps the figure of the
    last settings (the initial ones when run headless). A PNG output rather
    than ``interactive``'s Output area: executing a cell that displays into an
    Output widget sometimes loses the cell's execute reply under headless
    runners (nbclient, used by nbval and nbgrader), which then wait out their
    whole timeout.
    """
    import ipywidgets as widgets

    def slider(value, low, high, description):
        return widgets.IntSlider(value=value, min=low, max=high, step=1, description=description,
                                 continuous_update=False, style={"description_width": "initial"})

    sliders = [slider(n, 1, max_n, "input size N"), slider(f, 1, max_f, "filter size F"),
               slider(stride, 1, max_stride, "stride S"), slider(pad, 0, max_pad, "padding P")]
    explorer = LivePicture(sliders, conv_geometry_png(n, f, stride, pad), text=EXPLORER_TEXT)

    def redraw(_change):
        explorer.update(conv_geometry_png(*(s.value for s in sliders)))

    for s in sliders:
        s.observe(redraw, names="value")
    return explorer


# What a saved notebook shows as text, where a viewer cannot show the controls or the picture.
CONTROLS_TEXT = "[interactive controls: run the cell to use them]"
PICTURE_TEXT = "[figure: run the cell and move the sliders to redraw it]"
EXPLORER_TEXT = (
    "[figure: a filter sliding over a padded input, its output grid and (N - F + 2P) / S + 1; "
    "run the cell and move the sliders to redraw it]"
)


class LivePicture:
    """Controls (ipywidgets) above a picture that a saved notebook keeps.

    Displaying it makes two outputs: the controls as one widget (a VBox), and
    the picture as an ordinary image/png output with a display_id, replaced in
    place by ``update(png)``. Live, that looks like one widget; saved, the PNG
    shows in JupyterLab (with or without a kernel, trusted or not), nbviewer,
    GitHub and nbconvert, where a widget would show as text or an error.

    Inputs:
    - controls: list of widgets, shown top to bottom
    - png: PNG bytes of the first picture
    - text: text/plain of the picture, for viewers that show no images
    Attributes: ``controls`` (the VBox), ``png`` (the current picture, as
    ``compact_png`` makes it: pictures are stored in the notebook).
    """

    def __init__(self, controls, png, *, text=PICTURE_TEXT):
        import ipywidgets as widgets

        self.controls = widgets.VBox(list(controls))
        self.text = text
        self.png = compact_png(png)
        self._handles = []  # one per display, so every copy shown is redrawn

    @classmethod
    def from_box(cls, box, *, text=PICTURE_TEXT):
        """Make a LivePicture of a VBox that holds controls and one ipywidgets.Image.

        The Image's value becomes the picture, and each new value is shown; the
        other children, in order, become the controls. The Image itself is
        never shown, so its comm is closed: a picture crosses to the browser
        once, as an output, not also as widget state.
        """
        import ipywidgets as widgets

        images = [child for child in box.children if isinstance(child, widgets.Image)]
        if len(images) != 1:
            raise ValueError(
                f"from_box needs a box with exactly one ipywidgets.Image to show as the picture; "
                f"this {type(box).__name__} has {len(images)} among its {len(box.children)} children"
            )
        (image,) = images
        live = cls([child for child in box.children if child is not image], bytes(image.value), text=text)
        image.observe(lambda change: live.update(bytes(change["new"])), names="value")
        image.close()
        return live

    def picture_bundle(self):
        """The picture's output: {'image/png': the PNG in base64, as notebooks store it, 'text/plain': the text}."""
        return {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": self.text}

    def controls_bundle(self):
        """The controls' output: ipywidgets' own view of the VBox, with a short text/plain."""
        bundle = dict(self.controls._repr_mimebundle_())
        bundle["text/plain"] = CONTROLS_TEXT
        return bundle

    def update(self, png):
        """Show ``png`` (made compact) in place of the picture, wherever this was displayed."""
        self.png = compact_png(png)
        for handle in self._handles:
            handle.update(self.picture_bundle(), raw=True)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.controls_bundle(), raw=True)
        self._handles.append(display(self.picture_bundle(), raw=True, display_id=True))

    def close(self):
        """Close the controls' widgets (the picture outputs stay as they are)."""
        for child in self.controls.children:
            child.close()
        self.controls.close()
        self._handles.clear()


def compact_png(png, colors=128):
    """``png`` with at most ``colors`` colours, on white: an 8-bit palette PNG, a third the size or less.

    Figures hold few colours, but antialiasing makes RGBA files large (152 kB for
    the optimizer race at step 0, 46 kB after); the picture is stored in the
    notebook and resent on every slider move. Maximum-coverage quantization keeps
    white exact, where octree quantization makes it 254; below 128 colours the
    race's grey contours turn mauve. Transparent pixels become white, like a
    figure's page.
    """
    from PIL import Image

    with Image.open(io.BytesIO(_require_png(png))) as image:
        page = Image.new("RGBA", image.size, "white")
        page.alpha_composite(image.convert("RGBA"))
        small = page.convert("RGB").quantize(colors=colors, method=Image.Quantize.MAXCOVERAGE)
    buffer = io.BytesIO()
    small.save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _require_png(png):
    png = bytes(png)
    if not png.startswith(b"\x89PNG"):
        raise ValueError(f"the picture must be PNG bytes (starting b'\\x89PNG'); got {png[:8]!r}")
    return png


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------


def _count(k, noun):
    return f"{k} {noun}" + ("" if k == 1 else "s")


def _validate(n, f, stride, pad):
    return (
        require_positive_int("input size", n),
        require_positive_int("filter size", f),
        require_positive_int("stride", stride),
        require_non_negative_int("pad", pad),
    )


def _grid_lines(ax, x0, size):
    edges = np.arange(size + 1)
    ax.vlines(x0 + edges, 0, size, colors=_LINE_GREY, linewidth=0.5)
    ax.hlines(edges, x0, x0 + size, colors=_LINE_GREY, linewidth=0.5)


def _bar_top(lane):
    """y of the top edge of a bar in ``lane`` (y grows downwards; the grid starts at y = 0)."""
    return -(0.3 + (lane + 1) * _BAR_STEP)


def _draw_input(ax, n, f, stride, pad, starts, overhang):
    padded = n + 2 * pad
    mask = np.zeros((padded, padded))
    mask[pad:pad + n, pad:pad + n] = 1
    ax.imshow(mask, cmap=ListedColormap([_PAD_GREY, "white"]), vmin=0, vmax=1,
              extent=(0, padded, padded, 0), interpolation="nearest")
    _grid_lines(ax, 0, padded)
    ax.add_patch(Rectangle((pad, pad), n, n, fill=False, edgecolor="black", linewidth=2))
    if pad and padded <= 16:
        for row in range(padded):
            for col in range(padded):
                if not mask[row, col]:
                    ax.text(col + 0.5, row + 0.5, "0", ha="center", va="center", fontsize=7, color="#404040")

    # Bars: position k goes in lane k % lanes; two bars in one lane start
    # lanes * stride >= f columns apart, so they never overlap.
    lanes = math.ceil(f / stride)
    count = len(starts) + (overhang is not None)
    used_lanes = min(lanes, count)
    label = count <= 20
    for k, start in enumerate(starts):
        y = _bar_top(k % lanes)
        ax.add_patch(Rectangle((start, y), f, _BAR_HEIGHT, facecolor=_SKY_BLUE, edgecolor=_BLUE,
                               linewidth=1, gid=POSITION_GID))
        if label:
            ax.text(start + f / 2, y + _BAR_HEIGHT / 2, str(k + 1), ha="center", va="center", fontsize=7)
    if starts:
        ax.add_patch(Rectangle((0, 0), f, f, fill=False, edgecolor=_BLUE, linewidth=3, gid=FIRST_FILTER_GID))

    right = padded
    if overhang is not None:
        y = _bar_top(len(starts) % lanes)
        ax.add_patch(Rectangle((overhang, y), f, _BAR_HEIGHT, facecolor="white", edgecolor=_VERMILLION,
                               linewidth=1.5, linestyle="--", hatch="//", gid=OVERHANG_GID))
        right = max(right, overhang + f)
        ax.text(overhang + f + 0.2, y + _BAR_HEIGHT / 2, "does not fit", ha="left", va="center",
                fontsize=9, color=_VERMILLION)
        right += 4  # room for the label
        if not starts:
            ax.add_patch(Rectangle((0, 0), f, f, fill=False, edgecolor=_VERMILLION, linewidth=2,
                                   linestyle="--", gid=FIRST_FILTER_GID))
        else:
            covered = starts[-1] + f
            ax.add_patch(Rectangle((covered, 0), padded - covered, padded, fill=False, edgecolor=_VERMILLION,
                                   linewidth=1.5, hatch="xx", gid=UNCOVERED_GID))
    top = _bar_top(used_lanes - 1) - 0.4
    ax.set_xlim(-0.5, right + 0.5)
    ax.set_ylim(max(padded, f) + 0.5, top)
    ax.set_aspect("equal")
    ax.axis("off")
    padding = f", padded with {pad} zero{'s' if pad != 1 else ''} on each side to {padded}x{padded}" if pad else ""
    ax.set_title(
        f"input {n}x{n}{padding}\n"
        f"bars: the {f}x{f} filter's positions along the top row, {stride} column{'s' if stride != 1 else ''} apart",
        fontsize=10, loc="left",
    )


def _draw_output(ax, padded, out):
    x0 = padded + _GAP
    ax.add_patch(Rectangle((x0, 0), out, out, facecolor="white", edgecolor="black", linewidth=2))
    _grid_lines(ax, x0, out)
    ax.add_patch(Rectangle((x0, 0), 1, 1, facecolor=_SKY_BLUE, edgecolor=_BLUE, linewidth=3,
                           gid=FIRST_OUTPUT_GID))
    if out <= 12:
        for k in range(out):
            ax.text(x0 + k + 0.5, 0.5, str(k + 1), ha="center", va="center", fontsize=7)
    ax.add_patch(FancyArrowPatch((padded + 0.4, min(padded, out) / 2), (x0 - 0.4, min(padded, out) / 2),
                                 arrowstyle="-|>", mutation_scale=15, color="black"))
    ax.text(x0, out + 0.4, f"output {out}x{out}\n(top row: one cell per bar)", ha="left", va="top", fontsize=10)
    ax.set_xlim(-0.5, x0 + out + 0.5)


def _draw_refusal(ax, n, f, stride, pad, starts, refusal):
    padded = n + 2 * pad
    if starts:
        covered = starts[-1] + f
        missed = padded - covered
        hang = starts[-1] + stride + f - padded
        story = (
            f"Along each axis the filter fits {_count(len(starts), 'time')}; its last position ends at "
            f"column {covered} of {padded}, the next step would hang {_count(hang, 'column')} over the "
            f"edge, and {'the last column' if missed == 1 else f'the last {missed} columns'} (hatched) "
            "would never be seen."
        )
    else:
        story = f"The {f}x{f} filter does not fit even once inside the {padded}x{padded} padded input."
    text = "\n".join(
        [
            "Does not fit. " + story,
            "",
            "conv_output_size says: " + refusal,
        ]
    )
    wrapped = "\n".join(textwrap.fill(part, width=100) if part else "" for part in text.split("\n"))
    ax.text(0.0, 1.0, wrapped, ha="left", va="top", fontsize=10, transform=ax.transAxes,
            gid=EXPLANATION_GID)
    ax.axis("off")
