"""MNIST and permuted sequential MNIST (psMNIST).

`load_mnist` finds MNIST the Keras way: in the data directory (see `data_dir`: the four
official IDX files, each checked against its published size and md5, or an
``mnist.npz``), else in Keras' dataset cache (``$KERAS_HOME/datasets/mnist.npz``,
default ``~/.keras``, checked against Keras' sha256), else it downloads it there with
``tf.keras.datasets.mnist.load_data``.
"""

import gzip
import hashlib
import os
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
from nengo.exceptions import ValidationError

DATA_DIR_ENV = "NENGO_LMU_DATA"
DEFAULT_DATA_DIR = Path("..", "shared", "data")
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
"""The sha256 of Keras' ``mnist.npz`` (as in ``keras/datasets/mnist.py``)."""


class MnistFile(NamedTuple):
    """One official MNIST file: its name, size in bytes, md5, and data shape."""

    name: str
    size: int
    md5: str
    shape: tuple


MNIST_FILES = {
    "x_train": MnistFile(
        "train-images-idx3-ubyte.gz",
        9912422,
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        (60000, 28, 28),
    ),
    "y_train": MnistFile(
        "train-labels-idx1-ubyte.gz",
        28881,
        "d53e105ee54ea40749a09fcbcd1e9432",
        (60000,),
    ),
    "x_test": MnistFile(
        "t10k-images-idx3-ubyte.gz",
        1648877,
        "9fb629c4189551a2d022fa330f9573f3",
        (10000, 28, 28),
    ),
    "y_test": MnistFile(
        "t10k-labels-idx1-ubyte.gz",
        4542,
        "ec29112dd5afa0611ce80d1b7f02629c",
        (10000,),
    ),
}

PSMNIST_CONVENTIONS = ("paper", "keras-lmu")


def data_dir(path=None):
    """Find the data directory.

    Parameters
    ----------
    path : str or Path, optional
        The data directory. If None, the environment variable ``NENGO_LMU_DATA`` is
        used; if that is unset or empty, ``../shared/data`` relative to the current
        working directory.

    Returns
    -------
    Path
        The data directory, as an absolute path.

    Raises
    ------
    FileNotFoundError
        If the chosen directory does not exist.
    """
    if path is None:
        path = os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"Data directory {path.absolute()} does not exist. Give the data directory "
            f"as the `path` argument, or in the environment variable {DATA_DIR_ENV} "
            f"(currently {os.environ.get(DATA_DIR_ENV)!r}), or run from a working "
            f"directory from which the default {DEFAULT_DATA_DIR} exists."
        )
    return path.resolve()


def _parse_idx(raw, shape, name):
    """Parse decompressed IDX bytes holding unsigned bytes of the given shape."""
    # IDX header: big-endian uint32 magic (0x0800 + number of dimensions for uint8
    # data: 2051 for images, 2049 for labels), then one uint32 per dimension
    magic = 0x0800 + len(shape)
    header = np.frombuffer(raw, dtype=">u4", count=1 + len(shape))
    if header[0] != magic:
        raise ValueError(
            f"{name}: IDX magic number is {header[0]}, expected {magic} "
            f"(uint8 data with {len(shape)} dimensions)"
        )
    if tuple(header[1:]) != shape:
        raise ValueError(
            f"{name}: IDX header gives shape {tuple(int(n) for n in header[1:])}, "
            f"expected {shape}"
        )
    data = np.frombuffer(raw, dtype=np.uint8, offset=header.nbytes)
    if data.size != np.prod(shape):
        raise ValueError(
            f"{name}: {data.size} data bytes after the IDX header, "
            f"expected {np.prod(shape)} for shape {shape}"
        )
    return data.reshape(shape).copy()  # a writeable copy, not a view of `raw`


def _read_mnist_file(directory, file):
    """Read one MNIST file, checking its size and md5 against `MNIST_FILES`."""
    path = directory / file.name
    expected = f"{file.size} bytes, md5 {file.md5}"
    if not path.is_file():
        raise FileNotFoundError(
            f"MNIST file {path} not found: expected the official {file.name} "
            f"({expected})"
        )
    content = path.read_bytes()
    md5 = hashlib.md5(content).hexdigest()
    if (len(content), md5) != (file.size, file.md5):
        raise ValueError(
            f"MNIST file {path} is corrupt or not the official file: expected "
            f"{expected}, found {len(content)} bytes, md5 {md5}"
        )
    return _parse_idx(gzip.decompress(content), file.shape, path)


