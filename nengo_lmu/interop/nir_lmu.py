"""Export a spiking LMU classifier to NIR and read it back.

`lmu_to_nir` writes a `.SequenceClassifier` converted by `.hybrid.to_spiking` (hidden
units whose spiking rule NIR has; the ideal memory or ``memory="spiking"``) as a
`nir.NIRGraph`; `nir_to_lmu` rebuilds the Nengo network from such a graph. The graph,
with its node names (edges run left to right; several edges into a node add up)::

    input -> input_encoders -> B          (Affine with b_u, or Linear: e_x)
    hidden -> hidden_encoders -> B        (Linear: e_h)
    memory -> memory_encoders -> B        (Linear: e_m)
    B -> memory;  memory -> A -> memory   (ideal memory: I node, Linear B, A - I)
    input -> input_kernel -> hidden       (Affine with b_h, or Linear: W_x)
    hidden -> hidden_kernel -> hidden     (Linear: W_h)
    memory -> memory_kernel -> hidden     (Linear: W_m)
    hidden -> readout -> output           (Affine: the readout)

With a spiking memory, ``memory`` (an I node) is the accumulated state of the memory
units, which are a pair of IF nodes per state dimension::

    B -> memory_on, memory_off;  memory -> A -> memory_on, memory_off
    memory_on -> on_state -> memory;  memory_off -> off_state -> memory
    memory_on -> on_to_off -> memory_off;  memory_off -> off_to_on -> memory_on

Semantics mapped, and why:

- **Time**: NIR is continuous-time; the LMU is a discrete cell stepped at ``dt`` (1 for
  the tasks' theta in steps). The memory is an ``I`` node with ``r = 1 / dt`` fed by
  ``F m + G u``, in one of two forms (``lmu_to_nir(..., form=)``; the graph's
  ``metadata`` gives ``dt`` and ``form``). ``"euler"`` (default): ``F = A - I``,
  ``G = B`` (the discrete, trained ``A`` and ``B``), the system whose forward-Euler
  step at ``dt`` (``v += dt * r * input``) is the Nengo network's step, for a consumer
  stepping at ``dt``. ``"zoh"``: ``F = log A``, ``G = (A - I)^-1 F B``, the system
  whose exact solution over each ``dt``, the input held, is the network's step, for a
  consumer that integrates finely (NIR's continuous meaning). Neither makes the rest
  of the cell exact in continuous time: there a step's spikes and memory change reach
  the other nodes within the step, where Nengo's reach them at the next step
  (``tests/test_nir_consumer.py`` measures both forms in SpikingJelly).
- **Spikes and units**: a NIR spike is a unit impulse; a Nengo spike of amplitude ``a``
  is ``a / dt`` for one step, whose integral is ``a``, so the edges leaving spiking
  nodes carry the Nengo weights times ``a``. A consumer that passes a spike as 1 for
  one step of ``dt`` sees Nengo's values at ``dt = 1``, ``dt`` times them otherwise.
- **Hidden units**: `nengo.RegularSpiking` of `nengo.RectifiedLinear` (the hybrid
  LMU's units for ReLU cells) and `nengo.SpikingRectifiedLinear` become ``IF`` nodes:
  Nengo integrates ``dt * rate``, fires a spike per unit of voltage and subtracts it,
  which in continuous time is NIR's IF with threshold 1 and reset 0 (reset to zero at
  the crossing is subtraction). The initial voltage ``v0`` (0.5 in `.to_spiking`) is
  the shift ``v_threshold = 1 - v0``, ``v_reset = -v0`` (NIR states start at 0);
  ``r`` is the rate's amplitude. `nengo.LIF` with ``tau_ref=0`` becomes ``LIF``
  (``tau = tau_rc``, ``r = 1``, threshold 1, reset 0). Not mapped: Nengo's floor at
  voltage 0 for negative input (ReLU rates, ``LIF.min_voltage``), which NIR's IF and
  LIF do not have. Other types (`nengo.Tanh` and its regular-spiking units, the
  paper's cell) have no NIR node: a `nengo.exceptions.ValidationError` names the
  supported ones.
- **Signed memory units** (`.SpikingMemory`): a unit's voltage ``v`` in [0, 1) fires
  +1 when it reaches 1 and -1 when it falls below 0. It is an exact pair of IF nodes
  in continuous time: ``memory_on`` (voltage ``v - 1/2``, ``r = 1 / (delta dt)``) and
  ``memory_off`` (voltage ``1/2 - v``, ``r = -1 / (delta dt)``), both with threshold
  1/2 and reset -1/2, each spike raising the other unit's voltage by 1 (the edges
  ``on_to_off`` and ``off_to_on``); the state ``delta (N_on - N_off)`` is an ``I`` node
  (``r = 1``) fed by the spikes times ``+-delta``.
- **Output**: the readout of the spikes (the class scores at the last step).
"""

