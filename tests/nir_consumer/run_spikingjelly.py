"""Run a NIR graph in SpikingJelly (through nirtorch) on CPU torch, in fine sub-steps.

Usage: python run_spikingjelly.py GRAPH.nir INPUT.npy DT SUBSTEPS OUT.npz

Runs in its own environment (tests/nir_consumer/requirements.txt), not nengo_lmu's. NIR
is continuous-time; SpikingJelly steps it by forward Euler at its own step. This runs
the graph at ``h = DT / SUBSTEPS``, holding each step of INPUT (batch, steps, size_in)
for SUBSTEPS sub-steps, and saves per step (batch, steps, size): ``output`` (the graph's
output, averaged over the step's sub-steps), ``count_<name>`` (the spikes of each
spiking node over the step) and ``state_<name>`` (each I node's state at its end).

SpikingJelly (2.0.0) reads the Affine, Linear and IF nodes: ``IFNode(v_threshold,
v_reset)``, which adds its input to its voltage each step, fires 1 when the voltage
reaches ``v_threshold`` and resets it to ``v_reset``. What this script adds, and why:

- **The I node is ours**: SpikingJelly has no I (or LI) node, so `Integrator` (NIR's
  ``dv/dt = r x``, forward Euler at ``h``) is registered for ``nir.I`` in the node map
  that nirtorch's ``nir_to_torch`` takes (its documented extension point), next to
  SpikingJelly's own map (``_NodeMapper``, private: the map SpikingJelly's
  ``import_from_nir`` hands to ``nir_to_torch``, which takes no extra nodes).
- **Units** (`to_consumer_units`, an exact rewrite of the graph): a NIR spike is a unit
  impulse and SpikingJelly's is 1 for one step, so the weights leaving spiking nodes
  are divided by ``h``; SpikingJelly's IF takes only ``r = 1 / h``, so each IF node's
  ``r h`` moves into the weights of the edges into it (copied where shared).
- **Initial state**: NIR states start at 0; SpikingJelly's IF starts at ``v_reset``,
  so the IF voltages are given a start of 0.
"""

import sys

import nir
import nirtorch
import numpy as np
import torch
from spikingjelly.activation_based.nir_exchange.from_nir import _NodeMapper

SPIKING = (nir.IF, nir.LIF, nir.CubaLIF)
DTYPE = torch.float64


class Integrator(torch.nn.Module):
    """NIR's I node ``dv/dt = r x`` (state 0 at the start), forward Euler at ``h``."""

    def __init__(self, r, h):
        super().__init__()
        self.register_buffer("gain", torch.as_tensor(h * np.asarray(r)))

    def forward(self, x, state=None):
        v = (0 if state is None else state) + self.gain * x
        return v, v


def _scaled(node, scale, bias=True):
    """A Linear or Affine ``node`` with its weight's rows (and bias) times ``scale``."""
    if not isinstance(node, (nir.Linear, nir.Affine)):
        raise ValueError(f"expected a Linear or Affine node, got {type(node).__name__}")
    weight = node.weight * np.reshape(scale, (-1, 1))
    if isinstance(node, nir.Affine):
        return nir.Affine(weight=weight, bias=node.bias * (scale if bias else 1))
    return nir.Linear(weight=weight)


def to_consumer_units(graph, h):
    """The same system with spikes of 1 per step of ``h`` and IF nodes with r = 1 / h."""
    nodes, edges = dict(graph.nodes), list(graph.edges)
    for pre, post in graph.edges:
        if isinstance(graph.nodes[pre], SPIKING):
            nodes[post] = _scaled(nodes[post], 1 / h, bias=False)
    for name, node in graph.nodes.items():
        if not isinstance(node, nir.IF):
            continue
        scale = np.asarray(node.r) * h
        for pre, post in [e for e in edges if e[1] == name]:
            if sum(e[0] == pre for e in edges) > 1:  # shared: a copy for this node
                copy = f"{pre}_to_{name}"
                nodes[copy] = nodes[pre]
                edges += [(p, copy) for p, q in edges if q == pre]
                edges[edges.index((pre, post))] = (copy, post)
                pre = copy
            nodes[pre] = _scaled(nodes[pre], scale)
        nodes[name] = nir.IF(
            r=np.full_like(scale, 1 / h),
            v_threshold=node.v_threshold,
            v_reset=node.v_reset,
        )
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=graph.metadata)


def _size(node):
    """The output size of a node of the graph."""
    if isinstance(node, (nir.Input, nir.Output)):
        return int(np.prod(next(iter(node.output_type.values()))))
    if isinstance(node, (nir.Linear, nir.Affine)):
        return node.weight.shape[0]
    return len(node.v_threshold if hasattr(node, "v_threshold") else node.r)


def load(graph, h):
    """The graph (`to_consumer_units` at ``h``) in SpikingJelly, with our I node."""
    node_map = dict(_NodeMapper(dt=h).map_dict)
    node_map[nir.I] = lambda node: Integrator(node.r, h)
    return nirtorch.nir_to_torch(graph, node_map, dtype=DTYPE)


def initial_state(module, graph, batch):
    """NIR's start, 0, for every state (SpikingJelly's IF would start at v_reset) and
    every output read on a cycle (nirtorch's default there is a zero scalar)."""
    state = {name: None for name, _ in module.named_children()}
    for name, node in graph.nodes.items():
        zeros = torch.zeros((batch, _size(node)), dtype=DTYPE)
        state[f"{name}_prev_output"] = zeros
        if isinstance(node, SPIKING):
            state[name] = (zeros,)
        elif isinstance(node, nir.I):
            state[name] = zeros
    return state


def run(graph, x, dt, substeps):
    """Per step of ``x`` (batch, steps, size_in): the mean output, the spike counts
    of the spiking nodes and the states of the I nodes at the step's end."""
    h = dt / substeps
    graph = to_consumer_units(graph, h)
    module = load(graph, h)
    spiking = [n for n, node in graph.nodes.items() if isinstance(node, SPIKING)]
    states = [n for n, node in graph.nodes.items() if isinstance(node, nir.I)]
    spikes = {}  # the spiking nodes' outputs of the last sub-step, by forward hooks
    for n in spiking:
        module.get_submodule(n).register_forward_hook(
            lambda _, args, y, n=n: spikes.__setitem__(n, y[0])
        )
    state = initial_state(module, graph, len(x))
    out = {"output": []}
    out.update({f"count_{n}": [] for n in spiking})
    out.update({f"state_{n}": [] for n in states})
    with torch.no_grad():
        for row in torch.as_tensor(x, dtype=DTYPE).transpose(0, 1):
            total, counts = 0, dict.fromkeys(spiking, 0)
            for _ in range(substeps):
                y, state = module(row, state)
                total = total + y
                counts = {n: counts[n] + spikes[n] for n in spiking}
            out["output"].append(total / substeps)
            for n in spiking:
                out[f"count_{n}"].append(counts[n])
            for n in states:
                out[f"state_{n}"].append(state[n])
    return {k: torch.stack(v, dim=1).numpy() for k, v in out.items()}


def main(graph_path, input_path, dt, substeps, out_path):
    x = np.load(input_path)
    np.savez(out_path, **run(nir.read(graph_path), x, float(dt), int(substeps)))


if __name__ == "__main__":
    main(*sys.argv[1:])
