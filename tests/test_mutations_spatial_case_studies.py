"""Mutation suite for notebooks 01 (spatial arithmetic) and 08 (case studies).

Each mutation is the model solution of an answer cell with one student-style slip. The
notebook's PUBLIC check (its check cell up to ``### BEGIN HIDDEN TESTS``) runs on the mutant
in a namespace built the way the notebook builds it (its setup cell without the IPython
magics, then the cells the answer depends on), and must fail with a message that names the
slip. A slip the public check misses, or catches under another name, is marked
``xfail(strict=True)`` with what is missing (issue 11), so fixing the check flips the mark.

The last tests measure the rule "a check on a number, a shape or a verdict says what is
wrong ... never the value": a wrong value's message must not print the expected value.
"""

import re
from functools import lru_cache

import nbformat
import numpy as np
import pytest
from mutation_harness import (
    ROOT,
    Mutation,
    answer_source,
    assert_caught,
    mutate,
    run_answer,
)

NB01 = "01_spatial_arithmetic"
NB08 = "08_case_studies"


# ---------------------------------------------------------------- the notebooks, as they run


@lru_cache(maxsize=None)
def _cells(notebook):
    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells if c.cell_type == "code"}


def cell_source(notebook, grade_id):
    return _cells(notebook)[grade_id]


def public_check_source(notebook, grade_id):
    """The check cell's source without its hidden tests."""
    return cell_source(notebook, grade_id).split("### BEGIN HIDDEN TESTS")[0]


def _without_magics(source):
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))


@lru_cache(maxsize=None)
def _base_namespace(notebook):
    """The namespace after the setup cell (and, for 08, the cells the value answers read)."""
    namespace = {"__name__": "__notebook__"}
    run_answer(_without_magics(cell_source(notebook, f"{notebook[:2]}-setup")), namespace)
    if notebook == NB08:
        # vgg_rows and vgg_params come from the model VGG-16 and the table cell.
        run_answer(answer_source(NB08, "08-vgg-answer"), namespace)
        run_answer(cell_source(NB08, "08-vgg-table-code"), namespace)
    return namespace


# exercise -> (notebook, answer cell, check cell)
EXERCISES = {
    "01-ex1": (NB01, "01-ex1-answer", "01-ex1-check"),
    "01-ex2": (NB01, "01-ex2-answer", "01-ex2-check"),
    "01-ex3": (NB01, "01-ex3-answer", "01-ex3-check"),
    "01-ex4": (NB01, "01-ex4-answer", "01-ex4-check"),
    "01-ex5": (NB01, "01-ex5-answer", "01-ex5-check"),
    "01-ex6": (NB01, "01-ex6-answer", "01-ex6-check"),
    "08-grouped": (NB08, "08-grouped-answer", "08-grouped-check"),
    "08-vgg": (NB08, "08-vgg-answer", "08-vgg-check"),
    "08-fc": (NB08, "08-fc-answer", "08-fc-check"),
    "08-memory": (NB08, "08-memory-answer", "08-memory-check"),
}


def public_check(exercise, edits=()):
    """A callable that runs the (mutated) answer cell, then the public part of its check cell."""
    notebook, answer_id, check_id = EXERCISES[exercise]
    source = mutate(answer_source(notebook, answer_id), edits)
    check_source = public_check_source(notebook, check_id)

    def check():
        namespace = dict(_base_namespace(notebook))
        run_answer(source, namespace)
        with np.errstate(all="ignore"):
            run_answer(check_source, namespace)

    return check


# ---------------------------------------------------------------- the mistakes

M = Mutation

