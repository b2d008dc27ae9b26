"""The convolution and pooling layers (cnn_core.conv) against three oracles.

The course's own nested loops (tests/_course_loops.py), JAX's autodiff of
``lax.conv_general_dilated`` and ``lax.reduce_window`` (cnn_core/reference/conv.py) over
hypothesis-drawn geometries, and central differences on a tiny case; then the tie rule
of max pooling, dtypes, caches and every bad input.
"""
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _course_loops as loops
from cnn_core import _backend, conv
from cnn_core.verify import relative_difference
from conftest import BACKENDS
from helpers import central_difference

#: The backends under test (the compiled one unless the pure-NumPy run is asked for).
CONV_BACKENDS = BACKENDS
DTYPES = [np.float64, np.float32]
#: Agreement with the loops (both in float64, different summation orders).
LOOPS_RTOL = 1e-12


@pytest.fixture(scope="module")
def reference():
    """The JAX statement of the layers and the registry's tolerances."""
    pytest.importorskip("jax", reason="JAX comes with the test extra: pip install -e '.[test]'")
    from cnn_core.reference import conv as reference_conv
    from cnn_core.reference.registry import TOLERANCE

    return types.SimpleNamespace(conv=reference_conv, TOLERANCE=TOLERANCE)


def _conv_inputs(rng, m, n_H_prev, n_W_prev, n_C_prev, n_C, f, dtype=np.float64):
    A_prev = rng.standard_normal((m, n_H_prev, n_W_prev, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C)) / np.sqrt(f * f * n_C_prev)
    b = rng.standard_normal((1, 1, 1, n_C))
    return tuple(x.astype(dtype) for x in (A_prev, W, b))


