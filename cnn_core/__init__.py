"""cnn_core: the deep learning course's fully connected networks, with trusted gradients.

One module per chapter of the course, with the course's function names, signatures,
shapes (``X`` is ``(n_x, m)``: one column per example) and random-draw order:

* :mod:`cnn_core.activations` - sigmoid, softmax, relu, tanh and their derivatives;
* :mod:`cnn_core.preprocessing` - row normalisation, flattening and scaling images;
* :mod:`cnn_core.logistic` - logistic regression with a neural network mindset;
* :mod:`cnn_core.shallow` - the one-hidden-layer tanh network;
* :mod:`cnn_core.deep` - the L-layer ReLU/sigmoid network;
* :mod:`cnn_core.improving` - the second course: initializations, L2, dropout,
  mini-batches, momentum, Adam, learning-rate decay, gradient checking, softmax;
* :mod:`cnn_core.training` - the training step, once per backend (the compiled trainer
  and layer kernels are ``cnn_core.kernels``);
* :mod:`cnn_core.datasets` - the planar, extra and cat vs non-cat data (the last two
  with the ``data`` extra);
* :mod:`cnn_core.plotting` - the course's figures (with the ``plot`` extra).

The core install is NumPy and SciPy; a function that needs an extra says which when it
is missing (``pip install "cnn_core[plot]"``, ...).

The hot paths run on compiled Cython kernels (backend "cython") or on NumPy
(backend "numpy"); see :func:`get_backend`, :func:`set_backend`, :func:`use_backend`
and the ``CNN_CORE_BACKEND`` environment variable.
"""
from cnn_core._backend import (
    BACKENDS,
    HAVE_EXTENSION,
    get_backend,
    set_backend,
    use_backend,
)
from cnn_core import (activations, conv, datasets, deep, improving, logistic, plotting,
                      preprocessing, shallow, training)

__version__ = "0.1.0"


def get_include():
    """The folder to give a Cython extension that cimports cnn_core's kernels.

    Pass it both as Cython's ``include_path`` (it holds ``cnn_core/kernels.pxd`` and
    ``cnn_core/_blas.pxd``) and as the C compiler's ``include_dirs`` (it holds
    ``cnn_core/_vmath.h``), as with ``numpy.get_include()``: the folder that holds the
    ``cnn_core`` package (site-packages, once installed). See docs/kernels.md.
    """
    import os

    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = [
    "BACKENDS",
    "HAVE_EXTENSION",
    "get_backend",
    "set_backend",
    "use_backend",
    "activations",
    "conv",
    "datasets",
    "deep",
    "improving",
    "logistic",
    "plotting",
    "preprocessing",
    "shallow",
    "training",
    "__version__",
    "get_include",
]
