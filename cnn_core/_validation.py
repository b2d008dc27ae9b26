"""Input checks shared by every public function.

Each check names the argument, what was found and what was expected, so that a wrong
call fails with a sentence instead of a NumPy broadcast error several frames down.
Arrays follow the course's convention: columns are examples, ``X`` is ``(n_x, m)``.
"""
from __future__ import annotations

import numbers

import numpy as np

#: Floating dtypes computed natively; any other real dtype is promoted to float64.
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
#: The most dimensions an ndarray can have: NumPy's ``NPY_MAXDIMS``, 64 since NumPy 2.0
#: (the oldest that cnn_core supports; it was 32 before). NumPy has no public Python name
#: for it; tests/test_preprocessing.py checks this value against the installed NumPy.
MAX_NDIM = 64


def as_float_array(name, x, *, ndim=2, finite=True):
    """Return ``x`` as a float32/float64 ndarray of ``ndim`` dimensions, or raise.

    Booleans, integers and other float widths become float64; float32 stays float32.
    ``ndim`` may be an int or a tuple of allowed values. Complex, object and string
    input raise TypeError; a wrong ndim, an empty array or (with ``finite``) a NaN or
    infinity raise ValueError.
    """
    arr = np.asarray(x)
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TypeError(
            f"{name} must be a real numeric array; got dtype {arr.dtype}"
        )
    if arr.dtype not in FLOAT_DTYPES:
        arr = arr.astype(np.float64)
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        if len(allowed) > 3 and allowed == tuple(range(allowed[0], allowed[-1] + 1)):
            wanted = f"{allowed[0]}-D to {allowed[-1]}-D"
        else:
            wanted = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(
            f"{name} must be a {wanted} array; got ndim={arr.ndim} with shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if finite:
        check_finite(name, arr)
    return arr


def check_finite(name, arr):
    """Raise ValueError naming the first NaN or infinity of ``arr``."""
    finite = np.isfinite(arr)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{name} must be finite (no NaN or infinity); found {arr[where]} at index {where}"
        )


def check_shape(name, arr, expected, meaning):
    """Raise ValueError unless ``arr.shape == expected``.

    ``meaning`` is the symbolic shape, e.g. ``"(1, m)"``, quoted in the message so that
    the reader sees which dimension disagreed and why it was expected.
    """
    expected = tuple(int(e) for e in expected)
    if arr.shape != expected:
        raise ValueError(
            f"{name} must have shape {meaning} = {expected}; got {arr.shape} "
            f"(columns are examples)"
        )


def check_labels(name, Y):
    """Raise ValueError unless every label lies in [0, 1] (a training entry point's rule)."""
    bad = (Y < 0) | (Y > 1)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must hold labels in [0, 1]; found {Y[where]} at index {where}"
        )


def as_labels(name, Y, m, n_rows=1):
    """``Y`` as a float ``(n_rows, m)`` array; a 1-D vector of length m is one row.

    ``n_rows=None`` accepts any number of rows (one per output unit).
    """
    arr = as_float_array(name, Y, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    rows = arr.shape[0] if n_rows is None else n_rows
    check_shape(name, arr, (rows, m), "(1, m)" if n_rows == 1 else "(n_y, m)")
    return arr


def check_positive_int(name, value):
    """Return ``value`` as an int, or raise if it is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_nonnegative_int(name, value):
    """Return ``value`` as an int, or raise if it is not an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    return int(value)


def check_learning_rate(learning_rate):
    """Return the learning rate as a float, or raise unless it is finite and > 0."""
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise ValueError(f"learning_rate must be a real number; got {learning_rate!r}")
    rate = float(learning_rate)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"learning_rate must be finite and > 0; got {learning_rate!r}")
    return rate


