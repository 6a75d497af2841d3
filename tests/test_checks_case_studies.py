"""Tests for cs231n_lib.checks.case_studies, the check cells of notebook 08.

(a) each check passes on a correct answer written out here; (b) each named
mistake, made on purpose below, gets its diagnosis; (c) an exercise left as
``raise NotImplementedError()`` (or an answer left None) says it is not
implemented yet. The literals inside the checks are recomputed here from
the formulas, by hand, independently of cs231n_lib.shapes.
"""

import re

import numpy as np
import pytest

from cs231n_lib.checks import case_studies as cs
from cs231n_lib.checks.common import NOT_IMPLEMENTED, answer_digest
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


def reference_vgg16_layers():
    """VGG-16 (configuration D) as Conv / Pool / FC descriptors: the reference the check's hashes come from."""
    layers = []
    filters = iter((64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512))
    for block, num_convs in enumerate((2, 2, 3, 3, 3), start=1):
        for index in range(1, num_convs + 1):
            layers.append(Conv(next(filters), 3, stride=1, pad=1, name=f"CONV{block}-{index}"))
        layers.append(Pool(2, stride=2, name=f"POOL{block}"))
    layers += [FC(units, name=f"FC{number}") for number, units in zip((6, 7, 8), (4096, 4096, 1000))]
    return layers


VGG16_PARAMS, VGG16_ACTIVATIONS, VGG16_FC_PARAMS = 138_357_544, 15_237_608, 123_642_856
VGG16_FC6_PARAMS, VGG16_FC_ACTIVATIONS, VGG16_INPUT_VALUES = 102_764_544, 4096 + 4096 + 1000, 3 * 224 * 224


def lock(value, digits, tag, text):
    """What the check's _unlock undoes: ``text`` XOR a stream of salted hashes of the right answer."""
    data, stream, index = text.encode(), b"", 0
    while len(stream) < len(data):
        stream += bytes.fromhex(answer_digest(value, digits, f"{tag}:unlock:{index}"))
        index += 1
    return bytes(a ^ b for a, b in zip(data, stream)).hex()


def test_the_vgg16_numbers_follow_from_the_formulas():
    assert vgg16_by_hand() == (VGG16_PARAMS, VGG16_ACTIVATIONS, VGG16_FC_PARAMS)


def test_the_reference_list_has_those_totals():
    rows = summarize_stack(cs.VGG16_INPUT_SHAPE, reference_vgg16_layers())
    assert sum(r.params for r in rows) == VGG16_PARAMS
    assert sum(r.activations for r in rows) == VGG16_ACTIVATIONS
    assert sum(r.params for r in rows if r.name.startswith("FC")) == VGG16_FC_PARAMS
    assert sum(r.params for r in rows if r.name == "FC6") == VGG16_FC6_PARAMS
    assert sum(r.activations for r in rows if r.name.startswith("FC")) == VGG16_FC_ACTIVATIONS
    assert rows[0].activations == VGG16_INPUT_VALUES


def test_the_structure_literals_follow_from_the_reference():
    layers = reference_vgg16_layers()
    letters = {Conv: "C", Pool: "P", FC: "F"}
    assert "".join(letters[type(layer)] for layer in layers) == cs.VGG16_KINDS
    assert tuple(layer.num_filters for layer in layers if isinstance(layer, Conv)) == cs.VGG16_CONV_FILTERS
    assert tuple(layer.num_outputs for layer in layers if isinstance(layer, FC)) == cs.VGG16_FC_OUTPUTS
    assert cs.VGG16_KINDS.split("F")[0].split("P")[:-1] == ["C" * n for n in cs.VGG16_BLOCKS]


def test_the_vgg16_hash_is_the_totals():
    assert cs.VGG16_TOTALS_DIGEST == answer_digest((VGG16_PARAMS, VGG16_ACTIVATIONS), tag="vgg16")


