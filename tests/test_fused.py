"""The fused NengoDL builds of `LMU` (also with a spiking memory) and `Dense` against
their standard builds."""

import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf

from nengo_lmu import LMU, Dense, LegendreDelay, LegendreMemory, LinearSystem
from nengo_lmu.builders import SimDense, SimLMU
from nengo_lmu.compat import planned_operator_types
from nengo_lmu.hybrid import spiking_neurons
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.memory import LinearSystemState
from nengo_lmu.spiking_memory import SignedIntegrateFire
from nengo_lmu.train import predict
from reference import legendre_zoh, outputs_and_gradients, random_weights


def lmu_network(lmu_kwargs, input_d, with_readout=False):
    """stim -> LMU (-> Dense); probes the LMU's (or the readout's) output."""
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(np.zeros(input_d))
        lmu = LMU(**lmu_kwargs)
        nengo.Connection(stim, lmu.input, synapse=None)
        out = lmu.output
        if with_readout:
            readout = Dense(lmu.output.size_out, 3, bias=0.2)
            nengo.Connection(lmu.output, readout.input, synapse=None)
            out = readout.output
        probe = nengo.Probe(out)
    return net, stim, probe


def assert_fused_equals_standard(net, stim, probe, x, fused_ops=(SimLMU,)):
    out, grads, op_types = outputs_and_gradients(net, stim, x, fused=True)
    ref, ref_grads, ref_op_types = outputs_and_gradients(net, stim, x, fused=False)
    grads, ref_grads = list(grads.values()), list(ref_grads.values())
    assert set(fused_ops) <= op_types
    assert not {SimLMU, SimDense} & ref_op_types
    assert np.ptp(ref) > 0.1  # the output moves
    assert np.allclose(out, ref, atol=1e-5, rtol=0), np.abs(out - ref).max()
    assert len(grads) == len(ref_grads) > 0
    for grad, ref_grad in zip(grads, ref_grads):
        scale = max(np.abs(ref_grad).max(), 1.0)
        assert np.allclose(grad, ref_grad, atol=1e-5 * scale, rtol=0), np.abs(
            grad - ref_grad
        ).max()
    return ref_grads


