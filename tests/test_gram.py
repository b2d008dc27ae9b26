"""The Gram path: the same iterates as the standard path, when n_x > m."""
import numpy as np
import pytest

from cnn_core import training, deep, logistic

from conftest import BACKENDS, needs_kernels
from helpers import assert_close, random_network


def _assert_same_run(got, want, rtol=1e-12, atol=1e-14):
    """Two ``_run`` results: equal costs and parameters, relative to ``rtol``."""
    assert_close(got[1], want[1], rtol=rtol, atol=atol * 0.1)
    for key in want[0]:
        assert_close(got[0][key], want[0][key], rtol=rtol, atol=atol, what=key)


def _run(X, Y, parameters, hidden, iterations, every, backend, gram, rate=0.05):
    params = {k: np.array(v, order="C") for k, v in parameters.items()}
    costs = training.gradient_descent(X, Y, params, hidden, rate, iterations, every,
                                  lambda i, c: None, backend, gram)
    return params, costs


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dims, m", [([80, 6, 3, 1], 12), ([50, 1], 9), ([40, 5, 1], 1),
                                     ([30, 4, 4, 4, 4, 1], 25)])
@pytest.mark.parametrize("every", [1, 7, 100])
def test_gram_path_equals_the_standard_path(backend, dims, m, every):
    parameters, X, Y = random_network(dims, m, seed=len(dims) + m)
    for layout in (np.ascontiguousarray, np.asfortranarray):
        _assert_same_run(_run(layout(X), Y, parameters, "relu", 150, every, backend, True),
                         _run(layout(X), Y, parameters, "relu", 150, every, backend, False))


@pytest.mark.parametrize("backend", BACKENDS)
def test_gram_path_with_tanh_and_in_float32(backend):
    parameters, X, Y = random_network([60, 5, 1], 10, seed=3)
    _assert_same_run(_run(X, Y, parameters, "tanh", 200, 50, backend, True),
                     _run(X, Y, parameters, "tanh", 200, 50, backend, False))
    parameters, X, Y = random_network([60, 5, 1], 10, seed=3, dtype=np.float32)
    # float32: the documented tolerance of the float32 paths.
    _assert_same_run(_run(X, Y, parameters, "relu", 200, 50, backend, True),
                     _run(X, Y, parameters, "relu", 200, 50, backend, False),
                     rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_resumed_gram_run_continues_the_same_iterates(backend):
    parameters, X, Y = random_network([70, 4, 1], 15, seed=8)
    whole = _run(X, Y, parameters, "relu", 130, 10, backend, False)
    first = _run(X, Y, parameters, "relu", 60, 10, backend, True)
    second = _run(X, Y, first[0], "relu", 70, 10, backend, True)
    assert_close(first[1] + second[1], whole[1], rtol=1e-12)
    for key in parameters:
        assert_close(second[0][key], whole[0][key], rtol=1e-12, atol=1e-14, what=key)


@needs_kernels
def test_the_backends_agree_on_the_gram_path():
    parameters, X, Y = random_network([90, 7, 3, 1], 20, seed=9)
    numpy_run = _run(X, Y, parameters, "relu", 300, 100, "numpy", True)
    cython_run = _run(X, Y, parameters, "relu", 300, 100, BACKENDS[-1], True)
    for key in parameters:
        assert_close(cython_run[0][key], numpy_run[0][key], rtol=1e-12, atol=1e-14, what=key)


def test_logistic_regression_on_the_gram_path(backend):
    _, X, Y = random_network([40, 1], 8, seed=2)
    results = [logistic.optimize(np.zeros((40, 1)), 0.0, X, Y, 400, 0.1, backend=backend,
                                 gram=gram) for gram in (False, True)]
    (p0, g0, c0), (p1, g1, c1) = results
    assert_close(p1["w"], p0["w"], rtol=1e-12, atol=1e-15)
    assert p1["b"] == pytest.approx(p0["b"], rel=1e-12)
    assert_close(g1["dw"], g0["dw"], rtol=1e-12, atol=1e-15)
    assert_close(c1, c0, rtol=1e-12)


def test_the_automatic_choice():
    # The cat network: 12288 features, 209 examples, 2500 iterations -> Gram.
    assert training.use_gram_path(12288, 209, 20, 2500, 100)
    assert training.use_gram_path(12288, 209, 7, 2500, 100)
    # More examples than features: never.
    assert not training.use_gram_path(784, 4096, 256, 10000, 100)
    # Too short a run to pay for K: a single iteration.
    assert not training.use_gram_path(12288, 209, 20, 1, 100)
    with pytest.raises(ValueError, match="gram must be 'auto', True or False"):
        deep.L_layer_model(np.ones((3, 2)), np.ones((1, 2)), [3, 1], gram="yes")


def test_the_cat_data_for_the_course_schedule_on_both_paths(cat_data):
    X, Y, X_test, Y_test = cat_data
    runs = {gram: deep.L_layer_model(X, Y, [12288, 20, 7, 5, 1], num_iterations=2500,
                                     return_costs=True, gram=gram) for gram in (False, True)}
    (p_std, c_std), (p_gram, c_gram) = runs[False], runs[True]
    assert_close(c_gram, c_std, rtol=1e-12)
    for key in p_std:
        assert_close(p_gram[key], p_std[key], rtol=1e-12, atol=1e-14, what=key)
    assert round(c_gram[0], 6) == 0.771749
    predictions = deep.predict(X_test, None, p_gram)
    assert float(np.mean(predictions == Y_test)) == 0.80


@pytest.mark.parametrize("backend", BACKENDS)
def test_gram_path_equals_gradient_descent_driven_by_jax(backend):
    jax = pytest.importorskip("jax", reason="JAX comes with the test extra")
    from cnn_core import reference

    parameters, X, Y = random_network([48, 6, 3, 1], 10, seed=12)
    gram, _ = _run(X, Y, parameters, "relu", 20, 5, backend, True, rate=0.1)
    expected = {k: np.array(v) for k, v in parameters.items()}
    grad = jax.grad(reference.L_model_cost)
    for _ in range(20):
        g = grad(expected, X, Y)
        expected = {k: expected[k] - 0.1 * np.asarray(g[k]) for k in expected}
    for key in parameters:
        assert_close(gram[key], expected[key], rtol=1e-12, atol=1e-14, what=key)


@needs_kernels
def test_gram_path_peak_memory_is_within_the_reference_paths():
    import tracemalloc

    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.random((12288, 209)))
    Y = (rng.random((1, 209)) > 0.5).astype(float)
    peaks = {}
    for label, backend, gram in (("numpy standard", "numpy", False),
                                 ("numpy Gram", "numpy", True),
                                 ("compiled Gram", "cython", True)):
        tracemalloc.start()
        deep.L_layer_model(X, Y, [12288, 20, 7, 5, 1], num_iterations=3, backend=backend,
                           gram=gram)
        peaks[label] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # The compiled Gram path keeps K (m^2) but no W1-sized temporaries.
    assert peaks["compiled Gram"] <= peaks["numpy standard"], peaks
    assert peaks["compiled Gram"] <= peaks["numpy Gram"], peaks
