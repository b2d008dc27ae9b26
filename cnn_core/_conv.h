/*
 * The direct convolution loops of cnn_core._conv, one image per call.
 *
 * Arrays are NHWC and C-ordered. The image ``img`` is the (zero-)padded input
 * (Hp, Wp, C) with rows of ``row_len = Wp C`` values; an output pixel (ho, wo) reads the
 * window whose top-left entry is ``img + ho s row_len + wo s C``, and each of the window's
 * f rows is f C contiguous values. Output channels are handled eight at a time: ``Wb``
 * is W reshaped to (f f C, Np) with Np the channel count rounded up to a multiple of
 * eight and zeros beyond it.
 *
 * The eight channels are a GCC vector (eight doubles: one AVX-512 register, four SSE2
 * registers on the baseline; eight floats: one AVX2 register), and every loop keeps four
 * independent vector accumulators (four output pixels, or four rows of dW), so that the
 * additions are not one chain of dependent operations. The loops are compiled for
 * x86-64-v4 (AVX-512), x86-64-v3 (AVX2) and the baseline and chosen at load time
 * (target_clones), like _vmath.h. Contraction into FMA is off in the build
 * (-ffp-contract=off) and the vectors only run the same sums side by side, so every
 * clone gives the same bits (the three, built alone with CNN_CONV_CLONES empty, agreed
 * bit for bit on 480 random layers when this was written).
 *
 * The pooling loops (forward and backward, max and average) are at the end.
 */
#ifndef CNN_CORE_CONV_H
#define CNN_CORE_CONV_H

#include <stddef.h>
#include <string.h>

/* A build may define CNN_CONV_CLONES itself (empty: one version, for the compiler's
 * target; the tests' builds of each clone alone). */
#ifndef CNN_CONV_CLONES
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CNN_CONV_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CNN_CONV_CLONES
#endif
#endif

typedef double cnn_conv_vd __attribute__((vector_size(8 * sizeof(double))));
typedef float cnn_conv_vf __attribute__((vector_size(8 * sizeof(float))));
typedef long long cnn_conv_vdi __attribute__((vector_size(8 * sizeof(long long))));
typedef int cnn_conv_vfi __attribute__((vector_size(8 * sizeof(int))));
/* Pooling compares, and GCC scalarises comparisons of eight doubles (512 bits) even for
 * AVX-512, so its doubles go four at a time. */
typedef double cnn_pool_vd __attribute__((vector_size(4 * sizeof(double))));
typedef long long cnn_pool_vdi __attribute__((vector_size(4 * sizeof(long long))));

/* Loads and stores of eight values at any alignment, or of the first n (the rest of
 * the vector zero). */
#define CNN_LOAD(V, p) ({ V v_; memcpy(&v_, (p), sizeof v_); v_; })
#define CNN_LOADN(V, T, p, n) ({ V v_ = {0}; const T *p_ = (p); ptrdiff_t n_ = (n);      \
    if (n_ == 8) memcpy(&v_, p_, sizeof v_); else for (ptrdiff_t k_ = 0; k_ < n_; k_++)   \
    v_[k_] = p_[k_]; v_; })
#define CNN_STOREN(T, p, v, n) do { __typeof__(v) s_ = (v); T *p_ = (p); ptrdiff_t n_ = (n); \
    if (n_ == 8) memcpy(p_, &s_, sizeof s_); else for (ptrdiff_t k_ = 0; k_ < n_; k_++)   \
    p_[k_] = s_[k_]; } while (0)

