"""Hybrid mode: trained LMUs converted to spiking neurons, against references."""

import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu import PadeDelay
from nengo_lmu.builders import SimLMU
from nengo_lmu.compat import planned_operator_types
from nengo_lmu.convert import load_weights, network_kwargs, save_weights
from nengo_lmu.dl_builders import floor_straight_through
from nengo_lmu.hybrid import finetune, spiking_neurons, to_spiking
from nengo_lmu.lmu import LMU, SequenceClassifier
from nengo_lmu.neurons import SpikeAwareRegularSpiking
from nengo_lmu.train import fit, predict
from reference import delay_line_kwargs, legendre_zoh, random_weights

UNITS, ORDER, THETA, STEPS = 6, 4, 8.0, 30


def cell_weights(seed=0):
    """Random cell weights (as `random_weights` gives them) and the generator."""
    rng = np.random.RandomState(seed)
    return random_weights(rng, UNITS, ORDER, 1, 1, scale=0.8), rng


def trained_classifier(seed=0, **kwargs):
    """A classifier with fixed random weights (arrays, as after training), for
    ``dt=1`` unless ``kwargs`` say otherwise."""
    weights, rng = cell_weights(seed)
    return SequenceClassifier(
        n_classes=3,
        readout_kernel=rng.uniform(-1, 1, size=(3, UNITS)),
        units=UNITS,
        order=ORDER,
        input_d=1,
        seed=seed,
        **dict(weights, **dict(dict(theta=THETA, dt=1.0), **kwargs)),
    )


def sequences(n=4, seed=1):
    return np.random.RandomState(seed).uniform(-1, 1, size=(n, STEPS, 1))


def numpy_spiking_cell(x, w, k, rate_scale, v0=0.5):
    """The cell with tanh units that spike regularly over k ticks of each input step,
    their input held: h is the average spike output over the step (float64)."""
    Ad, Bd = legendre_zoh(THETA, ORDER)
    m, h, v = np.zeros(ORDER), np.zeros(UNITS), np.full(UNITS, v0)
    hs = []
    for x_t in x:
        u = w["input_encoders"] @ x_t + w["hidden_encoders"] @ h
        u += w["memory_encoders"] @ m + w["memory_bias"]
        m = Ad @ m + Bd * u
        J = (
            w["input_kernel"] @ x_t
            + w["hidden_kernel"] @ h
            + w["memory_kernel"] @ m
            + w["hidden_bias"]
        )
        count = np.zeros(UNITS)
        for _ in range(k):  # ticks of 1 / k, each adding rate_scale * tanh(J) spikes
            v += rate_scale * np.tanh(J)
            n = np.floor(v)
            v -= n
            count += n
        h = count / (k * rate_scale)
        hs.append(h)
    return np.array(hs)


def hidden_output(net, x, backend, dtype="float32"):
    """The hidden units' output over the sequence ``x`` (steps, 1)."""
    if backend == "nengo":
        net.input.output.data = x
        with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
            sim.run_steps(len(x))
        return sim.data[net.hidden_probe]
    with net:
        nengo_dl.configure_settings(dtype=dtype)
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=1, progress_bar=False) as sim:
        plan = planned_operator_types(sim)
        out = sim.predict_on_batch({net.input: x[None]})[net.hidden_probe][0]
    return out, plan


@pytest.mark.parametrize("k, rate_scale", [(1, 1.0), (3, 0.7), (10, 0.25)])
def test_ticks_with_held_input_match_numpy(k, rate_scale):
    """k ticks per input step with held input, simulated tick by tick in numpy, equal
    the converted network in the reference simulator and NengoDL (fused, float64)."""
    net = trained_classifier()
    w, _ = cell_weights()
    x = sequences(1)[0]
    spiking = to_spiking(net, k=k, rate_scale=rate_scale)
    expected = numpy_spiking_cell(x, w, k, rate_scale)
    assert np.abs(expected).max() > 0 and len(np.unique(expected)) > 2
    ref = hidden_output(spiking, x, "nengo")
    dl, plan = hidden_output(spiking, x, "nengo_dl", dtype="float64")
    assert SimLMU in plan
    assert np.allclose(ref, expected, atol=1e-9)
    assert np.allclose(dl, expected, atol=1e-9)


