"""Principle 3: the mapped system, run through the synapse, has the target's state."""

import nengo
import numpy as np
import pytest
import scipy.linalg
import scipy.signal
from nengo.exceptions import ValidationError

import nengo_lmu
from nengo_lmu.synapses import input_synapses, ss2sim

DT = 0.001
LEGENDRE = nengo_lmu.LegendreDelay(1.0, 6)
# a stable system with two inputs, to check the layout of the input blocks
MIMO = nengo_lmu.LinearSystem(
    [[-2.0, 1.0, 0.0], [-1.0, -3.0, 0.5], [0.0, 0.0, -0.5]],
    [[1.0, 0.0], [0.5, 1.0], [0.0, 2.0]],
    np.eye(3),
    np.zeros((3, 2)),
)
SYNAPSES = {
    "lowpass": nengo.Lowpass(0.1),
    "alpha": nengo.Alpha(0.05),
    "double-exponential": nengo.LinearFilter([1], np.polymul([0.05, 1], [0.01, 1])),
}


def relative_error(x, ref):
    return np.max(np.abs(x - ref)) / np.max(np.abs(ref))


def test_lowpass_continuous_is_the_nef_formula():
    tau = 0.1
    mapped = ss2sim(LEGENDRE, nengo.Lowpass(tau))
    A, B, C, D = LEGENDRE.ss
    assert mapped.analog
    assert np.allclose(mapped.A, tau * A + np.eye(6), rtol=1e-12, atol=1e-12)
    assert np.allclose(mapped.B, tau * B, rtol=1e-12, atol=1e-12)
    assert np.array_equal(mapped.C, C) and np.array_equal(mapped.D, D)


def test_lowpass_discrete_is_the_issue_formula():
    tau = 0.1
    mapped = ss2sim(LEGENDRE, nengo.Lowpass(tau), dt=DT)
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete(LEGENDRE.ss, DT, method="zoh")
    a = np.exp(-DT / tau)
    assert not mapped.analog and mapped.dt == DT
    assert np.allclose(mapped.A, (Ad - a * np.eye(6)) / (1 - a), rtol=1e-9, atol=1e-9)
    assert np.allclose(mapped.B, Bd / (1 - a), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ["alpha", "double-exponential"])
def test_higher_order_continuous_is_the_published_formula(name):
    """Voelker & Eliasmith (2018): for h = 1 / sum_i c_i s^i, A_H = sum_i c_i A^i and
    B_H = [sum_{i > j} c_i A^(i-j-1) B for each input derivative j]."""
    synapse = SYNAPSES[name]
    c = synapse.den[::-1] / synapse.num[0]  # lowest power first
    A, B, _, _ = LEGENDRE.ss
    mp = np.linalg.matrix_power
    A_H = sum(c[i] * mp(A, i) for i in range(len(c)))
    B_H = np.hstack(
        [sum(c[i] * mp(A, i - j - 1) for i in range(j + 1, 3)).dot(B) for j in range(2)]
    )
    mapped = ss2sim(LEGENDRE, synapse)
    assert np.allclose(mapped.A, A_H, rtol=1e-10, atol=1e-10)
    assert np.allclose(mapped.B, B_H, rtol=1e-10, atol=1e-10)


def closed_loop(mapped, synapse):
    """The continuous LTI system from ``u`` to ``x`` of the network
    ``x = synapse(A_H x) + sum_j F_j(B_j u)``, each filter realized by scipy."""
    filters = [synapse] + input_synapses(synapse)
    n, m = mapped.A.shape[0], mapped.B.shape[1] // (len(filters) - 1)
    eye = np.eye(n)
    ss = [scipy.signal.tf2ss(f.num, f.den) for f in filters]
    assert all(np.all(D == 0) for _, _, _, D in ss)  # strictly proper: x = sum of C z
    Cx = np.hstack([np.kron(eye, Cf) for _, _, Cf, _ in ss])
    A_big = scipy.linalg.block_diag(*[np.kron(eye, Af) for Af, _, _, _ in ss])
    rows = slice(0, n * len(ss[0][0]))
    A_big[rows] += np.kron(eye, ss[0][1]).dot(mapped.A).dot(Cx)  # recurrent input A_H x
    inputs = [
        np.kron(eye, Bf).dot(mapped.B[:, j * m : (j + 1) * m])  # F_j gets B_j u
        for j, (_, Bf, _, _) in enumerate(ss[1:])
    ]
    B_big = np.vstack([np.zeros((n * len(ss[0][0]), m))] + inputs)
    return A_big, B_big, Cx, np.zeros((n, m))


@pytest.mark.parametrize("name", sorted(SYNAPSES))
@pytest.mark.parametrize("system", [LEGENDRE, MIMO], ids=["legendre", "mimo"])
def test_continuous_mapping_reproduces_the_state(name, system):
    synapse = SYNAPSES[name]
    t = np.arange(0, 3, DT)
    rng = np.random.RandomState(0)
    freqs, phases = rng.uniform(0.2, 3, (2, system.size_in, 1))
    u = np.sin(2 * np.pi * freqs * t + phases).T
    A, B, _, _ = system.ss
    _, _, ref = scipy.signal.lsim((A, B, np.eye(len(A)), 0 * B), u, t)
    _, x, _ = scipy.signal.lsim(closed_loop(ss2sim(system, synapse), synapse), u, t)
    assert relative_error(x, ref) < 1e-6


