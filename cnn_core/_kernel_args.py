"""Argument checks the compiled kernels share (``kernels.pyx`` and ``_conv.pyx``), run
with the GIL held before any loop: dtypes, the BLAS integer range and ``out=`` buffers.
Each error names the argument."""
import numpy as np

#: The dtypes the kernels are compiled for.
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def common_dtype(**arrays):
    """The float dtype every array shares; TypeError naming the first that differs."""
    dtype = first = None
    for name, arr in arrays.items():
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{name} must be a NumPy array; got {type(arr).__name__}")
        if arr.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{name} must be float64 or float32; got {arr.dtype}")
        if dtype is None:
            dtype, first = arr.dtype, name
        elif arr.dtype != dtype:
            raise TypeError(f"{name} has dtype {arr.dtype} but {first} has {dtype}: "
                            "the arrays of one call share a dtype")
    return dtype


def check_blas_range(limit, **sizes):
    """Every size at most ``limit``, the largest integer a BLAS call takes."""
    for name, value in sizes.items():
        if value > limit:
            raise ValueError(f"{name} = {value} exceeds the BLAS integer range "
                             f"(at most {limit})")


def output_buffer(name, arr, shape, dtype, meaning, inputs):
    """The output buffer: a new C-ordered array when ``arr`` is None, else ``arr`` once
    checked (an ndarray of ``dtype`` and ``shape``, C-contiguous, writeable, sharing no
    memory with the ``inputs``)."""
    if arr is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array or None; got {type(arr).__name__}")
    if arr.dtype != dtype:
        raise TypeError(f"{name} must have the inputs' dtype {dtype}; got {arr.dtype}")
    if arr.ndim != len(shape):
        raise ValueError(f"{name} must be {len(shape)}-D {meaning}; got {arr.ndim}-D shape "
                         f"{arr.shape}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {meaning} = {shape}; got {arr.shape}")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous; got strides {arr.strides} for shape "
                         f"{arr.shape} (pass np.ascontiguousarray({name}))")
    if not arr.flags.writeable:
        raise ValueError(f"{name} must be writeable")
    for other_name, other in inputs.items():
        if other is not None and np.may_share_memory(arr, other):
            raise ValueError(f"{name} must not overlap {other_name}")
    return arr
