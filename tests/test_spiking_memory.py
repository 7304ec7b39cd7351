"""The spiking memory (`SpikingMemory`, ``to_spiking(memory="spiking")``) against a
float64 numpy model of its units (tests/reference.py), the reference simulator against
NengoDL, and clear errors for settings that cannot work."""

import warnings

import nengo
import nengo_dl
import numpy as np
import pytest
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu import LegendreDelay, LinearSystem
from nengo_lmu.builders import SimLMU
from nengo_lmu.compat import planned_operator_types
from nengo_lmu.convert import network_kwargs
from nengo_lmu.hybrid import MEMORY_NETWORK, finetune, memory_basis, to_spiking
from nengo_lmu.lmu import LMU, SequenceClassifier
from nengo_lmu.spiking_memory import (
    SpikingMemory,
    balanced_basis,
    budget_delta,
    rounding_error,
)
from nengo_lmu.train import fit, predict
from reference import legendre_zoh, random_weights, spiking_memory_cell

UNITS, ORDER, THETA, STEPS = 6, 5, 10.0, 40


def classifier(memory_d=1, memory_system=None, seed=0, **kwargs):
    """A classifier with fixed random weights (all of them present)."""
    rng = np.random.RandomState(seed)
    weights = random_weights(rng, UNITS, ORDER, 1, memory_d, scale=0.5)
    return SequenceClassifier(
        n_classes=3,
        readout_kernel=rng.uniform(-1, 1, size=(3, UNITS)),
        units=UNITS,
        order=ORDER,
        theta=THETA,
        input_d=1,
        memory_d=memory_d,
        memory_system=memory_system,
        seed=seed,
        **dict(weights, **kwargs),
    ), weights


def sequences(n=3, seed=1):
    return np.random.RandomState(seed).uniform(0, 1, size=(n, STEPS, 1))


def run(net, x, backend, probes, fused=True):
    """The data of ``probes`` over the sequence ``x`` (steps, 1), float64 (in NengoDL
    with the LMU fused, checked, or not)."""
    if backend == "nengo":
        net.input.output.data = x
        with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
            sim.run_steps(len(x))
        return [sim.data[p] for p in probes]
    with net:
        nengo_dl.configure_settings(dtype="float64", keep_history=True)
    net.lmu.fused = fused
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=1, progress_bar=False) as sim:
        assert (SimLMU in planned_operator_types(sim)) == fused
        out = sim.predict_on_batch({net.input: x[None]})
    return [out[p][0] for p in probes]


def perturbed_system(memory_d, seed=2):
    """A discrete system that is not the Legendre one (as after training A and B)."""
    A, B = legendre_zoh(THETA, ORDER)
    rng = np.random.RandomState(seed)
    A = A + rng.uniform(-0.02, 0.02, size=A.shape)
    return LinearSystem(A, B[:, None], np.ones((1, ORDER)), 0, analog=False, dt=1.0)


@pytest.mark.parametrize(
    "memory_d, trained", [(1, False), (2, False), (2, True)], ids=["d1", "d2", "d2-AB"]
)
def test_matches_numpy_model(memory_d, trained):
    """Both simulators equal the float64 numpy model of the spiking memory cell,
    with every weight present (hidden_encoders, memory_encoders, memory_d = 2, a
    trained discrete A/B), rate hidden units."""
    system = perturbed_system(memory_d) if trained else None
    net, w = classifier(memory_d, memory_system=system)
    delta = 0.02
    spiking = to_spiking(net, hidden="rate", memory="spiking", delta=delta, dt=1.0)
    with spiking:
        h_probe = nengo.Probe(spiking.lmu.output)
    A, B = (system.A, system.B[:, 0]) if trained else legendre_zoh(THETA, ORDER)
    A, B = np.kron(np.eye(memory_d), A), np.kron(np.eye(memory_d), B[:, None])
    x = sequences(1)[0]
    h, _, counts = spiking_memory_cell(x, w, A, B, delta)
    assert np.abs(counts).sum() > 0.5 * counts.size  # the units do fire
    probes = [h_probe, spiking.memory_probe]
    ref_h, ref_spikes = run(spiking, x, "nengo", probes)
    np.testing.assert_allclose(ref_h, h, atol=1e-10)
    np.testing.assert_array_equal(np.rint(ref_spikes / delta), counts)
    for fused in (True, False):
        dl_h, dl_spikes = run(spiking, x, "nengo_dl", probes, fused=fused)
        np.testing.assert_array_equal(dl_spikes, ref_spikes)
        np.testing.assert_allclose(dl_h, ref_h, atol=1e-10)


