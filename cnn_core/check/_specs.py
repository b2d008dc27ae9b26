"""What the checker knows about each function of the notes, chapter by chapter.

A :class:`Spec` names a function, its parameters as the notes write them, how to draw
its test cases (the course's published case first, then random cases with random
shapes), cnn_core's reference for it, the method of the mistake catalogue
(:class:`~cnn_core.check._mistakes.Course`) that mirrors it, the mistakes to try when
it fails, the arguments it may modify, and, for the backward functions, which outputs
are compared with ``jax.grad``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from cnn_core import activations, deep, logistic, preprocessing, shallow

from ._mistakes import Knobs

__all__ = ["Case", "Spec", "CHAPTERS", "CHAPTER_NAMES"]

CHAPTER_NAMES = ("basics", "logistic", "shallow", "deep")
_N = "numpy"


@dataclass(frozen=True)
class Case:
    """One call: positional ``args``, ``np.random`` seeded with ``seed`` first (if not None)."""

    label: str
    args: tuple
    seed: int | None = None
    consistent: bool = True  # caches come from a forward pass: autodiff applies


@dataclass(frozen=True)
class Spec:
    name: str
    params: tuple
    cases: Callable            # rng -> [Case]
    reference: Callable        # (*args) -> the output due
    mirror: str                # the Course method
    returns: tuple = ()        # names of the returned tuple's items; () for one value
    mistakes: tuple = ()
    may_modify: frozenset = frozenset()
    autodiff: str = ""         # the key of cnn_core.check._autodiff.GRADIENTS
    aliases: tuple = ()
    random: bool = False       # draws from np.random
    required: int | None = None  # the notes' count of arguments without a default
    droppable: int = 0         # trailing arguments a later version of the course dropped
    accepted: tuple = ()       # (Knobs, note): variants passed where the notes' premise fails
    bare_ok: bool = False      # the course's helper may return A alone instead of (A, cache)

    def case_names(self, case):
        return list(self.params[:len(case.args)])


# ---------------------------------------------------------------------------------------
# Drawing inputs.
# ---------------------------------------------------------------------------------------

def _seeded(seed, *shapes):
    """The course's way: ``np.random.seed(seed)`` then ``randn`` of each shape, in order."""
    state = np.random.RandomState(seed)
    return [state.randn(*shape) for shape in shapes]


def _two_sizes(rng, low=2, high=6):
    """Two different sizes, so that a transposed result has the wrong shape."""
    a = int(rng.integers(low, high + 1))
    b = int(rng.choice([n for n in range(low, high + 2) if n != a]))
    return a, b


def _labels(rng, m):
    Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    Y[0, 0], Y[0, -1] = 1.0, 0.0  # both classes present
    return Y


def _probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def _network(rng, dims, scale=0.7):
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = scale * rng.standard_normal((dims[l], dims[l - 1]))
        parameters[f"b{l}"] = 0.2 * rng.standard_normal((dims[l], 1))
    return parameters


def _away_from_kink(rng, shape):
    return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _random_dims(rng, depth):
    dims = [int(rng.integers(2, 7))]
    for _ in range(depth):
        dims.append(int(rng.choice([n for n in range(1, 7) if n != dims[-1]])))
    dims[-1] = 1
    return dims


def _matrix_cases(course):
    def cases(rng):
        out = [Case("the course's example", (np.array(course, dtype=np.float64),))]
        for k in range(3):
            rows, cols = _two_sizes(rng)
            out.append(Case(f"random case {k + 1}, shape ({rows}, {cols})",
                            (rng.standard_normal((rows, cols)) * 2,)))
        return out
    return cases


# -- logistic ---------------------------------------------------------------------------

_LOGISTIC_W = np.array([[1.0], [2.0]])
_LOGISTIC_X = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
_LOGISTIC_Y = np.array([[1.0, 0.0, 1.0]])


def _logistic_random(rng):
    n_x, m = int(rng.integers(2, 6)), int(rng.integers(3, 9))
    return (0.5 * rng.standard_normal((n_x, 1)), float(0.3 * rng.standard_normal()),
            rng.standard_normal((n_x, m)), _labels(rng, m))