def _distinct(rng, shape):
    """Values in a random order, neighbours at least 0.4 / size apart: no tied maxima."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) + rng.uniform(0.2, 0.8, n)) / n).reshape(shape)


def _windows_along(n_prev, f, stride, pad=0):
    """How many windows fit, counted: the starts 0, stride, ... whose window ends inside."""
    return len(range(0, n_prev + 2 * pad - f + 1, stride))


# ---------------------------------------------------------------------------------------
# Output sizes
# ---------------------------------------------------------------------------------------

GEOMETRIES = [  # (n_H_prev, n_W_prev, f, stride, pad)
    (5, 7, 3, 1, 1),    # "same": n_H = n_H_prev
    (5, 7, 3, 2, 1),
    (6, 5, 2, 3, 2),    # stride > f: some inputs are read by no window
    (5, 6, 3, 3, 0),    # floor: (6 - 3) / 3 + 1 = 2, (5 - 3) / 3 = 0.67 -> 1
    (4, 4, 4, 1, 0),    # one window
    (3, 3, 5, 1, 1),    # the filter exactly fills the padded input
    (7, 8, 1, 2, 0),    # 1 x 1 filters
]


@pytest.mark.parametrize("backend", CONV_BACKENDS)
@pytest.mark.parametrize("n_H_prev, n_W_prev, f, stride, pad", GEOMETRIES)
def test_conv_output_size_is_the_formula(n_H_prev, n_W_prev, f, stride, pad, backend):
    A_prev, W, b = _conv_inputs(np.random.default_rng(0), 2, n_H_prev, n_W_prev, 3, 4, f)
    Z, _ = conv.conv_forward(A_prev, W, b, {"stride": stride, "pad": pad}, backend=backend)
    expected = (2, _windows_along(n_H_prev, f, stride, pad),
                _windows_along(n_W_prev, f, stride, pad), 4)
    assert Z.shape == expected
    assert expected[1] == (n_H_prev - f + 2 * pad) // stride + 1


@pytest.mark.parametrize("backend", CONV_BACKENDS)
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("n_H_prev, n_W_prev, f, stride, pad", GEOMETRIES)
def test_pool_output_size_is_the_formula(n_H_prev, n_W_prev, f, stride, pad, mode, backend):
    if f > min(n_H_prev, n_W_prev):
        n_H_prev, n_W_prev = n_H_prev + 2 * pad, n_W_prev + 2 * pad   # pooling does not pad
    A_prev = np.random.default_rng(1).standard_normal((2, n_H_prev, n_W_prev, 3))
    A, _ = conv.pool_forward(A_prev, {"stride": stride, "f": f}, mode, backend=backend)
    assert A.shape == (2, _windows_along(n_H_prev, f, stride), _windows_along(n_W_prev, f, stride),
                       3)


# ---------------------------------------------------------------------------------------
# The course's helpers
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("pad", [0, 1, 3])
def test_zero_pad_surrounds_each_image_with_zeros(pad):
    X = np.random.default_rng(2).standard_normal((3, 4, 5, 2))
    X_pad = conv.zero_pad(X, pad)
    assert X_pad.shape == (3, 4 + 2 * pad, 5 + 2 * pad, 2)
    np.testing.assert_array_equal(X_pad[:, pad:pad + 4, pad:pad + 5, :], X)
    border = np.ones(X_pad.shape, dtype=bool)
    border[:, pad:pad + 4, pad:pad + 5, :] = False
    assert not X_pad[border].any()
    assert X_pad.dtype == X.dtype and conv.zero_pad(X.astype(np.float32), pad).dtype == np.float32


def test_conv_single_step_is_one_entry_of_conv_forward():
    rng = np.random.default_rng(3)
    A_prev, W, b = _conv_inputs(rng, 2, 5, 6, 3, 4, f=3)
    Z, _ = conv.conv_forward(A_prev, W, b, {"stride": 2, "pad": 1}, backend="numpy")
    A_pad = conv.zero_pad(A_prev, 1)
    for i, h, w, c in [(0, 0, 0, 0), (1, 2, 1, 3), (1, 1, 2, 2)]:
        window = A_pad[i, 2 * h:2 * h + 3, 2 * w:2 * w + 3, :]
        step = conv.conv_single_step(window, W[..., c], b[..., c])
        assert step == pytest.approx(Z[i, h, w, c], rel=1e-12)
        assert step == pytest.approx(float(np.sum(window * W[..., c]) + b[0, 0, 0, c]), rel=1e-12)


def test_create_mask_from_window_marks_every_maximum():
    x = np.array([[1.0, 3.0], [3.0, -2.0]])
    np.testing.assert_array_equal(conv.create_mask_from_window(x), [[False, True], [True, False]])
    x = np.random.default_rng(4).standard_normal((3, 3))
    mask = conv.create_mask_from_window(x)
    assert mask.sum() == 1 and x[mask][0] == x.max()


@pytest.mark.parametrize("dz, shape", [(2.0, (2, 2)), (-0.3, (3, 1)), (np.float32(1.5), (2, 3))])
def test_distribute_value_spreads_evenly(dz, shape):
    spread = conv.distribute_value(dz, shape)
    assert spread.shape == shape
    assert spread.sum() == pytest.approx(float(dz), rel=1e-6)
    assert np.all(spread == spread.flat[0])
    assert spread.dtype == (np.float32 if isinstance(dz, np.float32) else np.float64)


# ---------------------------------------------------------------------------------------
# Against the course's loops
# ---------------------------------------------------------------------------------------

def _random_geometry(rng):
    f = int(rng.integers(1, 5))
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    low = max(1, f - 2 * pad)
    n_H_prev, n_W_prev = (int(n) for n in rng.integers(low, low + 6, 2))
    return dict(m=int(rng.integers(1, 4)), n_H_prev=n_H_prev, n_W_prev=n_W_prev,
                n_C_prev=int(rng.integers(1, 4)), n_C=int(rng.integers(1, 5)), f=f,
                stride=stride, pad=pad)


@pytest.mark.parametrize("backend", CONV_BACKENDS)
@pytest.mark.parametrize("seed", range(6))
def test_conv_forward_and_backward_equal_the_course_loops(seed, backend):
    rng = np.random.default_rng(seed)
    g = _random_geometry(rng)
    A_prev, W, b = _conv_inputs(rng, g["m"], g["n_H_prev"], g["n_W_prev"], g["n_C_prev"],
                                g["n_C"], g["f"])
    hparameters = {"stride": g["stride"], "pad": g["pad"]}
    Z, cache = conv.conv_forward(A_prev, W, b, hparameters, backend=backend)
    assert relative_difference(Z, loops.conv_forward(A_prev, W, b, hparameters)) <= LOOPS_RTOL
    dZ = rng.standard_normal(Z.shape)
    ours = conv.conv_backward(dZ, cache, backend=backend)
    theirs = loops.conv_backward(dZ, A_prev, W, hparameters)
    for name, mine, course in zip(("dA_prev", "dW", "db"), ours, theirs):
        assert mine.shape == course.shape, name
        assert relative_difference(mine, course) <= LOOPS_RTOL, (name, g)


@pytest.mark.parametrize("backend", CONV_BACKENDS)
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("seed", range(6))
def test_pool_forward_and_backward_equal_the_course_loops(seed, mode, backend):
    rng = np.random.default_rng(100 + seed)
    g = _random_geometry(rng)
    shape = (g["m"], g["n_H_prev"] + g["f"], g["n_W_prev"] + g["f"], g["n_C"])
    A_prev = rng.standard_normal(shape)
    hparameters = {"stride": g["stride"], "f": g["f"]}
    A, cache = conv.pool_forward(A_prev, hparameters, mode, backend=backend)
    assert relative_difference(A, loops.pool_forward(A_prev, hparameters, mode)) <= LOOPS_RTOL
    dA = rng.standard_normal(A.shape)
    dA_prev = conv.pool_backward(dA, cache, mode, backend=backend)
    expected = loops.pool_backward(dA, A_prev, hparameters, mode)
    assert relative_difference(dA_prev, expected) <= LOOPS_RTOL, g


# ---------------------------------------------------------------------------------------
# Against JAX, over drawn geometries
# ---------------------------------------------------------------------------------------

@st.composite
def conv_cases(draw):
    f = draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    low = max(1, f - 2 * pad)
    return dict(m=draw(st.integers(1, 3)), n_H_prev=draw(st.integers(low, 9)),
                n_W_prev=draw(st.integers(low, 9)), n_C_prev=draw(st.integers(1, 4)),
                n_C=draw(st.integers(1, 4)), f=f, stride=stride, pad=pad,
                seed=draw(st.integers(0, 2**16)))


@st.composite
def pool_cases(draw):
    f = draw(st.integers(1, 4))
    return dict(m=draw(st.integers(1, 3)), n_H_prev=draw(st.integers(f, 9)),
                n_W_prev=draw(st.integers(f, 9)), n_C=draw(st.integers(1, 4)), f=f,
                stride=draw(st.integers(1, 3)), mode=draw(st.sampled_from(["max", "average"])),
                seed=draw(st.integers(0, 2**16)))


def _assert_close_to(reference, dtype, got, want, what):
    assert got.dtype == dtype, what
    assert got.shape == want.shape, what
    assert relative_difference(got, want) <= reference.TOLERANCE[np.dtype(dtype)], what


@pytest.mark.parametrize("backend", CONV_BACKENDS)
@settings(max_examples=12)
@given(case=conv_cases())
def test_conv_layer_matches_jax_on_drawn_geometries(reference, backend, case):
    import jax

    rng = np.random.default_rng(case["seed"])
    A_prev, W, b = _conv_inputs(rng, case["m"], case["n_H_prev"], case["n_W_prev"],
                                case["n_C_prev"], case["n_C"], case["f"])
    stride, pad = case["stride"], case["pad"]
    Z_jax, vjp = jax.vjp(lambda A, W_, b_: reference.conv.conv_layer(A, W_, b_, stride, pad),
                         A_prev, W, b)
    dZ = rng.standard_normal(Z_jax.shape)
    expected = [np.asarray(g) for g in vjp(dZ)]
    for dtype in DTYPES:
        Z, cache = conv.conv_forward(A_prev.astype(dtype), W.astype(dtype), b.astype(dtype),
                                     {"stride": stride, "pad": pad}, backend=backend)
        _assert_close_to(reference, dtype, Z, np.asarray(Z_jax), ("Z", dtype))
        grads = conv.conv_backward(dZ.astype(dtype), cache, backend=backend)
        for name, got, want in zip(("dA_prev", "dW", "db"), grads, expected):
            _assert_close_to(reference, dtype, got, want, (name, dtype))


@pytest.mark.parametrize("backend", CONV_BACKENDS)
@settings(max_examples=12)
@given(case=pool_cases())
def test_pool_layer_matches_jax_on_drawn_geometries(reference, backend, case):
    import jax

    rng = np.random.default_rng(case["seed"])
    A_prev = _distinct(rng, (case["m"], case["n_H_prev"], case["n_W_prev"], case["n_C"]))
    f, stride, mode = case["f"], case["stride"], case["mode"]
    A_jax, vjp = jax.vjp(lambda A: reference.conv.pool_layer(A, f, stride, mode), A_prev)
    dA = rng.standard_normal(A_jax.shape)
    (expected,) = vjp(dA)
    for dtype in DTYPES:
        A, cache = conv.pool_forward(A_prev.astype(dtype), {"stride": stride, "f": f}, mode,
                                     backend=backend)
        _assert_close_to(reference, dtype, A, np.asarray(A_jax), ("A", dtype))
        dA_prev = conv.pool_backward(dA.astype(dtype), cache, mode, backend=backend)
        _assert_close_to(reference, dtype, dA_prev, np.asarray(expected), ("dA_prev", dtype))


# ---------------------------------------------------------------------------------------
# The tie rule of max pooling, and central differences
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", CONV_BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("f, stride", [(2, 2), (3, 1), (2, 3)])
def test_max_pool_gives_every_tied_maximum_the_whole_gradient(f, stride, dtype, backend):
    """The course's rule, not JAX's: lax.reduce_window's gradient goes to one of the
    tied maxima, so ties are checked against the loops' mask ``x == max(x)``."""
    rng = np.random.default_rng(7)
    A_prev = rng.integers(0, 3, (2, 7, 8, 3)).astype(dtype)   # three values: many ties
    hparameters = {"stride": stride, "f": f}
    A, cache = conv.pool_forward(A_prev, hparameters, "max", backend=backend)
    dA = rng.standard_normal(A.shape).astype(dtype)
    dA_prev = conv.pool_backward(dA, cache, "max", backend=backend)
    expected = loops.pool_backward(dA, A_prev, hparameters, "max")
    assert relative_difference(dA_prev, expected) <= 1e-6


