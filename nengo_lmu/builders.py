"""Nengo builders: linear systems and memories as `SimLinearSystem` operators, and
the fused NengoDL builds of `.LMU` and `.Dense` (`SimLMU`, `SimDense`).

`SimLinearSystem` is a `nengo.builder.processes.SimProcess`, so the reference
simulator steps it with the process' own ``make_step``. It is a distinct type so that
NengoDL, which looks its operator builders up by exact type, uses the native TensorFlow
builder in `nengo_lmu.dl_builders` instead of wrapping the process in a numpy function.

`.LMU` and `.Dense` networks build from their Nengo objects on every simulator. When
the model is built for NengoDL, the operators of those objects are then replaced by one
`SimLMU` or `SimDense` operator on the same signals, whenever that is exact (see
`build_lmu`): NengoDL then runs a few TensorFlow operations per step instead of some
twenty operator groups, which makes training several times faster.

`nengo_lmu.dl_builders` is imported (and its builders registered) the first time a
model is built while NengoDL is loaded, so plain Nengo use never imports TensorFlow.
"""

import sys

import nengo
import numpy as np
from nengo.builder import Builder, Operator, Signal
from nengo.builder.network import build_network
from nengo.builder.neurons import build_rates_to_spikes
from nengo.builder.operator import Reset
from nengo.builder.processes import SimProcess
from nengo.exceptions import ConfigError, ValidationError

from nengo_lmu import compat
from nengo_lmu.lmu import LMU, Dense
from nengo_lmu.memory import LegendreMemory, LinearSystemState
from nengo_lmu.networks import DelayNetwork
from nengo_lmu.neurons import SpikeAwareRegularSpiking
from nengo_lmu.spiking_memory import (
    INTEGRATE,
    SignedIntegrateFire,
    SpikingMemory,
    TickedIntegrateFire,
)
from nengo_lmu.systems import LinearSystem


class SimLinearSystem(SimProcess):
    """Step a `.LinearSystem` synapse or a `.LinearSystemState` process.

    Same signals and semantics as `nengo.builder.processes.SimProcess`, with the state
    ``X`` of shape ``(input dimensions, order)`` and the model's time step ``dt``.
    """

    def __init__(self, process, input, output, t, dt, **kwargs):
        # pylint: disable=redefined-builtin
        super().__init__(process, input, output, t, **kwargs)
        self.dt = dt

    @property
    def outputs_state(self):
        """True if the output is the state itself (a `.LinearSystemState`)."""
        return isinstance(self.process, LinearSystemState)

    def discrete_ss(self, dt):
        """The discrete ``(A, B, C, D)`` stepped at ``dt`` (C, D are None when the
        output is the state)."""
        if self.outputs_state:
            A, B, _, _ = self.process.discrete_system(dt).ss
            return A, B, None, None
        return self.process.discrete_ss(dt)

    @property
    def merge_key(self):
        """Operators with equal keys step the same system and can run as one."""
        if getattr(self.process, "theta_input", False):
            return self  # discretized from its own input: runs alone
        if self.outputs_state:
            return ("state", self.mode, self.process.system, self.process.method)
        return ("synapse", self.mode, self.process)


@Builder.register(LinearSystem)
@Builder.register(LinearSystemState)
def build_linear_system(model, process, sig_in, sig_out=None, mode="set"):
    """Add a `.SimLinearSystem` operator for ``process`` reading ``sig_in``.

    Called by Nengo's builder for synapses (``mode="update"``) and node outputs
    (``mode="set"``); returns the output signal.
    """
    if "nengo_dl" in sys.modules:
        import nengo_lmu.dl_builders  # noqa: F401 (registers the TensorFlow builder)

    if sig_out is None:
        sig_out = Signal(shape=sig_in.shape, name=f"{sig_in.name}.{process}")
    X = process.make_state(sig_in.shape, sig_out.shape, model.dt, dtype=sig_out.dtype)
    state = {"X": Signal(X["X"], name=f"{process}.X")}
    model.sig[process]["_state_X"] = state["X"]
    model.add_op(
        SimLinearSystem(
            process,
            sig_in,
            sig_out,
            model.time,
            model.dt,
            mode=mode,
            state=state,
            tag=str(process),
        )
    )
    return sig_out


