"""A small convolutional network: the fourth course's model, on :mod:`cnn_core.conv`.

``CONV2D -> RELU -> MAXPOOL -> CONV2D -> RELU -> MAXPOOL -> FLATTEN -> DENSE -> SOFTMAX``

Arrays are NHWC, as in :mod:`cnn_core.conv`: ``X`` is ``(m, n_H0, n_W0, n_C0)``, one
example per leading index. The dense layer follows the first three courses' convention,
columns are examples: the flattened activations ``F`` are ``(n_flat, m)`` (example ``i``'s
``A4[i]`` flattened in C order, ``h``, ``w``, ``c``), ``W3`` is ``(K, n_flat)``, ``b3``
``(K, 1)``, the logits ``Z3`` and the probabilities ``AL`` are ``(K, m)``.

Parameters (:func:`initialize_parameters`):

* ``W1`` ``(f1, f1, n_C0, n_C1)``, ``b1`` ``(1, 1, 1, n_C1)``;
* ``W2`` ``(f2, f2, n_C1, n_C2)``, ``b2`` ``(1, 1, 1, n_C2)``;
* ``W3`` ``(K, n_flat)``, ``b3`` ``(K, 1)``.

``hparameters`` is ``{"conv": {"stride": s, "pad": p}, "pool": {"stride": s, "f": f}}``:
both convolutions share the first dict and both max-pooling layers the second.

The cost is the mean categorical cross-entropy ``-(1/m) sum_i sum_k Y_ki log AL_ki``,
computed from the logits. :func:`backward_propagation` returns its gradient: the output
layer's ``dZ3 = (AL - Y) / m``, so every gradient below it, the convolutions' included,
is already the mean over the examples. (:func:`cnn_core.conv.conv_backward` sums over
the examples, as the course's does; handed ``dZ`` divided by ``m``, the mean cost's
gradient, its sums are the mean cost's ``dW`` and ``db``.)

Max pooling's backward here hands each window's gradient to its first maximum (in
row-major order within the window), as JAX and PyTorch do, not to every tied maximum as
the course's mask does (:func:`cnn_core.conv.pool_backward`): in this network ties are
common (a blank background gives a window of equal activations, ``relu(b1)``), and the
course's rule then counts the gradient once per tied entry, a ``db1`` several times too
large. The first-maximum rule is the exact gradient wherever the tied entries move
together.
"""
from __future__ import annotations


import numpy as np

from cnn_core import _ops
from cnn_core._backend import resolve_backend
from cnn_core._validation import (
    as_float_array,
    as_nhwc,
    check_beta,
    check_hparameters,
    check_learning_rate,
    check_nonnegative_int,
    check_positive_int,
    check_positive_real,
    CONV_HPARAMETERS,
    POOL_HPARAMETERS,
)
from numpy.lib.stride_tricks import sliding_window_view

from cnn_core.conv import conv_backward, conv_forward, pool_forward
from cnn_core.improving import _adam_step, _categorical_targets

__all__ = [
    "DEFAULT_FILTERS",
    "DEFAULT_HPARAMETERS",
    "output_shapes",
    "initialize_parameters",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "predict",
    "model",
]

#: ``((f1, n_C1), (f2, n_C2))``: the two convolutions' filter sizes and filter counts.
DEFAULT_FILTERS = ((3, 8), (3, 16))
#: Same-size 3x3 convolutions, 2x2 max pooling with stride 2.
DEFAULT_HPARAMETERS = {"conv": {"stride": 1, "pad": 1}, "pool": {"stride": 2, "f": 2}}
#: The parameter names, in the order Adam visits them.
PARAMETER_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


# ---------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------

def _check_filters(filters):
    """``filters`` as ``((f1, n_C1), (f2, n_C2))`` of Python ints >= 1."""
    try:
        pairs = [tuple(pair) for pair in filters]
    except TypeError:
        pairs = None
    if pairs is None or len(pairs) != 2 or any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"filters must be two pairs ((f1, n_C1), (f2, n_C2)), a filter size "
                         f"and a filter count per convolution; got {filters!r}")
    return tuple((check_positive_int(f"filters[{l}][0] (f)", f),
                  check_positive_int(f"filters[{l}][1] (n_C)", n_C))
                 for l, (f, n_C) in enumerate(pairs))