def check_callback(callback):
    """Return ``callback`` (None or a callable), or raise TypeError."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(i, cost); got {callback!r}")
    return callback


def check_parameters(parameters, n_x, *, n_layers=None, name="parameters"):
    """Check a course parameters dict ``{"W1", "b1", ..., "WL", "bL"}`` against ``n_x``.

    ``W{l}`` must be ``(n_l, n_{l-1})`` with ``n_0 = n_x`` (not checked when ``n_x`` is
    None) and ``b{l}`` ``(n_l, 1)``.
    Returns a new dict of validated float arrays (the input is not modified) and L.
    """
    if not isinstance(parameters, dict):
        raise TypeError(f"{name} must be a dict of W1, b1, ...; got {type(parameters).__name__}")
    L = len(parameters) // 2
    if L < 1 or len(parameters) != 2 * L:
        raise ValueError(
            f"{name} must hold W1, b1, ..., WL, bL (an even number of entries); "
            f"got keys {sorted(parameters)}"
        )
    if n_layers is not None and L != n_layers:
        raise ValueError(f"{name} must describe {n_layers} layers; got {L} ({sorted(parameters)})")
    checked = {}
    n_prev = n_x
    for l in range(1, L + 1):
        for key in (f"W{l}", f"b{l}"):
            if key not in parameters:
                raise ValueError(f"{name} lacks {key!r}; got keys {sorted(parameters)}")
        W = as_float_array(f"{name}['W{l}']", parameters[f"W{l}"])
        if n_prev is not None and W.shape[1] != n_prev:
            raise ValueError(
                f"{name}['W{l}'] must have shape (n_{l}, n_{l - 1}) with n_{l - 1} = {n_prev}; "
                f"got {W.shape}"
            )
        b = as_float_array(f"{name}['b{l}']", parameters[f"b{l}"])
        check_shape(f"{name}['b{l}']", b, (W.shape[0], 1), f"(n_{l}, 1)")
        checked[f"W{l}"], checked[f"b{l}"] = W, b
        n_prev = W.shape[0]
    return checked, L


def check_update(parameters, grads):
    """``(parameters, gradients)`` checked for one gradient step, both keyed ``W1, b1, ...``.

    ``grads`` must hold ``dW{l}`` and ``db{l}`` of each parameter's shape (extra keys,
    such as ``dA{l}``, are ignored). Everything is checked before anything is changed,
    so a bad ``grads`` leaves the caller's dict as it was.
    """
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of dW1, db1, ...; got {type(grads).__name__}")
    checked, _ = check_parameters(parameters, None)
    gradients = {}
    for key, value in checked.items():
        if f"d{key}" not in grads:
            raise ValueError(f"grads lacks 'd{key}'; got keys {sorted(grads)}")
        gradients[key] = as_float_array(f"grads['d{key}']", grads[f"d{key}"])
        check_shape(f"grads['d{key}']", gradients[key], value.shape, f"parameters['{key}'].shape")
    return checked, gradients


# ---------------------------------------------------------------------------------------
# The chapter modules' argument checks.
# ---------------------------------------------------------------------------------------


def check_bias(b):
    """The logistic bias as a Python float (a size-1 array is accepted).

    ValueError when it is not a finite real number.
    """
    if isinstance(b, np.ndarray) and b.size == 1:
        b = b.reshape(()).item()
    if isinstance(b, bool) or not isinstance(b, numbers.Real) or not np.isfinite(b):
        raise ValueError(f"b must be a finite real scalar; got {b!r}")
    return float(b)


def check_w_X(w, X):
    """``w`` ``(n_x, 1)`` and ``X`` ``(n_x, m)`` as float arrays, their shapes agreeing."""
    X = as_float_array("X", X)
    w = as_float_array("w", w)
    check_shape("w", w, (X.shape[0], 1), "(n_x, 1) with n_x = X.shape[0]")
    return w, X


def check_X_Y(X, Y):
    """``X`` ``(n_x, m)`` as a float array, ``Y`` as labels with m columns (any rows)."""
    X = as_float_array("X", X)
    return X, as_labels("Y", Y, X.shape[1], n_rows=None)


def check_layer_dims(layer_dims, name="layer_dims"):
    """``layer_dims`` as a list of positive ints: the input size and at least one layer."""
    try:
        dims = list(layer_dims)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of layer sizes; got {layer_dims!r}") from None
    if len(dims) < 2:
        raise ValueError(f"{name} must list the input size and at least one layer; got {dims}")
    return [check_positive_int(f"{name}[{i}]", d) for i, d in enumerate(dims)]


def check_layer_inputs(A_prev, W, b, A_name="A_prev"):
    """``A_prev`` ``(n_prev, m)``, ``W`` ``(n, n_prev)`` and ``b`` ``(n, 1)`` as float arrays."""
    A_prev = as_float_array(A_name, A_prev)
    W = as_float_array("W", W)
    b = as_float_array("b", b)
    if W.shape[1] != A_prev.shape[0]:
        raise ValueError(
            f"W must have shape (n, n_prev) with n_prev = {A_name}.shape[0] = "
            f"{A_prev.shape[0]}; got W.shape = {W.shape}, {A_name}.shape = {A_prev.shape}"
        )
    check_shape("b", b, (W.shape[0], 1), "(n, 1)")
    return A_prev, W, b


def check_binary_output(parameters, L):
    """ValueError unless the last layer ``W{L}`` has one row (one sigmoid unit)."""
    if parameters[f"W{L}"].shape[0] != 1:
        raise ValueError(
            f"parameters['W{L}'] must have 1 row (one sigmoid output unit); "
            f"got shape {parameters[f'W{L}'].shape}"
        )


def check_probabilities(name, A):
    """``A`` as a float array whose entries lie in [0, 1]."""
    A = as_float_array(name, A)
    if (A < 0).any() or (A > 1).any():
        raise ValueError(
            f"{name} must hold probabilities in [0, 1]; got values in "
            f"[{A.min()}, {A.max()}]"
        )
    return A


def check_linear_cache(cache, name="cache"):
    """The linear cache ``(A_prev, W, b)`` unpacked and checked as in :func:`check_layer_inputs`."""
    try:
        A_prev, W, b = cache
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be the linear cache (A_prev, W, b)") from None
    return check_layer_inputs(A_prev, W, b)


def check_gradient(name, dX, shape, meaning):
    """``dX`` as a float array of ``shape`` (``meaning`` says which shape, for the message)."""
    dX = as_float_array(name, dX)
    check_shape(name, dX, shape, meaning)
    return dX


def split_layer_cache(cache, name="cache"):
    """A layer cache ``((A_prev, W, b), Z)`` split into its linear and activation parts."""
    try:
        linear_cache, activation_cache = cache
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a layer cache ((A_prev, W, b), Z) from linear_activation_forward"
        ) from None
    return linear_cache, activation_cache


def check_caches(caches, m):
    """The list of L layer caches of ``L_model_forward``, each checked, for ``m`` examples."""
    if not isinstance(caches, (list, tuple)) or len(caches) == 0:
        raise ValueError("caches must be the non-empty list returned by L_model_forward")
    checked = []
    n_prev = None
    for l, cache in enumerate(caches):
        linear_cache, Z = split_layer_cache(cache, f"caches[{l}]")
        A_prev, W, b = check_linear_cache(linear_cache, f"caches[{l}][0]")
        check_shape(f"caches[{l}][0] (A_prev)", A_prev, (A_prev.shape[0], m), "(n_prev, m)")
        if n_prev is not None and A_prev.shape[0] != n_prev:
            raise ValueError(
                f"caches[{l}] takes {A_prev.shape[0]} inputs but layer {l} has {n_prev} units"
            )
        Z = check_gradient(f"caches[{l}][1] (Z)", Z, (W.shape[0], m), "(n, m)")
        checked.append(((A_prev, W, b), Z))
        n_prev = W.shape[0]
    return checked


def check_training_data(X, Y):
    """``X`` ``(n_x, m)`` and 0/1 labels ``Y`` ``(1, m)`` in X's dtype."""
    X = as_float_array("X", X)
    Y = as_labels("Y", Y, X.shape[1])
    check_labels("Y", Y)
    return X, Y.astype(X.dtype, copy=False)


