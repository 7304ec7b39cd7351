"""Importing the LMU paper's trained psMNIST model (../shared/data/lmu-paper)."""

import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LegendreDelay
from nengo_lmu.convert import load_paper_weights
from nengo_lmu.data import psmnist
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.train import predict
from reference import numpy_cell

PAPER_CELL = "model_weights/rnn_1/rnn_1"
PAPER_DENSE = "model_weights/dense_1/dense_1"


@pytest.fixture(scope="module")
def paper_file(data_directory):
    return data_directory / "lmu-paper" / "psMNIST-standard.hdf5"


@pytest.fixture(scope="module")
def paper_data(data_directory):
    return psmnist("paper", data_directory)


def test_paper_weights_layout(paper_file):
    kwargs = load_paper_weights(paper_file)
    with h5py.File(paper_file, "r") as f:
        cell = f[PAPER_CELL]
        # Keras kernels are (in, out); Nengo transforms (out, in)
        assert np.array_equal(
            kwargs["memory_kernel"], np.array(cell["memory_kernel:0"]).T
        )
        AT = np.array(cell["AT:0"])
    assert (kwargs["units"], kwargs["order"], kwargs["n_classes"]) == (212, 256, 10)
    # the file's memory: the ZOH Legendre system, theta = 784 steps (float32 precision)
    Ad = LegendreDelay(784, 256).discretize(dt=1).A
    assert np.allclose(np.eye(256) + AT.T, Ad, atol=1e-6)
    assert np.array_equal(
        kwargs["memory_system"].A, np.eye(256) + AT.T.astype(np.float64)
    )


def test_paper_model_backends_agree(paper_file, paper_data):
    """NengoDL and the reference simulator give the same predictions (200 images)."""
    net = SequenceClassifier(**load_paper_weights(paper_file))
    x, y = paper_data.x_test[:200], paper_data.y_test[:200]
    dl = predict(net, x, backend="nengo_dl", minibatch_size=100)
    ref = predict(net, x, backend="nengo", dt=1.0)
    assert np.array_equal(np.argmax(dl, axis=1), np.argmax(ref, axis=1))
    assert np.allclose(dl, ref, atol=1e-3 * np.abs(ref).max())
    assert np.mean(np.argmax(ref, axis=1) == y) > 0.95


def numpy_paper_scores(path, x):
    """The paper's model in float64 numpy (`reference.numpy_cell`, its memory the
    scipy ZOH Legendre system), its weights read from the Keras file with h5py."""
    with h5py.File(path, "r") as f:
        cell = {k: np.array(v, dtype=np.float64) for k, v in f[PAPER_CELL].items()}
        kernel, bias = (np.array(f[f"{PAPER_DENSE}/{k}:0"]) for k in ("kernel", "bias"))
    # Keras kernels are (in, out): transpose to the cell's (out, in)
    w = {name[: -len(":0")]: value.T for name, value in cell.items()}
    w["memory_bias"], w["hidden_bias"] = np.zeros(1), np.zeros(len(w["hidden_kernel"]))
    order = len(w["AT"])
    h = np.array([numpy_cell(seq, w, theta=784, order=order)[-1] for seq in x])
    return h @ kernel.astype(np.float64) + bias


def test_paper_accuracy_subset(paper_file, paper_data):
    """The first 500 test images (the default suite's share of the 9715/10000 of
    `test_paper_accuracy`): NengoDL makes the float64 numpy reference's predictions."""
    x, y = paper_data.x_test[:500], paper_data.y_test[:500]
    expected = np.argmax(numpy_paper_scores(paper_file, x), axis=1)
    net = SequenceClassifier(**load_paper_weights(paper_file))
    scores = predict(net, x, backend="nengo_dl", minibatch_size=250)
    assert np.array_equal(np.argmax(scores, axis=1), expected)
    assert np.sum(expected == y) > 0.95 * len(y)


@pytest.mark.slow
def test_paper_accuracy(paper_file, paper_data):
    """The paper's published test accuracy: 97.15 % of 10,000 images."""
    net = SequenceClassifier(**load_paper_weights(paper_file))
    scores = predict(net, paper_data.x_test, backend="nengo_dl", minibatch_size=500)
    assert np.sum(np.argmax(scores, axis=1) == paper_data.y_test) == 9715


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="No weights file at .*nope.hdf5"):
        load_paper_weights(tmp_path / "nope.hdf5")
    (tmp_path / "junk.hdf5").write_bytes(b"not hdf5")
    with pytest.raises(ValidationError, match="Cannot read .*junk.hdf5 as HDF5"):
        load_paper_weights(tmp_path / "junk.hdf5")
    with h5py.File(tmp_path / "other.hdf5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(
        ValidationError, match="not the paper.s LMU weights file: it lacks .*rnn_1/AT:0"
    ):
        load_paper_weights(tmp_path / "other.hdf5")


def test_wrong_weight_shape(paper_file, tmp_path):
    path = tmp_path / "bad.hdf5"
    shutil.copy(paper_file, path)
    with h5py.File(path, "r+") as f:
        del f["model_weights/rnn_1/rnn_1/memory_kernel:0"]
        f["model_weights/rnn_1/rnn_1/memory_kernel:0"] = np.zeros((256, 100), "f4")
    with pytest.raises(ValidationError) as excinfo:
        load_paper_weights(path)
    assert excinfo.value.attr == "memory_kernel"
    assert "has shape (256, 100), expected (256, 212)" in str(excinfo.value)


def test_evaluate_command(paper_file):
    lines = {}
    for backend in ("nengo_dl", "nengo"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "nengo_lmu.cli",
                "evaluate",
                "--weights",
                str(paper_file),
                "--task",
                "psmnist-paper",
                "--n",
                "50",
                "--backend",
                backend,
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        lines[backend] = result.stdout.strip().splitlines()[-1]
    assert lines["nengo_dl"] == lines["nengo"]
    assert lines["nengo"].startswith("accuracy: ")
    assert len(lines["nengo"].split(": ")[1]) == 6  # 4 decimals
