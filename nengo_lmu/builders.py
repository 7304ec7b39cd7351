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
from nengo.builder.operator import Reset
from nengo.builder.processes import SimProcess

from nengo_lmu.lmu import LMU, Dense
from nengo_lmu.memory import LinearSystemState
from nengo_lmu.systems import LinearSystem


class SimLinearSystem(SimProcess):
    """Step a `.LinearSystem` synapse or a `.LinearSystemState` process.

    Same signals and semantics as `nengo.builder.processes.SimProcess`, with the state
    ``X`` of shape ``(input dimensions, order)``.
    """

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
            mode=mode,
            state=state,
            tag=str(process),
        )
    )
    return sig_out


FUSED_NEURON_TYPES = (nengo.Tanh, nengo.Sigmoid, nengo.RectifiedLinear)
"""Hidden neuron types (exact types) that `.SimLMU` computes exactly as NengoDL does;
also as the base type of a `nengo.RegularSpiking`."""


def _fused_type(neuron_type):
    """True if `.SimLMU` computes ``neuron_type`` (see `FUSED_NEURON_TYPES`)."""
    if type(neuron_type) is nengo.RegularSpiking:
        neuron_type = neuron_type.base_type
    return type(neuron_type) in FUSED_NEURON_TYPES


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

    Parameters
    ----------
    x : Signal
        The LMU's input (read).
    weights : dict
        The weight signal of each of the LMU's connections, by name (read),
        including ``"A"`` and ``"B"`` or ``"theta"`` when those are trainable. A
        scalar signal (as ``freeze_params`` writes a 1 x 1 weight) stands for a full
        matrix of its value, except for ``"theta"``.
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
    memory_process : LinearSystemState or None
        The memory node's process (its system gives ``A`` and ``B``; a
        `.LegendreMemory` with a theta input for a trainable theta), or None when the
        memory is built from connections.
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
        voltage=None,
        tag=None,
    ):
        super().__init__(tag=tag)
        self.weights = weights
        self.weight_shapes = weight_shapes
        self.memory_d = memory_d
        self.neuron_type = neuron_type
        self.memory_process = memory_process
        self.sets = [output]
        self.incs = []
        self.reads = [x] + list(weights.values())
        self.updates = [memory, hidden] + ([] if voltage is None else [voltage])

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
        return self.updates[2] if len(self.updates) > 2 else None


def _in_nengo_dl(model):
    """True if ``model`` is being built for NengoDL."""
    return "nengo_dl" in sys.modules and isinstance(
        model, sys.modules["nengo_dl"].builder.NengoModel
    )


