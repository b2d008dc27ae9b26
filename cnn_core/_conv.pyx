"""The compiled convolution and pooling kernels (re-exported by cnn_core.kernels).

The layers of the fourth course's "Convolutional Model, Step by Step", NHWC:
``A_prev`` ``(m, n_H_prev, n_W_prev, n_C_prev)``, ``W`` ``(f, f, n_C_prev, n_C)``, ``b``
``(1, 1, 1, n_C)``, outputs ``(m, n_H, n_W, n_C)``.

Every function checks its arguments with the GIL held (TypeError or ValueError naming
the argument), then runs without it. As in cnn_core.kernels:

* float64 or float32, one dtype for all the arrays of a call (no silent conversion);
* the large arrays (``A_prev``, ``dZ``, ``dA``) must be C-contiguous, or a ValueError
  says to pass ``np.ascontiguousarray`` (a silent copy would hide a per-call cost); the
  parameters ``W`` and ``b`` are small and copied when they are not;
* sizes must be positive, ``stride`` and ``f`` positive integers, ``pad`` a
  non-negative integer (Python or NumPy integers; not bool, not float), the filter no
  larger than the (padded) input, and the sizes the loops index within the BLAS
  integer range (``m n_H n_W``, ``f f n_C_prev``, the padded image);
* outputs (``Z=``, ``A=``, ``dA_prev=``, ``dW=``, ``db=``) are allocated when left as
  None; when given, they must be C-contiguous, writeable, of the right shape and dtype,
  and must not overlap an input. They are overwritten and returned.

Two forms of each convolution, chosen per call by the rule ``conv_uses_im2col``:

* direct (no col buffer; the loops are in ``_conv.h``, C with GCC vector types, compiled
  for AVX-512, AVX2 and baseline x86-64 and chosen at load time): per output row, four
  output pixels at a time, each window row's ``f n_C_prev`` contiguous inputs times
  ``W`` repacked to ``(f f n_C_prev, n_C)`` rounded up to eight channels, eight output
  channels per vector; ``dW`` accumulates four of its rows over an output row in
  registers; ``dA_prev`` adds ``W[dh] dZ[pixel]`` into each window row, eight values
  at a time, without a col2im buffer.
* im2col: each output pixel's window is copied into a row of a buffer ("col",
  ``(pixels, f f n_C_prev)``), and the layer is one gemm per chunk of images (about
  1 MiB of col, so that it stays in cache) with ``W`` reshaped to ``(f f n_C_prev,
  n_C)``: ``Z = col W``, ``dW = col^T dZ``, ``dcol = dZ W^T`` scattered back (col2im).

The rule: im2col when the layer has at least 16384 weights (``f f n_C_prev n_C``),
and for the backward pass when ``f n_C_prev < 8`` (window rows shorter than one
vector); direct otherwise. Measured on one core (AMD EPYC, AVX-512, scipy's
OpenBLAS), forward + backward: direct is 1.5x to 3x faster at the course's layers
(64x64x3 -> 8 and 8x8x8 -> 16, 3x3), and still ahead up to 32 -> 32 channels 3x3
(9216 weights); from 64 -> 64 (36864) gemm's blocking wins by 1.2x to 2x; a 5x5
filter on one channel (LeNet's first layer) has a backward 2x to 3.5x faster through
im2col. ``db`` is summed in double in both forms.

Padding is never materialised for the whole batch: one padded image (and one padded
gradient image) is reused for every example. Pooling has no padding; its loops are in
``_conv.h`` too (eight floats or four doubles of channels at a time); when the windows
tile the input exactly (stride f, f dividing the sizes) the backward writes every entry
once instead of zeroing and adding.
"""
import operator

import numpy as np

from cnn_core._kernel_args import check_blas_range, common_dtype, output_buffer

from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from cnn_core._blas cimport BLAS_INT_MAX, rowmajor_gemm

__all__ = ["conv_backward", "conv_forward", "pool_backward", "pool_forward"]


cdef enum:
    # Channels per vector of the direct loops (_conv.h): eight doubles are one AVX-512
    # register, eight floats one AVX2 register.
    CB = 8
    # Target size of the im2col buffer in bytes (one chunk of images; at least one).
    IM2COL_CHUNK_BYTES = 1 << 20
    # The rule: layers with at least this many weights f f C N use im2col.
    IM2COL_MIN_WEIGHTS = 16384

# Which form runs, for the tests (``_force_variant``): CONV_AUTO unless forced.
cdef int _forced_variant = CONV_AUTO


# ---------------------------------------------------------------------------------------
# The rule.
# ---------------------------------------------------------------------------------------

cdef bint conv_uses_im2col(Py_ssize_t f, Py_ssize_t C, Py_ssize_t N,
                           bint backward) noexcept nogil:
    """im2col plus gemm for a layer of at least IM2COL_MIN_WEIGHTS weights (f f C N),
    and for a backward pass whose window rows are shorter than one vector (f C < 8);
    the direct loops otherwise (see the module's docstring for the measurements)."""
    return f * f * C * N >= IM2COL_MIN_WEIGHTS or (backward and f * C < CB)


cdef void* _alloc(double estimate, Py_ssize_t count, size_t itemsize) noexcept nogil:
    """``malloc(count * itemsize)``, or NULL when ``estimate`` (the same count, summed in
    double) says the size would pass 2^60 bytes (and ``count`` might have overflowed)."""
    if estimate * itemsize > 1.152921504606847e18:
        return NULL
    return malloc(count * itemsize)


# ---------------------------------------------------------------------------------------
# Shared pieces.
# ---------------------------------------------------------------------------------------

