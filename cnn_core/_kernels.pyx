"""Compiled forward/backward kernels of cnn_core.

The layout follows the course's convention: every matrix is ``(units, m)``, one column
per example, stored row-major (C order) unless stated otherwise.

The file has three layers:

1. ``cdef inline ... noexcept nogil`` functions for one element (the activations);
2. loops over typed memoryviews and BLAS calls, run without the GIL;
3. ``def`` functions that check shapes, layouts and activation codes while they still
   hold the GIL, then release it for layer 2.

Inputs may be C- or Fortran-contiguous (the course's ``X = X_orig.reshape(m, -1).T`` is
Fortran-ordered, and copying a 12288 x 209 matrix every iteration would cost more than
the product); outputs must be C-contiguous, writeable and must not alias the inputs.
Both float64 and float32 are compiled (the fused type ``floating``); every array of one
call must share the dtype. Python-level validation (finiteness, dtype promotion,
allocation) lives in :mod:`cnn_core._ops`.
"""
import numpy as np

from libc.float cimport DBL_EPSILON, DBL_MIN, FLT_EPSILON, FLT_MIN
from libc.math cimport NAN, exp, fabs, log, log1p
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy
from scipy.linalg.cython_blas cimport dgemm, dgemv, sgemm, sgemv

cdef extern from "_vmath.h" nogil:
    void cnn_vm_tanh_d(const double* x, double* y, Py_ssize_t n)
    void cnn_vm_tanh_f(const float* x, float* y, Py_ssize_t n)
    void cnn_vm_sigmoid_d(const double* x, double* y, Py_ssize_t n)
    void cnn_vm_sigmoid_f(const float* x, float* y, Py_ssize_t n)
    void cnn_vm_exp_d(const double* x, double* y, Py_ssize_t n)
    double cnn_vm_tanh(double x)
    double cnn_vm_sigmoid(double x)

ctypedef fused floating:
    float
    double

# Activation codes. cnn_core._ops maps names to these through ACTIVATION_CODES.
cdef enum:
    IDENTITY = 0
    RELU = 1
    SIGMOID = 2
    TANH = 3

ACTIVATION_CODES = {"identity": IDENTITY, "relu": RELU, "sigmoid": SIGMOID, "tanh": TANH}


# ---------------------------------------------------------------------------------------
# Layer 1: one element. Arithmetic is done in double for both dtypes; the result is
# rounded to the array's dtype once, when it is stored.
# ---------------------------------------------------------------------------------------

cdef inline double _activate(int activation, double z) noexcept nogil:
    if activation == RELU:
        return z if z > 0 else 0.0
    if activation == SIGMOID:
        return cnn_vm_sigmoid(z)
    if activation == TANH:
        return cnn_vm_tanh(z)
    return z


cdef inline double _logistic_loss(double z, double y) noexcept nogil:
    """Cross-entropy of sigmoid(z) against y, from the logit: softplus(z) - y z.

    -(y log s + (1 - y) log(1 - s)) with s = sigmoid(z) rearranges to
    max(z, 0) - y z + log1p(exp(-|z|)), which is exact and finite for any z.
    """
    return (z if z > 0 else 0.0) - y * z + log1p(exp(-fabs(z)))


cdef inline double _activation_slope(int activation, double z) noexcept nogil:
    """g'(z), the local derivative used by the backward pass."""
    cdef double s
    if activation == RELU:
        # The course's convention: dZ = 0 where Z <= 0 (the derivative at 0 is taken as 0).
        return 1.0 if z > 0 else 0.0
    if activation == SIGMOID:
        s = cnn_vm_sigmoid(z)
        return s * (1.0 - s)
    if activation == TANH:
        s = cnn_vm_tanh(z)
        return 1.0 - s * s
    return 1.0


# ---------------------------------------------------------------------------------------
# Layer 2: loops and BLAS, without the GIL.
# ---------------------------------------------------------------------------------------

cdef void _gemm(char transa, char transb, int m, int n, int k, floating alpha,
                const floating* a, int lda, const floating* b, int ldb,
                floating beta, floating* c, int ldc) noexcept nogil:
    # scipy's Fortran BLAS takes non-const pointers; it does not write to a or b.
    if floating is double:
        dgemm(&transa, &transb, &m, &n, &k, &alpha, <double*> a, &lda,
              <double*> b, &ldb, &beta, c, &ldc)
    else:
        sgemm(&transa, &transb, &m, &n, &k, &alpha, <float*> a, &lda,
              <float*> b, &ldb, &beta, c, &ldc)


cdef void _gemv(char trans, int m, int n, floating alpha, const floating* a, int lda,
                const floating* x, floating beta, floating* y) noexcept nogil:
    cdef int inc = 1
    if floating is double:
        dgemv(&trans, &m, &n, &alpha, <double*> a, &lda, <double*> x, &inc, &beta, y, &inc)
    else:
        sgemv(&trans, &m, &n, &alpha, <float*> a, &lda, <float*> x, &inc, &beta, y, &inc)


