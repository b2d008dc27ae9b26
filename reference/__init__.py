"""An independent JAX statement of cnn_core's costs, for checking gradients by autodiff.

The functions here recompute each model's forward pass and cross-entropy cost from the
same parameter dicts that cnn_core uses, in JAX, so that ``jax.grad`` of them is a
second derivation of every gradient that cnn_core computes by hand. The package
depends on JAX and NumPy only and is used by the tests (it is not installed with
cnn_core). Importing it turns on JAX's float64 mode for the process: gradients are
compared in float64, and the mode must be set before any JAX array exists.

Modules: :mod:`.ops` (single operations), :mod:`.costs` (each model's cost) and
:mod:`.registry` (every hand-derived backward of cnn_core with its reference). Installed
with cnn_core as ``cnn_core.reference``; in the source tree it is the top-level
``reference`` package.
"""
import jax

jax.config.update("jax_enable_x64", True)

from . import ops  # noqa: E402
from .costs import L_model_cost, logistic_cost, shallow_cost  # noqa: E402

__all__ = ["ops", "L_model_cost", "logistic_cost", "shallow_cost"]
