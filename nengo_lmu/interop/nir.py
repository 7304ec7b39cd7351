"""Export a spiking `.DelayNetwork` to NIR, the Neuromorphic Intermediate Representation.

NIR graphs are continuous-time, so the export maps the delay network's system onto its
synapse with the continuous NEF Principle 3 (`.ss2sim` without ``dt``:
``A_H = tau A + I``, ``B_H = tau B`` for `nengo.Lowpass` ``tau``), not the discrete
mapping the Nengo network uses. The graph::

    input -> Affine(W_in, bias) -> neurons (CubaLIF) <-> Affine(W_rec) (recurrent)
    input -> Affine(W_u) ----\\
    neurons -> Affine(W_out) -> output (LI) -> output node

Semantics mapped, and why:

- **Neurons**: all ``order * n_neurons`` LIF neurons are one `nir.CubaLIF`: its synaptic
  current ``tau_syn dI/dt = -I + input`` is the network's `nengo.Lowpass` synapse, and
  its membrane ``tau_mem dv/dt = -v + r I`` with ``tau_mem = tau_rc``, ``r = 1``,
  ``v_leak = 0``, threshold 1 and reset 0 is Nengo's LIF in its units (current = input
  to the membrane, voltage normalized to the threshold). NIR has no refractory period,
  so the network's neurons must have ``tau_ref = 0``. Not mapped: Nengo's LIF stops
  at voltage 0 (``min_voltage``) and integrates exactly; NIR's has no floor, and a
  consumer steps it its own way (``tests/test_nir_consumer.py`` measures Norse's
  forward-Euler run against Nengo's).
- **Weights**: the encoders times gains (and 1 / radius) times the mapped matrices times
  the decoders, so the edges carry neuron-to-neuron weights. A NIR spike is a unit
  impulse; a Nengo spike has amplitude ``1 / dt`` for one step, the same integral, so
  the weights are the same. The bias enters the synaptic current (as an Affine bias),
  so it reaches the membrane after the synapse's transient.
- **Output**: the decoded ``u(t - theta)`` is a `nir.LI` with the synapse's time
  constant fed by the decoded spikes and the input, the filtered state's readout as
  in `.DelayNetwork`.
- **Time step**: none in the graph; a consumer picks its own (use the Nengo network's
  ``dt`` to compare).
"""

import nengo
import nir
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.synapses import ss2sim
from nengo_lmu.systems import legendre_readout


def _check(net):
    for ens in net.state_ensembles:
        neurons = ens.neuron_type
        if type(neurons) is not nengo.LIF or neurons.tau_ref != 0:
            raise ValidationError(
                f"NIR export needs nengo.LIF(tau_ref=0) neurons (NIR's LIF has no "
                f"refractory period); {ens} has {neurons!r}",
                attr="neuron_type",
                obj=net,
            )
    if not isinstance(net.synapse, nengo.Lowpass):
        raise ValidationError(
            f"NIR export needs a nengo.Lowpass synapse (got {net.synapse!r})",
            attr="synapse",
            obj=net,
        )


def delay_network_to_nir(net, model=None):
    """The NIR graph of a spiking `.DelayNetwork` (see the module's notes).

    Parameters
    ----------
    net : DelayNetwork
        With `nengo.LIF` neurons with ``tau_ref=0`` and a `nengo.Lowpass` synapse.
    model : nengo.builder.Model, optional
        A model ``net`` was built into (e.g. ``sim.model`` of the simulator it runs
        in), so the graph has the same neurons and decoders; default: build it here.

    Returns
    -------
    nir.NIRGraph
        Nodes ``input``, ``w_in``, ``neurons``, ``w_rec``, ``w_u``, ``w_out``,
        ``output``, ``out``.
    """
    _check(net)
    if model is None:
        model = nengo.builder.Model(dt=net.dt)
        model.build(net)
    tau = net.synapse.tau
    mapped = ss2sim(net.system, net.synapse)  # continuous: A_H = tau A + I
    encoders, biases, decoders = [], [], []
    for ens in net.state_ensembles:
        built = model.params[ens]
        encoders.append(built.scaled_encoders[:, 0])  # gain * e / radius
        biases.append(built.bias)
        (conn,) = [
            c for c in net.connections if c.pre_obj is ens and c.post_obj is net.state
        ]
        weights = model.params[conn].weights  # (order, n) = A_discrete[:, k] d_k
        column = conn.transform.init[:, 0]
        decoders.append(column.dot(weights) / column.dot(column))
    order, n = net.order, net.n_neurons
    E = np.zeros((order * n, order))  # neuron input per state dimension
    D = np.zeros((order, order * n))  # decoded state per neuron
    for k in range(order):
        E[k * n : (k + 1) * n, k] = encoders[k]
        D[k, k * n : (k + 1) * n] = decoders[k]
    readout = legendre_readout(order, [1.0]).dot(np.linalg.inv(net.transform))
    nodes = {
        "input": nir.Input(input_type=np.array([1])),
        "w_in": nir.Affine(weight=E.dot(mapped.B), bias=np.concatenate(biases)),
        "neurons": nir.CubaLIF(
            tau_syn=np.full(order * n, tau),
            tau_mem=np.full(order * n, net.state_ensembles[0].neuron_type.tau_rc),
            r=np.ones(order * n),
            v_leak=np.zeros(order * n),
            v_threshold=np.ones(order * n),
            v_reset=np.zeros(order * n),
        ),
        "w_rec": nir.Linear(weight=E.dot(mapped.A).dot(D)),
        "w_u": nir.Linear(weight=readout.dot(mapped.B)),
        "w_out": nir.Linear(weight=readout.dot(mapped.A).dot(D)),
        "output": nir.LI(tau=np.array([tau]), r=np.ones(1), v_leak=np.zeros(1)),
        "out": nir.Output(output_type=np.array([1])),
    }
    edges = [
        ("input", "w_in"),
        ("w_in", "neurons"),
        ("neurons", "w_rec"),
        ("w_rec", "neurons"),
        ("input", "w_u"),
        ("w_u", "output"),
        ("neurons", "w_out"),
        ("w_out", "output"),
        ("output", "out"),
    ]
    return nir.NIRGraph(nodes=nodes, edges=edges)
