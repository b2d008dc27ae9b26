"""The notes' experiments as functions: the data, training with the notes' settings,
prediction from a saved model, and the hidden-layer-size study.

``cnn-core train``, ``predict``, ``sweep`` and ``report`` are thin wrappers around these;
they are usable from Python as well::

    data = experiments.load_data("planar")
    run = experiments.train(data, "shallow")            # the notes' 4-unit tanh network
    run.train_accuracy                                  # 0.905

Shapes follow the course: ``X`` is ``(n_x, m)`` with one column per example, labels
``Y`` are ``(1, m)``. Randomness comes from NumPy's global generator in the notes' order.

Training and prediction need the core install only. The data other than the planar
flower, the scikit-learn baseline, image inputs and the parallel study need extras
(``data``, or ``cli`` for all the commands need); each function names the one it lacks.
"""
from __future__ import annotations

import dataclasses
import os
import platform
import time

import numpy as np

from cnn_core import datasets, deep, logistic, preprocessing, shallow
from cnn_core._backend import resolve_backend
from cnn_core._optional import require
from cnn_core._validation import (
    as_float_array,
    as_labels,
    check_learning_rate,
    check_nonnegative_int,
    check_positive_int,
)

__all__ = [
    "DATASETS_2D",
    "DATA_CHOICES",
    "MODELS",
    "DEFAULT_HIDDEN_SIZES",
    "Data",
    "TrainRun",
    "SweepResult",
    "load_data",
    "default_settings",
    "check_layers",
    "cost_every",
    "train",
    "accuracy",
    "predict_proba",
    "read_input",
    "hidden_layer_sweep",
    "versions",
    "sklearn_logistic_regression",
    "notes_accuracy_percent",
]

#: The 2-D problems, the planar flower and the notes' extra datasets (``no_structure``
#: is left out, since its "labels" are random reals, not classes).
DATASETS_2D = ("planar", "noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles")
DATA_CHOICES = DATASETS_2D + ("cat",)
MODELS = ("logistic", "shallow", "deep")
#: The notes' hidden-layer-size study.
DEFAULT_HIDDEN_SIZES = (1, 2, 3, 4, 5, 10, 20)
_EXTRA_INDEX = {"noisy_circles": 0, "noisy_moons": 1, "blobs": 2, "gaussian_quantiles": 3}


@dataclasses.dataclass
class Data:
    """A training set (and a test set where the data has one), columns as examples.

    ``X`` ``(n_x, m)``, ``Y`` ``(1, m)``; ``X_test``/``Y_test`` likewise or None.
    ``classes`` names label 0 and label 1; ``image_shape`` is ``(height, width, 3)``
    for image data (None for points); ``scale`` is the preprocessing applied to the
    raw values ("divide_255" for images, "none" for points).
    """

    name: str
    X: np.ndarray
    Y: np.ndarray
    X_test: np.ndarray | None
    Y_test: np.ndarray | None
    classes: list
    image_shape: tuple | None = None
    scale: str = "none"

    @property
    def n_x(self):
        return self.X.shape[0]


def load_data(name, data_dir=None):
    """Load one of ``DATA_CHOICES`` as :class:`Data`.

    The planar flower is :func:`cnn_core.datasets.load_planar_dataset` (it seeds
    ``np.random`` with 1). The extra sets are made by
    :func:`cnn_core.datasets.load_extra_datasets` from the global generator as it stands,
    transposed to ``(2, 200)`` and ``(1, 200)``, blobs' six labels taken mod 2 as the
    notes do. ``"cat"`` reads the course's files from ``data_dir`` (default
    ``$CNN_CORE_DATA_DIR``), flattens the images and divides them by 255.

    Raises:
        ValueError: an unknown name, no folder given for the cat data, or a cat file
            that is not the course's (from :func:`cnn_core.datasets.load_catvnoncat`).
        FileNotFoundError: the cat folder or one of its two files is missing.
    """
    if name == "cat":
        return _load_cat(data_dir)
    if name == "planar":
        X, Y = datasets.load_planar_dataset()
        return Data(name, X, Y.astype(np.float64), None, None, ["red", "blue"])
    if name in _EXTRA_INDEX:
        X, y = datasets.load_extra_datasets()[_EXTRA_INDEX[name]]
        Y = y.reshape(1, -1)
        if name == "blobs":
            Y = Y % 2
        return Data(name, X.T.copy(), Y.astype(np.float64), None, None, ["red", "blue"])
    raise ValueError(f"data must be one of {', '.join(DATA_CHOICES)}; got {name!r}")


