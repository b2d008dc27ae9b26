"""A scikit-learn classifier on the second course's network (:mod:`cnn_core.improving`).

:class:`NetworkClassifier` trains ``[LINEAR -> activation] * L -> LINEAR -> output`` with
:func:`cnn_core.improving.model` and predicts with
:func:`cnn_core.improving.forward_propagation`, behind scikit-learn's estimator API:
``fit(X, y)``, ``predict(X)``, ``predict_proba(X)``, ``score(X, y)``, ``get_params`` and
``set_params``, so that it works in a ``Pipeline``, ``cross_val_score`` and
``GridSearchCV``. Rows are examples here, as scikit-learn expects (``X`` is
``(n_samples, n_features)``); the estimator transposes to the course's columns.

Two classes train a single sigmoid unit on the labels 0/1 (``classes_[1]`` is the
positive class), three or more a softmax over ``len(classes_)`` units; any labels
scikit-learn accepts for classification (integers, strings, ...) work.

This module needs scikit-learn, the ``data`` extra (``pip install "cnn_core[data]"``);
``import cnn_core`` does not import it.
"""
from __future__ import annotations

import numbers

import numpy as np

from cnn_core._optional import require

require("sklearn", "data", "cnn_core.sklearn")

from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.preprocessing import LabelEncoder  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402
from sklearn.utils.multiclass import check_classification_targets  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - scikit-learn 1.3 to 1.5
    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

from cnn_core import improving  # noqa: E402

__all__ = ["NetworkClassifier"]

#: The hidden activations :func:`cnn_core.improving.model` offers.
ACTIVATIONS = ("relu", "tanh", "sigmoid")


