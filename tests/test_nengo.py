"""Nengo and NengoDL integration of `LinearSystem` synapses and `LegendreMemory` nodes.

References: an offline float64 recurrence with matrices from
`scipy.signal.cont2discrete` (for the Legendre systems), `nengo.LinearFilter` on the
reference simulator (for Nengo's step semantics), and the reference simulator itself
(for NengoDL).
"""

import nengo
import numpy as np
import pytest
import scipy.signal
from nengo.exceptions import SimulationError, ValidationError

from nengo_lmu import LegendreDelay, LegendreMemory, LinearSystem
from nengo_lmu.builders import SimLinearSystem
from nengo_lmu.compat import operator_builders

DT = 0.001


# --- helpers -------------------------------------------------------------------------


def white(n_steps, d, seed, high=20.0, rms=0.5):
    """(n_steps, d) band-limited white noise sampled at DT."""
    process = nengo.processes.WhiteSignal(n_steps * DT, high=high, rms=rms, seed=seed)
    return process.run_steps(n_steps, d=d, dt=DT)


def legendre_zoh(theta, order, dt=DT):
    """(Ad, Bd, C) of the Legendre delay: closed form, discretized by scipy."""
    i = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    A = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * (2 * i + 1) / theta
    B = ((-1.0) ** i * (2 * i + 1) / theta).reshape(order, 1)
    C = np.ones((1, order))
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete(
        (A, B, C, np.zeros((1, 1))), dt, method="zoh"
    )
    return Ad, Bd, C


def recurrence(Ad, Bd, u):
    """States x[t] = Ad x[t-1] + Bd u[t] of each input dimension, float64.

    u : (n_steps, d) -> (n_steps, d, order)
    """
    u = np.asarray(u, dtype=np.float64)
    x = np.zeros((u.shape[1], Ad.shape[0]))
    states = np.empty((u.shape[0],) + x.shape)
    for t, ut in enumerate(u):
        x = x @ Ad.T + ut[:, None] * Bd[:, 0]
        states[t] = x
    return states


def max_rel_err(actual, reference):
    """max |actual - reference| relative to max |reference| (states cross zero, so a
    per-element relative error would be meaningless)."""
    return np.max(np.abs(actual - reference)) / np.max(np.abs(reference))


def run(net, n_steps):
    with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run_steps(n_steps)
    return sim


# --- 1. synapses on the reference simulator ------------------------------------------


def test_legendre_synapse_delays_each_dimension():
    theta, order, n = 0.05, 6, 600
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(
            nengo.processes.WhiteSignal(1.0, high=10, rms=0.5, seed=3), size_out=2
        )
        post = nengo.Node(size_in=2)
        conn = nengo.Connection(stim, post, synapse=LegendreDelay(theta, order))
        p_in, p_conn = nengo.Probe(stim), nengo.Probe(conn, "output")
        p_post = nengo.Probe(post)
    sim = run(net, n)
    u = sim.data[p_in]
    assert np.std(u[:, 0] - u[:, 1]) > 0.1  # the two dimensions really differ

    Ad, Bd, C = legendre_zoh(theta, order)
    y = recurrence(Ad, Bd, u) @ C[0]  # (n, 2)

    # Nengo's semantics: the synapse op reads u[t] and updates its output in the same
    # step, so the connection's output probe holds y[t] = C x[t]; the post-synaptic
    # node reads it one step later (the one-step synapse delay): post[t] = y[t-1].
    # Measured: both exact to ~1e-16 (same float64 arithmetic).
    assert max_rel_err(sim.data[p_conn], y) < 1e-6
    np.testing.assert_array_equal(sim.data[p_post][0], 0)
    assert max_rel_err(sim.data[p_post][1:], y[:-1]) < 1e-6

    # and it is a delay of ~theta (sanity check on the reference, loose: order 6)
    steps = int(round(theta / DT))
    err = y[2 * steps :] - u[steps:-steps]
    assert np.sqrt(np.mean(err**2)) < 0.1 * np.sqrt(np.mean(u**2))


def _lowpass2(tau=0.01):
    return [1.0], [tau**2, 2 * tau, 1.0]  # = nengo.Lowpass(tau) twice


