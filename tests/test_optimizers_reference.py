"""The optimizers' updates of cnn_core.improving equal their JAX statement.

The table is ``cnn_core.reference.registry.UPDATES`` (one :class:`UpdateEntry` per case:
gradient descent, momentum, Adam at t = 1, at t = 7, and over steps t = 1..5), the JAX
statement ``cnn_core.reference.optimizers``. Each entry is run on both backends and both
dtypes and compared by value (new parameters, the step they took, ``v``, ``s`` and
Adam's corrected averages); the update's derivative with respect to the gradient is
checked twice, the JAX statement's by ``jax.jacfwd`` and cnn_core's by central
differences, against the hand-derived diagonal of the entry; wrong variants of each
update (below) are caught; and a public ``update_parameters_with_*`` of
``cnn_core.improving`` that is not in the table fails the suite.

The updates are NumPy on both backends (they have no ``backend`` keyword); the entries
run them inside ``cnn_core.use_backend(backend)``, so that an update which came to
dispatch on the default backend would be checked on each.
"""
import copy
import inspect

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX comes with the test extra: pip install -e '.[test]'")
import jax.numpy as jnp  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import cnn_core.reference  # noqa: E402,F401  (turns on float64 in JAX)
from cnn_core import improving  # noqa: E402
from cnn_core.reference.registry import TOLERANCE, UPDATES, update_inputs  # noqa: E402
from cnn_core.verify import relative_difference  # noqa: E402

from conftest import BACKENDS  # noqa: E402

DTYPES = [np.float64, np.float32]
ENTRIES = {entry.name: entry for entry in UPDATES}
ONE_STEP = [name for name, entry in ENTRIES.items() if entry.derivative is not None]


def _compared(outputs, inputs):
    """The outputs, plus ``"step"``: the new parameters minus the first ones, in float64
    (the step is what the update computes; the new parameters alone would dilute an
    error of the step by the size of the parameters)."""
    start = inputs["parameters"]
    step = {k: np.asarray(p, dtype=np.float64) - np.asarray(start[k], dtype=np.float64)
            for k, p in outputs["parameters"].items()}
    return {**outputs, "step": step}


def worst_difference(analytic, expected):
    """The largest normwise relative difference over every output and parameter key
    (inf when an output or a key is missing or a shape differs)."""
    worst = 0.0
    for name, tree in expected.items():
        for key, want in tree.items():
            got = analytic.get(name, {}).get(key)
            worst = max(worst, np.inf if got is None else relative_difference(got, want))
    return worst


def _check(entry, inputs, backend, expected_inputs):
    expected = _compared(entry.reference(expected_inputs), expected_inputs)
    return _compared(entry.analytic(inputs, backend), inputs), expected


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(ENTRIES))
def test_update_equals_its_jax_statement(name, backend, dtype):
    entry = ENTRIES[name]
    inputs = update_inputs(entry, seed=1, dtype=dtype)
    untouched = copy.deepcopy(inputs)
    analytic, expected = _check(entry, inputs, backend, update_inputs(entry, seed=1))
    assert set(analytic) == set(expected)
    for output, tree in expected.items():
        assert set(analytic[output]) == set(tree), output
        for key, want in tree.items():
            assert analytic[output][key].shape == want.shape, (output, key)
            if output != "step":
                assert analytic[output][key].dtype == dtype, (output, key)
    assert worst_difference(analytic, expected) <= TOLERANCE[np.dtype(dtype)]
    # The update returns new arrays: its arguments are left as they were.
    for key, value in untouched["parameters"].items():
        np.testing.assert_array_equal(inputs["parameters"][key], value)
    for before, after in zip(untouched["gradients"], inputs["gradients"]):
        for key in before:
            np.testing.assert_array_equal(after[key], before[key])


def _diagonal_blocks(jacobian, shapes):
    """``{key: (n, n)}`` from ``jacfwd``'s ``{key_out: {key_in: out_shape + in_shape}}``,
    after checking that every block across two keys is zero."""
    blocks = {}
    for key_out, row in jacobian.items():
        for key_in, block in row.items():
            block = np.asarray(block)
            if key_in != key_out:
                assert not block.any(), (key_out, key_in)
            else:
                n = int(np.prod(shapes[key_out]))
                blocks[key_out] = block.reshape(n, n)
    return blocks


