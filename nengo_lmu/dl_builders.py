"""Native NengoDL (TensorFlow) builders for the `.SimLinearSystem`, `.SimLMU` and
`.SimDense` operators, and spike-aware training of `.SpikeAwareRegularSpiking` neurons.

Imported lazily by `nengo_lmu.builders` when a model is built while NengoDL is loaded
(any model with a nengo_lmu network, memory, system or neuron type). NengoDL's own
handling of `nengo.RegularSpiking` (trained as its rate) is left as it is.
"""

import nengo
import numpy as np
import scipy.linalg
import tensorflow as tf
from nengo_dl import compat
from nengo_dl.builder import Builder, OpBuilder
from nengo_dl.neuron_builders import (
    RegularSpikingBuilder,
    SimNeuronsBuilder,
    TFNeuronBuilder,
)

from nengo_lmu.builders import SimDense, SimLinearSystem, SimLMU
from nengo_lmu.compat import read_once_per_run
from nengo_lmu.neurons import SpikeAwareRegularSpiking
from nengo_lmu.spiking_memory import SignedIntegrateFire, TickedIntegrateFire


def discretize_legendre(memory, rate, dtype):
    """``(A^T, b)`` of a `.LegendreMemory` with a theta input, discretized at
    ``rate = dt / theta`` (a tensor of any shape, giving ``A^T`` of shape
    ``rate.shape + (order, order)`` and ``b`` of ``rate.shape + (order,)``).

    Zero-order hold takes the matrix exponential of ``rate [[A', 0], [B'^T, 0]]``
    (``A'``, ``B'`` the unit-window system, `.LegendreMemory.unit_system`), whose
    top rows are ``A_d^T`` and last row ``B_d^T``: differentiable in ``rate``, and
    the very matrix keras-lmu's ``trainable_theta`` exponentiates.
    """
    A, B, _, _ = memory.unit_system.ss
    n = A.shape[0]
    rate = tf.convert_to_tensor(rate, dtype=dtype)[..., None, None]
    if memory.method == "zoh":
        M = np.zeros((n + 1, n + 1))
        M[:n, :n], M[n, :n] = A.T, B[:, 0]
        E = tf.linalg.expm(rate * tf.constant(M, dtype=dtype))
        return E[..., :n, :n], E[..., n, :n]
    return (
        tf.eye(n, dtype=dtype) + rate * tf.constant(A.T, dtype=dtype),
        rate[..., 0] * tf.constant(B[:, 0], dtype=dtype),
    )


@Builder.register(SimLinearSystem)
class SimLinearSystemBuilder(OpBuilder):
    """Step a group of identical linear systems as one batched matrix product.

    The merged state has shape ``(minibatch, dimensions, order)``; each step computes
    ``X = X A^T + u b^T`` for all dimensions of all merged operators at once. A
    `.LegendreMemory` with a theta input runs alone, with ``A`` and ``b`` discretized
    in every step at each minibatch item's ``dt / theta``.
    """

    def build_pre(self, signals, config):
        super().build_pre(signals, config)
        op = self.ops[0]
        A, B, C, D = op.discrete_ss(op.dt)
        self.outputs_state = op.outputs_state
        self.input_data = signals.combine([op.input for op in self.ops])
        self.output_data = signals.combine([op.output for op in self.ops])
        self.state_data = signals.combine([op.state["X"] for op in self.ops])
        self.order = A.shape[0]
        self.theta_input = getattr(op.process, "theta_input", False)
        self.process = op.process
        self.AT = tf.constant(A.T, dtype=signals.dtype)
        self.b = tf.constant(B[:, 0], dtype=signals.dtype)
        if not self.outputs_state:
            self.c = tf.constant(C[0], dtype=signals.dtype)
            self.d = float(D.item())

    def build_step(self, signals):
        u = signals.gather(self.input_data)  # (minibatch, dims)
        X = signals.gather(self.state_data)  # (minibatch, dims, order)
        if self.theta_input:  # discretized at each item's dt / theta (the last input)
            AT, b = discretize_legendre(self.process, u[:, -1], signals.dtype)
            X_new = tf.matmul(X, AT) + u[:, :-1, None] * b[:, None, :]
        else:
            X_new = (
                tf.reshape(
                    tf.matmul(tf.reshape(X, (-1, self.order)), self.AT), tf.shape(X)
                )
                + u[..., None] * self.b
            )
        signals.scatter(self.state_data, X_new)

        if self.outputs_state:
            y = tf.reshape(X_new, (tf.shape(X)[0], -1))
        elif self.d == 0:
            y = tf.reduce_sum(X_new * self.c, axis=-1)
        else:
            y = tf.reduce_sum(X * self.c, axis=-1) + self.d * u
        signals.scatter(self.output_data, y)

    @staticmethod
    def mergeable(x, y):
        return x.merge_key == y.merge_key


