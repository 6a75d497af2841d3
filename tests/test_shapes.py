"""Tests for cs231n_lib.shapes: spatial arithmetic, geometry checks, layer tables.

Oracles: the lecture's worked examples, arithmetic written out by hand, and
properties checked by hypothesis against the defining formula
(n - f + 2*pad) / stride + 1.
"""

import math
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cs231n_lib.shapes import (
    FC,
    Conv,
    ConvGeometry,
    Pool,
    PoolGeometry,
    ReLU,
    conv_geometry,
    conv_output_size,
    format_bytes,
    format_stack_table,
    format_volume,
    pool_geometry,
    pool_output_size,
    summarize_stack,
)

SWEEP = settings(max_examples=100, deadline=None, database=None)


def conv_fits(n, f, stride, pad):
    """The defining rule, written independently of the library."""
    span = n - f + 2 * pad
    return span >= 0 and span % stride == 0


def pool_fits(n, f, stride):
    return conv_fits(n, f, stride, 0)


def suggested(pattern, message):
    return [int(k) for k in re.findall(pattern, message)]


# ---------------------------------------------------------------------------
# conv_output_size: the lecture's cases
# ---------------------------------------------------------------------------


def test_conv_7x7_input_3x3_filter_stride_1_gives_5():
    assert conv_output_size(7, 3, stride=1) == 5  # (7 - 3) / 1 + 1


def test_conv_7x7_input_3x3_filter_stride_2_gives_3():
    assert conv_output_size(7, 3, stride=2) == 3  # (7 - 3) / 2 + 1


def test_conv_32_input_5_filter_gives_28():
    assert conv_output_size(32, 5) == 28  # (32 - 5) / 1 + 1


def test_conv_defaults_are_stride_1_pad_0():
    assert conv_output_size(10, 4) == 7


