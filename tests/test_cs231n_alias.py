"""The alias package cs231n: CS231n's module paths, re-exporting cs231n_lib.

CS231n's assignment-2 notebooks (spring 2017 and later years) import from
``cs231n.layers``, ``cs231n.solver``, ... The lists below are the public names
of the course's starter modules, written from its published code, each with
where it lives in cs231n_lib (the same object, never a copy) or why it is
deliberately not provided. Oracles:
- identity: every course name is the very object cs231n_lib defines;
- the alias modules' source: a docstring, explicit ``from cs231n_lib... import``
  lines and ``__all__``, nothing else (no code of their own, no wildcard);
- absence: every name deliberately not provided raises ImportError, so a
  notebook that needs one fails at its import line, not later.
"""

import ast
import importlib
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALIAS = ROOT / "cs231n"

# {course module: {course name: (cs231n_lib module, name there)}}
PROVIDED = {
    "cs231n.layers": {
        name: ("cs231n_lib.layers", name)
        for name in (
            "affine_forward", "affine_backward", "relu_forward", "relu_backward",
            "softmax_loss", "svm_loss", "dropout_forward", "dropout_backward",
            "conv_forward_naive", "conv_backward_naive",
            "max_pool_forward_naive", "max_pool_backward_naive",
            "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
            "spatial_batchnorm_forward", "spatial_batchnorm_backward",
        )
    },
    "cs231n.fast_layers": {
        name: ("cs231n_lib.fast_layers", name)
        for name in ("conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast", "max_pool_backward_fast")
    },
    "cs231n.layer_utils": {
        name: ("cs231n_lib.layer_utils", name)
        for name in (
            "affine_relu_forward", "affine_relu_backward", "conv_relu_forward", "conv_relu_backward",
            "conv_relu_pool_forward", "conv_relu_pool_backward",
            "conv_bn_relu_forward", "conv_bn_relu_backward",
        )
    },
    "cs231n.gradient_check": {
        name: ("cs231n_lib.gradient_check", name)
        for name in ("eval_numerical_gradient", "eval_numerical_gradient_array", "grad_check_sparse")
    },
    "cs231n.optim": {name: ("cs231n_lib.optim", name) for name in ("sgd", "sgd_momentum", "rmsprop", "adam")},
    "cs231n.solver": {"Solver": ("cs231n_lib.solver", "Solver")},
    "cs231n.classifiers.fc_net": {
        "TwoLayerNet": ("cs231n_lib.models", "TwoLayerNet"),
        "FullyConnectedNet": ("cs231n_lib.models", "FullyConnectedNet"),
    },
    "cs231n.classifiers.cnn": {"ThreeLayerConvNet": ("cs231n_lib.models", "ThreeLayerConvNet")},
    "cs231n.data_utils": {"get_CIFAR10_data": ("cs231n_lib.data", "get_CIFAR10_data")},
    "cs231n.vis_utils": {"visualize_grid": ("cs231n_lib.vis", "visualize_grid")},
}

# Course names this package deliberately leaves out, and why.
NO_NORMALIZATION = "the library has no layer or group normalization (later years' assignment 2)"
STRATEGY = ("one of the course's separate fast-layer strategies (Cython im2col, stride tricks, "
            "reshape); the library has one fast implementation, conv_*_fast / max_pool_*_fast")
