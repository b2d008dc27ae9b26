"""The compiled kernels directly: layouts, dtypes and the checks made before the GIL drops."""
import numpy as np
import pytest

from cnn_core import _backend

from conftest import NUMPY_ONLY

pytestmark = pytest.mark.skipif(NUMPY_ONLY, reason="pure-NumPy run: no compiled kernels")

DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-12, np.float32: 1e-5}


@pytest.fixture
def K():
    return _backend.kernels()


def _layer(n, n_prev, m, dtype, a_order="C", w_order="C", seed=0):
    rng = np.random.default_rng(seed)
    A_prev = np.asarray(rng.standard_normal((n_prev, m)), dtype=dtype, order=a_order)
    W = np.asarray(rng.standard_normal((n, n_prev)), dtype=dtype, order=w_order)
    b = rng.standard_normal((n, 1)).astype(dtype)
    return A_prev, W, b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_order", ["C", "F"])
@pytest.mark.parametrize("w_order", ["C", "F"])
@pytest.mark.parametrize("shape", [(5, 7, 9), (1, 7, 9), (5, 1, 9), (5, 7, 1), (1, 1, 1)])
@pytest.mark.parametrize("activation", ["identity", "relu", "sigmoid", "tanh"])
def test_linear_activation_forward_matches_numpy(K, dtype, a_order, w_order, shape, activation):
    n, n_prev, m = shape
    A_prev, W, b = _layer(n, n_prev, m, dtype, a_order, w_order)
    Z = np.empty((n, m), dtype)
    A = np.empty((n, m), dtype)
    K.linear_activation_forward(A_prev, W, b, Z, A, K.ACTIVATION_CODES[activation])
    Z_ref = W.astype(np.float64) @ A_prev.astype(np.float64) + b
    g = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0),
         "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}[activation]
    np.testing.assert_allclose(Z, Z_ref, rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(A, g(Z_ref), rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_order", ["C", "F"])
@pytest.mark.parametrize("w_order", ["C", "F"])
@pytest.mark.parametrize("shape", [(5, 7, 9), (1, 7, 9), (5, 1, 9), (5, 7, 1)])
def test_linear_backward_matches_numpy(K, dtype, a_order, w_order, shape):
    n, n_prev, m = shape
    A_prev, W, _ = _layer(n, n_prev, m, dtype, a_order, w_order)
    dZ = np.random.default_rng(1).standard_normal((n, m)).astype(dtype)
    dA_prev = np.empty((n_prev, m), dtype)
    dW = np.empty((n, n_prev), dtype)
    db = np.empty((n, 1), dtype)
    K.linear_backward(dZ, A_prev, W, dA_prev, dW, db)
    d64, a64, w64 = (x.astype(np.float64) for x in (dZ, A_prev, W))
    tol = TOL[dtype]
    np.testing.assert_allclose(dW, d64 @ a64.T / m, rtol=tol, atol=tol)
    np.testing.assert_allclose(db, d64.sum(axis=1, keepdims=True) / m, rtol=tol, atol=tol)
    np.testing.assert_allclose(dA_prev, w64.T @ d64, rtol=tol, atol=tol)


def test_linear_backward_skips_dA_prev_when_not_asked(K):
    A_prev, W, _ = _layer(3, 4, 5, np.float64)
    dZ = np.ones((3, 5))
    dW, db = np.empty((3, 4)), np.empty((3, 1))
    K.linear_backward(dZ, A_prev, W, None, dW, db)
    np.testing.assert_allclose(dW, dZ @ A_prev.T / 5, rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "identity"])
def test_activation_backward_matches_numpy(K, activation):
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((4, 6))
    Z[0, 0] = 0.0  # relu's kink: the course's convention gives 0 there
    dA = rng.standard_normal((4, 6))
    dZ = np.empty_like(Z)
    K.activation_backward(dA, Z, dZ, K.ACTIVATION_CODES[activation])
    s = 1 / (1 + np.exp(-Z))
    slope = {"relu": (Z > 0).astype(float), "sigmoid": s * (1 - s),
             "tanh": 1 - np.tanh(Z) ** 2, "identity": np.ones_like(Z)}[activation]
    np.testing.assert_allclose(dZ, dA * slope, rtol=1e-12, atol=1e-15)


def test_cross_entropy_is_finite_at_saturation(K):
    A = np.array([[0.0, 1.0, 0.0, 1.0, 0.5]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    cost = K.cross_entropy(A, Y)
    assert np.isfinite(cost)
    # Correct saturated predictions cost 0; wrong ones cost -log(tiny) each.
    expected = (-np.log(np.finfo(float).tiny) - np.log1p(-(1 - np.finfo(float).epsneg))
                - np.log(0.5)) / 5
    assert cost == pytest.approx(expected, rel=1e-12)


def test_shape_errors_name_the_argument(K):
    A_prev, W, b = _layer(3, 4, 5, np.float64)
    Z, A = np.empty((3, 5)), np.empty((3, 5))
    code = K.ACTIVATION_CODES["relu"]
    with pytest.raises(ValueError, match=r"A_prev must have shape \(n_prev, m\) = \(4, 5\)"):
        K.linear_activation_forward(A_prev[:3].copy(), W, b, np.empty((3, 5)), A, code)
    with pytest.raises(ValueError, match=r"b must have shape \(n, 1\) = \(3, 1\)"):
        K.linear_activation_forward(A_prev, W, np.zeros((2, 1)), Z, A, code)
    with pytest.raises(ValueError, match=r"Z must have shape"):
        K.linear_activation_forward(A_prev, W, b, np.empty((3, 4)), A, code)
    with pytest.raises(ValueError, match="activation code"):
        K.linear_activation_forward(A_prev, W, b, Z, A, 17)
    with pytest.raises(ValueError, match=r"dW must have shape W.shape"):
        K.linear_backward(np.ones((3, 5)), A_prev, W, None, np.empty((4, 3)), np.empty((3, 1)))


def test_non_contiguous_inputs_are_refused_with_the_name(K):
    A_prev, W, b = _layer(3, 8, 5, np.float64)
    strided = A_prev[::2]  # (4, 5), neither C- nor Fortran-contiguous
    with pytest.raises(ValueError, match="A_prev must be C- or Fortran-contiguous"):
        K.linear_activation_forward(strided, W[:, :4].copy(), b, np.empty((3, 5)),
                                    np.empty((3, 5)), 1)


def test_read_only_inputs_work_and_read_only_outputs_are_refused(K):
    A_prev, W, b = _layer(3, 4, 5, np.float64)
    for arr in (A_prev, W, b):
        arr.setflags(write=False)
    Z, A = np.empty((3, 5)), np.empty((3, 5))
    K.linear_activation_forward(A_prev, W, b, Z, A, 0)
    np.testing.assert_allclose(Z, W @ A_prev + b, rtol=1e-12)
    Z.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        K.linear_activation_forward(A_prev, W, b, Z, A, 0)


def test_mixed_dtypes_are_refused(K):
    A_prev, W, b = _layer(3, 4, 5, np.float64)
    with pytest.raises((TypeError, ValueError)):
        K.linear_activation_forward(A_prev.astype(np.float32), W, b, np.empty((3, 5)),
                                    np.empty((3, 5)), 0)


def _ulp_error(got, want):
    return np.abs(got - want) / np.spacing(np.abs(want)).clip(min=np.finfo(float).smallest_subnormal)


@pytest.mark.parametrize("function, bound", [("exp", 1), ("tanh", 2), ("sigmoid", 2)])
def test_vectorised_math_is_accurate_to_a_few_ulp(K, function, bound):
    x = np.concatenate([np.linspace(-40, 40, 40001), np.geomspace(1e-300, 1, 500),
                        -np.geomspace(1e-300, 1, 500), [0.0]])
    out = np.empty_like(x)
    K.vectorised_math(function, x, out)
    e = np.exp(-np.abs(x))
    want = {"exp": np.exp(x), "tanh": np.tanh(x),
            "sigmoid": np.where(x >= 0, 1 / (1 + e), e / (1 + e))}[function]
    assert _ulp_error(out, want).max() <= bound


def test_vectorised_math_at_the_extremes(K):
    x = np.array([-1000.0, -709.0, 709.0, 1000.0])
    out = np.empty_like(x)
    K.vectorised_math("tanh", x, out)
    assert out.tolist() == [-1.0, -1.0, 1.0, 1.0]
    K.vectorised_math("sigmoid", x, out)
    assert out[0] == 0.0 and out[1] < 1e-300 and out[2] == 1.0 and out[3] == 1.0
    with pytest.raises(ValueError, match="function must be"):
        K.vectorised_math("log", x, out)