FUSED_NEURON_TYPES = (nengo.Tanh, nengo.Sigmoid, nengo.RectifiedLinear)
"""Hidden neuron types (exact types) that `.SimLMU` computes exactly as NengoDL does;
also as the base type of a `.SpikeAwareRegularSpiking` (a plain `nengo.RegularSpiking`,
which NengoDL trains as its rate, keeps the standard build)."""


def _fused_type(neuron_type):
    """True if `.SimLMU` computes ``neuron_type`` (see `FUSED_NEURON_TYPES`)."""
    if type(neuron_type) is SpikeAwareRegularSpiking:
        neuron_type = neuron_type.base_type
    return type(neuron_type) in FUSED_NEURON_TYPES


class MemoryUnits:
    """The units of an LMU's `.SpikingMemory` as `SimLMU` steps them.

    Parameters
    ----------
    model : nengo.builder.Model
        The model the memory was built in.
    memory : SpikingMemory
        The memory.
    encoders : bool
        True if the LMU reads the memory's last state into ``u`` (``memory_encoders``).

    Attributes
    ----------
    spikes : Signal
        The units' output ``alpha n`` (set; what probes of the units read).
    states : list of Signal
        The units' voltage, the state of their recurrence (``(A - I) s`` of the
        recurrent `.INTEGRATE` synapse, or with ticks the units' own ``recurrent``
        current) and, with ``encoders``, that of the synapse reading ``e_m s``
        (updated).
    counts : list of Signal
        With ticks, the units' ``positive`` and ``negative`` spikes of the step
        (set), else [].
    gain, amplitude : (n,) ndarray
        The units' gains and their `.SignedIntegrateFire` amplitudes.
    ticks : int
        The units' sub-steps per step (`.TickedIntegrateFire`), with their
        ``coupling`` (None for one).
    """

    def __init__(self, model, memory, encoders):
        n, d = memory.n_neurons, memory.input.size_in
        signals = model.sig[memory.neurons]
        units = memory.ensemble.neuron_type
        self.ticks = memory.ticks
        self.coupling = units.coupling if self.ticks > 1 else None
        self.spikes = signals["out"]
        self.states = [
            signals["voltage"],
            signals["recurrent"]
            if self.ticks > 1
            else Signal(shape=n, name=f"{memory}.recurrent"),
        ] + ([Signal(shape=d, name=f"{memory}.encoded")] if encoders else [])
        self.counts = (
            [signals["positive"], signals["negative"]] if self.ticks > 1 else []
        )
        self.gain = np.asarray(model.params[memory.ensemble].gain)
        self.amplitude = np.broadcast_to(units.amplitude, (n,)).astype(np.float64)


