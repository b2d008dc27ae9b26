"""Activations: textbook values in the normal range, finite and silent at the extremes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnn_core import activations
from cnn_core.activations import ACTIVATIONS

from helpers import central_difference


def textbook_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_sigmoid_matches_the_textbook_in_the_normal_range():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(activations.sigmoid(x), textbook_sigmoid(x), rtol=1e-15, atol=0)
    assert activations.sigmoid(0) == 0.5
    assert activations.sigmoid(np.array([1, 2, 3])).tolist() == pytest.approx(
        [0.7310585786300049, 0.8807970779778823, 0.9525741268224334], rel=1e-15)


def test_sigmoid_of_a_scalar_is_a_scalar_and_float32_stays_float32():
    assert np.ndim(activations.sigmoid(3.0)) == 0
    assert activations.sigmoid(np.float32(3.0)).dtype == np.float32
    assert activations.sigmoid(np.zeros((2, 3), np.float32)).dtype == np.float32


@pytest.mark.parametrize("fn", [activations.sigmoid, activations.sigmoid_derivative,
                                activations.relu, activations.tanh])
def test_elementwise_activations_are_finite_and_silent_at_extremes(fn):
    # The suite turns warnings into errors, so an overflow warning would fail here.
    x = np.array([-1000.0, -745.0, -40.0, 0.0, 40.0, 745.0, 1000.0])
    y = fn(x)
    assert y.shape == x.shape and np.isfinite(y).all()


def test_sigmoid_limits():
    y = activations.sigmoid(np.array([-1000.0, 1000.0, -np.inf, np.inf]))
    assert y.tolist() == [0.0, 1.0, 0.0, 1.0]


def test_sigmoid_derivative_matches_a_central_difference():
    x = np.linspace(-6, 6, 25)
    numeric = (activations.sigmoid(x + 1e-6) - activations.sigmoid(x - 1e-6)) / 2e-6
    np.testing.assert_allclose(activations.sigmoid_derivative(x), numeric, rtol=1e-6, atol=1e-12)
    assert activations.sigmoid_derivative(0.0) == 0.25


def test_relu():
    assert activations.relu(np.array([-2.0, 0.0, 3.5])).tolist() == [0.0, 0.0, 3.5]


def test_softmax_rows_sum_to_one_and_match_the_formula():
    x = np.array([[9.0, 2, 5, 0, 0], [7, 5, 0, 0, 0]])
    s = activations.softmax(x)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-15)
    e = np.exp(x)
    np.testing.assert_allclose(s, e / e.sum(axis=1, keepdims=True), rtol=1e-14)


def test_softmax_of_a_row_vector_and_a_1d_vector():
    row = activations.softmax(np.array([[1.0, 2.0, 3.0]]))
    flat = activations.softmax(np.array([1.0, 2.0, 3.0]))
    assert row.shape == (1, 3) and flat.shape == (3,)
    np.testing.assert_allclose(row[0], flat, rtol=1e-15)


def test_softmax_is_finite_at_extremes():
    s = activations.softmax(np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]]))
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-300)


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                  elements=st.floats(-1000, 1000)))
def test_softmax_is_a_distribution_for_any_finite_input(x):
    s = activations.softmax(x)
    assert np.isfinite(s).all() and (s >= 0).all()
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("fn", [activations.sigmoid, activations.relu, activations.softmax])
def test_bad_input(fn):
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        fn(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="NaN"):
        fn(np.array([[1.0, np.nan]]))


def test_softmax_rejects_three_dimensions():
    with pytest.raises(ValueError, match=r"x must be a 1-D or 2-D array; got ndim=3"):
        activations.softmax(np.zeros((2, 2, 2)))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_registered_backward_is_the_derivative_of_the_forward(name):
    """Each registry entry's backward equals d/dZ of sum(dA * forward(Z))."""
    entry = ACTIVATIONS[name]
    rng = np.random.default_rng(3)
    Z = rng.uniform(-3, 3, (3, 4))
    Z[np.abs(Z) < 0.05] = 0.5  # keep central differences away from relu's kink
    dA = rng.standard_normal((3, 4))
    numeric = central_difference(lambda: float(np.sum(dA * entry.forward(Z))), Z)
    np.testing.assert_allclose(entry.backward(dA, Z), numeric, rtol=1e-7, atol=1e-9)


def test_one_table_of_activations_the_kernels_and_the_reference_agree():
    """The names and codes of the table are those of the compiled kernels and of JAX."""
    from cnn_core import _backend

    from cnn_core import reference

    assert set(reference.ops.ACTIVATIONS) == set(ACTIVATIONS)
    codes = {name: a.code for name, a in ACTIVATIONS.items()}
    assert len(set(codes.values())) == len(codes)
    assert all(a.name == name for name, a in ACTIVATIONS.items())
    if _backend.HAVE_EXTENSION:
        assert dict(_backend.kernels().ACTIVATION_CODES) == codes


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_each_slope_equals_jax_grad_of_the_tables_jax_form(name):
    """The table's derivative (written from the output) and its JAX form agree, and the
    JAX form computes the forward: one row of the table, checked against itself."""
    jax = pytest.importorskip("jax", reason="JAX comes with the test extra")
    from cnn_core import reference

    entry = ACTIVATIONS[name]
    g = reference.ops.ACTIVATIONS[name]
    Z = np.array([-3.0, -0.7, -1e-3, 0.0, 2e-3, 0.4, 2.5])
    np.testing.assert_allclose(np.asarray(g(Z)), entry.forward(Z), rtol=1e-14, atol=1e-15)
    autodiff = np.array([float(jax.grad(g)(z)) for z in Z])
    np.testing.assert_allclose(entry.slope(entry.forward(Z)), autodiff, rtol=1e-14, atol=1e-15)


def test_a_renumbered_kernel_enum_is_refused_at_import(monkeypatch):
    from cnn_core import _backend, _ops

    if not _backend.HAVE_EXTENSION:
        pytest.skip("no compiled kernels to compare (pure-NumPy run asked for explicitly)")
    swapped = dict(_backend.kernels().ACTIVATION_CODES, relu=2, sigmoid=1)
    monkeypatch.setattr(_backend.kernels(), "ACTIVATION_CODES", swapped)
    with pytest.raises(ImportError, match="rebuild the extension"):
        _ops._check_activation_codes()


@pytest.mark.parametrize("given, expected", [("tanh", "tanh"), (3, "tanh"), (np.int64(1), "relu"),
                                             ("identity", "identity")])
def test_resolve_activation_takes_a_name_or_a_code(given, expected):
    assert activations.resolve_activation(given).name == expected


@pytest.mark.parametrize("given, error", [("softplus", ValueError), (9, ValueError),
                                          (True, TypeError), (2.0, TypeError), (None, TypeError)])
def test_resolve_activation_refuses_anything_else(given, error):
    with pytest.raises(error, match="activation must be"):
        activations.resolve_activation(given)
