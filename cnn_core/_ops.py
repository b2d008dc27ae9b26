"""The layer operations every model is built from, each on both backends.

These functions do no validation: the public functions of the chapter modules check
their arguments once, and the training loops call these directly so that a loop of
thousands of iterations does not re-check its own arrays. Each operation has its
NumPy form, written as the derivation reads, and dispatches to the compiled kernel of
the same name in ``_kernels.pyx`` when the backend is "cython".

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


def _for_kernel(arr, dtype):
    """``arr`` in ``dtype`` and C- or Fortran-contiguous, copying only when needed."""
    arr = np.asarray(arr, dtype=dtype)
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    return arr


def _c_for_kernel(arr, dtype):
    return np.ascontiguousarray(arr, dtype=dtype)


def linear_activation_forward(A_prev, W, b, activation, backend):
    """``Z = W . A_prev + b`` and ``A = g(Z)``; returns ``(Z, A)``.

    For ``activation="identity"`` A is Z itself (no second array).
    """
    if backend == "cython":
        K = _backend.kernels()
        dtype = np.result_type(A_prev, W, b)
        A_prev, W, b = (_for_kernel(a, dtype) for a in (A_prev, W, b))
        Z = np.empty((W.shape[0], A_prev.shape[1]), dtype=dtype)
        A = Z if activation == "identity" else np.empty_like(Z)
        K.linear_activation_forward(A_prev, W, b, Z, A, ACTIVATIONS[activation].code)
        return Z, A
    Z = np.dot(W, A_prev) + b
    return Z, ACTIVATIONS[activation].forward(Z)


def activation_backward(dA, Z, activation, backend):
    """``dZ = dA * g'(Z)`` for the named activation."""
    if backend == "cython":
        K = _backend.kernels()
        dtype = np.result_type(dA, Z)
        dA, Z = _c_for_kernel(dA, dtype), _c_for_kernel(Z, dtype)
        dZ = np.empty_like(Z)
        K.activation_backward(dA, Z, dZ, ACTIVATIONS[activation].code)
        return dZ
    return ACTIVATIONS[activation].backward(dA, Z)