def test_fused_equals_standard_build_and_is_reproducible():
    net = to_spiking(trained_classifier(), k=2, rate_scale=0.5)
    x = sequences(1)[0]
    fused, plan = hidden_output(net, x, "nengo_dl", dtype="float64")
    again, _ = hidden_output(net, x, "nengo_dl", dtype="float64")
    net.lmu.fused = False
    standard, standard_plan = hidden_output(net, x, "nengo_dl", dtype="float64")
    assert SimLMU in plan and SimLMU not in standard_plan
    assert np.array_equal(fused, again)
    assert np.allclose(fused, standard, atol=1e-9)


def test_many_spikes_approach_the_rate_network():
    """As the spike amplitude goes to 0, the converted network computes the rate
    network's scores."""
    net = trained_classifier()
    x = sequences(8)
    rate = predict(net, x)
    errors = [
        np.abs(predict(to_spiking(net, k=k), x) - rate).max() for k in (10, 100, 1000)
    ]
    assert errors[2] < 0.02 * np.abs(rate).max(), errors
    assert errors[0] > errors[1] > errors[2], errors


def probed_spike_counts(net, x, **conversion):
    """The hidden units' spike counts (sequences, steps, units), counted with numpy
    from a probe on the neurons of ``to_spiking(net, **conversion)`` in the Nengo
    reference simulator."""
    spiking = to_spiking(net, **conversion)
    neurons = spiking.lmu.hidden.neurons
    with spiking:
        probe = nengo.Probe(neurons)
    counts = []
    with nengo.Simulator(spiking, dt=1.0, progress_bar=False) as sim:
        for seq in x:
            spiking.input.output.data = seq
            sim.reset()
            sim.run_steps(len(seq))
            # each spike is amplitude / dt
            counts.append(sim.data[probe] / neurons.ensemble.neuron_type.amplitude)
    counts = np.array(counts)
    assert np.allclose(counts, np.round(counts), atol=1e-9)  # whole spikes
    return np.round(counts)


def test_spike_statistics():
    """predict's spike statistics are those of a direct count from probe data, in both
    simulators: positive and negative spikes, the measured maximum, and the shares of
    unit-steps and of units above one spike per step."""
    net = trained_classifier()
    x = sequences(6)
    totals = []
    for rate_scale in (0.5, 1.0):
        conversion = dict(k=2, rate_scale=rate_scale)
        counts = probed_spike_counts(net, x, **conversion)
        expected = dict(
            positive=counts[counts > 0].sum() / counts.size,
            negative=-counts[counts < 0].sum() / counts.size,
            max_count=np.abs(counts).max(),
            steps_above_1=np.mean(np.abs(counts) > 1),
            units_above_1=np.mean(np.abs(counts).mean(axis=(0, 1)) > 1),
        )
        spiking = to_spiking(net, **conversion)
        with spiking:
            nengo_dl.configure_settings(dtype="float64")  # the same spikes exactly
        for backend in ("nengo_dl", "nengo"):
            scores, spikes = predict(spiking, x, backend=backend, spikes=True)
            stats = spikes["hidden"]
            for name, value in expected.items():
                assert np.isclose(getattr(stats, name), value), (backend, name)
            assert np.isclose(stats.total, np.abs(counts).mean())
        totals.append(stats.total)
        if rate_scale == 1.0:  # the case the statistics are for: signed, above 1
            assert expected["negative"] > 0.2 * expected["positive"] > 0
            assert expected["max_count"] == 2 and expected["steps_above_1"] > 0
    assert 0.1 < totals[0] < 1.0 < totals[1] < 2.0, totals
    with pytest.raises(ValidationError, match="to_spiking"):
        predict(net, x, spikes=True)


@pytest.mark.parametrize(
    "rate_type",
    [
        nengo.Tanh(tau_ref=0.5),
        nengo.Sigmoid(tau_ref=1),
        nengo.RectifiedLinear(),
        nengo.LIFRate(),
    ],
)
@pytest.mark.filterwarnings("ignore:Non-finite values detected")
@pytest.mark.filterwarnings("ignore:invalid value encountered in log1p")
def test_spiking_neurons_fire_at_the_rate(rate_type):
    """The spiking counterpart's mean output is the rate type's output; its spike
    count scales with k * rate_scale."""
    J = np.linspace(-0.5, 3, 7)
    rates = rate_type.rates(np.zeros(1), gain=np.ones(7), bias=J)[0]
    steps = 300
    for dt, k, rate_scale in ((0.01, 1, 1.0), (0.01, 4, 0.5), (1.0, 4, 0.5)):
        neurons = spiking_neurons(rate_type, dt, k=k, rate_scale=rate_scale)
        with nengo.Network() as net:
            ens = nengo.Ensemble(
                7,
                1,
                neuron_type=neurons,
                gain=np.ones(7),
                bias=J,
            )
            probe = nengo.Probe(ens.neurons)
        with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
            sim.run_steps(steps)
        spikes = sim.data[probe] * dt / neurons.amplitude
        assert np.allclose(spikes, np.round(spikes)), "whole spikes"
        # k * rate_scale spikes per step at an output of 1, whatever dt
        assert np.allclose(spikes.sum(0), rates * steps * k * rate_scale, atol=1)
        assert np.allclose(
            sim.data[probe].mean(0), rates, atol=1 / (k * rate_scale * steps)
        )
        assert np.isclose(neurons.amplitude, dt / (k * rate_scale))