rng = np.random.RandomState(0)
CONFIGS = {
    "paper cell": dict(units=5, order=4, theta=6.0, input_d=1),
    "all weights, memory_d 2": dict(
        units=5,
        order=4,
        theta=6.0,
        input_d=3,
        memory_d=2,
        **random_weights(rng, 5, 4, 3, 2),
    ),
    "relu, no hidden/memory encoders": dict(
        units=4,
        order=3,
        theta=5.0,
        input_d=2,
        hidden_neurons=nengo.RectifiedLinear(),
        hidden_encoders=None,
        memory_encoders=None,
        **random_weights(
            rng, 4, 3, 2, 1, ["input_encoders", "input_kernel", "hidden_kernel"]
        ),
        hidden_bias=0.2,
    ),
    "identity, no kernels on x and h": dict(
        units=4,
        order=3,
        theta=5.0,
        input_d=1,
        hidden_neurons=None,
        input_kernel=None,
        hidden_kernel=None,
        **random_weights(rng, 4, 3, 1, 1, ["memory_kernel", "hidden_encoders"]),
    ),
    "no input encoders or memory kernel": dict(
        units=4,
        order=3,
        theta=5.0,
        input_d=2,
        memory_d=2,
        input_encoders=None,
        memory_kernel=None,
        **random_weights(
            rng,
            4,
            3,
            2,
            2,
            ["hidden_encoders", "memory_encoders", "memory_bias", "input_kernel"],
        ),
    ),
    "sigmoid, some weights fixed": dict(
        units=4,
        order=3,
        theta=5.0,
        input_d=1,
        hidden_neurons=nengo.Sigmoid(tau_ref=1),
        **random_weights(rng, 4, 3, 1, 1),
        trainable=["memory_kernel", "hidden_bias"],
    ),
    "imported memory_system": dict(
        units=4,
        order=3,
        theta=5.0,
        input_d=1,
        memory_system=LegendreDelay(5.0, 3).discretize(1.0, method="bilinear"),
        memory_d=2,
        **random_weights(rng, 4, 3, 1, 2),
    ),
    "trainable A and B": dict(
        units=4,
        order=3,
        theta=5.0,
        input_d=2,
        memory_d=2,
        **random_weights(rng, 4, 3, 2, 2),
        trainable=["A", "B", "memory_kernel", "hidden_encoders"],
        dt=1.0,
    ),
    "trainable theta, euler": dict(
        units=4,
        order=3,
        theta=5.0,
        input_d=1,
        **random_weights(rng, 4, 3, 1, 1),
        trainable=["theta", "memory_kernel"],
        method="euler",
        dt=1.0,
    ),
    "trainable theta, zoh": dict(
        units=4,
        order=3,
        theta=5.0,
        input_d=2,
        memory_d=2,
        **random_weights(rng, 4, 3, 2, 2),
        trainable=["theta", "memory_kernel", "hidden_encoders"],
        dt=1.0,
    ),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_fused_lmu_matches_standard(name):
    kwargs = CONFIGS[name]
    x = np.random.RandomState(1).uniform(-1, 1, size=(3, 12, kwargs["input_d"]))
    grads = assert_fused_equals_standard(*lmu_network(kwargs, kwargs["input_d"]), x)
    assert any(np.abs(g).max() > 1e-3 for g in grads)  # something is trained


def test_fused_stacked_layers_with_readout():
    """Two fused LMUs and a fused Dense readout in a row."""
    rng = np.random.RandomState(2)
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(np.zeros(2))
        first = LMU(4, 3, 5.0, 2, **random_weights(rng, 4, 3, 2, 1))
        second = LMU(3, 5, 7.0, 4, hidden_bias=0.1)
        readout = Dense(3, 2)
        nengo.Connection(stim, first.input, synapse=None)
        nengo.Connection(first.output, second.input, synapse=None)
        nengo.Connection(second.output, readout.input, synapse=None)
        nengo.Connection(first.input, readout.input[:2], synapse=None)  # skip
        probe = nengo.Probe(readout.output)
    x = rng.uniform(-1, 1, size=(2, 15, 2))
    assert_fused_equals_standard(net, stim, probe, x, fused_ops=(SimLMU, SimDense))


@pytest.mark.filterwarnings("ignore:divide by zero")  # LIF rates at gain 1, bias 0
@pytest.mark.parametrize(
    "hidden_neurons",
    [nengo.LIF(), nengo.SpikingRectifiedLinear(), nengo.Tanh(tau_ref=0.5), tf.nn.relu],
)
def test_other_hidden_types(hidden_neurons):
    """Spiking and other neuron types, and TensorFlow functions, use the standard
    build, except Tanh with another tau_ref (fused as tanh(J) / tau_ref)."""
    kwargs = dict(units=4, order=3, theta=5.0, input_d=1, hidden_neurons=hidden_neurons)
    if isinstance(hidden_neurons, nengo.Tanh):
        x = np.random.RandomState(3).uniform(-1, 1, size=(2, 10, 1))
        assert_fused_equals_standard(*lmu_network(kwargs, 1), x)
        return
    net, _, _ = lmu_network(kwargs, 1)
    with nengo_dl.Simulator(net, dt=0.001, progress_bar=False) as sim:
        op_types = planned_operator_types(sim)
    assert SimLMU not in op_types


def find_lmu(net):
    return next(n for n in net.all_networks if isinstance(n, LMU))


# Changes inside an LMU that the fused build computes (the allow-list of
# `builders.build_lmu`); each is checked against the standard build.
SUPPORTED_CHANGES = {
    "new weight values": lambda lmu: setattr(
        lmu.weight_connections["hidden_kernel"],
        "transform",
        np.random.RandomState(6).uniform(-0.5, 0.5, size=(4, 4)),
    ),
    # freeze_params writes a 1 x 1 weight as a scalar: c I is the 1 x 1 matrix c
    "scalar on a 1 x 1 weight": lambda lmu: setattr(
        lmu.weight_connections["input_encoders"], "transform", 0.7
    ),
    "weight not trainable": lambda lmu: setattr(
        lmu.config[lmu.weight_connections["memory_kernel"]], "trainable", False
    ),
    "relu with amplitude": lambda lmu: setattr(
        lmu.hidden, "neuron_type", nengo.RectifiedLinear(amplitude=0.5)
    ),
    "sigmoid with tau_ref": lambda lmu: setattr(
        lmu.hidden, "neuron_type", nengo.Sigmoid(tau_ref=0.5)
    ),
    "another memory process": lambda lmu: setattr(
        lmu.memory, "output", LegendreMemory(8.0, 3, method="bilinear")
    ),
    "equal synapse, seeds, labels": lambda lmu: [
        setattr(lmu.weight_connections["hidden_kernel"], "synapse", nengo.Lowpass(0)),
        setattr(lmu.weight_connections["hidden_kernel"], "seed", 3),
        setattr(lmu.hidden, "seed", 4),
        setattr(lmu.hidden, "label", "changed"),
    ],
}

CHANGES_KWARGS = dict(
    units=4,
    order=3,
    theta=5.0,
    input_d=1,
    **random_weights(np.random.RandomState(7), 4, 3, 1, 1),
)


@pytest.mark.parametrize("change", list(SUPPORTED_CHANGES))
def test_supported_changes_stay_fused(change):
    """Each change of the allow-list keeps the fused build, with the standard build's
    outputs and gradients."""
    net, stim, probe = lmu_network(CHANGES_KWARGS, 1)
    SUPPORTED_CHANGES[change](find_lmu(net))
    x = np.random.RandomState(4).uniform(-1, 1, size=(2, 10, 1))
    assert_fused_equals_standard(net, stim, probe, x)


def connect_into_hidden(lmu, stim):
    nengo.Connection(stim, lmu.output, transform=np.ones((4, 1)))


def add_node(lmu, stim):
    with lmu:
        nengo.Node(size_in=1)


def sparse_memory_kernel(lmu, stim):
    conn = lmu.weight_connections["memory_kernel"]
    indices = np.array([[0, 0], [1, 2], [3, 1]])
    conn.transform = nengo.Sparse((4, 3), indices=indices, init=[0.5, -1.0, 2.0])


def train_hidden_bias(lmu, stim):
    lmu.config[lmu.hidden.neurons].trainable = True
    lmu.hidden.bias = nengo.dists.Choice([0.0])


# Changes outside the allow-list: each keeps the standard build.
REFUSED_CHANGES = {
    "probe the memory": lambda lmu, stim: nengo.Probe(lmu.memory),
    "connect into the hidden units": connect_into_hidden,
    "add an object": add_node,
    "filter a connection": lambda lmu, stim: setattr(
        lmu.weight_connections["input_kernel"], "synapse", nengo.Lowpass(2.0)
    ),
    "bias the hidden units": lambda lmu, stim: setattr(
        lmu.hidden, "bias", nengo.dists.Choice([0.5])
    ),
    "train the hidden bias": train_hidden_bias,
    "noise on the hidden units": lambda lmu, stim: setattr(
        lmu.hidden, "noise", nengo.processes.WhiteNoise(seed=1)
    ),
    "scalar transform (c I)": lambda lmu, stim: setattr(
        lmu.weight_connections["hidden_kernel"], "transform", 0.5
    ),
    "elementwise transform": lambda lmu, stim: setattr(
        lmu.weight_connections["hidden_kernel"], "transform", [0.5, -0.5, 1.0, 2.0]
    ),
    "sparse transform": sparse_memory_kernel,
    "function on a connection": lambda lmu, stim: setattr(
        lmu.weight_connections["memory_kernel"], "function", np.tanh
    ),
    "another constant": lambda lmu, stim: setattr(lmu.one, "output", [2.0]),
    "memory node a function": lambda lmu, stim: setattr(
        lmu.memory, "output", lambda t, u: np.tanh(u).repeat(3)
    ),
}


@pytest.mark.parametrize("change", list(REFUSED_CHANGES))
def test_other_changes_fall_back(change):
    """An LMU whose objects are accessed from outside or changed otherwise than the
    allow-list permits keeps the standard build (the readout is still fused), with
    the same results."""
    kwargs = dict(CHANGES_KWARGS, hidden_bias=0.0)
    net, stim, probe = lmu_network(kwargs, 1, with_readout=True)
    with net:
        REFUSED_CHANGES[change](find_lmu(net), stim)
    x = np.random.RandomState(4).uniform(-1, 1, size=(2, 10, 1))
    out, _, op_types = outputs_and_gradients(net, stim, x, fused=True)
    ref, _, _ = outputs_and_gradients(net, stim, x, fused=False)
    assert SimLMU not in op_types and SimDense in op_types
    assert np.ptp(ref) > 0.1
    assert np.allclose(out, ref, atol=1e-5), np.abs(out - ref).max()


def dense_network(size, change):
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(np.zeros(size))
        dense = Dense(size, size, kernel=0.6, bias=0.2)
        nengo.Connection(stim, dense.input, synapse=None)
        probe = nengo.Probe(dense.output)
        change(dense)
    return net, stim, probe


def test_dense_scalar_weights():
    """A 1 x 1 Dense with scalar weights (as freeze_params writes them) stays fused;
    a scalar kernel on a 3 x 3 Dense (0.5 I) keeps the standard build."""

    def scalars(dense):
        dense.kernel.transform, dense.bias.transform = -0.7, 0.3

    x = np.random.RandomState(8).uniform(-1, 1, size=(2, 5, 1))
    assert_fused_equals_standard(*dense_network(1, scalars), x, fused_ops=(SimDense,))

    def identity_times_half(dense):
        dense.kernel.transform = 0.5

    net, stim, _ = dense_network(3, identity_times_half)
    x = np.random.RandomState(8).uniform(-1, 1, size=(2, 5, 3))
    out, _, op_types = outputs_and_gradients(net, stim, x, fused=True)
    ref, _, _ = outputs_and_gradients(net, stim, x, fused=False)
    assert SimDense not in op_types
    assert np.allclose(out, 0.5 * x + 0.2, atol=1e-6) and np.allclose(out, ref)


def test_freeze_params_and_reference_simulator():
    """Trained (here: perturbed) weights of a fused build freeze into the Nengo objects
    and the reference simulator reproduces the fused NengoDL outputs."""
    rng = np.random.RandomState(5)
    net = SequenceClassifier(
        n_classes=3, units=5, order=4, theta=8.0, input_d=1, hidden_bias=0.0, seed=1
    )
    x = rng.uniform(-1, 1, size=(4, 12, 1)).astype(np.float32)
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=4, progress_bar=False) as sim:
        op_types = planned_operator_types(sim)
        for var in sim.keras_model.trainable_weights:
            var.assign_add(rng.uniform(-0.3, 0.3, size=var.shape))
        scores = sim.predict({net.input: x})[net.probe][:, -1]
        sim.freeze_params(net)
    assert {SimLMU, SimDense} <= op_types
    assert np.allclose(predict(net, x, backend="nengo"), scores, atol=1e-5)
    net.lmu.fused = net.readout.fused = False
    assert np.allclose(predict(net, x, minibatch_size=4), scores, atol=1e-5)


