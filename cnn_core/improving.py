"""The follow-on course, "Improving Deep Neural Networks", on L layers.

The course's exercise functions with their names and argument orders, generalised from
its hard-coded three-layer network ``LINEAR -> RELU -> LINEAR -> RELU -> LINEAR ->
SIGMOID`` to ``[LINEAR -> hidden] * (L-1) -> LINEAR -> output`` for any
``layers_dims = [n_x, n_1, ..., n_L]``:

* initialisations: :func:`initialize_parameters_zeros`, :func:`initialize_parameters_random`
  (``randn * 10``), :func:`initialize_parameters_he` (``randn * sqrt(2 / n_{l-1})``) and
  :func:`initialize_parameters_xavier` (``randn * sqrt(1 / n_{l-1})``), each seeding
  ``np.random`` with 3 as the course does;
* the forward pass with inverted dropout (:func:`forward_propagation`), the costs
  (:func:`compute_cost`, :func:`compute_cost_with_regularization`) and the backward pass
  with L2 and dropout (:func:`backward_propagation`);
* a softmax output layer for K classes, with labels given as integers ``(1, m)`` or
  one-hot ``(K, m)`` (:func:`one_hot`);
* mini-batches (:func:`random_mini_batches`), the optimizers
  (:func:`update_parameters_with_gd`, :func:`initialize_velocity`,
  :func:`update_parameters_with_momentum`, :func:`initialize_adam`,
  :func:`update_parameters_with_adam`) and learning-rate decay (:func:`update_lr`,
  :func:`schedule_lr_decay`);
* gradient checking (:func:`dictionary_to_vector`, :func:`vector_to_dictionary`,
  :func:`gradients_to_vector`, :func:`gradient_check_n`);
* :func:`predict` and the training loop :func:`model`.

Shapes: columns are examples. ``X`` is ``(n_x, m)``, ``W{l}`` ``(n_l, n_{l-1})``,
``b{l}`` ``(n_l, 1)``, ``Z``/``A`` of layer l ``(n_l, m)``, ``AL`` ``(n_L, m)`` with
``n_L = 1`` for a sigmoid output and ``n_L = K >= 2`` for a softmax output.

A layer's cache is the triple ``((A_prev, W, b), Z, D)``: the linear cache of
:mod:`cnn_core.deep`, the pre-activation ``Z`` ``(n_l, m)``, and ``D``, the boolean
dropout mask ``(n_l, m)`` applied to the layer's output (None for the output layer and
whenever ``keep_prob == 1``). ``A_prev`` is the input the layer actually saw, i.e. the
previous layer's output after dropout.

Gradients are keyed as in :func:`cnn_core.deep.L_model_backward`: ``dW{l}``/``db{l}``
belong to layer l, and ``dA{l}`` is the gradient the backward pass of layer l hands
down, i.e. with respect to layer l's input ``A^{[l-1]}`` as the layer saw it (after
dropout; ``dA1`` is the gradient with respect to X). The course's three-layer notebooks
number them differently (their ``dA2`` is this module's ``dA3``).

The layer products and activations run through ``cnn_core._ops``, so both backends
("numpy" and "cython", keyword ``backend``) run; the softmax, the categorical cost, the
dropout masks and the optimizer updates are NumPy on both. Randomness comes from NumPy's
global generator in the course's order, so ``np.random.seed`` reproduces its draws.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.special import xlogy

from cnn_core import _ops
from cnn_core._backend import resolve_backend
from cnn_core._validation import (
    check_beta,
    check_callback,
    check_choice,
    check_gram,
    check_keep_prob,
    check_lambd,
    check_nonnegative_real,
    check_positive_real,
    as_float_array,
    as_labels,
    check_labels,
    check_layer_dims,
    check_learning_rate,
    check_linear_cache,
    check_nonnegative_int,
    check_parameters,
    check_positive_int,
    check_probabilities,
    check_softmax_targets,
    check_shape,
    check_update,
)
from cnn_core.activations import check_activation
from cnn_core.training import make_epoch_trainer, use_gram_epochs

__all__ = [
    "initialize_parameters_zeros",
    "initialize_parameters_random",
    "initialize_parameters_he",
    "initialize_parameters_xavier",
    "one_hot",
    "forward_propagation",
    "compute_cost",
    "compute_cost_with_regularization",
    "backward_propagation",
    "update_parameters_with_gd",
    "initialize_velocity",
    "update_parameters_with_momentum",
    "initialize_adam",
    "update_parameters_with_adam",
    "update_lr",
    "schedule_lr_decay",
    "random_mini_batches",
    "dictionary_to_vector",
    "vector_to_dictionary",
    "gradients_to_vector",
    "gradient_check_n",
    "predict",
    "model",
]

OUTPUTS = ("sigmoid", "softmax")
OPTIMIZERS = ("gd", "momentum", "adam")
INITIALIZATIONS = ("zeros", "random", "he", "xavier")


# ---------------------------------------------------------------------------------------
# Argument checks of this module
# ---------------------------------------------------------------------------------------

def _check_output_layer(parameters, L, output):
    """The output layer's width must suit ``output``: 1 for sigmoid, K >= 2 for softmax."""
    n_L = parameters[f"W{L}"].shape[0]
    if output == "sigmoid" and n_L != 1:
        raise ValueError(f"parameters['W{L}'] must have 1 row for output='sigmoid'; got "
                         f"{n_L} rows (use output='softmax' for {n_L} classes)")
    if output == "softmax" and n_L < 2:
        raise ValueError(f"parameters['W{L}'] must have K >= 2 rows (one per class) for "
                         f"output='softmax'; got {n_L}")
    return n_L


def _integer_labels(name, Y, K):
    """Integer class labels ``(1, m)`` or ``(m,)`` in 0..K-1 as an int64 ``(m,)`` vector."""
    arr = np.asarray(Y)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must hold integer labels of shape (1, m) or (m,); "
                         f"got shape {np.shape(Y)}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all() or (arr != np.round(arr)).any():
            bad = int(np.argwhere(~finite | (arr != np.round(np.where(finite, arr, 0))))[0, 0])
            raise ValueError(f"{name} must hold integer class labels in 0..{K - 1}; "
                             f"found {arr[bad]} at index {bad}")
    out_of_range = (arr < 0) | (arr > K - 1)
    if out_of_range.any():
        bad = int(np.argwhere(out_of_range)[0, 0])
        raise ValueError(f"{name} must hold class labels in 0..{K - 1} (K = {K} classes); "
                         f"found {arr[bad]} at index {bad}")
    return arr.astype(np.int64)


