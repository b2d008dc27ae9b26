"""The compiled whole-training loops: agreement with the NumPy reference, no allocation
inside the loop, memory no larger than the reference's, and clear errors."""
import os
import tracemalloc

import numpy as np
import pytest

from cnn_core import _backend, training, deep, logistic, shallow

from conftest import BACKENDS, NUMPY_ONLY, needs_kernels
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
        costs = training.gradient_descent(X, Y, params, hidden, rate, iterations, every,
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
        training.gradient_descent(data, Y, params, "relu", 0.1, 50, 10, lambda i, c: None, "cython")
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
        costs[backend] = training.gradient_descent(X, Y, params, "relu", 1e-6, 1, 1,
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
    parameters, X, Y = random_network(dims, m, dtype=dtype)
    return training.make_trainer(X, Y, parameters, "relu", "cython")


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
    trainer.run(3, 0.01)  # warm-up
    few = _traced_allocation(lambda: trainer.run(10, 0.01))
    many = _traced_allocation(lambda: trainer.run(1000, 0.01))
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


def _trainer_args():
    parameters, X, Y = random_network([4, 3, 1], 5)
    return {"X": X, "Y": Y, "weights": [parameters["W1"], parameters["W2"]],
            "biases": [parameters["b1"], parameters["b2"]], "hidden_activation": "relu"}


def _frozen(arr):
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


def _overlapping_X_and_W1(args):
    buffer = np.ones(40)
    return {"X": buffer[:20].reshape(4, 5), "weights": [buffer[15:27].reshape(3, 4),
                                                        args["weights"][1]]}


TRAINER_CASES = {
    "layer counts": (lambda a: dict(biases=a["biases"][:1]), ValueError, "same number"),
    "Fortran weight": (lambda a: dict(weights=[np.asfortranarray(a["weights"][0]),
                                               a["weights"][1]]),
                       ValueError, r"weights\[0\] must be C-contiguous"),
    "weight shape": (lambda a: dict(weights=[a["weights"][0], np.ones((1, 2))]),
                     ValueError, r"weights\[1\] must have shape \(n_2, 3\)"),
    "read-only weight": (lambda a: dict(weights=[_frozen(a["weights"][0]), a["weights"][1]]),
                         ValueError, r"weights\[0\] must be writeable"),
    "float32 weight": (lambda a: dict(weights=[a["weights"][0].astype(np.float32),
                                               a["weights"][1]]),
                       TypeError, r"weights\[0\] must have X's dtype float64"),
    "bias shape": (lambda a: dict(biases=[np.zeros((2, 1)), a["biases"][1]]),
                   ValueError, r"biases\[0\] must have shape \(3, 1\)"),
    "Y shape": (lambda a: dict(Y=np.ones((1, 4))), ValueError, r"Y must be C-contiguous of shape"),
    "Y dtype": (lambda a: dict(Y=a["Y"].astype(np.float32)), TypeError, "Y must be a NumPy array of"),
    "strided X": (lambda a: dict(X=np.ones((4, 10))[:, ::2]), ValueError,
                  "X must be a C- or Fortran-contiguous"),
    "int X": (lambda a: dict(X=a["X"].astype(np.int64)), TypeError, "X must be a float64"),
    "activation": (lambda a: dict(hidden_activation="softplus"), ValueError,
                   "activation must be one of"),
    "weight overlaps X": (lambda a: _overlapping_X_and_W1(a), ValueError,
                          r"weights\[0\] must not share memory with X"),
    "bias inside a weight": (lambda a: dict(biases=[a["weights"][0].reshape(-1)[:3].reshape(3, 1),
                                                    a["biases"][1]]),
                             ValueError, r"biases\[0\] must not share memory with weights\[0\]"),
}


@pytest.mark.parametrize("case", TRAINER_CASES, ids=list(TRAINER_CASES))
def test_trainer_refuses_bad_buffers(case):
    change, error, message = TRAINER_CASES[case]
    args = _trainer_args()
    args.update(change(args))
    with pytest.raises(error, match=message):
        _backend.kernels().Trainer(**args)


@pytest.mark.parametrize("num_steps, learning_rate, message", [
    (-1, 0.1, "num_steps must be >= 0"), (1, float("nan"), "learning_rate must be > 0"),
    (1, 0.0, "learning_rate must be > 0"), (1, float("inf"), "learning_rate must be > 0 and finite"),
    (1.5, 0.1, "num_steps must be an integer")])
def test_run_refuses_bad_arguments_on_both_trainers(backend, num_steps, learning_rate, message):
    args = _trainer_args()
    trainer = training.make_trainer(args["X"], args["Y"], {
        "W1": args["weights"][0], "b1": args["biases"][0],
        "W2": args["weights"][1], "b2": args["biases"][1]}, "relu", backend)
    with pytest.raises((ValueError, TypeError), match=message):
        trainer.run(num_steps, learning_rate)


def test_both_trainers_take_an_activation_code():
    args = _trainer_args()
    numpy_trainer = training.NumpyTrainer(**dict(args, hidden_activation=3))
    assert numpy_trainer.hidden.name == "tanh"
    with pytest.raises(ValueError, match="activation must be one of"):
        training.NumpyTrainer(**dict(args, hidden_activation=9))


def test_a_trainer_serves_one_thread_at_a_time():
    import threading

    parameters, X, Y = random_network([300, 200, 1], 2000, seed=9)
    trainer = training.make_trainer(X, Y, parameters, "relu", "cython")
    errors = []
    started = threading.Event()

    def long_run():
        started.set()
        trainer.run(300, 1e-3)

    worker = threading.Thread(target=long_run)
    worker.start()
    started.wait()
    for _ in range(200):  # the long run holds the trainer meanwhile
        try:
            trainer.run(1, 1e-3)
        except RuntimeError as exc:
            errors.append(str(exc))
            break
    worker.join()
    assert errors and "already running" in errors[0]
    assert np.isfinite(trainer.run(1, 1e-3))  # free again afterwards


@pytest.mark.parametrize("every, message", [(0, "every must be"), (-5, "every must be")])
def test_gradient_descent_refuses_a_bad_record_interval(every, message):
    parameters, X, Y = random_network([4, 3, 1], 5)
    with pytest.raises(ValueError, match=message):
        training.gradient_descent(X, Y, parameters, "relu", 0.1, 10, every,
                                  lambda i, c: None, "numpy", "auto")


# ---------------------------------------------------------------------------------------
# The two trainers, step by step.
# ---------------------------------------------------------------------------------------

TRAINER_NETWORKS = [
    ([2, 4, 1], "tanh", 40, False),        # the planar net: small layers, no BLAS
    ([6, 1], "identity", 30, False),       # logistic regression
    ([7, 12, 6, 1], "relu", 25, False),    # BLAS layers
    ([30, 9, 4, 1], "relu", 12, True),     # n_x > m on the Gram path
    ([30, 3, 1], "tanh", 10, True),
]


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dims, hidden, m, gram", TRAINER_NETWORKS)
def test_the_two_trainers_agree_step_by_step(dims, hidden, m, gram, dtype):
    parameters, X, Y = random_network(dims, m, seed=5, dtype=dtype)
    own = {backend: {k: v.copy() for k, v in parameters.items()} for backend in BACKENDS}
    trainers = {backend: training.make_trainer(X, Y, own[backend], hidden, backend, gram)
                for backend in BACKENDS}
    tol = {np.float64: 1e-11, np.float32: 2e-5}[dtype]
    for step in range(12):
        costs = {backend: trainer.run(1, 0.5) for backend, trainer in trainers.items()}
        assert np.isfinite(costs["numpy"])
        assert costs["cython"] == pytest.approx(costs["numpy"], rel=tol)
        for key in parameters:
            assert_close(own["cython"][key], own["numpy"][key], rtol=tol, atol=tol,
                         what=f"{key} after step {step + 1}")
    costs = {backend: trainer.run(7, 0.5) for backend, trainer in trainers.items()}
    assert costs["cython"] == pytest.approx(costs["numpy"], rel=tol)
    for key in parameters:
        assert_close(own["cython"][key], own["numpy"][key], rtol=tol, atol=tol,
                     what=f"{key} after a run of 7 steps")
    assert not np.allclose(own["numpy"]["W1"], parameters["W1"])  # they did move


@pytest.mark.parametrize("gram", [False, True])
def test_run_with_zero_steps_returns_the_current_cost_and_moves_nothing(backend, gram):
    parameters, X, Y = random_network([12, 3, 1], 8, seed=6)
    before = {k: v.copy() for k, v in parameters.items()}
    trainer = training.make_trainer(X, Y, parameters, "relu", backend, gram)
    cost = trainer.run(0, 0.1)
    assert cost == pytest.approx(deep.compute_cost(deep.L_model_forward(X, before)[0], Y),
                                 rel=1e-12)
    for key in parameters:
        np.testing.assert_array_equal(parameters[key], before[key])
    assert trainer.run(5, 0.1) == pytest.approx(cost, rel=1e-12)
    assert trainer.run(0, 0.1) < cost


def test_the_numpy_trainer_reads_like_the_layer_functions():
    """One NumpyTrainer step equals the course's forward, backward and update."""
    parameters, X, Y = random_network([5, 4, 3, 1], 9, seed=7)
    expected = {k: v.copy() for k, v in parameters.items()}
    AL, caches = deep.L_model_forward(X, expected, backend="numpy")
    grads = deep.L_model_backward(AL, Y, caches, backend="numpy")
    expected = deep.update_parameters(expected, grads, 0.2)
    training.NumpyTrainer(X, Y, [parameters[f"W{l}"] for l in (1, 2, 3)],
                           [parameters[f"b{l}"] for l in (1, 2, 3)], "relu").run(1, 0.2)
    for key in parameters:
        assert_close(parameters[key], expected[key], rtol=1e-13, atol=1e-15, what=key)


def test_logistic_and_shallow_models_train_in_float32(backend):
    _, X, Y = random_network([5, 1], 60, seed=8, dtype=np.float32)
    params, grads, costs = logistic.optimize(np.zeros((5, 1), np.float32), 0.0, X, Y, 300, 0.1,
                                             backend=backend)
    assert params["w"].dtype == np.float32 and costs[-1] < costs[0]
    np.random.seed(0)
    parameters = shallow.nn_model(X, Y, 3, num_iterations=300, backend=backend)
    assert all(v.dtype == np.float32 for v in parameters.values())


# ---------------------------------------------------------------------------------------
# The trainer's two builds (baseline x86-64 and AVX-512): the same numbers.
# ---------------------------------------------------------------------------------------

def _trainer_builds():
    import importlib

    builds = {}
    for name in ("_trainer", "_trainer_avx512"):
        try:
            builds[name] = importlib.import_module(f"cnn_core.{name}")
        except ImportError:
            pass
    return builds


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dims, hidden, m, gram", TRAINER_NETWORKS)
def test_the_trainer_builds_give_identical_numbers(dims, hidden, m, gram, dtype):
    builds = _trainer_builds()
    if len(builds) < 2 or _backend.kernels().TRAINER_BUILD != "avx512":
        pytest.skip("this machine or build has no AVX-512 trainer to compare with the baseline")
    parameters, X, Y = random_network(dims, m, seed=11, dtype=dtype)
    results = {}
    for name, module in builds.items():
        own = {k: v.copy() for k, v in parameters.items()}
        L = len(dims) - 1
        trainer = module.Trainer(X, Y, [own[f"W{l}"] for l in range(1, L + 1)],
                                 [own[f"b{l}"] for l in range(1, L + 1)], hidden, gram)
        costs = [trainer.run(k, 0.3) for k in (1, 5, 20)]
        results[name] = (costs, own)
    (costs_a, own_a), (costs_b, own_b) = results.values()
    assert costs_a == costs_b
    for key in parameters:
        np.testing.assert_array_equal(own_a[key], own_b[key], err_msg=key)


def test_the_baseline_trainer_build_can_be_asked_for():
    import subprocess
    import sys

    code = "import cnn_core.kernels as K; print(K.TRAINER_BUILD, K.Trainer.__module__)"
    env = dict(os.environ, CNN_CORE_TRAINER_BUILD="baseline")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["baseline", "cnn_core._trainer"]
    env["CNN_CORE_TRAINER_BUILD"] = "sse9"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "CNN_CORE_TRAINER_BUILD must be 'baseline' or 'avx512'" in result.stderr
