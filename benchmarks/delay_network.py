"""Spiking Legendre delay networks: nengo_lmu.DelayNetwork against nengolib-style and
plain Nengo networks (numbers quoted in README).

Run: ``.venv/bin/python benchmarks/delay_network.py`` (10-15 minutes on 2 cores).
Prints the table and writes ``benchmarks/results/delay_network_curve.png``.
``--delay-network-rows`` prints only the ideal memory and the table's
``nengo_lmu.DelayNetwork`` rows (no baselines, no curve).

The benchmark (issue 3): delay by theta = 1 s, order 6, band-limited white noise with a
1 Hz cutoff and RMS 0.3, 100 neurons per dimension with max rates U(100, 120) Hz,
synapse Lowpass(0.1), dt = 1 ms, 20 s; the decoded and the ideal delayed signals are
both filtered with Lowpass(0.01); NRMSE after the first 2 theta; mean and standard
deviation over seeds 0-4 (seed s is the seed of the input signal and of the network).

The nengolib-style and plain networks are built here from plain Nengo objects (an
`EnsembleArray` whose decoded state feeds back through the synapse with the discrete
Lowpass mapping of Principle 3, its output decoded from the ensembles); they share no
code with `nengo_lmu.DelayNetwork`.
"""

import pathlib
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nengo  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.signal  # noqa: E402

import nengo_lmu  # noqa: E402
from nengo_lmu.networks import DelayNetwork  # noqa: E402
from nengo_lmu.tasks import nrmse  # noqa: E402

ORDER, THETA, HIGH, RMS = 6, 1.0, 1.0, 0.3
N_NEURONS, MAX_RATES = 100, nengo.dists.Uniform(100, 120)
TAU, DT, T_SIM = 0.1, 0.001, 20.0
OUT_FILTER = nengo.Lowpass(0.01)
SEEDS = range(5)
CURVE_NEURONS, CURVE_SEEDS = (25, 50, 100, 200, 400, 800), range(3)
NEURON_TYPES = {
    "RectifiedLinear (rate)": nengo.RectifiedLinear(),
    "SpikingRectifiedLinear": nengo.SpikingRectifiedLinear(),
    "LIF": nengo.LIF(),
}
RESULTS = pathlib.Path(__file__).parent / "results"


def input_signal(seed):
    return nengo.processes.WhiteSignal(T_SIM, high=HIGH, rms=RMS, seed=seed)


def balanced_white_noise(A, B, C):
    """Square-root balanced realization for white-noise input (nengolib's Balanced)."""
    Lc = np.linalg.cholesky(scipy.linalg.solve_continuous_lyapunov(A, -B.dot(B.T)))
    Lo = np.linalg.cholesky(scipy.linalg.solve_continuous_lyapunov(A.T, -C.T.dot(C)))
    U, s, _ = np.linalg.svd(Lo.T.dot(Lc))
    T = (U / np.sqrt(s)).T.dot(Lo.T)
    return T, np.linalg.inv(T)


def ensemble_array_delay(T, Tinv, radii, neuron_type, n_neurons):
    """Legendre delay in coordinates ``T m / radii`` on an EnsembleArray, with the
    discrete Lowpass mapping A_H = (Ad - a I) / (1 - a), B_H = Bd / (1 - a)."""
    A, B, C, _ = nengo_lmu.LegendreDelay(THETA, ORDER).ss
    S, Sinv = np.diag(1 / radii).dot(T), Tinv.dot(np.diag(radii))
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete(
        (S.dot(A).dot(Sinv), S.dot(B), C.dot(Sinv), 0), DT, method="zoh"
    )
    a = np.exp(-DT / TAU)
    inp, out = nengo.Node(size_in=1), nengo.Node(size_in=1)
    ea = nengo.networks.EnsembleArray(
        n_neurons, ORDER, neuron_type=neuron_type, max_rates=MAX_RATES
    )
    nengo.Connection(
        ea.output, ea.input, transform=(Ad - a * np.eye(ORDER)) / (1 - a), synapse=TAU
    )
    nengo.Connection(inp, ea.input, transform=Bd / (1 - a), synapse=TAU)
    nengo.Connection(ea.output, out, transform=C.dot(Sinv), synapse=None)
    return inp, out


def ideal_state_max(T, seed):
    """Per-dimension max |state| of the ideal system in coordinates ``T m`` for the
    input of ``seed`` (radii "fitted by hand to this input's state response")."""
    u = input_signal(seed).run(T_SIM, dt=DT)
    m = nengo_lmu.LegendreMemory(THETA, ORDER).apply(u, dt=DT)
    return np.max(np.abs(m.dot(T.T)), axis=0)


def nengolib_style(radii_fitted):
    def make(neuron_type, n_neurons, seed):
        A, B, C, _ = nengo_lmu.LegendreDelay(THETA, ORDER).ss
        T, Tinv = balanced_white_noise(A, B, C)
        radii = ideal_state_max(T, seed) if radii_fitted else np.ones(ORDER)
        return ensemble_array_delay(T, Tinv, radii, neuron_type, n_neurons)

    return make


def plain_ensemble_array(neuron_type, n_neurons, seed):
    eye = np.eye(ORDER)
    radii = ideal_state_max(eye, seed)
    return ensemble_array_delay(eye, eye, radii, neuron_type, n_neurons)


def benchmark_delay_network(neuron_type, n_neurons, **kwargs):
    return DelayNetwork(
        n_neurons,
        THETA,
        ORDER,
        synapse=nengo.Lowpass(TAU),
        dt=DT,
        input_high=HIGH,
        input_rms=RMS,
        neuron_type=neuron_type,
        max_rates=MAX_RATES,
        **kwargs,
    )