def linear_backward(dZ, A_prev, W, backend, need_dA_prev=True):
    """The linear layer's gradients; returns ``(dA_prev, dW, db)``.

    ``dW = dZ . A_prev^T / m``, ``db = sum over columns of dZ / m``,
    ``dA_prev = W^T . dZ`` (None when ``need_dA_prev`` is false: the first layer's
    input gradient is not used by training).
    """
    m = A_prev.shape[1]
    if backend == "cython":
        K = _backend.kernels()
        dtype = np.result_type(dZ, A_prev, W)
        dZ = _c_for_kernel(dZ, dtype)
        A_prev, W = _for_kernel(A_prev, dtype), _for_kernel(W, dtype)
        dW = np.empty(W.shape, dtype=dtype)
        db = np.empty((W.shape[0], 1), dtype=dtype)
        dA_prev = np.empty(A_prev.shape, dtype=dtype) if need_dA_prev else None
        K.linear_backward(dZ, A_prev, W, dA_prev, dW, db)
        return dA_prev, dW, db
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
        K = _backend.kernels()
        dtype = A.dtype
        return K.cross_entropy(_c_for_kernel(A, dtype), _c_for_kernel(Y, dtype))
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
        K = _backend.kernels()
        return K.cross_entropy_with_logits(_c_for_kernel(Z, Z.dtype), _c_for_kernel(Y, Z.dtype))
    Z = Z.astype(np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    return float(np.sum(np.maximum(Z, 0) - Y * Z + np.log1p(np.exp(-np.abs(Z)))) / m)


def cost_reporter(print_cost, callback, line="Cost after iteration {}: {:f}"):
    """The ``on_cost(i, cost)`` of a model: prints ``line.format(i, cost)`` (the notes'
    line) when ``print_cost``, then calls ``callback(i, cost)`` unless it is None."""
    def report(i, cost):
        if print_cost:
            print(line.format(i, cost))
        if callback is not None:
            callback(i, cost)

    return report


def update_in_place(parameters, grads, learning_rate, n_layers):
    """Gradient descent on the model's own arrays: ``W -= lr * dW``, ``b -= lr * db``."""
    for l in range(1, n_layers + 1):
        parameters[f"W{l}"] -= learning_rate * grads[f"dW{l}"]
        parameters[f"b{l}"] -= learning_rate * grads[f"db{l}"]


# ---------------------------------------------------------------------------------------
# The network all the models are: [LINEAR -> hidden]*(L-1) -> LINEAR -> SIGMOID.
# ---------------------------------------------------------------------------------------

def forward_layers(X, parameters, n_layers, hidden, backend):
    """Forward pass; returns ``AL`` and the caches ``[((A_prev, W, b), Z), ...]``."""
    caches = []
    A = X
    for l in range(1, n_layers + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        activation = "sigmoid" if l == n_layers else hidden
        Z, A_next = linear_activation_forward(A, W, b, activation, backend)
        caches.append(((A, W, b), Z))
        A = A_next
    return A, caches


def backward_layers(dZ, caches, hidden, backend, need_dA0=True):
    """Backward pass from the output layer's ``dZ`` ``(n_L, m)``; the notes' grads dict.

    For the cross-entropy of a sigmoid output ``dZ`` is ``AL - Y`` (what
    ``dAL * sigmoid'(ZL)`` simplifies to, without its division); ``grads["dA{l}"]`` is
    the gradient layer l hands down (w.r.t. A^[l-1]).
    """
    grads = {}
    n_layers = len(caches)
    for l in range(n_layers, 0, -1):
        (A_prev, W, _), _ = caches[l - 1]
        dA_prev, dW, db = linear_backward(dZ, A_prev, W, backend,
                                          need_dA_prev=need_dA0 or l > 1)
        grads[f"dA{l}"], grads[f"dW{l}"], grads[f"db{l}"] = dA_prev, dW, db
        if l > 1:
            dZ = activation_backward(dA_prev, caches[l - 2][1], hidden, backend)
    return grads


def _numpy_steps(X, Y, parameters, n_layers, hidden, learning_rate, num_steps, want_cost):
    """The reference loop, operation by operation; returns the first step's cost or NaN."""
    cost = float("nan")
    for step in range(num_steps):
        AL, caches = forward_layers(X, parameters, n_layers, hidden, "numpy")
        if want_cost and step == 0:
            cost = cross_entropy_with_logits(caches[-1][1], Y, "numpy")
        grads = backward_layers(AL - Y, caches, hidden, "numpy", need_dA0=False)
        update_in_place(parameters, grads, learning_rate, n_layers)
    return cost


def _numpy_gram_steps(X, Y, parameters, n_layers, hidden, learning_rate, num_steps,
                      want_cost, state):
    """The Gram path, operation by operation (see :func:`use_gram_path`).

    ``state`` holds ``K = X^T X``, ``P = W1 X`` and ``S``, the accumulated
    ``-(lr/m) dZ1``, applied to W1 as ``W1 + S X^T`` after the steps.
    """
    cost = float("nan")
    m = X.shape[1]
    K, P, S = state["K"], state["P"], state["S"]
    for step in range(num_steps):
        Z = P + parameters["b1"]
        A = ACTIVATIONS["sigmoid" if n_layers == 1 else hidden].forward(Z)
        caches = [((X, None, None), Z)]
        for l in range(2, n_layers + 1):
            W, b = parameters[f"W{l}"], parameters[f"b{l}"]
            Z_l, A_l = linear_activation_forward(A, W, b, "sigmoid" if l == n_layers else hidden,
                                                 "numpy")
            caches.append(((A, W, b), Z_l))
            A = A_l
        if want_cost and step == 0:
            cost = cross_entropy_with_logits(caches[-1][1], Y, "numpy")
        dZ = A - Y
        for l in range(n_layers, 1, -1):
            (A_prev, W, _), _ = caches[l - 1]
            dA_prev, dW, db = linear_backward(dZ, A_prev, W, "numpy")
            parameters[f"W{l}"] -= learning_rate * dW
            parameters[f"b{l}"] -= learning_rate * db
            dZ = activation_backward(dA_prev, caches[l - 2][1], hidden, "numpy")
        parameters["b1"] -= learning_rate * (np.sum(dZ, axis=1, keepdims=True) / m)
        step_of_W1 = -(learning_rate / m) * dZ   # W1 changes by step_of_W1 @ X.T
        P += step_of_W1 @ K
        S += step_of_W1
    parameters["W1"] += S @ X.T
    S[...] = 0
    return cost


def use_gram_path(n_x, m, n_1, num_iterations, every):
    """Whether the Gram path costs fewer flops than the standard one for this run.

    Standard: each iteration multiplies by X twice in the first layer,
    ``2 n_1 n_x m`` flops. Gram: ``K = X^T X`` once (``n_x m^2``) and ``W1 X`` once
    (``n_1 n_x m``), then ``n_1 m^2`` per iteration, plus applying S to W1 (``n_1 m n_x``)
    at each of the ``num_iterations / every`` cost records. Only when n_x > m can it win.
    """
    if n_x <= m or num_iterations <= 0:
        return False
    records = -(-num_iterations // every)
    standard = num_iterations * 2 * n_1 * n_x * m
    gram = n_x * m * m + n_1 * n_x * m + num_iterations * n_1 * m * m + records * n_1 * m * n_x
    return gram < standard


def check_gram(gram):
    """``gram`` must be "auto", True or False."""
    if gram not in ("auto", True, False):
        raise ValueError(f"gram must be 'auto', True or False; got {gram!r}")
    return gram


def gradient_descent(X, Y, parameters, hidden, learning_rate, num_iterations, every,
                     on_cost, backend, gram=False):
    """Full-batch gradient descent of ``[LINEAR -> hidden]*(L-1) -> LINEAR -> SIGMOID``.

    Arguments:
        X: ``(n_x, m)``; Y: ``(n_L, m)``, both of the parameters' dtype.
        parameters: ``{"W1", "b1", ..., "WL", "bL"}``, the caller's own C-contiguous
            arrays, updated in place.
        hidden: the hidden layers' activation (``"relu"`` or ``"tanh"``).
        every: record the cost at iterations 0, every, 2 every, ... and pass each
            ``(iteration, cost)`` to ``on_cost``.
        gram: run the first layer on ``K = X^T X`` (True), on X (False), or choose by
            :func:`use_gram_path` ("auto"). Both give the same iterates.

    Returns:
        The recorded costs. On "cython" all the iterations between two records run in
        one compiled call that allocates nothing (``_kernels.Trainer``).
    """
    n_layers = len(parameters) // 2
    if check_gram(gram) == "auto":
        gram = use_gram_path(X.shape[0], X.shape[1], parameters["W1"].shape[0],
                             num_iterations, every)
    if num_iterations <= 0:
        return []
    if backend == "cython":
        K = _backend.kernels()
        trainer = K.Trainer(
            _for_kernel(X, X.dtype), _c_for_kernel(Y, X.dtype),
            [parameters[f"W{l}"] for l in range(1, n_layers + 1)],
            [parameters[f"b{l}"] for l in range(1, n_layers + 1)],
            ACTIVATIONS[hidden].code, gram,
        )

        def steps(count):
            return trainer.run(count, learning_rate, True)
    elif gram:
        state = {"K": X.T @ X, "P": parameters["W1"] @ X,
                 "S": np.zeros((parameters["W1"].shape[0], X.shape[1]), X.dtype)}

        def steps(count):
            return _numpy_gram_steps(X, Y, parameters, n_layers, hidden, learning_rate, count,
                                     True, state)
    else:
        def steps(count):
            return _numpy_steps(X, Y, parameters, n_layers, hidden, learning_rate, count, True)
    costs = []
    for start in range(0, num_iterations, every):
        cost = steps(min(every, num_iterations - start))
        costs.append(cost)
        on_cost(start, cost)
    return costs


def gradient_step(parameters, gradients, learning_rate):
    """``{key: parameters[key] - learning_rate * gradients[key]}``, as new arrays (the
    course's update rule; the old arrays are left as they were)."""
    return {key: value - learning_rate * gradients[key] for key, value in parameters.items()}
