"""Tests for cs231n_lib.data: digits, CIFAR-10 loading and the sample photo.

Oracles:
- the digits splits are checked against scikit-learn's raw data, recovered
  row by row (X + mean_image, times 16, is a whole-number image that must be
  one of the 1797), so split membership and the training mean are recomputed
  here without the library's permutation;
- CIFAR-10 is written in its real on-disk format (pickled dicts with
  b'data' rows R(1024) G(1024) B(1024)) into a temporary folder, and every
  pixel is compared with the byte at offset c*1024 + i*32 + j of its row;
- CS231n's get_CIFAR10_data is checked on a CIFAR-10 whose every channel is
  one constant, so its splits and mean image are worked out by hand;
- area resizing is checked on cases worked out by hand.
No test uses the network or a real CIFAR-10 download.
"""

import pickle
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from matplotlib import cbook
from sklearn.datasets import load_digits as sklearn_load_digits

from cs231n_lib import data
from cs231n_lib.data import (
    CIFAR_CLASS_NAMES,
    DEFAULT_CIFAR_ROOT,
    _area_resize,
    default_cifar_root,
    get_CIFAR10_data,
    get_cifar10_data,
    load_cifar10,
    load_digits,
    sample_image,
)

ROOT = Path(__file__).resolve().parent.parent
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
PER_BATCH = 20


# ---------------------------------------------------------------- digits


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def raw_digits():
    """{image as bytes of whole numbers 0..16: label} from scikit-learn directly."""
    bunch = sklearn_load_digits()
    return bunch.images.astype(np.int64), bunch.target


def recover_keys(X, mean_image):
    """Undo the scaling and centring: each row back to its 0..16 integers, as bytes."""
    pixels = np.rint((X.astype(np.float64) + mean_image) * 16).astype(np.int64)
    return [row.reshape(8, 8).tobytes() for row in pixels]


def test_digits_keys_shapes_and_dtypes(digits):
    assert set(digits) == {"X_train", "y_train", "X_val", "y_val", "X_test", "y_test",
                           "mean_image", "class_names"}
    for split, n in [("train", 1797 - 600), ("val", 300), ("test", 300)]:
        assert digits[f"X_{split}"].shape == (n, 1, 8, 8)
        assert digits[f"X_{split}"].dtype == np.float32
        assert digits[f"y_{split}"].shape == (n,)
        assert digits[f"y_{split}"].dtype == np.int64
    assert digits["mean_image"].shape == (1, 8, 8)
    assert digits["mean_image"].dtype == np.float32
    assert digits["class_names"] == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]


def test_digits_splits_use_every_image_exactly_once(digits, raw_digits):
    images, labels = raw_digits
    expected = Counter((img.tobytes(), int(y)) for img, y in zip(images, labels))
    found = Counter()
    for split in ("train", "val", "test"):
        keys = recover_keys(digits[f"X_{split}"], digits["mean_image"])
        found.update(zip(keys, digits[f"y_{split}"].tolist()))
    # Equal multisets of (image, label): no row in two splits, none left out,
    # and every label still belongs to its image.
    assert found == expected


def test_digits_mean_is_the_training_mean_only(digits, raw_digits):
    images, _ = raw_digits
    index = {img.tobytes(): i for i, img in enumerate(images)}
    train_rows = [index[k] for k in recover_keys(digits["X_train"], digits["mean_image"])]
    expected_mean = (images[train_rows] / 16.0).mean(axis=0)
    np.testing.assert_allclose(digits["mean_image"][0], expected_mean, atol=1e-6)
    np.testing.assert_allclose(digits["X_train"].mean(axis=0), 0, atol=1e-6)
    # The validation split is centred with the training mean, not its own.
    val_mean = digits["X_val"].mean(axis=0)
    assert np.abs(val_mean).max() > 1e-3
    val_rows = [index[k] for k in recover_keys(digits["X_val"], digits["mean_image"])]
    np.testing.assert_allclose(val_mean[0], (images[val_rows] / 16.0).mean(axis=0) - expected_mean,
                               atol=1e-6)


def test_digits_without_mean_subtraction_are_in_unit_range():
    d = load_digits(subtract_mean=False, dtype=np.float64)
    assert d["X_train"].dtype == np.float64
    assert not d["mean_image"].any()
    for split in ("train", "val", "test"):
        assert d[f"X_{split}"].min() >= 0 and d[f"X_{split}"].max() <= 1
    assert d["X_train"].max() == 1  # 16 / 16


