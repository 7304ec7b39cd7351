"""The realizations of an `.LMU`'s memory: one small class per kind.

Each realization builds the memory's objects inside the LMU (``memory_input``, the
sum ``u`` the memory is driven by; ``memory``, the state ``m``), names the weights it
adds (the trainable ``A``, ``B`` or ``dt / theta``), and says how a connection reads
the state (``read``). `.LMU` picks one with `memory_realization`; `.hybrid.to_spiking`
chooses one through the LMU's ``memory_network`` or ``spiking_memory`` arguments.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.memory import LegendreMemory
from nengo_lmu.networks import DelayNetwork, simulable
from nengo_lmu.spiking_memory import SpikingMemory
from nengo_lmu.systems import LinearSystem


class IdealMemory:
    """The exact memory: a node of the memory process (`.LinearSystemState`)."""

    def __init__(self, process, dt):
        self.process = process
        self.dt = dt

    def matrices(self, dt):
        """The discrete ``(A, B)`` of the whole memory stepped at ``dt``: those of a
        system of the whole memory (e.g. trained A and B, see `.LMU`'s
        ``memory_system``), else each of the memory_d signals steps its own copy of the
        process' system."""
        if isinstance(self.process, LinearSystem):
            return self.process.A, self.process.B
        eye = np.eye(self.process.size_in)
        system = self.process.discrete_system(dt)
        return np.kron(eye, system.A), np.kron(eye, system.B)

    def weights(self):
        """The initial values of the weights this memory adds, by name."""
        return {}

    def build(self, lmu):
        """Make the memory's objects in ``lmu`` (inside ``with lmu``)."""
        lmu.memory = lmu.memory_input = nengo.Node(self.process, label="m")

    def read(self, lmu, delayed):
        """``(pre, synapse)`` of a connection reading ``m[t]`` (or ``m[t-1]`` if
        ``delayed``)."""
        return lmu.memory, 0 if delayed else None


class TrainableThetaMemory(IdealMemory):
    """The Legendre memory discretized at a trainable ``dt / theta`` (its node's
    last input, fed from a constant by the weight ``theta``)."""

    def weights(self):
        return {"theta": np.array([[self.dt / self.process.theta]])}

    def build(self, lmu):
        d = self.process.size_in
        lmu.memory = nengo.Node(self.process, label="m")
        lmu.memory_input = lmu.memory[:d]
        lmu.theta_input = lmu.memory[d]


class TrainableABMemory(IdealMemory):
    """The memory built from connections holding ``A`` and ``B`` (trainable, or a
    system of the whole memory)."""

    def weights(self):
        A, B = self.matrices(self.dt)
        return {"A": A, "B": B}

    def build(self, lmu):
        A, B = self.matrices(self.dt)
        lmu.memory_input = nengo.Node(size_in=B.shape[1], label="u")
        lmu.memory = nengo.Node(size_in=A.shape[0], label="m")


class DelayNetworkMemory(IdealMemory):
    """One `.DelayNetwork` of neurons per memory signal, decoded back to Legendre
    coordinates (``arguments``: the `.DelayNetwork` keyword arguments)."""

    def __init__(self, process, dt, arguments):
        super().__init__(process, dt)
        self.arguments = dict({"dt": dt} if dt else {}, **arguments)

    def build(self, lmu):
        d, order = self.process.size_in, self.process.system.order
        lmu.memory_input = nengo.Node(size_in=d, label="u")
        lmu.memory = nengo.Node(size_in=d * order, label="m")
        lmu.delay_networks = []
        for k in range(d):
            net = self._delay_network()
            nengo.Connection(lmu.memory_input[k], net.input, synapse=None)
            nengo.Connection(
                net.state,
                lmu.memory[k * order : (k + 1) * order],
                transform=np.linalg.inv(net.transform),
                synapse=None,
            )
            lmu.delay_networks.append(net)

    def _delay_network(self):
        theta, order = self.process.theta, self.process.system.order
        neuron_type = self.arguments.get(
            "neuron_type", nengo.Ensemble.neuron_type.default
        )
        dt = self.arguments.get("dt", 0.001)
        if not simulable(neuron_type, dt):
            raise ValidationError(
                f"{neuron_type} neurons (tau_rc={neuron_type.tau_rc:g}) cannot run at "
                f"dt={dt:g}, a step not below their time constant: use the spiking memory "
                "(to_spiking(..., memory='spiking')), or neurons whose dynamics fit "
                "the step",
                attr="memory_network",
            )
        try:
            return DelayNetwork(theta=theta, order=order, **self.arguments)
        except (FloatingPointError, np.linalg.LinAlgError) as e:
            raise ValidationError(
                f"Cannot realize the memory (order {order}, theta {theta:g}) as a "
                f"DelayNetwork with {self.arguments}: {type(e).__name__}: {e}. "
                "Use the spiking memory (to_spiking(..., memory='spiking')), which "
                "works at any order and time step",
                attr="memory_network",
            ) from e


