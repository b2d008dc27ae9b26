"""Build of cnn_core's compiled extension; the metadata lives in pyproject.toml.

Cython directives are set here and only here. ``CNN_CORE_DEBUG_CYTHON=1`` turns the
safety checks back on (bounds, wraparound, initialised memoryviews) for a debug build.
``CNN_CORE_NATIVE=1`` compiles for the building machine's own CPU (``-march=native``):
the small-network loops then use its widest vectors (the planar net trains about 1.4x
faster on an AVX-512 machine), but the build may not run on an older CPU. The default
build runs on any x86-64 and picks AVX2/AVX-512 at load time for exp and tanh only.
"""
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

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

COMPILE_ARGS = [] if os.name == "nt" else ["-O3", "-ffp-contract=off"]
if os.environ.get("CNN_CORE_NATIVE", "0") not in ("", "0") and os.name != "nt":
    COMPILE_ARGS.append("-march=native")

extensions = [
    Extension(
        "cnn_core._kernels",
        sources=["cnn_core/_kernels.pyx"],
        depends=["cnn_core/_vmath.h"],
        # No contraction into FMA: the same rounding on every machine and clone.
        extra_compile_args=COMPILE_ARGS,
    )
]

setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES))