def _isolated(model, net, nodes, connections):
    """True if ``net`` holds just ``nodes`` and the ``connections`` (a dict giving the
    synapse each was made with), which still have that synapse and no function or
    learning rule; and the rest of ``model`` connects to them only into ``net.input``
    and from ``net.input`` and ``net.output``, and probes only the outputs of those."""
    if set(net.all_objects) != set(nodes) | set(connections) or any(
        conn.synapse != synapse
        or conn.function is not None
        or conn.learning_rule_type is not None
        for conn, synapse in connections.items()
    ):
        return False
    inside = set(nodes) | set(connections) | {net.output}
    readable = {net.input, net.output}
    for conn in set(model.toplevel.all_connections) - set(connections):
        if conn.pre_obj in inside - readable or conn.post_obj in inside - {net.input}:
            return False
    return all(
        probe.target not in inside
        or (probe.target in readable and probe.attr == "output")
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
    model.operators[n_ops:] = reset_x + [op]


DELAYED = ("hidden_encoders", "memory_encoders", "hidden_kernel", "A")
"""The `.LMU` connections made with ``synapse=0`` (the others have none)."""


def _fusable_lmu(model, lmu):
    """True if `.SimLMU` computes exactly what the objects of ``lmu`` (as built in
    ``model``) compute."""
    if type(lmu.hidden) is nengo.Ensemble:
        built = model.params[lmu.hidden]
        if (
            not _fused_type(lmu.hidden.neuron_type)
            or np.any(built.gain != 1)
            or np.any(built.bias != 0)
        ):
            return False
    elif type(lmu.hidden) is not nengo.Node:
        return False  # a TensorNode
    names = ("input", "memory", "memory_input", "one", "hidden")
    return _isolated(
        model,
        lmu,
        [  # the nodes and the ensemble, not views of them
            obj
            for obj in (getattr(lmu, name, None) for name in names)
            if isinstance(obj, (nengo.Node, nengo.Ensemble))
        ],
        {
            conn: nengo.Lowpass(0) if name in DELAYED else None
            for name, conn in lmu.weight_connections.items()
        },
    )


@Builder.register(LMU)
def build_lmu(model, lmu, progress=None):
    """Build an `.LMU` from its objects, as Nengo builds any network.

    For NengoDL, if ``lmu.fused`` and the cell can be computed exactly in one step,
    the operators of its objects are then replaced by one `.SimLMU` reading the same
    input and weight signals and setting the same output signal. Exactly means: hidden
    neurons of a type in `.FUSED_NEURON_TYPES`, or `nengo.RegularSpiking` of one, with
    unit gain and zero bias (the ensemble is not trainable), or a node; the LMU's
    objects as its constructor made them (no added objects, synapses, functions or
    learning rules); and nothing
    outside connects to them except into ``input`` and from ``input`` and ``output``.
    Otherwise (e.g. LIF neurons or a TensorFlow function as the hidden layer) the LMU
    keeps the standard build. Regular-spiking units give the same outputs, and train
    spike-aware, in both builds (see `.SimLMU` and
    `.dl_builders.SpikeAwareRegularSpikingBuilder`).

    The weights stay the connections' own (trainable) signals, so training,
    ``sim.data``, ``get_nengo_params`` and ``freeze_params`` work as for the standard
    build; ``save_params`` files are specific to the build, as for any change of
    NengoDL's operator plan.
    """
    if _in_nengo_dl(model):
        import nengo_lmu.dl_builders  # noqa: F401 (spike-aware RegularSpiking, too)
    n_ops = len(model.operators)
    build_network(model, lmu, progress)
    if lmu.fused and _in_nengo_dl(model) and _fusable_lmu(model, lmu):
        _fuse(
            model,
            lmu,
            n_ops,
            SimLMU(
                model.sig[lmu.input]["in"],
                {n: model.sig[c]["weights"] for n, c in lmu.weight_connections.items()},
                {n: (c.size_out, c.size_in) for n, c in lmu.weight_connections.items()},
                Signal(shape=lmu.memory.size_out, name=f"{lmu}.m"),
                Signal(shape=lmu.output.size_in, name=f"{lmu}.h"),
                lmu.memory_input.size_in,
                model.sig[lmu.output]["out"],
                getattr(lmu.hidden, "neuron_type", None),
                lmu.memory.output,
                voltage=model.sig[lmu.output].get("voltage"),
                tag=str(lmu),
            ),
        )


class SimDense(Operator):
    """``y = W x + b`` as a single operator (built by NengoDL only).

    Parameters
    ----------
    x : Signal
        The input (read).
    kernel : Signal
        ``W`` (read).
    bias : Signal or None
        ``b`` as a column (read), or None for none.
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


@Builder.register(Dense)
def build_dense(model, dense, progress=None):
    """Build a `.Dense` layer from its objects, as Nengo builds any network.

    For NengoDL, if ``dense.fused``, its objects are as its constructor made them and
    nothing outside connects to them except into ``input`` and from ``input`` and
    ``output``, their operators are then replaced by one `.SimDense` on the same
    signals (see `build_lmu`).
    """
    n_ops = len(model.operators)
    build_network(model, dense, progress)
    nodes = [dense.input, dense.output] + ([dense.one] if hasattr(dense, "one") else [])
    connections = {dense.kernel: None}
    if hasattr(dense, "bias"):
        connections[dense.bias] = None
    if (
        dense.fused
        and _in_nengo_dl(model)
        and _isolated(model, dense, nodes, connections)
    ):
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
