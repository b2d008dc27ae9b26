"""The clones of _vmath.h (x86-64-v4, x86-64-v3, baseline) give the same bits.

The extension picks one clone at load time by the CPU, so Python can only reach one;
this test compiles a small C program that calls the three versions of the same code
directly and compares them over a grid of inputs.
"""
import os
import platform
import shutil
import subprocess

import pytest

import cnn_core

PROGRAM = r"""
#include "cnn_core/_vmath.h"
#include <stdio.h>
#define BODY(name, f) { for (ptrdiff_t i = 0; i < n; i++) y[i] = f(x[i]); }
__attribute__((target("arch=x86-64-v4"))) static void tanh4(const double *x, double *y, ptrdiff_t n) BODY(t, cnn_vm_tanh)
__attribute__((target("arch=x86-64-v3"))) static void tanh3(const double *x, double *y, ptrdiff_t n) BODY(t, cnn_vm_tanh)
static void tanh0(const double *x, double *y, ptrdiff_t n) BODY(t, cnn_vm_tanh)
__attribute__((target("arch=x86-64-v4"))) static void sig4(const double *x, double *y, ptrdiff_t n) BODY(s, cnn_vm_sigmoid)
__attribute__((target("arch=x86-64-v3"))) static void sig3(const double *x, double *y, ptrdiff_t n) BODY(s, cnn_vm_sigmoid)
static void sig0(const double *x, double *y, ptrdiff_t n) BODY(s, cnn_vm_sigmoid)
enum { N = 100001 };
static double x[N], a[N], b[N], c[N];
int main(void)
{
    int differ = 0;
    for (int i = 0; i < N; i++) x[i] = (i - N / 2) * 8e-4;
    int v4 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
             && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    tanh0(x, a, N);
    if (v3) { tanh3(x, b, N); for (int i = 0; i < N; i++) differ += a[i] != b[i]; }
    if (v4) { tanh4(x, c, N); for (int i = 0; i < N; i++) differ += a[i] != c[i]; }
    sig0(x, a, N);
    if (v3) { sig3(x, b, N); for (int i = 0; i < N; i++) differ += a[i] != b[i]; }
    if (v4) { sig4(x, c, N); for (int i = 0; i < N; i++) differ += a[i] != c[i]; }
    printf("%d %d %d\n", v3, v4, differ);
    return 0;
}
"""


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64") or os.name == "nt",
                    reason="the clones exist on x86-64 Linux builds only")
def test_every_clone_of_the_vectorised_math_gives_the_same_bits(tmp_path):
    compiler = shutil.which("gcc")
    if compiler is None:
        pytest.skip("no gcc to compile the comparison (the extension's build needs one)")
    source = tmp_path / "clones.c"
    source.write_text(PROGRAM)
    binary = tmp_path / "clones"
    subprocess.run([compiler, "-O3", "-ffp-contract=off", "-I", cnn_core.get_include(),
                    os.fspath(source), "-o", os.fspath(binary), "-lm"], check=True)
    v3, v4, differ = map(int, subprocess.run([os.fspath(binary)], capture_output=True,
                                             text=True, check=True).stdout.split())
    if not (v3 or v4):
        pytest.skip("this CPU runs only the baseline clone: nothing to compare it with")
    assert differ == 0
