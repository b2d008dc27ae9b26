"""The compiled convolution and pooling kernels (cnn_core._conv, re-exported by
cnn_core.kernels) against the course's loops, written out here in NumPy; both forms of
the convolution (im2col plus gemm, and direct) forced in turn; every bad argument."""
import numpy as np
import pytest

from conftest import NUMPY_ONLY

pytestmark = pytest.mark.skipif(NUMPY_ONLY, reason="pure-NumPy run: no compiled kernels")

if not NUMPY_ONLY:
    from cnn_core import _conv, kernels as K

DTYPES = [np.float64, np.float32]
RTOL = {np.float64: 1e-10, np.float32: 1e-4}
VARIANTS = ["direct", "im2col"]


# ---------------------------------------------------------------------------------------
# The course's loops (float64), the reference.
# ---------------------------------------------------------------------------------------

def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def conv_forward_loops(A_prev, W, b, stride, pad):
    m, H, Wd, _ = A_prev.shape
    f, _, _, n_C = W.shape
    n_H, n_W = (H - f + 2 * pad) // stride + 1, (Wd - f + 2 * pad) // stride + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_pad = zero_pad(A_prev.astype(np.float64), pad)
    W, b = W.astype(np.float64), b.astype(np.float64)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    a_slice = A_pad[i, h * stride:h * stride + f, w * stride:w * stride + f, :]
                    Z[i, h, w, c] = np.sum(a_slice * W[..., c]) + b[0, 0, 0, c]
    return Z


def conv_backward_loops(dZ, A_prev, W, stride, pad):
    m, n_H, n_W, n_C = dZ.shape
    f = W.shape[0]
    A_pad = zero_pad(A_prev.astype(np.float64), pad)
    dA_pad = np.zeros_like(A_pad)
    W, dZ = W.astype(np.float64), dZ.astype(np.float64)
    dW, db = np.zeros_like(W), np.zeros((1, 1, 1, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    hs, ws = h * stride, w * stride
                    dA_pad[i, hs:hs + f, ws:ws + f, :] += W[..., c] * dZ[i, h, w, c]
                    dW[..., c] += A_pad[i, hs:hs + f, ws:ws + f, :] * dZ[i, h, w, c]
                    db[..., c] += dZ[i, h, w, c]
    H, Wd = A_prev.shape[1:3]
    return dA_pad[:, pad:pad + H, pad:pad + Wd, :], dW, db


def pool_forward_loops(A_prev, f, stride, mode):
    m, H, Wd, n_C = A_prev.shape
    n_H, n_W = (H - f) // stride + 1, (Wd - f) // stride + 1
    A = np.zeros((m, n_H, n_W, n_C))
    reduce = np.max if mode == "max" else np.mean
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    A[i, h, w, c] = reduce(A_prev[i, h * stride:h * stride + f,
                                                  w * stride:w * stride + f, c].astype(np.float64))
    return A


def pool_backward_loops(dA, A_prev, f, stride, mode):
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    hs, ws = h * stride, w * stride
                    if mode == "max":
                        x = A_prev[i, hs:hs + f, ws:ws + f, c]
                        mask = x == np.max(x)
                        dA_prev[i, hs:hs + f, ws:ws + f, c] += mask * float(dA[i, h, w, c])
                    else:
                        dA_prev[i, hs:hs + f, ws:ws + f, c] += float(dA[i, h, w, c]) / (f * f)
    return dA_prev


# ---------------------------------------------------------------------------------------
# Helpers.
# ---------------------------------------------------------------------------------------

@pytest.fixture(params=VARIANTS)
def variant(request):
    previous = _conv._force_variant(request.param)
    yield request.param
    _conv._force_variant(previous)


def _close(got, want, dtype):
    assert got.dtype == dtype and got.flags.c_contiguous
    scale = max(np.abs(want).max(), 1.0)
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)


def _conv_case(seed, dtype):
    """A random layer: m 1..4, channels 1..5, f 1..5, stride 1..3, pad 0..2."""
    rng = np.random.default_rng(seed)
    f, stride, pad = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    m, C, N = (int(v) for v in rng.integers(1, 6, size=3))
    m = min(m, 4)
    H = int(rng.integers(max(1, f - 2 * pad), f + 7))
    Wd = int(rng.integers(max(1, f - 2 * pad), f + 7))
    A_prev = rng.standard_normal((m, H, Wd, C)).astype(dtype)
    W = rng.standard_normal((f, f, C, N)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, N)).astype(dtype)
    return A_prev, W, b, stride, pad


