"""Tests of the LTI core: LinearSystem, LegendreDelay, PadeDelay, legendre_readout.

Every expected value is computed here from an independent reference (closed forms
written out with plain loops, scipy, exact rational arithmetic, a float64 numpy
recurrence), never copied from the code under test.
"""

import math
import re
from fractions import Fraction

import nengo
import numpy as np
import pytest
import scipy.signal
import scipy.special
from nengo.exceptions import ValidationError

from nengo_lmu import (
    LegendreDelay,
    LegendreMemory,
    LinearSystem,
    LinearSystemState,
    PadeDelay,
    legendre_readout,
)

# --- independent references ---------------------------------------------------------


def legendre_closed_form(theta, order):
    """A, B of the Legendre delay from the formula, one element at a time."""
    A = np.zeros((order, order))
    B = np.zeros((order, 1))
    for i in range(order):
        B[i, 0] = (2 * i + 1) * (-1) ** i / theta
        for j in range(order):
            sign = -1 if i < j else (-1) ** (i - j + 1)
            A[i, j] = (2 * i + 1) / theta * sign
    return A, B


def freq_response(system, s):
    """H(s) = C (sI - A)^-1 B + D of a SISO system at each complex frequency in s."""
    A, B, C, D = system.ss
    eye = np.eye(A.shape[0])
    return np.array(
        [(C @ np.linalg.solve(si * eye - A, B) + D).item() for si in s], dtype=complex
    )


