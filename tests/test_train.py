"""Training an LMU with NengoDL: fit, save/load, and freezing back to Nengo."""

import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.train import distill_targets, fit, predict
from reference import delay_line_kwargs


def toy_task(n=64, steps=12, seed=0):
    """Which of two halves of the sequence had the larger mean."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(-1, 1, size=(n, steps, 1)).astype(np.float32)
    y = x[:, : steps // 2, 0].mean(axis=1) > x[:, steps // 2 :, 0].mean(axis=1)
    return x, y.astype(np.int32)[:, None, None]


def classifier():
    return SequenceClassifier(
        n_classes=2, units=8, order=4, theta=12.0, input_d=1, seed=1
    )


@pytest.fixture
def trained(tmp_path):
    x, y = toy_task()
    net = classifier()
    with nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=16, progress_bar=False, seed=2
    ) as sim:
        sim.compile(
            optimizer=tf.optimizers.Adam(0.02),
            loss={net.probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)},
            metrics={net.probe: "accuracy"},
        )
        before = sim.evaluate({net.input: x}, {net.probe: y}, verbose=0)
        sim.fit({net.input: x}, {net.probe: y}, epochs=15, verbose=0)
        after = sim.evaluate({net.input: x}, {net.probe: y}, verbose=0)
        scores = sim.predict({net.input: x})[net.probe][:, -1]
        sim.save_params(tmp_path / "params")
        sim.freeze_params(net)
    return net, x, y, scores, before, after, tmp_path / "params"


def test_fit_learns(trained):
    _, _, _, _, before, after, _ = trained
    accuracy = [v for k, v in after.items() if k.endswith("accuracy")]
    assert after["loss"] < 0.7 * before["loss"], (before, after)
    assert accuracy[0] > 0.85, after


def test_save_load_round_trip(trained):
    _, x, _, scores, _, _, params = trained
    net = classifier()  # same structure, fresh weights
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=16, progress_bar=False) as sim:
        fresh = sim.predict({net.input: x})[net.probe][:, -1]
        sim.load_params(params)
        loaded = sim.predict({net.input: x})[net.probe][:, -1]
    assert not np.allclose(fresh, scores)
    assert np.array_equal(loaded, scores)


def test_freeze_params_to_reference_simulator(trained):
    net, x, _, scores, _, _, _ = trained
    ref = predict(net, x[:8], backend="nengo")
    assert np.allclose(ref, scores[:8], atol=1e-4 * np.abs(scores).max())


@pytest.mark.parametrize("method", ["zoh", "euler"])
def test_training_moves_theta_to_the_needed_delay(method):
    """Learning theta (keras-lmu's trainable_theta) to reproduce a 30-step delay,
    starting from a 20-step window read out at its end (u(t - theta)); the trained
    window then runs on the reference simulator (freeze_params)."""
    from nengo_lmu import LMU  # pylint: disable=import-outside-toplevel

    order, steps, delay = 4, 120, 30
    x = np.array(
        [
            nengo.processes.WhiteSignal(steps, high=0.03, rms=0.5, seed=s).run(
                steps, dt=1
            )
            for s in range(64)
        ]
    )
    y = np.concatenate([np.zeros((64, delay, 1)), x[:, :-delay]], axis=1)
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.PresentInput(x[0], presentation_time=1))
        lmu = LMU(
            **delay_line_kwargs(order, 20.0),
            trainable=["theta"],
            method=method,
            dt=1.0,
        )
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output)
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=16, progress_bar=False) as sim:
        assert np.isclose(lmu.trained_theta(sim), 20.0)
        sim.compile(
            optimizer=tf.optimizers.Adam(2e-3),
            loss={probe: lambda y, yh: tf.reduce_mean((y[:, 40:] - yh[:, 40:]) ** 2)},
        )
        sim.fit({stim: x}, {probe: y}, epochs=15, verbose=0)
        theta = lmu.trained_theta(sim)
        trained = sim.predict({stim: x[:16]})[probe][0]
        sim.freeze_params(net)
    assert abs(theta - delay) < 3, theta  # from 10 steps off to within 3
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as ref_sim:
        ref_sim.run_steps(steps)
    assert np.allclose(ref_sim.data[probe], trained, atol=1e-5)


def test_fit_trains_on_every_sequence(monkeypatch):
    """Each epoch trains on a new seeded order of all the sequences, less the partial
    last batch of that order, so over the epochs every sequence is trained on."""
    x, y = toy_task(n=25)
    batches = []
    original = nengo_dl.Simulator.fit

    def recording_fit(self, x=None, y=None, **kwargs):
        batches.append(next(iter(x.values())))
        return original(self, x, y, **kwargs)

    monkeypatch.setattr(nengo_dl.Simulator, "fit", recording_fit)
    history = fit(
        classifier(), x, y[:, 0, 0], epochs=4, minibatch_size=10, progress_bar=False
    )
    assert len(history["loss"]) == len(history["accuracy"]) == 4
    seen = [
        [int(np.flatnonzero((x == row).all(axis=(1, 2)))[0]) for row in batch]
        for batch in batches
    ]
    assert all(len(epoch) == 20 == len(set(epoch)) for epoch in seen), seen
    assert len({tuple(epoch) for epoch in seen}) == len(seen)  # a new order each
    assert set(np.concatenate(seen)) == set(range(25))


def test_fit_on_one_hot_probabilities_trains_as_on_the_classes():
    """Soft targets go through Keras' categorical cross entropy; one-hot rows are the
    classes, so the trained weights are those of the sparse loss on the classes."""
    x, y = toy_task(n=32)
    labels = y[:, 0, 0]
    by_class, by_probability = classifier(), classifier()
    kwargs = dict(epochs=2, learning_rate=0.02, minibatch_size=16, progress_bar=False)
    losses = [
        fit(by_class, x, labels, **kwargs)["loss"],
        fit(by_probability, x, np.eye(2)[labels], **kwargs)["loss"],
    ]
    assert np.allclose(*losses, rtol=1e-5), losses
    assert np.allclose(predict(by_class, x), predict(by_probability, x), atol=1e-5)


def test_distill_targets_mix_the_classes_with_the_teachers_probabilities():
    x, y = toy_task(n=8)
    labels = y[:, 0, 0]
    teacher = classifier()
    reference = predict(teacher, x, backend="nengo").astype(np.float64)
    probabilities = np.exp(reference) / np.exp(reference).sum(axis=1, keepdims=True)
    targets = distill_targets(teacher, x, labels, weight=0.3)
    expected = 0.7 * np.eye(2)[labels] + 0.3 * probabilities
    assert np.allclose(targets, expected, atol=1e-6)
    assert np.allclose(distill_targets(teacher, x, labels, weight=0), np.eye(2)[labels])


@pytest.mark.parametrize(
    "targets, match",
    [
        (np.full((8, 3), 1 / 3), r"\(8,\) class labels or \(8, 2\) target"),
        (np.array([[1.5, -0.5]] * 8), "non-negative and sum to 1"),
        (np.array([[0.5, 0.4]] * 8), r"row 0 sums to 0\.9"),
    ],
)
def test_fit_refuses_bad_target_probabilities(targets, match):
    x, _ = toy_task(n=8)
    with pytest.raises(ValidationError, match=match):
        fit(classifier(), x, targets, minibatch_size=4, progress_bar=False)


@pytest.mark.parametrize(
    "labels, weight, match",
    [
        (np.zeros(8, dtype=int), 1.5, r"Must be in \[0, 1\]"),
        (np.full(8, 2), 0.5, r"class labels in \[0, 2\)"),
        (np.zeros(8), 0.5, "dtype float64"),
    ],
)
def test_distill_targets_refuses_bad_settings(labels, weight, match):
    x, _ = toy_task(n=8)
    with pytest.raises(ValidationError, match=match):
        distill_targets(classifier(), x, labels, weight=weight)
