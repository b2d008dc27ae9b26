"""Which implementation runs: the compiled kernels ("cython") or plain NumPy ("numpy").

The choice is made, from the most to the least specific:

1. the ``backend=`` argument of a call;
2. :func:`set_backend` (or the :func:`use_backend` context manager) for the process;
3. the ``CNN_CORE_BACKEND`` environment variable, read at import;
4. "cython" when the extension imported, else "numpy" (with one warning at import).

Asking for "cython" when the extension is missing raises instead of silently running
NumPy: a user who asked for compiled code should know they did not get it.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import warnings

BACKENDS = ("cython", "numpy")
ENV_VAR = "CNN_CORE_BACKEND"

try:
    _kernels = importlib.import_module("cnn_core._kernels")
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


def get_backend():
    """The process-wide default backend: ``"cython"`` or ``"numpy"``."""
    return _default


def set_backend(name):
    """Set the process-wide default backend (``"cython"`` or ``"numpy"``)."""
    global _default
    _default = _check_name(name, "backend")


@contextlib.contextmanager
def use_backend(name):
    """Run a ``with`` block on the given backend, restoring the previous default after."""
    previous = get_backend()
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


def resolve_backend(backend=None):
    """The backend a call runs on: its own ``backend`` argument, else the default."""
    if backend is None:
        return _default
    return _check_name(backend, "backend")


def kernels():
    """The compiled extension module (only called once "cython" has been resolved)."""
    return _kernels
