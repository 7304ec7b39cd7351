"""A Legendre delay network made of Nengo ensembles (NEF Principle 3)."""

import nengo
import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError
from nengo.params import BoolParam, EnumParam
from nengo.solvers import LstsqL2, SolverParam
from nengo.synapses import LinearFilter, SynapseParam

from nengo_lmu.memory import LinearSystemState
from nengo_lmu.synapses import input_synapses, ss2sim, synapse_transfer_function
from nengo_lmu.systems import (
    CountParam,
    FiniteNumberParam,
    LegendreDelay,
    LinearSystem,
    legendre_readout,
)

REALIZATIONS = ("minimum-noise", "balanced", "legendre")

# each represented dimension has this many standard deviations (for the assumed input
# class) between 0 and its radius of 1
RADIUS_SIGMAS = 3.5

# noise variance added to every dimension of the state covariance, relative to the mean
# variance (`regularized_covariance`)
NOISE_FLOOR = 1e-6

# the neurons' lead is measured on at most this many state dimensions
LEAD_DIMENSIONS = 16


def state_covariance(system, high, rms, n_points=1000):
    """Stationary state covariance of ``system`` driven by band-limited white noise.

    The input is white noise with a flat spectrum up to ``high`` Hz and RMS ``rms`` (as
    `nengo.processes.WhiteSignal` makes it), so the covariance is the integral of the
    state's frequency response ``H(f) = (2 pi i f I - A)^-1 B`` over the band::

        P = rms**2 / high * integral_0^high Re[H(f) H(f)^*] df

    computed by the trapezoidal rule on ``n_points`` frequencies. ``H`` is solved in the
    complex Schur form ``A = Z S Z^*`` (``Z`` unitary, ``S`` triangular): one triangular
    solve per frequency, so time and memory grow as ``n_points * n^2``, not ``n^3``.
    """
    A, B, _, _ = system.ss
    S, Z = scipy.linalg.schur(A, output="complex")
    f = np.linspace(0, high, n_points)
    ZB, shifted, diag = Z.conj().T.dot(B[:, 0]), -S, np.diag_indices(len(A))
    Y = np.empty((len(A), n_points), dtype=np.complex128)
    for k, fk in enumerate(f):
        shifted[diag] = 2j * np.pi * fk - S[diag]
        Y[:, k] = scipy.linalg.solve_triangular(shifted, ZB)
    H = Z.dot(Y)
    w = np.full(n_points, f[1] - f[0])  # trapezoidal rule
    w[[0, -1]] /= 2
    return rms**2 / high * np.real((H * w).dot(H.conj().T))


def regularized_covariance(P):
    """``P`` plus ``NOISE_FLOOR`` times its mean variance on the diagonal.

    The covariance of a band-limited input is numerically singular at high order (the
    Legendre coefficients above about ``2 pi high theta`` are nearly zero); the floor
    stands for the neurons' noise, which every dimension holds, so that no dimension is
    scaled up without bound and the Gramians have Cholesky factors.
    """
    return P + NOISE_FLOOR * np.trace(P) / len(P) * np.eye(len(P))


def balancing_transform(P, Q):
    """``T, T^-1`` with ``T P T^T = T^-T Q T^-1 = diag(s)``, ``s`` decreasing (balanced
    realization ``x' = T x`` for controllability-like ``P`` and observability ``Q``).

    The square-root method: with Cholesky factors ``P = Lp Lp^T``, ``Q = Lq Lq^T`` and
    the SVD ``Lq^T Lp = U diag(s) V^T`` (``s``, the Hankel singular values, accurate
    without squaring), ``T = s^-1/2 U^T Lq^T`` and ``T^-1 = Lp V s^-1/2``.
    """
    Lp, Lq = np.linalg.cholesky(P), np.linalg.cholesky(Q)
    U, s, Vt = np.linalg.svd(Lq.T.dot(Lp))
    return (U / np.sqrt(s)).T.dot(Lq.T), Lp.dot(Vt.T / np.sqrt(s))


