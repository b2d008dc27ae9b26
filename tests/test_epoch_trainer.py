"""The epoch trainers: mini-batch training, one epoch per call, on both backends.

``training.NumpyEpochTrainer`` is checked against the course's own functions composed by
hand (random_mini_batches, forward_propagation, backward_propagation and the optimizer
updates of cnn_core.improving); the compiled ``kernels.EpochTrainer`` against it.
"""
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn_core import improving, training

from conftest import BACKENDS, needs_kernels
from helpers import assert_close


def _data(dims, m, output, seed=0, dtype=np.float64):
    """He-scaled parameters, X ``(n_x, m)`` and targets (0/1 labels or one-hot)."""
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1]))
                               * np.sqrt(2 / dims[l - 1])).astype(dtype)
        parameters[f"b{l}"] = (0.1 * rng.standard_normal((dims[l], 1))).astype(dtype)
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    if output == "sigmoid":
        Y = (X[0:1] + 0.5 * X[-1:] > 0.2).astype(dtype)
    else:
        Y = improving.one_hot(rng.integers(0, dims[-1], m), dims[-1], dtype=dtype)
    return parameters, X, Y


def _copy(parameters):
    return {key: np.array(value, order="C") for key, value in parameters.items()}


def _train(backend, parameters, X, Y, epochs, rate=0.05, seed=10, hidden="relu", **options):
    """``epochs`` epochs from ``_copy(parameters)`` with the model's seeding; returns the
    parameters, the epoch costs and the trainer."""
    params = _copy(parameters)
    trainer = training.make_epoch_trainer(X, Y, params, hidden=hidden, backend=backend,
                                          **options)
    costs = []
    for _ in range(epochs):
        seed += 1
        np.random.seed(seed)
        permutation = np.random.permutation(X.shape[1])
        draws = np.random.rand(trainer.draw_count) if trainer.draw_count else None
        costs.append(trainer.run_epoch(permutation, rate, record_cost=True, draws=draws))
    return params, costs, trainer


def _course_loop(parameters, X, Y, epochs, rate=0.05, seed=10, hidden="relu",
                 output="sigmoid", optimizer="gd", mini_batch_size=64, beta=0.9,
                 beta1=0.9, beta2=0.999, epsilon=1e-8, lambd=0.0, keep_prob=1.0):
    """The same training, written with the course's public functions only."""
    params = _copy(parameters)
    v = improving.initialize_velocity(params)
    v_adam, s_adam = improving.initialize_adam(params)
    t, costs = 0, []
    for _ in range(epochs):
        seed += 1
        total = 0.0
        for X_B, Y_B in improving.random_mini_batches(X, Y, mini_batch_size, seed):
            AL, caches = improving.forward_propagation(X_B, params, keep_prob=keep_prob,
                                                       output=output, hidden=hidden,
                                                       backend="numpy")
            cost = improving.compute_cost_with_regularization(
                AL, Y_B, params, lambd, output=output, ZL=caches[-1][1], backend="numpy")
            total += float(cost) * X_B.shape[1]
            grads = improving.backward_propagation(AL, Y_B, caches, lambd=lambd,
                                                   keep_prob=keep_prob, output=output,
                                                   hidden=hidden, backend="numpy")
            if optimizer == "gd":
                params = improving.update_parameters_with_gd(params, grads, rate)
            elif optimizer == "momentum":
                params, v = improving.update_parameters_with_momentum(params, grads, v,
                                                                      beta, rate)
            else:
                t += 1
                params, v_adam, s_adam, _, _ = improving.update_parameters_with_adam(
                    params, grads, v_adam, s_adam, t, rate, beta1, beta2, epsilon)
        costs.append(total / X.shape[1])
    return params, costs


CASES = [
    ("sigmoid", [5, 6, 4, 1], dict(optimizer="gd")),
    ("sigmoid", [5, 6, 4, 1], dict(optimizer="momentum", lambd=0.3)),
    ("sigmoid", [5, 7, 1], dict(optimizer="adam", keep_prob=0.8, hidden="tanh")),
    ("softmax", [5, 8, 6, 3], dict(optimizer="adam", lambd=0.1, keep_prob=0.7)),
    ("softmax", [5, 4], dict(optimizer="momentum", keep_prob=0.9)),
    ("softmax", [5, 9, 3], dict(optimizer="gd", lambd=0.05)),
]