cdef inline void _vm_activate(int activation, const floating* z, floating* a,
                              Py_ssize_t n) noexcept nogil:
    """``a = g(z)`` over n contiguous values with the vectorised tanh and sigmoid of
    ``_vmath.h`` (relu and identity are plain loops). ``a`` may be ``z``."""
    cdef Py_ssize_t i
    if activation == TANH:
        if floating is double:
            cnn_vm_tanh_d(z, a, n)
        else:
            cnn_vm_tanh_f(z, a, n)
    elif activation == SIGMOID:
        if floating is double:
            cnn_vm_sigmoid_d(z, a, n)
        else:
            cnn_vm_sigmoid_f(z, a, n)
    elif activation == RELU:
        for i in range(n):
            a[i] = z[i] if z[i] > 0 else 0
    else:
        for i in range(n):
            a[i] = z[i]


cdef inline int _max1(Py_ssize_t v) noexcept nogil:
    return <int> v if v > 1 else 1


cdef void _rowmajor_gemm(bint trans_x, bint x_fortran, const floating* x,
                         Py_ssize_t x_rows, Py_ssize_t x_cols,
                         bint trans_y, bint y_fortran, const floating* y,
                         Py_ssize_t y_rows, Py_ssize_t y_cols,
                         floating alpha, floating beta,
                         floating* c, Py_ssize_t c_rows, Py_ssize_t c_cols) noexcept nogil:
    """C = alpha * op(X) . op(Y) + beta * C for a C-ordered (c_rows, c_cols) output.

    X and Y are described by their stored shape and layout. Fortran BLAS sees the
    row-major C as its transpose, so it computes C^T = op(Y)^T . op(X)^T: the operands
    swap, and each one's transpose flag is 'T' exactly when "transposed" and "stored
    Fortran-ordered" disagree.

    A one-row C (logistic regression, an output layer's dW) is a matrix-vector product:
    op(X) is then a contiguous vector, and gemv is several times faster than gemm there.
    """
    cdef char trans_a = c'T' if trans_y != y_fortran else c'N'
    cdef char trans_b = c'T' if trans_x != x_fortran else c'N'
    cdef int lda = _max1(y_rows if y_fortran else y_cols)
    cdef int ldb = _max1(x_rows if x_fortran else x_cols)
    cdef int inner = <int> (x_rows if trans_x else x_cols)
    if c_rows == 1:
        if trans_a == c'N':  # Fortran's A is (c_cols, inner)
            _gemv(c'N', <int> c_cols, inner, alpha, y, lda, x, beta, c)
        else:  # Fortran's A is (inner, c_cols)
            _gemv(c'T', inner, <int> c_cols, alpha, y, lda, x, beta, c)
        return
    _gemm(trans_a, trans_b, <int> c_cols, <int> c_rows, inner, alpha,
          y, lda, x, ldb, beta, c, _max1(c_cols))


cdef void _add_bias_and_activate(floating[:, ::1] Z, floating[:, ::1] A,
                                 const floating* b, Py_ssize_t b_stride,
                                 int activation) noexcept nogil:
    """Z += b (broadcast over columns), then A = g(Z), row by row."""
    cdef Py_ssize_t i, j
    cdef floating bias
    for i in range(Z.shape[0]):
        bias = b[i * b_stride]
        for j in range(Z.shape[1]):
            Z[i, j] = Z[i, j] + bias
        _vm_activate(activation, &Z[i, 0], &A[i, 0], Z.shape[1])


cdef void _scaled_row_sums(const floating[:, ::1] dZ, floating[:, ::1] db,
                           double scale) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef double total
    for i in range(dZ.shape[0]):
        total = 0.0
        for j in range(dZ.shape[1]):
            total += dZ[i, j]
        db[i, 0] = <floating> (total * scale)


# ---------------------------------------------------------------------------------------
# Layer 3: checks with the GIL held, then the work without it.
# ---------------------------------------------------------------------------------------

cdef int _is_fortran(str name, Py_ssize_t rows, Py_ssize_t cols,
                     Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t item) except -1:
    """0 for a C-contiguous matrix, 1 for a Fortran-contiguous one, else ValueError.

    Strides of length-1 axes are ignored: NumPy leaves them arbitrary.
    """
    if (cols == 1 or s1 == item) and (rows == 1 or s0 == cols * item):
        return 0
    if (rows == 1 or s0 == item) and (cols == 1 or s1 == rows * item):
        return 1
    raise ValueError(
        f"{name} must be C- or Fortran-contiguous; got strides ({s0}, {s1}) "
        f"for shape ({rows}, {cols}) with itemsize {item}"
    )


cdef int _check_shape(str name, Py_ssize_t rows, Py_ssize_t cols,
                      Py_ssize_t want_rows, Py_ssize_t want_cols, str meaning) except -1:
    if rows != want_rows or cols != want_cols:
        raise ValueError(
            f"{name} must have shape {meaning} = ({want_rows}, {want_cols}); "
            f"got ({rows}, {cols})"
        )
    return 0


cdef int _check_activation(int activation) except -1:
    if activation not in (IDENTITY, RELU, SIGMOID, TANH):
        raise ValueError(
            f"activation code must be one of {sorted(ACTIVATION_CODES.values())} "
            f"({ACTIVATION_CODES}); got {activation}"
        )
    return 0


