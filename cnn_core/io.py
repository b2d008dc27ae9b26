"""Saving and loading trained models as safetensors files, without pickle.

A model file is a plain `safetensors <https://huggingface.co/docs/safetensors>`_ file:
an 8-byte little-endian header length, a JSON header (padded with spaces to a multiple of
8 bytes), then the raw little-endian tensor bytes, back to back in the order of their
``data_offsets``. Loading it parses JSON and copies bytes; nothing in the file is ever
executed, unlike ``pickle`` or ``np.load(allow_pickle=True)``. The format is simple
enough to be written and read here with NumPy and the standard library, so saving and
loading models is part of the core install; any safetensors reader opens the files, and
cnn_core opens the files of any safetensors writer that hold a model's tensors and
metadata.

Tensors follow the course's convention, columns are examples (``X`` is ``(n_0, m)``):

* deep and shallow networks: ``W1, b1, ..., WL, bL`` with ``W{l}`` of shape
  ``(n_l, n_{l-1})`` and ``b{l}`` of shape ``(n_l, 1)``;
* logistic regression: ``w`` of shape ``(n_x, 1)`` and ``b`` stored as a ``(1, 1)``
  tensor (loaded back as a Python float).

All tensors of one model share one dtype, float32 or float64, and are stored exactly,
so a round trip is bit for bit.

The header's ``__metadata__`` map holds a single entry, ``"cnn_core"``, whose value is a
JSON document::

    {"format_version": 1, "library_version": "0.1.0", "kind": "deep",
     "layer_sizes": [12288, 20, 7, 5, 1],
     "activations": ["relu", "relu", "relu", "sigmoid"],
     "class_names": ["non-cat", "cat"],
     "preprocessing": {"image_shape": [64, 64, 3], "scale": "divide_255"},
     "training": {"num_iterations": 2500, "learning_rate": 0.0075},
     "dtype": "float64"}

``kind`` and ``layer_sizes`` determine which tensors the file must hold and their
shapes; :func:`load_model` checks all of it and refuses a file that disagrees, naming
the file and the problem.
"""
from __future__ import annotations

import errno
import json
import numbers
import os
import secrets
import struct

import numpy as np

from cnn_core._validation import as_float_array, check_finite, check_parameters, check_shape
from cnn_core.activations import ACTIVATIONS

__all__ = ["FORMAT_VERSION", "MODEL_KINDS", "SCALES", "save_model", "load_model"]

#: The layout version written by :func:`save_model`; :func:`load_model` reads files up
#: to this version and refuses newer ones instead of misreading them.
FORMAT_VERSION = 1
#: The kinds of model a file can hold, logistic regression, the shallow (one hidden
#: layer) network or the L-layer deep network.
MODEL_KINDS = ("logistic", "shallow", "deep")
#: How inputs are scaled before the model sees them, not at all or the course's X / 255.
SCALES = ("none", "divide_255")

_METADATA_KEY = "cnn_core"
_DTYPE_NAMES = ("float32", "float64")
# safetensors' own names for the dtypes above, as they appear in the JSON header.
_SAFETENSORS_DTYPES = {"F32": "float32", "F64": "float64"}
_SAFETENSORS_NAMES = {name: code for code, name in _SAFETENSORS_DTYPES.items()}
_REQUIRED_FIELDS = ("format_version", "kind", "layer_sizes", "activations",
                    "class_names", "preprocessing", "training", "dtype")
_METADATA_KEYWORDS = ("kind", "layer_sizes", "activations", "class_names",
                      "preprocessing", "training")
_HEADER_LENGTH_BYTES = 8
# The header is padded with spaces to this many bytes, so that the data starts aligned.
_HEADER_ALIGNMENT = 8
# Leading bytes of files people may mistake for a model file, for a clearer message.
_FOREIGN_MAGIC = {
    b"PK\x03\x04": "a zip archive (a NumPy .npz file?)",
    b"\x93NUMPY": "a NumPy .npy file",
    b"\x89HDF": "an HDF5 file",
    b"\x80": "a pickle",
}


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------