class SimLMU(Operator):
    """One step of an `.LMU` cell as a single operator (built by NengoDL only).

    With ``w`` the weights of the LMU's connections (absent ones are zero)::

        u = e_x x + e_h h + e_m m + b_u
        m = A m + B u
        h = f(W_x x + W_h h + W_m m + b_h)

    with ``A``, ``B`` from the memory process, or from the weights ``"A"``, ``"B"``
    when they are trained; with a trainable theta, the process' system is discretized
    at the weight ``"theta"`` (``dt / theta``) once per run.

    For a `nengo.RegularSpiking` ``f`` (of a rate type ``g``), the spikes are
    ``n = floor(v + g(J) dt)``, ``v -= n``, ``h = amplitude n / dt``, as Nengo steps it;
    in training the gradient passes through ``floor`` as if it were the identity (the
    straight-through estimator), so training sees the spikes in the forward pass and
    the rate's gradient: spike-aware training.

    For a `.SpikingMemory` (``memory_units``), ``m`` is the state ``s``: the sum of the
    units' outputs ``o`` (``alpha = amplitude / dt`` per spike, per unit). As the
    standard build orders it, the synapses `.INTEGRATE` hold ``r = (A - I) s`` and
    ``r_e = e_m s`` of the last step, and with the weights ``"units_input"`` (``B``)
    and ``"units_recurrent"`` (``A - I``) and the units' gains ``g``::

        u = e_x x + e_h h + r_e + b_u
        v = v + dt (g B u + g r);  n = floor(v);  v -= n;  o = alpha n
        m = m + o;  r = r + (A - I) o;  r_e = r_e + e_m o

    then ``h`` from ``m`` as above; ``floor`` is straight-through in training too, as
    `.dl_builders.SignedIntegrateFireBuilder` trains the units. Units with ticks
    (`.TickedIntegrateFire`, no recurrent connection) repeat the line of ``v`` that
    many times with ``u`` held, ``r`` their ``recurrent`` current (``r += coupling
    n`` at every tick, ``v += dt (g B u + r)``), and count the step's positive and
    negative spikes.

    Parameters
    ----------
    x : Signal
        The LMU's input (read).
    weights : dict
        The weight signal of each of the LMU's connections, by name (read),
        including ``"A"`` and ``"B"`` or ``"theta"`` when those are trainable, and
        ``"units_input"`` and ``"units_recurrent"`` of a `.SpikingMemory`. A
        scalar signal (as ``freeze_params`` writes a 1 x 1 weight) is allowed only
        for a 1 x 1 weight (see ``_plain_weights``).
    weight_shapes : dict
        The (outputs, inputs) shape of each weight, by name.
    memory, hidden : Signal
        The states ``m`` and ``h`` (updated).
    memory_d : int
        The dimensions of ``u``.
    output : Signal
        ``h`` for the objects reading the LMU's output (set).
    neuron_type : nengo.neurons.NeuronType or None
        ``f``: one of `.FUSED_NEURON_TYPES` (or a `nengo.RegularSpiking` of one), or
        None for the identity.
    voltage : Signal or None
        The state ``v`` of `nengo.RegularSpiking` units (updated), else None.
    dt : float
        The model's time step.
    memory_process : LinearSystemState or None
        The memory node's process (its system gives ``A`` and ``B``; a
        `.LegendreMemory` with a theta input for a trainable theta), or None when the
        memory is built from connections or is a `.SpikingMemory`.
    memory_units : MemoryUnits or None
        The units of a `.SpikingMemory` (their spikes set, their states updated).
    tag : str, optional
        A label for debugging.
    """

    def __init__(
        self,
        x,
        weights,
        weight_shapes,
        memory,
        hidden,
        memory_d,
        output,
        neuron_type,
        memory_process,
        dt,
        voltage=None,
        memory_units=None,
        tag=None,
    ):
        super().__init__(tag=tag)
        self.dt = dt
        self.weights = weights
        self.weight_shapes = weight_shapes
        self.memory_d = memory_d
        self.neuron_type = neuron_type
        self.memory_process = memory_process
        self.memory_units = memory_units
        self.sets = [output] + (
            [] if memory_units is None else [memory_units.spikes] + memory_units.counts
        )
        self.incs = []
        self.reads = [x] + list(weights.values())
        self.updates = [memory, hidden] + ([] if voltage is None else [voltage])
        self._n_cell_states = len(self.updates)
        if memory_units is not None:
            self.updates += memory_units.states

    @property
    def x(self):
        """The input signal."""
        return self.reads[0]

    @property
    def output(self):
        """The output signal."""
        return self.sets[0]

    @property
    def memory(self):
        """The memory state signal."""
        return self.updates[0]

    @property
    def hidden(self):
        """The hidden state signal."""
        return self.updates[1]

    @property
    def voltage(self):
        """The state of spiking hidden units, or None."""
        return self.updates[2] if self._n_cell_states > 2 else None

    @property
    def spikes(self):
        """The output of a spiking memory's units, or None."""
        return self.sets[1] if len(self.sets) > 1 else None

    @property
    def spike_counts(self):
        """The positive and negative spikes of a spiking memory's units with ticks
        (see `MemoryUnits`), or []."""
        return self.sets[2:]

    @property
    def unit_states(self):
        """The states of a spiking memory's units (see `MemoryUnits`), or []."""
        return self.updates[self._n_cell_states :]


def _in_nengo_dl(model):
    """True if ``model`` is being built for NengoDL."""
    return "nengo_dl" in sys.modules and isinstance(
        model, sys.modules["nengo_dl"].builder.NengoModel
    )


