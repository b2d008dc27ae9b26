"""The compiled whole-training loops: agreement with the NumPy reference, no allocation
inside the loop, memory no larger than the reference's, and clear errors."""
import tracemalloc

import numpy as np
import pytest

from cnn_core import _backend, _ops, deep, logistic, shallow

from conftest import NUMPY_ONLY
from helpers import assert_close, random_network

pytestmark = pytest.mark.skipif(NUMPY_ONLY, reason="pure-NumPy run: no compiled kernels")

#: Documented tolerance of the float32 backends' agreement (relative, on parameters
#: after a few hundred iterations): the kernels evaluate activations in double.
FLOAT32_RTOL = 1e-4


def _run_both(hidden, dims, m, iterations, every, dtype=np.float64, seed=0, rate=0.05):
    parameters, X, Y = random_network(dims, m, seed=seed, dtype=dtype)
    out = {}
    for backend in ("numpy", "cython"):
        params = {k: np.array(v, order="C") for k, v in parameters.items()}
        seen = []
        costs = _ops.gradient_descent(X, Y, params, hidden, rate, iterations, every,
                                      lambda i, c: seen.append(i), backend)
        out[backend] = (params, costs, seen)
    return out


@pytest.mark.parametrize("hidden", ["relu", "tanh"])
@pytest.mark.parametrize("dims", [[7, 1], [7, 5, 1], [9, 6, 4, 3, 1]])
@pytest.mark.parametrize("every", [1, 7, 100])
def test_compiled_loop_matches_the_reference(hidden, dims, every):
    runs = _run_both(hidden, dims, 23, 150, every)
    (p_np, c_np, seen_np), (p_cy, c_cy, seen_cy) = runs["numpy"], runs["cython"]
    assert seen_np == seen_cy == list(range(0, 150, every))
    assert_close(c_cy, c_np, rtol=1e-12)
    for key in p_np:
        assert_close(p_cy[key], p_np[key], rtol=1e-12, atol=1e-15, what=key)


def test_compiled_loop_in_float32():
    runs = _run_both("relu", [12, 8, 1], 40, 200, 50, dtype=np.float32)
    (p_np, c_np, _), (p_cy, c_cy, _) = runs["numpy"], runs["cython"]
    for key in p_np:
        assert p_cy[key].dtype == np.float32
        assert_close(p_cy[key], p_np[key], rtol=FLOAT32_RTOL, atol=1e-6, what=key)
    assert_close(c_cy, c_np, rtol=FLOAT32_RTOL)


def test_fortran_ordered_X_gives_the_same_run():
    parameters, X, Y = random_network([6, 4, 1], 15)
    results = []
    for data in (np.ascontiguousarray(X), np.asfortranarray(X)):
        params = {k: v.copy() for k, v in parameters.items()}
        _ops.gradient_descent(data, Y, params, "relu", 0.1, 50, 10, lambda i, c: None, "cython")
        results.append(params)
    for key in parameters:
        assert_close(results[0][key], results[1][key], rtol=1e-13)


def test_the_cost_is_recorded_from_the_logits_and_stays_finite():
    # Large weights saturate the output: the probability form would clip at ~36.7 per
    # example; the logit form gives the exact (large) value on both backends.
    parameters = {"W1": np.array([[60.0, -60.0]]), "b1": np.array([[0.0]])}
    X = np.array([[1.0, -1.0], [-1.0, 1.0]])
    Y = np.array([[0.0, 1.0]])
    costs = {}
    for backend in ("numpy", "cython"):
        params = {k: v.copy() for k, v in parameters.items()}
        costs[backend] = _ops.gradient_descent(X, Y, params, "relu", 1e-6, 1, 1,
                                               lambda i, c: None, backend)[0]
    assert costs["cython"] == pytest.approx(120.0, rel=1e-12)
    assert costs["numpy"] == pytest.approx(120.0, rel=1e-12)