cdef int _check_nonempty(Py_ssize_t n_out, Py_ssize_t n_in, Py_ssize_t m) except -1:
    if n_out <= 0 or n_in <= 0 or m <= 0:
        raise ValueError(
            f"layer sizes and the number of examples must be positive; got "
            f"n_out={n_out}, n_in={n_in}, m={m}"
        )
    if n_out > 2147483647 or n_in > 2147483647 or m > 2147483647:
        raise ValueError("dimensions above 2**31 - 1 exceed the BLAS integer range")
    return 0


def linear_activation_forward(const floating[:, :] A_prev, const floating[:, :] W,
                              const floating[:, :] b, floating[:, ::1] Z,
                              floating[:, ::1] A, int activation):
    """Fused ``Z = W . A_prev + b`` (one gemm) and ``A = g(Z)`` (one pass over Z).

    Shapes: ``A_prev`` (n_prev, m), ``W`` (n, n_prev), ``b`` (n, 1); outputs ``Z`` and
    ``A`` (n, m), overwritten. ``activation`` is a code from ``ACTIVATION_CODES``.
    """
    cdef Py_ssize_t n = W.shape[0], n_prev = W.shape[1], m = A_prev.shape[1]
    cdef Py_ssize_t item = sizeof(floating)
    _check_nonempty(n, n_prev, m)
    _check_activation(activation)
    _check_shape("A_prev", A_prev.shape[0], A_prev.shape[1], n_prev, m, "(n_prev, m)")
    _check_shape("b", b.shape[0], b.shape[1], n, 1, "(n, 1)")
    _check_shape("Z", Z.shape[0], Z.shape[1], n, m, "(n, m)")
    _check_shape("A", A.shape[0], A.shape[1], n, m, "(n, m)")
    cdef bint a_fortran = _is_fortran("A_prev", n_prev, m, A_prev.strides[0],
                                      A_prev.strides[1], item)
    cdef bint w_fortran = _is_fortran("W", n, n_prev, W.strides[0], W.strides[1], item)
    cdef Py_ssize_t b_stride = b.strides[0] // item
    with nogil:
        _rowmajor_gemm(False, w_fortran, &W[0, 0], n, n_prev,
                       False, a_fortran, &A_prev[0, 0], n_prev, m,
                       1.0, 0.0, &Z[0, 0], n, m)
        _add_bias_and_activate(Z, A, &b[0, 0], b_stride, activation)


def activation_backward(const floating[:, ::1] dA, const floating[:, ::1] Z,
                        floating[:, ::1] dZ, int activation):
    """``dZ = dA * g'(Z)`` elementwise. All three arrays are (n, m), C-contiguous."""
    cdef Py_ssize_t i, j, n = Z.shape[0], m = Z.shape[1]
    _check_activation(activation)
    _check_shape("dA", dA.shape[0], dA.shape[1], n, m, "Z.shape")
    _check_shape("dZ", dZ.shape[0], dZ.shape[1], n, m, "Z.shape")
    with nogil:
        for i in range(n):
            for j in range(m):
                dZ[i, j] = <floating> (dA[i, j] * _activation_slope(activation, Z[i, j]))


def linear_backward(const floating[:, ::1] dZ, const floating[:, :] A_prev,
                    const floating[:, :] W, floating[:, ::1] dA_prev,
                    floating[:, ::1] dW, floating[:, ::1] db):
    """The linear layer's backward pass, by two gemm calls and one row reduction.

    ``dW = dZ . A_prev^T / m``, ``db = sum_columns(dZ) / m`` and, unless ``dA_prev`` is
    None (the first layer, whose input gradient nothing uses), ``dA_prev = W^T . dZ``.
    Shapes: ``dZ`` (n, m), ``A_prev`` (n_prev, m), ``W`` (n, n_prev), ``dA_prev``
    (n_prev, m), ``dW`` (n, n_prev), ``db`` (n, 1).
    """
    cdef Py_ssize_t n = W.shape[0], n_prev = W.shape[1], m = dZ.shape[1]
    cdef Py_ssize_t item = sizeof(floating)
    _check_nonempty(n, n_prev, m)
    _check_shape("dZ", dZ.shape[0], dZ.shape[1], n, m, "(n, m)")
    _check_shape("A_prev", A_prev.shape[0], A_prev.shape[1], n_prev, m, "(n_prev, m)")
    _check_shape("dW", dW.shape[0], dW.shape[1], n, n_prev, "W.shape")
    _check_shape("db", db.shape[0], db.shape[1], n, 1, "(n, 1)")
    cdef bint want_dA_prev = dA_prev is not None
    if want_dA_prev:
        _check_shape("dA_prev", dA_prev.shape[0], dA_prev.shape[1], n_prev, m,
                     "A_prev.shape")
    cdef bint a_fortran = _is_fortran("A_prev", n_prev, m, A_prev.strides[0],
                                      A_prev.strides[1], item)
    cdef bint w_fortran = _is_fortran("W", n, n_prev, W.strides[0], W.strides[1], item)
    cdef floating inv_m = <floating> (1.0 / m)
    with nogil:
        _rowmajor_gemm(False, False, &dZ[0, 0], n, m,
                       True, a_fortran, &A_prev[0, 0], n_prev, m,
                       inv_m, 0.0, &dW[0, 0], n, n_prev)
        _scaled_row_sums(dZ, db, 1.0 / m)
        if want_dA_prev:
            _rowmajor_gemm(True, w_fortran, &W[0, 0], n, n_prev,
                           False, False, &dZ[0, 0], n, m,
                           1.0, 0.0, &dA_prev[0, 0], n_prev, m)