def check_jacobian(entry, derived, inputs):
    """Asserts that ``jax.jacfwd`` of the entry's JAX statement with respect to the last
    gradient is diagonal (no block across two keys, nothing off the diagonal) with
    ``derived[output][key]`` (each of the parameter's shape) on the diagonal."""
    last = {k: jnp.asarray(v) for k, v in inputs["gradients"][-1].items()}
    jacobian = jax.jacfwd(lambda g: entry.jax_update(inputs, g))(last)
    shapes = {k: np.shape(v) for k, v in inputs["parameters"].items()}
    assert set(jacobian) == {k for k, tree in derived.items() if tree}
    for output, per_key in jacobian.items():
        blocks = _diagonal_blocks(per_key, shapes)
        for key, block in blocks.items():
            assert not (block - np.diag(np.diag(block))).any(), (output, key)
            want = np.asarray(derived[output][key]).ravel()
            assert np.abs(want).max() > 0, (output, key)
            assert relative_difference(np.diag(block), want) <= TOLERANCE[np.dtype(np.float64)], (
                output, key)


def check_central_differences(entry, derived, inputs, backend):
    """Asserts that cnn_core's step, differentiated by central differences in each entry
    of the gradient (float64, a step of 1e-4 of the entry: a truncation error of about
    1e-8 of the derivative even where Adam's step bends most, a rounding error below
    1e-6 of it), has the Jacobian ``diag(derived)``, to 1e-5 of each block's largest."""
    derived = {output: tree for output, tree in derived.items() if tree}
    gradients = inputs["gradients"][0]
    for key_in, g in gradients.items():
        for index in np.ndindex(g.shape):
            h = 1e-4 * abs(g[index])
            outs = []
            for sign in (1, -1):
                moved = {k: v.copy() for k, v in gradients.items()}
                moved[key_in][index] += sign * h
                outs.append(entry.analytic({**inputs, "gradients": [moved]}, backend))
            for output, tree in derived.items():
                for key_out, want in tree.items():
                    column = (outs[0][output][key_out] - outs[1][output][key_out]) / (2 * h)
                    expected = np.zeros(np.shape(want))
                    if key_out == key_in:
                        expected[index] = want[index]
                    scale = np.abs(want).max()
                    assert np.abs(column - expected).max() <= 1e-5 * scale, (
                        output, key_out, key_in, index)


@pytest.mark.parametrize("name", ONE_STEP)
def test_jax_jacobian_is_the_hand_derived_diagonal(name):
    """The JAX statement's Jacobian with respect to the gradient is the entry's
    hand-derived diagonal: a second, independent derivation of the step as a function
    of the gradient."""
    entry = ENTRIES[name]
    inputs = update_inputs(entry, seed=2)
    check_jacobian(entry, entry.derivative(inputs), inputs)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ONE_STEP)
def test_cnn_core_update_has_the_derived_derivative(name, backend):
    """cnn_core's step, differentiated by central differences, has the same diagonal."""
    entry = ENTRIES[name]
    inputs = update_inputs(entry, seed=3)
    check_central_differences(entry, entry.derivative(inputs), inputs, backend)


def _a_wrong_derivation(derived, inputs):
    """A plausible wrong derivation: Adam's denominator taken as a constant (forgetting
    that ``s`` depends on g), momentum's ``(1 - beta)`` forgotten, gradient descent's
    sign flipped."""
    h = inputs["hyper"]
    wrong = {output: dict(tree) for output, tree in derived.items()}
    for key, value in derived["parameters"].items():
        if "beta1" in h:
            c1, c2 = 1 - h["beta1"] ** inputs["t"], 1 - h["beta2"] ** inputs["t"]
            g = inputs["gradients"][0][key]
            state = inputs["state"] or {"v": {key: 0.0}, "s": {key: 0.0}}
            r = np.sqrt((h["beta2"] * state["s"][key] + (1 - h["beta2"]) * g * g) / c2)
            wrong["parameters"][key] = -h["learning_rate"] * (1 - h["beta1"]) / (
                c1 * (r + h["epsilon"]))
        elif "beta" in h:
            wrong["parameters"][key] = value / (1 - h["beta"])
        else:
            wrong["parameters"][key] = -value
    return wrong


@pytest.mark.parametrize("name", ONE_STEP)
def test_a_wrong_derivative_is_caught(name):
    entry = ENTRIES[name]
    inputs = update_inputs(entry, seed=2)
    wrong = _a_wrong_derivation(entry.derivative(inputs), inputs)
    with pytest.raises(AssertionError):
        check_jacobian(entry, wrong, inputs)
    with pytest.raises(AssertionError):
        check_central_differences(entry, wrong, inputs, BACKENDS[-1])


# ---------------------------------------------------------------------------------------
# Wrong variants: each must be caught by every entry of its optimizer it applies to.
# ---------------------------------------------------------------------------------------