def test_digits_split_sizes_follow_the_arguments():
    d = load_digits(num_val=0, num_test=1796)
    assert [len(d[f"y_{s}"]) for s in ("train", "val", "test")] == [1, 0, 1796]
    assert d["X_val"].shape == (0, 1, 8, 8)


def test_digits_same_seed_same_split_other_seed_other_split(digits):
    again = load_digits(seed=0)
    for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "mean_image"):
        np.testing.assert_array_equal(again[key], digits[key])
    other = load_digits(seed=1)
    assert not np.array_equal(other["y_train"], digits["y_train"])


def test_digits_leave_the_global_random_state_alone():
    before = np.random.get_state()
    load_digits(seed=None)
    after = np.random.get_state()
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"num_val": -1}, ValueError, r"num_val must be zero or positive, got -1"),
        ({"num_test": -5}, ValueError, r"num_test must be zero or positive, got -5"),
        ({"num_val": 2.5}, TypeError, r"num_val must be a whole number, got 2\.5"),
        ({"num_val": 1000, "num_test": 797},
         ValueError, r"1000 \+ 797 = 1797 leaves no training images out of the 1797 digits; "
                     r"keep num_val \+ num_test at most 1796"),
        ({"dtype": np.int32}, TypeError, r"dtype must be a float type .* got int32"),
    ],
)
def test_digits_bad_arguments_name_the_numbers(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        load_digits(**kwargs)


# ---------------------------------------------------------------- fake CIFAR-10


def write_batch(path, rows, labels, **extra):
    batch = {b"batch_label": b"fake batch", b"labels": labels, b"data": rows,
             b"filenames": [b"img%d.png" % i for i in range(len(labels))], **extra}
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)


def write_fake_cifar(folder, seed=0, meta=True):
    """Write CIFAR-10's seven files, PER_BATCH random images each, into folder.

    Returns {file name: (rows (n, 3072) uint8, labels list)} as written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for number, name in enumerate(TRAIN_FILES + ["test_batch"]):
        rows = rng.integers(0, 256, size=(PER_BATCH, 3072), dtype=np.uint8)
        labels = [(number + i) % 10 for i in range(PER_BATCH)]
        write_batch(folder / name, rows, labels)
        written[name] = (rows, labels)
    if meta:
        with open(folder / "batches.meta", "wb") as f:
            pickle.dump({b"label_names": [n.encode() for n in CIFAR_CLASS_NAMES],
                         b"num_cases_per_batch": PER_BATCH, b"num_vis": 3072}, f, protocol=2)
    return written


def as_images(rows):
    """rows (n, 3072) -> (n, 3, 32, 32) by the format's byte offsets, one index at a time."""
    c, i, j = np.indices((3, 32, 32))
    return rows[:, c * 1024 + i * 32 + j]


