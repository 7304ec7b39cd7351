"""Hybrid mode: run a trained LMU with spiking neurons.

`to_spiking` rebuilds a trained `.SequenceClassifier` (or `.LMU`) with regular-spiking
hidden units and, on request, a memory of spiking neurons (`.DelayNetwork`).

Each input step lasts ``k`` ticks of the spiking units, with their input held over the
step: this keeps the trained discrete-time cell exactly (the memory and the recurrent
weights see one value per input step) and quantizes only ``h``. A regular-spiking unit
(`nengo.RegularSpiking`: integrate the rate, spike at each integer, subtract the
spike) fed a constant rate ``r`` for ``k`` ticks of ``1 / k`` fires exactly
``floor(v + r)`` spikes, the same as one step of ``dt`` would, so the simulator runs one
step per input step and the unit fires ``k * rate_scale`` spikes per step on average at
the rate type's unit rate (a whole number in each step: up to one more). Its output
in that step is the spikes' average over the input step: the readout and the recurrent
connections see the spike count of the last step, scaled by the spike amplitude.
"""

import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.compat import HAS_NENGO_DL
from nengo_lmu.convert import network_kwargs
from nengo_lmu.train import fit
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.memory import LegendreMemory
from nengo_lmu.neurons import SpikeAwareRegularSpiking
from nengo_lmu.realizations import IdealMemory
from nengo_lmu.spiking_memory import (
    ERROR,
    SignedIntegrateFire,
    balanced_basis,
    budget_delta,
    tick_system,
)
from nengo_lmu.stacked import StackedModel
from nengo_lmu.systems import LegendreDelay, LinearSystem

MEMORY_NETWORK = {"n_neurons": 100, "neuron_type": nengo.LIF()}
"""The default `.DelayNetwork` arguments of a memory of neurons (``memory=dict()``)."""


def spiking_neurons(rate_type, dt, k=1, rate_scale=1.0, initial_voltage=0.5):
    """The regular-spiking counterpart of a rate neuron type.

    Per simulator step ``dt``, the unit integrates ``k * rate_scale`` times the output
    of ``rate_type`` and fires spikes worth ``1 / (k * rate_scale)`` of it, so its mean
    output is the rate unit's output. With ``nengo.Tanh(tau_ref=1)`` (the paper's
    cell), it fires at most ``rate_scale`` spikes per tick, ``k * rate_scale`` per
    step, on average over steps (``ceil(k * rate_scale)`` in one step), at any ``dt``.

    Parameters
    ----------
    rate_type : nengo.Tanh or nengo.Sigmoid or nengo.RectifiedLinear or nengo.LIFRate
        The trained rate type (signed spikes for negative rates of ``Tanh``).
    dt : float
        The simulator's time step (one input step).
    k : int
        Ticks per input step (see the module's notes).
    rate_scale : float
        Spikes per tick at the rate type's unit output (an output of 1): the
        trade-off between spike count and spike amplitude.
    initial_voltage : float
        The starting value of the integrated rate, in [0, 1); 0.5 makes the spike count
        the rounded integral of the rate.

    Returns
    -------
    SpikeAwareRegularSpiking
        `nengo.RegularSpiking` units that NengoDL trains through their spikes.
    """
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValidationError(f"Must be an integer >= 1 (got {k!r})", attr="k")
    check_positive(dt, "dt")
    check_positive(rate_scale, "rate_scale")
    if not 0 <= initial_voltage < 1:
        raise ValidationError(
            f"Must be in [0, 1) (got {initial_voltage!r})", attr="initial_voltage"
        )
    c = k * rate_scale
    s = c / dt  # the base type's rates are c times the rate type's output per step
    if type(rate_type) in (nengo.Tanh, nengo.Sigmoid):
        base = type(rate_type)(tau_ref=rate_type.tau_ref / s)
    elif type(rate_type) is nengo.RectifiedLinear:
        base = nengo.RectifiedLinear(amplitude=rate_type.amplitude * s)
    elif type(rate_type) is nengo.LIFRate:
        base = nengo.LIFRate(
            tau_rc=rate_type.tau_rc / s,
            tau_ref=rate_type.tau_ref / s,
            amplitude=rate_type.amplitude,
        )
    else:
        raise ValidationError(
            f"No spiking counterpart for {rate_type!r}: the hidden units must be "
            "nengo.Tanh, nengo.Sigmoid, nengo.RectifiedLinear or nengo.LIFRate",
            attr="hidden_neurons",
        )
    return SpikeAwareRegularSpiking(
        base,
        amplitude=dt / c,
        initial_state={"voltage": nengo.dists.Choice([initial_voltage])},
    )