@pytest.mark.parametrize("memory_d", [1, 2])
def test_same_spikes_fully_spiking(memory_d):
    """Spiking hidden units and spiking memory: the reference simulator and NengoDL,
    fused and standard build, give the same spikes of both populations (float64),
    and seeded builds repeat."""
    net, _ = classifier(memory_d)
    spiking = to_spiking(net, memory="spiking", delta=0.03, dt=1.0)
    x = sequences(1)[0]
    probes = [spiking.hidden_probe, spiking.memory_probe]
    ref = run(spiking, x, "nengo", probes)
    twin = to_spiking(net, memory="spiking", delta=0.03, dt=1.0)
    again = run(twin, x, "nengo", [twin.hidden_probe, twin.memory_probe])
    fused = run(spiking, x, "nengo_dl", probes)
    standard = run(spiking, x, "nengo_dl", probes, fused=False)
    for a, b, c, d in zip(ref, again, fused, standard):
        assert np.abs(a).sum() > 0
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(a, d)


def test_budget_delta_against_sums():
    """`budget_delta` against its formula with the Gramians as explicit sums over the
    impulse response (not scipy's Lyapunov solver): increments' variance
    ``sum_t ((A - I) A^t B)^2 + B^2``, weights ``||W_i||^2 + f_i^2 sum_t ||W A^t B||^2``;
    and it is optimal: delta rescaled from it at random, at the same spike cost
    ``sum_i sigma_i / delta_i``, always gives a larger error ``sum_i w_i^2 delta_i^2``."""
    A, B = legendre_zoh(THETA, ORDER)
    rng = np.random.RandomState(4)
    readout, feedback = rng.normal(size=(7, ORDER)), rng.normal(size=(1, ORDER))
    delta = budget_delta(A, B[:, None], readout, feedback, error=0.03)
    impulse = [B]
    for _ in range(3000):  # |eigenvalues| < 0.9 at theta = 10: converged
        impulse.append(A @ impulse[-1])
    impulse = np.array(impulse[:-1])
    sigma2 = np.sum(((A - np.eye(ORDER)) @ impulse.T).T ** 2, axis=0) + B**2
    weight2 = np.sum(readout**2, axis=0) + feedback[0] ** 2 * np.sum(
        (impulse @ readout.T) ** 2
    )
    expected = (np.sqrt(sigma2) / weight2) ** (1 / 3)
    expected *= 0.03 / np.sqrt(np.sum(weight2 * expected**2) / 12 / len(readout))
    np.testing.assert_allclose(delta, expected, rtol=1e-8)
    sigma = np.sqrt(sigma2)
    for _ in range(20):
        other = delta * np.exp(rng.normal(scale=0.3, size=ORDER))
        other *= np.sum(sigma / other) / np.sum(sigma / delta)  # same spikes
        assert np.sum(weight2 * other**2) > np.sum(weight2 * delta**2)


def test_budget_delta_bad_settings():
    """An unstable system, a readout of the wrong shape, nothing reading the memory
    or a bad error raise a ValidationError naming them."""
    A, B = legendre_zoh(THETA, ORDER)
    readout = np.ones((2, ORDER))
    for args, kwargs, attr in [
        ((1.01 * np.eye(ORDER), B, readout), {}, "A"),
        ((A, B, np.ones((2, ORDER + 1))), {}, "readout"),
        ((A, B, np.zeros((2, ORDER))), {}, "readout"),
        ((A, B, readout), dict(error=0.0), "error"),
        ((A, B, readout), dict(error=np.nan), "error"),
    ]:
        with pytest.raises(ValidationError) as error:
            budget_delta(*args, **kwargs)
        assert error.value.attr == attr


def memory_alone(order):
    """The weights of `reference.spiking_memory_cell` for a memory fed its input
    alone."""
    return dict(
        input_encoders=np.ones((1, 1)),
        hidden_encoders=np.zeros((1, 1)),
        memory_encoders=np.zeros((1, order)),
        memory_bias=np.zeros(1),
        input_kernel=np.zeros((1, 1)),
    )


def checked_states(u, A, B, delta):
    """The states of a spiking memory alone fed ``u`` (numpy model), after checking
    them against the Nengo network over the first 300 steps."""
    _, states, _ = spiking_memory_cell(u, memory_alone(A.shape[0]), A, B, delta, f=None)
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput(u[:300], 1.0))
        memory = SpikingMemory(A, B, delta=delta, dt=1.0)
        nengo.Connection(stim, memory.input, synapse=None)
        probe = nengo.Probe(memory.output)
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(300)
    np.testing.assert_allclose(sim.data[probe], states[:300], atol=1e-9)
    return states


