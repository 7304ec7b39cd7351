"""MNIST found the Keras way: NENGO_LMU_DATA (IDX or mnist.npz), Keras' cache, download.

The mnist.npz files are built here from the IDX files; nothing is downloaded."""

import re

import numpy as np
import pytest

from nengo_lmu import data
from nengo_lmu.data import keras_mnist_file, load_mnist


@pytest.fixture(scope="module")
def idx_mnist():
    try:
        return load_mnist(data.data_dir())
    except FileNotFoundError as e:
        pytest.skip(f"the MNIST IDX files are not available: {e}")


def write_npz(path, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
    )
    return path


@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    """No NENGO_LMU_DATA, no ../shared/data, KERAS_HOME in tmp_path, no download."""
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.delenv("NENGO_LMU_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    downloads = []

    def offline(path):
        downloads.append(path)
        raise Exception("URL fetch failure: no network")  # what Keras raises

    monkeypatch.setattr(data, "_download_mnist", offline)
    return downloads


def assert_same(a, b):
    for x, y in zip(a[0] + a[1], b[0] + b[1]):
        assert x.dtype == y.dtype == np.uint8 and np.array_equal(x, y)


def test_keras_cache(idx_mnist, nowhere, monkeypatch):
    path = write_npz(keras_mnist_file(), idx_mnist)
    assert path == data.Path(data.os.environ["KERAS_HOME"]) / "datasets" / "mnist.npz"
    # the file built here is not byte for byte Keras': it is refused by its sha256...
    with pytest.raises(FileNotFoundError, match="has sha256 .*, not Keras'"):
        load_mnist()
    assert nowhere == [path]  # ...and Keras is asked to download it again
    # ...and used when its sha256 is the expected one
    monkeypatch.setattr(data, "KERAS_MNIST_SHA256", data._sha256(path))
    assert_same(load_mnist(), idx_mnist)
    assert len(nowhere) == 1


def test_default_keras_home(nowhere, monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert keras_mnist_file() == tmp_path / "home" / ".keras" / "datasets" / "mnist.npz"


def test_offline_error(nowhere):
    path = keras_mnist_file()
    with pytest.raises(FileNotFoundError) as e:
        load_mnist()
    message = str(e.value)
    assert f"{path} does not exist" in message
    assert "URL fetch failure" in message
    sha = data.KERAS_MNIST_SHA256
    assert f"Put Keras' mnist.npz (sha256 {sha}) at {path}" in message
    assert "NENGO_LMU_DATA" in message


def test_data_dir_first(idx_mnist, nowhere, monkeypatch, tmp_path):
    """NENGO_LMU_DATA with an mnist.npz comes before Keras' cache (here a bad file)."""
    keras_mnist_file().parent.mkdir(parents=True)
    keras_mnist_file().write_bytes(b"junk")
    write_npz(tmp_path / "data" / "mnist.npz", idx_mnist)
    monkeypatch.setenv("NENGO_LMU_DATA", str(tmp_path / "data"))
    assert_same(load_mnist(), idx_mnist)
    assert_same(load_mnist(tmp_path / "data" / "mnist.npz"), idx_mnist)
    assert not nowhere


def test_default_data_dir_before_cache(idx_mnist, nowhere, monkeypatch, tmp_path):
    write_npz(tmp_path / "shared" / "data" / "mnist" / "mnist.npz", idx_mnist)
    assert_same(load_mnist(), idx_mnist)
    assert not nowhere


def test_bad_npz(idx_mnist, tmp_path):
    (x_train, y_train), (x_test, y_test) = idx_mnist
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test[:10], y_test=y_test)
    with pytest.raises(ValueError, match=re.escape(f"{path} is not Keras' mnist.npz")):
        load_mnist(path)
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="Cannot read MNIST file .*mnist.npz"):
        load_mnist(path)


def test_download_through_keras(monkeypatch, tmp_path):
    """The download is tf.keras.datasets.mnist.load_data into Keras' cache."""
    tf = pytest.importorskip("tensorflow")
    calls = []
    monkeypatch.setattr(
        tf.keras.datasets.mnist, "load_data", lambda path: calls.append(path)
    )
    data._download_mnist(tmp_path / "k" / "datasets" / "mnist.npz")
    assert calls == [str(tmp_path / "k" / "datasets" / "mnist.npz")]
