"""A spiking realization of a discrete linear memory (the LMU's memory in neurons).

`SpikingMemory` carries the state of ``m[t] = A m[t-1] + B u[t]`` by the spikes of
`SignedIntegrateFire` units, one per state dimension. Each unit integrates its
dimension's per-step increment, fires one signed spike per ``delta`` it has
integrated and subtracts it; the state is ``delta`` times the accumulated spikes, kept
in synaptic state: an integrating synapse on the spikes for the memory's own
recurrence and for what reads the state of the last step (`INTEGRATE`), and the sum
of the spikes up to this step (``SpikingMemory.output``) for what reads the present
state, since a Nengo synapse passes a step's input on at the next step. Every signal
leaving the units is their spikes.

Notes
-----
Per step, unit ``i`` receives ``(B u[t] + (A - I) s[t-1])_i`` (``s`` the accumulated
spikes times ``delta``), integrates it divided by ``delta`` into its voltage ``v_i``
and fires ``n_i = floor(v_i)`` spikes (of either sign), then ``v_i -= n_i``. So
``s[t] + delta (v[t] - 1/2) = A s[t-1] + B u[t] + delta (v[t-1] - 1/2)``: the spikes
track the true recurrence up to the rounding residue ``delta (v - 1/2)``, which stays
within ``delta / 2`` and is not integrated by the memory (it enters the recurrence
only as ``(I - A) delta (v - 1/2)``, small because ``A`` is close to ``I``). The error
of ``s`` therefore does not grow with the sequence length (``tests/test_spiking_memory
.py`` checks this over 10^5 steps at order 256, θ = 784 steps).

Why this design: error that accumulates inside the memory's recurrence is what costs
an LMU its accuracy, while error in what is read out is nearly free (issue 11's
measurements on the paper's psMNIST model). A spiking population decoding the state
through Principle 3 (`.DelayNetwork`) feeds its spike noise back through the recurrence,
where it accumulates, and its Principle-3 mapping at one step per pixel is
ill-conditioned at high order. Quantizing the increments instead keeps the recurrence
exact up to the bounded residue, at any order, with one unit per state dimension and
no decoders to solve. ``delta`` trades spikes for accuracy; its default in
`.hybrid.to_spiking` was chosen by ``benchmarks/fully_spiking.py``.
"""

import sys

import nengo
import numpy as np
from nengo.builder import Builder
from nengo.builder.network import build_network
from nengo.exceptions import ValidationError
from nengo.neurons import NeuronType
from nengo.params import NumberParam

from nengo_lmu.compat import configure_trainable
from nengo_lmu.memory import LinearSystemState
from nengo_lmu.systems import LinearSystem

INTEGRATE = nengo.LinearFilter([1], [1, -1], analog=False)
"""The synapse that sums its input up to the last step (``1 / (z - 1)``; Nengo, as
for every synapse, sees the input of a step at the next)."""


class SignedIntegrateFire(NeuronType):
    """Integrate the input, fire a signed spike per unit integrated, subtract it.

    Per step: ``v += J dt``, ``n = floor(v)`` spikes (``n < 0`` for negative input),
    ``v -= n``; the output is ``amplitude n / dt``. No leak, no refractory period:
    the spike count over any stretch is the integral of ``J`` to within one spike.
    This is `nengo.RegularSpiking` of the identity rate. The voltage starts at 0.5,
    so ``n`` is the integral rounded to the nearest integer.

    Parameters
    ----------
    amplitude : float
        The output of one spike times ``dt``.
    initial_state : dict, optional
        Initial ``voltage`` (default 0.5 for all units).
    """

    state = {"voltage": nengo.dists.Choice([0.5])}
    spiking = True
    negative = True
    amplitude = NumberParam("amplitude", low=0, low_open=True)

    def __init__(self, amplitude=1.0, initial_state=None):
        super().__init__(initial_state)
        self.amplitude = amplitude

    def gain_bias(self, max_rates, intercepts):
        raise ValidationError(
            "SignedIntegrateFire units have no rate curve: give the ensemble's gain "
            "and bias",
            attr="neuron_type",
            obj=self,
        )

    def rates(self, x, gain, bias):
        """The mean output: the identity of the current, times ``amplitude``."""
        return self.amplitude * self.current(x, gain, bias)

    def step(self, dt, J, output, voltage):
        voltage += dt * J
        n_spikes = np.floor(voltage)
        output[...] = (self.amplitude / dt) * n_spikes
        voltage -= n_spikes


