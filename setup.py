"""Build of cnn_core's compiled extension; the metadata lives in pyproject.toml.

Four modules, each from its own file:

* ``cnn_core._blas`` (``_blas.pyx``/``.pxd``): the BLAS wrappers, cimportable;
* ``cnn_core.kernels`` (``kernels.pyx``/``.pxd``): the public layer kernels;
* ``cnn_core._conv`` (``_conv.pyx``/``.pxd``): the convolution and pooling kernels,
  re-exported by ``cnn_core.kernels``;
* ``cnn_core._trainer`` (and ``_trainer_avx512``, see below): the training loop,
  generated per dtype from ``_trainer.pyx.tp`` (Tempita, shipped with Cython).

``_vmath.pxd``/``_vmath.h`` hold the inline elementwise math that the last two share.

Cython directives are set here and only here. ``CNN_CORE_DEBUG_CYTHON=1`` turns the
safety checks back on (bounds, wraparound, initialised memoryviews) for a debug build.
``CNN_CORE_NATIVE=1`` compiles for the building machine's own CPU (``-march=native``):
the small-network loops then use its widest vectors, but the build may not run on an
older CPU. The default build runs on any x86-64 and picks AVX2/AVX-512 at load time for
exp and tanh only.
"""
import os
import platform

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
COMPILE_ARGS = [] if os.name == "nt" else ["-O3", "-ffp-contract=off", "-fno-math-errno"]
if os.environ.get("CNN_CORE_NATIVE", "0") not in ("", "0") and os.name != "nt":
    COMPILE_ARGS.append("-march=native")


# The trainer is compiled twice from one source: for baseline x86-64, and with AVX-512
# (the Skylake-X set, which AMD Zen 4 and 5 have too) so that its own loops (bias,
# slopes, the small layers' products) use 512-bit vectors. cnn_core.kernels picks the
# AVX-512 module at import only when the CPU reports every one of these features, so
# the build still runs on any x86-64. Both round identically: contraction into FMA is
# off and the compiler does not reorder floating-point sums, so the vectors change the
# speed, not the numbers (tests/test_training_loops.py compares them bit for bit).
AVX512_FLAGS = ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl"]
BUILD_AVX512 = (os.name != "nt" and platform.machine().lower() in ("x86_64", "amd64")
                and "-march=native" not in COMPILE_ARGS)
TRAINER_MODULES = ["_trainer"] + (["_trainer_avx512"] if BUILD_AVX512 else [])


def render_templates():
    """Write each ``X.pyx.tp`` out as ``X.pyx`` (the trainer's also as
    ``_trainer_avx512.pyx``) when the template is newer; generated files are not
    committed."""
    for name in os.listdir(PACKAGE):
        if not name.endswith(".pyx.tp"):
            continue
        template = os.path.join(PACKAGE, name)
        stem = name[:-len(".pyx.tp")]
        targets = TRAINER_MODULES if stem == "_trainer" else [stem]
        with open(template, encoding="utf-8") as fh:
            text = Tempita.sub(fh.read())
        for target_stem in targets:
            target = os.path.join(PACKAGE, target_stem + ".pyx")
            if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(template):
                continue
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(text)


def extension(name, pyx, extra_args=()):
    # include_dirs: the project root, as _vmath.pxd includes "cnn_core/_vmath.h".
    return Extension(name, sources=[f"cnn_core/{pyx}"], include_dirs=[HERE],
                     depends=["cnn_core/_vmath.h", "cnn_core/_vmath.pxd",
                              "cnn_core/_blas.pxd", "cnn_core/kernels.pxd",
                              "cnn_core/_conv.pxd", "cnn_core/_conv.h",
                              "cnn_core/_trainer.pyx.tp"],
                     extra_compile_args=COMPILE_ARGS + list(extra_args))


render_templates()
extensions = [
    extension("cnn_core._blas", "_blas.pyx"),
    extension("cnn_core._conv", "_conv.pyx"),
    extension("cnn_core.kernels", "kernels.pyx"),
    extension("cnn_core._trainer", "_trainer.pyx"),
]
if BUILD_AVX512:
    extensions.append(extension("cnn_core._trainer_avx512", "_trainer_avx512.pyx", AVX512_FLAGS))

setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES))