@pytest.mark.parametrize("backend", CONV_BACKENDS)
def test_a_constant_window_passes_its_gradient_to_all_its_entries(backend):
    A_prev = np.full((1, 2, 4, 1), 0.5)
    A_prev[0, :, 2:, 0] = [[1.0, -1.0], [1.0, 1.0]]     # three tied maxima in window 2
    _, cache = conv.pool_forward(A_prev, {"stride": 2, "f": 2}, "max", backend=backend)
    dA = np.array([3.0, -2.0]).reshape(1, 1, 2, 1)
    dA_prev = conv.pool_backward(dA, cache, "max", backend=backend)
    np.testing.assert_array_equal(dA_prev[0, :, :, 0], [[3.0, 3.0, -2.0, 0.0],
                                                        [3.0, 3.0, -2.0, -2.0]])


def _scalar_of(layer, cotangent):
    return lambda: float(np.sum(layer()[0] * cotangent))


@pytest.mark.parametrize("backend", CONV_BACKENDS)
def test_conv_backward_equals_central_differences(backend):
    rng = np.random.default_rng(8)
    A_prev, W, b = _conv_inputs(rng, 2, 3, 4, 2, 2, f=2)
    hparameters = {"stride": 2, "pad": 1}
    Z, cache = conv.conv_forward(A_prev, W, b, hparameters, backend=backend)
    dZ = rng.standard_normal(Z.shape)
    grads = conv.conv_backward(dZ, cache, backend=backend)
    scalar = _scalar_of(lambda: conv.conv_forward(A_prev, W, b, hparameters, backend=backend), dZ)
    for name, x, analytic in zip(("dA_prev", "dW", "db"), (A_prev, W, b), grads):
        assert relative_difference(analytic, central_difference(scalar, x)) <= 1e-8, name