def _categorical_targets(name, Y, K, m, dtype=np.float64):
    """Softmax targets as a ``(K, m)`` array: from integer labels ``(1, m)``/``(m,)`` or
    from label distributions ``(K, m)`` (one-hot, or entries in [0, 1] whose columns sum
    to 1: ``dZ = A - Y`` is the cost's gradient only then)."""
    shape = np.shape(Y)
    if len(shape) == 1 or (len(shape) == 2 and shape[0] == 1):
        labels = _integer_labels(name, Y, K)
        if labels.shape[0] != m:
            raise ValueError(f"{name} must have m = {m} labels; got shape {shape}")
        return one_hot(labels, K, dtype=dtype)
    Y = as_float_array(name, Y)
    if Y.shape != (K, m):
        raise ValueError(f"{name} must be integer labels (1, m) = (1, {m}) or one-hot "
                         f"(K, m) = ({K}, {m}); got {Y.shape}")
    check_softmax_targets(Y, name)
    return Y.astype(dtype, copy=False)


def _targets(name, Y, output, K, m, dtype=np.float64):
    """The targets of either output as a float ``(n_L, m)`` array of ``dtype``."""
    if output == "sigmoid":
        Y = as_labels(name, Y, m)
        check_labels(name, Y)
        return Y.astype(dtype, copy=False)
    return _categorical_targets(name, Y, K, m, dtype)


# ---------------------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------------------

def _initialize(layers_dims, scale):
    """``np.random.seed(3)``, then per layer ``W{l} = randn(n_l, n_{l-1}) * scale(n_{l-1})``
    and ``b{l} = 0``: one draw per layer, layer by layer, none for the biases."""
    dims = check_layer_dims(layers_dims, "layers_dims")
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = np.random.randn(dims[l], dims[l - 1]) * scale(dims[l - 1])
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


def initialize_parameters_zeros(layers_dims):
    """All weights and biases zero (the course's counter-example: no symmetry breaking).

    Arguments:
        layers_dims: ``[n_x, n_1, ..., n_L]``, positive integers (at least two).

    Returns:
        ``{"W1": (n_1, n_x), "b1": (n_1, 1), ..., "WL": (n_L, n_{L-1}), "bL": (n_L, 1)}``,
        all float64 zeros. Draws nothing.
    """
    dims = check_layer_dims(layers_dims, "layers_dims")
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = np.zeros((dims[l], dims[l - 1]))
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


def initialize_parameters_random(layers_dims):
    """Large random weights ``randn(n_l, n_{l-1}) * 10`` and zero biases.

    Seeds ``np.random`` with 3 first, as the course does, then draws W1, W2, ... in
    layer order. Returns the dict of :func:`initialize_parameters_zeros`' shapes.
    """
    return _initialize(layers_dims, lambda n_prev: 10)


def initialize_parameters_he(layers_dims):
    """He initialisation ``randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1})``, zero biases.

    Seeds ``np.random`` with 3 first, as the course does. Suited to ReLU layers: it keeps
    the variance of the activations roughly constant from layer to layer.
    """
    return _initialize(layers_dims, lambda n_prev: np.sqrt(2.0 / n_prev))


def initialize_parameters_xavier(layers_dims):
    """Xavier (Glorot) initialisation ``randn(n_l, n_{l-1}) * sqrt(1 / n_{l-1})``.

    The form the course mentions for tanh layers (fan-in only). Seeds ``np.random``
    with 3 first; zero biases.
    """
    return _initialize(layers_dims, lambda n_prev: np.sqrt(1.0 / n_prev))


# ---------------------------------------------------------------------------------------
# Labels and the softmax
# ---------------------------------------------------------------------------------------

def one_hot(Y, K, *, dtype=np.float64):
    """One-hot encoding of integer class labels.

    Arguments:
        Y: integer labels ``(1, m)`` or ``(m,)``, each in 0..K-1 (floats holding whole
            numbers are accepted).
        K: the number of classes, a positive integer.
        dtype: of the result.

    Returns:
        ``(K, m)`` with ``out[Y[j], j] = 1`` and zeros elsewhere (the course's
        ``convert_to_one_hot``). ValueError naming ``Y`` for a label out of range or not
        a whole number.
    """
    K = check_positive_int("K", K)
    labels = _integer_labels("Y", Y, K)
    out = np.zeros((K, labels.shape[0]), dtype=dtype)
    out[labels, np.arange(labels.shape[0])] = 1
    return out


# ---------------------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------------------

def _forward(X, parameters, L, keep_prob, output, hidden, backend):
    """The forward pass on checked arguments; see :func:`forward_propagation`."""
    return _ops.forward_layers(X, parameters, L, hidden, backend, output=output,
                               keep_prob=keep_prob)


