"""The training step, once per backend, and the loops every model trains with.

Public, full-batch gradient descent (the first course's models):
:class:`NumpyTrainer`, :func:`make_trainer`, :func:`gradient_descent` and
:func:`use_gram_path`; the compiled trainer is ``cnn_core.kernels.Trainer``.
Mini-batches, one epoch per call (``cnn_core.improving.model``):
:class:`NumpyEpochTrainer`, :class:`GramEpochFirstLayer`, :func:`make_epoch_trainer`,
:func:`use_gram_epochs` and :func:`dropout_draw_count`; the compiled one is
``cnn_core.kernels.EpochTrainer``. The rest of this docstring is about the first group.

Network: ``[LINEAR -> hidden] * (L-1) -> LINEAR -> SIGMOID`` with the mean
cross-entropy, trained by full-batch gradient descent; the logistic model is one layer,
the shallow one ``hidden = "tanh"``, the deep ones ``"relu"``. Two trainers share one
interface, ``run(num_steps, learning_rate) -> cost`` (the cost before the first step)
over the caller's parameter arrays, which they update in place:

* :class:`NumpyTrainer`, the reference, written as the derivation reads;
* ``cnn_core.kernels.Trainer``, the compiled one, which mirrors it function for function
  (``_trainer.pyx.tp``) and allocates nothing per step.

The first layer is a strategy of both: :class:`DirectFirstLayer` multiplies by X at
every step, :class:`GramFirstLayer` carries ``P = W1 X`` and updates it through
``K = X^T X`` (docs/gram.md). :func:`gradient_descent` runs either trainer between the
cost records. Shapes: ``X`` (n_x, m), ``Y`` (n_L, m), ``W_l`` (n_l, n_{l-1}), ``b_l``
(n_l, 1); columns are examples.
"""
from __future__ import annotations

import threading

import numpy as np

from cnn_core import _backend, _ops
from cnn_core._validation import (check_epoch_arguments, check_epoch_options, check_gram,
                                  check_labels, check_nonnegative_int, check_positive_int,
                                  check_run_arguments, check_softmax_targets,
                                  check_trainer_arrays, parameter_lists)
from cnn_core.activations import ACTIVATIONS, resolve_activation


class DirectFirstLayer:
    """The first layer on X itself: ``Z1 = W1 X + b1``, ``W1 -= (lr/m) dZ1 X^T``."""

    def __init__(self, X, W1):
        self.X = X

    def product(self, W1):
        """``W1 X`` ``(n_1, m)``."""
        return W1 @ self.X

    def descend(self, W1, b1, dZ1, learning_rate):
        """One gradient step of the first layer's parameters, in place."""
        m = self.X.shape[1]
        W1 -= learning_rate * (dZ1 @ self.X.T / m)
        b1 -= learning_rate * (np.sum(dZ1, axis=1, keepdims=True) / m)

    def finish(self, W1):
        """Nothing is pending: W1 is always current."""


class GramFirstLayer:
    """The first layer on the Gram matrix ``K = X^T X`` ``(m, m)``.

    Gradient descent only ever changes W1 by ``-(lr/m) dZ1 X^T``, so ``P = W1 X``
    changes by ``-(lr/m) dZ1 K``: each step costs ``n_1 m^2`` flops there instead of
    ``2 n_1 n_x m``. ``S`` ``(n_1, m)`` sums the steps ``-(lr/m) dZ1`` not yet written
    into W1; ``finish`` writes them, ``W1 += S X^T``.
    """

    def __init__(self, X, W1):
        self.X = X
        self.K = X.T @ X
        self.P = W1 @ X
        self.S = np.zeros_like(self.P)

    def product(self, W1):
        return self.P   # read, not kept: the caller adds b1 into a new array

    def descend(self, W1, b1, dZ1, learning_rate):
        m = self.X.shape[1]
        step = -(learning_rate / m) * dZ1     # W1 would change by step @ X.T
        self.P += step @ self.K
        self.S += step
        b1 -= learning_rate * (np.sum(dZ1, axis=1, keepdims=True) / m)

    def finish(self, W1):
        W1 += self.S @ self.X.T
        self.S[...] = 0


