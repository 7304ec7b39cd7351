"""The LMU network against a float64 numpy loop of the cell, in Nengo and NengoDL."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LMU, LegendreDelay
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.tasks import nrmse
from nengo_lmu.train import predict
from reference import delay_line_kwargs, numpy_cell, random_weights


def run_lmu(lmu_kwargs, x, backend):
    """Probe h of an LMU fed the sequences x (n, steps, input_d), with dt = 1."""

    def build(seq):
        with nengo.Network(seed=0) as net:
            stim = nengo.Node(nengo.processes.PresentInput(seq, presentation_time=1.0))
            lmu = LMU(**lmu_kwargs)
            nengo.Connection(stim, lmu.input, synapse=None)
            probe = nengo.Probe(lmu.output)
        return net, stim, probe

    if backend == "nengo":
        out = []
        for seq in x:
            net, _, probe = build(seq)
            with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
                sim.run_steps(len(seq))
            out.append(sim.data[probe])
        return np.array(out)

    import nengo_dl  # pylint: disable=import-outside-toplevel

    net, stim, probe = build(x[0])
    with nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=len(x), progress_bar=False
    ) as sim:
        return sim.predict({stim: x})[probe]


@pytest.mark.parametrize("backend", ["nengo", "nengo_dl"])
def test_lmu_matches_numpy_cell(backend):
    rng = np.random.RandomState(0)
    units, order, theta, input_d, memory_d = 5, 4, 6.0, 3, 2
    w = random_weights(rng, units, order, input_d, memory_d)
    x = rng.uniform(-1, 1, size=(3, 25, input_d))
    h = run_lmu(
        dict(
            units=units,
            order=order,
            theta=theta,
            input_d=input_d,
            memory_d=memory_d,
            **w,
        ),
        x,
        backend,
    )
    ref = np.array([numpy_cell(seq, w, theta, order) for seq in x])
    assert np.ptp(ref) > 0.5  # the hidden state moves
    tol = 1e-9 if backend == "nengo" else 1e-5  # NengoDL runs in float32
    assert np.allclose(h, ref, atol=tol, rtol=0), np.abs(h - ref).max()


@pytest.mark.parametrize(
    "neuron_type, f",
    [
        (nengo.RectifiedLinear(), lambda j: np.maximum(j, 0)),
        (None, lambda j: j),
        (nengo.Sigmoid(tau_ref=1), lambda j: 1 / (1 + np.exp(-j))),
    ],
)
def test_lmu_neuron_types(neuron_type, f):
    rng = np.random.RandomState(1)
    w = random_weights(rng, 4, 3, 1, 1)
    x = rng.uniform(-1, 1, size=(1, 20, 1))
    h = run_lmu(
        dict(units=4, order=3, theta=5.0, input_d=1, hidden_neurons=neuron_type, **w),
        x,
        "nengo",
    )
    assert np.allclose(h[0], numpy_cell(x[0], w, 5.0, 3, f=f), atol=1e-9)


def test_tensorflow_activation():
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    rng = np.random.RandomState(6)
    w = random_weights(rng, 4, 3, 2, 1)
    x = rng.uniform(-1, 1, size=(2, 15, 2))
    h = run_lmu(
        dict(units=4, order=3, theta=5.0, input_d=2, hidden_neurons=tf.nn.elu, **w),
        x,
        "nengo_dl",
    )
    elu = lambda j: np.where(j > 0, j, np.exp(j) - 1)  # noqa: E731
    ref = np.array([numpy_cell(seq, w, 5.0, 3, f=elu) for seq in x])
    assert np.allclose(h, ref, atol=1e-5)


def test_paper_defaults():
    """Absent weights are absent, and the paper's initial values are used."""
    lmu = LMU(units=6, order=4, theta=10.0, input_d=2, hidden_bias=None)
    assert set(lmu.weight_connections) == {
        "input_encoders",
        "hidden_encoders",
        "memory_encoders",
        "input_kernel",
        "hidden_kernel",
        "memory_kernel",
    }
    lmu = LMU(
        units=6,
        order=4,
        theta=10.0,
        input_d=2,
        hidden_encoders=None,
        memory_encoders=None,
    )
    assert "hidden_encoders" not in lmu.weight_connections
    with nengo.Network() as net:
        lmu = LMU(units=6, order=4, theta=10.0, input_d=2)
    with nengo.Simulator(net, progress_bar=False) as sim:
        weights = {k: sim.data[c].weights for k, c in lmu.weight_connections.items()}
    assert np.all(weights["input_encoders"] == 1)
    for name in ("hidden_encoders", "memory_encoders", "input_kernel", "hidden_kernel"):
        assert np.all(weights[name] == 0)
    # Glorot normal: std sqrt(2 / (fan_in + fan_out)) = sqrt(2 / 10)
    assert 0.2 < np.std(weights["memory_kernel"]) < 0.7