MUTATIONS = {
    # alexnet_size = (227 - 11) / 4 + 1; stride3_value = (7 - 3) / 3 + 1
    "01-ex1": [
        M("alexnet forgot the +1", (("(227 - 11) / 4 + 1", "(227 - 11) / 4"),), ("+1",)),
        M("alexnet stride ignored", (("(227 - 11) / 4 + 1", "(227 - 11) + 1"),), ("stride",)),
        M("alexnet with the paper's 224", (("(227 - 11)", "(224 - 11)"),), ("224",)),
        M("alexnet N and F swapped", (("(227 - 11)", "(11 - 227)"),), ("negative", "swapped", "F - N")),
        M("stride3 with // hides the remainder", (("(7 - 3) / 3 + 1", "(7 - 3) // 3 + 1"),),
          ("//", "integer division")),
        M("stride3 rounded to a whole number", (("stride3_value = (7 - 3) / 3 + 1",
                                                 "stride3_value = round((7 - 3) / 3 + 1)"),),
          ("round", "integer division")),
        M("stride3 forgot the +1", (("(7 - 3) / 3 + 1", "(7 - 3) / 3"),), ("+1",)),
    ],
    # padded_size = (32 - 5 + 2 * 2) / 1 + 1; stem_size = (33 - 7 + 2 * 3) / 2 + 1
    "01-ex2": [
        M("padded forgot the padding", (("(32 - 5 + 2 * 2)", "(32 - 5)"),), ("padding",)),
        M("padded forgot padding and +1", (("(32 - 5 + 2 * 2) / 1 + 1", "(32 - 5) / 1"),), ("padding",)),
        M("stem padded one side only", (("(33 - 7 + 2 * 3)", "(33 - 7 + 3)"),), ("one side", "2P")),
        M("stem forgot the +1", (("(33 - 7 + 2 * 3) / 2 + 1", "(33 - 7 + 2 * 3) / 2"),), ("+1",)),
        M("stem stride ignored", (("(33 - 7 + 2 * 3) / 2 + 1", "(33 - 7 + 2 * 3) + 1"),), ("stride",)),
        M("stem padding subtracted", (("(33 - 7 + 2 * 3)", "(33 - 7 - 2 * 3)"),),
          ("sign", "subtract", "minus")),
    ],
    # same_pad = (11 - 1) // 2
    "01-ex3": [
        M("F - 1, both sides at once", (("(11 - 1) // 2", "(11 - 1)"),), ("each side",)),
        M("F / 2", (("(11 - 1) // 2", "11 / 2"),), ("F / 2", "whole")),
        M("(F + 1) / 2", (("(11 - 1) // 2", "(11 + 1) // 2"),), ("one zero too many", "F + 1")),
        M("no padding", (("(11 - 1) // 2", "0"),), ("padding out", "without zeros")),
        M("padded by F", (("(11 - 1) // 2", "11"),), ("filter size",)),
    ],
    # conv_params = 64 * (3 * 3 * 32 + 1)
    "01-ex4": [
        M("forgot the biases", (("64 * (3 * 3 * 32 + 1)", "64 * (3 * 3 * 32)"),), ("bias",)),
        M("filters not full depth", (("3 * 3 * 32 + 1", "3 * 3 + 1"),), ("full depth",)),
        M("one bias for the layer", (("64 * (3 * 3 * 32 + 1)", "64 * 3 * 3 * 32 + 1"),),
          ("one bias", "per filter")),
        M("a single filter", (("64 * (3 * 3 * 32 + 1)", "(3 * 3 * 32 + 1)"),), ("single filter", "K =")),
        M("counted at every output position", (("64 * (3 * 3 * 32 + 1)", "64 * (3 * 3 * 32 + 1) * 16 * 16"),),
          ("sharing", "position")),
        M("one bias per input channel", (("64 * (3 * 3 * 32 + 1)", "64 * (3 * 3 * 32 + 32)"),),
          ("one bias",)),
        M("padding added to the filter size", (("64 * (3 * 3 * 32 + 1)", "64 * (5 * 5 * 32 + 1)"),),
          ("padding",)),
    ],
    # reduce_shape = (64, 28, 28); reduce_params = 64 * (1 * 1 * 256 + 1)
    "01-ex5": [
        M("shape in H x W x C order", (("(64, 28, 28)", "(28, 28, 64)"),), ("order", "(C, H, W)")),
        M("kept the input depth", (("(64, 28, 28)", "(256, 28, 28)"),), ("input depth",)),
        M("shrank like a 3x3 without pad", (("(64, 28, 28)", "(64, 26, 26)"),),
          ("keeps H and W", "width or height")),
        M("forgot the biases", (("64 * (1 * 1 * 256 + 1)", "64 * (1 * 1 * 256)"),), ("bias",)),
        M("1x1 filter not full depth", (("1 * 1 * 256 + 1", "1 * 1 + 1"),), ("full depth",)),
        M("counted at every pixel", (("64 * (1 * 1 * 256 + 1)", "64 * (1 * 1 * 256 + 1) * 28 * 28"),),
          ("sharing", "position")),
        M("K and C swapped", (("64 * (1 * 1 * 256 + 1)", "256 * (1 * 1 * 64 + 1)"),),
          ("swapped", "K and C", "C and K")),
    ],
    # side = (13 - 3) / 2 + 1; pooled_shape = (256, int(side), int(side)); pooled_params = 0
    "01-ex6": [
        M("forgot the +1", (("(13 - 3) / 2 + 1", "(13 - 3) / 2"),), ("+1",)),
        M("shape in H x W x C order", (("(256, int(side), int(side))", "(int(side), int(side), 256)"),),
          ("order", "(C, H, W)")),
        M("depth of one map", (("(256, int(side), int(side))", "(1, int(side), int(side))"),), ("depth",)),
        M("stride ignored", (("(13 - 3) / 2 + 1", "(13 - 3) + 1"),), ("divide by the stride", "did not divide")),
        M("padded like a conv", (("(13 - 3) / 2 + 1", "(13 - 3 + 2 * 1) / 2 + 1"),), ("without padding",)),
        M("pool given a filter's parameters", (("pooled_params = 0", "pooled_params = 3 * 3 * 256 + 1"),),
          ("no weights", "learn")),
    ],
    # one_group = Conv(num_filters // groups, size).describe((in_depth // groups, size, size))
    # return groups * one_group.params
    "08-grouped": [
        M("ungrouped count", (
            ("Conv(num_filters // groups, size).describe((in_depth // groups, size, size))",
             "Conv(num_filters, size).describe((in_depth, size, size))"),
            ("return groups * one_group.params", "return one_group.params")), ("ungrouped",)),
        M("one group only", (("return groups * one_group.params", "return one_group.params"),), ("one group",)),
        M("filters not shared out", (("Conv(num_filters // groups, size)", "Conv(num_filters, size)"),),
          ("num_filters / groups",)),
        M("channels not split", (("(in_depth // groups, size, size)", "(in_depth, size, size)"),),
          ("ungrouped", "in_depth / groups")),
        M("forgot the biases", (("return groups * one_group.params",
                                 "return groups * (num_filters // groups) * size * size * (in_depth // groups)"),),
          ("bias",)),
        M("one bias per group", (("return groups * one_group.params",
                                  "return groups * (one_group.params - num_filters // groups + 1)"),),
          ("bias",)),
    ],
    "08-vgg": [
        M("ReLU in the list", ((
            'layers.append(Conv(filters, 3, stride=1, pad=1, name=f"CONV{block}-{index}"))',
            'layers += [Conv(filters, 3, stride=1, pad=1, name=f"CONV{block}-{index}"), ReLU()]'),), ("ReLU",)),
        M("pad 0", (("pad=1", "pad=0"),), ("padding", "pad=1")),
        M("FC8 missing", ((', FC(1000, name="FC8")', ""),), ("FC layer is missing",)),
        M("last pool missing", ((
            'layers.append(Pool(2, stride=2, name=f"POOL{block}"))',
            'if block < 5: layers.append(Pool(2, stride=2, name=f"POOL{block}"))'),), ("POOL is missing",)),
        M("two convs in block 3", (("(3, 256)", "(2, 256)"),), ("conv layers",)),
        M("filters doubled in the last block", (("(3, 512)]", "(3, 1024)]"),), ("filters",)),
        M("pool stride 1", (("Pool(2, stride=2", "Pool(2, stride=1"),), ("stride",)),
        M("10 classes (CIFAR) in FC8", (('FC(1000, name="FC8")', 'FC(10, name="FC8")'),), ("1000 class",)),
        M("5x5 convs", (("Conv(filters, 3,", "Conv(filters, 5,"),), ("3x3",)),
    ],
    # fc_fraction = sum(r.params for r in vgg_rows if r.name.startswith("FC")) / vgg_params
    "08-fc": [
        M("a percentage", (("/ vgg_params", "/ vgg_params * 100"),), ("percentage",)),
        M("the conv share", (('if r.name.startswith("FC")', 'if not r.name.startswith("FC")'),), ("conv",)),
        M("FC6 only", (('r.name.startswith("FC")', 'r.name == "FC6"'),), ("FC6",)),
        M("upside down", (('fc_fraction = sum(r.params for r in vgg_rows if r.name.startswith("FC")) / vgg_params',
                           'fc_fraction = vgg_params / sum(r.params for r in vgg_rows if r.name.startswith("FC"))'),),
          ("upside down",)),
        M("activations instead of parameters", (("sum(r.params", "sum(r.activations"),), ("activations",)),
        M("name matched in lower case", (('startswith("FC")', 'startswith("fc")'),),
          ("no FC rows", "case", "matched no")),
        M("// for /", (("/ vgg_params", "// vgg_params"),), ("//", "integer division")),
    ],
    # memory_mb = sum(r.activations for r in vgg_rows) * 4 / 1e6
    "08-memory": [
        M("MiB", (("/ 1e6", "/ 2**20"),), ("MiB",)),
        M("values, not bytes", (("* 4 / 1e6", "/ 1e6"),), ("counts values", "not bytes")),
        M("input image left out", (("for r in vgg_rows)", "for r in vgg_rows[1:])"),), ("input",)),
        M("float64, 8 bytes", (("* 4", "* 8"),), ("float64", "8 bytes")),
        M("in bytes", (("* 4 / 1e6", "* 4"),), ("in bytes",)),
        M("forward plus backward", (("* 4 / 1e6", "* 4 * 2 / 1e6"),), ("forward pass only", "backward")),
        M("parameters instead of activations", (("r.activations", "r.params"),), ("parameters", "params")),
        M("kB instead of MB", (("/ 1e6", "/ 1e3"),), ("KB", "kilobytes", "1000 times")),
    ],
}