def pade_exact(order, wtheta):
    """The [order-1/order] Padé approximant of exp(-theta s) at s = i*wtheta/theta.

    The coefficients come from the closed form with `math.factorial`; the evaluation
    is done in exact rational arithmetic (`fractions.Fraction`) so that the reference
    has no rounding error except the final conversion to float (a float64 evaluation
    of the polynomials loses ~1e-12 at order 20 to cancellation, which would be larger
    than the error of `LegendreDelay` itself).
    """
    p, q = order - 1, order
    fact = math.factorial
    num = [  # coefficient of (theta s)^i
        (-1) ** i
        * Fraction(fact(p + q - i) * fact(p), fact(p + q) * fact(i) * fact(p - i))
        for i in range(p + 1)
    ]
    den = [
        Fraction(fact(p + q - j) * fact(q), fact(p + q) * fact(j) * fact(q - j))
        for j in range(q + 1)
    ]

    def poly_at_iw(coefs, w):  # sum_k c_k (i w)^k, as (real, imag)
        re_ = sum(
            c * w**k * (-1) ** (k // 2) for k, c in enumerate(coefs) if k % 2 == 0
        )
        im_ = sum(
            c * w**k * (-1) ** (k // 2) for k, c in enumerate(coefs) if k % 2 == 1
        )
        return re_, im_

    out = []
    for wt in wtheta:
        w = Fraction(float(wt))
        a, b = poly_at_iw(num, w)
        c, d = poly_at_iw(den, w)
        mag2 = c * c + d * d
        out.append(
            complex(float((a * c + b * d) / mag2), float((b * c - a * d) / mag2))
        )
    return np.array(out)


def zoh(A, B, dt):
    """Zero-order-hold discretization by scipy (reference for the code's own)."""
    n = A.shape[0]
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete(
        (A, B, np.ones((1, n)), np.zeros((1, 1))), dt, method="zoh"
    )
    return Ad, Bd


def recurrence(Ad, Bd, u, keep_every=1):
    """Float64 states of x[t] = Ad x[t-1] + Bd u[t] (x[-1] = 0) for a 1-D input u.

    Returns (states kept at steps keep_every-1, 2*keep_every-1, ..., C x for all t
    with C = ones), which is how `nengo.Probe(sample_every=keep_every*dt)` samples.
    """
    x = np.zeros(Ad.shape[0])
    b = Bd[:, 0]
    kept, y = [], np.empty(len(u))
    for t, ut in enumerate(u):
        x = Ad @ x + b * ut
        y[t] = x.sum()
        if t % keep_every == keep_every - 1:
            kept.append(x.copy())
    return np.array(kept), y


def random_stable_mimo(rng, n=5, m=2, p=3):
    """A random continuous MIMO system whose eigenvalues have Re <= -0.5."""
    A = rng.normal(size=(n, n))
    A -= (np.max(np.linalg.eigvals(A).real) + 0.5) * np.eye(n)
    B, C, D = rng.normal(size=(n, m)), rng.normal(size=(p, n)), rng.normal(size=(p, m))
    return LinearSystem(A, B, C, D)


def nrmse(y, target):
    return np.sqrt(np.mean((y - target) ** 2)) / np.sqrt(np.mean(target**2))


# --- 1. closed form ------------------------------------------------------------------


@pytest.mark.parametrize("theta", [0.05, 1.0, 784.0])
@pytest.mark.parametrize("order", range(1, 9))
def test_legendre_delay_matrices(theta, order):
    system = LegendreDelay(theta, order)
    A, B = legendre_closed_form(theta, order)
    assert system.A.shape == (order, order)
    assert system.B.shape == (order, 1)
    np.testing.assert_allclose(system.A, A, rtol=1e-14, atol=0)
    np.testing.assert_allclose(system.B, B, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(system.C, np.ones((1, order)))
    np.testing.assert_array_equal(system.D, np.zeros((1, 1)))
    assert system.analog


# --- 2. discretization ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["zoh", "euler", "bilinear"])
@pytest.mark.parametrize("which", ["legendre", "mimo"])
def test_discretize_matches_scipy(method, which):
    if which == "legendre":
        system, dt = LegendreDelay(1.3, 6), 0.002
    else:
        system, dt = random_stable_mimo(np.random.RandomState(42)), 0.01
        # precondition: forward Euler is stable at this dt (checked independently)
        assert np.max(np.abs(np.linalg.eigvals(np.eye(5) + dt * system.A))) < 1
    expected = scipy.signal.cont2discrete(system.ss, dt, method=method)[:4]

    discrete = system.discretize(dt, method=method)

    assert not discrete.analog
    assert discrete.dt == dt
    for name, actual, exp in zip("ABCD", discrete.ss, expected):
        np.testing.assert_allclose(
            actual, np.atleast_2d(exp), rtol=1e-10, atol=1e-13, err_msg=name
        )


# --- 3. frequency response -----------------------------------------------------------

# Measured max relative error over the grid below against the exact rational Padé
# approximant (theta in {0.1, 1, 7}): LegendreDelay <= 8e-15 for all orders 1..20;
# PadeDelay grows with order, ~1e-14 at order 10 and 1.3e-12 at order 20 (it is the
# canonical form, balanced; at order 30 it is 2e-10 and at order 50 1e-6, so it is
# not meant for high orders). Tolerances leave ~10x-100x margin over these levels.
LEGENDRE_RTOL = 1e-13
PADE_RTOL = 1e-10


@pytest.mark.parametrize("order", range(1, 21))
@pytest.mark.parametrize("theta", [0.1, 1.0, 7.0])
def test_legendre_and_pade_frequency_response(order, theta):
    wtheta = np.logspace(-2, 2, 101)  # omega * theta
    s = 1j * wtheta / theta
    reference = pade_exact(order, wtheta)

    h_legendre = freq_response(LegendreDelay(theta, order), s)
    h_pade = freq_response(PadeDelay(theta, order), s)

    np.testing.assert_allclose(h_legendre, reference, rtol=LEGENDRE_RTOL, atol=0)
    np.testing.assert_allclose(h_pade, reference, rtol=PADE_RTOL, atol=0)
    np.testing.assert_allclose(h_pade, h_legendre, rtol=PADE_RTOL, atol=0)


@pytest.mark.parametrize("order", [1, 4, 12])
def test_frequency_response_approximates_delay(order):
    """Sanity check of the reference itself: at low frequency H(s) ~ exp(-theta s)."""
    theta = 0.5
    wtheta = np.array([1e-3, 1e-2, 1e-1])
    h = freq_response(LegendreDelay(theta, order), 1j * wtheta / theta)
    # the [q-1/q] Padé approximant matches exp(-theta s) to order 2q - 1 in theta s
    # (error ~ (omega theta)^2 / 2 for q = 1, much smaller for higher q)
    assert np.all(np.abs(h - np.exp(-1j * wtheta)) <= wtheta**2)


# --- 4. legendre_readout -------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 2, 5, 12, 20])
def test_legendre_readout_is_shifted_legendre(order):
    r = np.linspace(0, 1, 41)
    P = legendre_readout(order, r)
    assert P.shape == (len(r), order)
    for i in range(order):
        # shifted Legendre polynomial P~_i(r) = P_i(2r - 1), two independent ways
        np.testing.assert_allclose(
            P[:, i], scipy.special.eval_sh_legendre(i, r), rtol=0, atol=1e-12
        )
        coefs = np.zeros(i + 1)
        coefs[i] = 1
        np.testing.assert_allclose(
            P[:, i], np.polynomial.legendre.legval(2 * r - 1, coefs), rtol=0, atol=1e-12
        )


def test_legendre_readout_scalar_r():
    expected = [[scipy.special.eval_sh_legendre(i, 0.3) for i in range(4)]]
    np.testing.assert_allclose(legendre_readout(4, 0.3), expected, rtol=0, atol=1e-12)


def test_legendre_readout_decodes_delays():
    order, theta, dt, T = 12, 1.0, 1e-3, 10.0
    n, steps = int(round(T / dt)), int(round(theta / dt))
    u = nengo.processes.WhiteSignal(T, high=2, rms=0.5, seed=0).run_steps(n, dt=dt)[
        :, 0
    ]
    X, _ = recurrence(*zoh(*legendre_closed_form(theta, order), dt), u)

    rs = [0, 0.25, 0.5, 1]
    decoded = X @ legendre_readout(order, rs).T
    t = np.arange(2 * steps, n - 1)  # after a 2 theta transient

    # Alignment: with zero-order hold, u[k] is held over ((k-1) dt, k dt], i.e. the
    # held signal is the sampled one advanced by half a step, so the state at step t
    # represents u delayed by (m - 1/2) steps, m = r theta / dt: the right target is
    # (u[t-m] + u[t-m+1]) / 2. Measured NRMSE (seed 0) for r = 0, .25, .5, 1:
    #   half-step target:   0.0044, 0.0009, 0.0008, 0.00002
    #   u[t-m]:             0.0061, 0.0043, 0.0040, 0.0042
    #   u[t-m-1]:           0.013,  0.012,  0.012,  0.013   (fails the 0.01 bound)
    # so a one-step misalignment does matter at this bound.
    for k, r in enumerate(rs):
        m = int(round(r * theta / dt))
        target = 0.5 * (u[t - m] + u[t - m + 1])
        assert nrmse(decoded[t, k], target) < 0.01, r
    # r = 1 is decoded far better than any integer-step alignment would allow
    target = 0.5 * (u[t - steps] + u[t - steps + 1])
    assert nrmse(decoded[t, -1], target) < 1e-3


# --- 5. high orders ------------------------------------------------------------------


@pytest.mark.parametrize(
    "order, theta, n_steps, high",
    [
        (256, 784, 100_000, 0.01),
        pytest.param(1024, 10_000, 100_000, 0.001, marks=pytest.mark.slow),
    ],
)
def test_high_order_stability(order, theta, n_steps, high):
    """filt and a LegendreMemory node (dt = 1, theta in steps) stay finite and match
    a float64 recurrence.

    Error measure: max |actual - reference| over all (sampled) steps and states,
    relative to max |reference|. Per-element relative errors are meaningless for
    states that cross zero; the states of a stable system driven by an rms-1 input
    stay O(1) (measured max ~3.5-4), so this is close to an absolute error. Measured:
    ~2e-14 (order 256) and ~1e-13 (order 1024), against a tolerance of 1e-6.
    """
    keep_every = 100  # probe every 100 steps: 100k x 1024 states would be 800 MB
    u = nengo.processes.WhiteSignal(n_steps, high=high, rms=1, seed=1).run_steps(
        n_steps, dt=1.0
    )
    X_ref, y_ref = recurrence(
        *zoh(*legendre_closed_form(theta, order), 1.0), u[:, 0], keep_every=keep_every
    )
    assert np.all(np.isfinite(X_ref))

    # LinearSystem.filt: the output C x = sum of the states
    y = LegendreDelay(theta, order).filt(u, dt=1)[:, 0]
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y - y_ref)) < 1e-6 * np.max(np.abs(y_ref))

    # LegendreMemory in nengo.Simulator: the states themselves
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput(u, presentation_time=1.0))
        mem = nengo.Node(LegendreMemory(theta, order))
        nengo.Connection(stim, mem, synapse=None)
        probe = nengo.Probe(mem, sample_every=float(keep_every))
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(n_steps)
    X = sim.data[probe]
    assert X.shape == X_ref.shape
    assert np.all(np.isfinite(X))
    assert np.max(np.abs(X - X_ref)) < 1e-6 * np.max(np.abs(X_ref))