def test_stacked_layers():
    rng = np.random.RandomState(2)
    w1 = random_weights(rng, 4, 3, 2, 1)
    w2 = random_weights(rng, 3, 5, 4, 1)
    x = rng.uniform(-1, 1, size=(15, 2))
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.PresentInput(x, presentation_time=1.0))
        first = LMU(units=4, order=3, theta=4.0, input_d=2, **w1)
        second = LMU(units=3, order=5, theta=7.0, input_d=4, **w2)
        nengo.Connection(stim, first.input, synapse=None)
        nengo.Connection(first.output, second.input, synapse=None)
        probe = nengo.Probe(second.output)
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(len(x))
    ref = numpy_cell(numpy_cell(x, w1, 4.0, 3), w2, 7.0, 5)
    assert np.allclose(sim.data[probe], ref, atol=1e-9)


def test_trainable_weights_in_nengo_dl():
    import nengo_dl  # pylint: disable=import-outside-toplevel

    with nengo.Network() as net:
        stim = nengo.Node(np.zeros(2))
        lmu = LMU(
            units=6,
            order=4,
            theta=10.0,
            input_d=2,
            hidden_bias=0.0,
            trainable=["memory_kernel", "hidden_bias"],
        )
        nengo.Connection(stim, lmu.input, synapse=None)
    with nengo_dl.Simulator(net, dt=1.0, progress_bar=False) as sim:
        shapes = sorted(tuple(w.shape) for w in sim.keras_model.trainable_weights)
    # memory_kernel (6 x 4) and the bias (6 x 1); nothing else (no ensemble bias)
    assert shapes == [(6, 1), (6, 4)]


@pytest.mark.parametrize(
    "kwargs, attr, match",
    [
        (dict(units=0), "units", "integer >= 1"),
        (dict(order=0), "order", "integer >= 1"),
        (dict(order=2.5), "order", "integer >= 1"),
        (dict(input_d=0), "input_d", "integer >= 1"),
        (
            dict(input_kernel=np.zeros((4, 3))),
            "input_kernel",
            r"must have shape \(4, 2\)",
        ),
        (dict(memory_kernel=np.zeros((4, 5))), "memory_kernel", r"shape \(4, 6\)"),
        (dict(hidden_neurons="tanh"), "hidden_neurons", "NeuronType"),
        (dict(trainable=["W_x"]), "trainable", "not weights of this LMU"),
        (dict(memory_system=nengo.Lowpass(0.1)), "memory_system", "LinearSystem"),
    ],
)
def test_lmu_validation(kwargs, attr, match):
    args = dict(units=4, order=6, theta=10.0, input_d=2)
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match) as excinfo:
        LMU(**args)
    assert excinfo.value.attr == attr


