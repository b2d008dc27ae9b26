"""Which implementation runs: the compiled kernels ("cython") or plain NumPy ("numpy").

The choice is made, from the most to the least specific:

1. the ``backend=`` argument of a call;
2. the :func:`use_backend` context manager, for its block in the current thread (or
   asyncio task) only;
3. :func:`set_backend`, for the whole process;
4. the ``CNN_CORE_BACKEND`` environment variable, read at import;
5. "cython" when the extension imported, else "numpy" (with one warning at import).

Asking for "cython" when the extension is missing raises instead of silently running
NumPy: a user who asked for compiled code should know they did not get it.
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import warnings

BACKENDS = ("cython", "numpy")
ENV_VAR = "CNN_CORE_BACKEND"

try:
    _kernels = importlib.import_module("cnn_core.kernels")
except ImportError as exc:  # pragma: no cover - exercised by installs without a compiler
    _kernels = None
    _IMPORT_ERROR = exc
else:
    _IMPORT_ERROR = None

HAVE_EXTENSION = _kernels is not None


def _check_name(name, source):
    if name not in BACKENDS:
        raise ValueError(f"{source} must be one of {BACKENDS}; got {name!r}")
    if name == "cython" and not HAVE_EXTENSION:
        raise RuntimeError(
            f"{source} asks for the 'cython' backend, but cnn_core's compiled extension "
            f"could not be imported ({_IMPORT_ERROR}); reinstall cnn_core with a C "
            f"compiler available (pip install -e .), or use backend='numpy'"
        )
    return name


def _initial_backend():
    requested = os.environ.get(ENV_VAR, "").strip().lower()
    if requested:
        return _check_name(requested, f"the environment variable {ENV_VAR}")
    if not HAVE_EXTENSION:
        warnings.warn(
            f"cnn_core's compiled extension could not be imported ({_IMPORT_ERROR}); "
            f"running on the NumPy backend. Reinstall with a C compiler available "
            f"(pip install -e .) to get the compiled kernels, or set {ENV_VAR}=numpy "
            f"to silence this warning.",
            RuntimeWarning,
            stacklevel=3,
        )
        return "numpy"
    return "cython"


_default = _initial_backend()
#: The backend a ``use_backend`` block chose, for this thread or asyncio task only.
_block_backend = contextvars.ContextVar("cnn_core_backend", default=None)


def get_backend():
    """The default backend here: the innermost :func:`use_backend` block's in this
    thread (or asyncio task), else the process-wide one of :func:`set_backend`."""
    block = _block_backend.get()
    return _default if block is None else block


def set_backend(name):
    """Set the process-wide default backend (``"cython"`` or ``"numpy"``).

    A :func:`use_backend` block that is open in the calling thread still takes
    precedence there until it closes.
    """
    global _default
    _default = _check_name(name, "backend")


@contextlib.contextmanager
def use_backend(name):
    """Run a ``with`` block on the given backend.

    The choice is context-local (a ``contextvars.ContextVar``): it holds in this
    thread or asyncio task only, so another thread's calls keep their own default, and
    it is undone when the block closes, even by an exception. Threads started inside
    the block begin with the process-wide default, as with any context variable.
    """
    token = _block_backend.set(_check_name(name, "backend"))
    try:
        yield
    finally:
        _block_backend.reset(token)


def resolve_backend(backend=None):
    """The backend a call runs on: its own ``backend`` argument, else the default."""
    if backend is None:
        return get_backend()
    return _check_name(backend, "backend")


def kernels():
    """The compiled extension module (only called once "cython" has been resolved)."""
    return _kernels