def to_spiking(
    net,
    k=2,
    rate_scale=0.7,
    hidden="spiking",
    memory="ideal",
    synapse=None,
    initial_voltage=0.5,
    delta=None,
    delta_error=ERROR,
    dt=None,
    basis=None,
    ticks=1,
):
    """A trained LMU network rebuilt with spiking neurons.

    Parameters
    ----------
    net : SequenceClassifier or LMU or StackedModel
        The trained rate network: its weights must be arrays (given, or trained in
        NengoDL and written back with ``sim.freeze_params(net)``). A `.StackedModel`
        (`.convert.keras_network`) gets spiking hidden units in every LMU (with the
        ideal memory, no synapse).
    k, rate_scale, initial_voltage :
        The spiking hidden units (see `spiking_neurons`). The defaults (2 ticks per
        input step, at most 0.7 spikes per tick for Tanh units) give the paper's
        psMNIST model about one spike (positive or negative) per unit per input step on
        average; `.train.predict` measures the statistics
        (``benchmarks/hybrid_psmnist.py`` on psMNIST).
    hidden : "spiking" or "rate"
        Spiking hidden units, or keep the trained rate units.
    memory : "ideal" or "spiking" or dict
        The memory: the trained (ideal) linear system; ``"spiking"``, the trained
        system in spiking units (`.SpikingMemory`, one unit per memory dimension,
        any order and any trained A/B/theta); or a dict of `.DelayNetwork` arguments
        (completing `MEMORY_NETWORK`) for a delay network of neurons per memory
        signal (the Legendre system only).
    delta : float or array_like, optional
        With ``memory="spiking"``: the memory state one spike carries (in the units
        of the memory state), for all dimensions or one per dimension (``memory_d *
        order``). Default: one per dimension from the network's memory system and
        weights, `.spiking_memory.budget_delta` at ``delta_error``.
    delta_error : float
        With ``memory="spiking"`` and no ``delta``: the RMS error the memory's
        rounding may add to each hidden unit's input (see
        `.spiking_memory.budget_delta`; the default, chosen on psMNIST's validation
        images by ``benchmarks/spike_budget.py``, keeps the paper's psMNIST model
        within 5 memory spikes per dimension per input step).
        With a ``basis``, the estimate also counts the rounding residue the
        memory's recurrence passes on (`.spiking_memory.budget_delta` with
        ``recurrence=True``), which the balanced basis is made for: the same spikes
        then take a larger ``delta_error``.
    dt : float, optional
        The simulator's time step, for a spiking memory (or delay networks) of an
        LMU with an analog memory and no ``dt`` (e.g. ``.npz`` files from
        ``nengo-lmu train``: ``dt=1.0``, theta in steps). Default: the LMU's
        ``dt``, else the step of a discrete ``memory_system``.
    synapse : nengo.synapses.Synapse, optional
        A synapse on the connections leaving the hidden units (the recurrent ones keep
        their one-step delay), e.g. ``nengo.Lowpass(2)`` to smooth the readout over
        input steps. None (default) keeps the trained cell exact. Any synapse makes
        NengoDL use the standard build (not the fused operator).
    dt : float, optional
        The simulator time step the network runs at, which the spiking units' rates
        are scaled to (spikes per step do not depend on it). Default: the LMU's
        ``dt``, else the step of a discrete ``memory_system``; needed if neither is
        known, and must agree with them. The new LMU gets it as its ``dt``.
    basis : "balanced" or (n, n) array_like, optional
        With ``memory="spiking"`` or ``"ideal"``: the state coordinates the memory is
        realized in, ``T m`` (``n = memory_d * order``), the memory system and the
        weights reading the state transformed to match, so that the ideal network
        is the same; `memory_basis` gives the ``T`` of ``"balanced"``
        (`.spiking_memory.balanced_basis`, in which the spiking memory's rounding
        costs the fewest spikes; with ``ticks``, the basis of the system the units
        step, one sub-step). None (default): the trained network's own
        coordinates (Legendre ones, unless a ``memory_system`` was given).
    ticks : int
        With ``memory="spiking"``: sub-steps of the memory's units per input step
        (`.SpikingMemory`'s ``ticks``; the spikes are counted per input step). More
        than one lets the recurrence see the spikes within the step, which makes the
        memory's error smaller at about the same spikes
        (``benchmarks/fully_spiking.py``).

    Returns
    -------
    SequenceClassifier or LMU
        A new network of the same type, label and seed. A `.SequenceClassifier` with
        spiking hidden units has a ``hidden_probe`` on their output, one with a
        spiking memory a ``memory_probe`` on its units (with their whole history in
        NengoDL), for `.train.predict` to count spikes.
    """
    if isinstance(net, StackedModel):
        if basis is not None:
            raise ValidationError(
                "A StackedModel keeps the ideal memory: it takes no basis",
                attr="basis",
            )
        return _stacked_to_spiking(
            net, k, rate_scale, hidden, memory, synapse, initial_voltage, dt
        )
    kwargs = network_kwargs(net)
    kwargs["dt"] = _time_step(kwargs, dt)
    rate_type = kwargs["hidden_neurons"]
    if hidden == "spiking":
        if kwargs["dt"] is None:
            raise ValidationError(
                "Spiking hidden units fire per simulator time step, which this "
                "network does not know: give the dt it will run at, "
                "to_spiking(..., dt=...) (dt=1.0 for theta in steps), or build the "
                "LMU with dt",
                attr="dt",
            )
        kwargs["hidden_neurons"] = spiking_neurons(
            rate_type,
            kwargs["dt"],
            k=k,
            rate_scale=rate_scale,
            initial_voltage=initial_voltage,
        )
    elif hidden != "rate":
        raise ValidationError(
            f"Must be 'spiking' or 'rate' (got {hidden!r})", attr="hidden"
        )
    if ticks != 1 and memory != "spiking":
        raise ValidationError(
            f"Sub-steps are for the spiking memory (memory='spiking'), not for "
            f"memory={memory!r}: use ticks=1",
            attr="ticks",
        )
    T = _basis(net, kwargs, memory, basis, ticks)
    kwargs.update(_memory_kwargs(kwargs, memory, delta, delta_error, net, T, ticks))
    if synapse is not None and not isinstance(synapse, nengo.synapses.Synapse):
        raise ValidationError(
            f"Must be a nengo Synapse or None (got {synapse!r})", attr="synapse"
        )
    spiking = type(net)(**kwargs)
    spiking.memory_basis = T
    if isinstance(spiking, SequenceClassifier):
        if hidden == "spiking":
            _spike_probe(spiking, "hidden_probe", spiking.lmu.output, "h spikes")
        if memory == "spiking":
            _memory_probes(spiking, spiking.lmu.spiking_memory)
    if synapse is not None:
        lmu = spiking.lmu if isinstance(spiking, SequenceClassifier) else spiking
        for conn in spiking.all_connections:
            if conn.pre_obj is lmu.output:
                conn.synapse = synapse
    return spiking