def test_sequence_classifier_backends_agree():
    rng = np.random.RandomState(3)
    w = random_weights(rng, 5, 4, 1, 1)
    net = SequenceClassifier(
        n_classes=3,
        units=5,
        order=4,
        theta=8.0,
        input_d=1,
        **w,
        readout_kernel=rng.normal(size=(3, 5)),
        readout_bias=rng.normal(size=3),
    )
    x = rng.uniform(-1, 1, size=(4, 12, 1))
    ref = predict(net, x, backend="nengo")
    dl = predict(net, x, backend="nengo_dl", minibatch_size=3)  # 4 = 3 + 1 padded
    hs = [numpy_cell(seq, w, 8.0, 4)[-1] for seq in x]
    expected = (
        np.array(hs) @ net.readout.kernel.transform.init.T
        + net.readout.bias.transform.init[:, 0]
    )
    assert np.allclose(ref, expected, atol=1e-9)
    assert np.allclose(dl, expected, atol=1e-5)


def test_trainable_memory_matrices():
    """With A and B trainable the memory is built from connections: same outputs, and
    NengoDL trains A (n x n) and B (n x memory_d)."""
    import nengo_dl  # pylint: disable=import-outside-toplevel

    rng = np.random.RandomState(4)
    w = random_weights(rng, 5, 4, 3, 2)
    kwargs = dict(units=5, order=4, theta=6.0, input_d=3, memory_d=2, **w)
    x = rng.uniform(-1, 1, size=(2, 20, 3))
    ref = np.array([numpy_cell(seq, w, 6.0, 4) for seq in x])
    trained_ab = dict(kwargs, trainable=["A", "B", "memory_kernel"], dt=1.0)
    assert np.allclose(run_lmu(trained_ab, x, "nengo"), ref, atol=1e-9)
    assert np.allclose(run_lmu(trained_ab, x, "nengo_dl"), ref, atol=1e-5)

    with nengo.Network() as net:
        lmu = LMU(**trained_ab)
    with nengo_dl.Simulator(net, dt=1.0, progress_bar=False) as sim:
        shapes = sorted(tuple(v.shape) for v in sim.keras_model.trainable_weights)
    assert shapes == [(5, 8), (8, 2), (8, 8)]
    assert lmu.memory is not lmu.memory_input

    with pytest.raises(ValidationError, match="needs the simulator's time step dt"):
        LMU(**dict(kwargs, trainable=["A"]))


def simulator(backend):
    if backend == "nengo":
        return nengo.Simulator
    return pytest.importorskip("nengo_dl").Simulator


@pytest.mark.usefixtures("restore_nengo_precision")
@pytest.mark.parametrize("backend", ["nengo", "nengo_dl"])
@pytest.mark.parametrize("trainable", [["A", "B"], ["theta"]])
def test_trainable_memory_refuses_another_dt(trainable, backend):
    """A, B or theta discretized at the LMU's dt are not simulated at another one."""
    with nengo.Network() as net:
        LMU(4, 3, 5.0, 1, trainable=trainable, dt=1.0, label="cell")
    Simulator = simulator(backend)
    with pytest.raises(ValidationError) as info:
        Simulator(net, dt=0.001, progress_bar=False)
    assert info.value.attr == "dt"
    assert "<LMU \"cell\"> was made for dt=1.0" in str(info.value)
    assert (
        "simulated with dt=0.001; make it with dt=0.001, or simulate with dt=1.0"
        in str(info.value)
    )
    with Simulator(net, dt=1.0, progress_bar=False):
        pass


@pytest.mark.usefixtures("restore_nengo_precision")
def test_failed_dl_build_keeps_nengo_precision():
    """A NengoDL build that raises inside `predict` leaves ``nengo.rc``'s float
    precision as it was (NengoDL 3.6 alone leaves its own float32 there)."""
    pytest.importorskip("nengo_dl")
    nengo.rc.set("precision", "bits", "64")
    net = SequenceClassifier(
        2, units=4, order=3, theta=5.0, input_d=1, trainable=["A"], dt=1.0
    )
    with pytest.raises(ValidationError, match="was made for dt=1.0"):
        predict(net, np.zeros((2, 3, 1)), dt=0.5)
    assert nengo.rc.get("precision", "bits") == "64"