# (exercise, mutation name) -> what the public check misses or misnames today
XFAIL = {}


def _params():
    for exercise, mutations in MUTATIONS.items():
        for mutation in mutations:
            reason = XFAIL.get((exercise, mutation.name))
            marks = [pytest.mark.xfail(strict=True, reason=f"issue 11: {reason}")] if reason else []
            yield pytest.param(exercise, mutation, marks=marks, id=f"{exercise}: {mutation.name}")


def test_there_are_enough_mutations():
    assert sum(len(m) for m in MUTATIONS.values()) >= 40
    assert all(len(m) >= 3 for m in MUTATIONS.values())
    assert set(MUTATIONS) == set(EXERCISES)
    assert set(XFAIL) <= {(e, m.name) for e, ms in MUTATIONS.items() for m in ms}


def test_every_mutation_applies_to_its_model_solution():
    """Guard for the xfails: a mutation whose edit no longer applies must fail loudly, not xfail."""
    for exercise, mutations in MUTATIONS.items():
        notebook, answer_id, _ = EXERCISES[exercise]
        source = answer_source(notebook, answer_id)
        for mutation in mutations:
            assert mutate(source, mutation.edits) != source, (exercise, mutation.name)


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_the_model_solution_passes_the_public_check(exercise, capsys):
    public_check(exercise)()
    notebook, _, check_id = EXERCISES[exercise]
    calls = [line for line in public_check_source(notebook, check_id).splitlines() if line.startswith("check_")]
    assert capsys.readouterr().out.count("OK:") == len(calls) >= 1