def save_model(path, parameters, **metadata):
    """Write ``parameters`` and their description to ``path`` as a safetensors file.

    Arguments:
        path: where to write (str or path-like); an existing file is replaced
            atomically (a temporary file in the same folder, then ``os.replace``).
        parameters: a deep or shallow network's ``{"W1": (n_1, n_0), "b1": (n_1, 1),
            ..., "WL": (n_L, n_{L-1}), "bL": (n_L, 1)}``, or logistic regression's
            ``{"w": (n_x, 1), "b": float}`` (``b`` may also be a size-1 array; a Python
            float takes ``w``'s dtype). Arrays must be float32 or float64, all the same
            dtype, finite.
        **metadata: all optional, JSON-serialisable:
            ``kind`` (one of :data:`MODEL_KINDS`; default "logistic" for ``w``/``b``,
            else "deep"), ``layer_sizes`` (``[n_0, ..., n_L]``; default from the
            shapes), ``activations`` (L names of :data:`cnn_core.activations.ACTIVATIONS`;
            default ``["sigmoid"]``, ``["tanh", "sigmoid"]`` or ``["relu"] * (L - 1) +
            ["sigmoid"]`` by kind), ``class_names`` (at least 2 str; default
            ``["0", "1"]``), ``preprocessing`` (``{"image_shape": None or [h, w, c]
            with h * w * c = n_0, "scale": "none" or "divide_255"}``) and ``training``
            (a dict of free-form settings, default ``{}``).

    Returns:
        The path written, as a str.

    Raises:
        TypeError: ``parameters`` is not a dict, an array is not float32/float64
            (naming the key), or a metadata keyword is unknown, of the wrong type or not
            JSON-serialisable (naming it).
        ValueError: a non-finite value, inconsistent shapes, mixed dtypes, or metadata
            that contradicts the parameters (kind, layer_sizes, activations,
            image_shape).
    """
    path = os.fspath(path)
    tensors, inferred_kind, layer_sizes, dtype = _check_model_parameters(parameters)
    document = _build_metadata(inferred_kind, layer_sizes, dtype, metadata)
    header_metadata = {_METADATA_KEY: json.dumps(document, allow_nan=False)}
    _write_atomically(path, tensors, header_metadata)
    return path


def _check_model_parameters(parameters):
    """Validated C-contiguous tensors, the inferred kind, layer sizes and dtype name."""
    if not isinstance(parameters, dict):
        raise TypeError(
            f"parameters must be a dict (W1, b1, ... or w, b); got {type(parameters).__name__}"
        )
    _check_float_dtypes(parameters)
    if {"w", "b"} & set(parameters):
        kind, tensors = "logistic", _check_logistic_parameters(parameters)
        layer_sizes = [tensors["w"].shape[0], 1]
    else:
        kind = "deep"
        tensors, L = check_parameters(parameters, None)
        layer_sizes = [tensors["W1"].shape[1]]
        layer_sizes += [tensors[f"W{l}"].shape[0] for l in range(1, L + 1)]
    dtype = _common_dtype_name(tensors)
    # The file holds each array's bytes in C order, little-endian, whatever the caller's
    # arrays' layout in memory.
    tensors = {key: np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
               for key, value in tensors.items()}
    return tensors, kind, layer_sizes, dtype


def _check_float_dtypes(parameters):
    # as_float_array would quietly promote ints to float64; a saved model must keep the
    # dtype it was trained in, so anything but float32/float64 is refused here first.
    for key, value in parameters.items():
        # A Python float has no dtype of its own (logistic ``b``); np.float64 is a
        # float subclass, hence the exact type test.
        if type(value) is float:
            continue
        dtype = np.asarray(value).dtype
        if dtype.name not in _DTYPE_NAMES:
            raise TypeError(
                f"parameters[{key!r}] has dtype {dtype}; models are saved as float32 or "
                f"float64 only (convert it with .astype(np.float64))"
            )


def _check_logistic_parameters(parameters):
    """``{"w": (n_x, 1), "b": (1, 1)}`` from the course's ``{"w", "b"}`` dict."""
    if set(parameters) != {"w", "b"}:
        raise ValueError(
            f"logistic parameters must hold exactly 'w' and 'b'; got keys {sorted(parameters)}"
        )
    w = as_float_array("parameters['w']", parameters["w"])
    check_shape("parameters['w']", w, (w.shape[0], 1), "(n_x, 1)")
    b = parameters["b"]
    if type(b) is float:
        b = np.array(b, dtype=w.dtype)
    b = as_float_array("parameters['b']", b, ndim=(0, 1, 2))
    if b.size != 1:
        raise ValueError(
            f"parameters['b'] must be a scalar or a size-1 array; got shape {b.shape}"
        )
    return {"w": w, "b": b.reshape(1, 1)}


