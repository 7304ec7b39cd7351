"""Memory capacity of the LMU paper's untrained LMU-0: recall the input T steps back.

Run: ``.venv/bin/python benchmarks/capacity.py [--order N] [--high H] [--seed S]``
(about 15 s). Prints the MSE for T = 10^2 ... 10^5 and writes
``benchmarks/results/capacity.png``.

The memory alone (no hidden layer, nothing trained): an order-100 Legendre memory
with window theta, read out with ``legendre_readout(order, 1)``, simulated in float64
(`nengo_lmu.tasks.capacity_mse`). The input is band-limited white noise with a cutoff
of H = 10 cycles per T steps (RMS 0.3); the MSE is against the input T steps back.
Two windows:

- theta = T - 0.5 steps (the paper's setting): in nengo_lmu's step convention the
  readout is the input about T - 1 steps back, so the MSE falls as T^-2 (the paper's
  figure: about 1e-2 at T = 100 to 1e-8 at T = 10^5);
- theta = T + 0.5 steps: the readout is aligned on the sample T steps back, and the
  error left is the memory's own.
"""

import argparse
import pathlib
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nengo_lmu.tasks import CAPACITY_DELAYS, capacity_mse  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--order", type=int, default=100, help="order of the memory")
parser.add_argument("--high", type=float, default=10.0, help="cycles per T steps")
parser.add_argument("--seed", type=int, default=0, help="seed of the input")
args = parser.parse_args()

windows = {"theta = T - 0.5 (paper)": -0.5, "theta = T + 0.5 (aligned)": 0.5}
print(
    f"LMU-0: order {args.order} Legendre memory, legendre_readout(order, 1), float64; "
    f"input: white noise up to {args.high:g} cycles per T steps, RMS 0.3, seed "
    f"{args.seed}; MSE against the input T steps back"
)
print(f"{'T (steps)':>10} " + " ".join(f"{name:>26}" for name in windows) + "  seconds")
mse = {name: [] for name in windows}
for delay in CAPACITY_DELAYS:
    start = time.perf_counter()
    for name, shift in windows.items():
        mse[name].append(
            capacity_mse(
                delay,
                order=args.order,
                theta=delay + shift,
                high=args.high,
                seed=args.seed,
            )
        )
    print(
        f"{delay:>10} "
        + " ".join(f"{mse[name][-1]:>26.2e}" for name in windows)
        + f"  {time.perf_counter() - start:7.1f}",
        flush=True,
    )

fig, ax = plt.subplots(figsize=(6, 4))
for name, values in mse.items():
    ax.loglog(CAPACITY_DELAYS, values, "o-", label=name)
ax.set_xlabel("T (steps back)")
ax.set_ylabel("MSE")
ax.set_title(f"LMU-0 capacity (order {args.order})")
ax.legend()
ax.grid(True, which="major", alpha=0.3)
RESULTS.mkdir(exist_ok=True)
path = RESULTS / "capacity.png"
fig.savefig(path, dpi=100, bbox_inches="tight")
print(f"wrote benchmarks/results/{path.name}")
