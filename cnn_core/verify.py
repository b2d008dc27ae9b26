"""Check hand-derived gradients against automatic differentiation and finite differences.

:func:`check_gradients` takes a model's parameters and data, computes the gradients the
way cnn_core does (by the course's backward pass, on the chosen backend) and compares
them with ``jax.grad`` of an independent JAX statement of the same cost
(``cnn_core.reference``) and with central differences of cnn_core's own cost. A
learner can pass the parameters of their own network to see whether their gradients
would match.

JAX is needed (``pip install "cnn_core[verify]"``); it is imported only when a check
runs. Comparisons are normwise: for each parameter, ``max|analytic - reference|``
divided by ``max|reference|``, which stays meaningful when single entries are near 0.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np

from cnn_core._backend import resolve_backend
from cnn_core._validation import as_float_array, as_labels, check_parameters

__all__ = ["GradientCheck", "GradientReport", "check_gradients", "load_reference", "MODELS",
           "TOLERANCES", "FD_TOLERANCE"]

#: The models that can be checked and the parameter names each takes.
MODELS = ("deep", "shallow", "logistic")
#: Largest normwise relative difference from autodiff that passes, by dtype.
TOLERANCES = {"float64": 1e-10, "float32": 1e-4}
#: Largest normwise relative difference from central differences (step 1e-6, in float64).
FD_TOLERANCE = 1e-6


def load_reference():
    """The JAX reference package ``cnn_core.reference`` (which turns on float64 in JAX);
    ImportError if JAX is missing."""
    try:
        importlib.import_module("jax")
    except ImportError as exc:
        raise ImportError(
            "checking gradients needs JAX: pip install 'cnn_core[verify]' (or jax)"
        ) from exc
    # The one name of the reference: the source tree's reference/ is installed (editable
    # installs included) as cnn_core.reference and refuses to be imported as anything else.
    return importlib.import_module("cnn_core.reference")


def relative_difference(analytic, reference):
    """``max|analytic - reference| / max|reference|`` (inf when the shapes differ)."""
    analytic = np.asarray(analytic, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if analytic.shape != reference.shape:
        return float("inf")
    scale = np.max(np.abs(reference)) if reference.size else 0.0
    diff = np.max(np.abs(analytic - reference)) if reference.size else 0.0
    return float(diff / scale) if scale > 0 else float(diff)


@dataclass(frozen=True)
class GradientCheck:
    """One parameter's comparison."""

    parameter: str
    shape: tuple
    max_abs_diff: float
    max_rel_diff: float
    fd_max_abs_diff: float
    fd_max_rel_diff: float
    passed: bool


@dataclass
class GradientReport:
    """The result of :func:`check_gradients`: one :class:`GradientCheck` per parameter."""

    model: str
    backend: str
    dtype: str
    cost: float
    reference_cost: float
    tolerance: float
    checks: list = field(default_factory=list)

    @property
    def passed(self):
        return bool(self.checks) and all(check.passed for check in self.checks) and \
            relative_difference(self.cost, self.reference_cost) <= self.tolerance

    def __str__(self):
        lines = [
            f"{self.model} ({self.dtype}, backend {self.backend}): cost {self.cost:.10g}, "
            f"autodiff {self.reference_cost:.10g}; tolerance {self.tolerance:g} "
            f"(finite differences {FD_TOLERANCE:g})",
            f"  {'parameter':<10} {'shape':<12} {'max|diff| AD':>13} {'rel AD':>10} "
            f"{'max|diff| FD':>13} {'rel FD':>10}  result",
        ]
        for c in self.checks:
            lines.append(
                f"  {c.parameter:<10} {str(c.shape):<12} {c.max_abs_diff:13.2e} "
                f"{c.max_rel_diff:10.2e} {c.fd_max_abs_diff:13.2e} {c.fd_max_rel_diff:10.2e}  "
                f"{'PASS' if c.passed else 'FAIL'}"
            )
        lines.append(f"  {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Each model: its analytic gradients, its cost in NumPy, and its JAX reference.
# ---------------------------------------------------------------------------------------

def _deep_analytic(parameters, X, Y, backend):
    from cnn_core import deep

    AL, caches = deep.L_model_forward(X, parameters, backend=backend)
    grads = deep.L_model_backward(AL, Y, caches, backend=backend)
    cost = float(deep.compute_cost(AL, Y, backend=backend))
    return cost, {k: grads["d" + k] for k in parameters}


def _shallow_analytic(parameters, X, Y, backend):
    from cnn_core import shallow

    A2, cache = shallow.forward_propagation(X, parameters, backend=backend)
    grads = shallow.backward_propagation(parameters, cache, X, Y, backend=backend)
    cost = float(shallow.compute_cost(A2, Y, backend=backend))
    return cost, {k: grads["d" + k] for k in parameters}


def _logistic_analytic(parameters, X, Y, backend):
    from cnn_core import logistic

    grads, cost = logistic.propagate(parameters["w"], parameters["b"], X, Y, backend=backend)
    return float(cost), {"w": grads["dw"], "b": np.asarray(grads["db"])}


def _reference_cost(model, reference):
    if model == "deep":
        return reference.L_model_cost
    if model == "shallow":
        return reference.shallow_cost
    return lambda p, X, Y: reference.logistic_cost(p["w"], p["b"], X, Y)


_ANALYTIC = {"deep": _deep_analytic, "shallow": _shallow_analytic,
             "logistic": _logistic_analytic}


def _check_inputs(model, parameters, X, Y):
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}; got {model!r}")
    X = as_float_array("X", X)
    Y = as_labels("Y", Y, X.shape[1])
    if model == "logistic":
        if not isinstance(parameters, dict) or set(parameters) != {"w", "b"}:
            raise ValueError("parameters must be {'w': (n_x, 1), 'b': scalar} for model='logistic'")
        w = as_float_array("parameters['w']", parameters["w"])
        b = float(np.asarray(parameters["b"], dtype=np.float64).reshape(()))
        checked = {"w": w, "b": np.asarray(b, dtype=w.dtype)}
    else:
        checked, _ = check_parameters(parameters, X.shape[0],
                                      n_layers=2 if model == "shallow" else None)
    return checked, X, Y