def spiking_memory_network(memory_d=1, spiking_hidden=True, whole_system=False, **kw):
    """stim -> an LMU with a spiking memory (float64); probes its output (first) and
    the memory's units."""
    rng = np.random.RandomState(10)
    units, order = 4, 3
    kwargs = dict(units=units, order=order, theta=5.0, input_d=2, memory_d=memory_d)
    kwargs.update(random_weights(rng, units, order, 2, memory_d), **kw)
    if whole_system:  # a discrete system of the whole memory, as after training A, B
        n = memory_d * order
        A, B = np.kron(np.eye(memory_d), legendre_zoh(5.0, order)[0]), rng.randn(n, 2)
        A += rng.uniform(-0.03, 0.03, size=A.shape)  # couples the memory signals
        kwargs["memory_system"] = LinearSystem(
            A, 0.3 * B, np.eye(n), np.zeros((n, 2)), False, 1.0
        )
    if spiking_hidden:
        kwargs["hidden_neurons"] = spiking_neurons(nengo.Tanh(tau_ref=1), 1.0)
    with nengo.Network(seed=0) as net:
        nengo_dl.configure_settings(dtype="float64")
        stim = nengo.Node(np.zeros(2))
        lmu = LMU(spiking_memory=dict(delta=0.03), dt=1.0, **kwargs)
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output)
        nengo.Probe(lmu.spiking_memory.neurons)
    return net, stim, probe