def _check_network_hparameters(hparameters):
    """``{"conv": {"stride", "pad"}, "pool": {"stride", "f"}}`` checked (new dicts)."""
    if not isinstance(hparameters, dict):
        raise TypeError(f"hparameters must be a dict {{'conv': {{'stride', 'pad'}}, "
                        f"'pool': {{'stride', 'f'}}}}; got {type(hparameters).__name__}")
    for key in ("conv", "pool"):
        if key not in hparameters:
            raise ValueError(f"hparameters lacks {key!r}: it must be {{'conv': {{'stride', "
                             f"'pad'}}, 'pool': {{'stride', 'f'}}}}; got keys "
                             f"{sorted(map(str, hparameters))}")
    return {"conv": check_hparameters(hparameters["conv"], CONV_HPARAMETERS,
                                      "hparameters['conv']"),
            "pool": check_hparameters(hparameters["pool"], POOL_HPARAMETERS,
                                      "hparameters['pool']")}


def _check_input_shape(input_shape):
    """One example's ``(n_H0, n_W0, n_C0)`` (an ``(m, n_H0, n_W0, n_C0)`` is accepted too:
    its leading m is ignored)."""
    try:
        dims = tuple(input_shape)
    except TypeError:
        dims = ()
    if len(dims) == 4:
        dims = dims[1:]
    if len(dims) != 3:
        raise ValueError(f"input_shape must be one example's (n_H0, n_W0, n_C0) (or X.shape, "
                         f"(m, n_H0, n_W0, n_C0)); got {input_shape!r}")
    return tuple(check_positive_int(f"input_shape[{i}]", d) for i, d in enumerate(dims))


def _check_X(X):
    return as_nhwc("X", X, "(m, n_H0, n_W0, n_C0), NHWC (one example per leading index)")


def _check_network_parameters(parameters):
    """The six arrays of :func:`initialize_parameters`, as float arrays of 4, 4, 4, 4, 2, 2
    dimensions; the shapes' agreement with each other and with X is checked by the layers
    and by :func:`_dense_inputs`."""
    if not isinstance(parameters, dict):
        raise TypeError(f"parameters must be a dict with keys {list(PARAMETER_KEYS)}; got "
                        f"{type(parameters).__name__}")
    missing = [key for key in PARAMETER_KEYS if key not in parameters]
    if missing:
        raise ValueError(f"parameters lacks {missing}: a convnet's parameters are "
                         f"{list(PARAMETER_KEYS)}; got keys {sorted(map(str, parameters))}")
    checked = {}
    for key in PARAMETER_KEYS:
        ndim = 2 if key in ("W3", "b3") else 4
        checked[key] = as_float_array(f"parameters[{key!r}]", parameters[key], ndim=ndim)
    return checked


def _output_size(n_prev, f, stride, pad=0):
    return (n_prev - f + 2 * pad) // stride + 1


def output_shapes(input_shape, filters=DEFAULT_FILTERS, hparameters=None):
    """Each layer's output shape for one example, ``(n_H, n_W, n_C)``.

    Arguments:
        input_shape: ``(n_H0, n_W0, n_C0)``.
        filters: ``((f1, n_C1), (f2, n_C2))``.
        hparameters: as :func:`forward_propagation`'s (default :data:`DEFAULT_HPARAMETERS`).

    Returns:
        ``{"Z1": ..., "P1": ..., "Z2": ..., "P2": ..., "n_flat": n_H4 * n_W4 * n_C2}``.
        ValueError when a filter or a pooling window does not fit its input.
    """
    n_H, n_W, _ = _check_input_shape(input_shape)
    filters = _check_filters(filters)
    hp = _check_network_hparameters(DEFAULT_HPARAMETERS if hparameters is None else hparameters)
    s, p = hp["conv"]["stride"], hp["conv"]["pad"]
    pf, ps = hp["pool"]["f"], hp["pool"]["stride"]
    shapes = {}
    for l, (f, n_C) in enumerate(filters, start=1):
        if f > n_H + 2 * p or f > n_W + 2 * p:
            raise ValueError(f"filters[{l - 1}]: f = {f} is larger than the padded input of "
                             f"convolution {l}, {n_H + 2 * p} x {n_W + 2 * p} (pad = {p})")
        n_H, n_W = _output_size(n_H, f, s, p), _output_size(n_W, f, s, p)
        shapes[f"Z{l}"] = (n_H, n_W, n_C)
        if pf > n_H or pf > n_W:
            raise ValueError(f"the pooling window f = {pf} is larger than pooling layer {l}'s "
                             f"input, {n_H} x {n_W}")
        n_H, n_W = _output_size(n_H, pf, ps), _output_size(n_W, pf, ps)
        shapes[f"P{l}"] = (n_H, n_W, n_C)
    shapes["n_flat"] = n_H * n_W * filters[1][1]
    return shapes


