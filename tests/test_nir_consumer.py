"""An exported NIR graph run in an independent NIR consumer: Norse, through nirtorch.

Norse (with torch) cannot live next to the pinned TensorFlow 2.12 stack (torch 2.13 needs
typing_extensions >= 4.10), so it has its own environment, ``.venv-nir``, which ``make
test`` builds from ``tests/nir_consumer/requirements.txt``; the graph goes to it as a
``.nir`` file and its output comes back as a ``.npy`` file (``tests/nir_consumer/
run_norse.py``). Outside CI the test skips where that environment is missing.

What Norse 1.1.0 runs: Affine, Linear, IF, LIF and CubaLIF nodes (forward Euler at its
``dt``, a spike is 1 for one step, reset to ``v_reset``); it has no I or LI node (they
import as nothing), so the exported LMU graphs (I nodes) do not run there and the
delay network's decoded output (an LI node) is computed here from Norse's spikes. The
graph's spike edges are scaled by ``1 / dt`` for Norse: a NIR spike is a unit impulse,
Norse's is 1 for one step (an integral of ``dt``).
"""

import os
import pathlib
import subprocess

import nengo
import numpy as np
import pytest

from nengo_lmu import DelayNetwork
from nengo_lmu.tasks import nrmse

nir = pytest.importorskip("nir", reason="needs nir ('nir' extra)")
from nengo_lmu.interop.nir import delay_network_to_nir  # noqa: E402

ROOT = pathlib.Path(__file__).parents[1]
CONSUMER = pathlib.Path(
    os.environ.get("NENGO_LMU_NIR_PYTHON", ROOT / ".venv-nir" / "bin" / "python")
)


def run_in_norse(graph, x, dt, tmp_path):
    """The output per step of ``graph`` run in Norse on ``x`` (steps, size_in)."""
    if not CONSUMER.exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"no NIR consumer environment at {CONSUMER} (make test builds it)"
            )
        pytest.skip(f"no NIR consumer environment at {CONSUMER} (make nir-consumer)")
    nir.write(tmp_path / "graph.nir", graph)
    np.save(tmp_path / "x.npy", x)
    script = ROOT / "tests" / "nir_consumer" / "run_norse.py"
    args = [tmp_path / "graph.nir", tmp_path / "x.npy", str(dt), tmp_path / "y.npy"]
    result = subprocess.run(
        [str(CONSUMER), str(script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return np.load(tmp_path / "y.npy")


def spiking_part(graph, dt):
    """The graph up to the neurons' spikes (what Norse has nodes for), with the spike
    edge scaled for Norse's spikes."""
    nodes = {name: graph.nodes[name] for name in ("input", "w_in", "neurons")}
    nodes["w_rec"] = nir.Linear(weight=graph.nodes["w_rec"].weight / dt)
    n = graph.nodes["w_rec"].weight.shape[0]
    nodes["spikes"] = nir.Output(output_type=np.array([n]))
    edges = [e for e in graph.edges if e[0] in nodes and e[1] in nodes]
    return nir.NIRGraph(nodes=nodes, edges=edges + [("neurons", "spikes")])


def readout(graph, spikes, u, dt):
    """The graph's LI output node on ``spikes`` (a spike: 1 / dt for one step) and the
    input ``u``, filtered by `nengo.Lowpass` as Nengo's synapses step it (a step's
    input reaches the output at the next step)."""
    output = graph.nodes["output"]
    drive = spikes.dot(graph.nodes["w_out"].weight.T) / dt
    drive += u.dot(graph.nodes["w_u"].weight.T)
    filtered = nengo.Lowpass(float(output.tau[0])).filt(drive, dt=dt, y0=0)
    return np.vstack([np.zeros((1, filtered.shape[1])), filtered[:-1]])


def test_delay_network_runs_in_norse(tmp_path):
    """Norse's run of the exported delay network fires as Nengo's run of the network
    does, neuron by neuron, and decodes the delay as well.

    Tolerances (measured values in brackets, this seed): per-neuron spike counts over
    1 s correlate above 0.99 (0.9998), in 50 ms windows above 0.85 (0.93); Norse fires
    0.8-1.05 times Nengo's spikes (0.90); the two decoded outputs differ by an NRMSE
    below 0.3 (0.21), each within 0.35 of the ideal delay (Nengo 0.27, Norse 0.17).
    The spike trains differ, not the weights: Nengo's LIF integrates exactly, carries
    the overshoot past a spike and stops at voltage 0; Norse steps forward Euler with
    no floor; and Nengo's synapses delay a step where Norse's feed-forward edges do
    not. A wrong unit of the spikes (the 1 / dt) or of the time constants fails all
    of these.
    """
    dt, theta = 1e-3, 0.1
    net = DelayNetwork(
        100, theta, 3, dt=dt, neuron_type=nengo.LIF(tau_ref=0), calibrate=False, seed=0
    )
    with net:
        stim = nengo.Node(nengo.processes.WhiteSignal(1.0, high=5, rms=0.3, seed=1))
        nengo.Connection(stim, net.input, synapse=None)
        probes = [nengo.Probe(ens.neurons) for ens in net.state_ensembles]
        p_u = nengo.Probe(stim)
        p_out = nengo.Probe(net.output)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(1.0)
    graph = delay_network_to_nir(net, sim.model)
    u = sim.data[p_u]
    nengo_spikes = np.hstack([sim.data[p] for p in probes]) * dt  # counts
    norse_spikes = run_in_norse(spiking_part(graph, dt), u, dt, tmp_path)
    assert norse_spikes.shape == nengo_spikes.shape
    assert set(np.unique(norse_spikes)) <= {0.0, 1.0}
    counts = nengo_spikes.sum(axis=0), norse_spikes.sum(axis=0)
    assert np.corrcoef(*counts)[0, 1] > 0.99
    assert 0.8 < counts[1].sum() / counts[0].sum() < 1.05
    windows = [
        s.reshape(20, 50, -1).sum(axis=1).ravel() for s in (nengo_spikes, norse_spikes)
    ]
    assert np.corrcoef(*windows)[0, 1] > 0.85

    steps = int(round(theta / dt))
    ideal = np.vstack([np.zeros((steps, 1)), u[:-steps]])
    after = slice(2 * steps, None)  # past the transient
    nengo_out = readout(graph, nengo_spikes, u, dt)
    norse_out = readout(graph, norse_spikes, u, dt)
    # the graph's readout of Nengo's spikes is Nengo's output (the same decoders)
    assert nrmse(nengo_out[after], sim.data[p_out][after]) < 0.05
    assert nrmse(norse_out[after], nengo_out[after]) < 0.3
    assert nrmse(nengo_out[after], ideal[after]) < 0.35
    assert nrmse(norse_out[after], ideal[after]) < 0.35