def test_filt_1d_signal():
    """`filt` of a 1-D signal (as `nengo.Lowpass(...).filt(u)` accepts) filters it."""
    theta, order, dt = 0.05, 4, 1e-3
    u = nengo.processes.WhiteSignal(0.5, high=10, seed=2).run_steps(500, dt=dt)[:, 0]
    _, y_ref = recurrence(*zoh(*legendre_closed_form(theta, order), dt), u)
    y = LegendreDelay(theta, order).filt(u, dt=dt)
    assert y.shape == u.shape
    np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-9 * np.max(np.abs(y_ref)))


# --- 6. validation -------------------------------------------------------------------


@pytest.mark.parametrize("cls", [LegendreDelay, PadeDelay])
@pytest.mark.parametrize("theta", [0, -1.0, np.inf, np.nan])
def test_invalid_theta(cls, theta):
    with pytest.raises(ValidationError, match="theta"):
        cls(theta, 4)


@pytest.mark.parametrize("cls", [LegendreDelay, PadeDelay])
@pytest.mark.parametrize("order", [0, -3, 2.5])
def test_invalid_order(cls, order):
    with pytest.raises(ValidationError, match="order"):
        cls(1.0, order)


def test_invalid_discretize_method():
    with pytest.raises(ValidationError, match="method.*foo"):
        LegendreDelay(1.0, 3).discretize(0.01, method="foo")
    with pytest.raises(ValidationError, match="method"):
        LegendreMemory(1.0, 3, method="foo")