@pytest.mark.parametrize("exercise, mutation", list(_params()))
def test_the_public_check_catches_and_names_the_mistake(exercise, mutation):
    assert_caught(public_check(exercise, mutation.edits), mutation)


# ---------------------------------------------------------------- a wrong value's message never prints the value


class ValueLeak(AssertionError):
    """The failure message of a wrong value shows the expected value."""


_NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?!\d)%?")


def _shows_number(message, value):
    """Does ``message`` write ``value`` (exactly for a whole number, else rounded to 2 or more digits)?"""
    for token in _NUMBER.findall(message):
        percent = token.endswith("%")
        text = token.rstrip("%").replace(",", "")
        number = float(text) / (100 if percent else 1)
        decimals = len(text.split(".")[1]) if "." in text else 0
        if float(value).is_integer():
            if not percent and number == value:
                return True
        elif len(text.replace(".", "").lstrip("0")) >= 2:
            if abs(number - value) <= 0.5 * 10 ** -(decimals + (2 if percent else 0)) + 1e-12:
                return True
    return False


def _shows_shape(message, shape):
    C, H, W = shape
    renderings = (f"({C}, {H}, {W})", f"[{C}, {H}, {W}]", f"{H}x{W}x{C}", f"{C}x{H}x{W}")
    return any(text in message for text in renderings)


