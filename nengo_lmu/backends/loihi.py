"""nengo-loihi support: `LoihiDelayNetwork`, a `.DelayNetwork` that runs on Loihi.

On Loihi (and its emulator, ``nengo_loihi.Simulator(net, target="sim")``) only
ensembles and their connections go on the chip; nodes run on the host, and every
chip-host crossing is spike-encoded by on/off pairs of decode neurons. nengo-loihi
removes passthrough nodes such as `.DelayNetwork`'s ``state`` node by merging their
connections, and for the delay network that leaves its output unconnected (it decodes
0). `LoihiDelayNetwork` therefore wires the same system without the state node in
the loop:

- the recurrent connections go from ensemble to ensemble (``A_H``, the `.ss2sim`
  mapping onto ``synapse``, which must be a `nengo.Lowpass`, the synapse of Loihi),
  as full weight matrices (a weight solver), not through decode neurons, whose on/off
  pairs carry values in [-1, 1] only and ``A_H``'s entries are larger;
- the loop synapse that `.ss2sim` maps onto is the synapse followed by ``loop_delay``
  steps, the extra delay of the chip's loop (measured by
  ``benchmarks/loihi_delay.py``);
- the input goes to each ensemble (``B_H``, through the input filters of
  `.input_synapses`, applied on the host before the spikes cross to the chip), split
  into as many equal connections as keep each within [-1, 1] for inputs up to
  ``INPUT_MAX`` times ``input_rms``;
- each output reads the state (the filtered ``A_H x + B_H u``) directly from the
  ensembles and the input, with the same synapses.

Its neurons default to what Loihi runs well: `nengo.LIF` with max rates of 100-120 Hz
(`nengo_loihi.set_defaults`), and no neuron-lead calibration (the lead is measured on
the reference simulator's neurons, not Loihi's).
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks import DelayNetwork
from nengo_lmu.synapses import input_synapses, ss2sim, synapse_transfer_function
from nengo_lmu.systems import legendre_readout

LOIHI_ENSEMBLES = {
    "neuron_type": nengo.LIF(),
    "max_rates": nengo.dists.Uniform(100, 120),
}
"""Ensemble arguments `LoihiDelayNetwork` uses unless given others."""

LOOP_DELAY = 3
"""Steps of delay that Loihi adds in the recurrent loop (beyond Nengo's synapse); 3
was the best of 0-5 on the emulator (``benchmarks/loihi_delay.py
--loop-delay K``)."""

INPUT_MAX = 3.5
"""The largest input `LoihiDelayNetwork` sends to the chip unsaturated, in units of
``input_rms``."""


class LoihiDelayNetwork(DelayNetwork):
    """A `.DelayNetwork` whose connections nengo-loihi can put on the chip.

    Takes the arguments of `.DelayNetwork` (``calibrate`` defaults to False and the
    ensembles to `LOIHI_ENSEMBLES`); ``synapse`` must be a `nengo.Lowpass` (or a time
    constant); ``loop_delay`` (an integer >= 0, default `LOOP_DELAY`) is the number of
    steps of delay the chip adds in the recurrent loop, which the mapping accounts for.
    There is no ``state`` node (None); `add_output` decodes other delays.
    """

    def __init__(
        self,
        n_neurons,
        theta,
        order,
        synapse=0.1,
        calibrate=False,
        loop_delay=LOOP_DELAY,
        **kwargs,
    ):
        if not isinstance(synapse, (int, float, nengo.Lowpass)):
            raise ValidationError(
                f"Loihi's synapses are nengo.Lowpass; got {synapse!r}",
                attr="synapse",
            )
        if not (isinstance(loop_delay, (int, np.integer)) and loop_delay >= 0):
            raise ValidationError(
                f"Must be an integer >= 0 (got {loop_delay!r})", attr="loop_delay"
            )
        kwargs = dict(LOIHI_ENSEMBLES, **kwargs)
        super().__init__(
            n_neurons, theta, order, synapse=synapse, calibrate=calibrate, **kwargs
        )
        self.recurrent_solver = nengo.solvers.LstsqL2(
            reg=getattr(self.solver, "reg", 0.01), weights=True
        )
        loop = self._loop_synapse(self.lead / self.dt)
        if loop_delay > 0:  # the loop, then z^-loop_delay
            num, den = synapse_transfer_function(loop, self.dt)  # lowest power first
            loop = nengo.LinearFilter(
                np.trim_zeros(num[::-1], "f"),
                np.polymul(den[::-1], np.eye(1, loop_delay + 1)[0]),
                analog=False,
            )
        self.mapped = ss2sim(self.system, loop, self.dt)
        self.input_filters = input_synapses(loop, self.dt)
        for conn in [c for c in self.connections if c.post_obj is self.state]:
            self.connections.remove(conn)
        for conn in [c for c in self.connections if c.pre_obj is self.state]:
            self._rewire(conn)
        self.nodes.remove(self.state)
        self.state = None

    def _rewire(self, conn):
        """Replace ``conn`` (from the state node) by connections from the input and
        the ensembles that deliver the same signal."""
        self.connections.remove(conn)
        select = np.eye(self.order)[conn.pre_slice]
        matrix = np.asarray(getattr(conn.transform, "init", 1.0))
        readout = matrix.dot(select) if matrix.ndim == 2 else matrix * select
        to_chip = isinstance(conn.post_obj, nengo.Ensemble)
        with self:
            for j, filt in enumerate(self.input_filters):
                transform = readout.dot(self.mapped.B[:, [j]])
                # spikes carry values in [-1, 1] from the host to the chip: split a
                # larger input into equal parts that fit
                largest = np.max(np.abs(transform)) * INPUT_MAX * self.input_rms
                parts = max(int(np.ceil(largest)), 1) if to_chip else 1
                for _ in range(parts):
                    nengo.Connection(
                        self.input, conn.post, transform=transform / parts, synapse=filt
                    )
            for k, ens in enumerate(self.state_ensembles):
                nengo.Connection(
                    ens,
                    conn.post,
                    transform=readout.dot(self.mapped.A[:, [k]]),
                    synapse=self.synapse,
                    solver=self.recurrent_solver if to_chip else self.solver,
                )

    def add_output(self, delays, label=None):
        """Add a node decoding ``u(t - delay)`` for each of ``delays`` (see
        `.DelayNetwork.add_output`), reading the ensembles and the input."""
        node = super().add_output(delays, label=label)
        if self.state is None:  # else __init__ rewires it with the others
            (conn,) = [c for c in self.connections if c.post_obj is node]
            self._rewire(conn)
        return node