@pytest.mark.parametrize("backend", CONV_BACKENDS)
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_backward_equals_central_differences(mode, backend):
    rng = np.random.default_rng(9)
    A_prev = _distinct(rng, (2, 4, 5, 2))   # steps of 1e-6 never reorder a window
    hparameters = {"stride": 1, "f": 2}
    A, cache = conv.pool_forward(A_prev, hparameters, mode, backend=backend)
    dA = rng.standard_normal(A.shape)
    analytic = conv.pool_backward(dA, cache, mode, backend=backend)
    scalar = _scalar_of(lambda: conv.pool_forward(A_prev, hparameters, mode, backend=backend), dA)
    assert relative_difference(analytic, central_difference(scalar, A_prev)) <= 1e-8


# ---------------------------------------------------------------------------------------
# Dtypes, caches, backends
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", CONV_BACKENDS)
def test_dtypes_follow_the_inputs(backend):
    rng = np.random.default_rng(10)
    A64, W64, b64 = _conv_inputs(rng, 2, 5, 5, 2, 3, f=3)
    hp = {"stride": 1, "pad": 1}
    A32, W32, b32 = (x.astype(np.float32) for x in (A64, W64, b64))
    Z, cache = conv.conv_forward(A32, W32, b32, hp, backend=backend)
    assert Z.dtype == np.float32
    assert all(g.dtype == np.float32 for g in conv.conv_backward(Z, cache, backend=backend))
    Z, cache = conv.conv_forward(A32, W64, b32, hp, backend=backend)   # mixed: float64
    assert Z.dtype == np.float64
    assert all(g.dtype == np.float64 for g in conv.conv_backward(Z, cache, backend=backend))
    # Integers are accepted and computed in float64, as everywhere in cnn_core.
    A_int = rng.integers(-3, 4, A64.shape)
    Z_int, _ = conv.conv_forward(A_int, W64, b64, hp, backend=backend)
    Z_float, _ = conv.conv_forward(A_int.astype(np.float64), W64, b64, hp, backend=backend)
    assert Z_int.dtype == np.float64 and np.array_equal(Z_int, Z_float)
    P, pool_cache = conv.pool_forward(A32, {"stride": 2, "f": 2}, backend=backend)
    assert P.dtype == np.float32
    assert conv.pool_backward(P, pool_cache, backend=backend).dtype == np.float32


