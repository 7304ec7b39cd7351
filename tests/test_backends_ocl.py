"""nengo_lmu on nengo-ocl (OpenCL) against the reference simulator and float64 numpy.

All of nengo-ocl computes in float32: its results match within a few float32
roundings per step, which accumulate over a run (tolerances below, relative to the
signal's peak).
"""

import nengo
import numpy as np
import pytest
from nengo.exceptions import BuildError

from nengo_lmu import DelayNetwork, LegendreDelay, LegendreMemory, LinearSystem
from nengo_lmu.hybrid import spiking_neurons
from nengo_lmu.lmu import LMU
from reference import numpy_cell, random_weights

cl = pytest.importorskip("pyopencl", reason="nengo-ocl needs pyopencl (extra 'ocl')")
ocl = pytest.importorskip("nengo_lmu.backends.ocl", reason="needs nengo-ocl ('ocl')")
try:
    cl.get_platforms()
except cl.Error:  # pragma: no cover
    pytest.skip(
        "no OpenCL driver: apt-get install pocl-opencl-icd ocl-icd-libopencl1",
        allow_module_level=True,
    )

pytestmark = [
    pytest.mark.filterwarnings("ignore:This version of `nengo_ocl`"),
    pytest.mark.filterwarnings("ignore:The .device_offset. argument"),
]


def run(net, simulator, probes, steps, dt=0.001):
    with simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(steps)
    return [sim.data[p] for p in probes]


def relative_error(x, ref):
    return np.max(np.abs(x - ref)) / np.max(np.abs(ref))


def white_noise_net(d=3, seed=0):
    net = nengo.Network(seed=seed)
    with net:
        stim = nengo.Node(nengo.processes.WhiteSignal(1.0, high=5, seed=1), size_out=1)
        u = nengo.Node(size_in=d)
        nengo.Connection(stim, u, transform=np.linspace(-1, 1, d)[:, None])
    return net, u


@pytest.mark.parametrize("order", [6, 300])  # 300: more states than work items
def test_linear_system_synapses_and_memory_match_reference(order):
    legendre = LegendreDelay(0.1, order)
    feedthrough = LinearSystem(legendre.A, legendre.B, np.ones((1, order)), 0.5)
    net, u = white_noise_net()
    with net:
        memory = nengo.Node(LegendreMemory(0.1, order, size_in=3))
        nengo.Connection(u, memory, synapse=None)
        probes = [
            nengo.Probe(u, synapse=legendre),  # y = C x (D = 0), mode "update"
            nengo.Probe(u, synapse=feedthrough),  # y = C x + D u
            nengo.Probe(memory),  # the state as output, mode "set"
        ]
    ref = run(net, nengo.Simulator, probes, 1000)
    out = run(net, ocl.Simulator, probes, 1000)
    for x, r in zip(out, ref):
        assert x.shape == r.shape
        assert relative_error(x, r) < (1e-5 if order < 10 else 1e-4)


def test_lmu_matches_numpy_cell():
    """A tanh LMU (hidden Tanh neurons, planned in OpenCL too) at dt = 1."""
    rng = np.random.RandomState(0)
    units, order, theta, input_d, memory_d = 5, 4, 6.0, 3, 2
    w = random_weights(rng, units, order, input_d, memory_d)
    x = rng.uniform(-1, 1, size=(25, input_d))
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.PresentInput(x, presentation_time=1.0))
        lmu = LMU(units, order, theta, input_d, memory_d=memory_d, **w)
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output)
    (h,) = run(net, ocl.Simulator, [probe], len(x), dt=1.0)
    assert np.allclose(h, numpy_cell(x, w, theta, order), atol=1e-5)


def test_regular_spiking_lmu_matches_reference():
    """Regular-spiking tanh units (the hybrid LMU's) give the reference's spikes."""
    rng = np.random.RandomState(1)
    units, order, theta = 8, 4, 8.0
    w = random_weights(rng, units, order, 1, 1, scale=0.8)
    x = rng.uniform(-1, 1, size=(40, 1))
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.PresentInput(x, presentation_time=1.0))
        neurons = spiking_neurons(nengo.Tanh(tau_ref=1), 1.0, k=3, rate_scale=0.7)
        lmu = LMU(units, order, theta, 1, hidden_neurons=neurons, **w)
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output)
    (ref,) = run(net, nengo.Simulator, [probe], len(x), dt=1.0)
    (out,) = run(net, ocl.Simulator, [probe], len(x), dt=1.0)
    assert len(np.unique(ref)) > 2
    # float32 can move a spike across a step when the voltage is within ~1e-6 of an
    # integer: allow 1 % of the unit-steps to differ
    assert np.mean(~np.isclose(out, ref, atol=1e-4)) < 0.01


@pytest.mark.parametrize("neuron_type", [nengo.LIFRate(), nengo.LIF()])
def test_delay_network_matches_reference(neuron_type):
    net, u = white_noise_net(d=1)
    with net:
        delay = DelayNetwork(
            40, 0.1, 3, neuron_type=neuron_type, calibrate=False, seed=2
        )
        nengo.Connection(u, delay.input, synapse=None)
        probes = [nengo.Probe(delay.output), nengo.Probe(u, synapse=None)]
    (ref, u_ref), (out, _) = run(net, nengo.Simulator, probes, 1000), run(
        net, ocl.Simulator, probes, 1000
    )
    if not neuron_type.spiking:  # (nengo.LIF is a subclass of nengo.LIFRate)
        assert relative_error(out, ref) < 1e-3
    else:  # spikes differ in float32; the delay's accuracy does not
        target = np.roll(u_ref, 100, axis=0)[200:]
        nrmse = [np.sqrt(np.mean((y[200:] - target) ** 2)) / np.std(target)
                 for y in (out, ref)]
        assert abs(nrmse[0] - nrmse[1]) < 0.05, nrmse


def test_theta_input_is_a_clear_error():
    with nengo.Network() as net:
        stim = nengo.Node([0.5, 0.01])
        memory = nengo.Node(LegendreMemory(100, 4, theta_input=True))
        nengo.Connection(stim, memory, synapse=None)
    with pytest.raises(BuildError, match="theta input"):
        ocl.Simulator(net, dt=1.0, progress_bar=False)