@pytest.mark.parametrize("method", ["zoh", "euler"])
def test_trainable_theta_memory(method):
    """With theta trainable, the untrained network is the LMU cell (Euler or ZOH)."""
    rng = np.random.RandomState(5)
    w = random_weights(rng, 5, 4, 2, 2)
    kwargs = dict(
        units=5,
        order=4,
        theta=9.0,
        input_d=2,
        memory_d=2,
        method=method,
        trainable=["theta", "memory_kernel"],
        dt=1.0,
        **w,
    )
    x = rng.uniform(-1, 1, size=(2, 20, 2))
    ref = np.array([numpy_cell(seq, w, 9.0, 4, method=method) for seq in x])
    assert np.allclose(run_lmu(kwargs, x, "nengo"), ref, atol=1e-9)
    assert np.allclose(run_lmu(kwargs, x, "nengo_dl"), ref, atol=1e-5)
    for bad in (
        dict(method="bilinear"),
        dict(trainable=["theta", "A"]),
        dict(memory_system=LegendreDelay(9.0, 4)),
    ):
        with pytest.raises(ValidationError, match="trainable theta needs the Legendre"):
            LMU(**dict(kwargs, **bad))


def test_memory_of_neurons():
    """memory_network: the Legendre memory held by rate neurons (DelayNetwork) gives
    nearly the output of the ideal memory."""
    order, theta, dt = 4, 0.5, 0.001
    kwargs = delay_line_kwargs(order, theta)
    signal = nengo.processes.WhiteSignal(3.0, high=1.0, rms=0.3, seed=0)
    outputs = []
    for memory_network in (
        None,
        dict(
            n_neurons=100,
            neuron_type=nengo.RectifiedLinear(),
            input_high=1.0,
            input_rms=0.3,
        ),
    ):
        with nengo.Network(seed=0) as net:
            stim = nengo.Node(signal)
            lmu = LMU(memory_network=memory_network, dt=dt, **kwargs)
            nengo.Connection(stim, lmu.input, synapse=None)
            probe = nengo.Probe(lmu.output)
        with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
            sim.run(3.0)
        outputs.append(sim.data[probe][1000:, 0])
    ideal, neural = outputs
    assert nrmse(neural, ideal) < 0.05, nrmse(neural, ideal)  # measured: 0.008
    with pytest.raises(ValidationError, match="memory of neurons"):
        LMU(memory_network=dict(n_neurons=10), trainable=["A"], dt=dt, **kwargs)


@pytest.mark.parametrize(
    "neuron_type, dt, simulable",
    [
        (None, 0.02, False),  # the Ensemble default, nengo.LIF(tau_rc=0.02)
        (nengo.LIF(tau_rc=0.05), 0.05, False),  # a step equal to tau_rc
        (nengo.LIF(tau_rc=0.05), 0.01, True),
        (nengo.LIFRate(tau_rc=0.05), 0.1, True),  # rates do not depend on dt
    ],
)
def test_memory_of_neurons_time_step(neuron_type, dt, simulable):
    """memory_network refuses spiking neurons whose tau_rc is not above dt, with
    DelayNetwork's rule (`networks.simulable`), and takes rate neurons at any dt."""
    arguments = dict(n_neurons=20, dt=dt, calibrate=False)
    if neuron_type is not None:
        arguments["neuron_type"] = neuron_type
    kwargs = dict(delay_line_kwargs(2, 1.0), memory_network=arguments, dt=dt)
    if simulable:
        assert len(LMU(**kwargs).delay_networks) == 1
    else:
        with pytest.raises(ValidationError, match="not below their time constant"):
            LMU(**kwargs)