def equal_diagonal_rotation(M):
    """Orthogonal ``V`` such that ``V M V^T`` has a constant diagonal (``M`` symmetric).

    ``n - 1`` Givens rotations, each setting the largest remaining diagonal entry to the
    mean by rotating it with the smallest one (``O(n)`` work each).
    """
    n = len(M)
    V, M, mean = np.eye(n), np.array(M, dtype=np.float64), np.trace(M) / len(M)
    free = np.ones(n, dtype=bool)
    for _ in range(n - 1):
        d = np.diag(M)
        i = np.flatnonzero(free)[np.argmax(d[free])]
        j = np.flatnonzero(free)[np.argmin(d[free])]
        a, b, c = d[i] - mean, d[j] - mean, M[i, j]
        # new M_ii - mean = (a + 2 c t + b t^2) / (1 + t^2), t = tan(angle); a >= 0 >= b
        disc = np.sqrt(max(c * c - a * b, 0.0))
        t = -a / (c + np.copysign(disc, c)) if (c or disc) else 0.0
        cos = 1 / np.sqrt(1 + t * t)
        G = np.array([[cos, t * cos], [-t * cos, cos]])  # rows i, j of the rotation
        rows = [i, j]
        M[rows] = G.dot(M[rows])
        M[:, rows] = M[:, rows].dot(G.T)
        V[rows] = G.dot(V[rows])
        free[i] = False
    return V


def realization_transform(system, realization, P):
    """``T, T^-1`` for the realization ``x' = T x`` of ``system`` named
    ``realization``, scaled so that each state variable has standard deviation
    ``1 / RADIUS_SIGMAS`` for the state covariance `regularized_covariance` of ``P``."""
    A, _, C, _ = system.ss
    P = regularized_covariance(P)
    T = Tinv = np.eye(len(A))
    if realization != "legendre":
        Q = scipy.linalg.solve_continuous_lyapunov(A.T, -C.T.dot(C))  # observability
        T, Tinv = balancing_transform(P, Q)
        if realization == "minimum-noise":
            V = equal_diagonal_rotation(T.dot(P).dot(T.T))
            T, Tinv = V.dot(T), Tinv.dot(V.T)
    std = RADIUS_SIGMAS * np.sqrt(np.einsum("ij,jk,ik->i", T, P, T))
    return T / std[:, None], Tinv * std[None, :]


def simulable(neuron_type, dt):
    """False for spiking neurons with a membrane time constant ``tau_rc`` (LIF and
    its kin) at a step ``dt`` not below it: their step then fails (a
    FloatingPointError) or gives meaningless spikes, depending on the machine's
    floating-point rounding. Rate neurons run at any ``dt``."""
    tau_rc = getattr(neuron_type, "tau_rc", None)
    return not (neuron_type.spiking and tau_rc is not None and dt >= tau_rc)


