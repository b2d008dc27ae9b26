"""The catalogue of known mistakes: the notes' functions written once with switches.

:class:`Course` implements every function of the notes in plain NumPy; each switch of
:class:`Knobs` turns one formula into a mistake learners make (the ``1/m`` left out,
a product transposed, tanh's derivative taken as ``1 - A``...). With the default
knobs, ``Course`` is the reference, and ``tests/test_check.py`` holds it equal to
cnn_core's functions on every case the checker draws, so that a mistake is always
"the reference with one formula changed".

A learner's output that equals ``Course(mistake.knobs)``'s on every case is diagnosed
as that :class:`Mistake`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["Knobs", "Course", "Mistake", "MISTAKES", "IN_PLACE"]


@dataclass(frozen=True)
class Knobs:
    """One switch per formula that learners get wrong; the defaults are the notes'."""

    grad_m_power: int = 1          # gradients carry (1/m) ** grad_m_power
    cost_m_power: int = 1          # the cost carries (1/m) ** cost_m_power
    cost_sign: int = 1
    transpose_dW: bool = False
    bias_sum: str = "keepdims"     # "keepdims", "no_keepdims", "axis0", "all"
    tanh_slope: str = "1 - A**2"   # or "1 - A"
    sigmoid_slope: str = "s(1 - s)"  # or "s"
    relu_mask: str = "Z"           # "Z", "dA", or "none"
    update_sign: int = -1
    draw_order: str = "layer by layer"  # or "reversed", "transposed"
    deep_scale: str = "1/sqrt(n_prev)"  # or "0.01"
    shallow_scale: float = 0.01
    dAL_sign: int = 1
    exp_sign: int = -1             # the sigmoid's exp(exp_sign * x)
    row_axis: int = 1              # softmax and normalizeRows work along this axis
    hidden: str = ""               # "" for the notes' hidden activation, or "sigmoid"
    add_bias: bool = True
    dZL_shortcut: bool = False     # L_model_backward starts from dZL = AL - Y (not a mistake)


@dataclass(frozen=True)
class Mistake:
    """A named mistake: the switches that make it, and how to say it.

    ``relation`` (optional) says how the affected outputs relate to the reference
    (``"the reference times m"``); ``explanation`` says what was written wrong.
    """

    key: str
    knobs: Knobs
    explanation: str
    relation: str = ""


def _mistake(key, explanation, relation="", **knobs):
    return Mistake(key, Knobs(**knobs), explanation, relation)


MISTAKES = {m.key: m for m in (
    _mistake("missing_1_over_m", "the 1/m is missing", "the reference times m", grad_m_power=0),
    _mistake("doubled_1_over_m", "it is divided by m twice", "the reference divided by m",
             grad_m_power=2),
    _mistake("transposed_product",
             "a product is transposed (the weight gradient is dZ . A_prev.T, of W's shape)",
             "the transpose of the reference", transpose_dW=True),
    _mistake("bias_keepdims",
             "the bias gradient is summed over axis 1 without keepdims=True, so it loses its "
             "column shape", bias_sum="no_keepdims"),
    _mistake("bias_axis",
             "the bias gradient is summed over axis 0 (the units) instead of axis 1 (the examples)",
             bias_sum="axis0"),
    _mistake("bias_sum_all",
             "the bias gradient is summed over every entry (np.sum without axis=1, keepdims=True)",
             bias_sum="all"),
    _mistake("tanh_derivative", "tanh's derivative is taken as 1 - A1 instead of 1 - A1**2",
             tanh_slope="1 - A"),
    _mistake("sigmoid_derivative",
             "the sigmoid's derivative is taken as s instead of s * (1 - s)", sigmoid_slope="s"),
    _mistake("relu_mask_from_dA",
             "the ReLU mask is taken from dA instead of Z (dZ is 0 where Z <= 0)", relu_mask="dA"),
    _mistake("relu_mask_from_A",
             "nothing is masked: a mask taken from A = relu(Z), which is never negative, never "
             "fires; dZ is 0 where Z <= 0", relu_mask="none"),
    _mistake("cost_sign", "the minus in front of the sum is missing",
             "the reference with the opposite sign", cost_sign=-1),
    _mistake("cost_missing_1_over_m", "the sum is not divided by m", "the reference times m",
             cost_m_power=0),
    _mistake("update_sign",
             "the update adds learning_rate * gradient instead of subtracting it", update_sign=1),
    _mistake("draw_order", "np.random draws in another order: W2 is drawn before W1",
             draw_order="reversed"),
    _mistake("draw_transposed",
             "np.random draws in another order: W is drawn as randn(n_prev, n) and transposed "
             "instead of randn(n, n_prev)", draw_order="transposed"),
    _mistake("deep_init_scale", "the weights are scaled by 0.01 instead of 1/sqrt(n_prev)",
             deep_scale="0.01"),
    _mistake("shallow_init_scale", "the weights are not scaled by 0.01", shallow_scale=1.0),
    _mistake("dAL_sign", "dAL has the wrong sign (the notes' dAL is -(Y/AL - (1 - Y)/(1 - AL)))",
             dAL_sign=-1),
    _mistake("sigmoid_sign",
             "the sigmoid is computed as 1/(1 + exp(x)): the minus of exp(-x) is missing",
             exp_sign=1),
    _mistake("softmax_axis",
             "the sum runs down the columns (axis=0) instead of along each row (axis=1)",
             row_axis=0),
    _mistake("normalize_axis",
             "the norm is taken down the columns (axis=0) instead of along each row (axis=1)",
             row_axis=0),
    _mistake("hidden_activation",
             "the hidden layers use sigmoid instead of the notes' activation (tanh in the "
             "one-hidden-layer network, ReLU in the L-layer one)", hidden="sigmoid"),
    _mistake("missing_bias", "b is not added: Z = W . A without + b", add_bias=False),
)}