@pytest.mark.parametrize("backend", CONV_BACKENDS)
def test_caches_are_the_courses(backend):
    rng = np.random.default_rng(11)
    A_prev, W, b = _conv_inputs(rng, 1, 4, 4, 2, 2, f=3)
    hparameters = {"stride": 1, "pad": 1}
    _, cache = conv.conv_forward(A_prev, W, b, hparameters, backend=backend)
    assert len(cache) == 4 and cache[3] == hparameters
    for got, given_ in zip(cache[:3], (A_prev, W, b)):
        np.testing.assert_array_equal(got, given_)
    _, cache = conv.pool_forward(A_prev, {"stride": 2, "f": 2}, "average", backend=backend)
    assert len(cache) == 2 and cache[1] == {"stride": 2, "f": 2}
    np.testing.assert_array_equal(cache[0], A_prev)


@pytest.mark.parametrize("backend", CONV_BACKENDS)
def test_the_inputs_are_not_modified(backend):
    rng = np.random.default_rng(12)
    A_prev, W, b = _conv_inputs(rng, 2, 5, 5, 2, 3, f=3)
    saved = [x.copy() for x in (A_prev, W, b)]
    Z, cache = conv.conv_forward(A_prev, W, b, {"stride": 2, "pad": 1}, backend=backend)
    dZ = rng.standard_normal(Z.shape)
    dZ_saved = dZ.copy()
    conv.conv_backward(dZ, cache, backend=backend)
    A, pool_cache = conv.pool_forward(A_prev, {"stride": 1, "f": 2}, backend=backend)
    conv.pool_backward(A, pool_cache, backend=backend)
    for x, y in zip((A_prev, W, b, dZ), saved + [dZ_saved]):
        np.testing.assert_array_equal(x, y)


@pytest.mark.skipif(not _backend.HAVE_EXTENSION, reason="no compiled extension to ask for")
def test_cython_backend_without_the_kernels_says_so(monkeypatch):
    monkeypatch.setattr(_backend, "_kernels", types.SimpleNamespace())
    A_prev, W, b = _conv_inputs(np.random.default_rng(13), 1, 4, 4, 1, 1, f=2)
    with pytest.raises(RuntimeError, match=r"cnn_core\.kernels\.conv_forward.*backend='numpy'"):
        conv.conv_forward(A_prev, W, b, {"stride": 1, "pad": 0}, backend="cython")
    with pytest.raises(RuntimeError, match=r"cnn_core\.kernels\.pool_forward"):
        conv.pool_forward(A_prev, {"stride": 1, "f": 2}, backend="cython")


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------

def _good():
    rng = np.random.default_rng(14)
    A_prev, W, b = _conv_inputs(rng, 2, 5, 6, 3, 4, f=3)
    return dict(A_prev=A_prev, W=W, b=b, hp={"stride": 1, "pad": 1},
                pool_hp={"stride": 2, "f": 2}, dZ=np.ones((2, 5, 6, 4)), dA=np.ones((2, 2, 3, 3)))


def _with(array, index, value):
    out = np.array(array, dtype=np.float64)
    out[index] = value
    return out


def _conv(**changes):
    def call(backend):
        g = {**_good(), **changes}
        return conv.conv_forward(g["A_prev"], g["W"], g["b"], g["hp"], backend=backend)
    return call


