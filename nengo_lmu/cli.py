"""The ``nengo-lmu`` command line."""

import argparse
import pathlib
import sys

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


def _evaluate(args):
    import numpy as np

    from nengo_lmu.convert import load_paper_weights
    from nengo_lmu.data import psmnist
    from nengo_lmu.lmu import SequenceClassifier
    from nengo_lmu.train import predict

    net = SequenceClassifier(**load_paper_weights(args.weights))
    data = psmnist(TASKS[args.task], args.data)
    x, y = data.x_test[: args.n], data.y_test[: args.n]
    print(
        f"evaluating {args.weights} on the first {len(x)} {args.task} test images "
        f"with {args.backend}"
    )
    scores = predict(
        net,
        x,
        backend=args.backend,
        minibatch_size=args.minibatch_size,
        progress_bar=not args.quiet,
    )
    correct = int(np.sum(np.argmax(scores, axis=1) == y))
    print(f"correct: {correct}/{len(y)}")
    print(f"accuracy: {correct / len(y):.4f}")


TASKS = {"psmnist-paper": "paper", "psmnist": "keras-lmu"}


def _positive(kind):
    def parse(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0 (got {text})")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


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
        description="Evaluate a weights file (the LMU paper's Keras psMNIST model) on "
        "the test set of a task; the last line is the accuracy, to 4 decimals.",
        epilog="example: nengo-lmu evaluate --weights "
        "../shared/data/lmu-paper/psMNIST-standard.hdf5 --task psmnist-paper "
        "--data ../shared/data --n 1000",
    )
    evaluate.add_argument("--weights", type=pathlib.Path, required=True)
    evaluate.add_argument(
        "--task",
        choices=sorted(TASKS),
        default="psmnist-paper",
        help="psmnist-paper: the paper's permutation and scaling; psmnist: keras-lmu's",
    )
    evaluate.add_argument(
        "--data",
        default=None,
        help="data directory (default: $NENGO_LMU_DATA, else ../shared/data)",
    )
    evaluate.add_argument(
        "--backend", choices=("nengo_dl", "nengo"), default="nengo_dl"
    )
    evaluate.add_argument(
        "--n",
        type=_positive(int),
        default=None,
        help="first N test images (default all)",
    )
    evaluate.add_argument("--minibatch-size", type=_positive(int), default=500)
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.set_defaults(run=_evaluate)
    return top


def main(argv=None):
    """Run ``nengo-lmu``; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (NengoException, OSError, ValueError) as e:
        print(f"nengo-lmu {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