import nengo
import nir
import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu.convert import network_kwargs
from nengo_lmu.neurons import SpikeAwareRegularSpiking
from nengo_lmu.realizations import IdealMemory
from nengo_lmu.systems import LinearSystem

SUPPORTED = (
    "nengo.RegularSpiking(nengo.RectifiedLinear()), nengo.SpikingRectifiedLinear() "
    "(NIR IF) or nengo.LIF(tau_ref=0) (NIR LIF), with initial_state "
    "{'voltage': nengo.dists.Choice([v0])}"
)


def _initial_voltage(neuron_type):
    state = (neuron_type.initial_state or {}).get("voltage")
    if isinstance(state, nengo.dists.Choice) and len(state.options) == 1:
        return float(state.options[0])
    raise ValidationError(
        f"NIR states start at one value: the hidden units need "
        f"initial_state={{'voltage': nengo.dists.Choice([v0])}} (got {neuron_type!r}; "
        "nengo_lmu.to_spiking sets it)",
        attr="hidden_neurons",
    )


def _hidden_node(neuron_type, units):
    """The NIR node of the hidden units and their spike amplitude."""
    ones = np.ones(units)
    base = getattr(neuron_type, "base_type", None)
    if type(neuron_type) is nengo.LIF and neuron_type.tau_ref == 0:
        v0 = _initial_voltage(neuron_type)
        node = nir.LIF(
            tau=ones * neuron_type.tau_rc,
            r=ones,
            v_leak=0 * ones,
            v_threshold=ones * (1 - v0),
            v_reset=-v0 * ones,
        )
        return node, neuron_type.amplitude
    if type(neuron_type) is nengo.SpikingRectifiedLinear:
        rate = 1.0
    elif isinstance(neuron_type, nengo.RegularSpiking) and type(base) is (
        nengo.RectifiedLinear
    ):
        rate = base.amplitude
    else:
        raise ValidationError(
            f"No NIR node for hidden units {neuron_type!r}: NIR export needs {SUPPORTED}",
            attr="hidden_neurons",
        )
    v0 = _initial_voltage(neuron_type)
    node = nir.IF(r=ones * rate, v_threshold=ones * (1 - v0), v_reset=-v0 * ones)
    return node, neuron_type.amplitude


def _hidden_type(node):
    """The Nengo neuron type of a hidden IF or LIF node (spike amplitude 1)."""
    scale = np.unique(node.v_threshold - node.v_reset)
    v0 = np.unique(-node.v_reset / (node.v_threshold - node.v_reset))
    if isinstance(node, nir.LIF):
        if not (np.allclose(node.v_leak, 0) and np.allclose(node.r, 1)):
            raise ValidationError("A hidden LIF node needs v_leak 0, r 1", attr="graph")
        taus = np.unique(node.tau)
    elif isinstance(node, nir.IF):
        taus = np.unique(node.r / (node.v_threshold - node.v_reset))
    else:
        raise ValidationError(
            f"The hidden node must be IF or LIF (got {type(node).__name__})",
            attr="graph",
        )
    if not (len(scale) == len(v0) == len(taus) == 1):
        raise ValidationError(
            "The hidden units must share their parameters", attr="graph"
        )
    state = {"voltage": nengo.dists.Choice([float(v0[0])])}
    if isinstance(node, nir.LIF):
        if not np.isclose(scale[0], 1):
            raise ValidationError("A hidden LIF needs v_threshold - v_reset = 1")
        return nengo.LIF(tau_rc=float(taus[0]), tau_ref=0, initial_state=state)
    base = nengo.RectifiedLinear(amplitude=float(taus[0]))
    return SpikeAwareRegularSpiking(base, initial_state=state)