def _propagate_cases(rng):
    out = [Case("the course's example (w = [[1], [2]], b = 2)", (_LOGISTIC_W, 2.0, _LOGISTIC_X, _LOGISTIC_Y))]
    out += [Case(f"random case {k + 1}", _logistic_random(rng)) for k in range(3)]
    return out


def _optimize_cases(rng):
    w, b, X, Y = _logistic_random(rng)
    return [Case("the course's example, 100 iterations at 0.009",
                 (_LOGISTIC_W, 2.0, _LOGISTIC_X, _LOGISTIC_Y, 100, 0.009, False)),
            Case("random case, 201 iterations at 0.1", (w, b, X, Y, 201, 0.1, False))]


def _logistic_predict_cases(rng):
    w = np.array([[0.1124579], [0.23106775]])
    X = np.array([[1.0, -1.1, -3.2], [1.2, 2.0, 0.1]])
    out = [Case("the course's example", (w, -0.3, X))]
    out += [Case(f"random case {k + 1}", _logistic_random(rng)[:3]) for k in range(2)]
    w, _, X, _ = _logistic_random(rng)
    out.append(Case("random case 3, a large bias", (0.1 * w, 1.0, X)))
    return out


def _separable(rng, n_x, m):
    X = rng.standard_normal((n_x, m))
    Y = (X[:1] + 0.5 * X[1:2] > 0).astype(np.float64)
    return X, Y


def _model_cases(rng):
    X, Y = _separable(rng, 4, 24)
    X_test, Y_test = _separable(rng, 4, 10)
    return [Case("random data, 300 iterations at 0.05", (X, Y, X_test, Y_test, 300, 0.05, False))]


# -- the one-hidden-layer network -------------------------------------------------------

# The course's fixed parameters for its forward and backward test cases.
_COURSE_W1 = np.array([[-0.00416758, -0.00056267], [-0.02136196, 0.01640271],
                       [-0.01793436, -0.00841747], [0.00502881, -0.01245288]])
_COURSE_W2 = np.array([[-0.01057952, -0.00909008, 0.00551454, 0.02292208]])


def _shallow_course_case():
    X, b1 = _seeded(1, (2, 3), (4, 1))
    return X, {"W1": _COURSE_W1, "b1": b1, "W2": _COURSE_W2, "b2": np.array([[-1.3]])}


def _shallow_random(rng):
    n_x, n_h = _two_sizes(rng)
    m = int(rng.integers(3, 8))
    return rng.standard_normal((n_x, m)), _network(rng, [n_x, n_h, 1]), _labels(rng, m)


def _layer_sizes_cases(rng):
    X, Y = _seeded(1, (5, 3), (2, 3))
    out = [Case("the course's example", (X, Y))]
    for k in range(2):
        n_x, m = _two_sizes(rng)
        out.append(Case(f"random case {k + 1}", (rng.standard_normal((n_x, m)),
                                                 rng.standard_normal((int(rng.integers(1, 4)), m)))))
    return out


def _initialize_parameters_cases(course_args, course_seed):
    def cases(rng):
        out = [Case(f"the course's example, np.random.seed({course_seed})", course_args, course_seed)]
        for k in range(2):
            n_x, n_h = _two_sizes(rng)
            out.append(Case(f"random case {k + 1}, np.random.seed({10 + k})",
                            (n_x, n_h, int(rng.integers(1, 3))), 10 + k))
        return out
    return cases


def _forward_propagation_cases(rng):
    out = [Case("the course's example", _shallow_course_case())]
    for k in range(3):
        X, parameters, _ = _shallow_random(rng)
        out.append(Case(f"random case {k + 1}", (X, parameters)))
    return out


def _shallow_cost_cases(rng):
    Y = (_seeded(1, (1, 3))[0] > 0).astype(np.float64)
    A2 = np.array([[0.5002307, 0.49985831, 0.50023963]])
    out = [Case("the course's example", (A2, Y, {"W1": _COURSE_W1, "W2": _COURSE_W2}))]
    for k in range(3):
        m = int(rng.integers(3, 9))
        out.append(Case(f"random case {k + 1}", (_probabilities(rng, (1, m)), _labels(rng, m),
                                                 _network(rng, [2, 3, 1]))))
    return out


