"""The course's published numbers on the cat vs non-cat data (needs CNN_CORE_DATA_DIR).

Each model runs the course's full schedule on the default (compiled) backend; the
backends' agreement on this data is checked over a shorter run.
"""
import numpy as np
import pytest

from cnn_core import deep, logistic

from conftest import needs_kernels
from helpers import assert_close


def _accuracy(predictions, Y):
    return float(np.mean(predictions == Y))


def test_L_layer_model_matches_the_course(cat_data, capsys):
    X, Y, X_test, Y_test = cat_data
    parameters, costs = deep.L_layer_model(X, Y, [12288, 20, 7, 5, 1], num_iterations=2500,
                                           return_costs=True)
    assert round(costs[0], 6) == 0.771749
    assert costs[-1] < 0.1  # the course: 0.092878 at iteration 2400
    assert _accuracy(deep.predict(X_test, Y_test, parameters), Y_test) == 0.80
    assert _accuracy(deep.predict(X, Y, parameters), Y) > 0.98
    assert "Accuracy: 0.8" in capsys.readouterr().out


def test_two_layer_model_matches_the_course(cat_data):
    X, Y, X_test, Y_test = cat_data
    parameters, costs = deep.two_layer_model(X, Y, (12288, 7, 1), num_iterations=2500,
                                             return_costs=True)
    assert round(costs[0], 6) == 0.693050
    assert _accuracy(deep.predict(X_test, Y_test, parameters), Y_test) == 0.72
    assert _accuracy(deep.predict(X, Y, parameters), Y) == 1.0


def test_logistic_model_matches_the_course(cat_data):
    X, Y, X_test, Y_test = cat_data
    d = logistic.model(X, Y, X_test, Y_test, num_iterations=2000, learning_rate=0.005)
    train = 100 - np.mean(np.abs(d["Y_prediction_train"] - Y)) * 100
    test = 100 - np.mean(np.abs(d["Y_prediction_test"] - Y_test)) * 100
    assert train == pytest.approx(99.04, abs=0.01)  # the course: 99.04306220095694 %
    assert test == pytest.approx(70.0, abs=0.01)
    assert round(d["costs"][0], 6) == 0.693147 and len(d["costs"]) == 20


@needs_kernels
def test_backends_agree_on_the_cat_data(cat_data):
    X, Y, _, _ = cat_data
    runs = {b: deep.L_layer_model(X, Y, [12288, 20, 7, 5, 1], num_iterations=101, backend=b,
                                  return_costs=True) for b in ("numpy", "cython")}
    (p_np, c_np), (p_cy, c_cy) = runs["numpy"], runs["cython"]
    for key in p_np:
        assert_close(p_cy[key], p_np[key], rtol=1e-12, atol=1e-14, what=key)
    assert_close(c_cy, c_np)
