"""Trained networks rebuilt from their weights (`convert.network_kwargs`,
`save_weights`, `load_weights`, `hybrid.to_spiking`, `hybrid.finetune`), against the
original network: the rebuilt one must compute what the original computes."""

import nengo
import numpy as np
import pytest

from nengo_lmu.convert import load_weights, network_kwargs, save_weights
from nengo_lmu.hybrid import finetune, spiking_neurons, to_spiking
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.train import predict
from reference import random_weights

UNITS, ORDER, THETA, INPUT_D, MEMORY_D, STEPS = 5, 4, 6.0, 2, 2, 20
TRAINABLE = ["A", "B", "input_encoders", "memory_kernel"]


def trained_memory_classifier(perturb=0.1, seed=0):
    """A classifier with memory_d = 2 and trainable A, B, whose weights are arrays
    and whose full (memory_d * order)^2 A and (memory_d * order, memory_d) B are
    perturbed away from the Legendre memory, as training changes them."""
    rng = np.random.RandomState(seed)
    names = ("input_encoders", "memory_kernel")
    net = SequenceClassifier(
        n_classes=3,
        readout_kernel=rng.uniform(-1, 1, size=(3, UNITS)),
        units=UNITS,
        order=ORDER,
        theta=THETA,
        input_d=INPUT_D,
        memory_d=MEMORY_D,
        trainable=TRAINABLE,
        dt=1.0,
        seed=seed,
        **random_weights(rng, UNITS, ORDER, INPUT_D, MEMORY_D, names, scale=1.0),
    )
    for name in ("A", "B"):
        conn = net.lmu.weight_connections[name]
        w = np.array(conn.transform.init)
        conn.transform = nengo.Dense(
            w.shape, init=w + rng.uniform(-perturb, perturb, size=w.shape)
        )
    return net


def sequences(n=6, seed=1):
    return np.random.RandomState(seed).uniform(-1, 1, size=(n, STEPS, INPUT_D))


@pytest.mark.parametrize("backend", ["nengo", "nengo_dl"])
def test_rebuilt_and_loaded_networks_keep_the_trained_memory(backend, tmp_path):
    net = trained_memory_classifier()
    x = sequences()
    original = predict(net, x, backend=backend)
    untrained = predict(trained_memory_classifier(perturb=0), x, backend=backend)
    assert np.abs(original - untrained).max() > 0.05  # the perturbation matters
    kwargs = network_kwargs(net)
    save_weights(tmp_path / "w.npz", kwargs)
    tol = 1e-12 if backend == "nengo" else 1e-6
    for rebuilt in (kwargs, load_weights(tmp_path / "w.npz")):
        scores = predict(SequenceClassifier(**rebuilt), x, backend=backend)
        assert np.allclose(scores, original, atol=tol * np.abs(original).max())
        assert sorted(rebuilt["trainable"]) == sorted(TRAINABLE)


def test_spiking_conversion_keeps_the_trained_memory():
    """to_spiking of the trained network equals the trained network with only its
    hidden neuron type changed."""
    net = trained_memory_classifier()
    x = sequences()
    assert np.array_equal(
        predict(to_spiking(net, hidden="rate"), x, backend="nengo"),
        predict(net, x, backend="nengo"),
    )
    swapped = trained_memory_classifier()
    swapped.lmu.hidden.neuron_type = spiking_neurons(
        net.lmu.hidden.neuron_type, 1.0, k=2, rate_scale=0.7
    )
    for backend in ("nengo", "nengo_dl"):
        expected = predict(swapped, x, backend=backend)
        scores = predict(to_spiking(net), x, backend=backend)
        assert np.allclose(scores, expected, atol=1e-6 * np.abs(expected).max())


def test_finetune_keeps_and_tunes_the_trained_memory():
    net = trained_memory_classifier()
    x = sequences(20)
    y = np.arange(20) % 3
    unchanged, _ = finetune(
        net, x, y, epochs=1, learning_rate=0.0, minibatch_size=10, progress_bar=False
    )
    assert "A" in unchanged.lmu.weight_connections
    assert sorted(unchanged.lmu.arguments["trainable"]) == sorted(TRAINABLE)
    expected = predict(net, x, backend="nengo")
    assert np.allclose(  # the weights went through NengoDL's float32
        predict(unchanged, x, backend="nengo"),
        expected,
        atol=1e-6 * np.abs(expected).max(),
    )
    tuned, _ = finetune(
        net, x, y, epochs=1, learning_rate=0.01, minibatch_size=10, progress_bar=False
    )
    before, after = (
        np.array(n.lmu.weight_connections["A"].transform.init) for n in (net, tuned)
    )
    assert np.abs(after - before).max() > 1e-3  # A was fine-tuned, and kept


def test_classifier_outside_its_container():
    """SequenceClassifier(add_to_container=False) keeps its LMU and readout in itself
    and builds, as a nengo.Network does."""
    with nengo.Network() as outer:
        net = SequenceClassifier(
            n_classes=2,
            units=3,
            order=2,
            theta=4.0,
            input_d=1,
            memory_kernel=0.5,
            readout_kernel=0.5,
            label="c",
            seed=3,
            add_to_container=False,
        )
    assert net not in outer.networks and outer.all_objects == []
    assert net.lmu in net.networks and net.readout in net.networks
    assert (net.label, net.seed) == ("c", 3)
    x = sequences(2)[:, :, :1]
    assert np.allclose(predict(net, x, backend="nengo"), predict(net, x), atol=1e-5)


def test_spiking_network_saved_and_loaded(tmp_path):
    """The regular-spiking hidden neuron type of a converted network round-trips
    through save_weights and load_weights."""
    spiking = to_spiking(trained_memory_classifier(), k=3, rate_scale=0.5)
    save_weights(tmp_path / "spiking.npz", network_kwargs(spiking))
    kwargs = load_weights(tmp_path / "spiking.npz")
    assert kwargs["hidden_neurons"] == spiking.lmu.hidden.neuron_type
    x = sequences()
    assert np.array_equal(
        predict(SequenceClassifier(**kwargs), x, backend="nengo"),
        predict(spiking, x, backend="nengo"),
    )
