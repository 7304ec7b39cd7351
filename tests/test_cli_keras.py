"""``nengo-lmu import-keras`` of stacked Keras models, then ``evaluate``."""

import pathlib

import numpy as np
import pytest

from test_cli import last_value, run_cli

tf = pytest.importorskip("tensorflow")
keras_lmu = pytest.importorskip("keras_lmu")
FIXTURES = pathlib.Path(__file__).parent / "keras3"


def test_import_stacked_and_evaluate(tmp_path):
    """A stacked Keras classifier of psDigits (two LMUs, random weights) evaluates
    to Keras' own count of correct test sequences, rate and spiking."""
    from nengo_lmu.tasks import psdigits

    rng = np.random.RandomState(2)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((64, 1)),
            keras_lmu.LMU(
                1, 6, 64.0, tf.keras.layers.SimpleRNNCell(8), return_sequences=True
            ),
            keras_lmu.LMU(1, 6, 64.0, tf.keras.layers.SimpleRNNCell(8)),
            tf.keras.layers.Dense(10),
        ]
    )
    for w in model.weights:
        w.assign(rng.uniform(-0.6, 0.6, size=w.shape))
    model.save(tmp_path / "digits.keras")
    data = psdigits()
    n = 40
    scores = model.predict(data.x_test[:n], verbose=0)
    correct = int(np.sum(np.argmax(scores, axis=1) == data.y_test[:n].ravel()))

    out = tmp_path / "digits.npz"
    result = run_cli("import-keras", str(tmp_path / "digits.keras"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    # Keras 2.12's model.save("x.keras") writes legacy HDF5, recognized as such
    assert "(Keras 2 .h5): LMU, LMU, Dense" in result.stdout
    common = ("--weights", str(out), "--task", "psdigits", "--n", str(n), "--quiet")
    rate = run_cli("evaluate", *common)
    assert rate.returncode == 0, rate.stderr
    assert f"test: correct {correct}/{n}" in rate.stdout
    spiking = run_cli("evaluate", *common, "--spiking", "--k", "50")
    assert spiking.returncode == 0, spiking.stderr
    assert abs(last_value(spiking.stdout, "accuracy") - correct / n) <= 0.1


def test_import_keras3_fixture(tmp_path):
    out = tmp_path / "stacked.npz"
    result = run_cli("import-keras", str(FIXTURES / "stacked.keras"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "(Keras 3 .keras): LMU, LMU, LMU, Dense" in result.stdout
    result = run_cli("import-keras", str(FIXTURES / "unsupported.keras"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1  # one line, no traceback
    assert "Layer 'lstm' (LSTM) is not supported" in result.stderr
