"""Tasks: signals, targets and metrics for the experiments nengo_lmu runs."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.systems import LegendreDelay


def nrmse(actual, target):
    """Root-mean-square error normalized by the RMS of ``target`` (as in nengolib)."""
    actual, target = np.asarray(actual), np.asarray(target)
    return np.sqrt(np.mean((actual - target) ** 2)) / np.sqrt(np.mean(target**2))


def run_delay(order=6, theta=1.0, t=10.0, dt=0.001, high=1.0, rms=0.3, seed=0):
    """Delay band-limited white noise with a `.LegendreDelay` synapse in Nengo.

    Builds ``input -> output`` with ``synapse=LegendreDelay(theta, order)`` and runs it
    on the Nengo reference simulator.

    Parameters
    ----------
    order, theta : int, float
        The Legendre delay system.
    t, dt : float
        Simulated time and time step (seconds).
    high, rms : float
        Cutoff frequency (Hz) and RMS of the white-noise input.
    seed : int
        Seed of the input signal.

    Returns
    -------
    dict
        ``t``, ``input``, ``ideal`` (the input delayed by ``theta``), ``decoded``
        (the synapse's output), and ``nrmse`` of ``decoded`` against ``ideal``
        after a transient of ``2 * theta``.
    """
    if not t > 2 * theta:
        raise ValidationError(
            f"Must be longer than the 2 * theta = {2 * theta} s transient that is left "
            f"out of the NRMSE (got t={t})",
            attr="t",
        )
    with nengo.Network(label="delay") as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(t, high=high, rms=rms, seed=seed))
        out = nengo.Node(size_in=1)
        nengo.Connection(stim, out, synapse=LegendreDelay(theta, order))
        p_in, p_out = nengo.Probe(stim), nengo.Probe(out)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(t)
    u, y = sim.data[p_in][:, 0], sim.data[p_out][:, 0]
    steps = int(round(theta / dt))
    ideal = np.concatenate([np.full(steps, np.nan), u[:-steps]])
    start = int(round(2 * theta / dt))
    return {
        "t": sim.trange(),
        "input": u,
        "ideal": ideal,
        "decoded": y,
        "nrmse": nrmse(y[start:], ideal[start:]),
    }