NOT_PROVIDED = {
    "cs231n.layers": {
        "layernorm_forward": NO_NORMALIZATION,
        "layernorm_backward": NO_NORMALIZATION,
        "spatial_groupnorm_forward": NO_NORMALIZATION,
        "spatial_groupnorm_backward": NO_NORMALIZATION,
    },
    "cs231n.fast_layers": {
        name: STRATEGY
        for name in (
            "conv_forward_im2col", "conv_backward_im2col", "conv_forward_strides", "conv_backward_strides",
            "max_pool_forward_reshape", "max_pool_backward_reshape",
            "max_pool_forward_im2col", "max_pool_backward_im2col",
        )
    },
    "cs231n.gradient_check": {
        "eval_numerical_gradient_blobs": "works on 'blob' objects (.vals, .diffs) of a framework the course never ships",
        "eval_numerical_gradient_net": "works on 'blob' objects (.vals, .diffs) of a framework the course never ships",
    },
    "cs231n.data_utils": {
        "load_CIFAR10": "returns (N, 32, 32, 3) float64; the library's load_cifar10 is (N, 3, 32, 32) float32",
        "load_CIFAR_batch": "one batch as (N, 32, 32, 3) float64; the library reads batches as NCHW uint8",
        "load_pickle": "unpickling can run code stored in the file; the library reads only CIFAR-10's batches",
        "load_models": "unpickles every file in a folder; the course ships no pickled models",
        "load_tiny_imagenet": "TinyImageNet is not part of this course",
        "load_imagenet_val": "the ImageNet sample is not part of this course",
    },
    "cs231n.vis_utils": {
        "vis_grid": "repeats visualize_grid's job with one scale for the whole grid; no notebook calls it",
        "vis_nn": "repeats visualize_grid's job for rows of images; no notebook calls it",
    },
}

# Names that other work of issue 14 adds to the library; until it lands, their
# module (and so every name of it) fails to import here.
ADDED_BY_ISSUE_14 = {
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "conv_bn_relu_forward", "conv_bn_relu_backward", "TwoLayerNet", "get_CIFAR10_data",
}

PACKAGES = ("cs231n", "cs231n.classifiers")


def alias_modules():
    """Every module of the alias package, as dotted names, found on disk."""
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in ALIAS.rglob("*.py")
    )


def provided_pairs():
    return [(module, name) for module, names in PROVIDED.items() for name in sorted(names)]


def missing_pairs():
    return [(module, name) for module, names in NOT_PROVIDED.items() for name in sorted(names)]


def test_the_lists_cover_every_alias_module_and_nothing_else():
    assert alias_modules() == sorted([*PROVIDED, *PACKAGES])
    assert set(NOT_PROVIDED) <= set(PROVIDED)
    assert ADDED_BY_ISSUE_14 <= {name for names in PROVIDED.values() for name in names}


@pytest.mark.parametrize("module, name", provided_pairs())
def test_every_course_name_is_the_library_object(module, name):
    library_module, library_name = PROVIDED[module][name]
    # Other tests reload the library's modules (as the checks' independence tests do), so
    # bind the alias afresh: what is checked is what an import in a new kernel gets.
    alias = importlib.reload(importlib.import_module(module))
    original = getattr(importlib.import_module(library_module), library_name)
    assert getattr(alias, name) is original, f"{module}.{name} is not {library_module}.{library_name}"
    namespace = {}
    exec(f"from {module} import {name}", namespace)  # the course notebooks' own spelling
    assert namespace[name] is original


@pytest.mark.parametrize("module", sorted(PROVIDED))
def test_all_lists_exactly_the_course_names_so_a_wildcard_import_gets_them(module):
    alias = importlib.import_module(module)
    assert sorted(alias.__all__) == sorted(PROVIDED[module])
    namespace = {}
    exec(f"from {module} import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(PROVIDED[module])


@pytest.mark.parametrize("module, name", missing_pairs())
def test_names_deliberately_not_provided_are_absent(module, name):
    assert NOT_PROVIDED[module][name].strip(), "say why it is not provided"
    assert name not in PROVIDED[module]
    with pytest.raises(ImportError, match=name):
        exec(f"from {module} import {name}", {})
    path = ALIAS.joinpath(*module.split(".")[1:]).with_suffix(".py")
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert name in docstring, f"{path.name}'s docstring should list {name} as not provided"


@pytest.mark.parametrize("module", alias_modules())
def test_alias_modules_hold_only_a_docstring_imports_from_the_library_and_all(module):
    parts = module.split(".")[1:]
    path = ALIAS.joinpath(*parts, "__init__.py") if module in PACKAGES else ALIAS.joinpath(*parts).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path} needs a docstring saying which cs231n_lib module it maps"
    imported = []
    for node in tree.body[1:]:
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module.split(".")[0] == "cs231n_lib", ast.unparse(node)
            assert all(alias.name != "*" for alias in node.names), f"wildcard import in {path}"
            imported += [alias.asname or alias.name for alias in node.names]
        elif isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            assert ast.literal_eval(node.value) == sorted(imported), f"{path}: __all__ should list the imports"
        else:
            pytest.fail(f"{path} line {node.lineno} is code of its own: {ast.unparse(node)[:80]}")
    if module in PACKAGES:
        assert imported == [], f"{path} should only document its modules"