SPIKING_MEMORY_CONFIGS = {
    "spiking hidden, hidden and memory to memory": dict(),
    "rate hidden, memory_d 2": dict(memory_d=2, spiking_hidden=False),
    "no memory encoders, memory_d 2": dict(memory_d=2, memory_encoders=None),
    "whole-memory system, memory_d 2": dict(memory_d=2, whole_system=True),
}


def assert_spiking_fused_equals_standard(net, stim, x):
    """The same memory spikes and outputs (float64; spiking hidden units give the same
    spikes, rate ones their rates up to rounding), and equal gradients, fused or
    not; returns the gradients by connection."""
    outs, grads, op_types = outputs_and_gradients(net, stim, x, every_probe=True)
    refs, ref_grads, ref_op_types = outputs_and_gradients(
        net, stim, x, fused=False, every_probe=True
    )
    assert SimLMU in op_types and SimLMU not in ref_op_types
    for out, ref in zip(outs, refs):
        assert np.abs(ref).sum() > 0  # the units fire
        np.testing.assert_allclose(out, ref, atol=1e-12, rtol=0)  # rate h: rounding
    np.testing.assert_array_equal(outs[-1], refs[-1])  # the same memory spikes
    for conn, ref_grad in ref_grads.items():
        scale = max(np.abs(ref_grad).max(), 1.0)
        np.testing.assert_allclose(grads[conn], ref_grad, atol=1e-10 * scale, rtol=0)
    return ref_grads


