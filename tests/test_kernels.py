"""The public compiled API, cnn_core.kernels: layouts, dtypes, out= buffers and the
checks made before the GIL drops."""
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
    Z, A = K.linear_activation_forward(A_prev, W, b, activation)
    assert Z.dtype == A.dtype == dtype and Z.flags.c_contiguous
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
    dA_prev, dW, db = K.linear_backward(dZ, A_prev, W)
    assert dA_prev.dtype == dW.dtype == db.dtype == dtype
    d64, a64, w64 = (x.astype(np.float64) for x in (dZ, A_prev, W))
    tol = TOL[dtype]
    np.testing.assert_allclose(dW, d64 @ a64.T / m, rtol=tol, atol=tol)
    np.testing.assert_allclose(db, d64.sum(axis=1, keepdims=True) / m, rtol=tol, atol=tol)
    np.testing.assert_allclose(dA_prev, w64.T @ d64, rtol=tol, atol=tol)


def test_linear_backward_skips_dA_prev_when_not_asked(K):
    A_prev, W, _ = _layer(3, 4, 5, np.float64)
    dZ = np.random.default_rng(3).standard_normal((3, 5))
    dA_prev, dW, db = K.linear_backward(dZ, A_prev, W, need_dA_prev=False)
    assert dA_prev is None
    np.testing.assert_allclose(dW, dZ @ A_prev.T / 5, rtol=1e-12)
    np.testing.assert_allclose(db, dZ.sum(axis=1, keepdims=True) / 5, rtol=1e-12)


def test_out_buffers_are_filled_and_returned(K):
    A_prev, W, b = _layer(3, 4, 5, np.float64)
    Z, A = np.full((3, 5), np.nan), np.full((3, 5), np.nan)
    Z_out, A_out = K.linear_activation_forward(A_prev, W, b, "tanh", Z=Z, A=A)
    assert Z_out is Z and A_out is A
    np.testing.assert_allclose(A, np.tanh(W @ A_prev + b), rtol=1e-14)
    dZ = np.random.default_rng(4).standard_normal((3, 5))
    dA_prev, dW, db = np.empty((4, 5)), np.empty((3, 4)), np.empty((3, 1))
    got = K.linear_backward(dZ, A_prev, W, dA_prev=dA_prev, dW=dW, db=db)
    assert got[0] is dA_prev and got[1] is dW and got[2] is db
    np.testing.assert_allclose(dA_prev, W.T @ dZ, rtol=1e-14)
    out = np.empty((3, 5))
    assert K.activation_backward(dZ, Z, "relu", dZ=out) is out
    np.testing.assert_array_equal(out, np.where(Z > 0, dZ, 0))


def test_identity_forward_without_A_returns_Z_itself(K):
    A_prev, W, b = _layer(3, 4, 5, np.float64)
    Z, A = K.linear_activation_forward(A_prev, W, b, "identity")
    assert A is Z


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "identity"])
def test_activation_backward_matches_numpy(K, activation):
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((4, 6))
    Z[0, 0] = 0.0  # relu's kink: the course's convention gives 0 there
    dA = rng.standard_normal((4, 6))
    dZ = K.activation_backward(dA, Z, K.ACTIVATION_CODES[activation])
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


# ---------------------------------------------------------------------------------------
# Bad arguments: one case each, so that one failure does not hide the others.
# ---------------------------------------------------------------------------------------

def _forward_args():
    A_prev, W, b = _layer(3, 4, 5, np.float64)
    return {"A_prev": A_prev, "W": W, "b": b, "activation": "relu"}


def _frozen(shape):
    arr = np.empty(shape)
    arr.setflags(write=False)
    return arr


