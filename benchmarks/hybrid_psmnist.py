"""Hybrid mode on psMNIST: the paper's model with spiking hidden units (numbers in README).

Run: ``.venv/bin/python benchmarks/hybrid_psmnist.py [--data DIR]`` (long with the
defaults; the options below make it smaller). With the paper's pretrained weights and
preprocessing (training set: the first 50,000 of the permuted training images,
validation set: the last 10,000, as in the paper):

1. the rate network and the conversion defaults (k 2, rate_scale 0.7) on the test
   images (the first ``--n-test``);
2. spike-aware fine-tuning on the training set: up to ``--finetune-epochs`` epochs of
   ``--finetune-batches`` batches of 100, a new Adam at ``--learning-rate`` divided by
   3 in each epoch; the number of epochs (0 = no fine-tuning) is chosen by the spiking
   network's accuracy on the validation set (the first ``--n-val``), never on the
   test set; the chosen weights go to ``--out`` for ``nengo-lmu evaluate --spiking``;
3. both rate networks (untuned, tuned) beside both spiking ones on the test images;
4. the tuned spiking network on the Nengo reference simulator (first ``--n-ref``
   images) against NengoDL;
5. the fully spiking variant (spiking memory too) on the first ``--n-full`` images;
6. accuracy against spikes per hidden unit per input step for k = 1, 2, 4, 10 ticks
   per input step and several rate scales (untuned weights, first ``--n-curve`` test
   images; table and PNG in benchmarks/results/; ``--n-curve 0`` skips it).

Spike statistics (`nengo_lmu.train.SpikeStats`) are measured from the hidden units'
spike counts: mean positive and negative spikes per unit per input step, the largest
count of one unit in one step, and the shares of unit-steps and of units (averaged over
all steps) above one spike.
"""

import argparse
import itertools
import pathlib
import time

import matplotlib
import nengo_dl
import numpy as np
import tensorflow as tf

from nengo_lmu.convert import load_paper_weights, network_kwargs, save_weights
from nengo_lmu.data import data_dir, psmnist
from nengo_lmu.hybrid import finetune, to_spiking
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.train import predict

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"
KS, RATE_SCALES = (1, 2, 4, 10), (0.25, 0.5, 0.75, 1.0)

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--data", default=None)
parser.add_argument("--n-test", type=int, default=10000)
parser.add_argument("--n-val", type=int, default=10000)
parser.add_argument("--n-curve", type=int, default=2000)
parser.add_argument("--finetune-batches", type=int, default=500)
parser.add_argument("--finetune-epochs", type=int, default=2)
parser.add_argument("--learning-rate", type=float, default=1e-4)
parser.add_argument("--n-ref", type=int, default=200)
parser.add_argument("--n-full", type=int, default=100)
parser.add_argument("--out", type=pathlib.Path, default="outputs/psmnist-spiking.npz")
args = parser.parse_args()

directory = data_dir(args.data)
data = psmnist("paper", directory)
x_test, y_test = data.x_test[: args.n_test], data.y_test[: args.n_test]
x_val, y_val = data.x_val[: args.n_val], data.y_val[: args.n_val]
rate_net = SequenceClassifier(
    **load_paper_weights(directory / "lmu-paper/psMNIST-standard.hdf5"), seed=0
)


def evaluate(net, x, y, backend="nengo_dl"):
    """(accuracy, hidden spike statistics or None, scores, seconds) on x, y."""
    t0 = time.perf_counter()
    spiking = hasattr(net, "hidden_probe")
    result = predict(net, x, backend=backend, minibatch_size=500, spikes=spiking)
    scores, stats = result if spiking else (result, None)
    accuracy = np.mean(np.argmax(scores, axis=1) == y)
    return accuracy, stats and stats["hidden"], scores, time.perf_counter() - t0


def row(name, accuracy, stats):
    """One line of a results table."""
    if stats is None:
        return f"{name:28s}  {accuracy:8.4f}"
    return (
        f"{name:28s}  {accuracy:8.4f}  {stats.total:5.3f}  {stats.positive:5.3f}  "
        f"{stats.negative:5.3f}  {stats.max_count:3d}  {stats.steps_above_1:6.1%}  "
        f"{stats.units_above_1:6.1%}"
    )


HEADER = (
    f"{'network':28s}  accuracy  total    pos    neg  max  steps>1  units>1\n"
    "(spikes per hidden unit per input step: total = pos + neg; max: the largest count "
    "of one unit in one step; steps>1: share of unit-steps with |count| > 1; units>1: "
    "share of units averaging more than one spike per step)"
)


class Progress(tf.keras.callbacks.Callback):
    """Print the time and loss every 100 batches."""

    def __init__(self):
        super().__init__()
        self.t0 = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % 100 == 0:
            print(
                f"  batch {batch + 1}: loss {logs['loss']:.4f} "
                f"({time.perf_counter() - self.t0:.0f} s)",
                flush=True,
            )


n_test = len(y_test)
rate_accuracy, _, rate_scores, seconds = evaluate(rate_net, x_test, y_test)
print(
    f"rate network (paper weights), {n_test} test images: accuracy "
    f"{rate_accuracy:.4f} ({n_test / seconds:.0f} images/s)",
    flush=True,
)
defaults_accuracy, defaults_stats, _, seconds = evaluate(
    to_spiking(rate_net), x_test, y_test
)
print(
    f"conversion defaults (k 2, rate_scale 0.7), {n_test} test images: accuracy "
    f"{defaults_accuracy:.4f}, {defaults_stats} ({n_test / seconds:.0f} images/s)",
    flush=True,
)