def _backward_propagation_cases(rng):
    X, parameters = _shallow_course_case()
    parameters["b1"] = np.zeros((4, 1))
    parameters["b2"] = np.zeros((1, 1))
    Y = (_seeded(1, (2, 3), (1, 3))[1] > 0).astype(np.float64)
    out = []
    for k, (X, parameters, Y) in enumerate([(X, parameters, Y)] + [_shallow_random(rng) for _ in range(3)]):
        _, cache = shallow.forward_propagation(X, parameters, backend=_N)
        label = "the course's example" if k == 0 else f"random case {k}"
        out.append(Case(label, (parameters, cache, X, Y)))
    return out


def _update_cases(with_default):
    def cases(rng):
        W1, b1, W2, b2 = _seeded(2, (3, 4), (3, 1), (1, 3), (1, 1))
        dW1, db1, dW2, db2 = _seeded(3, (3, 4), (3, 1), (1, 3), (1, 1))
        parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        out = [Case("the course's example" + (" (the default learning rate)" if with_default else
                                              ", learning_rate 0.1"),
                    (parameters, grads) if with_default else (parameters, grads, 0.1))]
        dims = _random_dims(rng, 2 if with_default else 3)  # the notes' shallow update is 2-layer
        parameters = _network(rng, dims)
        grads = {f"d{k}": rng.standard_normal(v.shape) for k, v in parameters.items()}
        out.append(Case(f"random case, layers {dims}, learning_rate 0.05", (parameters, grads, 0.05)))
        return out
    return cases


def _nn_model_cases(rng):
    X, Y = _separable(rng, 2, 40)
    X2, Y2 = _separable(rng, 3, 30)
    return [Case("random data, n_h = 4, 50 iterations, np.random.seed(3)", (X, Y, 4, 50, False), 3),
            Case("random data, n_h = 3, 30 iterations, np.random.seed(5)", (X2, Y2, 3, 30, False), 5)]


def _shallow_predict_cases(rng):
    out = []
    for k in range(3):
        X, parameters, _ = _shallow_random(rng)
        parameters = {key: 3 * value for key, value in parameters.items()}
        out.append(Case(f"random case {k + 1}", (parameters, X)))
    X, parameters, _ = _shallow_random(rng)
    parameters.update(W2=0.1 * parameters["W2"], b2=np.array([[1.0]]))
    out.append(Case("random case 4, a large output bias", (parameters, X)))
    return out


# -- the L-layer network ----------------------------------------------------------------

def _initialize_deep_cases(rng):
    out = [Case("the course's example [5, 4, 3], np.random.seed(3)", ([5, 4, 3],), 3)]
    for k in range(2):
        dims = _random_dims(rng, int(rng.integers(2, 4)))
        out.append(Case(f"random case {k + 1}, {dims}, np.random.seed({20 + k})", (dims,), 20 + k))
    return out


def _layer_random(rng):
    n, n_prev = _two_sizes(rng, 1, 5)
    m = int(rng.integers(2, 7))
    return (rng.standard_normal((n_prev, m)), rng.standard_normal((n, n_prev)),
            rng.standard_normal((n, 1)))


def _linear_forward_cases(rng):
    out = [Case("the course's example", tuple(_seeded(1, (3, 2), (1, 3), (1, 1))))]
    out += [Case(f"random case {k + 1}", _layer_random(rng)) for k in range(3)]
    return out


def _activation_cases(rng):
    out = [Case("Z with an exact 0", (np.array([[-1.5, 0.0, 2.0], [0.3, -0.2, 4.0]]),))]
    for k in range(2):
        rows, cols = _two_sizes(rng, 1, 5)
        out.append(Case(f"random case {k + 1}", (rng.standard_normal((rows, cols)) * 2,)))
    return out


