"""``cnn-core train``, ``predict`` and ``sweep`` end to end, in temporary folders."""
import fcntl
import io
import json
import os
import pty
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest

from cnn_core import cli, datasets, deep, experiments, io as cnn_io, preprocessing, shallow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG = b"\x89PNG\r\n\x1a\n"


def run_cli(capsys, *argv):
    """(exit status, stdout, stderr) of ``cnn-core argv...``."""
    try:
        status = cli.main(list(argv))
    except SystemExit as exc:  # argparse's own exits (--help, bad choices)
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_png(path):
    assert path.stat().st_size > 2000, path
    assert path.read_bytes()[:8] == PNG, path


# ---------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------

def test_train_planar_is_the_notes_tanh_network(tmp_path, capsys):
    status, out, err = run_cli(capsys, "train", "--out", str(tmp_path))
    assert status == 0, err
    lines = out.splitlines()
    # The notes print 90 %. Ten thousand steps at rate 1.2 amplify rounding (the last
    # digits of tanh move the accuracy by a point or two of 400), so the check is the
    # notes' figure, rounded as they print it.
    accuracy_lines = [line for line in lines if line.startswith("train accuracy: ")]
    assert len(accuracy_lines) == 1
    accuracy = float(accuracy_lines[0].split(": ")[1])
    assert round(accuracy * 100) == 90, accuracy
    assert not any(line.startswith("test accuracy") for line in lines)  # no test split
    assert "Cost after iteration 9000: " in out  # the tanh net records every 1000
    for name in ("costs.png", "decision_boundary.png"):
        assert_png(tmp_path / name)
    assert not (tmp_path / "mislabeled.png").exists()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model"] == "shallow" and metrics["data"] == "planar"
    assert metrics["iterations"] == 10000 and metrics["learning_rate"] == 1.2
    assert metrics["train_accuracy"] == accuracy and metrics["test_accuracy"] is None
    assert metrics["first_cost"] == pytest.approx(0.693, abs=1e-3)
    assert metrics["last_cost"] < 0.3 and metrics["seconds"] > 0
    assert metrics["backend"] in ("cython", "numpy")
    assert set(metrics["versions"]) >= {"cnn_core", "numpy", "scipy", "python"}
    # The saved model predicts what was measured.
    parameters, metadata = cnn_io.load_model(tmp_path / "model.safetensors")
    assert metadata["activations"] == ["tanh", "sigmoid"] and metadata["layer_sizes"] == [2, 4, 1]
    X, Y = datasets.load_planar_dataset()
    assert np.mean(shallow.predict(parameters, X) == Y) == accuracy


def test_train_cat_deep_reproduces_the_course(tmp_path, capsys, data_dir):
    status, out, err = run_cli(capsys, "train", "--data", "cat", "--data-dir", data_dir,
                               "--out", str(tmp_path))
    assert status == 0, err
    lines = out.splitlines()
    assert "train accuracy: 0.985646" in lines and "test accuracy: 0.8" in lines
    assert "Cost after iteration 0: 0.771749" in lines
    assert_png(tmp_path / "costs.png")
    assert_png(tmp_path / "mislabeled.png")
    assert not (tmp_path / "decision_boundary.png").exists()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["layers"] == [12288, 20, 7, 5, 1]
    assert (metrics["iterations"], metrics["learning_rate"]) == (2500, 0.0075)
    assert metrics["first_cost"] == pytest.approx(0.771749, abs=5e-7)
    _, metadata = cnn_io.load_model(tmp_path / "model.safetensors")
    assert metadata["class_names"] == ["non-cat", "cat"]
    assert metadata["preprocessing"] == {"image_shape": [64, 64, 3], "scale": "divide_255"}
    assert metadata["training"]["function"] == "deep.L_layer_model"