def _hidden_layer_sizes(value):
    """``hidden_layer_sizes`` as a tuple of positive ints (an int is one hidden layer)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        sizes = tuple(value)
    except TypeError:
        raise TypeError(f"hidden_layer_sizes must be a sequence of positive integers; "
                        f"got {value!r}") from None
    for i, size in enumerate(sizes):
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"hidden_layer_sizes must hold positive integers; got "
                             f"{size!r} at index {i} of {value!r}")
    return tuple(int(size) for size in sizes)


class NetworkClassifier(ClassifierMixin, BaseEstimator):
    """A fully connected network classifier: :func:`cnn_core.improving.model` as an
    estimator.

    The network is ``[n_features, *hidden_layer_sizes, n_out]``: ``hidden_layer_sizes``
    layers of ``activation`` units, then one sigmoid unit for two classes (``n_out = 1``,
    the binary cross-entropy) or a softmax over the K classes for K >= 3 (``n_out = K``,
    the categorical cross-entropy), trained by mini-batches with ``optimizer``.

    Parameters:
        hidden_layer_sizes: the hidden layers' widths, a sequence of positive integers
            (an integer is one hidden layer; ``()`` is logistic or softmax regression).
        activation: the hidden activation, ``"relu"``, ``"tanh"`` or ``"sigmoid"``.
        optimizer: ``"gd"`` (mini-batch gradient descent), ``"momentum"`` or ``"adam"``.
        learning_rate: the step size, > 0.
        mini_batch_size: the examples per step; at least ``n_samples`` gives full-batch
            steps.
        num_epochs: the passes over the training data (>= 0).
        beta: the momentum; beta1, beta2, epsilon: Adam's.
        lambd: the L2 strength (>= 0); keep_prob: the probability of keeping a hidden
            unit under inverted dropout, in (0, 1].
        initialization: ``"he"``, ``"xavier"``, ``"random"`` or ``"zeros"``.
        random_state: None, an integer or a ``RandomState``, accepted for scikit-learn
            compatibility and checked, but without effect: :func:`cnn_core.improving.model`
            draws from NumPy's global generator with the course's seeds (3 for the
            initialisation, 10 + epoch for each epoch's shuffle, the dropout masks after
            it), so ``fit`` is deterministic whatever ``random_state`` is. ``fit``
            restores the global generator's state when it returns, so it does not
            disturb the caller's ``np.random`` draws (it is not safe to fit from several
            threads of one process at once; processes, as ``n_jobs`` uses, are).
        backend: ``"cython"``, ``"numpy"`` or None (cnn_core's current backend, see
            :func:`cnn_core.get_backend`).

    The arguments are checked by ``fit`` (scikit-learn's convention: ``__init__`` and
    ``set_params`` only store them), with the messages of :func:`cnn_core.improving.model`.

    ``fit`` sets the attributes below.

    Attributes:
        classes_: the class labels, sorted (``LabelEncoder`` order), ``(n_classes,)``.
        n_features_in_: the number of features seen by ``fit``.
        feature_names_in_: the column names, when ``X`` had string column names.
        parameters_: the trained ``{"W1", "b1", ..., "WL", "bL"}`` in the course's
            layout (``W{l}`` is ``(n_l, n_{l-1})``, columns are examples), of ``X``'s
            float dtype (float32 stays float32, anything else becomes float64).
        layers_dims_: ``[n_features, *hidden_layer_sizes, n_out]``.
        output_: ``"sigmoid"`` (two classes) or ``"softmax"``.
        loss_curve_: the costs :func:`cnn_core.improving.model` returns: the average
            training cost of epochs 0, 100, 200, ... (one entry per 100 epochs, each
            measured during its epoch before the steps), a list of floats.
    """

    def __init__(self, hidden_layer_sizes=(20, 7, 5), activation="relu", optimizer="adam",
                 learning_rate=0.001, mini_batch_size=64, num_epochs=200, beta=0.9,
                 beta1=0.9, beta2=0.999, epsilon=1e-8, lambd=0.0, keep_prob=1.0,
                 initialization="he", random_state=None, backend=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.mini_batch_size = mini_batch_size
        self.num_epochs = num_epochs
        self.beta = beta
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lambd = lambd
        self.keep_prob = keep_prob
        self.initialization = initialization
        self.random_state = random_state
        self.backend = backend

    def fit(self, X, y):
        """Train the network on ``X`` ``(n_samples, n_features)`` and the labels ``y``
        ``(n_samples,)``; returns ``self``.

        ValueError when ``y`` holds a single class (nothing to learn), for targets that
        are not classes (continuous, multi-output) and for invalid parameters.
        """
        X, y = _validate_data(self, X, y, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        hidden = _hidden_layer_sizes(self.hidden_layer_sizes)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {list(ACTIVATIONS)}; got "
                             f"{self.activation!r}")
        check_random_state(self.random_state)  # checked, not used: see the class doc
        encoder = LabelEncoder()
        codes = encoder.fit_transform(y)
        classes = encoder.classes_
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes in y; got "
                             f"1 class: {classes[0]!r}")
        if len(classes) == 2:
            output, n_out, Y = "sigmoid", 1, codes.reshape(1, -1).astype(X.dtype)
        else:
            output, n_out, Y = "softmax", len(classes), codes.reshape(1, -1)
        layers_dims = [X.shape[1], *hidden, n_out]
        state = np.random.get_state()
        try:
            parameters, costs = improving.model(
                np.ascontiguousarray(X.T), Y, layers_dims, optimizer=self.optimizer,
                learning_rate=self.learning_rate, mini_batch_size=self.mini_batch_size,
                beta=self.beta, beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon,
                num_epochs=self.num_epochs, print_cost=False, decay=None,
                initialization=self.initialization, lambd=self.lambd,
                keep_prob=self.keep_prob, output=output, hidden=self.activation,
                backend=self.backend, return_costs=True)
        finally:
            np.random.set_state(state)
        if not all(np.isfinite(value).all() for value in parameters.values()):
            # improving.model does not stop on a diverging cost; say so here rather
            # than leave NaN weights for predict to reject.
            raise ValueError(f"training diverged: the network's weights are not finite "
                             f"(NaN or infinity) after {self.num_epochs} epochs; lower "
                             f"learning_rate (got {self.learning_rate!r}) or scale X (e.g. "
                             f"StandardScaler)")
        self.classes_ = classes
        self.parameters_ = parameters
        self.layers_dims_ = layers_dims
        self.output_ = output
        self.loss_curve_ = [float(cost) for cost in costs]
        return self

    def predict_proba(self, X):
        """The class probabilities ``(n_samples, n_classes)``, columns in ``classes_``
        order; each row sums to 1 (two classes: ``[1 - p, p]`` with ``p`` the sigmoid's
        probability of ``classes_[1]``). No dropout."""
        check_is_fitted(self)
        X = _validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        dtype = self.parameters_["W1"].dtype
        XT = np.ascontiguousarray(X.T, dtype=dtype)
        AL, _ = improving.forward_propagation(XT, self.parameters_, output=self.output_,
                                              hidden=self.activation, backend=self.backend)
        AL = np.asarray(AL, dtype=np.float64)
        if self.output_ == "sigmoid":
            p = AL[0]
            return np.column_stack([1.0 - p, p])
        return np.ascontiguousarray(AL.T)

    def predict(self, X):
        """The most probable class of each row of ``X``, from ``classes_``."""
        proba = self.predict_proba(X)  # first: it checks that the estimator is fitted
        return self.classes_[np.argmax(proba, axis=1)]