def load_mnist(path=None):
    """Load MNIST, found the Keras way.

    In this order:

    1. the data directory: ``path``, else ``$NENGO_LMU_DATA`` (an error if either is
       given but holds no MNIST), else ``../shared/data`` if it holds MNIST. In it (or
       in its ``mnist/``): the four official IDX gzip files, each checked against its
       published size and md5 (about 30 ms for all four), or an ``mnist.npz`` as
       Keras writes it (checked by its arrays' shapes and types);
    2. Keras' dataset cache, `keras_mnist_file` (``$KERAS_HOME/datasets/mnist.npz``,
       default ``~/.keras/datasets/mnist.npz``), checked against Keras' sha256;
    3. a download into that cache by ``tf.keras.datasets.mnist.load_data`` (with
       Keras' progress bar).

    Parameters
    ----------
    path : str or Path, optional
        The data directory (containing ``mnist/``), the ``mnist/`` directory itself,
        or an ``mnist.npz`` file.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of ndarray
        uint8 images of shape ``(60000, 28, 28)`` and ``(10000, 28, 28)`` with pixel
        values 0 to 255, and uint8 labels of shape ``(60000,)`` and ``(10000,)``.

    Raises
    ------
    FileNotFoundError
        If the given data directory or an MNIST file in it is missing, or MNIST is in
        no place above and cannot be downloaded (offline).
    ValueError
        If a file does not have the published size and md5, or is not valid IDX or
        MNIST npz.
    """
    if path is not None and Path(path).suffix == ".npz":
        return _read_mnist_npz(Path(path))
    if path is not None or os.environ.get(DATA_DIR_ENV):
        return _read_mnist_dir(data_dir(path))
    default = _mnist_dir(DEFAULT_DATA_DIR)
    if (default / MNIST_FILES["x_train"].name).is_file() or (
        default / "mnist.npz"
    ).is_file():
        return _read_mnist_dir(default)
    return _keras_mnist()


def _mnist_dir(directory):
    """``directory/mnist`` if that is a directory, else ``directory``."""
    return directory / "mnist" if (directory / "mnist").is_dir() else directory


def _read_mnist_dir(directory):
    """MNIST from the IDX files in ``directory`` (or its ``mnist/``), else from its
    ``mnist.npz``."""
    directory = _mnist_dir(directory)
    npz = directory / "mnist.npz"
    if npz.is_file() and not (directory / MNIST_FILES["x_train"].name).is_file():
        return _read_mnist_npz(npz)
    data = {key: _read_mnist_file(directory, file) for key, file in MNIST_FILES.items()}
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _read_mnist_npz(path):
    """MNIST from an ``mnist.npz`` with Keras' arrays, checked by shape and type."""
    if not path.is_file():
        raise FileNotFoundError(
            f"MNIST file {path} not found: expected an mnist.npz as Keras writes it"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {key: f[key] for key in MNIST_FILES if key in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"Cannot read MNIST file {path} as .npz: {e}") from e
    for key, file in MNIST_FILES.items():
        found = data.get(key)
        if found is None or found.shape != file.shape or found.dtype != np.uint8:
            raise ValueError(
                f"MNIST file {path} is not Keras' mnist.npz: expected {key} of shape "
                f"{file.shape} and type uint8, found "
                + ("none" if found is None else f"{found.shape} {found.dtype}")
            )
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def keras_mnist_file():
    """Where Keras caches MNIST: ``$KERAS_HOME/datasets/mnist.npz`` (``KERAS_HOME``
    defaults to ``~/.keras``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return Path(home).expanduser() / "datasets" / "mnist.npz"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _keras_mnist():
    """MNIST from Keras' cache (if its sha256 is Keras'), else downloaded there."""
    path = keras_mnist_file()
    if path.is_file():
        found = _sha256(path)
        if found == KERAS_MNIST_SHA256:
            return _read_mnist_npz(path)
        problem = f"{path} has sha256 {found}, not Keras' {KERAS_MNIST_SHA256}"
    else:
        problem = f"{path} does not exist"
    try:
        _download_mnist(path)
    except Exception as e:  # pylint: disable=broad-except
        # Keras raises a bare Exception for a failed download, TensorFlow may be absent
        raise FileNotFoundError(
            f"MNIST not found: {DATA_DIR_ENV} is not set, ../shared/data holds no "
            f"MNIST, {problem}, and downloading it with "
            f"tf.keras.datasets.mnist.load_data failed ({type(e).__name__}: {e}). Put "
            f"Keras' mnist.npz (sha256 {KERAS_MNIST_SHA256}) at {path}, or the four "
            f"official IDX files ({', '.join(f.name for f in MNIST_FILES.values())}) "
            f"in a directory named by {DATA_DIR_ENV}."
        ) from e
    return _read_mnist_npz(path)


def _download_mnist(path):
    """Download Keras' mnist.npz to ``path`` with Keras (progress bar, sha256)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    path.parent.mkdir(parents=True, exist_ok=True)
    # an absolute path: Keras' get_file keeps it (Keras 2 ignores KERAS_HOME)
    tf.keras.datasets.mnist.load_data(path=str(path.absolute()))


