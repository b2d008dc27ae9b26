"""Property tests of cnn_core.improving on drawn cases.

* ``backward_propagation`` (with the softmax or sigmoid output, the L2 term and inverted
  dropout with the forward pass's masks) equals ``jax.grad`` of
  ``cnn_core.reference.costs.L_model_cost_general`` given the same masks, on both
  backends, in float64, for drawn architectures (1 to 4 layers), batch sizes, keep
  probabilities, L2 strengths and numbers of classes.
* ``random_mini_batches`` partitions the course's permutation of the columns into full
  batches and a last remainder, keeping each X column with its Y column.

The budget of examples is fixed per test; tests/conftest.py loads the "ci" profile
(derandomised) when CI is set, so a CI run draws the same cases every time.
"""
import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX comes with the test extra: pip install -e '.[test]'")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnn_core import improving  # noqa: E402
from cnn_core.reference.costs import L_model_cost_general  # noqa: E402
from cnn_core.reference.registry import TOLERANCE, dropout_masks  # noqa: E402
from cnn_core.verify import relative_difference  # noqa: E402

from conftest import BACKENDS  # noqa: E402
from helpers import biases_away_from_relu_kinks  # noqa: E402

MASK_SEED = 5

keep_probs = st.one_of(st.just(1.0), st.floats(0.3, 0.95))
lambds = st.one_of(st.just(0.0), st.floats(0.01, 1.0))


@st.composite
def networks(draw):
    """``(dims, output, labels)``: ``dims = [n_x, n_1, ..., n_L]`` with L in 1..4,
    widths and n_x in 1..6, and n_L = 1 (sigmoid) or K in 2..5 (softmax, labels given
    as one-hot ``(K, m)`` or integers ``(1, m)``)."""
    L = draw(st.integers(1, 4))
    widths = draw(st.lists(st.integers(1, 6), min_size=L - 1, max_size=L - 1))
    n_x = draw(st.integers(1, 6))
    output = draw(st.sampled_from(["sigmoid", "softmax"]))
    n_L = 1 if output == "sigmoid" else draw(st.integers(2, 5))
    labels = "binary" if output == "sigmoid" else draw(st.sampled_from(["one-hot", "integer"]))
    return [n_x, *widths, n_L], output, labels