def _linear_activation_forward_cases(rng):
    A_prev, W, b = _seeded(2, (3, 2), (1, 3), (1, 1))
    out = [Case(f"the course's example, {a}", (A_prev, W, b, a)) for a in ("sigmoid", "relu")]
    out += [Case(f"random case {k + 1}, {a}", _layer_random(rng) + (a,))
            for k, a in enumerate(("sigmoid", "relu", "relu"))]
    return out


def _L_model_forward_cases(rng):
    X, W1, b1, W2, b2 = _seeded(1, (4, 2), (3, 4), (3, 1), (1, 3), (1, 1))
    out = [Case("the course's example", (X, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}))]
    for k in range(3):
        dims = _random_dims(rng, k + 2)
        out.append(Case(f"random case {k + 1}, layers {dims}",
                        (rng.standard_normal((dims[0], int(rng.integers(2, 7)))), _network(rng, dims))))
    return out


def _deep_cost_cases(rng):
    out = [Case("the course's example", (np.array([[0.8, 0.9, 0.4]]), np.array([[1.0, 1.0, 1.0]])))]
    for k in range(3):
        m = int(rng.integers(3, 9))
        out.append(Case(f"random case {k + 1}", (_probabilities(rng, (1, m)), _labels(rng, m))))
    return out


def _linear_backward_cases(rng):
    dZ, A, W, b = _seeded(1, (1, 2), (3, 2), (1, 3), (1, 1))
    out = [Case("the course's example", (dZ, (A, W, b)))]
    for k in range(3):
        A_prev, W, b = _layer_random(rng)
        out.append(Case(f"random case {k + 1}",
                        (rng.standard_normal((W.shape[0], A_prev.shape[1])), (A_prev, W, b))))
    return out


def _activation_backward_cases(rng):
    Z = np.array([[-1.5, 0.0, 2.0], [0.3, -0.2, 4.0]])
    out = [Case("Z with an exact 0", (np.array([[0.5, -1.0, 2.0], [-0.7, 1.1, -0.3]]), Z))]
    for k in range(3):
        rows, cols = _two_sizes(rng, 1, 5)
        out.append(Case(f"random case {k + 1}", (rng.standard_normal((rows, cols)),
                                                 _away_from_kink(rng, (rows, cols)))))
    return out


def _off_the_kink(rng):
    """A layer whose pre-activations are all at least 0.05 away from ReLU's kink."""
    while True:
        A_prev, W, b = _layer_random(rng)
        Z = W @ A_prev + b
        if np.abs(Z).min() >= 0.05:
            return A_prev, W, b, Z