def _pool(mode="max", **changes):
    def call(backend):
        g = {**_good(), **changes}
        return conv.pool_forward(g["A_prev"], g["pool_hp"], mode, backend=backend)
    return call


def _conv_back(dZ=None, cache=None):
    def call(backend):
        g = _good()
        the_cache = cache if cache is not None else (g["A_prev"], g["W"], g["b"], g["hp"])
        return conv.conv_backward(g["dZ"] if dZ is None else dZ, the_cache, backend=backend)
    return call


def _pool_back(dA=None, cache=None, mode="max"):
    def call(backend):
        g = _good()
        the_cache = cache if cache is not None else (g["A_prev"], g["pool_hp"])
        return conv.pool_backward(g["dA"] if dA is None else dA, the_cache, mode, backend=backend)
    return call


G = _good()
BAD_INPUTS = {
    # shapes that are not NHWC
    "A_prev 3-D": (_conv(A_prev=G["A_prev"][0]), ValueError,
                   r"A_prev must be a 4-D array \(m, n_H_prev, n_W_prev, n_C_prev\).*x\[None\]"),
    "A_prev 5-D": (_conv(A_prev=G["A_prev"][None]), ValueError, r"A_prev must be a 4-D array"),
    "W 3-D": (_conv(W=G["W"][..., 0]), ValueError, r"W must be a 4-D array \(f, f, n_C_prev, n_C\)"),
    "b 1-D": (_conv(b=G["b"].ravel()), ValueError, r"b must be a 4-D array \(1, 1, 1, n_C\)"),
    "b wrong size": (_conv(b=G["b"][..., :2]), ValueError, r"b must have shape \(1, 1, 1, n_C\)"),
    "W not square": (_conv(W=G["W"][:2]), ValueError, r"W must be a square filter bank"),
    "pool A_prev 2-D": (_pool(A_prev=G["A_prev"][0, :, :, 0]), ValueError,
                        r"A_prev must be a 4-D array"),
    # channels
    "channels do not match": (_conv(W=G["W"][:, :, :2]), ValueError,
                              r"channel counts do not match: W.shape\[2\].* = 2 but "
                              r"A_prev.shape\[3\] = 3"),
    # windows that do not fit
    "filter larger than the padded input": (
        _conv(W=np.ones((8, 8, 3, 4)), hp={"stride": 1, "pad": 1}), ValueError,
        r"f = W.shape\[0\] = 8 is larger than the padded input.* = 7 x 8"),
    "pool window larger than the input": (_pool(pool_hp={"stride": 1, "f": 6}), ValueError,
                                          r"hparameters\['f'\] = 6 is larger than the input"),
    # hyperparameters
    "stride 0": (_conv(hp={"stride": 0, "pad": 1}), ValueError,
                 r"hparameters\['stride'\] must be a positive integer; got 0"),
    "stride -1": (_conv(hp={"stride": -1, "pad": 1}), ValueError,
                  r"hparameters\['stride'\] must be a positive integer"),
    "stride 1.0": (_conv(hp={"stride": 1.0, "pad": 1}), ValueError,
                   r"hparameters\['stride'\] must be a positive integer; got 1.0"),
    "stride True": (_conv(hp={"stride": True, "pad": 1}), ValueError,
                    r"hparameters\['stride'\] must be a positive integer; got True"),
    "stride '2'": (_conv(hp={"stride": "2", "pad": 1}), ValueError,
                   r"hparameters\['stride'\] must be a positive integer"),
    "pad -1": (_conv(hp={"stride": 1, "pad": -1}), ValueError,
               r"hparameters\['pad'\] must be a non-negative integer; got -1"),
    "pad 0.5": (_conv(hp={"stride": 1, "pad": 0.5}), ValueError,
                r"hparameters\['pad'\] must be a non-negative integer"),
    "pool stride 0": (_pool(pool_hp={"stride": 0, "f": 2}), ValueError,
                      r"hparameters\['stride'\] must be a positive integer"),
    "pool f 0": (_pool(pool_hp={"stride": 1, "f": 0}), ValueError,
                 r"hparameters\['f'\] must be a positive integer"),
    "hparameters lacks pad": (_conv(hp={"stride": 1}), ValueError,
                              r"hparameters lacks 'pad'.*\['stride', 'pad'\]"),
    "hparameters lacks stride": (_conv(hp={"pad": 1}), ValueError, r"hparameters lacks 'stride'"),
    "pool hparameters lacks f": (_pool(pool_hp={"stride": 1}), ValueError,
                                 r"hparameters lacks 'f'"),
    "pool given the conv's dict": (_pool(pool_hp={"stride": 1, "pad": 0}), ValueError,
                                   r"hparameters lacks 'f'"),
    "hparameters a tuple": (_conv(hp=(1, 1)), TypeError, r"hparameters must be a dict"),
    "hparameters None": (_pool(pool_hp=None), TypeError, r"hparameters must be a dict"),
    # values and dtypes
    "NaN in A_prev": (_conv(A_prev=_with(G["A_prev"], (1, 2, 3, 0), np.nan)), ValueError,
                      r"A_prev must be finite.*at index \(1, 2, 3, 0\)"),
    "inf in W": (_conv(W=_with(G["W"], (0, 1, 2, 3), np.inf)), ValueError, r"W must be finite"),
    "-inf in b": (_conv(b=_with(G["b"], (0, 0, 0, 1), -np.inf)), ValueError, r"b must be finite"),
    "NaN in the pool's A_prev": (_pool(A_prev=_with(G["A_prev"], (0, 0, 0, 0), np.nan)),
                                 ValueError, r"A_prev must be finite"),
    "complex A_prev": (_conv(A_prev=G["A_prev"] + 0j), TypeError,
                       r"A_prev must be a real numeric array; got dtype complex128"),
    "string W": (_conv(W=np.full((3, 3, 3, 4), "x")), TypeError, r"W must be a real numeric array"),
    "empty A_prev": (_conv(A_prev=np.zeros((0, 5, 6, 3))), ValueError, r"A_prev must not be empty"),
    # pooling modes
    "mode 'min'": (_pool(mode="min"), ValueError,
                   r"mode must be one of \['max', 'average'\]; got 'min'"),
    "mode 'avg'": (_pool(mode="avg"), ValueError, r"mode must be one of"),
    "mode None": (_pool(mode=None), ValueError, r"mode must be one of"),
    "backward mode 'mean'": (_pool_back(mode="mean"), ValueError, r"mode must be one of"),
    # the backwards: gradients and caches
    "dZ of the wrong shape": (_conv_back(dZ=np.ones((2, 5, 5, 4))), ValueError,
                              r"dZ must have shape \(m, n_H, n_W, n_C\).* = \(2, 5, 6, 4\); "
                              r"got \(2, 5, 5, 4\)"),
    "dZ 3-D": (_conv_back(dZ=np.ones((5, 6, 4))), ValueError, r"dZ must be a 4-D array"),
    "NaN in dZ": (_conv_back(dZ=_with(np.ones((2, 5, 6, 4)), (0, 0, 0, 0), np.nan)), ValueError,
                  r"dZ must be finite"),
    "conv cache of 3": (_conv_back(cache=(G["A_prev"], G["W"], G["b"])), ValueError,
                        r"cache must be the cache \(A_prev, W, b, hparameters\).*length 3"),
    "conv cache with a bad stride": (
        _conv_back(cache=(G["A_prev"], G["W"], G["b"], {"stride": 0, "pad": 1})), ValueError,
        r"hparameters\['stride'\] must be a positive integer"),
    "conv cache with mismatched channels": (
        _conv_back(cache=(G["A_prev"][..., :2], G["W"], G["b"], G["hp"])), ValueError,
        r"channel counts do not match.*cache \(A_prev\)"),
    "dA of the wrong shape": (_pool_back(dA=np.ones((2, 3, 3, 3))), ValueError,
                              r"dA must have shape \(m, n_H, n_W, n_C\).* = \(2, 2, 3, 3\)"),
    "pool cache not a tuple": (_pool_back(cache=G["A_prev"]), ValueError,
                               r"cache must be the cache \(A_prev, hparameters\)"),
    "pool cache lacks f": (_pool_back(cache=(G["A_prev"], {"stride": 2})), ValueError,
                           r"hparameters lacks 'f'"),
}


