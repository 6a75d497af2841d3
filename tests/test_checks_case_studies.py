"""Tests for cs231n_lib.checks.case_studies, the check cells of notebook 08.

(a) each check passes on a correct answer written out here; (b) each named
mistake, made on purpose below, gets its diagnosis; (c) an exercise left as
``raise NotImplementedError()`` (or an answer left None) says it is not
implemented yet. The literals inside the checks are recomputed here from
the formulas, by hand, independently of cs231n_lib.shapes.
"""

import numpy as np
import pytest

from cs231n_lib.checks import case_studies as cs
from cs231n_lib.checks.common import NOT_IMPLEMENTED
from cs231n_lib.shapes import FC, Conv, Pool, ReLU, summarize_stack

# ---------------------------------------------------------------- the literals, by hand


def vgg16_by_hand():
    """(parameters, activations, FC parameters) of VGG-16, from the formulas alone."""
    params, activations, depth, side = 0, 3 * 224 * 224, 3, 224
    for num_convs, filters in zip((2, 2, 3, 3, 3), (64, 128, 256, 512, 512)):
        for _ in range(num_convs):
            params += filters * (3 * 3 * depth + 1)
            depth = filters
            activations += side * side * depth  # 3x3, stride 1, pad 1 keeps the side
        side //= 2
        activations += side * side * depth
    fc_params, inputs = 0, side * side * depth
    for units in (4096, 4096, 1000):
        fc_params += inputs * units + units
        activations += units
        inputs = units
    return params + fc_params, activations, fc_params


def test_the_vgg16_literals_follow_from_the_formulas():
    params, activations, fc_params = vgg16_by_hand()
    assert (params, activations, fc_params) == (cs.VGG16_PARAMS, cs.VGG16_ACTIVATIONS, cs.VGG16_FC_PARAMS)
    assert cs.VGG16_INPUT_VALUES == 150_528


def test_the_reference_list_has_the_literal_totals():
    rows = summarize_stack(cs.VGG16_INPUT_SHAPE, cs.reference_vgg16_layers())
    assert sum(r.params for r in rows) == cs.VGG16_PARAMS
    assert sum(r.activations for r in rows) == cs.VGG16_ACTIVATIONS
    assert sum(r.params for r in rows if r.name.startswith("FC")) == cs.VGG16_FC_PARAMS


