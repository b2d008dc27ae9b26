"""Input checks shared by every public function.

Each check names the argument, what was found and what was expected, so that a wrong
call fails with a sentence instead of a NumPy broadcast error several frames down.
Arrays follow the course's convention: columns are examples, ``X`` is ``(n_x, m)``.
"""
from __future__ import annotations

import numbers

import numpy as np

#: Floating dtypes computed natively; any other real dtype is promoted to float64.
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def as_float_array(name, x, *, ndim=2, finite=True):
    """Return ``x`` as a float32/float64 ndarray of ``ndim`` dimensions, or raise.

    Booleans, integers and other float widths become float64; float32 stays float32.
    ``ndim`` may be an int or a tuple of allowed values. Complex, object and string
    input raise TypeError; a wrong ndim, an empty array or (with ``finite``) a NaN or
    infinity raise ValueError.
    """
    arr = np.asarray(x)
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TypeError(
            f"{name} must be a real numeric array; got dtype {arr.dtype}"
        )
    if arr.dtype not in FLOAT_DTYPES:
        arr = arr.astype(np.float64)
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        wanted = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(
            f"{name} must be a {wanted} array; got ndim={arr.ndim} with shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if finite:
        check_finite(name, arr)
    return arr


def check_finite(name, arr):
    """Raise ValueError naming the first NaN or infinity of ``arr``."""
    finite = np.isfinite(arr)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{name} must be finite (no NaN or infinity); found {arr[where]} at index {where}"
        )


def check_shape(name, arr, expected, meaning):
    """Raise ValueError unless ``arr.shape == expected``.

    ``meaning`` is the symbolic shape, e.g. ``"(1, m)"``, quoted in the message so that
    the reader sees which dimension disagreed and why it was expected.
    """
    expected = tuple(int(e) for e in expected)
    if arr.shape != expected:
        raise ValueError(
            f"{name} must have shape {meaning} = {expected}; got {arr.shape} "
            f"(columns are examples)"
        )


def check_labels(name, Y):
    """Raise ValueError unless every label lies in [0, 1] (a training entry point's rule)."""
    bad = (Y < 0) | (Y > 1)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must hold labels in [0, 1]; found {Y[where]} at index {where}"
        )


def as_labels(name, Y, m, n_rows=1):
    """``Y`` as a float ``(n_rows, m)`` array; a 1-D vector of length m is one row.

    ``n_rows=None`` accepts any number of rows (one per output unit).
    """
    arr = as_float_array(name, Y, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    rows = arr.shape[0] if n_rows is None else n_rows
    check_shape(name, arr, (rows, m), "(1, m)" if n_rows == 1 else "(n_y, m)")
    return arr


def check_positive_int(name, value):
    """Return ``value`` as an int, or raise if it is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_nonnegative_int(name, value):
    """Return ``value`` as an int, or raise if it is not an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    return int(value)


def check_learning_rate(learning_rate):
    """Return the learning rate as a float, or raise unless it is finite and > 0."""
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise ValueError(f"learning_rate must be a real number; got {learning_rate!r}")
    rate = float(learning_rate)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"learning_rate must be finite and > 0; got {learning_rate!r}")
    return rate


def check_callback(callback):
    """Return ``callback`` (None or a callable), or raise TypeError."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(i, cost); got {callback!r}")
    return callback


def check_parameters(parameters, n_x, *, n_layers=None, name="parameters"):
    """Check a course parameters dict ``{"W1", "b1", ..., "WL", "bL"}`` against ``n_x``.

    ``W{l}`` must be ``(n_l, n_{l-1})`` with ``n_0 = n_x`` (not checked when ``n_x`` is
    None) and ``b{l}`` ``(n_l, 1)``.
    Returns a new dict of validated float arrays (the input is not modified) and L.
    """
    if not isinstance(parameters, dict):
        raise TypeError(f"{name} must be a dict of W1, b1, ...; got {type(parameters).__name__}")
    L = len(parameters) // 2
    if L < 1 or len(parameters) != 2 * L:
        raise ValueError(
            f"{name} must hold W1, b1, ..., WL, bL (an even number of entries); "
            f"got keys {sorted(parameters)}"
        )
    if n_layers is not None and L != n_layers:
        raise ValueError(f"{name} must describe {n_layers} layers; got {L} ({sorted(parameters)})")
    checked = {}
    n_prev = n_x
    for l in range(1, L + 1):
        for key in (f"W{l}", f"b{l}"):
            if key not in parameters:
                raise ValueError(f"{name} lacks {key!r}; got keys {sorted(parameters)}")
        W = as_float_array(f"{name}['W{l}']", parameters[f"W{l}"])
        if n_prev is not None and W.shape[1] != n_prev:
            raise ValueError(
                f"{name}['W{l}'] must have shape (n_{l}, n_{l - 1}) with n_{l - 1} = {n_prev}; "
                f"got {W.shape}"
            )
        b = as_float_array(f"{name}['b{l}']", parameters[f"b{l}"])
        check_shape(f"{name}['b{l}']", b, (W.shape[0], 1), f"(n_{l}, 1)")
        checked[f"W{l}"], checked[f"b{l}"] = W, b
        n_prev = W.shape[0]
    return checked, L
