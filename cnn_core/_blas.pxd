# BLAS for cnn_core's compiled code, through scipy.linalg.cython_blas (the BLAS that
# scipy ships, so no other library is linked), for float32 and float64 alike.
#
# Every matrix in cnn_core is row-major (C order) unless its flag says Fortran order;
# ``rowmajor_gemm`` takes that description and does the transposition bookkeeping that
# Fortran BLAS needs. Other Cython extensions may cimport these (``from cnn_core._blas
# cimport rowmajor_gemm``), as scikit-learn's ``_cython_blas`` allows.
from cython cimport floating

# The largest dimension a BLAS call accepts (its integers are 32-bit).
cdef enum:
    BLAS_INT_MAX = 2147483647

cdef void gemm(char transa, char transb, int m, int n, int k, floating alpha,
               const floating* a, int lda, const floating* b, int ldb,
               floating beta, floating* c, int ldc) noexcept nogil

cdef void gemv(char trans, int m, int n, floating alpha, const floating* a, int lda,
               const floating* x, floating beta, floating* y) noexcept nogil

cdef void rowmajor_gemm(bint trans_x, bint x_fortran, const floating* x,
                        Py_ssize_t x_rows, Py_ssize_t x_cols,
                        bint trans_y, bint y_fortran, const floating* y,
                        Py_ssize_t y_rows, Py_ssize_t y_cols,
                        floating alpha, floating beta,
                        floating* c, Py_ssize_t c_rows, Py_ssize_t c_cols) noexcept nogil

cdef void row_sums(const floating* x, Py_ssize_t rows, Py_ssize_t cols, double scale,
                   floating* out, Py_ssize_t out_stride) noexcept nogil


# ---------------------------------------------------------------------------------------
# Small products without BLAS. For a layer whose weight matrix has at most SMALL_LAYER
# entries, a BLAS call's fixed cost outweighs the arithmetic, and plain loops over the
# m examples (which the compiler vectorises) are several times faster (the planar 2-4-1
# net). Operands are C-ordered.
# ---------------------------------------------------------------------------------------

cdef enum:
    SMALL_LAYER = 64


cdef inline bint is_small(Py_ssize_t n, Py_ssize_t n_prev) noexcept nogil:
    return n * n_prev <= SMALL_LAYER


cdef inline double dot(const floating* x, const floating* y, Py_ssize_t m) noexcept nogil:
    """``sum_j x[j] y[j]`` with eight running sums, which the compiler maps onto SIMD
    lanes (one running sum would be a chain of dependent additions)."""
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


cdef inline void small_product(const floating* W, Py_ssize_t n, Py_ssize_t n_prev,
                               const floating* A, Py_ssize_t m,
                               floating* Z) noexcept nogil:
    """``Z = W A`` for W (n, n_prev) and A (n_prev, m): one axpy per entry of W."""
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


cdef inline void small_product_transposed(const floating* W, Py_ssize_t n,
                                          Py_ssize_t n_prev, const floating* dZ,
                                          Py_ssize_t m, floating* out) noexcept nogil:
    """``out = W^T dZ`` for W (n, n_prev) and dZ (n, m)."""
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


cdef inline void small_descent_step(floating* W, floating* b, Py_ssize_t n,
                                    Py_ssize_t n_prev, const floating* dZ,
                                    const floating* A, const floating* ones, Py_ssize_t m,
                                    double minus_rate_over_m) noexcept nogil:
    """``W += -(lr/m) dZ A^T`` and ``b += -(lr/m) dZ 1``, by dot products over the
    examples (dW and db are never stored)."""
    cdef Py_ssize_t i, p
    for i in range(n):
        for p in range(n_prev):
            W[i * n_prev + p] = <floating> (W[i * n_prev + p]
                                            + minus_rate_over_m * dot(dZ + i * m, A + p * m, m))
        b[i] = <floating> (b[i] + minus_rate_over_m * dot(dZ + i * m, ones, m))