@pytest.fixture
def fake_cifar(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    return folder, write_fake_cifar(folder)


def test_load_cifar10_reads_the_channel_major_rows_as_nchw(fake_cifar):
    folder, written = fake_cifar
    X_train, y_train, X_test, y_test = load_cifar10(folder)
    assert X_train.shape == (5 * PER_BATCH, 3, 32, 32) and X_train.dtype == np.float32
    assert X_test.shape == (PER_BATCH, 3, 32, 32) and X_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64

    # Spot checks by hand: red, green and blue of the top-left pixel, the
    # second pixel of the top row, and the first pixel of the second row.
    rows, _ = written["data_batch_1"]
    for k in (0, 7):
        assert X_train[k, 0, 0, 0] == rows[k, 0]
        assert X_train[k, 1, 0, 0] == rows[k, 1024]
        assert X_train[k, 2, 0, 0] == rows[k, 2048]
        assert X_train[k, 0, 0, 1] == rows[k, 1]
        assert X_train[k, 0, 1, 0] == rows[k, 32]
        assert X_train[k, 2, 31, 31] == rows[k, 3071]
    # Every pixel, batch after batch, in file order.
    expected = np.concatenate([as_images(written[n][0]) for n in TRAIN_FILES])
    np.testing.assert_array_equal(X_train, expected)
    np.testing.assert_array_equal(y_train, sum((written[n][1] for n in TRAIN_FILES), []))
    np.testing.assert_array_equal(X_test, as_images(written["test_batch"][0]))
    np.testing.assert_array_equal(y_test, written["test_batch"][1])
    assert X_train.min() >= 0 and X_train.max() <= 255


def test_get_cifar10_data_splits_scales_and_centres(fake_cifar):
    folder, written = fake_cifar
    d = get_cifar10_data(folder, num_training=70, num_validation=20, num_test=15)
    assert set(d) == {"X_train", "y_train", "X_val", "y_val", "X_test", "y_test",
                      "mean_image", "class_names"}
    train_pixels = np.concatenate([as_images(written[n][0]) for n in TRAIN_FILES]) / 255.0
    train_labels = np.array(sum((written[n][1] for n in TRAIN_FILES), []))
    test_pixels = as_images(written["test_batch"][0]) / 255.0
    mean = train_pixels[:70].mean(axis=0)

    assert d["mean_image"].shape == (3, 32, 32) and d["mean_image"].dtype == np.float32
    np.testing.assert_allclose(d["mean_image"], mean, atol=1e-6)
    for split, pixels, labels in [
        ("train", train_pixels[:70], train_labels[:70]),
        ("val", train_pixels[70:90], train_labels[70:90]),
        ("test", test_pixels[:15], written["test_batch"][1][:15]),
    ]:
        assert d[f"X_{split}"].dtype == np.float32 and d[f"y_{split}"].dtype == np.int64
        np.testing.assert_allclose(d[f"X_{split}"], pixels - mean, atol=1e-6)
        np.testing.assert_array_equal(d[f"y_{split}"], labels)
    np.testing.assert_allclose(d["X_train"].mean(axis=0), 0, atol=1e-6)
    assert d["class_names"] == list(CIFAR_CLASS_NAMES)


def test_get_cifar10_data_without_mean_keeps_unit_range_in_float64(fake_cifar):
    folder, written = fake_cifar
    d = get_cifar10_data(folder, num_training=10, num_validation=0, num_test=5,
                         subtract_mean=False, dtype=np.float64)
    assert d["X_train"].dtype == np.float64 and not d["mean_image"].any()
    assert d["X_val"].shape == (0, 3, 32, 32)
    np.testing.assert_array_equal(d["X_train"], as_images(written["data_batch_1"][0][:10]) / 255.0)


def test_class_names_default_when_batches_meta_is_absent(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_fake_cifar(folder, meta=False)
    d = get_cifar10_data(folder, num_training=5, num_validation=5, num_test=5)
    assert d["class_names"][0] == "airplane" and d["class_names"][9] == "truck"


def test_class_names_come_from_batches_meta(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_fake_cifar(folder)
    names = [f"class {i}".encode() for i in range(10)]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": names}, f, protocol=2)
    d = get_cifar10_data(folder, num_training=5, num_validation=5, num_test=5)
    assert d["class_names"] == [f"class {i}" for i in range(10)]


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"num_training": 70, "num_validation": 40},
         ValueError, r"num_training \+ num_validation = 70 \+ 40 = 110 is more than the 100 training"),
        ({"num_test": 21}, ValueError, r"num_test = 21 is more than the 20 test images"),
        ({"num_training": 0}, ValueError, r"num_training must be positive, got 0"),
        ({"num_validation": -1}, ValueError, r"num_validation must be zero or positive, got -1"),
        ({"num_test": 1.0}, TypeError, r"num_test must be a whole number, got 1\.0"),
    ],
)
def test_get_cifar10_data_bad_sizes_name_the_numbers(fake_cifar, kwargs, error, pattern):
    folder, _ = fake_cifar
    sizes = {"num_training": 10, "num_validation": 10, "num_test": 10, **kwargs}
    with pytest.raises(error, match=pattern):
        get_cifar10_data(folder, **sizes)


def test_missing_folder_says_how_to_download(tmp_path):
    folder = tmp_path / "nowhere" / "cifar-10-batches-py"
    with pytest.raises(FileNotFoundError) as info:
        load_cifar10(folder)
    message = str(info.value)
    assert str(folder) in message
    assert f"python datasets/get_cifar10.py --root {folder.parent}" in message
    assert "digits" in message


def test_missing_batch_file_is_named(fake_cifar):
    folder, _ = fake_cifar
    (folder / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(folder / "data_batch_3"))) as info:
        load_cifar10(folder)
    assert "get_cifar10.py" in str(info.value)


def test_default_folder_is_the_repository_datasets_folder(monkeypatch):
    monkeypatch.delenv("CS231N_DATA", raising=False)
    assert DEFAULT_CIFAR_ROOT == ROOT / "datasets" / "cifar-10-batches-py"
    assert default_cifar_root() == DEFAULT_CIFAR_ROOT


