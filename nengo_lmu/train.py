"""Run and evaluate nengo_lmu networks (NengoDL and the Nengo reference simulator)."""

import dataclasses
import sys

import nengo
import numpy as np
import scipy.special
from nengo.exceptions import ValidationError

from nengo_lmu.lmu import SequenceClassifier

BACKENDS = ("nengo_dl", "nengo")


@dataclasses.dataclass(frozen=True)
class SpikeStats:
    """Spike counts of a population of spiking units, per unit per input step.

    A unit's count in an input step is its number of spikes in that step, negative for
    the negative spikes of signed units (``nengo.RegularSpiking(nengo.Tanh())``).

    Attributes
    ----------
    positive : float
        Mean number of positive spikes per unit per input step.
    negative : float
        Mean number of negative spikes per unit per input step (counted as a positive
        number).
    max_count : int
        The largest number of spikes (of either sign) of one unit in one input step.
    steps_above_1 : float
        Share of unit-steps with more than one spike (of either sign).
    units_above_1 : float
        Share of units that average more than one spike (of either sign) per input
        step.
    """

    positive: float
    negative: float
    max_count: int
    steps_above_1: float
    units_above_1: float

    @property
    def total(self):
        """Mean number of spikes (of either sign) per unit per input step."""
        return self.positive + self.negative

    def __str__(self):
        return (
            f"{self.total:.3f} spikes per unit per input step ({self.positive:.3f} "
            f"positive, {self.negative:.3f} negative); at most {self.max_count} in "
            f"one step; {self.steps_above_1:.1%} of unit-steps and "
            f"{self.units_above_1:.1%} of units above 1"
        )


class SpikeCounter:
    """Accumulates the spike counts of a population, batch by batch, into a
    `SpikeStats`.

    Parameters
    ----------
    n_units : int
        Units in the population.
    """

    def __init__(self, n_units):
        self.unit_sums = np.zeros(n_units)  # |count| summed over sequences and steps
        self.positive = self.negative = self.above_1 = self.max_count = 0
        self.n_steps = 0  # sequences times input steps

    def add(self, counts, negative=None):
        """Count ``(sequences, steps, n_units)`` integer spike counts: signed ones,
        or with ``negative`` (of the same shape) the positive spikes and the
        negative ones of each unit in each step."""
        counts = np.asarray(counts)
        if negative is None:
            counts, negative = np.maximum(counts, 0), np.maximum(-counts, 0)
        both = counts + np.asarray(negative)
        self.positive += counts.sum()
        self.negative += np.sum(negative)
        self.above_1 += np.count_nonzero(both > 1)
        self.max_count = max(self.max_count, int(both.max(initial=0)))
        self.unit_sums += both.sum(axis=(0, 1))
        self.n_steps += counts.shape[0] * counts.shape[1]

    def stats(self):
        """The `SpikeStats` of the counts added so far."""
        n = self.n_steps * len(self.unit_sums)
        return SpikeStats(
            positive=self.positive / n,
            negative=self.negative / n,
            max_count=self.max_count,
            steps_above_1=self.above_1 / n,
            units_above_1=np.mean(self.unit_sums / self.n_steps > 1),
        )


def dl_simulator(net, dt, minibatch_size):
    """``nengo_dl.Simulator(net, ...)`` without a progress bar, leaving ``nengo.rc``'s
    float precision as it was if the build raises (NengoDL 3.6 sets it to its own
    dtype while it builds and restores it only after a build that succeeds)."""
    import nengo_dl  # pylint: disable=import-outside-toplevel

    bits = nengo.rc.get("precision", "bits")
    try:
        return nengo_dl.Simulator(
            net, dt=dt, minibatch_size=minibatch_size, progress_bar=False
        )
    except BaseException:
        nengo.rc.set("precision", "bits", bits)
        raise


def spike_counts(output, neuron_type, dt):
    """The spike counts of regular-spiking units in each step from their ``output``
    (spikes of ``neuron_type.amplitude / dt`` each)."""
    return np.rint(np.asarray(output) * (dt / neuron_type.amplitude)).astype(int)


