"""cnn_core.io: models saved as safetensors (written by hand, read back by the library too),
loaded back bit for bit, corrupt files refused."""
import json
import os
import re
import struct

import numpy as np
import pytest
import safetensors.numpy

import cnn_core
from cnn_core import io as cnn_io

from helpers import random_network

DEEP_SIZES = [5, 4, 3, 1]
SHALLOW_SIZES = [3, 4, 1]
LOGISTIC_N_X = 6


def _model(kind, dtype=np.float64):
    """A small model of ``kind`` in ``dtype``: (parameters, save_model keywords)."""
    if kind == "logistic":
        rng = np.random.default_rng(7)
        return {"w": rng.standard_normal((LOGISTIC_N_X, 1)).astype(dtype),
                "b": rng.standard_normal((1, 1)).astype(dtype)}, {}
    if kind == "shallow":
        return random_network(SHALLOW_SIZES, m=2, seed=1, dtype=dtype)[0], {"kind": "shallow"}
    return random_network(DEEP_SIZES, m=2, seed=2, dtype=dtype)[0], {}


def _as_tensor(value, dtype):
    """A loaded logistic ``b`` (a Python float) back in the stored dtype, for comparison."""
    return np.asarray(value, dtype=dtype).reshape(np.shape(value) or (1, 1))


@pytest.fixture
def model_path(tmp_path):
    return tmp_path / "model.safetensors"


@pytest.fixture
def saved_deep(model_path):
    """A valid deep model file; returns its path."""
    parameters, _ = _model("deep")
    cnn_io.save_model(model_path, parameters)
    return model_path


# ---------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["deep", "shallow", "logistic"])
def test_round_trip_is_bit_for_bit(model_path, kind, dtype):
    parameters, keywords = _model(kind, dtype)
    cnn_io.save_model(model_path, parameters, **keywords)
    loaded, metadata = cnn_io.load_model(model_path)
    assert list(loaded) == list(parameters)
    assert metadata["dtype"] == np.dtype(dtype).name
    for key, original in parameters.items():
        restored = _as_tensor(loaded[key], dtype) if key == "b" and kind == "logistic" \
            else loaded[key]
        assert restored.dtype == original.dtype, key
        assert restored.shape == original.shape, key
        assert np.array_equal(restored, original), key
        assert restored.tobytes() == original.tobytes(), key


def test_logistic_b_is_loaded_as_a_python_float(model_path):
    cnn_io.save_model(model_path, {"w": np.ones((3, 1)), "b": 0.1})
    loaded, _ = cnn_io.load_model(model_path)
    assert type(loaded["b"]) is float
    assert loaded["b"] == 0.1


def test_logistic_python_float_b_takes_the_dtype_of_w(model_path):
    cnn_io.save_model(model_path, {"w": np.ones((3, 1), dtype=np.float32), "b": 0.5})
    loaded, metadata = cnn_io.load_model(model_path)
    assert metadata["dtype"] == "float32"
    assert loaded["b"] == 0.5


def test_a_non_contiguous_array_round_trips(model_path):
    # A transposed view is Fortran-ordered; the file must hold its values, not its buffer.
    parameters, _ = _model("deep")
    parameters["W1"] = np.asfortranarray(parameters["W1"])
    cnn_io.save_model(model_path, parameters)
    loaded, _ = cnn_io.load_model(model_path)
    assert np.array_equal(loaded["W1"], parameters["W1"])


def test_loaded_arrays_are_writable_copies(saved_deep):
    loaded, _ = cnn_io.load_model(saved_deep)
    for key, array in loaded.items():
        assert array.flags.writeable, key
        assert array.flags.owndata, key
    loaded["W1"][0, 0] = 123.0  # must not fail, nor touch the file
    assert cnn_io.load_model(saved_deep)[0]["W1"][0, 0] != 123.0