LINEAR_FILTER_CASES = {
    "lowpass": ([1.0], [0.02, 1.0]),
    "lowpass2": _lowpass2(),
    "with_D": ([1.0, 30.0, 500.0], [1.0, 20.0, 2000.0]),  # biquad, D = 1
    "with_D_order3": ([2.0, 0.0, 0.0, 1000.0], [1.0, 50.0, 900.0, 8000.0]),
}


@pytest.mark.parametrize("case", LINEAR_FILTER_CASES)
def test_linear_system_matches_linear_filter(case):
    num, den = LINEAR_FILTER_CASES[case]
    A, B, C, D = scipy.signal.tf2ss(num, den)
    assert (D != 0).any() == case.startswith("with_D")
    n = 500
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(
            nengo.processes.WhiteSignal(1.0, high=30, rms=0.5, seed=4), size_out=2
        )
        probes = []
        for synapse in (nengo.LinearFilter(num, den), LinearSystem(A, B, C, D)):
            post = nengo.Node(size_in=2)
            conn = nengo.Connection(stim, post, synapse=synapse)
            probes.append((nengo.Probe(conn, "output"), nengo.Probe(post)))
    sim = run(net, n)
    (ref_conn, ref_post), (conn, post) = [(sim.data[a], sim.data[b]) for a, b in probes]
    assert np.max(np.abs(ref_conn)) > 0.05
    # Measured ~1e-15 (both are zoh of the same realization, stepped the same way).
    assert max_rel_err(conn, ref_conn) < 1e-9
    assert max_rel_err(post, ref_post) < 1e-9


# --- 2. memory nodes on the reference simulator --------------------------------------


def test_legendre_memory_node_matches_recurrence():
    theta, order, d, n = 0.04, 5, 3, 400
    u = white(n, d, seed=5)
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput(u, DT))
        mem = nengo.Node(LegendreMemory(theta, order, size_in=d))
        nengo.Connection(stim, mem, synapse=None)
        p_in, p_mem = nengo.Probe(stim), nengo.Probe(mem)
    sim = run(net, n)
    np.testing.assert_array_equal(sim.data[p_in], u)

    X = recurrence(*legendre_zoh(theta, order)[:2], u)  # (n, d, order)
    out = sim.data[p_mem]
    assert out.shape == (n, d * order)
    # dimension-major layout: [x_dim0 (order values), x_dim1, ...]; the node's
    # output at step t is the state after reading u[t] (no delay, mode "set").
    # Measured: ~1e-16.
    for k in range(d):
        assert max_rel_err(out[:, k * order : (k + 1) * order], X[:, k]) < 1e-6
    assert max_rel_err(out, X.reshape(n, d * order)) < 1e-6


# --- 3.-5. NengoDL -------------------------------------------------------------------


def _nengo_dl():
    return pytest.importorskip("nengo_dl")


def _native_builder_groups(sim):
    """The op groups of SimLinearSystem ops in a NengoDL sim, checking that every
    group is built by the native SimLinearSystemBuilder (not GenericProcessBuilder)."""
    from nengo_lmu.dl_builders import SimLinearSystemBuilder

    groups = [
        (ops, builder)
        for ops, builder in operator_builders(sim).items()
        if any(isinstance(op, SimLinearSystem) for op in ops)
    ]
    assert groups
    for _, builder in groups:
        assert isinstance(builder, SimLinearSystemBuilder), type(builder)
    return [ops for ops, _ in groups]


def _memory_and_synapse_net(u, theta, order):
    """Input node -> LegendreMemory node, LegendreDelay synapse, a D != 0 synapse."""
    d = u.shape[1]
    A, B, C, D = scipy.signal.tf2ss(*LINEAR_FILTER_CASES["with_D"])
    with nengo.Network(seed=0) as net:
        inp = nengo.Node(nengo.processes.PresentInput(u, DT))
        mem = nengo.Node(LegendreMemory(theta, order, size_in=d))
        nengo.Connection(inp, mem, synapse=None)
        probes = [nengo.Probe(mem)]
        for synapse in (LegendreDelay(theta, order), LinearSystem(A, B, C, D)):
            conn = nengo.Connection(inp, nengo.Node(size_in=d), synapse=synapse)
            probes.append(nengo.Probe(conn, "output"))
    return net, inp, probes


