"""The ``cnn-core`` command line: every experiment of the notes one command away.

* ``demo``: the planar experiment, logistic regression against the 4-unit tanh network;
* ``train``: one model on one dataset with the notes' settings; writes the model
  (safetensors), its cost curve, decision boundary or mislabeled images, and metrics;
* ``predict``: a saved model on image files or ``.npy`` feature columns;
* ``sweep``: the hidden-layer-size study, in parallel (joblib, or a Dask cluster);
* ``report``: all of the notes' experiments in one HTML page, beside the course's numbers;
* ``verify``: every hand-derived gradient against autodiff;
* ``check``: grade a learner's own ``.py`` or notebook against the reference and
  autodiff, naming the mistake (exit 0 all pass, 1 some fail, 2 unreadable file).

A user error (a bad option, a missing data folder, an unreadable file) exits with
status 2 and one line on standard error, never a traceback. So does a missing optional
package: ``demo``, ``train``, ``predict``, ``sweep`` and ``report`` need the ``cli`` extra
(``pip install "cnn_core[cli]"``), ``verify`` the ``verify`` extra, ``check`` the
``check`` extra for notebooks and autodiff; each command checks for what it needs before
it starts and names the extra that is missing.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from cnn_core import __version__
from cnn_core._backend import BACKENDS, get_backend, set_backend
from cnn_core._optional import MissingExtraError, require
from cnn_core.experiments import NUMPY_SUFFIXES, notes_accuracy_percent

#: The figures ``cnn-core demo`` writes, by file name.
DEMO_FIGURES = (
    "planar_data.png",
    "logistic_regression_boundary.png",
    "nn_boundary_h4.png",
)


def _pyplot():
    return require("matplotlib.pyplot", "cli", "drawing cnn-core's figures")


def _save(ax, path):
    fig = ax.figure
    fig.savefig(path, dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def run_demo(out_dir, num_iterations=10000, n_h=4, stream=None):
    """The planar experiment. Returns ``{"logistic_accuracy", "nn_accuracy", "figures"}``."""
    from cnn_core import datasets, plotting, shallow
    from cnn_core.experiments import sklearn_logistic_regression

    stream = stream or sys.stdout
    os.makedirs(out_dir, exist_ok=True)
    X, Y = datasets.load_planar_dataset()
    print(f"Planar data: X {X.shape}, Y {Y.shape}; backend {get_backend()}", file=stream)

    figures = [_save(plotting.plot_data(X, Y), os.path.join(out_dir, DEMO_FIGURES[0]))]

    clf, lr_accuracy = sklearn_logistic_regression(X, Y)
    print("Accuracy of logistic regression: %d %% (percentage of correctly labelled "
          "datapoints)" % lr_accuracy, file=stream)
    ax = plotting.plot_decision_boundary(clf.predict, X, Y)
    ax.set_title("Logistic Regression")
    figures.append(_save(ax, os.path.join(out_dir, DEMO_FIGURES[1])))

    start = time.perf_counter()
    parameters = shallow.nn_model(X, Y, n_h, num_iterations=num_iterations)
    seconds = time.perf_counter() - start
    nn_accuracy = notes_accuracy_percent(Y, shallow.predict(parameters, X))
    print("Accuracy of the %d-unit tanh network: %d %% (%d iterations in %.2f s)"
          % (n_h, nn_accuracy, num_iterations, seconds), file=stream)
    ax = plotting.plot_decision_boundary(lambda x: shallow.predict(parameters, x.T), X, Y)
    ax.set_title("Decision Boundary for hidden layer size %d" % n_h)
    figures.append(_save(ax, os.path.join(out_dir, DEMO_FIGURES[2])))

    for path in figures:
        print(f"wrote {path}", file=stream)
    return {"logistic_accuracy": lr_accuracy, "nn_accuracy": nn_accuracy, "figures": figures}


#: Architectures ``cnn-core verify`` checks by default, per model.
VERIFY_DEFAULT_DIMS = {"deep": [12, 8, 4, 1], "shallow": [2, 4, 1], "logistic": [12, 1]}


def _random_problem(model, dims, m, dtype, seed):
    """Random parameters and data for a gradient check: (parameters, X, Y)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    Y = (rng.random((1, m)) > 0.5).astype(dtype)
    if model == "logistic":
        return {"w": (0.3 * rng.standard_normal((dims[0], 1))).astype(dtype), "b": 0.1}, X, Y
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1]))
                               / np.sqrt(dims[l - 1])).astype(dtype)
        parameters[f"b{l}"] = (0.1 * rng.standard_normal((dims[l], 1))).astype(dtype)
    return parameters, X, Y