def test_the_grouped_cases_follow_from_the_formula():
    for (F, k, C, g), expected in cs.GROUPED_CASES:
        assert g * (F // g) * (k * k * (C // g) + 1) == expected


# ---------------------------------------------------------------- VGG-16 as a list


def correct_vgg16():
    return [
        Conv(64, 3, pad=1), Conv(64, 3, pad=1), Pool(2, 2),
        Conv(128, 3, pad=1), Conv(128, 3, pad=1), Pool(2, 2),
        Conv(256, 3, pad=1), Conv(256, 3, pad=1), Conv(256, 3, pad=1), Pool(2, 2),
        Conv(512, 3, pad=1), Conv(512, 3, pad=1), Conv(512, 3, pad=1), Pool(2, 2),
        Conv(512, 3, pad=1), Conv(512, 3, pad=1), Conv(512, 3, pad=1), Pool(2, 2),
        FC(4096), FC(4096), FC(1000),
    ]


def vgg16_check_message(layers):
    with pytest.raises(AssertionError) as info:
        cs.check_vgg16_stack(lambda: layers)
    return str(info.value)


def test_vgg16_check_passes_a_correct_list(capsys):
    cs.check_vgg16_stack(correct_vgg16)
    out = capsys.readouterr().out
    assert out.startswith("OK:") and "138,357,544" in out and "15,237,608" in out


def test_vgg16_check_passes_a_tuple_too(capsys):
    cs.check_vgg16_stack(lambda: tuple(correct_vgg16()))
    assert capsys.readouterr().out.startswith("OK:")


def test_vgg16_check_says_when_not_implemented():
    def vgg16_layers():
        raise NotImplementedError()

    with pytest.raises(AssertionError, match=NOT_IMPLEMENTED):
        cs.check_vgg16_stack(vgg16_layers)


def test_vgg16_check_names_a_missing_pool():
    layers = correct_vgg16()
    del layers[17]  # the last pool: the volume reaching FC6 is 14x14x512
    message = vgg16_check_message(layers)
    assert "a POOL is missing" in message and "expected 5, got 4" in message
    # FC6 then has 14*14*512*4096 + 4096 = 411,045,888 parameters instead of 102,764,544
    assert f"{138_357_544 - 102_764_544 + 411_045_888:,} parameters" in message


def test_vgg16_check_names_padding_0_instead_of_1():
    layers = [Conv(c.num_filters, 3, pad=0) if isinstance(c, Conv) else c for c in correct_vgg16()]
    message = vgg16_check_message(layers)
    assert "padding 0 instead of 1" in message and "refuses the stack" in message


def test_vgg16_check_names_padding_0_in_a_single_layer():
    layers = correct_vgg16()
    layers[0] = Conv(64, 3, pad=0)  # 222 -> 222 -> 111 -> ... the list still runs through
    assert "padding 0 instead of 1" in vgg16_check_message(layers)


def test_vgg16_check_names_a_missing_fc():
    layers = correct_vgg16()
    del layers[19]  # FC7
    message = vgg16_check_message(layers)
    assert "an FC layer is missing" in message and "expected 3, got 2" in message


def test_vgg16_check_names_relu_layers_left_in():
    layers = []
    for layer in correct_vgg16():
        layers.append(layer)
        if isinstance(layer, Conv):
            layers.append(ReLU())
    assert "leave ReLU out" in vgg16_check_message(layers)


def test_vgg16_check_names_a_missing_conv():
    layers = correct_vgg16()
    del layers[8]  # the third conv of block 3
    message = vgg16_check_message(layers)
    assert "13 conv layers" in message and "got 12" in message


def test_vgg16_check_names_a_wrong_filter_size():
    layers = correct_vgg16()
    layers[3] = Conv(128, 5, pad=2)
    assert "every VGG-16 convolution is 3x3" in vgg16_check_message(layers)


def test_vgg16_check_names_wrong_filter_counts():
    layers = correct_vgg16()
    layers[14] = Conv(1024, 3, pad=1)
    message = vgg16_check_message(layers)
    assert "filters of conv layer 11" in message and "expected 512, got 1024" in message


def test_vgg16_check_names_wrong_fc_sizes():
    layers = correct_vgg16()
    layers[-1] = FC(10)
    assert "1000 class scores" in vgg16_check_message(layers)


def test_vgg16_check_names_a_pool_in_the_wrong_place():
    layers = correct_vgg16()
    layers[2], layers[3] = layers[3], layers[2]  # pool after the third conv instead of the second
    message = vgg16_check_message(layers)
    assert "layer 3 of the list" in message and "expected Pool, got Conv" in message


def test_vgg16_check_names_a_wrong_pool():
    layers = correct_vgg16()
    layers[2] = Pool(3, 2)  # 224 -> (224 - 3)/2 + 1 is not a whole number
    assert "2x2 max pools with stride 2" in vgg16_check_message(layers)


def test_vgg16_check_rejects_something_other_than_a_list():
    assert "a list of Conv / Pool / FC descriptors" in vgg16_check_message(None)
    assert "descriptors from cs231n_lib.shapes" in vgg16_check_message(["conv64", "pool"])


# ---------------------------------------------------------------- the FC share


FC_SHARE = 123_642_856 / 138_357_544


def test_fc_fraction_check_passes_the_right_share(capsys):
    cs.check_fc_fraction(FC_SHARE)
    cs.check_fc_fraction(np.float64(0.8936))  # rounded to 4 places is close enough
    assert capsys.readouterr().out.count("OK:") == 2


def test_fc_fraction_check_says_when_not_answered():
    with pytest.raises(AssertionError, match=NOT_IMPLEMENTED):
        cs.check_fc_fraction(None)


@pytest.mark.parametrize("answer, diagnosis", [
    (100 * FC_SHARE, "looks like a percentage"),
    (1 - FC_SHARE, "the share of the conv layers"),
    (102_764_544 / 138_357_544, "FC6 alone"),
    (138_357_544 / 123_642_856, "upside down"),
    (0.5, "divide by the sum over all rows"),
    ("0.89", "a number"),
])
def test_fc_fraction_check_names_the_mistake(answer, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        cs.check_fc_fraction(answer)


# ---------------------------------------------------------------- memory per image


ACTIVATIONS = 15_237_608


def test_memory_check_passes_megabytes(capsys):
    cs.check_memory_mb(ACTIVATIONS * 4 / 1e6)
    cs.check_memory_mb(61.0)  # rounded to 0.1 MB
    assert capsys.readouterr().out.count("OK:") == 2


def test_memory_check_says_when_not_answered():
    with pytest.raises(AssertionError, match=NOT_IMPLEMENTED):
        cs.check_memory_mb(None)


@pytest.mark.parametrize("answer, diagnosis", [
    (ACTIVATIONS * 4 / 2**20, "in MiB"),
    (ACTIVATIONS / 1e6, "counts values, not bytes"),
    ((ACTIVATIONS - 150_528) * 4 / 1e6, "input image was left out"),
    (ACTIVATIONS * 8 / 1e6, "twice the answer"),
    (24e6 * 4 / 1e6, "the lecture's 24M-value total"),
    (93, "the lecture's 24M-value total"),
    (ACTIVATIONS * 4, "that is in bytes"),
    (10.0, "multiply by 4 and divide by 10\\*\\*6"),
    (float("nan"), "a finite number"),
])
def test_memory_check_names_the_mistake(answer, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        cs.check_memory_mb(answer)


# ---------------------------------------------------------------- grouped convolutions


def grouped_right(num_filters, size, in_depth, groups):
    one_group = Conv(num_filters // groups, size).describe((in_depth // groups, size, size))
    return groups * one_group.params


def grouped_ignoring_groups(num_filters, size, in_depth, groups):
    return num_filters * (size * size * in_depth + 1)


def grouped_one_group_only(num_filters, size, in_depth, groups):
    return (num_filters // groups) * (size * size * in_depth // groups + 1)


def grouped_without_biases(num_filters, size, in_depth, groups):
    return num_filters * size * size * in_depth // groups


def grouped_all_filters_per_group(num_filters, size, in_depth, groups):
    return groups * num_filters * (size * size * in_depth // groups + 1)


def grouped_off_by_one(num_filters, size, in_depth, groups):
    return grouped_right(num_filters, size, in_depth, groups) + 1


def test_grouped_check_passes_a_right_count(capsys):
    cs.check_grouped_conv_params(grouped_right)
    out = capsys.readouterr().out
    assert out.startswith("OK:") and "307,456" in out


def test_grouped_check_says_when_not_implemented():
    def grouped_conv_params(num_filters, size, in_depth, groups):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match=NOT_IMPLEMENTED):
        cs.check_grouped_conv_params(grouped_conv_params)


@pytest.mark.parametrize("mistake, diagnosis", [
    (grouped_ignoring_groups, "the ungrouped count"),
    (grouped_one_group_only, "counts one group only"),
    (grouped_without_biases, "biases missing"),
    (grouped_all_filters_per_group, "each group holds num_filters / groups filters"),
    (grouped_off_by_one, "a group is an ordinary conv"),
    (lambda *args: None, "a number of parameters"),
])
def test_grouped_check_names_the_mistake(mistake, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        cs.check_grouped_conv_params(mistake)