def _common_dtype_name(tensors):
    names = {key: value.dtype.name for key, value in tensors.items()}
    if len(set(names.values())) > 1:
        listed = ", ".join(f"{key}: {name}" for key, name in names.items())
        raise ValueError(f"all parameters of a model must share one dtype; got {listed}")
    return next(iter(names.values()))


def _build_metadata(inferred_kind, layer_sizes, dtype, metadata):
    """The JSON document stored under ``"cnn_core"``, defaults filled in and checked."""
    unknown = sorted(set(metadata) - set(_METADATA_KEYWORDS))
    if unknown:
        raise TypeError(
            f"save_model() got unknown keyword argument(s) {unknown}; "
            f"known: {list(_METADATA_KEYWORDS)}"
        )
    kind = _check_kind(metadata.get("kind", inferred_kind))
    # The kind first: the default activations and every later check depend on it.
    if (kind == "logistic") != (inferred_kind == "logistic"):
        raise ValueError(
            f"kind={kind!r} does not match the parameters: logistic models hold 'w' and "
            f"'b', networks W1, b1, ..., WL, bL"
        )
    _check_kind_matches_layers(kind, layer_sizes)
    n_layers = len(layer_sizes) - 1
    if "layer_sizes" in metadata and _check_layer_sizes(metadata["layer_sizes"]) != layer_sizes:
        raise ValueError(
            f"layer_sizes={metadata['layer_sizes']!r} does not match the parameters' "
            f"shapes, which give {layer_sizes}"
        )
    activations = metadata.get("activations", _default_activations(kind, n_layers))
    preprocessing = metadata.get("preprocessing", {})
    from cnn_core import __version__  # here, not at the top: cnn_core imports this module
    return {
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "kind": kind,
        "layer_sizes": layer_sizes,
        "activations": _check_activations(activations, n_layers),
        "class_names": _check_class_names(metadata.get("class_names", ["0", "1"])),
        "preprocessing": _check_preprocessing(preprocessing, layer_sizes[0]),
        "training": _check_training(metadata.get("training", {})),
        "dtype": dtype,
    }


def _default_activations(kind, n_layers):
    if kind == "logistic":
        return ["sigmoid"]
    if kind == "shallow":
        return ["tanh", "sigmoid"]
    return ["relu"] * (n_layers - 1) + ["sigmoid"]


def _write_atomically(path, tensors, header_metadata):
    # A crash or a full disk mid-write must not leave a half-written model under the
    # final name: write beside it (same file system, so os.replace is atomic), then swap.
    folder, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
    try:
        _write_file(temporary, tensors, header_metadata)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _write_file(path, tensors, header_metadata):
    """Write ``tensors`` (C-contiguous, little-endian arrays) as a safetensors file.

    The layout safetensors' own writer gives a single-dtype model: the header's
    ``__metadata__`` first, then the tensors sorted by name, their data in that order.
    """
    header = {"__metadata__": header_metadata}
    offset = 0
    names = sorted(tensors)
    for name in names:
        array = tensors[name]
        header[name] = {"dtype": _SAFETENSORS_NAMES[array.dtype.name],
                        "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    raw += b" " * (-len(raw) % _HEADER_ALIGNMENT)
    # "x": the temporary name is fresh; never write through an existing file or link.
    with open(path, "xb") as handle:
        handle.write(struct.pack("<Q", len(raw)))
        handle.write(raw)
        for name in names:
            handle.write(tensors[name].tobytes())


# ---------------------------------------------------------------------------------------
# Metadata checks, shared by saving (the caller's keywords) and loading (the file's JSON)
# ---------------------------------------------------------------------------------------

def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_kind(kind):
    if kind not in MODEL_KINDS:
        raise ValueError(f"kind must be one of {list(MODEL_KINDS)}; got {kind!r}")
    return kind


def _check_layer_sizes(layer_sizes):
    """``[n_0, ..., n_L]`` as a list of ints >= 1, at least two of them."""
    if not isinstance(layer_sizes, (list, tuple)) or not all(_is_int(n) for n in layer_sizes):
        raise TypeError(f"layer_sizes must be a list of ints [n_0, ..., n_L]; got {layer_sizes!r}")
    if len(layer_sizes) < 2 or min(layer_sizes) < 1:
        raise ValueError(
            f"layer_sizes must hold at least 2 positive ints [n_0, ..., n_L]; got {layer_sizes!r}"
        )
    return [int(n) for n in layer_sizes]


def _check_kind_matches_layers(kind, layer_sizes):
    n_layers = len(layer_sizes) - 1
    if kind == "logistic" and layer_sizes[1:] != [1]:
        raise ValueError(f"a logistic model has layer_sizes [n_x, 1]; got {layer_sizes}")
    if kind == "shallow" and n_layers != 2:
        raise ValueError(
            f"a shallow network has 2 layers (layer_sizes [n_x, n_h, n_y]); got {layer_sizes}"
        )


def _check_activations(activations, n_layers):
    if not isinstance(activations, (list, tuple)):
        raise TypeError(f"activations must be a list of {n_layers} names; got {activations!r}")
    if len(activations) != n_layers:
        raise ValueError(
            f"activations must name one activation per layer ({n_layers}); "
            f"got {len(activations)}: {list(activations)!r}"
        )
    for name in activations:
        if not isinstance(name, str) or name not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {name!r} in activations; known: {sorted(ACTIVATIONS)}"
            )
    return list(activations)


