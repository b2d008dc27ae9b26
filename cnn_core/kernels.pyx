"""cnn_core's compiled layer kernels: the public API of the C extension.

Every function here checks its arguments with the GIL held, raising ``TypeError`` or
``ValueError`` that names the argument and what was expected, and then runs without the
GIL (so other Python threads run meanwhile). Matrices follow the course: ``(units, m)``,
one column per example.

Arrays:

* float64 or float32, one dtype for all the arrays of a call (no silent conversion);
* inputs 2-D and C- or Fortran-contiguous (the course's ``X = X_orig.reshape(m, -1).T``
  is Fortran-ordered, and copying a 12288 x 209 matrix every iteration would cost more
  than the product); ``dZ``/``dA``/``Z``/``Y`` C-contiguous;
* outputs (``Z=``, ``A=``, ``dZ=``, ``dA_prev=``, ``dW=``, ``db=``) are allocated when
  left as None; when given, they must be C-contiguous, writeable, of the right shape and
  dtype, and must not overlap an input. They are overwritten and returned.
* values are not checked for NaN or inf (a check would read every input again); the
  chapter modules refuse them before calling a kernel.

``activation`` is a name (``"identity"``, ``"relu"``, ``"sigmoid"``, ``"tanh"``) or its
code in ``ACTIVATION_CODES``. :class:`Trainer` runs whole full-batch training loops and
:class:`EpochTrainer` whole epochs of mini-batches; both are compiled twice, for
baseline x86-64 and with AVX-512, and ``TRAINER_BUILD`` says which one this CPU got (the
same numbers either way).

The convolution and pooling kernels of the fourth course, NHWC (``conv_forward``,
``conv_backward``, ``pool_forward``, ``pool_backward``), live in ``cnn_core._conv`` and
are re-exported here; see that module for their conventions and for the rule that picks
im2col plus gemm or the direct loops.

For other Cython extensions, ``kernels.pxd`` declares the unchecked ``nogil`` loops
behind these functions (``linear_activation_forward_raw`` and the others), and
``_conv.pxd`` those of the convolutions (``conv_forward_raw`` and the others).
"""
import numpy as np

from cnn_core._kernel_args import check_blas_range, common_dtype, output_buffer

from cnn_core._conv import conv_backward, conv_forward, pool_backward, pool_forward
from cnn_core.activations import resolve_activation

from libc.float cimport DBL_EPSILON, DBL_MIN, FLT_EPSILON, FLT_MIN
from libc.math cimport log, log1p

from cnn_core._blas cimport BLAS_INT_MAX, row_sums, rowmajor_gemm
from cnn_core._vmath cimport (IDENTITY, RELU, SIGMOID, TANH, activate, add_bias_and_activate,
                              cnn_vm_exp_d, cnn_vm_sigmoid_d, cnn_vm_tanh_d, is_activation,
                              logistic_loss, times_slope)


cdef extern from *:
    """
    /* Whether the CPU runs the AVX-512 build of the trainer (the flags of setup.py). */
    static int cnn_cpu_has_avx512(void)
    {
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    #else
        return 0;
    #endif
    }
    """
    int cnn_cpu_has_avx512() nogil


def _load_trainer():
    """The trainer module for this CPU: the AVX-512 build when it was compiled and the
    CPU has the features, unless ``CNN_CORE_TRAINER_BUILD=baseline`` asks for the
    baseline; returns ``(module, build name)``."""
    import importlib
    import os

    wanted = os.environ.get("CNN_CORE_TRAINER_BUILD", "").strip().lower()
    if wanted not in ("", "baseline", "avx512"):
        raise ImportError(f"CNN_CORE_TRAINER_BUILD must be 'baseline' or 'avx512'; got {wanted!r}")
    if wanted != "baseline" and cnn_cpu_has_avx512():
        try:
            return importlib.import_module("cnn_core._trainer_avx512"), "avx512"
        except ImportError:
            if wanted == "avx512":
                raise
    elif wanted == "avx512":
        raise ImportError("CNN_CORE_TRAINER_BUILD=avx512, but this CPU lacks AVX-512")
    return importlib.import_module("cnn_core._trainer"), "baseline"


_trainer_module, TRAINER_BUILD = _load_trainer()
Trainer = _trainer_module.Trainer
EpochTrainer = _trainer_module.EpochTrainer

__all__ = ["ACTIVATION_CODES", "EpochTrainer", "Trainer", "activation_backward", "conv_backward",
           "conv_forward", "cross_entropy", "cross_entropy_with_logits",
           "linear_activation_forward", "linear_backward", "pool_backward", "pool_forward"]

