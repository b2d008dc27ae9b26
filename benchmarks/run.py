"""Seconds per full-batch training iteration of cnn_core and its peers, as ratios in one run.

    python benchmarks/run.py [--repeats 7] [--json results.json] [--only W1,W3]

One iteration is forward + cost + backward + update of the whole batch. For every
workload each implementation is timed over a block of iterations, the blocks of all
implementations are interleaved (A B C A B C ...) so that drift of the machine affects
them alike, and the median per-iteration time over the repeats is reported with:

* its ratio to cnn_core's compiled trainer;
* its ratio to G, the step's matrix products alone (the gemm calls of one step with the
  same shapes and layouts, through the BLAS that cnn_core calls: scipy's);
* its GFLOP/s: the step's matrix-product flops (``2 n_l n_(l-1) m`` per product; three
  products per layer, two in the first) divided by its time.

Before the workloads the script measures the machine's peak gemm rate (the best of a
few large square products through the same BLAS, per dtype) and prints it, with which
BLAS kernels ran (threadpoolctl). "/ peak" is the time over flops/peak: 1.0 would be
every flop at the peak rate.

Workloads:
    W1  planar 2-4-1 tanh/sigmoid, m = 400, rate 1.2
    W2  cat 12288-7-1 relu/sigmoid, m = 209 (the real images when CNN_CORE_DATA_DIR is set)
    W3  cat 12288-20-7-5-1
    W4  synthetic m = 4096, 784-256-128-1, float64 and float32

On W2 and W3 (more features than examples) "cnn_core Gram" is the compiled trainer on
the Gram path, its one-time set-up spread over 2500 iterations; the whole
2500-iteration run of both paths is timed too.

Implementations (each only if importable): cnn_core compiled (``cnn_core.kernels.Trainer``),
cnn_core NumPy (``cnn_core.training.NumpyTrainer``), JAX jit of a full step (the cost is
``cnn_core.reference``'s, differentiated by ``jax.grad``), PyTorch eager, scikit-learn
MLPClassifier (one full-batch SGD step through partial_fit) and G.
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

import cnn_core  # noqa: E402
from cnn_core import datasets, deep, preprocessing, training  # noqa: E402


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

    def flops(self):
        """The matrix-product flops of one step: ``Z_l = W_l A_(l-1)`` and
        ``dW_l = dZ_l A_(l-1)^T`` for every layer, ``dA_(l-1) = W_l^T dZ_l`` above the
        first; each ``2 n_l n_(l-1) m``."""
        m = self.X.shape[1]
        return sum(2 * n * n_prev * m * (2 if l == 0 else 3)
                   for l, (n_prev, n) in enumerate(zip(self.dims, self.dims[1:])))

    def trainer(self, backend, gram=False):
        """A fresh trainer of the workload's network on ``backend``."""
        return training.make_trainer(self.X, self.Y, self.fresh_parameters(), self.hidden,
                                     backend, gram)


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
    if not cnn_core.HAVE_EXTENSION:
        return None
    trainer = w.trainer("cython")
    return lambda k: trainer.run(k, w.rate)


#: The Gram path's one-time set-up (K = X^T X) is spread over this many iterations, the
#: course's schedule for the cat models.
AMORTISE_OVER = 2500


def cnn_core_gram(w):
    """The compiled trainer on the Gram path (only where n_x > m); its set-up is timed
    once and added, divided by AMORTISE_OVER, to the per-iteration time."""
    if not cnn_core.HAVE_EXTENSION or w.X.shape[0] <= w.X.shape[1]:
        return None
    start = time.perf_counter()
    trainer = w.trainer("cython", gram=True)
    setup = time.perf_counter() - start

    def run(k):
        trainer.run(k, w.rate)
    run.setup_seconds = setup
    return run


def whole_runs(w, iterations=AMORTISE_OVER):
    """Seconds for the whole course schedule on each path, cost recorded every 100."""
    if not cnn_core.HAVE_EXTENSION or w.X.shape[0] <= w.X.shape[1]:
        return {}
    seconds = {}
    for label, gram in (("standard", False), ("Gram", True)):
        params = w.fresh_parameters()
        time.sleep(SETTLE_SECONDS)
        start = time.perf_counter()
        training.gradient_descent(w.X, w.Y, params, w.hidden, w.rate, iterations, 100,
                                  lambda i, c: None, "cython", gram)
        seconds[label] = time.perf_counter() - start
    return seconds


