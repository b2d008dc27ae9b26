"""Wrong variants of the registered backwards, to show that every check can fail.

Each mutant is ``(entry, inputs, backend) -> gradients``: it calls the entry's analytic
hook (see :class:`cnn_core.reference.registry.Entry`) and spoils the result as a
common derivation mistake would. ``tests/test_gradients.py::test_every_entry_can_fail``
requires each applicable one to be reported. Test machinery only: it is not installed
with cnn_core.
"""
import contextlib
import dataclasses

import numpy as np

from cnn_core import activations, conv


@contextlib.contextmanager
def _wrong_activation_derivatives():
    """Make the NumPy activations use g(Z) where g'(Z) belongs: each slope, written from
    ``A = g(Z)``, returns A itself, so that the backward is ``dA * g(Z)``."""
    saved = dict(activations.ACTIVATIONS)
    for name in saved:
        activations.ACTIVATIONS[name] = dataclasses.replace(saved[name], slope=lambda A: A)
    try:
        yield
    finally:
        activations.ACTIVATIONS.clear()
        activations.ACTIVATIONS.update(saved)


def _missing_one_over_m(entry, inputs, backend):
    grads = entry.analytic(inputs, backend)
    for key in entry.weights + entry.biases:
        grads[key] = grads[key] * inputs["m"]
    return grads


def _transposed_product(entry, inputs, backend):
    grads = entry.analytic(inputs, backend)
    for key in entry.weights:
        grads[key] = grads[key].T
    return grads


def _dropped_bias_gradient(entry, inputs, backend):
    grads = entry.analytic(inputs, backend)
    for key in entry.biases:
        grads[key] = np.zeros_like(grads[key])
    return grads


def _wrong_activation_derivative(entry, inputs, backend):
    # The compiled kernels cannot be patched; the NumPy code takes the wrong derivative.
    with _wrong_activation_derivatives():
        return entry.analytic(inputs, "numpy")


# The convolution and pooling layers' mistakes (entries of registry.ConvEntry, whose
# ``layer``, ``hparameters`` and ``mode`` say which layer it is). The cotangent is
# ``inputs["dZ"]`` for a convolution, ``inputs["dA"]`` for pooling.

def _layer(entry):
    return getattr(entry, "layer", None)


def _unflipped_filter(entry, inputs, backend):
    """dA_prev as the full correlation of dZ with W itself instead of W flipped: the
    correct backward given the flipped filter is exactly that."""
    grads = entry.analytic(inputs, backend)
    flipped = {**inputs, "W": np.ascontiguousarray(inputs["W"][::-1, ::-1])}
    grads["A_prev"] = entry.analytic(flipped, backend)["A_prev"]
    return grads


def _stride_left_out(entry, inputs, backend):
    """Window (h, w) read at rows h.. and columns w.. instead of h*stride.. and
    w*stride..: the backward of the same windows taken one apart, i.e. of a stride-1
    layer on the top-left corner of the (padded) input that holds them."""
    grads = entry.analytic(inputs, backend)
    pad = entry.hparameters.get("pad", 0)
    A_pad = conv.zero_pad(inputs["A_prev"], pad)
    cotangent = inputs["dZ"] if entry.layer == "conv" else inputs["dA"]
    _, n_H, n_W, _ = cotangent.shape
    f = inputs["W"].shape[0] if entry.layer == "conv" else entry.hparameters["f"]
    corner = np.ascontiguousarray(A_pad[:, :n_H + f - 1, :n_W + f - 1])
    if entry.layer == "conv":
        d_corner, grads["W"], _ = conv.conv_backward(
            cotangent, (corner, inputs["W"], inputs["b"], {"stride": 1, "pad": 0}),
            backend=backend)
    else:
        d_corner = conv.pool_backward(cotangent, (corner, {"stride": 1, "f": f}), entry.mode,
                                      backend=backend)
    dA_pad = np.zeros_like(A_pad)
    dA_pad[:, :n_H + f - 1, :n_W + f - 1] = d_corner
    n_H_prev, n_W_prev = inputs["A_prev"].shape[1:3]
    grads["A_prev"] = dA_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev]
    return grads


def _max_pool_as_average(entry, inputs, backend):
    """Max pooling's gradient spread evenly over the window, as average pooling's is."""
    cache = (inputs["A_prev"], entry.hparameters)
    return {"A_prev": conv.pool_backward(inputs["dA"], cache, "average", backend=backend)}


def _average_without_window_size(entry, inputs, backend):
    """Average pooling handing each input the window's whole gradient, not 1/f^2 of it."""
    grads = entry.analytic(inputs, backend)
    grads["A_prev"] = grads["A_prev"] * entry.hparameters["f"] ** 2
    return grads


#: ``{name: (mutant, applies)}``; ``applies(entry)`` says whether the mistake can occur
#: in that entry's backward.
MUTANTS = {
    "missing 1/m": (_missing_one_over_m, lambda e: bool(e.weights or e.biases)),
    "transposed product": (_transposed_product, lambda e: bool(e.weights)),
    "dropped bias gradient": (_dropped_bias_gradient, lambda e: bool(e.biases)),
    "wrong activation derivative": (_wrong_activation_derivative, lambda e: e.activation),
    "unflipped filter": (_unflipped_filter, lambda e: _layer(e) == "conv"),
    "stride left out of the window positions": (
        _stride_left_out, lambda e: _layer(e) is not None and e.hparameters["stride"] > 1),
    "max pooling's gradient spread as an average": (
        _max_pool_as_average, lambda e: _layer(e) == "pool" and e.mode == "max"),
    "average pooling without the 1/f^2": (
        _average_without_window_size, lambda e: _layer(e) == "pool" and e.mode == "average"),
}


def applicable_mutants(entry):
    """The names of the wrong variants that apply to ``entry``."""
    return [name for name, (_, applies) in MUTANTS.items() if applies(entry)]