def _check_class_names(class_names):
    if not isinstance(class_names, (list, tuple)):
        raise TypeError(f"class_names must be a list of str; got {class_names!r}")
    names = [n.decode("utf-8") if isinstance(n, bytes) else n for n in class_names]
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"class_names must be a list of str; got {class_names!r}")
    if len(names) < 2:
        raise ValueError(f"class_names must name at least 2 classes; got {names!r}")
    return names


def _check_preprocessing(preprocessing, n_0):
    """``{"image_shape": None or [h, w, c], "scale": one of SCALES}`` with h*w*c = n_0."""
    if not isinstance(preprocessing, dict):
        raise TypeError(
            f"preprocessing must be a dict with 'image_shape' and 'scale'; got {preprocessing!r}"
        )
    unknown = sorted(set(preprocessing) - {"image_shape", "scale"})
    if unknown:
        raise TypeError(f"preprocessing has unknown key(s) {unknown}; known: image_shape, scale")
    image_shape = preprocessing.get("image_shape")
    scale = preprocessing.get("scale", "none")
    if image_shape is not None:
        if (not isinstance(image_shape, (list, tuple)) or len(image_shape) != 3
                or not all(_is_int(n) and n >= 1 for n in image_shape)):
            raise ValueError(
                f"preprocessing['image_shape'] must be None or 3 positive ints "
                f"[height, width, channels]; got {image_shape!r}"
            )
        image_shape = [int(n) for n in image_shape]
        if int(np.prod(image_shape)) != n_0:
            raise ValueError(
                f"preprocessing['image_shape'] {image_shape} holds {int(np.prod(image_shape))} "
                f"values per image but the model's input has n_0 = {n_0}"
            )
    if scale not in SCALES:
        raise ValueError(f"preprocessing['scale'] must be one of {list(SCALES)}; got {scale!r}")
    return {"image_shape": image_shape, "scale": scale}


def _check_training(training):
    if not isinstance(training, dict):
        raise TypeError(f"training must be a dict of settings; got {type(training).__name__}")
    try:
        # Strict JSON (no NaN): the document must be readable by any JSON parser.
        json.dumps(training, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"training is not JSON-serialisable: {exc}") from exc
    return training


def _expected_shapes(kind, layer_sizes):
    """The tensor names a model of this kind and these sizes holds, and their shapes."""
    if kind == "logistic":
        return {"w": (layer_sizes[0], 1), "b": (1, 1)}
    shapes = {}
    for l in range(1, len(layer_sizes)):
        shapes[f"W{l}"] = (layer_sizes[l], layer_sizes[l - 1])
        shapes[f"b{l}"] = (layer_sizes[l], 1)
    return shapes


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------

