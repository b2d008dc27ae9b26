"""The layer operations every model is built from, each on both backends.

These functions do no validation: the public functions of the chapter modules check
their arguments once, and the training loops call these directly so that a loop of
thousands of iterations does not re-check its own arrays. Each operation has its
NumPy form, written as the derivation reads, and dispatches to the function of the same
name in the compiled ``cnn_core.kernels`` when the backend is "cython". The training
step itself lives in ``cnn_core.training``.

Shapes: ``A_prev`` (n_prev, m), ``W`` (n, n_prev), ``b`` (n, 1), ``Z``/``A``/``dZ``
(n, m); columns are examples.
"""
from __future__ import annotations

import numpy as np
from scipy.special import xlog1py, xlogy

from cnn_core import _backend
from cnn_core.activations import ACTIVATIONS


def _check_activation_codes():
    """The compiled kernels number the activations as the table of activations does."""
    if not _backend.HAVE_EXTENSION:
        return
    compiled = dict(_backend.kernels().ACTIVATION_CODES)
    table = {name: a.code for name, a in ACTIVATIONS.items()}
    if compiled != table:
        raise ImportError(f"cnn_core's compiled kernels number the activations {compiled}, "
                          f"its table of activations {table}: rebuild the extension "
                          "(pip install -e .)")


_check_activation_codes()


def _contiguous(arr, dtype):
    """``arr`` as an ndarray of ``dtype`` that is C- or Fortran-contiguous (what the
    kernels accept for A_prev and W), copying only when it is neither."""
    arr = np.asarray(arr, dtype=dtype)
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    return arr


def _c_contiguous(arr, dtype):
    """``arr`` as a C-contiguous ndarray of ``dtype`` (what the kernels accept for dA,
    Z, dZ and Y), copying only when needed."""
    return np.ascontiguousarray(arr, dtype=dtype)


def linear_activation_forward(A_prev, W, b, activation, backend):
    """``Z = W . A_prev + b`` and ``A = g(Z)``; returns ``(Z, A)``.

    For ``activation="identity"`` A is Z itself (no second array).
    """
    if backend == "cython":
        dtype = np.result_type(A_prev, W, b)
        A_prev, W = _contiguous(A_prev, dtype), _contiguous(W, dtype)
        return _backend.kernels().linear_activation_forward(
            A_prev, W, np.asarray(b, dtype=dtype), ACTIVATIONS[activation].code)
    Z = np.dot(W, A_prev) + b
    return Z, ACTIVATIONS[activation].forward(Z)


def activation_backward(dA, Z, activation, backend):
    """``dZ = dA * g'(Z)`` for the named activation."""
    if backend == "cython":
        dtype = np.result_type(dA, Z)
        return _backend.kernels().activation_backward(
            _c_contiguous(dA, dtype), _c_contiguous(Z, dtype), ACTIVATIONS[activation].code)
    return ACTIVATIONS[activation].backward(dA, Z)


def linear_backward(dZ, A_prev, W, backend, need_dA_prev=True):
    """The linear layer's gradients; returns ``(dA_prev, dW, db)``.

    ``dW = dZ . A_prev^T / m``, ``db = sum over columns of dZ / m``,
    ``dA_prev = W^T . dZ`` (None when ``need_dA_prev`` is false: the first layer's
    input gradient is not used by training).
    """
    m = A_prev.shape[1]
    if backend == "cython":
        dtype = np.result_type(dZ, A_prev, W)
        return _backend.kernels().linear_backward(
            _c_contiguous(dZ, dtype), _contiguous(A_prev, dtype), _contiguous(W, dtype),
            need_dA_prev=need_dA_prev)
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = np.dot(W.T, dZ) if need_dA_prev else None
    return dA_prev, dW, db


def cross_entropy(A, Y, backend):
    """Mean binary cross-entropy ``-(1/m) sum(Y log A + (1 - Y) log(1 - A))``.

    ``A`` and ``Y`` share a shape ``(n, m)``; the sum runs over all entries and is
    divided by m. ``0 log 0`` counts as 0, and A is clipped to ``[tiny, 1 - eps/2]`` of
    its dtype so that a saturated wrong prediction costs a large finite amount rather
    than inf. Returns a Python float.
    """
    m = A.shape[1]
    if backend == "cython":
        return _backend.kernels().cross_entropy(_c_contiguous(A, A.dtype),
                                                _c_contiguous(Y, A.dtype))
    # The same arithmetic as the kernel: labels and the clip in A's dtype, logs in float64.
    info = np.finfo(A.dtype)
    Y = np.asarray(Y, dtype=A.dtype).astype(np.float64)
    A = np.clip(A, info.tiny, 1 - info.epsneg).astype(np.float64)
    logprobs = xlogy(Y, A) + xlog1py(1 - Y, -A)
    return float(-np.sum(logprobs) / m)