def forward_propagation(X, parameters, *, keep_prob=1.0, output="sigmoid", hidden="relu",
                        seed=None, backend=None):
    """Forward pass of ``[LINEAR -> hidden] * (L-1) -> LINEAR -> output``, with dropout.

    Arguments:
        X: ``(n_x, m)``.
        parameters: ``{"W1", "b1", ..., "WL", "bL"}``; ``WL`` has 1 row for
            ``output="sigmoid"``, K >= 2 rows (one per class) for ``output="softmax"``.
        keep_prob: in (0, 1]. Below 1, inverted dropout on every hidden layer (never on
            the input nor on the output): for l = 1..L-1 in order,
            ``D = np.random.rand(*A.shape) < keep_prob`` then ``A = A * D / keep_prob``.
            At 1 nothing is drawn.
        output: ``"sigmoid"`` (one unit, binary) or ``"softmax"`` (over each column's K
            rows, computed stably).
        hidden: the hidden activation, ``"relu"`` (the course's), ``"tanh"`` or
            ``"sigmoid"``.
        seed: None (the default) draws the masks from ``np.random`` as it stands. An
            integer seeds ``np.random`` with it first: ``seed=1`` is the course's
            ``forward_propagation_with_dropout``, which calls ``np.random.seed(1)``
            inside (and so draws the same masks at every call).

    Returns:
        ``AL`` ``(n_L, m)``, the output probabilities, and ``caches``, the list of the L
        layer caches ``((A_prev, W, b), Z, D)`` (see the module docstring; ``D`` is the
        boolean mask ``(n_l, m)`` of hidden layer l, else None).
    """
    X = as_float_array("X", X)
    checked, L = check_parameters(parameters, X.shape[0])
    output = check_choice("output", output, OUTPUTS)
    _check_output_layer(checked, L, output)
    check_activation(hidden, name="hidden")
    keep_prob = check_keep_prob(keep_prob)
    backend = resolve_backend(backend)
    if seed is not None:
        np.random.seed(check_nonnegative_int("seed", seed))
    return _forward(X, checked, L, keep_prob, output, hidden, backend)


# ---------------------------------------------------------------------------------------
# Costs
# ---------------------------------------------------------------------------------------

def _cost(AL, Y, output, ZL, backend):
    """The mean cross-entropy on checked float arrays; Y is ``(n_L, m)``. A Python float."""
    m = AL.shape[1]
    if output == "sigmoid":
        if ZL is not None:
            return _ops.cross_entropy_with_logits(ZL, Y, backend)
        return _ops.cross_entropy(AL, Y, backend)
    if ZL is not None:
        return _ops.softmax_cross_entropy_with_logits(ZL, Y)
    tiny = np.finfo(AL.dtype).tiny
    return float(-np.sum(xlogy(Y.astype(np.float64),
                               np.clip(AL, tiny, 1).astype(np.float64))) / m)


def _check_cost_args(AL, Y, output, ZL):
    output = check_choice("output", output, OUTPUTS)
    AL = check_probabilities("AL", AL)
    n_L, m = AL.shape
    if output == "sigmoid":
        check_shape("AL", AL, (1, m), "(1, m)")
    elif n_L < 2:
        raise ValueError(f"AL must have K >= 2 rows (one per class) for output='softmax'; "
                         f"got shape {AL.shape}")
    Y = _targets("Y", Y, output, n_L, m, dtype=AL.dtype)
    if ZL is not None:
        ZL = as_float_array("ZL", ZL)
        check_shape("ZL", ZL, AL.shape, "AL.shape")
    return AL, Y, output, ZL


def compute_cost(AL, Y, *, output="sigmoid", ZL=None, backend=None):
    """The mean cross-entropy of the output.

    * ``output="sigmoid"``: ``-(1/m) sum(Y log AL + (1 - Y) log(1 - AL))``, with AL and
      Y ``(1, m)`` (Y may hold soft labels in [0, 1]).
    * ``output="softmax"``: ``-(1/m) sum over classes and examples of Y log AL``, with AL
      ``(K, m)`` and Y either one-hot ``(K, m)`` (or soft, in [0, 1]) or integer labels
      ``(1, m)``/``(m,)`` in 0..K-1 (converted by :func:`one_hot`; the two forms give
      the same cost).

    Arguments:
        AL: the output probabilities of :func:`forward_propagation`, ``(n_L, m)``.
        Y: the labels, as above.
        output: ``"sigmoid"`` or ``"softmax"``.
        ZL: optional, the output layer's logits ``(n_L, m)`` (``caches[-1][1]``). When
            given, the cost is computed from them: ``max(z, 0) - y z + log1p(exp(-|z|))``
            for the sigmoid and the log-softmax ``z - max z - log sum exp(z - max z)``
            for the softmax, exact and finite for any finite logits. AL is then only
            checked for its shape. Without ZL, AL is clipped to ``[tiny, 1 - eps/2]`` (of
            its dtype) so that a saturated wrong prediction gives a large finite cost
            rather than inf.

    Returns:
        The cost as a 0-d NumPy float of AL's dtype (``cost.shape == ()``).
    """
    AL, Y, output, ZL = _check_cost_args(AL, Y, output, ZL)
    return AL.dtype.type(_cost(AL, Y, output, ZL, resolve_backend(backend)))


def _l2_sum(parameters, L):
    return sum(float(np.sum(np.square(parameters[f"W{l}"], dtype=np.float64)))
               for l in range(1, L + 1))


def compute_cost_with_regularization(AL, Y, parameters, lambd, *, output="sigmoid", ZL=None,
                                     backend=None):
    """The cross-entropy plus the L2 term ``lambd / (2 m) * sum_l ||W{l}||_F^2``.

    Arguments:
        AL, Y, output, ZL: as in :func:`compute_cost` (m is AL's number of columns).
        parameters: ``{"W1", "b1", ..., "WL", "bL"}`` (the biases are not penalised);
            ``WL`` must have AL's number of rows.
        lambd: the regularisation strength, >= 0.

    Returns:
        The regularised cost, a 0-d NumPy float of AL's dtype.
    """
    AL, Y, output, ZL = _check_cost_args(AL, Y, output, ZL)
    lambd = check_lambd(lambd)
    checked, L = check_parameters(parameters, None)
    check_shape(f"parameters['W{L}']", checked[f"W{L}"],
                (AL.shape[0], checked[f"W{L}"].shape[1]), "(n_L, n_{L-1}) with n_L = AL.shape[0]")
    m = AL.shape[1]
    cost = _cost(AL, Y, output, ZL, resolve_backend(backend))
    return AL.dtype.type(cost + lambd / (2 * m) * _l2_sum(checked, L))


# ---------------------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------------------

def _backward(AL, Y, caches, lambd, keep_prob, hidden, backend, need_dA0=True):
    """The backward pass on checked arguments; see :func:`backward_propagation`.
    ``need_dA0=False`` skips ``dA1``, the gradient w.r.t. X, which training never uses."""
    return _ops.backward_layers(AL - Y, caches, hidden, backend, need_dA0, lambd=lambd,
                                keep_prob=keep_prob)