@pytest.mark.parametrize(
    "kwargs, attr",
    [
        (dict(k=0), "k"),
        (dict(k=1.5), "k"),
        (dict(rate_scale=-1.0), "rate_scale"),
        (dict(initial_voltage=1.0), "initial_voltage"),
        (dict(memory="weird"), "memory"),
        (dict(hidden="weird"), "hidden"),
        (dict(synapse=-0.1), "synapse"),
    ],
)
def test_bad_settings(kwargs, attr):
    with pytest.raises(ValidationError) as e:
        to_spiking(trained_classifier(), **kwargs)
    assert e.value.attr == attr


def test_untrained_network_and_unsupported_type():
    untrained = SequenceClassifier(n_classes=2, units=3, order=2, theta=4.0, input_d=1)
    with pytest.raises(ValidationError, match="freeze_params"):
        to_spiking(untrained)
    with pytest.raises(ValidationError, match="spiking counterpart"):
        to_spiking(trained_classifier(hidden_neurons=nengo.LIF()))
    pade = trained_classifier(memory_system=PadeDelay(THETA, ORDER))
    with pytest.raises(ValidationError, match="different system"):
        to_spiking(pade, memory=dict(n_neurons=10), dt=1.0)  # a DelayNetwork
    assert to_spiking(pade, memory="spiking", dt=1.0).lmu.spiking_memory  # any system
    with pytest.raises(ValidationError, match="time step"):
        to_spiking(trained_classifier(dt=None), hidden="rate", memory="spiking")


def test_conversion_keeps_weights(tmp_path):
    net = trained_classifier()
    spiking = to_spiking(net, k=2, synapse=nengo.Lowpass(2.0))
    before, after = network_kwargs(net), network_kwargs(spiking)
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, after[name]), name
    assert isinstance(after["hidden_neurons"], nengo.RegularSpiking)
    readout = [c for c in spiking.all_connections if c.pre_obj is spiking.lmu.output]
    assert len(readout) == 3 and all(c.synapse == nengo.Lowpass(2.0) for c in readout)
    save_weights(tmp_path / "w.npz", before)
    loaded = SequenceClassifier(**load_weights(tmp_path / "w.npz"))
    x = sequences(3)
    assert np.array_equal(predict(loaded, x), predict(net, x))


def test_synapse_falls_back_to_standard_build_and_agrees():
    spiking = to_spiking(trained_classifier(), synapse=nengo.Lowpass(1.5))
    x = sequences(1)[0]
    dl, plan = hidden_output(spiking, x, "nengo_dl", dtype="float64")
    assert SimLMU not in plan
    assert np.allclose(dl, hidden_output(spiking, x, "nengo"), atol=1e-9)


def test_spiking_memory_delays():
    """A delay line with its memory realized by spiking neurons (DelayNetwork) still
    delays a slow signal; the ideal-memory network does it almost exactly."""
    theta, dt = 0.1, 0.001
    kwargs = delay_line_kwargs(4, theta)
    lmu_net = LMU(**kwargs, dt=dt, seed=0)
    with nengo.Network(seed=0) as net:
        spiking = to_spiking(lmu_net, hidden="rate", memory=dict(n_neurons=200))
        stim = nengo.Node(nengo.processes.WhiteSignal(1.0, high=3, rms=0.3, seed=2))
        nengo.Connection(stim, spiking.input, synapse=None)
        p_in = nengo.Probe(stim)
        p_out = nengo.Probe(spiking.output, synapse=0.01)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(1.0)
    assert len(spiking.delay_networks) == 1
    delay = int(round(theta / dt))
    target = nengo.Lowpass(0.01).filt(sim.data[p_in], dt=dt)[:-delay]
    error = sim.data[p_out][delay:] - target
    nrmse = np.sqrt(np.mean(error[200:] ** 2)) / np.std(target[200:])
    assert nrmse < 0.3, nrmse