def _stacked_to_spiking(
    net, k, rate_scale, hidden, memory, synapse, initial_voltage, dt
):
    """`to_spiking` for a `.StackedModel`: spiking hidden units in every LMU (for
    ``dt``, default 1: a Keras model counts θ in steps)."""
    if (hidden, memory, synapse) != ("spiking", "ideal", None):
        raise ValidationError(
            "A StackedModel is converted with spiking hidden units, the ideal memory "
            f"and no synapse (got hidden={hidden!r}, memory={memory!r}, "
            f"synapse={synapse!r})",
            attr="net",
        )
    return net.spiking_copy(
        lambda rate_type: spiking_neurons(
            rate_type,
            1.0 if dt is None else dt,
            k=k,
            rate_scale=rate_scale,
            initial_voltage=initial_voltage,
        )
    )


def _time_step(kwargs, dt):
    """The time step a converted network runs at: ``dt``, the LMU's ``dt`` or the
    step of its discrete memory system (None if none is known; an error if they
    disagree)."""
    system = kwargs["memory_system"]
    known = kwargs["dt"]
    if known is None and system is not None and not system.analog:
        known = system.dt
    if dt is None:
        return known
    if not (isinstance(dt, (int, float, np.number)) and np.isfinite(dt) and dt > 0):
        raise ValidationError(f"Must be a finite number > 0 (got {dt!r})", attr="dt")
    if known is not None and not np.isclose(dt, known, rtol=1e-9, atol=0):
        raise ValidationError(
            f"The network was built for dt={known} (got dt={dt})", attr="dt"
        )
    return float(dt)