def _check_caches(caches, m, n_L, keep_prob):
    """The L layer caches ``((A_prev, W, b), Z, D)`` of :func:`forward_propagation`."""
    if not isinstance(caches, (list, tuple)) or len(caches) == 0:
        raise ValueError("caches must be the non-empty list returned by forward_propagation")
    checked = []
    n_prev = None
    L = len(caches)
    for l, cache in enumerate(caches):
        try:
            linear_cache, Z, D = cache
        except (TypeError, ValueError):
            raise ValueError(f"caches[{l}] must be a layer cache ((A_prev, W, b), Z, D) from "
                             "forward_propagation") from None
        A_prev, W, b = check_linear_cache(linear_cache, f"caches[{l}][0]")
        check_shape(f"caches[{l}][0] (A_prev)", A_prev, (A_prev.shape[0], m), "(n_prev, m)")
        if n_prev is not None and A_prev.shape[0] != n_prev:
            raise ValueError(f"caches[{l}] takes {A_prev.shape[0]} inputs but layer {l} has "
                             f"{n_prev} units")
        Z = as_float_array(f"caches[{l}][1] (Z)", Z)
        check_shape(f"caches[{l}][1] (Z)", Z, (W.shape[0], m), "(n, m)")
        if D is not None:
            if l == L - 1:
                raise ValueError("caches[-1] (the output layer) must hold no dropout mask")
            D = np.asarray(D)
            check_shape(f"caches[{l}][2] (D)", D, Z.shape, "(n, m)")
            if keep_prob == 1:
                raise ValueError(f"caches[{l}] holds a dropout mask but keep_prob is 1: pass "
                                 "backward_propagation the keep_prob of the forward pass")
        elif keep_prob < 1 and l < L - 1:
            raise ValueError(f"keep_prob is {keep_prob} but caches[{l}] holds no dropout mask: "
                             "pass backward_propagation the keep_prob of the forward pass")
        checked.append(((A_prev, W, b), Z, D))
        n_prev = W.shape[0]
    if n_prev != n_L:
        raise ValueError(f"the last cache has {n_prev} units but AL has {n_L} rows")
    return checked


def backward_propagation(AL, Y, caches, *, lambd=0.0, keep_prob=1.0, output="sigmoid",
                         hidden="relu", backend=None):
    """Backward pass of :func:`forward_propagation`, with L2 and dropout.

    Arguments:
        AL: the output of :func:`forward_propagation`, ``(n_L, m)``.
        Y: the labels, as in :func:`compute_cost` (for the softmax, integer labels or
            one-hot).
        caches: the caches of that forward pass.
        lambd: the L2 strength (>= 0): ``dW{l}`` gains ``lambd / m * W{l}``, the gradient
            of :func:`compute_cost_with_regularization`'s term.
        keep_prob: the forward pass's keep probability. Below 1 the caches must hold the
            masks, and each hidden layer's gradient is masked and scaled as its output
            was: ``dA = dA * D / keep_prob``. (Only whether it is below 1 can be checked
            against the caches; pass the forward pass's value.)
        output: ``"sigmoid"`` or ``"softmax"``: for both, with the cross-entropy of
            :func:`compute_cost`, the output layer's ``dZL = AL - Y`` (the softmax's
            Jacobian collapses to it), computed without dividing by AL.
        hidden: the hidden activation of the forward pass.

    Returns:
        ``grads`` with ``"dW{l}"`` ``(n_l, n_{l-1})``, ``"db{l}"`` ``(n_l, 1)`` and
        ``"dA{l}"`` ``(n_{l-1}, m)`` for l = 1..L; ``dA{l}`` follows
        :func:`cnn_core.deep.L_model_backward`: the gradient with respect to layer l's
        input (``A^{[l-1]}`` after dropout; ``dA1`` is with respect to X). The gradients
        are those of the mean cost over the m columns.
    """
    output = check_choice("output", output, OUTPUTS)
    check_activation(hidden, name="hidden")
    lambd = check_lambd(lambd)
    keep_prob = check_keep_prob(keep_prob)
    AL = as_float_array("AL", AL)
    n_L, m = AL.shape
    if output == "sigmoid" and n_L != 1:
        check_shape("AL", AL, (1, m), "(1, m)")
    if output == "softmax" and n_L < 2:
        raise ValueError(f"AL must have K >= 2 rows for output='softmax'; got {AL.shape}")
    Y = _targets("Y", Y, output, n_L, m, dtype=AL.dtype)
    checked = _check_caches(caches, m, n_L, keep_prob)
    return _backward(AL, Y, checked, lambd, keep_prob, hidden, resolve_backend(backend))


# ---------------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------------

def update_parameters_with_gd(parameters, grads, learning_rate):
    """One gradient descent step: ``W{l} - lr * dW{l}``, ``b{l} - lr * db{l}``.

    Arguments:
        parameters: ``{"W1", "b1", ..., "WL", "bL"}``.
        grads: with ``"dW{l}"``/``"db{l}"`` of the parameters' shapes (other keys, such
            as ``"dA{l}"``, are ignored).
        learning_rate: a positive float.

    Returns:
        A new dict of new arrays; neither ``parameters`` nor its arrays are modified.
    """
    learning_rate = check_learning_rate(learning_rate)
    return _ops.gradient_step(*check_update(parameters, grads), learning_rate)


def _zeros_like_grads(parameters):
    checked, L = check_parameters(parameters, None)
    return {f"d{key}": np.zeros_like(value) for key, value in checked.items()}


def initialize_velocity(parameters):
    """The momentum's velocity: zeros shaped like the parameters.

    Returns:
        ``v`` with ``"dW{l}"`` ``(n_l, n_{l-1})`` and ``"db{l}"`` ``(n_l, 1)``, zeros, for
        l = 1..L (the course's keys).
    """
    return _zeros_like_grads(parameters)