def load_model(path):
    """Read a model written by :func:`save_model`; nothing in the file is executed.

    Arguments:
        path: the model file (str or path-like).

    Returns:
        ``(parameters, metadata)``. ``parameters`` holds writable arrays of the stored
        dtype: ``{"W1": (n_1, n_0), "b1": (n_1, 1), ..., "WL": (n_L, n_{L-1}),
        "bL": (n_L, 1)}`` for a network, ``{"w": (n_x, 1), "b": float}`` for logistic
        regression. ``metadata`` is the decoded JSON document (see the module
        docstring): format_version, library_version, kind, layer_sizes, activations,
        class_names, preprocessing, training and dtype.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: naming the file and the problem, when it is not a safetensors file
            (empty, truncated, another format, header not JSON, data not covered or
            tensors' byte ranges not back to back or not of their shapes' size), its
            ``cnn_core`` metadata is missing, not JSON, incomplete or invalid, it was
            written by a newer format, or its tensors disagree with the metadata
            (missing or extra tensor, wrong shape, dtype other than float32/float64 or
            mixed, NaN or infinity).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "no such cnn_core model file", path)
    try:
        header, data_start = _read_header(path)
        metadata = _read_metadata(header)
        _check_header_tensors(header, metadata)
        parameters = _read_tensors(path, header, data_start, metadata)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"cannot load cnn_core model {path!r}: {exc}") from exc
    return parameters, metadata


def _read_header(path):
    """The safetensors JSON header and where the data starts, the file's framing checked.

    The messages say whether the file is cut short or something else entirely.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        prefix = handle.read(_HEADER_LENGTH_BYTES)
        if len(prefix) < _HEADER_LENGTH_BYTES:
            raise ValueError(
                f"not a safetensors file: it has {size} bytes, fewer than the "
                f"{_HEADER_LENGTH_BYTES}-byte header length that starts one"
            )
        (header_length,) = struct.unpack("<Q", prefix)
        if header_length > size - _HEADER_LENGTH_BYTES:
            raise ValueError(_bad_header_length_message(prefix, header_length, size))
        raw = handle.read(header_length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError(f"not a safetensors file: its header is not JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise ValueError(
            f"not a safetensors file: its header is {type(header).__name__}, not a JSON object"
        )
    _check_data_size(header, size - _HEADER_LENGTH_BYTES - header_length)
    return header, _HEADER_LENGTH_BYTES + header_length


def _bad_header_length_message(prefix, header_length, size):
    for magic, what in _FOREIGN_MAGIC.items():
        if prefix.startswith(magic):
            return f"not a safetensors file: it looks like {what}"
    return (
        f"file is truncated or not a safetensors file: header says {header_length} bytes, "
        f"file has {size - _HEADER_LENGTH_BYTES} after the 8-byte header length"
    )


def _check_data_size(header, data_size):
    """Raise unless the tensors' byte ranges follow one another from the start of the
    data and end exactly where the file does (as safetensors requires)."""
    ranges = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        well_formed = isinstance(offsets, list) and len(offsets) == 2
        if not (well_formed and all(_is_int(o) for o in offsets)):
            raise ValueError(f"not a safetensors file: header entry {name!r} has no data_offsets")
        ranges.append((offsets[0], offsets[1], name))
    needed = max((end for _, end, _ in ranges), default=0)
    if needed > data_size:
        raise ValueError(
            f"file is truncated: its tensors need {needed} bytes of data, file has {data_size}"
        )
    if needed < data_size:
        raise ValueError(
            f"not a valid safetensors file: data not fully covered ({data_size - needed} "
            f"bytes after the last tensor)"
        )
    start = 0
    for begin, end, name in sorted(ranges):
        if begin != start or end < begin:
            raise ValueError(
                f"not a valid safetensors file: tensor {name!r} has data_offsets "
                f"[{begin}, {end}], where the data from byte {start} on was expected"
            )
        start = end


def _read_metadata(header):
    """The decoded, checked ``cnn_core`` document of the header's ``__metadata__``."""
    entries = header.get("__metadata__") or {}
    if not isinstance(entries, dict):
        raise ValueError("not a valid safetensors file: its __metadata__ is not a JSON object")
    if _METADATA_KEY not in entries:
        raise ValueError(
            f"no {_METADATA_KEY!r} metadata entry: not a model saved by cnn_core.io.save_model "
            f"(metadata keys: {sorted(entries)})"
        )
    try:
        document = json.loads(entries[_METADATA_KEY])
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"the {_METADATA_KEY!r} metadata entry is not valid JSON ({exc})"
        ) from exc
    if not isinstance(document, dict):
        raise ValueError(f"the {_METADATA_KEY!r} metadata entry is not a JSON object")
    # The version first: a newer layout may have different fields, so judge it by its
    # version rather than report fields that the newer format no longer has.
    _check_format_version(document.get("format_version"))
    missing = [field for field in _REQUIRED_FIELDS if field not in document]
    if missing:
        raise ValueError(f"the {_METADATA_KEY!r} metadata lacks required field(s) {missing}")
    kind = _check_kind(document["kind"])
    layer_sizes = _check_layer_sizes(document["layer_sizes"])
    _check_kind_matches_layers(kind, layer_sizes)
    if document["dtype"] not in _DTYPE_NAMES:
        raise ValueError(
            f"metadata dtype must be one of {list(_DTYPE_NAMES)}; got {document['dtype']!r}"
        )
    return {
        **document,
        "library_version": document.get("library_version"),
        "layer_sizes": layer_sizes,
        "activations": _check_activations(document["activations"], len(layer_sizes) - 1),
        "class_names": _check_class_names(document["class_names"]),
        "preprocessing": _check_preprocessing(document["preprocessing"], layer_sizes[0]),
        "training": _check_training(document["training"]),
    }


