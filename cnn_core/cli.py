"""The ``cnn-core`` command line.

``cnn-core demo`` runs the notes' planar experiment with nothing to download: logistic
regression (scikit-learn's ``LogisticRegressionCV``, as the notes use it) against the
one-hidden-layer tanh network, prints both accuracies and writes the figures as PNG.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

from cnn_core import __version__
from cnn_core._backend import BACKENDS, get_backend, set_backend

#: The figures ``cnn-core demo`` writes, by file name.
DEMO_FIGURES = (
    "planar_data.png",
    "logistic_regression_boundary.png",
    "nn_boundary_h4.png",
)


def _accuracy_percent(Y, predictions):
    """The notes' accuracy: the share of matching 0/1 labels, in percent."""
    Y = np.asarray(Y, dtype=float).reshape(1, -1)
    predictions = np.asarray(predictions, dtype=float).reshape(1, -1)
    matches = np.dot(Y, predictions.T) + np.dot(1 - Y, 1 - predictions.T)
    return float(matches[0, 0] / Y.size * 100)


def _save(ax, path):
    import matplotlib.pyplot as plt

    fig = ax.figure
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def run_demo(out_dir, num_iterations=10000, n_h=4, stream=None):
    """The planar experiment. Returns ``{"logistic_accuracy", "nn_accuracy", "figures"}``."""
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.linear_model import LogisticRegressionCV

    from cnn_core import datasets, plotting, shallow

    stream = stream or sys.stdout
    os.makedirs(out_dir, exist_ok=True)
    X, Y = datasets.load_planar_dataset()
    print(f"Planar data: X {X.shape}, Y {Y.shape}; backend {get_backend()}", file=stream)

    figures = [_save(plotting.plot_data(X, Y), os.path.join(out_dir, DEMO_FIGURES[0]))]

    clf = LogisticRegressionCV()
    with warnings.catch_warnings():
        # Recent scikit-learn announces changes to LogisticRegressionCV's defaults; the
        # demo keeps the defaults the notes ran with.
        warnings.simplefilter("ignore", FutureWarning)
        clf.fit(X.T, Y.ravel())
    lr_accuracy = _accuracy_percent(Y, clf.predict(X.T))
    print("Accuracy of logistic regression: %d %% (percentage of correctly labelled "
          "datapoints)" % lr_accuracy, file=stream)
    ax = plotting.plot_decision_boundary(clf.predict, X, Y)
    ax.set_title("Logistic Regression")
    figures.append(_save(ax, os.path.join(out_dir, DEMO_FIGURES[1])))

    start = time.perf_counter()
    parameters = shallow.nn_model(X, Y, n_h, num_iterations=num_iterations)
    seconds = time.perf_counter() - start
    nn_accuracy = _accuracy_percent(Y, shallow.predict(parameters, X))
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


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="cnn-core",
        description="The deep learning course's fully connected networks.",
    )
    parser.add_argument("--version", action="version", version=f"cnn_core {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run the planar experiment: logistic regression vs a 4-unit tanh network",
    )
    demo.add_argument("--out", default="cnn_core_out",
                      help="folder for the PNG figures (default: ./cnn_core_out)")
    demo.add_argument("--iterations", type=int, default=10000,
                      help="gradient descent iterations of the network (default: 10000)")
    demo.add_argument("--backend", choices=BACKENDS, default=None,
                      help="kernels to run on (default: cython when compiled)")
    verify = commands.add_parser(
        "verify",
        help="compare every hand-derived gradient with JAX autodiff and finite differences",
    )
    verify.add_argument("--model", choices=("all", "deep", "shallow", "logistic"),
                        default="all", help="which model to check (default: all)")
    verify.add_argument("--dims", default=None,
                        help="layer sizes n_x,...,1 for one model (default per model: "
                             + "; ".join(f"{k} {','.join(map(str, v))}"
                                         for k, v in VERIFY_DEFAULT_DIMS.items()) + ")")
    verify.add_argument("--m", type=int, default=16, help="number of examples (default 16)")
    verify.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    verify.add_argument("--backend", choices=BACKENDS, default=None,
                        help="kernels to check (default: cython when compiled)")
    verify.add_argument("--seed", type=int, default=0, help="seed of the random problem")
    return parser


def main(argv=None):
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        if args.iterations < 1:
            parser.error(f"--iterations must be a positive integer; got {args.iterations}")
        if args.backend is not None:
            set_backend(args.backend)
        run_demo(args.out, num_iterations=args.iterations)
        return 0
    if args.command == "verify":
        models = ["deep", "shallow", "logistic"] if args.model == "all" else [args.model]
        if args.m < 1:
            parser.error(f"--m must be a positive integer; got {args.m}")
        if args.dims is not None and args.model == "all":
            parser.error("--dims needs --model deep, shallow or logistic")
        try:
            dims = None if args.dims is None else _parse_dims(args.dims, args.model)
        except ValueError as exc:
            parser.error(str(exc))
        if args.backend is not None:
            set_backend(args.backend)
        try:
            passed = run_verify(models, dims, args.m, args.dtype, args.seed)
        except ImportError as exc:
            print(f"cnn-core verify: {exc}", file=sys.stderr)
            return 2
        return 0 if passed else 1
    parser.error(f"unknown command {args.command!r}")  # argparse rejects it first
    return 2


if __name__ == "__main__":
    sys.exit(main())