ACTIVATIONS = {  # as NengoDL's neuron builders compute them (x / 1 == x exactly)
    type(None): lambda neurons, J: J,  # a node: the identity
    nengo.Tanh: lambda neurons, J: (
        tf.nn.tanh(J) if neurons.tau_ref == 1 else tf.nn.tanh(J) / neurons.tau_ref
    ),
    nengo.Sigmoid: lambda neurons, J: (
        tf.nn.sigmoid(J) if neurons.tau_ref == 1 else tf.nn.sigmoid(J) / neurons.tau_ref
    ),
    nengo.RectifiedLinear: lambda neurons, J: (
        tf.nn.relu(J) if neurons.amplitude == 1 else tf.nn.relu(J) * neurons.amplitude
    ),
}


@tf.custom_gradient
def floor_straight_through(v):
    """``floor(v)``, with the gradient of the identity (straight-through estimator)."""
    return tf.floor(v), lambda dy: dy


class SpikeAwareRegularSpikingBuilder(RegularSpikingBuilder):
    """`.SpikeAwareRegularSpiking` neurons stepped as NengoDL steps them in
    inference, in training too: spikes in the forward pass, the gradient of their
    rate in the backward pass (`floor_straight_through`), as `.SimLMU` trains them in
    the fused build.

    NengoDL's own builder, which it keeps for `nengo.RegularSpiking`, trains such
    neurons as their rates (spikes only in inference); this one is registered for
    `.SpikeAwareRegularSpiking` in NengoDL's table of neuron builders.
    """

    spiking = False  # the same step in training and inference

    def step(self, J, dt, voltage):
        voltage = voltage + J * dt
        n_spikes = floor_straight_through(voltage)
        return n_spikes * self.alpha, voltage - n_spikes


SimNeuronsBuilder.TF_NEURON_IMPL[SpikeAwareRegularSpiking] = (
    SpikeAwareRegularSpikingBuilder
)