def _spike_probe(net, name, target, label, attr=None):
    """Add the probe ``net.<name>`` on the spikes of ``target`` (its ``attr``,
    default its output; its whole history in NengoDL)."""
    with net:
        probe = nengo.Probe(target, attr, label=label)
        if HAS_NENGO_DL:
            net.config[probe].keep_history = True
    setattr(net, name, probe)


def _memory_probes(net, memory):
    """Add the probes counting the spikes of a `.SpikingMemory`'s units:
    ``memory_probe`` on their output, or with ticks (whose output is the step's
    positive minus negative spikes) on their ``positive`` spikes, and
    ``memory_negative_probe`` on their ``negative`` ones."""
    if memory.ticks == 1:
        _spike_probe(net, "memory_probe", memory.neurons, "memory spikes")
        return
    for name, attr in (
        ("memory_probe", "positive"),
        ("memory_negative_probe", "negative"),
    ):
        _spike_probe(net, name, memory.neurons, f"memory {attr} spikes", attr)


def memory_basis(net, basis="balanced", dt=None, ticks=1):
    """The state basis ``T`` that `to_spiking` ``(net, basis=basis, ticks=ticks)``
    realizes the memory in (the state is ``T m``).

    Parameters
    ----------
    net : SequenceClassifier or LMU
        The trained rate network (array weights).
    basis : "balanced" or (n, n) array_like
        See `to_spiking`: an array is checked (shape ``(memory_d * order,) * 2``,
        finite, invertible) and returned as a float array.
    dt : float, optional
        The time step the memory is stepped at (see `to_spiking`).
    ticks : int
        The spiking memory's sub-steps per step (see `to_spiking`): the balanced
        basis is that of the system its units step, one sub-step (a basis balanced
        for the whole step makes sub-stepped units chatter: tested).

    Returns
    -------
    (n, n) ndarray
    """
    kwargs = network_kwargs(net)
    n = kwargs["memory_d"] * kwargs["order"]
    if isinstance(basis, str) and basis == "balanced":
        dt = _time_step(kwargs, dt)
        if dt is None:
            raise ValidationError(
                "The balanced basis is that of the discrete memory system: give the "
                "time step it is stepped at, dt=... (dt=1.0 for theta in steps)",
                attr="dt",
            )
        A, B = (
            memory_matrices(net, dt) if ticks == 1 else _tick_matrices(net, dt, ticks)
        )
        readout = kwargs["memory_kernel"]
        readout = np.zeros((1, n)) if readout is None else readout
        return balanced_basis(A, B, readout, kwargs["memory_encoders"])
    try:
        T = np.asarray(basis, dtype=np.float64)
    except (TypeError, ValueError):
        T = np.zeros(0)
    if T.shape != (n, n) or not np.all(np.isfinite(T)) or np.linalg.cond(T) > 1e12:
        raise ValidationError(
            f"Must be None, 'balanced' or an invertible, finite array of shape "
            f"({n}, {n}), the state coordinates T m (got {basis!r})",
            attr="basis",
        )
    return T