def _finite_differences(cost_fn, parameters, X, Y, key, entries, eps):
    """Central differences of ``cost_fn`` in float64 at the given flat ``entries``."""
    params = {k: np.array(v, dtype=np.float64) for k, v in parameters.items()}
    target = params[key].reshape(-1) if params[key].ndim else params[key].reshape(1)
    values = np.empty(len(entries))
    for n, index in enumerate(entries):
        saved = target[index]
        target[index] = saved + eps
        up = cost_fn(params, X, Y)
        target[index] = saved - eps
        down = cost_fn(params, X, Y)
        target[index] = saved
        values[n] = (up - down) / (2 * eps)
    return values


def _user_gradients(model, grads, checked):
    """A learner's gradients keyed as the course keys them (``dW1``/``db1``, ``dw``/``db``)."""
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of gradients; got {type(grads).__name__}")
    found = {}
    for key in checked:
        if "d" + key not in grads:
            raise ValueError(f"grads lacks 'd{key}'; got keys {sorted(grads)}")
        found[key] = np.asarray(grads["d" + key], dtype=np.float64)
    return found


def check_gradients(parameters, X, Y, model="deep", *, grads=None, backend=None,
                    tolerance=None, finite_differences=True, max_fd_entries=32, eps=1e-6,
                    seed=0):
    """Compare cnn_core's gradients at ``parameters`` with autodiff and finite differences.

    Arguments:
        parameters: for ``model="deep"``: ``{"W1", "b1", ..., "WL", "bL"}`` with a one-row
            ``WL``; for ``"shallow"``: ``{"W1", "b1", "W2", "b2"}``; for ``"logistic"``:
            ``{"w": (n_x, 1), "b": scalar}``. Their dtype (float64 or float32) is the
            dtype checked.
        X: ``(n_x, m)``; Y: labels ``(1, m)``.
        grads: your own gradients to check instead of cnn_core's, keyed as the course
            keys them (``"dW1"``, ``"db1"``, ...; ``"dw"``, ``"db"`` for logistic), each of
            its parameter's shape.
        backend: "cython" or "numpy" (default: the process default).
        tolerance: normwise relative tolerance against autodiff (default
            ``TOLERANCES[dtype]``).
        finite_differences: also compare with central differences of cnn_core's own cost
            in float64, on at most ``max_fd_entries`` entries of each parameter (chosen
            with ``seed``). Near a ReLU kink central differences are unreliable; pass
            False to skip them.

    Returns:
        A :class:`GradientReport`; ``report.passed`` is True when every parameter and the
        cost agree, and ``print(report)`` shows the table.
    """
    reference = load_reference()
    import jax
    backend = resolve_backend(backend)
    checked, X, Y = _check_inputs(model, parameters, X, Y)
    dtype = np.result_type(*checked.values(), X)
    dtype_name = "float32" if dtype == np.float32 else "float64"
    tolerance = TOLERANCES[dtype_name] if tolerance is None else float(tolerance)

    cast = {k: np.asarray(v, dtype=dtype) for k, v in checked.items()}
    cost, analytic = _ANALYTIC[model](cast, X.astype(dtype), Y.astype(dtype), backend)
    if grads is not None:
        analytic = _user_gradients(model, grads, checked)

    params64 = {k: np.asarray(v, dtype=np.float64) for k, v in checked.items()}
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    ref_cost, ref_grads = jax.value_and_grad(_reference_cost(model, reference))(
        params64, X64, Y64)

    def numpy_cost(p, X_, Y_):
        return _ANALYTIC[model](p, X_, Y_, "numpy")[0]

    rng = np.random.default_rng(seed)
    report = GradientReport(model, backend, dtype_name, cost, float(ref_cost), tolerance)
    for key in checked:
        got = np.asarray(analytic[key], dtype=np.float64)
        want = np.asarray(ref_grads[key], dtype=np.float64)
        rel = relative_difference(got, want)
        abs_diff = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("inf")
        fd_rel = fd_abs = float("nan")
        if finite_differences:
            size = max(want.size, 1)
            entries = np.sort(rng.choice(size, size=min(size, max_fd_entries), replace=False))
            numeric = _finite_differences(numpy_cost, params64, X64, Y64, key, entries, eps)
            sampled = (got.reshape(-1)[entries] if got.shape == want.shape
                       else np.full(len(entries), np.inf))
            fd_rel = relative_difference(sampled, numeric)
            fd_abs = float(np.max(np.abs(sampled - numeric)))
        passed = rel <= tolerance and (not finite_differences or
                                       fd_rel <= max(FD_TOLERANCE, tolerance))
        report.checks.append(GradientCheck(key, tuple(want.shape), abs_diff, rel, fd_abs, fd_rel,
                                           passed))
    return report
