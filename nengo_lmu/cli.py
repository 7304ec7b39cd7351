"""The ``nengo-lmu`` command line."""

import argparse
import os
import pathlib
import sys
import warnings
from typing import Callable, NamedTuple

import nengo
import numpy as np
from nengo.exceptions import NengoException


def _delay(args):
    from nengo_lmu.tasks import run_delay

    result = run_delay(
        order=args.order,
        theta=args.theta,
        t=args.t,
        dt=args.dt,
        high=args.high,
        seed=args.seed,
    )
    print(
        f"order {args.order}, theta {args.theta} s, white noise up to {args.high} Hz, "
        f"{args.t} s simulated in the Nengo reference simulator"
    )
    print(f"nrmse of the delayed output (after 2 theta): {result['nrmse']:.4f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(result["t"], result["input"], color="0.7", label="input u(t)")
    ax.plot(result["t"], result["ideal"], "k--", label=f"ideal u(t - {args.theta})")
    ax.plot(result["t"], result["decoded"], label=f"LegendreDelay, order {args.order}")
    ax.set_xlabel("time (s)")
    ax.set_title(f"Legendre delay: NRMSE {result['nrmse']:.4f}")
    ax.legend(loc="upper right")
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.plot, dpi=100, bbox_inches="tight")
    print(f"plot written to {args.plot.resolve()}")


class Task(NamedTuple):
    """A classification task of the command line."""

    load: Callable
    """``load(data_dir) -> (x_train, y_train, x_test, y_test)``, labels of shape (n,)"""
    recipe: Callable
    """``recipe(seed) -> tasks.Recipe``: the network trained from scratch, and how"""


def _psmnist(convention):
    def load(directory):
        from nengo_lmu.data import psmnist

        data = psmnist(convention, directory)
        return data.x_train, data.y_train, data.x_test, data.y_test

    return load


def _psmnist_recipe(seed):
    from nengo_lmu.tasks import Recipe

    return Recipe(
        network=dict(
            n_classes=10, units=212, order=256, theta=784.0, input_d=1, seed=seed
        ),
        dt=1.0,
        epochs=1,
        minibatch_size=100,
        learning_rate=1e-3,
    )


def _psdigits(directory):
    from nengo_lmu.tasks import psdigits

    data = psdigits()
    return data.x_train, data.y_train.ravel(), data.x_test, data.y_test.ravel()


def _psdigits_recipe(seed):
    from nengo_lmu.tasks import psdigits_recipe

    return psdigits_recipe(seed)


TASKS = {
    "psdigits": Task(_psdigits, _psdigits_recipe),
    "psmnist-paper": Task(_psmnist("paper"), _psmnist_recipe),
    "psmnist": Task(_psmnist("keras-lmu"), _psmnist_recipe),
}
"""The command line's tasks: psdigits (scikit-learn's digits, built in), psMNIST with
the paper's or keras-lmu's preprocessing (MNIST files in the data directory)."""


HIDDEN = {"tanh": nengo.Tanh(tau_ref=1), "relu": nengo.RectifiedLinear()}
"""The hidden units ``nengo-lmu train --hidden`` trains from scratch."""


def _classification_task(args):
    """The task's (x_train, y_train, x_test, y_test), cut to --n-train / --n."""
    x_train, y_train, x_test, y_test = TASKS[args.task].load(args.data)
    n_train = getattr(args, "n_train", None)
    return x_train[:n_train], y_train[:n_train], x_test[: args.n], y_test[: args.n]


def _conversion(args, recipe=None):
    """The `to_spiking` settings: those given on the command line, else the
    ``recipe``'s (`.tasks.Recipe.spiking`, which were chosen for its fully spiking
    run and so apply with ``--memory spiking`` only), else `to_spiking`'s defaults."""
    given = dict(
        k=args.k,
        rate_scale=args.rate_scale,
        delta=args.delta,
        delta_error=args.delta_error,
        basis=args.basis,
        ticks=args.ticks,
    )
    fully_spiking = recipe and recipe.spiking and args.memory == "spiking"
    conversion = dict(recipe.spiking if fully_spiking else {})
    conversion.update({key: value for key, value in given.items() if value is not None})
    return dict(conversion, memory=args.memory, dt=args.dt)


def _describe(conversion):
    """The conversion settings, as printed (``k 4, ..., spiking memory, dt 1``)."""
    return ", ".join(
        f"{value} {name}" if isinstance(value, str) else f"{name} {value:g}"
        for name, value in conversion.items()
    )