def cross_entropy(const floating[:, ::1] A, const floating[:, ::1] Y):
    """Mean binary cross-entropy ``-(1/m) sum(Y log A + (1 - Y) log(1 - A))``.

    ``A`` and ``Y`` are (1, m) (any (n, m) is summed and divided by m). A term whose
    label weight is exactly 0 contributes 0 even where its log is -inf (0 log 0 = 0),
    and A is clipped to [tiny, 1 - eps/2] of its dtype so that a saturated prediction
    gives a large finite cost instead of inf. Returns a Python float.
    """
    cdef Py_ssize_t i, j, n = A.shape[0], m = A.shape[1]
    cdef double total = 0.0, a, y, lo, hi
    _check_shape("Y", Y.shape[0], Y.shape[1], n, m, "A.shape")
    if m <= 0 or n <= 0:
        raise ValueError(f"A must hold at least one example; got shape ({n}, {m})")
    if floating is double:
        lo, hi = DBL_MIN, 1.0 - DBL_EPSILON / 2
    else:
        lo, hi = FLT_MIN, 1.0 - FLT_EPSILON / 2
    with nogil:
        for i in range(n):
            for j in range(m):
                a = A[i, j]
                y = Y[i, j]
                a = lo if a < lo else (hi if a > hi else a)
                if y != 0.0:
                    total += y * log(a)
                if y != 1.0:
                    total += (1.0 - y) * log1p(-a)
    return -total / m


def vectorised_math(str function, const double[::1] x, double[::1] out):
    """``out = f(x)`` with the vectorised ``exp``, ``tanh`` or ``sigmoid`` of ``_vmath.h``.

    The kernels' activations use these; this entry point lets tests measure their
    accuracy against the C library. ``x`` and ``out`` are 1-D float64 of one length.
    """
    cdef Py_ssize_t n = x.shape[0]
    if out.shape[0] != n:
        raise ValueError(f"out must have x's length {n}; got {out.shape[0]}")
    cdef int which = {"exp": 0, "tanh": 1, "sigmoid": 2}.get(function, -1)
    if which < 0:
        raise ValueError(f"function must be 'exp', 'tanh' or 'sigmoid'; got {function!r}")
    if n == 0:
        return
    with nogil:
        if which == 0:
            cnn_vm_exp_d(&x[0], &out[0], n)
        elif which == 1:
            cnn_vm_tanh_d(&x[0], &out[0], n)
        else:
            cnn_vm_sigmoid_d(&x[0], &out[0], n)


def cross_entropy_with_logits(const floating[:, ::1] Z, const floating[:, ::1] Y):
    """Mean cross-entropy of ``sigmoid(Z)`` against ``Y``, computed from the logits.

    ``-(1/m) sum(Y log s + (1 - Y) log(1 - s))`` with ``s = sigmoid(Z)``, summed in the
    form ``max(z, 0) - y z + log1p(exp(-|z|))``: exact and finite for logits of any size.
    ``Z`` and ``Y`` are (n, m); the sum over all entries is divided by m.
    """
    cdef Py_ssize_t i, j, n = Z.shape[0], m = Z.shape[1]
    cdef double total = 0.0
    _check_shape("Y", Y.shape[0], Y.shape[1], n, m, "Z.shape")
    if m <= 0 or n <= 0:
        raise ValueError(f"Z must hold at least one example; got shape ({n}, {m})")
    with nogil:
        for i in range(n):
            for j in range(m):
                total += _logistic_loss(Z[i, j], Y[i, j])
    return total / m


# ---------------------------------------------------------------------------------------
# Whole training loops.
# ---------------------------------------------------------------------------------------

cdef void _add_bias_and_activate_rows(floating* a, const floating* b, Py_ssize_t n,
                                      Py_ssize_t m, int activation) noexcept nogil:
    """``A = g(Z + b)`` in place over a C-ordered (n, m) buffer holding ``W . A_prev``.

    Z is rounded to the dtype before g, as the layer-by-layer code does; the bias loop
    and the activation (``_vm_activate``) are plain loops the compiler vectorises.
    """
    cdef Py_ssize_t i, j
    cdef floating bias
    cdef floating* row
    for i in range(n):
        bias = b[i]
        row = a + i * m
        for j in range(m):
            row[j] = row[j] + bias
        _vm_activate(activation, row, row, m)


