"""Linear time-invariant systems: the Legendre delay, its Padé twin, and their readout.

A `LinearSystem` is a state-space model ``(A, B, C, D)``. It is also a Nengo synapse:
used on a `nengo.Connection`, it filters each dimension of the signal independently,
stepping the state-space recurrence directly (never a transfer function, whose
canonical forms are numerically unstable at high order).
"""

import math

import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError
from nengo.params import BoolParam, IntParam, NdarrayParam, NumberParam
from nengo.rc import rc
from nengo.synapses import Synapse

DISCRETIZE_METHODS = ("zoh", "euler", "bilinear")


class CountParam(IntParam):
    """A `nengo.params.IntParam` that also rejects bools (``True`` is not an order)."""

    def coerce(self, instance, num):
        if isinstance(num, (bool, np.bool_)):
            raise ValidationError(
                f"Must be an integer (got the bool {num})", attr=self.name, obj=instance
            )
        return super().coerce(instance, num)


class FiniteNumberParam(NumberParam):
    """A `nengo.params.NumberParam` that also rejects ``inf`` and ``nan``."""

    def coerce(self, instance, num):
        if isinstance(num, (float, np.floating)) and not np.isfinite(num):
            raise ValidationError(
                f"Must be a finite number (got {num})", attr=self.name, obj=instance
            )
        return super().coerce(instance, num)


def _as_matrix(x, shape_if_1d):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        return x.reshape(1, 1)
    if x.ndim == 1:
        return x.reshape(shape_if_1d)
    return x