class PsMnist(NamedTuple):
    """The permuted sequential MNIST data set, as returned by `psmnist`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    perm: np.ndarray


def psmnist(convention, path=None):
    """Load permuted sequential MNIST (psMNIST).

    Each image is flattened row by row into a sequence of 784 pixels, divided by 255,
    and permuted by a fixed pixel permutation ``perm``: ``x_seq = x_flat[perm]``.
    The 60000 training images are split into 50000 for training and 10000 for
    validation; the test set is kept in file order.

    Parameters
    ----------
    convention : "paper" or "keras-lmu"
        ``"paper"``: the preprocessing of the LMU paper (Voelker, Kajic, Eliasmith,
        NeurIPS 2019). With ``rng = numpy.random.RandomState(50)``,
        ``rng.permutation(60000)`` shuffles the training set (the first 50000 are for
        training, the last 10000 for validation), then ``perm = rng.permutation(784)``.

        ``"keras-lmu"``: the convention of the KerasLMU and NengoDL psMNIST examples.
        ``perm = numpy.random.RandomState(0).permutation(784)``; the training set is
        not shuffled (images 0 to 49999 are for training, 50000 to 59999 for
        validation).
    path : str or Path, optional
        The data directory, as in `load_mnist`.

    Returns
    -------
    PsMnist
        Named tuple of ``x_train, y_train, x_val, y_val, x_test, y_test, perm``.
        The ``x`` are float32 of shape ``(n, 784, 1)`` with values in [0, 1]; the
        ``y`` are uint8 labels of shape ``(n,)``; ``perm`` is the pixel permutation.
        The ``x`` take about 220 MB in all.
    """
    if convention not in PSMNIST_CONVENTIONS:
        raise ValidationError(
            f"Must be one of {PSMNIST_CONVENTIONS} (got {convention!r})",
            attr="convention",
        )
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    if convention == "paper":
        rng = np.random.RandomState(50)
        order = rng.permutation(len(x_train))
        x_train, y_train = x_train[order], y_train[order]
        perm = rng.permutation(28 * 28)
    else:
        perm = np.random.RandomState(0).permutation(28 * 28)

    def sequences(x):
        # np.take is ~3x faster than x[:, perm]. float32(k) / 255 equals the float32
        # rounding of the float64 k / 255 of both conventions, for all k in 0..255
        x = np.take(x.reshape(len(x), -1), perm, axis=1).astype(np.float32)
        x /= 255
        return x[:, :, None]

    n_train = 50000
    return PsMnist(
        x_train=sequences(x_train[:n_train]),
        y_train=y_train[:n_train],
        x_val=sequences(x_train[n_train:]),
        y_val=y_train[n_train:],
        x_test=sequences(x_test),
        y_test=y_test,
        perm=perm,
    )
