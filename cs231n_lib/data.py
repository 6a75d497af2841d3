"""Datasets for the notebooks: small and offline by default, CIFAR-10 on request.

- ``load_digits``: scikit-learn's 8x8 handwritten digits, shipped inside
  scikit-learn, so it works offline. The default data of the notebooks.
- ``load_cifar10`` / ``get_cifar10_data``: CIFAR-10 read from the python
  batches that ``python datasets/get_cifar10.py`` downloads (once, about
  163 MB). Optional: nothing in the course needs it to run. The environment
  variable CS231N_DATA moves it: the loaders then read
  $CS231N_DATA/cifar-10-batches-py (see ``default_cifar_root``).
- ``get_CIFAR10_data``: the same data as CS231n's function of that name
  returns it (float64 on the 0..255 scale, only the six arrays), for the
  course's own notebooks.
- ``sample_image``: a real photograph that matplotlib ships, for showing what
  a filter does to an image.

Image batches are NCHW float arrays (sample_image, a single picture for
plotting, is (H, W, 3)); labels are int64. The project's split functions
(``load_digits``, ``get_cifar10_data``) scale pixels to [0, 1] and then
subtract the mean image of the training split from every split, so the
validation and test data see exactly the preprocessing a model trained on the
training split would use. ``X + data['mean_image']`` gives back the [0, 1]
pixels. ``get_CIFAR10_data`` keeps the course's 0..255 scale instead.
"""

import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np
from matplotlib import cbook
from matplotlib import image as mpl_image

from cs231n_lib.validation import (
    require_float_dtype,
    require_non_negative_int,
    require_positive_int,
)

DIGITS_TOTAL = 1797
# Where the scikit-learn package keeps the digits (its load_digits reads this file).
SKLEARN_DIGITS_FILE = ("datasets", "data", "digits.csv.gz")

# Where `python datasets/get_cifar10.py` puts CIFAR-10 by default: next to that
# script, in the repository. The environment variable CS231N_DATA overrides the
# folder that holds it (see default_cifar_root).
DEFAULT_CIFAR_ROOT = Path(__file__).resolve().parents[1] / "datasets" / "cifar-10-batches-py"
CIFAR_FOLDER = "cifar-10-batches-py"
DATA_ENV_VAR = "CS231N_DATA"

CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_FILE = "test_batch"
CIFAR_META_FILE = "batches.meta"
CIFAR_CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
_CIFAR_PIXELS = 3 * 32 * 32


# ---------------------------------------------------------------- digits


def read_sklearn_digits():
    """scikit-learn's digits: (pixels (1797, 8, 8) float64 in 0..16, labels (1797,) int64).

    Read from the file inside the scikit-learn package that ``sklearn.datasets.load_digits``
    reads (SKLEARN_DIGITS_FILE), found without importing scikit-learn: 0.05 s, where importing
    ``sklearn.datasets`` takes about 0.9 s. Where the file is not there (another layout of
    the package), ``sklearn.datasets.load_digits`` gives the same arrays.
    """
    spec = importlib.util.find_spec("sklearn")
    folders = spec.submodule_search_locations if spec is not None else None
    path = Path(folders[0]).joinpath(*SKLEARN_DIGITS_FILE) if folders else None
    if path is not None and path.is_file():
        table = np.loadtxt(path, delimiter=",")
        return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits as sklearn_load_digits

    digits = sklearn_load_digits()
    return digits.images, digits.target.astype(np.int64)


