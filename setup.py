"""Build of cnn_core's compiled extension; the metadata lives in pyproject.toml.

Three modules, each from its own file:

* ``cnn_core._blas`` (``_blas.pyx``/``.pxd``): the BLAS wrappers, cimportable;
* ``cnn_core.kernels`` (``kernels.pyx``/``.pxd``): the public layer kernels;
* ``cnn_core._trainer``: the training loop, generated per dtype from
  ``_trainer.pyx.tp`` (Tempita, shipped with Cython) into ``_trainer.pyx``.

``_vmath.pxd``/``_vmath.h`` hold the inline elementwise math that the last two share.

Cython directives are set here and only here. ``CNN_CORE_DEBUG_CYTHON=1`` turns the
safety checks back on (bounds, wraparound, initialised memoryviews) for a debug build.
``CNN_CORE_NATIVE=1`` compiles for the building machine's own CPU (``-march=native``):
the small-network loops then use its widest vectors, but the build may not run on an
older CPU. The default build runs on any x86-64 and picks AVX2/AVX-512 at load time for
exp and tanh only.
"""
import os

from Cython import Tempita
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(HERE, "cnn_core")

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "nonecheck": False,
    "cdivision": True,
    "embedsignature": True,
}
if os.environ.get("CNN_CORE_DEBUG_CYTHON", "0") not in ("", "0"):
    DIRECTIVES.update(boundscheck=True, wraparound=True, initializedcheck=True, nonecheck=True)

# No contraction into FMA: the same rounding on every machine and clone.
COMPILE_ARGS = [] if os.name == "nt" else ["-O3", "-ffp-contract=off"]
if os.environ.get("CNN_CORE_NATIVE", "0") not in ("", "0") and os.name != "nt":
    COMPILE_ARGS.append("-march=native")


def render_templates():
    """Write ``X.pyx`` from every ``X.pyx.tp`` that is newer (the generated file is
    not committed)."""
    for name in os.listdir(PACKAGE):
        if not name.endswith(".pyx.tp"):
            continue
        template = os.path.join(PACKAGE, name)
        target = template[:-3]
        if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(template):
            continue
        with open(template, encoding="utf-8") as fh:
            text = Tempita.sub(fh.read())
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)


def extension(name, pyx):
    # include_dirs: the project root, as _vmath.pxd includes "cnn_core/_vmath.h".
    return Extension(name, sources=[f"cnn_core/{pyx}"], include_dirs=[HERE],
                     depends=["cnn_core/_vmath.h", "cnn_core/_vmath.pxd",
                              "cnn_core/_blas.pxd", "cnn_core/kernels.pxd"],
                     extra_compile_args=COMPILE_ARGS)


render_templates()
extensions = [
    extension("cnn_core._blas", "_blas.pyx"),
    extension("cnn_core.kernels", "kernels.pyx"),
    extension("cnn_core._trainer", "_trainer.pyx"),
]

setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES))
