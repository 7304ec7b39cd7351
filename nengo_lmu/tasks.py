"""Tasks: data sets, targets and metrics for the experiments of the LMU paper.

Each task function takes a ``seed`` and returns float32 arrays ready for NengoDL:
inputs of shape ``(n, steps, d)`` and targets of shape ``(n, steps, k)`` (one target
per step) or ``(n, 1, k)`` (one per sequence, for the last step).
"""

from typing import NamedTuple

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.systems import LegendreDelay, LinearSystem, legendre_readout


def nrmse(actual, target):
    """Root-mean-square error normalized by the RMS of ``target`` (as in nengolib)."""
    actual, target = np.asarray(actual), np.asarray(target)
    return np.sqrt(np.mean((actual - target) ** 2)) / np.sqrt(np.mean(target**2))


def _check(ok, attr, message):
    """Raise a `~nengo.exceptions.ValidationError` for ``attr`` unless ``ok``."""
    if not ok:
        raise ValidationError(message, attr=attr)


def _check_int(value, attr, low):
    _check(
        isinstance(value, (int, np.integer)) and value >= low,
        attr,
        f"Must be an integer >= {low} (got {value!r})",
    )


def _check_positive(value, attr):
    _check(
        isinstance(value, (int, float, np.number)) and np.isfinite(value) and value > 0,
        attr,
        f"Must be a finite number > 0 (got {value!r})",
    )


def _check_fraction(value, attr):
    _check(
        isinstance(value, (int, float, np.number)) and 0 < value < 1,
        attr,
        f"Must be a number between 0 and 1, exclusive (got {value!r})",
    )


def _delayed(u, steps, fill):
    """``u`` delayed by ``steps`` along axis 1 (time), the first ``steps`` set to
    ``fill``."""
    y = np.full_like(u, fill)
    y[:, steps:] = u[:, : u.shape[1] - steps]
    return y


# --- the delay task


class DelayTask(NamedTuple):
    """Band-limited white noise and its delayed copy, as returned by `delay_task`."""

    x: np.ndarray
    y: np.ndarray
    delay_steps: int
    dt: float


def white_noise(n, t, dt=0.001, high=1.0, rms=0.3, seed=0):
    """Band-limited white noise sequences, as Nengo presents them.

    Sequence ``i`` is ``nengo.processes.WhiteSignal(t, high, rms, seed=seed + i)``
    sampled at the steps of a simulator with time step ``dt`` (the values a node with
    that process outputs at ``t = dt, 2 dt, ...``).

    Parameters
    ----------
    n : int
        Number of sequences.
    t, dt : float
        Length of each sequence and time step (seconds).
    high, rms : float
        Cutoff frequency (Hz) and RMS of the signal.
    seed : int
        Seed of the first sequence.

    Returns
    -------
    (n, round(t / dt), 1) ndarray
        float64 sequences.
    """
    _check_int(seed, "white_noise.seed", 0)
    _check_int(n, "white_noise.n", 1)
    for name, value in (("t", t), ("dt", dt), ("high", high), ("rms", rms)):
        _check_positive(value, f"white_noise.{name}")
    steps = int(round(t / dt))
    _check(
        steps >= 1,
        "white_noise.t",
        f"Must be at least one time step dt={dt} (got t={t})",
    )
    return np.stack(
        [
            nengo.processes.WhiteSignal(t, high=high, rms=rms, seed=seed + i).run_steps(
                steps, dt=dt
            )
            for i in range(n)
        ]
    )