class NumpyTrainer:
    """Full-batch gradient descent in NumPy; the arguments of ``kernels.Trainer``.

    Arguments:
        X: ``(n_x, m)``; Y: ``(n_L, m)``.
        weights: ``[W1, ..., WL]``; biases: ``[b1, ..., bL]``; updated in place.
        hidden_activation: the hidden layers' activation name.
        gram: the first layer on ``K = X^T X`` (:class:`GramFirstLayer`).
    """

    def __init__(self, X, Y, weights, biases, hidden_activation, gram=False):
        self.W, self.b = list(weights), list(biases)
        check_trainer_arrays(X, Y, self.W, self.b)
        self.X, self.Y = X, Y
        self.hidden = resolve_activation(hidden_activation)
        self.output = ACTIVATIONS["sigmoid"]
        strategy = GramFirstLayer if gram else DirectFirstLayer
        self.first_layer = strategy(X, self.W[0])

    def forward(self):
        """Each layer's output ``A_l = g(W_l A_{l-1} + b_l)``, and the output logits."""
        L = len(self.W)
        A = [self.X]
        for l in range(L):
            product = self.first_layer.product(self.W[0]) if l == 0 else self.W[l] @ A[l]
            Z = product + self.b[l]
            A.append((self.output if l == L - 1 else self.hidden).forward(Z))
        return A, Z

    def step(self, A, learning_rate):
        """Backward pass and update from the forward pass's outputs ``A``.

        ``dZ_L = A_L - Y`` (the sigmoid and the cross-entropy together), then for each
        layer from the top: hand the gradient down with the old weights,
        ``dZ_{l-1} = (W_l^T dZ_l) * g'(A_{l-1})``, and descend,
        ``W_l -= lr dZ_l A_{l-1}^T / m``, ``b_l -= lr sum(dZ_l) / m``.
        """
        L = len(self.W)
        m = self.X.shape[1]
        dZ = A[L] - self.Y
        for l in range(L - 1, -1, -1):
            dZ_below = (self.W[l].T @ dZ) * self.hidden.slope(A[l]) if l > 0 else None
            if l == 0:
                self.first_layer.descend(self.W[0], self.b[0], dZ, learning_rate)
            else:
                self.W[l] -= learning_rate * (dZ @ A[l].T / m)
                self.b[l] -= learning_rate * (np.sum(dZ, axis=1, keepdims=True) / m)
            dZ = dZ_below

    def run(self, num_steps, learning_rate):
        """Take ``num_steps`` steps; return the cost before the first one (the cost at
        the current parameters when ``num_steps`` is 0)."""
        num_steps, learning_rate = check_run_arguments(num_steps, learning_rate)
        cost = float("nan")
        for step in range(max(num_steps, 1)):
            A, ZL = self.forward()
            if step == 0:
                cost = _ops.cross_entropy_with_logits(ZL, self.Y, "numpy")
                if num_steps == 0:
                    break
            self.step(A, learning_rate)
        if num_steps > 0:
            self.first_layer.finish(self.W[0])
        return cost


def make_trainer(X, Y, parameters, hidden, backend=None, gram=False):
    """The backend's trainer over ``parameters`` ``{"W1", "b1", ..., "WL", "bL"}``.

    A :class:`NumpyTrainer` or a compiled ``cnn_core.kernels.Trainer`` (by ``backend``,
    default :func:`cnn_core.get_backend`), which updates the parameters' own arrays:
    they must be writeable, C-contiguous and of X's dtype.
    """
    weights, biases = parameter_lists(parameters)
    if _backend.resolve_backend(backend) == "cython":
        return _backend.kernels().Trainer(X, Y, weights, biases, hidden, gram)
    return NumpyTrainer(X, Y, weights, biases, hidden, gram)