class LinearSystem(Synapse):
    """A linear state-space system, usable as a Nengo synapse.

    Continuous (``analog=True``)::

        dx/dt = A x + B u,    y = C x + D u

    Discrete (``analog=False``), with the time-step convention of `nengo.LinearFilter`::

        x[t] = A x[t-1] + B u[t],  y[t] = C x[t]              (if D == 0)
        y[t] = C x[t-1] + D u[t],  x[t] = A x[t-1] + B u[t]   (otherwise)

    As a synapse, a single-input single-output system is applied to every dimension
    of the connection's signal independently; an analog system is discretized with
    zero-order hold at the simulator's ``dt``.

    Parameters
    ----------
    A : (n, n) array_like
        State matrix.
    B : (n, m) array_like
        Input matrix (a 1-D array is taken as a column, m = 1).
    C : (p, n) array_like
        Output matrix (a 1-D array is taken as a row, p = 1).
    D : (p, m) array_like
        Feed-through matrix (a scalar is taken as (1, 1)).
    analog : bool, optional
        Whether the system is continuous-time (True) or discrete-time (False).
    dt : float, optional
        For a discrete system, the time step it was discretized for; simulating it
        at another ``dt`` raises an error. None means "any".
    """

    A = NdarrayParam("A", shape=("*", "*"), readonly=True)
    B = NdarrayParam("B", shape=("*", "*"), readonly=True)
    C = NdarrayParam("C", shape=("*", "*"), readonly=True)
    D = NdarrayParam("D", shape=("*", "*"), readonly=True)
    analog = BoolParam("analog", readonly=True)
    dt = FiniteNumberParam("dt", low=0, low_open=True, optional=True, readonly=True)

    def __init__(self, A, B, C, D, analog=True, dt=None):
        A = _as_matrix(A, (1, 1))
        n = A.shape[0]
        B = _as_matrix(B, (n, 1))
        C = _as_matrix(C, (1, n))
        D = _as_matrix(D, (C.shape[0], B.shape[1]))
        expected = {
            "A": (n, n),
            "B": (n, B.shape[1]),
            "C": (C.shape[0], n),
            "D": (C.shape[0], B.shape[1]),
        }
        for name, matrix in zip("ABCD", (A, B, C, D)):
            if matrix.shape != expected[name]:
                raise ValidationError(
                    f"Shape {matrix.shape} is inconsistent with the other matrices: "
                    f"with A {A.shape}, B {B.shape} and C {C.shape}, {name} must have "
                    f"shape {expected[name]}",
                    attr=name,
                    obj=self,
                )
            if not np.all(np.isfinite(matrix)):
                raise ValidationError("Must be finite", attr=name, obj=self)
        if analog and dt is not None:
            raise ValidationError(
                "Only a discrete system (analog=False) has a time step",
                attr="dt",
                obj=self,
            )
        self.A, self.B, self.C, self.D = A, B, C, D
        self.analog = analog
        self.dt = dt
        super().__init__(default_size_in=1)

    @property
    def order(self):
        """The number of state variables, n."""
        return self.A.shape[0]

    @property
    def size_in(self):
        """The number of inputs, m."""
        return self.B.shape[1]

    @property
    def size_out(self):
        """The number of outputs, p."""
        return self.C.shape[0]

    @property
    def ss(self):
        """The matrices ``(A, B, C, D)``."""
        return self.A, self.B, self.C, self.D

    @property
    def _argreprs(self):
        # a summary: the matrices of a high-order system would fill pages
        args = [
            f"order={self.order}",
            f"size_in={self.size_in}",
            f"size_out={self.size_out}",
        ]
        if not self.analog:
            args += ["analog=False"] + ([] if self.dt is None else [f"dt={self.dt!r}"])
        return args

    def discretize(self, dt, method="zoh"):
        """Return the discrete-time system for time step ``dt``.

        Parameters
        ----------
        dt : float
            The time step (same units as the system's time constants).
        method : "zoh" or "euler" or "bilinear"
            Zero-order hold (exact for inputs held over each step), forward Euler,
            or the bilinear (Tustin) transform. Same definitions as
            `scipy.signal.cont2discrete`.

        Returns
        -------
        LinearSystem
            A discrete system (``analog=False``) with ``dt`` set.
        """
        if not self.analog:
            raise ValidationError(
                f"The system is already discrete (dt={self.dt}); discretize the "
                "continuous system instead",
                attr="analog",
                obj=self,
            )
        if not (isinstance(dt, (int, float, np.number)) and np.isfinite(dt) and dt > 0):
            raise ValidationError(
                f"Must be a finite number > 0 (got {dt!r})", attr="dt", obj=self
            )
        A, B, C, D = self.ss
        n, m = B.shape
        eye = np.eye(n)
        if method == "zoh":
            M = np.zeros((n + m, n + m))
            M[:n, :n], M[:n, n:] = A, B
            E = scipy.linalg.expm(M * dt)
            Ad, Bd, Cd, Dd = E[:n, :n], E[:n, n:], C, D
        elif method == "euler":
            Ad, Bd, Cd, Dd = eye + dt * A, dt * B, C, D
            self._check_euler_stable(Ad, dt)
        elif method == "bilinear":
            ima = eye - 0.5 * dt * A
            Ad = np.linalg.solve(ima, eye + 0.5 * dt * A)
            Bd = np.linalg.solve(ima, dt * B)
            Cd = np.linalg.solve(ima.T, C.T).T
            Dd = D + 0.5 * C.dot(Bd)
        else:
            raise ValidationError(
                f"Unknown discretization method {method!r}; use one of "
                f"{', '.join(DISCRETIZE_METHODS)}",
                attr="method",
                obj=self,
            )
        return LinearSystem(Ad, Bd, Cd, Dd, analog=False, dt=float(dt))

    def _check_euler_stable(self, Ad, dt):
        radius = np.max(np.abs(np.linalg.eigvals(Ad))) if Ad.size else 0.0
        if radius <= 1 + 1e-12:
            return
        lam = np.linalg.eigvals(self.A)
        if np.any(lam.real >= 0):
            hint = "the continuous system itself is not stable, so no dt works"
        else:
            # |1 + dt*lam| < 1  <=>  dt < -2 Re(lam) / |lam|^2; 1 % below that, rounded
            dt_max = np.min(-2 * lam.real / np.abs(lam) ** 2)
            hint = f"use dt <= {0.99 * dt_max:.3g}, or method='zoh'"
        raise ValidationError(
            f"Euler discretization with dt={dt} is unstable (spectral radius of the "
            f"discrete A is {radius:.6g} > 1); {hint}",
            attr="dt",
            obj=self,
        )

    def discrete_ss(self, dt):
        """The discrete ``(A, B, C, D)`` used when simulating at time step ``dt``.

        Analog systems are discretized with zero-order hold; discrete systems are
        returned as they are (after checking that ``dt`` matches theirs).
        """
        if self.analog:
            return self.discretize(dt).ss
        if self.dt is not None and not np.isclose(dt, self.dt, rtol=1e-9, atol=0):
            raise ValidationError(
                f"The system was discretized for dt={self.dt}, but is simulated with "
                f"dt={dt}; discretize the continuous system with dt={dt}",
                attr="dt",
                obj=self,
            )
        return self.ss

    def _check_siso(self):
        if self.size_in != 1 or self.size_out != 1:
            raise ValidationError(
                f"Only single-input single-output systems can be used as synapses "
                f"(this one has {self.size_in} inputs and {self.size_out} outputs)",
                attr="B",
                obj=self,
            )

    # --- nengo.synapses.Synapse interface
    def make_state(self, shape_in, shape_out, dt, dtype=None, y0=0):
        """Create the state ``X`` of shape ``shape_in + (order,)``."""
        self._check_siso()
        if shape_in != shape_out:
            raise ValidationError(
                f"A synapse's output has its input's shape (got shape_in={shape_in}, "
                f"shape_out={shape_out})",
                attr="shape_in",
                obj=self,
            )
        dtype = np.dtype(rc.float_dtype if dtype is None else dtype)
        A, B, C, D = self.discrete_ss(dt)
        X = np.zeros(shape_in + (self.order,), dtype=dtype)
        if np.any(y0 != 0) and self.order > 0:
            # start in the steady state for the constant input giving output y0
            x_per_u = np.linalg.solve(np.eye(self.order) - A, B)[:, 0]
            dc_gain = (C.dot(x_per_u) + D[:, 0]).item()
            if abs(dc_gain) < 1e-8:
                raise ValidationError(
                    "Cannot start at y0 != 0: the system's DC gain is zero",
                    attr="y0",
                    obj=self,
                )
            u0 = np.broadcast_to(np.asarray(y0, dtype=np.float64), shape_in) / dc_gain
            X[...] = u0[..., None] * x_per_u
        return {"X": X}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        """Return ``step(t, u)`` advancing the state of every dimension of ``u``."""
        self._check_siso()
        A, B, C, D = self.discrete_ss(dt)
        X = state["X"]
        AT, b, c, d = A.T.copy(), B[:, 0].copy(), C[0].copy(), D.item()

        if d == 0:

            def step_linearsystem(t, u):
                X[...] = X.dot(AT) + u[..., None] * b
                return X.dot(c)

        else:

            def step_linearsystem(t, u):
                y = X.dot(c) + d * u
                X[...] = X.dot(AT) + u[..., None] * b
                return y

        return step_linearsystem