@pytest.mark.parametrize("dt", [0, -0.001, np.inf, np.nan])
def test_invalid_dt(dt):
    with pytest.raises(ValidationError, match="dt"):
        LegendreDelay(1.0, 3).discretize(dt)
    with pytest.raises(ValidationError, match="dt"):
        LinearSystem(-1.0, 1.0, 1.0, 0.0, analog=False, dt=dt)


@pytest.mark.parametrize(
    "bad, shapes",
    [
        ("A", [(2, 3), (2, 1), (1, 2), (1, 1)]),
        ("B", [(2, 2), (3, 1), (1, 2), (1, 1)]),
        ("C", [(2, 2), (2, 1), (1, 3), (1, 1)]),
        ("D", [(2, 2), (2, 1), (1, 2), (2, 2)]),
    ],
)
def test_inconsistent_shapes(bad, shapes):
    with pytest.raises(ValidationError, match=rf"\.{bad}: .*inconsistent"):
        LinearSystem(*[np.ones(shape) for shape in shapes])


def test_discretize_discrete_system():
    discrete = LegendreDelay(1.0, 3).discretize(0.01)
    with pytest.raises(ValidationError, match="already discrete"):
        discrete.discretize(0.01)


def test_analog_system_with_dt():
    with pytest.raises(ValidationError, match="dt"):
        LinearSystem(-1.0, 1.0, 1.0, 0.0, analog=True, dt=0.1)


