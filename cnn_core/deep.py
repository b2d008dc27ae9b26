"""The L-layer network: ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID``.

The notes' building blocks, with their names, signatures and caches:

* a linear cache is the tuple ``(A_prev, W, b)``, an activation cache is ``Z``, and a
  layer's cache is ``(linear_cache, activation_cache)``;
* :func:`L_model_backward` stores ``grads["dA" + str(l)]``, ``grads["dW" + str(l)]`` and
  ``grads["db" + str(l)]`` for l = 1..L exactly as the notes do: ``dW{l}``/``db{l}``
  belong to layer l, and ``dA{l}`` is the gradient the backward pass of layer l hands
  down, i.e. with respect to ``A^{[l-1]}`` (``dA1`` is the gradient with respect to X).

Shapes: ``X`` is ``(n_x, m)`` with one column per example, ``W{l}`` is
``(n_l, n_{l-1})``, ``b{l}`` is ``(n_l, 1)``, ``Z``/``A`` of layer l are ``(n_l, m)``,
``Y`` and ``AL`` are ``(1, m)``.

Every function that computes takes a keyword-only ``backend`` ("cython" or "numpy",
default :func:`cnn_core.get_backend`). Randomness comes from NumPy's global generator
in the notes' order, so ``np.random.seed`` reproduces the course's numbers.
"""
from __future__ import annotations

import numpy as np

from cnn_core import _ops, training
from cnn_core._backend import resolve_backend
from cnn_core._validation import (
    check_gram,
    as_float_array,
    as_labels,
    check_binary_output,
    check_caches,
    check_callback,
    check_gradient,
    check_layer_dims,
    check_layer_inputs,
    check_learning_rate,
    check_linear_cache,
    check_model_args,
    check_nonnegative_int,
    check_positive_int,
    check_parameters,
    check_probabilities,
    check_shape,
    check_training_data,
    check_update,
    split_layer_cache,
)
from cnn_core.activations import ACTIVATIONS, check_activation
from cnn_core.shallow import initialize_parameters

__all__ = [
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "sigmoid",
    "relu",
    "linear_activation_forward",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "relu_backward",
    "sigmoid_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
    "two_layer_model",
    "L_layer_model",
    "predict",
]


# ---------------------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------------------

def initialize_parameters_deep(layer_dims):
    """Random weights scaled by ``1/sqrt(n_{l-1})`` and zero biases for every layer.

    Arguments:
        layer_dims: ``[n_x, n_1, ..., n_L]``, positive integers (at least two).

    Returns:
        ``{"W1": (n_1, n_x), "b1": (n_1, 1), ..., "WL": (n_L, n_{L-1}), "bL": (n_L, 1)}``.
        Draws ``np.random.randn`` once per layer, layer by layer, as the notes do.
    """
    dims = check_layer_dims(layer_dims)
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = np.random.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


# ---------------------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------------------

def linear_forward(A, W, b, *, backend=None):
    """The linear part of a layer: ``Z = W . A + b``.

    Arguments:
        A: activations of the previous layer (or X), ``(n_prev, m)``.
        W: weights, ``(n, n_prev)``.
        b: bias, ``(n, 1)``.

    Returns:
        ``Z`` ``(n, m)`` and the linear cache ``(A, W, b)``.
    """
    A, W, b = check_layer_inputs(A, W, b, A_name="A")
    Z, _ = _ops.linear_activation_forward(A, W, b, "identity", resolve_backend(backend))
    return Z, (A, W, b)


def sigmoid(Z):
    """The notes' deep helper: ``A = sigmoid(Z)`` and the activation cache ``Z``.

    Returns ``(A, Z)``; A has Z's shape. Finite for any finite Z.
    """
    Z = as_float_array("Z", Z, ndim=(1, 2))
    return ACTIVATIONS["sigmoid"].forward(Z), Z


