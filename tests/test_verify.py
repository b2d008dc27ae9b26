"""cnn_core.verify and ``cnn-core verify``: reports that pass, and reports that fail."""
import importlib
import io
import os
import sys

import numpy as np
import pytest

pytest.importorskip("jax", reason="JAX comes with the test extra: pip install -e '.[test]'")

from cnn_core import cli, deep, verify  # noqa: E402

from conftest import BACKENDS  # noqa: E402
from helpers import random_network  # noqa: E402


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("model, dims", [("deep", [7, 5, 3, 1]), ("shallow", [2, 4, 1])])
def test_check_gradients_passes_for_cnn_core(model, dims, backend):
    parameters, X, Y = random_network(dims, 11, seed=5)
    report = verify.check_gradients(parameters, X, Y, model=model, backend=backend)
    assert report.passed, str(report)
    assert [c.parameter for c in report.checks] == list(parameters)
    assert all(c.max_rel_diff <= 1e-10 and c.fd_max_rel_diff <= 1e-6 for c in report.checks)
    assert report.cost == pytest.approx(report.reference_cost, rel=1e-12)


def test_check_gradients_logistic_and_float32():
    _, X, Y = random_network([5, 1], 9, seed=6)
    report = verify.check_gradients({"w": np.full((5, 1), 0.2), "b": -0.1}, X, Y, "logistic")
    assert report.passed and [c.parameter for c in report.checks] == ["w", "b"]
    parameters, X32, Y32 = random_network([5, 4, 1], 9, dtype=np.float32)
    report = verify.check_gradients(parameters, X32, Y32)
    assert report.dtype == "float32" and report.tolerance == 1e-4 and report.passed


def test_a_learners_wrong_gradients_are_reported():
    parameters, X, Y = random_network([6, 4, 1], 10, seed=7)
    AL, caches = deep.L_model_forward(X, parameters)
    grads = deep.L_model_backward(AL, Y, caches)
    assert verify.check_gradients(parameters, X, Y, grads=grads).passed
    wrong = dict(grads, dW1=grads["dW1"] * X.shape[1])  # forgot the 1/m
    report = verify.check_gradients(parameters, X, Y, grads=wrong)
    assert not report.passed
    assert [c.passed for c in report.checks] == [False, True, True, True]
    assert "FAIL" in str(report).splitlines()[2]
    with pytest.raises(ValueError, match="grads lacks 'db2'"):
        verify.check_gradients(parameters, X, Y, grads={k: v for k, v in grads.items() if k != "db2"})


def _shallow_check_of_a_deep_network():
    p, X3, Y3 = random_network([3, 2, 2, 1], 4)
    return verify.check_gradients(p, X3, Y3, model="shallow")


@pytest.mark.parametrize("match, call", [
    pytest.param("model must be one of",
                 lambda p, X, Y: verify.check_gradients(p, X, Y, model="cnn"), id="model-unknown"),
    pytest.param(r"Y must have shape \(1, m\) = \(1, 4\)",
                 lambda p, X, Y: verify.check_gradients(p, X, Y[:, :3]), id="Y-shape"),
    pytest.param("parameters must describe 2 layers",
                 lambda p, X, Y: _shallow_check_of_a_deep_network(), id="shallow-3-layers"),
])
def test_check_gradients_validates_its_arguments(match, call):
    parameters, X, Y = random_network([3, 2, 1], 4)
    with pytest.raises(ValueError, match=match):
        call(parameters, X, Y)


def test_the_reference_has_one_name():
    """verify and cnn-core check use the module object that the tests import."""
    import cnn_core.reference
    from cnn_core.check import _autodiff

    assert verify.load_reference() is cnn_core.reference
    assert _autodiff.available() is cnn_core.reference
    assert sys.modules["cnn_core.reference"] is cnn_core.reference
    assert cnn_core.reference.__name__ == "cnn_core.reference"


def test_the_reference_refuses_to_be_imported_as_top_level_reference(monkeypatch):
    """The source tree's reference/ on sys.path would be a second module object."""
    import cnn_core.reference

    # The folder that holds reference/: the source tree (editable install) or the
    # installed cnn_core (where the folder is called reference/ too).
    monkeypatch.syspath_prepend(os.path.dirname(cnn_core.reference.__path__[0]))
    monkeypatch.delitem(sys.modules, "reference", raising=False)
    with pytest.raises(ImportError, match=r"imported as cnn_core\.reference, not as 'reference'"
                                          r".*use `import cnn_core\.reference`"):
        importlib.import_module("reference")
    assert "reference" not in sys.modules
    assert sys.modules["cnn_core.reference"] is cnn_core.reference


def test_cli_verify_passes_and_prints_every_parameter(capsys):
    assert cli.main(["verify", "--m", "8"]) == 0
    out = capsys.readouterr().out
    for name in ("W1", "b1", "W3", "b3", "w", "b"):
        assert f"\n  {name:<10} " in out
    assert out.rstrip().endswith("all gradients PASS")


def test_cli_verify_fails_on_a_broken_backward(monkeypatch, capsys):
    correct = deep.L_model_backward

    def halved(*args, **kwargs):
        grads = correct(*args, **kwargs)
        return {k: v / 2 if k.startswith("dW") else v for k, v in grads.items()}

    monkeypatch.setattr(deep, "L_model_backward", halved)
    assert cli.main(["verify", "--model", "deep", "--dims", "4,3,1"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and out.rstrip().endswith("some gradients FAIL")


def test_cli_verify_without_jax_says_what_to_install(monkeypatch, capsys):
    real = verify.importlib.import_module

    def no_jax(name, *args):
        if name == "jax":
            raise ImportError("No module named 'jax'")
        return real(name, *args)

    monkeypatch.setattr(verify.importlib, "import_module", no_jax)
    assert cli.main(["verify", "--model", "logistic"]) == 2
    assert "pip install 'cnn_core[verify]'" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--model", "shallow", "--dims", "3,1"], "n_x,n_h,1"),
    (["--dims", "3,2,1"], "--dims needs --model"),
])
def test_cli_verify_rejects_bad_dims(capsys, argv, message):
    assert cli.main(["verify", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1


def test_run_verify_float32_numpy():
    stream = io.StringIO()
    assert cli.run_verify(["deep"], [9, 6, 1], m=5, dtype="float32", stream=stream)
    assert "float32" in stream.getvalue()