@pytest.mark.parametrize(
    "system",
    [
        LegendreDelay(1.0, 6),
        LegendreDelay(0.3, 12),
        LinearSystem(np.diag([-1.0, -3.0]), [[1.0], [1.0]], [[1.0, 1.0]], 0.0),
    ],
    ids=["legendre6", "legendre12", "diag"],
)
def test_unstable_euler_suggests_stable_dt(system):
    with pytest.raises(ValidationError, match="dt") as excinfo:
        system.discretize(10.0, method="euler")
    match = re.search(r"dt <= ([0-9.eE+-]+)", str(excinfo.value))
    assert match, f"no dt suggested in: {excinfo.value}"
    suggested = float(match.group(1))

    # the continuous bound, computed independently: |1 + dt lambda| <= 1 for all lambda
    lam = np.linalg.eigvals(system.A)
    assert suggested <= np.min(-2 * lam.real / np.abs(lam) ** 2) * (1 + 1e-12)
    euler_A = np.eye(system.order) + suggested * system.A
    radius = np.max(np.abs(np.linalg.eigvals(euler_A)))
    assert radius <= 1 + 1e-9
    system.discretize(suggested, method="euler")  # must not raise


def test_unstable_continuous_system_euler():
    with pytest.raises(ValidationError, match="not stable"):
        LinearSystem(1.0, 1.0, 1.0, 0.0).discretize(0.1, method="euler")


def test_memory_node_wrong_size_in():
    with nengo.Network() as net:
        stim = nengo.Node(np.zeros(2))
        node = nengo.Node(LegendreMemory(1, 6), size_in=2)
        nengo.Connection(stim, node, synapse=None)
    with pytest.raises(ValidationError, match=r"size_in=2.*size_out.*12"):
        with nengo.Simulator(net, progress_bar=False):
            pass


@pytest.mark.parametrize("kind", ["synapse", "memory", "filt"])
def test_discrete_system_at_other_dt(kind):
    discrete = LegendreDelay(1.0, 3).discretize(0.002)
    if kind == "filt":
        with pytest.raises(ValidationError, match=r"dt=0\.002.*dt=0\.001"):
            discrete.filt(np.zeros((10, 1)), dt=0.001)
        return
    with nengo.Network() as net:
        stim = nengo.Node(0)
        if kind == "synapse":
            nengo.Connection(stim, nengo.Node(size_in=1), synapse=discrete)
        else:
            nengo.Connection(
                stim, nengo.Node(LinearSystemState(discrete)), synapse=None
            )
    with pytest.raises(ValidationError, match=r"dt=0\.002.*dt=0\.001"):
        with nengo.Simulator(net, dt=0.001, progress_bar=False):
            pass


@pytest.mark.parametrize("r", [-0.1, 1.5, [0.2, 1.01], [0.5, np.nan]])
def test_legendre_readout_r_out_of_range(r):
    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        legendre_readout(4, r)


@pytest.mark.parametrize("order", [0, 2.5])
def test_legendre_readout_bad_order(order):
    with pytest.raises(ValidationError, match="order"):
        legendre_readout(order, 0.5)


def test_mimo_system_as_synapse():
    mimo = LinearSystem(-np.eye(2), np.eye(2), np.eye(2), np.zeros((2, 2)))
    with nengo.Network() as net:
        nengo.Connection(nengo.Node(0), nengo.Node(size_in=1), synapse=mimo)
    with pytest.raises(ValidationError, match="single-input single-output"):
        with nengo.Simulator(net, progress_bar=False):
            pass
