"""Loaders: the planar flower, the extra sets, and the course's cat files."""
import os

import h5py
import numpy as np
import pytest

from cnn_core import datasets


def flower_oracle():
    """The notes' generator, restated with a private RandomState seeded as the notes seed."""
    rs = np.random.RandomState(1)
    points, labels = [], []
    for label in (0, 1):
        theta = np.linspace(label * 3.12, (label + 1) * 3.12, 200) + rs.randn(200) * 0.2
        radius = 4 * np.sin(4 * theta) + rs.randn(200) * 0.2
        points.append(np.stack([radius * np.sin(theta), radius * np.cos(theta)]))
        labels.append(np.full(200, label))
    return np.concatenate(points, axis=1), np.concatenate(labels)[None, :]


def test_planar_dataset_is_the_notes_flower():
    X, Y = datasets.load_planar_dataset()
    assert X.shape == (2, 400) and Y.shape == (1, 400) and Y.dtype == np.uint8
    X_expected, Y_expected = flower_oracle()
    np.testing.assert_array_equal(X, X_expected)
    np.testing.assert_array_equal(Y, Y_expected)


def test_planar_dataset_reseeds_the_global_generator():
    np.random.seed(123)
    datasets.load_planar_dataset()
    after = np.random.rand()
    rs = np.random.RandomState(1)
    rs.randn(800)  # the generator's four draws of 200
    assert after == rs.rand()


def test_extra_datasets_shapes():
    sets = datasets.load_extra_datasets()
    assert len(sets) == 5
    for X, y in sets:
        assert X.shape == (200, 2) and y.shape[0] == 200
    assert set(np.unique(sets[2][1])) == set(range(6))  # blobs: six centres


def test_catvnoncat_shapes(data_dir):
    train_x, train_y, test_x, test_y, classes = datasets.load_catvnoncat(data_dir)
    assert train_x.shape == (209, 64, 64, 3) and train_x.dtype == np.uint8
    assert train_y.shape == (1, 209) and test_y.shape == (1, 50)
    assert test_x.shape == (50, 64, 64, 3)
    assert [c.decode() for c in classes] == ["non-cat", "cat"]
    assert set(np.unique(train_y)) == {0, 1}


def _write_h5(path, **arrays):
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f[key] = value


def _fake_split(folder, split, m=3, drop=None, **override):
    filename, x_key, y_key = datasets.CATVNONCAT_FILES[split]
    arrays = {x_key: np.zeros((m, 4, 4, 3), np.uint8), y_key: np.array([0, 1, 0][:m]),
              "list_classes": np.array([b"non-cat", b"cat"])}
    arrays.update(override)
    if drop:
        del arrays[drop]
    _write_h5(os.path.join(folder, filename), **arrays)


def test_catvnoncat_reads_a_small_folder(tmp_path):
    _fake_split(tmp_path, "train")
    _fake_split(tmp_path, "test")
    train_x, train_y, test_x, test_y, classes = datasets.load_catvnoncat(tmp_path)
    assert train_x.shape == (3, 4, 4, 3) and train_y.tolist() == [[0, 1, 0]]


def test_catvnoncat_missing_folder_and_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        datasets.load_catvnoncat(tmp_path / "nowhere")
    _fake_split(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="test_catvnoncat.h5 not found"):
        datasets.load_catvnoncat(tmp_path)


def test_catvnoncat_corrupt_file(tmp_path):
    (tmp_path / "train_catvnoncat.h5").write_bytes(b"not an hdf5 file at all")
    _fake_split(tmp_path, "test")
    with pytest.raises(ValueError, match="train_catvnoncat.h5 is not a readable HDF5 file"):
        datasets.load_catvnoncat(tmp_path)


def test_catvnoncat_missing_key(tmp_path):
    _fake_split(tmp_path, "train", drop="train_set_y")
    _fake_split(tmp_path, "test")
    with pytest.raises(ValueError, match="train_catvnoncat.h5 lacks the dataset 'train_set_y'"):
        datasets.load_catvnoncat(tmp_path)


def test_catvnoncat_inconsistent_arrays(tmp_path):
    _fake_split(tmp_path, "train", train_set_y=np.array([0, 1]))
    _fake_split(tmp_path, "test")
    with pytest.raises(ValueError, match="'train_set_y' must hold one label per image"):
        datasets.load_catvnoncat(tmp_path)
    _fake_split(tmp_path, "train", train_set_y=np.array([0, 1, 7]))
    with pytest.raises(ValueError, match="class indices 0..1"):
        datasets.load_catvnoncat(tmp_path)