cdef void _multiply_by_slope(floating* d, const floating* a, Py_ssize_t size,
                             int activation) noexcept nogil:
    """``dZ = dA * g'(Z)`` in place, with g' read from the layer's output ``a = g(z)``."""
    cdef Py_ssize_t i
    if activation == RELU:  # a > 0 exactly where z > 0; the course's slope 0 at 0
        for i in range(size):
            d[i] = d[i] if a[i] > 0 else 0
    elif activation == TANH:
        for i in range(size):
            d[i] = d[i] * (1 - a[i] * a[i])
    elif activation == SIGMOID:
        for i in range(size):
            d[i] = d[i] * (a[i] * (1 - a[i]))


cdef double _sigmoid_output(floating* a, const floating* b, const floating* Y,
                            Py_ssize_t n, Py_ssize_t m, bint want_cost) noexcept nogil:
    """The output layer in place: ``A_L = sigmoid(Z_L + b)``; returns the mean
    cross-entropy from the logits, taken before the sigmoid overwrites them (or NaN)."""
    cdef Py_ssize_t i, j
    cdef double total = 0.0
    cdef floating* row
    for i in range(n):
        row = a + i * m
        for j in range(m):
            row[j] = row[j] + b[i]
        if want_cost:
            for j in range(m):
                total += _logistic_loss(row[j], Y[i * m + j])
        _vm_activate(SIGMOID, row, row, m)
    return total / m if want_cost else NAN


# Layers whose weight matrix has at most this many entries skip BLAS: for them a call's
# fixed cost outweighs the arithmetic, and plain loops over the m examples (which the
# compiler vectorises) are several times faster (the planar 2-4-1 net). A C enum
# constant, not a DEF (deprecated in Cython 3).
cdef enum:
    SMALL_LAYER = 64


cdef inline bint _is_small(Py_ssize_t n, Py_ssize_t n_prev) noexcept nogil:
    return n * n_prev <= SMALL_LAYER


cdef inline double _dot(const floating* x, const floating* y, Py_ssize_t m) noexcept nogil:
    """sum_j x[j] y[j] with eight running sums, which the compiler maps onto SIMD lanes."""
    cdef floating acc[8]
    cdef Py_ssize_t j, u, blocks = m - m % 8
    cdef double total = 0.0
    for u in range(8):
        acc[u] = 0
    for j in range(0, blocks, 8):
        for u in range(8):
            acc[u] = acc[u] + x[j + u] * y[j + u]
    for u in range(8):
        total += acc[u]
    for j in range(blocks, m):
        total += x[j] * y[j]
    return total


cdef void _small_product(const floating* W, Py_ssize_t n, Py_ssize_t n_prev,
                         const floating* A, Py_ssize_t m, floating* Z) noexcept nogil:
    """Z = W . A for a small W (n, n_prev) and C-ordered A (n_prev, m): row axpys."""
    cdef Py_ssize_t i, p, j
    cdef floating w
    cdef floating* z
    cdef const floating* a
    for i in range(n):
        z = Z + i * m
        w = W[i * n_prev]
        for j in range(m):
            z[j] = w * A[j]
        for p in range(1, n_prev):
            w = W[i * n_prev + p]
            a = A + p * m
            for j in range(m):
                z[j] = z[j] + w * a[j]


cdef void _small_product_transposed(const floating* W, Py_ssize_t n, Py_ssize_t n_prev,
                                    const floating* dZ, Py_ssize_t m,
                                    floating* out) noexcept nogil:
    """out = W^T . dZ for a small W (n, n_prev) and C-ordered dZ (n, m)."""
    cdef Py_ssize_t i, p, j
    cdef floating w
    cdef floating* o
    cdef const floating* d
    for p in range(n_prev):
        o = out + p * m
        w = W[p]
        for j in range(m):
            o[j] = w * dZ[j]
        for i in range(1, n):
            w = W[i * n_prev + p]
            d = dZ + i * m
            for j in range(m):
                o[j] = o[j] + w * d[j]


cdef void _small_update(floating* W, floating* b, Py_ssize_t n, Py_ssize_t n_prev,
                        const floating* dZ, const floating* A, const floating* ones,
                        Py_ssize_t m, double minus_rate_over_m) noexcept nogil:
    """W += -(lr/m) dZ . A^T and b += -(lr/m) dZ . 1, by dot products over the examples."""
    cdef Py_ssize_t i, p
    for i in range(n):
        for p in range(n_prev):
            W[i * n_prev + p] = <floating> (W[i * n_prev + p]
                                            + minus_rate_over_m * _dot(dZ + i * m, A + p * m, m))
        b[i] = <floating> (b[i] + minus_rate_over_m * _dot(dZ + i * m, ones, m))


