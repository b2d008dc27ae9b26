"""Another Cython extension cimports cnn_core's kernels and calls them without the GIL.

The test writes a small extension module, builds it against the installed cnn_core
(its ``.pxd`` files and ``cnn_core.get_include()``), imports it and compares what it
computes through ``cnn_core.kernels`` with NumPy.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cnn_core

from conftest import needs_kernels

pytestmark = needs_kernels

DOWNSTREAM = textwrap.dedent('''
    # cython: language_level=3, boundscheck=False, wraparound=False
    from cnn_core.kernels cimport (TANH, cross_entropy_with_logits_raw,
                                   linear_activation_forward_raw, linear_backward_raw)
    from cnn_core._blas cimport rowmajor_gemm


    def forward_tanh(const double[:, ::1] A_prev, const double[:, ::1] W,
                     const double[:, ::1] b, double[:, ::1] Z, double[:, ::1] A):
        with nogil:
            linear_activation_forward_raw(&A_prev[0, 0], False, &W[0, 0], False, &b[0, 0], 1,
                                          W.shape[0], W.shape[1], A_prev.shape[1],
                                          &Z[0, 0], &A[0, 0], TANH)


    def backward_f32(const float[:, ::1] dZ, const float[:, ::1] A_prev,
                     const float[:, ::1] W, float[:, ::1] dA_prev, float[:, ::1] dW,
                     float[:, ::1] db):
        with nogil:
            linear_backward_raw(&dZ[0, 0], &A_prev[0, 0], False, &W[0, 0], False,
                                W.shape[0], W.shape[1], dZ.shape[1],
                                &dA_prev[0, 0], &dW[0, 0], &db[0, 0])


    def cost(const double[:, ::1] Z, const double[:, ::1] Y):
        cdef double value
        with nogil:
            value = cross_entropy_with_logits_raw(&Z[0, 0], &Y[0, 0], Z.shape[0], Z.shape[1])
        return value


    def product(const double[:, ::1] X, const double[:, ::1] Y, double[:, ::1] C):
        with nogil:
            rowmajor_gemm(False, False, &X[0, 0], X.shape[0], X.shape[1],
                          False, False, &Y[0, 0], Y.shape[0], Y.shape[1],
                          1.0, 0.0, &C[0, 0], C.shape[0], C.shape[1])
''')

SETUP = textwrap.dedent('''
    import cnn_core
    from Cython.Build import cythonize
    from setuptools import Extension, setup

    setup(ext_modules=cythonize(
        [Extension("downstream", ["downstream.pyx"], include_dirs=[cnn_core.get_include()])],
        include_path=[cnn_core.get_include()], quiet=True))
''')


@pytest.fixture(scope="module")
def downstream(tmp_path_factory):
    pytest.importorskip("Cython", reason="building an extension needs Cython (test extra)")
    folder = tmp_path_factory.mktemp("downstream")
    (folder / "downstream.pyx").write_text(DOWNSTREAM)
    (folder / "setup.py").write_text(SETUP)
    result = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                            cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sys.path.insert(0, os.fspath(folder))
    try:
        import downstream
        yield downstream
    finally:
        sys.path.remove(os.fspath(folder))
        sys.modules.pop("downstream", None)


def test_get_include_holds_the_declarations_and_the_header():
    root = cnn_core.get_include()
    for name in ("kernels.pxd", "_blas.pxd", "_vmath.pxd", "_vmath.h"):
        assert os.path.isfile(os.path.join(root, "cnn_core", name)), name


def test_a_downstream_extension_calls_the_forward_kernel(downstream):
    rng = np.random.default_rng(0)
    A_prev, W, b = rng.standard_normal((4, 9)), rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    Z, A = np.empty((3, 9)), np.empty((3, 9))
    downstream.forward_tanh(A_prev, W, b, Z, A)
    np.testing.assert_allclose(Z, W @ A_prev + b, rtol=1e-13)
    np.testing.assert_allclose(A, np.tanh(Z), rtol=1e-14, atol=1e-15)


def test_a_downstream_extension_calls_the_float32_backward(downstream):
    rng = np.random.default_rng(1)
    dZ, A_prev, W = (rng.standard_normal(s).astype(np.float32) for s in ((3, 7), (5, 7), (3, 5)))
    dA_prev, dW, db = np.empty((5, 7), np.float32), np.empty((3, 5), np.float32), np.empty((3, 1), np.float32)
    downstream.backward_f32(dZ, A_prev, W, dA_prev, dW, db)
    np.testing.assert_allclose(dW, dZ @ A_prev.T / 7, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(db, dZ.sum(axis=1, keepdims=True) / 7, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dA_prev, W.T @ dZ, rtol=1e-5, atol=1e-6)


def test_a_downstream_extension_calls_the_cost_and_the_blas(downstream):
    Z = np.array([[-800.0, -1.0, 0.0, 2.0, 900.0]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0, 0.0]])
    expected = np.mean(np.maximum(Z, 0) - Y * Z + np.log1p(np.exp(-np.abs(Z))))
    assert downstream.cost(Z, Y) == pytest.approx(expected, rel=1e-15)
    rng = np.random.default_rng(2)
    X, Yb = rng.standard_normal((4, 6)), rng.standard_normal((6, 5))
    C = np.empty((4, 5))
    downstream.product(X, Yb, C)
    np.testing.assert_allclose(C, X @ Yb, rtol=1e-13)