def test_default_folder_missing_gives_the_plain_command(tmp_path, monkeypatch):
    # Stand in for datasets/cifar-10-batches-py, which may hold a real download here.
    monkeypatch.delenv("CS231N_DATA", raising=False)
    missing = tmp_path / "cifar-10-batches-py"
    monkeypatch.setattr(data, "DEFAULT_CIFAR_ROOT", missing)
    with pytest.raises(FileNotFoundError) as info:
        get_cifar10_data()
    message = str(info.value)
    assert str(missing) in message
    assert "by running `python datasets/get_cifar10.py` from the repository root" in message


def test_cs231n_data_environment_variable_is_honoured(tmp_path, monkeypatch):
    write_fake_cifar(tmp_path / "cifar-10-batches-py")
    monkeypatch.setenv("CS231N_DATA", str(tmp_path))
    assert default_cifar_root() == tmp_path / "cifar-10-batches-py"
    d = get_cifar10_data(num_training=50, num_validation=50, num_test=20)
    assert d["X_train"].shape == (50, 3, 32, 32) and d["X_test"].shape == (20, 3, 32, 32)

    monkeypatch.setenv("CS231N_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "elsewhere" / "cifar-10-batches-py"))):
        get_cifar10_data()


def test_truncated_batch_is_a_value_error_naming_the_file(fake_cifar):
    folder, _ = fake_cifar
    path = folder / "data_batch_2"
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError) as info:
        load_cifar10(folder)
    message = str(info.value)
    assert str(path) in message and "delete" in message and "get_cifar10.py" in message
    assert info.value.__cause__ is not None  # chained to the unpickling error


def test_garbage_file_is_a_value_error(fake_cifar):
    folder, _ = fake_cifar
    (folder / "test_batch").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ValueError, match=re.escape(str(folder / "test_batch"))):
        load_cifar10(folder)


def test_damaged_batches_meta_is_a_value_error(fake_cifar):
    folder, _ = fake_cifar
    (folder / "batches.meta").write_bytes(b"\x80\x02}q")
    with pytest.raises(ValueError, match=re.escape(str(folder / "batches.meta"))):
        get_cifar10_data(folder, num_training=5, num_validation=5, num_test=5)


@pytest.mark.parametrize(
    "batch, pattern",
    [
        ({b"pixels": np.zeros((PER_BATCH, 3072), np.uint8), b"labels": [0] * PER_BATCH},
         r"expected a dict with b'data' and b'labels', found the keys b'labels', b'pixels';"),
        ([1, 2, 3], r"expected a dict with b'data' and b'labels', found a list;"),
        ({b"data": np.zeros((PER_BATCH, 3000), np.uint8), b"labels": [0] * PER_BATCH},
         r"should be a uint8 array of shape \(N, 3072\).*shape \(20, 3000\)"),
        ({b"data": np.zeros((PER_BATCH, 3072), np.float64), b"labels": [0] * PER_BATCH},
         r"found a float64 array"),
        ({b"data": np.zeros((PER_BATCH, 3072), np.uint8), b"labels": [0] * 19},
         r"20 images but b'labels' has shape \(19,\)"),
        ({b"data": np.zeros((PER_BATCH, 3072), np.uint8), b"labels": [10] * PER_BATCH},
         r"labels must be 0\.\.9, found 10\.\.10"),
    ],
)
def test_wrong_keys_or_shapes_are_value_errors(fake_cifar, batch, pattern):
    folder, _ = fake_cifar
    path = folder / "data_batch_4"
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)
    with pytest.raises(ValueError, match=pattern) as info:
        load_cifar10(folder)
    assert str(path) in str(info.value) and "get_cifar10.py" in str(info.value)


# ---------------------------------------------------------------- CS231n's get_CIFAR10_data


def write_plain_cifar(folder):
    """Two images per batch file, each channel one constant value, so results can be worked out by hand.

    Image j (0 or 1) of data_batch_k has red = 10*k + j, green = red + 1, blue = red + 2
    everywhere, and label (k + j) % 10; the test batch holds 100 and 101, labels 7 and 8.
    In file order the training images' red values are 10, 11, 20, 21, 30, 31, 40, 41, 50, 51.
    """
    folder.mkdir(parents=True, exist_ok=True)

    def image(red):
        return np.repeat(np.array([red, red + 1, red + 2], dtype=np.uint8), 1024)

    for k, name in enumerate(TRAIN_FILES, start=1):
        write_batch(folder / name, np.stack([image(10 * k), image(10 * k + 1)]), [k % 10, (k + 1) % 10])
    write_batch(folder / "test_batch", np.stack([image(100), image(101)]), [7, 8])


