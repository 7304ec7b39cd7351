"""The LMU cell as a Nengo network."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.neurons import NeuronType

from nengo_lmu import compat
from nengo_lmu.compat import configure_trainable
from nengo_lmu.memory import LegendreMemory, LinearSystemState, discrete_system
from nengo_lmu.realizations import memory_realization
from nengo_lmu.systems import LinearSystem


def glorot_normal(fan_in, fan_out):
    """Glorot (Xavier) normal initializer: N(0, 2 / (fan_in + fan_out))."""
    return nengo.dists.Gaussian(0, np.sqrt(2.0 / (fan_in + fan_out)))


def _transform(name, init, shape):
    """A `nengo.Dense` transform of ``shape`` (out, in) initialized from ``init``."""
    if isinstance(init, nengo.dists.Distribution):
        return nengo.Dense(shape, init=init)
    init = np.asarray(init, dtype=np.float64)
    if init.ndim == 1 and shape[1:] == (1,) and init.shape == shape[:1]:
        init = init[:, None]  # a bias vector
    if init.ndim == 0:
        return nengo.Dense(shape, init=np.full(shape, init.item()))
    if init.shape != shape:
        raise ValidationError(
            f"Shape {init.shape} does not fit: {name} must have shape {shape} "
            "(outputs, inputs), be a scalar, or a nengo Distribution",
            attr=name,
        )
    return nengo.Dense(shape, init=init)


WIRING = {  # weight name: (pre, post, synapse); "memory" is read by the realization
    "input_encoders": ("input", "memory_input", None),
    "hidden_encoders": ("output", "memory_input", 0),
    "memory_encoders": ("memory", "memory_input", 0),
    "memory_bias": ("one", "memory_input", None),
    "A": ("memory", "memory", 0),
    "B": ("memory_input", "memory", None),
    "theta": ("one", "theta_input", None),
    "input_kernel": ("input", "output", None),
    "hidden_kernel": ("output", "output", 0),
    "memory_kernel": ("memory", "output", None),
    "hidden_bias": ("one", "output", None),
}
"""The connection of each `LMU` weight (``synapse=0``: a one-step delay)."""


class LMU(nengo.Network):
    """A Legendre Memory Unit layer (Voelker, Kajić & Eliasmith, 2019) as Nengo objects.

    Per time step ``t``, with ``x`` the input, ``m`` the memory and ``h`` the hidden
    state (column vectors; transforms are (outputs, inputs) as in Nengo)::

        u[t] = e_x x[t] + e_h h[t-1] + e_m m[t-1] + b_u
        m[t] = Legendre memory of u  (memory_d signals, order coefficients each)
        h[t] = f(W_x x[t] + W_h h[t-1] + W_m m[t] + b_h)

    ``m`` is a `.LegendreMemory` node (or the state of ``memory_system``), ``h`` the
    neurons of an ensemble of ``units`` neurons of type ``hidden_neurons`` with unit
    gain, so any Nengo neuron type (rate or spiking) works, on any Nengo backend.
    Recurrent connections have ``synapse=0`` (a one-step delay), the others none.

    Each weight is None (absent), or its initial value: a scalar (filling its shape),
    an array of its shape, or a `nengo.dists.Distribution`. In NengoDL the weights named
    in ``trainable`` are trained, the others stay fixed. The defaults are the paper's
    cell (e_x = 1, e_h = e_m = 0, W_x = W_h = 0, W_m Glorot normal, no biases).

    Parameters
    ----------
    units : int
        Number of hidden units.
    order : int
        Number of Legendre coefficients per memory signal.
    theta : float
        Memory window, in seconds (the simulator's dt sets the steps; for theta in
        steps, simulate with ``dt=1``).
    input_d : int
        Input dimensions.
    memory_d : int, optional
        Number of signals written into the memory.
    hidden_neurons : nengo.neurons.NeuronType or callable or None, optional
        Nonlinearity ``f``: any Nengo neuron type (the default ``nengo.Tanh(tau_ref=1)``
        outputs ``tanh(J)``); a TensorFlow function such as ``tf.nn.gelu`` (a
        ``nengo_dl.TensorNode``: NengoDL only); or None for the identity (a node).
    input_encoders, hidden_encoders, memory_encoders : optional
        ``e_x`` (memory_d, input_d), ``e_h`` (memory_d, units), ``e_m``
        (memory_d, memory_d * order).
    memory_bias : optional
        ``b_u`` (memory_d,); None (default) for none.
    input_kernel, hidden_kernel, memory_kernel : optional
        ``W_x`` (units, input_d), ``W_h`` (units, units), ``W_m``
        (units, memory_d * order); ``memory_kernel="glorot"`` (default) draws it
        from a Glorot normal distribution.
    hidden_bias : optional
        ``b_h`` (units,); None (default) for none.
    trainable : iterable of str, optional
        Names of the weights NengoDL trains; default all present ones. Add ``"A"``
        and/or ``"B"`` to fine-tune the discrete memory matrices (the memory is then
        built from connections holding ``A`` and ``B``, which needs ``dt``). Add
        ``"theta"`` to learn ``dt / theta`` (keras-lmu's ``trainable_theta``; needs
        ``dt`` and ``method`` "zoh" or "euler"): a trainable connection from a
        constant node feeds ``dt / theta`` to the memory's theta input (see
        `.LegendreMemory`), which discretizes the Legendre system at that window,
        differentiably. The fused NengoDL build does so once per run (a batch), the
        standard build in every step (zero-order hold: a matrix exponential per
        minibatch item and step, slow for large orders), the reference simulator
        whenever the value changes; `trained_theta` reads the learned value.
    memory_system : LinearSystem, optional
        The memory's system instead of ``LegendreDelay(theta, order)``, e.g. a discrete
        system with matrices imported from a trained model: a single-input system of
        order ``order`` (each memory signal steps its own copy), or a system of the
        whole memory (``memory_d`` inputs, ``memory_d * order`` states: trained ``A``
        and ``B``, see `.convert.network_kwargs`), stepped by connections holding its
        discrete ``A`` and ``B`` (as when they are trained; needs ``dt``).
    memory_network : dict, optional
        Realize the memory with neurons instead of the ideal `.LegendreMemory`: the
        keyword arguments of a `.DelayNetwork` (e.g. ``dict(n_neurons=100,
        neuron_type=nengo.LIF())``; its ``dt`` defaults to this LMU's ``dt``). Each
        memory signal gets its own delay network, whose state is decoded back to
        Legendre coordinates. Not with a ``memory_system`` or trainable A, B, theta.
    spiking_memory : dict, optional
        Realize the memory in spiking units instead (`.SpikingMemory`, one unit per
        memory dimension): ``dict(delta=..., dt=..., ticks=...)``, the state one
        spike carries, the time step the discrete system is stepped at (default this
        LMU's ``dt``, else a discrete ``memory_system``'s) and the units' sub-steps
        per step (default 1). Works with any
        ``memory_system``; not with trainable A, B, theta.
    method : "zoh" or "euler" or "bilinear", optional
        Discretization of an analog memory system.
    dt : float, optional
        The simulator's time step; needed to train ``A``, ``B`` or ``theta``, for a
        ``memory_system`` of the whole memory, and by `.hybrid.to_spiking`.
    **kwargs
        ``label``, ``seed``, ``add_to_container`` of `nengo.Network`.

    Attributes
    ----------
    input : nengo.Node
        ``x`` (input_d).
    memory : nengo.Node
        ``m`` (memory_d * order), dimension-major.
    memory_input : nengo.Node or nengo.base.ObjView
        ``u`` (memory_d): the memory node itself; a view of its first memory_d inputs
        with a trainable theta; or a node of its own when the memory is built from
        connections ``A`` and ``B`` (trained, or a ``memory_system`` of the whole
        memory).
    theta_input : nengo.base.ObjView
        The memory node's input ``dt / theta`` (only with a trainable theta; the
        connection into it is ``weight_connections["theta"]``).
    hidden : nengo.Ensemble or nengo.Node
        The hidden layer; ``output`` is its neurons (or the node itself).
    output : nengo.ensemble.Neurons or nengo.Node
        ``h`` (units).
    weight_connections : dict
        The connection holding each present weight, by name.
    arguments : dict
        The constructor's arguments other than the weights and ``label``, ``seed``
        (`.convert.network_kwargs` rebuilds the layer from them and its weights).
    fused : bool
        In NengoDL, build the cell as one operator per step (much faster) whenever
        that is exact (see `.builders.build_lmu`); set to False (before building) for
        the standard build from the objects above. Default True.
    """

    fused = True

    def __init__(
        self,
        units,
        order,
        theta,
        input_d,
        memory_d=1,
        hidden_neurons=nengo.Tanh(tau_ref=1),
        input_encoders=1.0,
        hidden_encoders=0.0,
        memory_encoders=0.0,
        memory_bias=None,
        input_kernel=0.0,
        hidden_kernel=0.0,
        memory_kernel="glorot",
        hidden_bias=None,
        trainable=None,
        memory_system=None,
        memory_network=None,
        spiking_memory=None,
        method="zoh",
        dt=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._check_arguments(units, order, input_d, memory_d, hidden_neurons)
        trainable = None if trainable is None else set(trainable)
        process = self._memory_process(
            theta, order, memory_d, method, memory_system, trainable or set(), dt
        )
        n_memory = memory_d * order
        if isinstance(memory_kernel, str) and memory_kernel == "glorot":
            memory_kernel = glorot_normal(n_memory, units)
        weights = {  # name: (initial value, shape (out, in))
            "input_encoders": (input_encoders, (memory_d, input_d)),
            "hidden_encoders": (hidden_encoders, (memory_d, units)),
            "memory_encoders": (memory_encoders, (memory_d, n_memory)),
            "memory_bias": (memory_bias, (memory_d, 1)),
            "input_kernel": (input_kernel, (units, input_d)),
            "hidden_kernel": (hidden_kernel, (units, units)),
            "memory_kernel": (memory_kernel, (units, n_memory)),
            "hidden_bias": (hidden_bias, (units, 1)),
        }
        transforms = {
            name: _transform(name, init, shape)
            for name, (init, shape) in weights.items()
            if init is not None
        }
        trainable = set(transforms) if trainable is None else trainable
        known = set(transforms) | {"A", "B", "theta"}
        if trainable - known:
            raise ValidationError(
                f"{sorted(trainable - known)} are not weights of this LMU; choose from "
                f"{sorted(known)}",
                attr="trainable",
                obj=self,
            )
        self.dt = dt
        self.arguments = dict(
            units=units,
            order=order,
            theta=theta,
            input_d=input_d,
            memory_d=memory_d,
            hidden_neurons=hidden_neurons,
            trainable=sorted(trainable),
            memory_system=memory_system,
            memory_network=memory_network,
            spiking_memory=spiking_memory,
            method=method,
            dt=dt,
        )
        realization = memory_realization(
            process, trainable, memory_network, spiking_memory, dt
        )
        for name, init in realization.weights().items():
            transforms[name] = nengo.Dense(np.shape(init), init=np.asarray(init))

        with self:
            self.input = nengo.Node(size_in=input_d, label="x")
            realization.build(self)
            self._make_hidden(units, hidden_neurons)
            if transforms.keys() & {"memory_bias", "hidden_bias", "theta"}:
                self.one = nengo.Node([1.0], label="1")
            self.weight_connections = {}
            for name, transform in transforms.items():
                pre, post, synapse = WIRING[name]
                if pre == "memory":  # read as the realization says
                    pre, synapse = realization.read(self, delayed=synapse == 0)
                else:
                    pre = getattr(self, pre)
                conn = nengo.Connection(
                    pre, getattr(self, post), transform=transform, synapse=synapse
                )
                configure_trainable(self, conn, name in trainable)
                self.weight_connections[name] = conn

    def _check_arguments(self, units, order, input_d, memory_d, hidden_neurons):
        """Raise a ValidationError for sizes or a hidden type that cannot work."""
        for name, value in (
            ("units", units),
            ("order", order),
            ("input_d", input_d),
            ("memory_d", memory_d),
        ):
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValidationError(
                    f"Must be an integer >= 1 (got {value!r})", attr=name, obj=self
                )
        if not (
            hidden_neurons is None
            or isinstance(hidden_neurons, NeuronType)
            or (callable(hidden_neurons) and compat.HAS_NENGO_DL)
        ):
            raise ValidationError(
                f"Must be a nengo NeuronType such as nengo.Tanh(tau_ref=1), "
                f"nengo.RectifiedLinear() or nengo.LIF(), a TensorFlow function (with "
                "NengoDL installed), or None for the identity "
                f"(got {hidden_neurons!r})",
                attr="hidden_neurons",
                obj=self,
            )

    def _memory_process(  # pylint: disable=too-many-arguments
        self, theta, order, memory_d, method, memory_system, trainable, dt
    ):
        """The memory's process: the Legendre memory, the state of a single-input
        ``memory_system`` per memory signal, or a ``memory_system`` of the whole memory
        (memory_d inputs, memory_d * order states; e.g. trained A and B), discretized
        at ``dt``."""
        train_theta = "theta" in trainable
        if train_theta and (
            memory_system is not None
            or {"A", "B"} & trainable
            or method not in ("zoh", "euler")
        ):
            raise ValidationError(
                "A trainable theta needs the Legendre memory (no memory_system) with "
                f"method 'zoh' or 'euler' (got {method!r}), and A and B not trained",
                attr="trainable",
                obj=self,
            )
        if memory_system is None:
            return LegendreMemory(
                theta, order, size_in=memory_d, method=method, theta_input=train_theta
            )
        if isinstance(memory_system, LinearSystem) and memory_system.order == order:
            return LinearSystemState(memory_system, size_in=memory_d, method=method)
        if isinstance(memory_system, LinearSystem) and memory_system.B.shape == (
            memory_d * order,
            memory_d,
        ):
            if dt is None or not dt > 0:
                raise ValidationError(
                    "A memory_system of the whole memory is stepped by connections "
                    f"holding its discrete A and B: it needs dt > 0 (got {dt!r})",
                    attr="dt",
                    obj=self,
                )
            return discrete_system(memory_system, dt, method)
        raise ValidationError(
            f"Must be a single-input LinearSystem of order {order}, or one of "
            f"order memory_d * order = {memory_d * order} with memory_d = "
            f"{memory_d} inputs (got {memory_system!r})",
            attr="memory_system",
            obj=self,
        )

    def _make_hidden(self, units, hidden_neurons):
        """Make the hidden layer ``hidden`` and its output ``output``."""
        if hidden_neurons is None:
            self.hidden = self.output = nengo.Node(size_in=units, label="h")
        elif not isinstance(hidden_neurons, NeuronType):
            import nengo_dl  # pylint: disable=import-outside-toplevel

            self.hidden = self.output = nengo_dl.TensorNode(
                hidden_neurons, shape_in=(units,), pass_time=False, label="h"
            )
        else:
            self.hidden = nengo.Ensemble(
                units,
                1,
                neuron_type=hidden_neurons,
                gain=nengo.dists.Choice([1.0]),
                bias=nengo.dists.Choice([0.0]),
                label="h",
            )
            self.output = self.hidden.neurons
            configure_trainable(self, self.hidden, False)

    def trained_theta(self, sim):
        """The window ``theta`` learned in ``sim`` (see ``trainable``)."""
        if "theta" not in self.weight_connections:
            raise ValidationError(
                "theta is not trainable in this LMU", attr="trainable", obj=self
            )
        return self.dt / float(
            np.ravel(sim.data[self.weight_connections["theta"]].weights)[0]
        )


class Dense(nengo.Network):
    """A dense layer ``y = W x + b`` from Nengo connections (e.g. an LMU's readout).

    Parameters
    ----------
    size_in, size_out : int
        Input and output dimensions.
    kernel : optional
        Initial ``W`` (size_out, size_in): array, scalar or Distribution (default
        Glorot normal).
    bias : optional
        Initial ``b`` (size_out,), or None for no bias. Default zeros.
    **kwargs
        ``label``, ``seed``, ``add_to_container`` of `nengo.Network`.

    Attributes
    ----------
    fused : bool
        In NengoDL, compute the layer as one operator per step whenever that is exact
        (see `.builders.build_dense`); set to False (before building) for the standard
        build from its nodes and connections. Default True.
    """

    fused = True

    def __init__(self, size_in, size_out, kernel=None, bias=0.0, **kwargs):
        super().__init__(**kwargs)
        kernel = glorot_normal(size_in, size_out) if kernel is None else kernel
        with self:
            self.input = nengo.Node(size_in=size_in, label="in")
            self.output = nengo.Node(size_in=size_out, label="out")
            self.kernel = nengo.Connection(
                self.input,
                self.output,
                transform=_transform("kernel", kernel, (size_out, size_in)),
                synapse=None,
            )
            if bias is not None:
                self.one = nengo.Node([1.0], label="1")
                self.bias = nengo.Connection(
                    self.one,
                    self.output,
                    transform=_transform("bias", bias, (size_out, 1)),
                    synapse=None,
                )


class SequenceClassifier(nengo.Network):
    """Classify sequences: input → `LMU` → `Dense` readout (class scores).

    Parameters
    ----------
    n_classes : int
        Number of classes (readout outputs).
    readout_kernel, readout_bias : optional
        Initial readout weights (see `Dense`).
    label, seed, add_to_container : optional
        As for `nengo.Network` (of the classifier; the LMU and the readout are in it).
    **lmu_kwargs
        Arguments of `LMU` (``units``, ``order``, ``theta``, ``input_d``, ...).

    Attributes
    ----------
    input : nengo.Node
        The node that presents the sequence (feed it data in NengoDL; the reference
        simulator reads ``input.output.data``, see `.train.predict`).
    lmu : LMU
    readout : Dense
    probe : nengo.Probe
        The class scores (logits).
    """

    def __init__(
        self,
        n_classes,
        readout_kernel=None,
        readout_bias=0.0,
        label=None,
        seed=None,
        add_to_container=None,
        **lmu_kwargs,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        with self:
            self.lmu = LMU(**lmu_kwargs)
            self.input = nengo.Node(SequenceInput(self.lmu.input.size_in), label="data")
            self.readout = Dense(
                self.lmu.hidden.n_neurons, n_classes, readout_kernel, readout_bias
            )
            nengo.Connection(self.input, self.lmu.input, synapse=None)
            nengo.Connection(self.lmu.output, self.readout.input, synapse=None)
            self.probe = nengo.Probe(self.readout.output, label="scores")
            if compat.HAS_NENGO_DL:
                import nengo_dl  # pylint: disable=import-outside-toplevel

                nengo_dl.configure_settings(keep_history=False)  # last step only


class SequenceInput(nengo.Process):
    """Present ``data[k]`` at simulator step ``k + 1`` (the last row after the end).

    The reference simulator reads ``data`` (steps, d) at every step, so set it before
    each run (see `.train.predict`); NengoDL replaces this process by the data fed to
    the node.
    """

    def __init__(self, d):
        self.data = np.zeros((1, d))
        super().__init__(default_size_in=0, default_size_out=d)

    def make_step(self, shape_in, shape_out, dt, rng, state):
        def step_sequenceinput(t):
            return self.data[min(int(round(t / dt)) - 1, len(self.data) - 1)]

        return step_sequenceinput