def test_per_dimension_delta_tracks():
    """A delta per dimension (`budget_delta`, order 16, theta = 784 steps, 5000
    steps of white noise; numpy model, checked against the Nengo network over 300
    steps). The state's error against the ideal memory, ``e = s - m``, is the
    rounding residue ``r`` of each unit plus the memory's response to the part of it
    that the recurrence passes on, ``(I - A) r`` (module Notes): so ``-r[t] = e[t] +
    (I - A) sum_{tau < t} e[tau]`` must stay within delta_i / 2 in every dimension
    (float64: to 1e-9). And the RMS error per dimension is that of rounding to
    delta_i: between 0.25 and 0.6 delta_i (uniform rounding: 0.29)."""
    order, theta, n = 16, 784.0, 5000
    A, B = legendre_zoh(theta, order)
    B = B[:, None]
    readout = np.random.RandomState(3).normal(size=(8, order))
    delta = budget_delta(A, B, readout, error=0.05)
    assert np.ptp(delta) > 0.2 * np.mean(delta)  # not uniform
    u = nengo.processes.WhiteSignal(n, high=0.05, rms=0.5, seed=1).run_steps(n, dt=1)
    states = checked_states(u, A, B, delta)
    ideal, passed = np.zeros(order), np.zeros(order)
    errors, residues = np.empty((n, order)), np.empty((n, order))
    for t in range(n):
        ideal = A @ ideal + B[:, 0] * u[t, 0]
        errors[t] = states[t] - ideal
        residues[t] = errors[t] + passed
        passed += (np.eye(order) - A) @ errors[t]
    assert np.all(np.abs(residues) <= delta / 2 + 1e-9)
    assert np.all(np.abs(residues).max(axis=0) > 0.45 * delta)  # each one rounds
    rms = np.sqrt(np.mean(errors**2, axis=0)) / delta
    assert np.all((0.25 < rms) & (rms < 0.6)), rms


def test_per_dimension_delta_same_spikes():
    """The default delta (one per dimension): the reference simulator and NengoDL
    give the same spikes of both populations (float64), as the numpy model does
    with rate hidden units."""
    net, w = classifier(memory_d=2)
    spiking = to_spiking(net, memory="spiking", dt=1.0)
    delta = spiking.lmu.spiking_memory.delta
    assert delta.shape == (2 * ORDER,)
    x = sequences(1)[0]
    probes = [spiking.hidden_probe, spiking.memory_probe]
    ref = run(spiking, x, "nengo", probes)
    dl = run(spiking, x, "nengo_dl", probes)
    for a, b in zip(ref, dl):
        assert np.abs(a).sum() > 0
        np.testing.assert_array_equal(a, b)
    rate = to_spiking(net, hidden="rate", memory="spiking", dt=1.0)
    A, B = legendre_zoh(THETA, ORDER)
    A, B = np.kron(np.eye(2), A), np.kron(np.eye(2), B[:, None])
    _, _, counts = spiking_memory_cell(x, w, A, B, delta)
    (spikes,) = run(rate, x, "nengo", [rate.memory_probe])
    np.testing.assert_array_equal(np.rint(spikes / delta), counts)


def white_noise(n):
    """``n`` steps of the tracking tests' input: 0.01 Hz white noise, RMS 0.3."""
    return nengo.processes.WhiteSignal(n, high=0.01, rms=0.3, seed=0).run_steps(n, dt=1)


def tracking_errors(states, A, B, u):
    """The RMS error of ``states`` against the ideal memory ``m = A m + B u`` (float64
    recurrence) over the first 1000 steps and over all."""
    ideal = np.zeros(len(A))
    errors = np.empty(len(u))
    for t, u_t in enumerate(u):
        ideal = A @ ideal + B[:, 0] * u_t[0]
        errors[t] = np.sum((states[t] - ideal) ** 2)
    return np.sqrt(errors[:1000].mean()), np.sqrt(errors.mean())


def test_tracking_does_not_grow():
    """Order 256, theta = 784 steps: the spiking memory's error against the ideal
    memory over 10^5 steps of white noise stays within 25 % of its error over the
    first 10^3 (numpy model, checked against the Nengo network over 300 steps)."""
    n, order, theta = 100_000, 256, 784.0
    A, B = legendre_zoh(theta, order)
    B = B[:, None]
    u = white_noise(n)
    states = checked_states(u, A, B, 0.05)
    early, late = tracking_errors(states, A, B, u)
    assert late < 1.25 * early


