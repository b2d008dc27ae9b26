"""Shared fixtures: the backends, the course data and a small random network."""
import os

import pytest
from hypothesis import settings

import cnn_core
from cnn_core import _backend

# The whole suite runs against the compiled extension unless the pure-NumPy run is
# asked for explicitly (CNN_CORE_BACKEND=numpy); test_backend.py fails otherwise.
NUMPY_ONLY = os.environ.get(_backend.ENV_VAR, "").strip().lower() == "numpy"
BACKENDS = ["numpy"] if NUMPY_ONLY else list(cnn_core.BACKENDS)
#: For tests that compare the compiled backend with NumPy: skipped, saying why, only in
#: a pure-NumPy run asked for explicitly.
needs_kernels = pytest.mark.skipif(NUMPY_ONLY, reason="pure-NumPy run: no compiled kernels")


# Property tests: no deadline (JAX compiles on first use of a shape) and a fixed budget
# of examples; CI also derandomises them, so a CI failure can be reproduced as it is.
settings.register_profile("ci", deadline=None, max_examples=25, derandomize=True)
settings.register_profile("dev", deadline=None, max_examples=25)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_report_header(config):
    kernels = _backend.kernels()
    where = kernels.__file__ if kernels is not None else "NOT IMPORTED"
    return [f"cnn_core backends under test: {BACKENDS}; compiled extension: {where}"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each backend in turn (only "numpy" in an explicitly pure-NumPy run)."""
    return request.param


@pytest.fixture
def data_dir():
    """The folder with the course's cat files, from CNN_CORE_DATA_DIR."""
    folder = os.environ.get("CNN_CORE_DATA_DIR")
    if not folder:
        pytest.skip("CNN_CORE_DATA_DIR is not set: the course's cat vs non-cat files are needed")
    return folder


@pytest.fixture(scope="session")
def cat_data():
    """The cat data, flattened and standardised as the course does: (X, Y, X_test, Y_test)."""
    folder = os.environ.get("CNN_CORE_DATA_DIR")
    if not folder:
        pytest.skip("CNN_CORE_DATA_DIR is not set: the course's cat vs non-cat files are needed")
    from cnn_core import datasets, preprocessing

    train_x_orig, train_y, test_x_orig, test_y, classes = datasets.load_catvnoncat(folder)
    X = preprocessing.standardize_images(preprocessing.flatten_images(train_x_orig))
    X_test = preprocessing.standardize_images(preprocessing.flatten_images(test_x_orig))
    return X, train_y, X_test, test_y
