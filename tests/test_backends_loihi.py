"""nengo_lmu on nengo-loihi: `LoihiDelayNetwork` against `DelayNetwork`, and on the
Loihi emulator."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import DelayNetwork
from nengo_lmu.tasks import nrmse

nengo_loihi = pytest.importorskip("nengo_loihi", reason="needs nengo-loihi ('loihi')")
from nengo_lmu.backends.loihi import LoihiDelayNetwork  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

THETA, ORDER, DT = 0.1, 3, 0.001


def delayed(make, simulator, seconds=1.0, **kwargs):
    """NRMSE of the network's u(t - theta) on 3 Hz white noise; and its output."""
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(seconds, high=3, seed=0))
        delay = make(40, THETA, ORDER, input_high=3, seed=1, **kwargs)
        nengo.Connection(stim, delay.input, synapse=None)
        p_out = nengo.Probe(delay.output, synapse=0.01)
        p_in = nengo.Probe(stim, synapse=0.01)
    with simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run(seconds)
    steps = int(round(THETA / DT))
    y, u = sim.data[p_out][2 * steps :, 0], sim.data[p_in][steps:-steps, 0]
    return nrmse(y, u), sim.data[p_out]


def test_same_system_as_delay_network():
    """Wired without the state node (and with the input split in parts), the network
    computes what DelayNetwork does when no loop delay is added."""
    kwargs = dict(neuron_type=nengo.LIFRate(), max_rates=nengo.dists.Uniform(100, 120))
    _, ref = delayed(DelayNetwork, nengo.Simulator, calibrate=False, **kwargs)
    error, out = delayed(LoihiDelayNetwork, nengo.Simulator, loop_delay=0, **kwargs)
    assert np.max(np.abs(out - ref)) < 0.02 * np.max(np.abs(ref))
    assert error < 0.1


def test_runs_on_the_emulator():
    """The delay reaches the output on the emulator (before: it decoded 0, NRMSE 1);
    the accuracy goal is not met yet (see benchmarks/loihi_delay.py)."""

    def emulator(net, **kwargs):
        return nengo_loihi.Simulator(
            net, target="sim", remove_passthrough=False, **kwargs
        )

    error, _ = delayed(LoihiDelayNetwork, emulator)
    assert error < 0.9


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValidationError, match="Lowpass"):
        LoihiDelayNetwork(10, THETA, ORDER, synapse=nengo.Alpha(0.1))
    with pytest.raises(ValidationError, match="integer >= 0"):
        LoihiDelayNetwork(10, THETA, ORDER, loop_delay=-1)