def run_discrete_mapping(system, synapse, u):
    """Simulate ``x -> x`` (transform A_H, the synapse) with the input through the
    synapses of `input_synapses`, with passthrough nodes (no neurons)."""
    mapped = ss2sim(system, synapse, dt=DT)
    m = system.size_in
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput(u, DT))
        x = nengo.Node(size_in=system.order)
        nengo.Connection(x, x, transform=mapped.A, synapse=synapse)
        for j, filt in enumerate(input_synapses(synapse, dt=DT)):
            B_j = mapped.B[:, j * m : (j + 1) * m]
            nengo.Connection(stim, x, transform=B_j, synapse=filt)
        probe = nengo.Probe(x)
    with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run_steps(len(u))
    return sim.data[probe]


DISCRETE_SYNAPSES = dict(
    SYNAPSES,
    **{
        "lowpass-bilinear": nengo.LinearFilter([1], [0.1, 1], method="bilinear"),
        "discrete-lowpass": nengo.LinearFilter([0.05], [1, -0.95], analog=False),
    },
)


@pytest.mark.parametrize("name", sorted(DISCRETE_SYNAPSES))
@pytest.mark.parametrize("system", [LEGENDRE, MIMO], ids=["legendre", "mimo"])
def test_discrete_mapping_reproduces_the_state_in_nengo(name, system):
    n_steps = 2000
    u = nengo.processes.WhiteSignal(2.0, high=5, rms=0.5, seed=1).run(
        n_steps * DT, dt=DT, d=system.size_in
    )
    x = run_discrete_mapping(system, DISCRETE_SYNAPSES[name], u)
    # float64 reference: x[k] = Ad x[k-1] + Bd u[k]; the network is one step later
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete(system.ss, DT, method="zoh")
    ref, state = np.zeros((n_steps, system.order)), np.zeros(system.order)
    for k in range(n_steps):
        state = Ad.dot(state) + Bd.dot(u[k])
        ref[k] = state
    assert np.all(x[0] == 0)
    assert relative_error(x[1:], ref[:-1]) < 1e-6


def test_discrete_target_system_is_used_as_is():
    discrete = LEGENDRE.discretize(DT)
    a = ss2sim(discrete, nengo.Lowpass(0.1), dt=DT)
    b = ss2sim(LEGENDRE, nengo.Lowpass(0.1), dt=DT)
    assert np.allclose(a.A, b.A, rtol=1e-12, atol=1e-12)
    assert np.allclose(a.B, b.B, rtol=1e-12, atol=1e-12)


def test_first_order_synapse_takes_the_input_through_itself():
    for dt in (None, DT):
        (filt,) = input_synapses(nengo.Lowpass(0.1), dt=dt)
        f = np.array([0.1, 1.0, 10.0])
        expected = 1 / (0.1 * 2j * np.pi * f + 1)
        if dt is not None:  # ZOH of the lowpass, as a Nengo connection applies it
            a = np.exp(-dt / 0.1)
            z = np.exp(2j * np.pi * f * dt)
            expected = (1 - a) / (z - a)
        response = filt.evaluate(f if dt is None else f * dt)  # f * dt: cycles/step
        assert np.allclose(response, expected, rtol=1e-9)


@pytest.mark.parametrize(
    "synapse, dt, attr",
    [
        (nengo.Triangle(0.1), DT, "synapse"),
        (None, DT, "synapse"),
        (nengo.LinearFilter([1], [1]), None, "synapse"),  # no dynamics
        (nengo.LinearFilter([1, 0], [0.1, 1]), None, "synapse"),  # zero DC gain
        (nengo.LinearFilter([0.05], [1, -0.95], analog=False), None, "dt"),
        (nengo.Lowpass(0.1), 0, "dt"),
        (nengo.Lowpass(0.1), -1e-3, "dt"),
        (nengo.Lowpass(0.1), float("nan"), "dt"),
    ],
)
def test_unmappable_inputs_raise(synapse, dt, attr):
    with pytest.raises(ValidationError) as info:
        ss2sim(LEGENDRE, synapse, dt=dt)
    assert info.value.attr == attr


def test_discrete_system_needs_dt():
    with pytest.raises(ValidationError, match="dt"):
        ss2sim(LEGENDRE.discretize(DT), nengo.Lowpass(0.1))
    with pytest.raises(ValidationError, match="dt"):
        ss2sim(LEGENDRE.discretize(DT), nengo.Lowpass(0.1), dt=2 * DT)


def test_system_must_be_a_linear_system():
    with pytest.raises(ValidationError) as info:
        ss2sim(nengo.Lowpass(0.1), nengo.Lowpass(0.1))
    assert info.value.attr == "system"
