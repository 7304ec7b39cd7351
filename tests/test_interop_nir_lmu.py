"""Export of a spiking LMU classifier to NIR, written, read back and simulated."""

import subprocess
import sys

import nengo
import numpy as np
import pytest
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu import SequenceClassifier, to_spiking
from nengo_lmu.convert import network_kwargs, save_weights
from nengo_lmu.train import predict

nir = pytest.importorskip("nir", reason="needs nir ('nir' extra)")
from nengo_lmu.interop.nir_lmu import lmu_to_nir, nir_to_lmu  # noqa: E402


def classifier(hidden=nengo.RectifiedLinear(), seed=0):
    """A small classifier with every weight present, as arrays (no training)."""
    rng = np.random.RandomState(seed)
    units, order = 10, 6

    def w(*shape, scale=0.5):
        return rng.normal(scale=scale, size=shape)

    return SequenceClassifier(
        3,
        readout_kernel=w(3, units),
        readout_bias=w(3),
        units=units,
        order=order,
        theta=8.0,
        input_d=2,
        hidden_neurons=hidden,
        input_encoders=w(1, 2),
        hidden_encoders=w(1, units, scale=0.1),
        memory_encoders=w(1, order, scale=0.1),
        memory_bias=w(1),
        input_kernel=w(units, 2),
        hidden_kernel=w(units, units, scale=0.2),
        memory_kernel=w(units, order),
        hidden_bias=w(units),
        seed=seed,
    )


def run(net, x):
    """Hidden spike counts per step, memory states, spike amplitude of ``net`` on ``x``."""
    net.input.output.data = x
    with net:
        hidden = nengo.Probe(net.lmu.output)
        memory = nengo.Probe(net.lmu.memory)
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(len(x))
    amplitude = net.lmu.hidden.neuron_type.amplitude
    return sim.data[hidden] / amplitude, sim.data[memory], amplitude


@pytest.mark.parametrize("form", ["euler", "zoh"])
@pytest.mark.parametrize("memory", ["ideal", "spiking"])
def test_write_read_back_simulates_the_same(tmp_path, memory, form):
    """The network read back from the file steps as the exported one: the same spikes
    (the graph's weights carry the spike amplitude), memory states and scores."""
    net = to_spiking(classifier(), dt=1.0, memory=memory)
    graph = lmu_to_nir(net, form=form)
    nir.write(tmp_path / "lmu.nir", graph)
    back = nir_to_lmu(nir.read(tmp_path / "lmu.nir"), seed=0)
    assert ("memory_on" in graph.nodes) == (memory == "spiking")
    x = np.random.RandomState(1).uniform(-1, 1, size=(40, 2))
    spikes, states, amplitude = run(net, x)
    spikes_back, states_back, amplitude_back = run(back, x)
    assert amplitude != 1 and amplitude_back == 1
    assert np.sum(spikes != 0) > 40  # the units do fire
    # spike counts per step: equal (as integers), in every unit and step
    assert np.array_equal(spikes, spikes_back)
    assert np.allclose(states, states_back, rtol=1e-10, atol=1e-12)
    scores = predict(net, x[None], backend="nengo")
    assert np.allclose(predict(back, x[None], backend="nengo"), scores, rtol=1e-10)


