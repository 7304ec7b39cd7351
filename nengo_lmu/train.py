"""Run and evaluate nengo_lmu networks (NengoDL and the Nengo reference simulator)."""

import sys

import nengo
import numpy as np
from nengo.exceptions import ValidationError

BACKENDS = ("nengo_dl", "nengo")


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
        Also count the spikes of the hidden units (a network from
        `.hybrid.to_spiking` with spiking hidden units).

    Returns
    -------
    scores : (n, n_classes) ndarray
        (n, steps, size_out) for a `.StackedModel` with sequence output.
    spikes_per_unit_step : float
        The mean number of spikes (of either sign) per hidden unit per input step; only
        with ``spikes=True``.
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
    probe = getattr(net, "hidden_probe", None)
    if spikes and probe is None:
        raise ValidationError(
            "The network has no spiking hidden units to count: convert it with "
            "nengo_lmu.hybrid.to_spiking",
            attr="spikes",
        )
    batches = _batches(net, x, backend, dt, minibatch_size, spikes)
    scores, counts = [], 0.0
    for i, (n_done, batch_scores, hidden) in enumerate(batches):
        scores.append(batch_scores)
        if spikes:
            neurons = net.lmu.hidden.neuron_type
            counts += np.abs(hidden * (dt / neurons.amplitude)).sum()
        if progress_bar and (i + 1) % max(1, len(x) // (100 * len(batch_scores))) == 0:
            print(f"\rsequence {n_done}/{len(x)}", end="", file=sys.stderr)
    if progress_bar:
        print(file=sys.stderr)
    scores = np.concatenate(scores)
    if spikes:
        return scores, counts / (x.shape[0] * x.shape[1] * probe.size_in)
    return scores


def _batches(net, x, backend, dt, minibatch_size, spikes):
    """Yield (sequences done, scores, hidden outputs or None) batch by batch."""
    n = len(x)
    probes = [net.probe] + ([net.hidden_probe] if spikes else [])
    every_step = getattr(net, "sequence_output", False)  # a `.StackedModel`'s
    if backend == "nengo_dl":
        import nengo_dl  # pylint: disable=import-outside-toplevel

        minibatch_size = min(minibatch_size, n)
        with nengo_dl.Simulator(
            net, dt=dt, minibatch_size=minibatch_size, progress_bar=False
        ) as sim:
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
                    out[probes[-1]][:size] if spikes else None,
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
                    sim.data[probes[-1]][None] if spikes else None,
                )


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
    y : (n,) array_like of int
        The classes.
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
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    if len(y) != len(x) or y.ndim != 1:
        raise ValidationError(
            f"Must be ({len(x)},) class labels, one per sequence (got {y.shape})",
            attr="y",
        )
    n = len(x) // minibatch_size * minibatch_size
    if n == 0:
        raise ValidationError(
            f"Needs at least one batch of {minibatch_size} sequences (got {len(x)})",
            attr="x",
        )
    tf.random.set_seed(seed)
    rng = np.random.RandomState(seed)
    history = {"loss": [], "accuracy": []}
    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=minibatch_size, progress_bar=False
    ) as sim:
        sim.compile(
            optimizer=tf.optimizers.Adam(learning_rate),
            loss={net.probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)},
            metrics={net.probe: "accuracy"},
        )
        for epoch in range(epochs):
            order = rng.permutation(len(x))[:n]
            result = sim.fit(
                {net.input: x[order]},
                {net.probe: y[order, None, None]},
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
