"""The courses' data: the planar "flower", scikit-learn's toy sets, and cat vs non-cat.

Nothing is downloaded. The planar, extra, circles and moons sets are generated; the
digits are scikit-learn's bundled copy; the cat images are read from the course's two
HDF5 files in a folder the caller names.

The planar flower needs NumPy only. The other sets are made (or shipped) by scikit-learn
and the cat files are read with h5py, both in the ``data`` extra:
``pip install "cnn_core[data]"``.
"""
from __future__ import annotations

import os

import numpy as np

from cnn_core._optional import require

__all__ = ["load_planar_dataset", "load_extra_datasets", "load_circles", "load_moons",
           "load_digits", "load_catvnoncat", "CATVNONCAT_FILES", "DIGITS_TEST_SIZE",
           "DIGITS_RANDOM_STATE"]

#: The fraction of scikit-learn's 1797 digits that :func:`load_digits` holds out for
#: testing (450 images, 43 to 46 of each digit), and the seed of its stratified split.
DIGITS_TEST_SIZE = 0.25
DIGITS_RANDOM_STATE = 0

#: The files :func:`load_catvnoncat` reads, and the datasets it needs from each.
CATVNONCAT_FILES = {
    "train": ("train_catvnoncat.h5", "train_set_x", "train_set_y"),
    "test": ("test_catvnoncat.h5", "test_set_x", "test_set_y"),
}


def load_planar_dataset():
    """The two-class "flower": 400 points in the plane, 200 per class.

    Seeds ``np.random`` with 1 and draws in the notes' order, so the arrays are the
    course's own.

    Returns:
        ``X`` ``(2, 400)`` float64 coordinates and ``Y`` ``(1, 400)`` uint8 labels (0 red,
        1 blue).
    """
    np.random.seed(1)
    m = 400
    per_class = m // 2
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1), dtype="uint8")
    petal_radius = 4  # the flower's largest radius
    for label in range(2):
        rows = range(per_class * label, per_class * (label + 1))
        theta = (np.linspace(label * 3.12, (label + 1) * 3.12, per_class)
                 + np.random.randn(per_class) * 0.2)
        radius = petal_radius * np.sin(4 * theta) + np.random.randn(per_class) * 0.2
        X[rows] = np.c_[radius * np.sin(theta), radius * np.cos(theta)]
        Y[rows] = label
    return X.T, Y.T


def load_extra_datasets():
    """The notes' other 2-D problems, made by scikit-learn (200 points each).

    Returns:
        ``(noisy_circles, noisy_moons, blobs, gaussian_quantiles, no_structure)``, each a
        pair ``(X, y)`` in scikit-learn's layout: ``X`` ``(200, 2)`` with one row per
        example and ``y`` ``(200,)`` (transpose X and reshape y to ``(1, 200)`` for the
        course's functions). ``blobs`` has 6 classes; ``no_structure`` is uniform noise
        with random real-valued "labels". Draws from NumPy's global generator where
        scikit-learn is given no seed, as in the notes.

    Raises:
        ImportError: scikit-learn is not installed (the message names the ``data`` extra).
    """
    datasets = require("sklearn.datasets", "data", "cnn_core.datasets.load_extra_datasets")
    n = 200
    noisy_circles = datasets.make_circles(n_samples=n, factor=0.5, noise=0.3)
    noisy_moons = datasets.make_moons(n_samples=n, noise=0.2)
    blobs = datasets.make_blobs(n_samples=n, random_state=5, n_features=2, centers=6)
    gaussian_quantiles = datasets.make_gaussian_quantiles(
        mean=None, cov=0.5, n_samples=n, n_features=2, n_classes=2, shuffle=True,
        random_state=None,
    )
    no_structure = np.random.rand(n, 2), np.random.rand(n, 2)
    return noisy_circles, noisy_moons, blobs, gaussian_quantiles, no_structure


def load_circles():
    """The initialization notebook's two circles: 300 training and 100 test points.

    As the course's notebook makes them: ``np.random.seed(1)`` then scikit-learn's
    ``make_circles(n_samples=300, noise=.05)`` for training, ``np.random.seed(2)`` then
    ``make_circles(n_samples=100, noise=.05)`` for test. scikit-learn, given no seed,
    draws from NumPy's global generator, so the arrays are the course's own, and the
    generator is left where the notebook leaves it (seeded with 2, after the test set's
    draws).

    Returns:
        ``train_X`` ``(2, 300)`` float64 coordinates, ``train_Y`` ``(1, 300)`` float64
        labels (0.0 outer circle, 1.0 inner circle), ``test_X`` ``(2, 100)`` and
        ``test_Y`` ``(1, 100)``.

    Raises:
        ImportError: scikit-learn is not installed (the message names the ``data`` extra).
    """
    datasets = require("sklearn.datasets", "data", "cnn_core.datasets.load_circles")
    np.random.seed(1)
    train_X, train_Y = datasets.make_circles(n_samples=300, noise=.05)
    np.random.seed(2)
    test_X, test_Y = datasets.make_circles(n_samples=100, noise=.05)
    return (train_X.T, train_Y.reshape(1, -1).astype(np.float64),
            test_X.T, test_Y.reshape(1, -1).astype(np.float64))