def relu(Z):
    """The notes' deep helper: ``A = max(0, Z)`` and the activation cache ``Z``."""
    Z = as_float_array("Z", Z, ndim=(1, 2))
    return ACTIVATIONS["relu"].forward(Z), Z


def linear_activation_forward(A_prev, W, b, activation, *, backend=None):
    """One ``LINEAR -> ACTIVATION`` layer.

    Arguments:
        A_prev: ``(n_prev, m)``; W: ``(n, n_prev)``; b: ``(n, 1)``.
        activation: ``"relu"`` or ``"sigmoid"`` (``"tanh"`` too, for the shallow net).

    Returns:
        ``A`` ``(n, m)`` and the cache ``((A_prev, W, b), Z)``. On the "cython" backend
        the product, the bias and the activation are one fused kernel call.
    """
    check_activation(activation)
    A_prev, W, b = check_layer_inputs(A_prev, W, b)
    Z, A = _ops.linear_activation_forward(A_prev, W, b, activation, resolve_backend(backend))
    return A, ((A_prev, W, b), Z)


def L_model_forward(X, parameters, *, backend=None):
    """Forward pass of ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID``.

    Arguments:
        X: ``(n_x, m)``.
        parameters: ``{"W1", "b1", ..., "WL", "bL"}`` with ``WL`` of one row.

    Returns:
        ``AL`` ``(1, m)``, the sigmoid output, and ``caches``, the list of the L layer
        caches ``((A_prev, W, b), Z)`` in layer order.
    """
    X = as_float_array("X", X)
    checked, L = check_parameters(parameters, X.shape[0])
    check_binary_output(checked, L)
    AL, caches = _ops.forward_layers(X, checked, L, "relu", resolve_backend(backend))
    return AL, [(linear_cache, Z) for linear_cache, Z, _ in caches]


def compute_cost(AL, Y, *, backend=None):
    """Cross-entropy cost ``-(1/m) sum(Y log AL + (1 - Y) log(1 - AL))``.

    Arguments:
        AL: predicted probabilities, ``(1, m)``, in [0, 1].
        Y: labels (or soft labels), ``(1, m)`` or ``(m,)``.

    Returns:
        The cost as a 0-d NumPy float (``cost.shape == ()``). Saturated predictions
        (AL exactly 0 or 1) give a large finite cost, never inf or NaN.
    """
    AL = check_probabilities("AL", AL)
    check_shape("AL", AL, (1, AL.shape[1]), "(1, m)")
    Y = as_labels("Y", Y, AL.shape[1])
    return AL.dtype.type(_ops.cross_entropy(AL, Y, resolve_backend(backend)))


# ---------------------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------------------

def linear_backward(dZ, cache, *, backend=None):
    """Gradients of the linear part of one layer.

    .. math::
        dW = \\tfrac{1}{m} dZ\\, A_{prev}^T, \\quad
        db = \\tfrac{1}{m} \\textstyle\\sum_i dZ^{(i)}, \\quad
        dA_{prev} = W^T dZ

    Arguments:
        dZ: gradient of the cost with respect to Z, ``(n, m)``.
        cache: ``(A_prev, W, b)`` from :func:`linear_forward`.

    Returns:
        ``dA_prev`` ``(n_prev, m)``, ``dW`` ``(n, n_prev)``, ``db`` ``(n, 1)``.
    """
    A_prev, W, _ = check_linear_cache(cache)
    dZ = check_gradient("dZ", dZ, (W.shape[0], A_prev.shape[1]), "(n, m)")
    return _ops.linear_backward(dZ, A_prev, W, resolve_backend(backend))


def _activation_backward(dA, cache, activation, backend):
    Z = as_float_array("cache (Z)", cache, ndim=(1, 2))
    dA = as_float_array("dA", dA, ndim=(1, 2))
    check_shape("dA", dA, Z.shape, "Z.shape")
    if Z.ndim == 1:  # the kernels work on matrices; a vector is one row
        return _ops.activation_backward(dA[None], Z[None], activation, backend)[0]
    return _ops.activation_backward(dA, Z, activation, backend)