@pytest.mark.parametrize("name", list(SPIKING_MEMORY_CONFIGS))
def test_fused_spiking_memory_matches_standard(name):
    """An LMU with a SpikingMemory fuses, with the standard build's spikes (hidden
    and memory units) and outputs, and its gradients, which reach the weights
    upstream of the memory through the units' straight-through floor."""
    net, stim, _ = spiking_memory_network(**SPIKING_MEMORY_CONFIGS[name])
    x = np.random.RandomState(11).uniform(-1, 1, size=(3, 15, 2))
    grads = assert_spiking_fused_equals_standard(net, stim, x)
    lmu = find_lmu(net)
    for name in ("input_encoders", "hidden_encoders", "memory_bias"):
        assert np.abs(grads[lmu.weight_connections[name]]).max() > 1e-6, name


def per_unit_gains(memory):
    memory.ensemble.gain = np.linspace(20.0, 40.0, memory.n_neurons)


SUPPORTED_MEMORY_CHANGES = {  # inside the SpikingMemory (see builders.build_lmu)
    "per-unit gains": per_unit_gains,
    "new recurrent weights": lambda memory: setattr(
        memory.recurrent_connection,
        "transform",
        np.random.RandomState(12).uniform(-0.1, 0.1, size=(3, 3)),
    ),
    "initial voltages": lambda memory: setattr(
        memory.ensemble,
        "neuron_type",
        SignedIntegrateFire(0.03, initial_state={"voltage": nengo.dists.Uniform(0, 1)}),
    ),
}


@pytest.mark.parametrize("change", list(SUPPORTED_MEMORY_CHANGES))
def test_supported_memory_changes_stay_fused(change):
    net, stim, _ = spiking_memory_network()
    SUPPORTED_MEMORY_CHANGES[change](find_lmu(net).spiking_memory)
    x = np.random.RandomState(13).uniform(-1, 1, size=(2, 12, 2))
    assert_spiking_fused_equals_standard(net, stim, x)


class OtherUnits(SignedIntegrateFire):
    """The same units under another type (not on the allow-list)."""


def inside_memory(memory, net):
    with memory:
        nengo.Node(size_in=1)


def read_memory_units(memory, net):
    with net:
        nengo.Connection(memory.neurons, nengo.Node(size_in=3), synapse=None)


def train_memory_bias(memory, net):
    memory.config[memory.ensemble].trainable = True


REFUSED_MEMORY_CHANGES = {
    "another unit type": lambda memory, net: setattr(
        memory.ensemble, "neuron_type", OtherUnits(amplitude=0.03)
    ),
    "bias on the units": lambda memory, net: setattr(
        memory.ensemble, "bias", nengo.dists.Choice([0.2])
    ),
    "train the units' bias": train_memory_bias,
    "noise on the units": lambda memory, net: setattr(
        memory.ensemble, "noise", nengo.processes.WhiteNoise(seed=1)
    ),
    "filter the recurrence": lambda memory, net: setattr(
        memory.recurrent_connection, "synapse", nengo.Lowpass(2.0)
    ),
    "a leaky state node": lambda memory, net: setattr(
        memory.output,
        "output",
        LinearSystemState(LinearSystem([[0.9]], [[1]], [[1]], 0, False, 1.0), 3),
    ),
    "an object inside": inside_memory,
    "a connection from the units": read_memory_units,
    "probe the voltages": lambda memory, net: nengo.Probe(memory.neurons, "voltage"),
}


@pytest.mark.filterwarnings("ignore:.*OtherUnits'> does not have a native")
@pytest.mark.parametrize("change", list(REFUSED_MEMORY_CHANGES))
def test_other_memory_changes_fall_back(change):
    """Changes to the SpikingMemory off the allow-list keep the standard build."""
    net, stim, _ = spiking_memory_network()
    with net:
        REFUSED_MEMORY_CHANGES[change](find_lmu(net).spiking_memory, net)
    x = np.random.RandomState(13).uniform(-1, 1, size=(2, 12, 2))
    out, _, op_types = outputs_and_gradients(net, stim, x)
    ref, _, _ = outputs_and_gradients(net, stim, x, fused=False)
    assert SimLMU not in op_types
    assert np.ptp(ref) > 0.1
    np.testing.assert_array_equal(out, ref)