def check_model_args(learning_rate, num_iterations):
    """``(learning_rate, num_iterations)`` checked: a positive float, a non-negative int."""
    return check_learning_rate(learning_rate), check_nonnegative_int("num_iterations", num_iterations)


def _check_parameter_array(name, arr, dtype, shape, meaning):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array; got {type(arr).__name__}")
    if arr.dtype != dtype:
        raise TypeError(f"{name} must have X's dtype {dtype}; got {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != shape[1] or (shape[0] is not None
                                                     and arr.shape[0] != shape[0]):
        raise ValueError(f"{name} must have shape {meaning}; got {arr.shape}")
    if arr.shape[0] <= 0:
        raise ValueError(f"{name} must have at least one row")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not arr.flags.writeable:
        raise ValueError(f"{name} must be writeable (the trainer updates it in place)")


def _check_no_overlap(X, Y, weights, biases):
    """The parameters a trainer writes share memory with no other array it reads."""
    named = [("X", X), ("Y", Y)] + [(f"weights[{l}]", w) for l, w in enumerate(weights)] \
        + [(f"biases[{l}]", b) for l, b in enumerate(biases)]
    for i, (name, arr) in enumerate(named):
        for other_name, other in named[max(i + 1, 2):]:
            if np.may_share_memory(arr, other):
                raise ValueError(f"{other_name} must not share memory with {name} (the "
                                 "trainer writes the parameters in place)")