#: The activations' codes, the ``code`` of each entry of cnn_core.activations.ACTIVATIONS.
ACTIVATION_CODES = {"identity": IDENTITY, "relu": RELU, "sigmoid": SIGMOID, "tanh": TANH}



# ---------------------------------------------------------------------------------------
# The loops, without the GIL (declared in kernels.pxd).
# ---------------------------------------------------------------------------------------

cdef void linear_activation_forward_raw(
        const floating* A_prev, bint a_prev_fortran, const floating* W, bint w_fortran,
        const floating* b, Py_ssize_t b_stride, Py_ssize_t n, Py_ssize_t n_prev,
        Py_ssize_t m, floating* Z, floating* A, int code) noexcept nogil:
    rowmajor_gemm(False, w_fortran, W, n, n_prev, False, a_prev_fortran, A_prev, n_prev, m,
                  <floating> 1.0, <floating> 0.0, Z, n, m)
    add_bias_and_activate(Z, A, b, b_stride, n, m, code)


cdef void activation_backward_raw(const floating* dA, const floating* Z, floating* dZ,
                                  Py_ssize_t size, int code) noexcept nogil:
    # First dZ = g(Z), then dZ = dA * g' read from it: the one form of every slope.
    activate(code, Z, dZ, size)
    times_slope(dA, dZ, dZ, size, code)


cdef void linear_backward_raw(
        const floating* dZ, const floating* A_prev, bint a_prev_fortran,
        const floating* W, bint w_fortran, Py_ssize_t n, Py_ssize_t n_prev, Py_ssize_t m,
        floating* dA_prev, floating* dW, floating* db) noexcept nogil:
    rowmajor_gemm(False, False, dZ, n, m, True, a_prev_fortran, A_prev, n_prev, m,
                  <floating> (1.0 / m), <floating> 0.0, dW, n, n_prev)
    row_sums(dZ, n, m, 1.0 / m, db, 1)
    if dA_prev != NULL:
        rowmajor_gemm(True, w_fortran, W, n, n_prev, False, False, dZ, n, m,
                      <floating> 1.0, <floating> 0.0, dA_prev, n_prev, m)