def test_the_leak_detector():
    assert _shows_number("expected 18,496, got 18,432.", 18_496)
    assert not _shows_number("got 18,432; 118,496 and 18,4960 are other numbers", 18_496)
    assert _shows_number("expected 0, got 2,305.", 0) and not _shows_number("got 2,305; 10**6", 0)
    assert _shows_number("expected 0.8936, got 0.7427", 123_642_856 / 138_357_544)
    assert _shows_number("that is 89.4% of them", 123_642_856 / 138_357_544)
    assert not _shows_number("1 minus your answer, got 0.7427", 123_642_856 / 138_357_544)
    assert _shows_number("the formula gives 2.33", 7 / 3) and not _shows_number("2 or 3", 7 / 3)
    assert _shows_shape("expected (64, 28, 28)", (64, 28, 28)) and _shows_shape("a 28x28x64 volume", (64, 28, 28))
    assert not _shows_shape("a 28x28x256 volume (C, H, W) = (256, 28, 28)", (64, 28, 28))


def _named(exercise, name):
    return next(m for m in MUTATIONS[exercise] if m.name == name)


# (exercise, a wrong answer from MUTATIONS, expected value, text that only echoes the question's inputs)
VALUE_CASES = [
    ("01-ex1", "alexnet forgot the +1", 55, ()),
    ("01-ex1", "stride3 forgot the +1", (7 - 3) / 3 + 1, ()),
    ("01-ex2", "padded forgot the padding", 32, ("N=32",)),
    ("01-ex2", "stem forgot the +1", 17, ()),
    ("01-ex3", "(F + 1) / 2", 5, ()),
    ("01-ex4", "forgot the biases", 18_496, ()),
    ("01-ex5", "kept the input depth", (64, 28, 28), ()),
    ("01-ex5", "forgot the biases", 16_448, ()),
    ("01-ex6", "forgot the +1", (256, 6, 6), ()),
    ("01-ex6", "pool given a filter's parameters", 0, ()),
    ("08-fc", "FC6 only", 123_642_856 / 138_357_544, ()),
    ("08-memory", "MiB", 15_237_608 * 4 / 1e6, ()),
]


def _value_params():
    for exercise, name, expected, echoes in VALUE_CASES:
        yield pytest.param(exercise, name, expected, echoes, id=f"{exercise}: {name}")


@pytest.mark.parametrize("exercise, name, expected, echoes", list(_value_params()))
def test_a_wrong_value_is_told_what_is_wrong_not_the_value(exercise, name, expected, echoes):
    check = public_check(exercise, _named(exercise, name).edits)
    with pytest.raises(AssertionError) as info:
        check()
    message = str(info.value)
    for echo in echoes:  # the question's own inputs may repeat the number
        message = message.replace(echo, "")
    shows = _shows_shape(message, expected) if isinstance(expected, tuple) else _shows_number(message, expected)
    if shows:
        raise ValueLeak(f"the message for a wrong answer shows the expected value {expected!r}:\n{info.value}")
