"""Fully spiking LMU: spiking memory (`SpikingMemory`) and spiking hidden units.

Run: ``nice -n 10 .venv/bin/python benchmarks/fully_spiking.py [--data DIR]
[--part psmnist|curve|finetune|psdigits|all] [--n N] [--n-curve N]``.

psMNIST (``--part psmnist``): the paper's weights, no fine-tuning, the first ``--n``
test images (paper preprocessing), in NengoDL:

1. the rate network, the hybrid network (spiking hidden units, ideal memory) and the
   fully spiking network (``to_spiking(net, memory="spiking")``: its default
   ``delta`` per dimension, `.budget_delta` at ``delta_error = ERROR``, which
   ``benchmarks/spike_budget.py`` chose on the validation images, and at
   ``--two-spike-error``, about 2 memory spikes per dimension per step; each with
   one tick and with ``--ticks`` sub-steps of the memory units; and with ``--ticks``
   in the balanced basis of the units' sub-step, ``basis="balanced"``, at
   ``--balanced-error``, also about 2 spikes): accuracy, memory
   spikes per dimension per input step (all memory spikes / (order * memory_d) /
   steps), hidden spikes per unit per input step, neuron counts, and the throughput
   (images per second, simulator build included) of each;
2. (``--part curve``) accuracy against memory spikes per dimension per step over
   the scale of the default rule, ``delta_error``, with one tick and ``--ticks``,
   and with ``--ticks`` in the balanced basis (its own scales: there
   ``delta_error`` also counts the residue the recurrence passes on) (spiking
   memory, spiking hidden units; first ``--n-curve`` test images): a table and
   ``benchmarks/results/fully_spiking_curve.png``.

psMNIST after fine-tuning (``--part finetune``): the paper's weights converted fully
spiking at ``delta_error = --finetune-error`` (a budget of about 2 memory spikes per
dimension per step), then up to ``--finetune-epochs`` epochs of spike-aware
fine-tuning through the spiking memory and hidden units (`.hybrid.finetune`, NengoDL,
fused) on the first ``--finetune-train`` images of the paper's training split, each
epoch a `finetune` call with a new Adam at ``--finetune-learning-rate`` (divided by
``--finetune-decay`` once more every epoch), the memory units stepping
``--finetune-ticks`` ticks per input step; the spiking
network after each epoch on the first ``--n-val`` validation images, which choose the
number of epochs (the best within ``--budget`` memory spikes per dimension per step);
then the rate network and the spiking network before fine-tuning
and at the chosen epochs on the first ``--n`` test images. ``--finetune-basis
balanced`` realizes the spiking memory in the balanced basis of the paper's network
(`.hybrid.memory_basis`; ``delta_error`` then counts the residue the recurrence
passes on, so it is larger for the same spikes), before and after fine-tuning.
``--finetune-train-error`` trains at another ``delta_error`` than the one the
network runs at (noise-aware: a larger error in training), ``--finetune-from`` starts
from a ``.npz`` weights file instead of the paper's weights (the "0 epochs" rows are
then that network), ``--finetune-save DIR`` writes the weights after each epoch
(``DIR/epochE.npz``), to continue from them later, and ``--finetune-distill W``
trains toward targets with weight ``W`` on the paper network's own class
probabilities (`.train.distill_targets`, knowledge distillation).

psDigits (``--part psdigits``): the main job's recipe (`tasks.psdigits_recipe`,
order 32), trained in NengoDL, then the rate network, the fully spiking conversion
with `to_spiking`'s defaults and with the recipe's settings (``recipe.spiking``,
chosen on validation folds by ``benchmarks/psdigits_spiking.py``), and the rate and
fully spiking networks after ``--finetune-epochs`` of spike-aware fine-tuning through
the spiking memory at the recipe's settings, on the test set.
"""

import argparse
import pathlib
import time
import warnings

import matplotlib
import numpy as np