def test_the_fc_hashes_are_the_answer_and_its_slips():
    share = VGG16_FC_PARAMS / VGG16_PARAMS

    def digest(value):
        return answer_digest(value, cs.FC_DIGITS, "fc")

    assert cs.FC_DIGEST == digest(share)
    slips = [100 * share, 1 - share, VGG16_FC6_PARAMS / VGG16_PARAMS, 1 / share,
             VGG16_FC_ACTIVATIONS / VGG16_PARAMS]
    assert [d for d, _ in cs.FC_SLIPS] == [digest(v) for v in slips]
    assert len({cs.FC_DIGEST, *(d for d, _ in cs.FC_SLIPS)}) == 1 + len(slips)
    assert cs.FC_SUCCESS_LOCKED == lock(share, cs.FC_DIGITS, "fc", "(123,642,856 of 138,357,544)")


def test_the_memory_hashes_are_the_answer_and_its_slips():
    def digest(value):
        return answer_digest(value, cs.MEMORY_DIGITS, "memory")

    mb = VGG16_ACTIVATIONS * 4 / 1e6
    assert cs.MEMORY_DIGEST == digest(mb)
    slips = [VGG16_ACTIVATIONS * 4 / 2**20, VGG16_ACTIVATIONS / 1e6,
             (VGG16_ACTIVATIONS - VGG16_INPUT_VALUES) * 4 / 1e6, VGG16_ACTIVATIONS * 8 / 1e6,
             VGG16_ACTIVATIONS * 4, VGG16_PARAMS * 4 / 1e6, VGG16_ACTIVATIONS * 4 / 1e3]
    assert [d for d, _ in cs.MEMORY_SLIPS] == [digest(v) for v in slips]
    assert len({cs.MEMORY_DIGEST, *(d for d, _ in cs.MEMORY_SLIPS)}) == 1 + len(slips)
    assert cs.MEMORY_SUCCESS_LOCKED == lock(mb, cs.MEMORY_DIGITS, "memory", f"{VGG16_ACTIVATIONS:,}")


def test_the_check_module_holds_no_answer():
    import inspect

    source = inspect.getsource(cs)
    for number in (VGG16_PARAMS, VGG16_ACTIVATIONS, VGG16_FC_PARAMS, VGG16_FC6_PARAMS):
        assert f"{number:,}" not in source and f"{number:_}" not in source and str(number) not in source
    for text in ("0.8936", "0.894", "60.95", "61.0", "reference_vgg16_layers", "summarize_stack(VGG16_INPUT_SHAPE, ["):
        assert text not in source


GROUPED_QUESTIONS = ((256, 5, 96, 2), (384, 3, 384, 2), (256, 3, 384, 2), (64, 3, 32, 1), (8, 3, 8, 4))
GROUPED_COUNTS = (307_456, 663_936, 442_624, 18_496, 152)