def _load_cat(data_dir):
    folder = data_dir or os.environ.get("CNN_CORE_DATA_DIR")
    if not folder:
        raise ValueError(
            "the cat data needs a folder holding train_catvnoncat.h5 and test_catvnoncat.h5: "
            "give --data-dir (data_dir=) or set CNN_CORE_DATA_DIR"
        )
    train_x_orig, train_y, test_x_orig, test_y, classes = datasets.load_catvnoncat(folder)

    def prepare(images):
        return preprocessing.standardize_images(preprocessing.flatten_images(images))

    names = [c.decode("utf-8") if isinstance(c, bytes) else str(c) for c in classes]
    return Data("cat", prepare(train_x_orig), train_y.astype(np.float64),
                prepare(test_x_orig), test_y.astype(np.float64), names,
                image_shape=tuple(int(d) for d in train_x_orig.shape[1:]), scale="divide_255")


def default_settings(data_name, model):
    """The notes' run for this data and model: a dict of the settings :func:`train` takes.

    ``layers`` for "deep", ``hidden`` for "shallow", and ``iterations``,
    ``learning_rate`` for all. On the cat images "shallow" is the notes'
    ``two_layer_model`` (ReLU, 7 units), on 2-D points the tanh ``nn_model`` (4 units).
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    if data_name == "cat":
        return {
            "logistic": {"iterations": 2000, "learning_rate": 0.005},
            "shallow": {"hidden": 7, "iterations": 2500, "learning_rate": 0.0075},
            "deep": {"layers": [12288, 20, 7, 5, 1], "iterations": 2500,
                     "learning_rate": 0.0075},
        }[model]
    return {
        "logistic": {"iterations": 2000, "learning_rate": 0.5},
        "shallow": {"hidden": 4, "iterations": 10000, "learning_rate": 1.2},
        # Not a run of the notes: a small ReLU net that fits the flower.
        "deep": {"layers": [2, 10, 5, 1], "iterations": 10000, "learning_rate": 0.3},
    }[model]


def cost_every(data_name, model):
    """How often the model records its cost: every 1000 iterations for the tanh network
    (``nn_model``), every 100 for the others, as in the notes."""
    return 1000 if model == "shallow" and data_name != "cat" else 100


def check_layers(layers, n_x):
    """``layers`` as a list of positive ints ``[n_x, ..., 1]``, or raise ValueError."""
    try:
        dims = [int(d) for d in layers]
    except (TypeError, ValueError):
        raise ValueError(f"layers must be integers such as {n_x},20,7,5,1; got {layers!r}") from None
    if len(dims) < 2 or any(d < 1 for d in dims) or dims[0] != n_x or dims[-1] != 1:
        raise ValueError(
            f"layers must start with the data's {n_x} features, end with 1 output unit "
            f"and hold positive sizes; got {','.join(map(str, dims))}"
        )
    return dims


@dataclasses.dataclass
class TrainRun:
    """One trained model and what it measured.

    ``parameters`` in the course's layout (``{"w", "b"}`` for logistic regression,
    ``{"W1", "b1", ...}`` otherwise); ``costs`` recorded every ``cost_every`` iterations;
    accuracies as fractions (``test_accuracy`` None without a test split);
    ``metadata`` is what :func:`cnn_core.io.save_model` stores with the parameters.
    """

    data: Data
    model: str
    parameters: dict
    costs: list
    cost_every: int
    train_accuracy: float
    test_accuracy: float | None
    seconds: float
    settings: dict
    metadata: dict

    def metrics(self):
        """The run's numbers as a JSON-ready dict (what ``metrics.json`` holds)."""
        return {
            "data": self.data.name,
            "model": self.model,
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
            "first_cost": float(self.costs[0]) if self.costs else None,
            "last_cost": float(self.costs[-1]) if self.costs else None,
            "cost_every": self.cost_every,
            "seconds": self.seconds,
            **self.settings,
            "versions": versions(),
        }


def versions():
    """The versions a run depended on, for the record."""
    import scipy

    from cnn_core import __version__

    return {"cnn_core": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "python": platform.python_version()}


