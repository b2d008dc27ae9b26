"""Convolution and pooling layers: the fourth course's "Convolutional Model, Step by Step".

The course's functions, names, caches and shapes, with NHWC arrays (one example per
leading index, channels last):

* ``A_prev`` is ``(m, n_H_prev, n_W_prev, n_C_prev)``, a layer's input;
* ``W`` is ``(f, f, n_C_prev, n_C)``, ``n_C`` square filters of ``f`` by ``f`` by
  ``n_C_prev``, and ``b`` is ``(1, 1, 1, n_C)``, one bias per filter;
* ``Z`` (a convolution's output) and ``A`` (a pooling layer's) are
  ``(m, n_H, n_W, n_C)`` with ``n_H = floor((n_H_prev - f + 2 pad) / stride) + 1`` and
  ``n_W`` likewise (pooling does not pad: ``pad = 0``);
* ``hparameters`` is ``{"stride": s, "pad": p}`` for a convolution and
  ``{"stride": s, "f": f}`` for a pooling layer; a convolution's cache is
  ``(A_prev, W, b, hparameters)``, a pooling layer's ``(A_prev, hparameters)``.

:func:`conv_backward` returns the gradients of whatever scalar ``dZ`` is the gradient
of, summed over the examples, as the course's does (no ``1/m``): ``dW`` and ``db`` are
what ``dZ`` makes of them.

Max pooling's backward follows the course's mask ``x == max(x)``: every entry of a
window that equals the window's maximum receives the window's whole gradient. With
continuous inputs ties have probability zero and this is the derivative; where a window
has tied maxima the function has no derivative and the rule is the course's choice (a
framework such as JAX sends the gradient to one of them instead).

The NumPy backend works on strided views of the input (one view holds every window, no
loop over positions), and its backward scatters the gradient back with ``f * f``
strided additions, one per offset in the window: the derivation's formulas, term by
term (see ``docs/conv.md``). The "cython" backend calls the compiled kernels of
``cnn_core.kernels`` (``conv_forward``, ``conv_backward``, ``pool_forward``,
``pool_backward``). Every function that computes takes a keyword-only ``backend``
("cython" or "numpy", default :func:`cnn_core.get_backend`). Results have the inputs'
common dtype: float32 when every array is float32, else float64.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnn_core import _backend
from cnn_core._backend import resolve_backend
from cnn_core._validation import (
    as_float_array,
    as_nhwc,
    check_conv_cache,
    check_conv_inputs,
    check_nonnegative_int,
    check_output_gradient,
    check_pool_cache,
    check_pool_inputs,
    check_pool_mode,
    check_positive_int,
)

__all__ = [
    "zero_pad",
    "conv_single_step",
    "conv_forward",
    "pool_forward",
    "conv_backward",
    "create_mask_from_window",
    "distribute_value",
    "pool_backward",
]


# ---------------------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------------------

def _output_size(n_prev, f, stride, pad=0):
    """``floor((n_prev - f + 2 pad) / stride) + 1``: how many windows fit along an axis."""
    return (n_prev - f + 2 * pad) // stride + 1


def _windows(A, f, stride):
    """Every ``f`` by ``f`` window of ``A``, ``stride`` apart: a read-only view, no copy.

    ``A`` ``(m, n_H_in, n_W_in, n_C)`` gives ``(m, n_H, n_W, n_C, f, f)`` whose entry
    ``[i, h, w, c, di, dj]`` is ``A[i, h*stride + di, w*stride + dj, c]``.
    """
    return sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]


def _offset(d, n, stride):
    """The input rows (or columns) at offset ``d`` of the ``n`` windows: ``d``,
    ``d + stride``, ..., ``d + (n - 1) stride``, as a slice."""
    return slice(d, d + (n - 1) * stride + 1, stride)


def _compiled(name):
    """The compiled kernel ``name`` of ``cnn_core.kernels``, or a RuntimeError saying that
    this build lacks it (resolve_backend has already refused a missing extension)."""
    kernel = getattr(_backend.kernels(), name, None)
    if kernel is None:
        raise RuntimeError(
            f"backend 'cython' needs the compiled convolution kernel cnn_core.kernels.{name}, "
            "which this build of cnn_core's extension does not have: rebuild it "
            "(pip install -e .) or pass backend='numpy'"
        )
    return kernel


def _c(arr):
    return np.ascontiguousarray(arr)


# ---------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------

def zero_pad(X, pad):
    """Pad the height and width of every image of ``X`` with ``pad`` zeros on each side.

    Arguments:
        X: ``(m, n_H, n_W, n_C)``.
        pad: an integer >= 0.

    Returns:
        ``X_pad`` ``(m, n_H + 2 pad, n_W + 2 pad, n_C)``, X's dtype (a new array).
    """
    X = as_nhwc("X", X)
    pad = check_nonnegative_int("pad", pad)
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant",
                  constant_values=0)


def conv_single_step(a_slice_prev, W, b):
    """One filter applied at one position: ``sum(a_slice_prev * W) + b``.

    Arguments:
        a_slice_prev: one window of the input, ``(f, f, n_C_prev)``.
        W: one filter, ``(f, f, n_C_prev)``.
        b: its bias, one number (the course's ``(1, 1, 1)``).

    Returns:
        ``Z``, a NumPy scalar of the inputs' common dtype.
    """
    a_slice_prev = as_float_array("a_slice_prev", a_slice_prev, ndim=3)
    W = as_float_array("W", W, ndim=3)
    if W.shape != a_slice_prev.shape:
        raise ValueError(f"W must have a_slice_prev's shape (f, f, n_C_prev) = "
                         f"{a_slice_prev.shape}; got {W.shape}")
    b = as_float_array("b", b, ndim=range(0, 4))
    if b.size != 1:
        raise ValueError(f"b must hold one number (the course's (1, 1, 1)); got shape {b.shape}")
    dtype = np.result_type(a_slice_prev, W, b)
    return dtype.type(np.sum(a_slice_prev * W, dtype=dtype) + b.reshape(()))


def conv_forward(A_prev, W, b, hparameters, *, backend=None):
    """A convolution layer's forward pass: every filter correlated with the padded input.

    .. math::
        Z_{i,h,w,c} = b_c + \\sum_{d_i, d_j, k} A^{pad}_{i,\\, h s + d_i,\\, w s + d_j,\\, k}
        \\, W_{d_i, d_j, k, c}

    Arguments:
        A_prev: ``(m, n_H_prev, n_W_prev, n_C_prev)``.
        W: ``(f, f, n_C_prev, n_C)``.
        b: ``(1, 1, 1, n_C)``.
        hparameters: ``{"stride": s, "pad": p}``, integers ``s >= 1``, ``p >= 0``.

    Returns:
        ``Z`` ``(m, n_H, n_W, n_C)`` with ``n_H = floor((n_H_prev - f + 2 p) / s) + 1``
        (``n_W`` likewise), and the cache ``(A_prev, W, b, hparameters)`` for
        :func:`conv_backward` (the checked arrays and a copy of the dict).
    """
    A_prev, W, b, hparameters = check_conv_inputs(A_prev, W, b, hparameters)
    stride, pad = hparameters["stride"], hparameters["pad"]
    if resolve_backend(backend) == "cython":
        Z = _compiled("conv_forward")(_c(A_prev), _c(W), _c(b), stride, pad)
    else:
        f = W.shape[0]
        windows = _windows(zero_pad(A_prev, pad), f, stride)   # (m, n_H, n_W, n_C_prev, f, f)
        # Contract each window's (d_i, d_j, k) with the filter's: one product per filter.
        Z = np.tensordot(windows, W, axes=([4, 5, 3], [0, 1, 2])) + b
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ, cache, *, backend=None):
    """A convolution layer's backward pass, summed over the examples (the course's).

    With ``A^{pad}`` the padded input and ``s`` the stride:

    * ``dA_prev``: each output position sends ``W dZ`` back to the inputs it read,
      ``dA^{pad}_{i, h s + d_i, w s + d_j, k} += sum_c W_{d_i, d_j, k, c} dZ_{i,h,w,c}``,
      i.e. the full correlation of ``dZ`` (spread ``s`` apart) with the filter flipped
      in height and width; the padding's rows and columns are then cut off.
    * ``dW_{d_i, d_j, k, c} = sum_{i,h,w} A^{pad}_{i, h s + d_i, w s + d_j, k} dZ_{i,h,w,c}``:
      the correlation of the input with ``dZ``.
    * ``db_c = sum_{i,h,w} dZ_{i,h,w,c}``.

    Arguments:
        dZ: the gradient with respect to the layer's output Z, ``(m, n_H, n_W, n_C)``.
        cache: ``(A_prev, W, b, hparameters)`` from :func:`conv_forward`.

    Returns:
        ``dA_prev`` ``(m, n_H_prev, n_W_prev, n_C_prev)``, ``dW`` ``(f, f, n_C_prev, n_C)``
        and ``db`` ``(1, 1, 1, n_C)``.
    """
    A_prev, W, b, hparameters = check_conv_cache(cache)
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    shape = (m, _output_size(n_H_prev, f, stride, pad), _output_size(n_W_prev, f, stride, pad),
             n_C)
    dZ = check_output_gradient("dZ", dZ, shape, "(m, n_H, n_W, n_C) of conv_forward's Z")
    dtype = np.result_type(dZ, A_prev)
    dZ, A_prev, W = (x.astype(dtype, copy=False) for x in (dZ, A_prev, W))
    if resolve_backend(backend) == "cython":
        return _compiled("conv_backward")(_c(dZ), _c(A_prev), _c(W), stride, pad)
    return _conv_backward_numpy(dZ, A_prev, W, stride, pad)


def _conv_backward_numpy(dZ, A_prev, W, stride, pad):
    m, n_H, n_W, n_C = dZ.shape
    f = W.shape[0]
    A_pad = zero_pad(A_prev, pad)
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, n_C)
    # dW: the same windows as the forward pass, contracted with dZ over (i, h, w).
    windows = _windows(A_pad, f, stride)                    # (m, n_H, n_W, n_C_prev, f, f)
    dW = np.tensordot(windows, dZ, axes=([0, 1, 2], [0, 1, 2]))   # (n_C_prev, f, f, n_C)
    dW = np.ascontiguousarray(dW.transpose(1, 2, 0, 3))
    # dA_prev: what each output position sends to the input at offset (d_i, d_j) of its
    # window is W[d_i, d_j] dZ; all offsets' contributions come from one product, then
    # f * f strided additions put them in place (within one offset the targets are
    # distinct, so a slice's += never adds twice to one entry).
    sent = np.tensordot(dZ, W, axes=([3], [3]))             # (m, n_H, n_W, f, f, n_C_prev)
    dA_pad = np.zeros_like(A_pad)
    for di in range(f):
        for dj in range(f):
            dA_pad[:, _offset(di, n_H, stride), _offset(dj, n_W, stride), :] += sent[:, :, :, di, dj]
    dA_prev = dA_pad[:, pad:pad + A_prev.shape[1], pad:pad + A_prev.shape[2], :]
    return np.ascontiguousarray(dA_prev), dW, db


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------

def pool_forward(A_prev, hparameters, mode="max", *, backend=None):
    """A pooling layer's forward pass: the maximum or the mean of every window, per channel.

    Arguments:
        A_prev: ``(m, n_H_prev, n_W_prev, n_C)``.
        hparameters: ``{"stride": s, "f": f}``, integers >= 1 (the window is f by f).
        mode: ``"max"`` or ``"average"``.

    Returns:
        ``A`` ``(m, n_H, n_W, n_C)`` with ``n_H = floor((n_H_prev - f) / s) + 1``
        (``n_W`` likewise), and the cache ``(A_prev, hparameters)``.
    """
    mode = check_pool_mode(mode)
    A_prev, hparameters = check_pool_inputs(A_prev, hparameters)
    f, stride = hparameters["f"], hparameters["stride"]
    if resolve_backend(backend) == "cython":
        A = _compiled("pool_forward")(_c(A_prev), f, stride, mode)
    else:
        windows = _windows(A_prev, f, stride)               # (m, n_H, n_W, n_C, f, f)
        A = windows.max(axis=(4, 5)) if mode == "max" else windows.mean(axis=(4, 5))
    return A, (A_prev, hparameters)


def create_mask_from_window(x):
    """The course's max-pooling mask: True where ``x`` equals its maximum.

    Arguments:
        x: one window, ``(f, f)``.

    Returns:
        A boolean ``(f, f)`` array. Where several entries tie for the maximum, all of them
        are True: :func:`pool_backward` then gives each the window's whole gradient.
    """
    x = as_float_array("x", x)
    return x == np.max(x)


def distribute_value(dz, shape):
    """Spread ``dz`` evenly over a window: the average pooling's backward for one window.

    Arguments:
        dz: one number, the gradient of the window's mean.
        shape: ``(n_H, n_W)``, the window's size (positive integers).

    Returns:
        ``(n_H, n_W)`` filled with ``dz / (n_H n_W)``, float32 when ``dz`` is float32,
        else float64.
    """
    dz = as_float_array("dz", dz, ndim=0)
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != 2:
        raise ValueError(f"shape must be the window's (n_H, n_W); got {shape!r}")
    n_H = check_positive_int("shape[0]", shape[0])
    n_W = check_positive_int("shape[1]", shape[1])
    return np.full((n_H, n_W), dz / (n_H * n_W), dtype=dz.dtype)


def pool_backward(dA, cache, mode="max", *, backend=None):
    """A pooling layer's backward pass: the gradient handed back to each window's inputs.

    * ``"max"``: each window's gradient goes, whole, to every input of the window that
      equals the window's maximum (the course's mask ``x == max(x)``, see
      :func:`create_mask_from_window`); the other inputs of the window get nothing from
      it. Tied maxima each get the whole gradient: the rule of the course, where the
      maximum has no derivative.
    * ``"average"``: each input of a window gets the window's gradient over ``f * f``
      (see :func:`distribute_value`).

    Overlapping windows (``stride < f``) add their contributions.

    Arguments:
        dA: the gradient with respect to the layer's output A, ``(m, n_H, n_W, n_C)``.
        cache: ``(A_prev, hparameters)`` from :func:`pool_forward`.
        mode: ``"max"`` or ``"average"``, as in the forward pass.

    Returns:
        ``dA_prev`` ``(m, n_H_prev, n_W_prev, n_C)``.
    """
    mode = check_pool_mode(mode)
    A_prev, hparameters = check_pool_cache(cache)
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    shape = (m, _output_size(n_H_prev, f, stride), _output_size(n_W_prev, f, stride), n_C)
    dA = check_output_gradient("dA", dA, shape, "(m, n_H, n_W, n_C) of pool_forward's A")
    dtype = np.result_type(dA, A_prev)
    dA, A_prev = dA.astype(dtype, copy=False), A_prev.astype(dtype, copy=False)
    if resolve_backend(backend) == "cython":
        return _compiled("pool_backward")(_c(dA), _c(A_prev), f, stride, mode)
    return _pool_backward_numpy(dA, A_prev, f, stride, mode)


def _pool_backward_numpy(dA, A_prev, f, stride, mode):
    _, n_H, n_W, _ = dA.shape
    # Each input of a window receives the window's gradient times its weight in the
    # window's output: (m, n_H, n_W, n_C, f, f), or one (f, f) for every average window.
    if mode == "max":
        windows = _windows(A_prev, f, stride)               # (m, n_H, n_W, n_C, f, f)
        weight = (windows == windows.max(axis=(4, 5), keepdims=True)).astype(dA.dtype)
    else:
        weight = np.full((1, 1, 1, 1, f, f), 1.0 / (f * f), dtype=dA.dtype)
    dA_prev = np.zeros_like(A_prev)
    for di in range(f):
        for dj in range(f):
            dA_prev[:, _offset(di, n_H, stride), _offset(dj, n_W, stride), :] += (
                dA * weight[..., di, dj])
    return dA_prev