def check_run_arguments(num_steps, learning_rate):
    """A trainer's ``run`` arguments: an integer ``num_steps >= 0`` and a finite
    ``learning_rate > 0``."""
    if isinstance(num_steps, bool) or not isinstance(num_steps, numbers.Integral):
        raise TypeError(f"num_steps must be an integer; got {num_steps!r}")
    if num_steps < 0:
        raise ValueError(f"num_steps must be >= 0; got {num_steps}")
    if not (isinstance(learning_rate, numbers.Real) and 0 < learning_rate < float("inf")):
        raise ValueError(f"learning_rate must be > 0 and finite; got {learning_rate!r}")
    return int(num_steps), float(learning_rate)


def parameter_lists(parameters, name="parameters"):
    """The weights and biases of ``{"W1", "b1", ..., "WL", "bL"}`` as two lists of the
    dict's own arrays (not copied: a trainer updates them in place); the keys must be
    exactly those."""
    if not isinstance(parameters, dict):
        raise TypeError(f"{name} must be a dict of W1, b1, ...; got {type(parameters).__name__}")
    L = len(parameters) // 2
    expected = {f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb"}
    if L < 1 or set(parameters) != expected:
        raise ValueError(f"{name} must hold exactly W1, b1, ..., WL, bL; got keys "
                         f"{sorted(parameters)}")
    return ([parameters[f"W{l}"] for l in range(1, L + 1)],
            [parameters[f"b{l}"] for l in range(1, L + 1)])


def check_trainer_arrays(X, Y, weights, biases, max_dimension=None):
    """The arrays of a trainer (``cnn_core.training``), checked; returns their dtype.

    ``X`` ``(n_x, m)`` float64 or float32, C- or Fortran-contiguous; ``weights`` and
    ``biases`` lists of one length ``L >= 1``, ``W_l`` ``(n_l, n_{l-1})`` and ``b_l``
    ``(n_l, 1)``, writeable, C-contiguous, X's dtype; ``Y`` ``(n_L, m)`` C-contiguous.
    Every dimension at most ``max_dimension`` when given (the BLAS integer range).
    """
    L = len(weights)
    if L < 1 or len(biases) != L:
        raise ValueError("weights and biases must list the same number (>= 1) of layers; "
                         f"got {len(weights)} and {len(biases)}")
    if not isinstance(X, np.ndarray) or X.dtype not in (np.float64, np.float32):
        raise TypeError("X must be a float64 or float32 NumPy array; got "
                        f"{getattr(X, 'dtype', type(X).__name__)}")
    dtype = X.dtype
    if X.ndim != 2 or not (X.flags.c_contiguous or X.flags.f_contiguous):
        raise ValueError("X must be a C- or Fortran-contiguous 2-D array (n_x, m)")
    n_x, m = X.shape
    if n_x <= 0 or m <= 0:
        raise ValueError(f"X must hold at least one feature and one example; got {X.shape}")
    n_prev = n_x
    for l in range(L):
        _check_parameter_array(f"weights[{l}]", weights[l], dtype, (None, n_prev),
                               f"(n_{l + 1}, {n_prev})")
        n = weights[l].shape[0]
        _check_parameter_array(f"biases[{l}]", biases[l], dtype, (n, 1), f"({n}, 1)")
        n_prev = n
    if not isinstance(Y, np.ndarray) or Y.dtype != dtype:
        raise TypeError(f"Y must be a NumPy array of X's dtype {dtype}")
    if Y.shape != (n_prev, m) or not Y.flags.c_contiguous:
        raise ValueError(f"Y must be C-contiguous of shape (n_L, m) = ({n_prev}, {m}); "
                         f"got {Y.shape}")
    _check_no_overlap(X, Y, weights, biases)
    if max_dimension is not None:
        sizes = [("n_x", n_x), ("m", m)] + [(f"n_{l + 1}", w.shape[0])
                                          for l, w in enumerate(weights)]
        for name, value in sizes:
            if value > max_dimension:
                raise ValueError(f"{name} = {value} exceeds the BLAS integer range "
                                 f"(at most {max_dimension})")
    return dtype


def check_gram(gram):
    """``gram`` must be "auto", True or False."""
    if gram not in ("auto", True, False):
        raise ValueError(f"gram must be 'auto', True or False; got {gram!r}")
    return gram


def check_choice(name, value, allowed):
    """``value`` must be one of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}; got {value!r}")
    return value


def check_real(name, value):
    """A finite real number (not a bool), as a Python float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not np.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    return float(value)


def check_keep_prob(keep_prob):
    """``keep_prob`` in (0, 1]: the probability of keeping a hidden unit."""
    value = check_real("keep_prob", keep_prob)
    if not 0 < value <= 1:
        raise ValueError(f"keep_prob must be in (0, 1]; got {keep_prob!r}")
    return value


def check_lambd(lambd):
    """The L2 strength ``lambd >= 0``."""
    value = check_real("lambd", lambd)
    if value < 0:
        raise ValueError(f"lambd must be >= 0; got {lambd!r}")
    return value


def check_beta(name, beta):
    """A moving-average coefficient in [0, 1)."""
    value = check_real(name, beta)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1); got {beta!r}")
    return value


