"""The notes' figures: the data, decision boundaries, cost curves and mislabeled images.

Every function draws on the Axes it is given (or on a new figure) and returns it; none
calls ``plt.show()`` or changes matplotlib's global settings, so the functions work
under any backend, Agg included, and in scripts as in notebooks.

They need matplotlib, which the core install leaves out: ``pip install "cnn_core[plot]"``
(importing this module works without it; calling a function names the extra).
"""
from __future__ import annotations

import numpy as np

from cnn_core._optional import require
from cnn_core._validation import as_float_array, check_shape

__all__ = ["plot_data", "plot_decision_boundary", "plot_costs", "plot_mislabeled_images"]

#: Grids finer than this many points are coarsened by :func:`plot_decision_boundary`.
MAX_GRID_POINTS = 2_000_000


def _pyplot():
    return require("matplotlib.pyplot", "plot", "cnn_core.plotting")


def _new_axes(ax, figsize=None):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize)
    return ax


def _points_and_labels(X, y):
    X = as_float_array("X", X)
    check_shape("X", X, (2, X.shape[1]), "(2, m)")
    y = np.asarray(y)
    if y.size != X.shape[1]:
        raise ValueError(f"y must hold one label per column of X ({X.shape[1]}); got shape {y.shape}")
    return X, y.ravel()


def plot_data(X, y, ax=None):
    """Scatter the 2-D points of ``X`` ``(2, m)`` coloured by their labels ``y`` ``(1, m)``.

    Returns the Axes.
    """
    X, y = _points_and_labels(X, y)
    ax = _new_axes(ax)
    ax.scatter(X[0, :], X[1, :], c=y, s=40, cmap="Spectral")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax


def plot_decision_boundary(predict_fn, X, y, ax=None, h=0.01):
    """Shade the regions a classifier assigns to each class, and scatter the data over them.

    Arguments:
        predict_fn: called with a grid of points ``(k, 2)``, one point per **row** (as in
            the notes: ``lambda x: predict(parameters, x.T)``, or a scikit-learn model's
            ``predict``); returns k labels in any shape of size k.
        X: the data, ``(2, m)``; y: its labels, ``(1, m)``.
        ax: Axes to draw on (a new figure when None).
        h: the grid step (the notes' 0.01), coarsened if the grid would exceed
            ``MAX_GRID_POINTS`` points.

    Returns:
        The Axes.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable; got {type(predict_fn).__name__}")
    X, y = _points_and_labels(X, y)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a positive grid step; got {h!r}")
    x_min, x_max = X[0, :].min() - 1, X[0, :].max() + 1
    y_min, y_max = X[1, :].min() - 1, X[1, :].max() + 1
    n_points = ((x_max - x_min) / h) * ((y_max - y_min) / h)
    if n_points > MAX_GRID_POINTS:
        h *= np.sqrt(n_points / MAX_GRID_POINTS)
    xx, yy = np.meshgrid(np.arange(x_min, x_max, h), np.arange(y_min, y_max, h))
    Z = np.asarray(predict_fn(np.c_[xx.ravel(), yy.ravel()]))
    if Z.size != xx.size:
        raise ValueError(
            f"predict_fn must return one label per grid point ({xx.size}); got shape {Z.shape}"
        )
    ax = _new_axes(ax)
    ax.contourf(xx, yy, Z.reshape(xx.shape), cmap="Spectral")
    ax.scatter(X[0, :], X[1, :], c=y, cmap="Spectral", edgecolors="k", linewidths=0.3)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax


def plot_costs(costs, learning_rate, ax=None, every=100):
    """Plot a cost curve recorded every ``every`` iterations (the course's 100).

    Arguments:
        costs: the recorded costs (a sequence of numbers).
        learning_rate: shown in the title.
        ax: Axes to draw on (a new figure when None).

    Returns:
        The Axes.
    """
    values = np.squeeze(np.asarray(costs, dtype=float))
    if values.ndim > 1 or values.size == 0:
        raise ValueError(f"costs must be a non-empty sequence of numbers; got shape {np.shape(costs)}")
    values = np.atleast_1d(values)
    ax = _new_axes(ax)
    ax.plot(np.arange(values.size) * every, values)
    ax.set_ylabel("cost")
    ax.set_xlabel("iterations")
    ax.set_title(f"Learning rate = {learning_rate}")
    return ax


def plot_mislabeled_images(classes, X, y, p, image_shape=(64, 64, 3), max_images=None):
    """Show the images whose prediction differs from the label.

    Arguments:
        classes: the class names (bytes or str), indexed by label.
        X: the images as columns, ``(n_x, m)``, pixel values in [0, 1] (standardised).
        y: true labels ``(1, m)``; p: predicted labels ``(1, m)``.
        image_shape: the shape one column is reshaped to.
        max_images: show at most this many (all when None).

    Returns:
        The Figure, one panel per mislabeled image titled with the prediction and the
        class; a single note when nothing is mislabeled.
    """
    plt = _pyplot()
    X = as_float_array("X", X)
    m = X.shape[1]
    if int(np.prod(image_shape)) != X.shape[0]:
        raise ValueError(
            f"X's columns ({X.shape[0]} values) must reshape to image_shape {image_shape}"
        )
    y = np.asarray(y).reshape(-1)
    p = np.asarray(p).reshape(-1)
    for name, labels in (("y", y), ("p", p)):
        if labels.size != m:
            raise ValueError(f"{name} must hold one label per column of X ({m}); got {labels.size}")
        if not np.isin(labels, np.arange(len(classes))).all():
            raise ValueError(f"{name} must hold class indices 0..{len(classes) - 1}; got {np.unique(labels)}")
    mislabeled = np.flatnonzero(y != p)
    if max_images is not None:
        mislabeled = mislabeled[:max_images]
    n = mislabeled.size
    fig = plt.figure(figsize=(max(4, 2.2 * n), 3))
    if n == 0:
        fig.text(0.5, 0.5, "No mislabeled images", ha="center", va="center")
        return fig
    for i, index in enumerate(mislabeled):
        ax = fig.add_subplot(1, n, i + 1)
        ax.imshow(X[:, index].reshape(image_shape), interpolation="nearest")
        ax.axis("off")
        ax.set_title(
            f"Prediction: {_name(classes[int(p[index])])}\nClass: {_name(classes[int(y[index])])}",
            fontsize=8,
        )
    return fig


def _name(label):
    return label.decode("utf-8") if isinstance(label, bytes) else str(label)