def grouped_by_hand(F, k, C, g):
    """g groups of F/g filters, each k x k x C/g with one bias."""
    return g * (F // g) * (k * k * (C // g) + 1)


def grouped_slips_by_hand(F, k, C, g):
    """What each common slip returns, by its name in GROUPED_HINTS."""
    return (("ungrouped", F * (k * k * C + 1)),
            ("one group", (F // g) * (k * k * C // g + 1)),
            ("no biases", F * (k * k * C // g)),
            ("not shared", g * F * (k * k * C // g + 1)),
            ("bias per group", g * ((F // g) * k * k * (C // g) + 1)))


def test_the_grouped_counts_follow_from_the_formula():
    assert tuple(grouped_by_hand(*case) for case in GROUPED_QUESTIONS) == GROUPED_COUNTS
    for case, count in zip(GROUPED_QUESTIONS, GROUPED_COUNTS):
        assert grouped_right(*case) == count  # with the library's Conv descriptor too


def test_the_grouped_hashes_are_the_counts():
    assert tuple(case for case, _, _ in cs.GROUPED_CASES) == GROUPED_QUESTIONS
    for (case, answer, _), count in zip(cs.GROUPED_CASES, GROUPED_COUNTS):
        assert answer == answer_digest(count, tag=cs._grouped_tag(case))


def test_the_grouped_slip_hashes_are_what_each_slip_returns():
    for case, _answer, slips in cs.GROUPED_CASES:
        expected, count = [], grouped_by_hand(*case)
        for name, value in grouped_slips_by_hand(*case):
            entry = (answer_digest(value, tag=cs._grouped_tag(case)), name)
            if value != count and entry[0] not in {d for d, _ in expected}:
                expected.append(entry)
        assert tuple(slips) == tuple(expected)
        assert {name for _, name in slips} <= set(cs.GROUPED_HINTS)


def test_the_check_module_holds_no_grouped_count():
    import inspect

    source = inspect.getsource(cs)
    for count in GROUPED_COUNTS + (34_944,):
        assert f"{count:,}" not in source and f"{count:_}" not in source
        assert not re.search(rf"(?<![\w.]){count}(?![\w.])", source), count
    for case in GROUPED_QUESTIONS:  # nor what the slips return (the large ones: small numbers occur anyway)
        for _, value in grouped_slips_by_hand(*case):
            if value >= 1000:
                assert f"{value:_}" not in source and f"{value:,}" not in source and str(value) not in source


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
    (9192 / 138_357_544, "activations"),
    (0, "integer division"),
    (0.0, "matched no FC rows"),
    (0.5, "divide by the sum over all rows"),
    ("0.89", "a number"),
])
def test_fc_fraction_check_names_the_mistake(answer, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis) as info:
        cs.check_fc_fraction(answer)
    message = str(info.value).split(", got ")[0] + str(info.value).split("Hint:")[-1]  # without the answer given
    assert not any(text in message for text in ("0.89", "89.4", "89.36", "123,642,856", "138,357,544"))


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
    (138_357_544 * 4 / 1e6, "row.params"),
    (ACTIVATIONS * 4 / 1e3, "1000 times too large"),
    (10.0, "multiply by 4 and divide by 10\\*\\*6"),
    (float("nan"), "a finite number"),
])
def test_memory_check_names_the_mistake(answer, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis) as info:
        cs.check_memory_mb(answer)
    message = str(info.value)
    assert not any(text in message for text in ("60.95", "61.0", "61 ", "15,237,608"))


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


def grouped_one_bias_per_group(num_filters, size, in_depth, groups):
    return groups * ((num_filters // groups) * size * size * (in_depth // groups) + 1)


def grouped_off_by_one(num_filters, size, in_depth, groups):
    return grouped_right(num_filters, size, in_depth, groups) + 1


def test_grouped_check_passes_a_right_count(capsys):
    cs.check_grouped_conv_params(grouped_right)
    cs.check_grouped_conv_params(lambda *case: float(grouped_by_hand(*case)))  # a float count is fine
    cs.check_grouped_conv_params(lambda *case: np.int64(grouped_by_hand(*case)))
    out = capsys.readouterr().out
    assert out.count("OK:") == 3
    assert "conv5 as two groups: 307,456, 663,936, 442,624 parameters\n" in out


def test_grouped_check_success_quotes_the_students_own_counts(capsys):
    returned = []

    def counting(*case):
        returned.append(grouped_by_hand(*case))
        return returned[-1]

    cs.check_grouped_conv_params(counting)
    out = capsys.readouterr().out
    assert all(f"{count:,}" in out for count in returned[:3])
    assert f"{returned[3]:,}" not in out and f"{returned[4]:,}" not in out


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
    (grouped_one_bias_per_group, "gives each group one bias"),
    (grouped_off_by_one, "a group is an ordinary conv"),
    (lambda *args: None, "a number of parameters"),
])
def test_grouped_check_names_the_mistake(mistake, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis) as info:
        cs.check_grouped_conv_params(mistake)
    message = str(info.value)
    assert not any(f"{count:,}" in message or str(count) in message for count in GROUPED_COUNTS[:3] + (152,))


def test_grouped_check_wants_a_whole_count():
    with pytest.raises(AssertionError, match="a group is an ordinary conv"):
        cs.check_grouped_conv_params(lambda *case: grouped_by_hand(*case) + 0.25)