def _basis(net, kwargs, memory, basis, ticks):
    """`memory_basis` of ``basis`` (None for None), checked against ``memory``."""
    if basis is None:
        return None
    if not (isinstance(memory, str) and memory in ("ideal", "spiking")):
        raise ValidationError(
            "A basis is for the ideal or the spiking memory (memory='ideal' or "
            f"'spiking'), not for a memory of delay networks (got memory={memory!r})",
            attr="basis",
        )
    return memory_basis(net, basis, kwargs["dt"], ticks)


def _in_basis(kwargs, T, A, B, dt):
    """The `.LMU` arguments of the memory ``A``, ``B`` realized in the state
    coordinates ``T m``: the discrete system of the whole memory and the weights
    reading its state."""
    inverse = np.linalg.inv(T)
    n, d = B.shape
    weights = {
        name: None if kwargs[name] is None else np.asarray(kwargs[name]) @ inverse
        for name in ("memory_kernel", "memory_encoders")
    }
    system = LinearSystem(
        T @ A @ inverse, T @ B, np.ones((1, n)), np.zeros((1, d)), False, dt
    )
    return dict(weights, memory_system=system)


def _memory_kwargs(kwargs, memory, delta, delta_error, net, T=None, ticks=1):
    """The `.LMU` arguments that realize ``memory`` (see `to_spiking`), in the state
    coordinates ``T m`` (None: the network's own), for the time step
    ``kwargs["dt"]`` (checked by `_time_step`), a spiking memory's units stepping
    ``ticks`` times per step."""
    if not (memory in ("ideal", "spiking") or isinstance(memory, dict)):
        raise ValidationError(
            f"Must be 'ideal', 'spiking' or a dict of DelayNetwork arguments "
            f"(got {memory!r})",
            attr="memory",
        )
    dt = kwargs["dt"] or (memory.get("dt") if isinstance(memory, dict) else None)
    if memory == "ideal" and T is None:
        return {}
    if dt is None:
        raise ValidationError(
            "A spiking memory (or a basis) is built for the simulator's time step, "
            "which this network does not give: pass dt (e.g. to_spiking(..., "
            "dt=1.0) for theta in steps; nengo-lmu --dt)",
            attr="dt",
        )
    if T is not None:
        A, B = memory_matrices(net, dt)
        kwargs.update(_in_basis(kwargs, T, A, B, dt))
        kwargs["trainable"] = sorted(set(kwargs["trainable"]) - {"theta"})
        if memory == "ideal":
            return {}
    trainable = sorted(set(kwargs["trainable"]) - {"A", "B", "theta"})
    if memory == "spiking":
        system = kwargs["memory_system"]
        A, B = memory_matrices(net, dt) if T is None else (system.A, system.B)
        spiking = dict(dt=dt)
        if ticks != 1:
            spiking.update(ticks=ticks, tick_system=_tick_matrices(net, dt, ticks, T))
            if T is not None:  # a basis balanced for the units' sub-step: its delta
                A, B = spiking["tick_system"]
        delta = _delta(kwargs, delta, delta_error, A, B, recurrence=T is not None)
        return dict(spiking_memory=dict(spiking, delta=delta), trainable=trainable)
    _check_legendre(kwargs["memory_system"], kwargs)
    return dict(
        memory_network={**MEMORY_NETWORK, **memory, "dt": dt},
        memory_system=None,
        trainable=trainable,
    )


