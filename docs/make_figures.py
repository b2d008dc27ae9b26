"""Make the documentation's figures with cnn_core's own code.

    python docs/make_figures.py [OUT_DIR]     (default: docs/_figures)

The Sphinx build runs this first (docs/conf.py). The cat figures need the course's
files in the folder named by CNN_CORE_DATA_DIR; without it they are replaced by a
figure that says so.
"""
import os
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cnn_core import datasets, deep, plotting, preprocessing, shallow  # noqa: E402

HIDDEN_LAYER_SIZES = [1, 2, 3, 4, 5, 10, 20]


def _save(fig, out_dir, name):
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")


def _placeholder(out_dir, name, what):
    fig = plt.figure(figsize=(6, 1.5))
    fig.text(0.5, 0.5, f"{what}: the course's cat files were not available when these docs "
             "were built\n(set CNN_CORE_DATA_DIR to the folder holding train_catvnoncat.h5 "
             "and test_catvnoncat.h5).", ha="center", va="center", fontsize=9)
    _save(fig, out_dir, name)


def planar_figures(out_dir):
    from sklearn.linear_model import LogisticRegressionCV

    X, Y = datasets.load_planar_dataset()
    ax = plotting.plot_data(X, Y)
    ax.set_title("The planar data")
    _save(ax.figure, out_dir, "planar_data.png")

    clf = LogisticRegressionCV()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        clf.fit(X.T, Y.ravel())
    ax = plotting.plot_decision_boundary(clf.predict, X, Y)
    ax.set_title("Logistic regression")
    _save(ax.figure, out_dir, "boundary_logistic.png")

    parameters = shallow.nn_model(X, Y, 4, num_iterations=10000)
    ax = plotting.plot_decision_boundary(lambda x: shallow.predict(parameters, x.T), X, Y)
    ax.set_title("Hidden layer of size 4")
    _save(ax.figure, out_dir, "boundary_nn_h4.png")

    fig, axes = plt.subplots(4, 2, figsize=(10, 18))
    for ax, n_h in zip(axes.ravel(), HIDDEN_LAYER_SIZES):
        parameters = shallow.nn_model(X, Y, n_h, num_iterations=5000)
        plotting.plot_decision_boundary(lambda x: shallow.predict(parameters, x.T), X, Y, ax=ax)
        accuracy = float(np.mean(shallow.predict(parameters, X) == Y)) * 100
        ax.set_title(f"Hidden layer of size {n_h}: {accuracy:.1f}%")
    axes.ravel()[-1].axis("off")
    _save(fig, out_dir, "hidden_layer_sizes.png")


def cat_figures(out_dir):
    folder = os.environ.get("CNN_CORE_DATA_DIR")
    if not folder:
        _placeholder(out_dir, "cat_costs.png", "Cost curves of the cat models")
        _placeholder(out_dir, "mislabeled.png", "Mislabeled cat images")
        return
    train_x_orig, train_y, test_x_orig, test_y, classes = datasets.load_catvnoncat(folder)
    X = preprocessing.standardize_images(preprocessing.flatten_images(train_x_orig))
    X_test = preprocessing.standardize_images(preprocessing.flatten_images(test_x_orig))
    _, two_costs = deep.two_layer_model(X, train_y, (12288, 7, 1), num_iterations=2500,
                                        return_costs=True)
    parameters, deep_costs = deep.L_layer_model(X, train_y, [12288, 20, 7, 5, 1],
                                                num_iterations=2500, return_costs=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    plotting.plot_costs(two_costs, 0.0075, ax=ax)
    plotting.plot_costs(deep_costs, 0.0075, ax=ax)
    ax.legend(["two_layer_model [12288, 7, 1]", "L_layer_model [12288, 20, 7, 5, 1]"])
    _save(fig, out_dir, "cat_costs.png")

    predictions = deep.predict(X_test, test_y, parameters)
    fig = plotting.plot_mislabeled_images(classes, X_test, test_y, predictions, max_images=10)
    _save(fig, out_dir, "mislabeled.png")


def main(out_dir=None):
    out_dir = out_dir or os.path.join(os.path.dirname(os.path.abspath(__file__)), "_figures")
    os.makedirs(out_dir, exist_ok=True)
    planar_figures(out_dir)
    cat_figures(out_dir)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