def train(data, model, *, layers=None, hidden=None, iterations=None, learning_rate=None,
          seed=None, backend=None, callback=None):
    """Train ``model`` on ``data`` with the notes' settings unless given.

    Arguments:
        data: a :class:`Data`.
        model: "logistic", "shallow" or "deep".
        layers: "deep" only, ``[n_x, ..., 1]``.
        hidden: "shallow" only, the hidden layer's size.
        iterations, learning_rate: of gradient descent.
        seed: None for the notes' seeding; else ``np.random`` is seeded with it before the
            parameters are drawn (and it replaces the deep models' seed 1).
        callback: called as ``callback(i, cost)`` at each recorded cost.

    Returns:
        A :class:`TrainRun`.
    """
    settings = dict(default_settings(data.name, model))
    if layers is not None:
        if model != "deep":
            raise ValueError(f"layers applies to the deep model, not {model!r}")
        settings["layers"] = list(layers)
    if hidden is not None:
        if model != "shallow":
            raise ValueError(f"hidden applies to the shallow model, not {model!r}")
        settings["hidden"] = check_positive_int("hidden", hidden)
    if iterations is not None:
        settings["iterations"] = check_positive_int("iterations", iterations)
    if learning_rate is not None:
        settings["learning_rate"] = check_learning_rate(learning_rate)
    if model == "deep":
        settings["layers"] = check_layers(settings["layers"], data.n_x)
    if seed is not None:
        seed = check_nonnegative_int("seed", seed)
        np.random.seed(seed)
    backend = resolve_backend(backend)
    settings.update(seed=seed, backend=backend)

    start = time.perf_counter()
    parameters, costs, every, activations, function = _fit(data, model, settings, seed,
                                                           backend, callback)
    seconds = time.perf_counter() - start

    metadata = {
        "kind": model,
        "activations": activations,
        "class_names": list(data.classes),
        "preprocessing": {"image_shape": list(data.image_shape) if data.image_shape else None,
                          "scale": data.scale},
        "training": {"data": data.name, "function": function, **settings},
    }
    train_accuracy = accuracy(predict_proba(parameters, activations, data.X), data.Y)
    test_accuracy = None
    if data.X_test is not None:
        test_accuracy = accuracy(predict_proba(parameters, activations, data.X_test), data.Y_test)
    return TrainRun(data, model, parameters, [float(c) for c in costs], every, train_accuracy,
                    test_accuracy, seconds, settings, metadata)


def _fit(data, model, settings, seed, backend, callback):
    """Run the notes' training function; returns parameters, costs, interval, activations
    and the function's name."""
    X, Y = data.X, data.Y
    iterations, rate = settings["iterations"], settings["learning_rate"]
    every = cost_every(data.name, model)  # the interval each function is told to record at
    if model == "logistic":
        result = logistic.model(X, Y, X, Y, num_iterations=iterations, learning_rate=rate,
                                backend=backend, callback=callback, cost_every=every)
        parameters = {"w": result["w"], "b": result["b"]}
        return parameters, result["costs"], every, ["sigmoid"], "logistic.model"
    deep_seed = 1 if seed is None else seed
    if model == "deep":
        parameters, costs = deep.L_layer_model(
            X, Y, settings["layers"], rate, iterations, backend=backend, return_costs=True,
            seed=deep_seed, callback=callback, cost_every=every)
        n_layers = len(settings["layers"]) - 1
        return (parameters, costs, every, ["relu"] * (n_layers - 1) + ["sigmoid"],
                "deep.L_layer_model")
    if data.image_shape is not None:  # the notes' one-hidden-layer net for images
        parameters, costs = deep.two_layer_model(
            X, Y, [data.n_x, settings["hidden"], 1], rate, iterations, backend=backend,
            return_costs=True, seed=deep_seed, callback=callback, cost_every=every)
        return parameters, costs, every, ["relu", "sigmoid"], "deep.two_layer_model"
    parameters, costs = shallow.nn_model(X, Y, settings["hidden"], iterations,
                                         learning_rate=rate, backend=backend,
                                         return_costs=True, callback=callback,
                                         cost_every=every)
    return parameters, costs, every, ["tanh", "sigmoid"], "shallow.nn_model"


def predict_proba(parameters, activations, X, *, backend=None):
    """The output probabilities ``(1, m)`` of a model for inputs ``X`` ``(n_x, m)``.

    ``activations`` names each layer's activation (as saved with the model): a tanh
    hidden layer runs :func:`cnn_core.shallow.forward_propagation`, anything else
    :func:`cnn_core.deep.L_model_forward` (logistic regression as its one-layer case,
    ``W1 = w^T``), so the numbers are those functions' own.
    """
    n_layers = len(activations)
    runnable = (["tanh", "sigmoid"], ["relu"] * (n_layers - 1) + ["sigmoid"])
    if list(activations) not in runnable:
        raise ValueError(
            f"activations must be ['tanh', 'sigmoid'] or ['relu', ..., 'relu', 'sigmoid'] "
            f"(the notes' networks); got {list(activations)}"
        )
    if "w" in parameters:
        b = float(np.asarray(parameters["b"]).reshape(()))
        parameters = {"W1": np.asarray(parameters["w"]).T, "b1": np.array([[b]])}
    if activations[0] == "tanh":
        A2, _ = shallow.forward_propagation(X, parameters, backend=backend)
        return A2
    AL, _ = deep.L_model_forward(X, parameters, backend=backend)
    return AL