@pytest.mark.parametrize("output, dims, options", CASES)
def test_the_numpy_epoch_trainer_is_the_course_loop(output, dims, options):
    # m = 70 with batches of 16: four full batches and a remainder of 6.
    parameters, X, Y = _data(dims, 70, output, seed=len(dims))
    options = dict(options, output=output, mini_batch_size=16)
    hidden = options.pop("hidden", "relu")
    want, want_costs = _course_loop(parameters, X, Y, 4, hidden=hidden, **options)
    got, got_costs, _ = _train("numpy", parameters, X, Y, 4, hidden=hidden, **options)
    assert_close(got_costs, want_costs, rtol=1e-12)
    for key in want:
        assert_close(got[key], want[key], rtol=1e-11, atol=1e-13, what=key)


@needs_kernels
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("output, dims, options", CASES)
def test_the_compiled_epoch_trainer_equals_the_numpy_one(output, dims, options, dtype, rtol):
    parameters, X, Y = _data(dims, 70, output, seed=len(dims), dtype=dtype)
    options = dict(options, output=output, mini_batch_size=16)
    hidden = options.pop("hidden", "relu")
    want, want_costs, numpy_trainer = _train("numpy", parameters, X, Y, 5, hidden=hidden,
                                             **options)
    got, got_costs, trainer = _train("cython", parameters, X, Y, 5, hidden=hidden, **options)
    assert_close(got_costs, want_costs, rtol=rtol)
    for key in want:
        assert got[key].dtype == dtype
        assert_close(got[key], want[key], rtol=rtol, atol=rtol * 1e-2, what=key)
    assert trainer.t == numpy_trainer.t
    for got_state, want_state in zip(trainer.v + trainer.s, numpy_trainer.v + numpy_trainer.s):
        assert_close(got_state, want_state, rtol=rtol, atol=rtol * 1e-2)