def _memory_matrices(lmu, dt):
    """The discrete ``(A, B)`` of the whole memory of ``lmu``, stepped at ``dt``."""
    if hasattr(lmu, "spiking_memory"):
        if lmu.spiking_memory.ticks > 1:
            raise ValidationError(
                f"NIR export takes a spiking memory of one tick per step (got ticks="
                f"{lmu.spiking_memory.ticks}): NIR nodes have no sub-steps of their "
                "own; convert with to_spiking(..., ticks=1)",
                attr="ticks",
            )
        conns = lmu.spiking_memory.connections
        (into,) = [c for c in conns if c.pre_obj is lmu.spiking_memory.input]
        (rec,) = [c for c in conns if c.pre_obj is c.post_obj]
        B = into.transform.init
        return np.asarray(rec.transform.init) + np.eye(len(B)), np.asarray(B)
    if lmu.arguments["memory_network"] is not None or "theta" in lmu.weight_connections:
        raise ValidationError(
            "NIR export takes the ideal memory or memory='spiking' (a memory of "
            "DelayNetworks exports with nengo_lmu.interop.nir.delay_network_to_nir; a "
            "trainable theta is not a fixed system)",
            attr="memory",
        )
    if "A" in lmu.weight_connections:
        return (
            lmu.weight_connections["A"].transform.init,
            lmu.weight_connections["B"].transform.init,
        )
    return IdealMemory(lmu.memory.output, dt).matrices(dt)


def _linear(weight, bias=None):
    weight = np.asarray(weight, dtype=np.float64)
    if bias is None:
        return nir.Linear(weight=weight)
    return nir.Affine(weight=weight, bias=np.asarray(bias, dtype=np.float64))


def _weight_nodes(kwargs, amplitude):
    """The Linear / Affine nodes of the LMU's weights and readout, by name."""
    edges = {  # name: (pre, post, scale by the spike amplitude)
        "input_encoders": ("input", "B", False),
        "hidden_encoders": ("hidden", "B", True),
        "memory_encoders": ("memory", "B", False),
        "input_kernel": ("input", "hidden", False),
        "hidden_kernel": ("hidden", "hidden", True),
        "memory_kernel": ("memory", "hidden", False),
        "readout": ("hidden", "output", True),
    }
    biases = {"input_encoders": "memory_bias", "input_kernel": "hidden_bias"}
    nodes, graph_edges = {}, []
    for name, (pre, post, spikes) in edges.items():
        weight = kwargs["readout_kernel" if name == "readout" else name]
        bias = kwargs.get("readout_bias" if name == "readout" else biases.get(name))
        if weight is None and bias is None:
            continue
        if weight is None:
            weight = np.zeros((len(bias), kwargs["input_d"]))
        nodes[name] = _linear(np.asarray(weight) * (amplitude if spikes else 1), bias)
        graph_edges += [(pre, name), (name, post)]
    return nodes, graph_edges


FORMS = ("euler", "zoh")