def _parse_dims(text, model):
    try:
        dims = [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--dims must be comma-separated integers, e.g. 12,8,4,1; got {text!r}")
    if any(d < 1 for d in dims) or dims[-1] != 1:
        raise ValueError(f"--dims must be positive and end with the output size 1; got {dims}")
    if model == "shallow" and len(dims) != 3:
        raise ValueError(f"--dims for the shallow model is n_x,n_h,1; got {dims}")
    if model == "logistic" and len(dims) != 2:
        raise ValueError(f"--dims for logistic regression is n_x,1; got {dims}")
    return dims


def run_verify(models, dims=None, m=16, dtype="float64", seed=0, stream=None):
    """Check every model's gradients; returns True when all pass."""
    from cnn_core.verify import check_gradients

    stream = stream or sys.stdout
    all_passed = True
    for model in models:
        model_dims = dims or VERIFY_DEFAULT_DIMS[model]
        parameters, X, Y = _random_problem(model, model_dims, m, np.dtype(dtype), seed)
        report = check_gradients(parameters, X, Y, model=model)
        print(f"{model} {model_dims}, m={m}:", file=stream)
        print(report, file=stream)
        all_passed &= report.passed
    print("all gradients PASS" if all_passed else "some gradients FAIL", file=stream)
    return all_passed


# ---------------------------------------------------------------------------------------
# train, predict, sweep, report
# ---------------------------------------------------------------------------------------

class UsageError(Exception):
    """A mistake of the user's (an option, a path, a file): one line on stderr, status 2."""


def _load_data(name, data_dir, option="--data"):
    from cnn_core import experiments

    try:
        return experiments.load_data(name, data_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(f"{option} {name}: {exc}") from None


def _int_list(text, option, example):
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(f"{option} takes comma-separated integers such as {example}; "
                         f"got {text!r}") from None
    if any(v < 1 for v in values):
        raise UsageError(f"{option} takes positive integers; got {text!r}")
    return values


def _prepare_out(out_dir):
    """Create the output folder up front, so that a bad ``--out`` fails before training."""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out_dir}: cannot create the folder ({exc.strerror})") from None
    if not os.access(out_dir, os.W_OK):
        raise UsageError(f"--out {out_dir}: the folder is not writable")
    return out_dir


def _positive(value, option):
    if value is not None and not (np.isfinite(value) and value > 0):
        raise UsageError(f"{option} must be positive; got {value}")
    return value


class _Progress:
    """Training feedback: a tqdm bar with the cost on a terminal, cost lines elsewhere,
    nothing when quiet."""

    def __init__(self, total, every, stream, quiet):
        self.total, self.every, self.stream, self.quiet = total, every, stream, quiet
        self.bar = None
        if not quiet and stream.isatty():
            tqdm = require("tqdm", "cli", "the progress bar of cnn-core train").tqdm
            self.bar = tqdm(total=total, unit="it", file=stream, dynamic_ncols=True,
                            desc="training")

    def __call__(self, i, cost):
        if self.bar is not None:
            self.bar.n = min(i + self.every, self.total)  # the chunk from i is done
            self.bar.set_postfix(cost=f"{cost:.6f}")
        elif not self.quiet:
            print("Cost after iteration %i: %f" % (i, cost), file=self.stream)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _write_json(path, content):
    import json

    with open(path, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2)
        handle.write("\n")
    return path


def _train_figures(run, out_dir):
    """costs.png, and decision_boundary.png (points) or mislabeled.png (images)."""
    from cnn_core import experiments, plotting

    ax = plotting.plot_costs(run.costs, run.settings["learning_rate"], every=run.cost_every)
    paths = [_save(ax, os.path.join(out_dir, "costs.png"))]
    activations = run.metadata["activations"]
    data = run.data
    if data.image_shape is None:
        def labels(points):
            probabilities = experiments.predict_proba(run.parameters, activations, points.T)
            return (probabilities > 0.5).astype(int)

        ax = plotting.plot_decision_boundary(labels, data.X, data.Y)
        ax.set_title(f"{run.model} on {data.name}")
        paths.append(_save(ax, os.path.join(out_dir, "decision_boundary.png")))
    else:
        X, Y = (data.X_test, data.Y_test) if data.X_test is not None else (data.X, data.Y)
        p = experiments.predict_proba(run.parameters, activations, X) > 0.5
        fig = plotting.plot_mislabeled_images(data.classes, X, Y.astype(int), p.astype(int),
                                              image_shape=data.image_shape)
        path = os.path.join(out_dir, "mislabeled.png")
        fig.savefig(path, dpi=100, bbox_inches="tight")
        _pyplot().close(fig)
        paths.append(path)
    return paths


def run_train(data_name="planar", model=None, *, data_dir=None, layers=None, hidden=None,
              iterations=None, learning_rate=None, seed=None, backend=None,
              out_dir="cnn_core_out", quiet=False, stream=None):
    """``cnn-core train``: train, print the accuracies, write the model and figures.

    Returns the :class:`cnn_core.experiments.TrainRun`. Raises :class:`UsageError` for a
    bad option or missing data.
    """
    from cnn_core import experiments, io

    stream = stream or sys.stdout
    model = model or ("deep" if data_name == "cat" else "shallow")
    if layers is not None and model != "deep":
        raise UsageError(f"--layers applies to --model deep, not {model}")
    if hidden is not None and model != "shallow":
        raise UsageError(f"--hidden applies to --model shallow, not {model}")
    if iterations is not None and iterations < 1:
        raise UsageError(f"--iterations must be a positive integer; got {iterations}")
    _positive(learning_rate, "--learning-rate")
    if seed is not None and seed < 0:
        raise UsageError(f"--seed must be a non-negative integer; got {seed}")
    # The extra datasets are drawn from the global generator: seed it first, so that
    # --seed makes the data repeatable too (the planar flower seeds itself).
    np.random.seed(1 if seed is None else seed)
    data = _load_data(data_name, data_dir)
    if layers is not None:
        try:
            layers = experiments.check_layers(layers, data.n_x)
        except ValueError as exc:
            raise UsageError(f"--layers: {exc}") from None
    _prepare_out(out_dir)
    total = iterations or experiments.default_settings(data_name, model)["iterations"]
    progress = _Progress(total, experiments.cost_every(data_name, model), stream, quiet)
    try:
        run = experiments.train(data, model, layers=layers, hidden=hidden,
                                iterations=iterations, learning_rate=learning_rate, seed=seed,
                                backend=backend, callback=progress)
    finally:
        progress.close()
    print(f"train accuracy: {round(run.train_accuracy, 6)}", file=stream)
    if run.test_accuracy is not None:
        print(f"test accuracy: {round(run.test_accuracy, 6)}", file=stream)
    paths = [io.save_model(os.path.join(out_dir, "model.safetensors"), run.parameters,
                           **run.metadata)]
    paths += _train_figures(run, out_dir)
    paths.append(_write_json(os.path.join(out_dir, "metrics.json"), run.metrics()))
    if not quiet:
        for path in paths:
            print(f"wrote {path}", file=stream)
    return run


def run_predict(model_path, inputs, *, stream=None, errors=None):
    """``cnn-core predict``: one line ``path<TAB>probability<TAB>class`` per input column.

    An input that cannot be read or does not fit the model gets a line on ``errors``
    naming it and the reason; the others are still predicted. Returns the exit status:
    0, or 1 if any input failed. An unusable model file raises :class:`UsageError`.
    """
    from cnn_core import experiments, io

    stream = stream or sys.stdout
    errors = errors or sys.stderr
    try:
        parameters, metadata = io.load_model(model_path)
    except (OSError, ValueError) as exc:  # missing, a folder, unreadable, not a model
        raise UsageError(f"MODEL {model_path}: {exc}") from None
    class_names = metadata["class_names"]
    status = 0
    for path in inputs:
        try:
            X = experiments.read_input(path, metadata)
            probabilities = experiments.predict_proba(parameters, metadata["activations"], X)
        except ValueError as exc:
            print(f"cnn-core predict: {path}: {exc}", file=errors)
            status = 1
            continue
        for j, probability in enumerate(probabilities[0]):
            name = path if probabilities.shape[1] == 1 else f"{path}[{j}]"
            label = class_names[int(probability > 0.5)]
            print(f"{name}\t{float(probability)!r}\t{label}", file=stream)
    return status


def run_sweep(data_name="planar", hidden_sizes=None, iterations=5000, *, jobs=None,
              scheduler=None, backend=None, out_dir="cnn_core_out", stream=None):
    """``cnn-core sweep``: the hidden-layer-size study; prints the notes' lines and writes
    ``hidden_sizes.png`` and ``sweep.json``. Returns the SweepResult."""
    from cnn_core import experiments
    from cnn_core.report import plot_hidden_layer_sweep

    stream = stream or sys.stdout
    if iterations < 1:
        raise UsageError(f"--iterations must be a positive integer; got {iterations}")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be a positive integer; got {jobs}")
    _prepare_out(out_dir)
    data = _load_data(data_name, None)
    sizes = list(hidden_sizes or experiments.DEFAULT_HIDDEN_SIZES)
    try:
        result = experiments.hidden_layer_sweep(data, sizes, iterations, jobs=jobs,
                                                scheduler=scheduler, backend=backend)
    except (OSError, TimeoutError, ImportError, ValueError) as exc:
        if scheduler is None:
            raise
        raise UsageError(f"--scheduler {scheduler}: cannot use the Dask scheduler ({exc})") from None
    for line in result.lines():
        print(line, file=stream)
    fig = plot_hidden_layer_sweep(result)
    figure = os.path.join(out_dir, "hidden_sizes.png")
    fig.savefig(figure, dpi=80, bbox_inches="tight")
    _pyplot().close(fig)
    summary = _write_json(os.path.join(out_dir, "sweep.json"), result.as_dict())
    print(f"wrote {figure}\nwrote {summary}", file=stream)
    return result


# ---------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported as one line (no usage block) and status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _command(commands, name, help_text, example):
    return commands.add_parser(name, help=help_text, description=help_text,
                               epilog=f"example:\n  {example}",
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _add_backend(parser):
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="kernels to run on (default: cython when compiled)")


def _build_parser():
    from cnn_core.experiments import DATA_CHOICES, DATASETS_2D, MODELS

    parser = _Parser(
        prog="cnn-core",
        description="The deep learning course's fully connected networks.",
    )
    parser.add_argument("--version", action="version", version=f"cnn_core {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = _command(commands, "demo",
                    "run the planar experiment: logistic regression vs a 4-unit tanh network",
                    "cnn-core demo --out figures")
    demo.add_argument("--out", default="cnn_core_out",
                      help="folder for the PNG figures (default: ./cnn_core_out)")
    demo.add_argument("--iterations", type=int, default=10000,
                      help="gradient descent iterations of the network (default: 10000)")
    _add_backend(demo)

    train = _command(commands, "train", "train one of the notes' models on one dataset",
                     "cnn-core train --data cat --data-dir path/to/catvnoncat")
    train.add_argument("--data", choices=DATA_CHOICES, default="planar",
                       help="the dataset (default: planar)")
    train.add_argument("--data-dir", default=None,
                       help="folder of train_catvnoncat.h5 and test_catvnoncat.h5 "
                            "(default: $CNN_CORE_DATA_DIR)")
    train.add_argument("--model", choices=MODELS, default=None,
                       help="default: deep for cat, shallow for the 2-D data")
    train.add_argument("--layers", default=None,
                       help="deep model's layer sizes, e.g. 12288,20,7,5,1 (the default for cat)")
    train.add_argument("--hidden", type=int, default=None,
                       help="shallow model's hidden units (default: 4; 7 for cat)")
    train.add_argument("--iterations", type=int, default=None,
                       help="gradient descent iterations (default: the notes' run)")
    train.add_argument("--learning-rate", type=float, default=None,
                       help="gradient descent step (default: the notes' run)")
    train.add_argument("--seed", type=int, default=None,
                       help="seed np.random before the data is made and the parameters "
                            "drawn (default: 1 for the extra datasets' points, then the "
                            "notes' own seeding)")
    _add_backend(train)
    train.add_argument("--out", default="cnn_core_out",
                       help="folder for model.safetensors, figures and metrics.json")
    train.add_argument("--quiet", action="store_true",
                       help="print only the accuracies (no progress, no cost lines)")

    predict = _command(commands, "predict",
                       "predict with a saved model on image files or .npy feature columns",
                       "cnn-core predict cnn_core_out/model.safetensors cat.jpg dog.png")
    predict.add_argument("model", metavar="MODEL", help="a model.safetensors from cnn-core train")
    predict.add_argument("inputs", metavar="INPUT", nargs="+",
                         help="image files (any format Pillow opens) or .npy arrays (n_x, m)")

    sweep = _command(commands, "sweep",
                     "the notes' hidden-layer-size study, trained in parallel",
                     "cnn-core sweep --hidden-sizes 1,2,3,4,5,10,20 --jobs 2")
    sweep.add_argument("--data", choices=DATASETS_2D, default="planar",
                       help="a 2-D dataset (default: planar)")
    sweep.add_argument("--hidden-sizes", default="1,2,3,4,5,10,20",
                       help="comma-separated hidden layer sizes (default: 1,2,3,4,5,10,20)")
    sweep.add_argument("--iterations", type=int, default=5000,
                       help="iterations per network (default: 5000)")
    sweep.add_argument("--jobs", type=int, default=None,
                       help="parallel workers (default: all cores)")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on a Dask cluster at ADDRESS (needs cnn_core[dask])")
    _add_backend(sweep)
    sweep.add_argument("--out", default="cnn_core_out",
                       help="folder for hidden_sizes.png and sweep.json")

    report = _command(commands, "report",
                      "run every experiment of the notes and write report.html",
                      "cnn-core report --data-dir path/to/catvnoncat --out report")
    report.add_argument("--data-dir", default=None,
                        help="folder of the cat files (default: $CNN_CORE_DATA_DIR; "
                             "without it the cat experiments are left out, saying so)")
    report.add_argument("--jobs", type=int, default=None,
                        help="parallel workers of the hidden-layer study (default: all cores)")
    _add_backend(report)
    report.add_argument("--out", default="cnn_core_out", help="folder for report.html")

    verify = _command(commands, "verify",
                      "compare every hand-derived gradient with JAX autodiff and finite "
                      "differences", "cnn-core verify --model deep --dims 30,20,10,1")
    verify.add_argument("--model", choices=("all", "deep", "shallow", "logistic"),
                        default="all", help="which model to check (default: all)")
    verify.add_argument("--dims", default=None,
                        help="layer sizes n_x,...,1 for one model (default per model: "
                             + "; ".join(f"{k} {','.join(map(str, v))}"
                                         for k, v in VERIFY_DEFAULT_DIMS.items()) + ")")
    verify.add_argument("--m", type=int, default=16, help="number of examples (default 16)")
    verify.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    _add_backend(verify)
    verify.add_argument("--seed", type=int, default=0, help="seed of the random problem")

    check = _command(commands, "check",
                     "grade your own implementation of the notes' functions (a .py file or "
                     "a notebook) against cnn_core and autodiff, and name the mistake",
                     "cnn-core check my_deep_network.ipynb --chapter deep")
    check.add_argument("path", metavar="PATH", help="your .py file or Jupyter notebook")
    check.add_argument("--chapter", choices=("basics", "logistic", "shallow", "deep"),
                       default=None, help="which chapter's functions the file implements "
                                          "(default: inferred from the names and parameters)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                       help="time limit per function (default: 10)")
    return parser


def run_check(path, chapter=None, as_json=False, timeout=10.0, stream=None):
    """``cnn-core check``: print the report; return 0 (all pass), 1 (a failure) or 2."""
    import json

    from cnn_core.check import CheckError, check_file

    stream = stream or sys.stdout
    try:
        report = check_file(path, chapter, timeout=timeout)
    except CheckError as exc:
        if as_json:
            print(json.dumps({"path": str(path), "error": str(exc), "exit_code": 2}, indent=2),
                  file=stream)
        raise UsageError(str(exc)) from None
    except ValueError as exc:  # the timeout (the chapter is one of argparse's choices)
        raise UsageError(f"--{exc}") from None
    print(report.to_json() if as_json else report.format_table(), file=stream)
    return report.exit_code


def _data_needs(data_name):
    """The optional modules that loading ``--data`` needs."""
    if data_name == "cat":
        return ["h5py"]
    return [] if data_name == "planar" else ["sklearn"]  # the extra 2-D sets


def _needs(args):
    """The optional modules the parsed command needs, all in the ``cli`` extra.

    ``verify`` and ``check`` need none of these; they name their own extras (JAX,
    nbformat) when they are missing.
    """
    if args.command == "demo":
        return ["matplotlib", "sklearn"]
    if args.command == "train":
        return ["matplotlib"] + _data_needs(args.data)  # tqdm only on a terminal
    if args.command == "predict":
        images = [p for p in args.inputs if not p.lower().endswith(NUMPY_SUFFIXES)]
        return ["PIL"] if images else []
    if args.command == "sweep":
        return ["matplotlib", "joblib"] + _data_needs(args.data)
    if args.command == "report":
        has_cat = args.data_dir or os.environ.get("CNN_CORE_DATA_DIR")
        return ["matplotlib", "sklearn", "joblib"] + (["h5py"] if has_cat else [])
    return []


def _check_needs(args):
    """Import what the command needs before it starts (a missing package is named with
    its extra now, not after minutes of training); the figures are drawn with Agg."""
    needs = _needs(args)
    for module in needs:
        require(module, "cli", "this command")
    if "matplotlib" in needs:
        # The commands write files: Agg here only, never on import.
        require("matplotlib", "cli", "this command").use("Agg")


def _dispatch(args):
    """Run the parsed command; returns its exit status or raises UsageError."""
    if args.command == "demo":
        if args.iterations < 1:
            raise UsageError(f"--iterations must be a positive integer; got {args.iterations}")
        run_demo(_prepare_out(args.out), num_iterations=args.iterations)
        return 0
    if args.command == "train":
        layers = None if args.layers is None else _int_list(args.layers, "--layers",
                                                             "12288,20,7,5,1")
        if args.hidden is not None and args.hidden < 1:
            raise UsageError(f"--hidden must be a positive integer; got {args.hidden}")
        run_train(args.data, args.model, data_dir=args.data_dir, layers=layers,
                  hidden=args.hidden, iterations=args.iterations,
                  learning_rate=args.learning_rate, seed=args.seed, out_dir=args.out,
                  quiet=args.quiet)
        return 0
    if args.command == "predict":
        return run_predict(args.model, args.inputs)
    if args.command == "sweep":
        sizes = _int_list(args.hidden_sizes, "--hidden-sizes", "1,2,3,4,5,10,20")
        run_sweep(args.data, sizes, args.iterations, jobs=args.jobs, scheduler=args.scheduler,
                  out_dir=args.out)
        return 0
    if args.command == "report":
        if args.jobs is not None and args.jobs < 1:
            raise UsageError(f"--jobs must be a positive integer; got {args.jobs}")
        from cnn_core.report import run_report

        path = run_report(_prepare_out(args.out), args.data_dir, jobs=args.jobs)
        print(f"wrote {path}")
        return 0
    if args.command == "check":
        return run_check(args.path, args.chapter, args.json, args.timeout)
    # verify
    models = ["deep", "shallow", "logistic"] if args.model == "all" else [args.model]
    if args.m < 1:
        raise UsageError(f"--m must be a positive integer; got {args.m}")
    if args.dims is not None and args.model == "all":
        raise UsageError("--dims needs --model deep, shallow or logistic")
    try:
        dims = None if args.dims is None else _parse_dims(args.dims, args.model)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        passed = run_verify(models, dims, args.m, args.dtype, args.seed)
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    return 0 if passed else 1


def main(argv=None):
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if getattr(args, "backend", None) is not None:
        set_backend(args.backend)
    try:
        _check_needs(args)
        return _dispatch(args)
    except (UsageError, MissingExtraError) as exc:
        print(f"cnn-core {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