@needs_kernels
@pytest.mark.parametrize("size", [1, 7, 70, 500])
def test_every_batch_size_on_both_backends(size):
    """One example per batch, a remainder, one whole batch, a batch larger than m."""
    parameters, X, Y = _data([4, 5, 3], 70, "softmax", seed=size)
    want, want_costs, _ = _train("numpy", parameters, X, Y, 2, output="softmax",
                                 optimizer="adam", mini_batch_size=size, rate=0.01)
    got, got_costs, trainer = _train("cython", parameters, X, Y, 2, output="softmax",
                                     optimizer="adam", mini_batch_size=size, rate=0.01)
    assert trainer.t == 2 * -(-70 // size)
    assert_close(got_costs, want_costs, rtol=1e-10)
    for key in want:
        assert_close(got[key], want[key], rtol=1e-9, atol=1e-12, what=key)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unrecorded_epoch_takes_the_same_steps_and_returns_nan(backend):
    parameters, X, Y = _data([3, 4, 1], 30, "sigmoid")
    recorded = _copy(parameters)
    silent = _copy(parameters)
    permutation = np.random.default_rng(0).permutation(30)
    for params, record in ((recorded, True), (silent, False)):
        trainer = training.make_epoch_trainer(X, Y, params, optimizer="adam",
                                              mini_batch_size=8, backend=backend)
        cost = trainer.run_epoch(permutation, 0.01, record_cost=record)
        assert np.isnan(cost) != record
    for key in parameters:
        np.testing.assert_array_equal(silent[key], recorded[key])
        assert not np.array_equal(silent[key], parameters[key])


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_changes_the_steps_and_the_draws_decide(backend):
    """The draws decide the masks: other draws, other steps; draws all above keep_prob
    drop every hidden unit, so that only the output layer's bias moves."""
    parameters, X, Y = _data([3, 6, 1], 20, "sigmoid")
    permutation = np.arange(20)
    results = []
    for draws_seed in (0, 1):
        params = _copy(parameters)
        trainer = training.make_epoch_trainer(X, Y, params, keep_prob=0.5,
                                              mini_batch_size=20, backend=backend)
        draws = np.random.default_rng(draws_seed).random(trainer.draw_count)
        trainer.run_epoch(permutation, 0.1, draws=draws)
        results.append(params)
    assert not np.array_equal(results[0]["W1"], results[1]["W1"])
    # Every draw above keep_prob: every hidden unit is dropped, so no gradient reaches
    # W1, b1 or W2; only b2 moves.
    params = _copy(parameters)
    trainer = training.make_epoch_trainer(X, Y, params, keep_prob=0.5, mini_batch_size=20,
                                          backend=backend)
    trainer.run_epoch(permutation, 0.1, draws=np.full(trainer.draw_count, 0.9))
    for key in ("W1", "b1", "W2"):
        np.testing.assert_array_equal(params[key], parameters[key])
    assert not np.array_equal(params["b2"], parameters["b2"])


@needs_kernels
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
@pytest.mark.parametrize("keep_prob", [1.0, 0.75])
def test_model_gives_the_same_parameters_on_both_backends(optimizer, keep_prob):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((6, 150))
    labels = (X[0] * X[1] > 0).astype(int) + (X[2] > 1)
    runs = [improving.model(X, labels[None], [6, 8, 5, 3], optimizer=optimizer,
                            learning_rate=0.01, mini_batch_size=32, num_epochs=30,
                            print_cost=False, keep_prob=keep_prob, lambd=0.05,
                            output="softmax", backend=backend, return_costs=True,
                            cost_every=10)
            for backend in ("numpy", "cython")]
    (want, want_costs), (got, got_costs) = runs
    assert len(got_costs) == 3
    assert_close(got_costs, want_costs, rtol=1e-10)
    for key in want:
        assert_close(got[key], want[key], rtol=1e-9, atol=1e-12, what=key)


@pytest.mark.parametrize("backend", BACKENDS)
def test_model_calls_back_at_each_record(backend):
    parameters, X, Y = _data([3, 4, 1], 40, "sigmoid")
    seen = []
    _, costs = improving.model(X, Y, [3, 4, 1], num_epochs=25, cost_every=10,
                               print_cost=False, backend=backend, return_costs=True,
                               callback=lambda i, cost: seen.append((i, cost)))
    assert [i for i, _ in seen] == [0, 10, 20]
    assert [cost for _, cost in seen] == costs


def _trainer(backend, output="sigmoid", **options):
    parameters, X, Y = _data([3, 4, 2 if output == "softmax" else 1], 10, output)
    return training.make_epoch_trainer(X, Y, _copy(parameters), output=output,
                                       backend=backend, **options), X, Y


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("permutation, message", [
    (np.arange(9), r"shape \(m,\) = \(10,\)"),
    (np.arange(10.0), "integer array"),
    (np.arange(10)[::-1] + 1, "exactly once"),
    (np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 8]), "exactly once"),
    (np.arange(10) - 1, "exactly once"),
    (np.arange(20).reshape(2, 10), "shape"),
])
def test_run_epoch_refuses_a_bad_permutation(backend, permutation, message):
    trainer, _, _ = _trainer(backend)
    with pytest.raises(ValueError, match=message):
        trainer.run_epoch(permutation, 0.1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_epoch_checks_the_draws_and_the_rate(backend):
    trainer, _, _ = _trainer(backend, keep_prob=0.5)
    assert trainer.draw_count == 40
    permutation = np.arange(10)
    with pytest.raises(ValueError, match=r"draws must be a float64 array of shape \(40,\)"):
        trainer.run_epoch(permutation, 0.1)
    with pytest.raises(ValueError, match="draws must be a float64"):
        trainer.run_epoch(permutation, 0.1, draws=np.random.rand(39))
    with pytest.raises(ValueError, match="draws must be a float64"):
        trainer.run_epoch(permutation, 0.1, draws=np.random.rand(40).astype(np.float32))
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        trainer.run_epoch(permutation, 0.1, draws=np.full(40, np.nan))
    with pytest.raises(ValueError, match="learning_rate"):
        trainer.run_epoch(permutation, -0.1, draws=np.random.rand(40))
    with pytest.raises(TypeError, match="record_cost"):
        trainer.run_epoch(permutation, 0.1, draws=np.random.rand(40), record_cost=1)
    undropped, _, _ = _trainer(backend)
    with pytest.raises(ValueError, match="draws must be None"):
        undropped.run_epoch(permutation, 0.1, draws=np.random.rand(40))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("options, message", [
    (dict(optimizer="rmsprop"), "optimizer must be one of"),
    (dict(output="tanh"), "output must be one of"),
    (dict(mini_batch_size=0), "mini_batch_size must be a positive integer"),
    (dict(beta=1.0), r"beta must be in \[0, 1\)"),
    (dict(beta2=-0.1), r"beta2 must be in \[0, 1\)"),
    (dict(epsilon=0.0), "epsilon must be > 0"),
    (dict(lambd=-1.0), "lambd must be >= 0"),
    (dict(keep_prob=0.0), r"keep_prob must be in \(0, 1\]"),
    (dict(keep_prob=float("nan")), "keep_prob must be a finite real"),
    (dict(output="softmax"), "K >= 2 units for output='softmax'"),
])
def test_an_epoch_trainer_refuses_bad_options(backend, options, message):
    parameters, X, Y = _data([3, 4, 1], 10, "sigmoid")
    with pytest.raises(ValueError, match=message):
        training.make_epoch_trainer(X, Y, _copy(parameters), backend=backend, **options)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_epoch_trainer_refuses_bad_targets(backend):
    parameters, X, Y = _data([3, 4, 3], 10, "softmax")
    bad = Y.copy()
    bad[:, 2] = [0.5, 0.0, 0.0]
    with pytest.raises(ValueError, match="column 2 sums to 0.5"):
        training.make_epoch_trainer(X, bad, _copy(parameters), output="softmax",
                                    backend=backend)
    with pytest.raises(ValueError, match="1 unit for output='sigmoid'"):
        training.make_epoch_trainer(X, Y, _copy(parameters), backend=backend)
    parameters, X, Y = _data([3, 4, 1], 10, "sigmoid")
    with pytest.raises(ValueError, match=r"labels in \[0, 1\]"):
        training.make_epoch_trainer(X, Y * 3, _copy(parameters), backend=backend)
    with pytest.raises(TypeError, match="Y must be a NumPy array of X's dtype"):
        training.make_epoch_trainer(X, Y.astype(np.float32), _copy(parameters),
                                    backend=backend)


@needs_kernels
@pytest.mark.parametrize("dims", [[6, 5, 1], [80, 40, 3]])
def test_the_compiled_epoch_trainer_takes_either_order_of_X(dims):
    """[6, 5, 1] gathers rows of a C-ordered X (a small first layer), [80, 40, 3] one
    column per example of a Fortran-ordered X: either order of the caller's X gives
    the same bits, and the NumPy trainer's numbers."""
    output = "sigmoid" if dims[-1] == 1 else "softmax"
    parameters, X, Y = _data(dims, 40, output)
    options = dict(optimizer="adam", mini_batch_size=16, output=output, rate=0.01)
    want = _train("cython", parameters, X, Y, 2, **options)[0]
    got = _train("cython", parameters, np.asfortranarray(X), Y, 2, **options)[0]
    reference = _train("numpy", parameters, X, Y, 2, **options)[0]
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])
        assert_close(got[key], reference[key], rtol=1e-10, atol=1e-12, what=key)