def test_train_cat_logistic_reproduces_the_course(tmp_path, capsys, data_dir):
    status, out, err = run_cli(capsys, "train", "--data", "cat", "--model", "logistic",
                               "--data-dir", data_dir, "--out", str(tmp_path), "--quiet")
    assert status == 0, err
    assert out.splitlines() == ["train accuracy: 0.990431", "test accuracy: 0.7"]


@pytest.mark.parametrize("data", ["noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles"])
def test_train_extra_datasets(tmp_path, capsys, data):
    status, out, err = run_cli(capsys, "train", "--data", data, "--iterations", "2000",
                               "--seed", "1", "--out", str(tmp_path), "--quiet")
    assert status == 0, err
    accuracy = float(out.split("train accuracy: ")[1].split()[0])
    assert 0.6 < accuracy <= 1.0
    assert_png(tmp_path / "decision_boundary.png")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["train_accuracy"] == accuracy and metrics["seed"] == 1


def test_seed_makes_the_extra_data_repeatable(tmp_path, capsys):
    def metrics(folder):
        status, _, err = run_cli(capsys, "train", "--data", "noisy_moons", "--iterations",
                                 "1000", "--seed", "7", "--quiet", "--out", str(tmp_path / folder))
        assert status == 0, err
        return json.loads((tmp_path / folder / "metrics.json").read_text())

    np.random.seed(123)  # whatever state the process was in must not matter
    first = metrics("a")
    np.random.seed(456)
    second = metrics("b")
    assert first["last_cost"] == second["last_cost"]


def test_blobs_labels_are_taken_mod_2():
    np.random.seed(0)
    data = experiments.load_data("blobs")
    np.random.seed(0)
    _, _, (_, y), _, _ = datasets.load_extra_datasets()
    assert set(np.unique(data.Y)) == {0.0, 1.0}
    np.testing.assert_array_equal(data.Y[0], y % 2)


def test_train_seed_makes_runs_repeatable_and_changes_the_draw(tmp_path, capsys):
    def trained(seed, folder):
        status, _, err = run_cli(capsys, "train", "--model", "deep", "--layers", "2,5,1",
                                 "--iterations", "300", "--seed", seed, "--quiet",
                                 "--out", str(tmp_path / folder))
        assert status == 0, err
        return cnn_io.load_model(tmp_path / folder / "model.safetensors")[0]

    first, again, other = trained("4", "a"), trained("4", "b"), trained("5", "c")
    np.testing.assert_array_equal(first["W1"], again["W1"])
    assert not np.array_equal(first["W1"], other["W1"])


def test_quiet_prints_only_the_accuracies(tmp_path, capsys):
    status, out, _ = run_cli(capsys, "train", "--iterations", "500", "--quiet",
                             "--out", str(tmp_path))
    assert status == 0
    assert len(out.splitlines()) == 1 and out.startswith("train accuracy: ")


def _run_in_terminal(args, cwd):
    """Run ``python -m cnn_core args`` with stdout on a pseudo-terminal; its output."""
    leader, follower = pty.openpty()
    # A new pseudo-terminal is 0 columns wide; give it a real terminal's size.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "cnn_core", *args], cwd=cwd,
                               stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    return process.returncode, b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_a_progress_bar_with_the_cost(tmp_path):
    status, text = _run_in_terminal(["train", "--iterations", "3000", "--out", str(tmp_path)],
                                    ROOT)
    assert status == 0, text
    assert "cost=" in text and "3000/3000" in text
    assert "Cost after iteration" not in text  # the bar replaces the cost lines
    quiet_status, quiet = _run_in_terminal(["train", "--iterations", "3000", "--quiet",
                                            "--out", str(tmp_path)], ROOT)
    assert quiet_status == 0 and "cost=" not in quiet and "train accuracy" in quiet