def _linear_activation_backward_cases(rng):
    dA, A, W, b, Z = _seeded(2, (1, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    out = [Case(f"the course's example, {a}", (dA, ((A, W, b), Z), a), consistent=False)
           for a in ("sigmoid", "relu")]
    for k, a in enumerate(("sigmoid", "relu", "relu")):
        A_prev, W, b, Z = _off_the_kink(rng)
        out.append(Case(f"random case {k + 1}, {a}",
                        (rng.standard_normal(Z.shape), ((A_prev, W, b), Z), a)))
    return out


def _L_model_backward_cases(rng):
    AL, A1, W1, b1, Z1, A2, W2, b2, Z2 = _seeded(
        3, (1, 2), (4, 2), (3, 4), (3, 1), (3, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    out = [Case("the course's example", (AL, np.array([[1.0, 0.0]]),
                                         (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))), consistent=False)]
    for k in range(3):
        dims = _random_dims(rng, k + 2)
        m = int(rng.integers(3, 8))
        X = rng.standard_normal((dims[0], m))
        AL, caches = deep.L_model_forward(X, _network(rng, dims, 0.5), backend=_N)
        out.append(Case(f"random case {k + 1}, layers {dims}", (AL, _labels(rng, m), caches)))
    return out


def _model_data(rng):
    X, Y = _separable(rng, 5, 30)
    return X, Y


def _two_layer_model_cases(rng):
    X, Y = _model_data(rng)
    return [Case("random data, layers (5, 4, 1), 30 iterations at 0.1", (X, Y, (5, 4, 1), 0.1, 30, False))]


def _L_layer_model_cases(rng):
    X, Y = _model_data(rng)
    return [Case("random data, layers [5, 4, 3, 1], 30 iterations at 0.1",
                 (X, Y, [5, 4, 3, 1], 0.1, 30, False))]


def _deep_predict_cases(rng):
    out = []
    for k in range(2):
        dims = _random_dims(rng, 3)
        m = int(rng.integers(3, 9))
        out.append(Case(f"random case {k + 1}, layers {dims}",
                        (rng.standard_normal((dims[0], m)), _labels(rng, m), _network(rng, dims, 1.5))))
    return out


# ---------------------------------------------------------------------------------------
# The chapters.
# ---------------------------------------------------------------------------------------

_GRADIENT_MISTAKES = ("missing_1_over_m", "doubled_1_over_m", "transposed_product",
                      "bias_keepdims", "bias_axis", "bias_sum_all")
_RELU = ("relu_mask_from_dA", "relu_mask_from_A")
_INIT = ("draw_order", "draw_transposed", "shallow_init_scale")


def _logistic_predict(w, b, X):
    return logistic.predict(w, b, X, backend=_N)


def _deep_predict(X, y, parameters):
    return deep.predict(X, None, parameters, backend=_N)  # y=None: no accuracy line


CHAPTERS = {
    "basics": [
        Spec("sigmoid", ("x",), _matrix_cases([[1.0, 2.0, 3.0]]), activations.sigmoid,
             "sigmoid", mistakes=("sigmoid_sign",)),
        Spec("sigmoid_derivative", ("x",), _matrix_cases([[1.0, 2.0, 3.0]]),
             activations.sigmoid_derivative, "sigmoid_derivative",
             # (the sign of exp(-x) is invisible here: s(-x)(1 - s(-x)) = s(x)(1 - s(x)))
             mistakes=("sigmoid_derivative",), autodiff="sigmoid_derivative"),
        Spec("softmax", ("x",), _matrix_cases([[9, 2, 5, 0, 0], [7, 5, 0, 0, 0]]), activations.softmax,
             "softmax", mistakes=("softmax_axis",)),
        Spec("normalizeRows", ("x",), _matrix_cases([[0, 3, 4], [2, 6, 4]]), preprocessing.normalize_rows,
             "normalizeRows", mistakes=("normalize_axis",), aliases=("normalize_rows",)),
    ],
    "logistic": [
        Spec("sigmoid", ("z",), _matrix_cases([[0.0, 2.0]]), activations.sigmoid, "sigmoid",
             mistakes=("sigmoid_sign",)),
        Spec("initialize_with_zeros", ("dim",),
             lambda rng: [Case("dim = 2", (2,)), Case("dim = 5", (5,)), Case("dim = 1", (1,))],
             logistic.initialize_with_zeros, "initialize_with_zeros", returns=("w", "b")),
        Spec("propagate", ("w", "b", "X", "Y"), _propagate_cases,
             lambda w, b, X, Y: logistic.propagate(w, b, X, Y, backend=_N), "propagate",
             returns=("grads", "cost"),
             mistakes=("missing_1_over_m", "doubled_1_over_m", "transposed_product", "cost_sign",
                       "cost_missing_1_over_m", "sigmoid_sign", "missing_bias"),
             autodiff="propagate"),
        Spec("optimize", ("w", "b", "X", "Y", "num_iterations", "learning_rate", "print_cost"),
             _optimize_cases,
             lambda *a: logistic.optimize(*a, backend=_N), "optimize",
             returns=("params", "grads", "costs"),
             mistakes=("update_sign", "missing_1_over_m", "doubled_1_over_m", "cost_sign",
                       "cost_missing_1_over_m", "sigmoid_sign", "missing_bias")),
        Spec("predict", ("w", "b", "X"), _logistic_predict_cases, _logistic_predict,
             "predict_logistic", returns=(), mistakes=("sigmoid_sign", "missing_bias")),
        Spec("model", ("X_train", "Y_train", "X_test", "Y_test", "num_iterations",
                       "learning_rate", "print_cost"), _model_cases,
             lambda *a: logistic.model(*a, backend=_N), "model",
             mistakes=("update_sign", "missing_1_over_m", "doubled_1_over_m", "sigmoid_sign",
                       "missing_bias", "cost_sign", "cost_missing_1_over_m")),
    ],
    "shallow": [
        Spec("sigmoid", ("x",), _matrix_cases([[0.0, 2.0]]), activations.sigmoid, "sigmoid",
             mistakes=("sigmoid_sign",)),
        Spec("layer_sizes", ("X", "Y"), _layer_sizes_cases, shallow.layer_sizes, "layer_sizes",
             returns=("n_x", "n_h", "n_y")),
        Spec("initialize_parameters", ("n_x", "n_h", "n_y"),
             _initialize_parameters_cases((2, 4, 1), 2), shallow.initialize_parameters,
             "initialize_parameters", mistakes=_INIT, random=True),
        Spec("forward_propagation", ("X", "parameters"), _forward_propagation_cases,
             lambda X, p: shallow.forward_propagation(X, p, backend=_N), "forward_propagation",
             returns=("A2", "cache"), mistakes=("hidden_activation", "missing_bias", "sigmoid_sign")),
        Spec("compute_cost", ("A2", "Y", "parameters"), _shallow_cost_cases,
             lambda A2, Y, p: shallow.compute_cost(A2, Y, p, backend=_N), "compute_cost_shallow",
             mistakes=("cost_sign", "cost_missing_1_over_m"), droppable=1),
        Spec("backward_propagation", ("parameters", "cache", "X", "Y"), _backward_propagation_cases,
             lambda p, c, X, Y: shallow.backward_propagation(p, c, X, Y, backend=_N),
             "backward_propagation", mistakes=_GRADIENT_MISTAKES + ("tanh_derivative",),
             autodiff="backward_propagation"),
        Spec("update_parameters", ("parameters", "grads", "learning_rate"), _update_cases(True),
             lambda p, g, lr=1.2: shallow.update_parameters(dict(p), g, lr),
             "update_parameters_shallow", mistakes=("update_sign",),
             may_modify=frozenset({"parameters"}), required=2),
        Spec("nn_model", ("X", "Y", "n_h", "num_iterations", "print_cost"), _nn_model_cases,
             lambda X, Y, n_h, n, pc: shallow.nn_model(X, Y, n_h, n, pc, backend=_N), "nn_model",
             mistakes=("missing_1_over_m", "doubled_1_over_m", "tanh_derivative", "update_sign",
                       "hidden_activation", "sigmoid_sign", "missing_bias", "bias_sum_all")
             + _INIT, random=True),
        Spec("predict", ("parameters", "X"), _shallow_predict_cases,
             lambda p, X: shallow.predict(p, X, backend=_N), "predict_shallow",
             mistakes=("hidden_activation", "missing_bias", "sigmoid_sign")),
    ],
    "deep": [
        Spec("initialize_parameters", ("n_x", "n_h", "n_y"),
             _initialize_parameters_cases((3, 2, 1), 1), deep.initialize_parameters,
             "initialize_parameters", mistakes=_INIT, random=True),
        Spec("initialize_parameters_deep", ("layer_dims",), _initialize_deep_cases,
             deep.initialize_parameters_deep, "initialize_parameters_deep",
             mistakes=("draw_transposed", "deep_init_scale"), random=True),
        Spec("linear_forward", ("A", "W", "b"), _linear_forward_cases,
             lambda A, W, b: deep.linear_forward(A, W, b, backend=_N), "linear_forward",
             returns=("Z", "cache"), mistakes=("missing_bias",)),
        Spec("sigmoid", ("Z",), _activation_cases, deep.sigmoid, "sigmoid_deep",
             returns=("A", "cache"), mistakes=("sigmoid_sign",), bare_ok=True),
        Spec("relu", ("Z",), _activation_cases, deep.relu, "relu", returns=("A", "cache"),
             bare_ok=True),
        Spec("linear_activation_forward", ("A_prev", "W", "b", "activation"),
             _linear_activation_forward_cases,
             lambda A, W, b, a: deep.linear_activation_forward(A, W, b, a, backend=_N),
             "linear_activation_forward", returns=("A", "cache"),
             mistakes=("missing_bias", "sigmoid_sign")),
        Spec("L_model_forward", ("X", "parameters"), _L_model_forward_cases,
             lambda X, p: deep.L_model_forward(X, p, backend=_N), "L_model_forward",
             returns=("AL", "caches"), mistakes=("missing_bias", "hidden_activation", "sigmoid_sign")),
        Spec("compute_cost", ("AL", "Y"), _deep_cost_cases,
             lambda AL, Y: deep.compute_cost(AL, Y, backend=_N), "compute_cost_deep",
             mistakes=("cost_sign", "cost_missing_1_over_m")),
        Spec("linear_backward", ("dZ", "cache"), _linear_backward_cases,
             lambda dZ, c: deep.linear_backward(dZ, c, backend=_N), "linear_backward",
             returns=("dA_prev", "dW", "db"), mistakes=_GRADIENT_MISTAKES, autodiff="linear_backward"),
        Spec("relu_backward", ("dA", "cache"), _activation_backward_cases,
             lambda dA, Z: deep.relu_backward(dA, Z, backend=_N), "relu_backward",
             returns=("dZ",), mistakes=_RELU, autodiff="relu_backward"),
        Spec("sigmoid_backward", ("dA", "cache"), _activation_backward_cases,
             lambda dA, Z: deep.sigmoid_backward(dA, Z, backend=_N), "sigmoid_backward",
             returns=("dZ",), mistakes=("sigmoid_derivative",), autodiff="sigmoid_backward"),
        Spec("linear_activation_backward", ("dA", "cache", "activation"),
             _linear_activation_backward_cases,
             lambda dA, c, a: deep.linear_activation_backward(dA, c, a, backend=_N),
             "linear_activation_backward", returns=("dA_prev", "dW", "db"),
             mistakes=_GRADIENT_MISTAKES + _RELU + ("sigmoid_derivative",),
             autodiff="linear_activation_backward"),
        Spec("L_model_backward", ("AL", "Y", "caches"), _L_model_backward_cases,
             lambda AL, Y, c: deep.L_model_backward(AL, Y, c, backend=_N), "L_model_backward",
             mistakes=_GRADIENT_MISTAKES + _RELU + ("sigmoid_derivative", "dAL_sign"),
             autodiff="L_model_backward",
             accepted=((Knobs(dZL_shortcut=True),
                        "starts from dZL = AL - Y, the notes' dAL route when AL = sigmoid(ZL); "
                        "the course's example, whose AL is not, is not graded"),)),
        Spec("update_parameters", ("parameters", "grads", "learning_rate"), _update_cases(False),
             lambda p, g, lr: deep.update_parameters(dict(p), g, lr), "update_parameters_deep",
             mistakes=("update_sign",), may_modify=frozenset({"parameters"}), required=3),
        Spec("two_layer_model", ("X", "Y", "layers_dims", "learning_rate", "num_iterations",
                                 "print_cost"), _two_layer_model_cases,
             lambda X, Y, d, lr, n, pc: deep.two_layer_model(X, Y, d, lr, n, pc, backend=_N),
             "two_layer_model",
             mistakes=("missing_1_over_m", "doubled_1_over_m", "update_sign", "dAL_sign",
                       "sigmoid_derivative", "missing_bias", "sigmoid_sign", "bias_sum_all")
             + _RELU + _INIT, random=True),
        Spec("L_layer_model", ("X", "Y", "layers_dims", "learning_rate", "num_iterations",
                               "print_cost"), _L_layer_model_cases,
             lambda X, Y, d, lr, n, pc: deep.L_layer_model(X, Y, d, lr, n, pc, backend=_N),
             "L_layer_model",
             mistakes=("missing_1_over_m", "doubled_1_over_m", "update_sign", "dAL_sign",
                       "sigmoid_derivative", "missing_bias", "sigmoid_sign", "deep_init_scale",
                       "draw_transposed", "bias_sum_all", "hidden_activation") + _RELU,
             random=True),
        Spec("predict", ("X", "y", "parameters"), _deep_predict_cases, _deep_predict, "predict_deep",
             mistakes=("missing_bias", "hidden_activation", "sigmoid_sign")),
    ],
}
