"""nengo_lmu on nengo-loihi: `LoihiDelayNetwork` on the Loihi emulator, its input
filters, and the parts that cannot go on the chip."""

import nengo
import numpy as np
import pytest
import scipy.signal
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu.spiking_memory import SpikingMemory
from nengo_lmu.tasks import nrmse

nengo_loihi = pytest.importorskip("nengo_loihi", reason="needs nengo-loihi ('loihi')")
from nengo_lmu.backends.loihi import LoihiDelayNetwork  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

THETA, ORDER, DT = 0.1, 3, 0.001


def emulator(net, **kwargs):
    return nengo_loihi.Simulator(net, target="sim", remove_passthrough=False, **kwargs)


def delayed(simulator, seconds=2.0, **kwargs):
    """NRMSE of u(t - theta) from a small LoihiDelayNetwork on 3 Hz white noise."""
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(seconds, high=3, seed=0))
        delay = LoihiDelayNetwork(64, THETA, ORDER, input_high=3, seed=1, **kwargs)
        nengo.Connection(stim, delay.input, synapse=None)
        p_out = nengo.Probe(delay.output, synapse=0.01)
        p_in = nengo.Probe(stim, synapse=0.01)
    with simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run(seconds)
    steps = int(round(THETA / DT))
    return nrmse(sim.data[p_out][2 * steps :, 0], sim.data[p_in][steps:-steps, 0])


def test_delays_on_the_emulator():
    """3 x 64 neurons on the emulator delay the input: NRMSE 0.085 here, and 0.126
    without the readout aligned with the chip's lag (readout_lag=0). 0.15 leaves a
    margin of 1.8 on the first and is half of what 3 x 128 neurons reached when the
    host filtered the input before the chip's synapse filtered it again (0.35)."""
    error = delayed(emulator)
    assert error < 0.15
    assert delayed(emulator, readout_lag=0) > 1.2 * error


def transfer(filt, x):
    """``x`` through the transfer function ``num(z) / den(z)`` of a discrete
    `nengo.LinearFilter` (scipy; None is 1)."""
    if filt is None:
        return x
    num, den = filt.num, filt.den
    return scipy.signal.lfilter(np.r_[np.zeros(len(den) - len(num)), num], den, x)


@pytest.mark.parametrize("loop_delay", [0, 1, 3])
def test_host_part_times_synapse_is_input_filter(loop_delay):
    """The host part of each input filter followed by the chip's synapse (a spike of
    step t - 1 in the current of step t: ``(1 - a) / (z - a)``) is the filter."""
    net = LoihiDelayNetwork(4, THETA, ORDER, loop_delay=loop_delay, seed=0)
    a = np.exp(-DT / net.synapse.tau)
    impulse = np.eye(1, 200)[0]
    for filt, host in zip(net.input_filters, net.chip_input_filters):
        chip = scipy.signal.lfilter([0, 1 - a], [1, -a], transfer(host, impulse))
        assert np.allclose(chip, transfer(filt, impulse), atol=1e-12)
    assert (net.chip_input_filters[0] is None) == (loop_delay == 0)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValidationError, match="Lowpass"):
        LoihiDelayNetwork(10, THETA, ORDER, synapse=nengo.Alpha(0.1))
    for attr in ["loop_delay", "readout_lag"]:
        with pytest.raises(ValidationError, match="integer >= 0"):
            LoihiDelayNetwork(10, THETA, ORDER, **{attr: -1})


def test_spiking_memory_is_one_clear_error():
    """The fully spiking memory's units (many signed spikes per step, subtractive
    reset, an integrating synapse) are no Loihi neuron: nengo-loihi names them."""
    with nengo.Network() as net:
        memory = SpikingMemory(0.99 * np.eye(2), np.ones((2, 1)), 0.01, DT)
        nengo.Connection(nengo.Node(1.0), memory.input, synapse=None)
    with pytest.raises(BuildError, match="SignedIntegrateFire.*cannot be simulated"):
        emulator(net)
