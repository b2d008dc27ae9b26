"""The one-hidden-layer network of the planar "flower" chapter.

``LINEAR -> TANH -> LINEAR -> SIGMOID``, trained by full-batch gradient descent:

.. math::
    Z^{[1]} = W^{[1]} X + b^{[1]},\\; A^{[1]} = \\tanh Z^{[1]},\\;
    Z^{[2]} = W^{[2]} A^{[1]} + b^{[2]},\\; A^{[2]} = \\sigma(Z^{[2]})

Shapes: ``X`` is ``(n_x, m)`` (one column per example), ``Y`` and ``A2`` are
``(n_y, m)``, ``W1`` ``(n_h, n_x)``, ``b1`` ``(n_h, 1)``, ``W2`` ``(n_y, n_h)``,
``b2`` ``(n_y, 1)``. The cache is the notes' dict of ``Z1``, ``A1``, ``Z2``, ``A2``.

Every function that computes takes a keyword-only ``backend`` ("cython" or "numpy").
:func:`nn_model` draws its initial weights from NumPy's global generator and does not
reseed it, as in the notes.
"""
from __future__ import annotations

import numpy as np

from cnn_core import _ops, training
from cnn_core._backend import resolve_backend
from cnn_core._validation import (
    as_float_array,
    as_labels,
    check_X_Y,
    check_callback,
    check_labels,
    check_learning_rate,
    check_nonnegative_int,
    check_parameters,
    check_positive_int,
    check_shape,
    check_update,
)

__all__ = [
    "layer_sizes",
    "initialize_parameters",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "update_parameters",
    "nn_model",
    "predict",
]


def layer_sizes(X, Y):
    """The layer sizes of the network for this data.

    Arguments:
        X: ``(n_x, m)``; Y: ``(n_y, m)``.

    Returns:
        ``(n_x, n_h, n_y)`` with the notes' hidden size ``n_h = 4``.
    """
    X, Y = check_X_Y(X, Y)
    return X.shape[0], 4, Y.shape[0]


def initialize_parameters(n_x, n_h, n_y):
    """Small random weights (``randn * 0.01``) and zero biases for a two-layer network.

    Returns ``{"W1": (n_h, n_x), "b1": (n_h, 1), "W2": (n_y, n_h), "b2": (n_y, 1)}``.
    Draws W1 then W2 from ``np.random.randn``, as the notes do.
    """
    n_x = check_positive_int("n_x", n_x)
    n_h = check_positive_int("n_h", n_h)
    n_y = check_positive_int("n_y", n_y)
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def _forward(X, parameters, backend):
    Z1, A1 = _ops.linear_activation_forward(X, parameters["W1"], parameters["b1"], "tanh", backend)
    Z2, A2 = _ops.linear_activation_forward(A1, parameters["W2"], parameters["b2"], "sigmoid",
                                            backend)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def forward_propagation(X, parameters, *, backend=None):
    """Forward pass of the tanh network.

    Arguments:
        X: ``(n_x, m)``.
        parameters: ``{"W1", "b1", "W2", "b2"}`` (see the module docstring for shapes).

    Returns:
        ``A2`` ``(n_y, m)``, the sigmoid output, and the cache
        ``{"Z1": (n_h, m), "A1": (n_h, m), "Z2": (n_y, m), "A2": (n_y, m)}``.
    """
    X = as_float_array("X", X)
    checked, _ = check_parameters(parameters, X.shape[0], n_layers=2)
    return _forward(X, checked, resolve_backend(backend))


def compute_cost(A2, Y, parameters=None, *, backend=None):
    """Cross-entropy cost ``-(1/m) sum(Y log A2 + (1 - Y) log(1 - A2))``.

    Arguments:
        A2: predicted probabilities in [0, 1], ``(n_y, m)``.
        Y: labels (soft labels allowed), ``A2``'s shape.
        parameters: accepted for the notes' signature; unused.

    Returns:
        The cost as a 0-d NumPy float, finite even where A2 saturates at 0 or 1.
    """
    A2 = as_float_array("A2", A2)
    if (A2 < 0).any() or (A2 > 1).any():
        raise ValueError(
            f"A2 must hold probabilities in [0, 1]; got values in [{A2.min()}, {A2.max()}]"
        )
    Y = as_labels("Y", Y, A2.shape[1], n_rows=A2.shape[0])
    return A2.dtype.type(_ops.cross_entropy(A2, Y, resolve_backend(backend)))