def delay_task(n=16, t=4.0, theta=1.0, dt=0.001, high=1.0, rms=0.3, seed=0):
    """The delay task: band-limited white noise in, its ``theta``-delayed copy out.

    The input sequences are those of `white_noise` (sequence 0 is the input of
    ``run_delay(t=t, dt=dt, high=high, rms=rms, seed=seed)``); the target is the
    input ``theta / dt`` steps earlier, ``y[:, k] = x[:, k - theta / dt]``, and 0 for
    the first ``theta / dt`` steps: the ideal delay line started at rest.

    Parameters
    ----------
    n : int
        Number of sequences.
    t, dt : float
        Length of each sequence and time step (seconds).
    theta : float
        The delay (seconds); must be a whole number of time steps, shorter than ``t``.
    high, rms : float
        Cutoff frequency (Hz) and RMS of the input.
    seed : int
        Seed of the first input sequence.

    Returns
    -------
    DelayTask
        ``x`` and ``y``, float32 of shape ``(n, steps, 1)``; ``delay_steps`` (the
        delay in steps) and ``dt``.
    """
    _check_int(seed, "delay_task.seed", 0)
    _check_positive(theta, "delay_task.theta")
    _check_positive(dt, "delay_task.dt")
    delay = int(round(theta / dt))
    _check(
        np.isclose(delay * dt, theta, rtol=1e-9, atol=0),
        "delay_task.theta",
        f"Must be a whole number of time steps dt={dt} (got theta={theta})",
    )
    x = white_noise(n, t, dt=dt, high=high, rms=rms, seed=seed).astype(np.float32)
    _check(
        delay < x.shape[1],
        "delay_task.theta",
        f"Must be shorter than the sequences (t={t}; got theta={theta})",
    )
    return DelayTask(x=x, y=_delayed(x, delay, 0), delay_steps=delay, dt=float(dt))


def run_delay(order=6, theta=1.0, t=10.0, dt=0.001, high=1.0, rms=0.3, seed=0):
    """Delay band-limited white noise with a `.LegendreDelay` synapse in Nengo.

    Builds ``input -> output`` with ``synapse=LegendreDelay(theta, order)`` and runs it
    on the Nengo reference simulator.

    Parameters
    ----------
    order, theta : int, float
        The Legendre delay system.
    t, dt : float
        Simulated time and time step (seconds).
    high, rms : float
        Cutoff frequency (Hz) and RMS of the white-noise input.
    seed : int
        Seed of the input signal.

    Returns
    -------
    dict
        ``t``, ``input``, ``ideal`` (the input delayed by ``theta``), ``decoded``
        (the synapse's output), and ``nrmse`` of ``decoded`` against ``ideal``
        after a transient of ``2 * theta``.
    """
    if not t > 2 * theta:
        raise ValidationError(
            f"Must be longer than the 2 * theta = {2 * theta} s transient that is left "
            f"out of the NRMSE (got t={t})",
            attr="t",
        )
    with nengo.Network(label="delay") as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(t, high=high, rms=rms, seed=seed))
        out = nengo.Node(size_in=1)
        nengo.Connection(stim, out, synapse=LegendreDelay(theta, order))
        p_in, p_out = nengo.Probe(stim), nengo.Probe(out)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(t)
    u, y = sim.data[p_in][:, 0], sim.data[p_out][:, 0]
    ideal = _delayed(u[None], int(round(theta / dt)), np.nan)[0]
    start = int(round(2 * theta / dt))
    return {
        "t": sim.trange(),
        "input": u,
        "ideal": ideal,
        "decoded": y,
        "nrmse": nrmse(y[start:], ideal[start:]),
    }


# --- psDigits