def _gd_variant(sign=1.0, skip_biases=False):
    def update(parameters, grads, learning_rate):
        return {k: p if (skip_biases and k[0] == "b") else p - sign * learning_rate * grads[f"d{k}"]
                for k, p in parameters.items()}
    return update


def _momentum_variant(damp=True, old_velocity=False, swap=False):
    def update(parameters, grads, v, beta, learning_rate):
        new_v, new_p = {}, {}
        for k, p in parameters.items():
            g, old = grads[f"d{k}"], v[f"d{k}"]
            a, c = ((1 - beta), beta) if swap else (beta, 1 - beta)
            new_v[f"d{k}"] = a * old + (c * g if damp else g)
            new_p[k] = p - learning_rate * (old if old_velocity else new_v[f"d{k}"])
        return new_p, new_v
    return update


def _adam_variant(correct=True, t_shift=0, frozen_t=False, eps_inside=False, square=True,
                  swap_corrections=False):
    def update(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
               epsilon=1e-8):
        t = 1 if frozen_t else t + t_shift
        c1, c2 = (1 - beta1 ** t, 1 - beta2 ** t) if correct else (1.0, 1.0)
        if swap_corrections:
            c1, c2 = c2, c1
        out = ({}, {}, {}, {}, {})
        for k, p in parameters.items():
            g = grads[f"d{k}"]
            nv = beta1 * v[f"d{k}"] + (1 - beta1) * g
            ns = beta2 * s[f"d{k}"] + (1 - beta2) * (np.square(g) if square else np.abs(g))
            vc, sc = nv / c1, ns / c2
            denominator = np.sqrt(sc + epsilon) if eps_inside else np.sqrt(sc) + epsilon
            out[0][k] = p - learning_rate * vc / denominator
            for d, value in zip(out[1:], (nv, ns, vc, sc)):
                d[f"d{k}"] = value
        return out
    return update


def _any(entry, inputs):
    return True


def _after_step_one(entry, inputs):
    return inputs["t"] + len(inputs["gradients"]) - 1 > 1


def _drawn_velocity(entry, inputs):
    return inputs["state"] is not None or len(inputs["gradients"]) > 1


#: ``{name: (optimizer, wrong update, applies(entry, inputs))}``.
WRONG_UPDATES = {
    "gd: gradient ascent": ("gd", _gd_variant(sign=-1.0), _any),
    "gd: biases not updated": ("gd", _gd_variant(skip_biases=True), _any),
    "momentum: no (1 - beta) on the gradient": ("momentum", _momentum_variant(damp=False), _any),
    "momentum: step with the old velocity": ("momentum", _momentum_variant(old_velocity=True),
                                             _drawn_velocity),
    "momentum: beta and 1 - beta swapped": ("momentum", _momentum_variant(swap=True), _any),
    "adam: no bias correction": ("adam", _adam_variant(correct=False), _any),
    "adam: bias correction with t + 1": ("adam", _adam_variant(t_shift=1), _any),
    "adam: bias correction frozen at t = 1": ("adam", _adam_variant(frozen_t=True),
                                              _after_step_one),
    "adam: epsilon inside the square root": ("adam", _adam_variant(eps_inside=True), _any),
    "adam: s averages |g| instead of g**2": ("adam", _adam_variant(square=False), _any),
    "adam: corrections swapped": ("adam", _adam_variant(swap_corrections=True), _any),
}
_FUNCTION = {"gd": "update_parameters_with_gd", "momentum": "update_parameters_with_momentum",
             "adam": "update_parameters_with_adam"}
_CORRECT = {"gd": _gd_variant(), "momentum": _momentum_variant(), "adam": _adam_variant()}


def _cases():
    for wrong, (optimizer, _, applies) in WRONG_UPDATES.items():
        for name, entry in ENTRIES.items():
            if entry.optimizer == optimizer and applies(entry, update_inputs(entry, seed=4)):
                yield pytest.param(wrong, name, id=f"{wrong} / {name}")


def test_every_wrong_update_applies_somewhere():
    applied = {case.values[0] for case in _cases()}
    assert applied == set(WRONG_UPDATES)


def test_every_update_entry_is_shown_to_fail():
    shown = {case.values[1] for case in _cases()}
    assert shown == set(ENTRIES)