@needs_kernels
def test_an_epoch_trainer_serves_one_thread_at_a_time():
    """Two threads calling run_epoch on one trainer at once: the one that comes second
    gets RuntimeError (the buffers serve one epoch at a time), never a wrong result."""
    parameters, X, Y = _data([100, 100, 1], 20000, "sigmoid")
    trainer = training.make_epoch_trainer(X, Y, _copy(parameters), optimizer="adam",
                                          mini_batch_size=64, backend="cython")
    permutation = np.arange(20000)
    errors, others = [], []
    barrier = threading.Barrier(2)

    def attempts():
        barrier.wait()
        for _ in range(10):
            try:
                trainer.run_epoch(permutation, 1e-4)
            except RuntimeError as exc:
                errors.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - any other failure fails the test
                others.append(exc)

    workers = [threading.Thread(target=attempts) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not others
    assert errors and all("already running" in message for message in errors)
    assert np.isfinite(trainer.run_epoch(permutation, 1e-4, record_cost=True))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("output, dims, options", CASES + [
    ("sigmoid", [90, 5, 1], dict(optimizer="momentum", lambd=0.2, gram=True)),
    ("softmax", [70, 6, 3], dict(optimizer="gd", keep_prob=0.8, gram=True))])
def test_the_trainer_builds_give_identical_epochs(output, dims, options, dtype):
    """The baseline x86-64 and the AVX-512 builds of the epoch trainer: the same bits."""
    import importlib

    from cnn_core import _backend

    if not _backend.HAVE_EXTENSION or _backend.kernels().TRAINER_BUILD != "avx512":
        pytest.skip("this machine or build has no AVX-512 trainer to compare with the baseline")
    parameters, X, Y = _data(dims, 45, output, seed=2, dtype=dtype)
    options = dict(options, output=output, mini_batch_size=16)
    hidden = options.pop("hidden", "relu")
    results = []
    for name in ("_trainer", "_trainer_avx512"):
        module = importlib.import_module(f"cnn_core.{name}")
        params = _copy(parameters)
        L = len(dims) - 1
        trainer = module.EpochTrainer(X, Y, [params[f"W{l}"] for l in range(1, L + 1)],
                                      [params[f"b{l}"] for l in range(1, L + 1)], hidden,
                                      **options)
        rng = np.random.default_rng(0)
        costs = [trainer.run_epoch(rng.permutation(45), 0.05, record_cost=True,
                                   draws=rng.random(trainer.draw_count)
                                   if trainer.draw_count else None) for _ in range(4)]
        results.append((costs, params))
    (costs_a, params_a), (costs_b, params_b) = results
    assert costs_a == costs_b
    for key in parameters:
        np.testing.assert_array_equal(params_a[key], params_b[key], err_msg=key)


@needs_kernels
@settings(max_examples=25, deadline=None)
@given(widths=st.lists(st.integers(1, 70), min_size=0, max_size=3),
       n_x=st.integers(1, 90), m=st.integers(1, 90), size=st.integers(1, 100),
       output=st.sampled_from(["sigmoid", "softmax"]), K=st.integers(2, 5),
       optimizer=st.sampled_from(["gd", "momentum", "adam"]),
       lambd=st.sampled_from([0.0, 0.3]), keep_prob=st.sampled_from([1.0, 0.7]),
       hidden=st.sampled_from(["relu", "tanh"]), seed=st.integers(0, 2**16))
def test_random_networks_train_alike_on_both_backends(widths, n_x, m, size, output, K,
                                                      optimizer, lambd, keep_prob, hidden,
                                                      seed):
    """Layers small and large (the BLAS paths and the loops without BLAS), any batch
    size: two epochs of the compiled trainer equal the NumPy one's."""
    dims = [n_x, *widths, 1 if output == "sigmoid" else K]
    parameters, X, Y = _data(dims, m, output, seed=seed)
    options = dict(output=output, optimizer=optimizer, lambd=lambd, keep_prob=keep_prob,
                   mini_batch_size=size, hidden=hidden, rate=0.01)
    want, want_costs, _ = _train("numpy", parameters, X, Y, 2, **options)
    got, got_costs, _ = _train("cython", parameters, X, Y, 2, **options)
    assert_close(got_costs, want_costs, rtol=1e-9)
    for key in want:
        assert_close(got[key], want[key], rtol=1e-8, atol=1e-11, what=key)


@pytest.mark.parametrize("backend", BACKENDS)
def test_model_drops_nothing_without_a_hidden_layer(backend):
    """keep_prob < 1 on a network with no hidden layer: nothing to drop, the same
    parameters as keep_prob = 1."""
    parameters, X, Y = _data([3, 1], 40, "sigmoid")
    runs = [improving.model(X, Y, [3, 1], num_epochs=5, print_cost=False, backend=backend,
                            keep_prob=keep_prob, learning_rate=0.1)
            for keep_prob in (0.5, 1.0)]
    for key in runs[0]:
        np.testing.assert_array_equal(runs[0][key], runs[1][key])


@pytest.mark.parametrize("backend", BACKENDS)
def test_model_takes_a_strided_X(backend):
    parameters, X, Y = _data([3, 4, 1], 40, "sigmoid")
    wide = np.zeros((6, 80))
    wide[::2, ::2] = X
    got = improving.model(wide[::2, ::2], Y, [3, 4, 1], num_epochs=3, print_cost=False,
                          backend=backend)
    want = improving.model(X, Y, [3, 4, 1], num_epochs=3, print_cost=False, backend=backend)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_optimizer_state_is_read_only_but_its_arrays_are_live(backend):
    parameters, X, Y = _data([3, 4, 1], 20, "sigmoid")
    trainer = training.make_epoch_trainer(X, Y, _copy(parameters), optimizer="adam",
                                          mini_batch_size=8, backend=backend)
    assert isinstance(trainer.v, tuple) and isinstance(trainer.s, tuple)
    with pytest.raises(AttributeError):
        trainer.t = 5
    trainer.run_epoch(np.arange(20), 0.01)
    assert trainer.t == 3
    assert all(np.any(v != 0) for v in trainer.v)   # the arrays the loop writes


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("keys, message", [
    (["W1", "b1", "W2"], "exactly W1, b1, ..., WL, bL"),
    (["W1", "b1", "W2", "b2", "W3"], "exactly W1, b1, ..., WL, bL"),
    (["W1", "b1", "W2", "c2"], "exactly W1, b1, ..., WL, bL"),
])
def test_make_epoch_trainer_names_bad_parameter_keys(backend, keys, message):
    parameters, X, Y = _data([3, 4, 1], 10, "sigmoid")
    parameters["c2"] = parameters["b2"]
    parameters["W3"] = np.ones((1, 1))
    with pytest.raises(ValueError, match=message):
        training.make_epoch_trainer(X, Y, {k: parameters[k] for k in keys}, backend=backend)


@needs_kernels
def test_the_private_epoch_loop_checks_lengths_before_releasing_the_gil():
    """The compiled loop's own object refuses a short permutation or draws, and a second
    initialisation, instead of reading past their ends."""
    parameters, X, Y = _data([3, 4, 1], 50, "sigmoid")
    trainer = training.make_epoch_trainer(X, Y, _copy(parameters), keep_prob=0.5,
                                          backend="cython")
    loop = trainer._epochs
    with pytest.raises(ValueError, match="permutation must have length m = 50"):
        loop.run_epoch(np.arange(2), np.random.rand(200), 0.1, False, False)
    with pytest.raises(ValueError, match="draws must have length 200"):
        loop.run_epoch(np.arange(50), np.random.rand(20), 0.1, False, False)
    with pytest.raises(ValueError, match="draws must be given exactly"):
        loop.run_epoch(np.arange(50), None, 0.1, False, False)
    with pytest.raises(RuntimeError, match="initialised once"):
        loop.__init__(X, False, Y, [], [], 1, {}, {})


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_epoch_reads_its_own_copy_of_the_permutation(backend):
    parameters, X, Y = _data([3, 4, 1], 30, "sigmoid")
    trainer = training.make_epoch_trainer(X, Y, _copy(parameters), backend=backend)
    permutation = np.arange(30, dtype=np.intp)
    with pytest.raises(TypeError, match="sync must be a bool"):
        trainer.run_epoch(permutation, 0.1, sync="no")
    trainer.run_epoch(permutation, 0.1)
    np.testing.assert_array_equal(permutation, np.arange(30))