@Builder.register(SpikeAwareRegularSpiking)
def build_spike_aware_regular_spiking(model, neuron_type, *args, **kwargs):
    """Build `.SpikeAwareRegularSpiking` units as `nengo.RegularSpiking` ones; for
    NengoDL, first register their spike-aware training (`.dl_builders`)."""
    if _in_nengo_dl(model):
        import nengo_lmu.dl_builders  # noqa: F401 (the units' NengoDL builder)
    return build_rates_to_spikes(model, neuron_type, *args, **kwargs)


def _check_dt(model, net, reason):
    """Raise a ValidationError if ``net`` was made for a ``dt`` other than the
    model's."""
    if net.dt is not None and not np.isclose(model.dt, net.dt, rtol=1e-9, atol=0):
        raise ValidationError(
            f"{net} was made for dt={net.dt} ({reason}), but is simulated with "
            f"dt={model.dt}; make it with dt={model.dt}, or simulate with "
            f"dt={net.dt}",
            attr="dt",
            obj=net,
        )


def _passthrough(node):
    """True if ``node`` is a plain `nengo.Node` that passes its input on."""
    return type(node) is nengo.Node and node.output is None


def _constant_one(node):
    """True if ``node`` is a plain `nengo.Node` that outputs the constant 1."""
    return (
        type(node) is nengo.Node
        and isinstance(node.output, np.ndarray)
        and np.array_equal(node.output, [1.0])
    )


def _plain_weights(conn, synapse):
    """True if ``conn`` only multiplies by its weights: a `nengo.Dense` transform whose
    value has the connection's full (outputs, inputs) shape (a scalar or vector value
    means a diagonal, ``c I`` or ``diag(c)``), or a scalar on a 1 x 1 connection
    (as ``freeze_params`` writes a 1 x 1 weight; scalar times the identity is then the
    same 1 x 1 matrix); ``synapse``; no function; no learning rule. Solvers and eval
    points do not apply (these connections never start at an ensemble)."""
    shape = (conn.size_out, conn.size_in)
    return (
        type(conn.transform) is nengo.Dense
        and conn.transform.init_shape in (shape, () if shape == (1, 1) else shape)
        and conn.synapse == synapse
        and conn.function is None
        and not conn.learning_rule_type
    )


def _isolated(model, net, objects, probed=()):
    """True if ``net`` holds just ``objects``, and the rest of ``model`` connects to
    them only into ``net.input`` and from ``net.input`` and ``net.output``, and probes
    only the outputs of those and of ``probed`` (the neurons of ensembles in
    ``objects``, which nothing else may connect to)."""
    if set(net.all_objects) != set(objects):
        return False
    inside = set(objects) | {net.output} | set(probed)
    readable = {net.input, net.output}
    for conn in set(model.toplevel.all_connections) - set(objects):
        if conn.pre_obj in inside - readable or conn.post_obj in inside - {net.input}:
            return False
    return all(
        probe.obj not in inside
        or (probe.obj in readable and probe.attr == "output")
        or (probe.obj in probed and probe.attr in ("output", "positive", "negative"))
        for probe in model.toplevel.all_probes
    )


def _fuse(model, net, n_ops, op):
    """Replace the operators built for ``net`` (``model.operators[n_ops:]``) by
    ``op``, keeping the reset of ``net.input``'s signal."""
    import nengo_lmu.dl_builders  # noqa: F401 (registers the TensorFlow builders)

    x = model.sig[net.input]["in"]
    reset_x = [
        o for o in model.operators[n_ops:] if isinstance(o, Reset) and o.dst is x
    ]
    compat.replace_operators(model, n_ops, reset_x + [op])


def _network_path(top, net):
    """The networks from ``top`` down to ``net`` (empty if ``net`` is not in it)."""
    if top is net:
        return [top]
    for sub in top.networks:
        path = _network_path(sub, net)
        if path:
            return [top] + path
    return []


def _bias_trainable(model, net, ens):
    """The trainable setting of the bias of ``ens`` in ``net`` (True, False, or None:
    not set, so trainable), resolved as NengoDL resolves it: the innermost network
    config that sets it for the neurons, else for the ensemble."""
    configs = [sub.config for sub in _network_path(model.toplevel, net)]

    def setting(obj):
        value = None
        for config in configs:
            try:
                here = config[obj].trainable
            except (AttributeError, ConfigError):
                here = None
            value = value if here is None else here
        return value

    neurons = setting(ens.neurons)
    return setting(ens) if neurons is None else neurons


