"""Preparing data for the networks: row normalisation, flattening and scaling images.

The networks take one example per column, so a stack of ``m`` images
``(m, height, width, channels)`` becomes ``(height * width * channels, m)``.
"""
from __future__ import annotations

import numpy as np

from cnn_core._validation import MAX_NDIM, as_float_array

__all__ = ["normalize_rows", "flatten_images", "standardize_images"]


def normalize_rows(x):
    """Divide each row of ``x`` by its Euclidean norm.

    Arguments:
        x: ``(n, d)`` finite values.

    Returns:
        ``x / ||x||`` with ``||x|| = np.linalg.norm(x, axis=1, keepdims=True)``: each row of
        the result has norm 1. A row of zeros has no direction; it raises ValueError
        rather than becoming NaN.
    """
    x = as_float_array("x", x)
    x_norm = np.linalg.norm(x, axis=1, keepdims=True)
    zero_rows = np.flatnonzero(x_norm[:, 0] == 0)
    if zero_rows.size:
        raise ValueError(f"x has rows of norm 0, which cannot be normalized: rows {zero_rows.tolist()}")
    return x / x_norm


def flatten_images(X):
    """Reshape ``(a, b, c, d)`` (a images) to ``(b * c * d, a)``: one image per column.

    The result is ``X.reshape(X.shape[0], -1).T``, a view when possible; the pixels keep
    their dtype (use :func:`standardize_images` to scale them to floats).
    """
    arr = np.asarray(X)
    if arr.ndim < 2:
        raise ValueError(
            f"X must stack examples along its first axis, e.g. (m, height, width, channels); "
            f"got ndim={arr.ndim} with shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"X must hold at least one example; got shape {arr.shape}")
    return arr.reshape(arr.shape[0], -1).T


def standardize_images(X):
    """Scale 8-bit pixel values to [0, 1] by dividing by 255, as the course does.

    Arguments:
        X: pixel values of any shape with at least one dimension (typically the
           ``(n_x, m)`` output of :func:`flatten_images`), in [0, 255].

    Returns:
        A float64 array of ``X``'s shape (float32 input stays float32).
    """
    arr = as_float_array("X", X, ndim=range(1, MAX_NDIM + 1))
    if (arr < 0).any() or (arr > 255).any():
        raise ValueError(
            f"X must hold pixel values in [0, 255]; got values in [{arr.min()}, {arr.max()}]"
        )
    return arr / 255.0
