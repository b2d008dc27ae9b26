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

from cnn_core import activations


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


#: ``{name: (mutant, applies)}``; ``applies(entry)`` says whether the mistake can occur
#: in that entry's backward.
MUTANTS = {
    "missing 1/m": (_missing_one_over_m, lambda e: bool(e.weights or e.biases)),
    "transposed product": (_transposed_product, lambda e: bool(e.weights)),
    "dropped bias gradient": (_dropped_bias_gradient, lambda e: bool(e.biases)),
    "wrong activation derivative": (_wrong_activation_derivative, lambda e: e.activation),
}


def applicable_mutants(entry):
    """The names of the wrong variants that apply to ``entry``."""
    return [name for name, (_, applies) in MUTANTS.items() if applies(entry)]
