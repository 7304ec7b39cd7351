"""nengo-loihi support: `LoihiDelayNetwork`, a `.DelayNetwork` that runs on Loihi.

On Loihi (and its emulator, ``nengo_loihi.Simulator(net, target="sim")``) only
ensembles and their connections go on the chip; nodes run on the host, and every
chip-host crossing is spike-encoded by on/off pairs of decode neurons. nengo-loihi
removes passthrough nodes such as `.DelayNetwork`'s ``state`` node by merging their
connections, and for the delay network that leaves its output unconnected (it decodes
0). `LoihiDelayNetwork` therefore wires the same system without the state node in
the loop, mapped for what the chip does (``nengo_loihi.emulator``):

- the recurrent connections go from ensemble to ensemble (``A_H``, the `.ss2sim`
  mapping onto ``synapse``, which must be a `nengo.Lowpass`, the synapse of Loihi),
  as full weight matrices (a weight solver), not through decode neurons, whose on/off
  pairs carry values in [-1, 1] only and ``A_H``'s entries are larger. The chip's
  loop has Nengo's timing (a spike of step ``t - 1`` is in the current of step
  ``t``), so no loop delay is added (``loop_delay``, default 0);
- a Loihi compartment has one synaptic filter, which nengo-loihi sets to the largest
  time constant among its inputs (``synapse``) and applies to the input's spikes too.
  So the host applies only the input filter of `.input_synapses` divided by the
  synapse (nothing, for a `nengo.Lowpass` loop): filtering on the host as well, as
  a `.DelayNetwork` does, filters the input twice;
- the input to each ensemble (``B_H``) is split into as many equal connections as
  keep each within [-1, 1] for inputs up to ``INPUT_MAX`` times ``input_rms``;
- each output reads the state (the filtered ``A_H x + B_H u``) directly from the
  ensembles and the input; the input's part is delayed by ``readout_lag`` steps, as
  the ensembles' values reach the host later, and the readout is that of
  ``readout_lag`` steps less delay, so the output is on time.

Its neurons default to what Loihi runs well (`LOIHI_ENSEMBLES`), and no neuron-lead
calibration (the lead is measured on
the reference simulator's neurons, not Loihi's).
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks import DelayNetwork
from nengo_lmu.synapses import input_synapses, ss2sim, synapse_transfer_function

LOIHI_ENSEMBLES = {
    "neuron_type": nengo.LIF(),
    "max_rates": nengo.dists.Uniform(100, 120),
    "intercepts": nengo.dists.Uniform(-1, 0.75),
}
"""Ensemble arguments `LoihiDelayNetwork` uses unless given others. The rates are
those of `nengo_loihi.set_defaults`; intercepts up to 0.75 (nengo-loihi's: 0.5;
Nengo's: 1) bound the neurons' gains, so that a weight matrix's largest entries (a
high gain times a large decoder) do not leave its typical entries only a few of
Loihi's 8 weight bits, while the reference simulator keeps its accuracy
(``benchmarks/loihi_delay.py --intercept-max X``)."""

LOOP_DELAY = 0
"""Steps of delay that Loihi adds in the recurrent loop beyond Nengo's synapse: none.
A spike of step ``t - 1`` enters the synaptic current of step ``t``, which drives the
voltage of step ``t`` (``nengo_loihi.emulator``), as Nengo's synapse output of step
``t - 1`` drives the neurons of step ``t``."""

READOUT_LAG = 5
"""Steps by which the ensembles' decoded state reaches a host node later than the
input does: one for the chip-to-host transfer (nengo-loihi's host reads the chip's
output of the previous step) plus the lag of the chip's quantized dynamics behind
Nengo's timing. On the emulator, NRMSE fell from 0.068 (1 step) through 0.051, 0.045,
0.042 to 0.040 (5) and 0.039 (6) (``benchmarks/loihi_delay.py --readout-lag K``, seeds
0-1, 10 s, intercepts up to 0.5)."""

INPUT_MAX = 3.5
"""The largest input `LoihiDelayNetwork` sends to the chip unsaturated, in units of
``input_rms``."""


class LoihiDelayNetwork(DelayNetwork):
    """A `.DelayNetwork` whose connections nengo-loihi can put on the chip.

    Takes the arguments of `.DelayNetwork` (``calibrate`` defaults to False and the
    ensembles to `LOIHI_ENSEMBLES`); ``synapse`` must be a `nengo.Lowpass` (or a time
    constant); ``loop_delay`` (an integer >= 0, default `LOOP_DELAY`) is the number of
    steps of delay the chip adds in the recurrent loop, which the mapping accounts for;
    ``readout_lag`` (an integer >= 0, default `READOUT_LAG`) the steps by which the
    ensembles' decoded state reaches a host node after the input. There is no
    ``state`` node (None); `add_output` decodes other delays.

    The network is built for nengo-loihi, whose compartments filter the input's
    spikes by ``synapse``; on a simulator that does not (Nengo's reference simulator),
    the input reaches the ensembles unfiltered: use `.DelayNetwork` there.
    """

    def __init__(
        self,
        n_neurons,
        theta,
        order,
        synapse=0.1,
        calibrate=False,
        loop_delay=LOOP_DELAY,
        readout_lag=READOUT_LAG,
        **kwargs,
    ):
        if not isinstance(synapse, (int, float, nengo.Lowpass)):
            raise ValidationError(
                f"Loihi's synapses are nengo.Lowpass; got {synapse!r}",
                attr="synapse",
            )
        for attr, value in [("loop_delay", loop_delay), ("readout_lag", readout_lag)]:
            if not (isinstance(value, (int, np.integer)) and value >= 0):
                raise ValidationError(
                    f"Must be an integer >= 0 (got {value!r})", attr=attr
                )
        self.readout_lag = readout_lag
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
        self.chip_input_filters = [self._host_part(f) for f in self.input_filters]
        for conn in [c for c in self.connections if c.post_obj is self.state]:
            self.connections.remove(conn)
        for conn in [c for c in self.connections if c.pre_obj is self.state]:
            self._rewire(conn)
        self.nodes.remove(self.state)
        self.state = None

    def _host_part(self, filt):
        """The part of the input filter ``filt`` that the host applies before the input
        crosses to the chip: ``filt`` over the synapse, since a Loihi compartment has
        one synaptic filter, which nengo-loihi sets to the largest time constant of its
        inputs (``synapse``) and applies to the input spikes too."""
        num, den = synapse_transfer_function(self.synapse, self.dt)  # lowest first
        num_f, den_f = filt.num, filt.den  # highest power first
        synapse = (np.trim_zeros(num[::-1], "f"), den[::-1])
        if all(
            a.shape == b.shape and np.allclose(a, b)
            for a, b in zip((num_f, den_f), synapse)
        ):
            return None  # filt is the synapse
        return nengo.LinearFilter(
            np.polymul(num_f, den[::-1]),
            np.polymul(den_f, synapse[0]),
            analog=False,
        )

    def _rewire(self, conn):
        """Replace ``conn`` (from the state node) by connections from the input and
        the ensembles that deliver the same signal (`_wire`)."""
        self.connections.remove(conn)
        select = np.eye(self.order)[conn.pre_slice]
        matrix = np.asarray(getattr(conn.transform, "init", 1.0))
        readout = matrix.dot(select) if matrix.ndim == 2 else matrix * select
        self._wire(readout, conn.post)

    def _wire(self, readout, post):
        """Connect the input and the ensembles to ``post`` so that it receives
        ``readout`` times the state; to a host node, the input is delayed by
        ``readout_lag`` steps, as the ensembles' values are."""
        to_chip = isinstance(post, (nengo.Ensemble, nengo.ensemble.Neurons))
        if to_chip:
            filters = self.chip_input_filters
        else:
            lag = np.eye(1, self.readout_lag + 1)[0]  # z^readout_lag
            filters = [
                nengo.LinearFilter(f.num, np.polymul(f.den, lag), analog=False)
                for f in self.input_filters
            ]
        with self:
            for j, filt in enumerate(filters):
                transform = readout.dot(self.mapped.B[:, [j]])
                # spikes carry values in [-1, 1] from the host to the chip: split a
                # larger input into equal parts that fit
                largest = np.max(np.abs(transform)) * INPUT_MAX * self.input_rms
                parts = max(int(np.ceil(largest)), 1) if to_chip else 1
                for _ in range(parts):
                    nengo.Connection(
                        self.input, post, transform=transform / parts, synapse=filt
                    )
            for k, ens in enumerate(self.state_ensembles):
                nengo.Connection(
                    ens,
                    post,
                    transform=readout.dot(self.mapped.A[:, [k]]),
                    synapse=self.synapse,
                    solver=self.recurrent_solver if to_chip else self.solver,
                )

    def _readout(self, delays):
        """The readout of ``u(t - delays + readout_lag dt)`` (at least 0), which the
        lagging host node receives as ``u(t - delays)``."""
        early = np.maximum(delays - self.readout_lag * self.dt, 0)
        return super()._readout(early)

    def add_output(self, delays, label=None):
        """Add a node decoding ``u(t - delay)`` for each of ``delays`` (see
        `.DelayNetwork.add_output`), reading the ensembles and the input."""
        if self.state is not None:  # in DelayNetwork.__init__; rewired with the rest
            return super().add_output(delays, label=label)
        readout = self._readout(self._check_delays(delays))
        with self:
            node = nengo.Node(size_in=len(readout), label=label)
        self._wire(readout, node)
        return node
