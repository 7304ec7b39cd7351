"""Models saved by real Keras 3 (tests/keras3, `make keras3-fixtures`) import into
Nengo with Keras' outputs (1e-5 relative), on both simulators, without Keras 3."""

import json
import pathlib

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.convert import keras_network, load_keras_model
from nengo_lmu.hybrid import to_spiking
from nengo_lmu.interop import read_keras_model, save_keras_model
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.stacked import StackedModel
from nengo_lmu.train import fit, predict

FIXTURES = pathlib.Path(__file__).parent / "keras3"
MODELS = ["classifier", "stacked", "sequence", "mackey_glass"]


def fixture(name):
    with np.load(FIXTURES / f"{name}.npz") as f:
        return f["x"], f["y"], json.loads(str(f["versions"]))


def assert_matches(actual, expected):
    assert actual.shape == expected.shape
    error = np.abs(actual - expected).max() / np.abs(expected).max()
    assert error < 1e-5, error


def test_made_by_keras3():
    _, _, versions = fixture("stacked")
    assert versions["keras"].startswith("3.") and versions["keras_lmu"] == "0.9.0"
    model = read_keras_model(FIXTURES / "stacked.keras")
    assert model.format == "Keras 3 .keras"
    assert [layer.class_name for layer in model.layers] == [
        "InputLayer",
        "LMU",
        "Dropout",
        "RNN",
        "LMU",
        "Dense",
    ]


@pytest.mark.parametrize("backend", ["nengo_dl", "nengo"])
@pytest.mark.parametrize("name", MODELS)
def test_keras3_model(name, backend):
    x, expected, _ = fixture(name)
    net = keras_network(FIXTURES / f"{name}.keras", seed=0)
    assert isinstance(net, StackedModel)
    assert net.sequence_output == (expected.ndim == 3)
    assert np.ptp(expected) > 0.05  # the outputs vary
    assert_matches(predict(net, x, backend=backend), expected)


def test_stacked_layers():
    """The fixture models are stacked: several LMUs (their options as saved)."""
    layers = keras_network(FIXTURES / "mackey_glass.keras").layers
    assert [type(layer).__name__ for layer in layers] == ["LMU"] * 4 + ["Dense"]
    stacked = keras_network(FIXTURES / "stacked.keras").layers
    assert [layer.arguments["memory_d"] for layer in stacked[:3]] == [2, 1, 1]
    assert stacked[1].arguments["theta"] == pytest.approx(7.5)  # trained theta
    assert "theta" in stacked[1].arguments["trainable"]
    assert stacked[1].arguments["method"] == "euler"


def test_classifier_and_npz_round_trip(tmp_path):
    x, expected, _ = fixture("classifier")
    net = SequenceClassifier(**load_keras_model(FIXTURES / "classifier.keras"))
    assert_matches(predict(net, x), expected)
    x, expected, _ = fixture("stacked")
    model = read_keras_model(FIXTURES / "stacked.keras")
    save_keras_model(tmp_path / "stacked.npz", model)
    assert_matches(predict(keras_network(tmp_path / "stacked.npz"), x), expected)
    with pytest.raises(ValidationError, match="must hold a keras-lmu layer .*fo"):
        load_keras_model(FIXTURES / "stacked.keras")


def test_unsupported_layer():
    with pytest.raises(ValidationError) as e:
        keras_network(FIXTURES / "unsupported.keras")
    message = str(e.value)
    assert "Layer 'lstm' (LSTM) is not supported" in message
    assert "Supported layers: InputLayer; Dropout; Dense" in message
    assert "RNN(keras_lmu.LMUCell)" in message


def test_to_spiking():
    """Spiking hidden units in every LMU: close to Keras' outputs with many ticks
    per step, further with few (the spikes are there)."""
    x, expected, _ = fixture("mackey_glass")
    net = keras_network(FIXTURES / "mackey_glass.keras")
    errors = {}
    for k in (1, 200):
        spiking = to_spiking(net, k=k, rate_scale=1.0)
        assert all(
            isinstance(layer.arguments["hidden_neurons"], nengo.RegularSpiking)
            for layer in spiking.layers[:4]
        )
        actual = predict(spiking, x)
        errors[k] = np.abs(actual - expected).max() / np.abs(expected).max()
    assert errors[200] < 0.05 < errors[1], errors
    with pytest.raises(ValidationError, match="ideal memory"):
        to_spiking(net, memory="spiking")


def test_fit_refuses_stacked_model():
    """`fit` trains a SequenceClassifier only; a stacked Keras model gets a
    ValidationError that says where to train it."""
    net = keras_network(FIXTURES / "stacked.keras")
    with pytest.raises(ValidationError, match="train a Keras model in Keras") as info:
        fit(net, np.zeros((2, 3, 1)), np.zeros(2, dtype=int), minibatch_size=2)
    assert info.value.attr == "net"
