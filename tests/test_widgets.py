"""Tests for cs231n_lib.widgets, the spatial-arithmetic explorer.

Oracles: filter positions counted by hand for small cases; the library's
``conv_output_size`` for the number of drawn positions (a hypothesis sweep);
its ValueError message, which an invalid figure must quote; the drawn
artists themselves, found by their gid; for LivePicture, the outputs an
IPython shell publishes (captured) and the PNG header's own width and height;
for the saved notebooks, their JSON. Figures render on Agg, every test
starts and ends with no open figure, and plt.show is refused.
"""

import base64
import io
import json
import struct
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import IPython.display  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figures import no_open_figures  # noqa: E402, F401  (autouse: applies to every test here)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from cs231n_lib.shapes import conv_output_size  # noqa: E402
from cs231n_lib.widgets import (  # noqa: E402
    CONTROLS_TEXT,
    EXPLANATION_GID,
    FIRST_FILTER_GID,
    FIRST_OUTPUT_GID,
    MAX_PADDED_SIZE,
    OVERHANG_GID,
    POSITION_GID,
    UNCOVERED_GID,
    LivePicture,
    compact_png,
    conv_geometry_figure,
    conv_geometry_png,
    filter_starts,
    formula_text,
    show_conv_geometry,
    spatial_explorer,
)


def with_gid(fig, gid):
    return fig.findobj(lambda artist: artist.get_gid() == gid)


def texts(fig):
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def flat(text):
    return " ".join(text.split())


def library_refusal(n, f, stride, pad):
    with pytest.raises(ValueError) as info:
        conv_output_size(n, f, stride, pad)
    return str(info.value)


# ---------------------------------------------------------------------------
# filter_starts and formula_text
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, starts, overhang",
    [
        ((7, 3, 1, 0), [0, 1, 2, 3, 4], None),
        ((7, 3, 2, 0), [0, 2, 4], None),
        ((7, 3, 3, 0), [0, 3], 6),  # the lecture's misfit: column 6 would hang 2 over
        ((7, 3, 2, 1), [0, 2, 4, 6], None),  # padded to 9
        ((3, 5, 1, 0), [], 0),  # the filter is larger than the input
        ((1, 1, 1, 0), [0], None),
    ],
)
def test_filter_starts_by_hand(args, starts, overhang):
    assert filter_starts(*args) == (starts, overhang)


@pytest.mark.parametrize(
    "args, text",
    [
        ((7, 3, 1, 0), "(N - F + 2P) / S + 1 = (7 - 3 + 2*0) / 1 + 1 = 5"),
        ((7, 3, 3, 0), "(N - F + 2P) / S + 1 = (7 - 3 + 2*0) / 3 + 1 = 2.33"),
        ((32, 5, 1, 2), "(N - F + 2P) / S + 1 = (32 - 5 + 2*2) / 1 + 1 = 32"),
    ],
)
def test_formula_text_fills_in_the_numbers(args, text):
    assert formula_text(*args) == text


# ---------------------------------------------------------------------------
# Valid combinations
# ---------------------------------------------------------------------------


def test_valid_figure_draws_every_position_and_the_output():
    fig = conv_geometry_figure(7, 3, stride=2, pad=0)
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() == "(N - F + 2P) / S + 1 = (7 - 3 + 2*0) / 2 + 1 = 3: output 3x3"
    positions = with_gid(fig, POSITION_GID)
    assert sorted(p.get_x() for p in positions) == [0, 2, 4]
    assert all(p.get_width() == 3 for p in positions)
    assert not with_gid(fig, OVERHANG_GID) and not with_gid(fig, UNCOVERED_GID)
    assert len(with_gid(fig, FIRST_FILTER_GID)) == 1 and len(with_gid(fig, FIRST_OUTPUT_GID)) == 1
    assert any("output 3x3" in t for t in texts(fig))
    assert not with_gid(fig, EXPLANATION_GID)
    plt.close(fig)


def test_padding_is_drawn_and_marked_with_zeros():
    fig = conv_geometry_figure(7, 3, stride=1, pad=1)
    all_texts = texts(fig)
    assert all_texts.count("0") == 9 * 9 - 7 * 7  # every padding cell of the 9x9 padded input
    assert any("padded with 1 zero on each side to 9x9" in t for t in all_texts)
    assert len(with_gid(fig, POSITION_GID)) == 7
    assert "= 7: output 7x7" in fig.get_suptitle()
    plt.close(fig)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 12), f=st.integers(1, 7), stride=st.integers(1, 4), pad=st.integers(0, 3))