# ---------------------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------------------

def initialize_parameters(input_shape, filters=DEFAULT_FILTERS, n_classes=10, seed=1, *,
                          hparameters=None):
    """He-initialised parameters, drawn from ``np.random`` seeded with ``seed``.

    ``np.random.seed(seed)``, then, in this order,
    ``W1 = randn(f1, f1, n_C0, n_C1) * sqrt(2 / (f1 f1 n_C0))``,
    ``W2 = randn(f2, f2, n_C1, n_C2) * sqrt(2 / (f2 f2 n_C1))``,
    ``W3 = randn(K, n_flat) * sqrt(2 / n_flat)`` (each layer's fan-in); zero biases.

    Arguments:
        input_shape: one example's ``(n_H0, n_W0, n_C0)`` (or ``X.shape``).
        filters: ``((f1, n_C1), (f2, n_C2))``, positive integers.
        n_classes: K >= 2.
        seed: a non-negative integer.
        hparameters: the network's (default :data:`DEFAULT_HPARAMETERS`); they fix n_flat.

    Returns:
        The parameters, float64 arrays in a dict; ``W1`` ``(f1, f1, n_C0, n_C1)``, ``b1``
        ``(1, 1, 1, n_C1)``, ``W2`` ``(f2, f2, n_C1, n_C2)``, ``b2`` ``(1, 1, 1, n_C2)``,
        ``W3`` ``(K, n_flat)`` and ``b3`` ``(K, 1)``.
    """
    n_H0, n_W0, n_C0 = _check_input_shape(input_shape)
    filters = _check_filters(filters)
    K = check_positive_int("n_classes", n_classes)
    if K < 2:
        raise ValueError(f"n_classes must be at least 2; got {n_classes!r}")
    seed = check_nonnegative_int("seed", seed)
    n_flat = output_shapes((n_H0, n_W0, n_C0), filters, hparameters)["n_flat"]
    (f1, n_C1), (f2, n_C2) = filters
    np.random.seed(seed)
    W1 = np.random.randn(f1, f1, n_C0, n_C1) * np.sqrt(2.0 / (f1 * f1 * n_C0))
    W2 = np.random.randn(f2, f2, n_C1, n_C2) * np.sqrt(2.0 / (f2 * f2 * n_C1))
    W3 = np.random.randn(K, n_flat) * np.sqrt(2.0 / n_flat)
    return {"W1": W1, "b1": np.zeros((1, 1, 1, n_C1)),
            "W2": W2, "b2": np.zeros((1, 1, 1, n_C2)),
            "W3": W3, "b3": np.zeros((K, 1))}


# ---------------------------------------------------------------------------------------
# Forward, cost, backward
# ---------------------------------------------------------------------------------------

def _dense_inputs(P2, W3, b3):
    """``F`` ``(n_flat, m)``, the flattened ``P2`` ``(m, n_H, n_W, n_C)``, after checking
    ``W3`` ``(K, n_flat)`` and ``b3`` ``(K, 1)`` against it."""
    m = P2.shape[0]
    F = P2.reshape(m, -1).T
    n_flat = F.shape[0]
    if W3.shape[1] != n_flat:
        raise ValueError(f"W3 must have shape (K, n_flat) with n_flat = {n_flat} (the second "
                         f"pooling layer's {P2.shape[1:]} flattened); got {W3.shape}: do the "
                         f"parameters belong to this input size and these hparameters?")
    if b3.shape != (W3.shape[0], 1):
        raise ValueError(f"b3 must have shape (K, 1) = ({W3.shape[0]}, 1); got {b3.shape}")
    return F