def check_positive_real(name, value):
    """A finite real number > 0."""
    checked = check_real(name, value)
    if checked <= 0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return checked


def check_nonnegative_real(name, value):
    """A finite real number >= 0."""
    checked = check_real(name, value)
    if checked < 0:
        raise ValueError(f"{name} must be >= 0; got {value!r}")
    return checked


#: What an epoch trainer's output layer may be, and its optimizers.
EPOCH_OUTPUTS = ("sigmoid", "softmax")
EPOCH_OPTIMIZERS = ("gd", "momentum", "adam")


def check_epoch_options(weights, output, optimizer, mini_batch_size, beta, beta1, beta2,
                        epsilon, lambd, keep_prob, gram=False):
    """The options of an epoch trainer (``cnn_core.training``), checked; returns them
    as a dict of Python values. A sigmoid output has 1 unit, a softmax one K >= 2; the
    Gram path (``gram`` True or False here) takes gradient descent or momentum."""
    output = check_choice("output", output, EPOCH_OUTPUTS)
    n_L = weights[-1].shape[0]
    if output == "sigmoid" and n_L != 1:
        raise ValueError(f"the output layer must have 1 unit for output='sigmoid'; got {n_L}")
    if output == "softmax" and n_L < 2:
        raise ValueError(f"the output layer must have K >= 2 units for output='softmax'; "
                         f"got {n_L}")
    optimizer = check_choice("optimizer", optimizer, EPOCH_OPTIMIZERS)
    if gram not in (True, False):
        raise ValueError(f"gram must be True or False; got {gram!r}")
    if gram and optimizer == "adam":
        raise ValueError("gram=True needs optimizer 'gd' or 'momentum': Adam divides each "
                         "entry of dW by its own scale, which leaves the span of X^T")
    return dict(output=output, optimizer=optimizer, gram=bool(gram),
                mini_batch_size=check_positive_int("mini_batch_size", mini_batch_size),
                beta=check_beta("beta", beta), beta1=check_beta("beta1", beta1),
                beta2=check_beta("beta2", beta2),
                epsilon=check_positive_real("epsilon", epsilon),
                lambd=check_lambd(lambd), keep_prob=check_keep_prob(keep_prob))


