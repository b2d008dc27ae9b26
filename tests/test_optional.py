"""The core install is NumPy and SciPy; every other package is an extra, named when missing.

A missing package is simulated with ``sys.modules[name] = None`` (then ``import name``
raises ImportError), for the package and every submodule already imported.
"""
import argparse
import ast
import io
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from cnn_core import _optional, cli, datasets, experiments, plotting, report
from cnn_core import io as cnn_io

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Every optional package cnn_core uses anywhere, by import name.
OPTIONAL = ("matplotlib", "h5py", "sklearn", "PIL", "tqdm", "joblib", "safetensors", "dask",
            "distributed", "jax", "nbformat")
#: The modules the core install offers, imported on their own in a fresh interpreter.
CORE_MODULES = ("cnn_core", "cnn_core.activations", "cnn_core.preprocessing",
                "cnn_core.logistic", "cnn_core.shallow", "cnn_core.deep", "cnn_core.kernels",
                "cnn_core.datasets", "cnn_core.plotting", "cnn_core.io",
                "cnn_core.experiments", "cnn_core.report", "cnn_core.cli", "cnn_core.verify")


def hide(monkeypatch, name):
    """Make ``import name`` (and of any of its submodules) fail for this test."""
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, name, None)


def names_extra(package, extra):
    """A regex: the message names the package and the pip command of the extra."""
    return re.escape(package) + r".*pip install \"cnn_core\[" + re.escape(extra) + r"\]\""


def _run_python(code):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


# ---------------------------------------------------------------------------------------
# The core imports and runs on NumPy and SciPy alone
# ---------------------------------------------------------------------------------------

def test_importing_the_package_imports_no_optional_package():
    # cnn_core.kernels is the public compiled API: checked once it is built.
    out = _run_python(f"""
        import importlib, importlib.util, json, sys
        for name in {CORE_MODULES!r}:
            if name != "cnn_core.kernels" or importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        optional = set({OPTIONAL!r})
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in optional)))
    """)
    assert json.loads(out.splitlines()[-1]) == []


def test_the_core_trains_predicts_and_saves_with_every_optional_package_missing(tmp_path):
    # A fresh interpreter in which each optional package fails to import, as in a core
    # install: training, prediction and the model files work; a figure names its extra.
    out = _run_python(f"""
        import sys
        sys.modules.update(dict.fromkeys({OPTIONAL!r}))
        import numpy as np
        from cnn_core import deep, io, plotting
        rng = np.random.default_rng(0)
        X = rng.standard_normal((4, 30))
        Y = (X[:1] > 0).astype(float)
        parameters = deep.L_layer_model(X, Y, [4, 3, 1], num_iterations=50,
                                        learning_rate=0.1)
        print(deep.predict(X, Y, parameters).shape)
        io.save_model({str(tmp_path / "m.safetensors")!r}, parameters)
        loaded, _ = io.load_model({str(tmp_path / "m.safetensors")!r})
        print(all(np.array_equal(loaded[k], v) for k, v in parameters.items()))
        try:
            plotting.plot_costs([1.0, 0.5], 0.1)
        except ImportError as exc:
            print(exc)
    """)
    lines = out.splitlines()
    assert lines[-3:-1] == ["(1, 30)", "True"]
    assert re.search(names_extra("matplotlib", "plot"), lines[-1])


def test_the_core_dependencies_are_numpy_and_scipy():
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        project = tomllib.load(handle)["project"]
    names = {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in project["dependencies"]}
    assert names == {"numpy", "scipy"}


def _extras():
    """Each extra of pyproject.toml with the distributions it installs, self-references
    (``cnn_core[plot,data]``) expanded."""
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        declared = tomllib.load(handle)["project"]["optional-dependencies"]

    def expand(extra, seen=()):
        names = set()
        for requirement in declared[extra]:
            name, _, rest = re.match(r"([A-Za-z0-9_.-]+)(\[([^\]]*)\])?", requirement).groups()
            if name.lower().replace("-", "_") == "cnn_core":
                for inner in rest.split(","):
                    assert inner not in seen, f"extra {extra} includes itself"
                    names |= expand(inner.strip(), seen + (extra,))
            else:
                names.add(name.lower())
        return names

    return {extra: expand(extra) for extra in declared}