def test_drawn_positions_agree_with_the_library(n, f, stride, pad):
    fig = conv_geometry_figure(n, f, stride, pad)
    try:
        positions = with_gid(fig, POSITION_GID)
        try:
            out = conv_output_size(n, f, stride, pad)
        except ValueError as err:
            assert len(with_gid(fig, OVERHANG_GID)) == 1
            assert flat(str(err)) in flat(" ".join(texts(fig)))
            assert len(positions) == len(filter_starts(n, f, stride, pad)[0])
        else:
            assert len(positions) == out and not with_gid(fig, OVERHANG_GID)
            assert fig.get_suptitle().endswith(f"= {out}: output {out}x{out}")
        # Bars that share a lane never overlap.
        lanes = {}
        for p in positions:
            lanes.setdefault(p.get_y(), []).append((p.get_x(), p.get_x() + p.get_width()))
        for spans in lanes.values():
            spans.sort()
            assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))
    finally:
        plt.close(fig)


# ---------------------------------------------------------------------------
# Invalid combinations: explained, not drawn as nonsense
# ---------------------------------------------------------------------------


def test_stride_that_does_not_fit_is_explained_with_the_librarys_message():
    fig = conv_geometry_figure(7, 3, stride=3, pad=0)
    assert fig.get_suptitle() == (
        "(N - F + 2P) / S + 1 = (7 - 3 + 2*0) / 3 + 1 = 2.33: not a whole number, stride 3 does not fit"
    )
    assert [p.get_x() for p in with_gid(fig, POSITION_GID)] == [0, 3]
    (overhang,) = with_gid(fig, OVERHANG_GID)
    assert overhang.get_x() == 6 and overhang.get_x() + overhang.get_width() == 9  # 2 past the 7 columns
    (uncovered,) = with_gid(fig, UNCOVERED_GID)
    assert (uncovered.get_x(), uncovered.get_width()) == (6, 1)
    assert not with_gid(fig, FIRST_OUTPUT_GID), "no output grid for a layer that does not exist"
    (explanation,) = with_gid(fig, EXPLANATION_GID)
    words = flat(explanation.get_text())
    assert flat(library_refusal(7, 3, 3, 0)) in words
    assert "pad=1 (with stride 3) or stride=2 or stride=4 (with pad 0) would fit" in words
    assert "the next step would hang 2 columns over the edge, and the last column (hatched)" in words
    assert "does not fit" in texts(fig)
    plt.close(fig)


def test_filter_larger_than_the_input_is_explained():
    fig = conv_geometry_figure(3, 5, stride=1, pad=0)
    assert "the 5x5 filter is larger than the 3x3 padded input" in fig.get_suptitle()
    assert not with_gid(fig, POSITION_GID) and len(with_gid(fig, OVERHANG_GID)) == 1
    (explanation,) = with_gid(fig, EXPLANATION_GID)
    assert "does not fit even once" in explanation.get_text()
    assert flat(library_refusal(3, 5, 1, 0)) in flat(explanation.get_text())
    plt.close(fig)


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((0, 3, 1, 0), ValueError, "input size must be positive, got 0"),
        ((7, 2.5, 1, 0), TypeError, "filter size must be a whole number"),
        ((7, 3, 0, 0), ValueError, "stride must be positive"),
        ((7, 3, 1, -1), ValueError, "pad must be zero or positive"),
        ((MAX_PADDED_SIZE, 3, 1, 1), ValueError, f"{MAX_PADDED_SIZE} + 2*1 = {MAX_PADDED_SIZE + 2} is too large"),
    ],
)
def test_bad_arguments_raise_before_drawing(args, error, words):
    with pytest.raises(error, match=words.replace("*", r"\*").replace("+", r"\+")):
        conv_geometry_figure(*args)
    assert not plt.get_fignums()


# ---------------------------------------------------------------------------
# The widget and its callback
# ---------------------------------------------------------------------------


@pytest.fixture
def displayed(monkeypatch):
    shown = []

    def fake_display(obj):
        shown.append((obj, obj.get_suptitle(), plt.fignum_exists(obj.number)))

    monkeypatch.setattr(IPython.display, "display", fake_display)
    return shown


def test_callback_displays_the_figure_then_closes_it(displayed):
    show_conv_geometry(7, 3, 3, 0)
    ((fig, title, open_while_shown),) = displayed
    assert isinstance(fig, Figure) and open_while_shown
    assert "2.33" in title
    assert not plt.get_fignums()


