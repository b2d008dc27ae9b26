"""Row normalisation, flattening and standardising images."""
import numpy as np
import pytest

from cnn_core import preprocessing
from cnn_core._validation import MAX_NDIM


def test_normalize_rows_on_the_notes_example():
    x = np.array([[0, 3, 4], [2, 6, 4]])
    expected = np.array([[0, 3 / 5, 4 / 5], [2, 6, 4] / np.sqrt(56)])
    np.testing.assert_allclose(preprocessing.normalize_rows(x), expected, rtol=1e-15)


def test_normalized_rows_have_unit_norm():
    x = np.random.default_rng(0).standard_normal((5, 7))
    np.testing.assert_allclose(np.linalg.norm(preprocessing.normalize_rows(x), axis=1), 1.0)


def test_normalize_rows_refuses_a_zero_row():
    with pytest.raises(ValueError, match=r"norm 0.*rows \[1\]"):
        preprocessing.normalize_rows(np.array([[1.0, 2.0], [0.0, 0.0]]))


def test_flatten_images_puts_one_image_per_column():
    X = np.arange(2 * 3 * 4 * 3).reshape(2, 3, 4, 3)
    flat = preprocessing.flatten_images(X)
    assert flat.shape == (36, 2)
    np.testing.assert_array_equal(flat[:, 1], X[1].ravel())


def test_flatten_images_needs_a_stack():
    with pytest.raises(ValueError, match="X must stack examples"):
        preprocessing.flatten_images(np.zeros(5))


def test_standardize_images():
    X = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    np.testing.assert_allclose(preprocessing.standardize_images(X), [[0, 1], [0.2, 0.4]])
    with pytest.raises(ValueError, match=r"pixel values in \[0, 255\]"):
        preprocessing.standardize_images(np.array([[300.0]]))


def test_max_ndim_is_numpys_limit():
    """MAX_NDIM is the most dimensions the installed NumPy allows (64 since NumPy 2)."""
    assert np.zeros((1,) * MAX_NDIM).ndim == MAX_NDIM
    with pytest.raises(ValueError, match=f"maximum supported dimension.*{MAX_NDIM}"):
        np.zeros((1,) * (MAX_NDIM + 1))


@pytest.mark.parametrize("ndim", [1, 33, MAX_NDIM])
def test_standardize_images_takes_every_dimension_numpy_allows(ndim):
    X = np.full((2,) + (1,) * (ndim - 1), 51, dtype=np.uint8)
    out = preprocessing.standardize_images(X)
    assert out.shape == X.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, 0.2)


def test_standardize_images_refuses_a_scalar():
    with pytest.raises(ValueError, match=rf"X must be a 1-D to {MAX_NDIM}-D array; got ndim=0"):
        preprocessing.standardize_images(np.float64(3.0))


@pytest.mark.parametrize("ndim", [2, 33, MAX_NDIM])
def test_flatten_images_takes_every_dimension_numpy_allows(ndim):
    X = np.arange(3 * 2).reshape((3,) + (1,) * (ndim - 2) + (2,))
    flat = preprocessing.flatten_images(X)
    assert flat.shape == (2, 3)
    np.testing.assert_array_equal(flat[:, 1], X[1].ravel())