def _continuous(A, B, form):
    """``(F, G)`` of the I node's input ``F m + G u`` (times ``1 / dt``) for the
    discrete ``(A, B)``: Euler ``(A - I, B)``, or zoh ``(log A, (A - I)^-1 log(A) B)``
    (the continuous system whose exact step over dt, with ``u`` held, is ``(A, B)``)."""
    n = len(A)
    if form == "euler":
        return A - np.eye(n), B
    if form != "zoh":
        raise ValidationError(f"Must be one of {FORMS} (got {form!r})", attr="form")
    F = scipy.linalg.logm(A)
    if np.iscomplexobj(F) and np.abs(F.imag).max() > 1e-9 * np.abs(F).max():
        raise ValidationError(
            "The memory's A has no real logarithm (eigenvalues on the negative real "
            "axis): export it with form='euler'",
            attr="form",
        )
    F = np.real(F)
    return F, np.linalg.solve(A - np.eye(n), F.dot(B))


def _discrete(F, G, form):
    """The discrete ``(A, B)`` of the I node's input ``F m + G u`` (see `_continuous`)."""
    n = len(F)
    if form == "euler":
        return F + np.eye(n), G
    A = scipy.linalg.expm(F)
    return A, (A - np.eye(n)).dot(np.linalg.solve(F, G))


def _memory_nodes(F, G, dt, delta):
    """The memory's nodes and edges (the I node fed by ``F m + G u``): ideal
    (``delta`` None) or spiking units."""
    n = len(F)
    nodes = {"B": _linear(G), "A": _linear(F)}
    if delta is None:
        nodes["memory"] = nir.I(r=np.full(n, 1 / dt))
        return nodes, [("B", "memory"), ("memory", "A"), ("A", "memory")]
    ones, eye = np.ones(n), np.eye(n)
    r = 1 / (delta * dt)
    nodes.update(
        memory=nir.I(r=ones),
        memory_on=nir.IF(r=r * ones, v_threshold=ones / 2, v_reset=-ones / 2),
        memory_off=nir.IF(r=-r * ones, v_threshold=ones / 2, v_reset=-ones / 2),
        on_state=_linear(delta * eye),
        off_state=_linear(-delta * eye),
        on_to_off=_linear(-delta * dt * eye),
        off_to_on=_linear(delta * dt * eye),
    )
    edges = [("memory", "A")]
    for name, other in (("on", "off"), ("off", "on")):
        unit, state, coupling = f"memory_{name}", f"{name}_state", f"{name}_to_{other}"
        edges += [("B", unit), ("A", unit), (unit, state), (state, "memory")]
        edges += [(unit, coupling), (coupling, f"memory_{other}")]
    return nodes, edges


def lmu_to_nir(net, form="euler"):
    """The NIR graph of a spiking `.SequenceClassifier` (see the module's notes).

    Parameters
    ----------
    net : SequenceClassifier
        From `.hybrid.to_spiking` (or built so): hidden units of a type NIR has (see
        the module's notes), the ideal memory or ``memory="spiking"``, array weights,
        and a ``dt``.
    form : "euler" or "zoh"
        The memory's continuous system: the one whose forward-Euler step at ``dt``
        is the network's discrete memory (for a consumer stepping at ``dt``), or the
        one whose exact solution over each ``dt``, the input held, is (for a
        consumer integrating finely; see the module's notes).

    Returns
    -------
    nir.NIRGraph
        With ``metadata`` ``dt`` (the time step the graph reproduces the network at),
        ``form`` and ``source`` ("nengo_lmu.SequenceClassifier").
    """
    from nengo_lmu.lmu import SequenceClassifier  # pylint: disable=cyclic-import

    if not isinstance(net, SequenceClassifier):
        raise ValidationError(
            f"Must be a SequenceClassifier (got {type(net).__name__})", attr="net"
        )
    for conn in net.all_connections:
        tau = getattr(conn.synapse, "tau", 0)
        if conn.pre_obj is net.lmu.output and (conn.synapse is not None and tau != 0):
            raise ValidationError(
                f"NIR export keeps the cell exact: no synapse on the hidden units' "
                f"output ({conn} has {conn.synapse!r}; to_spiking(synapse=None))",
                attr="synapse",
            )
    kwargs = network_kwargs(net)
    dt = kwargs["dt"]
    if dt is None:
        raise ValidationError(
            "NIR export needs the network's dt (to_spiking(..., dt=1.0))", attr="dt"
        )
    hidden, amplitude = _hidden_node(kwargs["hidden_neurons"], kwargs["units"])
    F, G = _continuous(*_memory_matrices(net.lmu, dt), form)
    spiking = kwargs["spiking_memory"]
    nodes, edges = _memory_nodes(F, G, dt, spiking and spiking["delta"])
    weights, weight_edges = _weight_nodes(kwargs, amplitude)
    nodes.update(weights)
    nodes.update(
        input=nir.Input(input_type=np.array([kwargs["input_d"]])),
        hidden=hidden,
        output=nir.Output(output_type=np.array([kwargs["n_classes"]])),
    )
    metadata = {"dt": float(dt), "form": form, "source": "nengo_lmu.SequenceClassifier"}
    return nir.NIRGraph(nodes=nodes, edges=edges + weight_edges, metadata=metadata)