def _delta(kwargs, delta, delta_error, A, B, recurrence=False):
    """The spiking memory's ``delta`` (checked): given, or `.budget_delta` of the
    discrete memory system ``A``, ``B`` and the weights of ``kwargs`` (counting the
    residue the recurrence passes on if ``recurrence``)."""
    n = kwargs["memory_d"] * kwargs["order"]
    if delta is None:
        check_positive(delta_error, "delta_error")
        readout = kwargs["memory_kernel"]
        return budget_delta(
            A,
            B,
            np.zeros((1, n)) if readout is None else readout,
            kwargs["memory_encoders"],
            delta_error,
            recurrence,
        )
    if np.ndim(delta) == 0:
        check_positive(delta, "delta")
        return float(delta)
    try:
        array = np.asarray(delta, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.zeros(0)
    if array.shape != (n,) or not np.all(np.isfinite(array) & (array > 0)):
        raise ValidationError(
            f"Must be a finite number > 0 or one per memory dimension, an array of "
            f"shape ({n},) of them (got {delta!r})",
            attr="delta",
        )
    return array


def memory_matrices(net, dt):
    """The discrete ``A``, ``B`` of the memory of ``net`` (an LMU or a
    `.SequenceClassifier` with array weights) stepped at ``dt``."""
    kwargs = network_kwargs(net)
    lmu = getattr(net, "lmu", net)
    process = lmu._memory_process(  # pylint: disable=protected-access
        kwargs["theta"],
        kwargs["order"],
        kwargs["memory_d"],
        kwargs["method"],
        kwargs["memory_system"],
        set(),
        dt,
    )
    return IdealMemory(process, dt).matrices(dt)


def _tick_matrices(net, dt, ticks, T=None):
    """``(A_k, B_k)`` of one of ``ticks`` sub-steps of the memory of ``net`` (in the
    state coordinates ``T m``): for the Legendre delay (a ``memory_system`` only if
    it is its zero-order hold), the analog system discretized at ``dt / ticks``,
    whose steps make the step exactly; else `.spiking_memory.tick_system`'s root of
    the step."""
    kwargs = network_kwargs(net)
    if not isinstance(ticks, (int, np.integer)) or ticks < 1:
        raise ValidationError(f"Must be an integer >= 1 (got {ticks!r})", attr="ticks")
    try:
        _check_legendre(kwargs["memory_system"], kwargs)
        legendre = kwargs["method"] == "zoh"
    except ValidationError:
        legendre = False
    if legendre:
        memory = LegendreMemory(
            kwargs["theta"], kwargs["order"], size_in=kwargs["memory_d"]
        )
        A, B = IdealMemory(memory, dt / ticks).matrices(dt / ticks)
    else:
        A, B = tick_system(*memory_matrices(net, dt), ticks)
    if T is None:
        return A, B
    return T @ A @ np.linalg.inv(T), T @ B


def check_positive(value, attr):
    """Raise a ValidationError unless ``value`` is a finite number > 0."""
    if not (
        isinstance(value, (int, float, np.number))
        and np.isfinite(value)
        and value > 0
    ):
        raise ValidationError(f"Must be a finite number > 0 (got {value!r})", attr=attr)


def _check_legendre(system, kwargs):
    """Raise unless ``system`` (the trained memory) is the Legendre delay that a
    spiking memory realizes."""
    if system is None:
        return
    reference = LegendreDelay(kwargs["theta"], kwargs["order"])
    if not system.analog:
        reference = reference.discretize(system.dt, kwargs.get("method", "zoh"))
    A, B, _, _ = system.ss
    eye = np.eye(system.size_in)  # a system of the whole memory: one copy per signal
    if not (
        A.shape == (len(eye) * reference.order,) * 2
        and np.allclose(A, np.kron(eye, reference.A), atol=1e-6)
        and np.allclose(B, np.kron(eye, reference.B), atol=1e-6)
    ):
        raise ValidationError(
            "A spiking memory realizes LegendreDelay(theta, order); this network's "
            "memory_system is a different system",
            attr="memory",
        )


def finetune(
    net,
    x,
    y,
    epochs=1,
    learning_rate=1e-4,
    minibatch_size=100,
    callbacks=None,
    progress_bar=True,
    **conversion,
):
    """Spike-aware fine-tuning of a trained rate network for its spiking version.

    Trains `to_spiking` ``(net, **conversion)`` in NengoDL with the spikes of its
    regular-spiking hidden units in the forward pass and the gradient of their rates
    in the backward pass (straight-through, as in Voelker, Rasmussen & Eliasmith 2020,
    "A Spike in Performance"), so the weights adapt to the quantization of the
    spiking units, and through a spiking memory (`.SpikingMemory`, whose own system
    stays fixed) to the weights upstream of it. This holds in the fused build and in
    the standard one (with a synapse or LIFRate units; see
    `.dl_builders.SpikeAwareRegularSpikingBuilder`). NengoDL trains other spiking
    neurons (a memory of LIF neurons, ``memory=dict(...)``) as their rate
    approximation: a warning says so.

    Parameters
    ----------
    net : SequenceClassifier
        The trained rate network (unchanged).
    x, y :
        Training sequences and classes or target probabilities (see `.train.fit`;
        `.train.distill_targets` mixes in the rate network's own probabilities).
    epochs, learning_rate, minibatch_size, callbacks, progress_bar :
        Training settings (see `.train.fit`); a small learning rate keeps what the rate
        network learned.
    **conversion
        Arguments of `to_spiking` (use the same ones to run the result).

    Returns
    -------
    tuned : SequenceClassifier
        The rate network with the fine-tuned weights, in its own state coordinates
        (save it with `.convert.save_weights` ``(path, network_kwargs(tuned))``; run
        it spiking with ``to_spiking(tuned, **conversion)``). With
        ``basis="balanced"``, the basis is ``net``'s (`memory_basis`); give that
        array as ``basis`` to run ``tuned`` in the basis it was trained in.
    history : dict
        Loss and accuracy per epoch (of the spiking network).
    """
    spiking = to_spiking(net, **conversion)
    rate_trained = {
        type(ens.neuron_type).__name__
        for ens in spiking.all_ensembles
        if ens.neuron_type.spiking
        and not isinstance(ens.neuron_type, (nengo.RegularSpiking, SignedIntegrateFire))
    }
    if rate_trained:
        warnings.warn(
            f"NengoDL trains the {', '.join(sorted(rate_trained))} neurons of the "
            "spiking memory as their rate approximation: fine-tuning is spike-aware "
            "for the regular-spiking units only",
            stacklevel=2,
        )
    dt = spiking.lmu.dt
    history = fit(
        spiking,
        x,
        y,
        epochs=epochs,
        learning_rate=learning_rate,
        minibatch_size=minibatch_size,
        callbacks=callbacks,
        progress_bar=progress_bar,
        **({} if dt is None else {"dt": dt}),
    )
    kwargs = network_kwargs(spiking)
    kwargs["hidden_neurons"] = net.lmu.arguments["hidden_neurons"]
    memory_network, spiking_memory = (
        kwargs.pop("memory_network"),
        kwargs.pop("spiking_memory"),
    )
    realized = (memory_network, spiking_memory, spiking.memory_basis)
    if any(value is not None for value in realized):
        rate = network_kwargs(net)  # the rate network's ideal memory
        kwargs.update(memory_system=rate["memory_system"], trainable=rate["trainable"])
    if spiking.memory_basis is not None:  # back to the rate network's coordinates
        for name in ("memory_kernel", "memory_encoders"):
            if kwargs[name] is not None:
                kwargs[name] = kwargs[name] @ spiking.memory_basis
    return type(net)(**kwargs), history
