"""Accuracy and stability of the Legendre LTI core (numbers quoted in README).

Run: ``.venv/bin/python benchmarks/lti_core.py`` (about a minute on 2 cores).
"""

import time
import warnings

import nengo
import numpy as np
import scipy.signal

import nengo_lmu
from nengo_lmu.tasks import nrmse, run_delay


def delay_demo():
    result = run_delay(order=6, theta=1.0, t=10.0, high=1.0, seed=0)
    print(
        f"delay demo (order 6, theta 1 s, 1 Hz white noise, 10 s): "
        f"NRMSE {result['nrmse']:.4f}"
    )


def readout(order=12, theta=1.0, dt=0.001, t=10.0, high=2.0):
    u = nengo.processes.WhiteSignal(t, high=high, rms=0.5, seed=1).run(t, dt=dt)[:, 0]
    memory = nengo_lmu.LegendreMemory(theta, order)
    x = memory.apply(u[:, None], dt=dt)
    start, steps = int(2 * theta / dt), int(theta / dt)
    print(
        f"readout (order {order}, theta {theta} s, {high} Hz white noise), "
        "NRMSE of u(t - r theta), against the sample r theta / dt steps back and "
        "against the midpoint half a step later (ZOH holds u[k] over the step "
        "before t_k, so the state lags by half a step less):"
    )
    for r in (0, 0.25, 0.5, 1):
        decoded = x.dot(nengo_lmu.legendre_readout(order, r)[0])
        t = np.arange(start, len(u) - 1) - int(round(r * steps))
        whole, half = u[t], 0.5 * (u[t] + u[t + 1])
        print(
            f"  r = {r:4}: {nrmse(decoded[start:-1], whole):.4f} (sample), "
            f"{nrmse(decoded[start:-1], half):.5f} (midpoint)"
        )


def high_order(order, theta, n_steps):
    """Our state recurrence (float64) vs scipy's ZOH matrices stepped in plain numpy."""
    system = nengo_lmu.LegendreDelay(theta, order)
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete(system.ss, dt=1, method="zoh")
    u = nengo.processes.WhiteSignal(n_steps, high=0.01, rms=0.5, seed=2).run(
        n_steps, dt=1
    )
    t0 = time.perf_counter()
    x = nengo_lmu.LegendreMemory(theta, order).apply(u, dt=1)
    elapsed = time.perf_counter() - t0
    ref, err, scale = np.zeros(order), 0.0, 0.0
    for k in range(n_steps):
        ref = Ad.dot(ref) + Bd[:, 0] * u[k, 0]
        err = max(err, np.max(np.abs(x[k] - ref)))
        scale = max(scale, np.max(np.abs(ref)))
    print(
        f"  order {order:4d}, theta {theta} steps, {n_steps} steps: finite "
        f"{np.all(np.isfinite(x))}, max |state| {np.max(np.abs(x)):.3g}, max error "
        f"relative to it {err / scale:.1e} ({n_steps / elapsed:.0f} steps/s)"
    )


def transfer_function_route(orders=(20, 40, 60, 256), theta=1.0, dt=0.001, t=4.0):
    """nengo.LinearFilter steps a transfer function; LegendreDelay steps the state."""
    u = nengo.processes.WhiteSignal(t, high=1, rms=0.3, seed=3).run(t, dt=dt)
    ideal = np.roll(u[:, 0], int(theta / dt))
    start = int(2 * theta / dt)
    for order in orders:
        num, den = nengo_lmu.systems.pade_coefficients(theta, order)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # nengo's BadCoefficients
                y_tf = nengo.LinearFilter(num, den).filt(u, dt=dt)[:, 0]
            tf_result = f"{nrmse(y_tf[start:], ideal[start:]):.4f}"
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as e:
            tf_result = f"fails ({type(e).__name__}: {e})"
        y_ss = nengo_lmu.LegendreDelay(theta, order).filt(u, dt=dt)[:, 0]
        print(
            f"  order {order:3d}: nengo.LinearFilter(Pade num, den) NRMSE {tf_result}; "
            f"LegendreDelay NRMSE {nrmse(y_ss[start:], ideal[start:]):.4f}"
        )


if __name__ == "__main__":
    delay_demo()
    readout()
    print("high order, float64 state vs a numpy recurrence with scipy's ZOH matrices:")
    high_order(256, 784, 100_000)
    high_order(1024, 10_000, 100_000)
    print("delay by 1 s of 4 s of 1 Hz noise, transfer function vs state space:")
    transfer_function_route()