def load_digits(num_val=300, num_test=300, seed=0, dtype=np.float32, subtract_mean=True):
    """The 8x8 handwritten digits, split into train / validation / test.

    Source: scikit-learn's copy of the UCI "Optical Recognition of Handwritten
    Digits" test set (``sklearn.datasets.load_digits``): 1797 grey images of
    8x8 pixels with values 0..16, labels 0..9, about 180 of each. The data is
    inside the scikit-learn package, so nothing is downloaded.

    The split is a random permutation from ``np.random.default_rng(seed)``
    (numpy's global generator is not touched): the first 1797 - num_val -
    num_test images of the permutation train, the next num_val validate, the
    last num_test test. It is not stratified, so class counts per split vary a
    little around one tenth. The same seed always gives the same split.

    Pixels are divided by 16 to lie in [0, 1]; then, if subtract_mean, the
    mean image of the training split (only) is subtracted from all three.

    Inputs:
    - num_val, num_test: sizes of the validation and test splits (>= 0, and
      together at most 1796 so at least one image is left to train on)
    - seed: int or None, for the permutation
    - dtype: float dtype of the images
    - subtract_mean: subtract the training mean image (True) or not
    Returns a dict:
    - 'X_train', 'X_val', 'X_test': (N, 1, 8, 8) images in ``dtype``
    - 'y_train', 'y_val', 'y_test': (N,) int64 labels 0..9
    - 'mean_image': (1, 8, 8) in ``dtype``, the image subtracted from every
      split (zeros when subtract_mean is False), so X + mean_image is in [0, 1]
    - 'class_names': ['0', '1', ..., '9']
    """
    num_val = require_non_negative_int("num_val", num_val)
    num_test = require_non_negative_int("num_test", num_test)
    num_train = DIGITS_TOTAL - num_val - num_test
    if num_train < 1:
        raise ValueError(
            f"num_val + num_test = {num_val} + {num_test} = {num_val + num_test} "
            f"leaves no training images out of the {DIGITS_TOTAL} digits; "
            f"keep num_val + num_test at most {DIGITS_TOTAL - 1}"
        )
    dtype = require_float_dtype(dtype)

    pixels, labels = read_sklearn_digits()
    images = (pixels / 16.0).reshape(DIGITS_TOTAL, 1, 8, 8)

    order = np.random.default_rng(seed).permutation(DIGITS_TOTAL)
    splits = {
        "train": order[:num_train],
        "val": order[num_train:num_train + num_val],
        "test": order[num_train + num_val:],
    }
    data = {}
    for name, rows in splits.items():
        data[f"X_{name}"] = images[rows].astype(dtype)
        data[f"y_{name}"] = labels[rows]
    _subtract_training_mean(data, subtract_mean, dtype)
    data["class_names"] = [str(d) for d in range(10)]
    return data


# ---------------------------------------------------------------- CIFAR-10


def default_cifar_root():
    """The folder the CIFAR-10 loaders read when no root is given.

    ``$CS231N_DATA/cifar-10-batches-py`` when the environment variable
    CS231N_DATA is set (it names the folder that *holds* cifar-10-batches-py,
    as ``--root`` does for ``python datasets/get_cifar10.py``), otherwise
    ``DEFAULT_CIFAR_ROOT``, i.e. ``datasets/cifar-10-batches-py`` in this
    repository. It is read at each call, not at import.
    """
    data_dir = os.environ.get(DATA_ENV_VAR)
    if data_dir:
        return Path(data_dir).expanduser() / CIFAR_FOLDER
    return DEFAULT_CIFAR_ROOT


def load_cifar10(root):
    """Read all of CIFAR-10 from its python batches in the folder ``root``.

    Source: the "CIFAR-10 python version" of Alex Krizhevsky's dataset
    (https://www.cs.toronto.edu/~kriz/cifar.html), as unpacked by
    ``python datasets/get_cifar10.py``: files data_batch_1 .. data_batch_5
    (50000 training images) and test_batch (10000), each a pickled dict with
    b'data', a (10000, 3072) uint8 array whose rows hold the 1024 red, then
    the 1024 green, then the 1024 blue values of a 32x32 image (row by row),
    and b'labels', a list of ints 0..9.

    Reading a pickle can run code stored in it. Only call this on files you
    downloaded yourself with the script above, never on a file from an
    untrusted source.

    Inputs:
    - root: str or Path of the folder holding the batch files
    Returns (X_train, y_train, X_test, y_test):
    - X_train: (50000, 3, 32, 32) float32, pixel values 0..255
    - y_train: (50000,) int64 labels 0..9
    - X_test: (10000, 3, 32, 32) float32, y_test: (10000,) int64
    Raises FileNotFoundError if root or a batch is missing (with the command
    that fetches them), ValueError if a batch is damaged.
    """
    X_train, y_train, X_test, y_test = _load_cifar10_uint8(root)
    return X_train.astype(np.float32), y_train, X_test.astype(np.float32), y_test