def predict(
    net,
    x,
    backend="nengo_dl",
    dt=1.0,
    minibatch_size=100,
    progress_bar=False,
    spikes=False,
):
    """Class scores of a `.SequenceClassifier` after the last step of each sequence.

    Also runs a `.StackedModel` (`.convert.keras_network`), returning what Keras'
    ``predict`` returns: the output after the last step, or after every step for a
    model with sequence output.

    Parameters
    ----------
    net : SequenceClassifier
        The network.
    x : (n, steps, input_d) array_like
        The sequences.
    backend : "nengo_dl" or "nengo"
        NengoDL (batched, TensorFlow) or the Nengo reference simulator (one sequence
        at a time).
    dt : float
        Simulator time step (1 for θ given in steps).
    minibatch_size : int
        Sequences per NengoDL batch.
    progress_bar : bool
        Show progress.
    spikes : bool
        Also count the spikes of the hidden units and of a spiking memory (a network
        from `.hybrid.to_spiking` with either).

    Returns
    -------
    scores : (n, n_classes) ndarray
        (n, steps, size_out) for a `.StackedModel` with sequence output.
    spikes : dict of SpikeStats
        Only with ``spikes=True``: the spike statistics of each spiking population,
        ``"hidden"`` for the hidden units (``spikes["hidden"].total`` is the mean
        number of spikes of either sign per unit per input step), ``"memory"`` for
        the units of a spiking memory (one per memory dimension: its ``total`` is
        the memory spikes per dimension per input step).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3 or x.shape[2] != net.input.size_out:
        raise ValidationError(
            f"Must have shape (n, steps, {net.input.size_out}) (got {x.shape})",
            attr="x",
        )
    finite = np.isfinite(x).all(axis=(1, 2))
    if not finite.all():
        raise ValidationError(
            f"Must be finite: sequence {np.argmin(finite)} (of {len(x)}) holds NaN or "
            "inf, which would make its scores NaN",
            attr="x",
        )
    if backend not in BACKENDS:
        raise ValidationError(
            f"Unknown backend {backend!r}; use one of {', '.join(BACKENDS)}",
            attr="backend",
        )
    populations = _spiking_populations(net) if spikes else {}
    if spikes and not populations:
        raise ValidationError(
            "The network has no spiking units to count: convert it with "
            "nengo_lmu.hybrid.to_spiking",
            attr="spikes",
        )
    counters = {
        name: SpikeCounter(probes[0].size_in)
        for name, (probes, _) in populations.items()
    }
    batches = _batches(net, x, backend, dt, minibatch_size, populations)
    scores = []
    for i, (n_done, batch_scores, outputs) in enumerate(batches):
        scores.append(batch_scores)
        for name, (_, neuron_type) in populations.items():
            if neuron_type is None:  # counted by the units themselves
                counters[name].add(*(np.rint(o).astype(int) for o in outputs[name]))
            else:
                counters[name].add(spike_counts(outputs[name][0], neuron_type, dt))
        if progress_bar and (i + 1) % max(1, len(x) // (100 * len(batch_scores))) == 0:
            print(f"\rsequence {n_done}/{len(x)}", end="", file=sys.stderr)
    if progress_bar:
        print(file=sys.stderr)
    scores = np.concatenate(scores)
    if spikes:
        return scores, {name: counter.stats() for name, counter in counters.items()}
    return scores


def _spiking_populations(net):
    """``{name: (probe, neuron type)}`` of the spiking populations of a network from
    `.hybrid.to_spiking`: ``"hidden"`` units and a ``"memory"`` (`.SpikingMemory`)."""
    populations = {}
    if hasattr(net, "hidden_probe"):
        populations["hidden"] = ((net.hidden_probe,), net.lmu.hidden.neuron_type)
    if hasattr(net, "memory_negative_probe"):  # sub-ticks: the counts of each sign
        populations["memory"] = ((net.memory_probe, net.memory_negative_probe), None)
    elif hasattr(net, "memory_probe"):
        memory = net.lmu.spiking_memory.ensemble
        populations["memory"] = ((net.memory_probe,), memory.neuron_type)
    return populations


def _batches(net, x, backend, dt, minibatch_size, populations):
    """Yield (sequences done, scores, {population: probed outputs}) batch by batch."""
    n = len(x)
    probes = {name: probes for name, (probes, _) in populations.items()}
    every_step = getattr(net, "sequence_output", False)  # a `.StackedModel`'s
    if backend == "nengo_dl":
        minibatch_size = min(minibatch_size, n)
        with dl_simulator(net, dt, minibatch_size) as sim:
            for start in range(0, n, minibatch_size):
                batch = x[start : start + minibatch_size]
                size = len(batch)
                batch = np.concatenate(
                    [batch, np.zeros((minibatch_size - size,) + x.shape[1:], x.dtype)]
                )
                out = sim.predict_on_batch({net.input: batch})
                yield (
                    start + size,
                    out[net.probe][:size] if every_step else out[net.probe][:size, -1],
                    {name: [out[p][:size] for p in ps] for name, ps in probes.items()},
                )
    else:
        with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
            for i, seq in enumerate(x):
                net.input.output.data = seq
                sim.reset()
                sim.run_steps(len(seq))
                yield (
                    i + 1,
                    sim.data[net.probe][None if every_step else slice(-1, None)],
                    {
                        name: [sim.data[p][None] for p in ps]
                        for name, ps in probes.items()
                    },
                )


def _targets(y, n, n_classes):
    """``y`` checked as ``fit``'s targets: (n,) classes or (n, n_classes) probabilities."""
    y = np.asarray(y)
    if len(y) != n or y.ndim not in (1, 2) or y.ndim == 2 and y.shape[1] != n_classes:
        raise ValidationError(
            f"Must be ({n},) class labels or ({n}, {n_classes}) target probabilities, "
            f"one row per sequence (got {y.shape})",
            attr="y",
        )
    if y.ndim == 2:
        y = y.astype(np.float32)
        sums = y.sum(axis=1)
        if (y < 0).any() or not np.allclose(sums, 1, atol=1e-5):
            row = int(np.argmax((y < 0).any(axis=1) | ~np.isclose(sums, 1, atol=1e-5)))
            raise ValidationError(
                f"Target probabilities must be non-negative and sum to 1 in every row "
                f"(row {row} sums to {sums[row]:g}, minimum {y[row].min():g})",
                attr="y",
            )
    return y


