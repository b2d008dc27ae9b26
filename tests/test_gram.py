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


# ---------------------------------------------------------------------------------------
# The Gram path of the epoch trainers: mini-batches, momentum, L2 (docs/gram.md)
# ---------------------------------------------------------------------------------------

def _epochs(backend, parameters, X, Y, epochs, gram, sync_each=True, **options):
    """``epochs`` shuffled epochs from a copy of ``parameters``; returns the parameters,
    the recorded costs and the trainer."""
    params = {k: np.array(v, order="C") for k, v in parameters.items()}
    trainer = training.make_epoch_trainer(X, Y, params, gram=gram, backend=backend,
                                          **options)
    rng = np.random.default_rng(5)
    costs = []
    for _ in range(epochs):
        draws = rng.random(trainer.draw_count) if trainer.draw_count else None
        costs.append(trainer.run_epoch(rng.permutation(X.shape[1]), 0.05,
                                       record_cost=True, draws=draws, sync=sync_each))
    trainer.sync()
    return params, costs, trainer


GRAM_CASES = [
    ([80, 6, 3, 1], dict(optimizer="gd")),
    ([80, 6, 3, 1], dict(optimizer="gd", lambd=0.7)),
    ([60, 5, 1], dict(optimizer="momentum", hidden="tanh")),
    ([60, 8, 4, 3], dict(optimizer="momentum", lambd=0.5, keep_prob=0.8, output="softmax")),
    ([50, 1], dict(optimizer="momentum", lambd=0.2)),
    ([70, 5, 4], dict(optimizer="gd", lambd=0.1, output="softmax")),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dims, options", GRAM_CASES)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-4)])
def test_the_epoch_gram_path_equals_the_standard_path(backend, dims, options, dtype, rtol):
    """Eight shuffled epochs of 45 examples in batches of 16 (a remainder of 13)."""
    rng = np.random.default_rng(len(dims))
    parameters, X, _ = random_network(dims, 45, seed=len(dims), dtype=dtype)
    if options.get("output") == "softmax":
        from cnn_core import improving
        Y = improving.one_hot(rng.integers(0, dims[-1], 45), dims[-1], dtype=dtype)
    else:
        Y = (rng.random((1, 45)) > 0.5).astype(dtype)
    options = dict(options, mini_batch_size=16)
    want, want_costs, standard = _epochs(backend, parameters, X, Y, 8, False, **options)
    got, got_costs, gram = _epochs(backend, parameters, X, Y, 8, True, **options)
    assert_close(got_costs, want_costs, rtol=rtol)
    for key in want:
        assert_close(got[key], want[key], rtol=rtol, atol=rtol * 1e-2, what=key)
    for got_v, want_v in zip(gram.v, standard.v):   # momentum's velocity too
        assert_close(got_v, want_v, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_deferred_sync_gives_the_same_parameters(backend):
    parameters, X, Y = random_network([90, 6, 1], 30, seed=4)
    options = dict(optimizer="momentum", lambd=0.3, mini_batch_size=8)
    each, each_costs, _ = _epochs(backend, parameters, X, Y, 5, True, **options)
    once, once_costs, trainer = _epochs(backend, parameters, X, Y, 5, True, sync_each=False,
                                        **options)
    for key in each:
        assert_close(once[key], each[key], rtol=1e-13, atol=1e-15, what=key)
    # Without a sync W1 keeps its initial value: the steps are pending in the trainer.
    params = {k: np.array(v) for k, v in parameters.items()}
    trainer = training.make_epoch_trainer(X, Y, params, gram=True, backend=backend,
                                          **options)
    trainer.run_epoch(np.arange(30), 0.05, sync=False)
    np.testing.assert_array_equal(params["W1"], parameters["W1"])
    assert not np.array_equal(params["W2"], parameters["W2"])
    trainer.sync()
    assert not np.array_equal(params["W1"], parameters["W1"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_epoch_gram_path_refuses_adam(backend):
    parameters, X, Y = random_network([20, 3, 1], 5)
    with pytest.raises(ValueError, match="gram=True needs optimizer 'gd' or 'momentum'"):
        training.make_epoch_trainer(X, Y, parameters, optimizer="adam", gram=True,
                                    backend=backend)
    with pytest.raises(ValueError, match="gram must be True or False"):
        training.make_epoch_trainer(X, Y, parameters, gram="auto", backend=backend)


def test_the_automatic_choice_for_epochs():
    # The cats in batches of 64 with momentum: K = X^T X costs five direct epochs, so
    # the Gram path wins from about six epochs on.
    assert not training.use_gram_epochs(12288, 209, 20, 2, 64, "momentum")
    assert training.use_gram_epochs(12288, 209, 20, 10, 64, "momentum")
    assert training.use_gram_epochs(12288, 209, 20, 1000, 64, "gd")
    assert not training.use_gram_epochs(12288, 209, 20, 1000, 64, "adam")
    # The digits (64 features, 1347 examples), or any n_x <= m: never.
    assert not training.use_gram_epochs(64, 1347, 64, 1000, 64, "momentum")
    assert not training.use_gram_epochs(1000, 1500, 20, 1000, 64, "gd")
    assert not training.use_gram_epochs(12288, 209, 20, 0, 64, "gd")


@needs_kernels
def test_model_picks_the_gram_path_and_gives_the_same_parameters():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((400, 60))
    Y = (X[:3].sum(axis=0, keepdims=True) > 0).astype(float)
    from cnn_core import improving
    runs = [improving.model(X, Y, [400, 6, 1], optimizer="momentum", learning_rate=0.01,
                            mini_batch_size=16, num_epochs=40, print_cost=False,
                            lambd=0.1, return_costs=True, cost_every=10, gram=gram)
            for gram in (False, True, "auto")]
    (want, want_costs), *others = runs
    for got, got_costs in others:
        assert_close(got_costs, want_costs, rtol=1e-12)
        for key in want:
            assert_close(got[key], want[key], rtol=1e-12, atol=1e-14, what=key)
