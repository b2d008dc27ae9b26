"""The course's convolution and pooling layers as it writes them: nested Python loops.

A reference for ``tests/test_conv.py`` (and a baseline for timings), independent of
cnn_core: one loop over the examples, the output rows, the output columns and the
channels, one window at a time, in float64. Two deliberate departures from the
notebook's text: the window starts at ``h * stride`` (not ``h``) and the padding is cut
off with explicit bounds, so that ``pad = 0`` works (``[pad:-pad]`` would be empty).

Shapes as in :mod:`cnn_core.conv`: ``A_prev`` ``(m, n_H_prev, n_W_prev, n_C_prev)``,
``W`` ``(f, f, n_C_prev, n_C)``, ``b`` ``(1, 1, 1, n_C)``, ``Z``/``A``/``dZ``/``dA``
``(m, n_H, n_W, n_C)``.
"""
import numpy as np


def _pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant",
                  constant_values=(0, 0))


def _size(n_prev, f, stride, pad=0):
    return int((n_prev - f + 2 * pad) / stride) + 1


def conv_forward(A_prev, W, b, hparameters):
    """``Z`` of the convolution, window by window."""
    A_prev, W, b = (np.asarray(x, dtype=np.float64) for x in (A_prev, W, b))
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H, n_W = _size(n_H_prev, f, stride, pad), _size(n_W_prev, f, stride, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = _pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    Z[i, h, w, c] = np.sum(a_slice_prev * W[:, :, :, c]) + b[0, 0, 0, c]
    return Z


def conv_backward(dZ, A_prev, W, hparameters):
    """``(dA_prev, dW, db)`` of the convolution, summed over the examples."""
    dZ, A_prev, W = (np.asarray(x, dtype=np.float64) for x in (dZ, A_prev, W))
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    _, n_H, n_W, _ = dZ.shape
    dW = np.zeros(W.shape)
    db = np.zeros((1, 1, 1, n_C))
    A_prev_pad = _pad(A_prev, pad)
    dA_prev_pad = np.zeros(A_prev_pad.shape)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start, horiz_start = h * stride, w * stride
                    vert_end, horiz_end = vert_start + f, horiz_start + f
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += (
                        W[:, :, :, c] * dZ[i, h, w, c])
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    dA_prev = dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db


def pool_forward(A_prev, hparameters, mode="max"):
    """``A`` of max or average pooling, window by window."""
    A_prev = np.asarray(A_prev, dtype=np.float64)
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H, n_W = _size(n_H_prev, f, stride), _size(n_W_prev, f, stride)
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            for w in range(n_W):
                horiz_start = w * stride
                for c in range(n_C):
                    a_prev_slice = A_prev[i, vert_start:vert_start + f,
                                          horiz_start:horiz_start + f, c]
                    A[i, h, w, c] = np.max(a_prev_slice) if mode == "max" else np.mean(a_prev_slice)
    return A


def pool_backward(dA, A_prev, hparameters, mode="max"):
    """``dA_prev`` of max pooling (every tied maximum gets the window's gradient: the mask
    ``x == max(x)``) or of average pooling (``dA / f^2`` to every entry)."""
    dA, A_prev = np.asarray(dA, dtype=np.float64), np.asarray(A_prev, dtype=np.float64)
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        a_prev = A_prev[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start, horiz_start = h * stride, w * stride
                    vert_end, horiz_end = vert_start + f, horiz_start + f
                    if mode == "max":
                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                        mask = a_prev_slice == np.max(a_prev_slice)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += (
                            mask * dA[i, h, w, c])
                    else:
                        da = dA[i, h, w, c]
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += (
                            np.ones((f, f)) * da / (f * f))
    return dA_prev
