"""The fully spiking psDigits recipe: its spiking settings, chosen on validation folds.

Run: ``OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/psdigits_spiking.py
[--folds N] [--errors E1,E2,...] [--hidden K:RATE_SCALE,...] [--check N]``.

The main job's recipe (`tasks.psdigits_recipe`) trained in NengoDL, ``--folds``
times, each on the training sequences of `tasks.psdigits` outside one validation
fold (cross-validation; the test set is not read). On the folds, the float64
numpy model of the fully spiking network of ``benchmarks/spike_budget.py`` (checked
against NengoDL, float64, on ``--check`` validation sequences), vectorized over
sequences: the rate network, the hybrid one (spiking hidden units, ideal memory) and
the fully spiking one for each hidden-unit conversion (``k``, ``rate_scale``) in
``--hidden``, each `budget_delta` feedback rule (the memory's input weights of the
memory, ``memory_encoders``; and also those through the hidden units,
``memory_encoders + hidden_encoders @ memory_kernel``) and each scale
``delta_error`` in ``--errors``: validation accuracy over all folds and mean
memory spikes.
"""

import argparse
import pathlib
import sys
import warnings

import numpy as np

from nengo_lmu.convert import network_kwargs
from nengo_lmu.hybrid import finetune, memory_matrices, to_spiking
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.spiking_memory import budget_delta
from nengo_lmu.tasks import psdigits, psdigits_recipe
from nengo_lmu.train import fit, predict

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from spike_budget import fully_spiking  # noqa: E402

warnings.filterwarnings("ignore", message="No GPU support detected")


def trained(fold, folds):
    """The recipe's network trained on the training sequences outside validation
    fold ``fold`` of ``folds`` (contiguous), and that fold."""
    data = psdigits()
    recipe = psdigits_recipe(0)
    x, y = data.x_train, data.y_train.ravel()
    held = np.zeros(len(x), bool)
    held[np.array_split(np.arange(len(x)), folds)[fold]] = True
    net = SequenceClassifier(**recipe.network)
    fit(
        net,
        x[~held],
        y[~held],
        **recipe.fit_settings,
        progress_bar=False,
    )
    return net, (x[~held], y[~held]), (x[held].astype(np.float64), y[held])


def weights(net):
    """The weights of the numpy model (no biases in the recipe's network)."""
    kwargs = network_kwargs(net)
    assert kwargs["memory_bias"] is None and kwargs["hidden_bias"] is None
    w = {name: np.asarray(kwargs[name], dtype=np.float64) for name in (
        "input_encoders", "hidden_encoders", "memory_encoders", "input_kernel",
        "hidden_kernel", "memory_kernel", "readout_kernel", "readout_bias")}
    return dict(w, units=kwargs["units"])


def check(net, w, A, B, x, n):
    """The numpy model against NengoDL (float64) on the first n sequences."""
    import nengo_dl  # pylint: disable=import-outside-toplevel

    spiking = to_spiking(net, memory="spiking", dt=1.0)
    with spiking:
        nengo_dl.configure_settings(dtype="float64")
    scores, stats = predict(spiking, x[:n], minibatch_size=n, spikes=True)
    ours, spikes, _ = fully_spiking(x[:n], w, A, B, spiking.lmu.spiking_memory.delta)
    print(
        f"numpy model vs NengoDL (float64), {n} validation sequences, default "
        f"conversion: max |score difference| {np.abs(scores - ours).max():.1e}, "
        f"memory spikes per dimension per step {spikes:.4f} vs "
        f"{stats['memory'].total:.4f}"
    )


def settings(args, w, A, B):
    """{row label: (c = k * rate_scale or None for rate units, delta or None for the
    ideal memory)}."""
    feedback = {
        "memory_encoders": w["memory_encoders"],
        "+ hidden_encoders @ memory_kernel": (
            w["memory_encoders"] + w["hidden_encoders"] @ w["memory_kernel"]),
    }
    rows = {"| - | rate network | -": (None, None)}
    for hidden in args.hidden.split(","):
        k, rate_scale = hidden.split(":")
        c = int(k) * float(rate_scale)
        rows[f"| {k}, {rate_scale} | (ideal memory) | -"] = (c, None)
        for name, matrix in feedback.items():
            for error in map(float, args.errors.split(",")):
                delta = budget_delta(A, B, w["memory_kernel"], matrix, error)
                rows[f"| {k}, {rate_scale} | {name} | {error}"] = (c, delta)
    return rows


def tuned(net, fit_data, args):
    """``net`` after ``--finetune`` spike-aware epochs through the spiking memory, at
    the recipe's settings (`tasks.Recipe.spiking`), and its numpy weights."""
    recipe = psdigits_recipe(0)
    epochs, rate = args.finetune.split(":")
    net, _ = finetune(
        net,
        *fit_data,
        epochs=int(epochs),
        learning_rate=float(rate),
        minibatch_size=recipe.minibatch_size,
        progress_bar=False,
        memory="spiking",
        dt=1.0,
        **recipe.spiking,
    )
    return weights(net)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--errors", default="0.025,0.0125,0.008")
    parser.add_argument("--hidden", default="2:0.7,4:0.7,2:2.8,4:1.4")
    parser.add_argument("--check", type=int, default=16)
    parser.add_argument(
        "--finetune",
        default=None,
        help="EPOCHS:LEARNING_RATE: also the rate and the fully spiking network at "
        "the recipe's settings after spike-aware fine-tuning",
    )
    args = parser.parse_args()
    correct, spikes, n = {}, {}, 0
    for fold in range(args.folds):
        net, fit_data, (xv, yv) = trained(fold, args.folds)
        w = weights(net)
        A, B = memory_matrices(net, 1.0)
        if args.check and fold == 0:
            check(net, w, A, B, xv, args.check)
        n += len(yv)
        models = {row: (w, c, delta) for row, (c, delta) in settings(args, w, A, B).items()}
        if args.finetune:
            spiking = psdigits_recipe(0).spiking
            wt = tuned(net, fit_data, args)
            delta = budget_delta(
                A, B, wt["memory_kernel"], wt["memory_encoders"], spiking["delta_error"])
            label = f"after spike-aware {args.finetune} | -"
            models[f"| - | rate network {label}"] = (wt, None, None)
            models[f"| {spiking['k']}, {spiking['rate_scale']} | recipe's, {label}"] = (
                wt, spiking["k"] * spiking["rate_scale"], delta)
        for row, (weights_, c, delta) in models.items():
            scores, count, _ = fully_spiking(
                xv, weights_, A, B, 1.0 if delta is None else delta, c=c,
                ideal=delta is None)
            correct[row] = correct.get(row, 0) + np.sum(np.argmax(scores, 1) == yv)
            spikes.setdefault(row, []).append(count)
        print(f"fold {fold}: {len(yv)} validation sequences", flush=True)
    print(f"\n{args.folds}-fold cross-validation over the {n} training sequences\n")
    print("| k, rate_scale | feedback | delta_error | validation accuracy | memory "
          "spikes/dim/step |")
    print("|---|---|---|---|---|")
    for row in correct:
        ideal = "ideal" in row or "rate network" in row
        print(f"{row} | {correct[row] / n:.4f} | "
              f"{'-' if ideal else f'{np.mean(spikes[row]):.2f}'} |")


if __name__ == "__main__":
    main()