#define CNN_CONV_DEFINE(T, V, VI, SUF)                                                           \
/* z (Ho, Wo, N) = the correlation of img with W, plus b (Np values, zero beyond N). */     \
CNN_CONV_CLONES static void cnn_conv_forward_image_##SUF(                                  \
    const T *img, ptrdiff_t row_len, ptrdiff_t C, const T *Wb, ptrdiff_t f, ptrdiff_t Np,    \
    ptrdiff_t N, const T *b, ptrdiff_t s, ptrdiff_t Ho, ptrdiff_t Wo, T *z)                 \
{                                                                                           \
    const ptrdiff_t fC = f * C, step = s * C;                                               \
    for (ptrdiff_t ho = 0; ho < Ho; ho++) {                                                 \
        const T *rows = img + ho * s * row_len;                                             \
        T *zrow = z + ho * Wo * N;                                                          \
        for (ptrdiff_t cb = 0; cb < Np; cb += 8) {                                          \
            const ptrdiff_t n = N - cb < 8 ? N - cb : 8;                                    \
            const V bias = CNN_LOAD(V, b + cb);                                             \
            ptrdiff_t wo = 0;                                                               \
            for (; wo + 4 <= Wo; wo += 4) {                                                 \
                V a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                                   \
                for (ptrdiff_t dh = 0; dh < f; dh++) {                                      \
                    const T *r = rows + dh * row_len + wo * step;                           \
                    const T *w = Wb + dh * fC * Np + cb;                                    \
                    for (ptrdiff_t j = 0; j < fC; j++) {                                    \
                        const V wv = CNN_LOAD(V, w + j * Np);                               \
                        a0 += r[j] * wv;                                                    \
                        a1 += r[step + j] * wv;                                             \
                        a2 += r[2 * step + j] * wv;                                         \
                        a3 += r[3 * step + j] * wv;                                         \
                    }                                                                       \
                }                                                                           \
                CNN_STOREN(T, zrow + wo * N + cb, a0 + bias, n);                            \
                CNN_STOREN(T, zrow + (wo + 1) * N + cb, a1 + bias, n);                      \
                CNN_STOREN(T, zrow + (wo + 2) * N + cb, a2 + bias, n);                      \
                CNN_STOREN(T, zrow + (wo + 3) * N + cb, a3 + bias, n);                      \
            }                                                                               \
            for (; wo < Wo; wo++) {                                                         \
                V a0 = {0};                                                                 \
                for (ptrdiff_t dh = 0; dh < f; dh++) {                                      \
                    const T *r = rows + dh * row_len + wo * step;                           \
                    const T *w = Wb + dh * fC * Np + cb;                                    \
                    for (ptrdiff_t j = 0; j < fC; j++)                                      \
                        a0 += r[j] * CNN_LOAD(V, w + j * Np);                               \
                }                                                                           \
                CNN_STOREN(T, zrow + wo * N + cb, a0 + bias, n);                            \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
}                                                                                           \
                                                                                            \
/* dWb (f f C, Np) += the windows of img times dz (Ho, Wo, Np), summed over the pixels:    \
 * row q = dh f C + j of dW, for four j at a time, over one output row at a time. */       \
CNN_CONV_CLONES static void cnn_conv_dW_image_##SUF(                                       \
    const T *img, ptrdiff_t row_len, ptrdiff_t C, const T *dz, ptrdiff_t f, ptrdiff_t Np,    \
    ptrdiff_t s, ptrdiff_t Ho, ptrdiff_t Wo, T *dWb)                                        \
{                                                                                           \
    const ptrdiff_t fC = f * C, step = s * C;                                               \
    for (ptrdiff_t ho = 0; ho < Ho; ho++) {                                                 \
        const T *dzrow = dz + ho * Wo * Np;                                                 \
        for (ptrdiff_t dh = 0; dh < f; dh++) {                                              \
            const T *r = img + (ho * s + dh) * row_len;                                     \
            T *dw = dWb + dh * fC * Np;                                                     \
            for (ptrdiff_t cb = 0; cb < Np; cb += 8) {                                      \
                ptrdiff_t j = 0;                                                            \
                for (; j + 4 <= fC; j += 4) {                                               \
                    V a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                               \
                    for (ptrdiff_t wo = 0; wo < Wo; wo++) {                                 \
                        const V d = CNN_LOAD(V, dzrow + wo * Np + cb);                      \
                        const T *x = r + wo * step + j;                                     \
                        a0 += x[0] * d;                                                     \
                        a1 += x[1] * d;                                                     \
                        a2 += x[2] * d;                                                     \
                        a3 += x[3] * d;                                                     \
                    }                                                                       \
                    T *q = dw + j * Np + cb;                                                \
                    CNN_STOREN(T, q, CNN_LOAD(V, q) + a0, 8);                               \
                    CNN_STOREN(T, q + Np, CNN_LOAD(V, q + Np) + a1, 8);                     \
                    CNN_STOREN(T, q + 2 * Np, CNN_LOAD(V, q + 2 * Np) + a2, 8);             \
                    CNN_STOREN(T, q + 3 * Np, CNN_LOAD(V, q + 3 * Np) + a3, 8);             \
                }                                                                           \
                for (; j < fC; j++) {                                                       \
                    V a0 = {0};                                                             \
                    for (ptrdiff_t wo = 0; wo < Wo; wo++)                                   \
                        a0 += r[wo * step + j] * CNN_LOAD(V, dzrow + wo * Np + cb);         \
                    T *q = dw + j * Np + cb;                                                \
                    CNN_STOREN(T, q, CNN_LOAD(V, q) + a0, 8);                               \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
}                                                                                           \
                                                                                            \
/* target (Hp, Wp, C), zeroed by the caller: each pixel adds W[dh] dz[pixel] (f C values)  \
 * into row dh of its window, eight values of the run at a time, for four pixels at once.  \
 * WT (f, N, fCp) holds W[dh] transposed in blocks of eight columns: the whole blocks,     \
 * then, when 8 does not divide f C = full + rem, a last block for the last eight columns \
 * (f C - 8 ... f C - 1; its first 8 - rem lanes, added already, are zero and replaced by \
 * -0.0, which adds nothing, even to an infinity or -0.0), or, when f C < 8, the f C      \
 * columns alone. The windows of neighbouring pixels overlap, and adding into memory just \
 * stored at an offset that is not a multiple of eight values stalls the CPU (no store    \
 * forwarding); then a row's pixels are visited in g passes (wo = phase, phase + g, ...)  \
 * with g s C >= f C, and the runs written one after the other never overlap. */          \
CNN_CONV_CLONES static void cnn_conv_dA_image_##SUF(                                       \
    const T *dz, ptrdiff_t row_len, ptrdiff_t C, const T *WT, ptrdiff_t f, ptrdiff_t N,      \
    ptrdiff_t s, ptrdiff_t Ho, ptrdiff_t Wo, T *target)                                     \
{                                                                                           \
    const ptrdiff_t fC = f * C, step = s * C, fCp = (fC + 7) / 8 * 8, full = fC / 8 * 8;    \
    const ptrdiff_t rem = fC - full;                                                        \
    const ptrdiff_t g = step % 8 == 0 ? 1 : (fC + step - 1) / step, gstep = g * step;       \
    const ptrdiff_t gN = g * N;                                                             \
    VI keep = {0};                                                                          \
    V minus_zero;                                                                           \
    for (int l = 0; l < 8; l++) {                                                           \
        keep[l] = l >= 8 - rem ? -1 : 0;                                                    \
        minus_zero[l] = (T)-0.0;                                                            \
    }                                                                                       \
    const VI minus_zero_bits = (VI)minus_zero & ~keep;                                      \
    /* Blocks at column offsets qb < full, then the last one at f C - 8 (or 0). */          \
    const ptrdiff_t n_blocks = fCp / 8;                                                     \
    for (ptrdiff_t ho = 0; ho < Ho; ho++) {                                                 \
        const T *dzrow = dz + ho * Wo * N;                                                  \
        for (ptrdiff_t dh = 0; dh < f; dh++) {                                              \
            T *runs = target + (ho * s + dh) * row_len;                                     \
            for (ptrdiff_t blk = 0; blk < n_blocks; blk++) {                                \
                const T *wt = WT + dh * N * fCp + blk * 8;                                  \
                const int last = rem && blk == n_blocks - 1;                                \
                const ptrdiff_t at = !last ? blk * 8 : (fC >= 8 ? fC - 8 : 0);              \
                /* the short case: f C < 8 values per run */                                \
                const ptrdiff_t n = fC >= 8 ? 8 : fC;                                       \
                for (ptrdiff_t phase = 0; phase < g && phase < Wo; phase++) {               \
                    const ptrdiff_t count = (Wo - phase + g - 1) / g;                       \
                    const T *d = dzrow + phase * N;                                         \
                    T *q = runs + phase * step + at;                                        \
                    ptrdiff_t t = 0;                                                        \
                    for (; t + 4 <= count; t += 4, d += 4 * gN, q += 4 * gstep) {           \
                        V a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                           \
                        for (ptrdiff_t c = 0; c < N; c++) {                                 \
                            const V wv = CNN_LOAD(V, wt + c * fCp);                         \
                            a0 += d[c] * wv;                                                \
                            a1 += d[gN + c] * wv;                                           \
                            a2 += d[2 * gN + c] * wv;                                       \
                            a3 += d[3 * gN + c] * wv;                                       \
                        }                                                                   \
                        if (last && fC >= 8) {                                              \
                            a0 = (V)(((VI)a0 & keep) | minus_zero_bits);                    \
                            a1 = (V)(((VI)a1 & keep) | minus_zero_bits);                    \
                            a2 = (V)(((VI)a2 & keep) | minus_zero_bits);                    \
                            a3 = (V)(((VI)a3 & keep) | minus_zero_bits);                    \
                        }                                                                   \
                        CNN_STOREN(T, q, CNN_LOADN(V, T, q, n) + a0, n);                    \
                        CNN_STOREN(T, q + gstep, CNN_LOADN(V, T, q + gstep, n) + a1, n);    \
                        CNN_STOREN(T, q + 2 * gstep,                                        \
                                   CNN_LOADN(V, T, q + 2 * gstep, n) + a2, n);              \
                        CNN_STOREN(T, q + 3 * gstep,                                        \
                                   CNN_LOADN(V, T, q + 3 * gstep, n) + a3, n);              \
                    }                                                                       \
                    for (; t < count; t++, d += gN, q += gstep) {                           \
                        V a0 = {0};                                                         \
                        for (ptrdiff_t c = 0; c < N; c++)                                   \
                            a0 += d[c] * CNN_LOAD(V, wt + c * fCp);                         \
                        if (last && fC >= 8)                                                \
                            a0 = (V)(((VI)a0 & keep) | minus_zero_bits);                    \
                        CNN_STOREN(T, q, CNN_LOADN(V, T, q, n) + a0, n);                    \
                    }                                                                       \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
}


/* Pooling, NHWC without padding: A (m, H, Wd, C) -> out (m, Ho, Wo, C). Channels L at a
 * time in vectors (eight floats, four doubles), the last C mod L one by one. max: NaN wins, as in np.max. */
#define CNN_POOL_DEFINE(T, V, VI, L, SUF)                                                      \
CNN_CONV_CLONES static void cnn_pool_forward_##SUF(                                        \
    const T *A, ptrdiff_t m, ptrdiff_t H, ptrdiff_t Wd, ptrdiff_t C, ptrdiff_t f,            \
    ptrdiff_t s, int is_max, T *out)                                                        \
{                                                                                           \
    const ptrdiff_t Ho = (H - f) / s + 1, Wo = (Wd - f) / s + 1, row_len = Wd * C;         \
    const ptrdiff_t full = C / L * L;                                                       \
    const T count = (T)(f * f);                                                             \
    for (ptrdiff_t i = 0; i < m; i++)                                                       \
    for (ptrdiff_t ho = 0; ho < Ho; ho++)                                                   \
    for (ptrdiff_t wo = 0; wo < Wo; wo++) {                                                 \
        const T *x0 = A + (i * H + ho * s) * row_len + wo * s * C;                          \
        T *o = out + ((i * Ho + ho) * Wo + wo) * C;                                         \
        for (ptrdiff_t cb = 0; cb < full; cb += L) {                                        \
            V acc = is_max ? CNN_LOAD(V, x0 + cb) : (V){0};                                 \
            for (ptrdiff_t dh = 0; dh < f; dh++)                                            \
                for (ptrdiff_t dw = 0; dw < f; dw++) {                                      \
                    const V v = CNN_LOAD(V, x0 + dh * row_len + dw * C + cb);               \
                    if (is_max) {                                                           \
                        const VI take = (v > acc) | (v != v);                               \
                        acc = (V)((take & (VI)v) | (~take & (VI)acc));                      \
                    } else {                                                                \
                        acc += v;                                                           \
                    }                                                                       \
                }                                                                           \
            if (!is_max) acc = acc / count;                                                 \
            memcpy(o + cb, &acc, sizeof acc);                                               \
        }                                                                                   \
        for (ptrdiff_t c = full; c < C; c++) {                                              \
            T acc = is_max ? x0[c] : 0;                                                     \
            for (ptrdiff_t dh = 0; dh < f; dh++)                                            \
                for (ptrdiff_t dw = 0; dw < f; dw++) {                                      \
                    const T v = x0[dh * row_len + dw * C + c];                              \
                    if (is_max) acc = (v > acc || v != v) ? v : acc;                        \
                    else acc += v;                                                          \
                }                                                                           \
            o[c] = is_max ? acc : acc / count;                                              \
        }                                                                                   \
    }                                                                                       \
}                                                                                           \
                                                                                            \
/* dA_prev (m, H, Wd, C) from dA (m, Ho, Wo, C): max pooling gives dA to every entry      \
 * equal to its window's max, average pooling dA / f^2 to every entry. When the windows   \
 * tile the input exactly (stride f, f dividing H and Wd) every entry is written once;    \
 * otherwise dA_prev is zeroed and the windows add into it. */                             \
CNN_CONV_CLONES static void cnn_pool_backward_##SUF(                                       \
    const T *dA, const T *A, ptrdiff_t m, ptrdiff_t H, ptrdiff_t Wd, ptrdiff_t C,            \
    ptrdiff_t f, ptrdiff_t s, int is_max, T *dA_prev)                                       \
{                                                                                           \
    const ptrdiff_t Ho = (H - f) / s + 1, Wo = (Wd - f) / s + 1, row_len = Wd * C;         \
    const ptrdiff_t full = C / L * L;                                                       \
    const int tiled = s == f && Ho * f == H && Wo * f == Wd;                                \
    const T count = (T)(f * f);                                                             \
    if (!tiled) memset(dA_prev, 0, (size_t)(m * H * row_len) * sizeof(T));                  \
    for (ptrdiff_t i = 0; i < m; i++)                                                       \
    for (ptrdiff_t ho = 0; ho < Ho; ho++)                                                   \
    for (ptrdiff_t wo = 0; wo < Wo; wo++) {                                                 \
        const ptrdiff_t off = (i * H + ho * s) * row_len + wo * s * C;                      \
        const T *x0 = A + off;                                                              \
        T *g0 = dA_prev + off;                                                              \
        const T *d = dA + ((i * Ho + ho) * Wo + wo) * C;                                    \
        /* Two vectors of channels at a time where there are (a whole cache line of      \
         * eight doubles or sixteen floats written at once), then one. */                 \
        ptrdiff_t cb = 0;                                                                   \
        for (; cb + 2 * L <= full; cb += 2 * L) {                                           \
            const V dv0 = CNN_LOAD(V, d + cb), dv1 = CNN_LOAD(V, d + cb + L);               \
            V mx0 = CNN_LOAD(V, x0 + cb), mx1 = CNN_LOAD(V, x0 + cb + L);                   \
            const V share0 = dv0 / count, share1 = dv1 / count;                             \
            if (is_max)                                                                     \
                for (ptrdiff_t dh = 0; dh < f; dh++)                                        \
                    for (ptrdiff_t dw = 0; dw < f; dw++) {                                  \
                        const T *x = x0 + dh * row_len + dw * C + cb;                       \
                        const V v0 = CNN_LOAD(V, x), v1 = CNN_LOAD(V, x + L);               \
                        const VI take0 = (v0 > mx0) | (v0 != v0);                           \
                        const VI take1 = (v1 > mx1) | (v1 != v1);                           \
                        mx0 = (V)((take0 & (VI)v0) | (~take0 & (VI)mx0));                   \
                        mx1 = (V)((take1 & (VI)v1) | (~take1 & (VI)mx1));                   \
                    }                                                                       \
            for (ptrdiff_t dh = 0; dh < f; dh++)                                            \
                for (ptrdiff_t dw = 0; dw < f; dw++) {                                      \
                    const ptrdiff_t k = dh * row_len + dw * C + cb;                         \
                    V gv0, gv1;                                                             \
                    if (is_max) {                                                           \
                        const V v0 = CNN_LOAD(V, x0 + k), v1 = CNN_LOAD(V, x0 + k + L);     \
                        gv0 = (V)((VI)(v0 == mx0) & (VI)dv0);                               \
                        gv1 = (V)((VI)(v1 == mx1) & (VI)dv1);                               \
                    } else {                                                                \
                        gv0 = share0;                                                       \
                        gv1 = share1;                                                       \
                    }                                                                       \
                    if (!tiled) {                                                           \
                        gv0 += CNN_LOAD(V, g0 + k);                                         \
                        gv1 += CNN_LOAD(V, g0 + k + L);                                     \
                    }                                                                       \
                    memcpy(g0 + k, &gv0, sizeof gv0);                                       \
                    memcpy(g0 + k + L, &gv1, sizeof gv1);                                   \
                }                                                                           \
        }                                                                                   \
        for (; cb < full; cb += L) {                                                        \
            const V dv = CNN_LOAD(V, d + cb);                                               \
            V mx = CNN_LOAD(V, x0 + cb), share = dv / count;                                \
            if (is_max)                                                                     \
                for (ptrdiff_t dh = 0; dh < f; dh++)                                        \
                    for (ptrdiff_t dw = 0; dw < f; dw++) {                                  \
                        const V v = CNN_LOAD(V, x0 + dh * row_len + dw * C + cb);           \
                        const VI take = (v > mx) | (v != v);                                \
                        mx = (V)((take & (VI)v) | (~take & (VI)mx));                        \
                    }                                                                       \
            for (ptrdiff_t dh = 0; dh < f; dh++)                                            \
                for (ptrdiff_t dw = 0; dw < f; dw++) {                                      \
                    const ptrdiff_t k = dh * row_len + dw * C + cb;                         \
                    V gv;                                                                   \
                    if (is_max) {                                                           \
                        const V v = CNN_LOAD(V, x0 + k);                                    \
                        gv = (V)((VI)(v == mx) & (VI)dv);                                   \
                    } else {                                                                \
                        gv = share;                                                         \
                    }                                                                       \
                    if (!tiled) gv += CNN_LOAD(V, g0 + k);                                  \
                    memcpy(g0 + k, &gv, sizeof gv);                                         \
                }                                                                           \
        }                                                                                   \
        for (ptrdiff_t c = full; c < C; c++) {                                              \
            T mx = x0[c];                                                                   \
            if (is_max)                                                                     \
                for (ptrdiff_t dh = 0; dh < f; dh++)                                        \
                    for (ptrdiff_t dw = 0; dw < f; dw++) {                                  \
                        const T v = x0[dh * row_len + dw * C + c];                          \
                        mx = (v > mx || v != v) ? v : mx;                                   \
                    }                                                                       \
            const T share = d[c] / count;                                                   \
            for (ptrdiff_t dh = 0; dh < f; dh++)                                            \
                for (ptrdiff_t dw = 0; dw < f; dw++) {                                      \
                    const ptrdiff_t k = dh * row_len + dw * C + c;                          \
                    const T gv = is_max ? (x0[k] == mx ? d[c] : 0) : share;                 \
                    g0[k] = tiled ? gv : g0[k] + gv;                                        \
                }                                                                           \
        }                                                                                   \
    }                                                                                       \
}

CNN_CONV_DEFINE(double, cnn_conv_vd, cnn_conv_vdi, d)
CNN_CONV_DEFINE(float, cnn_conv_vf, cnn_conv_vfi, f)
CNN_POOL_DEFINE(double, cnn_pool_vd, cnn_pool_vdi, 4, d)
CNN_POOL_DEFINE(float, cnn_conv_vf, cnn_conv_vfi, 8, f)

#endif /* CNN_CORE_CONV_H */