def test_graph_is_the_euler_form_of_the_discrete_cell():
    """The ideal memory is an I node with r = 1 / dt fed by (A - I) m + B u: one Euler
    step at dt is the discrete (zoh) Legendre step of the network."""
    net = to_spiking(classifier(), dt=2.0)
    graph = lmu_to_nir(net)
    memory = net.lmu.memory.output
    system = memory.discrete_system(2.0)
    assert np.allclose(graph.nodes["memory"].r, 0.5)
    assert np.allclose(graph.nodes["A"].weight, system.A - np.eye(6))
    assert np.allclose(graph.nodes["B"].weight, system.B)
    assert graph.metadata["dt"] == 2.0 and graph.metadata["form"] == "euler"
    # form="zoh": the system whose exact step over dt (scipy) is the discrete one
    zoh = lmu_to_nir(net, form="zoh").nodes
    n = len(system.A)
    F, G = zoh["A"].weight, zoh["B"].weight  # times r = 1 / dt: dt is absorbed
    step = scipy.linalg.expm(np.block([[F, G], [np.zeros((1, n + 1))]]))
    assert np.allclose(step[:n, :n], system.A, atol=1e-12)
    assert np.allclose(step[:n, n:], system.B, atol=1e-12)
    with pytest.raises(ValidationError, match="Must be one of"):
        lmu_to_nir(net, form="exact")
    # spike edges carry the amplitude; the hidden IF's r is the rate's amplitude
    neuron_type = net.lmu.hidden.neuron_type
    kernel = net.lmu.weight_connections["hidden_kernel"].transform.init
    weight = graph.nodes["hidden_kernel"].weight
    assert np.allclose(weight, kernel * neuron_type.amplitude)
    assert np.allclose(graph.nodes["hidden"].r, neuron_type.base_type.amplitude)
    assert np.allclose(graph.nodes["hidden"].v_threshold, 0.5)  # v0 = 0.5
    assert np.allclose(graph.nodes["hidden"].v_reset, -0.5)


def test_signed_units_are_a_coupled_on_off_pair():
    """Stepping the graph's memory pair by hand (its equations, small steps of one
    constant input) gives the signed unit's spike count: the integral, rounded."""
    net = to_spiking(classifier(), dt=1.0, memory="spiking", delta=0.1)
    nodes = lmu_to_nir(net).nodes
    on, off = nodes["memory_on"], nodes["memory_off"]
    increment = np.array([0.73, -0.46, 0.0, 0.049, -0.051, 1.0])  # per dt
    v_on, v_off, count = np.zeros(6), np.zeros(6), np.zeros(6)
    h = 1e-4  # a fine step of the continuous-time graph, over one dt = 1
    for _ in range(int(round(1 / h))):
        v_on += h * on.r * increment
        v_off += h * off.r * increment
        z_on, z_off = v_on > on.v_threshold, v_off > off.v_threshold
        v_on[z_on], v_off[z_off] = on.v_reset[z_on], off.v_reset[z_off]
        v_off += z_on * off.r * nodes["on_to_off"].weight.diagonal()
        v_on += z_off * on.r * nodes["off_to_on"].weight.diagonal()
        count += z_on.astype(float) - z_off
    assert np.array_equal(count, np.round(increment / 0.1))
    state = count * nodes["on_state"].weight.diagonal()
    assert np.allclose(state, np.round(increment / 0.1) * 0.1)


@pytest.mark.parametrize(
    "hidden",
    [nengo.Tanh(tau_ref=1), nengo.LIFRate()],
    ids=["tanh", "lifrate"],
)
def test_hidden_units_without_a_nir_node_are_a_clear_error(hidden):
    net = to_spiking(classifier(hidden), dt=1.0)  # RegularSpiking(Tanh) ...
    with pytest.raises(ValidationError, match="NIR export needs nengo.RegularSpiking"):
        lmu_to_nir(net)


def test_lif_hidden_units_and_unsupported_settings():
    lif = nengo.LIF(
        tau_rc=4.0, tau_ref=0, initial_state={"voltage": nengo.dists.Choice([0.0])}
    )
    graph = lmu_to_nir(
        SequenceClassifier(**dict(network_kwargs(classifier(lif)), dt=1.0))
    )
    assert isinstance(graph.nodes["hidden"], nir.LIF)
    assert np.allclose(graph.nodes["hidden"].tau, 4.0)
    random_start = SequenceClassifier(
        **dict(network_kwargs(classifier(nengo.LIF(tau_ref=0))), dt=1.0)
    )
    with pytest.raises(ValidationError, match="Choice"):
        lmu_to_nir(random_start)
    with pytest.raises(ValidationError, match="no synapse"):
        lmu_to_nir(to_spiking(classifier(), dt=1.0, synapse=nengo.Lowpass(2)))
    with pytest.raises(ValidationError, match="ideal memory or memory='spiking'"):
        lmu_to_nir(to_spiking(classifier(), dt=1.0, memory=DELAYS))
    with pytest.raises(ValidationError, match="one tick per step"):
        lmu_to_nir(to_spiking(classifier(), dt=1.0, memory="spiking", ticks=2))