class LegendreDelay(LinearSystem):
    """The LMU's Legendre delay system: ``theta dm/dt = A m + B u``.

    The state holds the last ``theta`` seconds of ``u`` projected onto the first
    ``order`` shifted Legendre polynomials (Voelker, Kajić & Eliasmith, 2019)::

        A[i, j] = (2i + 1) / theta * (-1 if i < j else (-1)**(i - j + 1))
        B[i] = (2i + 1) (-1)**i / theta

    ``C`` (all ones) decodes ``u(t - theta)`` and ``D = 0``; its transfer function is
    the [order-1 / order] Padé approximant of ``exp(-theta s)``. Use
    `legendre_readout` to decode other delays.

    Parameters
    ----------
    theta : float
        Length of the window, in seconds (or in steps, when simulated with dt=1).
    order : int
        Number of state variables (Legendre polynomials).
    """

    theta = FiniteNumberParam("theta", low=0, low_open=True, readonly=True)
    order = CountParam("order", low=1, readonly=True)

    def __init__(self, theta, order):
        self.theta = theta
        self.order = order
        i = np.arange(order)[:, None]
        j = np.arange(order)[None, :]
        R = (2 * i + 1) / theta
        A = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * R
        B = (-1.0) ** i * R
        super().__init__(A, B, np.ones((1, order)), np.zeros((1, 1)))

    @property
    def _argreprs(self):
        return [f"theta={self.theta!r}", f"order={self.order!r}"]