from nengo_lmu.convert import (
    load_paper_weights,
    load_weights,
    network_kwargs,
    save_weights,
)
from nengo_lmu.data import data_dir, psmnist
from nengo_lmu.hybrid import finetune, memory_basis, to_spiking
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.spiking_memory import ERROR
from nengo_lmu.tasks import psdigits, psdigits_recipe
from nengo_lmu.train import distill_targets, fit, predict

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

warnings.filterwarnings("ignore", message="No GPU support detected")
RESULTS = pathlib.Path(__file__).parent / "results"
ERRORS = (0.015, ERROR, 0.04, 0.06, 0.1)
BALANCED_ERRORS = (0.1, 0.15, 0.21, 0.3, 0.42)

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--data", default=None)
parser.add_argument(
    "--part",
    choices=("psmnist", "curve", "finetune", "psdigits", "all"),
    default="all",
)
parser.add_argument("--n", type=int, default=1000)
parser.add_argument("--n-curve", type=int, default=300)
parser.add_argument("--minibatch-size", type=int, default=250)
parser.add_argument("--finetune-epochs", type=int, default=5)
parser.add_argument("--finetune-error", type=float, default=0.06)
parser.add_argument("--finetune-train-error", type=float, default=None)
parser.add_argument("--finetune-from", default=None)
parser.add_argument("--finetune-save", default=None)
parser.add_argument("--finetune-train", type=int, default=5000)
parser.add_argument("--finetune-learning-rate", type=float, default=1e-4)
parser.add_argument("--finetune-basis", choices=("own", "balanced"), default="own")
parser.add_argument("--finetune-ticks", type=int, default=1)
parser.add_argument("--finetune-decay", type=float, default=1.0)
parser.add_argument("--finetune-distill", type=float, default=0.0)
parser.add_argument("--budget", type=float, default=2.0)
parser.add_argument("--n-val", type=int, default=1000)
parser.add_argument("--ticks", type=int, default=4)
parser.add_argument("--two-spike-error", type=float, default=0.06)
parser.add_argument("--balanced-error", type=float, default=0.21)
args = parser.parse_args()


def evaluate(net, x, y):
    """(accuracy, {population: SpikeStats}, seconds) of ``net`` on x, y in NengoDL."""
    t0 = time.perf_counter()
    spiking = hasattr(net, "hidden_probe") or hasattr(net, "memory_probe")
    result = predict(net, x, minibatch_size=args.minibatch_size, spikes=spiking)
    scores, stats = result if spiking else (result, {})
    seconds = time.perf_counter() - t0
    return np.mean(np.argmax(scores, axis=1) == y), stats, seconds


def describe(name, net, x, y):
    """Print one row for ``net``; return (accuracy, memory spikes per dim per step)."""
    accuracy, stats, seconds = evaluate(net, x, y)
    memory = stats.get("memory")
    hidden = stats.get("hidden")
    memory_units = net.lmu.spiking_memory.n_neurons if memory else 0
    delta = np.mean(net.lmu.spiking_memory.delta) if memory else float("nan")
    print(
        f"{name:38s} accuracy {accuracy:.4f} | memory neurons {memory_units:4d}, "
        f"mean delta {delta:.4f}, "
        f"memory spikes/dim/step {memory.total if memory else float('nan'):5.2f} | "
        f"hidden units {net.lmu.hidden.n_neurons}, hidden spikes/unit/step "
        f"{hidden.total if hidden else float('nan'):.2f} | "
        f"{len(x) / seconds:6.1f} images/s ({seconds:.0f} s)"
    )
    return accuracy, memory.total if memory else None


def memory_label(ticks, basis=None):
    """How the spiking memory is stepped and in which basis, for the tables."""
    return f"{ticks} tick(s)" + (", balanced basis" if basis == "balanced" else "")


def fully_spiking(net, error, ticks, basis=None):
    """(label, network): ``net`` with a spiking memory at ``delta_error = error``,
    its units stepping ``ticks`` ticks per input step, in ``basis``."""
    return f"fully spiking, error {error}, {memory_label(ticks, basis)}", to_spiking(
        net, memory="spiking", delta_error=error, ticks=ticks, basis=basis
    )