class DelayNetwork(nengo.Network):
    """A spiking (or rate) Legendre delay network: ``u(t - theta)`` from Nengo ensembles.

    The ``order``-dimensional state of a `.LegendreDelay` is held in ``order`` Nengo
    ensembles of ``n_neurons`` each, fed back through ``synapse`` with the mapping of
    `.ss2sim` (NEF Principle 3), discrete and exact for the simulator time step ``dt``.
    Only standard Nengo objects are built (nodes, ensembles, connections with
    `nengo.LinearFilter` synapses), so the network runs on any Nengo backend.

    What makes it accurate (each measured by ``benchmarks/delay_network.py``):

    - **Scaling for an input class.** The state is scaled so that each ensemble's radius
      of 1 is ``RADIUS_SIGMAS`` (3.5) standard deviations of its dimension when the input
      is white noise band-limited to ``input_high`` Hz with RMS ``input_rms`` (the
      stationary covariance is computed from the frequency response, see
      `state_covariance`).
    - **Realization.** ``"minimum-noise"`` (default) balances the system for that input
      (its state covariance and the observability Gramian of ``u(t - theta)``), then
      rotates it so that every dimension has the same variance and the same weight in
      the output; this minimizes the output variance caused by independent, equal noise
      in each ensemble (Mullis & Roberts, 1976). ``"balanced"`` stops before the
      rotation; ``"legendre"`` keeps the Legendre coordinates (only scaled).
    - **Any order.** Under a band-limited input, the Legendre dimensions above about
      ``2 pi input_high theta`` are nearly zero, so the state covariance is numerically
      singular from order 16-32 on. A noise floor (``NOISE_FLOOR``, 1e-6 of the mean
      variance, on every dimension: the neurons' noise) bounds the scaling, and the
      balancing uses the square-root method (Cholesky factors of both Gramians and the
      SVD of their product, ``T^-1`` formed directly). The minimum-noise realization
      stays well conditioned (``cond(T)`` 42 at order 32, 97 at order 1024, default
      input class; ``benchmarks/delay_network_orders.py``).
    - **Readouts from the filtered state.** Every output is read from ``state``, the
      synapse-filtered decoded state that the ensembles receive (the state of the
      system, by Principle 3), never from the spiking decoded values: the spike noise
      is filtered by ``synapse`` without adding delay.
    - **Light decoder regularization** (``LstsqL2(reg=0.01)``): in a memory, the
      shrinkage of regularized decoders acts as a leak that accumulates over ``theta``.
    - **Neuron lead** (``calibrate=True``): spiking LIF neurons respond ahead of their
      rate approximation (about 4 ms at 100-120 Hz). The network measures this lead
      by simulating its ensembles (on the Nengo reference simulator, at ``dt``) driven
      by the ideal state for a sample of the input class, fitting
      ``decoded[t] = x[t] + c (x[t] - x[t-1])`` to the synapse-filtered signals, and
      maps the system onto the synapse followed by that lead, so the network
      compensates for it. The lead is about 0 for rate neurons. On a backend whose
      neurons differ from the reference simulator's (such as Loihi), measure there or
      use ``calibrate=False``.

    Parameters
    ----------
    n_neurons : int
        Neurons per state dimension (``order * n_neurons`` in all).
    theta : float
        The delay (window length), in seconds.
    order : int
        Order of the Legendre delay system (state dimensions).
    synapse : nengo.LinearFilter or float, optional
        Synapse of the recurrent connection (a float is a `nengo.Lowpass` time
        constant). The input enters through the filters of `.input_synapses`.
    dt : float, optional
        The simulator time step the network is built for; simulate it with this ``dt``.
    input_high : float, optional
        Cutoff frequency (Hz) of the band-limited white noise that the scaling assumes;
        default ``1 / theta``.
    input_rms : float, optional
        RMS of that input (the default is `nengo.processes.WhiteSignal`'s).
    realization : "minimum-noise" or "balanced" or "legendre", optional
        Coordinates of the state held in the ensembles (see above).
    solver : nengo.solvers.Solver, optional
        Decoder solver of the recurrent connections.
    calibrate : bool, optional
        Measure and compensate the neurons' lead (see above); needs one simulation of
        the ensembles for ``10 / input_high`` seconds when the network is created.
    label, seed, add_to_container
        As for `nengo.Network`; ``seed`` also seeds the calibration (0 if None).
    **ens_kwargs
        Passed to every `nengo.Ensemble` (``neuron_type``, ``max_rates``, ...).

    Attributes
    ----------
    input : nengo.Node
        The signal ``u`` (one dimension).
    output : nengo.Node
        The decoded ``u(t - theta)``; `add_output` decodes other delays.
    state : nengo.Node
        The state of ``system`` in the network (filtered, as the ensembles receive it).
    state_ensembles : list of nengo.Ensemble
        One ensemble per state dimension.
    system : LinearSystem
        The realized and scaled Legendre system whose state the network holds.
    transform : ndarray
        ``T``, with ``state = T m`` for the `.LegendreDelay` state ``m``.
    transform_inverse : ndarray
        ``T^-1``, computed with ``T`` (not by inverting it): ``m = T^-1 state``.
    lead : float
        The neurons' lead in seconds (0 without calibration).
    """

    n_neurons = CountParam("n_neurons", low=1, readonly=True)
    theta = FiniteNumberParam("theta", low=0, low_open=True, readonly=True)
    order = CountParam("order", low=1, readonly=True)
    synapse = SynapseParam("synapse", optional=False, readonly=True)
    dt = FiniteNumberParam("dt", low=0, low_open=True, readonly=True)
    input_high = FiniteNumberParam("input_high", low=0, low_open=True, readonly=True)
    input_rms = FiniteNumberParam("input_rms", low=0, low_open=True, readonly=True)
    realization = EnumParam("realization", values=REALIZATIONS, readonly=True)
    solver = SolverParam("solver", readonly=True)
    calibrate = BoolParam("calibrate", readonly=True)

    def __init__(
        self,
        n_neurons,
        theta,
        order,
        synapse=0.1,
        dt=0.001,
        input_high=None,
        input_rms=0.5,
        realization="minimum-noise",
        solver=LstsqL2(reg=0.01),
        calibrate=True,
        label=None,
        seed=None,
        add_to_container=None,
        **ens_kwargs,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        self.n_neurons = n_neurons
        self.theta = theta
        self.order = order
        self.synapse = synapse
        self.dt = dt
        self.input_high = 1.0 / theta if input_high is None else input_high
        self.input_rms = input_rms
        self.realization = realization
        self.solver = solver
        self.calibrate = calibrate
        synapse_transfer_function(self.synapse, dt)  # raises if it cannot be mapped

        legendre = LegendreDelay(theta, order)
        P = state_covariance(legendre, self.input_high, input_rms)
        T, Tinv = realization_transform(legendre, realization, P)
        self.transform, self.transform_inverse = T, Tinv
        A, B, C, D = legendre.ss
        self.system = LinearSystem(T.dot(A).dot(Tinv), T.dot(B), C.dot(Tinv), D)

        self.lead = self._measure_lead(ens_kwargs) if calibrate else 0.0
        loop = self._loop_synapse(self.lead / dt)
        mapped = ss2sim(self.system, loop, dt)

        with self:
            self.input = nengo.Node(size_in=1, label="input")
            self.state = nengo.Node(size_in=order, label="state")
            for j, filt in enumerate(input_synapses(loop, dt)):
                nengo.Connection(
                    self.input, self.state, transform=mapped.B[:, [j]], synapse=filt
                )
            self.state_ensembles = self._make_ensembles(ens_kwargs)
            for k, ens in enumerate(self.state_ensembles):
                nengo.Connection(self.state[k], ens, synapse=None)
                nengo.Connection(
                    ens,
                    self.state,
                    transform=mapped.A[:, [k]],
                    synapse=self.synapse,
                    solver=self.solver,
                )
        self.output = self.add_output(theta, label="output")

    def _make_ensembles(self, ens_kwargs, dims=None):
        return [
            nengo.Ensemble(self.n_neurons, 1, label=f"state[{k}]", **ens_kwargs)
            for k in (range(self.order) if dims is None else dims)
        ]

    def _measure_lead(self, ens_kwargs):
        """Fit ``decoded[t] = x[t] + c (x[t] - x[t-1])`` for ensembles like the network's
        driven by the ideal state ``x`` of a sample of the input class; return ``c * dt``
        (seconds). Seeded by the network's seed, else by 0, so it is reproducible.
        At most ``LEAD_DIMENSIONS`` dimensions, evenly spaced, are simulated: the lead
        is the neurons', the same in every dimension."""
        seed = 0 if self.seed is None else self.seed
        duration = 10 / self.input_high
        u = nengo.processes.WhiteSignal(
            duration, high=self.input_high, rms=self.input_rms, seed=seed
        ).run(duration, dt=self.dt)
        n_dims = min(self.order, LEAD_DIMENSIONS)
        dims = np.linspace(0, self.order - 1, n_dims).round().astype(int)
        x = LinearSystemState(self.system).apply(u, dt=self.dt)[:, dims]
        with nengo.Network(seed=seed, add_to_container=False) as net:
            stim = nengo.Node(nengo.processes.PresentInput(x, self.dt))
            decoded = nengo.Node(size_in=len(dims))
            for k, ens in enumerate(self._make_ensembles(ens_kwargs, dims)):
                self._check_simulable(ens.neuron_type)
                nengo.Connection(stim[k], ens, synapse=None)
                nengo.Connection(ens, decoded[k], synapse=None, solver=self.solver)
            probe = nengo.Probe(decoded)
        with nengo.Simulator(net, dt=self.dt, progress_bar=False) as sim:
            try:
                sim.run_steps(len(x))
            except FloatingPointError as e:
                raise self._cannot_simulate(str(e)) from None
        x_f = self.synapse.filt(x, dt=self.dt)
        error = self.synapse.filt(sim.data[probe], dt=self.dt) - x_f
        step = np.diff(x_f, axis=0, prepend=0)
        skip = len(x) // 10  # the synapse's initial transient
        c = np.sum(error[skip:] * step[skip:]) / np.sum(step[skip:] ** 2)
        return c * self.dt

    def _check_simulable(self, neuron_type):
        """Refuse neurons that cannot run at ``dt`` (`simulable`)."""
        if not simulable(neuron_type, self.dt):
            raise self._cannot_simulate(
                f"{neuron_type} has tau_rc={neuron_type.tau_rc}"
            )

    def _cannot_simulate(self, why):
        """The ValidationError for neurons that cannot be simulated at ``dt``."""
        return ValidationError(
            f"The neurons cannot be simulated at dt={self.dt} ({why}; for nengo.LIF, "
            "dt must be well below tau_rc); use a smaller dt, other neurons, or "
            "calibrate=False",
            attr="dt",
            obj=self,
        )

    def _loop_synapse(self, c):
        """The recurrent loop as Principle 3 sees it: the synapse (Nengo's discretization,
        with its one-step delay), then the neurons' lead ``1 + c (1 - z^-1)``.

        Without a lead (``c = 0``) the loop is the synapse itself: the lead's factor
        ``z / z`` would make the mapping solve with the discrete ``A``, which is
        numerically singular when the system has modes much faster than ``dt``.
        """
        if c == 0:
            return self.synapse
        num, den = synapse_transfer_function(self.synapse, self.dt)
        return LinearFilter(
            np.polymul(np.trim_zeros(num[::-1], "f"), [1 + c, -c]),
            np.polymul(den[::-1], [1, 0]),
            analog=False,
        )

    def _check_delays(self, delays):
        """``delays`` as a 1-D float array; raises unless all are in ``[0, theta]``."""
        delays = np.atleast_1d(np.asarray(delays, dtype=np.float64))
        if delays.ndim != 1 or not np.all((delays >= 0) & (delays <= self.theta)):
            raise ValidationError(
                f"Delays must be a 1-D array of values in [0, theta={self.theta}] "
                f"(got {delays})",
                attr="delays",
                obj=self,
            )
        return delays

    def _readout(self, delays):
        """The matrix decoding ``u(t - delays)`` from the state."""
        return legendre_readout(self.order, delays / self.theta).dot(
            self.transform_inverse
        )

    def add_output(self, delays, label=None):
        """Add a node decoding ``u(t - delay)`` for each of ``delays``.

        Parameters
        ----------
        delays : float or array_like
            Delays in ``[0, theta]``; ``np.linspace(0, theta, k)`` decodes the window.
        label : str, optional
            Label of the node.

        Returns
        -------
        nengo.Node
            A node with one dimension per delay.
        """
        delays = self._check_delays(delays)
        readout = self._readout(delays)
        with self:
            node = nengo.Node(size_in=len(delays), label=label)
            nengo.Connection(self.state, node, transform=readout, synapse=None)
        return node