def memory_parameters(memory):
    """The parameters of a SpikingMemory's own objects (NengoDL must not train them)."""
    recurrence = memory.recurrent_connection
    return [
        np.array(memory.input_connection.transform.init),
        np.array(
            memory.ensemble.neuron_type.coupling
            if recurrence is None
            else recurrence.transform.init
        ),
        nengo.dists.get_samples(memory.ensemble.bias, memory.n_neurons),
    ]


@pytest.mark.parametrize("ticks", [1, 3])
def test_finetune_gradients_reach_upstream_weights(ticks):
    """Training through the spiking memory in NengoDL (fused, float64) changes the
    weights upstream of it (the encoders into the memory) and the readout, as the
    standard build does (the same losses and weights), and leaves the memory's own
    system and its units' bias alone; with ticks too."""
    net, _ = classifier()
    x = sequences(8)
    y = np.arange(8) % 3
    trained = {}
    for fused in (True, False):
        spiking = to_spiking(net, memory="spiking", delta=0.05, dt=1.0, ticks=ticks)
        with spiking:
            nengo_dl.configure_settings(dtype="float64")
        spiking.lmu.fused = fused
        memory = memory_parameters(spiking.lmu.spiking_memory)
        history = fit(spiking, x, y, epochs=2, learning_rate=1e-2, minibatch_size=4)
        for before, after in zip(memory, memory_parameters(spiking.lmu.spiking_memory)):
            np.testing.assert_array_equal(after, before)
        trained[fused] = history["loss"], {
            name: conn.transform.init
            for name, conn in spiking.lmu.weight_connections.items()
        }
    (loss, weights), (ref_loss, ref_weights) = trained[True], trained[False]
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-9)
    before = network_kwargs(net)
    for name in ("input_encoders", "hidden_encoders", "memory_encoders"):
        np.testing.assert_allclose(weights[name], ref_weights[name], atol=1e-9)
        assert np.abs(weights[name] - before[name]).max() > 1e-4, name


def test_finetune_does_not_warn_about_rates():
    """The spiking memory's units train spike-aware: finetune says nothing about a
    rate approximation (it does for a memory of other spiking neurons)."""
    net, _ = classifier()
    x, y = sequences(4), np.arange(4) % 3
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*rate approximation")
        finetune(
            net, x, y, minibatch_size=4, progress_bar=False, memory="spiking", dt=1.0
        )


def test_any_order():
    """The spiking memory builds at order 1024 (and order 1), where a DelayNetwork's
    Principle-3 mapping at one step per pixel fails."""
    for order in (1, 1024):
        lmu = LMU(
            units=2,
            order=order,
            theta=784.0,
            input_d=1,
            memory_kernel=np.zeros((2, order)),
            spiking_memory=dict(delta=0.05, dt=1.0),
        )
        assert lmu.spiking_memory.n_neurons == order
        with nengo.Simulator(lmu, dt=1.0, progress_bar=False) as sim:
            sim.run_steps(3)


@pytest.mark.parametrize(
    "settings, attr",
    [
        (dict(memory="spiking", delta=0.0), "delta"),
        (dict(memory="spiking", delta=np.nan), "delta"),
        (dict(memory="spiking", delta="big"), "delta"),
        (dict(memory="spiking", delta=np.full(ORDER + 1, 0.1)), "delta"),
        (dict(memory="spiking", delta=np.r_[np.full(ORDER - 1, 0.1), -0.1]), "delta"),
        (dict(memory="spiking", delta=np.r_[np.full(ORDER - 1, 0.1), np.inf]), "delta"),
        (dict(memory="spiking", delta=np.full((1, ORDER), 0.1)), "delta"),
        (dict(memory="spiking", delta_error=0.0), "delta_error"),
        (dict(memory="spiking", delta_error=np.inf), "delta_error"),
        (dict(memory="spiking", dt=2.0), "dt"),  # the memory system is for dt = 1
        (dict(memory="spikes"), "memory"),
        (dict(memory=dict(MEMORY_NETWORK)), "memory_network"),  # LIF at dt = 1
        (dict(memory=dict(n_neurons=50, neuron_type=nengo.LIF())), "memory_network"),
    ],
)
def test_bad_settings(settings, attr):
    """Settings that cannot work raise a ValidationError naming them."""
    net, _ = classifier(memory_system=LegendreDelay(THETA, ORDER).discretize(1.0))
    with pytest.raises(ValidationError) as error:
        to_spiking(net, **settings)
    assert error.value.attr == attr