def paper_network():
    """The paper's psMNIST model and its data (paper preprocessing and split)."""
    directory = data_dir(args.data)
    data = psmnist("paper", directory)
    net = SequenceClassifier(
        **load_paper_weights(directory / "lmu-paper/psMNIST-standard.hdf5"), seed=0
    )
    return net, data


def psmnist_part():
    net, data = paper_network()
    x, y = data.x_test[: args.n], data.y_test.ravel()[: args.n]
    print(f"psMNIST, the paper's weights, no fine-tuning; first {len(x)} test images")
    describe("rate network", net, x, y)
    describe("hybrid (spiking hidden, ideal memory)", to_spiking(net), x, y)
    settings = [
        (error, ticks, None)
        for error in (ERROR, args.two_spike_error)
        for ticks in sorted({1, args.ticks})
    ]
    settings.append((args.balanced_error, args.ticks, "balanced"))
    for setting in settings:
        describe(*fully_spiking(net, *setting), x, y)


def curve_part():
    net, data = paper_network()
    xc, yc = data.x_test[: args.n_curve], data.y_test.ravel()[: args.n_curve]
    print(f"\naccuracy against memory spikes (first {len(xc)} test images)")
    lines = [(ticks, None, ERRORS) for ticks in sorted({1, args.ticks})]
    lines.append((args.ticks, "balanced", BALANCED_ERRORS))
    rows = []
    for ticks, basis, errors in lines:
        for error in errors:
            accuracy, spikes = describe(
                *fully_spiking(net, error, ticks, basis), xc, yc
            )
            rows.append((memory_label(ticks, basis), error, spikes, accuracy))
    print(
        "\n| memory | delta_error | memory spikes per dimension per step | accuracy |"
    )
    print("|---|---|---|---|")
    for line, error, spikes, accuracy in rows:
        print(f"| {line} | {error} | {spikes:.2f} | {accuracy:.4f} |")
    fig, ax = plt.subplots(figsize=(6, 4))
    for ticks, basis, _ in lines:
        line = memory_label(ticks, basis)
        mine = [r for r in rows if r[0] == line]
        ax.plot([r[2] for r in mine], [r[3] for r in mine], "o-", label=line)
        for _, error, spikes, accuracy in mine:
            ax.annotate(f"ε={error}", (spikes, accuracy), fontsize=8)
    ax.legend()
    ax.set_xlabel("memory spikes per dimension per input step")
    ax.set_ylabel(f"accuracy (first {len(xc)} psMNIST test images)")
    ax.set_title("Fully spiking LMU (paper's weights, no fine-tuning)")
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(RESULTS / "fully_spiking_curve.png", dpi=100, bbox_inches="tight")
    print(f"plot written to {RESULTS / 'fully_spiking_curve.png'}")