@pytest.mark.parametrize("order, theta", [(1, 0.05), (6, 0.05), (256, 0.2)])
def test_nengo_dl_matches_reference(order, theta):
    nengo_dl = _nengo_dl()
    n, mb, d = 300, 3, 2
    U = np.stack([white(n, d, seed=10 + b) for b in range(mb)])

    refs = []  # reference simulator, one run per minibatch item
    for b in range(mb):
        net, _, probes = _memory_and_synapse_net(U[b], theta, order)
        sim = run(net, n)
        refs.append([sim.data[p] for p in probes])
    refs = [np.stack(r) for r in zip(*refs)]  # per probe: (mb, n, ...)
    for ref in refs:  # the items differ, so a per-item mix-up would be caught
        assert np.max(np.abs(ref[1] - ref[0])) > 0.1 * np.max(np.abs(ref))

    net, inp, probes = _memory_and_synapse_net(U[0], theta, order)
    with nengo_dl.Simulator(net, dt=DT, minibatch_size=mb, progress_bar=False) as sim:
        _native_builder_groups(sim)
        out = sim.predict({inp: U}, n_steps=n)
    # float32 vs float64. Measured: order 1, 6: <= 6e-7; order 256: <= 6e-6.
    for probe, ref in zip(probes, refs):
        assert out[probe].shape == ref.shape
        assert max_rel_err(out[probe], ref) < 1e-4, probe


def test_nengo_dl_gradient_through_memory():
    nengo_dl = _nengo_dl()
    import tensorflow as tf

    n, mb, d_in, d_mem, order, theta = 100, 2, 2, 2, 6, 0.03
    rng = np.random.RandomState(1)
    U = rng.normal(size=(mb, n, d_in))
    W = rng.normal(size=(d_mem, d_in))
    target = rng.normal(size=(mb, n, d_mem * order))

    with nengo.Network(seed=0) as net:
        # float64 and stateless, so that repeated calls see the same function and
        # finite differences are accurate (NengoDL 3.6: both are configure_settings)
        nengo_dl.configure_settings(dtype="float64", stateful=False)
        inp = nengo.Node(np.zeros(d_in))
        mem = nengo.Node(LegendreMemory(theta, order, size_in=d_mem))
        nengo.Connection(inp, mem, transform=W, synapse=None)
        nengo.Probe(mem)  # the keras model's output

    with nengo_dl.Simulator(net, dt=DT, minibatch_size=mb, progress_bar=False) as sim:
        _native_builder_groups(sim)
        weights = sim.keras_model.trainable_weights
        assert len(weights) == 1  # the only trainable parameter: W
        var = weights[0]
        np.testing.assert_array_equal(np.reshape(var.numpy(), W.shape), W)
        x = [tf.constant(U), tf.constant(np.full((mb, 1), n, dtype=np.int32))]

        def loss():
            out = sim.keras_model(x, training=True)[0]
            return tf.reduce_sum((out - target) ** 2)

        with tf.GradientTape() as tape:
            value = loss()
        grad = tape.gradient(value, var).numpy()

        # central finite differences (exact up to rounding: the loss is quadratic in W)
        w0, h = var.numpy().copy(), 1e-4
        fd = np.zeros_like(w0)
        for i in np.ndindex(w0.shape):
            losses = []
            for sign in (1, -1):
                w = w0.copy()
                w[i] += sign * h
                var.assign(w)
                losses.append(loss().numpy())
            fd[i] = (losses[0] - losses[1]) / (2 * h)
        var.assign(w0)

    assert np.all(np.abs(fd) > 1)  # the gradient does flow through the memory
    # Measured: ~1e-11 relative.
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=0)


