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

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.compat import HAS_NENGO_DL
from nengo_lmu.convert import network_kwargs
from nengo_lmu.train import fit
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.systems import LegendreDelay

MEMORY_NETWORK = {"n_neurons": 100, "neuron_type": nengo.LIF()}
"""The default `.DelayNetwork` arguments of a memory of neurons (``memory=dict()``)."""

DELTA = 0.045
"""The default state of one spike of a spiking memory (``memory="spiking"``)."""


def spiking_neurons(rate_type, k=1, rate_scale=1.0, initial_voltage=0.5):
    """The regular-spiking counterpart of a rate neuron type.

    The unit integrates ``k * rate_scale`` times the rate of ``rate_type`` and fires
    spikes of ``1 / (k * rate_scale)`` times the amplitude, so its mean output is the
    rate unit's output. With ``nengo.Tanh(tau_ref=1)`` at ``dt = 1`` (the paper's cell),
    it fires at most ``rate_scale`` spikes per tick, ``k * rate_scale`` per step, on
    average over steps (``ceil(k * rate_scale)`` in one step).

    Parameters
    ----------
    rate_type : nengo.Tanh or nengo.Sigmoid or nengo.RectifiedLinear or nengo.LIFRate
        The trained rate type (signed spikes for negative rates of ``Tanh``).
    k : int
        Ticks per input step (see the module's notes).
    rate_scale : float
        Spikes per tick at the rate type's unit rate (rate × dt = 1): the trade-off
        between spike count and spike amplitude.
    initial_voltage : float
        The starting value of the integrated rate, in [0, 1); 0.5 makes the spike count
        the rounded integral of the rate.

    Returns
    -------
    nengo.RegularSpiking
    """
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValidationError(f"Must be an integer >= 1 (got {k!r})", attr="k")
    check_positive(rate_scale, "rate_scale")
    if not 0 <= initial_voltage < 1:
        raise ValidationError(
            f"Must be in [0, 1) (got {initial_voltage!r})", attr="initial_voltage"
        )
    c = k * rate_scale
    if type(rate_type) in (nengo.Tanh, nengo.Sigmoid):
        base = type(rate_type)(tau_ref=rate_type.tau_ref / c)
    elif type(rate_type) is nengo.RectifiedLinear:
        base = nengo.RectifiedLinear(amplitude=rate_type.amplitude * c)
    elif type(rate_type) is nengo.LIFRate:
        base = nengo.LIFRate(
            tau_rc=rate_type.tau_rc / c,
            tau_ref=rate_type.tau_ref / c,
            amplitude=rate_type.amplitude,
        )
    else:
        raise ValidationError(
            f"No spiking counterpart for {rate_type!r}: the hidden units must be "
            "nengo.Tanh, nengo.Sigmoid, nengo.RectifiedLinear or nengo.LIFRate",
            attr="hidden_neurons",
        )
    return nengo.RegularSpiking(
        base,
        amplitude=1.0 / c,
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
    delta=DELTA,
    dt=None,
):
    """A trained LMU network rebuilt with spiking neurons.

    Parameters
    ----------
    net : SequenceClassifier or LMU
        The trained rate network: its weights must be arrays (given, or trained in
        NengoDL and written back with ``sim.freeze_params(net)``).
    k, rate_scale, initial_voltage :
        The spiking hidden units (see `spiking_neurons`). The defaults (2 ticks per
        input step, at most 0.7 spikes per tick for Tanh units at ``dt = 1``) give the
        paper's psMNIST model about one spike (positive or negative) per unit per input
        step on average; `.train.predict` measures the statistics
        (``benchmarks/hybrid_psmnist.py`` on psMNIST).
    hidden : "spiking" or "rate"
        Spiking hidden units, or keep the trained rate units.
    memory : "ideal" or "spiking" or dict
        The memory: the trained (ideal) linear system; ``"spiking"``, the trained
        system in spiking units (`.SpikingMemory`, one unit per memory dimension,
        any order and any trained A/B/theta); or a dict of `.DelayNetwork` arguments
        (completing `MEMORY_NETWORK`) for a delay network of neurons per memory
        signal (the Legendre system only).
    delta : float
        With ``memory="spiking"``: the memory state one spike carries (in the units
        of the memory state). The default (``benchmarks/fully_spiking.py``) keeps
        the paper's psMNIST model within 5 memory spikes per dimension per input
        step.
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

    Returns
    -------
    SequenceClassifier or LMU
        A new network of the same type, label and seed. A `.SequenceClassifier` with
        spiking hidden units has a ``hidden_probe`` on their output, one with a
        spiking memory a ``memory_probe`` on its units (with their whole history in
        NengoDL), for `.train.predict` to count spikes.
    """
    kwargs = network_kwargs(net)
    rate_type = kwargs["hidden_neurons"]
    if hidden == "spiking":
        kwargs["hidden_neurons"] = spiking_neurons(
            rate_type, k=k, rate_scale=rate_scale, initial_voltage=initial_voltage
        )
    elif hidden != "rate":
        raise ValidationError(
            f"Must be 'spiking' or 'rate' (got {hidden!r})", attr="hidden"
        )
    kwargs.update(_memory_kwargs(kwargs, memory, delta, dt))
    if synapse is not None and not isinstance(synapse, nengo.synapses.Synapse):
        raise ValidationError(
            f"Must be a nengo Synapse or None (got {synapse!r})", attr="synapse"
        )
    spiking = type(net)(**kwargs)
    if isinstance(spiking, SequenceClassifier):
        if hidden == "spiking":
            _spike_probe(spiking, "hidden_probe", spiking.lmu.output, "h spikes")
        if memory == "spiking":
            memory_units = spiking.lmu.spiking_memory.neurons
            _spike_probe(spiking, "memory_probe", memory_units, "memory spikes")
    if synapse is not None:
        lmu = spiking.lmu if isinstance(spiking, SequenceClassifier) else spiking
        for conn in spiking.all_connections:
            if conn.pre_obj is lmu.output:
                conn.synapse = synapse
    return spiking


