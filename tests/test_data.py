import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.data import MNIST_FILES, _parse_idx, data_dir, load_mnist, psmnist

# published label counts (data README)
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist(data_directory):
    return load_mnist(data_directory)


@pytest.fixture(scope="module")
def paper(data_directory):
    return psmnist("paper", data_directory)


@pytest.fixture(scope="module")
def keras_lmu(data_directory):
    return psmnist("keras-lmu", data_directory)


@pytest.fixture
def mnist_copy(data_directory, tmp_path):
    """A writeable copy of the ``mnist/`` directory."""
    copy = tmp_path / "mnist"
    copy.mkdir()
    for file in MNIST_FILES.values():
        shutil.copyfile(data_directory / "mnist" / file.name, copy / file.name)
    return copy


def sequences(images, perm):
    """The psMNIST sequences as defined in both conventions (float64 / 255)."""
    x = images.reshape(len(images), -1)[:, perm] / 255
    return x.astype(np.float32)[..., None]


def test_load_mnist(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    for x, shape in [
        (x_train, (60000, 28, 28)),
        (y_train, (60000,)),
        (x_test, (10000, 28, 28)),
        (y_test, (10000,)),
    ]:
        assert x.dtype == np.uint8
        assert x.shape == shape
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert x_train.max() == x_test.max() == 255


def test_psmnist_paper(paper, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert paper.perm[:6].tolist() == [46, 466, 537, 44, 515, 589]  # data README
    for x, n in [(paper.x_train, 50000), (paper.x_val, 10000), (paper.x_test, 10000)]:
        assert x.dtype == np.float32
        assert x.shape == (n, 784, 1)

    # train + val is the training set shuffled by RandomState(50).permutation(60000)
    np.testing.assert_array_equal(
        np.bincount(paper.y_train) + np.bincount(paper.y_val), TRAIN_COUNTS
    )
    order = np.random.RandomState(50).permutation(60000)
    np.testing.assert_array_equal(paper.y_train, y_train[order[:50000]])
    np.testing.assert_array_equal(paper.y_val, y_train[order[50000:]])
    # images keep their labels: a sample of (image, label) pairs are original pairs
    originals = {
        (image.tobytes(), label)
        for image, label in zip(x_train.reshape(60000, -1), y_train.tolist())
    }
    rng = np.random.RandomState(0)
    for x, y in [(paper.x_train, paper.y_train), (paper.x_val, paper.y_val)]:
        for i in rng.choice(len(x), size=100, replace=False):
            image = np.empty(784, dtype=np.uint8)
            image[paper.perm] = np.round(x[i, :, 0] * 255)
            assert (image.tobytes(), int(y[i])) in originals

    # the test set is in file order, with the same pixel permutation
    assert np.array_equal(paper.x_test, sequences(x_test, paper.perm))
    np.testing.assert_array_equal(paper.y_test, y_test)


def test_psmnist_keras_lmu(keras_lmu, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    perm = np.random.RandomState(0).permutation(784)
    np.testing.assert_array_equal(keras_lmu.perm, perm)
    assert keras_lmu.perm[:6].tolist() == [693, 85, 647, 392, 765, 14]

    # not shuffled: train is images 0..49999 (checked on every 50th), val 50000..59999
    assert keras_lmu.x_train.shape == (50000, 784, 1)
    rows = np.arange(0, 50000, 50)
    assert np.array_equal(keras_lmu.x_train[rows], sequences(x_train[rows], perm))
    np.testing.assert_array_equal(keras_lmu.y_train, y_train[:50000])
    assert np.array_equal(keras_lmu.x_val, sequences(x_train[50000:], perm))
    np.testing.assert_array_equal(keras_lmu.y_val, y_train[50000:])
    assert np.array_equal(keras_lmu.x_test, sequences(x_test, perm))
    np.testing.assert_array_equal(keras_lmu.y_test, y_test)


def test_psmnist_unknown_convention():
    with pytest.raises(ValidationError, match="'paper', 'keras-lmu'.*got 'nengo'"):
        psmnist("nengo")


@pytest.mark.parametrize("subdir", ["", "mnist"])
def test_missing_file(mnist_copy, subdir):
    file = MNIST_FILES["x_train"]
    (mnist_copy / file.name).unlink()
    # the data root (containing mnist/) and the mnist/ directory itself both work
    with pytest.raises(FileNotFoundError) as e:
        load_mnist(mnist_copy.parent / subdir)
    message = str(e.value)
    assert str(mnist_copy / file.name) in message
    assert f"{file.size} bytes" in message
    assert file.md5 in message


def test_truncated_file(mnist_copy):
    file = MNIST_FILES["x_train"]
    path = mnist_copy / file.name
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError) as e:
        load_mnist(mnist_copy)
    message = str(e.value)
    assert str(path) in message
    assert f"expected {file.size} bytes, md5 {file.md5}" in message
    assert "found 1000 bytes" in message


def test_flipped_byte(mnist_copy):
    file = MNIST_FILES["y_test"]
    path = mnist_copy / file.name
    content = bytearray(path.read_bytes())
    content[1000] ^= 0xFF
    path.write_bytes(content)
    with pytest.raises(ValueError) as e:
        load_mnist(mnist_copy)
    message = str(e.value)
    assert str(path) in message
    assert f"expected {file.size} bytes, md5 {file.md5}" in message
    assert f"found {file.size} bytes, md5 {hashlib.md5(content).hexdigest()}" in message


@pytest.mark.parametrize(
    "header, shape, error",
    [
        ([2049, 2, 28, 28], (2, 28, 28), "magic number is 2049, expected 2051"),
        ([2051, 3, 28, 28], (2, 28, 28), r"shape \(3, 28, 28\), expected \(2, 28"),
        ([2049, 3], (2,), r"shape \(3,\), expected \(2,\)"),
    ],
)
def test_parse_idx_bad_header(header, shape, error):
    raw = np.array(header, dtype=">u4").tobytes() + bytes(int(np.prod(shape)))
    with pytest.raises(ValueError, match=error):
        _parse_idx(raw, shape, "file.idx")


def test_parse_idx_bad_length():
    raw = np.array([2049, 3], dtype=">u4").tobytes() + bytes(2)
    with pytest.raises(ValueError, match="2 data bytes .* expected 3"):
        _parse_idx(raw, (3,), "file.idx")


def test_data_dir(monkeypatch, tmp_path):
    default = tmp_path / "shared" / "data"
    default.mkdir(parents=True)
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.delenv("NENGO_LMU_DATA", raising=False)
    assert data_dir() == default

    monkeypatch.setenv("NENGO_LMU_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    assert data_dir(tmp_path / "project") == tmp_path / "project"

    monkeypatch.setenv("NENGO_LMU_DATA", "")  # empty means unset
    assert data_dir() == default


def test_data_dir_env_var_used_by_load_mnist(monkeypatch, tmp_path):
    (tmp_path / "mnist").mkdir()
    monkeypatch.setenv("NENGO_LMU_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "mnist"))):
        load_mnist()


def test_data_dir_missing(monkeypatch, tmp_path):
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")  # tmp_path has no shared/data
    monkeypatch.delenv("NENGO_LMU_DATA", raising=False)
    with pytest.raises(FileNotFoundError) as e:
        data_dir()
    message = str(e.value)
    assert "`path` argument" in message
    assert "NENGO_LMU_DATA" in message
    assert str(Path("..", "shared", "data")) in message

    monkeypatch.setenv("NENGO_LMU_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "nowhere"))):
        data_dir()