def _check_state(name, state, parameters):
    """An optimizer state dict (``v`` or ``s``) with ``d{key}`` of each parameter's shape."""
    if not isinstance(state, dict):
        raise TypeError(f"{name} must be a dict of dW1, db1, ...; got {type(state).__name__}")
    checked = {}
    for key, value in parameters.items():
        if f"d{key}" not in state:
            raise ValueError(f"{name} lacks 'd{key}'; got keys {sorted(state)}")
        arr = as_float_array(f"{name}['d{key}']", state[f"d{key}"])
        check_shape(f"{name}['d{key}']", arr, value.shape, f"parameters['{key}'].shape")
        checked[key] = arr
    return checked


def _momentum_step(parameters, gradients, v, beta, learning_rate):
    """Momentum on dicts keyed by parameter name; returns new (parameters, v) keyed so."""
    new_v = {key: beta * v[key] + (1 - beta) * gradients[key] for key in parameters}
    new_parameters = {key: parameters[key] - learning_rate * new_v[key] for key in parameters}
    return new_parameters, new_v


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    """One step of gradient descent with momentum.

    For each parameter ``W`` (and likewise ``b``):
    ``v["dW"] = beta * v["dW"] + (1 - beta) * dW``, then ``W = W - lr * v["dW"]``.

    Arguments:
        parameters: ``{"W1", "b1", ..., "WL", "bL"}``.
        grads: ``{"dW1", "db1", ...}`` of the parameters' shapes.
        v: the velocity of :func:`initialize_velocity` (or of the previous step).
        beta: the momentum, in [0, 1) (0 is plain gradient descent).
        learning_rate: a positive float.

    Returns:
        ``(parameters, v)``, new dicts of new arrays (the arguments are not modified).
    """
    checked, gradients = check_update(parameters, grads)
    state = _check_state("v", v, checked)
    beta = check_beta("beta", beta)
    learning_rate = check_learning_rate(learning_rate)
    new_parameters, new_v = _momentum_step(checked, gradients, state, beta, learning_rate)
    return new_parameters, {f"d{key}": value for key, value in new_v.items()}


def initialize_adam(parameters):
    """Adam's two moving averages, zeros shaped like the parameters.

    Returns:
        ``(v, s)``, each with ``"dW{l}"`` and ``"db{l}"`` zeros for l = 1..L: ``v`` the
        average of the gradients, ``s`` of their squares.
    """
    return _zeros_like_grads(parameters), _zeros_like_grads(parameters)


def _adam_step(parameters, gradients, v, s, t, learning_rate, beta1, beta2, epsilon):
    """Adam on dicts keyed by parameter name; returns new dicts keyed so."""
    new_v, new_s, v_corrected, s_corrected, new_parameters = {}, {}, {}, {}, {}
    correction1 = 1 - beta1 ** t
    correction2 = 1 - beta2 ** t
    for key in parameters:
        g = gradients[key]
        new_v[key] = beta1 * v[key] + (1 - beta1) * g
        v_corrected[key] = new_v[key] / correction1
        new_s[key] = beta2 * s[key] + (1 - beta2) * np.square(g)
        s_corrected[key] = new_s[key] / correction2
        new_parameters[key] = parameters[key] - learning_rate * v_corrected[key] / (
            np.sqrt(s_corrected[key]) + epsilon)
    return new_parameters, new_v, new_s, v_corrected, s_corrected


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9,
                                beta2=0.999, epsilon=1e-8):
    """One Adam step, bias-corrected.

    For each parameter ``W`` (and likewise ``b``), with ``g = dW``:

    * ``v["dW"] = beta1 * v["dW"] + (1 - beta1) * g``, ``v_corrected = v / (1 - beta1**t)``;
    * ``s["dW"] = beta2 * s["dW"] + (1 - beta2) * g**2``, ``s_corrected = s / (1 - beta2**t)``;
    * ``W = W - lr * v_corrected / (sqrt(s_corrected) + epsilon)``.

    Arguments:
        parameters, grads: as in :func:`update_parameters_with_gd`.
        v, s: the moving averages of :func:`initialize_adam` (or of the previous step).
        t: the number of Adam steps taken so far, this one included (1 at the first);
            :func:`model` counts one per mini-batch, as the course does.
        learning_rate: a positive float.
        beta1, beta2: the averages' coefficients, in [0, 1).
        epsilon: > 0, keeps the division finite.

    Returns:
        ``(parameters, v, s, v_corrected, s_corrected)``, new dicts of new arrays, the
        last four keyed ``"dW{l}"``/``"db{l}"`` (the arguments are not modified).
    """
    checked, gradients = check_update(parameters, grads)
    v_state = _check_state("v", v, checked)
    s_state = _check_state("s", s, checked)
    t = check_positive_int("t", t)
    learning_rate = check_learning_rate(learning_rate)
    beta1 = check_beta("beta1", beta1)
    beta2 = check_beta("beta2", beta2)
    epsilon = check_positive_real("epsilon", epsilon)
    new_parameters, *states = _adam_step(checked, gradients, v_state, s_state, t,
                                         learning_rate, beta1, beta2, epsilon)
    return (new_parameters,) + tuple({f"d{k}": a for k, a in d.items()} for d in states)


def update_lr(learning_rate0, epoch_num, decay_rate):
    """Inverse-time decay: ``learning_rate0 / (1 + decay_rate * epoch_num)``.

    Arguments: ``learning_rate0`` > 0, ``epoch_num`` an integer >= 0, ``decay_rate`` >= 0.
    Returns the learning rate, a float.
    """
    learning_rate0 = check_learning_rate(learning_rate0)
    epoch_num = check_nonnegative_int("epoch_num", epoch_num)
    decay_rate = check_nonnegative_real("decay_rate", decay_rate)
    return learning_rate0 / (1 + decay_rate * epoch_num)


def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    """Inverse-time decay by steps:
    ``learning_rate0 / (1 + decay_rate * floor(epoch_num / time_interval))``.

    The rate drops only every ``time_interval`` epochs (a positive integer). Returns a
    float.
    """
    learning_rate0 = check_learning_rate(learning_rate0)
    epoch_num = check_nonnegative_int("epoch_num", epoch_num)
    decay_rate = check_nonnegative_real("decay_rate", decay_rate)
    time_interval = check_positive_int("time_interval", time_interval)
    return learning_rate0 / (1 + decay_rate * math.floor(epoch_num / time_interval))