def _spike_probe(net, name, target, label):
    """Add the probe ``net.<name>`` on the spikes of ``target`` (its whole history in
    NengoDL)."""
    with net:
        probe = nengo.Probe(target, label=label)
        if HAS_NENGO_DL:
            net.config[probe].keep_history = True
    setattr(net, name, probe)


def _memory_kwargs(kwargs, memory, delta, dt):
    """The `.LMU` arguments that realize ``memory`` (see `to_spiking`)."""
    if memory == "ideal":
        return {}
    if not (memory == "spiking" or isinstance(memory, dict)):
        raise ValidationError(
            f"Must be 'ideal', 'spiking' or a dict of DelayNetwork arguments "
            f"(got {memory!r})",
            attr="memory",
        )
    system = kwargs["memory_system"]
    dt = dt or (memory.get("dt") if isinstance(memory, dict) else None)
    dt = dt or kwargs["dt"] or (None if system is None or system.analog else system.dt)
    if dt is None:
        raise ValidationError(
            "A spiking memory is built for the simulator's time step, which this "
            "network does not give: pass dt (e.g. to_spiking(..., dt=1.0) for theta "
            "in steps; nengo-lmu --dt)",
            attr="dt",
        )
    if system is not None and not system.analog and system.dt != dt:
        raise ValidationError(
            f"The network's memory is a discrete system for dt={system.dt}, not the "
            f"given dt={dt}",
            attr="dt",
        )
    trainable = sorted(set(kwargs["trainable"]) - {"A", "B", "theta"})
    if memory == "spiking":
        check_positive(delta, "delta")
        return dict(spiking_memory=dict(delta=delta, dt=dt), trainable=trainable)
    _check_legendre(system, kwargs)
    return dict(
        memory_network={**MEMORY_NETWORK, **memory, "dt": dt},
        memory_system=None,
        trainable=trainable,
    )


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
    if not (
        np.allclose(A, reference.A, atol=1e-6)
        and np.allclose(B, reference.B, atol=1e-6)
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

    Trains `to_spiking` ``(net, **conversion)`` in NengoDL, where the fused LMU
    operator uses the spikes in the forward pass and the gradient of the rates in the
    backward pass (straight-through, as in Voelker, Rasmussen & Eliasmith 2020, "A Spike
    in Performance"), so the weights adapt to the quantization of the spiking units.

    Parameters
    ----------
    net : SequenceClassifier
        The trained rate network (unchanged).
    x, y :
        Training sequences and classes (see `.train.fit`).
    epochs, learning_rate, minibatch_size, callbacks, progress_bar :
        Training settings (see `.train.fit`); a small learning rate keeps what the rate
        network learned.
    **conversion
        Arguments of `to_spiking` (use the same ones to run the result).

    Returns
    -------
    tuned : SequenceClassifier
        The rate network with the fine-tuned weights (save it with
        `.convert.save_weights` ``(path, network_kwargs(tuned))``; run it spiking with
        ``to_spiking(tuned, **conversion)``).
    history : dict
        Loss and accuracy per epoch (of the spiking network).
    """
    spiking = to_spiking(net, **conversion)
    history = fit(
        spiking,
        x,
        y,
        epochs=epochs,
        learning_rate=learning_rate,
        minibatch_size=minibatch_size,
        callbacks=callbacks,
        progress_bar=progress_bar,
    )
    kwargs = network_kwargs(spiking)
    kwargs["hidden_neurons"] = net.lmu.arguments["hidden_neurons"]
    kwargs.pop("memory_network")
    kwargs.pop("spiking_memory")
    kwargs["memory_system"] = net.lmu.arguments["memory_system"]
    return type(net)(**kwargs), history