class SpikingMemoryRealization(IdealMemory):
    """The memory in spiking units (`.SpikingMemory`), read through integrating
    synapses on their spikes (``arguments``: ``delta``, ``dt`` and ``ticks``)."""

    def __init__(self, process, dt, arguments):
        super().__init__(process, arguments.get("dt", dt))
        self.delta = arguments.get("delta")
        self.ticks = arguments.get("ticks", 1)
        self.tick_system = arguments.get("tick_system")
        unknown = set(arguments) - {"delta", "dt", "ticks", "tick_system"}
        if unknown or self.delta is None:
            raise ValidationError(
                f"Must be a dict with 'delta' (the state of one spike) and optionally "
                f"'dt', 'ticks' and 'tick_system' (got {arguments!r})",
                attr="spiking_memory",
            )
        if self.dt is None and getattr(self.process, "system", self.process).analog:
            raise ValidationError(
                "A spiking memory steps a discrete system: give the simulator's time "
                "step, as spiking_memory=dict(dt=...) or the LMU's dt (e.g. dt=1.0 "
                "for theta in steps)",
                attr="spiking_memory",
            )

    def build(self, lmu):
        system = getattr(self.process, "system", self.process)
        dt = self.dt or system.dt
        A, B = self.matrices(dt)
        lmu.spiking_memory = SpikingMemory(
            A,
            B,
            delta=self.delta,
            dt=dt,
            ticks=self.ticks,
            tick_system=self.tick_system,
            label="spiking memory",
        )
        lmu.memory_input = lmu.spiking_memory.input
        lmu.memory = lmu.spiking_memory.output

    def read(self, lmu, delayed):
        return lmu.spiking_memory.read(delayed)


def memory_realization(process, trainable, memory_network, spiking_memory, dt):
    """The realization of an `.LMU`'s memory ``process`` for its arguments."""
    learned = trainable & {"A", "B", "theta"}
    if learned and not (dt is not None and dt > 0):
        raise ValidationError(
            f"Training A, B or theta needs the simulator's time step dt > 0 "
            f"(got {dt!r})",
            attr="dt",
        )
    if memory_network is not None and spiking_memory is not None:
        raise ValidationError(
            "Give memory_network (DelayNetworks) or spiking_memory, not both",
            attr="spiking_memory",
        )
    if spiking_memory is not None:
        if "theta" in learned or {"A", "B"} & learned:
            raise ValidationError(
                "A spiking memory steps a fixed discrete system: it cannot train A, "
                "B or theta (give the trained system as memory_system)",
                attr="spiking_memory",
            )
        return SpikingMemoryRealization(process, dt, spiking_memory)
    if memory_network is not None:
        if learned or not isinstance(process, LegendreMemory):
            raise ValidationError(
                "A memory of neurons (memory_network) realizes the Legendre memory: "
                "it cannot take a memory_system or train A, B or theta",
                attr="memory_network",
            )
        return DelayNetworkMemory(process, dt, memory_network)
    if "theta" in learned:
        return TrainableThetaMemory(process, dt)
    if learned or isinstance(process, LinearSystem):  # or a system of the whole memory
        return TrainableABMemory(process, dt)
    return IdealMemory(process, dt)