def relu_backward(dA, cache, *, backend=None):
    """``dZ = dA`` where ``Z > 0`` and 0 elsewhere; ``cache`` is Z, dA has its shape."""
    return _activation_backward(dA, cache, "relu", resolve_backend(backend))


def sigmoid_backward(dA, cache, *, backend=None):
    """``dZ = dA * s * (1 - s)`` with ``s = sigmoid(Z)``; ``cache`` is Z."""
    return _activation_backward(dA, cache, "sigmoid", resolve_backend(backend))


def linear_activation_backward(dA, cache, activation, *, backend=None):
    """Backward pass of one ``LINEAR -> ACTIVATION`` layer.

    Arguments:
        dA: gradient with respect to this layer's output A, ``(n, m)``.
        cache: ``((A_prev, W, b), Z)`` from :func:`linear_activation_forward`.
        activation: ``"relu"`` or ``"sigmoid"`` (or ``"tanh"``).

    Returns:
        ``dA_prev`` ``(n_prev, m)``, ``dW`` ``(n, n_prev)``, ``db`` ``(n, 1)``.
    """
    check_activation(activation)
    backend = resolve_backend(backend)
    linear_cache, Z = split_layer_cache(cache)
    A_prev, W, _ = check_linear_cache(linear_cache, "cache[0]")
    Z = check_gradient("cache[1] (Z)", Z, (W.shape[0], A_prev.shape[1]), "(n, m)")
    dA = check_gradient("dA", dA, Z.shape, "(n, m)")
    dZ = _ops.activation_backward(dA, Z, activation, backend)
    return _ops.linear_backward(dZ, A_prev, W, backend)


def L_model_backward(AL, Y, caches, *, backend=None):
    """Backward pass of ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID``.

    Arguments:
        AL: the output of :func:`L_model_forward`, ``(1, m)``.
        Y: labels, ``(1, m)`` (reshaped to AL's shape as the notes do).
        caches: the list (or tuple) of L caches from :func:`L_model_forward`.

    Returns:
        ``grads`` with ``"dA{l}"``, ``"dW{l}"``, ``"db{l}"`` for l = 1..L, keyed as the
        notes key them (``dA{l}`` is the gradient with respect to ``A^{[l-1]}``).

    The notes start from ``dAL = -(Y/AL - (1-Y)/(1-AL))`` and take the sigmoid backward
    of the last cache, ``dZL = dAL * s (1 - s)`` with ``s = sigmoid(ZL)``. Where AL is
    ``s`` (as after every forward pass) that product is exactly ``AL - Y``, which is what
    is computed there: no division, finite when AL saturates at 0 or 1. Where AL is not
    the sigmoid of the cached ZL (the course's own test case feeds such an AL), the notes'
    formula is followed to the letter, and an AL of exactly 0 or 1 there raises
    ValueError instead of dividing by zero.
    """
    AL = as_float_array("AL", AL)
    check_shape("AL", AL, (1, AL.shape[1]), "(1, m)")
    Y = as_labels("Y", Y, AL.shape[1])
    checked = check_caches(caches, AL.shape[1])
    backend = resolve_backend(backend)
    dZL = _output_dZ(AL, Y, checked[-1][1], backend)
    return _ops.backward_layers(dZL, checked, "relu", backend)


#: How far (in units of the dtype's epsilon, relative) AL may sit from sigmoid(ZL) and
#: still count as its sigmoid: the kernels' sigmoid is within 2 ulp of NumPy's.
_SIGMOID_MATCH_ULPS = 16


