"""BLAS calls for cnn_core's kernels, typed by the fused ``floating`` (see _blas.pxd)."""
from scipy.linalg.cython_blas cimport dgemm, dgemv, sgemm, sgemv


cdef void gemm(char transa, char transb, int m, int n, int k, floating alpha,
               const floating* a, int lda, const floating* b, int ldb,
               floating beta, floating* c, int ldc) noexcept nogil:
    """Fortran ``C = alpha op(A) op(B) + beta C``, dgemm or sgemm by the element type."""
    # scipy's Fortran BLAS takes non-const pointers; it does not write to a or b.
    if floating is double:
        dgemm(&transa, &transb, &m, &n, &k, &alpha, <double*> a, &lda,
              <double*> b, &ldb, &beta, c, &ldc)
    else:
        sgemm(&transa, &transb, &m, &n, &k, &alpha, <float*> a, &lda,
              <float*> b, &ldb, &beta, c, &ldc)


cdef void gemv(char trans, int m, int n, floating alpha, const floating* a, int lda,
               const floating* x, floating beta, floating* y) noexcept nogil:
    """Fortran ``y = alpha op(A) x + beta y`` with unit strides."""
    cdef int inc = 1
    if floating is double:
        dgemv(&trans, &m, &n, &alpha, <double*> a, &lda, <double*> x, &inc, &beta, y, &inc)
    else:
        sgemv(&trans, &m, &n, &alpha, <float*> a, &lda, <float*> x, &inc, &beta, y, &inc)


cdef inline int _leading(Py_ssize_t v) noexcept nogil:
    # BLAS wants a leading dimension of at least 1, even for an empty matrix.
    return <int> v if v > 1 else 1


cdef void rowmajor_gemm(bint trans_x, bint x_fortran, const floating* x,
                        Py_ssize_t x_rows, Py_ssize_t x_cols,
                        bint trans_y, bint y_fortran, const floating* y,
                        Py_ssize_t y_rows, Py_ssize_t y_cols,
                        floating alpha, floating beta,
                        floating* c, Py_ssize_t c_rows, Py_ssize_t c_cols) noexcept nogil:
    """``C = alpha op(X) op(Y) + beta C`` for a C-ordered (c_rows, c_cols) output.

    X and Y are described by their stored shape and layout. Fortran BLAS sees the
    row-major C as its transpose, so it computes ``C^T = op(Y)^T op(X)^T``: the operands
    swap, and each one's transpose flag is 'T' exactly when "transposed" and "stored
    Fortran-ordered" disagree. Callers have checked every dimension against
    ``BLAS_INT_MAX``.

    A one-row C (logistic regression, an output layer's dW) is a matrix-vector product:
    op(X) is then a contiguous vector, and gemv is several times faster than gemm there.
    """
    cdef char trans_a = c'T' if trans_y != y_fortran else c'N'
    cdef char trans_b = c'T' if trans_x != x_fortran else c'N'
    cdef int lda = _leading(y_rows if y_fortran else y_cols)
    cdef int ldb = _leading(x_rows if x_fortran else x_cols)
    cdef int inner = <int> (x_rows if trans_x else x_cols)
    if c_rows == 1:
        if trans_a == c'N':  # Fortran's A is (c_cols, inner)
            gemv(c'N', <int> c_cols, inner, alpha, y, lda, x, beta, c)
        else:  # Fortran's A is (inner, c_cols)
            gemv(c'T', inner, <int> c_cols, alpha, y, lda, x, beta, c)
        return
    gemm(trans_a, trans_b, <int> c_cols, <int> c_rows, inner, alpha,
         y, lda, x, ldb, beta, c, _leading(c_cols))


cdef void row_sums(const floating* x, Py_ssize_t rows, Py_ssize_t cols, double scale,
                   floating* out, Py_ssize_t out_stride) noexcept nogil:
    """``out[i * out_stride] = scale * sum_j x[i, j]`` for a C-ordered (rows, cols) x,
    summed in double."""
    cdef Py_ssize_t i, j
    cdef double total
    cdef const floating* row
    for i in range(rows):
        row = x + i * cols
        total = 0.0
        for j in range(cols):
            total += row[j]
        out[i * out_stride] = <floating> (total * scale)
