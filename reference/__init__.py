"""An independent JAX statement of cnn_core's costs, for checking gradients by autodiff.

The functions here recompute each model's forward pass and cross-entropy cost from the
same parameter dicts that cnn_core uses, in JAX, so that ``jax.grad`` of them is a
second derivation of every gradient that cnn_core computes by hand. The package
depends on JAX and NumPy only and is used by the tests (it is not installed with
cnn_core). Importing it turns on JAX's float64 mode for the process: gradients are
compared in float64, and the mode must be set before any JAX array exists.

The verification suite over every registered backward is the subject of issue #4;
this module holds the costs that suite builds on.
"""
import jax

jax.config.update("jax_enable_x64", True)

from reference.costs import L_model_cost, logistic_cost, shallow_cost  # noqa: E402

__all__ = ["L_model_cost", "logistic_cost", "shallow_cost"]
