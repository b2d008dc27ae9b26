# The vectorised elementwise math of cnn_core's kernels: the activation codes, the
# activations and their slopes, and the logistic loss. Everything here is inline, so a
# module that cimports it compiles its own copy (and _vmath.h's clones for AVX-512,
# AVX2 and the baseline, chosen at load time).
from cython cimport floating
from libc.math cimport exp, fabs, log1p

cdef extern from "cnn_core/_vmath.h" nogil:
    void cnn_vm_tanh_d(const double* x, double* y, Py_ssize_t n)
    void cnn_vm_tanh_f(const float* x, float* y, Py_ssize_t n)
    void cnn_vm_sigmoid_d(const double* x, double* y, Py_ssize_t n)
    void cnn_vm_sigmoid_f(const float* x, float* y, Py_ssize_t n)
    void cnn_vm_exp_d(const double* x, double* y, Py_ssize_t n)

# The activations' numbers, the ``code`` of cnn_core.activations.ACTIVATIONS (checked
# against that table at import and by a test).
cdef enum ActivationCode:
    IDENTITY = 0
    RELU = 1
    SIGMOID = 2
    TANH = 3
    N_ACTIVATIONS = 4


cdef inline bint is_activation(int code) noexcept nogil:
    return 0 <= code < N_ACTIVATIONS


cdef inline void activate(int activation, const floating* z, floating* a,
                          Py_ssize_t n) noexcept nogil:
    """``a = g(z)`` over n contiguous values; ``a`` may be ``z``. tanh and sigmoid are
    computed in double and rounded once, relu and identity are plain loops."""
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
    elif <const floating*> a != z:
        for i in range(n):
            a[i] = z[i]


cdef inline void add_bias_and_activate(floating* z, floating* a, const floating* b,
                                       Py_ssize_t b_stride, Py_ssize_t rows,
                                       Py_ssize_t cols, int activation) noexcept nogil:
    """For C-ordered (rows, cols) buffers: ``z += b`` (b broadcast over the columns,
    ``b[i * b_stride]`` for row i), then ``a = g(z)``. ``a`` may be ``z``: the trainer
    keeps only A, the layer kernel both."""
    cdef Py_ssize_t i, j
    cdef floating bias
    cdef floating* row
    for i in range(rows):
        bias = b[i * b_stride]
        row = z + i * cols
        for j in range(cols):
            row[j] = row[j] + bias
        activate(activation, row, a + i * cols, cols)


cdef inline void times_slope(const floating* d, const floating* a, floating* out,
                             Py_ssize_t n, int activation) noexcept nogil:
    """``out = d * g'(z)`` over n values, with the slope read from the output
    ``a = g(z)``: relu ``a > 0`` (the course's slope 0 at z = 0), tanh ``1 - a^2``,
    sigmoid ``a (1 - a)``, identity 1. ``out`` may be ``d`` or ``a`` (each entry is
    read before it is written). The one form of every slope, as in
    cnn_core.activations.ACTIVATIONS."""
    cdef Py_ssize_t i
    if activation == RELU:
        for i in range(n):
            out[i] = d[i] if a[i] > 0 else 0
    elif activation == TANH:
        for i in range(n):
            out[i] = d[i] * (1 - a[i] * a[i])
    elif activation == SIGMOID:
        for i in range(n):
            out[i] = d[i] * (a[i] * (1 - a[i]))
    else:
        for i in range(n):
            out[i] = d[i]


cdef inline double logistic_loss(double z, double y) noexcept nogil:
    """Cross-entropy of sigmoid(z) against y from the logit: ``softplus(z) - y z``,
    that is ``max(z, 0) - y z + log1p(exp(-|z|))``, exact and finite for any z."""
    return (z if z > 0 else 0.0) - y * z + log1p(exp(-fabs(z)))