def test_nengo_dl_merges_identical_systems():
    nengo_dl = _nengo_dl()
    theta, order, n, mb, d = 0.05, 6, 200, 2, 2
    U = np.stack([white(n, d, seed=20 + b) for b in range(mb)])

    def build(u):
        # two separately created but identical memories (and two identical synapses),
        # on different inputs
        with nengo.Network(seed=0) as net:
            inp = nengo.Node(nengo.processes.PresentInput(u, DT))
            probes = []
            for transform in (1.0, -2.0):
                mem = nengo.Node(LegendreMemory(theta, order, size_in=d))
                nengo.Connection(inp, mem, transform=transform, synapse=None)
                probes.append(nengo.Probe(mem))
            for transform in (0.5, 3.0):
                conn = nengo.Connection(
                    inp,
                    nengo.Node(size_in=d),
                    transform=transform,
                    synapse=LegendreDelay(theta, order),
                )
                probes.append(nengo.Probe(conn, "output"))
        return net, inp, probes

    refs = []
    for b in range(mb):
        net, _, probes = build(U[b])
        sim = run(net, n)
        refs.append([sim.data[p] for p in probes])
    refs = [np.stack(r) for r in zip(*refs)]

    net, inp, probes = build(U[0])
    with nengo_dl.Simulator(net, dt=DT, minibatch_size=mb, progress_bar=False) as sim:
        groups = _native_builder_groups(sim)
        out = sim.predict({inp: U}, n_steps=n)

    # one group for the two memories, one for the two synapses
    assert sorted(len(ops) for ops in groups) == [2, 2]
    for ops in groups:
        assert len({op.outputs_state for op in ops}) == 1
    for probe, ref in zip(probes, refs):
        assert max_rel_err(out[probe], ref) < 1e-4


@pytest.mark.parametrize("method", ["zoh", "euler"])
def test_legendre_memory_theta_input(method):
    """With a theta input dt / theta, each step uses the memory of that window: a
    float64 recurrence rediscretized by scipy in every step; on the reference
    simulator, and in NengoDL for each minibatch item (two different windows, two
    separate memories that must not merge)."""
    nengo_dl = _nengo_dl()
    rng = np.random.RandomState(3)
    order, n, d = 4, 30, 2
    u = rng.uniform(-1, 1, size=(2, n, d))
    theta = rng.uniform(8, 12, size=(2, n, 1))  # in steps: dt = 1, varying
    x = np.concatenate([u, 1 / theta], axis=2)
    ref = np.zeros((2, n, d * order))
    for b, k in np.ndindex(2, n):
        A = LegendreDelay(theta[b, k, 0], order).A
        B = LegendreDelay(theta[b, k, 0], order).B
        Ad, Bd, *_ = scipy.signal.cont2discrete((A, B, B.T, 0), 1.0, method)
        X = ref[b, k - 1].reshape(d, order) if k else np.zeros((d, order))
        ref[b, k] = (X @ Ad.T + u[b, k, :, None] * Bd[:, 0]).ravel()

    def build(seq):
        with nengo.Network() as net:
            inp = nengo.Node(nengo.processes.PresentInput(seq, 1.0))
            probes = []
            for _ in range(2):
                memory = LegendreMemory(
                    10.0, order, size_in=d, method=method, theta_input=True
                )
                mem = nengo.Node(memory)
                nengo.Connection(inp, mem, synapse=None)
                probes.append(nengo.Probe(mem))
        return net, inp, probes

    for b in range(2):
        net, _, probes = build(x[b])
        with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
            sim.run_steps(n)
        for p in probes:
            assert max_rel_err(sim.data[p], ref[b]) < 1e-12
    net, inp, probes = build(x[0])
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=2, progress_bar=False) as sim:
        assert sorted(len(ops) for ops in _native_builder_groups(sim)) == [1, 1]
        out = sim.predict({inp: x})
    for p in probes:
        assert max_rel_err(out[p], ref) < 1e-5

    x[1, 5, -1] = 0.0
    net, _, _ = build(x[1])
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
        with pytest.raises(SimulationError, match="dt / theta must be a finite"):
            sim.run_steps(n)
    with pytest.raises(ValidationError, match="needs method 'zoh' or 'euler'"):
        LegendreMemory(10.0, order, method="bilinear", theta_input=True)