def _fusable_ensemble(model, lmu):
    """True if `.SimLMU` computes the hidden ensemble's neurons: a type it computes
    (any parameters), unit gain, zero bias that is not trained, no noise. (Encoders,
    intercepts, max rates, radius and eval points do not apply: every connection goes
    to the neurons.)"""
    ens, built = lmu.hidden, model.params[lmu.hidden]
    return (
        type(ens) is nengo.Ensemble
        and _fused_type(ens.neuron_type)
        and ens.noise is None
        and np.all(built.gain == 1)
        and np.all(built.bias == 0)
        and _bias_trainable(model, lmu, ens) is False
    )


def _integrator(node):
    """True if ``node`` sums its input: a `.LinearSystemState` of the discrete
    ``x[t] = x[t-1] + u[t]`` (as `.SpikingMemory.output`)."""
    system = getattr(node.output, "system", None)
    return (
        type(node) is nengo.Node
        and type(node.output) is LinearSystemState
        and not system.analog
        and np.array_equal(system.A, [[1.0]])
        and np.array_equal(system.B, [[1.0]])
    )


def _fusable_nodes(lmu):
    """True if the LMU's nodes compute what `.SimLMU` assumes: passthrough nodes, a
    constant 1, and a memory node stepping a `.LinearSystemState` (a passthrough
    when A and B are connections, an integrator for a `.SpikingMemory`)."""
    memory = lmu.memory
    if hasattr(lmu, "spiking_memory"):
        memory_fusable = _integrator(memory)
    elif "A" in lmu.weight_connections:
        memory_fusable = _passthrough(memory)
    else:
        memory_fusable = type(memory) is nengo.Node and type(memory.output) in (
            LinearSystemState,
            LegendreMemory,
        )
    others = [lmu.input, lmu.memory_input] + (
        [] if isinstance(lmu.hidden, nengo.Ensemble) else [lmu.hidden]
    )
    return (
        memory_fusable
        and all(
            _passthrough(n)
            for n in others
            if isinstance(n, nengo.Node) and n is not memory  # not a view of it
        )
        and (not hasattr(lmu, "one") or _constant_one(lmu.one))
    )


def _spiking_memory_objects(model, memory):
    """The objects of a `.SpikingMemory` if `.SimLMU` computes them (see
    `build_lmu`), else None."""
    ens = memory.ensemble
    recurrent = memory.recurrent_connection
    connections = [memory.input_connection, memory.output_connection] + (
        [] if recurrent is None else [recurrent]
    )
    out = memory.output_connection
    units = type(ens.neuron_type)
    fusable = (
        type(memory) is SpikingMemory
        and type(ens) is nengo.Ensemble
        and (
            (units is SignedIntegrateFire and _plain_weights(recurrent, INTEGRATE))
            or (units is TickedIntegrateFire and recurrent is None)
        )
        and ens.noise is None
        and np.all(model.params[ens].bias == 0)
        and _bias_trainable(model, memory, ens) is False
        and _plain_weights(memory.input_connection, None)
        and type(out.transform) is nengo.transforms.NoTransform
        and out.synapse is None
        and out.function is None
        and not out.learning_rule_type
    )
    return [memory, ens] + connections if fusable else None


DELAYED = ("hidden_encoders", "memory_encoders", "hidden_kernel", "A")
"""The `.LMU` connections made with ``synapse=0`` (the others have none), except
``memory_encoders`` with a `.SpikingMemory` (`.INTEGRATE` on its units)."""


def _fused_weights(lmu):
    """``{name: connection}`` of the weights `.SimLMU` reads: the LMU's, and those
    into the units of a `.SpikingMemory` (``units_input``: ``B``,
    ``units_recurrent``: ``A - I``)."""
    weights = dict(lmu.weight_connections)
    if hasattr(lmu, "spiking_memory"):
        weights["units_input"] = lmu.spiking_memory.input_connection
        if lmu.spiking_memory.recurrent_connection is not None:  # else the units'
            weights["units_recurrent"] = lmu.spiking_memory.recurrent_connection
    return weights