def test_dt_needed_and_checked():
    """An analog memory without dt asks for dt; a memory built for one dt refuses
    to run at another."""
    net, _ = classifier()
    with pytest.raises(ValidationError, match=r"to_spiking\(\.\.\., dt=") as error:
        to_spiking(net, memory="spiking")
    assert error.value.attr == "dt"
    spiking = to_spiking(net, memory="spiking", dt=1.0)
    with pytest.raises(ValidationError, match="dt=1.0"):
        predict(spiking, sequences(1), backend="nengo", dt=0.5)


def test_spiking_memory_not_trainable():
    with pytest.raises(ValidationError, match="cannot train"):
        LMU(
            units=2,
            order=3,
            theta=5.0,
            input_d=1,
            dt=1.0,
            trainable=["A", "B"],
            spiking_memory=dict(delta=0.1),
        )


def test_delay_network_linalg_error_is_validation_error():
    """The Legendre memory at order 32 as a DelayNetwork at one step per pixel (the
    psDigits recipe's size) fails with a ValidationError, not a LinAlgError."""
    net = SequenceClassifier(
        n_classes=2,
        units=2,
        order=32,
        theta=64.0,
        input_d=1,
        memory_kernel=np.zeros((2, 32)),
        readout_kernel=np.zeros((2, 2)),
    )
    memory = dict(neuron_type=nengo.RectifiedLinear(), calibrate=False)
    try:
        to_spiking(net, memory=memory, dt=1.0)
    except ValidationError as e:
        assert e.attr == "memory_network"


def gramians_by_sums(A, B, readout, feedback, steps=3000):
    """The increments' covariance ``Q`` and the rounding's weight matrix ``W`` of
    `balanced_basis` as explicit sums over the impulse responses (no Lyapunov
    solver; |eigenvalues| < 0.9 at theta = 10, so 3000 steps converge)."""
    n, eye = len(A), np.eye(len(A))
    Q, observed = B @ B.T, np.zeros((n, n))
    state, read = B, readout
    for _ in range(steps):
        increment = (A - eye) @ state
        Q += increment @ increment.T
        observed += read.T @ read
        state, read = A @ state, read @ A
    W = readout.T @ readout + (eye - A).T @ observed @ (eye - A)
    W += (B.T @ observed @ B)[0, 0] * feedback.T @ feedback
    return Q, W


def balance_measure(T, Q, W):
    """``sum_i (q_i w_i)^(1/3)`` in the basis ``T``: spikes at a given rounding
    error scale as its 3/2 power (`balanced_basis`)."""
    inverse = np.linalg.inv(T)
    q, w = np.diag(T @ Q @ T.T), np.diag(inverse.T @ W @ inverse)
    return np.sum((q * w) ** (1 / 3))


def test_balanced_basis_against_sums():
    """`balanced_basis` makes the increments' covariance and the rounding's weight
    matrix (explicit sums) equal and diagonal, with descending entries, the square
    roots of the eigenvalues of ``Q W``; and no other basis (random ones, the
    Legendre one) spends fewer spikes by `balance_measure`."""
    A, B = legendre_zoh(THETA, ORDER)
    B = B[:, None]
    rng = np.random.RandomState(5)
    readout, feedback = rng.normal(size=(7, ORDER)), rng.normal(size=(1, ORDER))
    T = balanced_basis(A, B, readout, feedback)
    Q, W = gramians_by_sums(A, B, readout, feedback)
    inverse = np.linalg.inv(T)
    balanced_Q, balanced_W = T @ Q @ T.T, inverse.T @ W @ inverse
    sigma = np.sqrt(np.sort(np.linalg.eigvals(Q @ W).real)[::-1])
    scale = sigma[0]
    np.testing.assert_allclose(balanced_Q, np.diag(sigma), atol=1e-8 * scale)
    np.testing.assert_allclose(balanced_W, np.diag(sigma), atol=1e-8 * scale)
    best = balance_measure(T, Q, W)
    assert best < 0.99 * balance_measure(np.eye(ORDER), Q, W)
    for _ in range(20):
        other = T @ (np.eye(ORDER) + 0.3 * rng.normal(size=(ORDER, ORDER)))
        assert balance_measure(other, Q, W) > best


