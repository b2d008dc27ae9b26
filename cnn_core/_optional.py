"""Optional dependencies: imported where they are used, named with their extra when missing.

The core install (``pip install cnn_core``) needs NumPy and SciPy only; it trains, predicts
and saves models. Everything else comes with an extra (see ``pyproject.toml``):

* ``plot``: matplotlib, for :mod:`cnn_core.plotting`;
* ``data``: h5py (the course's cat files) and scikit-learn (the notes' extra 2-D
  datasets and the logistic regression baseline);
* ``cli``: all the ``cnn-core`` commands need (``plot``, ``data``, Pillow, tqdm, joblib).

Code that needs one of these calls :func:`require` at the point of use, never at the top
of a module, so that ``import cnn_core`` and the chapter modules stay NumPy and SciPy only.
"""
from __future__ import annotations

import importlib

__all__ = ["MissingExtraError", "require", "DISTRIBUTIONS"]

#: The name pip installs, by import name, where the two differ.
DISTRIBUTIONS = {"sklearn": "scikit-learn", "PIL": "Pillow", "dask": "dask[distributed]"}


class MissingExtraError(ModuleNotFoundError):
    """An optional package is missing; the message names it and the extra to install.

    A :class:`ModuleNotFoundError` (hence an :class:`ImportError`) whose ``name`` is the
    top-level package and ``extra`` the extra of ``cnn_core`` that installs it.
    """

    def __init__(self, message, *, name, extra):
        super().__init__(message, name=name)
        self.extra = extra


def require(module, extra, purpose):
    """Import ``module`` and return it, or raise :class:`MissingExtraError`.

    Arguments:
        module: the module to import, e.g. ``"matplotlib.pyplot"``.
        extra: the extra of cnn_core that installs it, e.g. ``"plot"``.
        purpose: what needs it, the subject of the message, e.g. ``"cnn_core.plotting"``.

    The message reads ``cnn_core.plotting needs matplotlib, which could not be imported
    (No module named 'matplotlib'): pip install "cnn_core[plot]"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.partition(".")[0]
        package = DISTRIBUTIONS.get(top, top)
        raise MissingExtraError(
            f"{purpose} needs {package}, which could not be imported ({exc}): "
            f"pip install \"cnn_core[{extra}]\"",
            name=top, extra=extra,
        ) from exc
