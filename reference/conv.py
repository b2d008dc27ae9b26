"""The convolution and pooling layers of :mod:`cnn_core.conv` stated with JAX's own
primitives, for ``jax.grad``.

NHWC arrays as in cnn_core: ``A_prev`` ``(m, n_H_prev, n_W_prev, n_C_prev)``, ``W``
``(f, f, n_C_prev, n_C)`` (JAX's "HWIO"), ``b`` ``(1, 1, 1, n_C)``. Nothing here is
derived by hand: the gradients come from JAX's rules for ``conv_general_dilated`` and
``reduce_window``, a second derivation of cnn_core's backwards.
"""
import jax
import jax.numpy as jnp
import numpy as np


def conv_layer(A_prev, W, b, stride, pad):
    """``Z`` ``(m, n_H, n_W, n_C)``: the correlation of the zero-padded ``A_prev`` with
    each filter of ``W``, ``stride`` apart, plus ``b`` (``lax.conv_general_dilated``
    correlates, as the course's layer does: the filter is not flipped).

    The padding is a ``jnp.pad`` before a "VALID" convolution rather than the
    convolution's own ``padding``: with the latter, XLA's CPU compiler (jaxlib 0.10)
    aborts the process, a failed CHECK in its algebraic simplifier, when it compiles
    the filter gradient of some strided, padded geometries (e.g. a 1x4 input, f = 2,
    stride 2, pad 1). The two forms are the same function.
    """
    padded = jnp.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    return jax.lax.conv_general_dilated(
        padded, W, window_strides=(stride, stride), padding="VALID",
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=jax.lax.Precision.HIGHEST,
    ) + b


def pool_layer(A_prev, f, stride, mode):
    """``A`` ``(m, n_H, n_W, n_C)``: the maximum (``mode="max"``) or the mean
    (``"average"``) of every ``f`` by ``f`` window of each channel, ``stride`` apart,
    without padding ("VALID")."""
    window, strides = (1, f, f, 1), (1, stride, stride, 1)
    # Python scalars as the initial values: concrete even under jax.jit, so that JAX
    # recognises the max and the sum and differentiates them (an initial value made
    # with jnp.array is a tracer under jit, and the generic reduce_window it then
    # takes cannot be linearised).
    if mode == "max":
        return jax.lax.reduce_window(A_prev, -np.inf, jax.lax.max, window, strides, "VALID")
    if mode == "average":
        return jax.lax.reduce_window(A_prev, 0.0, jax.lax.add, window, strides, "VALID") / (f * f)
    raise ValueError(f"mode must be 'max' or 'average'; got {mode!r}")