class SpikingMemory(nengo.Network):
    """The discrete linear memory ``m[t] = A m[t-1] + B u[t]`` in spiking units.

    One `SignedIntegrateFire` unit per state dimension, fired by the state's per-step
    increments; the state is ``delta`` times the accumulated spikes (see the module's
    Notes). Read the state of the last step from ``neurons`` through `INTEGRATE`, and
    that of this step from `output`, as `read` does.

    Parameters
    ----------
    A : (n, n) array_like
        The discrete state matrix.
    B : (n, d) array_like
        The discrete input matrix (``d`` input signals).
    delta : float
        The state carried by one spike: the quantization step of the state.
    dt : float
        The simulator time step the discrete system is stepped at.
    **kwargs
        ``label``, ``seed``, ``add_to_container`` of `nengo.Network`.

    Attributes
    ----------
    input : nengo.Node
        ``u`` (d): the input current of the units, as a sum.
    neurons : nengo.ensemble.Neurons
        The units (n), whose spikes are the memory's only outputs.
    output : nengo.Node
        The state ``s`` (n) at this step: the spikes summed up to this step, the
        synaptic state of a reader of the spikes (a node, since Nengo delays what
        passes through a synapse by one step).
    input_connection, recurrent_connection, output_connection : nengo.Connection
        ``u`` to the units (``B``), the units to themselves (``A - I``, through
        `INTEGRATE`) and the units to `output`. NengoDL does not train them, nor the
        units' bias: the memory steps a fixed system.
    """

    delta = NumberParam("delta", low=0, low_open=True, readonly=True)
    dt = NumberParam("dt", low=0, low_open=True, readonly=True)

    def __init__(self, A, B, delta, dt, **kwargs):
        super().__init__(**kwargs)
        A = np.asarray(A, dtype=np.float64)
        B = np.asarray(B, dtype=np.float64)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or B.ndim != 2:
            raise ValidationError(
                f"A must be square (n, n) and B (n, d) (got {A.shape}, {B.shape})",
                attr="A",
                obj=self,
            )
        if B.shape[0] != A.shape[0]:
            raise ValidationError(
                f"B must have {A.shape[0]} rows, as A (got {B.shape})",
                attr="B",
                obj=self,
            )
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
            raise ValidationError("A and B must be finite", attr="A", obj=self)
        self.delta, self.dt = delta, dt
        if not np.isfinite(delta * dt):
            raise ValidationError(
                f"delta and dt must be finite (got {delta!r}, {dt!r})",
                attr="delta",
                obj=self,
            )
        n = A.shape[0]
        with self:
            self.input = nengo.Node(size_in=B.shape[1], label="u")
            self.ensemble = nengo.Ensemble(
                n,
                1,
                neuron_type=SignedIntegrateFire(amplitude=delta * dt),
                gain=nengo.dists.Choice([1.0 / (delta * dt)]),
                bias=nengo.dists.Choice([0.0]),
                label="memory units",
            )
            self.neurons = self.ensemble.neurons
            self.input_connection = nengo.Connection(
                self.input, self.neurons, transform=B, synapse=None
            )
            self.recurrent_connection = nengo.Connection(
                self.neurons,
                self.neurons,
                transform=A - np.eye(n),
                synapse=INTEGRATE,
            )
            integrator = LinearSystem([[1.0]], [[1.0]], [[1.0]], [[0.0]], False, dt)
            self.output = nengo.Node(
                LinearSystemState(integrator, size_in=n), label="m"
            )
            self.output_connection = nengo.Connection(
                self.neurons, self.output, synapse=None
            )
        for obj in (self.ensemble, self.input_connection, self.recurrent_connection):
            configure_trainable(self, obj, False)  # a fixed system (see `.LMU`)

    def read(self, delayed):
        """``(pre, synapse)`` of a connection reading the state: at this step, or at
        the last one if ``delayed``."""
        return (self.neurons, INTEGRATE) if delayed else (self.output, None)

    @property
    def n_neurons(self):
        """The number of memory units."""
        return self.ensemble.n_neurons


@Builder.register(SpikingMemory)
def build_spiking_memory(model, memory, progress=None):
    """Build a `SpikingMemory` (refused at a time step other than its ``dt``)."""
    if not np.isclose(model.dt, memory.dt, rtol=1e-9, atol=0):
        raise ValidationError(
            f"{memory} steps a discrete system at dt={memory.dt}, but the simulator's "
            f"dt is {model.dt}: simulate at dt={memory.dt} or build the memory for "
            f"dt={model.dt}",
            attr="dt",
            obj=memory,
        )
    if "nengo_dl" in sys.modules:
        import nengo_lmu.dl_builders  # noqa: F401 (registers the unit's builder)
    build_network(model, memory, progress)