@pytest.mark.parametrize("backend", CONV_BACKENDS)
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_named(case, backend):
    call, error, match = BAD_INPUTS[case]
    with pytest.raises(error, match=match):
        call(backend)


@pytest.mark.parametrize("call, error, match", [
    (lambda: conv.zero_pad(np.ones((2, 3, 3, 1)), -1), ValueError,
     r"pad must be a non-negative integer; got -1"),
    (lambda: conv.zero_pad(np.ones((2, 3, 3, 1)), 1.5), ValueError,
     r"pad must be a non-negative integer"),
    (lambda: conv.zero_pad(np.ones((3, 3, 1)), 1), ValueError, r"X must be a 4-D array"),
    (lambda: conv.conv_single_step(np.ones((3, 3, 2)), np.ones((3, 3, 1)), 0.0), ValueError,
     r"W must have a_slice_prev's shape \(f, f, n_C_prev\) = \(3, 3, 2\); got \(3, 3, 1\)"),
    (lambda: conv.conv_single_step(np.ones((3, 3)), np.ones((3, 3)), 0.0), ValueError,
     r"a_slice_prev must be a 3-D array"),
    (lambda: conv.conv_single_step(np.ones((2, 2, 1)), np.ones((2, 2, 1)), np.ones(2)),
     ValueError, r"b must hold one number"),
    (lambda: conv.create_mask_from_window(np.array([[1.0, np.nan]])), ValueError,
     r"x must be finite"),
    (lambda: conv.create_mask_from_window(np.ones(3)), ValueError, r"x must be a 2-D array"),
    (lambda: conv.distribute_value(1.0, (0, 2)), ValueError,
     r"shape\[0\] must be a positive integer; got 0"),
    (lambda: conv.distribute_value(1.0, (2,)), ValueError, r"shape must be the window's"),
    (lambda: conv.distribute_value(np.ones(2), (2, 2)), ValueError, r"dz must be a 0-D array"),
    (lambda: conv.distribute_value(np.inf, (2, 2)), ValueError, r"dz must be finite"),
], ids=["zero_pad pad -1", "zero_pad pad 1.5", "zero_pad 3-D", "conv_single_step shapes",
        "conv_single_step 2-D", "conv_single_step b", "mask NaN", "mask 1-D",
        "distribute_value shape 0", "distribute_value 1-D shape", "distribute_value array",
        "distribute_value inf"])
