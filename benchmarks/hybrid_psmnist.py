"""Hybrid mode on psMNIST: the paper's model with spiking hidden units (numbers in README).

Run: ``.venv/bin/python benchmarks/hybrid_psmnist.py [--data DIR]`` (about an hour on
2 cores with the defaults). With the paper's pretrained weights and preprocessing:

1. the rate network on all 10,000 test images;
2. accuracy against spikes per hidden unit per input step for k = 1, 2, 4, 10 ticks
   per input step and several rate scales (first ``--n-curve`` test images; table and
   PNG in benchmarks/results/);
3. the conversion defaults on all test images, before and after spike-aware
   fine-tuning (``--finetune-epochs`` epochs of ``--finetune-batches`` batches of 100
   from the training split, the learning rate divided by 3 in each epoch); the tuned
   weights go to ``--out`` for ``nengo-lmu evaluate --spiking``;
4. the tuned spiking network on the Nengo reference simulator (first ``--n-ref``
   images) against NengoDL;
5. the fully spiking variant (spiking memory too) on the first ``--n-full`` images.
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

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--data", default=None)
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
x_test, y_test = data.x_test, data.y_test
rate_net = SequenceClassifier(
    **load_paper_weights(directory / "lmu-paper/psMNIST-standard.hdf5"), seed=0
)


def evaluate(net, n=None, backend="nengo_dl"):
    """(accuracy, spikes per unit per input step, scores) on the first n images."""
    t0 = time.perf_counter()
    scores, spikes = predict(
        net, x_test[:n], backend=backend, minibatch_size=500, spikes=True
    )
    accuracy = np.mean(np.argmax(scores, axis=1) == y_test[:n])
    return accuracy, spikes, scores, time.perf_counter() - t0


rate_scores = predict(rate_net, x_test, minibatch_size=500)
print(
    "rate network (paper weights), 10000 test images: accuracy "
    f"{np.mean(np.argmax(rate_scores, 1) == y_test):.4f}"
)

print(f"\nspiking hidden units, ideal memory; first {args.n_curve} test images")
print(
    f"rate network on them: accuracy "
    f"{np.mean(np.argmax(rate_scores[: args.n_curve], 1) == y_test[: args.n_curve]):.4f}"
)
print("   k  rate_scale  max spikes/step  spikes/unit/step  accuracy")
curve = {}
for k, rate_scale in itertools.product((1, 2, 4, 10), (0.25, 0.5, 0.75, 1.0)):
    net = to_spiking(rate_net, k=k, rate_scale=rate_scale)
    accuracy, spikes, _, _ = evaluate(net, args.n_curve)
    curve[k, rate_scale] = spikes, accuracy
    print(
        f"{k:4d}  {rate_scale:10.2f}  {k * rate_scale:15.2f}  {spikes:16.3f}  "
        f"{accuracy:8.4f}"
    )
fig, ax = plt.subplots(figsize=(6, 4))
for k in (1, 2, 4, 10):
    points = sorted(v for (kk, _), v in curve.items() if kk == k)
    ax.plot(*zip(*points), "o-", label=f"k = {k}")
ax.axhline(
    np.mean(np.argmax(rate_scores[: args.n_curve], 1) == y_test[: args.n_curve]),
    color="k",
    ls="--",
    label="rate network",
)
ax.set_xscale("log")
ax.set_xlabel("spikes per hidden unit per input step")
ax.set_ylabel(f"accuracy (first {args.n_curve} test images)")
ax.set_title("psMNIST, paper weights, spiking hidden units")
ax.legend()
RESULTS.mkdir(exist_ok=True)
fig.savefig(RESULTS / "hybrid_psmnist_curve.png", dpi=100, bbox_inches="tight")
print(f"curve written to {RESULTS / 'hybrid_psmnist_curve.png'}")

defaults = to_spiking(rate_net)
accuracy, spikes, _, seconds = evaluate(defaults)
print(
    "\nconversion defaults (k 2, rate_scale 0.7), 10000 test images: accuracy "
    f"{accuracy:.4f}, {spikes:.3f} spikes/unit/step ({10000 / seconds:.0f} images/s)"
)
n_train = args.finetune_batches * 100
rates = [args.learning_rate / 3**epoch for epoch in range(args.finetune_epochs)]
t0 = time.perf_counter()
tuned, history = finetune(
    rate_net,
    data.x_train[:n_train],
    data.y_train[:n_train],
    epochs=args.finetune_epochs,
    learning_rate=tf.keras.optimizers.schedules.PiecewiseConstantDecay(
        [args.finetune_batches * (epoch + 1) for epoch in range(len(rates) - 1)],
        rates,
    ),
    progress_bar=False,
)
print(
    f"spike-aware fine-tuning: {args.finetune_epochs} epochs of "
    f"{args.finetune_batches} batches of 100 training images, Adam "
    f"{', then '.join(f'{r:.2g}' for r in rates)}, {time.perf_counter() - t0:.0f} s; "
    f"training loss per epoch {', '.join(f'{v:.4f}' for v in history['loss'])}"
)
save_weights(args.out, network_kwargs(tuned))
print(f"tuned weights written to {args.out}")
spiking = to_spiking(tuned)
accuracy, spikes, dl_scores, _ = evaluate(spiking)
print(
    f"after fine-tuning, 10000 test images: accuracy {accuracy:.4f} "
    f"({int(round(accuracy * 10000))}/10000), {spikes:.3f} spikes/unit/step; "
    f"goal (>= 0.9715 at <= 1.0): "
    f"{'met' if accuracy >= 0.9715 and spikes <= 1 else 'not met'}"
)
tuned_rate = np.mean(np.argmax(predict(tuned, x_test, minibatch_size=500), 1) == y_test)
print(f"the tuned weights as a rate network: accuracy {tuned_rate:.4f}")

n = args.n_ref
ref_accuracy, ref_spikes, ref_scores, seconds = evaluate(spiking, n, backend="nengo")
same = np.mean(np.argmax(ref_scores, 1) == np.argmax(dl_scores[:n], 1))
with spiking:
    nengo_dl.configure_settings(dtype="float64")
_, _, dl64_scores, _ = evaluate(spiking, n)
same64 = np.mean(np.argmax(ref_scores, 1) == np.argmax(dl64_scores, 1))
print(
    f"\nNengo reference simulator, first {n} images: accuracy {ref_accuracy:.4f}, "
    f"{ref_spikes:.3f} spikes/unit/step ({seconds:.0f} s); same prediction as NengoDL "
    f"for {same:.1%} (float32), {same64:.1%} (NengoDL in float64, max |score "
    f"difference| {np.abs(ref_scores - dl64_scores).max():.1e})"
)

n = args.n_full
try:
    full = to_spiking(tuned, memory="spiking")
    accuracy, spikes, _, seconds = evaluate(full, n)
    print(
        f"\nfully spiking (a DelayNetwork for the memory), first {n} images: accuracy "
        f"{accuracy:.4f}, hidden {spikes:.3f} spikes/unit/step"
    )
except (ValueError, ArithmeticError, np.linalg.LinAlgError) as e:
    print(f"\nfully spiking (a DelayNetwork for the memory): cannot be built: {e}")