cdef double _train_steps(int L, const Py_ssize_t* dims, Py_ssize_t m,
                         const floating* X, bint x_fortran, const floating* Y,
                         const floating* ones, floating** W, floating** b, floating** A,
                         floating** dZ, const floating* K, floating* P, floating* S,
                         int hidden, double learning_rate,
                         Py_ssize_t num_steps, bint want_cost) noexcept nogil:
    """``num_steps`` full-batch gradient descent steps of an L-layer network.

    Layers 1..L-1 use the ``hidden`` activation, layer L the sigmoid, the cost is the
    mean cross-entropy. ``dims[l]`` is n_l (``dims[0] = n_x``); arrays are indexed from
    0 for layer 1: ``W[l]`` (n_{l+1}, n_l), ``b[l]`` (n_{l+1}, 1), and the workspaces
    ``A[l]``, ``dZ[l]`` (n_{l+1}, m), all C-ordered; ``ones`` holds m ones. Returns the
    cost at the parameters before the first step when ``want_cost``, else NaN.

    Per step: the forward pass is one gemm per layer, whose output buffer then gets
    the bias and the activation in place (the backward pass reads g' from A, so Z is
    not kept). The backward pass starts from dZ_L = A_L - Y; for each layer it first
    hands the gradient down (``dZ_{l-1} = (W_l^T dZ_l) * g'(A_{l-1})``, with the old
    W_l), then updates b_l by one gemv against the ones (``b_l <- b_l - (lr/m) dZ_l 1``)
    and W_l by one gemm with beta = 1 (``W_l <- W_l - (lr/m) dZ_l A_{l-1}^T``). dW and
    db are never stored, and the input layer's gradient is never formed.

    The Gram path (``K`` not NULL; see :class:`Trainer`): the first layer's product
    ``W_1 X`` is carried as ``P`` and updated by ``P <- P - (lr/m) dZ_1 K`` with
    ``K = X^T X``; ``S`` accumulates ``-(lr/m) dZ_1``, which the caller applies as
    ``W_1 <- W_1 + S X^T`` (:func:`_apply_first_layer_steps`). X is not read here.
    """
    cdef Py_ssize_t step, l, i, n, n_prev
    cdef bint small
    cdef double cost = NAN, first_cost
    cdef floating minus_rate_over_m = <floating> (-learning_rate / m)
    cdef const floating* prev
    cdef bint prev_fortran
    cdef floating* a
    cdef floating* d
    for step in range(num_steps):
        # Forward.
        prev, prev_fortran = X, x_fortran
        for l in range(L):
            n, n_prev = dims[l + 1], dims[l]
            if l == 0 and K != NULL:
                memcpy(A[0], P, n * m * sizeof(floating))
            elif _is_small(n, n_prev) and not prev_fortran:
                _small_product(W[l], n, n_prev, prev, m, A[l])
            else:
                _rowmajor_gemm(False, False, W[l], n, n_prev, False, prev_fortran, prev,
                               n_prev, m, 1.0, 0.0, A[l], n, m)
            if l < L - 1:
                _add_bias_and_activate_rows(A[l], b[l], n, m, hidden)
            else:
                first_cost = _sigmoid_output(A[l], b[l], Y, n, m, want_cost and step == 0)
                if step == 0:
                    cost = first_cost
            prev, prev_fortran = A[l], False
        # Backward: sigmoid + cross-entropy at the output.
        a, d = A[L - 1], dZ[L - 1]
        for i in range(dims[L] * m):
            d[i] = a[i] - Y[i]
        for l in range(L - 1, -1, -1):
            n, n_prev = dims[l + 1], dims[l]
            small = _is_small(n, n_prev)
            if l > 0:
                prev, prev_fortran = A[l - 1], False
                if small:
                    _small_product_transposed(W[l], n, n_prev, dZ[l], m, dZ[l - 1])
                else:
                    _rowmajor_gemm(True, False, W[l], n, n_prev, False, False, dZ[l], n, m,
                                   1.0, 0.0, dZ[l - 1], n_prev, m)
                _multiply_by_slope(dZ[l - 1], A[l - 1], n_prev * m, hidden)
            else:
                prev, prev_fortran = X, x_fortran
            if l == 0 and K != NULL:
                _gemv(c'T', <int> m, <int> n, minus_rate_over_m, dZ[0], <int> m, ones, 1.0, b[0])
                _rowmajor_gemm(False, False, dZ[0], n, m, False, False, K, m, m,
                               minus_rate_over_m, 1.0, P, n, m)
                d = dZ[0]
                for i in range(n * m):
                    S[i] = S[i] + minus_rate_over_m * d[i]
                continue
            if small and not prev_fortran:
                _small_update(W[l], b[l], n, n_prev, dZ[l], prev, ones, m, minus_rate_over_m)
                continue
            # dZ_l is C-ordered (n, m): Fortran sees (m, n), so 'T' gives dZ_l . 1.
            _gemv(c'T', <int> m, <int> n, minus_rate_over_m, dZ[l], <int> m, ones, 1.0, b[l])
            _rowmajor_gemm(False, False, dZ[l], n, m, True, prev_fortran, prev, n_prev, m,
                           minus_rate_over_m, 1.0, W[l], n, n_prev)
    return cost