def test_straight_through_gradient():
    v = tf.constant([0.2, 1.7, -0.4])
    with tf.GradientTape() as tape:
        tape.watch(v)
        n = floor_straight_through(v)
    assert np.array_equal(n.numpy(), [0.0, 1.0, -1.0])
    assert np.array_equal(tape.gradient(n, v).numpy(), [1.0, 1.0, 1.0])


def test_spike_aware_fine_tuning_learns():
    """Training the spiking network (spike-aware, fused) lowers its loss on a toy task,
    and the weights written back run on the reference simulator."""
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, size=(64, 12, 1))
    y = (x[:, :6, 0].mean(1) > x[:, 6:, 0].mean(1)).astype(np.int32)
    net = SequenceClassifier(
        n_classes=2,
        units=8,
        order=4,
        theta=12.0,
        input_d=1,
        dt=1.0,
        seed=1,
        memory_kernel=rng.normal(0, 0.5, size=(8, 4)),
        readout_kernel=rng.normal(0, 0.5, size=(2, 8)),
    )
    spiking = to_spiking(net, k=2)
    history = fit(
        spiking,
        x,
        y,
        epochs=15,
        learning_rate=0.02,
        minibatch_size=16,
        progress_bar=False,
    )
    assert history["loss"][-1] < 0.7 * history["loss"][0], history
    scores = predict(spiking, x[:8])
    assert np.allclose(predict(spiking, x[:8], backend="nengo"), scores, atol=1e-3)


@pytest.mark.parametrize("backend", ["nengo", "nengo_dl"])
def test_conversion_at_the_networks_time_step(backend):
    """An LMU made for dt = 0.01 (theta in seconds) converts to the same spiking
    network as at dt = 1: the same spikes per unit per input step, and the same
    classes as its rate network as often."""
    x = sequences(12)
    results = []
    for dt in (1.0, 0.01):
        net = trained_classifier(theta=THETA * dt, dt=dt)
        rate = predict(net, x, dt=dt, backend=backend)
        scores, spikes = predict(
            to_spiking(net), x, dt=dt, backend=backend, spikes=True
        )
        agreement = np.mean(np.argmax(scores, 1) == np.argmax(rate, 1))
        results.append((rate, scores, spikes["hidden"].total, agreement))
    (rate_1, scores_1, spikes_1, agree_1), (rate_2, scores_2, spikes_2, agree_2) = (
        results
    )
    assert np.allclose(rate_2, rate_1, atol=1e-5 * np.abs(rate_1).max())
    assert spikes_1 > 0.3 and np.isclose(spikes_2, spikes_1, rtol=0.01)
    assert np.allclose(scores_2, scores_1, atol=0.05 * np.abs(scores_1).max())
    assert agree_2 == agree_1 > 0.5


def test_time_step_needed_and_checked():
    net = trained_classifier(dt=None)
    with pytest.raises(ValidationError, match="to_spiking\\(..., dt=...\\)") as e:
        to_spiking(net)
    assert e.value.attr == "dt"
    x = sequences(2)
    assert np.array_equal(
        predict(to_spiking(net, dt=1.0), x, backend="nengo"),
        predict(to_spiking(trained_classifier()), x, backend="nengo"),
    )
    for dt in (0.5, -1.0):
        with pytest.raises(ValidationError) as e:
            to_spiking(trained_classifier(), dt=dt)
        assert e.value.attr == "dt"


def sgd_step(net, x, y):
    """Weights and forward pass of one NengoDL training step (SGD at rate 1, float64)
    on ``x``, ``y``: the gradient of the loss by weight name, and the plan's operator
    types."""
    with net:
        nengo_dl.configure_settings(dtype="float64")
    conns = dict(net.lmu.weight_connections, readout=net.readout.kernel)
    with nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=len(x), progress_bar=False
    ) as sim:
        plan = {type(op) for ops in sim.tensor_graph.plan for op in ops}
        sim.compile(
            optimizer=tf.optimizers.SGD(1.0),
            loss={net.probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)},
        )
        before = {name: sim.data[c].weights for name, c in conns.items()}
        loss = sim.fit(
            {net.input: x}, {net.probe: y[:, None, None]}, epochs=1, verbose=0
        ).history["loss"][0]
        gradient = {
            name: before[name] - sim.data[c].weights for name, c in conns.items()
        }
    return loss, gradient, plan