def test_bad_input_to_the_helpers_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_jax_reference_survives_a_geometry_that_aborts_xla():
    """With the padding inside ``conv_general_dilated``, jaxlib 0.10's CPU compiler
    aborts the whole process (a failed CHECK in its algebraic simplifier) when it
    compiles the filter gradient of a 1x4 input with f = 2, stride 2, pad 1. The
    reference pads first; run in a child process so that a regression fails this test
    instead of killing the test session."""
    import subprocess
    import sys

    code = (
        "import numpy as np, jax\n"
        "from cnn_core import conv\n"
        "from cnn_core.reference import conv as reference_conv\n"
        "rng = np.random.default_rng(0)\n"
        "A, W, b = rng.standard_normal((1, 1, 4, 1)), rng.standard_normal((2, 2, 1, 1)), "
        "rng.standard_normal((1, 1, 1, 1))\n"
        "Z, vjp = jax.vjp(lambda A_, W_, b_: reference_conv.conv_layer(A_, W_, b_, 2, 1), "
        "A, W, b)\n"
        "dZ = rng.standard_normal(Z.shape)\n"
        "_, cache = conv.conv_forward(A, W, b, {'stride': 2, 'pad': 1}, backend='numpy')\n"
        "ours = conv.conv_backward(dZ, cache, backend='numpy')\n"
        "print(max(float(np.max(np.abs(np.asarray(g) - o))) for g, o in zip(vjp(dZ), ours)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert float(result.stdout.strip().splitlines()[-1]) < 1e-12


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_jax_pooling_reference_differentiates_under_jit(reference, mode, dtype):
    """The reference pools are also the benchmark's JAX rows, under jax.jit: the jitted
    gradient equals cnn_core's backward, in the input's dtype."""
    import jax

    rng = np.random.default_rng(3)
    A_prev = rng.standard_normal((2, 6, 6, 3)).astype(dtype)
    hparameters = {"stride": 2, "f": 2}
    A, cache = conv.pool_forward(A_prev, hparameters, mode, backend="numpy")
    dA = rng.standard_normal(A.shape).astype(dtype)
    grad = jax.jit(jax.grad(lambda X: (reference.conv.pool_layer(X, 2, 2, mode) * dA).sum()))
    got = np.asarray(grad(A_prev))
    assert got.dtype == dtype
    want = conv.pool_backward(dA, cache, mode, backend="numpy")
    assert relative_difference(got, want) <= reference.TOLERANCE[np.dtype(dtype)]