def test_other_graphs_are_a_clear_error():
    from nengo_lmu import DelayNetwork
    from nengo_lmu.interop.nir import delay_network_to_nir

    net = DelayNetwork(5, 0.1, 2, neuron_type=nengo.LIF(tau_ref=0), calibrate=False)
    with pytest.raises(ValidationError, match="Not a graph written by nengo_lmu"):
        nir_to_lmu(delay_network_to_nir(net))


DELAYS = {"n_neurons": 10, "neuron_type": nengo.LIF(tau_rc=20)}


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "nengo_lmu.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_export_nir_command(tmp_path):
    weights = tmp_path / "weights.npz"
    save_weights(weights, network_kwargs(classifier()))
    out = tmp_path / "lmu.nir"
    args = ("--memory", "spiking", "--form", "zoh")
    result = run_cli("export-nir", str(weights), str(out), *args)
    assert result.returncode == 0, result.stderr
    assert f"NIR graph written to {out}" in result.stdout
    graph = nir.read(out)
    net = to_spiking(classifier(), dt=1.0, memory="spiking")
    expected = lmu_to_nir(net, form="zoh")
    assert graph.metadata["form"] == "zoh"
    assert np.allclose(graph.nodes["A"].weight, expected.nodes["A"].weight)
    assert set(graph.nodes) == set(expected.nodes)
    assert np.allclose(
        graph.nodes["memory_kernel"].weight, expected.nodes["memory_kernel"].weight
    )

    save_weights(weights, network_kwargs(classifier(nengo.Tanh(tau_ref=1))))
    result = run_cli("export-nir", str(weights), str(out))
    assert result.returncode == 2
    lines = [s for s in result.stderr.splitlines() if "error:" in s]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    message = "No NIR node for hidden units SpikeAwareRegularSpiking(base_type=Tanh"
    assert message in lines[0]


@pytest.mark.slow  # about 40 s of CPU (two NengoDL builds of the psDigits LMU)
def test_readme_psdigits_to_nir(tmp_path):
    """The README's path, shortened (fewer sequences and epochs): train psDigits with
    ReLU units, export the fully spiking network, read it back: it classifies the test
    sequences as the spiking network of the weights file does, score for score."""
    from nengo_lmu.convert import load_weights
    from nengo_lmu.tasks import psdigits, psdigits_recipe

    out = tmp_path / "psdigits-relu"
    args = ("--epochs", "2", "--n-train", "320", "--n", "20", "--finetune-epochs", "0")
    result = run_cli(
        "train",
        "psdigits",
        "--hidden",
        "relu",
        "--spiking",
        "--memory",
        "spiking",
        "--out",
        str(out),
        *args,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    graph_path = tmp_path / "psdigits.nir"
    result = run_cli(
        "export-nir",
        str(out / "weights.npz"),
        str(graph_path),
        "--task",
        "psdigits",
        "--memory",
        "spiking",
    )
    assert result.returncode == 0, result.stderr
    back = nir_to_lmu(nir.read(graph_path))
    net = to_spiking(
        SequenceClassifier(**load_weights(out / "weights.npz")),
        dt=1.0,
        memory="spiking",
        **psdigits_recipe(0).spiking,
    )
    x = psdigits().x_test[:8]
    scores = predict(net, x, backend="nengo")
    assert np.allclose(predict(back, x, backend="nengo"), scores, rtol=1e-9, atol=1e-12)
    assert len(np.unique(np.argmax(scores, axis=1))) > 1  # not a constant guess