def _gram_setup(const floating[:, :] X, const floating[:, ::1] W1, floating[:, ::1] K,
                floating[:, ::1] P, bint x_fortran):
    """K = X^T X (m, m) and P = W_1 X (n_1, m), for :class:`Trainer`'s Gram path."""
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n = W1.shape[0]
    _check_nonempty(n, n_x, m)
    _check_shape("W1", W1.shape[0], W1.shape[1], n, n_x, "(n_1, n_x)")
    _check_shape("K", K.shape[0], K.shape[1], m, m, "(m, m)")
    _check_shape("P", P.shape[0], P.shape[1], n, m, "(n_1, m)")
    if _is_fortran("X", n_x, m, X.strides[0], X.strides[1], sizeof(floating)) != x_fortran:
        raise ValueError("x_fortran must say whether X is Fortran-ordered")
    with nogil:
        _rowmajor_gemm(True, x_fortran, &X[0, 0], n_x, m, False, x_fortran, &X[0, 0], n_x, m,
                       1.0, 0.0, &K[0, 0], m, m)
        _rowmajor_gemm(False, False, &W1[0, 0], n, n_x, False, x_fortran, &X[0, 0], n_x, m,
                       1.0, 0.0, &P[0, 0], n, m)


cdef void _apply_first_layer_steps(floating* W, floating* S, const floating* X,
                                   bint x_fortran, Py_ssize_t n, Py_ssize_t n_x,
                                   Py_ssize_t m) noexcept nogil:
    """``W_1 <- W_1 + S X^T`` and ``S <- 0``: the Gram path's accumulated steps, applied."""
    cdef Py_ssize_t i
    _rowmajor_gemm(False, False, S, n, m, True, x_fortran, X, n_x, m, 1.0, 1.0, W, n, n_x)
    for i in range(n * m):
        S[i] = 0


cdef struct TrainerBuffers:
    # Everything a training step touches, as raw pointers (element type per Trainer).
    int L
    int hidden
    bint x_fortran
    Py_ssize_t m
    Py_ssize_t* dims
    void** W
    void** b
    void** A
    void** dZ
    const void* X
    const void* Y
    const void* ones
    void* K     # the Gram path's buffers; NULL on the standard path
    void* P
    void* S


cdef double _run_buffers(TrainerBuffers* t, floating* element_type, double learning_rate,
                         Py_ssize_t num_steps, bint want_cost) noexcept nogil:
    """:meth:`Trainer.run` for one element type (``element_type`` only selects it)."""
    cdef double cost = _train_steps(
        t.L, t.dims, t.m, <const floating*> t.X, t.x_fortran, <const floating*> t.Y,
        <const floating*> t.ones, <floating**> t.W, <floating**> t.b, <floating**> t.A,
        <floating**> t.dZ, <const floating*> t.K, <floating*> t.P, <floating*> t.S,
        t.hidden, learning_rate, num_steps, want_cost)
    if t.K != NULL:
        _apply_first_layer_steps((<floating**> t.W)[0], <floating*> t.S,
                                 <const floating*> t.X, t.x_fortran, t.dims[1], t.dims[0], t.m)
    return cost