def delay_network(**kwargs):
    def make(neuron_type, n_neurons, seed):
        net = benchmark_delay_network(neuron_type, n_neurons, **kwargs)
        return net.input, net.output

    return make


def delay_network_spike_readout(neuron_type, n_neurons, seed):
    """DelayNetwork defaults, but u(t - theta) decoded from the ensembles' spikes."""
    net = benchmark_delay_network(neuron_type, n_neurons)
    out = nengo.Node(size_in=1)
    for k, ens in enumerate(net.state_ensembles):
        nengo.Connection(
            ens, out, transform=net.system.C[:, [k]], synapse=None, solver=net.solver
        )
    return net.input, out


def ideal_memory(neuron_type, n_neurons, seed):
    inp, out = nengo.Node(size_in=1), nengo.Node(size_in=1)
    nengo.Connection(inp, out, synapse=nengo_lmu.LegendreDelay(THETA, ORDER))
    return inp, out


def run(make, neuron_type, seed, n_neurons=N_NEURONS):
    """NRMSE of the decoded u(t - theta) after 2 theta, both filtered by OUT_FILTER."""
    with nengo.Network(seed=seed) as net:
        stim = nengo.Node(input_signal(seed))
        inp, out = make(neuron_type, n_neurons, seed)
        nengo.Connection(stim, inp, synapse=None)
        p_out = nengo.Probe(out, synapse=OUT_FILTER)
        p_stim = nengo.Probe(stim, synapse=OUT_FILTER)
    with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run(T_SIM)
    steps = int(round(THETA / DT))
    y, u = sim.data[p_out][:, 0], sim.data[p_stim][:, 0]
    return nrmse(y[2 * steps :], u[steps : len(u) - steps])


VARIANTS = {
    "nengolib-style: balanced, radii 1": nengolib_style(False),
    "nengolib-style: balanced, radii fitted to the input": nengolib_style(True),
    "plain EnsembleArray, scaled from the ideal state": plain_ensemble_array,
    "nengo_lmu.DelayNetwork (defaults)": delay_network(),
    "  ... with calibrate=False (no neuron lead)": delay_network(calibrate=False),
    "  ... with Nengo's default solver, LstsqL2(reg=0.1)": delay_network(
        solver=nengo.solvers.LstsqL2(reg=0.1)
    ),
    "  ... with realization='legendre'": delay_network(realization="legendre"),
    "  ... with realization='balanced'": delay_network(realization="balanced"),
    "  ... reading u(t - theta) from the decoded spikes": delay_network_spike_readout,
}


def is_delay_network_row(label):
    return "DelayNetwork" in label or label.startswith("  ...")


def table(delay_network_rows_only=False):
    ideal = [run(ideal_memory, None, seed) for seed in SEEDS]
    print(
        f"ideal order-{ORDER} memory (LegendreDelay synapse, no neurons): NRMSE "
        f"{np.mean(ideal):.4f} +- {np.std(ideal):.4f}"
    )
    names = list(NEURON_TYPES)
    print(f"NRMSE, mean +- std over seeds {SEEDS.start}-{SEEDS.stop - 1}:")
    print(f"{'network':52s}" + "".join(f"{name:>25s}" for name in names))
    for label, make in VARIANTS.items():
        if delay_network_rows_only and not is_delay_network_row(label):
            continue
        cells = []
        for neuron_type in NEURON_TYPES.values():
            errors = [run(make, neuron_type, seed) for seed in SEEDS]
            cells.append(f"{np.mean(errors):.4f} +- {np.std(errors):.4f}")
        print(f"{label:52s}" + "".join(f"{cell:>25s}" for cell in cells), flush=True)
    return np.mean(ideal)


def curve(ideal):
    print(
        f"\nNRMSE vs neurons per dimension (mean +- std over seeds "
        f"{CURVE_SEEDS.start}-{CURVE_SEEDS.stop - 1}):"
    )
    curves = {
        "nengo_lmu.DelayNetwork": delay_network(),
        "nengolib-style, radii fitted": nengolib_style(radii_fitted=True),
    }
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.axhline(ideal, color="gray", linestyle=":", label=f"ideal order-{ORDER} memory")
    for (label, make), style in zip(curves.items(), ("-", "--")):
        for (name, neuron_type), color in zip(NEURON_TYPES.items(), "C0 C1 C2".split()):
            errors = np.array(
                [
                    [run(make, neuron_type, seed, n_neurons=n) for seed in CURVE_SEEDS]
                    for n in CURVE_NEURONS
                ]
            )
            points = (
                f"{n}: {e.mean():.4f} +- {e.std():.4f}"
                for n, e in zip(CURVE_NEURONS, errors)
            )
            print(f"  {label}, {name}: " + ", ".join(points), flush=True)
            ax.errorbar(
                CURVE_NEURONS,
                errors.mean(1),
                yerr=errors.std(1),
                fmt=style,
                marker="o",
                color=color,
                label=f"{label}, {name}",
                capsize=2,
            )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="neurons per dimension",
        ylabel="NRMSE",
        title=f"Delay of {THETA:g} s, order {ORDER}, {HIGH:g} Hz white noise "
        f"(mean and std, {len(CURVE_SEEDS)} seeds)",
    )
    ax.set_xticks(CURVE_NEURONS, [str(n) for n in CURVE_NEURONS])
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "delay_network_curve.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path.relative_to(pathlib.Path(__file__).parent.parent)}")


if __name__ == "__main__":
    start = time.time()
    if "--delay-network-rows" in sys.argv:  # the nengo_lmu.DelayNetwork rows only
        table(delay_network_rows_only=True)
    else:
        curve(table())
    print(f"({time.time() - start:.0f} s)")