def _dt(graph):
    """The time step of a graph from `lmu_to_nir`."""
    missing = {"input", "B", "A", "memory", "hidden", "output"} - set(graph.nodes)
    if "dt" not in graph.metadata or missing:
        raise ValidationError(
            "Not a graph written by nengo_lmu's lmu_to_nir: it needs metadata 'dt' "
            f"(has {sorted(graph.metadata)}) and the nodes {sorted(missing)}",
            attr="graph",
        )
    return float(graph.metadata["dt"])


def nir_to_lmu(graph, **kwargs):
    """The `.SequenceClassifier` of a graph written by `lmu_to_nir`.

    Parameters
    ----------
    graph : nir.NIRGraph
        From `lmu_to_nir` (or ``nir.read`` of its file).
    **kwargs
        More arguments of `.SequenceClassifier` (``label``, ``seed``).

    Returns
    -------
    SequenceClassifier
        The network, with spike amplitude 1 (the graph's weights carry the amplitude)
        and the memory as a discrete system of the whole memory (stepped by
        connections), in spiking units if the graph has them.
    """
    from nengo_lmu.lmu import SequenceClassifier  # pylint: disable=cyclic-import

    dt = _dt(graph)
    nodes = graph.nodes
    form = str(graph.metadata.get("form", "euler"))  # graphs before the option: euler
    A, B = _discrete(nodes["A"].weight, nodes["B"].weight, form)
    n, d = B.shape
    args = dict(
        n_classes=int(nodes["output"].output_type["output"][0]),
        units=len(nodes["hidden"].v_threshold),
        input_d=int(nodes["input"].input_type["input"][0]),
        memory_d=d,
        order=n // d,
        theta=1.0,  # unused: the memory is the graph's discrete system
        hidden_neurons=_hidden_type(nodes["hidden"]),
        memory_system=LinearSystem(
            A, B, np.eye(n), np.zeros((n, d)), analog=False, dt=dt
        ),
        dt=dt,
    )
    if "memory_on" in nodes:
        delta = np.diag(nodes["on_state"].weight).astype(np.float64)
        args["spiking_memory"] = dict(
            delta=float(delta[0]) if np.all(delta == delta[0]) else delta, dt=dt
        )
    biases = {"input_encoders": "memory_bias", "input_kernel": "hidden_bias"}
    for name in (
        "input_encoders",
        "hidden_encoders",
        "memory_encoders",
        "input_kernel",
        "hidden_kernel",
        "memory_kernel",
        "readout",
    ):
        node = nodes.get(name)
        key = "readout_kernel" if name == "readout" else name
        args[key] = None if node is None else node.weight
        bias = "readout_bias" if name == "readout" else biases.get(name)
        if bias is not None:
            args[bias] = getattr(node, "bias", None)
    return SequenceClassifier(**args, **kwargs)