def cross_entropy_with_logits(Z, Y, backend):
    """Mean cross-entropy of ``sigmoid(Z)`` against ``Y`` from the logits ``Z`` ``(n, m)``.

    ``-(y log s + (1 - y) log(1 - s))`` with ``s = sigmoid(z)`` equals
    ``max(z, 0) - y z + log1p(exp(-|z|))``: exact and finite for any logit, where the
    form with probabilities must clip once ``s`` rounds to 0 or 1 (|z| > ~37 in float64).
    The training loops record this cost. Returns a Python float.
    """
    m = Z.shape[1]
    if backend == "cython":
        return _backend.kernels().cross_entropy_with_logits(_c_contiguous(Z, Z.dtype),
                                                            _c_contiguous(Y, Z.dtype))
    Z = Z.astype(np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    return float(np.sum(np.maximum(Z, 0) - Y * Z + np.log1p(np.exp(-np.abs(Z)))) / m)


# ---------------------------------------------------------------------------------------
# The network all the models are: [LINEAR -> hidden]*(L-1) -> LINEAR -> output, the
# output a sigmoid unit or a K-way softmax, with inverted dropout on the hidden layers.
# ---------------------------------------------------------------------------------------

def softmax_columns(Z):
    """Softmax of each column of ``Z`` ``(K, m)`` (classes are rows), computed from
    ``Z - max`` so that no exponential overflows."""
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def log_softmax_columns(Z):
    """``log softmax`` of each column of ``Z`` ``(K, m)``:
    ``(Z - max) - log sum exp(Z - max)``, finite for any finite Z."""
    shifted = Z - Z.max(axis=0, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))


def softmax_cross_entropy_with_logits(Z, Y):
    """``-(1/m) sum Y log softmax(Z)`` in float64 from the logits ``Z`` ``(K, m)`` and
    targets ``Y`` ``(K, m)``. Returns a Python float."""
    return float(-np.sum(Y * log_softmax_columns(Z.astype(np.float64))) / Z.shape[1])


def _uniform(shape):
    return np.random.rand(*shape)


def forward_layers(X, parameters, n_layers, hidden, backend, *, output="sigmoid",
                   keep_prob=1.0, draw=_uniform):
    """Forward pass; returns ``AL`` and the caches ``[((A_prev, W, b), Z, D), ...]``.

    ``D`` is the boolean dropout mask ``draw(shape) < keep_prob`` of a hidden layer's
    output when ``keep_prob < 1`` (None otherwise, and always for the output layer);
    the kept units are scaled by ``1 / keep_prob`` (inverted dropout, the course's
    two steps in its order). ``draw`` defaults to ``np.random.rand``, drawn layer by
    layer as the course does. ``A_prev`` is the input a layer saw (after dropout).
    """
    caches = []
    A = X
    for l in range(1, n_layers + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        D = None
        if l < n_layers:
            Z, A_next = linear_activation_forward(A, W, b, hidden, backend)
            if keep_prob < 1:
                D = draw(A_next.shape) < keep_prob
                A_next = A_next * D            # shut units down,
                A_next = A_next / keep_prob    # then scale the others up
        elif output == "sigmoid":
            Z, A_next = linear_activation_forward(A, W, b, "sigmoid", backend)
        else:
            Z, _ = linear_activation_forward(A, W, b, "identity", backend)
            A_next = softmax_columns(Z)
        caches.append(((A, W, b), Z, D))
        A = A_next
    return A, caches


def backward_layers(dZ, caches, hidden, backend, need_dA0=True, *, lambd=0.0,
                    keep_prob=1.0):
    """Backward pass from the output layer's ``dZ`` ``(n_L, m)``; the notes' grads dict.

    For the cross-entropy of a sigmoid or softmax output ``dZ`` is ``AL - Y``. Each
    ``dW`` gains ``(lambd / m) W`` (the L2 term). ``grads["dA{l}"]`` is the gradient
    layer l hands down (w.r.t. its input ``A^[l-1]`` as it saw it); it reaches the layer
    below through the kept units only, scaled by ``1 / keep_prob``, when that layer's
    cache holds a dropout mask. ``caches`` are ``((A_prev, W, b), Z[, D])``.
    """
    grads = {}
    m = dZ.shape[1]
    n_layers = len(caches)
    for l in range(n_layers, 0, -1):
        (A_prev, W, _), *_ = caches[l - 1]
        dA_prev, dW, db = linear_backward(dZ, A_prev, W, backend,
                                          need_dA_prev=need_dA0 or l > 1)
        if lambd:
            dW = dW + (lambd / m) * W
        grads[f"dA{l}"], grads[f"dW{l}"], grads[f"db{l}"] = dA_prev, dW, db
        if l > 1:
            below = caches[l - 2]
            D = below[2] if len(below) > 2 else None
            if D is not None:
                dA_prev = dA_prev * D
                dA_prev = dA_prev / keep_prob
            dZ = activation_backward(dA_prev, below[1], hidden, backend)
    return grads


def gradient_step(parameters, gradients, learning_rate):
    """``{key: parameters[key] - learning_rate * gradients[key]}``, as new arrays (the
    course's update rule; the old arrays are left as they were)."""
    return {key: value - learning_rate * gradients[key] for key, value in parameters.items()}