# ---------------------------------------------------------------------------------------
# Mini-batches
# ---------------------------------------------------------------------------------------

def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """Shuffle the columns and cut them into mini-batches, as the course does.

    ``np.random.seed(seed)``, ``permutation = list(np.random.permutation(m))``, the
    columns of X and Y taken in that order, then ``floor(m / mini_batch_size)`` full
    batches and, if m is not a multiple of the size, one last batch of the remainder.

    Arguments:
        X: ``(n_x, m)``.
        Y: ``(n_y, m)`` (labels ``(1, m)``, or one-hot ``(K, m)``); a 1-D ``(m,)`` is one
            row.
        mini_batch_size: a positive integer.
        seed: a non-negative integer.

    Returns:
        The list of ``(mini_batch_X (n_x, size), mini_batch_Y (n_y, size))``, views into
        one shuffled copy of X and of Y.
    """
    X = as_float_array("X", X)
    m = X.shape[1]
    Y = as_labels("Y", Y, m, n_rows=None)
    mini_batch_size = check_positive_int("mini_batch_size", mini_batch_size)
    np.random.seed(check_nonnegative_int("seed", seed))
    permutation = list(np.random.permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation]
    num_complete = math.floor(m / mini_batch_size)
    mini_batches = []
    for k in range(num_complete):
        cols = slice(k * mini_batch_size, (k + 1) * mini_batch_size)
        mini_batches.append((shuffled_X[:, cols], shuffled_Y[:, cols]))
    if m % mini_batch_size != 0:
        cols = slice(num_complete * mini_batch_size, m)
        mini_batches.append((shuffled_X[:, cols], shuffled_Y[:, cols]))
    return mini_batches


# ---------------------------------------------------------------------------------------
# Gradient checking
# ---------------------------------------------------------------------------------------

def dictionary_to_vector(parameters):
    """The parameters stacked into one column, in the order W1, b1, W2, b2, ..., WL, bL.

    Each array is flattened in C order (row by row). Returns ``(theta, keys)``:
    ``theta`` ``(n, 1)`` with n the number of parameters, and ``keys`` the list of n
    names, the name of the array each entry came from (as the course returns it).
    """
    checked, L = check_parameters(parameters, None)
    pieces, keys = [], []
    for l in range(1, L + 1):
        for key in (f"W{l}", f"b{l}"):
            flat = checked[key].reshape(-1, 1)
            pieces.append(flat)
            keys += [key] * flat.shape[0]
    return np.concatenate(pieces, axis=0), keys


def _parameter_shapes(shapes_like):
    """``[(key, shape), ...]`` in the order W1, b1, ... from a parameters dict or from
    ``layers_dims``."""
    if isinstance(shapes_like, dict):
        checked, L = check_parameters(shapes_like, None, name="shapes_like")
        return [(key, checked[key].shape) for l in range(1, L + 1)
                for key in (f"W{l}", f"b{l}")]
    dims = check_layer_dims(shapes_like, "shapes_like")
    return [(key, shape) for l in range(1, len(dims))
            for key, shape in ((f"W{l}", (dims[l], dims[l - 1])), (f"b{l}", (dims[l], 1)))]


def vector_to_dictionary(theta, shapes_like):
    """Unstack a column made by :func:`dictionary_to_vector` back into a parameters dict.

    Arguments:
        theta: ``(n, 1)`` (or ``(n,)``).
        shapes_like: a parameters dict whose arrays give the shapes, or ``layers_dims``
            ``[n_x, n_1, ..., n_L]`` (the course hard-codes its three layers' shapes).

    Returns:
        ``{"W1": (n_1, n_x), "b1": (n_1, 1), ...}``, copies of theta's entries.
    """
    theta = as_float_array("theta", theta, ndim=(1, 2))
    if theta.ndim == 2 and theta.shape[1] != 1:
        raise ValueError(f"theta must be a column (n, 1); got shape {theta.shape}")
    theta = theta.reshape(-1)
    shapes = _parameter_shapes(shapes_like)
    n = sum(math.prod(shape) for _, shape in shapes)
    if theta.shape[0] != n:
        raise ValueError(f"theta must hold the {n} parameters of shapes_like; got "
                         f"{theta.shape[0]} entries")
    parameters, start = {}, 0
    for key, shape in shapes:
        size = math.prod(shape)
        parameters[key] = theta[start:start + size].reshape(shape).copy()
        start += size
    return parameters