def get_cifar10_data(root=None, num_training=49000, num_validation=1000, num_test=1000,
                     subtract_mean=True, dtype=np.float32):
    """CIFAR-10 split into train / validation / test, scaled and mean-centred.

    As in CS231n, the training split is the first num_training of the 50000
    training images and the validation split the next num_validation (so they
    never overlap); the test split is the first num_test of the 10000 test
    images. Pixels are divided by 255 to lie in [0, 1]; then, if
    subtract_mean, the mean image of the training split (only) is subtracted
    from all three. See ``load_cifar10`` for the source of the data, and the
    warning about reading pickles.

    Inputs:
    - root: folder holding the batch files; None means ``default_cifar_root()``:
      $CS231N_DATA/cifar-10-batches-py if CS231N_DATA is set, else
      datasets/cifar-10-batches-py in this repository
    - num_training (>= 1), num_validation, num_test (>= 0): split sizes, with
      num_training + num_validation <= 50000 and num_test <= 10000
    - subtract_mean: subtract the training mean image (True) or not
    - dtype: float dtype of the images (float32 halves the memory of float64:
      about 600 MB for the default split)
    Returns a dict:
    - 'X_train', 'X_val', 'X_test': (N, 3, 32, 32) images in ``dtype``
    - 'y_train', 'y_val', 'y_test': (N,) int64 labels 0..9
    - 'mean_image': (3, 32, 32) in ``dtype``, the image subtracted from every
      split (zeros when subtract_mean is False), so X + mean_image is in [0, 1]
    - 'class_names': the 10 names from batches.meta ('airplane', ..., 'truck')
    """
    dtype = require_float_dtype(dtype)
    root = default_cifar_root() if root is None else Path(root)
    data = _cifar10_splits(root, num_training, num_validation, num_test)
    for name in ("X_train", "X_val", "X_test"):
        data[name] = _scale(data[name], 255.0, dtype)
    _subtract_training_mean(data, subtract_mean, dtype)
    data["class_names"] = _load_cifar10_class_names(root)
    return data


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True):
    """CIFAR-10 as CS231n's own ``get_CIFAR10_data`` returns it: 0..255 floats, six arrays.

    The course's notebooks call this (through ``cs231n.data_utils``) and
    expect its exact result, which differs from ``get_cifar10_data``'s: pixels
    stay on the 0..255 scale (no division by 255), images are float64, and the
    dict holds only the six arrays (no 'mean_image', no 'class_names').

    The splits are the course's: training = the first num_training of the
    50000 training images, validation = the num_validation images right after
    them, test = the first num_test of the 10000 test images. If
    subtract_mean, the mean image of the training split (only) is subtracted
    from all three splits. The data is read from ``default_cifar_root()``:
    $CS231N_DATA/cifar-10-batches-py if CS231N_DATA is set, else
    datasets/cifar-10-batches-py in this repository (``python
    datasets/get_cifar10.py`` downloads it; see ``load_cifar10`` for the
    format and the warning about reading pickles).

    Inputs:
    - num_training (>= 1), num_validation, num_test (>= 0): split sizes, with
      num_training + num_validation at most the training images present
      (50000) and num_test at most the test images present (10000)
    - subtract_mean: subtract the training mean image (True) or not
    Returns a dict with exactly these keys:
    - 'X_train', 'X_val', 'X_test': (N, 3, 32, 32) float64, channels first,
      pixel values 0..255 minus the training mean image when subtract_mean
    - 'y_train', 'y_val', 'y_test': (N,) int64 labels 0..9
    Raises FileNotFoundError (with the command that downloads CIFAR-10) when
    the data is absent, ValueError when the sizes do not fit the data.
    Memory: about 1.25 GB for the default sizes (51000 images of 3072 float64).
    """
    root = default_cifar_root()
    data = _cifar10_splits(root, num_training, num_validation, num_test)
    for name in ("X_train", "X_val", "X_test"):
        data[name] = data[name].astype(np.float64)
    if subtract_mean:
        mean_image = data["X_train"].mean(axis=0)
        for name in ("X_train", "X_val", "X_test"):
            data[name] -= mean_image
    return data


def _cifar10_splits(root, num_training, num_validation, num_test):
    """The three splits of CIFAR-10 as uint8 NCHW images and int64 labels, sizes checked.

    Training is the first num_training training images, validation the next
    num_validation, test the first num_test test images (CS231n's split).
    """
    num_training = require_positive_int("num_training", num_training)
    num_validation = require_non_negative_int("num_validation", num_validation)
    num_test = require_non_negative_int("num_test", num_test)

    X_train_all, y_train_all, X_test_all, y_test_all = _load_cifar10_uint8(root)
    available = X_train_all.shape[0]
    if num_training + num_validation > available:
        raise ValueError(
            f"num_training + num_validation = {num_training} + {num_validation} = "
            f"{num_training + num_validation} is more than the {available} training "
            f"images in {root}; lower one of them"
        )
    if num_test > X_test_all.shape[0]:
        raise ValueError(
            f"num_test = {num_test} is more than the {X_test_all.shape[0]} test images "
            f"in {root}; pass num_test={X_test_all.shape[0]} or fewer"
        )

    end_val = num_training + num_validation
    return {
        "X_train": X_train_all[:num_training],
        "y_train": y_train_all[:num_training],
        "X_val": X_train_all[num_training:end_val],
        "y_val": y_train_all[num_training:end_val],
        "X_test": X_test_all[:num_test],
        "y_test": y_test_all[:num_test],
    }