@pytest.fixture
def course_cifar(tmp_path, monkeypatch):
    """A hand-checkable CIFAR-10 in $CS231N_DATA, where get_CIFAR10_data (which takes no root) reads."""
    write_plain_cifar(tmp_path / "cifar-10-batches-py")
    monkeypatch.setenv("CS231N_DATA", str(tmp_path))
    return tmp_path / "cifar-10-batches-py"


def channel_values(X):
    """(N, 3, 32, 32) images whose channels are constant -> (N, 3) of those constants."""
    assert (X == X[:, :, :1, :1]).all(), "every channel of these images should be one value"
    return X[:, :, 0, 0]


def test_course_loader_returns_exactly_the_six_arrays_in_float64_channels_first(course_cifar):
    d = get_CIFAR10_data(num_training=3, num_validation=2, num_test=1)
    assert sorted(d) == ["X_test", "X_train", "X_val", "y_test", "y_train", "y_val"]
    for split, n in (("train", 3), ("val", 2), ("test", 1)):
        X, y = d[f"X_{split}"], d[f"y_{split}"]
        assert X.shape == (n, 3, 32, 32) and X.dtype == np.float64 and X.flags.c_contiguous
        assert y.shape == (n,) and y.dtype == np.int64


def test_course_loader_subtracts_the_training_mean_on_the_0_255_scale(course_cifar):
    d = get_CIFAR10_data(num_training=3, num_validation=2, num_test=1)
    # Training = red 10, 11, 20 (the first three); its mean red is 41/3, green and blue
    # one and two more, so every channel of an image minus the mean is red - 41/3.
    # Validation = the next two, red 21 and 30; test = the first test image, red 100.
    for split, reds in (("train", [10, 11, 20]), ("val", [21, 30]), ("test", [100])):
        expected = np.repeat(np.array(reds, dtype=np.float64)[:, None] - 41 / 3, 3, axis=1)
        np.testing.assert_allclose(channel_values(d[f"X_{split}"]), expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(d["y_train"], [1, 2, 2])
    np.testing.assert_array_equal(d["y_val"], [3, 3])
    np.testing.assert_array_equal(d["y_test"], [7])


def test_course_loader_without_mean_keeps_the_raw_pixels(course_cifar):
    d = get_CIFAR10_data(num_training=4, num_validation=5, num_test=2, subtract_mean=False)
    np.testing.assert_array_equal(channel_values(d["X_train"])[:, 0], [10, 11, 20, 21])
    np.testing.assert_array_equal(channel_values(d["X_val"])[:, 0], [30, 31, 40, 41, 50])
    np.testing.assert_array_equal(channel_values(d["X_test"]), [[100, 101, 102], [101, 102, 103]])


def test_course_loader_reads_every_pixel_where_the_format_puts_it(tmp_path, monkeypatch):
    written = write_fake_cifar(tmp_path / "cifar-10-batches-py")
    monkeypatch.setenv("CS231N_DATA", str(tmp_path))
    d = get_CIFAR10_data(num_training=30, num_validation=50, num_test=20, subtract_mean=False)
    train = np.concatenate([as_images(written[n][0]) for n in TRAIN_FILES]).astype(np.float64)
    np.testing.assert_array_equal(d["X_train"], train[:30])
    np.testing.assert_array_equal(d["X_val"], train[30:80])
    np.testing.assert_array_equal(d["X_test"], as_images(written["test_batch"][0]))
    assert d["X_train"].max() > 1  # the 0..255 scale, not [0, 1]


def test_the_projects_loader_keeps_its_own_contract_beside_the_course_one(course_cifar):
    ours = get_cifar10_data(num_training=3, num_validation=2, num_test=1)
    course = get_CIFAR10_data(num_training=3, num_validation=2, num_test=1)
    assert {"mean_image", "class_names"} <= set(ours) and ours["X_train"].dtype == np.float32
    np.testing.assert_allclose(ours["X_val"] * 255, course["X_val"], atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({}, ValueError, r"num_training \+ num_validation = 49000 \+ 1000 = 50000 is more than the 10 training"),
        ({"num_training": 8, "num_validation": 3, "num_test": 1},
         ValueError, r"num_training \+ num_validation = 8 \+ 3 = 11 is more than the 10 training"),
        ({"num_training": 8, "num_validation": 2, "num_test": 3},
         ValueError, r"num_test = 3 is more than the 2 test images"),
        ({"num_training": 0, "num_validation": 2, "num_test": 1},
         ValueError, r"num_training must be positive, got 0"),
    ],
)
def test_course_loader_bad_sizes_name_the_numbers(course_cifar, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        get_CIFAR10_data(**kwargs)


def test_course_loader_without_the_data_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CS231N_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError) as info:
        get_CIFAR10_data()
    message = str(info.value)
    assert str(tmp_path / "elsewhere" / "cifar-10-batches-py") in message
    assert f"python datasets/get_cifar10.py --root {tmp_path / 'elsewhere'}" in message

    monkeypatch.delenv("CS231N_DATA")
    monkeypatch.setattr(data, "DEFAULT_CIFAR_ROOT", tmp_path / "cifar-10-batches-py")
    with pytest.raises(FileNotFoundError, match="by running `python datasets/get_cifar10.py` from"):
        get_CIFAR10_data()