cdef class Trainer:
    """Full-batch gradient descent of an L-layer network, with every buffer allocated once.

    Built once per training run from the data and the parameter arrays, which it updates
    in place; :meth:`run` then takes any number of steps without allocating. Layers
    1..L-1 use ``hidden_activation`` (an ``ACTIVATION_CODES`` value: relu for the deep
    models, tanh for the shallow one), the output layer the sigmoid with the
    cross-entropy cost. A one-layer network is logistic regression.

    Arguments:
        X: (n_x, m), C- or Fortran-contiguous. Y: (n_L, m), C-contiguous.
        weights: [W1 (n_1, n_x), ..., WL (n_L, n_{L-1})], C-contiguous and writeable.
        biases: [b1 (n_1, 1), ..., bL (n_L, 1)], C-contiguous and writeable.
        All arrays share one float dtype (float32 or float64).
        gram: run the first layer on the Gram matrix ``K = X^T X`` (m, m) instead of X.

    The Gram path rests on an identity of full-batch gradient descent: W_1 only ever
    changes by ``-(lr/m) dZ_1 X^T``, so ``W_1 X`` changes by ``-(lr/m) dZ_1 K``. With K
    computed once, each step costs O(n_1 m^2) in the first layer instead of
    O(n_1 n_x m): far less when there are more features than examples (the cat
    images: 12288 features, 209 examples). The accumulated steps are applied to W_1 at
    the end of every :meth:`run`, so the arrays passed in always hold the current
    parameters. These are the same iterates in exact arithmetic; mini-batches or
    per-parameter step sizes would break the identity, and this class does neither.
    """

    cdef TrainerBuffers buf
    cdef bint is_double
    cdef object _keep_alive

    def __cinit__(self):
        self.buf.dims = NULL
        self.buf.W = self.buf.b = self.buf.A = self.buf.dZ = NULL

    def __init__(self, X, Y, list weights, list biases, int hidden_activation, bint gram=False):
        cdef Py_ssize_t l, L = len(weights)
        if L < 1 or len(biases) != L:
            raise ValueError(
                f"weights and biases must list the same number (>= 1) of layers; "
                f"got {len(weights)} and {len(biases)}"
            )
        _check_activation(hidden_activation)
        dtype = np.asarray(X).dtype
        if dtype not in (np.float64, np.float32):
            raise TypeError(f"X must be float64 or float32; got {dtype}")
        X = np.asarray(X)
        if X.ndim != 2 or not (X.flags.c_contiguous or X.flags.f_contiguous):
            raise ValueError("X must be a C- or Fortran-contiguous 2-D array")
        m = X.shape[1]
        _check_nonempty(X.shape[0], X.shape[0], m)
        Y = np.asarray(Y)
        for name, arrays in (("weights", weights), ("biases", biases)):
            for l, arr in enumerate(arrays):
                if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.ndim != 2 \
                        or not arr.flags.c_contiguous or not arr.flags.writeable:
                    raise ValueError(
                        f"{name}[{l}] must be a writeable C-contiguous 2-D {dtype} array"
                    )
        if Y.dtype != dtype or Y.ndim != 2 or not Y.flags.c_contiguous:
            raise ValueError(f"Y must be a C-contiguous 2-D {dtype} array")
        n_prev = X.shape[0]
        for l in range(L):
            _check_shape(f"weights[{l}]", weights[l].shape[0], weights[l].shape[1],
                         weights[l].shape[0], n_prev, "(n_l, n_{l-1})")
            _check_nonempty(weights[l].shape[0], n_prev, m)
            _check_shape(f"biases[{l}]", biases[l].shape[0], biases[l].shape[1],
                         weights[l].shape[0], 1, "(n_l, 1)")
            n_prev = weights[l].shape[0]
        _check_shape("Y", Y.shape[0], Y.shape[1], n_prev, m, "(n_L, m)")

        if X.flags.f_contiguous and not X.flags.c_contiguous and \
                X.shape[0] * weights[0].shape[0] <= SMALL_LAYER:
            # A small first layer runs without BLAS, on rows of X: copy it once.
            X = np.ascontiguousarray(X)
        workspaces = [np.empty((w.shape[0], m), dtype=dtype) for w in weights]
        gradients = [np.empty((w.shape[0], m), dtype=dtype) for w in weights]
        ones = np.ones(m, dtype=dtype)
        self._keep_alive = (X, Y, list(weights), list(biases), workspaces, gradients, ones)
        self.buf.L, self.buf.m, self.buf.hidden = L, m, hidden_activation
        self.is_double = dtype == np.float64
        self.buf.x_fortran = not X.flags.c_contiguous
        self.buf.dims = <Py_ssize_t*> malloc((L + 1) * sizeof(Py_ssize_t))
        self.buf.W = <void**> malloc(L * sizeof(void*))
        self.buf.b = <void**> malloc(L * sizeof(void*))
        self.buf.A = <void**> malloc(L * sizeof(void*))
        self.buf.dZ = <void**> malloc(L * sizeof(void*))
        if not (self.buf.dims and self.buf.W and self.buf.b and self.buf.A and self.buf.dZ):
            raise MemoryError()
        self.buf.dims[0] = X.shape[0]
        for l in range(L):
            self.buf.dims[l + 1] = weights[l].shape[0]
            self.buf.W[l] = <void*> <size_t> weights[l].ctypes.data
            self.buf.b[l] = <void*> <size_t> biases[l].ctypes.data
            self.buf.A[l] = <void*> <size_t> workspaces[l].ctypes.data
            self.buf.dZ[l] = <void*> <size_t> gradients[l].ctypes.data
        self.buf.X = <const void*> <size_t> X.ctypes.data
        self.buf.Y = <const void*> <size_t> Y.ctypes.data
        self.buf.ones = <const void*> <size_t> ones.ctypes.data
        self.buf.K = self.buf.P = self.buf.S = NULL
        if gram:
            self._start_gram(X, weights[0], dtype)

    def _start_gram(self, X, W1, dtype):
        """K = X^T X and P = W_1 X, computed once; S, the steps not yet applied, = 0."""
        n, m = W1.shape[0], X.shape[1]
        K = np.empty((m, m), dtype=dtype)
        P = np.empty((n, m), dtype=dtype)
        S = np.zeros((n, m), dtype=dtype)
        _gram_setup(X, W1, K, P, self.buf.x_fortran)
        self._keep_alive = self._keep_alive + (K, P, S)
        self.buf.K = <void*> <size_t> K.ctypes.data
        self.buf.P = <void*> <size_t> P.ctypes.data
        self.buf.S = <void*> <size_t> S.ctypes.data

    def __dealloc__(self):
        free(self.buf.dims)
        free(self.buf.W)
        free(self.buf.b)
        free(self.buf.A)
        free(self.buf.dZ)

    def run(self, Py_ssize_t num_steps, double learning_rate, bint want_cost=False):
        """Take ``num_steps`` steps; return the cost before the first one (or NaN)."""
        cdef double cost
        if num_steps < 0:
            raise ValueError(f"num_steps must be >= 0; got {num_steps}")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0; got {learning_rate}")
        with nogil:
            if self.is_double:
                cost = _run_buffers(&self.buf, <double*> NULL, learning_rate, num_steps, want_cost)
            else:
                cost = _run_buffers(&self.buf, <float*> NULL, learning_rate, num_steps, want_cost)
        return cost