cdef double cross_entropy_with_logits_raw(const floating* Z, const floating* Y,
                                          Py_ssize_t n, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t i
    cdef double total = 0.0
    for i in range(n * m):
        total += logistic_loss(Z[i], Y[i])
    return total / m


# ---------------------------------------------------------------------------------------
# Argument checks, with the GIL held.
# ---------------------------------------------------------------------------------------

def _activation_code(activation):
    """The kernel code of an activation given by name or code (see
    cnn_core.activations.resolve_activation)."""
    return resolve_activation(activation).code


def _check_matrix(name, arr, shape, meaning, c_only=False):
    """``arr`` is 2-D of ``shape`` and contiguous; returns True when Fortran-ordered."""
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D {meaning}; got {arr.ndim}-D shape {arr.shape}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {meaning} = {shape}; got {arr.shape}")
    if arr.flags.c_contiguous:
        return False
    if arr.flags.f_contiguous and not c_only:
        return True
    order = "C-contiguous" if c_only else "C- or Fortran-contiguous"
    raise ValueError(f"{name} must be {order}; got strides {arr.strides} for shape "
                     f"{arr.shape} (pass np.ascontiguousarray({name}))")


def _check_sizes(**sizes):
    for name, value in sizes.items():
        if value <= 0:
            raise ValueError(f"{name} must be positive; got {value}")
    check_blas_range(BLAS_INT_MAX, **sizes)


# ---------------------------------------------------------------------------------------
# The public functions.
# ---------------------------------------------------------------------------------------

def linear_activation_forward(A_prev, W, b, activation, *, Z=None, A=None):
    """``Z = W A_prev + b`` (one gemm) and ``A = g(Z)`` (one pass over Z).

    Arguments:
        A_prev: ``(n_prev, m)``, C- or Fortran-contiguous.
        W: ``(n, n_prev)``, C- or Fortran-contiguous.
        b: ``(n, 1)``, any strides (copied when not contiguous).
        activation: a name or code of ``ACTIVATION_CODES``.
        Z, A: optional ``(n, m)`` outputs. For ``"identity"`` with ``A`` None, A is Z.

    Returns:
        ``(Z, A)``.
    """
    dtype = common_dtype(A_prev=A_prev, W=W, b=b)
    code = _activation_code(activation)
    if W.ndim != 2 or A_prev.ndim != 2:
        bad, arr = ("W", W) if W.ndim != 2 else ("A_prev", A_prev)
        raise ValueError(f"{bad} must be 2-D; got shape {arr.shape}")
    n, n_prev, m = W.shape[0], W.shape[1], A_prev.shape[1]
    _check_sizes(n=n, n_prev=n_prev, m=m)
    w_fortran = _check_matrix("W", W, (n, n_prev), "(n, n_prev)")
    a_fortran = _check_matrix("A_prev", A_prev, (n_prev, m), "(n_prev, m)")
    if b.shape != (n, 1):
        raise ValueError(f"b must have shape (n, 1) = ({n}, 1); got {b.shape}")
    # n values: a contiguous copy of a strided b costs nothing, and a stride that is not
    # a whole number of elements (a field of a structured array) cannot be indexed.
    b = np.ascontiguousarray(b)
    inputs = {"A_prev": A_prev, "W": W, "b": b}
    Z = output_buffer("Z", Z, (n, m), dtype, "(n, m)", inputs)
    if A is None and code == IDENTITY:
        A = Z
    else:
        A = output_buffer("A", A, (n, m), dtype, "(n, m)", dict(inputs, Z=Z))
    if dtype == np.float64:
        _forward[double](A_prev, a_fortran, W, w_fortran, b, Z, A, code)
    else:
        _forward[float](A_prev, a_fortran, W, w_fortran, b, Z, A, code)
    return Z, A


cdef _forward(const floating[:, :] A_prev, bint a_fortran, const floating[:, :] W,
              bint w_fortran, const floating[:, :] b, floating[:, ::1] Z,
              floating[:, ::1] A, int code):
    cdef Py_ssize_t b_stride = b.strides[0] // sizeof(floating)
    with nogil:
        linear_activation_forward_raw(&A_prev[0, 0], a_fortran, &W[0, 0], w_fortran,
                                      &b[0, 0], b_stride, W.shape[0], W.shape[1],
                                      A_prev.shape[1], &Z[0, 0], &A[0, 0], code)


def activation_backward(dA, Z, activation, *, dZ=None):
    """``dZ = dA * g'(Z)`` elementwise, the slope taken from ``g(Z)``.

    ``dA`` and ``Z`` are ``(n, m)`` and C-contiguous; ``dZ`` an optional ``(n, m)``
    output (it may not be ``Z``). Returns dZ.
    """
    dtype = common_dtype(dA=dA, Z=Z)
    code = _activation_code(activation)
    if Z.ndim != 2:
        raise ValueError(f"Z must be 2-D (n, m); got shape {Z.shape}")
    n, m = Z.shape
    _check_sizes(n=n, m=m)
    _check_matrix("Z", Z, (n, m), "(n, m)", c_only=True)
    _check_matrix("dA", dA, (n, m), "Z.shape", c_only=True)
    dZ = output_buffer("dZ", dZ, (n, m), dtype, "Z.shape", {"dA": dA, "Z": Z})
    if dtype == np.float64:
        _backward_activation[double](dA, Z, dZ, code)
    else:
        _backward_activation[float](dA, Z, dZ, code)
    return dZ


cdef _backward_activation(const floating[:, ::1] dA, const floating[:, ::1] Z,
                          floating[:, ::1] dZ, int code):
    with nogil:
        activation_backward_raw(&dA[0, 0], &Z[0, 0], &dZ[0, 0], Z.shape[0] * Z.shape[1], code)


def linear_backward(dZ, A_prev, W, *, need_dA_prev=True, dA_prev=None, dW=None, db=None):
    """The linear layer's backward pass: two gemm calls and one row reduction.

    ``dW = dZ A_prev^T / m``, ``db = sum_columns(dZ) / m`` and, when ``need_dA_prev``
    (the first layer's input gradient is not needed by training),
    ``dA_prev = W^T dZ``.

    Arguments:
        dZ: ``(n, m)``, C-contiguous.
        A_prev: ``(n_prev, m)``; W: ``(n, n_prev)``; each C- or Fortran-contiguous.
        dA_prev, dW, db: optional outputs ``(n_prev, m)``, ``(n, n_prev)``, ``(n, 1)``.

    Returns:
        ``(dA_prev, dW, db)``, with dA_prev None unless ``need_dA_prev``.
    """
    dtype = common_dtype(dZ=dZ, A_prev=A_prev, W=W)
    if W.ndim != 2 or dZ.ndim != 2:
        bad, arr = ("W", W) if W.ndim != 2 else ("dZ", dZ)
        raise ValueError(f"{bad} must be 2-D; got shape {arr.shape}")
    n, n_prev, m = W.shape[0], W.shape[1], dZ.shape[1]
    _check_sizes(n=n, n_prev=n_prev, m=m)
    _check_matrix("dZ", dZ, (n, m), "(n, m)", c_only=True)
    a_fortran = _check_matrix("A_prev", A_prev, (n_prev, m), "(n_prev, m)")
    w_fortran = _check_matrix("W", W, (n, n_prev), "(n, n_prev)")
    inputs = {"dZ": dZ, "A_prev": A_prev, "W": W}
    dW = output_buffer("dW", dW, (n, n_prev), dtype, "W.shape", inputs)
    db = output_buffer("db", db, (n, 1), dtype, "(n, 1)", dict(inputs, dW=dW))
    if need_dA_prev:
        dA_prev = output_buffer("dA_prev", dA_prev, (n_prev, m), dtype, "A_prev.shape",
                          dict(inputs, dW=dW, db=db))
    elif dA_prev is not None:
        raise ValueError("dA_prev must be None when need_dA_prev is False")
    if dtype == np.float64:
        _backward_linear[double](dZ, A_prev, a_fortran, W, w_fortran, dA_prev, dW, db)
    else:
        _backward_linear[float](dZ, A_prev, a_fortran, W, w_fortran, dA_prev, dW, db)
    return dA_prev, dW, db


cdef _backward_linear(const floating[:, ::1] dZ, const floating[:, :] A_prev, bint a_fortran,
                      const floating[:, :] W, bint w_fortran, floating[:, ::1] dA_prev,
                      floating[:, ::1] dW, floating[:, ::1] db):
    cdef floating* dA_prev_ptr = NULL if dA_prev is None else &dA_prev[0, 0]
    with nogil:
        linear_backward_raw(&dZ[0, 0], &A_prev[0, 0], a_fortran, &W[0, 0], w_fortran,
                            W.shape[0], W.shape[1], dZ.shape[1], dA_prev_ptr,
                            &dW[0, 0], &db[0, 0])


def _check_pair(first, second, first_name, second_name):
    dtype = common_dtype(**{first_name: first, second_name: second})
    if first.ndim != 2:
        raise ValueError(f"{first_name} must be 2-D (n, m); got shape {first.shape}")
    n, m = first.shape
    if m <= 0 or n <= 0:
        raise ValueError(f"{first_name} must hold at least one example; got shape {first.shape}")
    _check_matrix(first_name, first, (n, m), "(n, m)", c_only=True)
    _check_matrix(second_name, second, (n, m), f"{first_name}.shape", c_only=True)
    return dtype


def cross_entropy(A, Y):
    """Mean binary cross-entropy ``-(1/m) sum(Y log A + (1 - Y) log(1 - A))``.

    ``A`` and ``Y`` are ``(n, m)``, C-contiguous (the sum over all entries is divided by
    m). A term whose label weight is exactly 0 contributes 0 even where its log is
    -inf (0 log 0 = 0), and A is clipped to ``[tiny, 1 - eps/2]`` of its dtype so that
    a saturated prediction gives a large finite cost instead of inf. Returns a float.
    """
    if _check_pair(A, Y, "A", "Y") == np.float64:
        return _cross_entropy[double](A, Y)
    return _cross_entropy[float](A, Y)


cdef double _cross_entropy(const floating[:, ::1] A, const floating[:, ::1] Y):
    cdef Py_ssize_t i, j, n = A.shape[0], m = A.shape[1]
    cdef double total = 0.0, a, y, lo, hi
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


def cross_entropy_with_logits(Z, Y):
    """Mean cross-entropy of ``sigmoid(Z)`` against ``Y``, computed from the logits.

    ``-(1/m) sum(Y log s + (1 - Y) log(1 - s))`` with ``s = sigmoid(Z)``, summed in the
    form ``max(z, 0) - y z + log1p(exp(-|z|))``: exact and finite for logits of any size.
    ``Z`` and ``Y`` are ``(n, m)``, C-contiguous. Returns a float.
    """
    if _check_pair(Z, Y, "Z", "Y") == np.float64:
        return _cross_entropy_with_logits[double](Z, Y)
    return _cross_entropy_with_logits[float](Z, Y)


cdef double _cross_entropy_with_logits(const floating[:, ::1] Z, const floating[:, ::1] Y):
    cdef double cost
    with nogil:
        cost = cross_entropy_with_logits_raw(&Z[0, 0], &Y[0, 0], Z.shape[0], Z.shape[1])
    return cost


def _vectorised_math(function, x_array, out_array):
    """``out = f(x)`` with the vectorised ``exp``, ``tanh`` or ``sigmoid`` of ``_vmath.h``.

    The kernels' activations use these; this private entry point lets the tests measure
    their accuracy against the C library. ``x_array`` and ``out_array`` are 1-D contiguous
    float64 of one length.
    """
    cdef const double[::1] x = x_array
    cdef double[::1] out = out_array
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