@pytest.mark.parametrize("wrong, name", list(_cases()))
def test_a_wrong_update_is_caught(wrong, name, monkeypatch):
    entry = ENTRIES[name]
    optimizer, update, _ = WRONG_UPDATES[wrong]
    inputs = update_inputs(entry, seed=4)
    expected = _compared(entry.reference(inputs), inputs)
    backend = BACKENDS[-1]
    # The test's own correct variant passes, so the failure below is the mistake's.
    monkeypatch.setattr(improving, _FUNCTION[optimizer], _CORRECT[optimizer])
    assert worst_difference(_compared(entry.analytic(inputs, backend), inputs), expected) \
        <= TOLERANCE[np.dtype(np.float64)]
    monkeypatch.setattr(improving, _FUNCTION[optimizer], update)
    assert worst_difference(_compared(entry.analytic(inputs, backend), inputs), expected) > 1e-3


# ---------------------------------------------------------------------------------------
# Completeness: every update of cnn_core.improving is in the table.
# ---------------------------------------------------------------------------------------

def _update_functions():
    return {f"{improving.__name__}.{attr}": value for attr, value in vars(improving).items()
            if attr.startswith("update_parameters_with_") and inspect.isfunction(value)
            and value.__module__ == improving.__name__}


def _registered_updates():
    return {id(t) for entry in UPDATES for t in entry.targets}


def test_every_update_is_registered():
    found = _update_functions()
    assert len(found) >= 3
    missing = [name for name, fn in found.items() if id(fn) not in _registered_updates()]
    assert not missing, f"update functions without an UPDATES entry: {missing}"
    # The states the entries start from come from cnn_core's own initializers.
    assert {id(improving.initialize_velocity), id(improving.initialize_adam)} \
        <= _registered_updates()


def test_the_update_check_notices_a_new_unregistered_update(monkeypatch):
    def update_parameters_with_rmsprop(parameters, grads, s, beta, learning_rate):
        return parameters, s

    update_parameters_with_rmsprop.__module__ = improving.__name__
    monkeypatch.setattr(improving, "update_parameters_with_rmsprop",
                        update_parameters_with_rmsprop, raising=False)
    assert "cnn_core.improving.update_parameters_with_rmsprop" in _update_functions()
    assert id(update_parameters_with_rmsprop) not in _registered_updates()


# ---------------------------------------------------------------------------------------
# Drawn cases: any network, state, step number and hyperparameters.
# ---------------------------------------------------------------------------------------

_BY_OPTIMIZER = {}
for _entry in UPDATES:
    _BY_OPTIMIZER.setdefault(_entry.optimizer, _entry)


@settings(max_examples=25, deadline=None)
@given(dims=st.lists(st.integers(1, 5), min_size=2, max_size=4),
       t=st.integers(1, 2000), steps=st.integers(1, 3), zero_state=st.booleans(),
       learning_rate=st.floats(1e-4, 1.0), beta=st.floats(0.0, 0.99),
       beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999), epsilon=st.floats(1e-8, 1e-4),
       seed=st.integers(0, 2**32 - 1))
def test_drawn_updates_equal_their_jax_statement(dims, t, steps, zero_state, learning_rate,
                                                 beta, beta1, beta2, epsilon, seed):
    """The three updates against JAX on drawn networks (W{l} (n_l, n_{l-1}), b{l}
    (n_l, 1)), 1 to 3 consecutive steps from a drawn or a zero state, any step number,
    float64, both backends."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1]))
        params[f"b{l}"] = rng.standard_normal((dims[l], 1))
    scales = {k: 10.0 ** rng.uniform(-5, 1, v.shape) for k, v in params.items()}
    gradients = [{k: rng.standard_normal(v.shape) * scales[k] for k, v in params.items()}
                 for _ in range(steps)]
    hyper = {"gd": {"learning_rate": learning_rate},
             "momentum": {"learning_rate": learning_rate, "beta": beta},
             "adam": {"learning_rate": learning_rate, "beta1": beta1, "beta2": beta2,
                      "epsilon": epsilon}}
    for optimizer, entry in _BY_OPTIMIZER.items():
        state = None
        if optimizer != "gd" and not zero_state:
            state = {"v": {k: rng.standard_normal(v.shape) * scales[k] for k, v in params.items()},
                     "s": {k: (rng.standard_normal(v.shape) * scales[k]) ** 2
                           for k, v in params.items()}}
            if optimizer == "momentum":
                del state["s"]
        inputs = {"parameters": params, "gradients": gradients, "state": state, "t": t,
                  "hyper": hyper[optimizer]}
        expected = _compared(entry.reference(inputs), inputs)
        for backend in BACKENDS:
            analytic = _compared(entry.analytic(inputs, backend), inputs)
            assert worst_difference(analytic, expected) <= TOLERANCE[np.dtype(np.float64)], (
                optimizer, backend)