def _backward(parameters, cache, X, Y, backend):
    """The notes' backward pass, without validation.

    ``dZ2 = A2 - Y``; ``dW2 = dZ2 A1^T / m``; ``db2 = sum(dZ2) / m``;
    ``dZ1 = W2^T dZ2 * (1 - A1^2)``; ``dW1 = dZ1 X^T / m``; ``db1 = sum(dZ1) / m``.
    """
    dZ2 = cache["A2"] - Y
    dA1, dW2, db2 = _ops.linear_backward(dZ2, cache["A1"], parameters["W2"], backend)
    # tanh'(Z1) = 1 - A1^2; the op recomputes it from Z1 (both backends alike).
    dZ1 = _ops.activation_backward(dA1, cache["Z1"], "tanh", backend)
    _, dW1, db1 = _ops.linear_backward(dZ1, X, parameters["W1"], backend, need_dA_prev=False)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def backward_propagation(parameters, cache, X, Y, *, backend=None):
    """Gradients of the cost with respect to W1, b1, W2, b2.

    Arguments:
        parameters: ``{"W1", "b1", "W2", "b2"}``.
        cache: ``{"Z1", "A1", "Z2", "A2"}`` from :func:`forward_propagation`.
        X: ``(n_x, m)``; Y: ``(n_y, m)``.

    Returns:
        ``{"dW1": (n_h, n_x), "db1": (n_h, 1), "dW2": (n_y, n_h), "db2": (n_y, 1)}``.
    """
    X, Y = check_X_Y(X, Y)
    checked, _ = check_parameters(parameters, X.shape[0], n_layers=2)
    n_h, n_y, m = checked["W1"].shape[0], checked["W2"].shape[0], X.shape[1]
    if not isinstance(cache, dict):
        raise TypeError(f"cache must be the dict returned by forward_propagation; got {type(cache).__name__}")
    expected = {"Z1": (n_h, m), "A1": (n_h, m), "Z2": (n_y, m), "A2": (n_y, m)}
    missing = [key for key in expected if key not in cache]
    if missing:
        raise ValueError(f"cache lacks {', '.join(map(repr, missing))}; got keys {sorted(cache)}")
    cache_arrays = {}
    for key, shape in expected.items():
        cache_arrays[key] = as_float_array(f"cache[{key!r}]", cache[key])
        check_shape(f"cache[{key!r}]", cache_arrays[key], shape, "(n_h or n_y, m)")
    check_shape("Y", Y, (n_y, m), "(n_y, m)")
    return _backward(checked, cache_arrays, X, Y, resolve_backend(backend))


def update_parameters(parameters, grads, learning_rate=1.2):
    """One gradient descent step with the notes' default rate 1.2.

    Arguments:
        parameters: ``{"W1", "b1", "W2", "b2"}``.
        grads: ``{"dW1", "db1", "dW2", "db2"}``, each of its parameter's shape.

    Returns:
        ``parameters`` itself, holding the new arrays, as the notes' version returns it;
        the arrays that were in it are not modified in place.
    """
    learning_rate = check_learning_rate(learning_rate)
    parameters.update(_ops.gradient_step(*check_update(parameters, grads), learning_rate))
    return parameters


def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False, *, learning_rate=1.2,
             backend=None, return_costs=False, callback=None, cost_every=1000):
    """Train the tanh network by gradient descent.

    Arguments:
        X: ``(n_x, m)``; Y: labels in [0, 1], ``(n_y, m)``.
        n_h: hidden layer size.
        num_iterations: gradient descent iterations.
        print_cost: print ``Cost after iteration i: c`` at every recorded cost.
        learning_rate: the step (the notes use update_parameters' default, 1.2).
        return_costs: also return the recorded costs.
        callback: called as ``callback(i, cost)`` at every recorded cost.
        cost_every: the cost is recorded at iterations 0, cost_every, ... (the notes'
            1000).

    Returns:
        ``parameters`` (``W1`` ``(n_h, n_x)``, ``b1``, ``W2`` ``(n_y, n_h)``, ``b2``), or
        ``(parameters, costs)`` with ``return_costs=True``. Does not reseed ``np.random``.
    """
    X, Y = check_X_Y(X, Y)
    check_labels("Y", Y)
    n_h = check_positive_int("n_h", n_h)
    num_iterations = check_nonnegative_int("num_iterations", num_iterations)
    learning_rate = check_learning_rate(learning_rate)
    callback = check_callback(callback)
    cost_every = check_positive_int("cost_every", cost_every)
    backend = resolve_backend(backend)
    n_x, _, n_y = layer_sizes(X, Y)
    parameters = {k: np.array(v, dtype=X.dtype, order="C")
                  for k, v in initialize_parameters(n_x, n_h, n_y).items()}
    Y = Y.astype(X.dtype, copy=False)

    report = training.cost_reporter(print_cost, callback)
    costs = training.gradient_descent(X, Y, parameters, "tanh", learning_rate, num_iterations,
                                       cost_every, report, backend)
    return (parameters, costs) if return_costs else parameters


def predict(parameters, X, *, backend=None):
    """Class predictions: 1 where ``A2 >= 0.5``, else 0.

    Arguments:
        parameters: trained ``{"W1", "b1", "W2", "b2"}``; X: ``(n_x, m)``.

    Returns:
        An integer array ``(n_y, m)`` of 0/1.
    """
    A2, _ = forward_propagation(X, parameters, backend=backend)
    return np.where(A2 < 0.5, 0, 1)
