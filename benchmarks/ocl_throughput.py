"""Throughput of nengo_lmu networks on nengo-ocl (OpenCL) and the reference simulator
(numbers quoted in docs/backends.md).

Run: ``python benchmarks/ocl_throughput.py [--steps N]`` (an environment with the
``ocl`` extra and an OpenCL driver; here PoCL on the CPU). Prints simulated steps per
second of wall time (build excluded) for each network and simulator, and the largest
difference between their outputs relative to the output's peak.
"""

import argparse
import time
import warnings

import nengo
import numpy as np

from nengo_lmu import DelayNetwork
from nengo_lmu.backends import ocl
from nengo_lmu.lmu import LMU


def psmnist_lmu():
    """The paper's psMNIST cell: 212 tanh units, order 256, theta 784 (dt = 1)."""
    rng = np.random.RandomState(0)
    with nengo.Network(seed=0) as net:
        x = rng.uniform(-1, 1, size=(784, 1))
        stim = nengo.Node(nengo.processes.PresentInput(x, presentation_time=1.0))
        lmu = LMU(212, 256, 784.0, 1)
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output)
    return net, probe, 1.0


def delay_network():
    """A spiking delay network: order 6, 6 x 100 LIF, theta 1 s (dt = 1 ms)."""
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(10.0, high=1.0, seed=0))
        delay = DelayNetwork(100, 1.0, 6, neuron_type=nengo.LIF(), calibrate=False)
        nengo.Connection(stim, delay.input, synapse=None)
        probe = nengo.Probe(delay.output, synapse=0.01)
    return net, probe, 0.001


def steps_per_second(simulator, net, probe, dt, steps):
    with simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(10)  # warm up (first calls compile / allocate)
        start = time.perf_counter()
        sim.run_steps(steps)
        elapsed = time.perf_counter() - start
        return steps / elapsed, sim.data[probe]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="This version of `nengo_ocl`")
    networks = [("psMNIST LMU cell", psmnist_lmu), ("DelayNetwork", delay_network)]
    for name, make in networks:
        net, probe, dt = make()
        ref, ref_out = steps_per_second(nengo.Simulator, net, probe, dt, args.steps)
        fast, out = steps_per_second(ocl.Simulator, net, probe, dt, args.steps)
        error = np.max(np.abs(out - ref_out)) / np.max(np.abs(ref_out))
        print(
            f"{name:18s} reference {ref:8.0f} steps/s   nengo-ocl {fast:8.0f} steps/s"
            f"   ({fast / ref:.2f}x; max difference {error:.2g} of the peak)",
            flush=True,
        )


if __name__ == "__main__":
    main()