def gradients_to_vector(gradients):
    """The gradients stacked into one column, in the order dW1, db1, ..., dWL, dbL.

    ``gradients`` holds ``"dW{l}"`` and ``"db{l}"`` for l = 1..L (L is the largest l with
    a ``"dW{l}"``; other keys, such as ``"dA{l}"``, are ignored). Returns ``(n, 1)``,
    matching :func:`dictionary_to_vector`'s order.
    """
    if not isinstance(gradients, dict):
        raise TypeError(f"gradients must be a dict of dW1, db1, ...; got "
                        f"{type(gradients).__name__}")
    L = 0
    while f"dW{L + 1}" in gradients:
        L += 1
    if L == 0:
        raise ValueError(f"gradients lacks 'dW1'; got keys {sorted(gradients)}")
    pieces = []
    for l in range(1, L + 1):
        for key in (f"dW{l}", f"db{l}"):
            if key not in gradients:
                raise ValueError(f"gradients lacks {key!r}; got keys {sorted(gradients)}")
            pieces.append(as_float_array(f"gradients[{key!r}]", gradients[key]).reshape(-1, 1))
    return np.concatenate(pieces, axis=0)


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False, *,
                     output="sigmoid", lambd=0.0, hidden="relu", backend=None):
    """Check backward-propagation gradients against two-sided differences of the cost.

    For every parameter entry i, ``gradapprox[i] = (J(theta + eps e_i) - J(theta - eps
    e_i)) / (2 eps)``, where J is :func:`forward_propagation` (no dropout) followed by
    :func:`compute_cost` (from the logits) or, with ``lambd > 0``,
    :func:`compute_cost_with_regularization`. Costs a forward pass per entry and sign:
    for small networks.

    Arguments:
        parameters: ``{"W1", "b1", ..., "WL", "bL"}``.
        gradients: the gradients to check, ``{"dW1", "db1", ...}`` (from
            :func:`backward_propagation` without dropout).
        X: ``(n_x, m)``; Y: labels as in :func:`compute_cost`.
        epsilon: the step, > 0.
        print_msg: print the course's verdict (threshold 2e-7).
        output, lambd, hidden, backend: as in :func:`forward_propagation` and
            :func:`compute_cost_with_regularization`.

    Returns:
        ``difference = ||grad - gradapprox|| / (||grad|| + ||gradapprox||)`` (2-norms), a
        float: about 1e-9 or less for correct float64 gradients away from ReLU kinks.
        The parameters and X are converted to float64 first (a step of 1e-7 vanishes in
        float32 rounding); float32 gradients are then within about 1e-7.
    """
    # Differences of 1e-7 are lost in float32 rounding: everything is checked in float64.
    parameters = {k: np.asarray(v, dtype=np.float64) for k, v in parameters.items()}
    check_update(parameters, gradients)  # one gradient per parameter, of its shape
    theta, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients).astype(np.float64)
    epsilon = check_positive_real("epsilon", epsilon)
    X = as_float_array("X", X).astype(np.float64, copy=False)
    output = check_choice("output", output, OUTPUTS)
    check_activation(hidden, name="hidden")
    lambd = check_lambd(lambd)
    backend = resolve_backend(backend)
    checked, L = check_parameters(parameters, X.shape[0])
    n_L = _check_output_layer(checked, L, output)
    m = X.shape[1]
    Y = _targets("Y", Y, output, n_L, m, dtype=np.float64)

    def J(vector):
        params = vector_to_dictionary(vector, checked)
        AL, caches = _forward(X, params, L, 1.0, output, hidden, backend)
        cost = _cost(AL, Y, output, caches[-1][1], backend)
        if lambd:
            cost += lambd / (2 * m) * _l2_sum(params, L)
        return cost

    gradapprox = np.zeros_like(theta, dtype=np.float64)
    for i in range(theta.shape[0]):
        theta_plus = np.copy(theta)
        theta_plus[i] += epsilon
        theta_minus = np.copy(theta)
        theta_minus[i] -= epsilon
        gradapprox[i] = (J(theta_plus) - J(theta_minus)) / (2 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = float(numerator / denominator) if denominator > 0 else 0.0
    if print_msg:
        if difference > 2e-7:
            print("There is a mistake in the backward propagation! difference = "
                  + str(difference))
        else:
            print("Your backward propagation works perfectly fine! difference = "
                  + str(difference))
    return difference


# ---------------------------------------------------------------------------------------
# Prediction and the model
# ---------------------------------------------------------------------------------------

def predict(X, y, parameters, *, output="sigmoid", hidden="relu", backend=None):
    """Predict with a trained network (no dropout) and print the accuracy.

    Arguments:
        X: ``(n_x, m)``.
        y: the true labels, or None to skip the accuracy line: ``(1, m)`` 0/1 labels for
            the sigmoid; integer labels ``(1, m)`` or one-hot ``(K, m)`` for the softmax.
        parameters: the trained ``{"W1", "b1", ..., "WL", "bL"}``.
        output, hidden: those of the trained network.

    Returns:
        ``p`` ``(1, m)``: for the sigmoid, float 1.0 where the probability exceeds 0.5,
        else 0.0 (as :func:`cnn_core.deep.predict`); for the softmax, the int64 index of
        each column's most probable class. Prints ``Accuracy: <fraction>`` when ``y`` is
        given.
    """
    X = as_float_array("X", X)
    checked, L = check_parameters(parameters, X.shape[0])
    output = check_choice("output", output, OUTPUTS)
    n_L = _check_output_layer(checked, L, output)
    check_activation(hidden, name="hidden")
    m = X.shape[1]
    if y is not None:
        y = _targets("y", y, output, n_L, m)
    AL, _ = _forward(X, checked, L, 1.0, output, hidden, resolve_backend(backend))
    if output == "sigmoid":
        p = (AL > 0.5).astype(np.float64)
        truth = y
    else:
        p = np.argmax(AL, axis=0).reshape(1, m)
        truth = None if y is None else np.argmax(y, axis=0).reshape(1, m)
    if y is not None:
        print("Accuracy: " + str(np.mean(p == truth)))
    return p


_INITIALIZERS = {
    "zeros": initialize_parameters_zeros,
    "random": initialize_parameters_random,
    "he": initialize_parameters_he,
    "xavier": initialize_parameters_xavier,
}


def model(X, Y, layers_dims, optimizer="gd", learning_rate=0.0007, mini_batch_size=64,
          beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8, num_epochs=5000, print_cost=True,
          decay=None, initialization="he", lambd=0.0, keep_prob=1.0, output="sigmoid", *,
          decay_rate=1, hidden="relu", backend=None, return_costs=False, cost_every=100,
          callback=None, gram="auto"):
    """Train ``[LINEAR -> hidden] * (L-1) -> LINEAR -> output`` by mini-batches.

    The course's loop (its optimization notebook's ``model``, with the regularization
    and initialization notebooks' options): initialise with ``initialization`` (which
    seeds ``np.random`` with 3, except "zeros"); ``seed = 10``; for each epoch
    ``seed += 1`` and ``random_mini_batches(X, Y, mini_batch_size, seed)``; for each
    mini-batch a forward pass (with dropout when ``keep_prob < 1``, masks drawn from
    ``np.random`` as it stands after the shuffle, never reseeded), the cost, the backward
    pass and one step of ``optimizer`` (Adam's ``t`` counts mini-batches, from 1). After
    each epoch, with ``decay``, ``learning_rate = decay(learning_rate0, epoch, decay_rate)``.

    Arguments:
        X: ``(n_x, m)``.
        Y: ``(1, m)`` labels in [0, 1] for the sigmoid; integer labels ``(1, m)`` or
            one-hot ``(K, m)`` for the softmax.
        layers_dims: ``[n_x, n_1, ..., n_L]`` with ``n_x = X.shape[0]`` and ``n_L`` 1
            (sigmoid) or K (softmax).
        optimizer: ``"gd"``, ``"momentum"`` or ``"adam"``.
        learning_rate: the initial rate, > 0.
        mini_batch_size: a positive integer (>= m for full-batch steps on shuffled
            columns).
        beta: the momentum; beta1, beta2, epsilon: Adam's.
        num_epochs: the number of passes over the data (>= 0).
        print_cost: print ``Cost after epoch i: cost`` every 1000 epochs (and the
            learning rate with ``decay``).
        decay: None or a function ``decay(learning_rate0, epoch_num, decay_rate)`` such
            as :func:`update_lr` or :func:`schedule_lr_decay`.
        initialization: ``"zeros"``, ``"random"``, ``"he"`` or ``"xavier"``.
        lambd: the L2 strength (>= 0); keep_prob: dropout's, in (0, 1].
        output: ``"sigmoid"`` or ``"softmax"``; hidden: the hidden activation.
        decay_rate: passed to ``decay``.
        return_costs: also return the costs.
        cost_every: the cost-record interval in epochs (the course's 100).
        callback: None or ``callback(epoch, cost)``, called at each record.
        gram: run the first layer on ``K = X^T X`` (True; gradient descent and momentum
            only), on X (False), or whichever costs fewer flops ("auto", by
            :func:`cnn_core.training.use_gram_epochs`). Both give the same iterates to
            rounding (docs/gram.md).

    Returns:
        ``parameters`` (float arrays of X's dtype), or ``(parameters, costs)`` with
        ``return_costs=True``: ``costs`` holds the cost of epochs 0, cost_every,
        2 cost_every, ..., each
        the average over the m examples of the mini-batch costs, ``sum_B |B| cost_B / m``,
        each ``cost_B`` computed during the epoch, before its batch's step, from the
        logits, with the dropout masks and (with ``lambd``) the L2 term of that batch.
    """
    X = as_float_array("X", X)
    n_x, m = X.shape
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    initialization = check_choice("initialization", initialization, INITIALIZATIONS)
    output = check_choice("output", output, OUTPUTS)
    check_activation(hidden, name="hidden")
    learning_rate = check_learning_rate(learning_rate)
    mini_batch_size = check_positive_int("mini_batch_size", mini_batch_size)
    beta = check_beta("beta", beta)
    beta1 = check_beta("beta1", beta1)
    beta2 = check_beta("beta2", beta2)
    epsilon = check_positive_real("epsilon", epsilon)
    num_epochs = check_nonnegative_int("num_epochs", num_epochs)
    lambd = check_lambd(lambd)
    keep_prob = check_keep_prob(keep_prob)
    if decay is not None and not callable(decay):
        raise TypeError(f"decay must be None or callable as decay(learning_rate0, epoch_num, "
                        f"decay_rate); got {decay!r}")
    decay_rate = check_nonnegative_real("decay_rate", decay_rate)
    cost_every = check_positive_int("cost_every", cost_every)
    callback = check_callback(callback)
    dims = check_layer_dims(layers_dims, "layers_dims")
    if dims[0] != n_x:
        raise ValueError(f"layers_dims must start with n_x = X.shape[0] = {n_x}; got {dims}")
    if output == "sigmoid" and dims[-1] != 1:
        raise ValueError(f"layers_dims must end with 1 for output='sigmoid'; got {dims}")
    if output == "softmax" and dims[-1] < 2:
        raise ValueError(f"layers_dims must end with K >= 2 classes for output='softmax'; "
                         f"got {dims}")
    Y = _targets("Y", Y, output, dims[-1], m, dtype=X.dtype)
    backend = resolve_backend(backend)
    if check_gram(gram) == "auto":
        gram = use_gram_epochs(n_x, m, dims[1], num_epochs, mini_batch_size, optimizer)

    parameters = {k: np.array(v, dtype=X.dtype, order="C")
                  for k, v in _INITIALIZERS[initialization](dims).items()}
    if not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.ascontiguousarray(X)     # the trainers read a C- or Fortran-ordered X
    trainer = make_epoch_trainer(
        X, np.ascontiguousarray(Y), parameters, hidden=hidden, output=output,
        optimizer=optimizer, mini_batch_size=mini_batch_size, beta=beta, beta1=beta1,
        beta2=beta2, epsilon=epsilon, lambd=lambd, keep_prob=keep_prob, gram=gram,
        backend=backend)
    costs = []
    seed = 10
    learning_rate0 = learning_rate
    for i in range(num_epochs):
        seed = seed + 1
        # random_mini_batches' shuffle, then the dropout masks the epoch's forward passes
        # draw, batch by batch and layer by layer: one stream, taken here in one call.
        np.random.seed(seed)
        permutation = np.random.permutation(m)
        draws = np.random.rand(trainer.draw_count) if trainer.draw_count else None
        # The cost is computed only in the epochs that record or print it.
        record = i % cost_every == 0 or (print_cost and i % 1000 == 0)
        # On the Gram path W1 is written once, after the last epoch.
        cost_avg = trainer.run_epoch(permutation, learning_rate, record_cost=record,
                                     draws=draws, sync=False)
        if decay is not None:
            decayed = decay(learning_rate0, i, decay_rate)
            if not (isinstance(decayed, numbers.Real) and 0 < decayed < float("inf")):
                raise ValueError(f"decay must return a learning rate > 0 and finite; "
                                 f"decay({learning_rate0}, {i}, {decay_rate}) returned "
                                 f"{decayed!r}")
            learning_rate = float(decayed)
        if print_cost and i % 1000 == 0:
            print("Cost after epoch %i: %f" % (i, cost_avg))
            if decay is not None:
                print("learning rate after epoch %i: %f" % (i, learning_rate))
        if i % cost_every == 0:
            costs.append(cost_avg)
            if callback is not None:
                callback(i, cost_avg)
    trainer.sync()
    return (parameters, costs) if return_costs else parameters