#: The key reported when a function modifies an argument it should only read.
IN_PLACE = "in_place"


class Course:
    """The notes' functions in plain NumPy, each formula behind a switch of ``knobs``.

    Shapes as in the notes: ``X`` is ``(n_x, m)``, ``W{l}`` ``(n_l, n_{l-1})``, ``b{l}``
    ``(n_l, 1)``, labels ``(1, m)``.
    """

    def __init__(self, knobs=Knobs()):
        self.k = knobs

    # -- shared pieces ------------------------------------------------------------------

    def _sig(self, x):
        return 1 / (1 + np.exp(self.k.exp_sign * x))

    def _per_m(self, value, m):
        return value / m ** self.k.grad_m_power

    def _weight_grad(self, dZ, A_prev, m):
        dW = self._per_m(dZ @ A_prev.T, m)
        return dW.T if self.k.transpose_dW else dW

    def _bias_grad(self, dZ, m):
        mode = self.k.bias_sum
        if mode == "no_keepdims":
            total = np.sum(dZ, axis=1)
        elif mode == "axis0":
            total = np.sum(dZ, axis=0, keepdims=True)
        elif mode == "all":
            total = np.sum(dZ)
        else:
            total = np.sum(dZ, axis=1, keepdims=True)
        return self._per_m(total, m)

    def _cost(self, A, Y):
        m = Y.shape[1]
        total = np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
        return np.squeeze(-self.k.cost_sign * total / m ** self.k.cost_m_power)

    def _linear(self, W, A, b):
        return W @ A + b if self.k.add_bias else W @ A

    def _step(self, parameters, grads, learning_rate):
        L = len(parameters) // 2
        updated = {}
        for l in range(1, L + 1):
            for name in ("W", "b"):
                key = f"{name}{l}"
                updated[key] = parameters[key] + self.k.update_sign * learning_rate * grads["d" + key]
        return updated

    def _draw(self, n, n_prev):
        if self.k.draw_order == "transposed":
            return np.random.randn(n_prev, n).T
        return np.random.randn(n, n_prev)

    # -- basics -------------------------------------------------------------------------

    def sigmoid(self, x):
        return self._sig(x)

    def sigmoid_derivative(self, x):
        s = self._sig(x)
        return s if self.k.sigmoid_slope == "s" else s * (1 - s)

    def softmax(self, x):
        e = np.exp(x)
        return e / np.sum(e, axis=self.k.row_axis, keepdims=True)

    def normalizeRows(self, x):
        return x / np.linalg.norm(x, axis=self.k.row_axis, keepdims=True)

    # -- logistic regression ------------------------------------------------------------

    def initialize_with_zeros(self, dim):
        return np.zeros((dim, 1)), 0.0

    def _logistic_grads(self, w, b, X, Y):
        m = X.shape[1]
        A = self._sig(self._linear(w.T, X, b))
        dZ = A - Y
        dw = self._per_m(X @ dZ.T, m)
        dw = dw.T if self.k.transpose_dW else dw
        db = self._per_m(np.sum(dZ), m)
        return {"dw": dw, "db": db}, self._cost(A, Y)

    def propagate(self, w, b, X, Y):
        return self._logistic_grads(w, b, X, Y)

    def optimize(self, w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
        costs = []
        grads = {"dw": np.zeros_like(w), "db": 0.0}
        for i in range(num_iterations):
            grads, cost = self._logistic_grads(w, b, X, Y)
            w = w + self.k.update_sign * learning_rate * grads["dw"]
            b = b + self.k.update_sign * learning_rate * grads["db"]
            if i % 100 == 0:
                costs.append(cost)
        return {"w": w, "b": b}, grads, costs

    def predict_logistic(self, w, b, X):
        return (self._sig(self._linear(w.T, X, b)) > 0.5).astype(np.float64)

    def model(self, X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5,
              print_cost=False):
        w, b = self.initialize_with_zeros(X_train.shape[0])
        params, _, costs = self.optimize(w, b, X_train, Y_train, num_iterations, learning_rate)
        w, b = params["w"], params["b"]
        return {"costs": costs,
                "Y_prediction_test": self.predict_logistic(w, b, X_test),
                "Y_prediction_train": self.predict_logistic(w, b, X_train),
                "w": w, "b": b, "learning_rate": learning_rate, "num_iterations": num_iterations}

    # -- the one-hidden-layer network ---------------------------------------------------

    def layer_sizes(self, X, Y):
        return (X.shape[0], 4, Y.shape[0])

    def initialize_parameters(self, n_x, n_h, n_y):
        scale = self.k.shallow_scale
        if self.k.draw_order == "reversed":
            W2 = self._draw(n_y, n_h) * scale
            W1 = self._draw(n_h, n_x) * scale
        else:
            W1 = self._draw(n_h, n_x) * scale
            W2 = self._draw(n_y, n_h) * scale
        return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}

    def forward_propagation(self, X, parameters):
        Z1 = self._linear(parameters["W1"], X, parameters["b1"])
        A1 = self._sig(Z1) if self.k.hidden == "sigmoid" else np.tanh(Z1)
        Z2 = self._linear(parameters["W2"], A1, parameters["b2"])
        A2 = self._sig(Z2)
        return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}

    def compute_cost_shallow(self, A2, Y, parameters=None):
        return self._cost(A2, Y)

    def backward_propagation(self, parameters, cache, X, Y):
        m = X.shape[1]
        A1, A2 = cache["A1"], cache["A2"]
        dZ2 = A2 - Y
        dW2, db2 = self._weight_grad(dZ2, A1, m), self._bias_grad(dZ2, m)
        slope = 1 - A1 if self.k.tanh_slope == "1 - A" else 1 - A1 ** 2
        dZ1 = (parameters["W2"].T @ dZ2) * slope
        dW1, db1 = self._weight_grad(dZ1, X, m), self._bias_grad(dZ1, m)
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    def update_parameters_shallow(self, parameters, grads, learning_rate=1.2):
        return self._step(parameters, grads, learning_rate)

    def nn_model(self, X, Y, n_h, num_iterations=10000, print_cost=False):
        n_x, _, n_y = self.layer_sizes(X, Y)
        parameters = self.initialize_parameters(n_x, n_h, n_y)
        for _ in range(num_iterations):
            A2, cache = self.forward_propagation(X, parameters)
            grads = self.backward_propagation(parameters, cache, X, Y)
            parameters = self._step(parameters, grads, 1.2)
        return parameters

    def predict_shallow(self, parameters, X):
        A2, _ = self.forward_propagation(X, parameters)
        return np.where(A2 < 0.5, 0, 1)

    # -- the L-layer network ------------------------------------------------------------

    def initialize_parameters_deep(self, layer_dims):
        parameters = {}
        for l in range(1, len(layer_dims)):
            n, n_prev = layer_dims[l], layer_dims[l - 1]
            scale = 0.01 if self.k.deep_scale == "0.01" else 1 / np.sqrt(n_prev)
            parameters[f"W{l}"] = self._draw(n, n_prev) * scale
            parameters[f"b{l}"] = np.zeros((n, 1))
        return parameters

    def linear_forward(self, A, W, b):
        return self._linear(W, A, b), (A, W, b)

    def sigmoid_deep(self, Z):
        return self._sig(Z), Z

    def relu(self, Z):
        return np.maximum(0, Z), Z

    def _activate(self, Z, activation):
        if activation == "sigmoid" or (activation == "relu" and self.k.hidden == "sigmoid"):
            return self._sig(Z)
        return np.maximum(0, Z)

    def linear_activation_forward(self, A_prev, W, b, activation):
        Z, linear_cache = self.linear_forward(A_prev, W, b)
        return self._activate(Z, activation), (linear_cache, Z)

    def L_model_forward(self, X, parameters):
        caches = []
        A = X
        L = len(parameters) // 2
        for l in range(1, L):
            A, cache = self.linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], "relu")
            caches.append(cache)
        AL, cache = self.linear_activation_forward(A, parameters[f"W{L}"], parameters[f"b{L}"], "sigmoid")
        caches.append(cache)
        return AL, caches

    def compute_cost_deep(self, AL, Y):
        return self._cost(AL, Y)

    def linear_backward(self, dZ, cache):
        A_prev, W, _ = cache
        m = A_prev.shape[1]
        return W.T @ dZ, self._weight_grad(dZ, A_prev, m), self._bias_grad(dZ, m)

    def relu_backward(self, dA, cache):
        dZ = np.array(dA, dtype=np.float64, copy=True)
        if self.k.relu_mask == "Z":
            dZ[cache <= 0] = 0
        elif self.k.relu_mask == "dA":
            dZ[dA <= 0] = 0
        return dZ

    def sigmoid_backward(self, dA, cache):
        s = self._sig(cache)
        return dA * s if self.k.sigmoid_slope == "s" else dA * s * (1 - s)

    def linear_activation_backward(self, dA, cache, activation):
        linear_cache, Z = cache
        if activation == "relu":
            dZ = self.relu_backward(dA, Z)
        else:
            dZ = self.sigmoid_backward(dA, Z)
        return self.linear_backward(dZ, linear_cache)

    def _dAL(self, AL, Y):
        return -self.k.dAL_sign * (np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))

    def L_model_backward(self, AL, Y, caches):
        grads = {}
        L = len(caches)
        Y = Y.reshape(AL.shape)
        dA = self._dAL(AL, Y)
        for l in reversed(range(L)):
            if l == L - 1 and self.k.dZL_shortcut:
                dA, dW, db = self.linear_backward(AL - Y, caches[l][0])
            else:
                activation = "sigmoid" if l == L - 1 else "relu"
                dA, dW, db = self.linear_activation_backward(dA, caches[l], activation)
            grads[f"dA{l + 1}"], grads[f"dW{l + 1}"], grads[f"db{l + 1}"] = dA, dW, db
        return grads

    def update_parameters_deep(self, parameters, grads, learning_rate):
        return self._step(parameters, grads, learning_rate)

    def two_layer_model(self, X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
                        print_cost=False):
        np.random.seed(1)
        parameters = self.initialize_parameters(*layers_dims)
        for _ in range(num_iterations):
            A1, cache1 = self.linear_activation_forward(X, parameters["W1"], parameters["b1"], "relu")
            A2, cache2 = self.linear_activation_forward(A1, parameters["W2"], parameters["b2"], "sigmoid")
            dA1, dW2, db2 = self.linear_activation_backward(self._dAL(A2, Y), cache2, "sigmoid")
            _, dW1, db1 = self.linear_activation_backward(dA1, cache1, "relu")
            grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
            parameters = self._step(parameters, grads, learning_rate)
        return parameters

    def L_layer_model(self, X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
                      print_cost=False):
        np.random.seed(1)
        parameters = self.initialize_parameters_deep(layers_dims)
        for _ in range(num_iterations):
            AL, caches = self.L_model_forward(X, parameters)
            grads = self.L_model_backward(AL, Y, caches)
            parameters = self._step(parameters, grads, learning_rate)
        return parameters

    def predict_deep(self, X, y, parameters):
        AL, _ = self.L_model_forward(X, parameters)
        return (AL > 0.5).astype(np.float64)


def combined(*keys):
    """The knobs of several mistakes at once, or None when two of them set one switch."""
    default = Knobs()
    changes = {}
    for key in keys:
        for name in (f.name for f in dataclasses.fields(Knobs)):
            value = getattr(MISTAKES[key].knobs, name)
            if value != getattr(default, name):
                if name in changes and changes[name] != value:
                    return None
                changes[name] = value
    return dataclasses.replace(default, **changes)