def _output_dZ(AL, Y, ZL, backend):
    """``dZL`` of the sigmoid output layer, ``(1, m)``, by the notes' route (see above)."""
    s = ACTIVATIONS["sigmoid"].forward(ZL)
    tolerance = _SIGMOID_MATCH_ULPS * np.finfo(AL.dtype).eps * np.abs(s)
    is_sigmoid = np.abs(AL - s) <= tolerance
    dZ = AL - Y
    if is_sigmoid.all():
        return dZ
    at_pole = ~is_sigmoid & ((AL == 0) | (AL == 1))
    if at_pole.any():
        where = tuple(int(i) for i in np.argwhere(at_pole)[0])
        raise ValueError(
            f"AL is {AL[where]} at index {where} and is not the sigmoid of the cached ZL "
            f"({s[where]}): the notes' dAL = -(Y/AL - (1-Y)/(1-AL)) divides by zero there"
        )
    safe_AL = np.where(is_sigmoid, 0.5, AL)  # entries taken from AL - Y need no dAL
    dAL = -(np.divide(Y, safe_AL) - np.divide(1 - Y, 1 - safe_AL))
    dZ_notes = _ops.activation_backward(dAL, ZL, "sigmoid", backend)
    return np.where(is_sigmoid, dZ, dZ_notes)


def update_parameters(parameters, grads, learning_rate):
    """One gradient descent step: ``W{l} - lr * dW{l}`` and ``b{l} - lr * db{l}``.

    Arguments:
        parameters: ``{"W1", "b1", ..., "WL", "bL"}``.
        grads: holds ``"dW{l}"`` and ``"db{l}"`` of the same shapes (extra keys such as
            ``"dA{l}"`` are ignored).
        learning_rate: a positive float.

    Returns:
        ``parameters`` itself, holding the new arrays, as the notes' version returns it;
        the arrays that were in it are not modified in place (a caller's other references
        to them keep the old values).
    """
    learning_rate = check_learning_rate(learning_rate)
    parameters.update(_ops.gradient_step(*check_update(parameters, grads), learning_rate))
    return parameters


# ---------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------

