"""Checks for notebook 08, case studies: AlexNet's grouped convolutions and VGG-16's budget.

No check holds a reference VGG-16 or the answers to the value questions: the
totals of VGG-16 (parameters and activations), its FC share and its memory per
image are stored as salted hashes (``answer_digest`` in ``common``), and so are
the values the common slips give, which is how a slip is named. The part of a
success message that quotes the totals is stored locked with the right answer,
so only a right answer can print it. AlexNet's grouped layers are fixed inputs
whose parameter counts, and the counts the common slips give, are salted hashes
too; that check's success message quotes the counts the student's function
returned. tests/test_checks_case_studies.py keeps the reference
implementation and proves every literal and hash.
"""

import math
import numbers

from cs231n_lib.checks.common import (
    CELL_ABOVE,
    SLIDE_MATCH,
    answer_digest,
    call_student,
    close_elementwise,
    fail,
    matches_digest,
    passed,
    require_answered,
)
from cs231n_lib.shapes import FC, Conv, Pool, ReLU, summarize_stack

VGG16_INPUT_SHAPE = (3, 224, 224)
# VGG-16 as the notebook's text describes it (the question, not its answer).
VGG16_CONV_FILTERS = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
VGG16_BLOCKS = (2, 2, 3, 3, 3)  # conv layers before each of the five pools
VGG16_FC_OUTPUTS = (4096, 4096, 1000)
# The layer kinds in order: C = Conv, P = Pool, F = FC.
VGG16_KINDS = "CCPCCPCCCPCCCPCCCPFFF"

# Salted hashes of (parameters, activations) of VGG-16 on a 224x224x3 image.
VGG16_TOTALS_DIGEST = "54eef2cb36e8aa87"

# fc_fraction, hashed at 3 significant digits: the answer, then the slips.
FC_DIGITS = 3
FC_DIGEST = "f101fd85557f66c5"
FC_SLIPS = (
    ("a53402d7200b0729", "that looks like a percentage: give a fraction between 0 and 1"),
    ("998dc84d66c2f496", "that is the share of the conv layers, not the FC layers: 1 minus your answer"),
    ("e0e0fbe6f2da4b11", "that is FC6 alone: add FC7 and FC8"),
    ("16960e0582f7236c", "the fraction is upside down: FC parameters / all parameters"),
    ("79ae75cdb33e9a56", "that sums the FC rows' activations (row.activations), not their parameters: "
                         "use row.params in the numerator"),
)
FC_SUCCESS_LOCKED = "8bc2e3a89b88d0752ce06ef64a12397230367089311a88439b55f3fe"

# memory_mb, hashed at 3 significant digits: the answer, then the slips.
MEMORY_DIGITS = 3
MEMORY_DIGEST = "857e222198923d2c"
MEMORY_SLIPS = (
    ("d5bd231c671a1620", "that is in MiB (divided by 2**20 = 1,048,576): "
                         "this exercise uses MB = 10**6 bytes, as the lecture does"),
    ("71cafbef34d3188d", "that counts values, not bytes: each float32 takes 4 bytes"),
    ("dd38d08e26618a94", "the input image was left out: its 150,528 values are held in memory too"),
    ("118780bf10e5f3b2", "that is twice the answer: 8 bytes per value (float64) or forward "
                         "plus backward; the question asks for float32, forward pass only"),
    ("b60c55475d4b278d", "that is in bytes: divide by 10**6 for MB"),
    ("7d3f20be01eca02b", "that sums row.params, the parameters' memory: the question asks for the "
                         "activations (row.activations), the values each layer outputs"),
    ("fc5b55303d8d27f7", "that is 1000 times too large: dividing by 10**3 gives kilobytes (kB); "
                         "one MB is 10**6 bytes"),
)
MEMORY_SUCCESS_LOCKED = "2b86f970885176482bb4"
# The lecture's own total, 24M values * 4 bytes (in MB, rounded, and in MiB): not the answer.
SLIDE_MEMORY = (96.0, 93.0, 91.55)


def _unlock(value, digits, tag, locked):
    """The text locked with the right answer ``value`` (XOR with hashes of it); garbage otherwise."""
    data = bytes.fromhex(locked)
    stream, index = b"", 0
    while len(stream) < len(data):
        stream += bytes.fromhex(answer_digest(value, digits, f"{tag}:unlock:{index}"))
        index += 1
    return bytes(a ^ b for a, b in zip(data, stream)).decode()