def test_models_agree_across_backends_with_cost_every_k():
    _, X, Y = random_network([10, 1], 30, seed=3)
    for model, kwargs in ((deep.two_layer_model, {"layers_dims": (10, 6, 1)}),
                          (deep.L_layer_model, {"layers_dims": [10, 6, 3, 1]})):
        runs = {b: model(X, Y, num_iterations=250, learning_rate=0.1, backend=b,
                         return_costs=True, **kwargs) for b in ("numpy", "cython")}
        (p_np, c_np), (p_cy, c_cy) = runs["numpy"], runs["cython"]
        assert len(c_cy) == 3
        assert_close(c_cy, c_np)
        for key in p_np:
            assert_close(p_cy[key], p_np[key], rtol=1e-12, atol=1e-15, what=key)


def _trainer(dims, m, dtype=np.float64):
    K = _backend.kernels()
    parameters, X, Y = random_network(dims, m, dtype=dtype)
    L = len(dims) - 1
    return K.Trainer(X, Y, [parameters[f"W{l}"] for l in range(1, L + 1)],
                     [parameters[f"b{l}"] for l in range(1, L + 1)], K.ACTIVATION_CODES["relu"])


def _traced_allocation(fn):
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        fn()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename")
               if stat.size_diff > 0)


def test_training_iterations_allocate_nothing_on_the_python_heap():
    trainer = _trainer([30, 20, 10, 1], 64)
    trainer.run(3, 0.01, True)  # warm-up
    few = _traced_allocation(lambda: trainer.run(10, 0.01, True))
    many = _traced_allocation(lambda: trainer.run(1000, 0.01, True))
    # Whatever one call allocates (its float result), a thousand iterations add nothing.
    assert many <= few
    assert many < 1024


def test_peak_memory_of_a_cat_sized_run_is_within_the_reference():
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.random((12288, 209)))
    Y = (rng.random((1, 209)) > 0.5).astype(float)
    peaks = {}
    for backend in ("numpy", "cython"):
        tracemalloc.start()
        deep.L_layer_model(X, Y, [12288, 20, 7, 5, 1], num_iterations=3, backend=backend)
        peaks[backend] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks["cython"] <= peaks["numpy"], peaks


def test_trainer_rejects_bad_buffers():
    K = _backend.kernels()
    parameters, X, Y = random_network([4, 3, 1], 5)
    Ws, bs = [parameters["W1"], parameters["W2"]], [parameters["b1"], parameters["b2"]]
    relu = K.ACTIVATION_CODES["relu"]
    with pytest.raises(ValueError, match="same number"):
        K.Trainer(X, Y, Ws, bs[:1], relu)
    with pytest.raises(ValueError, match=r"weights\[0\] must be a writeable C-contiguous"):
        K.Trainer(X, Y, [np.asfortranarray(Ws[0]), Ws[1]], bs, relu)
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape"):
        K.Trainer(X, Y, [Ws[0], np.ones((1, 2))], bs, relu)
    frozen = Ws[0].copy()
    frozen.setflags(write=False)
    with pytest.raises(ValueError, match=r"weights\[0\] must be a writeable"):
        K.Trainer(X, Y, [frozen, Ws[1]], bs, relu)
    with pytest.raises(ValueError, match=r"weights\[0\] must be a writeable C-contiguous 2-D float64"):
        K.Trainer(X, Y, [Ws[0].astype(np.float32), Ws[1]], bs, relu)
    with pytest.raises(ValueError, match=r"Y must have shape \(n_L, m\)"):
        K.Trainer(X, np.ones((1, 4)), Ws, bs, relu)
    with pytest.raises(ValueError, match="X must be a C- or Fortran-contiguous"):
        K.Trainer(np.ones((4, 10))[:, ::2], Y, Ws, bs, relu)
    trainer = K.Trainer(X, Y, Ws, bs, relu)
    with pytest.raises(ValueError, match="num_steps must be >= 0"):
        trainer.run(-1, 0.1)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        trainer.run(1, float("nan"))


def test_logistic_and_shallow_models_train_in_float32(backend):
    _, X, Y = random_network([5, 1], 60, seed=8, dtype=np.float32)
    params, grads, costs = logistic.optimize(np.zeros((5, 1), np.float32), 0.0, X, Y, 300, 0.1,
                                             backend=backend)
    assert params["w"].dtype == np.float32 and costs[-1] < costs[0]
    np.random.seed(0)
    parameters = shallow.nn_model(X, Y, 3, num_iterations=300, backend=backend)
    assert all(v.dtype == np.float32 for v in parameters.values())