cdef inline Py_ssize_t _round_up(Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    return (n + k - 1) // k * k


cdef inline void _pad_image(const floating* src, Py_ssize_t H, Py_ssize_t Wd,
                            Py_ssize_t C, Py_ssize_t pad, floating* dst) noexcept nogil:
    """Copy one (H, Wd, C) image into the interior of the (H + 2 pad, Wd + 2 pad, C)
    buffer ``dst``, whose border is already zero."""
    cdef Py_ssize_t y, Wp = Wd + 2 * pad
    for y in range(H):
        memcpy(dst + ((y + pad) * Wp + pad) * C, src + y * Wd * C,
               Wd * C * sizeof(floating))


cdef inline void _unpad_image(const floating* src, Py_ssize_t H, Py_ssize_t Wd,
                              Py_ssize_t C, Py_ssize_t pad, floating* dst) noexcept nogil:
    """The interior of a padded (H + 2 pad, Wd + 2 pad, C) image, into (H, Wd, C)."""
    cdef Py_ssize_t y, Wp = Wd + 2 * pad
    for y in range(H):
        memcpy(dst + y * Wd * C, src + ((y + pad) * Wp + pad) * C,
               Wd * C * sizeof(floating))


# ---------------------------------------------------------------------------------------
# The direct loops.
# ---------------------------------------------------------------------------------------

cdef extern from "cnn_core/_conv.h" nogil:
    # The per-image loops of the direct form (see _conv.h), in C for its vector types.
    void cnn_conv_forward_image_d(const double* img, Py_ssize_t row_len, Py_ssize_t C,
                                  const double* Wb, Py_ssize_t f, Py_ssize_t Np,
                                  Py_ssize_t N, const double* b, Py_ssize_t s,
                                  Py_ssize_t Ho, Py_ssize_t Wo, double* z)
    void cnn_conv_forward_image_f(const float* img, Py_ssize_t row_len, Py_ssize_t C,
                                  const float* Wb, Py_ssize_t f, Py_ssize_t Np,
                                  Py_ssize_t N, const float* b, Py_ssize_t s,
                                  Py_ssize_t Ho, Py_ssize_t Wo, float* z)
    void cnn_conv_dW_image_d(const double* img, Py_ssize_t row_len, Py_ssize_t C,
                             const double* dz, Py_ssize_t f, Py_ssize_t Np, Py_ssize_t s,
                             Py_ssize_t Ho, Py_ssize_t Wo, double* dWb)
    void cnn_conv_dW_image_f(const float* img, Py_ssize_t row_len, Py_ssize_t C,
                             const float* dz, Py_ssize_t f, Py_ssize_t Np, Py_ssize_t s,
                             Py_ssize_t Ho, Py_ssize_t Wo, float* dWb)
    void cnn_conv_dA_image_d(const double* dz, Py_ssize_t row_len, Py_ssize_t C,
                             const double* WT, Py_ssize_t f, Py_ssize_t N, Py_ssize_t s,
                             Py_ssize_t Ho, Py_ssize_t Wo, double* target)
    void cnn_conv_dA_image_f(const float* dz, Py_ssize_t row_len, Py_ssize_t C,
                             const float* WT, Py_ssize_t f, Py_ssize_t N, Py_ssize_t s,
                             Py_ssize_t Ho, Py_ssize_t Wo, float* target)
    # Pooling (``is_max`` 1 for max, 0 for average).
    void cnn_pool_forward_d(const double* A, Py_ssize_t m, Py_ssize_t H, Py_ssize_t Wd,
                            Py_ssize_t C, Py_ssize_t f, Py_ssize_t s, int is_max,
                            double* out)
    void cnn_pool_forward_f(const float* A, Py_ssize_t m, Py_ssize_t H, Py_ssize_t Wd,
                            Py_ssize_t C, Py_ssize_t f, Py_ssize_t s, int is_max,
                            float* out)
    void cnn_pool_backward_d(const double* dA, const double* A, Py_ssize_t m,
                             Py_ssize_t H, Py_ssize_t Wd, Py_ssize_t C, Py_ssize_t f,
                             Py_ssize_t s, int is_max, double* dA_prev)
    void cnn_pool_backward_f(const float* dA, const float* A, Py_ssize_t m,
                             Py_ssize_t H, Py_ssize_t Wd, Py_ssize_t C, Py_ssize_t f,
                             Py_ssize_t s, int is_max, float* dA_prev)


cdef inline void _forward_direct_image(const floating* img, Py_ssize_t Wp, Py_ssize_t C,
                                       const floating* Wb, Py_ssize_t f, Py_ssize_t Np,
                                       Py_ssize_t N, const floating* b, Py_ssize_t s,
                                       Py_ssize_t Ho, Py_ssize_t Wo,
                                       floating* z) noexcept nogil:
    """One image: ``img`` padded (Hp, Wp, C), ``Wb`` (f f C, Np) zero beyond N, ``b``
    (Np,), ``z`` (Ho, Wo, N)."""
    if floating is double:
        cnn_conv_forward_image_d(img, Wp * C, C, Wb, f, Np, N, b, s, Ho, Wo, z)
    else:
        cnn_conv_forward_image_f(img, Wp * C, C, Wb, f, Np, N, b, s, Ho, Wo, z)


cdef inline void _dW_direct_image(const floating* img, Py_ssize_t Wp, Py_ssize_t C,
                                  const floating* dz, Py_ssize_t f, Py_ssize_t Np,
                                  Py_ssize_t s, Py_ssize_t Ho, Py_ssize_t Wo,
                                  floating* dWb) noexcept nogil:
    """``dWb (f f C, Np) += sum over pixels of window^T dz``, for one image; ``dz``
    (Ho, Wo, Np)."""
    if floating is double:
        cnn_conv_dW_image_d(img, Wp * C, C, dz, f, Np, s, Ho, Wo, dWb)
    else:
        cnn_conv_dW_image_f(img, Wp * C, C, dz, f, Np, s, Ho, Wo, dWb)


cdef inline void _dA_direct_image(const floating* dz, Py_ssize_t Wp, Py_ssize_t C,
                                  const floating* WT, Py_ssize_t f, Py_ssize_t N,
                                  Py_ssize_t s, Py_ssize_t Ho, Py_ssize_t Wo,
                                  floating* target) noexcept nogil:
    """``target`` (Hp, Wp, C), zeroed: each pixel adds ``W[dh] dz[pixel]`` into row dh
    of its window; ``WT`` (f, N, fCp) is W[dh] transposed, zero beyond f C."""
    if floating is double:
        cnn_conv_dA_image_d(dz, Wp * C, C, WT, f, N, s, Ho, Wo, target)
    else:
        cnn_conv_dA_image_f(dz, Wp * C, C, WT, f, N, s, Ho, Wo, target)


cdef int _conv_forward_direct(const floating* A, Py_ssize_t m, Py_ssize_t H,
                              Py_ssize_t Wd, Py_ssize_t C, const floating* W,
                              Py_ssize_t f, Py_ssize_t N, const floating* b,
                              Py_ssize_t s, Py_ssize_t p, floating* Z) noexcept nogil:
    cdef Py_ssize_t Hp = H + 2 * p, Wp = Wd + 2 * p
    cdef Py_ssize_t Ho = (Hp - f) // s + 1, Wo = (Wp - f) // s + 1
    cdef Py_ssize_t Np = _round_up(N, CB), K = f * f * C, i, j, c
    cdef Py_ssize_t img_size = H * Wd * C, pad_size = Hp * Wp * C if p > 0 else 0
    cdef floating* Wb = <floating*> _alloc(<double> K * Np + Np + pad_size,
                                           K * Np + Np + pad_size, sizeof(floating))
    cdef floating* bp
    cdef floating* xp
    if Wb == NULL:
        return -1
    bp = Wb + K * Np
    xp = bp + Np
    for j in range(K):
        for c in range(Np):
            Wb[j * Np + c] = W[j * N + c] if c < N else 0
    for c in range(Np):
        bp[c] = b[c] if c < N else 0
    if p > 0:
        memset(xp, 0, pad_size * sizeof(floating))
    for i in range(m):
        if p > 0:
            _pad_image(A + i * img_size, H, Wd, C, p, xp)
            _forward_direct_image(xp, Wp, C, Wb, f, Np, N, bp, s, Ho, Wo, Z + i * Ho * Wo * N)
        else:
            _forward_direct_image(A + i * img_size, Wp, C, Wb, f, Np, N, bp, s, Ho, Wo,
                                  Z + i * Ho * Wo * N)
    free(Wb)
    return 0


cdef int _conv_backward_direct(const floating* dZ, const floating* A, Py_ssize_t m,
                               Py_ssize_t H, Py_ssize_t Wd, Py_ssize_t C,
                               const floating* W, Py_ssize_t f, Py_ssize_t N,
                               Py_ssize_t s, Py_ssize_t p, floating* dA, floating* dW
                               ) noexcept nogil:
    cdef Py_ssize_t Hp = H + 2 * p, Wp = Wd + 2 * p
    cdef Py_ssize_t Ho = (Hp - f) // s + 1, Wo = (Wp - f) // s + 1
    cdef Py_ssize_t Np = _round_up(N, CB), K = f * f * C, fC = f * C
    cdef Py_ssize_t fCp = _round_up(fC, CB), i, j, c, dh, q, P1 = Ho * Wo
    cdef Py_ssize_t img_size = H * Wd * C, pad_size = Hp * Wp * C if p > 0 else 0
    cdef Py_ssize_t dz_size = P1 * Np if Np != N else 0
    cdef Py_ssize_t WT_size = f * N * fCp if dA != NULL else 0
    cdef Py_ssize_t dpad_size = pad_size if dA != NULL else 0
    cdef floating* dWb = <floating*> _alloc(
        <double> K * Np + pad_size + <double> dz_size + <double> WT_size + dpad_size,
        K * Np + pad_size + dz_size + WT_size + dpad_size, sizeof(floating))
    cdef floating* xp
    cdef floating* dzp
    cdef floating* WT
    cdef floating* dap
    cdef const floating* img
    cdef const floating* dz
    cdef floating* target
    if dWb == NULL:
        return -1
    xp = dWb + K * Np
    dzp = xp + pad_size
    WT = dzp + dz_size
    dap = WT + WT_size
    memset(dWb, 0, K * Np * sizeof(floating))
    if p > 0:
        memset(xp, 0, pad_size * sizeof(floating))
    if dA != NULL:
        # WT[dh, c, :] holds the columns of W[dh] (f C, N), row c, in blocks of eight:
        # the whole blocks, then the last eight columns (or, when f C < 8, all of them),
        # zero where a column was in an earlier block (see _conv.h).
        for dh in range(f):
            for c in range(N):
                for q in range(fCp):
                    j = q
                    if q >= fC // CB * CB and fC >= CB:
                        j = q - (fCp - fC)
                        if j < fC // CB * CB:
                            j = fC  # zero
                    WT[(dh * N + c) * fCp + q] = W[(dh * fC + j) * N + c] if j < fC else 0
        if p == 0:
            memset(dA, 0, m * img_size * sizeof(floating))
    if dz_size:
        memset(dzp, 0, dz_size * sizeof(floating))
    for i in range(m):
        dz = dZ + i * P1 * N
        if p > 0:
            _pad_image(A + i * img_size, H, Wd, C, p, xp)
            img = xp
        else:
            img = A + i * img_size
        if dz_size:
            for q in range(P1):
                memcpy(dzp + q * Np, dz + q * N, N * sizeof(floating))
            _dW_direct_image(img, Wp, C, dzp, f, Np, s, Ho, Wo, dWb)
        else:
            _dW_direct_image(img, Wp, C, dz, f, Np, s, Ho, Wo, dWb)
        if dA != NULL:
            if p > 0:
                memset(dap, 0, pad_size * sizeof(floating))
                target = dap
            else:
                target = dA + i * img_size
            _dA_direct_image(dz, Wp, C, WT, f, N, s, Ho, Wo, target)
            if p > 0:
                _unpad_image(dap, H, Wd, C, p, dA + i * img_size)
    for j in range(K):
        for c in range(N):
            dW[j * N + c] = dWb[j * Np + c]
    free(dWb)
    return 0


# ---------------------------------------------------------------------------------------
# im2col and gemm.
# ---------------------------------------------------------------------------------------

cdef inline void _im2col_image(const floating* img, Py_ssize_t Wp, Py_ssize_t C,
                               Py_ssize_t f, Py_ssize_t s, Py_ssize_t Ho, Py_ssize_t Wo,
                               floating* col) noexcept nogil:
    """Rows ``(ho Wo + wo)`` of col (Ho Wo, f f C): the window of each output pixel."""
    cdef Py_ssize_t ho, wo, dh, j, fC = f * C, K = f * f * C, row_len = Wp * C
    cdef const floating* src
    cdef floating* dst
    for ho in range(Ho):
        for wo in range(Wo):
            dst = col + (ho * Wo + wo) * K
            for dh in range(f):
                src = img + (ho * s + dh) * row_len + wo * s * C
                for j in range(fC):
                    dst[dh * fC + j] = src[j]


cdef inline void _col2im_image(const floating* col, Py_ssize_t Wp, Py_ssize_t C,
                               Py_ssize_t f, Py_ssize_t s, Py_ssize_t Ho, Py_ssize_t Wo,
                               floating* target) noexcept nogil:
    """The adjoint of _im2col_image: adds each row of col into its window of
    ``target`` (Hp, Wp, C)."""
    cdef Py_ssize_t ho, wo, dh, j, fC = f * C, K = f * f * C, row_len = Wp * C
    cdef const floating* src
    cdef floating* dst
    for ho in range(Ho):
        for wo in range(Wo):
            src = col + (ho * Wo + wo) * K
            for dh in range(f):
                dst = target + (ho * s + dh) * row_len + wo * s * C
                for j in range(fC):
                    dst[j] = dst[j] + src[dh * fC + j]


cdef inline Py_ssize_t _images_per_chunk(Py_ssize_t m, Py_ssize_t P1, Py_ssize_t K,
                                         Py_ssize_t itemsize) noexcept nogil:
    # In double: P1 K itemsize may pass the integer range (then one image per chunk).
    cdef double n = IM2COL_CHUNK_BYTES / (<double> P1 * K * itemsize)
    return 1 if n < 2 else (m if n >= m else <Py_ssize_t> n)


cdef int _conv_forward_im2col(const floating* A, Py_ssize_t m, Py_ssize_t H,
                              Py_ssize_t Wd, Py_ssize_t C, const floating* W,
                              Py_ssize_t f, Py_ssize_t N, const floating* b,
                              Py_ssize_t s, Py_ssize_t p, floating* Z) noexcept nogil:
    cdef Py_ssize_t Hp = H + 2 * p, Wp = Wd + 2 * p
    cdef Py_ssize_t Ho = (Hp - f) // s + 1, Wo = (Wp - f) // s + 1
    cdef Py_ssize_t K = f * f * C, P1 = Ho * Wo, blk, i0, t, n_img, q, c
    cdef Py_ssize_t img_size = H * Wd * C, pad_size = Hp * Wp * C if p > 0 else 0
    cdef Py_ssize_t chunk = _images_per_chunk(m, P1, K, sizeof(floating))
    cdef floating* col = <floating*> _alloc(<double> chunk * P1 * K + pad_size,
                                            chunk * P1 * K + pad_size, sizeof(floating))
    cdef floating* xp
    cdef floating* zrow
    if col == NULL:
        return -1
    xp = col + chunk * P1 * K
    if p > 0:
        memset(xp, 0, pad_size * sizeof(floating))
    for blk in range((m + chunk - 1) // chunk):
        i0 = blk * chunk
        n_img = min(chunk, m - i0)
        for t in range(n_img):
            if p > 0:
                _pad_image(A + (i0 + t) * img_size, H, Wd, C, p, xp)
                _im2col_image(xp, Wp, C, f, s, Ho, Wo, col + t * P1 * K)
            else:
                _im2col_image(A + (i0 + t) * img_size, Wp, C, f, s, Ho, Wo, col + t * P1 * K)
        rowmajor_gemm(False, False, col, n_img * P1, K, False, False, W, K, N,
                      <floating> 1.0, <floating> 0.0, Z + i0 * P1 * N, n_img * P1, N)
    free(col)
    for q in range(m * P1):
        zrow = Z + q * N
        for c in range(N):
            zrow[c] = zrow[c] + b[c]
    return 0


cdef int _conv_backward_im2col(const floating* dZ, const floating* A, Py_ssize_t m,
                               Py_ssize_t H, Py_ssize_t Wd, Py_ssize_t C,
                               const floating* W, Py_ssize_t f, Py_ssize_t N,
                               Py_ssize_t s, Py_ssize_t p, floating* dA, floating* dW
                               ) noexcept nogil:
    cdef Py_ssize_t Hp = H + 2 * p, Wp = Wd + 2 * p
    cdef Py_ssize_t Ho = (Hp - f) // s + 1, Wo = (Wp - f) // s + 1
    cdef Py_ssize_t K = f * f * C, P1 = Ho * Wo, blk, i0, t, n_img
    cdef Py_ssize_t img_size = H * Wd * C, pad_size = Hp * Wp * C if p > 0 else 0
    cdef Py_ssize_t chunk = _images_per_chunk(m, P1, K, sizeof(floating))
    cdef floating* col = <floating*> _alloc(<double> chunk * P1 * K + 2 * pad_size,
                                            chunk * P1 * K + 2 * pad_size, sizeof(floating))
    cdef floating* xp
    cdef floating* dap
    cdef const floating* dz
    if col == NULL:
        return -1
    xp = col + chunk * P1 * K
    dap = xp + pad_size
    if p > 0:
        memset(xp, 0, pad_size * sizeof(floating))
    elif dA != NULL:
        memset(dA, 0, m * img_size * sizeof(floating))
    for blk in range((m + chunk - 1) // chunk):
        i0 = blk * chunk
        n_img = min(chunk, m - i0)
        dz = dZ + i0 * P1 * N
        for t in range(n_img):
            if p > 0:
                _pad_image(A + (i0 + t) * img_size, H, Wd, C, p, xp)
                _im2col_image(xp, Wp, C, f, s, Ho, Wo, col + t * P1 * K)
            else:
                _im2col_image(A + (i0 + t) * img_size, Wp, C, f, s, Ho, Wo, col + t * P1 * K)
        # dW (K, N) (+)= col^T dZ
        rowmajor_gemm(True, False, col, n_img * P1, K, False, False, dz, n_img * P1, N,
                      <floating> 1.0, <floating> (0.0 if i0 == 0 else 1.0), dW, K, N)
        if dA == NULL:
            continue
        # dcol (rows, K) = dZ W^T, into the same buffer, then scattered back.
        rowmajor_gemm(False, False, dz, n_img * P1, N, True, False, W, K, N,
                      <floating> 1.0, <floating> 0.0, col, n_img * P1, K)
        for t in range(n_img):
            if p > 0:
                memset(dap, 0, pad_size * sizeof(floating))
                _col2im_image(col + t * P1 * K, Wp, C, f, s, Ho, Wo, dap)
                _unpad_image(dap, H, Wd, C, p, dA + (i0 + t) * img_size)
            else:
                _col2im_image(col + t * P1 * K, Wp, C, f, s, Ho, Wo, dA + (i0 + t) * img_size)
    free(col)
    return 0


# ---------------------------------------------------------------------------------------
# The raw entry points (declared in _conv.pxd).
# ---------------------------------------------------------------------------------------

cdef inline bint _im2col_chosen(int variant, Py_ssize_t f, Py_ssize_t C, Py_ssize_t N,
                                bint backward) noexcept nogil:
    if variant == CONV_IM2COL:
        return True
    if variant == CONV_DIRECT:
        return False
    return conv_uses_im2col(f, C, N, backward)


cdef int conv_forward_raw(const floating* A_prev, Py_ssize_t m, Py_ssize_t H,
                          Py_ssize_t Wd, Py_ssize_t C, const floating* W, Py_ssize_t f,
                          Py_ssize_t N, const floating* b, Py_ssize_t stride,
                          Py_ssize_t pad, floating* Z, int variant) noexcept nogil:
    if _im2col_chosen(variant, f, C, N, False):
        return _conv_forward_im2col(A_prev, m, H, Wd, C, W, f, N, b, stride, pad, Z)
    return _conv_forward_direct(A_prev, m, H, Wd, C, W, f, N, b, stride, pad, Z)


cdef int conv_backward_raw(const floating* dZ, const floating* A_prev, Py_ssize_t m,
                           Py_ssize_t H, Py_ssize_t Wd, Py_ssize_t C, const floating* W,
                           Py_ssize_t f, Py_ssize_t N, Py_ssize_t stride, Py_ssize_t pad,
                           floating* dA_prev, floating* dW, floating* db,
                           int variant) noexcept nogil:
    cdef Py_ssize_t Ho = (H + 2 * pad - f) // stride + 1, Wo = (Wd + 2 * pad - f) // stride + 1
    cdef Py_ssize_t q, c, P = m * Ho * Wo, P4 = P - P % 4
    cdef double* sums = <double*> _alloc(4.0 * N, 4 * N, sizeof(double))
    cdef double* s1
    cdef double* s2
    cdef double* s3
    cdef const floating* d
    cdef int status
    if sums == NULL:
        return -1
    # db: the sum of dZ over examples and pixels, in double, as four interleaved sums
    # over the pixels (independent chains of additions), added at the end.
    s1, s2, s3 = sums + N, sums + 2 * N, sums + 3 * N
    for c in range(4 * N):
        sums[c] = 0.0
    for q in range(0, P4, 4):
        d = dZ + q * N
        for c in range(N):
            sums[c] += d[c]
            s1[c] += d[N + c]
            s2[c] += d[2 * N + c]
            s3[c] += d[3 * N + c]
    for q in range(P4, P):
        for c in range(N):
            sums[c] += dZ[q * N + c]
    for c in range(N):
        db[c] = <floating> ((sums[c] + s1[c]) + (s2[c] + s3[c]))
    free(sums)
    if _im2col_chosen(variant, f, C, N, True):
        status = _conv_backward_im2col(dZ, A_prev, m, H, Wd, C, W, f, N, stride, pad,
                                       dA_prev, dW)
    else:
        status = _conv_backward_direct(dZ, A_prev, m, H, Wd, C, W, f, N, stride, pad,
                                       dA_prev, dW)
    return status


cdef void pool_forward_raw(const floating* A_prev, Py_ssize_t m, Py_ssize_t H,
                           Py_ssize_t Wd, Py_ssize_t C, Py_ssize_t f, Py_ssize_t stride,
                           int mode, floating* A) noexcept nogil:
    if floating is double:
        cnn_pool_forward_d(A_prev, m, H, Wd, C, f, stride, mode == POOL_MAX, A)
    else:
        cnn_pool_forward_f(A_prev, m, H, Wd, C, f, stride, mode == POOL_MAX, A)


cdef void pool_backward_raw(const floating* dA, const floating* A_prev, Py_ssize_t m,
                            Py_ssize_t H, Py_ssize_t Wd, Py_ssize_t C, Py_ssize_t f,
                            Py_ssize_t stride, int mode,
                            floating* dA_prev) noexcept nogil:
    if floating is double:
        cnn_pool_backward_d(dA, A_prev, m, H, Wd, C, f, stride, mode == POOL_MAX, dA_prev)
    else:
        cnn_pool_backward_f(dA, A_prev, m, H, Wd, C, f, stride, mode == POOL_MAX, dA_prev)


# ---------------------------------------------------------------------------------------
# Argument checks, with the GIL held.
# ---------------------------------------------------------------------------------------

def _integer(name, value, minimum):
    """``value`` as a Python int >= minimum: an int or NumPy integer, not a bool."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise TypeError(f"{name} must be {kind} integer; got {value!r} "
                        f"({type(value).__name__})")
    value = operator.index(value)
    if value < minimum:
        kind = "positive" if minimum == 1 else "non-negative (>= 0)"
        raise ValueError(f"{name} must be {kind}; got {value}")
    return value


def _check_nhwc(name, arr, meaning):
    """``arr`` is 4-D with positive sizes and C-contiguous."""
    if arr.ndim != 4:
        raise ValueError(f"{name} must be 4-D {meaning} (NHWC); got {arr.ndim}-D shape "
                         f"{arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} must have positive sizes {meaning}; got {arr.shape}")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous; got strides {arr.strides} for "
                         f"shape {arr.shape} (pass np.ascontiguousarray({name}))")


def _check_shape(name, arr, shape, meaning):
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {meaning} = {shape}; got {arr.shape}")


def _conv_geometry(A_prev, W, b, stride, pad):
    """Checks shared by conv_forward and conv_backward; returns the small parameters
    made contiguous and the sizes ``(m, H, Wd, C, f, N, Ho, Wo, stride, pad)``."""
    stride = _integer("stride", stride, 1)
    pad = _integer("pad", pad, 0)
    _check_nhwc("A_prev", A_prev, "(m, n_H_prev, n_W_prev, n_C_prev)")
    if W.ndim != 4:
        raise ValueError(f"W must be 4-D (f, f, n_C_prev, n_C); got {W.ndim}-D shape "
                         f"{W.shape}")
    if 0 in W.shape:
        raise ValueError(f"W must have positive sizes (f, f, n_C_prev, n_C); got {W.shape}")
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square filter (f, f, n_C_prev, n_C); got shape "
                         f"{W.shape}")
    m, H, Wd, C = A_prev.shape
    f, N = W.shape[0], W.shape[3]
    if W.shape[2] != C:
        raise ValueError(f"W has {W.shape[2]} input channels (W.shape[2]) but A_prev has "
                         f"{C} (A_prev.shape[3]): the channel counts must match")
    if b is not None:
        _check_shape("b", b, (1, 1, 1, N), "(1, 1, 1, n_C)")
    Hp, Wp = H + 2 * pad, Wd + 2 * pad
    if f > Hp or f > Wp:
        raise ValueError(f"the filter size f = {f} (W.shape[0]) exceeds the padded input "
                         f"{Hp} x {Wp} (n_H_prev + 2 pad, n_W_prev + 2 pad)")
    Ho, Wo = (Hp - f) // stride + 1, (Wp - f) // stride + 1
    check_blas_range(BLAS_INT_MAX, **{
        "the padded image size (n_H_prev + 2 pad)(n_W_prev + 2 pad) n_C_prev": Hp * Wp * C,
        "the number of output pixels m n_H n_W": m * Ho * Wo,
        "the window size f f n_C_prev": f * f * C,
        "n_C": N})
    # A stride past the padded size gives one output per axis, as any such stride does.
    stride = min(stride, max(Hp, Wp))
    W = np.ascontiguousarray(W)
    if b is not None:
        b = np.ascontiguousarray(b)
    return W, b, (m, H, Wd, C, f, N, Ho, Wo, stride, pad)


cdef int _variant():
    return _forced_variant


def _force_variant(name):
    """For the tests: make every convolution run ``"direct"`` or ``"im2col"``, or
    ``"auto"`` (the rule, the default). Returns the previous setting's name."""
    global _forced_variant
    names = {"auto": CONV_AUTO, "direct": CONV_DIRECT, "im2col": CONV_IM2COL}
    if name not in names:
        raise ValueError(f"variant must be one of {sorted(names)}; got {name!r}")
    previous = {v: k for k, v in names.items()}[_forced_variant]
    _forced_variant = names[name]
    return previous


def _uses_im2col(f, n_C_prev, n_C, backward):
    """The rule (``conv_uses_im2col``) for a filter ``(f, f, n_C_prev, n_C)``: whether
    the forward (``backward`` False) or backward pass runs im2col plus gemm."""
    return bool(conv_uses_im2col(f, n_C_prev, n_C, backward))


# ---------------------------------------------------------------------------------------
# The public functions.
# ---------------------------------------------------------------------------------------

def conv_forward(A_prev, W, b, stride, pad, *, Z=None):
    """The convolution's forward pass, NHWC: ``Z = conv(A_prev, W) + b``.

    ``Z[i, h, w, c] = sum_{dh, dw, k} Apad[i, h stride + dh, w stride + dw, k]
    W[dh, dw, k, c] + b[0, 0, 0, c]``, with ``Apad`` the input zero-padded by ``pad`` on
    both sides of each spatial axis (a correlation, as in the course).

    Arguments:
        A_prev: ``(m, n_H_prev, n_W_prev, n_C_prev)``, C-contiguous.
        W: ``(f, f, n_C_prev, n_C)``; b: ``(1, 1, 1, n_C)`` (copied if not contiguous).
        stride: a positive integer; pad: a non-negative integer.
        Z: optional output ``(m, n_H, n_W, n_C)``.

    Returns:
        Z, ``(m, n_H, n_W, n_C)`` with ``n_H = (n_H_prev + 2 pad - f) // stride + 1``
        and ``n_W`` alike.
    """
    dtype = common_dtype(A_prev=A_prev, W=W, b=b)
    W, b, geometry = _conv_geometry(A_prev, W, b, stride, pad)
    m, H, Wd, C, f, N, Ho, Wo, stride, pad = geometry
    Z = output_buffer("Z", Z, (m, Ho, Wo, N), dtype, "(m, n_H, n_W, n_C)",
                {"A_prev": A_prev, "W": W, "b": b})
    if dtype == np.float64:
        _conv_forward[double](A_prev, W, b, stride, pad, Z, _variant())
    else:
        _conv_forward[float](A_prev, W, b, stride, pad, Z, _variant())
    return Z


cdef _conv_forward(const floating[:, :, :, ::1] A, const floating[:, :, :, ::1] W,
                   const floating[:, :, :, ::1] b, Py_ssize_t stride, Py_ssize_t pad,
                   floating[:, :, :, ::1] Z, int variant):
    cdef int status
    with nogil:
        status = conv_forward_raw(&A[0, 0, 0, 0], A.shape[0], A.shape[1], A.shape[2],
                                  A.shape[3], &W[0, 0, 0, 0], W.shape[0], W.shape[3],
                                  &b[0, 0, 0, 0], stride, pad, &Z[0, 0, 0, 0], variant)
    if status != 0:
        raise MemoryError("conv_forward could not allocate its scratch buffers")


def conv_backward(dZ, A_prev, W, stride, pad, *, need_dA_prev=True, dA_prev=None, dW=None,
                  db=None):
    """The convolution's backward pass: the gradients of ``sum(Z * dZ)``.

    ``dA_prev`` is the full correlation of ``dZ`` with the flipped filter (cropped by
    the padding), ``dW[dh, dw, k, c] = sum_{i, h, w} Apad[i, h stride + dh, w stride +
    dw, k] dZ[i, h, w, c]`` and ``db[0, 0, 0, c] = sum_{i, h, w} dZ[i, h, w, c]``: sums
    over the examples (no 1/m), as the course's ``conv_backward``. With
    ``need_dA_prev=False`` (a network's first layer, whose input needs no gradient)
    dA_prev is not computed, which saves about a third of the work.

    Arguments:
        dZ: ``(m, n_H, n_W, n_C)``, C-contiguous, the shape conv_forward gives.
        A_prev: ``(m, n_H_prev, n_W_prev, n_C_prev)``, C-contiguous.
        W: ``(f, f, n_C_prev, n_C)`` (copied if not contiguous).
        stride, pad: as for conv_forward.
        dA_prev, dW, db: optional outputs of A_prev's, W's and ``(1, 1, 1, n_C)`` shape.

    Returns:
        ``(dA_prev, dW, db)``, with dA_prev None unless ``need_dA_prev``.
    """
    dtype = common_dtype(dZ=dZ, A_prev=A_prev, W=W)
    W, _, geometry = _conv_geometry(A_prev, W, None, stride, pad)
    m, H, Wd, C, f, N, Ho, Wo, stride, pad = geometry
    if dZ.ndim != 4:
        raise ValueError(f"dZ must be 4-D (m, n_H, n_W, n_C) (NHWC); got {dZ.ndim}-D "
                         f"shape {dZ.shape}")
    _check_shape("dZ", dZ, (m, Ho, Wo, N), "(m, n_H, n_W, n_C) of conv_forward's output")
    _check_nhwc("dZ", dZ, "(m, n_H, n_W, n_C)")
    inputs = {"dZ": dZ, "A_prev": A_prev, "W": W}
    if need_dA_prev:
        dA_prev = output_buffer("dA_prev", dA_prev, A_prev.shape, dtype, "A_prev.shape", inputs)
        inputs["dA_prev"] = dA_prev
    elif dA_prev is not None:
        raise ValueError("dA_prev must be None when need_dA_prev is False")
    dW = output_buffer("dW", dW, W.shape, dtype, "W.shape", inputs)
    inputs["dW"] = dW
    db = output_buffer("db", db, (1, 1, 1, N), dtype, "(1, 1, 1, n_C)", inputs)
    if dtype == np.float64:
        _conv_backward[double](dZ, A_prev, W, stride, pad, dA_prev, dW, db, _variant())
    else:
        _conv_backward[float](dZ, A_prev, W, stride, pad, dA_prev, dW, db, _variant())
    return dA_prev, dW, db


cdef _conv_backward(const floating[:, :, :, ::1] dZ, const floating[:, :, :, ::1] A,
                    const floating[:, :, :, ::1] W, Py_ssize_t stride, Py_ssize_t pad,
                    floating[:, :, :, ::1] dA, floating[:, :, :, ::1] dW,
                    floating[:, :, :, ::1] db, int variant):
    cdef int status
    cdef floating* dA_ptr = NULL if dA is None else &dA[0, 0, 0, 0]
    with nogil:
        status = conv_backward_raw(&dZ[0, 0, 0, 0], &A[0, 0, 0, 0], A.shape[0], A.shape[1],
                                   A.shape[2], A.shape[3], &W[0, 0, 0, 0], W.shape[0],
                                   W.shape[3], stride, pad, dA_ptr,
                                   &dW[0, 0, 0, 0], &db[0, 0, 0, 0], variant)
    if status != 0:
        raise MemoryError("conv_backward could not allocate its scratch buffers")


_POOL_MODES = {"max": POOL_MAX, "average": POOL_AVERAGE}


def _pool_geometry(A_prev, f, stride, mode):
    if not isinstance(mode, str) or mode not in _POOL_MODES:
        raise ValueError(f"mode must be 'max' or 'average'; got {mode!r}")
    f = _integer("f", f, 1)
    stride = _integer("stride", stride, 1)
    _check_nhwc("A_prev", A_prev, "(m, n_H_prev, n_W_prev, n_C_prev)")
    m, H, Wd, C = A_prev.shape
    if f > H or f > Wd:
        raise ValueError(f"the pooling window f = {f} exceeds the input {H} x {Wd} "
                         f"(n_H_prev x n_W_prev; pooling has no padding)")
    Ho, Wo = (H - f) // stride + 1, (Wd - f) // stride + 1
    # A stride past the input gives one output per axis, as any such stride does.
    return _POOL_MODES[mode], f, min(stride, max(H, Wd)), (m, Ho, Wo, C)


def pool_forward(A_prev, f, stride, mode, *, A=None):
    """The pooling layer's forward pass, NHWC, without padding.

    ``A[i, h, w, c]`` is the max (``mode="max"``; NaN when the window holds one, as
    ``np.max``) or the mean (``mode="average"``) of ``A_prev[i, h stride : h stride + f,
    w stride : w stride + f, c]``.

    Arguments:
        A_prev: ``(m, n_H_prev, n_W_prev, n_C)``, C-contiguous.
        f: the window size; stride: positive integers, ``f <= n_H_prev, n_W_prev``.
        mode: ``"max"`` or ``"average"``.
        A: optional output ``(m, n_H, n_W, n_C)``.

    Returns:
        A, ``(m, n_H, n_W, n_C)`` with ``n_H = (n_H_prev - f) // stride + 1``.
    """
    common_dtype(A_prev=A_prev)
    code, f, stride, shape = _pool_geometry(A_prev, f, stride, mode)
    A = output_buffer("A", A, shape, A_prev.dtype, "(m, n_H, n_W, n_C)", {"A_prev": A_prev})
    if A_prev.dtype == np.float64:
        _pool_forward[double](A_prev, f, stride, code, A)
    else:
        _pool_forward[float](A_prev, f, stride, code, A)
    return A


cdef _pool_forward(const floating[:, :, :, ::1] X, Py_ssize_t f, Py_ssize_t stride,
                   int mode, floating[:, :, :, ::1] A):
    with nogil:
        pool_forward_raw(&X[0, 0, 0, 0], X.shape[0], X.shape[1], X.shape[2], X.shape[3],
                         f, stride, mode, &A[0, 0, 0, 0])


def pool_backward(dA, A_prev, f, stride, mode, *, dA_prev=None):
    """The pooling layer's backward pass, accumulated over overlapping windows.

    ``mode="average"`` adds ``dA / f^2`` to every entry of each window (the course's
    ``distribute_value``); ``mode="max"`` adds ``dA`` to every entry of the window
    equal to the window's maximum (the course's mask ``x == np.max(x)``: with ties,
    each tied entry gets the whole ``dA``; a window holding NaN passes nothing).

    Arguments:
        dA: ``(m, n_H, n_W, n_C)``, C-contiguous, the shape pool_forward gives.
        A_prev, f, stride, mode: as for pool_forward.
        dA_prev: optional output of A_prev's shape.

    Returns:
        dA_prev, ``(m, n_H_prev, n_W_prev, n_C)``.
    """
    common_dtype(dA=dA, A_prev=A_prev)
    code, f, stride, shape = _pool_geometry(A_prev, f, stride, mode)
    if dA.ndim != 4:
        raise ValueError(f"dA must be 4-D (m, n_H, n_W, n_C) (NHWC); got {dA.ndim}-D "
                         f"shape {dA.shape}")
    _check_shape("dA", dA, shape, "(m, n_H, n_W, n_C) of pool_forward's output")
    _check_nhwc("dA", dA, "(m, n_H, n_W, n_C)")
    dA_prev = output_buffer("dA_prev", dA_prev, A_prev.shape, A_prev.dtype, "A_prev.shape",
                      {"dA": dA, "A_prev": A_prev})
    if A_prev.dtype == np.float64:
        _pool_backward[double](dA, A_prev, f, stride, code, dA_prev)
    else:
        _pool_backward[float](dA, A_prev, f, stride, code, dA_prev)
    return dA_prev


cdef _pool_backward(const floating[:, :, :, ::1] dA, const floating[:, :, :, ::1] X,
                    Py_ssize_t f, Py_ssize_t stride, int mode,
                    floating[:, :, :, ::1] dA_prev):
    with nogil:
        pool_backward_raw(&dA[0, 0, 0, 0], &X[0, 0, 0, 0], X.shape[0], X.shape[1],
                          X.shape[2], X.shape[3], f, stride, mode, &dA_prev[0, 0, 0, 0])
