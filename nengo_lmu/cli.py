"""The ``nengo-lmu`` command line."""

import argparse
import pathlib
import sys

from nengo.exceptions import NengoException


def _delay(args):
    from nengo_lmu.tasks import run_delay

    result = run_delay(
        order=args.order, theta=args.theta, t=args.t, dt=args.dt, high=args.high,
        seed=args.seed,
    )
    print(f"order {args.order}, theta {args.theta} s, white noise up to {args.high} Hz, "
          f"{args.t} s simulated in the Nengo reference simulator")
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
    delay.add_argument("--high", type=_positive(float), default=1.0, help="input cutoff, Hz")
    delay.add_argument("--seed", type=int, default=0)
    delay.add_argument(
        "--plot", type=pathlib.Path, default=pathlib.Path("outputs/delay.png")
    )
    delay.set_defaults(run=_delay)
    return top


def main(argv=None):
    """Run ``nengo-lmu``; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (NengoException, OSError) as e:
        print(f"nengo-lmu {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