def _shape_out(A_prev, W, stride, pad):
    m, H, Wd, _ = A_prev.shape
    f, n_C = W.shape[0], W.shape[3]
    return m, (H - f + 2 * pad) // stride + 1, (Wd - f + 2 * pad) // stride + 1, n_C


# ---------------------------------------------------------------------------------------
# Values.
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(30))
def test_conv_matches_the_course_loops(variant, dtype, seed):
    A_prev, W, b, stride, pad = _conv_case(seed, dtype)
    Z = K.conv_forward(A_prev, W, b, stride, pad)
    _close(Z, conv_forward_loops(A_prev, W, b, stride, pad), dtype)
    dZ = np.random.default_rng(seed + 1000).standard_normal(Z.shape).astype(dtype)
    dA_prev, dW, db = K.conv_backward(dZ, A_prev, W, stride, pad)
    for got, want in zip((dA_prev, dW, db), conv_backward_loops(dZ, A_prev, W, stride, pad)):
        _close(got, want, dtype)


@pytest.mark.parametrize("stride, pad, f", [(1, 0, 1), (2, 1, 3), (3, 2, 5), (1, 2, 2),
                                           (2, 0, 4), (3, 1, 2)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_wide_channels(variant, dtype, stride, pad, f):
    # More than one block of eight output channels, and a remainder.
    rng = np.random.default_rng(stride * 100 + pad * 10 + f)
    A_prev = rng.standard_normal((2, 7, 6, 9)).astype(dtype)
    W = rng.standard_normal((f, f, 9, 19)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, 19)).astype(dtype)
    Z = K.conv_forward(A_prev, W, b, stride, pad)
    _close(Z, conv_forward_loops(A_prev, W, b, stride, pad), dtype)
    dZ = rng.standard_normal(Z.shape).astype(dtype)
    for got, want in zip(K.conv_backward(dZ, A_prev, W, stride, pad),
                         conv_backward_loops(dZ, A_prev, W, stride, pad)):
        _close(got, want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_two_forms_agree_at_the_course_sizes(dtype):
    # The second convolution of the course's network (8x8x8 -> 8x8x16) on 4 images,
    # and a strided, padded one whose im2col buffer spans several chunks.
    rng = np.random.default_rng(7)
    for shape, wshape, stride, pad in [((4, 8, 8, 8), (3, 3, 8, 16), 1, 1),
                                       ((12, 40, 40, 3), (5, 5, 3, 8), 2, 2)]:
        A_prev = rng.standard_normal(shape).astype(dtype)
        W = rng.standard_normal(wshape).astype(dtype)
        b = rng.standard_normal((1, 1, 1, wshape[3])).astype(dtype)
        dZ = rng.standard_normal(_shape_out(A_prev, W, stride, pad)).astype(dtype)
        results = {}
        for name in VARIANTS:
            previous = _conv._force_variant(name)
            try:
                results[name] = (K.conv_forward(A_prev, W, b, stride, pad),
                                 *K.conv_backward(dZ, A_prev, W, stride, pad))
            finally:
                _conv._force_variant(previous)
        for got, want in zip(results["direct"], results["im2col"]):
            _close(got, want.astype(np.float64), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("seed", range(15))
def test_pool_matches_the_course_loops(dtype, mode, seed):
    rng = np.random.default_rng(seed)
    f, stride = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    m, C = int(rng.integers(1, 5)), int(rng.integers(1, 12))
    H, Wd = int(rng.integers(f, f + 7)), int(rng.integers(f, f + 7))
    A_prev = rng.standard_normal((m, H, Wd, C)).astype(dtype)  # tie-free
    A = K.pool_forward(A_prev, f, stride, mode)
    _close(A, pool_forward_loops(A_prev, f, stride, mode), dtype)
    dA = rng.standard_normal(A.shape).astype(dtype)
    _close(K.pool_backward(dA, A_prev, f, stride, mode),
           pool_backward_loops(dA, A_prev, f, stride, mode), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_backward_without_the_input_gradient(variant, dtype):
    A_prev, W, b, stride, pad = _conv_case(11, dtype)
    dZ = np.random.default_rng(5).standard_normal(_shape_out(A_prev, W, stride, pad))
    dZ = dZ.astype(dtype)
    dA_prev, dW, db = K.conv_backward(dZ, A_prev, W, stride, pad, need_dA_prev=False)
    _, dW_ref, db_ref = conv_backward_loops(dZ, A_prev, W, stride, pad)
    assert dA_prev is None
    _close(dW, dW_ref, dtype)
    _close(db, db_ref, dtype)
    with pytest.raises(ValueError, match="dA_prev must be None when need_dA_prev is False"):
        K.conv_backward(dZ, A_prev, W, stride, pad, need_dA_prev=False,
                        dA_prev=np.empty_like(A_prev))


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_ties_pass_the_gradient_to_every_maximum(dtype):
    # A constant window: every entry is the max and gets the whole dA (the course's
    # mask x == max(x)); overlapping windows (stride 1) accumulate.
    A_prev = np.ones((1, 3, 3, 2), dtype=dtype)
    A_prev[0, :, :, 1] = [[1, 5, 5], [0, 5, 2], [5, 1, 0]]
    dA = np.arange(1, 9, dtype=dtype).reshape(1, 2, 2, 2)
    got = K.pool_backward(dA, A_prev, 2, 1, "max")
    np.testing.assert_array_equal(got, pool_backward_loops(dA, A_prev, 2, 1, "max"))
    # channel 0: entry (1, 1) is in all four windows, the corners in one.
    np.testing.assert_array_equal(got[0, :, :, 0], [[1, 4, 3], [6, 16, 10], [5, 12, 7]])
    # non-overlapping windows: a constant window hands dA to all f^2 entries.
    np.testing.assert_array_equal(
        K.pool_backward(np.full((1, 1, 1, 1), 3, dtype), np.zeros((1, 2, 2, 1), dtype),
                        2, 2, "max"), np.full((1, 2, 2, 1), 3))


def test_max_pool_propagates_nan_and_passes_nothing_back():
    A_prev = np.arange(8.0).reshape(1, 2, 2, 2)
    A_prev[0, 1, 0, 0] = np.nan
    A = K.pool_forward(A_prev, 2, 2, "max")
    assert np.isnan(A[0, 0, 0, 0]) and A[0, 0, 0, 1] == 7
    dA_prev = K.pool_backward(np.ones_like(A), A_prev, 2, 2, "max")
    np.testing.assert_array_equal(dA_prev[..., 0], 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_outputs_given_are_filled_and_returned(dtype):
    A_prev, W, b, stride, pad = _conv_case(3, dtype)
    Z = np.full(_shape_out(A_prev, W, stride, pad), np.nan, dtype)
    assert K.conv_forward(A_prev, W, b, stride, pad, Z=Z) is Z
    dA_prev, dW, db = (np.full_like(A_prev, np.nan), np.full_like(W, np.nan),
                       np.full_like(b, np.nan))
    got = K.conv_backward(Z, A_prev, W, stride, pad, dA_prev=dA_prev, dW=dW, db=db)
    assert got[0] is dA_prev and got[1] is dW and got[2] is db
    for g, want in zip(got, conv_backward_loops(Z, A_prev, W, stride, pad)):
        _close(g, want, dtype)
    A = np.empty((A_prev.shape[0], 1, 1, A_prev.shape[3]), dtype)
    f = min(A_prev.shape[1:3])
    assert K.pool_forward(A_prev, f, f, "average", A=A) is A
    out = np.full_like(A_prev, np.nan)
    assert K.pool_backward(A, A_prev, f, f, "max", dA_prev=out) is out
    _close(out, pool_backward_loops(A, A_prev, f, f, "max"), dtype)


def test_non_contiguous_parameters_are_copied_and_strides_past_the_input_are_one_step():
    rng = np.random.default_rng(0)
    A_prev = rng.standard_normal((2, 5, 5, 3))
    W = np.asfortranarray(rng.standard_normal((3, 3, 3, 4)))
    b = rng.standard_normal((1, 1, 1, 8))[..., ::2]
    want = conv_forward_loops(A_prev, W, b, 2, 1)
    np.testing.assert_allclose(K.conv_forward(A_prev, W, b, 2, 1), want, rtol=1e-12)
    np.testing.assert_allclose(K.conv_forward(A_prev, W, b, np.int64(10**30 // 10**12), 1),
                               conv_forward_loops(A_prev, W, b, 100, 1), rtol=1e-12)
    np.testing.assert_allclose(K.pool_forward(A_prev, 2, 10**20, "max"),
                               pool_forward_loops(A_prev, 2, 100, "max"))


# ---------------------------------------------------------------------------------------
# Bad arguments: a clear error naming the argument, before any work.
# ---------------------------------------------------------------------------------------

def _good():
    rng = np.random.default_rng(0)
    A_prev = rng.standard_normal((2, 5, 5, 3))
    W = rng.standard_normal((3, 3, 3, 4))
    b = rng.standard_normal((1, 1, 1, 4))
    dZ = rng.standard_normal((2, 5, 5, 4))  # stride 1, pad 1
    return A_prev, W, b, dZ


A0, W0, B0, DZ0 = (None,) * 4 if NUMPY_ONLY else _good()

CONV_FORWARD_BAD = [
    ((A0.tolist(), W0, B0, 1, 1), TypeError, "A_prev must be a NumPy array"),
    ((A0.astype(np.int64), W0, B0, 1, 1), TypeError, "A_prev must be float64 or float32"),
    ((A0, W0.astype(np.float32), B0, 1, 1), TypeError, "W has dtype float32 but A_prev"),
    ((A0, W0, B0.astype(np.float32), 1, 1), TypeError, "b has dtype float32"),
    ((A0[0], W0, B0, 1, 1), ValueError, "A_prev must be 4-D"),
    ((A0[..., None], W0, B0, 1, 1), ValueError, "A_prev must be 4-D"),
    ((A0[:, :, ::2], W0, B0, 1, 1), ValueError, "A_prev must be C-contiguous"),
    ((A0[:0], W0, B0, 1, 1), ValueError, "A_prev must have positive sizes"),
    ((A0, W0[0], B0, 1, 1), ValueError, "W must be 4-D"),
    ((A0, W0[:2], B0, 1, 1), ValueError, "W must be a square filter"),
    ((A0, W0[..., :0], B0[..., :0], 1, 1), ValueError, "W must have positive sizes"),
    ((A0, W0[:, :, :2], B0, 1, 1), ValueError, "channel counts must match"),
    ((A0, W0, B0[..., :3], 1, 1), ValueError, r"b must have shape \(1, 1, 1, n_C\)"),
    ((A0, W0, B0.reshape(4), 1, 1), ValueError, r"b must have shape"),
    ((A0, np.zeros((8, 8, 3, 4)), B0, 1, 1), ValueError, "filter size f = 8"),
    ((A0, W0, B0, 0, 1), ValueError, "stride must be positive"),
    ((A0, W0, B0, -2, 1), ValueError, "stride must be positive"),
    ((A0, W0, B0, 1.0, 1), TypeError, "stride must be a positive integer"),
    ((A0, W0, B0, True, 1), TypeError, "stride must be a positive integer"),
    ((A0, W0, B0, "1", 1), TypeError, "stride must be a positive integer"),
    ((A0, W0, B0, 1, -1), ValueError, "pad must be non-negative"),
    ((A0, W0, B0, 1, 0.5), TypeError, "pad must be a non-negative integer"),
    ((A0, W0, B0, 1, None), TypeError, "pad must be a non-negative integer"),
    ((A0, W0, B0, 1, 10**10), ValueError, "padded image size .* exceeds the BLAS"),
    ((A0, W0, B0, 10**30, 10**12), ValueError, "padded image size .* exceeds the BLAS"),
    ((np.zeros((2, 1, 1, 1)), np.zeros((1, 1, 1, 1)), np.zeros((1, 1, 1, 1)), 1, 23000),
     ValueError, "output pixels .* exceeds the BLAS"),
]


@pytest.mark.parametrize("args, error, match", CONV_FORWARD_BAD)
def test_conv_forward_rejects(args, error, match):
    with pytest.raises(error, match=match):
        K.conv_forward(*args)


def _conv_backward_bad():
    return [
        ((DZ0.astype(np.float32), A0, W0, 1, 1), TypeError, "A_prev has dtype float64 but dZ"),
        ((DZ0[0], A0, W0, 1, 1), ValueError, "dZ must be 4-D"),
        ((DZ0[:, :4], A0, W0, 1, 1), ValueError, r"dZ must have shape .* = \(2, 5, 5, 4\)"),
        ((DZ0, A0, W0, 2, 1), ValueError, r"dZ must have shape .* = \(2, 3, 3, 4\)"),
        ((np.asfortranarray(DZ0), A0, W0, 1, 1), ValueError, "dZ must be C-contiguous"),
        ((DZ0, A0, W0[:, :, :2], 1, 1), ValueError, "channel counts must match"),
        ((DZ0, A0, W0, 1, -1), ValueError, "pad must be non-negative"),
        ((DZ0, A0, W0, 0, 1), ValueError, "stride must be positive"),
        ((DZ0, A0, np.zeros((9, 9, 3, 4)), 1, 1), ValueError, "filter size f = 9"),
    ]


@pytest.mark.parametrize("case", range(9))
def test_conv_backward_rejects(case):
    args, error, match = _conv_backward_bad()[case]
    with pytest.raises(error, match=match):
        K.conv_backward(*args)


def test_conv_backward_cases_are_all_run():
    assert len(_conv_backward_bad()) == 9


POOL_BAD = [
    ((A0, 2, 2, "min"), ValueError, "mode must be 'max' or 'average'"),
    ((A0, 2, 2, None), ValueError, "mode must be 'max' or 'average'"),
    ((A0, 0, 1, "max"), ValueError, "f must be positive"),
    ((A0, 2.0, 1, "max"), TypeError, "f must be a positive integer"),
    ((A0, 2, 0, "max"), ValueError, "stride must be positive"),
    ((A0, 2, np.float64(1), "max"), TypeError, "stride must be a positive integer"),
    ((A0, 6, 1, "max"), ValueError, "pooling window f = 6 exceeds the input 5 x 5"),
    ((A0[0], 2, 1, "max"), ValueError, "A_prev must be 4-D"),
    ((A0.astype(np.float16), 2, 1, "max"), TypeError, "A_prev must be float64 or float32"),
    ((A0[:, ::2], 2, 1, "max"), ValueError, "A_prev must be C-contiguous"),
    ((A0[:, :, :, :0], 2, 1, "max"), ValueError, "A_prev must have positive sizes"),
]


@pytest.mark.parametrize("args, error, match", POOL_BAD)
def test_pool_forward_rejects(args, error, match):
    with pytest.raises(error, match=match):
        K.pool_forward(*args)


@pytest.mark.parametrize("args, error, match", POOL_BAD)
def test_pool_backward_rejects(args, error, match):
    dA = np.zeros((2, 2, 2, 3))
    with pytest.raises(error, match=match):
        K.pool_backward(dA, *args)


@pytest.mark.parametrize("dA, error, match", [
    (np.zeros((2, 2, 2, 3), np.float32), TypeError, "A_prev has dtype float64 but dA"),
    (np.zeros((2, 2, 2)), ValueError, "dA must be 4-D"),
    (np.zeros((2, 3, 2, 3)), ValueError, r"dA must have shape .* = \(2, 2, 2, 3\)"),
    (np.zeros((2, 2, 2, 6))[..., ::2], ValueError, "dA must be C-contiguous"),
    ([[0.0]], TypeError, "dA must be a NumPy array"),
])
def test_pool_backward_rejects_a_bad_gradient(dA, error, match):
    with pytest.raises(error, match=match):
        K.pool_backward(dA, A0, 2, 2, "max")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"Z": np.zeros((2, 5, 5, 4), np.float32)}, TypeError, "Z must have the inputs' dtype"),
    ({"Z": np.zeros((2, 5, 5, 3))}, ValueError, r"Z must have shape"),
    ({"Z": np.zeros((2, 5, 5, 8))[..., ::2]}, ValueError, "Z must be C-contiguous"),
    ({"Z": np.zeros((2, 5, 5, 4)).tolist()}, TypeError, "Z must be a NumPy array or None"),
])
def test_conv_forward_rejects_bad_outputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        K.conv_forward(A0, W0, B0, 1, 1, **kwargs)


def test_outputs_must_be_writeable_and_must_not_overlap_an_input():
    Z = np.zeros((2, 5, 5, 4))
    Z.flags.writeable = False
    with pytest.raises(ValueError, match="Z must be writeable"):
        K.conv_forward(A0, W0, B0, 1, 1, Z=Z)
    A_prev = np.zeros((2, 5, 5, 4))
    with pytest.raises(ValueError, match="Z must not overlap A_prev"):
        K.conv_forward(A_prev, np.zeros((1, 1, 4, 4)), B0, 1, 0, Z=A_prev)
    dZ = np.zeros((2, 5, 5, 3))
    with pytest.raises(ValueError, match="dA_prev must not overlap dZ"):
        K.conv_backward(dZ, np.zeros((2, 5, 5, 3)), np.zeros((3, 3, 3, 3)), 1, 1, dA_prev=dZ)
    with pytest.raises(ValueError, match="dW must not overlap W"):
        W = np.zeros((3, 3, 3, 4))
        K.conv_backward(DZ0, A0, W, 1, 1, dW=W)
    with pytest.raises(ValueError, match="dA_prev must not overlap A_prev"):
        K.pool_backward(np.zeros((2, 2, 2, 3)), A0, 2, 2, "max", dA_prev=A0)


def test_the_rule_picks_direct_at_the_course_sizes_and_gemm_for_large_layers():
    # (f, n_C_prev, n_C): the course's two layers, a 32 -> 32 layer, 64 -> 64 and
    # LeNet's first layer (one channel, 5x5: window rows shorter than one vector).
    assert [(_conv._uses_im2col(f, c, n, False), _conv._uses_im2col(f, c, n, True))
            for f, c, n in [(3, 3, 8), (3, 8, 16), (3, 32, 32), (3, 64, 64), (5, 1, 6)]] == \
        [(False, False), (False, False), (False, False), (True, True), (False, True)]


def test_the_kernels_module_re_exports_the_compiled_functions():
    for name in _conv.__all__:
        assert getattr(K, name) is getattr(_conv, name) and name in K.__all__


def test_the_variant_switch_is_checked():
    with pytest.raises(ValueError, match="variant must be one of"):
        _conv._force_variant("fast")