def distill_targets(teacher, x, y, weight=0.5, minibatch_size=100, dt=1.0):
    """Targets for `fit` that mix the classes with a teacher network's probabilities.

    Knowledge distillation (Hinton, Vinyals & Dean 2015, at temperature 1): e.g. to
    fine-tune a spiking network (`.hybrid.finetune`) toward what the rate network it
    came from predicts, not only toward the classes.

    Parameters
    ----------
    teacher : SequenceClassifier
        The network whose class probabilities (softmax of its scores on ``x``, run in
        NengoDL by `predict`) are mixed in.
    x : (n, steps, input_d) array_like
        The sequences.
    y : (n,) array_like of int
        The classes.
    weight : float
        The teacher's share of the targets, in [0, 1] (1 - weight on the classes).
    minibatch_size, dt :
        How the teacher runs (see `predict`).

    Returns
    -------
    (n, n_classes) ndarray
        ``(1 - weight) * onehot(y) + weight * softmax(scores)``.
    """
    if not 0 <= weight <= 1:
        raise ValidationError(
            f"Must be in [0, 1], the teacher's share of the targets (got {weight})",
            attr="weight",
        )
    n_classes = teacher.readout.output.size_out
    y = np.asarray(y)
    if (
        y.shape != (len(x),)
        or not np.issubdtype(y.dtype, np.integer)
        or not ((0 <= y) & (y < n_classes)).all()
    ):
        raise ValidationError(
            f"Must be ({len(x)},) integer class labels in [0, {n_classes}), one per "
            f"sequence (got shape {y.shape}, dtype {y.dtype})",
            attr="y",
        )
    scores = predict(teacher, x, minibatch_size=minibatch_size, dt=dt)
    probabilities = scipy.special.softmax(scores.astype(np.float64), axis=1)
    return (1 - weight) * np.eye(n_classes)[y] + weight * probabilities


