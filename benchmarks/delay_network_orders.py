"""DelayNetwork at high order: construction, conditioning, and the choice of realization
(numbers quoted in docs/delay-network.md).

Run: ``.venv/bin/python benchmarks/delay_network_orders.py [construction] [accuracy]``
(both parts by default; about 10 minutes on 2 idle cores, much longer when they are
shared).

1. Construction (theta = 1 s, dt = 1 ms, the default input class: white noise up to
   1 / theta Hz; ``calibrate=False``, so this is the realization and the Principle-3
   mapping, without the neurons' lead measurement): wall-clock time and the process's
   CPU time (all threads; on shared cores the wall-clock time is mostly waiting),
   ``cond(T)``, how far
   ``T T^-1`` is from the identity, and the largest relative error of the realized
   system's frequency response against the `LegendreDelay`'s (0.1, 1, 10 Hz).
2. Accuracy at order 32 by realization, sized to run on busy cores: theta = 1 s, 50
   rate neurons (RectifiedLinear) per dimension with max rates U(100, 120) Hz,
   Lowpass(0.1), ``calibrate=False`` (the lead of rate neurons is about 0), white
   noise (RMS 0.3) up to 1 Hz (the default input class) or up to
   order / (2 pi theta) = 5.1 Hz (about the band an order-32 memory delays well),
   5 s; NRMSE of u(t - theta) after 2 theta, both filtered by Lowpass(0.01), as in
   ``benchmarks/delay_network.py``; mean and std over seeds 0-1.
"""

import sys
import time

import nengo
import numpy as np

import nengo_lmu
from nengo_lmu.networks import REALIZATIONS, DelayNetwork
from nengo_lmu.tasks import nrmse

THETA, DT = 1.0, 0.001
ORDERS = {32: REALIZATIONS, 256: REALIZATIONS, 1024: ("minimum-noise",)}
ACCURACY_ORDER, N_NEURONS, SEEDS, T_SIM = 32, 50, range(2), 5.0


def frequency_response_error(system, order, f=(0.1, 1.0, 10.0)):
    reference = nengo_lmu.LegendreDelay(THETA, order)
    responses = [
        [C @ np.linalg.solve(2j * np.pi * fk * np.eye(order) - A, B) + D for fk in f]
        for A, B, C, D in (reference.ss, system.ss)
    ]
    ref, got = np.ravel(responses[0]), np.ravel(responses[1])
    return np.max(np.abs(got - ref) / np.abs(ref))


def construction():
    print("construction (calibrate=False, default input class):")
    for order, realizations in ORDERS.items():
        for realization in realizations:
            start, cpu = time.perf_counter(), time.process_time()
            with nengo.Network():
                dn = DelayNetwork(
                    10, THETA, order, realization=realization, calibrate=False
                )
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            T, Tinv = dn.transform, dn.transform_inverse
            identity_error = np.max(np.abs(T @ Tinv - np.eye(order)))
            response_error = frequency_response_error(dn.system, order)
            print(
                f"  order {order:4d}, {realization:13s}: {elapsed:6.1f} s "
                f"({cpu:6.1f} s CPU), "
                f"cond(T) {np.linalg.cond(T):8.3g}, max |T T^-1 - I| "
                f"{identity_error:.1e}, frequency response error {response_error:.1e}",
                flush=True,
            )


def delay_nrmse(realization, high, seed):
    with nengo.Network(seed=seed) as net:
        signal = nengo.processes.WhiteSignal(T_SIM, high=high, rms=0.3, seed=seed)
        stim = nengo.Node(signal)
        dn = DelayNetwork(
            N_NEURONS,
            THETA,
            ACCURACY_ORDER,
            synapse=nengo.Lowpass(0.1),
            dt=DT,
            input_high=high,
            input_rms=0.3,
            realization=realization,
            calibrate=False,
            neuron_type=nengo.RectifiedLinear(),
            max_rates=nengo.dists.Uniform(100, 120),
        )
        nengo.Connection(stim, dn.input, synapse=None)
        p_out = nengo.Probe(dn.output, synapse=0.01)
        p_stim = nengo.Probe(stim, synapse=0.01)
    with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run(T_SIM)
    steps = int(round(THETA / DT))
    y, u = sim.data[p_out][:, 0], sim.data[p_stim][:, 0]
    return nrmse(y[2 * steps :], u[steps : len(u) - steps])


def accuracy():
    highs = (1.0 / THETA, ACCURACY_ORDER / (2 * np.pi * THETA))
    print(
        f"\norder {ACCURACY_ORDER}, rate neurons, NRMSE of u(t - theta), mean +- std "
        f"over seeds {SEEDS.start}-{SEEDS.stop - 1}:"
    )
    header = "".join(f"{f'input up to {h:.2f} Hz':>26s}" for h in highs)
    print(f"{'realization':15s}{header}")
    for realization in REALIZATIONS:
        cells = []
        for high in highs:
            errors = [delay_nrmse(realization, high, seed) for seed in SEEDS]
            cells.append(f"{np.mean(errors):.4f} +- {np.std(errors):.4f}")
        print(f"{realization:15s}" + "".join(f"{c:>26s}" for c in cells), flush=True)


if __name__ == "__main__":
    start = time.time()
    parts = sys.argv[1:] or ["construction", "accuracy"]
    for part in parts:
        {"construction": construction, "accuracy": accuracy}[part]()
    print(f"({time.time() - start:.0f} s)")
