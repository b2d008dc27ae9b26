"""Logistic regression "with a neural network mindset".

A single sigmoid unit trained by gradient descent:

.. math::
    A = \\sigma(w^T X + b), \\quad
    J = -\\tfrac{1}{m} \\textstyle\\sum_i y^{(i)} \\log a^{(i)} + (1 - y^{(i)}) \\log(1 - a^{(i)}),
    \\quad \\frac{\\partial J}{\\partial w} = \\tfrac{1}{m} X (A - Y)^T, \\quad
    \\frac{\\partial J}{\\partial b} = \\tfrac{1}{m} \\textstyle\\sum_i (a^{(i)} - y^{(i)})

Shapes: ``X`` is ``(n_x, m)`` with one column per example (for images, the flattened
and standardised pixels), ``w`` is ``(n_x, 1)``, ``b`` a scalar, ``Y`` ``(1, m)``.
The unit is the deep module's one-layer sigmoid network with ``W = w^T``, so it runs on
the same operations (and compiled kernels) as the other models.
"""
from __future__ import annotations

import numpy as np

from cnn_core import _ops, training
from cnn_core._backend import resolve_backend
from cnn_core._validation import (
    check_gram,
    as_float_array,
    as_labels,
    check_bias,
    check_callback,
    check_labels,
    check_learning_rate,
    check_nonnegative_int,
    check_positive_int,
    check_w_X,
)

__all__ = ["initialize_with_zeros", "propagate", "optimize", "predict", "model"]


def initialize_with_zeros(dim):
    """Zero parameters: ``w`` of shape ``(dim, 1)`` (float64) and ``b = 0.0``."""
    dim = check_positive_int("dim", dim)
    return np.zeros((dim, 1)), 0.0


def _forward(w, b, X, backend):
    """``Z = w^T X + b`` and ``A = sigmoid(Z)``, both ``(1, m)``."""
    b_col = np.full((1, 1), b, dtype=np.result_type(w, X))
    return _ops.linear_activation_forward(X, w.T, b_col, "sigmoid", backend)


def _propagate(w, b, X, Y, backend):
    Z, A = _forward(w, b, X, backend)
    cost = _ops.cross_entropy_with_logits(Z, Y, backend)
    dZ = A - Y
    # The layer gradient dW = dZ X^T / m is (1, n_x); the course's dw is its transpose.
    _, dW, db = _ops.linear_backward(dZ, X, w.T, backend, need_dA_prev=False)
    return {"dw": dW.T.copy(), "db": float(db[0, 0])}, cost


def propagate(w, b, X, Y, *, backend=None):
    """Cost and gradients of logistic regression at ``(w, b)``.

    Arguments:
        w: ``(n_x, 1)``; b: a real scalar; X: ``(n_x, m)``; Y: ``(1, m)`` labels.

    Returns:
        ``grads = {"dw": (n_x, 1), "db": float}`` and the cost as a 0-d NumPy float.
    """
    w, X = check_w_X(w, X)
    b = check_bias(b)
    Y = as_labels("Y", Y, X.shape[1])
    grads, cost = _propagate(w, b, X, Y, resolve_backend(backend))
    return grads, np.float64(cost)


def _optimize(w, b, X, Y, num_iterations, learning_rate, print_cost, backend, gram,
              callback=None, cost_every=100):
    """Gradient descent from ``(w, b)``; the course's ``(params, grads, costs)``.

    All iterations but the last run as the one-layer case of the shared training loop;
    the last runs through :func:`_propagate` so that its gradients can be returned.
    """
    report = training.cost_reporter(print_cost, callback)
    dtype = X.dtype
    parameters = {"W1": np.array(w.T, dtype=dtype, order="C"), "b1": np.full((1, 1), b, dtype)}
    Y = Y.astype(dtype, copy=False)
    costs = training.gradient_descent(X, Y, parameters, "identity", learning_rate,
                                  max(num_iterations - 1, 0), cost_every, report, backend, gram)
    w, b = parameters["W1"].T.copy(), float(parameters["b1"][0, 0])
    grads = {"dw": np.zeros_like(w), "db": 0.0}
    if num_iterations > 0:
        grads, cost = _propagate(w, b, X, Y, backend)
        if (num_iterations - 1) % cost_every == 0:
            costs.append(cost)
            report(num_iterations - 1, cost)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
    return {"w": w, "b": b}, grads, [np.float64(c) for c in costs]