def _require_calls():
    """Every ``require(module, extra, purpose)`` in the package, as (file, module, extra);
    module is None where it is a variable."""
    calls = []
    package = os.path.join(ROOT, "cnn_core")
    for folder, _, files in os.walk(package):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                tree = ast.parse(handle.read())
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require"
                        and len(node.args) >= 2):
                    module, extra = (getattr(arg, "value", None) for arg in node.args[:2])
                    calls.append((os.path.relpath(path, ROOT), module, extra))
    return calls


def test_every_extra_named_in_a_message_installs_the_package():
    extras = _extras()
    calls = _require_calls()
    assert len(calls) >= 10
    # The modules passed as variables: the report's and the commands' lists.
    namespaces = [argparse.Namespace(command="demo"),
                  argparse.Namespace(command="train", data="cat"),
                  argparse.Namespace(command="sweep", data="noisy_moons"),
                  argparse.Namespace(command="predict", inputs=["cat.jpg"]),
                  argparse.Namespace(command="report", data_dir="cat_folder")]
    variables = [("cnn_core/report.py", module, "cli") for module in report.NEEDS]
    variables += [("cnn_core/cli.py", module, "cli")
                  for args in namespaces for module in cli._needs(args)]
    for path, module, extra in calls + variables:
        assert extra in extras, f"{path}: require({module!r}, {extra!r}): no such extra"
        if module is None:
            continue
        top = module.partition(".")[0]
        distribution = _optional.DISTRIBUTIONS.get(top, top).partition("[")[0].lower()
        assert distribution in extras[extra], f"{path}: extra {extra!r} lacks {distribution}"


def test_the_test_extra_installs_every_other_extra():
    extras = _extras()
    for extra, names in extras.items():
        if extra not in ("test", "docs"):
            assert names <= extras["test"], extra


# ---------------------------------------------------------------------------------------
# Each feature names its extra
# ---------------------------------------------------------------------------------------

POINTS = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 2.0]])
LABELS = np.array([[0, 1, 1]])

PLOTS = {
    "plot_data": lambda: plotting.plot_data(POINTS, LABELS),
    "plot_decision_boundary": lambda: plotting.plot_decision_boundary(
        lambda x: np.zeros(len(x)), POINTS, LABELS),
    "plot_costs": lambda: plotting.plot_costs([0.7, 0.5], 0.01),
    "plot_mislabeled_images": lambda: plotting.plot_mislabeled_images(
        [b"non-cat", b"cat"], np.zeros((12, 2)), [[0, 1]], [[1, 1]], image_shape=(2, 2, 3)),
}


@pytest.mark.parametrize("draw", PLOTS.values(), ids=PLOTS.keys())
def test_plotting_without_matplotlib_names_the_plot_extra(monkeypatch, draw):
    hide(monkeypatch, "matplotlib")
    with pytest.raises(ImportError, match=names_extra("matplotlib", "plot")) as caught:
        draw()
    assert isinstance(caught.value, ModuleNotFoundError)
    assert caught.value.name == "matplotlib" and caught.value.extra == "plot"


def test_the_cat_loader_without_h5py_names_the_data_extra(monkeypatch, tmp_path):
    hide(monkeypatch, "h5py")
    with pytest.raises(ImportError, match=names_extra("h5py", "data")):
        datasets.load_catvnoncat(tmp_path)


def test_the_extra_datasets_without_scikit_learn_name_the_data_extra(monkeypatch):
    hide(monkeypatch, "sklearn")
    with pytest.raises(ImportError, match=names_extra("scikit-learn", "data")):
        datasets.load_extra_datasets()


def test_the_planar_data_needs_no_extra(monkeypatch):
    for name in ("sklearn", "h5py"):
        hide(monkeypatch, name)
    X, Y = datasets.load_planar_dataset()
    assert X.shape == (2, 400) and Y.shape == (1, 400)


def test_the_scikit_learn_baseline_names_the_data_extra(monkeypatch):
    hide(monkeypatch, "sklearn")
    with pytest.raises(ImportError, match=names_extra("scikit-learn", "data")):
        experiments.sklearn_logistic_regression(POINTS, LABELS)


def test_reading_an_image_without_pillow_names_the_cli_extra(monkeypatch, tmp_path):
    hide(monkeypatch, "PIL")
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    metadata = {"layer_sizes": [12, 1],
                "preprocessing": {"image_shape": [2, 2, 3], "scale": "divide_255"}}
    with pytest.raises(ImportError, match=names_extra("Pillow", "cli")):
        experiments.read_input(str(image), metadata)