def _sample(dims, m, output, labels, keep_prob, seed):
    """Parameters (hidden biases moved off ReLU's kink, output logits within +-4, off
    saturation), X ``(n_x, m)``, Y and the masks ``{l: (n_l, m)}`` the forward pass will
    draw (None at keep_prob 1)."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
        params[f"b{l}"] = 0.1 * rng.standard_normal((dims[l], 1))
    X = rng.standard_normal((dims[0], m))
    if labels == "binary":
        Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    else:
        classes = rng.integers(0, dims[-1], m)
        Y = np.eye(dims[-1])[:, classes] if labels == "one-hot" else classes[None, :]
    masks = dropout_masks(dims, m, keep_prob, seed=MASK_SEED)
    params, margin = biases_away_from_relu_kinks(params, X, masks, keep_prob, max_logit=4.0)
    assert margin >= 1 / (4 * (m + 1))
    return params, X, Y, masks


def check_backward(dims, output, labels, m, keep_prob, lambd, seed):
    """Asserts that, on every backend, the forward pass draws the reference's masks and
    ``backward_propagation`` gives ``dW{l}``, ``db{l}`` (gradients of the mean cost) and
    ``dA1`` (of the summed loss, w.r.t. X ``(n_x, m)``) equal to JAX's, and that
    ``compute_cost_with_regularization`` is the reference cost."""
    params, X, Y, masks = _sample(dims, m, output, labels, keep_prob, seed)
    L = len(dims) - 1

    # With no hidden layer (L = 1) dropout has nothing to drop: cnn_core draws no mask,
    # and the reference, which refuses keep_prob < 1 without masks, gets keep_prob 1.
    def cost(parameters, X_):
        return L_model_cost_general(parameters, X_, Y, output=output, lambd=lambd,
                                    masks=masks or None, keep_prob=keep_prob if masks else 1.0)

    # Compiled once per drawn case: faster than running JAX op by op on new shapes.
    value, (expected, expected_X) = jax.jit(jax.value_and_grad(cost, argnums=(0, 1)))(params, X)
    tolerance = TOLERANCE[np.dtype(np.float64)]
    for backend in BACKENDS:
        AL, caches = improving.forward_propagation(
            X, params, keep_prob=keep_prob, output=output,
            seed=MASK_SEED if keep_prob < 1 else None, backend=backend)
        # The forward pass drew the masks the reference was given.
        for l in range(1, L):
            D = caches[l - 1][2]
            if masks is None:
                assert D is None
            else:
                np.testing.assert_array_equal(D, masks[l].astype(bool))
        grads = improving.backward_propagation(AL, Y, caches, lambd=lambd, keep_prob=keep_prob,
                                               output=output, backend=backend)
        for key in params:
            assert relative_difference(grads[f"d{key}"], expected[key]) <= tolerance, (
                backend, key)
        # dA1 is the gradient of the summed loss with respect to X (deep's convention).
        assert relative_difference(grads["dA1"], m * np.asarray(expected_X)) <= tolerance, backend
        regularized = improving.compute_cost_with_regularization(
            AL, Y, params, lambd, output=output, ZL=caches[-1][1], backend=backend)
        assert float(regularized) == pytest.approx(float(value), rel=tolerance, abs=1e-14)


@settings(max_examples=40, deadline=None)
@given(network=networks(), m=st.integers(1, 20), keep_prob=keep_probs, lambd=lambds,
       seed=st.integers(0, 2**32 - 1))
def test_backward_propagation_is_the_autodiff_gradient(network, m, keep_prob, lambd, seed):
    dims, output, labels = network
    check_backward(dims, output, labels, m, keep_prob, lambd, seed)


def check_mini_batches(m, mini_batch_size, seed, n_x, n_y):
    """X ``(n_x, m)`` and Y ``(n_y, m)`` whose columns encode their index: asserts that
    the batches are the columns in the order of ``np.random.seed(seed);
    np.random.permutation(m)``, cut into ``floor(m / size)`` full batches then the
    remainder, each column whole and X with its Y."""
    index = np.arange(m, dtype=np.float64)
    X = index[None, :] + 1000.0 * np.arange(n_x)[:, None]
    Y = -index[None, :] - 1000.0 * np.arange(n_y)[:, None]
    batches = improving.random_mini_batches(X, Y, mini_batch_size, seed)

    full, remainder = divmod(m, mini_batch_size)
    assert len(batches) == math.ceil(m / mini_batch_size)
    sizes = [batch_X.shape[1] for batch_X, _ in batches]
    assert sizes[:full] == [mini_batch_size] * full
    assert sizes[full:] == ([remainder] if remainder else [])
    for batch_X, batch_Y in batches:
        assert batch_X.shape == (n_x, batch_X.shape[1]) and batch_Y.shape == (n_y, batch_X.shape[1])
        # Each column is whole (its rows moved together) and X stays paired with Y.
        size = batch_X.shape[1]
        np.testing.assert_array_equal(batch_X - batch_X[0],
                                      np.repeat(1000.0 * np.arange(n_x)[:, None], size, axis=1))
        np.testing.assert_array_equal(batch_Y + batch_X[0],
                                      np.repeat(-1000.0 * np.arange(n_y)[:, None], size, axis=1))
    order = np.concatenate([batch_X[0] for batch_X, _ in batches]).astype(np.int64)
    assert sorted(order.tolist()) == list(range(m))        # a partition of the columns
    np.testing.assert_array_equal(order, np.random.RandomState(seed).permutation(m))


@settings(max_examples=150, deadline=None)
@given(m=st.integers(1, 300), mini_batch_size=st.integers(1, 100),
       seed=st.integers(0, 2**32 - 1), n_x=st.integers(1, 3), n_y=st.integers(1, 3))
def test_random_mini_batches_partition_the_course_permutation(m, mini_batch_size, seed, n_x,
                                                              n_y):
    check_mini_batches(m, mini_batch_size, seed, n_x, n_y)


# ---------------------------------------------------------------------------------------
# The checks can fail: wrong variants, wrapped around the public functions, on one case
# where each mistake matters.
# ---------------------------------------------------------------------------------------

def _l2_doubled(backward):
    def wrong(AL, Y, caches, *, lambd=0.0, **kwargs):
        grads = backward(AL, Y, caches, lambd=lambd, **kwargs)
        m = AL.shape[1]
        for l, ((_, W, _), _, _) in enumerate(caches, start=1):
            grads[f"dW{l}"] = grads[f"dW{l}"] + lambd / m * W
        return grads
    return wrong


def _mask_forgotten(backward):
    def wrong(AL, Y, caches, **kwargs):
        kept = [(lin, Z, None if D is None else np.ones_like(D)) for lin, Z, D in caches]
        return backward(AL, Y, kept, **kwargs)
    return wrong


def _dA1_of_the_mean(backward):
    def wrong(AL, Y, caches, **kwargs):
        grads = backward(AL, Y, caches, **kwargs)
        grads["dA1"] = grads["dA1"] / AL.shape[1]
        return grads
    return wrong


@pytest.mark.parametrize("wrong", [_l2_doubled, _mask_forgotten, _dA1_of_the_mean],
                         ids=["L2 term doubled", "dropout mask forgotten", "dA1 of the mean"])
@pytest.mark.parametrize("output, labels, K", [("sigmoid", "binary", 1),
                                               ("softmax", "integer", 3)])
def test_the_backward_check_can_fail(wrong, output, labels, K, monkeypatch):
    case = ([4, 5, 3, K], output, labels, 9, 0.7, 0.5, 11)
    check_backward(*case)
    monkeypatch.setattr(improving, "backward_propagation", wrong(improving.backward_propagation))
    with pytest.raises(AssertionError):
        check_backward(*case)


def _remainder_first(batches_of):
    def wrong(*args, **kwargs):
        batches = batches_of(*args, **kwargs)
        return batches[-1:] + batches[:-1]
    return wrong


def _remainder_dropped(batches_of):
    def wrong(*args, **kwargs):
        return batches_of(*args, **kwargs)[:-1]
    return wrong


def _labels_unpaired(batches_of):
    def wrong(*args, **kwargs):
        return [(bx, by[:, ::-1]) for bx, by in batches_of(*args, **kwargs)]
    return wrong


def _another_permutation(batches_of):
    def wrong(X, Y, mini_batch_size=64, seed=0):
        return batches_of(X, Y, mini_batch_size, seed + 1)
    return wrong


@pytest.mark.parametrize("wrong", [_remainder_first, _remainder_dropped, _labels_unpaired,
                                   _another_permutation],
                         ids=["remainder first", "remainder dropped", "labels unpaired",
                              "another permutation"])
def test_the_mini_batch_check_can_fail(wrong, monkeypatch):
    case = (10, 4, 3, 2, 2)
    check_mini_batches(*case)
    monkeypatch.setattr(improving, "random_mini_batches", wrong(improving.random_mini_batches))
    with pytest.raises(AssertionError):
        check_mini_batches(*case)
