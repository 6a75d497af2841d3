"""Checks for notebook 08, case studies: AlexNet's grouped convolutions and VGG-16's budget.

The expected numbers are worked out once and written here as literals (and
the reference VGG-16 is a plain list of the library's descriptors), so no
check uses the student's own code as its reference:

- VGG-16 on a 224x224x3 image, counting weights and biases and leaving ReLU
  out (it runs in place): 138,357,544 parameters, 15,237,608 activations
  (the input image's 150,528 included), of which the three FC layers hold
  123,642,856 parameters.
- AlexNet's grouped layers (two groups): conv2 307,456, conv4 663,936 and
  conv5 442,624 parameters.
"""

import math
import numbers

from cs231n_lib.checks.common import call_student, fail, passed, require_answered
from cs231n_lib.shapes import FC, Conv, Pool, ReLU, summarize_stack

VGG16_INPUT_SHAPE = (3, 224, 224)
VGG16_PARAMS = 138_357_544
VGG16_ACTIVATIONS = 15_237_608
VGG16_INPUT_VALUES = 3 * 224 * 224  # 150,528
VGG16_FC_PARAMS = 102_764_544 + 16_781_312 + 4_097_000  # FC6 + FC7 + FC8 = 123,642,856
VGG16_FC6_PARAMS = 102_764_544
VGG16_CONV_FILTERS = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
VGG16_BLOCKS = (2, 2, 3, 3, 3)  # conv layers before each of the five pools
VGG16_FC_OUTPUTS = (4096, 4096, 1000)
# The lecture's total, 24M values * 4 bytes, which its own per-layer list does not add up to.
SLIDE_ACTIVATIONS = 24_000_000

BYTES_PER_FLOAT32 = 4
MB = 10**6


def reference_vgg16_layers():
    """VGG-16 (configuration D) as Conv / Pool / FC descriptors: the check's reference."""
    layers = []
    filters = iter(VGG16_CONV_FILTERS)
    for block, num_convs in enumerate(VGG16_BLOCKS, start=1):
        for index in range(1, num_convs + 1):
            layers.append(Conv(next(filters), 3, stride=1, pad=1, name=f"CONV{block}-{index}"))
        layers.append(Pool(2, stride=2, name=f"POOL{block}"))
    layers += [FC(units, name=f"FC{number}") for number, units in zip((6, 7, 8), VGG16_FC_OUTPUTS)]
    return layers


# ---------------------------------------------------------------- VGG-16 as a list


def check_vgg16_stack(vgg16_layers):
    """vgg16_layers() returns VGG-16 as a list whose totals match 138,357,544 and 15,237,608."""
    layers = call_student(vgg16_layers, name="vgg16_layers", where="the cell above")
    what = "vgg16_layers()"
    if not isinstance(layers, (list, tuple)):
        fail(what, "a list of Conv / Pool / FC descriptors", type(layers).__name__,
             "collect the layers in a list and return it: return [Conv(64, 3, pad=1), ...]")
    strangers = [layer for layer in layers if not isinstance(layer, (Conv, Pool, FC, ReLU))]
    if strangers:
        fail(f"{what}: the entries of the list", "Conv(...), Pool(...) or FC(...) descriptors",
             repr(strangers[0]), "build each layer with the descriptors from cs231n_lib.shapes")

    rows, error = None, None
    try:
        rows = summarize_stack(VGG16_INPUT_SHAPE, layers)
    except ValueError as err:
        error = err
    if rows is not None:
        params = sum(row.params for row in rows)
        activations = sum(row.activations for row in rows)
        if params == VGG16_PARAMS and activations == VGG16_ACTIVATIONS:
            passed(f"VGG-16 has {params:,} parameters and {activations:,} activations per image "
                   f"(the input included)")
            return
    _diagnose_vgg16(layers, rows, error)


