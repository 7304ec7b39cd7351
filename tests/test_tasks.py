"""Tasks: data against independent references, targets, the capacity curve, and the
psDigits recipe's accuracy."""

import collections

import nengo
import numpy as np
import pytest
import scipy.signal
from nengo.exceptions import ValidationError

from nengo_lmu import tasks
from reference import legendre_zoh


def test_psdigits_against_sklearn():
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    data = tasks.psdigits(seed=3, test_fraction=0.25)
    assert data.x_train.shape == (1348, 64, 1) and data.x_test.shape == (449, 64, 1)
    assert data.y_train.shape == (1348, 1, 1) and data.y_test.shape == (449, 1, 1)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert sorted(data.perm) == list(range(64)) and np.any(data.perm != np.arange(64))
    # every sequence is an image, permuted and scaled; each image is used once
    x = np.concatenate([data.x_train, data.x_test])[:, :, 0]
    y = np.concatenate([data.y_train, data.y_test])[:, 0, 0]
    unpermuted = np.empty_like(x)
    unpermuted[:, data.perm] = x
    index = {row.tobytes(): i for i, row in enumerate(images.astype(np.float32) / 16)}
    found = [index[row.tobytes()] for row in unpermuted]
    assert sorted(found) == list(range(len(images)))
    assert np.array_equal(y, labels[found])
    assert x.min() == 0 and x.max() == 1


def test_psdigits_seeds():
    a, b, c = tasks.psdigits(seed=0), tasks.psdigits(seed=0), tasks.psdigits(seed=1)
    for field in a._fields:
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.perm, c.perm)
    assert not np.array_equal(a.y_test, c.y_test)


def reference_mackey_glass(history, t_end, tau=17, h=0.01):
    """Forward Euler at a fine step ``h``, with the initial history (given on a
    grid over [-tau, 0]) linearly interpolated; samples at t = 1, 2, ..., t_end."""
    grid = np.linspace(-tau, 0, len(history))
    delay = int(round(tau / h))
    fine = np.interp(np.linspace(-tau, 0, delay + 1), grid, history)
    x = collections.deque(fine, maxlen=delay + 1)
    samples = []
    per_unit = int(round(1 / h))
    for k in range(t_end * per_unit):
        x_now, x_delayed = x[-1], x[0]
        x.append(x_now + h * (0.2 * x_delayed / (1 + x_delayed**10) - 0.1 * x_now))
        if (k + 1) % per_unit == 0:
            samples.append(x[-1])
    return np.array(samples)


def test_mackey_glass_series_against_euler():
    """The Runge-Kutta integration agrees with a 10x finer Euler integration from
    the same initial history until chaos separates them."""
    series = tasks.mackey_glass_series(2, 60, seed=4)
    rng = np.random.RandomState(4)
    histories = 1.2 + 0.2 * (rng.rand(171, 2) - 0.5)  # as the docstring states
    for i in range(2):
        ref = reference_mackey_glass(histories[:, i], 60)
        assert np.abs(series[i] - ref).max() < 2e-3, np.abs(series[i] - ref).max()
    assert 0.3 < np.ptp(series) < 1.5  # it moves, within its attractor's range


def test_mackey_glass_target_is_future_value():
    data = tasks.mackey_glass(seed=1, n_series=8, steps=300, washout=50)
    h = data.horizon
    assert h == 15
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        assert x.shape == y.shape == (4, 300, 1) and x.dtype == np.float32
        # the target at t is the input at t + 15: the future, not the past
        assert np.array_equal(y[:, :-h], x[:, h:])
        assert not np.allclose(y, x, atol=0.05)
    series = tasks.mackey_glass_series(8, 50 + 300 + h, seed=1)
    expected = np.tanh(series[:, 50:] - 1) - data.offset
    assert np.allclose(data.x_train[:, :, 0], expected[:4, :300], atol=1e-6)
    assert np.allclose(data.y_test[:, :, 0], expected[4:, h:], atol=1e-6)
    assert abs(np.mean(data.x_train)) < 0.01  # centered on the training series


def test_mackey_glass_seeds():
    kwargs = dict(n_series=4, steps=100, washout=20)
    a, b = tasks.mackey_glass(seed=0, **kwargs), tasks.mackey_glass(seed=0, **kwargs)
    c = tasks.mackey_glass(seed=1, **kwargs)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.allclose(a.x_train, c.x_train)


def test_delay_task():
    data = tasks.delay_task(n=3, t=2.0, theta=0.5, dt=0.01, high=2.0, seed=5)
    assert data.x.shape == data.y.shape == (3, 200, 1) and data.x.dtype == np.float32
    assert data.delay_steps == 50 and data.dt == 0.01
    for i in range(3):
        process = nengo.processes.WhiteSignal(2.0, high=2.0, rms=0.3, seed=5 + i)
        with nengo.Network() as net:
            probe = nengo.Probe(nengo.Node(process))
        with nengo.Simulator(net, dt=0.01, progress_bar=False) as sim:
            sim.run(2.0)
        assert np.allclose(data.x[i], sim.data[probe], atol=1e-6)
    assert np.array_equal(data.y[:, 50:], data.x[:, :-50])  # the delayed copy
    assert np.all(data.y[:, :50] == 0)  # the delay line starts at rest
    assert not np.allclose(data.x[0], data.x[1])


def test_run_delay_uses_the_delay_task_input():
    result = tasks.run_delay(order=6, theta=0.5, t=2.0, dt=0.01, high=1.0, seed=2)
    data = tasks.delay_task(n=1, t=2.0, theta=0.5, dt=0.01, high=1.0, seed=2)
    assert np.allclose(result["input"], data.x[0, :, 0], atol=1e-6)
    assert np.allclose(result["ideal"][50:], data.y[0, 50:, 0], atol=1e-6)
    assert np.all(np.isnan(result["ideal"][:50]))
    assert result["nrmse"] < 0.05


