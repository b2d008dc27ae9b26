# cnn_core's convolution and pooling loops for other Cython extensions:
# ``from cnn_core._conv cimport conv_forward_raw, CONV_AUTO``. These are the loops that
# the Python-level functions of cnn_core._conv (re-exported by cnn_core.kernels) run
# once they have checked their arguments; they check nothing themselves, never touch
# Python objects and can be called without the GIL.
#
# Arrays are NHWC and C-ordered: A_prev (m, H, Wd, C), W (f, f, C, N), b (N,),
# Z and dZ (m, Ho, Wo, N) with Ho = (H + 2 pad - f) // stride + 1 (Wo alike).
#
# The caller guarantees: every pointer addresses a buffer of the stated shape and of
# the element type (float or double, one per call); outputs are writeable and overlap
# no input; all sizes are positive, f <= H + 2 pad and f <= Wd + 2 pad (pooling: no
# pad, f <= H and f <= Wd); m Ho Wo, f f C, N and (H + 2 pad)(Wd + 2 pad) C are at most
# BLAS_INT_MAX. The convolutions allocate their scratch buffers once per call and
# return 0, or -1 (having written nothing meaningful) when an allocation failed.
from cython cimport floating

# Which convolution loops run: the rule of _conv.pyx (``conv_uses_im2col``), the
# direct loops, or im2col and gemm.
cdef enum ConvVariant:
    CONV_AUTO = 0
    CONV_DIRECT = 1
    CONV_IM2COL = 2

cdef enum PoolMode:
    POOL_MAX = 0
    POOL_AVERAGE = 1

cdef bint conv_uses_im2col(Py_ssize_t f, Py_ssize_t C, Py_ssize_t N,
                           bint backward) noexcept nogil
    # The rule behind CONV_AUTO: im2col when f f C N >= 16384, or for the backward pass
    # when f C < 8; the direct loops otherwise.

cdef int conv_forward_raw(const floating* A_prev, Py_ssize_t m, Py_ssize_t H,
                          Py_ssize_t Wd, Py_ssize_t C, const floating* W, Py_ssize_t f,
                          Py_ssize_t N, const floating* b, Py_ssize_t stride,
                          Py_ssize_t pad, floating* Z, int variant) noexcept nogil
    # Z[i, h, w, c] = sum_{dh, dw, k} Apad[i, h s + dh, w s + dw, k] W[dh, dw, k, c] + b[c].

cdef int conv_backward_raw(const floating* dZ, const floating* A_prev, Py_ssize_t m,
                           Py_ssize_t H, Py_ssize_t Wd, Py_ssize_t C, const floating* W,
                           Py_ssize_t f, Py_ssize_t N, Py_ssize_t stride, Py_ssize_t pad,
                           floating* dA_prev, floating* dW, floating* db,
                           int variant) noexcept nogil
    # The gradients of sum(Z dZ), summed over the examples: dA_prev (m, H, Wd, C),
    # dW (f, f, C, N), db (N,). dA_prev may be NULL (not computed).

cdef void pool_forward_raw(const floating* A_prev, Py_ssize_t m, Py_ssize_t H,
                           Py_ssize_t Wd, Py_ssize_t C, Py_ssize_t f, Py_ssize_t stride,
                           int mode, floating* A) noexcept nogil
    # A (m, Ho, Wo, C), Ho = (H - f) // stride + 1: each window's max (NaN if it holds
    # one) or mean.

cdef void pool_backward_raw(const floating* dA, const floating* A_prev, Py_ssize_t m,
                            Py_ssize_t H, Py_ssize_t Wd, Py_ssize_t C, Py_ssize_t f,
                            Py_ssize_t stride, int mode,
                            floating* dA_prev) noexcept nogil
    # dA_prev (m, H, Wd, C), overwritten: average pooling adds dA / f^2 to every entry
    # of the window, max pooling adds dA to every entry equal to the window's max.