def _fusable_lmu(model, lmu):
    """True if `.SimLMU` computes exactly what the objects of ``lmu`` (as built in
    ``model``) compute (see `build_lmu`)."""
    if isinstance(lmu.hidden, nengo.Ensemble) and not _fusable_ensemble(model, lmu):
        return False
    memory, memory_objects = getattr(lmu, "spiking_memory", None), []
    if memory is not None:
        memory_objects = _spiking_memory_objects(model, memory)
        if memory_objects is None:
            return False
    nodes = {
        obj
        for obj in (
            getattr(lmu, name, None)
            for name in ("input", "memory", "memory_input", "one", "hidden")
        )
        if isinstance(obj, (nengo.Node, nengo.Ensemble))  # not views of them
    }
    connections = lmu.weight_connections

    def synapse(name):
        if name == "memory_encoders" and memory is not None:
            return INTEGRATE
        return nengo.Lowpass(0) if name in DELAYED else None

    return (
        _fusable_nodes(lmu)
        and all(
            _plain_weights(conn, synapse(name)) for name, conn in connections.items()
        )
        and _isolated(
            model,
            lmu,
            list(nodes) + list(connections.values()) + memory_objects,
            probed=[] if memory is None else [memory.neurons],
        )
    )


@Builder.register(LMU)
def build_lmu(model, lmu, progress=None):
    """Build an `.LMU` from its objects, as Nengo builds any network.

    An LMU with trainable A, B or theta (discretized at ``lmu.dt``) must be simulated
    at that ``dt``; another one raises a ValidationError.

    For NengoDL, if ``lmu.fused`` and `.SimLMU` provably computes what the LMU's objects
    compute, the operators of its objects are then replaced by one `.SimLMU` reading
    the same input and weight signals and setting the same output signal. That is,
    the LMU's objects are those its constructor made, and each has only properties
    `.SimLMU` computes:

    - hidden neurons of a type in `.FUSED_NEURON_TYPES` (any parameters), or
      `nengo.RegularSpiking` of one, with unit gain and zero bias, a bias NengoDL does
      not train (the ensemble and its neurons are not trainable), and no noise; or a
      passthrough node;
    - with a `.SpikingMemory`: its units `.SignedIntegrateFire` (any amplitude,
      gains per unit and initial voltages; `.SimLMU` takes both per unit), with zero
      bias NengoDL does not train and no noise; its connections into the units with
      a `nengo.Dense` transform of their full shape (any value) and their synapses
      (none for ``B``, `.INTEGRATE` for ``A - I`` and for ``memory_encoders``); the
      units' output passed unchanged into its output node, an integrator
      (`.LinearSystemState` of ``x[t] = x[t-1] + u[t]``); probes may read the units'
      output (their spikes, as `.hybrid.to_spiking`'s ``memory_probe`` does), nothing
      else connects to them;
    - connections with a `nengo.Dense` transform of their full shape (a scalar only on
      a 1 x 1 connection, as ``freeze_params`` writes one), any value, trainable or
      not; their original synapse; no function and no learning rule;
    - passthrough nodes, a constant-1 node, and the memory node's process a
      `.LegendreMemory` or `.LinearSystemState` (any system), or the passthrough of
      trained A and B;
    - nothing outside connects to them except into ``input`` and from ``input`` and
      ``output``, and probes read only those outputs.

    Seeds, labels and the ensemble's encoders, intercepts and max rates do not
    matter. Anything else (e.g. LIF neurons, a TensorFlow function as the hidden
    layer, noise, a scalar or sparse transform meaning ``c I``, a filtered
    connection, objects added inside, a bias or another type for the memory units, a
    connection from them) keeps the standard build. Regular-spiking and memory units
    give the same spikes, and train spike-aware, in both builds (see `.SimLMU`,
    `.dl_builders.SpikeAwareRegularSpikingBuilder` and
    `.dl_builders.SignedIntegrateFireBuilder`; in float64 exactly, in float32 up to
    the rounding of matrix products, which spikes can amplify).

    The weights stay the connections' own (trainable) signals, so training,
    ``sim.data``, ``get_nengo_params`` and ``freeze_params`` work as for the standard
    build; ``save_params`` files are specific to the build, as for any change of
    NengoDL's operator plan.
    """
    if lmu.weight_connections.keys() & {"A", "B", "theta"}:
        _check_dt(model, lmu, "its trainable A, B or theta are discretized for it")
    if _in_nengo_dl(model):
        import nengo_lmu.dl_builders  # noqa: F401
    n_ops = len(model.operators)
    build_network(model, lmu, progress)
    if lmu.fused and _in_nengo_dl(model) and _fusable_lmu(model, lmu):
        weights = _fused_weights(lmu)
        memory = getattr(lmu, "spiking_memory", None)
        _fuse(
            model,
            lmu,
            n_ops,
            SimLMU(
                model.sig[lmu.input]["in"],
                {n: model.sig[c]["weights"] for n, c in weights.items()},
                {n: (c.size_out, c.size_in) for n, c in weights.items()},
                Signal(shape=lmu.memory.size_out, name=f"{lmu}.m"),
                Signal(shape=lmu.output.size_in, name=f"{lmu}.h"),
                lmu.memory_input.size_in,
                model.sig[lmu.output]["out"],
                getattr(lmu.hidden, "neuron_type", None),
                None if memory is not None else lmu.memory.output,
                model.dt,
                voltage=model.sig[lmu.output].get("voltage"),
                memory_units=None
                if memory is None
                else MemoryUnits(
                    model, memory, "memory_encoders" in lmu.weight_connections
                ),
                tag=str(lmu),
            ),
        )