def _train(X, Y, parameters, learning_rate, num_iterations, print_cost, backend,
           cost_line, gram, callback, cost_every):
    """Full-batch gradient descent on the model's own copies of the parameters.

    Costs are recorded (and printed) every ``cost_every`` iterations, from iteration 0;
    the cost of an iteration is that of the parameters before its update, as in the
    notes.
    """
    parameters = {k: np.array(v, dtype=X.dtype, order="C", copy=True)
                  for k, v in parameters.items()}
    report = training.cost_reporter(print_cost, check_callback(callback), cost_line)
    costs = training.gradient_descent(X, Y, parameters, "relu", learning_rate, num_iterations,
                                       check_positive_int("cost_every", cost_every),
                                       report, backend, gram)
    return parameters, costs


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
                    print_cost=False, *, backend=None, return_costs=False, gram="auto",
                    seed=1, callback=None, cost_every=100):
    """Train ``LINEAR -> RELU -> LINEAR -> SIGMOID`` by gradient descent.

    Arguments:
        X: ``(n_x, m)``; Y: labels in [0, 1], ``(1, m)``.
        layers_dims: ``(n_x, n_h, n_y)`` with ``n_y = 1``.
        learning_rate, num_iterations: of the gradient descent loop.
        print_cost: print each recorded cost, as the notes do.
        return_costs: also return the list of recorded costs.
        gram: the first layer's path: True runs it on the Gram matrix ``X^T X``
            (same iterates, far cheaper when X has more rows than columns), False on X,
            "auto" picks the cheaper of the two by counting flops.
        seed: ``np.random`` is seeded with it before the initial draw (the notes' 1).
        callback: called as ``callback(i, cost)`` at every recorded cost (a progress
            bar, a log), after the line ``print_cost`` prints.
        cost_every: the cost is recorded at iterations 0, cost_every, ... (the notes'
            100).

    Returns:
        ``parameters`` (``W1`` ``(n_h, n_x)``, ``b1``, ``W2`` ``(1, n_h)``, ``b2``), or
        ``(parameters, costs)`` with ``return_costs=True``. Seeds ``np.random`` with
        ``seed`` and initialises with :func:`initialize_parameters`, as the notes do.
    """
    X, Y = check_training_data(X, Y)
    learning_rate, num_iterations = check_model_args(learning_rate, num_iterations)
    dims = check_layer_dims(layers_dims, "layers_dims")
    if len(dims) != 3 or dims[0] != X.shape[0] or dims[2] != 1:
        raise ValueError(
            f"layers_dims must be (n_x, n_h, 1) with n_x = X.shape[0] = {X.shape[0]}; got {dims}"
        )
    np.random.seed(check_nonnegative_int("seed", seed))
    parameters = initialize_parameters(*dims)
    parameters, costs = _train(
        X, Y, parameters, learning_rate, num_iterations, print_cost,
        resolve_backend(backend),
        "Cost after iteration {}: {}",
        check_gram(gram), callback, cost_every,
    )
    return (parameters, costs) if return_costs else parameters


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
                  print_cost=False, *, backend=None, return_costs=False, gram="auto",
                  seed=1, callback=None, cost_every=100):
    """Train ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID`` by gradient descent.

    Arguments:
        X: ``(n_x, m)``; Y: labels in [0, 1], ``(1, m)``.
        layers_dims: ``[n_x, n_1, ..., n_{L-1}, 1]``.
        learning_rate, num_iterations, print_cost, return_costs, gram, seed, callback, cost_every:
            as in :func:`two_layer_model`.

    Returns:
        ``parameters`` (``W{l}`` ``(n_l, n_{l-1})``, ``b{l}`` ``(n_l, 1)``), or
        ``(parameters, costs)`` with ``return_costs=True``. Seeds ``np.random`` with
        ``seed`` (the notes' 1) and initialises with :func:`initialize_parameters_deep` of ``layers_dims`` (the
        notes' code names an undefined ``layer_dims`` there; this is what it meant).
    """
    X, Y = check_training_data(X, Y)
    learning_rate, num_iterations = check_model_args(learning_rate, num_iterations)
    dims = check_layer_dims(layers_dims, "layers_dims")
    if dims[0] != X.shape[0] or dims[-1] != 1:
        raise ValueError(
            f"layers_dims must start with n_x = X.shape[0] = {X.shape[0]} and end with 1; "
            f"got {dims}"
        )
    np.random.seed(check_nonnegative_int("seed", seed))
    parameters = initialize_parameters_deep(dims)
    parameters, costs = _train(
        X, Y, parameters, learning_rate, num_iterations, print_cost,
        resolve_backend(backend),
        "Cost after iteration {}: {:f}",
        check_gram(gram), callback, cost_every,
    )
    return (parameters, costs) if return_costs else parameters


def predict(X, y, parameters, *, backend=None):
    """Predict 0/1 labels with a trained L-layer network and print the accuracy.

    Arguments:
        X: ``(n_x, m)``.
        y: true labels ``(1, m)``, or None to skip the accuracy line.
        parameters: the trained ``{"W1", "b1", ..., "WL", "bL"}``.

    Returns:
        ``p`` ``(1, m)``, float 1.0 where the predicted probability exceeds 0.5, else 0.0.
        Prints ``Accuracy: <fraction>`` as the notes do when ``y`` is given.
    """
    X = as_float_array("X", X)
    checked, L = check_parameters(parameters, X.shape[0])
    check_binary_output(checked, L)
    m = X.shape[1]
    y = None if y is None else as_labels("y", y, m)
    probas, _ = _ops.forward_layers(X, checked, L, "relu", resolve_backend(backend))
    p = (probas > 0.5).astype(np.float64)
    if y is not None:
        print("Accuracy: " + str(np.sum((p == y) / m)))
    return p
