"""Figures: they draw what they should, return it, and never show it."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_core import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("plotting must not call plt.show()")

    monkeypatch.setattr(plt, "show", refuse)
    yield
    plt.close("all")


def _two_classes():
    X = np.array([[-1.0, -0.5, 0.5, 1.0], [0.0, 1.0, -1.0, 0.0]])
    Y = np.array([[0, 0, 1, 1]])
    return X, Y


def test_plot_data_scatters_every_point():
    X, Y = _two_classes()
    ax = plotting.plot_data(X, Y)
    assert isinstance(ax, matplotlib.axes.Axes)
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_array_equal(np.asarray(offsets), X.T)


def test_plot_decision_boundary_calls_predict_with_rows_of_points():
    X, Y = _two_classes()
    seen = {}

    def predict(points):
        seen["shape"] = points.shape
        return (points[:, 0] > 0).astype(int)

    fig, ax = plt.subplots()
    returned = plotting.plot_decision_boundary(predict, X, Y, ax=ax)
    assert returned is ax
    assert seen["shape"][1] == 2 and seen["shape"][0] > 1000
    assert len(ax.collections) >= 2  # the filled contour and the scatter


def test_plot_decision_boundary_coarsens_a_huge_grid():
    X = np.array([[-1000.0, 1000.0], [-1000.0, 1000.0]])
    seen = {}

    def predict(points):
        seen["n"] = len(points)
        return np.zeros(len(points))

    plotting.plot_decision_boundary(predict, X, np.array([[0, 1]]))
    assert seen["n"] <= plotting.MAX_GRID_POINTS * 1.01


def test_plot_decision_boundary_rejects_a_wrong_prediction_size():
    X, Y = _two_classes()
    with pytest.raises(ValueError, match="predict_fn must return one label per grid point"):
        plotting.plot_decision_boundary(lambda p: np.zeros(3), X, Y)
    with pytest.raises(ValueError, match=r"X must have shape \(2, m\)"):
        plotting.plot_decision_boundary(lambda p: p[:, 0], np.zeros((3, 4)), Y)


def test_plot_costs():
    ax = plotting.plot_costs([0.7, 0.5, 0.3], learning_rate=0.0075)
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [0, 100, 200])
    np.testing.assert_array_equal(line.get_ydata(), [0.7, 0.5, 0.3])
    assert "0.0075" in ax.get_title()


def test_plot_mislabeled_images_shows_exactly_the_mistakes():
    rng = np.random.default_rng(0)
    X = rng.random((12, 5))
    y = np.array([[0, 1, 1, 0, 1]])
    p = np.array([[0, 0, 1, 1, 1]])
    fig = plotting.plot_mislabeled_images([b"non-cat", b"cat"], X, y, p, image_shape=(2, 2, 3))
    assert isinstance(fig, matplotlib.figure.Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Prediction: non-cat\nClass: cat", "Prediction: cat\nClass: non-cat"]


def test_plot_mislabeled_images_with_no_mistakes_says_so():
    X = np.zeros((12, 2))
    fig = plotting.plot_mislabeled_images(["a", "b"], X, [[0, 1]], [[0, 1]], image_shape=(2, 2, 3))
    assert fig.axes == [] and fig.texts[0].get_text() == "No mislabeled images"


def test_plot_mislabeled_images_checks_its_arguments():
    with pytest.raises(ValueError, match="must reshape to image_shape"):
        plotting.plot_mislabeled_images(["a", "b"], np.zeros((10, 2)), [[0, 1]], [[0, 1]])
    with pytest.raises(ValueError, match="p must hold class indices"):
        plotting.plot_mislabeled_images(["a", "b"], np.zeros((12, 2)), [[0, 1]], [[0, 2]],
                                        image_shape=(2, 2, 3))