def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False, *,
             backend=None, gram="auto", cost_every=100):
    """Gradient descent on ``(w, b)``.

    Arguments:
        w: ``(n_x, 1)``; b: scalar; X: ``(n_x, m)``; Y: ``(1, m)``.
        num_iterations, learning_rate: of the loop.
        print_cost: print ``Cost after iteration i: c`` at every recorded cost.
        gram: run on the Gram matrix ``X^T X`` (True), on X (False) or whichever costs
            fewer flops ("auto"); the iterates are the same.
        cost_every: the cost is recorded at iterations 0, cost_every, 2 cost_every, ...
            (the notes' 100).

    Returns:
        ``params = {"w", "b"}`` after the last update, ``grads = {"dw", "db"}`` of the last
        iteration (computed before its update; zeros if ``num_iterations`` is 0), and
        ``costs``, the cost every ``cost_every`` iterations from iteration 0.
    """
    w, X = check_w_X(w, X)
    b = check_bias(b)
    Y = as_labels("Y", Y, X.shape[1])
    num_iterations = check_nonnegative_int("num_iterations", num_iterations)
    learning_rate = check_learning_rate(learning_rate)
    return _optimize(w.copy(), b, X, Y, num_iterations, learning_rate, print_cost,
                     resolve_backend(backend), check_gram(gram),
                     cost_every=check_positive_int("cost_every", cost_every))


def predict(w, b, X, *, backend=None):
    """Labels predicted by ``(w, b)``: 1.0 where ``sigmoid(w^T X + b) > 0.5``, else 0.0.

    Arguments:
        w: ``(n_x, 1)``; b: scalar; X: ``(n_x, m)``.

    Returns:
        ``Y_prediction`` of shape ``(1, m)``.
    """
    w, X = check_w_X(w, X)
    b = check_bias(b)
    _, A = _forward(w, b, X, resolve_backend(backend))
    return (A > 0.5).astype(np.float64)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5,
          print_cost=False, *, backend=None, gram="auto", callback=None, cost_every=100):
    """Train logistic regression from zeros and predict on both sets.

    Arguments:
        X_train: ``(n_x, m_train)``; Y_train: ``(1, m_train)`` labels in [0, 1].
        X_test: ``(n_x, m_test)``; Y_test: ``(1, m_test)`` labels in [0, 1].
        num_iterations, learning_rate: of gradient descent.
        print_cost: print each recorded cost and both accuracies.
        gram: the training path, as in :func:`optimize`.
        callback: called as ``callback(i, cost)`` at every recorded cost, after the
            line ``print_cost`` prints.
        cost_every: the cost-record interval, as in :func:`optimize`.

    Returns:
        ``{"costs", "Y_prediction_test", "Y_prediction_train", "w", "b",
        "learning_rate", "num_iterations"}``.
    """
    X_train = as_float_array("X_train", X_train)
    X_test = as_float_array("X_test", X_test)
    if X_test.shape[0] != X_train.shape[0]:
        raise ValueError(
            f"X_test must have n_x = X_train.shape[0] = {X_train.shape[0]} rows; "
            f"got shape {X_test.shape}"
        )
    Y_train = as_labels("Y_train", Y_train, X_train.shape[1])
    Y_test = as_labels("Y_test", Y_test, X_test.shape[1])
    check_labels("Y_train", Y_train)
    check_labels("Y_test", Y_test)
    num_iterations = check_nonnegative_int("num_iterations", num_iterations)
    learning_rate = check_learning_rate(learning_rate)
    callback = check_callback(callback)
    backend = resolve_backend(backend)

    w, b = initialize_with_zeros(X_train.shape[0])
    params, _, costs = _optimize(w, b, X_train, Y_train, num_iterations, learning_rate,
                                 print_cost, backend, check_gram(gram), callback,
                                 check_positive_int("cost_every", cost_every))
    w, b = params["w"], params["b"]
    Y_prediction_train = (_forward(w, b, X_train, backend)[1] > 0.5).astype(np.float64)
    Y_prediction_test = (_forward(w, b, X_test, backend)[1] > 0.5).astype(np.float64)
    if print_cost:
        print("train accuracy: {} %".format(100 - np.mean(np.abs(Y_prediction_train - Y_train)) * 100))
        print("test accuracy: {} %".format(100 - np.mean(np.abs(Y_prediction_test - Y_test)) * 100))
    return {
        "costs": costs,
        "Y_prediction_test": Y_prediction_test,
        "Y_prediction_train": Y_prediction_train,
        "w": w,
        "b": b,
        "learning_rate": learning_rate,
        "num_iterations": num_iterations,
    }