FORWARD_CASES = {
    "A_prev rows": (dict(A_prev=np.ones((3, 5))), ValueError,
                    r"A_prev must have shape \(n_prev, m\) = \(4, 5\); got \(3, 5\)"),
    "b shape": (dict(b=np.zeros((2, 1))), ValueError, r"b must have shape \(n, 1\)"),
    "Z shape": (dict(Z=np.empty((3, 4))), ValueError, r"Z must have shape \(n, m\)"),
    "A read-only": (dict(A=_frozen((3, 5))), ValueError, "A must be writeable"),
    "A Fortran": (dict(A=np.asfortranarray(np.empty((3, 5)))), ValueError,
                  "A must be C-contiguous"),
    "Z overlaps A_prev": ("alias", ValueError, "Z must not overlap A_prev"),
    "activation code": (dict(activation=17), ValueError, "activation must be one of"),
    "activation name": (dict(activation="softplus"), ValueError, "activation must be one of"),
    "A_prev strided": (dict(A_prev=np.ones((4, 10))[:, ::2]), ValueError,
                       "A_prev must be C- or Fortran-contiguous"),
    "A_prev float32": (dict(A_prev=np.ones((4, 5), np.float32)), TypeError,
                       "W has dtype float64 but A_prev has float32"),
    "W int": (dict(W=np.ones((3, 4), np.int64)), TypeError, "W must be float64 or float32"),
    "b list": (dict(b=[[0.0]] * 3), TypeError, "b must be a NumPy array"),
    "W 3-D": (dict(W=np.ones((3, 4, 1))), ValueError, "W must be 2-D"),
    "empty batch": (dict(A_prev=np.ones((4, 0))), ValueError, "m must be positive"),
    "Z float32": (dict(Z=np.empty((3, 5), np.float32)), TypeError,
                  "Z must have the inputs' dtype float64"),
}


@pytest.mark.parametrize("case", FORWARD_CASES, ids=list(FORWARD_CASES))
def test_forward_refuses_bad_arguments(K, case):
    change, error, message = FORWARD_CASES[case]
    args = _forward_args()
    if change == "alias":
        buffer = np.zeros((4, 5))
        args["A_prev"], change = buffer, {"Z": buffer[:3]}
    args.update(change)
    with pytest.raises(error, match=message):
        K.linear_activation_forward(args.pop("A_prev"), args.pop("W"), args.pop("b"),
                                    args.pop("activation"), **args)


BACKWARD_CASES = {
    "dZ rows": (dict(dZ=np.ones((2, 5))), ValueError, r"dZ must have shape \(n, m\)"),
    "dZ Fortran": (dict(dZ=np.asfortranarray(np.ones((3, 5)))), ValueError,
                   "dZ must be C-contiguous"),
    "dW shape": (dict(dW=np.empty((4, 3))), ValueError, r"dW must have shape W.shape"),
    "db shape": (dict(db=np.empty((1, 3))), ValueError, r"db must have shape \(n, 1\)"),
    "dA_prev without need": (dict(need_dA_prev=False, dA_prev=np.empty((4, 5))), ValueError,
                             "dA_prev must be None when need_dA_prev is False"),
    "dW is W": ("alias", ValueError, "dW must not overlap W"),
}


@pytest.mark.parametrize("case", BACKWARD_CASES, ids=list(BACKWARD_CASES))
def test_linear_backward_refuses_bad_arguments(K, case):
    change, error, message = BACKWARD_CASES[case]
    A_prev, W, _ = _layer(3, 4, 5, np.float64)
    args = {"dZ": np.ones((3, 5)), "A_prev": A_prev, "W": W}
    if change == "alias":
        change = {"dW": W}
    args.update(change)
    with pytest.raises(error, match=message):
        K.linear_backward(args.pop("dZ"), args.pop("A_prev"), args.pop("W"), **args)


@pytest.mark.parametrize("case", ["dZ is Z", "dZ is dA", "shape", "dtype"])
def test_activation_backward_refuses_bad_arguments(K, case):
    Z, dA = np.ones((3, 5)), np.ones((3, 5))
    args, message = {"dZ": None}, ""
    if case == "dZ is Z":
        args["dZ"], message = Z, "dZ must not overlap Z"
    elif case == "dZ is dA":
        args["dZ"], message = dA, "dZ must not overlap dA"
    elif case == "shape":
        dA, message = np.ones((3, 4)), r"dA must have shape Z.shape"
    else:
        dA, message = dA.astype(np.float32), "dtype"
    error = TypeError if case == "dtype" else ValueError
    with pytest.raises(error, match=message):
        K.activation_backward(dA, Z, "tanh", **args)