def test_explorer_has_four_sliders_wired_to_the_figure(monkeypatch):
    import ipywidgets

    import cs231n_lib.widgets as widgets_module

    titles = []
    real_figure = widgets_module.conv_geometry_figure

    def recording_figure(*args):
        fig = real_figure(*args)
        titles.append(fig.get_suptitle())
        return fig

    monkeypatch.setattr(widgets_module, "conv_geometry_figure", recording_figure)
    explorer = spatial_explorer()
    assert isinstance(explorer, LivePicture)
    sliders = list(explorer.controls.children)
    assert all(isinstance(s, ipywidgets.IntSlider) for s in sliders)
    assert [(s.description, s.value, s.min, s.max) for s in sliders] == [
        ("input size N", 7, 1, 16),
        ("filter size F", 3, 1, 7),
        ("stride S", 1, 1, 4),
        ("padding P", 0, 0, 3),
    ]
    assert all(not s.continuous_update for s in sliders)
    first = explorer.png
    sliders[2].value = 3  # stride 3 on 7x7 with 3x3: does not fit
    assert titles[0].endswith("= 5: output 5x5")
    assert titles[-1].endswith("stride 3 does not fit")
    assert first.startswith(b"\x89PNG") and explorer.png.startswith(b"\x89PNG")
    assert explorer.png != first
    assert not plt.get_fignums()
    explorer.close()


# ---------------------------------------------------------------------------
# LivePicture: what a notebook receives, and keeps
# ---------------------------------------------------------------------------


def png_size(data):
    """(width, height) read from a PNG's IHDR chunk, which follows the 8-byte signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"not a PNG: starts {data[:8]!r}"
    return struct.unpack(">II", data[16:24])


def pixels(png):
    """The picture as an (H, W, 3) float array of 0..255 RGB values."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"), dtype=float)


def assert_looks_like(png, reference, where=""):
    """``png`` shows ``reference``: same size, mean colour error under 1 of 255, none over 64."""
    got, want = pixels(png), pixels(reference)
    assert got.shape == want.shape, f"{where}: picture is {got.shape}, expected {want.shape}"
    error = np.abs(got - want)
    assert error.mean() < 1.0 and error.max() <= 64, (
        f"{where}: mean colour error {error.mean():.2f}, largest {error.max():.0f} (of 255)"
    )


def test_compact_png_is_a_palette_png_of_the_same_picture():
    from PIL import Image

    original = conv_geometry_png(7, 3, 3, 0)
    small = compact_png(original)
    with Image.open(io.BytesIO(small)) as image:
        assert image.mode == "P" and len(image.convert("RGB").getcolors(256)) <= 128
    assert len(small) < len(original) / 2, f"{len(small)} bytes is not under half of {len(original)}"
    assert_looks_like(small, original, "compact_png")


def test_compact_png_puts_transparency_on_white():
    from PIL import Image

    clear = Image.new("RGBA", (4, 2), (255, 0, 0, 0))
    clear.putpixel((0, 0), (0, 0, 255, 255))
    buffer = io.BytesIO()
    clear.save(buffer, format="png")
    got = pixels(compact_png(buffer.getvalue()))
    assert tuple(got[0, 0]) == (0, 0, 255) and tuple(got[1, 3]) == (255, 255, 255), got


@pytest.fixture
def shell():
    """A real IPython shell (no kernel), so display() and the displayhook publish."""
    from IPython.core.interactiveshell import InteractiveShell

    yield InteractiveShell.instance()
    InteractiveShell.clear_instance()


def run_cell(shell, code, **names):
    """Run ``code`` as a notebook cell; return what it published, as (data, transient, update) triples."""
    from IPython.utils.capture import capture_output

    shell.user_ns.update(names)
    with capture_output() as captured:
        result = shell.run_cell(code)
    result.raise_error()
    return [(out.data, out.transient, out.update) for out in captured.outputs]


