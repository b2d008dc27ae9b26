/*
 * Vectorisable exp, tanh and sigmoid for cnn_core's kernels.
 *
 * libm's exp and tanh are calls the compiler cannot vectorise, and on the small
 * networks of the course (the planar 2-4-1 net) one tanh per hidden unit and example
 * costs more than all the matrix products of a training step. The functions below are
 * branch-free straight-line arithmetic that GCC turns into SIMD code, and the array
 * loops are compiled for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline,
 * chosen at load time (target_clones), so the same build runs on any x86-64 machine.
 *
 * The polynomials are written with fma(): one rounding per step, which C defines
 * exactly, so every clone and every machine gives the same bits (the v3 and v4 clones
 * use the FMA instruction; the baseline calls the C library's fma, slower but equal).
 * Elsewhere the build turns contraction off (-ffp-contract=off) for the same reason.
 *
 * Accuracy, measured against NumPy over [-40, 40] (tests/test_kernels.py checks it):
 * exp within 1 ulp, tanh and sigmoid within 2 ulp. Inputs are finite
 * (cnn_core validates them before any kernel runs).
 */
#ifndef CNN_CORE_VMATH_H
#define CNN_CORE_VMATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CNN_VM_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CNN_VM_CLONES
#endif

/* Range reduction shared by exp and expm1: x = k ln 2 + r with |r| <= ln(2) / 2.
 * Adding 1.5 * 2^52 rounds x / ln 2 to the integer k without a call and leaves k in the
 * low bits; ln 2 is split in two (Cody and Waite) so that r is exact to about 2^-60.
 * Returns r and sets *scale = 2^k (for -1022 <= k <= 1023). */
static inline double cnn_vm_reduce(double x, double *scale)
{
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52 */
    double kd = x * 1.4426950408889634 + shifter;
    uint64_t kbits;
    memcpy(&kbits, &kd, sizeof kbits);
    kd -= shifter;
    int64_t k = (int64_t)(kbits - UINT64_C(0x4338000000000000));
    uint64_t scale_bits = (uint64_t)(k + 1023) << 52;
    memcpy(scale, &scale_bits, sizeof *scale);
    return (x - kd * 6.93147180369123816490e-01) - kd * 1.90821492927058770002e-10;
}

/* (e^r - 1) / r for |r| <= 0.347: Taylor to degree 12 (the remainder is below 2^-58). */
static inline double cnn_vm_expm1_ratio(double r)
{
    double q = 1.6059043836821613e-10;   /* 1/13! */
    q = fma(q, r, 2.08767569878681e-09);    /* 1/12! */
    q = fma(q, r, 2.505210838544172e-08);   /* 1/11! */
    q = fma(q, r, 2.755731922398589e-07);   /* 1/10! */
    q = fma(q, r, 2.7557319223985893e-06);  /* 1/9! */
    q = fma(q, r, 2.48015873015873e-05);    /* 1/8! */
    q = fma(q, r, 1.984126984126984e-04);   /* 1/7! */
    q = fma(q, r, 1.388888888888889e-03);   /* 1/6! */
    q = fma(q, r, 8.333333333333333e-03);   /* 1/5! */
    q = fma(q, r, 4.1666666666666664e-02);  /* 1/4! */
    q = fma(q, r, 1.6666666666666666e-01);  /* 1/3! */
    q = fma(q, r, 0.5);
    return fma(q, r, 1.0);
}

/* e^x for x in [-708, 709]; 0 below -708 (where e^x < 3.3e-308). */
static inline double cnn_vm_exp(double x)
{
    double scale;
    double xc = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
    double r = cnn_vm_reduce(xc, &scale);
    double y = fma(r, cnn_vm_expm1_ratio(r), 1.0) * scale;
    return x < -708.0 ? 0.0 : y;
}

/* e^y - 1 for 0 <= y <= 40, with full relative accuracy down to y -> 0:
 * e^y - 1 = 2^k (e^r - 1) + (2^k - 1), where e^r - 1 keeps its accuracy for tiny r
 * (no leading 1 is added) and 2^k - 1 is exact. For y < ln(2)/2, k = 0 and r = y. */
static inline double cnn_vm_expm1_nonneg(double y)
{
    double scale;
    double r = cnn_vm_reduce(y, &scale);
    return fma(scale, r * cnn_vm_expm1_ratio(r), scale - 1.0);
}

static inline double cnn_vm_tanh(double x)
{
    /* tanh|x| = em / (em + 2) with em = e^{2|x|} - 1, branch-free so that the loop
     * vectorises. Beyond |x| = 20 tanh is 1 to double precision. */
    double ax = x < 0 ? -x : x;
    ax = ax > 20.0 ? 20.0 : ax;
    double em = cnn_vm_expm1_nonneg(2.0 * ax);
    double t = em / (em + 2.0);
    return x < 0 ? -t : t;
}

static inline double cnn_vm_sigmoid(double z)
{
    /* The same two forms as the NumPy code: 1/(1+e^-z) for z >= 0, e^z/(1+e^z) below,
     * sharing one division. */
    double e = cnn_vm_exp(z < 0 ? z : -z);
    return (z >= 0 ? 1.0 : e) / (1.0 + e);
}

/* Array versions: y[i] = f(x[i]); y may be x. float arrays are computed in double. */
CNN_VM_CLONES static void cnn_vm_tanh_d(const double *x, double *y, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = cnn_vm_tanh(x[i]);
}

CNN_VM_CLONES static void cnn_vm_tanh_f(const float *x, float *y, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = (float)cnn_vm_tanh((double)x[i]);
}

CNN_VM_CLONES static void cnn_vm_sigmoid_d(const double *x, double *y, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = cnn_vm_sigmoid(x[i]);
}

CNN_VM_CLONES static void cnn_vm_sigmoid_f(const float *x, float *y, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = (float)cnn_vm_sigmoid((double)x[i]);
}

CNN_VM_CLONES static void cnn_vm_exp_d(const double *x, double *y, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = cnn_vm_exp(x[i]);
}

#endif /* CNN_CORE_VMATH_H */