def _load_cifar10_uint8(root):
    """load_cifar10 before the conversion to float: NCHW uint8 arrays."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"CIFAR-10 folder {root} does not exist. {_how_to_fetch(root)}"
        )
    train = [_read_cifar10_batch(root / name) for name in CIFAR_TRAIN_FILES]
    X_test, y_test = _read_cifar10_batch(root / CIFAR_TEST_FILE)
    X_train = np.concatenate([X for X, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return X_train, y_train, X_test, y_test


def _read_cifar10_batch(path):
    """One batch file -> (X (N, 3, 32, 32) uint8, y (N,) int64), checked."""
    batch = _unpickle(path)
    fix = _refetch(path)
    if not isinstance(batch, dict) or not _has(batch, "data") or not _has(batch, "labels"):
        found = (f"the keys {', '.join(sorted(map(repr, batch)))}" if isinstance(batch, dict)
                 else f"a {type(batch).__name__}")
        raise ValueError(
            f"{path} is not a CIFAR-10 batch: expected a dict with b'data' and b'labels', "
            f"found {found}; {fix}"
        )
    X, y = _get(batch, "data"), _get(batch, "labels")
    if not isinstance(X, np.ndarray) or X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != _CIFAR_PIXELS:
        what = f"a {X.dtype} array of shape {X.shape}" if isinstance(X, np.ndarray) else type(X).__name__
        raise ValueError(
            f"{path}: b'data' should be a uint8 array of shape (N, {_CIFAR_PIXELS}) "
            f"(N images of 3x32x32), found {what}; {fix}"
        )
    try:
        y = np.asarray(y, dtype=np.int64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: b'labels' is not a list of integers; {fix}") from err
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"{path}: {X.shape[0]} images but b'labels' has shape {y.shape}, "
            f"expected ({X.shape[0]},); {fix}"
        )
    if y.size and (y.min() < 0 or y.max() > 9):
        raise ValueError(
            f"{path}: labels must be 0..9, found {y.min()}..{y.max()}; {fix}"
        )
    # Row layout: [R plane | G plane | B plane], each plane 32 rows of 32, so
    # a plain reshape gives (N, C, H, W) with no transpose.
    return X.reshape(-1, 3, 32, 32), y


def _load_cifar10_class_names(root):
    """Names from batches.meta, or the standard ten if that file is absent."""
    path = Path(root) / CIFAR_META_FILE
    if not path.is_file():
        return list(CIFAR_CLASS_NAMES)
    meta = _unpickle(path)
    names = _get(meta, "label_names") if isinstance(meta, dict) and _has(meta, "label_names") else None
    if not isinstance(names, list) or len(names) != 10:
        raise ValueError(
            f"{path} is not CIFAR-10's batches.meta: expected b'label_names' with 10 names; "
            f"{_refetch(path)}"
        )
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]


def _unpickle(path):
    """pickle.load a batch file, turning every kind of damage into a ValueError."""
    if not path.is_file():
        raise FileNotFoundError(
            f"CIFAR-10 file {path} is missing. {_how_to_fetch(path.parent)}"
        )
    try:
        with open(path, "rb") as f:
            # encoding='bytes': the batches were pickled by Python 2.
            return pickle.load(f, encoding="bytes")
    except OSError:
        raise  # cannot read the file at all (permissions...): not a damaged file
    except Exception as err:  # truncated or corrupt: EOFError, UnpicklingError, ...
        raise ValueError(
            f"{path} is damaged and cannot be read ({type(err).__name__}: {err}); "
            f"{_refetch(path)}"
        ) from err


def _has(d, key):
    return key.encode() in d or key in d


def _get(d, key):
    """Look a key up as bytes (the real batches) or str (a Python 3 pickle)."""
    return d[key.encode()] if key.encode() in d else d[key]


def _fetch_command(folder):
    """How to download CIFAR-10 into ``folder``: a shell command, plus a note if needed."""
    folder = Path(folder).resolve()
    if folder == DEFAULT_CIFAR_ROOT:
        return "`python datasets/get_cifar10.py`"
    command = f"`python datasets/get_cifar10.py --root {folder.parent}`"
    if folder.name != CIFAR_FOLDER:
        command += f" (it creates {folder.parent / CIFAR_FOLDER}: load from that folder)"
    return command


def _how_to_fetch(folder):
    """The sentences that tell the user how to get CIFAR-10 into ``folder``."""
    return (
        f"Download CIFAR-10 (about 163 MB, once) by running {_fetch_command(folder)} "
        f"from the repository root. The notebooks do not need it: they run on the "
        f"digits data (cs231n_lib.data.load_digits) without it."
    )


def _refetch(path):
    """The fix for a damaged file ``path``."""
    return f"delete {path} and run {_fetch_command(path.parent)} again to fetch a fresh copy"


# ---------------------------------------------------------------- sample photo


def sample_image(size=None):
    """A real photograph: Grace Hopper, from the sample data matplotlib ships.

    Read from ``matplotlib.cbook.get_sample_data('grace_hopper.jpg')`` (a
    600 x 512 JPEG; matplotlib reads it with Pillow, one of its own
    dependencies). Nothing is downloaded.

    Inputs:
    - size: None for the full image, or (h, w) to resize it by area
      averaging: each output pixel is the mean of the input pixels under it,
      weighting those it covers only partly by the covered fraction. This
      smooths when shrinking (no aliasing) and repeats pixels when enlarging.
    Returns (H, W, 3) float64 RGB values in [0, 1] (channels last, ready for
    plt.imshow; use img.transpose(2, 0, 1)[None] for a (1, 3, H, W) batch).
    """
    if size is not None:
        if not isinstance(size, (tuple, list)) or len(size) != 2:
            raise ValueError(f"size must be None or a pair (h, w), got {size!r}")
        size = (require_positive_int("size[0]", size[0]), require_positive_int("size[1]", size[1]))

    path = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    if not path.is_file():
        raise FileNotFoundError(
            f"matplotlib's sample photo {path} is missing: this matplotlib build "
            f"leaves out its sample data (some Linux distributions split it into a "
            f"separate package, e.g. python3-matplotlib-data). Reinstall matplotlib "
            f"with `pip install --force-reinstall matplotlib` in this environment"
        )
    img = mpl_image.imread(path)
    if np.issubdtype(img.dtype, np.integer):
        img = img / np.iinfo(img.dtype).max
    img = np.asarray(img, dtype=np.float64)[:, :, :3]
    if size is not None:
        img = _area_resize(img, size)
    return img


def _area_resize(img, size):
    """Resize (H, W, C) img to (h, w, C) by area averaging (see sample_image)."""
    rows = _area_weights(img.shape[0], size[0])
    cols = _area_weights(img.shape[1], size[1])
    # One matrix product per axis: rows (h, H) mixes the rows of the image,
    # then cols (w, W) mixes the columns of every row and channel.
    H, W, C = img.shape
    out = (rows @ img.reshape(H, W * C)).reshape(size[0], W, C)
    out = (out.transpose(0, 2, 1) @ cols.T).transpose(0, 2, 1)
    # Each output is a convex combination of inputs; clip the rounding only.
    return np.ascontiguousarray(np.clip(out, img.min(), img.max()))


def _area_weights(n_in, n_out):
    """(n_out, n_in) matrix: row i averages the inputs under output cell i.

    Output cell i spans [i, i + 1) * n_in / n_out in input coordinates; input
    pixel k spans [k, k + 1). The weight is their overlap divided by the
    cell's length, so every row sums to 1.
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)
    k = np.arange(n_in)
    overlap = (np.minimum(edges[1:, None], k + 1) - np.maximum(edges[:-1, None], k)).clip(min=0)
    return overlap / (n_in / n_out)


# ---------------------------------------------------------------- shared steps


def _scale(X, max_value, dtype):
    """X (integers 0..max_value) -> dtype values in [0, 1]."""
    out = X.astype(dtype)
    out /= max_value
    return out


def _subtract_training_mean(data, subtract_mean, dtype):
    """Subtract the training split's mean image from every split, in place."""
    X_train = data["X_train"]
    if subtract_mean:
        # Accumulate in float64: a float32 running sum over ~50000 images drifts.
        mean_image = X_train.mean(axis=0, dtype=np.float64).astype(dtype)
        for name in ("X_train", "X_val", "X_test"):
            data[name] -= mean_image
    else:
        mean_image = np.zeros(X_train.shape[1:], dtype=dtype)
    data["mean_image"] = mean_image