def pade_coefficients(theta, order):
    """Numerator and denominator of the [order-1 / order] Padé approximant of
    ``exp(-theta s)``, highest power first (as `numpy.polyval` takes them)."""
    p, q = order - 1, order
    num = [
        math.comb(p, i)
        * math.factorial(p + q - i)
        / math.factorial(p + q)
        * (-theta) ** i
        for i in range(p + 1)
    ]
    den = [
        math.comb(q, j) * math.factorial(p + q - j) / math.factorial(p + q) * theta**j
        for j in range(q + 1)
    ]
    return np.array(num[::-1]), np.array(den[::-1])


class PadeDelay(LinearSystem):
    """The [order-1 / order] Padé approximant of a delay ``exp(-theta s)``.

    Same transfer function as `LegendreDelay`, in another realization: the
    controllable canonical form of the Padé approximant for ``theta = 1``, balanced
    with a diagonal similarity transform (`scipy.linalg.matrix_balance`) so that it
    stays reasonably conditioned, then scaled to ``theta``. The Padé coefficients
    still span many orders of magnitude: its frequency response is accurate to about
    1e-12 at order 20 but only 1e-6 at order 50 (float64). Use `LegendreDelay` for
    high orders.

    Parameters
    ----------
    theta : float
        The delay, in seconds (or in steps, when simulated with dt=1).
    order : int
        Number of state variables.
    """

    theta = FiniteNumberParam("theta", low=0, low_open=True, readonly=True)
    order = CountParam("order", low=1, readonly=True)

    def __init__(self, theta, order):
        self.theta = theta
        self.order = order
        num, den = pade_coefficients(1.0, order)
        num, den = num / den[0], den / den[0]
        # controllable canonical form of num(s) / den(s), with deg(num) < deg(den)
        A = np.zeros((order, order))
        A[0, :] = -den[1:]
        A[1:, :-1] = np.eye(order - 1)
        B = np.zeros((order, 1))
        B[0, 0] = 1.0
        C = np.zeros((1, order))
        C[0, order - len(num) :] = num
        _, (scale, _) = scipy.linalg.matrix_balance(A, permute=False, separate=True)
        A = A * scale[None, :] / scale[:, None]
        B, C = B / scale[:, None], C * scale[None, :]
        super().__init__(A / theta, B / theta, C, np.zeros((1, 1)))

    @property
    def _argreprs(self):
        return [f"theta={self.theta!r}", f"order={self.order!r}"]


def legendre_readout(order, r):
    """Matrix decoding ``u(t - r * theta)`` from a `LegendreDelay` state.

    Parameters
    ----------
    order : int
        The order of the Legendre delay system.
    r : float or array_like
        Relative delays in [0, 1]: 0 is the current input, 1 is ``theta`` ago.

    Returns
    -------
    (len(r), order) ndarray
        Row k holds the shifted Legendre polynomials ``P_i(2 r_k - 1)``.
    """
    if not (isinstance(order, (int, np.integer)) and order >= 1):
        raise ValidationError(
            f"legendre_readout: must be an integer >= 1 (got {order!r})", attr="order"
        )
    r = np.atleast_1d(np.asarray(r, dtype=np.float64))
    if r.ndim != 1 or np.any(~np.isfinite(r)) or np.any((r < 0) | (r > 1)):
        raise ValidationError(
            f"legendre_readout: relative delays must be a 1-D array of values in "
            f"[0, 1] (got {r})",
            attr="r",
        )
    x = 2 * r - 1
    P = np.zeros((len(r), order))
    P[:, 0] = 1.0
    if order > 1:
        P[:, 1] = x
    for i in range(1, order - 1):  # Bonnet's recursion
        P[:, i + 1] = ((2 * i + 1) * x * P[:, i] - i * P[:, i - 1]) / (i + 1)
    return P