# ---------------------------------------------------------------------------------------
# predict
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cat_model(tmp_path_factory):
    """A cat network trained by ``cnn-core train`` (fewer iterations), and the test images."""
    folder = os.environ.get("CNN_CORE_DATA_DIR")
    if not folder:
        pytest.skip("CNN_CORE_DATA_DIR is not set: the course's cat vs non-cat files are needed")
    out = tmp_path_factory.mktemp("cat_model")
    cli.run_train("cat", "deep", data_dir=folder, iterations=300, out_dir=str(out), quiet=True,
                  stream=io.StringIO())
    _, _, test_x_orig, _, _ = datasets.load_catvnoncat(folder)
    return out / "model.safetensors", test_x_orig


def _predict_lines(capsys, model, *inputs):
    status, out, err = run_cli(capsys, "predict", str(model), *map(str, inputs))
    return status, [line.split("\t") for line in out.splitlines()], err


def test_predict_on_png_files_equals_the_model_forward_pass(tmp_path, capsys, cat_model):
    from PIL import Image

    model, test_x_orig = cat_model
    paths = []
    for index in range(6):
        paths.append(tmp_path / f"test_{index}.png")
        Image.fromarray(test_x_orig[index]).save(paths[-1])
    status, rows, err = _predict_lines(capsys, model, *paths)
    assert status == 0, err
    parameters, metadata = cnn_io.load_model(model)
    X = preprocessing.standardize_images(preprocessing.flatten_images(test_x_orig[:6]))
    assert [row[0] for row in rows] == [str(p) for p in paths]
    for j, (_, probability, label) in enumerate(rows):
        AL, _ = deep.L_model_forward(X[:, j:j + 1], parameters)  # each file is one column
        assert float(probability) == AL[0, 0]
        assert label == metadata["class_names"][int(AL[0, 0] > 0.5)]