@Builder.register(SimLMU)
class SimLMUBuilder(OpBuilder):
    """Step one LMU cell: a few matrix products on the batch, no intermediate
    signals (see `.SimLMU`)."""

    def build_pre(self, signals, config):
        super().build_pre(signals, config)
        assert len(self.ops) == 1  # never merged (see OpBuilder.mergeable)
        op = self.ops[0]
        self.x = signals[op.x]
        self.weights = {name: signals[sig] for name, sig in op.weights.items()}
        self.shapes = op.weight_shapes  # (a 1 x 1 weight may be a scalar signal)
        self.memory, self.hidden = signals[op.memory], signals[op.hidden]
        self.output = signals[op.output]
        self.neuron_type = op.neuron_type
        if op.voltage is not None:  # regular spiking
            self.neuron_type = op.neuron_type.base_type
            self.voltage = signals[op.voltage]
            self.spike_size = op.neuron_type.amplitude / op.dt
            self.dt = tf.constant(op.dt, dtype=signals.dtype)
        self.activation = ACTIVATIONS[type(self.neuron_type)]
        self.memory_d = op.memory_d
        self.unit_states = [signals[sig] for sig in op.unit_states]
        if op.memory_units is not None:  # a spiking memory
            self.spikes = signals[op.spikes]
            self.gain = tf.constant(op.memory_units.gain, dtype=signals.dtype)
            amplitude = tf.constant(op.memory_units.amplitude, dtype=signals.dtype)
            self.alpha = amplitude / signals.dt  # as NengoDL's neuron builders
            self.ticks = op.memory_units.ticks
            self.counts = [signals[sig] for sig in op.spike_counts]
            if self.ticks > 1:
                coupling = op.memory_units.coupling.T
                self.coupling_T = tf.constant(coupling, dtype=signals.dtype)
        if "theta" in op.weights:  # discretized at the trained dt / theta per run
            del self.weights["theta"]
            self.order = op.memory_process.order
            self.AT, self.b = discretize_legendre(
                op.memory_process,
                tf.reshape(read_once_per_run(signals, op.weights["theta"]), ()),
                signals.dtype,
            )
        elif op.memory_process is not None:
            A, B, _, _ = op.memory_process.discrete_system(op.dt).ss
            self.order = A.shape[0]
            self.AT = tf.constant(A.T, dtype=signals.dtype)
            self.b = tf.constant(B[:, 0], dtype=signals.dtype)

    def build_step(self, signals):
        w = {
            name: tf.reshape(signals.gather(sig), self.shapes[name])
            for name, sig in self.weights.items()
        }
        x, m, h = (signals.gather(s) for s in (self.x, self.memory, self.hidden))
        units = [signals.gather(s) for s in self.unit_states]

        def dot(name, v):
            return tf.matmul(v, w[name], transpose_b=True)

        def term(name, v, held):
            """``W v`` (``b`` for v None), or ``held[name]``: what a synapse holds."""
            if name in held:
                return held[name]
            return w[name][:, 0] if v is None else dot(name, v)

        def total(size, terms, held=()):
            """Sum of the present terms (see ``term``); zeros if none."""
            values = [term(name, v, held) for name, v in terms if name in w]
            if not values:
                return tf.zeros((signals.minibatch_size, size), signals.dtype)
            return sum(values[1:], values[0])

        u = total(
            self.memory_d,
            [
                ("input_encoders", x),
                ("hidden_encoders", h),
                ("memory_encoders", m),
                ("memory_bias", None),
            ],
            held={"memory_encoders": units[2]} if len(units) > 2 else {},
        )
        if units:
            m = self.step_units(signals, dot, u, m, units)
        elif "A" in w:
            m = dot("A", m) + dot("B", u)
        else:  # each of the memory_d rows of m steps with the process' A and B
            m = tf.reshape(
                tf.matmul(tf.reshape(m, (-1, self.order)), self.AT)
                + tf.reshape(u, (-1, 1)) * self.b,
                (signals.minibatch_size, -1),
            )
        h = self.activation(
            self.neuron_type,
            total(
                self.hidden.shape[0],
                [
                    ("input_kernel", x),
                    ("hidden_kernel", h),
                    ("memory_kernel", m),
                    ("hidden_bias", None),
                ],
            ),
        )
        if self.ops[0].voltage is not None:
            v = signals.gather(self.voltage) + h * self.dt
            n = floor_straight_through(v)
            signals.scatter(self.voltage, v - n)
            h = n * self.spike_size
        signals.scatter(self.memory, m)
        signals.scatter(self.hidden, h)
        signals.scatter(self.output, h)

    def step_units(self, signals, dot, u, s, states):
        """Step the units of a spiking memory (see `.SimLMU`): scatter their spikes
        and states, and return the new state ``s``."""
        v, r, *r_e = states
        J = self.gain * dot("units_input", u)
        if self.ticks == 1:
            v = v + (J + self.gain * r) * signals.dt
            n = floor_straight_through(v)
            o = n * self.alpha
            new, counts = [v - n, r + dot("units_recurrent", o)], []
        else:  # as `.dl_builders.TickedIntegrateFireBuilder`
            total, v, r, *counts = step_ticks(
                J, signals.dt, v, r, self.coupling_T, [1.0] * self.ticks
            )
            o = total * self.alpha
            new = [v, r]
        if r_e:
            new.append(r_e[0] + dot("memory_encoders", o))
        for sig, value in zip(self.unit_states + self.counts, new + counts):
            signals.scatter(sig, value)
        signals.scatter(self.spikes, o)
        return s + o