def _forward(X, parameters, hparameters, backend):
    conv_hp, pool_hp = hparameters["conv"], hparameters["pool"]
    Z1, conv1 = conv_forward(X, parameters["W1"], parameters["b1"], conv_hp, backend=backend)
    A1 = np.maximum(Z1, 0)
    P1, pool1 = pool_forward(A1, pool_hp, "max", backend=backend)
    Z2, conv2 = conv_forward(P1, parameters["W2"], parameters["b2"], conv_hp, backend=backend)
    A2 = np.maximum(Z2, 0)
    P2, pool2 = pool_forward(A2, pool_hp, "max", backend=backend)
    W3, b3 = parameters["W3"], parameters["b3"]
    F = _dense_inputs(P2, W3, b3)
    Z3 = W3 @ F + b3
    AL = _ops.softmax_columns(Z3)
    caches = {"conv1": conv1, "Z1": Z1, "pool1": pool1, "conv2": conv2, "Z2": Z2,
              "pool2": pool2, "dense": (F, W3, b3), "P2_shape": P2.shape, "Z3": Z3}
    return AL, caches


def forward_propagation(X, parameters, hparameters=None, *, backend=None):
    """The network's forward pass.

    Arguments:
        X: ``(m, n_H0, n_W0, n_C0)``, NHWC.
        parameters: the dict of :func:`initialize_parameters`.
        hparameters: ``{"conv": {"stride", "pad"}, "pool": {"stride", "f"}}`` (default
            :data:`DEFAULT_HPARAMETERS`).
        backend: "cython" or "numpy" (default :func:`cnn_core.get_backend`).

    Returns:
        ``AL`` ``(K, m)``, each column the softmax probabilities of one example, and
        ``caches``, a dict: ``"conv1"``, ``"pool1"``, ``"conv2"``, ``"pool2"`` (the
        layers' caches), ``"Z1"`` ``(m, n_H1, n_W1, n_C1)`` and ``"Z2"`` (the
        convolutions' outputs, before the ReLU), ``"dense"`` ``(F (n_flat, m), W3, b3)``,
        ``"P2_shape"`` and ``"Z3"`` ``(K, m)`` (the logits, for :func:`compute_cost`).
    """
    X = _check_X(X)
    parameters = _check_network_parameters(parameters)
    hparameters = _check_network_hparameters(
        DEFAULT_HPARAMETERS if hparameters is None else hparameters)
    return _forward(X, parameters, hparameters, resolve_backend(backend))


def _targets(Y, K, m, dtype=np.float64):
    """Integer labels ``(1, m)``/``(m,)`` in 0..K-1, or one-hot ``(K, m)``, as a
    ``(K, m)`` array of ``dtype``."""
    return _categorical_targets("Y", Y, K, m, dtype=dtype)


def compute_cost(Z3, Y):
    """The mean categorical cross-entropy ``-(1/m) sum Y log softmax(Z3)``, from the logits.

    Arguments:
        Z3: the logits ``(K, m)`` (``caches["Z3"]``).
        Y: integer labels ``(1, m)`` in 0..K-1, or one-hot ``(K, m)``.

    Returns:
        A Python float (computed in float64, as ``Z - max`` - log-sum-exp: no overflow).
    """
    Z3 = as_float_array("Z3", Z3)
    K, m = Z3.shape
    return _ops.softmax_cross_entropy_with_logits(Z3, _targets(Y, K, m))