def test_read_only_inputs_are_accepted(K):
    A_prev, W, b = _layer(3, 4, 5, np.float64)
    for arr in (A_prev, W, b):
        arr.setflags(write=False)
    Z, A = K.linear_activation_forward(A_prev, W, b, "sigmoid")
    np.testing.assert_allclose(Z, W @ A_prev + b, rtol=1e-14)


COST_CASES = {
    "Y shape": (np.full((1, 5), 0.5), np.ones((1, 4)), r"Y must have shape \w+\.shape"),
    "empty": (np.ones((1, 0)), np.ones((1, 0)), "must hold at least one example"),
    "Fortran": (np.asfortranarray(np.full((2, 5), 0.5)), np.ones((2, 5)),
                "must be C-contiguous"),
}


@pytest.mark.parametrize("name", ["cross_entropy", "cross_entropy_with_logits"])
@pytest.mark.parametrize("case", COST_CASES, ids=list(COST_CASES))
def test_costs_refuse_bad_arguments(K, name, case):
    first, Y, message = COST_CASES[case]
    with pytest.raises(ValueError, match=message):
        getattr(K, name)(first, Y)


@pytest.mark.parametrize("view", ["strided", "negative stride", "zero stride", "structured field"])
def test_a_bias_of_any_strides_is_read_right(K, view):
    A_prev, W, _ = _layer(3, 4, 5, np.float64)
    values = np.array([[1.0], [2.0], [3.0]])
    if view == "strided":
        b = np.repeat(values, 2, axis=0)[::2]
    elif view == "negative stride":
        b = values[::-1].copy()[::-1]
    elif view == "zero stride":
        values = np.full((3, 1), 2.5)
        b = np.broadcast_to(np.array([[2.5]]), (3, 1))
    else:
        record = np.zeros(3, dtype=[("a", "f8"), ("c", "i4")])
        record["a"] = values[:, 0]
        b = record["a"].reshape(3, 1)
    Z, _ = K.linear_activation_forward(A_prev, W, b, "identity")
    np.testing.assert_allclose(Z, W @ A_prev + values, rtol=1e-14)


@pytest.mark.parametrize("activation", [2.9, True, "1"])
def test_an_activation_code_must_be_an_integer_or_a_name(K, activation):
    A_prev, W, b = _layer(3, 4, 5, np.float64)
    with pytest.raises((TypeError, ValueError), match="activation"):
        K.linear_activation_forward(A_prev, W, b, activation)


def test_the_public_module_lists_its_api(K):
    assert set(K.__all__) == {"ACTIVATION_CODES", "EpochTrainer", "Trainer",
                              "activation_backward", "conv_backward", "conv_forward",
                              "cross_entropy", "cross_entropy_with_logits",
                              "linear_activation_forward", "linear_backward",
                              "pool_backward", "pool_forward"}
    assert all(getattr(K, name).__doc__ for name in K.__all__ if name != "ACTIVATION_CODES")


def _ulp_error(got, want):
    return np.abs(got - want) / np.spacing(np.abs(want)).clip(min=np.finfo(float).smallest_subnormal)


@pytest.mark.parametrize("function, bound", [("exp", 1), ("tanh", 2), ("sigmoid", 2)])
def test_vectorised_math_is_accurate_to_a_few_ulp(K, function, bound):
    x = np.concatenate([np.linspace(-40, 40, 40001), np.geomspace(1e-300, 1, 500),
                        -np.geomspace(1e-300, 1, 500), [0.0]])
    out = np.empty_like(x)
    K._vectorised_math(function, x, out)
    e = np.exp(-np.abs(x))
    want = {"exp": np.exp(x), "tanh": np.tanh(x),
            "sigmoid": np.where(x >= 0, 1 / (1 + e), e / (1 + e))}[function]
    assert _ulp_error(out, want).max() <= bound


def test_vectorised_math_at_the_extremes(K):
    x = np.array([-1000.0, -709.0, 709.0, 1000.0])
    out = np.empty_like(x)
    K._vectorised_math("tanh", x, out)
    assert out.tolist() == [-1.0, -1.0, 1.0, 1.0]
    K._vectorised_math("sigmoid", x, out)
    assert out[0] == 0.0 and out[1] < 1e-300 and out[2] == 1.0 and out[3] == 1.0
    with pytest.raises(ValueError, match="function must be"):
        K._vectorised_math("log", x, out)