@pytest.mark.parametrize("f", [3, 5, 7])
@pytest.mark.parametrize("n", [7, 32, 224])
def test_conv_pad_half_filter_keeps_size(n, f):
    assert conv_output_size(n, f, stride=1, pad=(f - 1) // 2) == n


def test_conv_stride_3_on_7x7_with_3x3_raises():
    with pytest.raises(ValueError):
        conv_output_size(7, 3, stride=3)


def test_conv_stride_error_message_shows_the_arithmetic():
    with pytest.raises(ValueError) as info:
        conv_output_size(7, 3, stride=3, pad=0)
    message = str(info.value)
    assert "stride 3" in message
    assert "(7 - 3 + 2*0) / 3 + 1" in message
    assert "2.33" in message  # 4 / 3 + 1 = 2.333...
    assert "pad=1" in message  # (7 - 3 + 2*1) / 3 + 1 = 3
    assert "stride=2" in message  # (7 - 3) / 2 + 1 = 3


def test_conv_error_message_names_the_axis():
    with pytest.raises(ValueError, match=r"^height: stride 3"):
        conv_output_size(7, 3, stride=3, axis="height")


def test_conv_filter_larger_than_padded_input_raises_with_sizes():
    # 2 + 2*0 = 2 < 5; pad=2 gives (2 - 5 + 4) / 1 + 1 = 2
    with pytest.raises(ValueError) as info:
        conv_output_size(2, 5, stride=1, pad=0)
    message = str(info.value)
    assert "filter 5" in message
    assert "input 2" in message
    assert "pad=2" in message


# ---------------------------------------------------------------------------
# pool_output_size
# ---------------------------------------------------------------------------


def test_pool_2x2_stride_2_halves_224():
    assert pool_output_size(224, 2, 2) == 112


def test_pool_stride_defaults_to_window():
    assert pool_output_size(6, 3) == 2  # (6 - 3) / 3 + 1


def test_pool_overlapping_3_stride_2_on_13_gives_6():
    assert pool_output_size(13, 3, 2) == 6  # AlexNet: (13 - 3) / 2 + 1


def test_pool_error_message_shows_the_arithmetic_and_fixes():
    with pytest.raises(ValueError) as info:
        pool_output_size(7, 2, 2)
    message = str(info.value)
    assert "pool window 2" in message
    assert "stride 2" in message
    assert "(7 - 2) / 2 + 1" in message
    assert "3.50" in message  # 5 / 2 + 1
    assert "stride=1" in message  # (7 - 2) / 1 + 1 = 6
    assert "pool size 3" in message  # (7 - 3) / 2 + 1 = 3


def test_pool_window_larger_than_input_raises_with_sizes():
    with pytest.raises(ValueError, match=r"pool window 4 is larger than the input 3"):
        pool_output_size(3, 4, 1)


# ---------------------------------------------------------------------------
# Properties over random sizes
# ---------------------------------------------------------------------------

sizes = st.integers(1, 40)
filters = st.integers(1, 12)
strides = st.integers(1, 8)
pads = st.integers(0, 6)


@SWEEP
@given(n=sizes, f=filters, stride=strides, pad=pads)
def test_conv_output_size_raises_exactly_when_it_does_not_fit(n, f, stride, pad):
    if conv_fits(n, f, stride, pad):
        assert conv_output_size(n, f, stride, pad) == (n - f + 2 * pad) // stride + 1
    else:
        with pytest.raises(ValueError):
            conv_output_size(n, f, stride, pad)


@SWEEP
@given(out=st.integers(1, 30), f=filters, stride=strides, pad=pads)
def test_conv_output_size_satisfies_the_span_identity(out, f, stride, pad):
    n = (out - 1) * stride + f - 2 * pad
    assume(n >= 1)
    r = conv_output_size(n, f, stride, pad)
    assert r == out
    assert (r - 1) * stride + f == n + 2 * pad


@SWEEP
@given(n=sizes, f=filters, stride=strides, pad=pads)
def test_every_fix_suggested_for_a_conv_actually_fits(n, f, stride, pad):
    assume(not conv_fits(n, f, stride, pad))
    with pytest.raises(ValueError) as info:
        conv_output_size(n, f, stride, pad)
    message = str(info.value)
    assert f"({n} - {f} + 2*{pad}) / {stride} + 1" in message
    # Three kinds of fix: a pad keeping the stride, a stride keeping the pad,
    # and (when neither alone fits) a pad together with stride 1.
    for new_pad in suggested(r"pad=(\d+) \(with stride", message):
        assert conv_output_size(n, f, stride, new_pad) >= 1
    for new_stride in suggested(r"(?<!with )stride=(\d+)", message):
        assert conv_output_size(n, f, new_stride, pad) >= 1
    for new_pad, new_stride in re.findall(r"pad=(\d+) with stride=(\d+)", message):
        assert conv_output_size(n, f, int(new_stride), int(new_pad)) >= 1
    assert re.search(r"(pad|stride)=\d+", message), f"no fix offered: {message}"


@SWEEP
@given(n=sizes, f=filters, stride=strides, pad=pads)
def test_a_fitting_pad_is_suggested_whenever_one_exists(n, f, stride, pad):
    assume(not conv_fits(n, f, stride, pad))
    # 2*p runs through every residue mod stride within `stride` steps, so a
    # search up to f + stride covers every pad that could ever fit.
    fitting = [p for p in range(0, f + stride + 1) if conv_fits(n, f, stride, p)]
    with pytest.raises(ValueError) as info:
        conv_output_size(n, f, stride, pad)
    offered = suggested(r"pad=(\d+) \(with stride", str(info.value))
    assert bool(offered) == bool(fitting)


@SWEEP
@given(n=sizes, f=filters, stride=st.one_of(st.none(), strides))
def test_every_fix_suggested_for_a_pool_actually_fits(n, f, stride):
    effective_stride = f if stride is None else stride
    assume(not pool_fits(n, f, effective_stride))
    with pytest.raises(ValueError) as info:
        pool_output_size(n, f, stride)
    message = str(info.value)
    for new_stride in suggested(r"stride=(\d+)", message):
        assert pool_output_size(n, f, new_stride) >= 1
    for new_size in suggested(r"pool size (\d+)", message):
        assert pool_output_size(n, new_size, effective_stride) >= 1


@SWEEP
@given(out=st.integers(1, 30), f=filters, stride=strides)
def test_pool_output_size_satisfies_the_span_identity(out, f, stride):
    n = (out - 1) * stride + f
    r = pool_output_size(n, f, stride)
    assert r == out
    assert (r - 1) * stride + f == n


# ---------------------------------------------------------------------------
# Argument types and ranges
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [3.0, 2.5, True, "3", None])
@pytest.mark.parametrize("position", ["n", "f", "stride", "pad"])
def test_conv_output_size_refuses_non_integers(position, bad):
    args = {"n": 7, "f": 3, "stride": 1, "pad": 0}
    args[position] = bad
    with pytest.raises(TypeError, match="whole number"):
        conv_output_size(args["n"], args["f"], args["stride"], args["pad"])