class PsDigits(NamedTuple):
    """Permuted sequential digits, as returned by `psdigits`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    perm: np.ndarray


def psdigits(seed=0, test_fraction=0.2):
    """Permuted sequential digits (psDigits): psMNIST's task on 8x8 digits.

    scikit-learn's copy of the UCI handwritten digits (`sklearn.datasets.load_digits`:
    1797 images of 8x8 pixels with values 0 to 16, shipped with scikit-learn, so
    nothing is downloaded). Each image is flattened row by row into a sequence of 64
    pixels, divided by 16 and permuted by a fixed pixel permutation ``perm``:
    ``x_seq = x_flat[perm]``. With ``rng = numpy.random.RandomState(seed)``,
    ``perm = rng.permutation(64)``, then ``rng.permutation(1797)`` shuffles the
    images, of which the first ``round(test_fraction * 1797)`` are for testing and
    the rest for training.

    Needs scikit-learn (``pip install nengo-lmu[tasks]``).

    Parameters
    ----------
    seed : int
        Seed of the permutation and the split.
    test_fraction : float
        Fraction of the images held out for testing.

    Returns
    -------
    PsDigits
        Named tuple of ``x_train, y_train, x_test, y_test, perm``. The ``x`` are
        float32 of shape ``(n, 64, 1)`` with values in [0, 1]; the ``y`` are int32
        class labels of shape ``(n, 1, 1)`` (the target of the last step, as NengoDL
        takes them for a sparse categorical cross-entropy; ``y[:, 0, 0]`` are the
        labels).
    """
    _check_int(seed, "psdigits.seed", 0)
    _check_fraction(test_fraction, "psdigits.test_fraction")
    from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel

    images, labels = load_digits(return_X_y=True)
    rng = np.random.RandomState(seed)
    perm = rng.permutation(images.shape[1])
    order = rng.permutation(len(images))
    n_test = int(round(test_fraction * len(images)))
    x = (images[:, perm] / 16).astype(np.float32)[:, :, None]
    y = labels.astype(np.int32)[:, None, None]
    test, train = order[:n_test], order[n_test:]
    return PsDigits(
        x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test], perm=perm
    )


class Recipe(NamedTuple):
    """How to train a network on a task with NengoDL (see `psdigits_recipe`)."""

    network: dict
    dt: float
    epochs: int
    minibatch_size: int
    learning_rate: float
    spiking: dict = None
    """`.hybrid.to_spiking` arguments of its fully spiking run (None: the defaults)."""

    @property
    def fit_settings(self):
        """Its `.train.fit` arguments: ``epochs``, ``learning_rate``,
        ``minibatch_size``."""
        return dict(
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            minibatch_size=self.minibatch_size,
        )


def psdigits_recipe(seed=0):
    """An LMU that learns `psdigits` with NengoDL in under a minute on 2 CPU cores.

    Train ``SequenceClassifier(**recipe.network)`` in ``nengo_dl.Simulator(net,
    dt=recipe.dt, minibatch_size=recipe.minibatch_size)`` with
    ``tf.optimizers.Adam(recipe.learning_rate)`` and a sparse categorical
    cross-entropy on the class scores (``from_logits=True``), for ``recipe.epochs``
    epochs on the training sequences of `psdigits` (a whole number of minibatches:
    the first 1408 of 1438; about 30 s on 2 CPU cores). This reaches a test accuracy
    above 0.90 (0.95 to 0.97 for the seeds 0 to 2 of both the data and the network;
    ``tests/test_tasks.py`` checks seed 0).

    Parameters
    ----------
    seed : int
        Seed of the network's initial weights.

    Run spiking, ``to_spiking(net, memory="spiking", dt=recipe.dt,
    **recipe.spiking)`` (``nengo-lmu train psdigits --spiking --memory spiking``):
    ``recipe.spiking`` holds the hidden units' and the memory's conversion settings,
    chosen on a validation split of the training sequences
    (``benchmarks/psdigits_spiking.py``).

    Returns
    -------
    Recipe
        ``network`` (the `.SequenceClassifier` arguments), ``dt`` (1: theta is in
        steps), ``epochs``, ``minibatch_size``, ``learning_rate``, ``spiking``.
    """
    return Recipe(
        network=dict(
            n_classes=10, units=128, order=32, theta=64.0, input_d=1, seed=seed
        ),
        dt=1.0,
        epochs=30,
        minibatch_size=32,
        learning_rate=0.002,
        spiking=dict(k=4, rate_scale=0.7, delta_error=0.0125),
    )


# --- Mackey-Glass


def mackey_glass_series(n, length, tau=17, substeps=10, seed=0):
    """Integrate the Mackey-Glass delay differential equation.

    ``dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x(t)``, with the classical
    fourth-order Runge-Kutta method at step ``h = 1 / substeps`` (the delayed value
    at a half step is the mean of its neighbours on the grid), from a random initial
    history: with ``rng = numpy.random.RandomState(seed)``, ``x`` on the grid of
    ``[-tau, 0]`` is ``1.2 + 0.2 (rng.rand() - 0.5)`` independently at each point (the
    initial condition of the LMU paper's generator).

    Parameters
    ----------
    n : int
        Number of independent series.
    length : int
        Samples per series, at ``t = 1, 2, ..., length``.
    tau : float
        The delay; ``tau * substeps`` must be a whole number.
    substeps : int
        Integration steps per unit of time.
    seed : int
        Seed of the initial histories.

    Returns
    -------
    (n, length) ndarray
        float64 samples of ``x``.
    """
    _check_int(seed, "mackey_glass_series.seed", 0)
    _check_int(n, "mackey_glass_series.n", 1)
    _check_int(length, "mackey_glass_series.length", 1)
    _check_int(substeps, "mackey_glass_series.substeps", 1)
    _check_positive(tau, "mackey_glass_series.tau")
    delay = int(round(tau * substeps))
    _check(
        np.isclose(delay, tau * substeps, rtol=1e-9, atol=0),
        "mackey_glass_series.tau",
        f"Must be a multiple of 1 / substeps = {1 / substeps:g} (got tau={tau})",
    )
    h = 1.0 / substeps
    rng = np.random.RandomState(seed)
    x = np.empty((delay + 1 + length * substeps, n))
    x[: delay + 1] = 1.2 + 0.2 * (rng.rand(delay + 1, n) - 0.5)

    def f(x_now, x_delayed):
        return 0.2 * x_delayed / (1 + x_delayed**10) - 0.1 * x_now

    for k in range(delay, len(x) - 1):  # x[k] is x at time (k - delay) h
        past, next_past = x[k - delay], x[k - delay + 1]
        mid_past = 0.5 * (past + next_past)
        k1 = f(x[k], past)
        k2 = f(x[k] + 0.5 * h * k1, mid_past)
        k3 = f(x[k] + 0.5 * h * k2, mid_past)
        k4 = f(x[k] + h * k3, next_past)
        x[k + 1] = x[k] + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x[delay + substeps :: substeps].T.copy()


class MackeyGlass(NamedTuple):
    """The Mackey-Glass prediction task, as returned by `mackey_glass`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    horizon: int
    offset: float


def mackey_glass(
    seed=0,
    n_series=128,
    steps=5000,
    horizon=15,
    tau=17,
    washout=100,
    substeps=10,
    test_fraction=0.5,
):
    """Predict the Mackey-Glass series ``horizon`` steps ahead (the LMU paper's task).

    The defaults are the paper's (Voelker, Kajić & Eliasmith, 2019; its notebook
    ``experiments/mackey-glass.ipynb``): 128 series of ``tau = 17``, each sampled once
    per unit of time, passed through ``tanh(x - 1)``, the first ``washout = 100``
    samples dropped, then ``steps = 5000`` input samples; half the series for
    training, half for testing; the target is the value 15 steps ahead.

    The target is the FUTURE value: ``y[:, t] = x[:, t + horizon]`` (in the same
    series, beyond the inputs' last step for the last ``horizon`` targets). The
    notebook behind the paper's published results swapped input and target (its
    ``Y`` was ``X`` 15 steps earlier, so the networks reproduced a past value;
    reported in keras-lmu issue 14, after which the notebook was corrected); this is
    the task as the paper describes it. The series are integrated with
    `mackey_glass_series` (Runge-Kutta instead of the notebook's Euler steps), and
    centered by subtracting the mean of the training series (the notebook subtracted
    the mean of all series).

    Parameters
    ----------
    seed : int
        Seed of the initial histories (see `mackey_glass_series`).
    n_series, steps, horizon, tau, washout, substeps : int
        Number of series, input steps per series, prediction horizon (steps), the
        equation's delay, samples dropped at the start, integration steps per sample.
    test_fraction : float
        Fraction of the series held out for testing (the last ones).

    Returns
    -------
    MackeyGlass
        ``x_train, y_train, x_test, y_test``: float32 of shape ``(n, steps, 1)``;
        ``horizon``; ``offset``, the value subtracted from the squashed series.
    """
    for name, value, low in (
        ("n_series", n_series, 2),
        ("steps", steps, 1),
        ("horizon", horizon, 1),
        ("washout", washout, 0),
    ):
        _check_int(value, f"mackey_glass.{name}", low)
    _check_int(seed, "mackey_glass.seed", 0)
    _check_fraction(test_fraction, "mackey_glass.test_fraction")
    n_test = int(round(test_fraction * n_series))
    _check(
        0 < n_test < n_series,
        "mackey_glass.test_fraction",
        f"Must leave at least one series for training and for testing (got "
        f"{test_fraction} of {n_series} series)",
    )
    series = mackey_glass_series(
        n_series, washout + steps + horizon, tau=tau, substeps=substeps, seed=seed
    )
    series = np.tanh(series[:, washout:] - 1)
    n_train = n_series - n_test
    offset = float(np.mean(series[:n_train]))
    series = (series - offset).astype(np.float32)[:, :, None]
    x, y = series[:, :steps], series[:, horizon:]
    return MackeyGlass(
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_test=x[n_train:],
        y_test=y[n_train:],
        horizon=horizon,
        offset=offset,
    )


# --- memory capacity

CAPACITY_DELAYS = (10**2, 10**3, 10**4, 10**5)
"""The delays (steps) of the LMU paper's capacity experiment."""


def capacity_mse(delay, order=100, theta=None, high=10.0, rms=0.3, seed=0):
    """MSE of the untrained LMU-0 recalling its input ``delay`` steps back.

    The LMU paper's capacity experiment: the memory alone (no hidden layer, nothing
    trained), an order-``order`` Legendre memory with window ``theta`` steps, read out
    with ``legendre_readout(order, 1)`` (the value ``theta`` ago), in float64. Its
    input is band-limited white noise whose bandwidth scales with the delay: ``high``
    cycles per ``delay`` steps (so the longer the delay, the more steps per cycle).
    The output is compared with the input ``delay`` steps earlier, over the
    ``max(2 delay, 2000)`` steps after the first ``2 delay`` (when the window has
    left the start of the input).

    With the default ``theta = delay - 0.5`` (the paper's), the readout is the input
    about ``delay - 1`` steps back in nengo_lmu's convention (the memory at step
    ``t`` holds ``u[t]`` over the step before ``t``; ``theta = delay + 0.5`` decodes
    ``u[t - delay]`` itself), and the MSE falls as ``delay^-2``: about 1e-2 at 100
    steps to 1e-8 at 100,000, as in the paper's figure. (The input's bandwidth is
    this function's choice, not taken from the paper.)

    Parameters
    ----------
    delay : int
        Steps back to recall (the paper: 100 to 100,000).
    order : int
        Order of the Legendre memory.
    theta : float, optional
        Window in steps; default ``delay - 0.5``.
    high, rms : float
        Cutoff (cycles per ``delay`` steps) and RMS of the input.
    seed : int
        Seed of the input.

    Returns
    -------
    float
        The mean squared error.
    """
    _check_int(seed, "capacity_mse.seed", 0)
    _check_int(delay, "capacity_mse.delay", 1)
    _check_int(order, "capacity_mse.order", 1)
    theta = delay - 0.5 if theta is None else theta
    _check_positive(theta, "capacity_mse.theta")
    _check_positive(high, "capacity_mse.high")
    start = 2 * delay
    steps = start + max(2 * delay, 2000)
    u = white_noise(1, steps, dt=1.0, high=high / delay, rms=rms, seed=seed)[0, :, 0]
    memory = LegendreDelay(theta, order)
    readout = LinearSystem(memory.A, memory.B, legendre_readout(order, 1.0), 0)
    y = readout.filt(u, dt=1.0, y0=0)
    return float(np.mean((y[start:] - u[start - delay : steps - delay]) ** 2))