def test_metadata_round_trips(model_path):
    parameters = random_network([12, 3, 1], m=2)[0]
    training = {"num_iterations": 2500, "learning_rate": 0.0075, "seed": 1,
                "notes": {"optimizer": "gd"}}
    cnn_io.save_model(
        model_path, parameters, kind="deep", layer_sizes=[12, 3, 1],
        activations=["tanh", "sigmoid"], class_names=["non-cat", b"cat"],
        preprocessing={"image_shape": [2, 2, 3], "scale": "divide_255"}, training=training,
    )
    _, metadata = cnn_io.load_model(model_path)
    assert metadata == {
        "format_version": cnn_io.FORMAT_VERSION,
        "library_version": cnn_core.__version__,
        "kind": "deep",
        "layer_sizes": [12, 3, 1],
        "activations": ["tanh", "sigmoid"],
        "class_names": ["non-cat", "cat"],
        "preprocessing": {"image_shape": [2, 2, 3], "scale": "divide_255"},
        "training": training,
        "dtype": "float64",
    }


def test_save_returns_the_path_as_str(model_path):
    written = cnn_io.save_model(model_path, _model("deep")[0])
    assert isinstance(written, str)
    assert written == str(model_path)


@pytest.mark.parametrize("kind, expected", [
    ("deep", {"kind": "deep", "layer_sizes": DEEP_SIZES,
              "activations": ["relu", "relu", "sigmoid"]}),
    ("shallow", {"kind": "shallow", "layer_sizes": SHALLOW_SIZES,
                 "activations": ["tanh", "sigmoid"]}),
    ("logistic", {"kind": "logistic", "layer_sizes": [LOGISTIC_N_X, 1],
                  "activations": ["sigmoid"]}),
])
def test_inferred_defaults(model_path, kind, expected):
    parameters, keywords = _model(kind)
    cnn_io.save_model(model_path, parameters, **keywords)
    _, metadata = cnn_io.load_model(model_path)
    assert {key: metadata[key] for key in expected} == expected
    assert metadata["class_names"] == ["0", "1"]
    assert metadata["preprocessing"] == {"image_shape": None, "scale": "none"}
    assert metadata["training"] == {}


# ---------------------------------------------------------------------------------------
# The file is plain safetensors
# ---------------------------------------------------------------------------------------

def test_safetensors_reads_the_tensors_back(saved_deep):
    parameters, _ = _model("deep")
    tensors = safetensors.numpy.load_file(saved_deep)
    assert sorted(tensors) == sorted(parameters)
    for key, array in parameters.items():
        assert np.array_equal(tensors[key], array), key


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["deep", "shallow", "logistic"])
def test_the_file_is_byte_for_byte_what_safetensors_writes(model_path, tmp_path, kind, dtype):
    # cnn_core writes the format itself (the core install has no safetensors); the
    # library, given the same tensors and metadata, writes the same bytes.
    parameters, keywords = _model(kind, dtype)
    cnn_io.save_model(model_path, parameters, **keywords)
    raw = model_path.read_bytes()
    (header_length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_length])
    tensors = safetensors.numpy.load_file(model_path)
    theirs = tmp_path / "theirs.safetensors"
    safetensors.numpy.save_file(tensors, theirs, metadata=header["__metadata__"])
    assert raw == theirs.read_bytes()


def test_the_header_is_safetensors_framing_with_one_metadata_entry(saved_deep):
    raw = saved_deep.read_bytes()
    (header_length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_length])
    assert list(header["__metadata__"]) == ["cnn_core"]
    assert json.loads(header["__metadata__"]["cnn_core"])["kind"] == "deep"
    data_end = max(entry["data_offsets"][1] for name, entry in header.items()
                   if name != "__metadata__")
    assert 8 + header_length + data_end == len(raw)


def test_saving_over_a_file_leaves_no_temporary_file(saved_deep):
    cnn_io.save_model(saved_deep, _model("shallow")[0], kind="shallow")
    assert os.listdir(saved_deep.parent) == [saved_deep.name]
    assert cnn_io.load_model(saved_deep)[1]["kind"] == "shallow"