@pytest.mark.parametrize(
    "n, f, stride, pad, shown",
    [
        (0, 3, 1, 0, "input size must be positive, got 0"),
        (-7, 3, 1, 0, "input size must be positive, got -7"),
        (7, 0, 1, 0, "filter size must be positive, got 0"),
        (7, 3, 0, 0, "stride must be positive, got 0"),
        (7, 3, -2, 0, "stride must be positive, got -2"),
        (7, 3, 1, -1, "pad must be zero or positive, got -1"),
    ],
)
def test_conv_output_size_refuses_zero_and_negative(n, f, stride, pad, shown):
    with pytest.raises(ValueError, match=re.escape(shown)):
        conv_output_size(n, f, stride, pad)


@pytest.mark.parametrize("bad", [2.0, False, "2"])
def test_pool_output_size_refuses_non_integers(bad):
    with pytest.raises(TypeError, match="whole number"):
        pool_output_size(8, 2, bad)
    with pytest.raises(TypeError, match="whole number"):
        pool_output_size(8, bad, 2)


def test_pool_output_size_refuses_zero_window():
    with pytest.raises(ValueError, match="pool size must be positive, got 0"):
        pool_output_size(8, 0)


# ---------------------------------------------------------------------------
# conv_geometry / pool_geometry
# ---------------------------------------------------------------------------


def test_conv_geometry_computes_every_size():
    g = conv_geometry((2, 3, 7, 9), (4, 3, 3, 5), {"stride": 2, "pad": 1}, (4,))
    # height (7 - 3 + 2) / 2 + 1 = 4, width (9 - 5 + 2) / 2 + 1 = 4
    assert g == ConvGeometry(2, 3, 7, 9, 4, 3, 5, 2, 1, 4, 4)
    assert g.out_shape == (2, 4, 4, 4)


