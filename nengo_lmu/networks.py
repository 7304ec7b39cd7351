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


def state_covariance(system, high, rms, n_points=1000):
    """Stationary state covariance of ``system`` driven by band-limited white noise.

    The input is white noise with a flat spectrum up to ``high`` Hz and RMS ``rms`` (as
    `nengo.processes.WhiteSignal` makes it), so the covariance is the integral of the
    state's frequency response ``H(f) = (2 pi i f I - A)^-1 B`` over the band::

        P = rms**2 / high * integral_0^high Re[H(f) H(f)^*] df

    computed by the trapezoidal rule on ``n_points`` frequencies.
    """
    A, B, _, _ = system.ss
    f = np.linspace(0, high, n_points)
    sI_A = 2j * np.pi * f[:, None, None] * np.eye(len(A)) - A
    H = np.linalg.solve(sI_A, np.broadcast_to(B, (n_points,) + B.shape))[..., 0]
    HH = np.real(H[:, :, None] * H[:, None, :].conj())
    return rms**2 / high * np.trapz(HH, f, axis=0)


def balancing_transform(P, Q):
    """``T`` with ``T P T^T = T^-T Q T^-1 = diag(s)``, ``s`` decreasing (balanced
    realization ``x' = T x`` for controllability-like ``P`` and observability ``Q``)."""
    L = np.linalg.cholesky(P)
    s2, U = np.linalg.eigh(L.T.dot(Q).dot(L))  # s2: squared Hankel singular values
    s2, U = s2[::-1], U[:, ::-1]
    return (s2[:, None] ** 0.25 * U.T).dot(np.linalg.inv(L))


def equal_diagonal_rotation(M):
    """Orthogonal ``V`` such that ``V M V^T`` has a constant diagonal (``M`` symmetric).

    ``n - 1`` Givens rotations, each setting the largest remaining diagonal entry to the
    mean by rotating it with the smallest one.
    """
    n = len(M)
    V, M, mean = np.eye(n), np.array(M, dtype=np.float64), np.trace(M) / len(M)
    free = list(range(n))
    for _ in range(n - 1):
        d = np.diag(M)
        i, j = max(free, key=d.__getitem__), min(free, key=d.__getitem__)
        a, b, c = d[i] - mean, d[j] - mean, M[i, j]
        # new M_ii - mean = (a + 2 c t + b t^2) / (1 + t^2), t = tan(angle); a >= 0 >= b
        disc = np.sqrt(max(c * c - a * b, 0.0))
        t = -a / (c + np.copysign(disc, c)) if (c or disc) else 0.0
        cos = 1 / np.sqrt(1 + t * t)
        G = np.eye(n)
        G[i, i] = G[j, j] = cos
        G[i, j], G[j, i] = t * cos, -t * cos
        M, V = G.dot(M).dot(G.T), G.dot(V)
        free.remove(i)
    return V


def realization_transform(system, realization, P):
    """``T`` for the realization ``x' = T x`` of ``system`` named ``realization``, scaled
    so that each state variable has standard deviation ``1 / RADIUS_SIGMAS`` for a
    state covariance ``P``."""
    A, _, C, _ = system.ss
    T = np.eye(len(A))
    if realization != "legendre":
        Q = scipy.linalg.solve_continuous_lyapunov(A.T, -C.T.dot(C))  # observability
        T = balancing_transform(P, Q)
        if realization == "minimum-noise":
            T = equal_diagonal_rotation(T.dot(P).dot(T.T)).dot(T)
    std = np.sqrt(np.diag(T.dot(P).dot(T.T)))
    return T / (RADIUS_SIGMAS * std[:, None])


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
    - **Readouts from the filtered state.** Every output is read from `state`, the
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
        The state of `system` in the network (filtered, as the ensembles receive it).
    state_ensembles : list of nengo.Ensemble
        One ensemble per state dimension.
    system : LinearSystem
        The realized and scaled Legendre system whose state the network holds.
    transform : ndarray
        ``T``, with ``state = T m`` for the `.LegendreDelay` state ``m``.
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
        self.transform = realization_transform(legendre, realization, P)
        T, Tinv = self.transform, np.linalg.inv(self.transform)
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

    def _make_ensembles(self, ens_kwargs):
        return [
            nengo.Ensemble(self.n_neurons, 1, label=f"state[{k}]", **ens_kwargs)
            for k in range(self.order)
        ]

    def _measure_lead(self, ens_kwargs):
        """Fit ``decoded[t] = x[t] + c (x[t] - x[t-1])`` for ensembles like the network's
        driven by the ideal state ``x`` of a sample of the input class; return ``c * dt``
        (seconds). Seeded by the network's seed, else by 0, so it is reproducible."""
        seed = 0 if self.seed is None else self.seed
        duration = 10 / self.input_high
        u = nengo.processes.WhiteSignal(
            duration, high=self.input_high, rms=self.input_rms, seed=seed
        ).run(duration, dt=self.dt)
        x = LinearSystemState(self.system).apply(u, dt=self.dt)
        with nengo.Network(seed=seed, add_to_container=False) as net:
            stim = nengo.Node(nengo.processes.PresentInput(x, self.dt))
            decoded = nengo.Node(size_in=self.order)
            for k, ens in enumerate(self._make_ensembles(ens_kwargs)):
                nengo.Connection(stim[k], ens, synapse=None)
                nengo.Connection(ens, decoded[k], synapse=None, solver=self.solver)
            probe = nengo.Probe(decoded)
        with nengo.Simulator(net, dt=self.dt, progress_bar=False) as sim:
            sim.run_steps(len(x))
        x_f = self.synapse.filt(x, dt=self.dt)
        error = self.synapse.filt(sim.data[probe], dt=self.dt) - x_f
        step = np.diff(x_f, axis=0, prepend=0)
        skip = len(x) // 10  # the synapse's initial transient
        c = np.sum(error[skip:] * step[skip:]) / np.sum(step[skip:] ** 2)
        return c * self.dt

    def _loop_synapse(self, c):
        """The recurrent loop as Principle 3 sees it: the synapse (Nengo's discretization,
        with its one-step delay), then the neurons' lead ``1 + c (1 - z^-1)``."""
        num, den = synapse_transfer_function(self.synapse, self.dt)
        return LinearFilter(
            np.polymul(np.trim_zeros(num[::-1], "f"), [1 + c, -c]),
            np.polymul(den[::-1], [1, 0]),
            analog=False,
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
        delays = np.atleast_1d(np.asarray(delays, dtype=np.float64))
        if delays.ndim != 1 or not np.all((delays >= 0) & (delays <= self.theta)):
            raise ValidationError(
                f"Delays must be a 1-D array of values in [0, theta={self.theta}] "
                f"(got {delays})",
                attr="delays",
                obj=self,
            )
        readout = legendre_readout(self.order, delays / self.theta).dot(
            np.linalg.inv(self.transform)
        )
        with self:
            node = nengo.Node(size_in=len(delays), label=label)
            nengo.Connection(self.state, node, transform=readout, synapse=None)
        return node
