"""Activation functions and their derivatives (the notes' chapter on activations).

Public functions take any real array (or scalar) and return an array of the same shape:
:func:`sigmoid`, :func:`sigmoid_derivative`, :func:`relu`, :func:`tanh` and
:func:`softmax` (row-wise, as in the notes). They stay finite and warning-free for
inputs of any magnitude: the sigmoid is evaluated in a form where ``exp`` only sees
non-positive arguments, and the softmax subtracts each row's maximum first, which
leaves the result unchanged because ``exp(x - c) / sum(exp(x - c))`` cancels ``exp(-c)``.

:data:`cnn_core.activations.ACTIVATIONS` registers, for each activation a layer can use, its forward ``g``
and its backward ``dZ = dA * g'(Z)`` side by side. The layer code of
:mod:`cnn_core.deep` and :mod:`cnn_core.shallow` and the compiled kernels (which mirror
these formulas in ``kernels.pyx`` and ``_vmath.pxd``) are both dispatched through it.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from cnn_core._validation import as_float_array, check_finite


def _as_real(name, x, *, finite):
    """``x`` as a float ndarray of any shape (0-d for a scalar); NaN is always refused."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if finite:
        check_finite(name, arr)
    elif np.isnan(arr).any():
        raise ValueError(f"{name} must not contain NaN")
    return arr


def _like_input(result):
    """Return a 0-d result as a NumPy scalar, as NumPy's own ufuncs do for scalars."""
    return result[()] if result.ndim == 0 else result


def _stable_sigmoid(z):
    # exp(-|z|) lies in (0, 1], so nothing overflows. For z >= 0 this is exactly the
    # textbook 1 / (1 + e^-z); for z < 0 it is the same fraction multiplied by e^z / e^z.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, elementwise.

    Arguments:
        x: a scalar or an array of any shape (±inf allowed: the limits 0 and 1).

    Returns:
        An array of ``x``'s shape (a NumPy scalar for a scalar), in (0, 1) except where
        float precision rounds to 0 or 1.
    """
    return _like_input(_stable_sigmoid(_as_real("x", x, finite=False)))


def sigmoid_derivative(x):
    """The sigmoid's slope ``s * (1 - s)`` with ``s = sigmoid(x)``, elementwise.

    .. math:: \\sigma'(x) = \\sigma(x)\\,(1 - \\sigma(x))

    Same shapes as :func:`sigmoid`.
    """
    s = _stable_sigmoid(_as_real("x", x, finite=False))
    return _like_input(s * (1 - s))


def relu(x):
    """The rectifier ``max(0, x)``, elementwise; same shape as ``x``."""
    return _like_input(np.maximum(_as_real("x", x, finite=False), 0))


def tanh(x):
    """The hyperbolic tangent, elementwise (the shallow network's hidden activation)."""
    return _like_input(np.tanh(_as_real("x", x, finite=False)))


def softmax(x):
    """Softmax of each row of ``x``.

    Arguments:
        x: a row vector ``(1, n)``, a 1-D vector ``(n,)`` or a matrix ``(k, n)``,
           finite values.

    Returns:
        ``s`` of ``x``'s shape with ``s[i, j] = exp(x[i, j]) / sum_j exp(x[i, j])``:
        every row is positive and sums to 1.
    """
    arr = as_float_array("x", x, ndim=(1, 2))
    shifted = arr - arr.max(axis=-1, keepdims=True)
    x_exp = np.exp(shifted)
    return x_exp / np.sum(x_exp, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------
# The registry of layer activations: forward and backward together.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Activation:
    """One layer activation: ``A = forward(Z)`` and its slope ``g'(Z)``, read from A.

    ``slope(A)`` is the derivative written from the output ``A = g(Z)``, the form every
    backward pass uses (relu ``A > 0``, sigmoid ``A (1 - A)``, tanh ``1 - A^2``), as
    scikit-learn's and PyTorch's backward passes do: no second exp or tanh.
    :meth:`backward` is ``dZ = dA * slope(forward(Z))`` for callers that hold Z (the
    course's ``relu_backward(dA, cache)``). ``code`` is the activation's number in the
    compiled kernels (``cnn_core.kernels.ACTIVATION_CODES``, checked against this table
    when ``cnn_core._ops`` is imported and by a test), ``derivative`` the slope in
    words, and ``jax`` the JAX function that states the activation for autodiff (a
    dotted name, resolved by ``cnn_core.reference.ops`` so that this module needs no
    JAX); a test checks ``slope`` against ``jax.grad`` of it.
    """

    name: str
    code: int
    forward: Callable[[np.ndarray], np.ndarray]
    slope: Callable[[np.ndarray], np.ndarray]
    derivative: str
    jax: str

    def backward(self, dA, Z):
        """``dZ = dA * g'(Z)``, a new array of Z's shape."""
        return dA * self.slope(self.forward(Z))


def _relu_slope(A):
    # A > 0 exactly where Z > 0: the course's convention, slope 0 at the kink Z = 0.
    return (A > 0).astype(A.dtype)


#: The layer activations by name, each an :class:`Activation`: ``"relu"``,
#: ``"sigmoid"``, ``"tanh"`` and ``"identity"``.
ACTIVATIONS = {
    "identity": Activation("identity", 0, lambda Z: Z, np.ones_like, "g'(z) = 1",
                           "jax.numpy.positive"),
    # jax.nn.relu's derivative at exactly 0 is 0, the course's convention (that of
    # jnp.maximum(z, 0) would be 0.5).
    "relu": Activation("relu", 1, lambda Z: np.maximum(Z, 0), _relu_slope,
                       "g'(z) = 1 if z > 0 else 0, that is 1 where a > 0", "jax.nn.relu"),
    "sigmoid": Activation("sigmoid", 2, _stable_sigmoid, lambda A: A * (1 - A),
                          "g'(z) = a (1 - a), a = sigmoid(z)", "jax.nn.sigmoid"),
    "tanh": Activation("tanh", 3, np.tanh, lambda A: 1 - A * A,
                       "g'(z) = 1 - a^2, a = tanh(z)", "jax.numpy.tanh"),
}


def resolve_activation(activation):
    """The :class:`Activation` given by its name or by its integer ``code``.

    Raises TypeError for anything else (a float, a bool) and ValueError for an unknown
    name or code. The compiled kernels and both trainers resolve activations here.
    """
    if isinstance(activation, str):
        if activation in ACTIVATIONS:
            return ACTIVATIONS[activation]
    elif isinstance(activation, bool) or not isinstance(activation, numbers.Integral):
        raise TypeError(f"activation must be a name or an integer code; got {activation!r}")
    else:
        for entry in ACTIVATIONS.values():
            if entry.code == activation:
                return entry
    codes = {name: a.code for name, a in ACTIVATIONS.items()}
    raise ValueError(f"activation must be one of {list(ACTIVATIONS)} or their codes {codes}; "
                     f"got {activation!r}")


def check_activation(activation, allowed=("relu", "sigmoid", "tanh"), *, name="activation"):
    """Return ``activation`` if it names one of ``allowed``, else raise ValueError naming
    the argument ``name``."""
    if activation not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}; got {activation!r}")
    return activation