def _diagnose_vgg16(layers, rows, error):
    """Name the first structural mistake in a VGG-16 list whose totals are wrong."""
    what = "vgg16_layers()"
    convs = [layer for layer in layers if isinstance(layer, Conv)]
    pools = [layer for layer in layers if isinstance(layer, Pool)]
    fcs = [layer for layer in layers if isinstance(layer, FC)]
    params = f" (your stack has {sum(r.params for r in rows):,} parameters)" if rows else ""

    if any(isinstance(layer, ReLU) for layer in layers):
        fail(f"{what}: the layer types", "Conv, Pool and FC only", "ReLU layers in the list",
             "leave ReLU out: frameworks apply it in place, so the published activation count "
             "does not store its output separately (and it has no parameters)")
    if len(fcs) < len(VGG16_FC_OUTPUTS):
        fail(f"{what}: the number of FC layers", len(VGG16_FC_OUTPUTS), len(fcs),
             f"an FC layer is missing{params}: VGG-16 ends with three FC layers, "
             "FC(4096), FC(4096), FC(1000)")
    if len(pools) < len(VGG16_BLOCKS):
        fail(f"{what}: the number of POOL layers", len(VGG16_BLOCKS), len(pools),
             f"a POOL is missing{params}: each of the five blocks ends with Pool(2, stride=2); "
             "with one pool fewer the last volume is 14x14x512 instead of 7x7x512 "
             "and FC6 becomes four times larger")
    if any(conv.pad == 0 for conv in convs):
        fail(f"{what}: the zero padding of the 3x3 convolutions", "pad=1", "pad=0",
             "padding 0 instead of 1: without padding every 3x3 conv trims a pixel from each "
             "border (224 -> 222 -> 220 ...), so the sizes stop halving cleanly"
             + (f" and the library refuses the stack: {error}" if error else ""))
    odd = [conv for conv in convs if (conv.size, conv.stride, conv.pad) != (3, 1, 1)]
    if odd:
        conv = odd[0]
        fail(f"{what}: {conv.name}", "Conv(..., 3, stride=1, pad=1)",
             f"size={conv.size}, stride={conv.stride}, pad={conv.pad}",
             "every VGG-16 convolution is 3x3 with stride 1 and pad 1, so it keeps the width and height")
    if len(convs) != len(VGG16_CONV_FILTERS):
        fail(f"{what}: the number of CONV layers", len(VGG16_CONV_FILTERS), len(convs),
             "VGG-16 has 13 conv layers (2 + 2 + 3 + 3 + 3 in its five blocks) and 3 FC layers: 16 with weights")
    if len(pools) != len(VGG16_BLOCKS):
        fail(f"{what}: the number of POOL layers", len(VGG16_BLOCKS), len(pools),
             "one Pool(2, stride=2) closes each of the five blocks, no more")
    odd_pools = [pool for pool in pools if (pool.size, pool.stride or pool.size) != (2, 2)]
    if odd_pools:
        pool = odd_pools[0]
        fail(f"{what}: {pool.name}", "Pool(2, stride=2)", f"size={pool.size}, stride={pool.stride}",
             "VGG-16's pools are 2x2 max pools with stride 2: they halve the width and height")
    filters = tuple(conv.num_filters for conv in convs)
    if filters != VGG16_CONV_FILTERS:
        first = next(i for i, (a, b) in enumerate(zip(filters, VGG16_CONV_FILTERS)) if a != b)
        fail(f"{what}: the number of filters of conv layer {first + 1}", VGG16_CONV_FILTERS[first],
             filters[first], "the blocks have 64, 64, 128, 256 and 512 filters, and the last "
             "two blocks both have 512")
    outputs = tuple(fc.num_outputs for fc in fcs)
    if outputs != VGG16_FC_OUTPUTS:
        fail(f"{what}: the outputs of the FC layers", VGG16_FC_OUTPUTS, outputs,
             "two hidden FC layers of 4096 units, then 1000 class scores")
    kinds = [type(layer).__name__ for layer in layers]
    expected_kinds = [type(layer).__name__ for layer in reference_vgg16_layers()]
    if kinds != expected_kinds:
        first = next(i for i, (a, b) in enumerate(zip(kinds, expected_kinds)) if a != b)
        fail(f"{what}: layer {first + 1} of the list", expected_kinds[first], kinds[first],
             "each block is its convs then one pool: 2 convs, pool, 2 convs, pool, 3 convs, "
             "pool, 3 convs, pool, 3 convs, pool, then FC, FC, FC")
    if error is not None:
        fail(what, "a stack the library can follow from 224x224x3", f"ValueError: {error}",
             "read the error: it names the layer and the sizes that clash")
    fail(f"{what}: parameters and activations", f"{VGG16_PARAMS:,} and {VGG16_ACTIVATIONS:,}",
         f"{sum(r.params for r in rows):,} and {sum(r.activations for r in rows):,}",
         "compare your table with the layer list in the text above, row by row")


# ---------------------------------------------------------------- where the parameters sit


def _require_number(value, name, hint):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, "a number", f"{type(value).__name__} {value!r}", hint)
    value = float(value)
    if not math.isfinite(value):
        fail(name, "a finite number", value, hint)
    return value


def _near(value, target, rel=1e-3):
    return abs(value - target) <= rel * abs(target)


def check_fc_fraction(fc_fraction):
    """fc_fraction: the share of VGG-16's parameters that sit in FC6, FC7 and FC8 (a number in [0, 1])."""
    require_answered(fc_fraction, "fc_fraction", "the cell above")
    what = "fc_fraction, the share of VGG-16's parameters in its FC layers"
    value = _require_number(fc_fraction, what, "divide the FC layers' parameters by the total")
    total, fc = VGG16_PARAMS, VGG16_FC_PARAMS
    expected = fc / total
    if _near(value, expected):
        passed(f"{value:.1%} of VGG-16's parameters sit in its three FC layers "
               f"({fc:,} of {total:,})")
        return
    shown = f"{expected:.4f}"
    if _near(value, 100 * expected):
        fail(what, shown, f"{value:.4g}", "that looks like a percentage: give a fraction between 0 and 1")
    if _near(value, 1 - expected):
        fail(what, shown, f"{value:.4g}",
             "that is the share of the conv layers, not the FC layers: 1 minus your answer")
    if _near(value, VGG16_FC6_PARAMS / total):
        fail(what, shown, f"{value:.4g}", "that is FC6 alone: add FC7 and FC8")
    if _near(value, total / fc):
        fail(what, shown, f"{value:.4g}", "the fraction is upside down: FC parameters / all parameters")
    fail(what, shown, f"{value:.4g}",
         "sum row.params over the rows whose name starts with 'FC', and divide by the sum over all rows")