def test_conv_geometry_rejects_wrong_ndim():
    with pytest.raises(ValueError, match=r"x must have 4 dimensions.*got 3"):
        conv_geometry((3, 7, 7), (4, 3, 3, 3), {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match=r"w must have 4 dimensions.*got 2"):
        conv_geometry((1, 3, 7, 7), (4, 27), {"stride": 1, "pad": 0})


def test_conv_geometry_channel_mismatch_names_both_counts():
    with pytest.raises(ValueError) as info:
        conv_geometry((1, 3, 7, 7), (4, 5, 3, 3), {"stride": 1, "pad": 0})
    message = str(info.value)
    assert "3 channels" in message
    assert "depth 5" in message
    assert "(4, 3, 3, 3)" in message  # the shape w needs


def test_conv_geometry_wrong_bias_shape():
    with pytest.raises(ValueError, match=re.escape("b has shape (3,), expected (4,)")):
        conv_geometry((1, 3, 7, 7), (4, 3, 3, 3), {"stride": 1, "pad": 0}, (3,))


@pytest.mark.parametrize("missing", ["stride", "pad"])
def test_conv_geometry_missing_key_is_named(missing):
    conv_param = {"stride": 1, "pad": 0}
    del conv_param[missing]
    with pytest.raises(ValueError, match=f"missing '{missing}'"):
        conv_geometry((1, 3, 7, 7), (4, 3, 3, 3), conv_param)


def test_conv_geometry_conv_param_must_be_a_dict():
    with pytest.raises(TypeError, match="conv_param must be a dict"):
        conv_geometry((1, 3, 7, 7), (4, 3, 3, 3), [1, 0])


@pytest.mark.parametrize("stride", [1.5, 2.0, "2", True])
def test_conv_geometry_non_int_stride(stride):
    with pytest.raises(TypeError, match=re.escape(f"conv_param['stride'] must be a whole number, got {stride!r}")):
        conv_geometry((1, 3, 7, 7), (4, 3, 3, 3), {"stride": stride, "pad": 0})


def test_conv_geometry_width_that_does_not_fit_names_width():
    # height (7 - 3) / 2 + 1 = 3 fits; width (8 - 3) / 2 + 1 = 3.5 does not
    with pytest.raises(ValueError, match=re.escape("width: stride 2 does not fit: (8 - 3 + 2*0) / 2 + 1 = 3.50")):
        conv_geometry((1, 1, 7, 8), (1, 1, 3, 3), {"stride": 2, "pad": 0})


def test_conv_geometry_rejects_zero_sizes():
    with pytest.raises(ValueError, match="must be positive"):
        conv_geometry((0, 3, 7, 7), (4, 3, 3, 3), {"stride": 1, "pad": 0})


def test_pool_geometry_computes_every_size():
    g = pool_geometry((2, 3, 7, 5), {"pool_height": 3, "pool_width": 1, "stride": 2})
    # height (7 - 3) / 2 + 1 = 3, width (5 - 1) / 2 + 1 = 3
    assert g == PoolGeometry(2, 3, 7, 5, 3, 1, 2, 3, 3)
    assert g.out_shape == (2, 3, 3, 3)


def test_pool_geometry_rejects_wrong_ndim():
    with pytest.raises(ValueError, match=r"x must have 4 dimensions.*got 5"):
        pool_geometry((1, 1, 1, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 2})


@pytest.mark.parametrize("missing", ["pool_height", "pool_width", "stride"])
def test_pool_geometry_missing_key_is_named(missing):
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    del pool_param[missing]
    with pytest.raises(ValueError, match=f"missing '{missing}'"):
        pool_geometry((1, 1, 4, 4), pool_param)


def test_pool_geometry_non_int_stride():
    with pytest.raises(TypeError, match=re.escape("pool_param['stride'] must be a whole number, got 2.0")):
        pool_geometry((1, 1, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 2.0})


def test_pool_geometry_window_too_big_names_axis_and_sizes():
    with pytest.raises(ValueError, match=r"width: pool window 5 is larger than the input 4"):
        pool_geometry((1, 1, 6, 4), {"pool_height": 2, "pool_width": 5, "stride": 1})


# ---------------------------------------------------------------------------
# Layer descriptors
# ---------------------------------------------------------------------------


def test_lecture_conv_layer_10_filters_5x5_on_32x32x3():
    row = Conv(10, 5).describe((3, 32, 32))
    assert row.input_shape == (3, 32, 32)
    assert row.output_shape == (10, 28, 28)
    assert row.params == 760  # 10 * (5*5*3 + 1), the lecture's number
    assert row.params == 10 * (5 * 5 * 3 + 1)


def test_conv_multiply_adds_by_hand():
    # 2 filters 3x3 on a 1-channel 4x4 image: output 2 x 2 x 2 = 8 values,
    # each a dot product of 1*3*3 = 9 products -> 72 multiply-adds.
    row = Conv(2, 3).describe((1, 4, 4))
    assert row.output_shape == (2, 2, 2)
    assert row.macs == 72
    assert row.params == 2 * (9 + 1)


def test_conv_non_square_filter_with_stride_and_pad():
    # 3 filters of 2x3 on (2, 5, 6), stride 1, pad 0:
    # H' = 5 - 2 + 1 = 4, W' = 6 - 3 + 1 = 4; 3*4*4 = 48 outputs,
    # each 2 channels * 2 * 3 = 12 products -> 576; params 3 * (12 + 1) = 39.
    row = Conv(3, (2, 3)).describe((2, 5, 6))
    assert row.output_shape == (3, 4, 4)
    assert row.macs == 576
    assert row.params == 39
    # stride 2 pad 1 on 7x7 with 3x3: (7 - 3 + 2) / 2 + 1 = 4
    assert Conv(8, 3, stride=2, pad=1).describe((4, 7, 7)).output_shape == (8, 4, 4)


def test_conv_descriptor_that_does_not_fit_names_the_layer():
    with pytest.raises(ValueError, match=r"conv3 height: stride 3 does not fit"):
        Conv(4, 3, stride=3, name="conv3").describe((1, 7, 9))


def test_fc_params_are_d_times_m_plus_m():
    row = FC(10).describe((3, 4, 5))
    # D = 3*4*5 = 60 inputs, M = 10 outputs
    assert row.params == 60 * 10 + 10
    assert row.macs == 600
    assert row.output_shape == (10, 1, 1)


def test_pool_has_no_params_and_halves_the_size():
    row = Pool(2).describe((64, 224, 224))
    assert row.output_shape == (64, 112, 112)
    assert row.params == 0
    assert row.macs == 0


def test_pool_non_square_window_with_explicit_stride():
    # (7 - 3) / 2 + 1 = 3 rows, (9 - 1) / 2 + 1 = 5 columns
    assert Pool((3, 1), stride=2).describe((5, 7, 9)).output_shape == (5, 3, 5)


def test_layer_summary_activations_and_bytes():
    row = Conv(10, 5).describe((3, 32, 32))
    assert row.activations == 10 * 28 * 28
    assert row.activation_bytes() == 4 * 7840
    assert row.activation_bytes(2) == 2 * 7840


def test_summarize_stack_starts_with_input_and_chains_shapes():
    layers = [Conv(6, 5), Pool(2), Conv(16, 5), Pool(2), FC(120), FC(10)]
    rows = summarize_stack((1, 32, 32), layers)
    assert len(rows) == len(layers) + 1
    assert rows[0].name == "INPUT"
    assert rows[0].output_shape == (1, 32, 32)
    assert rows[0].params == 0
    for before, after in zip(rows, rows[1:]):
        assert after.input_shape == before.output_shape
    # LeNet-like shapes: 32 -5-> 28 -pool-> 14 -5-> 10 -pool-> 5
    assert [r.output_shape for r in rows[1:]] == [
        (6, 28, 28),
        (6, 14, 14),
        (16, 10, 10),
        (16, 5, 5),
        (120, 1, 1),
        (10, 1, 1),
    ]


def test_summarize_stack_rejects_something_that_is_not_a_layer():
    with pytest.raises(TypeError, match="descriptors, got 'relu'"):
        summarize_stack((3, 8, 8), [Conv(2, 3), "relu"])


def test_summarize_stack_rejects_a_shape_that_is_not_a_volume():
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        summarize_stack((32, 32), [Conv(2, 3)])


def test_format_volume_writes_h_x_w_x_c():
    assert format_volume((3, 32, 28)) == "32x28x3"


def test_format_stack_table_contains_rows_and_totals():
    rows = summarize_stack((3, 32, 32), [Conv(10, 5), Pool(2), FC(10)])
    table = format_stack_table(rows)
    # by hand: activations 3072 + 7840 + 1960 + 10 = 12,882
    # params 0 + 760 + 0 + (1960*10 + 10) = 20,370
    # mult-adds 0 + 10*28*28*75 + 0 + 19600 = 588,000 + 19,600 = 607,600
    total_line = next(line for line in table.splitlines() if line.startswith("total"))
    assert total_line.split()[1:] == ["12,882", "20,370", "607,600"]
    assert "32x32x3" in table
    assert "28x28x10" in table
    assert "760" in table
    assert "4 bytes per value" in table


def test_format_stack_table_reports_memory():
    rows = summarize_stack((3, 32, 32), [Conv(10, 5), Pool(2), FC(10)])
    # 12,882 activations * 4 bytes = 51,528 B = 50.32 KiB
    assert "forward activation memory: 50.3 KiB per image" in format_stack_table(rows)
    # 3 x 1024 x 1024 floats at 4 bytes = 12 MiB, at 2 bytes = 6 MiB
    big = summarize_stack((3, 1024, 1024), [])
    assert "12 MiB" in format_stack_table(big)
    assert "6 MiB" in format_stack_table(big, bytes_per_value=2)


@pytest.mark.parametrize(
    "n, shown",
    [
        (0, "0 B"),
        (812, "812 B"),
        (1024, "1 KiB"),
        (54_067, "52.8 KiB"),  # 54067 / 1024 = 52.80
        (int(58.1 * 2**20), "58.1 MiB"),
        (5 * 2**30, "5 GiB"),
    ],
)
def test_format_bytes_by_hand(n, shown):
    assert format_bytes(n) == shown


@pytest.mark.parametrize("n", [1_024_000, 1_048_575, 1000 * 2**20])
def test_format_bytes_never_uses_scientific_notation(n):
    assert "e+" not in format_bytes(n)


def test_relu_descriptor_keeps_the_volume_and_has_no_params():
    row = ReLU().describe((10, 28, 28))
    assert (row.input_shape, row.output_shape) == ((10, 28, 28), (10, 28, 28))
    assert (row.params, row.macs) == (0, 0)
    rows = summarize_stack((3, 32, 32), [Conv(10, 5), ReLU(), Pool(2)])
    assert [r.name for r in rows] == ["INPUT", "CONV", "RELU", "POOL"]
    assert rows[3].output_shape == (10, 14, 14)


# ---------------------------------------------------------------------------
# VGG-16: the lecture's 138M parameters
# ---------------------------------------------------------------------------

VGG16_CONV_CHANNELS = [
    [64, 64],
    [128, 128],
    [256, 256, 256],
    [512, 512, 512],
    [512, 512, 512],
]


def vgg16_layers():
    layers = []
    for block in VGG16_CONV_CHANNELS:
        for channels in block:
            layers.append(Conv(channels, 3, stride=1, pad=1))
        layers.append(Pool(2, stride=2))
    layers += [FC(4096), FC(4096), FC(1000)]
    return layers


def vgg16_params_by_textbook_formula():
    """Sum of (k*k*C_in) * C_out + C_out over convs and D*M + M over FCs."""
    total = 0
    c_in = 3
    for block in VGG16_CONV_CHANNELS:
        for c_out in block:
            total += 3 * 3 * c_in * c_out + c_out
            c_in = c_out
    side = 224 // 2**5  # five 2x2 pools: 224 -> 7
    d = side * side * c_in
    for m in (4096, 4096, 1000):
        total += d * m + m
        d = m
    return total


def test_vgg16_layer_counts():
    layers = vgg16_layers()
    assert sum(isinstance(layer, Conv) for layer in layers) == 13
    assert sum(isinstance(layer, Pool) for layer in layers) == 5
    assert sum(isinstance(layer, FC) for layer in layers) == 3


def test_vgg16_textbook_formula_gives_138_357_544():
    assert vgg16_params_by_textbook_formula() == 138_357_544


def test_vgg16_total_params():
    rows = summarize_stack((3, 224, 224), vgg16_layers())
    total = sum(row.params for row in rows)
    assert total == vgg16_params_by_textbook_formula()
    assert abs(total - 138e6) / 138e6 < 0.005


def test_vgg16_shapes():
    rows = summarize_stack((3, 224, 224), vgg16_layers())
    shapes = [row.output_shape for row in rows]
    assert shapes[1] == (64, 224, 224)  # pad 1 keeps 224
    assert (512, 7, 7) in shapes  # after the fifth pool
    assert shapes[-1] == (1000, 1, 1)
    # the first FC alone holds 7*7*512*4096 + 4096 weights
    first_fc = next(row for row in rows if row.output_shape == (4096, 1, 1))
    assert first_fc.params == 7 * 7 * 512 * 4096 + 4096


def test_vgg16_total_activations():
    rows = summarize_stack((3, 224, 224), vgg16_layers())
    expected = 3 * 224 * 224
    side, channels = 224, 3
    for block in VGG16_CONV_CHANNELS:
        for channels in block:
            expected += channels * side * side
        side //= 2
        expected += channels * side * side
    expected += 4096 + 4096 + 1000
    assert sum(row.activations for row in rows) == expected
    assert math.isclose(expected, 15.2e6, rel_tol=0.01)
