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


# ---------------------------------------------------------------------------------------
# The second course's sets. The oracles hand scikit-learn a private RandomState seeded as
# the notebooks seed the global one (scikit-learn given no seed draws from the global
# RandomState, so the two draw the same numbers).
# ---------------------------------------------------------------------------------------

def test_circles_shapes_and_dtypes():
    train_X, train_Y, test_X, test_Y = datasets.load_circles()
    assert train_X.shape == (2, 300) and test_X.shape == (2, 100)
    assert train_Y.shape == (1, 300) and test_Y.shape == (1, 100)
    for array in (train_X, train_Y, test_X, test_Y):
        assert array.dtype == np.float64
    assert set(np.unique(train_Y)) == set(np.unique(test_Y)) == {0.0, 1.0}
    assert train_Y.sum() == 150 and test_Y.sum() == 50


def test_circles_are_the_notebooks_draws():
    from sklearn.datasets import make_circles

    train_X, train_Y = make_circles(n_samples=300, noise=.05, random_state=np.random.RandomState(1))
    test_X, test_Y = make_circles(n_samples=100, noise=.05, random_state=np.random.RandomState(2))
    got = datasets.load_circles()
    for actual, expected in zip(got, (train_X.T, train_Y[None, :], test_X.T, test_Y[None, :])):
        np.testing.assert_array_equal(actual, expected)


def test_circles_leave_the_global_generator_where_the_notebook_does():
    from sklearn.datasets import make_circles

    np.random.seed(123)
    datasets.load_circles()
    after = np.random.rand(3)
    rs = np.random.RandomState(2)  # the notebook's last seed, then the test set's draws
    make_circles(n_samples=100, noise=.05, random_state=rs)
    np.testing.assert_array_equal(after, rs.rand(3))


def test_moons_are_the_notebooks_draws_and_leave_the_generator_after_them():
    from sklearn.datasets import make_moons

    np.random.seed(123)
    X, Y = datasets.load_moons()
    after = np.random.rand(3)
    assert X.shape == (2, 300) and Y.shape == (1, 300)
    assert X.dtype == Y.dtype == np.float64
    assert set(np.unique(Y)) == {0.0, 1.0} and Y.sum() == 150
    rs = np.random.RandomState(3)
    X_expected, Y_expected = make_moons(n_samples=300, noise=.2, random_state=rs)
    np.testing.assert_array_equal(X, X_expected.T)
    np.testing.assert_array_equal(Y, Y_expected[None, :])
    np.testing.assert_array_equal(after, rs.rand(3))


@pytest.mark.parametrize("load", [datasets.load_circles, datasets.load_moons, datasets.load_digits])
def test_second_course_sets_are_the_same_on_every_call(load):
    first, second = load(), load()
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


def test_digits_shapes_dtypes_and_scale():
    X_train, Y_train, X_test, Y_test = datasets.load_digits()
    assert X_train.shape == (64, 1347) and Y_train.shape == (1, 1347)
    assert X_test.shape == (64, 450) and Y_test.shape == (1, 450)
    assert X_train.dtype == X_test.dtype == np.float64
    assert Y_train.dtype == Y_test.dtype == np.int64
    for X in (X_train, X_test):
        assert X.min() == 0.0 and X.max() == 1.0
        np.testing.assert_array_equal(X * 16, np.round(X * 16))  # the 17 grey levels
    assert set(np.unique(Y_train)) == set(np.unique(Y_test)) == set(range(10))


def test_digits_split_is_a_fixed_stratified_partition():
    from sklearn.datasets import load_digits

    X_train, Y_train, X_test, Y_test = datasets.load_digits()
    digits = load_digits()
    # A partition of the 1797 images: every image once, with its own label.
    X_all = np.concatenate([X_train, X_test], axis=1).T * 16
    y_all = np.concatenate([Y_train, Y_test], axis=1)[0]
    order = np.lexsort(np.c_[X_all, y_all].T)
    expected_order = np.lexsort(np.c_[digits.data, digits.target].T)
    np.testing.assert_array_equal(X_all[order], digits.data[expected_order])
    np.testing.assert_array_equal(y_all[order], digits.target[expected_order])
    # Stratified: each digit's share of the test set is its share of the whole, to one image.
    total = np.bincount(digits.target, minlength=10)
    test_counts = np.bincount(Y_test[0], minlength=10)
    assert np.all(np.abs(test_counts - total * datasets.DIGITS_TEST_SIZE) <= 1)
    # Fixed: the documented split, pinned by the first labels and the class counts.
    assert test_counts.tolist() == [45, 46, 44, 46, 45, 46, 45, 45, 43, 45]
    assert Y_train[0, :12].tolist() == [7, 3, 6, 6, 7, 6, 7, 9, 2, 9, 0, 9]
    assert Y_test[0, :12].tolist() == [2, 0, 4, 9, 4, 1, 2, 4, 6, 7, 9, 1]


def test_digits_leave_the_global_generator_alone():
    np.random.seed(7)
    expected = np.random.RandomState(7).rand(3)
    datasets.load_digits()
    np.testing.assert_array_equal(np.random.rand(3), expected)


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