def _report(net, x, y, args, label):
    """Print the accuracy (and spikes) of ``net`` on the test data; return it."""
    from nengo_lmu.train import predict

    result = predict(
        net,
        x,
        backend=args.backend,
        dt=args.dt,
        minibatch_size=args.minibatch_size or 500,
        progress_bar=not args.quiet,
        spikes=hasattr(net, "hidden_probe") or hasattr(net, "memory_probe"),
    )
    scores, spikes = result if isinstance(result, tuple) else (result, {})
    correct = int(np.sum(np.argmax(scores, axis=1) == y))
    print(f"{label}: correct {correct}/{len(y)}")
    if "memory" in spikes:
        print(f"memory neurons: {net.lmu.spiking_memory.n_neurons}")
        memory = spikes["memory"].total
        print(f"memory spikes per dimension per input step: {memory:.2f}")
    for population, stats in spikes.items():
        if population == "hidden":
            print(f"spikes per unit per input step: {stats.total:.2f}")
        print(f"{population} spikes: {stats}")
    return correct / len(y)


def _evaluate(args):
    from nengo_lmu.convert import keras_network, load_weights
    from nengo_lmu.hybrid import to_spiking
    from nengo_lmu.interop.keras_files import is_keras_npz
    from nengo_lmu.lmu import SequenceClassifier

    if is_keras_npz(args.weights):  # a stacked model from import-keras
        net = keras_network(args.weights)
    else:
        net = SequenceClassifier(**load_weights(args.weights))
    conversion = _conversion(args, TASKS[args.task].recipe(0))
    if args.spiking:
        net = to_spiking(net, **conversion)
    _, _, x, y = _classification_task(args)
    mode = f"spiking: {_describe(conversion)}" if args.spiking else "rate"
    print(
        f"evaluating {args.weights} ({mode}) on the first {len(x)} {args.task} test "
        f"images with {args.backend}"
    )
    accuracy = _report(net, x, y, args, "test")
    print(f"accuracy: {accuracy:.4f}")