# fine-tuning: the number of epochs chosen on the validation set
n_train = args.finetune_batches * 100
rates = [args.learning_rate / 3**epoch for epoch in range(args.finetune_epochs)]
print(
    f"\nspike-aware fine-tuning on {n_train} training images (batches of 100), "
    f"epoch e with a new Adam at {args.learning_rate:.2g} / 3**e; spiking accuracy on "
    f"{len(y_val)} validation images after each epoch",
    flush=True,
)
candidates = [rate_net]
val_accuracy, _, _, _ = evaluate(to_spiking(rate_net), x_val, y_val)
validation = [val_accuracy]
print(f"  after 0 epochs: validation accuracy {val_accuracy:.4f}", flush=True)
for epoch, rate in enumerate(rates):
    t0 = time.perf_counter()
    tuned, history = finetune(
        candidates[-1],
        data.x_train[:n_train],
        data.y_train[:n_train],
        epochs=1,
        learning_rate=rate,
        callbacks=[Progress()],
        progress_bar=False,
    )
    val_accuracy, _, _, _ = evaluate(to_spiking(tuned), x_val, y_val)
    candidates.append(tuned)
    validation.append(val_accuracy)
    print(
        f"  after {epoch + 1} epochs (Adam {rate:.2g}, "
        f"{time.perf_counter() - t0:.0f} s, training loss {history['loss'][0]:.4f}): "
        "validation accuracy "
        f"{val_accuracy:.4f}",
        flush=True,
    )
epochs = int(np.argmax(validation))  # the first of the best
tuned = candidates[epochs]
print(f"chosen on the validation set: {epochs} epochs", flush=True)
save_weights(args.out, network_kwargs(tuned))
print(f"tuned weights written to {args.out}")

spiking = to_spiking(tuned)
tuned_accuracy, tuned_stats, dl_scores, _ = evaluate(spiking, x_test, y_test)
tuned_rate_accuracy, _, _, _ = evaluate(tuned, x_test, y_test)
print(f"\n{n_test} test images\n{HEADER}")
print(row("rate, paper weights", rate_accuracy, None))
print(row(f"rate, tuned ({epochs} epochs)", tuned_rate_accuracy, None))
print(row("spiking, paper weights", defaults_accuracy, defaults_stats))
print(row(f"spiking, tuned ({epochs} epochs)", tuned_accuracy, tuned_stats))
print(
    f"tuned spiking: {int(round(tuned_accuracy * n_test))}/{n_test}; "
    f"{tuned_stats}",
    flush=True,
)

n = args.n_ref
ref_accuracy, ref_stats, ref_scores, seconds = evaluate(
    spiking, x_test[:n], y_test[:n], backend="nengo"
)
same = np.mean(np.argmax(ref_scores, 1) == np.argmax(dl_scores[:n], 1))
with spiking:
    nengo_dl.configure_settings(dtype="float64")
_, dl64_stats, dl64_scores, _ = evaluate(spiking, x_test[:n], y_test[:n])
same64 = np.mean(np.argmax(ref_scores, 1) == np.argmax(dl64_scores, 1))
print(
    f"\nNengo reference simulator, tuned spiking network, first {n} images: accuracy "
    f"{ref_accuracy:.4f} ({seconds:.0f} s); {ref_stats}\nsame prediction as NengoDL "
    f"for {same:.1%} (float32), {same64:.1%} (NengoDL in float64, max |score "
    f"difference| {np.abs(ref_scores - dl64_scores).max():.1e}; same spike statistics: "
    f"{ref_stats == dl64_stats})",
    flush=True,
)

n = args.n_full
try:
    full = to_spiking(tuned, memory="spiking")
    accuracy, stats, _, seconds = evaluate(full, x_test[:n], y_test[:n])
    print(
        f"\nfully spiking (SpikingMemory, default delta), first {n} images: accuracy "
        f"{accuracy:.4f}, hidden units {stats}",
        flush=True,
    )
except (ValueError, ArithmeticError, np.linalg.LinAlgError) as e:
    print(f"\nfully spiking (SpikingMemory): cannot be built: {e}")

n = args.n_curve
if n == 0:
    print("curve skipped (--n-curve 0)")
    raise SystemExit
curve_rate = np.mean(np.argmax(rate_scores[:n], 1) == y_test[:n])
print(
    f"\nspiking hidden units, ideal memory, paper weights (untuned); first {n} test "
    f"images; rate network on them: accuracy {curve_rate:.4f}\n"
    f"{'k, rate_scale':28s}  accuracy  total    pos    neg  max  steps>1  units>1",
    flush=True,
)
curve = {}
for k, rate_scale in itertools.product(KS, RATE_SCALES):
    accuracy, stats, _, _ = evaluate(
        to_spiking(rate_net, k=k, rate_scale=rate_scale), x_test[:n], y_test[:n]
    )
    curve[k, rate_scale] = stats.total, accuracy
    print(row(f"{k}, {rate_scale:.2f}", accuracy, stats), flush=True)
fig, ax = plt.subplots(figsize=(6, 4))
for k in KS:
    points = sorted(v for (kk, _), v in curve.items() if kk == k)
    ax.plot(*zip(*points), "o-", label=f"k = {k}")
ax.axhline(curve_rate, color="k", ls="--", label="rate network")
ax.set_xscale("log")
ax.set_xlabel("spikes per hidden unit per input step (positive + negative)")
ax.set_ylabel(f"accuracy (first {n} test images)")
ax.set_title("psMNIST, paper weights, spiking hidden units")
ax.legend()
RESULTS.mkdir(exist_ok=True)
fig.savefig(RESULTS / "hybrid_psmnist_curve.png", dpi=100, bbox_inches="tight")
print(f"curve written to {RESULTS / 'hybrid_psmnist_curve.png'}")