def accuracy(probabilities, Y):
    """The fraction of examples whose 0.5-thresholded probability equals the label.

    ``probabilities`` and ``Y`` are ``(1, m)`` (``Y`` may be ``(m,)``).
    """
    probabilities = as_float_array("probabilities", probabilities)
    Y = as_labels("Y", Y, probabilities.shape[1])
    return float(np.mean((probabilities > 0.5) == Y))


def sklearn_logistic_regression(X, Y):
    """The notes' baseline on 2-D points: scikit-learn's ``LogisticRegressionCV``.

    Arguments:
        X: ``(2, m)``; Y: ``(1, m)`` labels.

    Returns:
        The fitted classifier (its ``predict`` takes points as rows, ``(k, 2)``) and its
        training accuracy in percent, by the notes' formula.

    Raises:
        ImportError: scikit-learn is not installed (the message names the ``data`` extra).
    """
    import warnings

    linear_model = require("sklearn.linear_model", "data",
                           "cnn_core.experiments.sklearn_logistic_regression")
    clf = linear_model.LogisticRegressionCV()
    with warnings.catch_warnings():
        # Recent scikit-learn announces changes to LogisticRegressionCV's defaults; the
        # notes ran with these ones.
        warnings.simplefilter("ignore", FutureWarning)
        clf.fit(X.T, np.asarray(Y).ravel())
    return clf, notes_accuracy_percent(Y, clf.predict(X.T))


# ---------------------------------------------------------------------------------------
# Inputs of `cnn-core predict`
# ---------------------------------------------------------------------------------------

#: File endings read as NumPy arrays of feature columns; everything else goes to Pillow.
NUMPY_SUFFIXES = (".npy",)


def read_input(path, metadata):
    """One input file as the model's feature columns ``(n_x, k)``, preprocessed.

    An image (any format Pillow opens; Pillow's decompression-bomb limit stays on) is
    converted to RGB, resized to the model's image shape with bilinear filtering and
    scaled as at training. A ``.npy`` file (read without pickle) holds feature columns
    ``(n_x, k)`` (or one column ``(n_x,)``), already preprocessed.

    Raises:
        ValueError: the file cannot be read or does not fit the model (the message says
            why; the caller adds the path).
    """
    n_x = metadata["layer_sizes"][0]
    if not os.path.isfile(path):
        raise ValueError("no such file")
    if str(path).lower().endswith(NUMPY_SUFFIXES):
        return _read_numpy(path, n_x)
    image_shape = metadata["preprocessing"].get("image_shape")
    if not image_shape:
        raise ValueError(
            f"the model takes {n_x} features per column, not images: give a .npy file"
        )
    return _read_image(path, image_shape, metadata["preprocessing"].get("scale", "none"))


