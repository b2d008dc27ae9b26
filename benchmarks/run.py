"""Seconds per training iteration or epoch of cnn_core and its peers, as ratios in one run.

    python benchmarks/run.py [--repeats 7] [--json results.json] [--only W1,W3]

One iteration is forward + cost + backward + update of the whole batch (W1-W4); on W5
and W6 the unit is one epoch of mini-batches (below). For every
workload each implementation is timed over a block of iterations, the blocks of all
implementations are interleaved (A B C A B C ...) so that drift of the machine affects
them alike, and the median per-iteration time over the repeats is reported with:

* its ratio to cnn_core's compiled trainer (on W6, to its Gram path);
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
    W5  digits epoch: scikit-learn's 8x8 digits (``datasets.load_digits()``, the 1347
        training images), 64-64-10 relu/softmax, Adam (rate 0.001, beta1 0.9, beta2
        0.999, epsilon 1e-8), one epoch of shuffled mini-batches of 64 (21 of 64 and
        one of 3), float64 and float32
    W6  cat epoch: the course's 209 cat training images (``CNN_CORE_DATA_DIR``; skipped,
        saying why, without them), 12288-20-7-5-1 relu/sigmoid, momentum (beta 0.9,
        rate 0.0075), one epoch of shuffled mini-batches of 64 (3 of 64 and one of 17),
        float64 and float32
    W7  one layer of the course's convolutional network, forward + backward, on a batch
        of 64 random normal images 64x64x3, float64 and float32 (W7-conv1-f64 ...
        W7-pool2-f32): conv 3x3x3x8 pad 1 stride 1, max pool f=8 stride 8, conv
        3x3x8x16 pad 1 stride 1 on pool1's 8x8x8, max pool f=4 stride 4; the unit is one
        call (forward, then backward from a given output gradient)

On W7 the rows are cnn_core compiled and numpy (``cnn_core.conv``'s four functions
with ``backend=``), PyTorch eager (``F.conv2d``/``F.max_pool2d`` and
``torch.autograd.grad`` for the input, weight and bias gradients; channels-last, the
NHWC arrays viewed as NCHW, and a second row on NCHW copies made outside the timing),
JAX (``jax.jit`` of the forward and ``jax.vjp`` of ``cnn_core.reference.conv``'s layer)
and the course's loops (tests/_course_loops.py: float64 whatever the row's dtype, one
call, without warm-up, on the first 1 (conv1), 8 (pool1, conv2) or 64 (pool2)
examples, scaled to 64). GFLOP/s counts the convolution's ``Z``, ``dA_prev`` and ``dW``
multiply-adds; no G row. Before the timing every row's outputs are compared with the
compiled row's (the largest ``max |x - x_ref| / max |x_ref|``, printed under the table).

On W2 and W3 (more features than examples) "cnn_core Gram" is the compiled trainer on
the Gram path, its one-time set-up spread over 2500 iterations; the whole
2500-iteration run of both paths is timed too.

Implementations (each only if importable): cnn_core compiled (``cnn_core.kernels.Trainer``),
cnn_core NumPy (``cnn_core.training.NumpyTrainer``), JAX jit of a full step (the cost is
``cnn_core.reference``'s, differentiated by ``jax.grad``), PyTorch eager, scikit-learn
MLPClassifier (one full-batch SGD step through partial_fit) and G.

On W5 every row runs one whole epoch per call, and every row computes each batch's
cross-entropy (the epoch's mean loss) along with the step:

* cnn_core compiled and NumPy: ``training.make_epoch_trainer(..., optimizer="adam",
  output="softmax")`` and its ``run_epoch(permutation, rate, record_cost=True)``; a row
  reads "n/a (...)" while that API (or its compiled trainer) is missing;
* JAX jit: the whole epoch is one jitted call (``lax.scan`` over the 21 full batches,
  then the batch of 3; Adam written in ``jax.numpy``; the state buffers donated), the
  fastest of the formulations tried (a jitted step per batch was 4-5x slower);
* PyTorch eager: ``nn.Linear`` layers, ``CrossEntropyLoss``, ``torch.optim.Adam`` with
  ``fused=True`` (faster than its default and ``foreach`` on the CPU), the epoch's rows
  gathered once and split into batches; torch's own thread count (the machine's cores);
* scikit-learn: ``MLPClassifier(solver="adam", batch_size=64, shuffle=True, alpha=0)``,
  one ``partial_fit`` (exactly one epoch) per call;
* G: the matrix products of the epoch's 22 steps.

Every row draws its epoch's permutation from NumPy's global generator inside the timed
region (``np.random.permutation(m)``; scikit-learn draws its own the same way inside
``partial_fit``); all rows start from the same He-initialised parameters.

W6 is W5's protocol on the cat images with momentum (``v = beta v + (1 - beta) dW``,
``W -= rate v``) and a sigmoid output, and its ratios are to "cnn_core Gram":

* cnn_core Gram (compiled) and numpy Gram: ``make_epoch_trainer(..., optimizer="momentum",
  gram=True)``. Building the trainer computes ``K = X^T X`` and ``P0 = W1 X`` once
  (about 1.2 GFLOP); that one-time cost is printed apart and is in no row. The epochs
  run with ``run_epoch(permutation, rate, record_cost=True, sync=False)``, and
  ``trainer.sync()``, which writes W1 and its velocity (``2 x 2 n_1 m n_x`` flops, about
  one standard epoch's first layer), follows every GRAM_SYNC_EVERY epochs: a timed call
  is that block, and its time is divided by GRAM_SYNC_EVERY. (``improving.model`` syncs
  once per run, after all its epochs.) The sync's own time is printed too;
* cnn_core compiled and numpy: the same trainers with ``gram=False``, the standard path;
* JAX jit: W5's whole-epoch ``lax.scan``, momentum in ``jax.numpy``, the cost
  ``softplus(z) - y z`` of the logits;
* PyTorch eager: ``torch.optim.SGD(momentum=0.9, dampening=0.9)`` (``v = 0.9 v + 0.1 g``,
  fused where available) with its momentum buffers set to zeros before the first step
  (torch would otherwise start ``v = g``), ``BCEWithLogitsLoss``;
* scikit-learn: ``MLPClassifier(solver="sgd", momentum=0.9, nesterovs_momentum=False,
  batch_size=64, alpha=0)``, one ``partial_fit`` per epoch. Its momentum is
  ``u = beta u - rate' dW``, ``W += u``, which is the rows' update exactly when
  ``rate' = rate (1 - beta)``: it is given 0.00075 so that it trains the same iterates;
* G: the gemm calls of the standard path's 4 steps (the batch's X gathered in Fortran
  order, as the compiled trainer gathers it).

Before the timing every W6 row but G trains PARITY_EPOCHS epochs from the common start
with the same permutations (NumPy's generator seeded alike), and the script prints, per
row, the largest ``max |dp - dp_ref| / max |dp_ref|`` over the parameter arrays, where
``dp`` is an array's change from the start and ``ref`` the compiled standard path: the
rows train the same network on the same path of iterates. On the Gram rows the GFLOP/s
column divides the standard path's flops by the row's time (they compute fewer). W6's
timed blocks are half as long as the others' (``--block-seconds``), to keep its two
dtypes within about 40 s.
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
from cnn_core import datasets, deep, improving, preprocessing, training  # noqa: E402


# ---------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------

class Workload:
    #: What one timed call runs, and what the flops are counted over.
    unit, flops_per = "iteration", "step"
    #: The row the ratios are to, and its short name in the table's header.
    base_row, base_label = "cnn_core compiled", "compiled"
    #: Rows whose GFLOP/s divides the standard path's flops (they compute fewer).
    equivalent_flops_rows = ()
    #: The timed blocks' length relative to ``--block-seconds``.
    block_scale = 1.0

    def check(self, runners):
        """Checks run on the fresh runners before any timing; a dict for the results."""
        return {}

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

    def implementations(self):
        return IMPLEMENTATIONS

    def gemm_inputs(self):
        """The first layer's input of each step's products (one step: the whole batch)."""
        return [self.X]


class EpochWorkload(Workload):
    """One epoch of mini-batch Adam on a softmax network; ``labels`` ``(1, m)`` class
    indices. ``X`` ``(n_x, m)`` and the one-hot ``Y`` ``(K, m)`` are C-contiguous, as
    ``make_epoch_trainer`` takes them; ``X_rows`` ``(m, n_x)`` is for the peers that take
    rows as examples. The parameters are He-initialised as the course does."""

    unit, flops_per = "epoch", "epoch"

    def __init__(self, name, description, X, labels, dims, hidden, rate, mini_batch_size,
                 dtype=np.float64):
        self.name, self.description = name, description
        self.dims, self.hidden, self.rate, self.dtype = list(dims), hidden, rate, dtype
        self.mini_batch_size = mini_batch_size
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.X_rows = np.ascontiguousarray(self.X.T)
        self.labels = np.asarray(labels).ravel().astype(np.int64)
        self.Y = np.ascontiguousarray(np.eye(self.dims[-1], dtype=dtype)[:, self.labels])
        he = improving.initialize_parameters_he(self.dims)
        self.parameters = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in he.items()}

    def implementations(self):
        return EPOCH_IMPLEMENTATIONS

    def batch_sizes(self):
        full, rest = divmod(self.X.shape[1], self.mini_batch_size)
        return [self.mini_batch_size] * full + ([rest] if rest else [])

    def gemm_inputs(self):
        return [np.ascontiguousarray(self.X[:, :size]) for size in self.batch_sizes()]


class MomentumEpochWorkload(EpochWorkload):
    """One epoch of mini-batch momentum on a sigmoid network (W6). ``X`` ``(n_x, m)``
    keeps its layout (the cat data is Fortran-ordered, one contiguous column per
    example, as the compiled trainer reads it, so that ``X_rows = X.T`` is C-ordered);
    ``Y`` ``(1, m)`` holds the 0/1 labels. He-initialised parameters."""

    base_row, base_label = "cnn_core Gram", "Gram"
    equivalent_flops_rows = ("cnn_core Gram", "cnn_core numpy Gram")
    block_scale = 0.5  # both dtypes' eight rows in about 40 s at --repeats 5

    def __init__(self, name, description, X, Y, dims, hidden, rate, mini_batch_size, beta,
                 dtype=np.float64):
        self.name, self.description = name, description
        self.dims, self.hidden, self.rate, self.dtype = list(dims), hidden, rate, dtype
        self.mini_batch_size, self.beta = mini_batch_size, beta
        self.X = np.asarray(X, dtype=dtype)
        self.X_rows = np.ascontiguousarray(self.X.T)  # no copy when X is Fortran-ordered
        self.labels = np.asarray(Y).ravel().astype(np.int64)
        self.Y = np.ascontiguousarray(np.asarray(Y).reshape(1, -1), dtype=dtype)
        he = improving.initialize_parameters_he(self.dims)
        self.parameters = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in he.items()}

    def implementations(self):
        return MOMENTUM_EPOCH_IMPLEMENTATIONS

    def gemm_inputs(self):
        return [np.asfortranarray(self.X[:, :size]) for size in self.batch_sizes()]

    def check(self, runners):
        """The parity of the rows (see the module's docstring) and the Gram rows'
        one-time and sync seconds."""
        start = {k: v.astype(np.float64) for k, v in self.parameters.items()}
        changes = {}
        for name, run in runners.items():
            if not hasattr(run, "train"):
                continue
            np.random.seed(PARITY_SEED)
            run.train(PARITY_EPOCHS)
            changes[name] = {k: np.asarray(v, np.float64) - start[k]
                             for k, v in run.parameters().items()}
        reference = changes.get("cnn_core compiled")
        parity = {}
        if reference is not None:
            for name, change in changes.items():
                if name != "cnn_core compiled":
                    parity[name] = max(float(np.max(np.abs(change[k] - reference[k]))
                                             / np.max(np.abs(reference[k])))
                                       for k in reference)
        return {
            "parity_epochs": PARITY_EPOCHS, "parity_reference": "cnn_core compiled",
            "parity_max_relative_difference": parity,
            "gram_sync_every": GRAM_SYNC_EVERY,
            "one_time_seconds": {name: run.one_time_seconds for name, run in runners.items()
                                 if hasattr(run, "one_time_seconds")},
            "sync_seconds": {name: run.sync_seconds for name, run in runners.items()
                             if hasattr(run, "sync_seconds")},
        }


class SkippedWorkload:
    """A workload that cannot run here, and why."""

    def __init__(self, name, reason):
        self.name, self.reason = name, reason


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
    workloads = [
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
    try:
        X_digits, y_digits, _, _ = datasets.load_digits()
    except ImportError:  # scikit-learn missing: no digits, and no MLP peer anyway
        X_digits = None
    if X_digits is not None:
        m = X_digits.shape[1]
        for suffix, dtype in (("f64", np.float64), ("f32", np.float32)):
            workloads.append(EpochWorkload(
                f"W5-{suffix}", f"digits epoch 64-64-10 relu/softmax, Adam, batches of "
                f"{DIGITS_BATCH}, m={m}, {np.dtype(dtype).name}", X_digits, y_digits,
                [64, 64, 10], "relu", DIGITS_RATE, DIGITS_BATCH, dtype=dtype))
    for dtype in (np.float64, np.float32):
        for layer in LAYERS:
            workloads.append(LayerWorkload(layer, dtype))
    if cat_source != "real cat images":
        workloads.append(SkippedWorkload(
            "W6", "the course's cat images are needed: set CNN_CORE_DATA_DIR to the folder "
            "holding train_catvnoncat.h5"))
        return workloads
    m = X_cat.shape[1]
    for suffix, dtype in (("f64", np.float64), ("f32", np.float32)):
        workloads.append(MomentumEpochWorkload(
            f"W6-{suffix}", f"cat epoch 12288-20-7-5-1 relu/sigmoid, momentum {CAT_BETA}, "
            f"rate {CAT_RATE}, batches of {CAT_BATCH}, m={m} ({cat_source}), "
            f"{np.dtype(dtype).name}", X_cat, Y_cat, [12288, 20, 7, 5, 1], "relu",
            CAT_RATE, CAT_BATCH, CAT_BETA, dtype=dtype))
    return workloads


#: W5's hyper-parameters, the same for every implementation (the rate is the default of
#: scikit-learn's and PyTorch's Adam).
DIGITS_RATE, DIGITS_BATCH = 0.001, 64
ADAM = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

#: W6's hyper-parameters, the same for every implementation (the rate of the course's
#: cat models), and its protocol: a sync of the Gram rows every GRAM_SYNC_EVERY epochs;
#: the parity check's epochs and seed.
CAT_RATE, CAT_BATCH, CAT_BETA = 0.0075, 64, 0.9
GRAM_SYNC_EVERY = 100
PARITY_EPOCHS, PARITY_SEED = 3, 2


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
    if (not cnn_core.HAVE_EXTENSION or w.unit != "iteration" or not hasattr(w, "X")
            or w.X.shape[0] <= w.X.shape[1]):
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
    """G: the matrix products of one step (of every step of the epoch on W5) and nothing
    else, through the BLAS cnn_core calls (scipy's), with the same operand layouts and the
    update's beta = 1."""
    from scipy.linalg import blas

    gemm = blas.dgemm if w.dtype == np.float64 else blas.sgemm
    params = w.fresh_parameters()
    L = len(w.dims) - 1
    steps = []
    for X in w.gemm_inputs():
        m = X.shape[1]
        A = [X] + [np.empty((n, m), w.dtype) for n in w.dims[1:]]
        dZ = [None] + [np.full((n, m), 0.01, w.dtype) for n in w.dims[1:]]
        steps.append((A, dZ, not X.flags.c_contiguous))

    def transposed(A, x_fortran, l):
        """A[l]^T as a Fortran-ordered operand and its trans flag for gemm."""
        if l == 0 and x_fortran:
            return A[0], 1
        return A[l].T, 0

    def run(k):
        for _ in range(k):
            for A, dZ, x_fortran in steps:
                for l in range(1, L + 1):  # Z^T = A_prev^T W^T
                    a, ta = transposed(A, x_fortran, l - 1)
                    gemm(1.0, a, params[f"W{l}"].T, trans_a=ta, c=A[l].T, overwrite_c=1)
                for l in range(L, 0, -1):
                    if l > 1:  # dA_prev^T = dZ^T W
                        gemm(1.0, dZ[l].T, params[f"W{l}"].T, trans_b=1, c=dZ[l - 1].T,
                             overwrite_c=1)
                    a, ta = transposed(A, x_fortran, l - 1)  # W^T += alpha A_prev dZ^T
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


# ---------------------------------------------------------------------------------------
# W5: one epoch of mini-batch Adam with a softmax output. Each returns a function running
# k epochs, None if unavailable, or a string saying why a cnn_core row is not available.
# ---------------------------------------------------------------------------------------

def cnn_core_epoch(backend):
    """cnn_core's epoch trainer on ``backend`` (``training.make_epoch_trainer``)."""
    def factory(w):
        if backend == "cython" and not cnn_core.HAVE_EXTENSION:
            return None
        make = getattr(training, "make_epoch_trainer", None)
        if make is None:
            return "n/a (needs make_epoch_trainer)"
        try:
            trainer = make(w.X, w.Y, w.fresh_parameters(), hidden=w.hidden,
                           output="softmax", optimizer="adam",
                           mini_batch_size=w.mini_batch_size, **ADAM, backend=backend)
        except (AttributeError, NotImplementedError) as exc:  # e.g. no compiled trainer yet
            return f"n/a ({type(exc).__name__}: {exc})"
        m = w.X.shape[1]

        def run(k):
            for _ in range(k):
                trainer.run_epoch(np.random.permutation(m).astype(np.int64, copy=False),
                                  w.rate, record_cost=True)
        return run
    return factory


def jax_epoch(w):
    """``jax.jit`` of a whole epoch: ``lax.scan`` of the step over the full batches, then
    the remainder batch; Adam in ``jax.numpy``; rows as examples."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    if w.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)  # as cnn_core.reference does
    L = len(w.dims) - 1
    m, size = w.X.shape[1], w.mini_batch_size
    full = m // size
    beta1, beta2, epsilon, rate = ADAM["beta1"], ADAM["beta2"], ADAM["epsilon"], w.rate
    X = jnp.asarray(w.X_rows)
    Y = jnp.asarray(np.ascontiguousarray(w.Y.T))
    params = {}
    for l in range(1, L + 1):  # x @ W^T + b: stored transposed for row-major products
        params[f"W{l}"] = jnp.asarray(np.ascontiguousarray(w.parameters[f"W{l}"].T))
        params[f"b{l}"] = jnp.asarray(w.parameters[f"b{l}"].ravel())

    def loss(p, x, y):
        a = x
        for l in range(1, L):
            a = jax.nn.relu(a @ p[f"W{l}"] + p[f"b{l}"])
        z = a @ p[f"W{L}"] + p[f"b{L}"]
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(z, axis=1), axis=1))

    def step(state, batch):
        p, v, s, t = state
        x, y = batch
        value, g = jax.value_and_grad(loss)(p, x, y)
        t = t + 1
        v = jax.tree.map(lambda v_, g_: beta1 * v_ + (1 - beta1) * g_, v, g)
        s = jax.tree.map(lambda s_, g_: beta2 * s_ + (1 - beta2) * g_ * g_, s, g)
        c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
        p = jax.tree.map(lambda p_, v_, s_: p_ - rate * (v_ / c1)
                         / (jnp.sqrt(s_ / c2) + epsilon), p, v, s)
        return (p, v, s, t), value * x.shape[0]

    def epoch(state, permutation):
        Xp, Yp = X[permutation], Y[permutation]
        xs = Xp[:full * size].reshape(full, size, -1)
        ys = Yp[:full * size].reshape(full, size, -1)
        state, costs = jax.lax.scan(step, state, (xs, ys))
        if m > full * size:
            state, last = step(state, (Xp[full * size:], Yp[full * size:]))
            costs = jnp.append(costs, last)
        return state, jnp.sum(costs) / m

    run_epoch = jax.jit(epoch, donate_argnums=0)
    def zeros():
        return {k: jnp.zeros_like(v) for k, v in params.items()}
    holder = {"state": (params, zeros(), zeros(), jnp.zeros((), w.dtype))}

    def run(k):
        for _ in range(k):
            holder["state"], cost = run_epoch(holder["state"], np.random.permutation(m))
        cost.block_until_ready()
    run(1)  # compile outside the timing
    return run


def torch_epoch(w):
    """PyTorch eager: ``nn.Linear`` layers, ``CrossEntropyLoss``, ``optim.Adam``."""
    try:
        import torch
    except ImportError:
        return None
    L = len(w.dims) - 1
    dtype = torch.float64 if w.dtype == np.float64 else torch.float32
    layers = []
    for l in range(1, L + 1):
        linear = torch.nn.Linear(w.dims[l - 1], w.dims[l], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.parameters[f"W{l}"]))
            linear.bias.copy_(torch.from_numpy(w.parameters[f"b{l}"].ravel()))
        layers += [linear, torch.nn.ReLU()] if l < L else [linear]
    net = torch.nn.Sequential(*layers)
    options = dict(lr=w.rate, betas=(ADAM["beta1"], ADAM["beta2"]), eps=ADAM["epsilon"])
    try:
        optimizer = torch.optim.Adam(net.parameters(), fused=True, **options)
    except (RuntimeError, TypeError, ValueError):  # no fused Adam for this build
        optimizer = torch.optim.Adam(net.parameters(), **options)
    loss_fn = torch.nn.CrossEntropyLoss()
    X = torch.from_numpy(w.X_rows)
    y = torch.from_numpy(w.labels)
    m, size = w.X.shape[1], w.mini_batch_size

    def run(k):
        for _ in range(k):
            permutation = torch.from_numpy(np.random.permutation(m))
            for x, t in zip(X[permutation].split(size), y[permutation].split(size)):
                optimizer.zero_grad()
                loss = loss_fn(net(x), t)
                loss.backward()
                optimizer.step()
    return run


def sklearn_epoch(w):
    """scikit-learn's MLPClassifier: one ``partial_fit`` is one epoch of shuffled
    mini-batches; its weights are set to the workload's after the first call."""
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    import warnings

    clf = MLPClassifier(hidden_layer_sizes=tuple(w.dims[1:-1]), activation=w.hidden,
                        solver="adam", learning_rate_init=w.rate, beta_1=ADAM["beta1"],
                        beta_2=ADAM["beta2"], epsilon=ADAM["epsilon"], alpha=0.0,
                        batch_size=w.mini_batch_size, shuffle=True)
    classes = np.arange(w.dims[-1])

    def run(k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(k):
                clf.partial_fit(w.X_rows, w.labels, classes=classes)
    run(1)
    L = len(w.dims) - 1
    for l in range(1, L + 1):  # in place: its Adam holds these very arrays
        clf.coefs_[l - 1][...] = w.parameters[f"W{l}"].T
        clf.intercepts_[l - 1][...] = w.parameters[f"b{l}"].ravel()
    return run


EPOCH_IMPLEMENTATIONS = [
    ("cnn_core compiled", cnn_core_epoch("cython")),
    ("cnn_core numpy", cnn_core_epoch("numpy")),
    ("JAX jit", jax_epoch),
    ("PyTorch eager", torch_epoch),
    ("sklearn MLP", sklearn_epoch),
    ("G", gemm_floor),
]


# ---------------------------------------------------------------------------------------
# W6: one epoch of mini-batch momentum with a sigmoid output. Each returns, as on W5, a
# function running k timed calls (or None, or a reason), which also has ``train(n)``: n
# epochs, W1 then written (the parity check), and ``parameters()``: the current
# parameters as cnn_core lays them out.
# ---------------------------------------------------------------------------------------

def _parameters_from_rows(weights, biases):
    """cnn_core's ``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}`` from per-layer weights laid
    out ``(n_(l-1), n_l)`` (rows as examples) and flat biases."""
    out = {}
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        out[f"W{l}"] = np.array(W).T
        out[f"b{l}"] = np.array(b).reshape(-1, 1)
    return out


def cnn_core_momentum_epoch(backend, gram):
    """cnn_core's epoch trainer with momentum on ``backend``, on the Gram path or not.
    On the Gram path a timed call is GRAM_SYNC_EVERY epochs and one sync; the trainer's
    construction (K = X^T X) is timed apart, the best of three."""
    def factory(w):
        if backend == "cython" and not cnn_core.HAVE_EXTENSION:
            return None
        make = getattr(training, "make_epoch_trainer", None)
        if make is None:
            return "n/a (needs make_epoch_trainer)"
        params = w.fresh_parameters()
        try:
            setups = []
            for _ in range(3 if gram else 1):  # the same start each time: no epoch yet
                start = time.perf_counter()
                trainer = make(w.X, w.Y, params, hidden=w.hidden, output="sigmoid",
                               optimizer="momentum", beta=w.beta,
                               mini_batch_size=w.mini_batch_size, gram=gram,
                               backend=backend)
                setups.append(time.perf_counter() - start)
        except (AttributeError, NotImplementedError) as exc:
            return f"n/a ({type(exc).__name__}: {exc})"
        m = w.X.shape[1]

        def epochs(n):
            for _ in range(n):
                trainer.run_epoch(np.random.permutation(m).astype(np.int64, copy=False),
                                  w.rate, record_cost=True, sync=False)

        def train(n):
            epochs(n)
            trainer.sync()  # a no-op off the Gram path

        if gram:
            def run(k):
                for _ in range(k):
                    train(GRAM_SYNC_EVERY)
            run.epochs_per_call = GRAM_SYNC_EVERY
            run.one_time_seconds = min(setups)
            syncs = []
            for _ in range(5):  # W1 = c W0 + S X^T: at the start, W0 again
                start = time.perf_counter()
                trainer.sync()
                syncs.append(time.perf_counter() - start)
            run.sync_seconds = statistics.median(syncs)
        else:
            run = epochs
        run.train = train
        run.parameters = lambda: {k: v.copy() for k, v in params.items()}
        return run
    return factory


def jax_momentum_epoch(w):
    """``jax.jit`` of a whole epoch as on W5 (``lax.scan`` over the full batches, then the
    remainder), momentum in ``jax.numpy``, the sigmoid's cross-entropy from the logits."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    if w.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    L = len(w.dims) - 1
    m, size, beta, rate = w.X.shape[1], w.mini_batch_size, w.beta, w.rate
    full = m // size
    X = jnp.asarray(w.X_rows)
    Y = jnp.asarray(np.ascontiguousarray(w.Y.T))

    def loss(p, x, y):
        a = x
        for l in range(1, L):
            a = jax.nn.relu(a @ p[f"W{l}"] + p[f"b{l}"])
        z = a @ p[f"W{L}"] + p[f"b{L}"]
        return jnp.mean(jax.nn.softplus(z) - y * z)

    def step(state, batch):
        p, v = state
        x, y = batch
        value, g = jax.value_and_grad(loss)(p, x, y)
        v = jax.tree.map(lambda v_, g_: beta * v_ + (1 - beta) * g_, v, g)
        p = jax.tree.map(lambda p_, v_: p_ - rate * v_, p, v)
        return (p, v), value * x.shape[0]

    def epoch(state, permutation):
        Xp, Yp = X[permutation], Y[permutation]
        xs = Xp[:full * size].reshape(full, size, -1)
        ys = Yp[:full * size].reshape(full, size, -1)
        state, costs = jax.lax.scan(step, state, (xs, ys))
        if m > full * size:
            state, last = step(state, (Xp[full * size:], Yp[full * size:]))
            costs = jnp.append(costs, last)
        return state, jnp.sum(costs) / m

    run_epoch = jax.jit(epoch, donate_argnums=0)

    def fresh():
        """The start (copies: the state's buffers are donated)."""
        params = {}
        for l in range(1, L + 1):  # x @ W^T + b: stored transposed
            params[f"W{l}"] = jnp.array(w.parameters[f"W{l}"].T, copy=True)
            params[f"b{l}"] = jnp.array(w.parameters[f"b{l}"].ravel(), copy=True)
        return params, {k: jnp.zeros_like(v) for k, v in params.items()}

    _, cost = run_epoch(fresh(), np.random.permutation(m))  # compile, on a throwaway state
    cost.block_until_ready()
    holder = {"state": fresh()}

    def run(k):
        for _ in range(k):
            holder["state"], cost = run_epoch(holder["state"], np.random.permutation(m))
        if k:
            cost.block_until_ready()
    run.train = run

    def parameters():
        p = holder["state"][0]
        return _parameters_from_rows([p[f"W{l}"] for l in range(1, L + 1)],
                                     [p[f"b{l}"] for l in range(1, L + 1)])
    run.parameters = parameters
    return run


def torch_momentum_epoch(w):
    """PyTorch eager: ``nn.Linear`` layers, ``BCEWithLogitsLoss``, ``optim.SGD`` with
    ``momentum = dampening = beta`` and zero momentum buffers at the start."""
    try:
        import torch
    except ImportError:
        return None
    L = len(w.dims) - 1
    dtype = torch.float64 if w.dtype == np.float64 else torch.float32
    layers, linears = [], []
    for l in range(1, L + 1):
        linear = torch.nn.Linear(w.dims[l - 1], w.dims[l], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.parameters[f"W{l}"]))
            linear.bias.copy_(torch.from_numpy(w.parameters[f"b{l}"].ravel()))
        linears.append(linear)
        layers += [linear, torch.nn.ReLU()] if l < L else [linear]
    net = torch.nn.Sequential(*layers)
    options = dict(lr=w.rate, momentum=w.beta, dampening=w.beta)
    try:
        optimizer = torch.optim.SGD(net.parameters(), fused=True, **options)
    except (RuntimeError, TypeError, ValueError):  # no fused SGD for this build
        optimizer = torch.optim.SGD(net.parameters(), **options)
    for p in net.parameters():  # v = beta v + (1 - beta) g from v = 0, not v = g first
        optimizer.state[p]["momentum_buffer"] = torch.zeros_like(p)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    X = torch.from_numpy(w.X_rows)
    Y = torch.from_numpy(np.ascontiguousarray(w.Y.T))
    m, size = w.X.shape[1], w.mini_batch_size

    def run(k):
        for _ in range(k):
            permutation = torch.from_numpy(np.random.permutation(m))
            for x, t in zip(X[permutation].split(size), Y[permutation].split(size)):
                optimizer.zero_grad()
                loss = loss_fn(net(x), t)
                loss.backward()
                optimizer.step()
    run.train = run
    run.parameters = lambda: _parameters_from_rows(
        [linear.weight.detach().numpy().T for linear in linears],
        [linear.bias.detach().numpy() for linear in linears])
    return run


def sklearn_momentum_epoch(w):
    """scikit-learn's MLPClassifier with SGD and (heavy-ball) momentum, one
    ``partial_fit`` per epoch, its rate ``rate (1 - beta)`` (see the module's docstring);
    its weights set to the workload's, and its velocities to zero, after the first call."""
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    import warnings

    clf = MLPClassifier(hidden_layer_sizes=tuple(w.dims[1:-1]), activation=w.hidden,
                        solver="sgd", learning_rate="constant",
                        learning_rate_init=w.rate * (1 - w.beta), momentum=w.beta,
                        nesterovs_momentum=False, alpha=0.0,
                        batch_size=w.mini_batch_size, shuffle=True)
    classes = np.array([0, 1])

    def run(k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(k):
                clf.partial_fit(w.X_rows, w.labels, classes=classes)
    run(1)
    L = len(w.dims) - 1
    for l in range(1, L + 1):  # in place: its optimizer holds these very arrays
        clf.coefs_[l - 1][...] = w.parameters[f"W{l}"].T
        clf.intercepts_[l - 1][...] = w.parameters[f"b{l}"].ravel()
    velocities = getattr(getattr(clf, "_optimizer", None), "velocities", None)
    if velocities is not None:
        for v in velocities:
            v[...] = 0
        run.train = run  # the same start only when the velocities could be reset
    run.parameters = lambda: _parameters_from_rows(clf.coefs_, clf.intercepts_)
    return run


MOMENTUM_EPOCH_IMPLEMENTATIONS = [
    ("cnn_core Gram", cnn_core_momentum_epoch("cython", gram=True)),
    ("cnn_core compiled", cnn_core_momentum_epoch("cython", gram=False)),
    ("cnn_core numpy Gram", cnn_core_momentum_epoch("numpy", gram=True)),
    ("cnn_core numpy", cnn_core_momentum_epoch("numpy", gram=False)),
    ("JAX jit", jax_momentum_epoch),
    ("PyTorch eager", torch_momentum_epoch),
    ("sklearn MLP", sklearn_momentum_epoch),
    ("G", gemm_floor),
]


IMPLEMENTATIONS = [
    ("cnn_core compiled", cnn_core_compiled),
    ("cnn_core Gram", cnn_core_gram),
    ("cnn_core numpy", cnn_core_numpy),
    ("JAX jit", jax_step),
    ("PyTorch eager", torch_eager),
    ("sklearn MLP", sklearn_mlp),
    ("G", gemm_floor),
]

# ---------------------------------------------------------------------------------------
# W7: one convolution or pooling layer, forward + backward, at the course's sizes.
# ---------------------------------------------------------------------------------------

#: The course's network on a batch of 64 images 64x64x3: (name, kind, input shape,
#: hyper-parameters, n_C for a convolution); the second conv reads pool1's 8x8x8.
#: ``course_batch`` is the sub-batch the course's loops run on (their time is scaled
#: to the 64 images): the full batch of conv1 would take about a minute per call.
LAYER_BATCH = 64
LAYERS = [
    ("conv1", "conv", (LAYER_BATCH, 64, 64, 3), {"f": 3, "stride": 1, "pad": 1}, 8, 1),
    ("pool1", "pool", (LAYER_BATCH, 64, 64, 8), {"f": 8, "stride": 8}, None, 8),
    ("conv2", "conv", (LAYER_BATCH, 8, 8, 8), {"f": 3, "stride": 1, "pad": 1}, 16, 8),
    ("pool2", "pool", (LAYER_BATCH, 8, 8, 16), {"f": 4, "stride": 4}, None, 64),
]


class LayerWorkload(Workload):
    """One layer's forward and backward pass on random normal data (W7): a convolution
    (``Z`` and ``dA_prev, dW, db`` from a given ``dZ``) or a max pooling (``A`` and
    ``dA_prev`` from a given ``dA``). No G row: the flops are the convolution's
    multiply-adds, ``2 m n_H n_W n_C f^2 n_C_prev`` for each of ``Z``, ``dA_prev`` and
    ``dW`` (pooling: none counted)."""

    unit, flops_per = "call", "forward + backward"
    block_scale = 0.5
    settle_seconds = 0.15

    def __init__(self, layer, dtype):
        name, kind, shape, hp, n_C, course_batch = layer
        self.kind, self.hp, self.dtype, self.course_batch = kind, dict(hp), dtype, course_batch
        self.scaled_note = {"course loops": f"  (one call on {course_batch} of {shape[0]} "
                                             f"examples, x{shape[0] / course_batch:g}; "
                                             f"float64)"}
        self.name = f"W7-{name}-{'f64' if dtype == np.float64 else 'f32'}"
        rng = np.random.default_rng(7)
        self.A = rng.standard_normal(shape).astype(dtype)
        f = hp["f"]
        if kind == "conv":
            p, s = hp["pad"], hp["stride"]
            self.W = rng.standard_normal((f, f, shape[3], n_C)).astype(dtype)
            self.b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
            n_H = (shape[1] - f + 2 * p) // s + 1
            n_W = (shape[2] - f + 2 * p) // s + 1
            out = (shape[0], n_H, n_W, n_C)
            what = (f"conv {f}x{f}x{shape[3]}x{n_C} pad {p} stride {s} on {shape[0]} x "
                    f"{shape[1]}x{shape[2]}x{shape[3]}")
        else:
            s = hp["stride"]
            out = (shape[0], (shape[1] - f) // s + 1, (shape[2] - f) // s + 1, shape[3])
            what = f"max pool f={f} stride {s} on {shape[0]} x {shape[1]}x{shape[2]}x{shape[3]}"
        self.out_shape = out
        self.dZ = rng.standard_normal(out).astype(dtype)
        self.description = f"{what}, forward + backward, {np.dtype(dtype).name}"

    def flops(self):
        if self.kind != "conv":
            return None
        m, n_H, n_W, n_C = self.out_shape
        f, n_C_prev = self.W.shape[0], self.W.shape[2]
        return 3 * 2 * m * n_H * n_W * n_C * f * f * n_C_prev

    def implementations(self):
        return LAYER_IMPLEMENTATIONS

    def check(self, runners):
        """Each row's outputs against the compiled row's, once, before the timing:
        the largest ``max |x - x_ref| / max |x_ref|`` over the returned arrays (not the
        course's loops: tests/test_conv.py compares them)."""
        ref = runners.get(self.base_row)
        if ref is None or not hasattr(ref, "outputs"):
            return {}
        expected = [np.asarray(x, np.float64) for x in ref.outputs()]
        diffs = {}
        for name, run in runners.items():
            if name == self.base_row or not hasattr(run, "outputs"):
                continue
            pairs = zip((np.asarray(x, np.float64) for x in run.outputs()), expected)
            diffs[name] = max(float(np.max(np.abs(g - e)) / max(np.max(np.abs(e)), 1e-300))
                              for g, e in pairs)
        return {"max_relative_difference_to_compiled": diffs}


def _repeat(once):
    def run(k):
        for _ in range(k):
            once()
    run.outputs = once
    return run


def layer_cnn_core(backend):
    def factory(w):
        from cnn_core import conv
        if backend == "cython" and not cnn_core.HAVE_EXTENSION:
            return None
        if w.kind == "conv":
            def once():
                Z, cache = conv.conv_forward(w.A, w.W, w.b, w.hp, backend=backend)
                return (Z,) + tuple(conv.conv_backward(w.dZ, cache, backend=backend))
        else:
            def once():
                A, cache = conv.pool_forward(w.A, w.hp, "max", backend=backend)
                return A, conv.pool_backward(w.dZ, cache, "max", backend=backend)
        return _repeat(once)
    return factory


def layer_torch(channels_last):
    """``F.conv2d`` / ``F.max_pool2d``, then ``torch.autograd.grad`` of the given output
    gradient for the input, the weights and the bias. Channels-last: the NHWC arrays
    viewed as NCHW (no copy), the weights in ``torch.channels_last``; otherwise (the
    "NCHW" row) input, gradient and weights copied to contiguous NCHW once, outside the
    timing (torch's float64 convolution is far slower channels-last, on this build)."""
    def factory(w):
        try:
            import torch
        except ImportError:
            return None
        return _layer_torch(w, torch, channels_last)
    return factory


def _layer_torch(w, torch, channels_last):
    import torch.nn.functional as F
    A = torch.from_numpy(w.A).permute(0, 3, 1, 2)
    dZ = torch.from_numpy(w.dZ).permute(0, 3, 1, 2)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    if not channels_last:
        A, dZ = A.contiguous(), dZ.contiguous()
    back = lambda t: t.permute(0, 2, 3, 1).numpy()  # noqa: E731
    if w.kind == "conv":
        Wt = torch.from_numpy(np.ascontiguousarray(w.W.transpose(3, 2, 0, 1))).to(
            memory_format=layout).requires_grad_(True)
        bt = torch.from_numpy(w.b.reshape(-1).copy()).requires_grad_(True)
        A.requires_grad_(True)
        s, p = w.hp["stride"], w.hp["pad"]

        def once():
            Z = F.conv2d(A, Wt, bt, stride=s, padding=p)
            dA, dW, db = torch.autograd.grad(Z, (A, Wt, bt), dZ)
            return (back(Z.detach()), back(dA), dW.permute(2, 3, 1, 0).numpy(),
                    db.numpy().reshape(1, 1, 1, -1))
    else:
        A.requires_grad_(True)
        f, s = w.hp["f"], w.hp["stride"]

        def once():
            Z = F.max_pool2d(A, f, s)
            (dA,) = torch.autograd.grad(Z, (A,), dZ)
            return back(Z.detach()), back(dA)
    return _repeat(once)


def layer_jax(w):
    """``jax.jit`` of the forward and ``jax.vjp`` of ``cnn_core.reference.conv``'s
    ``conv_layer`` or ``pool_layer``, compiled in the warm-up, outside the timing."""
    try:
        import jax
        import jax.numpy as jnp
        from cnn_core.reference import conv as reference_conv
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    if w.kind == "conv":
        s, p = w.hp["stride"], w.hp["pad"]
        layer = lambda a, W, b: reference_conv.conv_layer(a, W, b, s, p)  # noqa: E731
        args = (w.A, w.W, w.b)
    else:
        f, s = w.hp["f"], w.hp["stride"]
        layer = lambda a: reference_conv.pool_layer(a, f, s, "max")  # noqa: E731
        args = (w.A,)

    @jax.jit
    def step(args, dZ):
        Z, pullback = jax.vjp(layer, *args)
        return (Z,) + tuple(pullback(dZ))
    args = tuple(jnp.asarray(x) for x in args)
    dZ = jnp.asarray(w.dZ)
    once = lambda: jax.block_until_ready(step(args, dZ))  # noqa: E731
    return _repeat(once)


def layer_course_loops(w):
    """The course's four loops (tests/_course_loops.py), float64 whatever the row's
    dtype, on the first ``course_batch`` examples, timed once (one call, no warm-up)
    and scaled to the batch of 64."""
    import importlib.util
    path = os.path.join(os.path.dirname(HERE), "tests", "_course_loops.py")
    if not os.path.exists(path):
        return "n/a (tests/_course_loops.py not found)"
    spec = importlib.util.spec_from_file_location("_course_loops", path)
    loops = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loops)
    k = w.course_batch
    A, dZ = w.A[:k], w.dZ[:k]
    if w.kind == "conv":
        hp = {"stride": w.hp["stride"], "pad": w.hp["pad"]}

        def once():
            Z = loops.conv_forward(A, w.W, w.b, hp)
            return (Z,) + tuple(loops.conv_backward(dZ, A, w.W, hp))
    else:
        hp = {"f": w.hp["f"], "stride": w.hp["stride"]}

        def once():
            return loops.pool_forward(A, hp, "max"), loops.pool_backward(dZ, A, hp, "max")

    def run(n):
        for _ in range(n):
            once()
    run.once = True
    run.sub_batch = k
    run.epochs_per_call = k / LAYER_BATCH  # time / (k / 64): scaled to the full batch
    return run


LAYER_IMPLEMENTATIONS = [
    ("cnn_core compiled", layer_cnn_core("cython")),
    ("cnn_core numpy", layer_cnn_core("numpy")),
    ("PyTorch NHWC", layer_torch(channels_last=True)),
    ("PyTorch NCHW", layer_torch(channels_last=False)),
    ("JAX jit", layer_jax),
    ("course loops", layer_course_loops),
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
    """Median seconds per iteration (or epoch) of each available implementation, and
    the reasons of those that say why they are not available."""
    built, unavailable = {}, {}
    for name, factory in workload.implementations():
        run = factory(workload)
        if isinstance(run, str):
            unavailable[name] = run
        elif run is not None:
            built[name] = run
    checks = workload.check(built)  # from the common start, before any warm-up
    runners = {}
    for name, run in built.items():
        if getattr(run, "once", False):  # too slow to repeat: one call, no warm-up
            runners[name] = (run, 1)
            continue
        run(1)  # warm-up
        runners[name] = (run, _block_size(run, target_seconds))
    samples = {name: [] for name in runners}
    settle = getattr(workload, "settle_seconds", SETTLE_SECONDS)
    for repeat in range(repeats):
        for name, (run, k) in runners.items():
            if repeat and getattr(run, "once", False):
                continue
            time.sleep(settle)
            start = time.perf_counter()
            run(k)
            per_call = getattr(run, "epochs_per_call", 1)
            samples[name].append((time.perf_counter() - start) / (k * per_call))
    times = {name: statistics.median(values) for name, values in samples.items()}
    for name, (run, _) in runners.items():
        if hasattr(run, "setup_seconds"):
            times[name] += run.setup_seconds / AMORTISE_OVER
    return times, unavailable, checks


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


def print_checks(checks):
    """W6's lines under its table: the Gram rows' one-time and sync seconds, the parity."""
    print("  * the standard path's flops over the row's time (the Gram path computes "
          "fewer)")
    every = checks["gram_sync_every"]
    for name, seconds in checks["one_time_seconds"].items():
        print(f"  {name}: one-time set-up (building the trainer: K = X^T X, P0 = W1 X) "
              f"{seconds:.3e} s, in no row; sync (W1 and its velocity) "
              f"{checks['sync_seconds'][name]:.3e} s, in the row once per {every} epochs")
    parity = checks["parity_max_relative_difference"]
    if parity:
        print(f"  parity after {checks['parity_epochs']} epochs from the same start and "
              f"permutations, max |dp - dp_ref| / max |dp_ref| over the parameter arrays "
              f"(dp: the change from the start; ref: {checks['parity_reference']}):")
        print("    " + ", ".join(f"{name} {value:.1e}" for name, value in parity.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--block-seconds", type=float, default=0.2,
                        help="length of one timed block (default 0.2 s; W6's are half "
                             "as long)")
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
        if isinstance(workload, SkippedWorkload):
            print(f"\n{workload.name}: skipped: {workload.reason}")
            results["workloads"][workload.name] = {"skipped": workload.reason}
            continue
        times, unavailable, checks = measure(workload, args.repeats,
                                             args.block_seconds * workload.block_scale)
        base = times.get(workload.base_row)
        floor = times.get("G")
        flops = workload.flops()
        at_peak = flops / (peaks[np.dtype(workload.dtype).name] * 1e9) if flops else None
        counted = (f"{flops / 1e6:.3g} MFLOP per {workload.flops_per}" if flops
                   else "no flops counted")
        print(f"\n{workload.name}: {workload.description}; {counted}")
        print(f"  {'implementation':<20} {'s/' + workload.unit:>12} "
              f"{'/ ' + workload.base_label:>11} {'/ G':>8} {'GFLOP/s':>8} {'/ peak':>8}")
        for name, _ in workload.implementations():
            if name in unavailable:
                print(f"  {name:<20} {unavailable[name]}")
            if name not in times:
                continue
            seconds = times[name]
            vs_base = f"{seconds / base:10.2f}x" if base else "-"
            vs_floor = f"{seconds / floor:7.2f}x" if floor else "-"
            if not flops:
                rates = f"{'-':>8} {'-':>8}"
            elif name in workload.equivalent_flops_rows:
                rates = f"{flops / seconds / 1e9:7.1f}* {'-':>8}"
            else:
                rates = f"{flops / seconds / 1e9:8.1f} {seconds / at_peak:7.2f}x"
            scaled = getattr(workload, "scaled_note", {}).get(name, "")
            print(f"  {name:<20} {seconds:12.3e} {vs_base:>11} {vs_floor:>8} {rates}{scaled}")
        if checks and "max_relative_difference_to_compiled" in checks:
            print("  max |x - x_compiled| / max |x_compiled| over the outputs: " + ", ".join(
                f"{name} {value:.1e}"
                for name, value in checks["max_relative_difference_to_compiled"].items()))
        elif checks:
            print_checks(checks)
        runs = whole_runs(workload)
        if runs:
            print(f"  whole {AMORTISE_OVER}-iteration run, compiled: standard "
                  f"{runs['standard']:.3f} s, Gram {runs['Gram']:.3f} s "
                  f"({runs['standard'] / runs['Gram']:.1f}x)")
        results["workloads"][workload.name] = {"description": workload.description,
                                               f"flops_per_{workload.unit}": flops,
                                               f"seconds_per_{workload.unit}": times,
                                               "whole_run_seconds": runs}
        if unavailable:
            results["workloads"][workload.name]["unavailable"] = unavailable
        results["workloads"][workload.name].update(checks)
    with open(args.json, "w") as fh:
        json.dump(results, fh, indent=2)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