@pytest.mark.parametrize(
    "memory_d, trained", [(1, False), (2, False), (2, True)], ids=["d1", "d2", "d2-AB"]
)
def test_basis_keeps_the_ideal_network(memory_d, trained):
    """The memory in another state basis (balanced, or a random one) with the ideal
    memory: the same network, scores equal to the original's in the reference
    simulator (float64, to 1e-9)."""
    system = perturbed_system(memory_d) if trained else None
    net, _ = classifier(memory_d, memory_system=system)
    x = sequences(1)[0]
    (expected,) = run(net, x, "nengo", [net.probe])
    n = memory_d * ORDER
    T = np.random.RandomState(6).normal(size=(n, n)) + 3 * np.eye(n)
    for basis in ("balanced", T):
        ideal = to_spiking(net, hidden="rate", basis=basis, dt=1.0)
        assert network_kwargs(ideal)["memory_system"].A.shape == (n, n)
        (scores,) = run(ideal, x, "nengo", [ideal.probe])
        assert np.abs(expected).max() > 0.1
        np.testing.assert_allclose(scores, expected, atol=1e-9)


def test_basis_same_spikes():
    """The spiking memory in the balanced basis: the float64 numpy model of the
    transformed system and weights (rate hidden units), and the reference simulator
    against NengoDL, fused and standard (spiking hidden units), give the same
    spikes."""
    net, w = classifier(memory_d=2)
    T = memory_basis(net, dt=1.0)
    spiking = to_spiking(net, memory="spiking", basis="balanced", dt=1.0)
    np.testing.assert_array_equal(spiking.memory_basis, T)
    x = sequences(1)[0]
    probes = [spiking.hidden_probe, spiking.memory_probe]
    ref = run(spiking, x, "nengo", probes)
    for fused in (True, False):
        for a, b in zip(ref, run(spiking, x, "nengo_dl", probes, fused=fused)):
            assert np.abs(a).sum() > 0
            np.testing.assert_array_equal(a, b)
    rate = to_spiking(net, hidden="rate", memory="spiking", basis=T, dt=1.0)
    A, B = legendre_zoh(THETA, ORDER)
    A, B = np.kron(np.eye(2), A), np.kron(np.eye(2), B[:, None])
    inverse = np.linalg.inv(T)
    w = dict(
        w,
        memory_kernel=w["memory_kernel"] @ inverse,
        memory_encoders=w["memory_encoders"] @ inverse,
    )
    delta = rate.lmu.spiking_memory.delta
    _, _, counts = spiking_memory_cell(x, w, T @ A @ inverse, T @ B, delta)
    (spikes,) = run(rate, x, "nengo", [rate.memory_probe])
    assert np.abs(counts).sum() > 0.5 * counts.size
    np.testing.assert_array_equal(np.rint(spikes / delta), counts)


def test_balanced_basis_tracks():
    """Order 256, theta = 784 steps, in the balanced basis of a random readout: the
    spiking memory's error against the ideal memory, in the original coordinates,
    over 10^5 steps of white noise stays within 25 % of its error over the first
    10^3 (numpy model, checked against the Nengo network over 300 steps)."""
    n, order, theta = 100_000, 256, 784.0
    A, B = legendre_zoh(theta, order)
    B = B[:, None]
    readout = np.random.RandomState(7).normal(size=(16, order)) / np.sqrt(order)
    T = balanced_basis(A, B, readout)
    inverse = np.linalg.inv(T)
    A2, B2 = T @ A @ inverse, T @ B
    delta = budget_delta(A2, B2, readout @ inverse, error=0.05)
    u = white_noise(n)
    states = checked_states(u, A2, B2, delta) @ inverse.T
    early, late = tracking_errors(states, A, B, u)
    assert 0 < late < 1.25 * early


@pytest.mark.parametrize(
    "settings, attr",
    [
        (dict(basis="legendre"), "basis"),
        (dict(basis=np.eye(ORDER + 1)), "basis"),
        (dict(basis=np.zeros((ORDER, ORDER))), "basis"),
        (dict(basis=np.full((ORDER, ORDER), np.nan)), "basis"),
        (dict(basis="balanced", memory=dict(n_neurons=50)), "basis"),
    ],
)
def test_basis_bad_settings(settings, attr):
    """A basis that is not 'balanced' nor an invertible (n, n) array, or a basis for
    a memory of delay networks, raises a ValidationError naming it; so does the
    balanced basis of a network without dt (attr dt)."""
    net, _ = classifier()
    with pytest.raises(ValidationError) as error:
        to_spiking(net, **dict(dict(memory="spiking", dt=1.0), **settings))
    assert error.value.attr == attr
    with pytest.raises(ValidationError) as error:
        memory_basis(net)
    assert error.value.attr == "dt"