def reference_capacity(delay, order, theta, high=10.0, rms=0.3, seed=0):
    """The capacity experiment with scipy's ZOH matrices and `scipy.signal.dlsim`."""
    start = 2 * delay
    steps = start + max(2 * delay, 2000)
    u = nengo.processes.WhiteSignal(steps, high=high / delay, rms=rms, seed=seed)
    u = u.run_steps(steps, dt=1.0)[:, 0]
    Ad, Bd = legendre_zoh(theta, order)
    # y[t] = C x[t] with x[t] = Ad x[t-1] + Bd u[t]: dlsim's y[t] = C x'[t] + D u[t]
    # with x'[t] = x[t-1], so C Ad and D = C Bd; C = P_i(1) = 1 reads u(t - theta)
    C = np.ones((1, order))
    _, y, _ = scipy.signal.dlsim((Ad, Bd[:, None], C @ Ad, C @ Bd[:, None], 1.0), u)
    return np.mean((y[start:, 0] - u[start - delay : steps - delay]) ** 2)


@pytest.mark.parametrize("delay, theta", [(100, None), (1000, None), (300, 300.5)])
def test_capacity_against_scipy(delay, theta):
    mse = tasks.capacity_mse(delay, theta=theta)
    ref = reference_capacity(delay, 100, delay - 0.5 if theta is None else theta)
    assert np.isclose(mse, ref, rtol=1e-6, atol=0), (mse, ref)


def test_capacity_curve():
    """The paper's LMU-0 (order 100, theta = T - 0.5): MSE about 1e-2 at T = 100,
    falling about 100-fold per decade of T (checked up to 10^4 here; the benchmark
    runs 10^5)."""
    mse = [tasks.capacity_mse(delay) for delay in tasks.CAPACITY_DELAYS[:3]]
    assert 3e-3 < mse[0] < 3e-2, mse
    assert all(30 < a / b < 300 for a, b in zip(mse, mse[1:])), mse


def test_capacity_improves_with_order():
    """Aligned on the sample (theta = T + 0.5), the error is the memory's own: it falls
    with the order until the order holds the input's 10 cycles per window (about 40),
    and stays small at the paper's order 100."""
    mse = [tasks.capacity_mse(1000, order=d, theta=1000.5) for d in (20, 30, 40, 100)]
    assert mse[0] > 3 * mse[1] > 9 * mse[2], mse
    assert mse[2] < 1e-6 and mse[3] < 1e-6, mse


@pytest.mark.parametrize(
    "call, attr",
    [
        (lambda: tasks.psdigits(test_fraction=1.5), "test_fraction"),
        (lambda: tasks.mackey_glass(steps=0), "steps"),
        (lambda: tasks.mackey_glass(n_series=3, test_fraction=0.1), "test_fraction"),
        (lambda: tasks.mackey_glass_series(1, 10, tau=17.05), "tau"),
        (lambda: tasks.delay_task(theta=0.0105, dt=0.001), "theta"),
        (lambda: tasks.delay_task(theta=5.0, t=4.0), "theta"),
        (lambda: tasks.white_noise(0, 1.0), "n"),
        (lambda: tasks.capacity_mse(100.5), "delay"),
        (lambda: tasks.capacity_mse(100, theta=-1), "theta"),
        (lambda: tasks.psdigits(seed=None), "psdigits.seed"),
        (lambda: tasks.mackey_glass(seed=1.5), "mackey_glass.seed"),
    ],
)
def test_bad_arguments(call, attr):
    with pytest.raises(ValidationError, match=attr) as error:
        call()
    assert "Must" in str(error.value)  # says what is allowed


def test_psdigits_recipe_accuracy():
    """The recipe trains an LMU to >= 0.90 test accuracy (about 40 s on 2 cores)."""
    import nengo_dl
    import tensorflow as tf

    from nengo_lmu.lmu import SequenceClassifier

    data = tasks.psdigits(seed=0)
    recipe = tasks.psdigits_recipe(seed=0)
    net = SequenceClassifier(**recipe.network)
    batch = recipe.minibatch_size
    n = len(data.x_train) // batch * batch
    x_test = np.concatenate(  # padded to whole minibatches
        [data.x_test, np.zeros((-len(data.x_test) % batch, 64, 1), np.float32)]
    )
    with nengo_dl.Simulator(
        net, dt=recipe.dt, minibatch_size=batch, progress_bar=False
    ) as sim:
        sim.compile(
            optimizer=tf.optimizers.Adam(recipe.learning_rate),
            loss={net.probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)},
        )
        sim.fit(
            {net.input: data.x_train[:n]},
            {net.probe: data.y_train[:n]},
            epochs=recipe.epochs,
            verbose=0,
        )
        scores = sim.predict({net.input: x_test}, verbose=0)[net.probe][:, -1]
    predicted = np.argmax(scores[: len(data.x_test)], axis=1)
    accuracy = np.mean(predicted == data.y_test[:, 0, 0])
    assert accuracy >= 0.90, accuracy


def test_recipe_fit_settings_are_fit_arguments():
    """``recipe.fit_settings`` are arguments `.train.fit` takes, the recipe's own."""
    import inspect

    from nengo_lmu.train import fit

    recipe = tasks.psdigits_recipe()
    settings = recipe.fit_settings
    inspect.signature(fit).bind(None, None, None, **settings)
    assert settings == dict(
        epochs=recipe.epochs,
        learning_rate=recipe.learning_rate,
        minibatch_size=recipe.minibatch_size,
    )
