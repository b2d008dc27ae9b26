"""Seconds per full-batch training iteration of cnn_core and its peers, as ratios in one run.

    python benchmarks/run.py [--repeats 7] [--json results.json] [--only W1,W3]

One iteration is forward + cost + backward + update of the whole batch. For every
workload each implementation is timed over a block of iterations, the blocks of all
implementations are interleaved (A B C A B C ...) so that drift of the machine affects
them alike, and the median per-iteration time over the repeats is reported, with its
ratio to cnn_core's compiled backend and to G, the bare gemm calls of one step (the
floor that any implementation doing the same products must pay), taken through the
BLAS that cnn_core calls (scipy's); "G numpy BLAS" is the same products through
NumPy's own BLAS. Before each timed block the script sleeps briefly, so that thread
pools that the previous implementation left spinning do not slow the next one.

Workloads:
    W1  planar 2-4-1 tanh/sigmoid, m = 400, rate 1.2
    W2  cat 12288-7-1 relu/sigmoid, m = 209 (the real images when CNN_CORE_DATA_DIR is set)
    W3  cat 12288-20-7-5-1
    W4  synthetic m = 4096, 784-256-128-1, float64 and float32

On W2 and W3 (more features than examples) "cnn_core Gram" is the compiled loop on the
Gram path, its one-time set-up spread over 2500 iterations; the whole 2500-iteration run
of both compiled paths is timed too.

Implementations (each only if importable): cnn_core compiled, cnn_core NumPy, JAX jit of a
full step, PyTorch eager, scikit-learn MLPClassifier (one full-batch SGD step through
partial_fit), G and G numpy BLAS.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from cnn_core import _backend, _ops, datasets, deep, preprocessing  # noqa: E402


# ---------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------

class Workload:
    def __init__(self, name, description, X, Y, dims, hidden, rate, dtype=np.float64):
        self.name, self.description = name, description
        self.dims, self.hidden, self.rate, self.dtype = list(dims), hidden, rate, dtype
        self.X = np.asarray(X, dtype=dtype)  # layout kept: the cat data is Fortran-ordered
        self.Y = np.ascontiguousarray(Y, dtype=dtype)
        np.random.seed(1)
        self.parameters = {k: np.ascontiguousarray(v, dtype=dtype)
                           for k, v in deep.initialize_parameters_deep(self.dims).items()}

    def fresh_parameters(self):
        return {k: v.copy() for k, v in self.parameters.items()}


def _cat_data():
    folder = os.environ.get("CNN_CORE_DATA_DIR")
    if folder:
        train_x_orig, train_y, *_ = datasets.load_catvnoncat(folder)
        X = preprocessing.standardize_images(preprocessing.flatten_images(train_x_orig))
        return X, train_y, "real cat images"
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.random((12288, 209)))
    return X, (rng.random((1, 209)) > 0.6).astype(float), "random data of the cat shape"


def make_workloads():
    X_planar, Y_planar = datasets.load_planar_dataset()
    X_cat, Y_cat, cat_source = _cat_data()
    rng = np.random.default_rng(1)
    X_syn = rng.standard_normal((784, 4096))
    Y_syn = (rng.random((1, 4096)) > 0.5).astype(float)
    return [
        Workload("W1", "planar 2-4-1 tanh, m=400", X_planar, Y_planar, [2, 4, 1], "tanh", 1.2),
        Workload("W2", f"cat 12288-7-1 relu, m=209 ({cat_source})", X_cat, Y_cat,
                 [12288, 7, 1], "relu", 0.0075),
        Workload("W3", f"cat 12288-20-7-5-1 relu, m=209 ({cat_source})", X_cat, Y_cat,
                 [12288, 20, 7, 5, 1], "relu", 0.0075),
        Workload("W4-f64", "synthetic 784-256-128-1 relu, m=4096, float64", X_syn, Y_syn,
                 [784, 256, 128, 1], "relu", 0.01),
        Workload("W4-f32", "synthetic 784-256-128-1 relu, m=4096, float32", X_syn, Y_syn,
                 [784, 256, 128, 1], "relu", 0.01, dtype=np.float32),
    ]


# ---------------------------------------------------------------------------------------
# Implementations: each returns a function running k iterations, or None if unavailable.
# ---------------------------------------------------------------------------------------

def cnn_core_compiled(w):
    if not _backend.HAVE_EXTENSION:
        return None
    K = _backend.kernels()
    params = w.fresh_parameters()
    L = len(w.dims) - 1
    trainer = K.Trainer(w.X, w.Y, [params[f"W{l}"] for l in range(1, L + 1)],
                        [params[f"b{l}"] for l in range(1, L + 1)], K.ACTIVATION_CODES[w.hidden])
    return lambda k: trainer.run(k, w.rate, True)


#: The Gram path's one-time set-up (K = X^T X) is spread over this many iterations, the
#: course's schedule for the cat models.
AMORTISE_OVER = 2500


def cnn_core_gram(w):
    """The compiled loop on the Gram path (only where n_x > m); its set-up is timed once
    and added, divided by AMORTISE_OVER, to the per-iteration time."""
    if not _backend.HAVE_EXTENSION or w.X.shape[0] <= w.X.shape[1]:
        return None
    K = _backend.kernels()
    params = w.fresh_parameters()
    L = len(w.dims) - 1
    start = time.perf_counter()
    trainer = K.Trainer(w.X, w.Y, [params[f"W{l}"] for l in range(1, L + 1)],
                        [params[f"b{l}"] for l in range(1, L + 1)],
                        K.ACTIVATION_CODES[w.hidden], True)
    setup = time.perf_counter() - start

    def run(k):
        trainer.run(k, w.rate, True)
    run.setup_seconds = setup
    return run


def whole_runs(w, iterations=AMORTISE_OVER):
    """Seconds for the whole course schedule on each path, cost recorded every 100."""
    if not _backend.HAVE_EXTENSION or w.X.shape[0] <= w.X.shape[1]:
        return {}
    seconds = {}
    for label, gram in (("standard", False), ("Gram", True)):
        params = w.fresh_parameters()
        time.sleep(SETTLE_SECONDS)
        start = time.perf_counter()
        _ops.gradient_descent(w.X, w.Y, params, w.hidden, w.rate, iterations, 100,
                              lambda i, c: None, "cython", gram)
        seconds[label] = time.perf_counter() - start
    return seconds


def cnn_core_numpy(w):
    params = w.fresh_parameters()
    L = len(w.dims) - 1
    return lambda k: _ops._numpy_steps(w.X, w.Y, params, L, w.hidden, w.rate, k, True)


def gemm_floor_scipy(w):
    """G: the matrix products of one step and nothing else, through the BLAS cnn_core
    calls (scipy's), with the same operand layouts and the update's beta = 1."""
    from scipy.linalg import blas

    gemm = blas.dgemm if w.dtype == np.float64 else blas.sgemm
    params = w.fresh_parameters()
    L = len(w.dims) - 1
    m = w.X.shape[1]
    x_fortran = not w.X.flags.c_contiguous
    A = [w.X] + [np.empty((n, m), w.dtype) for n in w.dims[1:]]
    dZ = [None] + [np.full((n, m), 0.01, w.dtype) for n in w.dims[1:]]

    def transposed(l):
        """A[l]^T as a Fortran-ordered operand and its trans flag for gemm."""
        if l == 0 and x_fortran:
            return A[0], 1
        return A[l].T, 0

    def run(k):
        for _ in range(k):
            for l in range(1, L + 1):  # Z^T = A_prev^T W^T
                a, ta = transposed(l - 1)
                gemm(1.0, a, params[f"W{l}"].T, trans_a=ta, c=A[l].T, overwrite_c=1)
            for l in range(L, 0, -1):
                if l > 1:  # dA_prev^T = dZ^T W
                    gemm(1.0, dZ[l].T, params[f"W{l}"].T, trans_b=1, c=dZ[l - 1].T,
                         overwrite_c=1)
                a, ta = transposed(l - 1)  # W^T += alpha A_prev dZ^T
                gemm(-1e-9, a, dZ[l].T, trans_a=1 - ta, beta=1.0,
                     c=params[f"W{l}"].T, overwrite_c=1)
    return run


def gemm_floor(w):
    """G: the matrix products of one step and nothing else, into preallocated outputs,
    through NumPy's own BLAS."""
    params = w.fresh_parameters()
    L = len(w.dims) - 1
    m = w.X.shape[1]
    A = [w.X] + [np.empty((n, m), w.dtype) for n in w.dims[1:]]
    dZ = [None] + [np.empty((n, m), w.dtype) for n in w.dims[1:]]
    dW = [None] + [np.empty_like(params[f"W{l}"]) for l in range(1, L + 1)]
    for l in range(1, L + 1):
        dZ[l][...] = 0.01

    def run(k):
        for _ in range(k):
            for l in range(1, L + 1):
                np.matmul(params[f"W{l}"], A[l - 1], out=A[l])
            for l in range(L, 0, -1):
                if l > 1:
                    np.matmul(params[f"W{l}"].T, dZ[l], out=dZ[l - 1])
                np.matmul(dZ[l], A[l - 1].T, out=dW[l])
    return run


def jax_step(w):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    L = len(w.dims) - 1
    act = jnp.tanh if w.hidden == "tanh" else jax.nn.relu
    X, Y = jnp.asarray(w.X), jnp.asarray(w.Y)

    def cost(params):
        A = X
        for l in range(1, L):
            A = act(params[f"W{l}"] @ A + params[f"b{l}"])
        Z = params[f"W{L}"] @ A + params[f"b{L}"]
        return -jnp.mean(Y * jax.nn.log_sigmoid(Z) + (1 - Y) * jax.nn.log_sigmoid(-Z))

    @jax.jit
    def step(params):
        value, grads = jax.value_and_grad(cost)(params)
        return {k: params[k] - w.rate * grads[k] for k in params}, value

    state = {"params": {k: jnp.asarray(v) for k, v in w.fresh_parameters().items()}}

    def run(k):
        for _ in range(k):
            state["params"], value = step(state["params"])
        value.block_until_ready()
    run(1)  # compile outside the timing
    return run


def torch_eager(w):
    try:
        import torch
    except ImportError:
        return None
    L = len(w.dims) - 1
    dtype = torch.float64 if w.dtype == np.float64 else torch.float32
    X = torch.from_numpy(np.ascontiguousarray(w.X)).to(dtype)
    Y = torch.from_numpy(w.Y).to(dtype)
    params = {k: torch.from_numpy(v).to(dtype).requires_grad_() for k, v in
              w.fresh_parameters().items()}
    act = torch.tanh if w.hidden == "tanh" else torch.relu
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits

    def run(k):
        for _ in range(k):
            A = X
            for l in range(1, L):
                A = act(params[f"W{l}"] @ A + params[f"b{l}"])
            loss = loss_fn(params[f"W{L}"] @ A + params[f"b{L}"], Y)
            grads = torch.autograd.grad(loss, list(params.values()))
            with torch.no_grad():
                for p, g in zip(params.values(), grads):
                    p -= w.rate * g
    return run


def sklearn_mlp(w):
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    import warnings

    m = w.X.shape[1]
    clf = MLPClassifier(hidden_layer_sizes=tuple(w.dims[1:-1]), activation=w.hidden,
                        solver="sgd", learning_rate_init=w.rate, momentum=0.0,
                        nesterovs_momentum=False, alpha=0.0, batch_size=m, shuffle=False)
    Xr = np.ascontiguousarray(w.X.T)
    y = w.Y.ravel().astype(int)
    classes = np.array([0, 1])

    def run(k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(k):
                clf.partial_fit(Xr, y, classes=classes)
    run(1)
    return run


IMPLEMENTATIONS = [
    ("cnn_core compiled", cnn_core_compiled),
    ("cnn_core Gram", cnn_core_gram),
    ("cnn_core numpy", cnn_core_numpy),
    ("JAX jit", jax_step),
    ("PyTorch eager", torch_eager),
    ("sklearn MLP", sklearn_mlp),
    ("G numpy BLAS", gemm_floor),
    ("G", gemm_floor_scipy),
]

#: Seconds to wait before each timed block: BLAS thread pools spin for a while after a
#: call, and a pool left spinning by the previous implementation would slow the next.
SETTLE_SECONDS = 0.3


# ---------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------

def _block_size(run, target_seconds):
    """Iterations per timed block so that one block takes about ``target_seconds``."""
    start = time.perf_counter()
    run(1)
    one = max(time.perf_counter() - start, 1e-7)
    return max(1, min(20000, int(target_seconds / one)))


def measure(workload, repeats, target_seconds):
    runners = {}
    for name, factory in IMPLEMENTATIONS:
        run = factory(workload)
        if run is not None:
            run(1)  # warm-up
            runners[name] = (run, _block_size(run, target_seconds))
    samples = {name: [] for name in runners}
    for _ in range(repeats):
        for name, (run, k) in runners.items():
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            run(k)
            samples[name].append((time.perf_counter() - start) / k)
    times = {name: statistics.median(values) for name, values in samples.items()}
    for name, (run, _) in runners.items():
        if hasattr(run, "setup_seconds"):
            times[name] += run.setup_seconds / AMORTISE_OVER
    return times


def machine_facts():
    facts = {"python": sys.version.split()[0], "numpy": np.__version__,
             "machine": platform.machine(), "cores": os.cpu_count()}
    try:
        from threadpoolctl import threadpool_info
        facts["blas"] = [(i["internal_api"], i.get("architecture"), i["num_threads"])
                         for i in threadpool_info()]
    except ImportError:
        pass
    for module in ("jax", "torch", "sklearn"):
        try:
            facts[module] = __import__(module).__version__
        except ImportError:
            facts[module] = None
    return facts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--block-seconds", type=float, default=0.2,
                        help="length of one timed block (default 0.2 s)")
    parser.add_argument("--json", default=os.path.join(HERE, "results.json"))
    parser.add_argument("--only", default="", help="comma-separated workload names")
    args = parser.parse_args(argv)

    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    results = {"machine": machine_facts(), "workloads": {}}
    print(json.dumps(results["machine"]))
    for workload in make_workloads():
        if wanted and workload.name not in wanted and workload.name.split("-")[0] not in wanted:
            continue
        times = measure(workload, args.repeats, args.block_seconds)
        base = times.get("cnn_core compiled")
        floor = times.get("G")
        print(f"\n{workload.name}: {workload.description}")
        print(f"  {'implementation':<20} {'s/iteration':>12} {'/ compiled':>11} {'/ G':>8}")
        for name, seconds in times.items():
            vs_base = f"{seconds / base:10.2f}x" if base else "-"
            vs_floor = f"{seconds / floor:7.2f}x" if floor else "-"
            print(f"  {name:<20} {seconds:12.3e} {vs_base:>11} {vs_floor:>8}")
        runs = whole_runs(workload)
        if runs:
            print(f"  whole {AMORTISE_OVER}-iteration run, compiled: standard "
                  f"{runs['standard']:.3f} s, Gram {runs['Gram']:.3f} s "
                  f"({runs['standard'] / runs['Gram']:.1f}x)")
        results["workloads"][workload.name] = {"description": workload.description,
                                               "seconds_per_iteration": times,
                                               "whole_run_seconds": runs}
    with open(args.json, "w") as fh:
        json.dump(results, fh, indent=2)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
