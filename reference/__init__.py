"""An independent JAX statement of cnn_core's costs, for checking gradients by autodiff.

The functions here recompute each model's forward pass and cross-entropy cost from the
same parameter dicts that cnn_core uses, in JAX, so that ``jax.grad`` of them is a
second derivation of every gradient that cnn_core computes by hand. The package
depends on JAX and NumPy only; :func:`cnn_core.verify.check_gradients` and
``cnn-core check`` use its costs, the tests its registry. Importing it turns on JAX's
float64 mode for the process: gradients are compared in float64, and the mode must be
set before any JAX array exists.

Modules: :mod:`.ops` (single operations), :mod:`.costs` (each model's cost) and
:mod:`.registry` (every hand-derived backward of cnn_core with its reference).

The files sit in the source tree's ``reference/`` folder and are installed, editable
installs included, as ``cnn_core.reference``: the one name under which they may be
imported. Imported as the top-level ``reference`` (the source tree on ``sys.path``)
they would be a second module object for the same files, so that name is refused.
"""
if __name__ != "cnn_core.reference":
    raise ImportError(
        f"the JAX reference is imported as cnn_core.reference, not as {__name__!r}: "
        "use `import cnn_core.reference` (it needs cnn_core installed, "
        "for instance pip install -e '.[test]')",
        name=__name__,
    )

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

from . import ops  # noqa: E402
from .costs import (  # noqa: E402
    L_model_cost, L_model_cost_general, logistic_cost, shallow_cost,
    softmax_cross_entropy_with_logits,
)

__all__ = ["ops", "L_model_cost", "L_model_cost_general", "logistic_cost", "shallow_cost",
           "softmax_cross_entropy_with_logits"]