def test_the_hidden_layer_study_without_joblib_names_the_cli_extra(monkeypatch):
    hide(monkeypatch, "joblib")
    data = experiments.Data("planar", POINTS, LABELS.astype(float), None, None, ["a", "b"])
    with pytest.raises(ImportError, match=names_extra("joblib", "cli")):
        experiments.hidden_layer_sweep(data, [1], 1)


def test_a_dask_scheduler_without_dask_names_the_dask_extra(monkeypatch):
    hide(monkeypatch, "dask")
    data = experiments.Data("planar", POINTS, LABELS.astype(float), None, None, ["a", "b"])
    with pytest.raises(ImportError, match=names_extra("dask[distributed]", "dask")):
        experiments.hidden_layer_sweep(data, [1], 1, scheduler="tcp://127.0.0.1:1")


def test_the_report_without_matplotlib_says_so_before_running_anything(monkeypatch, tmp_path):
    hide(monkeypatch, "matplotlib")
    out = tmp_path / "report"
    with pytest.raises(ImportError, match=names_extra("matplotlib", "cli")):
        report.run_report(str(out), stream=io.StringIO())
    assert not out.exists()


def test_models_are_saved_and_loaded_without_safetensors(monkeypatch, tmp_path):
    hide(monkeypatch, "safetensors")
    parameters = {"W1": np.arange(6.0).reshape(3, 2), "b1": np.zeros((3, 1)),
                  "W2": np.ones((1, 3)), "b2": np.full((1, 1), 0.5)}
    path = cnn_io.save_model(tmp_path / "model.safetensors", parameters)
    loaded, metadata = cnn_io.load_model(path)
    assert metadata["layer_sizes"] == [2, 3, 1]
    for key, value in parameters.items():
        assert np.array_equal(loaded[key], value)


# ---------------------------------------------------------------------------------------
# The command line: one line naming the extra, exit status 2, nothing done
# ---------------------------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


COMMANDS = {
    "demo": (["demo"], "matplotlib", "matplotlib"),
    "demo baseline": (["demo"], "sklearn", "scikit-learn"),
    "train": (["train"], "matplotlib", "matplotlib"),
    "train cat": (["train", "--data", "cat", "--data-dir", "."], "h5py", "h5py"),
    "train moons": (["train", "--data", "noisy_moons"], "sklearn", "scikit-learn"),
    "predict image": (["predict", "model.safetensors", "x.npy", "cat.jpg"], "PIL", "Pillow"),
    "sweep": (["sweep"], "joblib", "joblib"),
    "report": (["report"], "sklearn", "scikit-learn"),
}


@pytest.mark.parametrize("argv, hidden, package", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_command_without_its_extra_says_which_and_does_nothing(monkeypatch, tmp_path,
                                                                 capsys, argv, hidden, package):
    hide(monkeypatch, hidden)
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"cnn-core {argv[0]}: error: this command needs {package}")
    assert re.search(names_extra(package, "cli"), err)
    assert os.listdir(tmp_path) == []  # not even the output folder


def test_predicting_npy_columns_needs_no_pillow(monkeypatch, tmp_path, capsys):
    hide(monkeypatch, "PIL")
    parameters = {"w": np.ones((2, 1)), "b": 0.0}
    model = cnn_io.save_model(tmp_path / "model.safetensors", parameters)
    np.save(tmp_path / "x.npy", POINTS)
    assert cli.main(["predict", model, str(tmp_path / "x.npy")]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_the_progress_bar_without_tqdm_names_the_cli_extra(monkeypatch):
    hide(monkeypatch, "tqdm")
    with pytest.raises(ImportError, match=names_extra("tqdm", "cli")):
        cli._Progress(10, 1, _Terminal(), quiet=False)
    cli._Progress(10, 1, io.StringIO(), quiet=False).close()  # not a terminal: no bar


def test_verify_needs_none_of_the_cli_extra(monkeypatch, capsys):
    pytest.importorskip("jax")
    for name in ("matplotlib", "sklearn", "h5py", "PIL", "tqdm", "joblib"):
        hide(monkeypatch, name)
    assert cli.main(["verify", "--model", "logistic"]) == 0
    assert "all gradients PASS" in capsys.readouterr().out