# ---------------------------------------------------------------- memory per image


def check_memory_mb(memory_mb):
    """memory_mb: VGG-16's forward activation memory for one image, float32, in MB (10**6 bytes)."""
    require_answered(memory_mb, "memory_mb", "the cell above")
    what = "memory_mb, VGG-16's forward activations for one image at 4 bytes each, in MB"
    value = _require_number(memory_mb, what, "multiply the number of activations by 4 bytes, divide by 10**6")
    values = VGG16_ACTIVATIONS
    expected = values * BYTES_PER_FLOAT32 / MB
    if _near(value, expected):
        passed(f"{values:,} activations x 4 bytes = {value:.1f} MB per image, forward pass only")
        return
    shown = f"{expected:.2f}"
    got = f"{value:.4g}"
    if _near(value, values * BYTES_PER_FLOAT32 / 2**20):
        fail(what, shown, got, "that is in MiB (divided by 2**20 = 1,048,576): "
             "this exercise uses MB = 10**6 bytes, as the lecture does")
    if _near(value, values / MB):
        fail(what, shown, got, "that counts values, not bytes: each float32 takes 4 bytes")
    if _near(value, (values - VGG16_INPUT_VALUES) * BYTES_PER_FLOAT32 / MB):
        fail(what, shown, got, "the input image was left out: its 150,528 values are held in memory too")
    if _near(value, 2 * expected):
        fail(what, shown, got, "that is twice the answer: 8 bytes per value (float64) or forward "
             "plus backward; the question asks for float32, forward pass only")
    if any(_near(value, slide) for slide in (96.0, 93.0, 91.55)):
        fail(what, shown, got, "that is the lecture's 24M-value total; compute it from the "
             "activations in your own table instead")
    if _near(value, values * BYTES_PER_FLOAT32):
        fail(what, shown, got, "that is in bytes: divide by 10**6 for MB")
    fail(what, shown, got, "sum row.activations over all rows (the INPUT row included), "
         "multiply by 4 and divide by 10**6")


# ---------------------------------------------------------------- AlexNet's groups


GROUPED_CASES = (
    # (num_filters, size, in_depth, groups) -> parameters
    ((256, 5, 96, 2), 307_456),   # AlexNet conv2
    ((384, 3, 384, 2), 663_936),  # AlexNet conv4
    ((256, 3, 384, 2), 442_624),  # AlexNet conv5
    ((64, 3, 32, 1), 18_496),     # groups=1: an ordinary convolution
    ((8, 3, 8, 4), 152),          # four groups of 2 filters on 2 channels each
)


def check_grouped_conv_params(grouped_conv_params):
    """grouped_conv_params(num_filters, size, in_depth, groups) counts a grouped conv's weights and biases."""
    for (F, k, C, g), expected in GROUPED_CASES:
        got = call_student(grouped_conv_params, F, k, C, g, name="grouped_conv_params",
                           where="the cell above")
        what = f"grouped_conv_params({F}, {k}, {C}, {g})"
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            fail(what, "a number of parameters", f"{type(got).__name__} {got!r}",
                 "return the count as an int, e.g. the .params of a Conv descriptor times groups")
        if got == expected:
            continue
        ungrouped = F * (k * k * C + 1)
        if got == ungrouped:
            fail(what, f"{expected:,}", f"{got:,}", "that is the ungrouped count: with groups, each "
                 "filter sees only in_depth / groups channels, so it is k*k*in_depth/groups deep")
        if got == (F // g) * (k * k * C // g + 1):
            fail(what, f"{expected:,}", f"{got:,}",
                 "that counts one group only: there are `groups` such groups, multiply by groups")
        if got == F * (k * k * C // g):
            fail(what, f"{expected:,}", f"{got:,}", "biases missing: each filter has one bias as well")
        if got == g * F * (k * k * C // g + 1):
            fail(what, f"{expected:,}", f"{got:,}", "each group holds num_filters / groups filters, "
                 "not num_filters: the groups share the filters out between them")
        fail(what, f"{expected:,}", f"{got:,}", "a group is an ordinary conv: Conv(num_filters // groups, "
             "size).describe((in_depth // groups, size, size)).params, and there are `groups` of them")
    passed("grouped_conv_params counts AlexNet's conv2, conv4 and conv5 as two groups: "
           f"{', '.join(f'{expected:,}' for _, expected in GROUPED_CASES[:3])} parameters")
