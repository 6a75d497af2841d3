"""Tests for cs231n_lib.widgets, the spatial-arithmetic explorer.

Oracles: filter positions counted by hand for small cases; the library's
``conv_output_size`` for the number of drawn positions (a hypothesis sweep);
its ValueError message, which an invalid figure must quote; the drawn
artists themselves, found by their gid. Figures render on Agg, every test
starts and ends with no open figure, and plt.show is refused.
"""

import matplotlib

matplotlib.use("Agg")

import IPython.display  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from figures import no_open_figures  # noqa: E402, F401  (autouse: applies to every test here)
from cs231n_lib.shapes import conv_output_size  # noqa: E402
from cs231n_lib.widgets import (  # noqa: E402
    EXPLANATION_GID,
    FIRST_FILTER_GID,
    FIRST_OUTPUT_GID,
    MAX_PADDED_SIZE,
    OVERHANG_GID,
    POSITION_GID,
    UNCOVERED_GID,
    conv_geometry_figure,
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
    box = spatial_explorer()
    sliders = [w for w in box.children if isinstance(w, ipywidgets.IntSlider)]
    (image,) = [w for w in box.children if isinstance(w, ipywidgets.Image)]
    assert [(s.description, s.value, s.min, s.max) for s in sliders] == [
        ("input size N", 7, 1, 16),
        ("filter size F", 3, 1, 7),
        ("stride S", 1, 1, 4),
        ("padding P", 0, 0, 3),
    ]
    assert all(not s.continuous_update for s in sliders)
    first = bytes(image.value)  # the widget holds a memoryview
    sliders[2].value = 3  # stride 3 on 7x7 with 3x3: does not fit
    assert titles[0].endswith("= 5: output 5x5")
    assert titles[-1].endswith("stride 3 does not fit")
    assert first.startswith(b"\x89PNG") and bytes(image.value).startswith(b"\x89PNG")
    assert bytes(image.value) != first
    assert not plt.get_fignums()
    box.close()