def check_softmax_targets(Y, name="Y"):
    """Softmax targets ``(K, m)``: entries in [0, 1], each column a distribution over
    the K classes (``dZ = A - Y`` is the cost's gradient only then)."""
    check_labels(name, Y)
    sums = Y.sum(axis=0, dtype=np.float64)
    bad = np.flatnonzero(np.abs(sums - 1) > 1e-6)
    if bad.size:
        raise ValueError(f"{name} must be one-hot (K, m): each column a distribution over the "
                         f"K classes, summing to 1; column {bad[0]} sums to {sums[bad[0]]:g}")


def check_epoch_arguments(permutation, m, learning_rate, record_cost, draws, n_draws,
                          sync=True):
    """The arguments of ``run_epoch``: ``permutation`` a permutation of ``range(m)``
    (an integer array ``(m,)``); ``draws`` None when ``n_draws`` is 0, else a float64
    ``(n_draws,)`` array of uniform draws in [0, 1). Returns ``(permutation as
    C-contiguous intp, learning_rate, record_cost, draws)``."""
    perm = np.asarray(permutation)
    if perm.dtype.kind not in "iu" or perm.shape != (m,):
        raise ValueError(f"permutation must be an integer array of shape (m,) = ({m},), a "
                         f"permutation of range(m); got {perm.dtype} {perm.shape}")
    # A private copy: the compiled epoch reads it without the GIL, so the caller's
    # array could change between this check and its use.
    perm = np.array(perm, dtype=np.intp, copy=True)
    if perm.min() < 0 or perm.max() >= m or np.bincount(perm, minlength=m).max() != 1:
        raise ValueError(f"permutation must hold each of 0..{m - 1} exactly once")
    learning_rate = check_learning_rate(learning_rate)
    if not isinstance(record_cost, (bool, np.bool_)):
        raise TypeError(f"record_cost must be a bool; got {record_cost!r}")
    if not isinstance(sync, (bool, np.bool_)):
        raise TypeError(f"sync must be a bool; got {sync!r}")
    if n_draws == 0:
        if draws is not None:
            raise ValueError("draws must be None when nothing is dropped (keep_prob == 1, or "
                             "no hidden layer): the trainer's draw_count is 0")
        return perm, learning_rate, bool(record_cost), None
    if not isinstance(draws, np.ndarray) or draws.dtype != np.float64 \
            or draws.shape != (n_draws,):
        raise ValueError(f"draws must be a float64 array of shape ({n_draws},) (m times the "
                         f"hidden units, e.g. np.random.rand({n_draws})); got "
                         f"{getattr(draws, 'dtype', type(draws).__name__)} "
                         f"{np.shape(draws)}")
    if not (draws.min() >= 0 and draws.max() < 1):
        raise ValueError("draws must be uniform draws in [0, 1)")
    return perm, learning_rate, bool(record_cost), np.ascontiguousarray(draws)