def use_gram_path(n_x, m, n_1, num_iterations, every):
    """Whether the Gram path costs fewer flops than the direct one for this run.

    Direct: each iteration multiplies by X twice in the first layer,
    ``2 n_1 n_x m`` flops. Gram: ``K = X^T X`` once (``n_x m^2``) and ``W1 X`` once
    (``n_1 n_x m``), then ``n_1 m^2`` per iteration, plus writing S into W1
    (``n_1 m n_x``) at each of the ``num_iterations / every`` cost records. Only when
    n_x > m can it win.
    """
    if n_x <= m or num_iterations <= 0:
        return False
    records = -(-num_iterations // every)
    direct = num_iterations * 2 * n_1 * n_x * m
    gram = n_x * m * m + n_1 * n_x * m + num_iterations * n_1 * m * m + records * n_1 * m * n_x
    return gram < direct


def cost_reporter(print_cost, callback, line="Cost after iteration {}: {:f}"):
    """The ``on_cost(i, cost)`` of a model: prints ``line.format(i, cost)`` (the notes'
    line) when ``print_cost``, then calls ``callback(i, cost)`` unless it is None."""
    def report(i, cost):
        if print_cost:
            print(line.format(i, cost))
        if callback is not None:
            callback(i, cost)

    return report


def gradient_descent(X, Y, parameters, hidden, learning_rate, num_iterations, every,
                     on_cost, backend, gram=False):
    """Full-batch gradient descent of ``[LINEAR -> hidden]*(L-1) -> LINEAR -> SIGMOID``.

    Arguments:
        X: ``(n_x, m)``; Y: ``(n_L, m)``, both of the parameters' dtype.
        parameters: ``{"W1", "b1", ..., "WL", "bL"}``, the caller's own C-contiguous
            arrays, updated in place.
        hidden: the hidden layers' activation (``"relu"``, ``"tanh"`` or ``"identity"``).
        num_iterations: the number of steps.
        every: the cost-record interval; the cost is recorded at iterations 0, every,
            2 every, ... below ``num_iterations``, and each ``(iteration, cost)`` is
            passed to ``on_cost``.
        gram: the first layer on ``K = X^T X`` (True), on X (False), or chosen by
            :func:`use_gram_path` ("auto"). Both give the same iterates.

    Returns:
        The recorded costs. Between two records the trainer runs in one call (on
        "cython", one compiled call that allocates nothing).
    """
    num_iterations = check_nonnegative_int("num_iterations", num_iterations)
    every = check_positive_int("every", every)
    if check_gram(gram) == "auto":
        gram = use_gram_path(X.shape[0], X.shape[1], parameters["W1"].shape[0],
                             num_iterations, every)
    if num_iterations <= 0:
        return []
    trainer = make_trainer(X, Y, parameters, hidden, backend, gram)
    costs = []
    for start in range(0, num_iterations, every):
        cost = trainer.run(min(every, num_iterations - start), learning_rate)
        costs.append(cost)
        on_cost(start, cost)
    return costs


# ---------------------------------------------------------------------------------------
# Mini-batch training, one epoch per call: the second course's loop.
# ---------------------------------------------------------------------------------------

def dropout_draw_count(weights, m):
    """How many uniform draws one epoch's dropout masks take: ``m`` times the hidden
    units ``n_1 + ... + n_{L-1}`` (one draw per hidden unit and example)."""
    return m * sum(int(w.shape[0]) for w in weights[:-1])


class GramEpochFirstLayer:
    """The first layer of mini-batch gradient descent or momentum on ``K = X^T X``.

    Every step of W1 is a combination of W1's value at the start, ``W0``, and of
    ``dZ1 X_B^T`` (the L2 term adds a multiple of W1 itself), so the trainer keeps
    ``W1 = c W0 + S X^T`` (a scalar c, S ``(n_1, m)``) and ``P = W1 X`` ``(n_1, m)``,
    never multiplying by X: a batch B reads ``Z1 = P[:, B] + b1``, and its gradient
    ``dW1 = dZ1 X_B^T / |B| + (lambd / |B|) W1`` acts on P as
    ``dW1 X = dZ1 K[B, :] / |B| + (lambd / |B|) P`` and on the coordinates as
    ``(lambd c / |B|, (lambd / |B|) S + dZ1 / |B| in the columns B)``. Momentum keeps
    its velocity the same way, ``v = a W0 + V X^T`` with ``Q = v X``. A step costs
    ``2 n_1 |B| m`` flops instead of ``4 n_1 n_x |B|``; :meth:`sync` writes W1 (and
    its velocity), ``2 n_1 m n_x`` flops each. See docs/gram.md.
    """

    def __init__(self, X, W1, momentum, beta, lambd):
        self.X, self.K = X, X.T @ X
        self.W0 = W1.copy()
        self.P0 = W1 @ X
        self.P = self.P0.copy()
        self.c, self.S = 1.0, np.zeros_like(self.P)
        self.momentum, self.beta, self.lambd = momentum, beta, lambd
        self.a, self.V, self.Q = 0.0, np.zeros_like(self.P), np.zeros_like(self.P)
        self.squared_W0 = float(np.sum(np.square(self.W0, dtype=np.float64)))

    def product(self, columns):
        """``W1 X_B`` ``(n_1, |B|)``: the batch's columns of P."""
        return self.P[:, columns]

    def squared_norm(self):
        """``||W1||^2 = c^2 ||W0||^2 + c <S, P0> + <S, P>`` (as ``S K = P - c P0``)."""
        S, P0, P = (a.astype(np.float64) for a in (self.S, self.P0, self.P))
        return (self.c ** 2 * self.squared_W0 + self.c * float(np.sum(S * P0))
                + float(np.sum(S * P)))

    def step(self, dZ1, columns, learning_rate):
        """One step of W1 from the batch's ``dZ1`` ``(n_1, |B|)``, in the coordinates."""
        size = len(columns)
        decay = self.lambd / size
        dW1_X = (dZ1 @ self.K[columns, :]) / size + decay * self.P     # dW1 X
        g0, G = decay * self.c, decay * self.S                         # dW1 = g0 W0 + G X^T
        G[:, columns] += dZ1 / size
        if self.momentum:
            beta = self.beta
            self.Q = beta * self.Q + (1 - beta) * dW1_X
            self.a = beta * self.a + (1 - beta) * g0
            self.V = beta * self.V + (1 - beta) * G
            dW1_X, g0, G = self.Q, self.a, self.V
        self.P -= learning_rate * dW1_X
        self.c -= learning_rate * g0
        self.S -= learning_rate * G

    def sync(self, W1, vW1):
        """Write ``W1 = c W0 + S X^T`` and, with momentum, ``v = a W0 + V X^T``."""
        W1[...] = self.c * self.W0 + self.S @ self.X.T
        if self.momentum:
            vW1[...] = self.a * self.W0 + self.V @ self.X.T


class NumpyEpochTrainer:
    """Mini-batch training in NumPy, one epoch per :meth:`run_epoch`; the reference of
    ``cnn_core.kernels.EpochTrainer``, which takes the same arguments.

    Network ``[LINEAR -> hidden] * (L-1) -> LINEAR -> output``, the output a sigmoid
    (one unit) or a softmax (K >= 2 units) with its cross-entropy; inverted dropout on
    the hidden layers' outputs; the L2 term ``lambd / (2 |B|) sum ||W_l||^2`` of each
    batch B; one step of ``optimizer`` per batch.

    Arguments:
        X: ``(n_x, m)``; Y: ``(n_L, m)``, labels in [0, 1] (sigmoid) or one-hot
            columns (softmax).
        weights: ``[W1, ..., WL]``; biases: ``[b1, ..., bL]``: updated in place.
        hidden_activation: the hidden layers' activation.
        output: ``"sigmoid"`` or ``"softmax"``.
        optimizer: ``"gd"``, ``"momentum"`` (``beta``) or ``"adam"`` (``beta1``,
            ``beta2``, ``epsilon``; its ``t`` counts batches from 1 over all epochs).
        mini_batch_size, lambd, keep_prob: as in :func:`cnn_core.improving.model`.
        gram: the first layer on ``K = X^T X`` (:class:`GramEpochFirstLayer`; gradient
            descent and momentum only). W1 and its velocity are then written at the end
            of each epoch unless ``run_epoch(..., sync=False)``; :meth:`sync` writes
            them.

    The optimizer state is kept between epochs: ``v`` and ``s``, tuples of arrays
    ``(vW1, vb1, vW2, ...)`` shaped like the parameters (zeros at first; change them
    in place only), and the read-only ``t``. One epoch runs at a time: a second thread
    calling :meth:`run_epoch` meanwhile gets RuntimeError.

    On the Gram path the trainer owns W1 and its velocity ``v[0]`` between syncs: it
    reads W1 once, when it is built, and every sync overwrites W1 and ``v[0]`` from its
    own coordinates, so changes made to them in place in between are lost (build a
    new trainer instead). With ``sync=True`` (the default) each epoch ends with a sync,
    ``2 n_1 m n_x`` flops, which on the cat network costs far more than the epoch
    itself; a loop over many epochs passes ``sync=False`` and calls :meth:`sync` once.
    """

    def __init__(self, X, Y, weights, biases, hidden_activation, *, output="sigmoid",
                 optimizer="gd", mini_batch_size=64, beta=0.9, beta1=0.9, beta2=0.999,
                 epsilon=1e-8, lambd=0.0, keep_prob=1.0, gram=False):
        self.W, self.b = list(weights), list(biases)
        self.dtype = check_trainer_arrays(X, Y, self.W, self.b)
        self.options = check_epoch_options(self.W, output, optimizer, mini_batch_size,
                                           beta, beta1, beta2, epsilon, lambd, keep_prob,
                                           gram)
        if self.options["output"] == "softmax":
            check_softmax_targets(Y)
        else:
            check_labels("Y", Y)
        self.X, self.Y = X, Y
        self.hidden = resolve_activation(hidden_activation)
        self.parameters = [p for pair in zip(self.W, self.b) for p in pair]
        self.v = tuple(np.zeros_like(p) for p in self.parameters)
        self.s = tuple(np.zeros_like(p) for p in self.parameters)
        self._t = 0
        self._busy = threading.Lock()
        self.gram = None
        if self.options["gram"]:
            self.gram = GramEpochFirstLayer(X, self.W[0], self.options["optimizer"] == "momentum",
                                            self.options["beta"], self.options["lambd"])

    @property
    def t(self):
        """The number of batches taken with Adam over all epochs (its ``t``)."""
        return self._t

    @property
    def draw_count(self):
        """The length of ``run_epoch``'s ``draws`` (0 without dropout)."""
        if self.options["keep_prob"] == 1:
            return 0
        return dropout_draw_count(self.W, self.X.shape[1])

    def forward(self, X, masks, columns=None):
        """Layer outputs ``[X, A_1, ..., A_L]`` (hidden ones after dropout), the
        hidden outputs before dropout ``[None, H_1, ..., H_{L-1}]`` (their slopes enter
        the backward pass) and the output logits ``Z_L``."""
        keep_prob = self.options["keep_prob"]
        L = len(self.W)
        A, undropped = [X], [None]
        for l in range(L):
            if l == 0 and self.gram is not None:
                Z = self.gram.product(columns) + self.b[0]
            else:
                Z = self.W[l] @ A[l] + self.b[l]
            if l == L - 1:
                break
            H = self.hidden.forward(Z)
            undropped.append(H)
            if masks is not None:   # the course's order: shut units down, then scale up
                H = H * masks[l]
                H = H / keep_prob
            A.append(H)
        if self.options["output"] == "sigmoid":
            A.append(ACTIVATIONS["sigmoid"].forward(Z))
        else:
            A.append(_ops.softmax_columns(Z))
        return A, undropped, Z

    def batch_cost(self, logits, Y):
        """The batch's mean cross-entropy (from the logits) plus its L2 term."""
        size = Y.shape[1]
        if self.options["output"] == "sigmoid":
            cost = _ops.cross_entropy_with_logits(logits, Y, "numpy")
        else:
            cost = _ops.softmax_cross_entropy_with_logits(logits, Y)
        if self.options["lambd"]:
            squares = sum(float(np.sum(np.square(W, dtype=np.float64)))
                          for W in self.W[1 if self.gram else 0:])
            if self.gram is not None:
                squares += self.gram.squared_norm()
            cost += self.options["lambd"] / (2 * size) * squares
        return cost

    def gradients(self, A, undropped, Y, masks):
        """``[dW1, db1, ..., dWL, dbL]`` of the batch: ``dZ_L = A_L - Y`` (either
        output with its cross-entropy), ``dW_l = dZ_l A_{l-1}^T / |B| + lambd W_l / |B|``,
        ``db_l = sum(dZ_l) / |B|``, and below each layer the gradient through the kept
        units only, scaled by ``1 / keep_prob``, times the hidden slope. On the Gram
        path ``dW1`` is not formed: its place holds ``dZ1``."""
        lambd, keep_prob = self.options["lambd"], self.options["keep_prob"]
        L, size = len(self.W), Y.shape[1]
        grads = [None] * (2 * L)
        dZ = A[L] - Y
        for l in range(L - 1, -1, -1):
            if l > 0:
                dA = self.W[l].T @ dZ
                if masks is not None:
                    dA = dA * masks[l - 1]
                    dA = dA / keep_prob
                dZ_below = dA * self.hidden.slope(undropped[l])
            if l == 0 and self.gram is not None:
                dW = dZ
            else:
                dW = dZ @ A[l].T / size
                if lambd:
                    dW = dW + (lambd / size) * self.W[l]
            grads[2 * l], grads[2 * l + 1] = dW, np.sum(dZ, axis=1, keepdims=True) / size
            if l > 0:
                dZ = dZ_below
        return grads

    def update(self, grads, learning_rate, columns=None):
        """One step of the optimizer over every parameter, in place (W1 through the
        Gram path's coordinates when it is on)."""
        o = self.options
        if self.gram is not None:
            self.gram.step(grads[0], columns, learning_rate)
        if o["optimizer"] == "adam":
            self._t += 1
            correction1, correction2 = 1 - o["beta1"] ** self._t, 1 - o["beta2"] ** self._t
        for k, (p, g, v, s) in enumerate(zip(self.parameters, grads, self.v, self.s)):
            if k == 0 and self.gram is not None:
                continue
            if o["optimizer"] == "gd":
                p -= learning_rate * g
            elif o["optimizer"] == "momentum":
                v[...] = o["beta"] * v + (1 - o["beta"]) * g
                p -= learning_rate * v
            else:
                v[...] = o["beta1"] * v + (1 - o["beta1"]) * g
                s[...] = o["beta2"] * s + (1 - o["beta2"]) * np.square(g)
                p -= learning_rate * (v / correction1) / (np.sqrt(s / correction2)
                                                          + o["epsilon"])

    def _masks(self, draws, start, size):
        """The batch's dropout masks ``D_l = draws < keep_prob``, ``(n_l, size)`` per
        hidden layer, read in the order the course draws them."""
        if draws is None:
            return None
        masks = []
        offset = start * sum(W.shape[0] for W in self.W[:-1])
        for W in self.W[:-1]:
            n = W.shape[0]
            masks.append(draws[offset:offset + n * size].reshape(n, size)
                         < self.options["keep_prob"])
            offset += n * size
        return masks

    def sync(self):
        """On the Gram path, write the pending steps into W1 and its velocity."""
        if self.gram is not None:
            self.gram.sync(self.W[0], self.v[0])

    def run_epoch(self, permutation, learning_rate, *, record_cost=False, draws=None,
                  sync=True):
        """One pass over the data: the columns in ``permutation``'s order, cut into
        batches of ``mini_batch_size`` (the remainder last), one step per batch.

        Arguments:
            permutation: a permutation of ``range(m)`` (``np.random.permutation(m)``).
            learning_rate: the step size, > 0.
            record_cost: compute the epoch's cost.
            draws: with ``keep_prob < 1``, :attr:`draw_count` uniform draws in [0, 1)
                (``np.random.rand(trainer.draw_count)``): batch by batch, hidden layer
                by hidden layer, the ``(n_l, |B|)`` block of uniforms whose entries
                ``< keep_prob`` are kept, the course's draw order. None otherwise.
            sync: on the Gram path, write W1 at the end (:meth:`sync`); False leaves
                it pending, for a caller that runs many epochs and syncs at the end.

        Returns:
            With ``record_cost``, the average of the batches' costs weighted by their
            sizes, each computed before its batch's step; otherwise NaN.
        """
        m = self.X.shape[1]
        permutation, learning_rate, record_cost, draws = check_epoch_arguments(
            permutation, m, learning_rate, record_cost, draws, self.draw_count, sync)
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("this NumpyEpochTrainer is already running in another thread")
        try:
            return self._epoch(permutation, learning_rate, record_cost, draws, sync)
        finally:
            self._busy.release()

    def _epoch(self, permutation, learning_rate, record_cost, draws, sync):
        m = self.X.shape[1]
        size, total = self.options["mini_batch_size"], 0.0
        for start in range(0, m, size):
            columns = permutation[start:start + size]
            # The Gram path reads P, never the batch's X.
            X = self.X[:, columns] if self.gram is None else None
            Y = self.Y[:, columns]
            masks = self._masks(draws, start, len(columns))
            A, undropped, logits = self.forward(X, masks, columns)
            if record_cost:
                total += len(columns) * self.batch_cost(logits, Y)
            self.update(self.gradients(A, undropped, Y, masks), learning_rate, columns)
        if sync:
            self.sync()
        return total / m if record_cost else float("nan")


def use_gram_epochs(n_x, m, n_1, num_epochs, mini_batch_size, optimizer):
    """Whether the Gram path of the epoch trainers costs fewer flops than the direct one.

    Direct: the first layer multiplies by the batch's X twice per batch,
    ``4 n_1 n_x m`` flops per epoch. Gram (gd and momentum only): ``K = X^T X`` and
    ``P = W1 X`` once (``2 n_x m^2 + 2 n_1 n_x m``), then per epoch ``2 n_1 m^2`` for
    the batches' products and about ``6 n_1 m`` per batch for the coordinates, and
    writing W1 (and its velocity) at the end, ``2 n_1 m n_x`` each. K is ``(m, m)``:
    only with more features than examples (n_x > m) is it taken.
    """
    if optimizer not in ("gd", "momentum") or num_epochs <= 0 or n_x <= m:
        return False
    batches = -(-m // mini_batch_size)
    direct = num_epochs * 4 * n_1 * n_x * m
    writes = 2 if optimizer == "momentum" else 1
    gram = (2 * n_x * m * m + 2 * n_1 * n_x * m + writes * 2 * n_1 * m * n_x
            + num_epochs * (2 * n_1 * m * m + 6 * n_1 * m * batches))
    return gram < direct


def make_epoch_trainer(X, Y, parameters, *, hidden="relu", output="sigmoid", optimizer="gd",
                       mini_batch_size=64, beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8,
                       lambd=0.0, keep_prob=1.0, gram=False, backend=None):
    """The backend's epoch trainer over ``parameters`` ``{"W1", "b1", ..., "WL", "bL"}``:
    a :class:`NumpyEpochTrainer` or a compiled ``cnn_core.kernels.EpochTrainer``, which
    updates the parameters' own arrays (writeable, C-contiguous, X's dtype)."""
    weights, biases = parameter_lists(parameters)
    options = dict(output=output, optimizer=optimizer, mini_batch_size=mini_batch_size,
                   beta=beta, beta1=beta1, beta2=beta2, epsilon=epsilon, lambd=lambd,
                   keep_prob=keep_prob, gram=gram)
    if _backend.resolve_backend(backend) == "cython":
        return _backend.kernels().EpochTrainer(X, Y, weights, biases, hidden, **options)
    return NumpyEpochTrainer(X, Y, weights, biases, hidden, **options)