def test_a_failed_write_keeps_the_previous_file(saved_deep, monkeypatch):
    before = saved_deep.read_bytes()

    def write_half_then_fail(filename, tensors, header_metadata):
        with open(filename, "wb") as handle:
            handle.write(before[:10])
        raise OSError("disk full")

    monkeypatch.setattr(cnn_io, "_write_file", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        cnn_io.save_model(saved_deep, _model("shallow")[0], kind="shallow")
    assert saved_deep.read_bytes() == before
    assert os.listdir(saved_deep.parent) == [saved_deep.name]


# ---------------------------------------------------------------------------------------
# Bad saves
# ---------------------------------------------------------------------------------------

def _deep_with(**changes):
    parameters = dict(_model("deep")[0])
    parameters.update(changes)
    return parameters


def _with_nan(array):
    array = array.copy()
    array[1, 0] = np.nan
    return array


_DEEP = _model("deep")[0]

BAD_SAVES = {
    "not a dict": ([1, 2], {}, TypeError, r"parameters must be a dict"),
    "int dtype": (_deep_with(W2=np.ones((3, 4), dtype=np.int64)), {}, TypeError,
                  r"parameters\['W2'\] has dtype int64"),
    "float16 dtype": (_deep_with(b1=np.zeros((4, 1), dtype=np.float16)), {}, TypeError,
                      r"parameters\['b1'\] has dtype float16"),
    "logistic int w": ({"w": np.ones((3, 1), dtype=np.int32), "b": 0.0}, {}, TypeError,
                       r"parameters\['w'\] has dtype int32"),
    "NaN": (_deep_with(W1=_with_nan(_DEEP["W1"])), {}, ValueError,
            r"parameters\['W1'\] must be finite"),
    "inconsistent shapes": (_deep_with(W2=np.ones((3, 5))), {}, ValueError,
                            r"parameters\['W2'\] must have shape \(n_2, n_1\)"),
    "bias shape": (_deep_with(b3=np.zeros((2, 1))), {}, ValueError, r"parameters\['b3'\]"),
    "mixed dtypes": (_deep_with(b2=_DEEP["b2"].astype(np.float32)), {}, ValueError,
                     r"share one dtype.*b2: float32"),
    "unknown activation": (_DEEP, {"activations": ["relu", "softplus", "sigmoid"]},
                           ValueError, r"unknown activation 'softplus'"),
    "wrong activation count": (_DEEP, {"activations": ["relu", "sigmoid"]}, ValueError,
                               r"one activation per layer \(3\); got 2"),
    "image_shape not n_0": (_DEEP, {"preprocessing": {"image_shape": [2, 2, 3]}}, ValueError,
                            r"image_shape.*12 values.*n_0 = 5"),
    "image_shape not 3 ints": (_DEEP, {"preprocessing": {"image_shape": [5]}}, ValueError,
                               r"image_shape.*3 positive ints"),
    "unknown scale": (_DEEP, {"preprocessing": {"scale": "standardise"}}, ValueError,
                      r"scale.*'standardise'"),
    "unknown keyword": (_DEEP, {"learning_rate": 0.1}, TypeError,
                        r"unknown keyword.*'learning_rate'"),
    "non-JSON training": (_DEEP, {"training": {"callback": print}}, TypeError,
                         r"training is not JSON-serialisable"),
    "NaN in training": (_DEEP, {"training": {"final_cost": float("nan")}}, TypeError,
                        r"training is not JSON-serialisable"),
    "non-str class name": (_DEEP, {"class_names": ["cat", 3]}, TypeError, r"class_names"),
    "one class name": (_DEEP, {"class_names": ["cat"]}, ValueError, r"at least 2 classes"),
    "layer_sizes mismatch": (_DEEP, {"layer_sizes": [5, 4, 2, 1]}, ValueError,
                             r"layer_sizes=\[5, 4, 2, 1\].*\[5, 4, 3, 1\]"),
    "unknown kind": (_DEEP, {"kind": "cnn"}, ValueError, r"kind must be one of.*'cnn'"),
    "shallow with 3 layers": (_DEEP, {"kind": "shallow"}, ValueError, r"shallow network has 2"),
    "logistic kind for W/b": (_DEEP, {"kind": "logistic"}, ValueError,
                              r"kind='logistic' does not match"),
    "deep kind for w/b": ({"w": np.ones((3, 1)), "b": 0.0}, {"kind": "deep"}, ValueError,
                          r"kind='deep' does not match"),
    "logistic np.float64 b with float32 w": (
        {"w": np.ones((3, 1), dtype=np.float32), "b": np.float64(0.5)}, {}, ValueError,
        r"share one dtype.*b: float64"),
    "logistic extra key": ({"w": np.ones((3, 1)), "b": 0.0, "W1": np.ones((1, 3))}, {},
                           ValueError, r"exactly 'w' and 'b'"),
    "logistic b not scalar": ({"w": np.ones((3, 1)), "b": np.zeros((2, 1))}, {}, ValueError,
                              r"parameters\['b'\] must be a scalar"),
}


@pytest.mark.parametrize("parameters, keywords, error, message",
                         BAD_SAVES.values(), ids=BAD_SAVES.keys())
def test_bad_save_is_refused_and_writes_nothing(model_path, parameters, keywords, error,
                                               message):
    with pytest.raises(error, match=message):
        cnn_io.save_model(model_path, parameters, **keywords)
    assert list(model_path.parent.iterdir()) == []


# ---------------------------------------------------------------------------------------
# Bad loads: corrupt or foreign bytes
# ---------------------------------------------------------------------------------------

def _names_file(path, problem):
    """A regex: the message names the file, then the problem."""
    return re.escape(str(path)) + ".*" + problem


def test_a_missing_file_is_file_not_found(tmp_path):
    path = tmp_path / "absent.safetensors"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        cnn_io.load_model(path)


def _flip_bit(raw, byte, bit):
    flipped = bytearray(raw)
    flipped[byte] ^= 1 << bit
    return bytes(flipped)


def _header_length(raw):
    return struct.unpack("<Q", raw[:8])[0]


def _shift_header_length(raw, by):
    return struct.pack("<Q", _header_length(raw) + by) + raw[8:]


CORRUPTIONS = {
    "empty": (lambda raw: b"", r"0 bytes, fewer than the 8-byte header length"),
    "random bytes": (lambda raw: np.random.default_rng(3).bytes(300),
                     r"not a safetensors file: header says \d+ bytes, file has 292"),
    "header length flipped high": (lambda raw: _flip_bit(raw, 5, 0),
                                   r"truncated or not a safetensors file: header says"),
    "header length one more": (lambda raw: _shift_header_length(raw, +1),
                               r"header is not JSON \(Extra data"),
    "header length one less": (lambda raw: _shift_header_length(raw, -1),
                               r"header is not JSON \(Expecting"),
    "header not JSON": (lambda raw: struct.pack("<Q", 10) + b"not json!!",
                        r"header is not JSON"),
    "header not an object": (lambda raw: struct.pack("<Q", 2) + b"[]",
                             r"header is list, not a JSON object"),
    "data not fully covered": (lambda raw: raw + b"\0" * 8,
                               r"data not fully covered \(8 bytes after the last tensor\)"),
}


@pytest.mark.parametrize("corrupt, problem", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_corrupt_bytes_are_refused(saved_deep, corrupt, problem):
    saved_deep.write_bytes(corrupt(saved_deep.read_bytes()))
    with pytest.raises(ValueError, match=_names_file(saved_deep, problem)):
        cnn_io.load_model(saved_deep)


TRUNCATIONS = {
    "inside the header length": (lambda raw: 5, r"5 bytes, fewer than the 8-byte header"),
    "after the header length": (lambda raw: 8, r"truncated .*header says \d+ bytes, file has 0"),
    "inside the header": (lambda raw: 8 + _header_length(raw) // 2,
                          r"truncated .*header says \d+ bytes, file has \d+"),
    "after the header": (lambda raw: 8 + _header_length(raw),
                         r"truncated: its tensors need \d+ bytes of data, file has 0"),
    "inside the data": (lambda raw: (8 + _header_length(raw) + len(raw)) // 2,
                        r"truncated: its tensors need \d+ bytes of data"),
    "last byte": (lambda raw: len(raw) - 1, r"truncated: its tensors need \d+ bytes of data"),
}


@pytest.mark.parametrize("cut, problem", TRUNCATIONS.values(), ids=TRUNCATIONS.keys())
def test_a_truncated_file_is_refused(saved_deep, cut, problem):
    raw = saved_deep.read_bytes()
    saved_deep.write_bytes(raw[:cut(raw)])
    with pytest.raises(ValueError, match=_names_file(saved_deep, problem)):
        cnn_io.load_model(saved_deep)


def _rewrite_header(raw, change):
    """``raw`` with its JSON header replaced by ``change(header)`` (same data bytes)."""
    header_length = _header_length(raw)
    header = change(json.loads(raw[8:8 + header_length]))
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + raw[8 + header_length:]


def _swap_offsets(header):
    # W1's and b1's byte ranges exchanged: still back to back, but each the other's size.
    header["W1"]["data_offsets"], header["b1"]["data_offsets"] = (
        header["b1"]["data_offsets"], header["W1"]["data_offsets"])
    return header


def _overlap_offsets(header):
    # b1's range starts 8 bytes inside W1's.
    header["b1"]["data_offsets"][0] -= 8
    return header


BAD_OFFSETS = {
    "overlapping ranges": (_overlap_offsets,
                           r"not a valid safetensors file: tensor 'b1' has data_offsets"),
    "sizes that disagree with the shapes": (_swap_offsets,
                                            r"tensor '(W1|b1)' has \d+ bytes of data; its "
                                            r"shape \(\d+, \d+\) in float64 needs \d+"),
}


@pytest.mark.parametrize("change, problem", BAD_OFFSETS.values(), ids=BAD_OFFSETS.keys())
def test_byte_ranges_that_do_not_tile_the_data_are_refused(saved_deep, change, problem):
    saved_deep.write_bytes(_rewrite_header(saved_deep.read_bytes(), change))
    with pytest.raises(ValueError, match=_names_file(saved_deep, problem)):
        cnn_io.load_model(saved_deep)


def test_a_renamed_npz_is_refused(tmp_path):
    np.savez(tmp_path / "model.npz", **_model("deep")[0])
    path = tmp_path / "model.safetensors"
    os.replace(tmp_path / "model.npz", path)
    with pytest.raises(ValueError, match=_names_file(path, r"looks like a zip archive")):
        cnn_io.load_model(path)


# ---------------------------------------------------------------------------------------
# Bad loads: valid safetensors whose content disagrees with the cnn_core metadata
# ---------------------------------------------------------------------------------------

_DROP = object()  # a _document change that removes the field


def _document(**changes):
    """The metadata document save_model writes for _model("deep"), with ``changes``."""
    document = {
        "format_version": 1, "library_version": cnn_core.__version__, "kind": "deep",
        "layer_sizes": DEEP_SIZES, "activations": ["relu", "relu", "sigmoid"],
        "class_names": ["0", "1"], "preprocessing": {"image_shape": None, "scale": "none"},
        "training": {}, "dtype": "float64",
    }
    document.update(changes)
    return {key: value for key, value in document.items() if value is not _DROP}


def _cnn_core_entry(**changes):
    return {"cnn_core": json.dumps(_document(**changes))}


def _tensors(drop=(), **changes):
    tensors = {key: value for key, value in _model("deep")[0].items() if key not in drop}
    tensors.update(changes)
    return tensors


CRAFTED = {
    "missing tensor": (_tensors(drop=["b2"]), _cnn_core_entry(),
                       r"missing tensor\(s\) \['b2'\]"),
    "extra tensor": (_tensors(W4=np.ones((1, 1))), _cnn_core_entry(),
                     r"unexpected extra tensor\(s\) \['W4'\]"),
    "wrong shape": (_tensors(W2=np.ones((3, 5))), _cnn_core_entry(),
                    r"tensor 'W2' has shape \(3, 5\); .*imply \(3, 4\)"),
    "int tensor": (_tensors(b1=np.zeros((4, 1), dtype=np.int64)), _cnn_core_entry(),
                   r"tensor 'b1' has dtype I64"),
    "mixed dtypes": (_tensors(b1=np.zeros((4, 1), dtype=np.float32)), _cnn_core_entry(),
                     r"tensor 'b1' is float32 but the model's dtype is float64"),
    "NaN tensor": (_tensors(W3=np.array([[1.0, np.nan, 2.0]])), _cnn_core_entry(),
                   r"tensor 'W3' must be finite"),
    "infinite tensor": (_tensors(b3=np.array([[np.inf]])), _cnn_core_entry(),
                        r"tensor 'b3' must be finite"),
    "no metadata": (_tensors(), None, r"no 'cnn_core' metadata entry"),
    "no cnn_core key": (_tensors(), {"format": "pt"}, r"no 'cnn_core' metadata entry"),
    "cnn_core not JSON": (_tensors(), {"cnn_core": "{kind: deep"},
                          r"'cnn_core' metadata entry is not valid JSON"),
    "cnn_core not an object": (_tensors(), {"cnn_core": "[1]"}, r"not a JSON object"),
    "future format_version": (_tensors(), _cnn_core_entry(format_version=2),
                              r"written by a newer cnn_core \(format 2\); this one reads "
                              r"format 1: upgrade cnn_core"),
    "string format_version": (_tensors(), _cnn_core_entry(format_version="1"),
                              r"format_version must be an int; got '1'"),
    "no format_version": (_tensors(), _cnn_core_entry(format_version=_DROP),
                          r"format_version must be an int; got None"),
    "zero format_version": (_tensors(), _cnn_core_entry(format_version=0),
                            r"format_version must be >= 1"),
    "missing field": (_tensors(), _cnn_core_entry(layer_sizes=_DROP),
                      r"lacks required field\(s\) \['layer_sizes'\]"),
    "unknown kind": (_tensors(), _cnn_core_entry(kind="cnn"), r"kind must be one of"),
    "layer_sizes not ints": (_tensors(), _cnn_core_entry(layer_sizes="5,4,3,1"),
                             r"layer_sizes must be a list of ints"),
    "activations too short": (_tensors(), _cnn_core_entry(activations=["relu", "sigmoid"]),
                              r"one activation per layer \(3\); got 2"),
    "unknown activation": (_tensors(), _cnn_core_entry(activations=["relu", "gelu", "sigmoid"]),
                           r"unknown activation 'gelu'"),
    "image_shape not n_0": (_tensors(),
                            _cnn_core_entry(preprocessing={"image_shape": [2, 2, 3],
                                                           "scale": "none"}),
                            r"image_shape.*n_0 = 5"),
    "metadata dtype float16": (_tensors(), _cnn_core_entry(dtype="float16"),
                               r"metadata dtype must be one of"),
}


@pytest.mark.parametrize("tensors, header_metadata, problem", CRAFTED.values(),
                         ids=CRAFTED.keys())
def test_inconsistent_model_file_is_refused(model_path, tensors, header_metadata, problem):
    safetensors.numpy.save_file(tensors, model_path, metadata=header_metadata)
    with pytest.raises(ValueError, match=_names_file(model_path, problem)):
        cnn_io.load_model(model_path)


def test_the_crafted_files_are_valid_without_a_change(model_path):
    # The bad-load cases above differ from this file by one change each, so each of them
    # is refused for its own reason and not for a mistake in how it was written.
    safetensors.numpy.save_file(_tensors(), model_path, metadata=_cnn_core_entry())
    loaded, metadata = cnn_io.load_model(model_path)
    assert metadata == _document()
    assert sorted(loaded) == sorted(_model("deep")[0])