def cnn_core_numpy(w):
    trainer = w.trainer("numpy")
    return lambda k: trainer.run(k, w.rate)


def gemm_floor(w):
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


def jax_step(w):
    """``jax.jit`` of one whole step; the cost is cnn_core's JAX reference."""
    try:
        import jax
        import jax.numpy as jnp
        from cnn_core import reference
    except ImportError:
        return None
    cost = reference.shallow_cost if w.hidden == "tanh" else reference.L_model_cost
    X, Y = jnp.asarray(w.X), jnp.asarray(w.Y)

    @jax.jit
    def step(params):
        value, grads = jax.value_and_grad(cost)(params, X, Y)
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
    ("G", gemm_floor),
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


def peak_gemm_rate(dtype, size=2048, repeats=5):
    """The machine's gemm rate in GFLOP/s: the best of a few ``size``-square products
    through scipy's BLAS (the one cnn_core calls), after a warm-up."""
    from scipy.linalg import blas

    gemm = blas.dgemm if dtype == np.float64 else blas.sgemm
    rng = np.random.default_rng(0)
    a = np.asfortranarray(rng.standard_normal((size, size)), dtype=dtype)
    b = np.asfortranarray(rng.standard_normal((size, size)), dtype=dtype)
    c = np.zeros((size, size), dtype=dtype, order="F")
    gemm(1.0, a, b, c=c, overwrite_c=1)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        gemm(1.0, a, b, c=c, overwrite_c=1)
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def machine_facts():
    facts = {"python": sys.version.split()[0], "numpy": np.__version__,
             "machine": platform.machine(), "cores": os.cpu_count()}
    if cnn_core.HAVE_EXTENSION:
        from cnn_core import kernels
        facts["cnn_core trainer build"] = kernels.TRAINER_BUILD
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
    peaks = {np.dtype(d).name: peak_gemm_rate(d) for d in (np.float64, np.float32)}
    results["machine"]["peak_gemm_gflops"] = peaks
    print("peak gemm rate through scipy's BLAS (2048^3): "
          + ", ".join(f"{name} {rate:.1f} GFLOP/s" for name, rate in peaks.items()))
    for workload in make_workloads():
        if wanted and workload.name not in wanted and workload.name.split("-")[0] not in wanted:
            continue
        times = measure(workload, args.repeats, args.block_seconds)
        base = times.get("cnn_core compiled")
        floor = times.get("G")
        flops = workload.flops()
        at_peak = flops / (peaks[np.dtype(workload.dtype).name] * 1e9)
        print(f"\n{workload.name}: {workload.description}; {flops / 1e6:.3g} MFLOP per step")
        print(f"  {'implementation':<20} {'s/iteration':>12} {'/ compiled':>11} {'/ G':>8} "
              f"{'GFLOP/s':>8} {'/ peak':>8}")
        for name, seconds in times.items():
            vs_base = f"{seconds / base:10.2f}x" if base else "-"
            vs_floor = f"{seconds / floor:7.2f}x" if floor else "-"
            print(f"  {name:<20} {seconds:12.3e} {vs_base:>11} {vs_floor:>8} "
                  f"{flops / seconds / 1e9:8.1f} {seconds / at_peak:7.2f}x")
        runs = whole_runs(workload)
        if runs:
            print(f"  whole {AMORTISE_OVER}-iteration run, compiled: standard "
                  f"{runs['standard']:.3f} s, Gram {runs['Gram']:.3f} s "
                  f"({runs['standard'] / runs['Gram']:.1f}x)")
        results["workloads"][workload.name] = {"description": workload.description,
                                               "flops_per_iteration": flops,
                                               "seconds_per_iteration": times,
                                               "whole_run_seconds": runs}
    with open(args.json, "w") as fh:
        json.dump(results, fh, indent=2)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
