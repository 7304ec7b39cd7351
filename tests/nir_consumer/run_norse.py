"""Run a NIR graph in Norse (norse.torch.from_nir, through nirtorch) on CPU torch.

Usage: python run_norse.py GRAPH.nir INPUT.npy DT OUT.npy

Runs in its own environment (tests/nir_consumer/requirements.txt: torch, Norse,
nirtorch, nir), not nengo_lmu's: reads the graph with ``nir.read``, steps
``norse.torch.from_nir(graph, dt=DT)`` once per row of INPUT (steps, size_in), and saves
the graph's output per step (steps, size_out) to OUT. Norse's own semantics apply:
forward Euler at DT, a spike is 1 for one step, reset to ``v_reset``.
"""

import sys

import nir
import norse.torch
import numpy as np
import torch


def main(graph_path, input_path, dt, out_path):
    graph = nir.read(graph_path)
    module = norse.torch.from_nir(graph, dt=float(dt))
    x = torch.as_tensor(np.load(input_path), dtype=torch.float32)
    state, outputs = None, []
    with torch.no_grad():
        for row in x:
            out, state = module(row[None], state)
            outputs.append(out[0].numpy())
    np.save(out_path, np.array(outputs, dtype=np.float64))


if __name__ == "__main__":
    main(*sys.argv[1:])
