"""The compiled extension is what the suite tests, and the backend switch works."""
import os
import subprocess
import sys

import pytest

import cnn_core
from cnn_core import _backend, deep

from conftest import NUMPY_ONLY
from helpers import random_network

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_compiled_extension_is_imported():
    """Fails when the tests would silently run on NumPy: build the extension
    (pip install -e .) or ask for the pure-NumPy run with CNN_CORE_BACKEND=numpy."""
    if NUMPY_ONLY:
        pytest.skip("pure-NumPy run asked for explicitly (CNN_CORE_BACKEND=numpy)")
    assert cnn_core.HAVE_EXTENSION, "cnn_core.kernels did not import"
    kernels = _backend.kernels()
    assert kernels.__file__.endswith((".so", ".pyd")), kernels.__file__
    # The module tested is the one in this source tree, not another installed copy.
    assert os.path.dirname(os.path.abspath(kernels.__file__)) == os.path.join(ROOT, "cnn_core")
    assert cnn_core.get_backend() == "cython"


def test_set_backend_and_context_manager():
    before = cnn_core.get_backend()
    with cnn_core.use_backend("numpy"):
        assert cnn_core.get_backend() == "numpy"
    assert cnn_core.get_backend() == before


def test_use_backend_in_one_thread_does_not_switch_another():
    import threading

    seen = {}
    inside, checked = threading.Event(), threading.Event()

    def worker():
        with cnn_core.use_backend("numpy"):
            seen["worker inside"] = cnn_core.get_backend()
            inside.set()
            checked.wait(10)
        seen["worker after"] = cnn_core.get_backend()

    before = cnn_core.get_backend()
    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(10)
    seen["main while the worker's block is open"] = cnn_core.get_backend()
    checked.set()
    thread.join(10)
    assert seen == {"worker inside": "numpy", "worker after": before,
                    "main while the worker's block is open": before}


def test_use_backend_nests_restores_after_an_exception_and_outranks_set_backend():
    before = cnn_core.get_backend()
    with pytest.raises(KeyError):
        with cnn_core.use_backend("numpy"):
            with cnn_core.use_backend(before):
                assert cnn_core.get_backend() == before
            assert cnn_core.get_backend() == "numpy"
            raise KeyError("leave the block by an exception")
    assert cnn_core.get_backend() == before
    try:
        with cnn_core.use_backend("numpy"):
            cnn_core.set_backend(before)  # the process default; the open block still rules
            assert cnn_core.get_backend() == "numpy"
    finally:
        cnn_core.set_backend(before)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be one of"):
        cnn_core.set_backend("fortran")
    parameters, X, _ = random_network([3, 2, 1], 4)
    with pytest.raises(ValueError, match="backend must be one of"):
        deep.L_model_forward(X, parameters, backend="torch")


def _python(code, **env):
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_environment_variable_sets_the_default():
    result = _python("import cnn_core; print(cnn_core.get_backend())", CNN_CORE_BACKEND="numpy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "numpy"


def test_environment_variable_with_a_wrong_name_fails_at_import():
    result = _python("import cnn_core", CNN_CORE_BACKEND="gpu")
    assert result.returncode != 0
    assert "CNN_CORE_BACKEND" in result.stderr and "'gpu'" in result.stderr


def test_missing_extension_falls_back_to_numpy_with_one_warning():
    # Block the extension's import to see what a user without a compiler gets.
    code = (
        "import sys, warnings\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'cnn_core.kernels': raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import cnn_core\n"
        "print(cnn_core.get_backend(), len(caught), caught[0].message)\n"
        "try:\n"
        "    cnn_core.set_backend('cython')\n"
        "except RuntimeError as exc:\n"
        "    print('refused:', exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CNN_CORE_BACKEND"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    first, refused = result.stdout.strip().splitlines()
    assert first.startswith("numpy 1 ") and "compiled extension could not be imported" in first
    assert refused.startswith("refused:") and "compiled extension" in refused


class _CountingKernels:
    """Wraps the extension module and counts the kernel calls that go through it."""

    def __init__(self, module):
        self._module = module
        self.calls = []

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls.append(name)
            return attr(*args, **kwargs)

        return counted


@pytest.mark.skipif(NUMPY_ONLY, reason="needs the compiled extension")
def test_cython_backend_runs_the_kernels_and_numpy_does_not(monkeypatch):
    spy = _CountingKernels(_backend.kernels())
    monkeypatch.setattr(_backend, "kernels", lambda: spy)
    parameters, X, Y = random_network([6, 4, 3, 1], 10)
    for backend in ("numpy", "cython"):
        spy.calls.clear()
        AL, caches = deep.L_model_forward(X, parameters, backend=backend)
        deep.compute_cost(AL, Y, backend=backend)
        deep.L_model_backward(AL, Y, caches, backend=backend)
        if backend == "numpy":
            assert spy.calls == []
        else:
            assert spy.calls.count("linear_activation_forward") == 3
            assert spy.calls.count("cross_entropy") == 1
            assert spy.calls.count("linear_backward") == 3
            assert spy.calls.count("activation_backward") == 2