# ---------------------------------------------------------------------------------------
# Convolution and pooling (cnn_core.conv): NHWC arrays and hparameters dicts.
#
# Arrays are NHWC, one example per leading index: A_prev (m, n_H_prev, n_W_prev,
# n_C_prev), a filter bank W (f, f, n_C_prev, n_C), a bias b (1, 1, 1, n_C). Hyper-
# parameters come as the course's dicts: {"stride", "pad"} for a convolution, {"stride",
# "f"} for a pooling layer.
# ---------------------------------------------------------------------------------------

#: The pooling layers of the course.
POOL_MODES = ("max", "average")
#: The keys each layer's ``hparameters`` must hold.
CONV_HPARAMETERS = ("stride", "pad")
POOL_HPARAMETERS = ("stride", "f")


def as_nhwc(name, x, meaning="(m, n_H, n_W, n_C)"):
    """``x`` as a finite 4-D float array (the rules of :func:`as_float_array`).

    A real array of another number of dimensions raises ValueError naming the expected
    shape ``meaning``; for an array of examples (``meaning`` starting ``"(m,"``) a 3-D
    array is taken for one example without its leading axis, and the message says so.
    """
    arr = np.asarray(x)
    if arr.dtype.kind in "biuf" and arr.ndim != 4:
        hint = ("; one example needs a leading axis of length 1 (x[None])"
                if arr.ndim == 3 and meaning.startswith("(m,") else "")
        raise ValueError(
            f"{name} must be a 4-D array {meaning}; got ndim={arr.ndim} with shape "
            f"{arr.shape}{hint}"
        )
    return as_float_array(name, arr, ndim=4)


def check_nhwc_shape(name, arr, expected, meaning):
    """ValueError unless ``arr.shape == expected`` (``meaning``: the symbolic shape)."""
    expected = tuple(int(e) for e in expected)
    if arr.shape != expected:
        raise ValueError(f"{name} must have shape {meaning} = {expected}; got {arr.shape}")


def check_hparameters(hparameters, keys, name="hparameters"):
    """The course's ``hparameters`` dict checked: a new dict of Python ints.

    It must be a dict (TypeError) holding each of ``keys`` (ValueError naming the
    missing one); ``"stride"`` and ``"f"`` must be integers >= 1 and ``"pad"`` an
    integer >= 0 (bools and floats such as 1.0 are refused). Other keys are kept as
    they are.
    """
    if not isinstance(hparameters, dict):
        raise TypeError(
            f"{name} must be a dict with keys {list(keys)}; got {type(hparameters).__name__}"
        )
    checked = dict(hparameters)
    for key in keys:
        if key not in hparameters:
            raise ValueError(
                f"{name} lacks {key!r}: it must hold {list(keys)}; got keys "
                f"{sorted(map(str, hparameters))}"
            )
        check = check_nonnegative_int if key == "pad" else check_positive_int
        checked[key] = check(f"{name}[{key!r}]", hparameters[key])
    return checked


def check_pool_mode(mode):
    """``mode`` must be ``"max"`` or ``"average"``."""
    return check_choice("mode", mode, POOL_MODES)


def check_window_fits(f, n_H, n_W, f_name, what):
    """ValueError unless an ``f`` x ``f`` window fits in an ``n_H`` x ``n_W`` input
    (``f_name`` and ``what`` name the window's size and the input, for the message)."""
    if f > n_H or f > n_W:
        raise ValueError(
            f"{f_name} = {f} is larger than {what} = {n_H} x {n_W}: no {f} x {f} window fits"
        )