# ---------------------------------------------------------------- VGG-16 as a list


def check_vgg16_stack(vgg16_layers):
    """vgg16_layers() returns VGG-16 as a list whose parameter and activation totals are VGG-16's."""
    layers = call_student(vgg16_layers, name="vgg16_layers", where=CELL_ABOVE)
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
        if matches_digest((params, activations), VGG16_TOTALS_DIGEST, tag="vgg16"):
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
    names = {Conv: "Conv", Pool: "Pool", FC: "FC"}
    kinds = [names[type(layer)] for layer in layers]
    expected_kinds = [names[{"C": Conv, "P": Pool, "F": FC}[letter]] for letter in VGG16_KINDS]
    if kinds != expected_kinds:
        first = next(i for i, (a, b) in enumerate(zip(kinds, expected_kinds)) if a != b)
        fail(f"{what}: layer {first + 1} of the list", expected_kinds[first], kinds[first],
             "each block is its convs then one pool: 2 convs, pool, 2 convs, pool, 3 convs, "
             "pool, 3 convs, pool, 3 convs, pool, then FC, FC, FC")
    if error is not None:
        fail(what, "a stack the library can follow from 224x224x3", f"ValueError: {error}",
             "read the error: it names the layer and the sizes that clash")
    fail(f"{what}: parameters and activations", "VGG-16's totals",
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


def _slip(value, digits, tag, slips):
    return next((text for digest, text in slips if matches_digest(value, digest, digits, tag)), None)


def check_fc_fraction(fc_fraction):
    """fc_fraction: the share of VGG-16's parameters that sit in FC6, FC7 and FC8 (a number in [0, 1])."""
    require_answered(fc_fraction, "fc_fraction", "the cell above")
    what = "fc_fraction, the share of VGG-16's parameters in its FC layers"
    whole = isinstance(fc_fraction, numbers.Integral)
    value = _require_number(fc_fraction, what, "divide the FC layers' parameters by the total")
    if matches_digest(value, FC_DIGEST, FC_DIGITS, "fc"):
        passed(f"{value:.1%} of VGG-16's parameters sit in its three FC layers "
               f"{_unlock(value, FC_DIGITS, 'fc', FC_SUCCESS_LOCKED)}")
        return
    expected = "the FC layers' parameters divided by all parameters, a fraction between 0 and 1"
    got = f"{value:.4g}"
    if value == 0 and whole:
        fail(what, expected, got, "looks like integer division (//): the FC parameters are fewer than "
             "all parameters, so // rounds the fraction down to 0. Use / to keep the fraction")
    if value == 0:
        fail(what, expected, got, "your sum matched no FC rows: the rows are named 'FC6', 'FC7', 'FC8' "
             "in upper case, and str.startswith is case-sensitive")
    slip = _slip(value, FC_DIGITS, "fc", FC_SLIPS)
    fail(what, expected, got, slip or
         "sum row.params over the rows whose name starts with 'FC', and divide by the sum over all rows")


# ---------------------------------------------------------------- memory per image


def check_memory_mb(memory_mb):
    """memory_mb: VGG-16's forward activation memory for one image, float32, in MB (10**6 bytes)."""
    require_answered(memory_mb, "memory_mb", "the cell above")
    what = "memory_mb, VGG-16's forward activations for one image at 4 bytes each, in MB"
    value = _require_number(memory_mb, what, "multiply the number of activations by 4 bytes, divide by 10**6")
    if matches_digest(value, MEMORY_DIGEST, MEMORY_DIGITS, "memory"):
        activations = _unlock(value, MEMORY_DIGITS, "memory", MEMORY_SUCCESS_LOCKED)
        passed(f"{activations} activations x 4 bytes = {value:.1f} MB per image, forward pass only")
        return
    expected = "the activations of all rows x 4 bytes / 10**6"
    got = f"{value:.4g}"
    slip = _slip(value, MEMORY_DIGITS, "memory", MEMORY_SLIPS)
    if slip is None and any(close_elementwise(value, slide, SLIDE_MATCH) for slide in SLIDE_MEMORY):
        slip = ("that is the lecture's 24M-value total; compute it from the "
                "activations in your own table instead")
    fail(what, expected, got, slip or "sum row.activations over all rows (the INPUT row included), "
         "multiply by 4 and divide by 10**6")


# ---------------------------------------------------------------- AlexNet's groups


# (num_filters, size, in_depth, groups), the salted hash of its parameter count, and
# ((salted hash of what a common slip returns on it, the slip), ...) where that differs from
# the count. Each hash is answer_digest(count, tag=_grouped_tag(case)).
GROUPED_CASES = (
    ((256, 5, 96, 2), "6a9a943c26ef15ee", (   # AlexNet conv2
        ("986036fde5aeccc0", "ungrouped"),
        ("f6af18fdf89da320", "one group"),
        ("d766059b0ec21310", "no biases"),
        ("628d01142b011f9f", "not shared"),
        ("d36505d696bd990e", "bias per group"),
    )),
    ((384, 3, 384, 2), "64ae2580e25cab8d", (  # AlexNet conv4
        ("87ff2e5f0ced6dc8", "ungrouped"),
        ("054dc74da3d76bc5", "one group"),
        ("37a25a903da0e1bf", "no biases"),
        ("76242065794f1cc5", "not shared"),
        ("be54b4be7c991995", "bias per group"),
    )),
    ((256, 3, 384, 2), "12b0b866e86ff999", (  # AlexNet conv5
        ("d0b823f47d8a3288", "ungrouped"),
        ("3d3d7a30188d1399", "one group"),
        ("1fdd7487951852ea", "no biases"),
        ("542b5579fbc73e70", "not shared"),
        ("eb80bd018e1427b6", "bias per group"),
    )),
    ((64, 3, 32, 1), "9a324235e0d498f1", (    # groups=1: an ordinary convolution
        ("3406dd41f4417e67", "no biases"),
        ("d6267dd1f8022bea", "bias per group"),
    )),
    ((8, 3, 8, 4), "c6acfe7337e20198", (      # four groups of 2 filters on 2 channels each
        ("e5bde13125ac9545", "ungrouped"),
        ("fb3f0402a6455b16", "one group"),
        ("236aeba8e95a65f2", "no biases"),
        ("b2b2673c0f04adbb", "not shared"),
        ("c9396e279b025bcb", "bias per group"),
    )),
)


def _grouped_tag(case):
    """The salt of a grouped case's hashes: a count hashes differently for every case."""
    return "grouped:" + ",".join(str(number) for number in case)


GROUPED_HINTS = {
    "ungrouped": "that is the ungrouped count: with groups, each filter sees only in_depth / groups "
                 "channels, so it is k*k*in_depth/groups deep",
    "one group": "that counts one group only: there are `groups` such groups, multiply by groups",
    "no biases": "biases missing: each filter has one bias as well",
    "not shared": "each group holds num_filters / groups filters, not num_filters: the groups share "
                  "the filters out between them",
    "bias per group": "that gives each group one bias: there is one bias per filter, so a group of "
                      "num_filters / groups filters has num_filters / groups biases",
}


def check_grouped_conv_params(grouped_conv_params):
    """grouped_conv_params(num_filters, size, in_depth, groups) counts a grouped conv's weights and biases."""
    counts = []
    for (F, k, C, g), answer, slips in GROUPED_CASES:
        got = call_student(grouped_conv_params, F, k, C, g, name="grouped_conv_params",
                           where=CELL_ABOVE)
        what = f"grouped_conv_params({F}, {k}, {C}, {g})"
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            fail(what, "a number of parameters", f"{type(got).__name__} {got!r}",
                 "return the count as an int, e.g. the .params of a Conv descriptor times groups")
        tag = _grouped_tag((F, k, C, g))
        whole = math.isfinite(got) and float(got).is_integer()
        if whole and matches_digest(got, answer, tag=tag):
            counts.append(got)
            continue
        wanted = f"the weights and biases of {g} group{'s' if g > 1 else ''}"
        slip = next((name for digest, name in slips if matches_digest(got, digest, tag=tag)), None) if whole else None
        fail(what, wanted, f"{got:,}", GROUPED_HINTS[slip] if slip else
             "a group is an ordinary convolution with num_filters / groups filters on in_depth / groups "
             "channels, and there are `groups` of them")
    # The student's own counts: only a function that got every case right reaches this line.
    passed("grouped_conv_params counts AlexNet's conv2, conv4 and conv5 as two groups: "
           f"{', '.join(f'{int(count):,}' for count in counts[:3])} parameters")