def load_moons():
    """The optimization notebook's two moons: 300 points.

    As the course's notebook makes them: ``np.random.seed(3)`` then scikit-learn's
    ``make_moons(n_samples=300, noise=.2)``, drawn from NumPy's global generator, which
    is left where the notebook leaves it (seeded with 3, after the moons' draws).

    Returns:
        ``X`` ``(2, 300)`` float64 coordinates and ``Y`` ``(1, 300)`` float64 labels
        (0.0 upper moon, 1.0 lower moon).

    Raises:
        ImportError: scikit-learn is not installed (the message names the ``data`` extra).
    """
    datasets = require("sklearn.datasets", "data", "cnn_core.datasets.load_moons")
    np.random.seed(3)
    X, Y = datasets.make_moons(n_samples=300, noise=.2)
    return X.T, Y.reshape(1, -1).astype(np.float64)


def load_digits():
    """scikit-learn's 8x8 handwritten digits, ten classes, split once for training and test.

    The 1797 images are flattened to 64 pixels scaled from 0..16 to [0, 1] (divided by
    16) and split by ``train_test_split(test_size=DIGITS_TEST_SIZE, stratify=y,
    random_state=DIGITS_RANDOM_STATE)``: 1347 training and 450 test images, each digit in
    the same proportion in both, the same split on every call and machine. NumPy's
    global generator is neither read nor changed.

    Returns:
        ``X_train`` ``(64, 1347)`` float64, ``Y_train`` ``(1, 1347)`` int64 class
        indices 0..9, ``X_test`` ``(64, 450)`` and ``Y_test`` ``(1, 450)``: one column
        per image, as the courses' functions take them.

    Raises:
        ImportError: scikit-learn is not installed (the message names the ``data`` extra).
    """
    datasets = require("sklearn.datasets", "data", "cnn_core.datasets.load_digits")
    model_selection = require("sklearn.model_selection", "data", "cnn_core.datasets.load_digits")
    digits = datasets.load_digits()
    X = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = model_selection.train_test_split(
        X, y, test_size=DIGITS_TEST_SIZE, stratify=y, random_state=DIGITS_RANDOM_STATE,
    )
    return (np.ascontiguousarray(X_train.T), y_train.reshape(1, -1),
            np.ascontiguousarray(X_test.T), y_test.reshape(1, -1))


def _read_dataset(h5file, path, key):
    if key not in h5file:
        raise ValueError(
            f"{path} lacks the dataset {key!r} (found: {sorted(h5file.keys())}); "
            f"is it the course's file?"
        )
    return np.asarray(h5file[key][()])


def _open_h5(path):
    h5py = require("h5py", "data", "cnn_core.datasets.load_catvnoncat")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} not found: load_catvnoncat needs a folder holding "
            f"{' and '.join(name for name, _, _ in CATVNONCAT_FILES.values())}"
        )
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"{path} is not a readable HDF5 file ({exc})") from exc


def _load_split(folder, split):
    filename, x_key, y_key = CATVNONCAT_FILES[split]
    path = os.path.join(folder, filename)
    with _open_h5(path) as h5file:
        x = _read_dataset(h5file, path, x_key)
        y = _read_dataset(h5file, path, y_key)
        classes = _read_dataset(h5file, path, "list_classes")
    if x.ndim != 4 or x.shape[3] != 3:
        raise ValueError(f"{path}: {x_key!r} must be images (m, height, width, 3); got {x.shape}")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{path}: {y_key!r} must hold one label per image, shape ({x.shape[0]},); got {y.shape}"
        )
    if classes.ndim != 1 or classes.size < 2:
        raise ValueError(f"{path}: 'list_classes' must name at least two classes; got {classes!r}")
    if not np.isin(y, np.arange(classes.size)).all():
        raise ValueError(
            f"{path}: {y_key!r} must hold class indices 0..{classes.size - 1}; "
            f"got values {np.unique(y)}"
        )
    return x, y.reshape(1, -1), classes


def load_catvnoncat(path):
    """Load the course's cat vs non-cat images.

    Arguments:
        path: a folder holding ``train_catvnoncat.h5`` and ``test_catvnoncat.h5``.

    Returns:
        ``train_x_orig`` ``(209, 64, 64, 3)`` uint8, ``train_y`` ``(1, 209)``,
        ``test_x_orig`` ``(50, 64, 64, 3)``, ``test_y`` ``(1, 50)`` and ``classes``
        (the byte strings ``b"non-cat"``, ``b"cat"``), as the course's loader returns them.

    Raises:
        FileNotFoundError: the folder or one of the files is missing (the message names it).
        ValueError: a file is not HDF5, lacks a dataset (named), or holds arrays of the
            wrong shape.
        ImportError: h5py is not installed (the message names the ``data`` extra).
    """
    # The installation first, then the files.
    require("h5py", "data", "cnn_core.datasets.load_catvnoncat")
    folder = os.fspath(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{folder} is not a folder: load_catvnoncat takes the folder that holds "
            f"train_catvnoncat.h5 and test_catvnoncat.h5"
        )
    train_x_orig, train_y, classes = _load_split(folder, "train")
    test_x_orig, test_y, _ = _load_split(folder, "test")
    if test_x_orig.shape[1:] != train_x_orig.shape[1:]:
        raise ValueError(
            f"the test images {test_x_orig.shape[1:]} and the training images "
            f"{train_x_orig.shape[1:]} must have the same size"
        )
    return train_x_orig, train_y, test_x_orig, test_y, classes