def fit(
    net,
    x,
    y,
    epochs=1,
    learning_rate=1e-3,
    minibatch_size=100,
    dt=1.0,
    progress_bar=True,
    seed=0,
    callbacks=None,
):
    """Train a `.SequenceClassifier` in NengoDL on the class after the last step.

    Adam on the softmax cross entropy of the scores (logits) after the last step; the
    trained weights are written back into ``net`` (``sim.freeze_params``), so it runs
    with them on any simulator and `.convert.network_kwargs` reads them. Networks with
    regular-spiking hidden units (`.hybrid.to_spiking`) train spike-aware (see
    `.builders.SimLMU`).

    Parameters
    ----------
    net : SequenceClassifier
        The network (trained in place).
    x : (n, steps, input_d) array_like
        The sequences.
    y : (n,) array_like of int or (n, n_classes) array_like of float
        The classes, or target probabilities (soft targets: each row non-negative and
        summing to 1), trained on with the cross entropy against the scores' softmax.
    epochs : int
        Passes over the data, each in a new order (seeded by ``seed``).
    learning_rate : float or tf.keras.optimizers.schedules.LearningRateSchedule
        Adam's step size (a schedule gets the batch number).
    minibatch_size : int
        Sequences per batch; the last partial batch of each epoch (after shuffling,
        so a different part of the data every epoch) is dropped.
    dt : float
        Simulator time step (1 for θ given in steps).
    progress_bar : bool
        Show Keras' progress bar.
    seed : int
        Seed of TensorFlow and of the shuffling.
    callbacks : list of tf.keras.callbacks.Callback, optional
        Passed to Keras' ``fit``, which runs once per epoch (e.g. to record the loss
        of every batch).

    Returns
    -------
    dict
        Keras' history: ``loss`` and ``accuracy`` per epoch.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    if not isinstance(net, SequenceClassifier):
        raise ValidationError(
            f"fit trains a SequenceClassifier (got {type(net).__name__}); train a "
            "Keras model in Keras and import it again with convert.keras_network",
            attr="net",
        )
    x = np.asarray(x, dtype=np.float32)
    y = _targets(y, len(x), net.readout.output.size_out)
    n = len(x) // minibatch_size * minibatch_size
    if n == 0:
        raise ValidationError(
            f"Needs at least one batch of {minibatch_size} sequences (got {len(x)})",
            attr="x",
        )
    tf.random.set_seed(seed)
    rng = np.random.RandomState(seed)
    history = {"loss": [], "accuracy": []}
    with dl_simulator(net, dt, minibatch_size) as sim:
        soft = y.ndim == 2
        loss = (
            tf.losses.CategoricalCrossentropy
            if soft
            else tf.losses.SparseCategoricalCrossentropy
        )
        sim.compile(
            optimizer=tf.optimizers.Adam(learning_rate),
            loss={net.probe: loss(from_logits=True)},
            metrics={net.probe: "accuracy"},
        )
        for epoch in range(epochs):
            order = rng.permutation(len(x))[:n]
            result = sim.fit(
                {net.input: x[order]},
                {net.probe: y[order, None] if soft else y[order, None, None]},
                initial_epoch=epoch,
                epochs=epoch + 1,
                shuffle=False,
                verbose=1 if progress_bar else 0,
                callbacks=callbacks,
            ).history
            history["loss"] += result["loss"]
            history["accuracy"] += next(
                v for k, v in result.items() if k.endswith("accuracy")
            )
        sim.freeze_params(net)
    return history