def _read_numpy(path, n_x):
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"not a readable .npy array ({exc})") from exc
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[0] != n_x or array.shape[1] == 0:
        raise ValueError(
            f"must hold feature columns (n_x, m) with n_x = {n_x}; got shape {array.shape}"
        )
    if array.dtype.kind not in "biuf":
        raise ValueError(f"must hold real numbers; got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError("holds NaN or infinite values")
    return array


def _read_image(path, image_shape, scale):
    Image = require("PIL.Image", "cli", "reading images (cnn_core.experiments.read_input)")
    UnidentifiedImageError = Image.UnidentifiedImageError
    height, width, channels = image_shape
    if channels != 3:
        raise ValueError(f"the model's images have {channels} channels; only RGB is supported")
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.asarray(rgb, dtype=np.uint8)
    except Image.DecompressionBombError as exc:
        raise ValueError(f"refused as a possible decompression bomb ({exc})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"not an image Pillow can read ({exc})") from exc
    columns = preprocessing.flatten_images(pixels[np.newaxis])
    if scale == "divide_255":
        return preprocessing.standardize_images(columns)
    return columns.astype(np.float64)


# ---------------------------------------------------------------------------------------
# The hidden-layer-size study
# ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class SweepResult:
    """One tanh network per hidden size: parameters and accuracy in percent (the notes')."""

    data: Data
    hidden_sizes: list
    parameters: list
    accuracies: list
    iterations: int
    seconds: float

    def lines(self):
        """The notes' lines, ``Accuracy for 4 hidden units: 90.5 %``."""
        return ["Accuracy for {} hidden units: {} %".format(n_h, acc)
                for n_h, acc in zip(self.hidden_sizes, self.accuracies)]

    def as_dict(self):
        return {"data": self.data.name, "iterations": self.iterations,
                "hidden_sizes": list(self.hidden_sizes), "accuracies": list(self.accuracies),
                "seconds": self.seconds, "versions": versions()}


def _train_from_state(X, Y, n_h, iterations, rng_state, backend):
    """One network of the study, drawing its initial parameters from ``rng_state``."""
    np.random.set_state(rng_state)
    parameters = shallow.nn_model(X, Y, n_h, num_iterations=iterations, backend=backend)
    return parameters, notes_accuracy_percent(Y, shallow.predict(parameters, X, backend=backend))


def notes_accuracy_percent(Y, predictions):
    """The notes' accuracy in percent: ``(Y . p^T + (1 - Y) . (1 - p)^T) / m * 100``.

    ``Y`` and the 0/1 ``predictions`` are ``(1, m)`` or ``(m,)``.
    """
    Y = as_labels("Y", Y, np.size(Y))
    predictions = as_labels("predictions", predictions, Y.shape[1])
    matches = np.dot(Y, predictions.T) + np.dot(1 - Y, 1 - predictions.T)
    return float(matches[0, 0] / float(Y.size) * 100)


def hidden_layer_sweep(data, hidden_sizes=DEFAULT_HIDDEN_SIZES, iterations=5000, *,
                       jobs=None, scheduler=None, backend=None):
    """The notes' hidden-layer-size study: a tanh network per size, trained on ``data``.

    The notes train the networks one after the other, each drawing its initial
    parameters from NumPy's global generator where the previous one left it. Here the
    generator's state before each network's draw is taken in that order first, then the
    networks train in parallel (joblib; on a Dask cluster with ``scheduler``), each
    restoring its own state: the numbers are the serial loop's whatever ``jobs`` is, and
    the global generator is left where the serial loop leaves it.

    Arguments:
        data: a 2-D :class:`Data` (``X`` ``(2, m)``).
        hidden_sizes: positive ints.
        iterations: gradient descent iterations per network (the notes' 5000).
        jobs: parallel workers (None: all cores).
        scheduler: the address of a Dask scheduler (``tcp://host:8786``), or None.

    Returns:
        A :class:`SweepResult`.

    Raises:
        ImportError: joblib (the ``cli`` extra) or, with ``scheduler``, Dask (the
            ``dask`` extra) is not installed.
    """
    joblib = require("joblib", "cli", "cnn_core.experiments.hidden_layer_sweep")
    sizes = [check_positive_int("hidden size", n) for n in hidden_sizes]
    if not sizes:
        raise ValueError("hidden_sizes must name at least one size")
    iterations = check_positive_int("iterations", iterations)
    backend = resolve_backend(backend)
    jobs = (os.cpu_count() or 1) if jobs is None else check_positive_int("jobs", jobs)
    n_x, n_y = data.X.shape[0], data.Y.shape[0]
    states = []
    for n_h in sizes:
        states.append(np.random.get_state())
        shallow.initialize_parameters(n_x, n_h, n_y)  # advance as the serial loop would
    tasks = [joblib.delayed(_train_from_state)(data.X, data.Y, n_h, iterations, state, backend)
             for n_h, state in zip(sizes, states)]
    after = np.random.get_state()
    start = time.perf_counter()
    if scheduler is None:
        results = joblib.Parallel(n_jobs=min(jobs, len(tasks)))(tasks)
    else:
        results = _run_on_dask(tasks, scheduler, jobs)
    seconds = time.perf_counter() - start
    np.random.set_state(after)
    return SweepResult(data, sizes, [p for p, _ in results], [a for _, a in results],
                       iterations, seconds)


def _run_on_dask(tasks, scheduler, jobs):
    distributed = require("dask.distributed", "dask", "a Dask scheduler")
    joblib = require("joblib", "cli", "cnn_core.experiments.hidden_layer_sweep")
    with distributed.Client(scheduler, timeout="20s"), \
            joblib.parallel_config(backend="dask"):
        return joblib.Parallel(n_jobs=jobs)(tasks)