def test_finetune_in_a_basis_returns_the_original_coordinates():
    """Fine-tuning in the balanced basis at learning rate 0 gives back the rate
    network's own weights and memory system (the basis undone; NengoDL trains in
    float32, so to 1e-6)."""
    net, _ = classifier()
    x, y = sequences(4), np.arange(4) % 3
    tuned, _ = finetune(
        net,
        x,
        y,
        learning_rate=0.0,
        minibatch_size=4,
        progress_bar=False,
        memory="spiking",
        basis="balanced",
        dt=1.0,
    )
    before, after = network_kwargs(net), network_kwargs(tuned)
    for name in ("memory_kernel", "memory_encoders", "hidden_kernel"):
        np.testing.assert_allclose(after[name], before[name], rtol=1e-6, atol=1e-7)
    assert after["memory_system"] is before["memory_system"]
    assert getattr(tuned.lmu, "spiking_memory", None) is None


def test_budget_delta_with_the_recurrence_against_sums():
    """``budget_delta(..., recurrence=True)`` is the rule with the weights ``w_i^2`` of
    the diagonal of `balanced_basis`'s weight matrix (explicit sums), and its error
    estimate (`rounding_error`) is larger than without the recurrence."""
    A, B = legendre_zoh(THETA, ORDER)
    B = B[:, None]
    rng = np.random.RandomState(8)
    readout, feedback = rng.normal(size=(7, ORDER)), rng.normal(size=(1, ORDER))
    Q, W = gramians_by_sums(A, B, readout, feedback)
    delta = budget_delta(A, B, readout, feedback, error=0.3, recurrence=True)
    weight2 = np.diag(W)
    expected = (np.sqrt(np.diag(Q)) / weight2) ** (1 / 3)
    expected *= 0.3 / np.sqrt(np.sum(weight2 * expected**2) / 12 / len(readout))
    np.testing.assert_allclose(delta, expected, rtol=1e-8)
    with_recurrence = rounding_error(delta, A, B, readout, feedback, recurrence=True)
    np.testing.assert_allclose(with_recurrence, 0.3, rtol=1e-12)
    assert rounding_error(delta, A, B, readout, feedback) < 0.99 * with_recurrence


def tick_root(A, B, ticks):
    """(A_k, B_k) of one tick of the discrete (A, B), by scipy's logm and expm."""
    n, d = B.shape
    step = np.eye(n + d)
    step[:n, :n], step[:n, n:] = A, B
    root = np.real(scipy.linalg.expm(scipy.linalg.logm(step) / ticks))
    return root[:n, :n], root[:n, n:]


@pytest.mark.parametrize(
    "memory_d, trained", [(1, False), (2, False), (2, True)], ids=["d1", "d2", "d2-AB"]
)
def test_ticks_match_numpy_model(memory_d, trained):
    """With 3 ticks per step, both simulators equal the float64 numpy model with
    the recurrence stepped at every tick: the Legendre memory at dt / 3 (scipy), a
    trained A/B by its matrix root (scipy's logm); the units count their positive
    and negative spikes apart, and NengoDL, fused and standard build, gives the same
    spikes."""
    ticks, delta = 3, 0.02
    system = perturbed_system(memory_d) if trained else None
    net, w = classifier(memory_d, memory_system=system)
    spiking = to_spiking(
        net, hidden="rate", memory="spiking", delta=delta, dt=1.0, ticks=ticks
    )
    with spiking:
        h_probe = nengo.Probe(spiking.lmu.output)
    if trained:
        A, B = tick_root(system.A, system.B, ticks)
    else:
        A, B = legendre_zoh(THETA, ORDER, dt=1.0 / ticks)
        B = B[:, None]
    A, B = np.kron(np.eye(memory_d), A), np.kron(np.eye(memory_d), B)
    x = sequences(1)[0]
    h, _, counts, positive, negative = spiking_memory_cell(
        x, w, A, B, delta, ticks=ticks
    )
    assert (positive + negative).sum() > 0.5 * counts.size and negative.sum() > 0
    probes = [h_probe, spiking.memory_probe, spiking.memory_negative_probe]
    ref = run(spiking, x, "nengo", probes)
    np.testing.assert_allclose(ref[0], h, atol=1e-9)
    np.testing.assert_array_equal(ref[1], positive)
    np.testing.assert_array_equal(ref[2], negative)
    for fused in (True, False):
        dl = run(spiking, x, "nengo_dl", probes, fused=fused)
        np.testing.assert_allclose(dl[0], ref[0], atol=1e-10)
        np.testing.assert_array_equal(dl[1], ref[1])
        np.testing.assert_array_equal(dl[2], ref[2])
    _, stats = predict(spiking, x[None], backend="nengo", spikes=True)
    total = (positive + negative).sum() / counts.size
    np.testing.assert_allclose(stats["memory"].total, total)


