"""The delay network of Voelker's 2019 thesis, Table 7.1, on the Loihi emulator and the
Nengo reference simulator (numbers quoted in docs/backends.md).

Run: ``python benchmarks/loihi_delay.py [--seconds T] [--seeds N] [--loop-delay K]
[--readout-lag K] [--intercept-max X] [--no-reference]``
(an environment with the ``loihi`` extra).

The benchmark: a delay of theta = 0.1 s, order 3, on band-limited white noise with a
3 Hz cutoff (RMS 0.5, `nengo.processes.WhiteSignal`'s default), 3 x 128 LIF neurons,
dt = 1 ms. The decoded u(t - theta) and the ideal delayed input are both filtered with
Lowpass(0.01); NRMSE after the first 2 theta. The thesis reports 0.146-0.153 on Loihi,
0.145-0.151 on the emulator, 0.055-0.059 on a CPU; the goal here is <= 0.075 on the
emulator and <= 0.03 on the reference simulator.

The reference simulator runs `nengo_lmu.DelayNetwork` (its defaults, with the same
neurons: `LOIHI_ENSEMBLES`, LIF at 100-120 Hz, intercepts up to ``--intercept-max``);
the emulator runs `nengo_lmu.backends.loihi.LoihiDelayNetwork` (the same system wired
for the chip).
"""

import argparse
import functools
import time

import nengo
import numpy as np

from nengo_lmu import DelayNetwork
from nengo_lmu.backends.loihi import (
    LOIHI_ENSEMBLES,
    LOOP_DELAY,
    READOUT_LAG,
    LoihiDelayNetwork,
)
from nengo_lmu.tasks import nrmse

THETA, ORDER, HIGH, N_NEURONS, DT = 0.1, 3, 3.0, 128, 0.001
SYNAPSE = 0.1
OUT_FILTER = nengo.Lowpass(0.01)


def run(simulator, seed, seconds, synapse, network):
    with nengo.Network(seed=seed) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(seconds, high=HIGH, seed=seed))
        delay = network(
            N_NEURONS, THETA, ORDER, synapse=synapse, input_high=HIGH, seed=seed
        )
        nengo.Connection(stim, delay.input, synapse=None)
        p_out = nengo.Probe(delay.output, synapse=OUT_FILTER)
        p_stim = nengo.Probe(stim, synapse=OUT_FILTER)
    with simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run(seconds)
    steps = int(round(THETA / DT))
    y, u = sim.data[p_out][:, 0], sim.data[p_stim][:, 0]
    return nrmse(y[2 * steps :], u[steps : len(u) - steps])


def main():
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--synapse", type=float, default=SYNAPSE)
    parser.add_argument("--loop-delay", type=int, default=LOOP_DELAY)
    parser.add_argument("--readout-lag", type=int, default=READOUT_LAG)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument(
        "--intercept-max",
        type=float,
        default=LOIHI_ENSEMBLES["intercepts"].high,
        help="the neurons' intercepts are Uniform(-1, this), in both networks",
    )
    args = parser.parse_args()

    def emulator(net, **kw):
        return nengo_loihi.Simulator(net, target="sim", remove_passthrough=False, **kw)

    print(
        f"delay network: theta={THETA}, order {ORDER}, {HIGH} Hz white noise, "
        f"{ORDER} x {N_NEURONS} LIF, synapse {args.synapse}, {args.seconds} s, "
        f"seeds 0-{args.seeds - 1}, intercepts Uniform(-1, {args.intercept_max})"
    )
    neurons = dict(
        LOIHI_ENSEMBLES, intercepts=nengo.dists.Uniform(-1, args.intercept_max)
    )
    reference = functools.partial(DelayNetwork, **neurons)
    runs = [
        ("DelayNetwork, reference simulator", nengo.Simulator, reference),
        (
            f"LoihiDelayNetwork(loop_delay={args.loop_delay}, "
            f"readout_lag={args.readout_lag}), Loihi emulator",
            emulator,
            functools.partial(
                LoihiDelayNetwork,
                loop_delay=args.loop_delay,
                readout_lag=args.readout_lag,
                **neurons,
            ),
        ),
    ][int(args.no_reference) :]
    for name, simulator, network in runs:
        start = time.time()
        errors = [
            run(simulator, seed, args.seconds, args.synapse, network)
            for seed in range(args.seeds)
        ]
        print(
            f"{name:64s} NRMSE {np.mean(errors):.4f} +- {np.std(errors):.4f} "
            f"(min {np.min(errors):.4f}, max {np.max(errors):.4f}; "
            f"{time.time() - start:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