def check_conv_inputs(A_prev, W, b, hparameters, A_name="A_prev"):
    """A convolution's inputs checked and cast to one float dtype.

    ``A_prev`` ``(m, n_H_prev, n_W_prev, n_C_prev)``, ``W`` ``(f, f, n_C_prev, n_C)``
    (a square filter whose input channels match ``A_prev``'s), ``b`` ``(1, 1, 1, n_C)``
    and ``hparameters`` ``{"stride", "pad"}``; the filter must fit in the padded input.
    Returns ``(A_prev, W, b, hparameters)``: the arrays in their common dtype
    (float32 only when all three are float32), the dict with Python ints.
    """
    A_prev = as_nhwc(A_name, A_prev, "(m, n_H_prev, n_W_prev, n_C_prev), NHWC")
    W = as_nhwc("W", W, "(f, f, n_C_prev, n_C)")
    b = as_nhwc("b", b, "(1, 1, 1, n_C)")
    hparameters = check_hparameters(hparameters, CONV_HPARAMETERS)
    f, f_W, n_C_prev_W, n_C = W.shape
    if f != f_W:
        raise ValueError(f"W must be a square filter bank (f, f, n_C_prev, n_C); got shape "
                         f"{W.shape}")
    if n_C_prev_W != A_prev.shape[3]:
        raise ValueError(
            f"the channel counts do not match: W.shape[2] (the filter's input channels, "
            f"n_C_prev) = {n_C_prev_W} but {A_name}.shape[3] = {A_prev.shape[3]} "
            f"(W {W.shape}, {A_name} {A_prev.shape})"
        )
    check_nhwc_shape("b", b, (1, 1, 1, n_C), "(1, 1, 1, n_C) with n_C = W.shape[3]")
    pad = hparameters["pad"]
    check_window_fits(f, A_prev.shape[1] + 2 * pad, A_prev.shape[2] + 2 * pad,
                      "the filter size f = W.shape[0]",
                      f"the padded input, n_H_prev + 2 pad by n_W_prev + 2 pad (pad = {pad})")
    dtype = np.result_type(A_prev, W, b)
    return (A_prev.astype(dtype, copy=False), W.astype(dtype, copy=False),
            b.astype(dtype, copy=False), hparameters)


def check_pool_inputs(A_prev, hparameters, A_name="A_prev"):
    """A pooling layer's input ``(m, n_H_prev, n_W_prev, n_C)`` and ``hparameters``
    ``{"stride", "f"}``, the window fitting in the (unpadded) input."""
    A_prev = as_nhwc(A_name, A_prev, "(m, n_H_prev, n_W_prev, n_C), NHWC")
    hparameters = check_hparameters(hparameters, POOL_HPARAMETERS)
    check_window_fits(hparameters["f"], A_prev.shape[1], A_prev.shape[2], "hparameters['f']",
                      f"the input {A_name}, n_H_prev by n_W_prev (pooling does not pad)")
    return A_prev, hparameters


def _unpack(cache, count, what):
    if not isinstance(cache, (tuple, list)) or len(cache) != count:
        found = (f"a {type(cache).__name__} of length {len(cache)}"
                 if isinstance(cache, (tuple, list)) else type(cache).__name__)
        raise ValueError(f"cache must be {what}; got {found}")
    return cache


def check_conv_cache(cache):
    """The cache ``(A_prev, W, b, hparameters)`` of ``conv_forward``, checked as its
    inputs are (:func:`check_conv_inputs`)."""
    A_prev, W, b, hparameters = _unpack(
        cache, 4, "the cache (A_prev, W, b, hparameters) returned by conv_forward")
    return check_conv_inputs(A_prev, W, b, hparameters, A_name="cache (A_prev)")


def check_pool_cache(cache):
    """The cache ``(A_prev, hparameters)`` of ``pool_forward``, checked."""
    A_prev, hparameters = _unpack(
        cache, 2, "the cache (A_prev, hparameters) returned by pool_forward")
    return check_pool_inputs(A_prev, hparameters, A_name="cache (A_prev)")


def check_output_gradient(name, dZ, shape, meaning):
    """The gradient ``dZ`` of a layer's 4-D output, of ``shape`` (``meaning`` its
    symbolic form, for the message)."""
    dZ = as_nhwc(name, dZ, meaning)
    check_nhwc_shape(name, dZ, shape, meaning)
    return dZ
