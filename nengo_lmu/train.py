"""Run and evaluate nengo_lmu networks (NengoDL and the Nengo reference simulator)."""

import sys

import nengo
import numpy as np
from nengo.exceptions import ValidationError

BACKENDS = ("nengo_dl", "nengo")


def predict(net, x, backend="nengo_dl", dt=1.0, minibatch_size=100, progress_bar=False):
    """Class scores of a `.SequenceClassifier` after the last step of each sequence.

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

    Returns
    -------
    (n, n_classes) ndarray
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3 or x.shape[2] != net.input.size_out:
        raise ValidationError(
            f"Must have shape (n, steps, {net.input.size_out}) (got {x.shape})",
            attr="x",
        )
    if backend == "nengo_dl":
        import nengo_dl  # pylint: disable=import-outside-toplevel

        n = len(x)
        minibatch_size = min(minibatch_size, n)
        pad = -n % minibatch_size
        x_padded = np.concatenate([x, np.zeros((pad,) + x.shape[1:], x.dtype)])
        with nengo_dl.Simulator(
            net, dt=dt, minibatch_size=minibatch_size, progress_bar=progress_bar
        ) as sim:
            scores = sim.predict({net.input: x_padded}, verbose=int(progress_bar))
        return scores[net.probe][:n, -1]
    if backend == "nengo":
        scores = []
        with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
            for i, seq in enumerate(x):
                if progress_bar and (i + 1) % max(1, len(x) // 100) == 0:
                    print(f"\rsequence {i + 1}/{len(x)}", end="", file=sys.stderr)
                net.input.output.data = seq
                sim.reset()
                sim.run_steps(len(seq))
                scores.append(sim.data[net.probe][-1])
        if progress_bar:
            print(file=sys.stderr)
        return np.array(scores)
    raise ValidationError(
        f"Unknown backend {backend!r}; use one of {', '.join(BACKENDS)}", attr="backend"
    )