def test_standard_build_trains_spike_aware_as_the_fused_build():
    """NengoDL's standard build trains regular-spiking units as the fused SimLMU
    does: spikes forward (the same loss), the rate's gradient backward (the same
    gradient); not as their rates."""
    x, y = sequences(6), np.arange(6) % 3
    results = {}
    for fused in (True, False):
        net = to_spiking(trained_classifier())
        net.lmu.fused = fused
        results[fused] = sgd_step(net, x, y)
    (loss, gradient, plan), (std_loss, std_gradient, std_plan) = (
        results[True],
        results[False],
    )
    assert SimLMU in plan and SimLMU not in std_plan
    rate_loss, _, _ = sgd_step(to_spiking(trained_classifier(), hidden="rate"), x, y)
    assert abs(loss - rate_loss) > 0.01  # spikes are not rates
    assert np.isclose(std_loss, loss, rtol=1e-9)
    for name, g in gradient.items():
        assert np.abs(g).max() > 0, name
        assert np.allclose(std_gradient[name], g, atol=1e-9 * np.abs(g).max()), name


def test_plain_regular_spiking_keeps_nengo_dls_training():
    """Only `.SpikeAwareRegularSpiking` units (`to_spiking`'s) train spike-aware: an
    LMU built with plain `nengo.RegularSpiking` units of the same rate trains as
    NengoDL trains them, on their rates (the rate network's loss), in the standard
    build, and NengoDL's builder for `nengo.RegularSpiking` is still its own."""
    from nengo_dl.neuron_builders import RegularSpikingBuilder, SimNeuronsBuilder

    x, y = sequences(6), np.arange(6) % 3
    aware = to_spiking(trained_classifier())
    kind = aware.lmu.hidden.neuron_type
    assert isinstance(kind, SpikeAwareRegularSpiking)
    plain = to_spiking(trained_classifier())
    plain.lmu.hidden.neuron_type = nengo.RegularSpiking(
        kind.base_type, amplitude=kind.amplitude, initial_state=kind.initial_state
    )
    loss, _, _ = sgd_step(aware, x, y)
    plain_loss, _, plan = sgd_step(plain, x, y)
    rate_loss, _, _ = sgd_step(to_spiking(trained_classifier(), hidden="rate"), x, y)
    assert SimLMU not in plan
    assert np.isclose(plain_loss, rate_loss, rtol=1e-9)
    assert abs(loss - plain_loss) > 0.01
    impl = SimNeuronsBuilder.TF_NEURON_IMPL
    assert impl[nengo.RegularSpiking] is RegularSpikingBuilder


def cross_entropy(scores, y):
    scores = scores - scores.max(axis=1, keepdims=True)
    log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


@pytest.mark.parametrize(
    "kwargs, conversion",
    [
        ({}, dict(synapse=nengo.Lowpass(1.5))),
        (
            dict(
                hidden_neurons=nengo.LIFRate(tau_rc=5.0, tau_ref=1.0),
                hidden_bias=np.full(UNITS, 2.0),  # above the threshold of 1
            ),
            {},
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:divide by zero")  # LIF rates at gain 1, bias 0
def test_unfused_finetune_trains_on_spikes(kwargs, conversion):
    """Fine-tuning without the fused build (a synapse; LIFRate units) trains on the
    spiking network's loss, not on the rate network's."""
    net = trained_classifier(**kwargs)
    x, y = sequences(20), np.arange(20) % 3
    _, history = finetune(
        net,
        x,
        y,
        epochs=1,
        learning_rate=0.0,
        minibatch_size=10,
        progress_bar=False,
        **conversion,
    )
    spiking = cross_entropy(predict(to_spiking(net, **conversion), x), y)
    rate = cross_entropy(predict(to_spiking(net, hidden="rate", **conversion), x), y)
    assert abs(spiking - rate) > 0.01
    assert np.isclose(history["loss"][0], spiking, rtol=1e-4)


def test_finetune_warns_about_rate_trained_memory_neurons():
    net = trained_classifier()
    x, y = sequences(10), np.arange(10) % 3
    memory = dict(
        n_neurons=20,
        neuron_type=nengo.SpikingRectifiedLinear(),
        max_rates=nengo.dists.Uniform(1, 2),
        synapse=5.0,
        calibrate=False,
    )
    with pytest.warns(UserWarning, match="SpikingRectifiedLinear neurons of the spik"):
        finetune(net, x, y, minibatch_size=10, progress_bar=False, memory=memory)