def finetune_part():
    net, data = paper_network()
    balanced = args.finetune_basis == "balanced"
    basis = memory_basis(net, dt=1.0, ticks=args.finetune_ticks) if balanced else None
    conversion = dict(
        memory="spiking",
        delta_error=args.finetune_error,
        basis=basis,
        ticks=args.finetune_ticks,
    )
    training = dict(
        conversion, delta_error=args.finetune_train_error or args.finetune_error
    )
    start = net
    if args.finetune_from:
        start = SequenceClassifier(**load_weights(args.finetune_from), seed=0)
    xv, yv = data.x_val[: args.n_val], data.y_val.ravel()[: args.n_val]
    xt, yt = data.x_test[: args.n], data.y_test.ravel()[: args.n]
    train = (
        data.x_train[: args.finetune_train],
        data.y_train[: args.finetune_train].ravel(),
    )
    if args.finetune_distill:
        train = train[0], distill_targets(net, *train, weight=args.finetune_distill)
    print(
        f"\npsMNIST, the paper's weights, fully spiking at delta_error "
        f"{args.finetune_error} ({args.finetune_basis} basis, "
        f"{args.finetune_ticks} tick(s)); spike-aware "
        f"fine-tuning from {args.finetune_from or 'the paper weights'} at delta_error "
        f"{training['delta_error']}: up to {args.finetune_epochs} epochs on the first "
        f"{args.finetune_train} training images, epoch e with a new Adam at "
        f"{args.finetune_learning_rate} / {args.finetune_decay:g}**(e - 1), "
        f"distill {args.finetune_distill:g}, the "
        f"number chosen on the first {len(xv)} validation images"
    )
    describe("rate network (validation)", net, xv, yv)
    tuned = [start]
    spiking = to_spiking(start, **conversion)
    scores = [describe("fully spiking, 0 epochs", spiking, xv, yv)]
    for epoch in range(1, args.finetune_epochs + 1):
        t0 = time.perf_counter()
        tuned.append(
            finetune(
                tuned[-1],
                train[0],
                train[1],
                epochs=1,
                learning_rate=args.finetune_learning_rate
                / args.finetune_decay ** (epoch - 1),
                minibatch_size=100,
                progress_bar=False,
                **training,
            )[0]
        )
        print(f"epoch {epoch} took {time.perf_counter() - t0:.0f} s")
        if args.finetune_save:
            path = pathlib.Path(args.finetune_save) / f"epoch{epoch}.npz"
            save_weights(path, network_kwargs(tuned[-1]))
            print(f"weights written to {path}")
        spiking = to_spiking(tuned[-1], **conversion)
        scores.append(describe(f"fully spiking, {epoch} epochs", spiking, xv, yv))
    within = [acc if spikes <= args.budget else 0 for acc, spikes in scores]
    chosen = int(np.argmax(within))
    print(
        f"chosen on the validation images (within {args.budget} memory spikes per "
        f"dimension per step): {chosen} epochs"
    )
    print(f"first {len(xt)} test images")
    describe("rate network", net, xt, yt)
    for epochs in sorted({0, chosen}):
        spiking = to_spiking(tuned[epochs], **conversion)
        describe(f"fully spiking, {epochs} epochs", spiking, xt, yt)


def psdigits_part():
    data = psdigits()
    recipe = psdigits_recipe(0)
    x, y = data.x_test, data.y_test.ravel()
    net = SequenceClassifier(**recipe.network)
    fit(
        net,
        data.x_train,
        data.y_train.ravel(),
        **recipe.fit_settings,
        progress_bar=False,
    )
    print(f"\npsDigits, the main job's recipe; {len(x)} test sequences")
    describe("rate network", net, x, y)
    spiking = to_spiking(net, memory="spiking", dt=1.0)
    describe("fully spiking (to_spiking's defaults)", spiking, x, y)
    settings = ", ".join(f"{name} {value:g}" for name, value in recipe.spiking.items())
    print(f"the recipe's spiking settings (recipe.spiking): {settings}")
    spiking = to_spiking(net, memory="spiking", dt=1.0, **recipe.spiking)
    describe("fully spiking (the recipe's settings)", spiking, x, y)
    tuned, _ = finetune(
        net,
        data.x_train,
        data.y_train.ravel(),
        epochs=args.finetune_epochs,
        learning_rate=recipe.learning_rate / 10,
        minibatch_size=recipe.minibatch_size,
        progress_bar=False,
        memory="spiking",
        dt=1.0,
        **recipe.spiking,
    )
    describe("rate network, after fine-tuning", tuned, x, y)
    describe(
        f"fully spiking, {args.finetune_epochs} epochs spike-aware",
        to_spiking(tuned, memory="spiking", dt=1.0, **recipe.spiking),
        x,
        y,
    )


if args.part in ("psmnist", "all"):
    psmnist_part()
if args.part in ("curve", "all"):
    curve_part()
if args.part in ("finetune", "all"):
    finetune_part()
if args.part in ("psdigits", "all"):
    psdigits_part()