@Builder.register(SimDense)
class SimDenseBuilder(OpBuilder):
    """Compute ``y = x W^T + b`` on the batch (see `.SimDense`)."""

    def build_pre(self, signals, config):
        super().build_pre(signals, config)
        assert len(self.ops) == 1  # never merged
        self.x, self.kernel, *self.bias = (signals[s] for s in self.ops[0].reads)
        self.y = signals[self.ops[0].sets[0]]
        self.shape = (self.y.shape[0], self.x.shape[0])  # of W (a 1 x 1 may be scalar)

    def build_step(self, signals):
        kernel = tf.reshape(signals.gather(self.kernel), self.shape)
        y = tf.matmul(signals.gather(self.x), kernel, transpose_b=True)
        if self.bias:
            y += tf.reshape(signals.gather(self.bias[0]), self.shape[:1])
        signals.scatter(self.y, y)


class SignedIntegrateFireBuilder(TFNeuronBuilder):
    """Step `.SignedIntegrateFire` units as Nengo does, in training too: the spikes
    are the forward pass, and the gradient passes through ``floor`` as if it were the
    identity (spike-aware training; the voltage carries no gradient). The amplitude
    may differ per unit (a per-dimension ``delta`` of `.SpikingMemory`)."""

    def build_pre(self, signals, config):
        # TFNeuronBuilder's, with amplitudes per unit (it takes one per operator)
        super(TFNeuronBuilder, self).build_pre(signals, config)
        amplitude = np.concatenate(
            [np.broadcast_to(op.neurons.amplitude, op.J.shape) for op in self.ops]
        )
        if np.all(amplitude == amplitude[0]):
            amplitude = amplitude[:1]
        self.amplitude = tf.constant(amplitude[None, :], dtype=signals.dtype)
        self.alpha = self.amplitude / signals.dt
        self.J_data = signals.combine([op.J for op in self.ops])
        self.output_data = signals.combine([op.output for op in self.ops])
        self.state_data = {
            state: signals.combine([compat.neuron_state(op)[state] for op in self.ops])
            for state in compat.neuron_state(self.ops[0])
        }

    def step(self, J, dt, voltage):
        v = voltage + J * dt
        n_spikes = floor_straight_through(v)
        return n_spikes * self.alpha, v - n_spikes


SimNeuronsBuilder.TF_NEURON_IMPL[SignedIntegrateFire] = SignedIntegrateFireBuilder


def step_ticks(J, dt, voltage, recurrent, coupling_T, active):
    """One step of `.TickedIntegrateFire` units (batch, n): a tick per entry of
    ``active`` (1, or per unit 1 while its ticks last, else 0), ``floor``
    straight-through. Returns the step's spikes, the new voltage and recurrent
    current, and the step's positive and negative spikes."""
    total = positive = negative = tf.zeros_like(voltage)
    for tick in active:
        voltage = voltage + tick * (J + recurrent) * dt
        n_spikes = floor_straight_through(voltage)
        voltage = voltage - n_spikes
        recurrent = recurrent + tf.matmul(n_spikes, coupling_T)
        total += n_spikes
        positive += tf.nn.relu(n_spikes)
        negative += tf.nn.relu(-n_spikes)
    return total, voltage, recurrent, positive, negative


class TickedIntegrateFireBuilder(SignedIntegrateFireBuilder):
    """Step `.TickedIntegrateFire` units as Nengo does (straight-through ``floor``
    in training, as `SignedIntegrateFireBuilder`): merged populations step together,
    each fed back by its own ``coupling`` (a block-diagonal matrix) and stepping its
    own ``ticks`` (a unit whose ticks are done is held: its voltage stays below 1)."""

    def build_pre(self, signals, config):
        super().build_pre(signals, config)
        ticks = np.concatenate(
            [np.full(op.J.shape, op.neurons.ticks) for op in self.ops]
        )
        self.active = [
            tf.constant((ticks > i)[None, :], dtype=signals.dtype)
            for i in range(ticks.max())
        ]
        coupling = scipy.linalg.block_diag(*(op.neurons.coupling for op in self.ops))
        self.coupling_T = tf.constant(coupling.T, dtype=signals.dtype)

    def step(self, J, dt, voltage, recurrent, positive, negative):
        total, *states = step_ticks(
            J, dt, voltage, recurrent, self.coupling_T, self.active
        )
        return (total * self.alpha, *states)


SimNeuronsBuilder.TF_NEURON_IMPL[TickedIntegrateFire] = TickedIntegrateFireBuilder