# ---------------------------------------------------------------- sample photo


def test_sample_image_is_an_rgb_photo_in_unit_range():
    img = sample_image()
    assert img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) >= 100
    assert img.dtype == np.float64
    assert img.min() >= 0 and img.max() <= 1
    assert img.std() > 0.1  # a photograph, not a blank


@pytest.mark.parametrize("size", [(32, 24), (1, 1), (700, 600)])
def test_sample_image_resizes_to_the_requested_size(size):
    img = sample_image(size)
    assert img.shape == (*size, 3) and img.dtype == np.float64
    assert img.min() >= 0 and img.max() <= 1
    np.testing.assert_allclose(img.mean(), sample_image().mean(), rtol=1e-9)


@pytest.mark.parametrize("size, error", [((0, 5), ValueError), ((5,), ValueError),
                                         ("32x32", ValueError), ((5, 2.0), TypeError)])
def test_sample_image_bad_size(size, error):
    with pytest.raises(error, match="size"):
        sample_image(size)


def test_sample_image_missing_sample_data_is_explained(tmp_path, monkeypatch):
    missing = tmp_path / "grace_hopper.jpg"
    monkeypatch.setattr(cbook, "get_sample_data", lambda name, asfileobj=True: str(missing))
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing)) + ".*sample data"):
        sample_image()


def test_area_resize_by_hand():
    img = np.arange(16, dtype=np.float64).reshape(4, 4, 1)
    # 4x4 -> 2x2: each output is the mean of a 2x2 block.
    np.testing.assert_allclose(_area_resize(img, (2, 2))[:, :, 0],
                               [[(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4],
                                [(8 + 9 + 12 + 13) / 4, (10 + 11 + 14 + 15) / 4]])
    # 3 -> 2: each output covers 1.5 inputs: [a + b/2, b/2 + c] / 1.5.
    row = np.array([3.0, 6.0, 9.0]).reshape(1, 3, 1)
    np.testing.assert_allclose(_area_resize(row, (1, 2))[0, :, 0],
                               [(3 + 6 / 2) / 1.5, (6 / 2 + 9) / 1.5])
    # 2 -> 4: enlarging repeats each pixel.
    small = np.array([[1.0, 2.0]]).reshape(1, 2, 1)
    np.testing.assert_allclose(_area_resize(small, (1, 4))[0, :, 0], [1, 1, 2, 2])
    # Same size: unchanged.
    np.testing.assert_allclose(_area_resize(img, (4, 4)), img)


@pytest.mark.parametrize("where", ["package file", "fallback"])
def test_the_digits_read_without_importing_sklearn_are_sklearns(monkeypatch, where):
    if where == "fallback":  # a layout of the package without the file: sklearn's own loader
        monkeypatch.setattr(data, "SKLEARN_DIGITS_FILE", ("no", "such", "file.csv.gz"))
    pixels, labels = data.read_sklearn_digits()
    expected = sklearn_load_digits()
    assert pixels.dtype == np.float64 and labels.dtype == np.int64
    np.testing.assert_array_equal(pixels, expected.images)
    np.testing.assert_array_equal(labels, expected.target)


def test_loading_the_digits_does_not_import_sklearn():
    code = ("import sys\nfrom cs231n_lib.data import load_digits\nload_digits()\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] == 'sklearn'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