def _train(args):
    import tensorflow as tf

    from nengo_lmu.convert import load_weights, network_kwargs, save_weights
    from nengo_lmu.hybrid import finetune, memory_basis, to_spiking
    from nengo_lmu.lmu import SequenceClassifier
    from nengo_lmu.train import fit

    x_train, y_train, x_test, y_test = _classification_task(args)
    recipe = TASKS[args.task].recipe(args.seed)
    conversion = _conversion(args, recipe)
    if args.init is None:
        net = SequenceClassifier(**recipe.network, hidden_neurons=HIDDEN[args.hidden])
    else:
        net = SequenceClassifier(**load_weights(args.init), seed=args.seed)
    epochs = recipe.epochs if args.epochs is None else args.epochs
    learning_rate = args.learning_rate or recipe.learning_rate
    minibatch_size = args.minibatch_size or recipe.minibatch_size
    losses = {}

    class BatchLoss(tf.keras.callbacks.Callback):
        """Record the training loss of every batch, per phase."""

        def __init__(self, phase):
            super().__init__()
            self.phase = phase
            losses[phase] = []

        def on_train_batch_end(self, batch, logs=None):
            losses[self.phase].append(logs["loss"])

    settings = dict(minibatch_size=minibatch_size, progress_bar=not args.quiet)
    print(
        f"training on {len(x_train)} {args.task} sequences in NengoDL; outputs go to "
        f"{args.out.resolve()}"
    )
    if args.spiking:
        print(f"spiking conversion: {_describe(conversion)}")
    if epochs:
        fit(
            net,
            x_train,
            y_train,
            epochs=epochs,
            learning_rate=learning_rate,
            callbacks=[BatchLoss("rate")],
            **settings,
        )
    if args.spiking and args.finetune_epochs:
        finetune_rate = (
            args.finetune_learning_rate
            or args.learning_rate
            or recipe.learning_rate / 10
        )
        print(
            f"spike-aware fine-tuning: {args.finetune_epochs} epochs, Adam's learning "
            f"rate {finetune_rate:g}"
        )
        if conversion.get("basis") == "balanced":  # run in the basis trained in
            conversion["basis"] = memory_basis(
                net, dt=args.dt, ticks=conversion.get("ticks", 1)
            )
        net, _ = finetune(
            net,
            x_train,
            y_train,
            epochs=args.finetune_epochs,
            learning_rate=finetune_rate,
            callbacks=[BatchLoss("spike-aware")],
            **settings,
            **conversion,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    save_weights(args.out / "weights.npz", network_kwargs(net))
    print(f"weights written to {(args.out / 'weights.npz').resolve()}")
    if losses:
        _plot_losses(losses, args.out / "training.png", args.task)
    accuracy = _report(net, x_test, y_test, args, "test (rate)")
    print(f"rate accuracy: {accuracy:.4f}")
    if args.spiking:
        accuracy = _report(
            to_spiking(net, **conversion),
            x_test,
            y_test,
            args,
            "test (spiking)",
        )
        print(f"spiking accuracy: {accuracy:.4f}")
    print(f"accuracy: {accuracy:.4f}")


def _export_nir(args):
    import nir

    from nengo_lmu.convert import load_weights
    from nengo_lmu.hybrid import to_spiking
    from nengo_lmu.interop.keras_files import is_keras_npz
    from nengo_lmu.interop.nir_lmu import lmu_to_nir
    from nengo_lmu.lmu import SequenceClassifier

    if is_keras_npz(args.weights):
        raise ValueError(
            f"{args.weights} is a stacked Keras model (import-keras): NIR export takes "
            "one LMU with a Dense readout (a .npz from nengo-lmu train)"
        )
    conversion = _conversion(args, args.task and TASKS[args.task].recipe(0))
    net = to_spiking(SequenceClassifier(**load_weights(args.weights)), **conversion)
    graph = lmu_to_nir(net, form=args.form)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    nir.write(args.out, graph)
    print(
        f"exported {args.weights} (spiking: {_describe(conversion)}): "
        f"{len(graph.nodes)} NIR nodes, "
        f"{len(graph.edges)} edges"
    )
    print(f"NIR graph written to {args.out.resolve()}")


def _plot_losses(losses, path, task):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    start = 0
    for phase, values in losses.items():
        ax.plot(np.arange(start, start + len(values)), values, label=phase)
        start += len(values)
    ax.set_xlabel("batch")
    ax.set_ylabel("training loss (running mean over the epoch)")
    ax.set_yscale("log")
    ax.set_title(f"nengo-lmu train {task}")
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(f"plot written to {path.resolve()}")


def _import_keras(args):
    from nengo_lmu.convert import load_keras_model, load_paper_weights, save_weights
    from nengo_lmu.interop import model_layers, read_keras_model, save_keras_model

    if args.model.suffix in (".h5", ".hdf5") and _is_paper_file(args.model):
        kwargs = load_paper_weights(args.model)
    else:
        model = read_keras_model(args.model)
        layers, _, sequence_output = model_layers(model)
        if [layer["type"] for layer in layers] != ["LMU", "Dense"] or sequence_output:
            save_keras_model(args.out, model)
            print(
                f"imported {args.model} ({model.format}): "
                + ", ".join(layer["type"] for layer in layers)
                + (", sequence output" if sequence_output else "")
            )
            print(f"weights written to {args.out.resolve()}")
            return
        kwargs = load_keras_model(args.model)
    save_weights(args.out, kwargs)
    print(
        f"imported {args.model}: units {kwargs['units']}, order {kwargs['order']}, "
        f"theta {kwargs['theta']:g} steps, {kwargs['n_classes']} classes"
    )
    print(f"weights written to {args.out.resolve()}")


def _is_paper_file(path):
    """True for an HDF5 file with the paper's weights layout."""
    import h5py

    from nengo_lmu.convert import PAPER_LAYOUT

    try:
        with h5py.File(path, "r") as f:
            return next(iter(PAPER_LAYOUT)) in f
    except OSError:
        return False


def _positive(kind):
    def parse(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0 (got {text})")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _non_negative(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {text})")
    return value


def _task_arguments(command, with_task=True):
    if with_task:
        command.add_argument(
            "--task",
            choices=sorted(TASKS),
            default="psmnist-paper",
            help="psdigits: scikit-learn's digits; psmnist-paper: the paper's "
            "permutation and scaling; psmnist: keras-lmu's",
        )
    command.add_argument(
        "--data",
        default=None,
        help="MNIST: a data directory or an mnist.npz (default: $NENGO_LMU_DATA, else "
        "../shared/data, else Keras' cache $KERAS_HOME/datasets/mnist.npz, else "
        "downloaded there by Keras)",
    )
    command.add_argument("--backend", choices=("nengo_dl", "nengo"), default="nengo_dl")
    command.add_argument(
        "--n",
        type=_positive(int),
        default=None,
        help="first N test sequences (default all)",
    )
    command.add_argument("--quiet", action="store_true", help="no progress bars")


def _spiking_arguments(command, flag=True):
    group = command.add_argument_group(
        "spiking", "hybrid mode: regular-spiking hidden units (nengo_lmu.to_spiking)"
    )
    if flag:
        group.add_argument(
            "--spiking", action="store_true", help="spiking hidden units"
        )
    group.add_argument(
        "--k",
        type=_positive(int),
        default=None,
        help="ticks per input step (default, as for --rate-scale and --delta-error: "
        "with --memory spiking the task's recipe's, else nengo_lmu.to_spiking's, 2)",
    )
    group.add_argument(
        "--rate-scale",
        type=_positive(float),
        default=None,
        help="spikes per tick at the unit rate (to_spiking's default 0.7 and k 2 give "
        "about one spike, positive or negative, per unit per input step on psMNIST, "
        "on average)",
    )
    group.add_argument(
        "--memory",
        choices=("ideal", "spiking"),
        default="ideal",
        help="ideal memory, or the memory in spiking units (SpikingMemory)",
    )
    group.add_argument(
        "--delta",
        type=_positive(float),
        default=None,
        help="memory state per spike of a spiking memory, for all dimensions "
        "(default: one per dimension, nengo_lmu.spiking_memory.budget_delta at "
        "--delta-error)",
    )
    group.add_argument(
        "--delta-error",
        type=_positive(float),
        default=None,
        help="without --delta: the RMS error the spiking memory's rounding may add to "
        "each hidden unit's input (to_spiking's delta_error)",
    )
    group.add_argument(
        "--basis",
        choices=("balanced",),
        default=None,
        help="the memory's state basis (default: its own); balanced: "
        "nengo_lmu.spiking_memory.balanced_basis, fewer memory spikes for the same "
        "accuracy, with a larger --delta-error (0.36 gives about 2 spikes per "
        "dimension per step on psMNIST)",
    )
    group.add_argument(
        "--ticks",
        type=_positive(int),
        default=None,
        help="sub-steps of a spiking memory's units per input step (default 1): the "
        "recurrence sees the spikes within the step, a smaller error for about the "
        "same spikes (NengoDL's standard build, not fused)",
    )
    group.add_argument(
        "--dt",
        type=_positive(float),
        default=1.0,
        help="simulator time step (1: theta in steps, as the tasks count it)",
    )


def parser():
    """The argument parser of ``nengo-lmu``."""
    top = argparse.ArgumentParser(
        prog="nengo-lmu", description="Legendre Memory Units built the Nengo way."
    )
    sub = top.add_subparsers(dest="command", required=True)

    delay = sub.add_parser(
        "delay",
        help="delay white noise with a Legendre delay synapse and plot it",
        description="Delay band-limited white noise by theta with a LegendreDelay "
        "synapse in the Nengo reference simulator; print the NRMSE and save a plot.",
        epilog="example: nengo-lmu delay --order 6 --theta 1 --plot outputs/delay.png",
    )
    delay.add_argument("--order", type=_positive(int), default=6)
    delay.add_argument("--theta", type=_positive(float), default=1.0, help="seconds")
    delay.add_argument("--t", type=_positive(float), default=10.0, help="seconds")
    delay.add_argument("--dt", type=_positive(float), default=0.001, help="seconds")
    delay.add_argument(
        "--high", type=_positive(float), default=1.0, help="input cutoff, Hz"
    )
    delay.add_argument("--seed", type=int, default=0)
    delay.add_argument(
        "--plot", type=pathlib.Path, default=pathlib.Path("outputs/delay.png")
    )
    delay.set_defaults(run=_delay)

    evaluate = sub.add_parser(
        "evaluate",
        help="evaluate trained LMU weights on a task and print the accuracy",
        description="Evaluate a weights file (the LMU paper's Keras psMNIST model, or "
        "a .npz from 'nengo-lmu train' / 'import-keras') on the test set of a task, "
        "as a rate network or, with --spiking, with spiking hidden units; the last "
        "line is the accuracy, to 4 decimals.",
        epilog="examples: nengo-lmu evaluate --weights "
        "../shared/data/lmu-paper/psMNIST-standard.hdf5 --task psmnist-paper "
        "--data ../shared/data --n 1000\n"
        "nengo-lmu evaluate --weights outputs/psmnist-spiking.npz --spiking",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("--weights", type=pathlib.Path, required=True)
    _task_arguments(evaluate)
    evaluate.add_argument("--minibatch-size", type=_positive(int), default=500)
    _spiking_arguments(evaluate)
    evaluate.set_defaults(run=_evaluate)

    train = sub.add_parser(
        "train",
        help="train an LMU classifier on a task with NengoDL (and run it spiking)",
        description="Train a SequenceClassifier on TASK in NengoDL (from scratch, or "
        "from --init weights), save the weights and a training-curve plot in --out, "
        "and print the test accuracy. With --spiking, also fine-tune it spike-aware "
        "(--finetune-epochs) and print the accuracy with spiking hidden units.",
        epilog="examples: nengo-lmu train psdigits --spiking\n"
        "nengo-lmu train psmnist --epochs 1\n"
        "nengo-lmu train psmnist-paper --init "
        "../shared/data/lmu-paper/psMNIST-standard.hdf5 --epochs 0 --spiking "
        "--finetune-epochs 1 --learning-rate 1e-4 --out outputs/psmnist-spiking",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("task", choices=sorted(TASKS))
    train.add_argument("--init", type=pathlib.Path, default=None, help="weights")
    train.add_argument(
        "--epochs", type=_non_negative, default=None, help="default: the task's"
    )
    train.add_argument(
        "--learning-rate",
        type=_positive(float),
        default=None,
        help="Adam's, for training and fine-tuning; default: the task's (a tenth of "
        "it for fine-tuning)",
    )
    train.add_argument("--minibatch-size", type=_positive(int), default=None)
    train.add_argument(
        "--n-train",
        type=_positive(int),
        default=None,
        help="first N training sequences (default all)",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=pathlib.Path, default=pathlib.Path("outputs"))
    train.add_argument(
        "--finetune-epochs",
        type=_non_negative,
        default=1,
        help="spike-aware epochs (with --spiking)",
    )
    train.add_argument(
        "--finetune-learning-rate",
        type=_positive(float),
        default=None,
        help="default: --learning-rate if given, else a tenth of the task's",
    )
    train.add_argument(
        "--hidden",
        choices=sorted(HIDDEN),
        default="tanh",
        help="hidden units trained from scratch: tanh (the paper's cell) or relu "
        "(whose spiking units NIR has: export-nir)",
    )
    _task_arguments(train, with_task=False)
    _spiking_arguments(train)
    train.set_defaults(run=_train)

    import_keras = sub.add_parser(
        "import-keras",
        help="convert Keras LMU weights into a nengo_lmu weights file",
        description="Read the LMU paper's Keras weights (.hdf5) or a saved Keras model "
        "(Keras 3 or 2.12 .keras, .h5 or SavedModel: a chain of keras-lmu layers, "
        "Dense and Dropout layers) and write nengo_lmu weights (.npz) for 'nengo-lmu "
        "evaluate' (and, for one keras-lmu layer and a Dense readout, 'train "
        "--init').",
        epilog="example: nengo-lmu import-keras "
        "../shared/data/lmu-paper/psMNIST-standard.hdf5 --out outputs/paper.npz",
    )
    import_keras.add_argument("model", type=pathlib.Path)
    import_keras.add_argument(
        "--out", type=pathlib.Path, default=pathlib.Path("outputs/imported.npz")
    )
    import_keras.set_defaults(run=_import_keras)

    export_nir = sub.add_parser(
        "export-nir",
        help="export trained LMU weights, run spiking, to a NIR graph file",
        description="Convert a weights file to a spiking network (as evaluate "
        "--spiking does) and write it as a NIR graph (nir.write), for NIR's "
        "simulators and hardware. Its hidden units must have a NIR node: train with "
        "--hidden relu (nengo_lmu.interop.nir_lmu says what is mapped).",
        epilog="example: nengo-lmu export-nir outputs/weights.npz outputs/lmu.nir "
        "--task psdigits --memory spiking",
    )
    export_nir.add_argument("weights", type=pathlib.Path)
    export_nir.add_argument("out", type=pathlib.Path)
    export_nir.add_argument(
        "--task",
        choices=sorted(TASKS),
        default=None,
        help="the task the weights were trained on: convert with its recipe's spiking "
        "settings, as train and evaluate do (default: to_spiking's defaults)",
    )
    export_nir.add_argument(
        "--form",
        choices=["euler", "zoh"],
        default="euler",
        help="the memory's continuous system: whose Euler step at dt is the network's "
        "(a consumer stepping at dt), or whose exact step is (a consumer integrating "
        "finely, as tests/nir_consumer/run_spikingjelly.py does) (default: euler)",
    )
    _spiking_arguments(export_nir, flag=False)
    export_nir.set_defaults(run=_export_nir)
    return top


def main(argv=None):
    """Run ``nengo-lmu``; returns the exit code."""
    args = parser().parse_args(argv)
    # TensorFlow's C++ info lines and NengoDL's CPU-only note are noise here
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message="No GPU support detected")
    try:
        args.run(args)
    except (NengoException, OSError, ValueError) as e:
        print(f"nengo-lmu {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