def test_a_cell_ending_in_the_explorer_outputs_the_controls_then_one_picture(shell):
    explorer = spatial_explorer()
    outputs = run_cell(shell, "explorer", explorer=explorer)
    assert len(outputs) == 2, f"expected 2 outputs (controls, picture), got {len(outputs)}: {outputs}"
    (controls, _, controls_update), (picture, transient, picture_update) = outputs
    assert not controls_update and not picture_update
    # The controls: ipywidgets' own view of the VBox, and short text instead of the repr.
    view = controls["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == explorer.controls.model_id
    assert controls["text/plain"] == CONTROLS_TEXT
    assert "image/png" not in controls, "the picture must be its own output, not only in the widget's bundle"
    # The picture: an ordinary PNG output with a display_id, no widget in it.
    assert set(picture) == {"image/png", "text/plain"}
    assert transient.get("display_id"), "the picture needs a display_id so the sliders can redraw it"
    png = base64.b64decode(picture["image/png"])
    assert png == explorer.png
    assert_looks_like(png, conv_geometry_png(7, 3, 1, 0), "the explorer's first picture")
    assert png_size(png) == (900, 480), "figsize (9, 4.8) at matplotlib's 100 dpi"
    assert "VBox(" not in picture["text/plain"] and "figure" in picture["text/plain"]
    explorer.close()


def test_moving_a_slider_redraws_the_picture_in_place(shell):
    explorer = spatial_explorer()
    (_, (_, shown, _)) = run_cell(shell, "explorer", explorer=explorer)
    stride = explorer.controls.children[2]
    updates = run_cell(shell, "stride.value = 3", stride=stride)
    assert len(updates) == 1, f"expected one display update and no new output, got {len(updates)}"
    ((data, transient, update),) = updates
    assert update and transient["display_id"] == shown["display_id"]
    assert base64.b64decode(data["image/png"]) == explorer.png
    assert_looks_like(explorer.png, conv_geometry_png(7, 3, 3, 0), "after stride 3")
    explorer.close()


def test_displaying_twice_redraws_both_pictures(shell):
    explorer = spatial_explorer()
    first = run_cell(shell, "explorer", explorer=explorer)
    second = run_cell(shell, "display(explorer)", explorer=explorer)
    ids = {first[1][1]["display_id"], second[1][1]["display_id"]}
    assert len(ids) == 2
    updates = run_cell(shell, "pad.value = 1", pad=explorer.controls.children[3])
    assert {t["display_id"] for _, t, update in updates if update} == ids
    explorer.close()


def test_from_box_shows_the_image_as_the_picture_and_the_rest_as_controls(shell):
    import ipywidgets

    red, blue = conv_geometry_png(5, 3, 1, 0), conv_geometry_png(5, 1, 1, 0)
    slider = ipywidgets.IntSlider(value=0)
    image = ipywidgets.Image(value=red, format="png")
    label = ipywidgets.Label("after the image")
    live = LivePicture.from_box(ipywidgets.VBox([slider, image, label]), text="[a test picture]")
    assert list(live.controls.children) == [slider, label]
    assert_looks_like(live.png, red, "from_box's first picture")
    assert image.comm is None, "the Image is never shown, so its comm is closed"
    (_, (picture, shown, _)) = run_cell(shell, "live", live=live)
    assert base64.b64decode(picture["image/png"]) == live.png and picture["text/plain"] == "[a test picture]"
    ((data, transient, update),) = run_cell(shell, "image.value = blue", image=image, blue=blue)
    assert update and transient["display_id"] == shown["display_id"]
    assert base64.b64decode(data["image/png"]) == live.png
    assert_looks_like(live.png, blue, "from_box after the Image changed")
    live.close()


def test_from_box_needs_exactly_one_image():
    import ipywidgets

    box = ipywidgets.VBox([ipywidgets.IntSlider()])
    with pytest.raises(ValueError, match="exactly one ipywidgets.Image .* this VBox has 0 among its 1 children"):
        LivePicture.from_box(box)
    box.close()


def test_the_picture_must_be_png():
    with pytest.raises(ValueError, match=r"must be PNG bytes .* got b'GIF89a"):
        LivePicture([], b"GIF89a...")


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.parametrize(
    "notebook, call",
    [("01_spatial_arithmetic.ipynb", "spatial_explorer()"), ("05_sgd_and_update_rules.ipynb", "race_widget(races)")],
)
def test_saved_widget_cells_show_a_small_picture_not_a_repr(notebook, call):
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    widget_cells = [c for c in cells if c["cell_type"] == "code" and call in "".join(c["source"])]
    assert len(widget_cells) == 1, f"{notebook}: expected one cell calling {call}, found {len(widget_cells)}"
    outputs = widget_cells[0]["outputs"]
    pictures = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert len(pictures) == 1, f"{notebook}: the {call} cell should store one picture, has {len(pictures)}"
    png = base64.b64decode("".join(pictures[0]))
    width, height = png_size(png)
    assert width >= 400 and height >= 200, f"{notebook}: the picture is only {width}x{height}"
    assert len(png) < 60_000, f"{notebook}: the stored picture is {len(png)} bytes, over 60000"
    texts = ["".join(o.get("data", {}).get("text/plain", "")) for o in outputs]
    assert not any(t.startswith(("VBox(", "Image(")) for t in texts), f"{notebook}: a widget repr is stored: {texts}"