@Builder.register(DelayNetwork)
def build_delay_network(model, net, progress=None):
    """Build a `.DelayNetwork` as Nengo builds any network, after checking that it is
    simulated at the ``dt`` its synapse mapping was computed for."""
    _check_dt(model, net, "its synapses map the delay system at that dt")
    build_network(model, net, progress)


class SimDense(Operator):
    """``y = W x + b`` as a single operator (built by NengoDL only).

    Parameters
    ----------
    x : Signal
        The input (read).
    kernel : Signal
        ``W`` (read; a scalar for a 1 x 1 ``W``).
    bias : Signal or None
        ``b`` as a column (read; a scalar for one output), or None for none.
    y : Signal
        The output (set).
    tag : str, optional
        A label for debugging.
    """

    def __init__(self, x, kernel, bias, y, tag=None):
        super().__init__(tag=tag)
        self.sets = [y]
        self.incs = []
        self.reads = [x, kernel] + ([] if bias is None else [bias])
        self.updates = []


def _fusable_dense(model, dense):
    """True if `.SimDense` computes exactly what the objects of ``dense`` compute (see
    `build_dense`)."""
    nodes = [dense.input, dense.output] + ([dense.one] if hasattr(dense, "one") else [])
    connections = [dense.kernel] + ([dense.bias] if hasattr(dense, "bias") else [])
    return (
        _passthrough(dense.input)
        and _passthrough(dense.output)
        and (not hasattr(dense, "one") or _constant_one(dense.one))
        and all(_plain_weights(conn, None) for conn in connections)
        and _isolated(model, dense, nodes + connections)
    )


@Builder.register(Dense)
def build_dense(model, dense, progress=None):
    """Build a `.Dense` layer from its objects, as Nengo builds any network.

    For NengoDL, if ``dense.fused``, its objects are those its constructor made, with
    only the properties `.SimDense` computes (as for `build_lmu`: passthrough nodes, a
    constant-1 node, connections with a `nengo.Dense` transform of their full shape
    and no synapse, function or learning rule), and nothing outside connects to them
    except into ``input`` and from ``input`` and ``output``, their operators are then
    replaced by one `.SimDense` on the same signals.
    """
    n_ops = len(model.operators)
    build_network(model, dense, progress)
    if dense.fused and _in_nengo_dl(model) and _fusable_dense(model, dense):
        _fuse(
            model,
            dense,
            n_ops,
            SimDense(
                model.sig[dense.input]["in"],
                model.sig[dense.kernel]["weights"],
                model.sig[dense.bias]["weights"] if hasattr(dense, "bias") else None,
                model.sig[dense.output]["in"],
                tag=str(dense),
            ),
        )