def _max_pool_backward_first(dA, cache):
    """Max pooling's backward with each window's gradient going to its first maximum.

    ``dA`` ``(m, n_H, n_W, n_C)`` and the pool's cache ``(A_prev, {"f", "stride"})`` with
    ``A_prev`` ``(m, n_H_prev, n_W_prev, n_C)``; returns ``dA_prev`` of ``A_prev``'s
    shape: for every window, ``dA`` added at the row-major first entry equal to the
    window's maximum (overlapping windows add up)."""
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    windows = sliding_window_view(A_prev, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    windows = windows[:, :n_H, :n_W].reshape(m, n_H, n_W, n_C, f * f)
    first = np.argmax(windows, axis=-1)              # the first maximum of each window
    dA_prev = np.zeros_like(A_prev, dtype=np.result_type(dA, A_prev))
    for k in range(f * f):                           # f^2 strided adds, one per offset
        dh, dw = divmod(k, f)
        dA_prev[:, dh:dh + stride * n_H:stride, dw:dw + stride * n_W:stride] += \
            np.where(first == k, dA, 0)
    return dA_prev


def _backward(AL, Y, caches, backend):
    m = AL.shape[1]
    F, W3, _ = caches["dense"]
    dZ3 = (AL - Y) / m                          # the mean cost's gradient w.r.t. Z3
    grads = {"dW3": dZ3 @ F.T, "db3": dZ3.sum(axis=1, keepdims=True)}
    dP2 = (dZ3.T @ W3).reshape(caches["P2_shape"])   # (m, n_flat): already contiguous
    dA2 = _max_pool_backward_first(dP2, caches["pool2"])
    dZ2 = dA2 * (caches["Z2"] > 0)
    dP1, grads["dW2"], grads["db2"] = conv_backward(dZ2, caches["conv2"], backend=backend)
    dA1 = _max_pool_backward_first(dP1, caches["pool1"])
    dZ1 = dA1 * (caches["Z1"] > 0)
    grads["dA0"], grads["dW1"], grads["db1"] = conv_backward(dZ1, caches["conv1"],
                                                            backend=backend)
    return grads


def backward_propagation(AL, Y, caches, *, backend=None):
    """The gradient of the mean cross-entropy (:func:`compute_cost`) w.r.t. every parameter.

    ``dZ3 = (AL - Y) / m``; ``dW3 = dZ3 F^T``, ``db3`` its row sums; back through the
    flatten, each max pool (the gradient to each window's first maximum; see the module
    docstring), each ReLU
    (``dZ = dA * (Z > 0)``) and each convolution (:func:`cnn_core.conv.conv_backward`,
    which sums over the examples: the ``1 / m`` is already in ``dZ``, so its sums are the
    mean cost's gradients).

    Arguments:
        AL: ``(K, m)`` from :func:`forward_propagation`.
        Y: one-hot ``(K, m)`` (or integer labels ``(1, m)`` in 0..K-1).
        caches: from the same call of :func:`forward_propagation`.
        backend: "cython" or "numpy".

    Returns:
        The gradients in a dict; ``dW1`` ``(f1, f1, n_C0, n_C1)``, ``db1`` ``(1, 1, 1, n_C1)``,
        ``dW2``, ``db2``, ``dW3`` ``(K, n_flat)``, ``db3`` ``(K, 1)`` and ``dA0``
        ``(m, n_H0, n_W0, n_C0)``: each the gradient of the mean cost with respect to
        its parameter (``dA0``: to the input X).
    """
    AL = as_float_array("AL", AL)
    K, m = AL.shape
    if not isinstance(caches, dict) or any(
            key not in caches for key in ("conv1", "Z1", "pool1", "conv2", "Z2", "pool2",
                                          "dense", "P2_shape")):
        raise ValueError("caches must be the dict returned by forward_propagation")
    F, W3, _ = caches["dense"]
    if F.shape[1] != m or W3.shape[0] != K:
        raise ValueError(f"AL must have shape (K, m) = ({W3.shape[0]}, {F.shape[1]}), as the "
                         f"forward pass that made caches; got {AL.shape}")
    return _backward(AL, _targets(Y, K, m, AL.dtype), caches, resolve_backend(backend))


def predict(X, parameters, hparameters=None, *, backend=None):
    """The most probable class of each example.

    Arguments:
        X: ``(m, n_H0, n_W0, n_C0)``; parameters, hparameters, backend: as
            :func:`forward_propagation`'s.

    Returns:
        ``(1, m)`` int64 class indices 0..K-1.
    """
    AL, _ = forward_propagation(X, parameters, hparameters, backend=backend)
    return np.argmax(AL, axis=0).reshape(1, -1).astype(np.int64)


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------

def model(X, Y, *, filters=DEFAULT_FILTERS, conv_hparameters=None, pool_hparameters=None,
          n_classes=None, learning_rate=0.005, num_epochs=30, mini_batch_size=64, beta1=0.9,
          beta2=0.999, epsilon=1e-8, print_cost=False, backend=None, return_costs=False,
          seed=1):
    """Train the network by mini-batch Adam, in the course's style.

    ``initialize_parameters(X.shape, filters, K, seed)`` (He, ``np.random.seed(seed)``);
    then for each epoch ``np.random.seed(seed + epoch)``, ``permutation =
    np.random.permutation(m)``, the examples taken in that order and cut into batches of
    ``mini_batch_size`` (the last one the remainder); for each batch a forward pass, the
    cost, the backward pass and one Adam step (the course's bias-corrected formulas, ``t``
    counting batches from 1).

    Arguments:
        X: ``(m, n_H0, n_W0, n_C0)``, NHWC.
        Y: integer labels ``(1, m)`` (or ``(m,)``) in 0..K-1, or one-hot ``(K, m)``.
        filters: ``((f1, n_C1), (f2, n_C2))``.
        conv_hparameters: ``{"stride": 1, "pad": 1}`` by default (both convolutions).
        pool_hparameters: ``{"stride": 2, "f": 2}`` by default (both max pools).
        n_classes: K; by default the one-hot's rows, or ``max(Y) + 1`` (at least 2) for
            labels.
        learning_rate: > 0; beta1, beta2 in [0, 1); epsilon > 0: Adam's.
        num_epochs: passes over the data (>= 0).
        mini_batch_size: a positive integer.
        print_cost: print ``Cost after epoch i: cost`` every epoch.
        backend: "cython" or "numpy".
        return_costs: also return the cost of each epoch.
        seed: a non-negative integer.

    Returns:
        ``parameters`` (the dict of :func:`initialize_parameters`, float arrays of X's
        dtype), or ``(parameters, costs)`` with ``return_costs=True``: ``costs[i]`` is
        epoch i's mean over the m examples of the batch costs, ``sum_B |B| cost_B / m``,
        each computed before its batch's step.
    """
    X = _check_X(X)
    m = X.shape[0]
    hparameters = _check_network_hparameters({
        "conv": DEFAULT_HPARAMETERS["conv"] if conv_hparameters is None else conv_hparameters,
        "pool": DEFAULT_HPARAMETERS["pool"] if pool_hparameters is None else pool_hparameters,
    })
    filters = _check_filters(filters)
    learning_rate = check_learning_rate(learning_rate)
    num_epochs = check_nonnegative_int("num_epochs", num_epochs)
    mini_batch_size = check_positive_int("mini_batch_size", mini_batch_size)
    beta1 = check_beta("beta1", beta1)
    beta2 = check_beta("beta2", beta2)
    epsilon = check_positive_real("epsilon", epsilon)
    seed = check_nonnegative_int("seed", seed)
    if n_classes is None:
        shape = np.shape(Y)
        if len(shape) == 2 and shape[0] > 1:
            n_classes = shape[0]
        else:
            labels = np.asarray(Y)
            if labels.dtype.kind not in "biuf" or labels.size == 0:
                raise ValueError(f"Y must hold integer labels (1, m) or one-hot (K, m); got "
                                 f"dtype {labels.dtype}, shape {shape}")
            top = np.nanmax(labels) if labels.dtype.kind == "f" else labels.max()
            n_classes = max(2, int(top) + 1) if np.isfinite(top) else 2
    K = check_positive_int("n_classes", n_classes)
    Y = _targets(Y, K, m).astype(X.dtype, copy=False)
    backend = resolve_backend(backend)

    parameters = {key: value.astype(X.dtype) for key, value in initialize_parameters(
        X.shape, filters, K, seed, hparameters=hparameters).items()}
    v = {key: np.zeros_like(value) for key, value in parameters.items()}
    s = {key: np.zeros_like(value) for key, value in parameters.items()}
    costs = []
    t = 0
    for epoch in range(num_epochs):
        np.random.seed(seed + epoch)
        permutation = np.random.permutation(m)
        cost_total = 0.0
        for start in range(0, m, mini_batch_size):
            batch = permutation[start:start + mini_batch_size]
            X_batch, Y_batch = X[batch], Y[:, batch]
            AL, caches = _forward(X_batch, parameters, hparameters, backend)
            cost_total += _ops.softmax_cross_entropy_with_logits(caches["Z3"], Y_batch) \
                * batch.size
            grads = _backward(AL, Y_batch, caches, backend)
            t += 1
            gradients = {key: grads["d" + key] for key in PARAMETER_KEYS}
            parameters, v, s, _, _ = _adam_step(parameters, gradients, v, s, t, learning_rate,
                                                beta1, beta2, epsilon)
        cost = cost_total / m
        costs.append(cost)
        if print_cost:
            print("Cost after epoch %i: %f" % (epoch, cost))
    return (parameters, costs) if return_costs else parameters
