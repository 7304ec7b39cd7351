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

The units quantize the state in whatever basis the system is given in: a similarity
transform ``T`` (`.hybrid.to_spiking`'s ``basis``) leaves the ideal network the same
but changes both the spikes (the size of each dimension's increments) and the cost
of the rounding (how each dimension is read, and what ``(I - A) r`` the recurrence
passes on, which the memory integrates). `balanced_basis` makes the two equal and
diagonal, which minimizes the spikes for a given error estimate; on the paper's
psMNIST model it scores higher at the same spikes than the Legendre basis
(``benchmarks/spike_budget.py --bases own,balanced``).
"""

import sys

import nengo
import numpy as np
import scipy.linalg
from nengo.builder import Builder
from nengo.builder.network import build_network
from nengo.exceptions import ValidationError
from nengo.neurons import NeuronType
from nengo.params import IntParam, NdarrayParam, NumberParam

from nengo_lmu.compat import configure_trainable
from nengo_lmu.memory import LinearSystemState
from nengo_lmu.systems import LinearSystem

INTEGRATE = nengo.LinearFilter([1], [1, -1], analog=False)
"""The synapse that sums its input up to the last step (``1 / (z - 1)``; Nengo, as
for every synapse, sees the input of a step at the next)."""


ERROR = 0.025
"""The default RMS error per hidden unit of `budget_delta` (``to_spiking``'s)."""


class PositiveParam(NdarrayParam):
    """A finite number > 0, or an (n,) array of them (one per unit)."""

    def __init__(self, name, readonly=None):
        super().__init__(name, shape=("...",), readonly=readonly)

    def coerce(self, instance, value):
        value = super().coerce(instance, value)
        if value.ndim > 1 or value.size == 0:
            raise ValidationError(
                f"Must be a number or a 1-D array of them (got shape {value.shape})",
                attr=self.name,
                obj=instance,
            )
        if not (np.all(np.isfinite(value)) and np.all(value > 0)):
            raise ValidationError(
                f"Must be finite and > 0 (got {value!r})", attr=self.name, obj=instance
            )
        return float(value) if value.ndim == 0 else value


class SignedIntegrateFire(NeuronType):
    """Integrate the input, fire a signed spike per unit integrated, subtract it.

    Per step: ``v += J dt``, ``n = floor(v)`` spikes (``n < 0`` for negative input),
    ``v -= n``; the output is ``amplitude n / dt``. No leak, no refractory period:
    the spike count over any stretch is the integral of ``J`` to within one spike.
    This is `nengo.RegularSpiking` of the identity rate. The voltage starts at 0.5,
    so ``n`` is the integral rounded to the nearest integer.

    Parameters
    ----------
    amplitude : float or (n,) array_like
        The output of one spike times ``dt`` (per unit, for an array).
    initial_state : dict, optional
        Initial ``voltage`` (default 0.5 for all units).
    """

    state = {"voltage": nengo.dists.Choice([0.5])}
    spiking = True
    negative = True
    amplitude = PositiveParam("amplitude")

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


class TickedIntegrateFire(SignedIntegrateFire):
    """`SignedIntegrateFire` units stepped ``ticks`` times per simulator step, their
    spikes fed back to each other at every tick (the sub-ticks of `SpikingMemory`).

    Per step, with the input ``J`` held: ``ticks`` times ``v += (J + c) dt``,
    ``n = floor(v)``, ``v -= n``, ``c += coupling n``; the output is ``amplitude``
    times the step's spikes over ``dt``. ``c``, the current the units' spikes feed
    back (state ``recurrent``), is the synaptic state of that recurrence; the states
    ``positive`` and ``negative`` count the step's spikes of each sign, which the
    output (their difference) cannot tell apart.

    Parameters
    ----------
    amplitude : float or (n,) array_like
        As for `SignedIntegrateFire`.
    coupling : (n, n) array_like
        The current into each unit (rows) per spike of each unit (columns).
    ticks : int
        Sub-steps per simulator step (at least 2).
    initial_state : dict, optional
        Initial ``voltage`` (default 0.5 for all units).
    """

    state = {
        "voltage": nengo.dists.Choice([0.5]),
        "recurrent": nengo.dists.Choice([0.0]),
        "positive": nengo.dists.Choice([0.0]),
        "negative": nengo.dists.Choice([0.0]),
    }
    coupling = NdarrayParam("coupling", shape=("*", "*"))
    ticks = IntParam("ticks", low=2)

    def __init__(self, amplitude, coupling, ticks, initial_state=None):
        super().__init__(amplitude, initial_state)
        self.coupling = coupling
        self.ticks = ticks

    def step(self, dt, J, output, voltage, recurrent, positive, negative):
        total = np.zeros_like(voltage)
        positive[...] = negative[...] = 0
        for _ in range(self.ticks):
            voltage += dt * (J + recurrent)
            n_spikes = np.floor(voltage)
            voltage -= n_spikes
            recurrent += self.coupling @ n_spikes
            total += n_spikes
            positive += np.maximum(n_spikes, 0)
            negative -= np.minimum(n_spikes, 0)
        output[...] = (self.amplitude / dt) * total


def tick_system(A, B, ticks):
    """``(A_k, B_k)``: the discrete system whose ``ticks`` steps, with the input
    held, make one step of ``(A, B)`` (the ``ticks``-th root of ``[[A, B], [0,
    I]]``, real; a ValidationError if it has none, e.g. for an ``A`` with
    eigenvalues on the negative real axis)."""
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    n, d = B.shape
    step = np.eye(n + d)
    step[:n, :n], step[:n, n:] = A, B
    root = scipy.linalg.fractional_matrix_power(step, 1.0 / ticks)
    real = np.real(root)
    if not (
        np.all(np.isfinite(root))
        and np.allclose(np.imag(root), 0, atol=1e-9)
        and np.allclose(np.linalg.matrix_power(real, ticks), step, atol=1e-8)
    ):
        raise ValidationError(
            f"The memory's step has no real {ticks}-th root (A has eigenvalues on "
            f"or near the negative real axis, or is singular): use ticks=1",
            attr="ticks",
        )
    return real[:n, :n], real[:n, n:]


def _ticks(A, B, ticks, given):
    """The system of one of ``ticks`` ticks of ``(A, B)``: ``given`` (checked), else
    `tick_system`."""
    if given is None:
        return tick_system(A, B, ticks)
    A_k, B_k = (np.asarray(x, dtype=np.float64) for x in given)
    step = np.eye(len(A) + B.shape[1])
    step[: len(A), : len(A)], step[: len(A), len(A) :] = A_k, B_k
    made = np.linalg.matrix_power(step, ticks)[: len(A)]
    target = np.hstack([A, B]) if A_k.shape == A.shape and B_k.shape == B.shape else 0
    # to 1e-5 of the largest entry: a basis T of condition c (``balanced_basis``)
    # makes the float rounding of a system given as data (~1e-8) up to c times larger
    if np.shape(target) != made.shape or not (
        np.max(np.abs(made - target)) <= 1e-5 * max(1.0, np.max(np.abs(target)))
    ):
        raise ValidationError(
            f"Must be (A_k, B_k) of shapes {A.shape}, {B.shape} whose {ticks} steps "
            "with the input held make one step of (A, B)",
            attr="tick_system",
        )
    return A_k, B_k


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
    delta : float or (n,) array_like
        The state carried by one spike: the quantization step of the state, for all
        dimensions or per dimension (e.g. `budget_delta`).
    dt : float
        The simulator time step the discrete system is stepped at.
    ticks : int
        Sub-steps per step (`tick_system`), with the input held: the units fire and
        feed their spikes back at every tick (`TickedIntegrateFire`), so the
        recurrence passes on the rounding residue averaged over the ticks rather
        than the residue at the end of the step, for about the same spikes per step
        (``benchmarks/fully_spiking.py``). 1 (default): one tick, the recurrence
        a connection (``recurrent_connection``).
    tick_system : (A_k, B_k), optional
        With ticks: the system of one tick, whose ``ticks`` steps with the input
        held must make one of ``(A, B)`` (e.g. an analog system discretized at
        ``dt / ticks``). Default: `tick_system` (the real root of the step).
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
        ``u`` to the units (``B``; ``B_k`` per tick), the units to themselves (``A -
        I``, through `INTEGRATE`; None with ticks, where the units' ``coupling`` is
        ``A_k - I``) and the units to `output`. NengoDL does not train them, nor the
        units' bias: the memory steps a fixed system.
    """

    delta = PositiveParam("delta", readonly=True)
    dt = NumberParam("dt", low=0, low_open=True, readonly=True)
    ticks = IntParam("ticks", low=1, readonly=True)

    def __init__(self, A, B, delta, dt, ticks=1, tick_system=None, **kwargs):
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
        self.delta, self.dt, self.ticks = delta, dt, ticks
        n = A.shape[0]
        if np.ndim(self.delta) == 1 and len(self.delta) != n:
            raise ValidationError(
                f"Must be a number or one per state dimension, shape ({n},) (got "
                f"shape {np.shape(self.delta)})",
                attr="delta",
                obj=self,
            )
        if not np.all(np.isfinite(self.delta * dt)):
            raise ValidationError(
                f"delta and dt must be finite (got {delta!r}, {dt!r})",
                attr="delta",
                obj=self,
            )
        gain = np.broadcast_to(1.0 / (self.delta * dt), n)
        if ticks > 1:
            A, B = _ticks(A, B, ticks, tick_system)
            # a spike of unit j adds (A_k - I)_ij delta_j to state i: current g_i times it
            coupling = gain[:, None] * (A - np.eye(n)) * np.broadcast_to(self.delta, n)
            units = TickedIntegrateFire(self.delta * dt, coupling, ticks)
        else:
            units = SignedIntegrateFire(amplitude=self.delta * dt)
        with self:
            self.input = nengo.Node(size_in=B.shape[1], label="u")
            self.ensemble = nengo.Ensemble(
                n,
                1,
                neuron_type=units,
                gain=gain,
                bias=nengo.dists.Choice([0.0]),
                label="memory units",
            )
            self.neurons = self.ensemble.neurons
            self.input_connection = nengo.Connection(
                self.input, self.neurons, transform=B, synapse=None
            )
            self.recurrent_connection = None
            if ticks == 1:
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
            if obj is not None:
                configure_trainable(self, obj, False)  # a fixed system (see `.LMU`)

    def read(self, delayed):
        """``(pre, synapse)`` of a connection reading the state: at this step, or at
        the last one if ``delayed``."""
        return (self.neurons, INTEGRATE) if delayed else (self.output, None)

    @property
    def n_neurons(self):
        """The number of memory units."""
        return self.ensemble.n_neurons


def budget_delta(A, B, readout, feedback=None, error=ERROR, recurrence=False):
    """A ``delta`` per state dimension that spends the spikes where they are read.

    Rounding dimension ``i`` of the state to ``delta_i`` adds an error of variance
    about ``w_i^2 delta_i^2 / 12`` to what reads the memory, and its unit fires about
    ``sigma_i / delta_i`` spikes per step (``sigma_i`` the size of its increments).
    Minimizing the error for a given number of spikes gives ``delta_i`` proportional
    to ``(sigma_i / w_i^2)^(1/3)``; the scale makes the error per reader ``error``
    (RMS). Both come from the system and the weights alone: ``sigma_i`` is the
    increments' standard deviation for white input, from the controllability Gramian
    ``P = A P A^T + B B^T`` (``(A - I) P (A - I)^T + B B^T``), and
    ``w_i^2 = ||readout[:, i]||^2 + sum_k feedback[k, i]^2 B_k^T O B_k``, where the
    second term is the error that dimension's rounding feeds back into the memory's
    input, which the memory integrates (``O = A^T O A + readout^T readout``, the
    observability Gramian); with ``recurrence``, plus ``((I - A)^T O (I - A))_ii``,
    the part of the residue the recurrence passes on (see the module's Notes), as
    `balanced_basis` counts it. A dimension that is hardly reached or read is treated as
    one at 1/100 of the mean, so that no ``delta_i`` is 0 or infinite.

    Parameters
    ----------
    A : (n, n) array_like
        The discrete state matrix (stable: all eigenvalues inside the unit circle).
    B : (n, d) array_like
        The discrete input matrix.
    readout : (m, n) array_like
        The weights of the state in what reads it (an LMU's ``memory_kernel``).
    feedback : (d, n) array_like, optional
        The weights of the state in the memory's input (``memory_encoders``).
    error : float
        The RMS error the rounding adds to each of the ``m`` readers (an LMU's
        hidden pre-activations). The default was chosen on the validation images of
        psMNIST (``benchmarks/spike_budget.py``), without ``recurrence``.
    recurrence : bool
        Count the rounding residue the recurrence passes on in the weights (the
        error estimate then grows: the same ``error`` gives a smaller ``delta``).

    Returns
    -------
    (n,) ndarray
        ``delta`` for `SpikingMemory`.
    """
    if not (isinstance(error, (int, float, np.number)) and 0 < error < np.inf):
        raise ValidationError(f"Must be a finite number > 0 (got {error!r})", "error")
    A, B, readout = _checked(A, B, readout)
    P = scipy.linalg.solve_discrete_lyapunov(A, B @ B.T)
    E = A - np.eye(len(A))
    sigma2 = np.diag(E @ P @ E.T + B @ B.T)
    sigma2 = np.maximum(sigma2, 1e-4 * np.mean(sigma2))  # 1/100 of sigma
    weight2 = _weights(A, B, readout, feedback, recurrence)
    shape = (np.sqrt(sigma2) / weight2) ** (1 / 3)
    estimate = rounding_error(shape, A, B, readout, feedback, recurrence)
    return shape * (error / estimate)


def rounding_error(delta, A, B, readout, feedback=None, recurrence=False):
    """The RMS error per reader that rounding the state to ``delta`` adds (the
    estimate `budget_delta` scales to: ``sqrt(sum_i w_i^2 delta_i^2 / 12 / m)``).

    Parameters
    ----------
    delta : float or (n,) array_like
        The state of one spike, for all dimensions or per dimension.
    A, B, readout, feedback, recurrence :
        As for `budget_delta`.

    Returns
    -------
    float
    """
    A, B, readout = _checked(A, B, readout)
    weight2 = _weights(A, B, readout, feedback, recurrence)
    return float(np.sqrt(np.sum(weight2 * np.asarray(delta) ** 2) / 12 / len(readout)))


def balanced_basis(A, B, readout, feedback=None):
    """The state basis in which rounding the state costs the fewest spikes.

    A similarity transform ``T`` (state ``T m``: ``T A T^-1``, ``T B``, ``readout
    T^-1``, ``feedback T^-1``) leaves the memory and all it drives the same, but
    changes what `SpikingMemory` quantizes: the increments of each state dimension,
    and the rounding residue ``r`` (within ``delta_i / 2`` per dimension). With
    `budget_delta`'s ``delta_i``, the spikes per step at a given error per reader
    scale as ``(sum_i (q_i w_i)^(1/3))^(3/2)``, ``q_i`` the variance of dimension
    ``i``'s increments and ``w_i`` the weight of its rounding in what reads the
    memory; the sum is smallest when the increments' covariance ``Q`` and the
    rounding's weight matrix ``W`` are equal and diagonal (a balanced realization of
    the pair, as in Mullis and Roberts' minimum-roundoff-noise filters): ``T Q T^T =
    T^-T W T^-1 = diag(sigma)``, ``sigma`` descending. ``Q = (A - I) P (A - I)^T + B
    B^T`` for white input (``P = A P A^T + B B^T``); ``W = readout^T readout + (I -
    A)^T O (I - A) + sum_k (B_k^T O B_k) feedback_k^T feedback_k`` (``O = A^T O A +
    readout^T readout``): the residue read directly, the part ``(I - A) r`` that the
    recurrence passes on and the memory integrates, and the residue fed back into
    the memory's input.

    Parameters
    ----------
    A, B, readout, feedback :
        As for `budget_delta`.

    Returns
    -------
    (n, n) ndarray
        ``T``: the balanced state is ``T m``. Directions of ``Q`` or ``W`` below
        ``1e-12`` of their largest value are treated as at that level, so ``T`` is
        invertible; each row's largest entry is positive, so ``T`` is unique when
        the ``sigma`` are distinct.
    """
    A, B, readout = _checked(A, B, readout)
    eye = np.eye(len(A))
    P = scipy.linalg.solve_discrete_lyapunov(A, B @ B.T)
    increments = (A - eye) @ P @ (A - eye).T + B @ B.T
    observed = scipy.linalg.solve_discrete_lyapunov(A.T, readout.T @ readout)
    weight = readout.T @ readout + (eye - A).T @ observed @ (eye - A)
    if feedback is not None:
        feedback = np.asarray(feedback, dtype=np.float64)
        gain = np.einsum("ik,ij,jk->k", B, observed, B)  # B_k^T O B_k
        weight = weight + feedback.T @ (gain[:, None] * feedback)
    root = _psd_root(increments)  # increments = root root^T
    U, sigma2, _ = np.linalg.svd(root.T @ weight @ root)
    sigma = np.sqrt(np.maximum(sigma2, 1e-12 * sigma2[0]))
    T = np.linalg.inv(root @ U / np.sqrt(sigma))
    sign = np.sign(T[np.arange(len(T)), np.argmax(np.abs(T), axis=1)])
    return sign[:, None] * T


def _psd_root(X):
    """``L`` with ``L L^T = X`` for a symmetric positive semi-definite ``X`` (its
    eigenvalues below ``1e-12`` of the largest raised to that level)."""
    values, vectors = np.linalg.eigh((X + X.T) / 2)
    if not values[-1] > 0:
        raise ValidationError(
            "The memory is neither driven nor read (a Gramian is 0): it has no "
            "balanced basis",
            attr="readout",
        )
    return vectors * np.sqrt(np.maximum(values, 1e-12 * values[-1]))


def _checked(A, B, readout):
    """``A``, ``B`` (n, d), ``readout`` as float arrays; a ValidationError unless the
    shapes agree and the system is stable."""
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    B = B[:, None] if B.ndim == 1 else B
    readout = np.asarray(readout, dtype=np.float64)
    n = A.shape[0]
    if readout.ndim != 2 or readout.shape[1] != n:
        raise ValidationError(
            f"Must have shape (m, {n}) (got {readout.shape})", attr="readout"
        )
    if np.max(np.abs(np.linalg.eigvals(A))) >= 1:
        raise ValidationError(
            "The memory system is not stable (an eigenvalue of A on or outside the "
            "unit circle), so its increments have no stationary size: give delta as "
            "a number or one per dimension",
            attr="A",
        )
    return A, B, readout


def _weights(A, B, readout, feedback, recurrence=False):
    """``w_i^2`` of `budget_delta` (at least 1/100 of their mean)."""
    weight2 = np.sum(readout**2, axis=0)
    if feedback is not None or recurrence:
        observed = scipy.linalg.solve_discrete_lyapunov(A.T, readout.T @ readout)
    if feedback is not None:
        gain = np.einsum("ik,ij,jk->k", B, observed, B)  # B_k^T O B_k
        weight2 = weight2 + np.asarray(feedback, dtype=np.float64).T ** 2 @ gain
    if recurrence:
        passed = np.eye(len(A)) - A
        weight2 = weight2 + np.einsum("ji,jk,ki->i", passed, observed, passed)
    if not np.any(weight2 > 0):
        raise ValidationError(
            "Nothing reads the memory (readout and feedback are 0): give delta as a "
            "number",
            attr="readout",
        )
    return np.maximum(weight2, 1e-2 * np.mean(weight2))


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