def test_ticks_track_closer_for_the_same_spikes():
    """Order 256, theta = 784 steps, white noise: with 4 ticks the memory's error
    against the ideal memory is at most 2/3 of the error with one, for at most 10 %
    more spikes, and over 2 10^4 steps it stays within 25 % of its error over the
    first 10^3 (numpy model)."""
    n, order, theta, delta = 20_000, 256, 784.0, 0.05
    A, B = legendre_zoh(theta, order)
    u = white_noise(n)
    w = memory_alone(order)
    _, one, counts = spiking_memory_cell(u, w, A, B[:, None], delta, f=None)
    A4, B4 = legendre_zoh(theta, order, dt=0.25)
    _, four, _, pos, neg = spiking_memory_cell(u, w, A4, B4[:, None], delta, None, 4)
    early, late = tracking_errors(four, A, B[:, None], u)
    assert late < 1.25 * early
    assert late < 2 / 3 * tracking_errors(one, A, B[:, None], u)[1]
    assert (pos + neg).sum() < 1.1 * np.abs(counts).sum()


def test_balanced_basis_with_ticks():
    """Order 256, theta = 784 steps, a random readout, white noise: in the balanced
    basis (``to_spiking(basis="balanced")``), 4 ticks fire at most as many spikes per
    step as one tick at the same ``delta_error``, and track the ideal memory as
    closely: the basis and ``delta`` are those of the units' sub-step (with those of
    the whole step, the units fired 29 times as many spikes); numpy model."""
    n, order, theta = 3000, 256, 784.0
    rng = np.random.RandomState(7)
    weights = dict(
        memory_alone(order),
        hidden_encoders=np.zeros((1, 16)),
        input_kernel=np.zeros((16, 1)),
        hidden_kernel=np.zeros((16, 16)),
        memory_kernel=rng.normal(size=(16, order)) / 16,
    )
    net = SequenceClassifier(
        n_classes=2,
        readout_kernel=rng.normal(size=(2, 16)),
        units=16,
        order=order,
        theta=theta,
        input_d=1,
        **weights,
    )
    u = white_noise(n)
    A1, B1 = legendre_zoh(theta, order)
    errors, spikes = [], []
    for ticks in (1, 4):
        spiking = to_spiking(
            net,
            hidden="rate",
            memory="spiking",
            basis="balanced",
            dt=1.0,
            delta_error=0.05,
            ticks=ticks,
        )
        T = spiking.memory_basis
        np.testing.assert_array_equal(T, memory_basis(net, dt=1.0, ticks=ticks))
        inverse = np.linalg.inv(T)
        A, B = legendre_zoh(theta, order, dt=1.0 / ticks)
        delta = spiking.lmu.spiking_memory.delta
        out = spiking_memory_cell(
            u, weights, T @ A @ inverse, T @ B[:, None], delta, None, ticks
        )
        counts = np.abs(out[2]) if ticks == 1 else out[3] + out[4]
        spikes.append(counts.sum() / counts.size)
        errors.append(tracking_errors(out[1] @ inverse.T, A1, B1[:, None], u)[1])
    assert 0.5 < spikes[0] < 2
    assert spikes[1] <= spikes[0]
    assert 0 < errors[1] <= errors[0]


@pytest.mark.parametrize(
    "settings, attr",
    [
        (dict(memory="ideal", ticks=2), "ticks"),
        (dict(memory="spiking", ticks=0), "ticks"),
        (dict(memory="spiking", ticks=2.5), "ticks"),
    ],
)
def test_ticks_bad_settings(settings, attr):
    """Bad sub-step settings raise a ValidationError naming them."""
    net, _ = classifier()
    with pytest.raises(ValidationError) as error:
        to_spiking(net, dt=1.0, **settings)
    assert error.value.attr == attr


def test_ticks_need_a_real_root():
    """A step with no real root (an eigenvalue of A on the negative real axis) or a
    tick system that does not make the step raise a ValidationError."""
    with pytest.raises(ValidationError) as error:
        SpikingMemory([[-0.5]], [[1.0]], delta=0.1, dt=1.0, ticks=2)
    assert error.value.attr == "ticks"
    with pytest.raises(ValidationError) as error:
        SpikingMemory(
            [[0.25]], [[1.0]], delta=0.1, dt=1.0, ticks=2, tick_system=([[0.5]], [[1]])
        )
    assert error.value.attr == "tick_system"
    memory = SpikingMemory(
        [[0.25]], [[1.5]], delta=0.1, dt=1.0, ticks=2, tick_system=([[0.5]], [[1.0]])
    )
    assert memory.recurrent_connection is None