@pytest.mark.parametrize("module", sorted(PROVIDED))
def test_every_public_attribute_of_an_alias_module_comes_from_the_library(module):
    alias = importlib.import_module(module)
    public = {name: value for name, value in vars(alias).items() if not name.startswith("_")}
    assert set(public) == set(alias.__all__)
    for name, value in public.items():
        assert value.__module__.split(".")[0] == "cs231n_lib", f"{module}.{name} is defined in {value.__module__}"


def test_the_library_and_the_notebooks_never_import_the_alias():
    # Students get cs231n_lib and the notebooks, not the alias: an import of it would break their copy.
    from test_environment import imported_modules, notebook_cells

    sources = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in (ROOT / "cs231n_lib").rglob("*.py")]
    sources += [cell for p in sorted((ROOT / "notebooks").glob("*.ipynb")) for cell in notebook_cells(p)]
    importers = [where for where, source in sources if "cs231n" in set(imported_modules(source))]
    assert not importers, f"{importers} import the alias package cs231n, which no release contains"


def test_the_release_copies_the_library_folder_only(tmp_path):
    # The student release is an allow-list (tests/test_course_release.py lists the zip): its
    # library is the folder of cs231n_lib, copied file by file, which the alias is not in.
    from cs231n_course.config import library_dir
    from cs231n_course.release import write_student_library

    assert library_dir() == ROOT / "cs231n_lib"
    write_student_library(library_dir(), tmp_path / "cs231n_lib")
    shipped = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py")}
    assert shipped and all(name.startswith("cs231n_lib/") for name in shipped)
    assert not any(Path(name).name in {"data_utils.py", "vis_utils.py", "fc_net.py"} for name in shipped)


def test_a_course_style_session_runs_through_the_alias(tmp_path, monkeypatch):
    # The course's data cell, model and solver, spelled with its import paths, on a small
    # CIFAR-10 in the real on-disk format.
    from test_data import write_fake_cifar

    write_fake_cifar(tmp_path / "cifar-10-batches-py")
    monkeypatch.setenv("CS231N_DATA", str(tmp_path))
    from cs231n.classifiers.fc_net import TwoLayerNet
    from cs231n.data_utils import get_CIFAR10_data
    from cs231n.solver import Solver

    data = get_CIFAR10_data(num_training=60, num_validation=20, num_test=10)
    assert {k: v.shape for k, v in data.items()} == {
        "X_train": (60, 3, 32, 32), "y_train": (60,), "X_val": (20, 3, 32, 32), "y_val": (20,),
        "X_test": (10, 3, 32, 32), "y_test": (10,),
    }
    model = TwoLayerNet(input_dim=3 * 32 * 32, hidden_dim=20, num_classes=10, weight_scale=1e-4)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e-4},
                    num_epochs=2, batch_size=20, verbose=False)
    solver.train()
    assert len(solver.loss_history) == 6 and all(map(math.isfinite, solver.loss_history))
    assert 0 <= solver.check_accuracy(data["X_test"], data["y_test"]) <= 1
