"""Export of a spiking DelayNetwork to NIR, written and read back."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import DelayNetwork
from nengo_lmu.synapses import ss2sim

nir = pytest.importorskip("nir", reason="needs nir ('nir' extra)")
from nengo_lmu.interop.nir import delay_network_to_nir  # noqa: E402


def delay_network(**kwargs):
    kwargs.setdefault("neuron_type", nengo.LIF(tau_ref=0))
    return DelayNetwork(20, 0.1, 3, calibrate=False, seed=0, **kwargs)


def test_write_and_read_back(tmp_path):
    net = delay_network()
    graph = delay_network_to_nir(net)
    nir.write(tmp_path / "delay.nir", graph)
    back = nir.read(tmp_path / "delay.nir")
    assert set(back.nodes) == set(graph.nodes)
    assert sorted(back.edges) == sorted(graph.edges)
    for name, node in graph.nodes.items():
        assert type(back.nodes[name]) is type(node)
        for key, value in node.to_dict().items():
            if isinstance(value, np.ndarray):
                assert np.allclose(back.nodes[name].to_dict()[key], value), (name, key)


def test_weights_are_the_continuous_mapping():
    """Decoding the recurrent weights gives tau A + I (Principle 3, continuous)."""
    net = delay_network()
    model = nengo.builder.Model(dt=net.dt)
    model.build(net)
    graph = delay_network_to_nir(net, model)
    n = net.n_neurons
    encoders = np.concatenate(
        [model.params[ens].scaled_encoders[:, 0] for ens in net.state_ensembles]
    )
    # one neuron's recurrent weights from each ensemble, over its encoder: A_H[k, :] d
    W = graph.nodes["w_rec"].weight
    A_H = ss2sim(net.system, net.synapse).A
    assert np.allclose(A_H, net.synapse.tau * net.system.A + np.eye(3))
    for k in range(3):
        i = k * n + int(np.argmax(np.abs(encoders[k * n : (k + 1) * n])))
        row = W[i] / encoders[i]
        for j in range(3):
            block = row[j * n : (j + 1) * n]
            d = [c for c in net.connections if c.pre_obj is net.state_ensembles[j]]
            assert np.allclose(block.sum(), A_H[k, j] * _decoder_sum(model, d[0]))


def _decoder_sum(model, conn):
    column = conn.transform.init[:, 0]
    return column.dot(model.params[conn].weights).sum() / column.dot(column)


def test_refractory_neurons_are_a_clear_error():
    with pytest.raises(ValidationError, match="tau_ref=0"):
        delay_network_to_nir(delay_network(neuron_type=nengo.LIF()))