def test_predict_on_a_photo_sized_jpeg_and_a_grayscale_png(tmp_path, capsys, cat_model):
    from PIL import Image

    model, _ = cat_model
    rows, cols = np.mgrid[0:900, 0:1200]
    photo = np.stack([rows * 255 // 900, cols * 255 // 1200, (rows + cols) % 256], axis=-1)
    Image.fromarray(photo.astype(np.uint8)).save(tmp_path / "photo.jpg", quality=90)
    Image.fromarray((cols[:300, :400] % 256).astype(np.uint8), mode="L").save(tmp_path / "gray.png")
    status, rows_out, err = _predict_lines(capsys, model, tmp_path / "photo.jpg",
                                           tmp_path / "gray.png")
    assert status == 0, err
    assert len(rows_out) == 2
    for _, probability, label in rows_out:
        assert 0.0 <= float(probability) <= 1.0 and label in ("cat", "non-cat")
    # The grayscale image is predicted as its RGB conversion, resized to 64 x 64.
    gray = Image.open(tmp_path / "gray.png").convert("RGB").resize((64, 64),
                                                                  Image.Resampling.BILINEAR)
    X = np.asarray(gray, dtype=np.float64).reshape(1, -1).T / 255
    AL, _ = deep.L_model_forward(X, cnn_io.load_model(model)[0])
    assert float(rows_out[1][1]) == AL[0, 0]


def test_predict_on_npy_columns(tmp_path, capsys, cat_model):
    model, test_x_orig = cat_model
    X = preprocessing.standardize_images(preprocessing.flatten_images(test_x_orig[:3]))
    np.save(tmp_path / "three.npy", X)
    status, rows, err = _predict_lines(capsys, model, tmp_path / "three.npy")
    assert status == 0, err
    AL, _ = deep.L_model_forward(X, cnn_io.load_model(model)[0])
    assert [row[0] for row in rows] == [f"{tmp_path / 'three.npy'}[{j}]" for j in range(3)]
    assert [float(row[1]) for row in rows] == AL[0].tolist()


def test_predict_reports_each_bad_input_and_goes_on(tmp_path, capsys, cat_model):
    from PIL import Image

    model, test_x_orig = cat_model
    good = tmp_path / "good.png"
    Image.fromarray(test_x_orig[0]).save(good)
    (tmp_path / "text.png").write_text("not an image")
    np.save(tmp_path / "short.npy", np.zeros((10, 2)))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    bad = {"text.png": "not an image Pillow can read", "missing.png": "no such file",
           "short.npy": r"n_x = 12288; got shape \(10, 2\)", "objects.npy": "not a readable"}
    status, rows, err = _predict_lines(capsys, model, good, *(tmp_path / n for n in bad))
    assert status == 1
    assert [row[0] for row in rows] == [str(good)]
    error_lines = err.splitlines()
    assert len(error_lines) == len(bad)
    for line, (name, reason) in zip(error_lines, bad.items()):
        assert str(tmp_path / name) in line
        assert __import__("re").search(reason, line), line


def test_predict_with_a_bad_model_file_exits_2_in_one_line(tmp_path, capsys):
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 40)
    np.save(tmp_path / "x.npy", np.zeros((2, 1)))
    for model in (tmp_path / "model.safetensors", tmp_path / "absent.safetensors"):
        status, out, err = run_cli(capsys, "predict", str(model), str(tmp_path / "x.npy"))
        assert status == 2 and out == ""
        assert len(err.splitlines()) == 1 and str(model) in err and "Traceback" not in err


def test_predict_with_a_folder_as_the_model_exits_2(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((2, 1)))
    status, out, err = run_cli(capsys, "predict", str(tmp_path), str(tmp_path / "x.npy"))
    assert status == 2 and out == "" and len(err.splitlines()) == 1
    assert str(tmp_path) in err and "Traceback" not in err


def test_predict_proba_refuses_layouts_it_cannot_run():
    parameters = {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}
    with pytest.raises(ValueError, match=r"activations must be \['tanh', 'sigmoid'\]"):
        experiments.predict_proba(parameters, ["tanh"], np.ones((2, 3)))


def test_predict_an_image_with_a_points_model(tmp_path, capsys):
    from PIL import Image

    run_cli(capsys, "train", "--iterations", "100", "--quiet", "--out", str(tmp_path))
    Image.new("RGB", (8, 8)).save(tmp_path / "image.png")
    status, out, err = run_cli(capsys, "predict", str(tmp_path / "model.safetensors"),
                               str(tmp_path / "image.png"))
    assert status == 1 and out == ""
    assert "takes 2 features per column, not images" in err


# ---------------------------------------------------------------------------------------
# sweep
# ---------------------------------------------------------------------------------------

SIZES = [1, 2, 3, 4, 5]


def _notes_serial_loop(sizes, iterations):
    """The notes' study as written: nn_model after nn_model, the generator never reseeded."""
    X, Y = datasets.load_planar_dataset()
    accuracies = []
    for n_h in sizes:
        parameters = shallow.nn_model(X, Y, n_h, num_iterations=iterations)
        accuracies.append(experiments.notes_accuracy_percent(Y, shallow.predict(parameters, X)))
    return accuracies


def _sweep(capsys, tmp_path, *extra):
    status, out, err = run_cli(capsys, "sweep", "--hidden-sizes", ",".join(map(str, SIZES)),
                               "--iterations", "1000", "--out", str(tmp_path), *extra)
    assert status == 0, err
    return out


def test_sweep_in_parallel_equals_the_notes_serial_loop(tmp_path, capsys):
    one = _sweep(capsys, tmp_path / "one", "--jobs", "1")
    two = _sweep(capsys, tmp_path / "two", "--jobs", "2")
    expected = ["Accuracy for {} hidden units: {} %".format(n, a)
                for n, a in zip(SIZES, _notes_serial_loop(SIZES, 1000))]
    assert one.splitlines()[:len(SIZES)] == expected
    assert two.splitlines()[:len(SIZES)] == expected
    summary = json.loads((tmp_path / "two" / "sweep.json").read_text())
    assert summary["hidden_sizes"] == SIZES and summary["iterations"] == 1000
    assert_png(tmp_path / "two" / "hidden_sizes.png")


def test_sweep_on_a_dask_cluster_equals_the_serial_loop(tmp_path, capsys):
    distributed = pytest.importorskip("distributed", reason="the test extra installs dask")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        out = _sweep(capsys, tmp_path, "--scheduler", cluster.scheduler_address)
    expected = ["Accuracy for {} hidden units: {} %".format(n, a)
                for n, a in zip(SIZES, _notes_serial_loop(SIZES, 1000))]
    assert out.splitlines()[:len(SIZES)] == expected


def test_the_study_leaves_the_generator_where_the_serial_loop_does():
    X, Y = datasets.load_planar_dataset()
    experiments.hidden_layer_sweep(experiments.Data("planar", X, Y, None, None, ["a", "b"]),
                                   [1, 2], iterations=10, jobs=1)
    after_sweep = np.random.rand()
    X, Y = datasets.load_planar_dataset()
    for n_h in (1, 2):
        shallow.nn_model(X, Y, n_h, num_iterations=10)
    assert after_sweep == np.random.rand()


# ---------------------------------------------------------------------------------------
# Bad options: status 2, one line, no traceback
# ---------------------------------------------------------------------------------------

BAD_OPTIONS = [
    (["train", "--data", "mnist"], "invalid choice: 'mnist'"),
    (["train", "--layers", "2,x,1", "--model", "deep"], "comma-separated integers"),
    (["train", "--layers", "2,4,1"], "--layers applies to --model deep"),
    (["train", "--model", "deep", "--hidden", "3"], "--hidden applies to --model shallow"),
    (["train", "--iterations", "-5"], "--iterations must be a positive integer; got -5"),
    (["train", "--learning-rate", "0"], "--learning-rate must be positive"),
    (["train", "--learning-rate", "nan"], "--learning-rate must be positive"),
    (["train", "--data", "cat", "--data-dir", "/nonexistent/folder"],
     "train_catvnoncat.h5 and test_catvnoncat.h5"),
    (["sweep", "--hidden-sizes", "0,3"], "--hidden-sizes takes positive integers"),
    (["sweep", "--jobs", "0"], "--jobs must be a positive integer"),
    (["sweep", "--data", "cat"], "invalid choice: 'cat'"),
    (["sweep", "--iterations", "0"], "--iterations must be a positive integer"),
    (["demo", "--iterations", "0"], "--iterations must be a positive integer"),
    (["report", "--jobs", "-1"], "--jobs must be a positive integer"),
]


def assert_one_line_error(capsys, tmp_path, argv, message):
    status, out, err = run_cli(capsys, *argv, "--out", str(tmp_path))
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    assert message in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("argv, message", BAD_OPTIONS, ids=lambda v: " ".join(v)
                         if isinstance(v, list) else None)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, argv, message):
    assert_one_line_error(capsys, tmp_path, argv, message)


@pytest.mark.parametrize("command", ["train", "sweep", "demo", "report"])
def test_an_out_path_that_is_a_file(tmp_path, capsys, command):
    blocker = tmp_path / "file"
    blocker.write_text("")
    status, _, err = run_cli(capsys, command, "--out", str(blocker / "sub"))
    assert status == 2 and len(err.splitlines()) == 1
    assert f"--out {blocker / 'sub'}: cannot create the folder" in err


def test_layers_that_do_not_fit_the_cat_images(tmp_path, capsys, data_dir):
    assert_one_line_error(capsys, tmp_path, ["train", "--data", "cat", "--data-dir", data_dir,
                                             "--layers", "100,1"],
                          "must start with the data's 12288 features")


def test_cat_without_a_folder_names_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CNN_CORE_DATA_DIR", raising=False)
    assert_one_line_error(capsys, tmp_path, ["train", "--data", "cat"], "CNN_CORE_DATA_DIR")


@pytest.mark.parametrize("command", ["train", "predict", "sweep", "report", "demo", "verify"])
def test_every_command_has_help_with_an_example(capsys, command):
    status, out, _ = run_cli(capsys, command, "--help")
    assert status == 0
    assert "example:" in out and f"cnn-core {command}" in out
