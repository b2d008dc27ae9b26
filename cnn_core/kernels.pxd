# cnn_core's layer kernels for other Cython extensions: ``from cnn_core.kernels cimport
# linear_activation_forward_raw, RELU``. These are the loops that the Python-level
# functions of cnn_core.kernels run once they have checked their arguments; they check
# nothing themselves, never touch Python objects and can be called without the GIL.
#
# The caller guarantees: every pointer addresses a buffer of the stated shape and of
# the element type (float or double, one per call); outputs are C-ordered, writeable
# and overlap no input; all dimensions are positive and at most BLAS_INT_MAX; ``code``
# is one of IDENTITY, RELU, SIGMOID, TANH. Inputs marked ``*_fortran`` may be stored in
# Fortran order.
from cython cimport floating

from cnn_core._blas cimport BLAS_INT_MAX
from cnn_core._vmath cimport IDENTITY, RELU, SIGMOID, TANH

cdef void linear_activation_forward_raw(
    const floating* A_prev, bint a_prev_fortran, const floating* W, bint w_fortran,
    const floating* b, Py_ssize_t b_stride, Py_ssize_t n, Py_ssize_t n_prev, Py_ssize_t m,
    floating* Z, floating* A, int code) noexcept nogil
    # Z (n, m) = W (n, n_prev) A_prev (n_prev, m) + b (n, 1; entry i at b[i * b_stride]),
    # then A (n, m) = g(Z); A may be Z.

cdef void activation_backward_raw(const floating* dA, const floating* Z, floating* dZ,
                                  Py_ssize_t size, int code) noexcept nogil
    # dZ = dA * g'(Z) over ``size`` contiguous values; dZ overlaps neither input.

cdef void linear_backward_raw(
    const floating* dZ, const floating* A_prev, bint a_prev_fortran,
    const floating* W, bint w_fortran, Py_ssize_t n, Py_ssize_t n_prev, Py_ssize_t m,
    floating* dA_prev, floating* dW, floating* db) noexcept nogil
    # dW (n, n_prev) = dZ A_prev^T / m, db (n, 1) = dZ 1 / m and, unless dA_prev is
    # NULL, dA_prev (n_prev, m) = W^T dZ.

cdef double cross_entropy_with_logits_raw(const floating* Z, const floating* Y,
                                          Py_ssize_t n, Py_ssize_t m) noexcept nogil
    # The mean over m of the cross-entropy of sigmoid(Z) against Y, both (n, m).