def _check_format_version(version):
    if not _is_int(version):
        raise ValueError(f"format_version must be an int; got {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"written by a newer cnn_core (format {version}); this one reads format "
            f"{FORMAT_VERSION}: upgrade cnn_core"
        )
    if version < 1:
        raise ValueError(f"format_version must be >= 1; got {version}")


def _check_header_tensors(header, metadata):
    """Compare the header's tensor names, shapes and dtypes with what the metadata implies.

    Done on the header alone, before any tensor data is read.
    """
    expected = _expected_shapes(metadata["kind"], metadata["layer_sizes"])
    found = {name: entry for name, entry in header.items() if name != "__metadata__"}
    missing = [name for name in expected if name not in found]
    if missing:
        raise ValueError(f"missing tensor(s) {missing} for a {metadata['kind']} model "
                         f"with layer_sizes {metadata['layer_sizes']}")
    extra = sorted(set(found) - set(expected))
    if extra:
        raise ValueError(f"unexpected extra tensor(s) {extra} for a {metadata['kind']} model "
                         f"with layer_sizes {metadata['layer_sizes']}")
    for name, shape in expected.items():
        found_shape = tuple(found[name].get("shape", ()))
        if found_shape != shape:
            raise ValueError(f"tensor {name!r} has shape {found_shape}; layer_sizes "
                             f"{metadata['layer_sizes']} imply {shape}")
        dtype = _SAFETENSORS_DTYPES.get(found[name].get("dtype"))
        if dtype is None:
            raise ValueError(f"tensor {name!r} has dtype {found[name].get('dtype')}; "
                             f"cnn_core models hold float32 (F32) or float64 (F64)")
        if dtype != metadata["dtype"]:
            raise ValueError(f"tensor {name!r} is {dtype} but the model's dtype is "
                             f"{metadata['dtype']}: all tensors must share one dtype")
        begin, end = found[name]["data_offsets"]
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        if end - begin != nbytes:
            raise ValueError(f"tensor {name!r} has {end - begin} bytes of data; its shape "
                             f"{shape} in {dtype} needs {nbytes}")


def _read_tensors(path, header, data_start, metadata):
    """The model's parameters as writable arrays, each checked finite.

    The header has been checked: the names, shapes, dtype and byte ranges are the ones the
    metadata implies, and the ranges cover the data exactly.
    """
    with open(path, "rb") as handle:
        handle.seek(data_start)
        data = handle.read()
    # Each array in the stored dtype and the machine's byte order: a private, writable
    # copy, not a view of the bytes read.
    dtype = np.dtype(metadata["dtype"])
    parameters = {}
    for name, shape in _expected_shapes(metadata["kind"], metadata["layer_sizes"]).items():
        begin, end = header[name]["data_offsets"]
        stored = np.frombuffer(data, dtype=dtype.newbyteorder("<"),
                               count=(end - begin) // dtype.itemsize, offset=begin)
        parameters[name] = stored.reshape(shape).astype(dtype)
        check_finite(f"tensor {name!r}", parameters[name])
    if metadata["kind"] == "logistic":
        parameters["b"] = float(parameters["b"][0, 0])
    return parameters
