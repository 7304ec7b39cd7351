"""Principle 3 of the NEF: implement a linear system with synapses instead of integrators.

A recurrent Nengo network whose state ``x`` feeds back through a synapse ``h`` (the
connection ``x -> x`` with ``transform=A_H, synapse=h``) has the dynamics of ``h``, not
of an integrator. `ss2sim` finds the matrices that make it implement a target system
``dx/dt = A x + B u`` anyway (Voelker & Eliasmith, 2018, "Improving spiking dynamical
networks: Accurate delays, higher-order synapses, and time cells", Neural Computation
30(3); Voelker, 2019, PhD thesis, ch. 5), for any `nengo.LinearFilter` synapse.

For a synapse with transfer function ``h(s) = N(s) / D(s)`` (``D`` of degree ``k``),
the network is ``x = h A_H x + sum_j F_j B_j u``, where the input goes through the
filters ``F_j(s) = g s^j / D(s)`` (`input_synapses`; ``g`` is ``N`` at DC, so that
``F_0 = h`` when ``N`` is a constant). Requiring ``s x = A x + B u`` gives::

    A_H = D(A) N(A)^-1
    B_j = Q_j B / g,   Q_j = sum_{i=j+1}^{k} (d_i I - n_i A_H) A^(i-j-1)

with ``d_i``, ``n_i`` the coefficients of ``D`` and ``N`` (``Q(s) (s I - A) =
D(s) I - N(s) A_H``). The discrete mapping is the same in ``z``, with the target
discretized by zero-order hold and the synapse as a Nengo simulation applies it
(`synapse_transfer_function`). For ``h = 1 / sum_i c_i s^i`` this is the published
mapping: ``A_H = sum_i c_i A^i``, and ``F_j B_j u`` is ``h`` applied to ``B_j`` times the
``j``-th derivative of ``u``. The general form is exact also for synapses with zeros,
such as `nengo.Alpha` discretized by zero-order hold, whose numerator nengolib's
discrete mapping replaces by its sum (exact only for inputs held over k steps).
"""

import numpy as np
from nengo.exceptions import ValidationError
from nengo.synapses import LinearFilter
from nengo.utils.filter_design import cont2discrete, ss2tf, tf2ss

from nengo_lmu.systems import LinearSystem


def _check_dt(dt):
    if dt is not None and not (
        isinstance(dt, (int, float, np.number)) and np.isfinite(dt) and dt > 0
    ):
        raise ValidationError(f"Must be None or a finite number > 0 (got {dt!r})", "dt")


def synapse_transfer_function(synapse, dt=None):
    """The transfer function ``N / D`` of ``synapse`` as a recurrent Nengo loop sees it.

    Continuous (``dt=None``): the synapse's own ``num / den``. Discrete: the synapse
    discretized the way Nengo does it (its ``method``, at ``dt``) and delayed by the
    one step that Nengo's synapse update adds (a synapse's output is read in the
    next time step), so that the result is exactly what a signal goes through on a
    connection in a simulation with time step ``dt``.

    Parameters
    ----------
    synapse : nengo.LinearFilter
        Any linear filter synapse (`nengo.Lowpass`, `nengo.Alpha`, ...).
    dt : float or None
        Simulator time step, or None for the continuous transfer function.

    Returns
    -------
    num, den : ndarray
        Coefficients, lowest power first; ``num`` is padded to the length of ``den``.
    """
    _check_dt(dt)
    if not isinstance(synapse, LinearFilter):
        raise ValidationError(
            f"Principle 3 needs a linear filter synapse (a nengo.LinearFilter, such as "
            f"nengo.Lowpass or nengo.Alpha); got {synapse!r}",
            attr="synapse",
        )
    if dt is None:
        if not synapse.analog:
            raise ValidationError(
                f"A discrete synapse ({synapse!r}) needs the simulator's dt", attr="dt"
            )
        num, den = np.trim_zeros(synapse.num, "f"), np.trim_zeros(synapse.den, "f")
    else:
        A, B, C, D = tf2ss(synapse.num, synapse.den)  # as nengo.LinearFilter steps it
        if synapse.analog and len(A) > 0:
            A, B, C, D, _ = cont2discrete((A, B, C, D), dt, method=synapse.method)
        num, den = ss2tf(A, B, C, D)
        num = num[0]
        if np.all(D == 0):
            num = num[1:]  # the leading coefficient is D; the step delay cancels z
        else:
            den = np.append(den, 0.0)  # the one-step delay of the synapse update
    if len(den) < 2 or len(num) > len(den):
        raise ValidationError(
            f"The synapse must have dynamics and a proper transfer function "
            f"(got numerator {synapse.num}, denominator {synapse.den})",
            attr="synapse",
        )
    num = np.concatenate([np.zeros(len(den) - len(num)), num])
    return num[::-1], den[::-1]


def _dc_gain_numerator(num, dt):
    """``N`` at DC (``s = 0``, or ``z = 1`` when discrete)."""
    gain = num[0] if dt is None else np.sum(num)
    if gain == 0:
        raise ValidationError(
            "The synapse must pass constant signals (its DC gain is zero)",
            attr="synapse",
        )
    return gain


def ss2sim(system, synapse, dt=None):
    """Map a linear system onto a synapse (NEF Principle 3).

    Returns ``(A_H, B_H, C, D)`` such that the network::

        x = synapse(A_H x) + sum_j input_synapses(synapse, dt)[j](B_H[:, block j] u)

    (recurrent connection ``x -> x`` with ``transform=A_H, synapse=synapse``; input
    connections ``u -> x`` with ``transform=B_j`` and the synapses of
    `input_synapses`) has the state of ``system``: exactly, in continuous time
    (``dt=None``); exactly, in a Nengo simulation with time step ``dt`` otherwise,
    with the target the zero-order-hold discretization of ``system``, one step late
    (a synapse's output is read in the next step: ``x[t] = A x[t-1] + B u[t-1]``).

    For `nengo.Lowpass` (``tau``) this is ``A_H = tau A + I``, ``B_H = tau B``, or,
    with ``dt`` and ``a = exp(-dt / tau)``, ``A_H = (Ad - a I) / (1 - a)``,
    ``B_H = Bd / (1 - a)``, and the input enters through the same synapse.

    Parameters
    ----------
    system : LinearSystem
        The target system; continuous if ``dt`` is None, else continuous (discretized
        here with zero-order hold) or discrete at ``dt``.
    synapse : nengo.LinearFilter
        The synapse of the recurrent connection (analog or discrete, any order).
    dt : float or None
        The simulator's time step for the discrete mapping; None for continuous.

    Returns
    -------
    LinearSystem
        ``(A_H, B_H, C, D_H)``. For a synapse of order ``k``, ``B_H`` has ``k`` blocks of
        ``system.size_in`` columns, block ``j`` for the input filtered by
        ``input_synapses(synapse, dt)[j]``; ``D_H`` is ``D`` padded with zeros to match.
        Discrete (``analog=False``, with ``dt``) when ``dt`` is given.
    """
    if not isinstance(system, LinearSystem):
        raise ValidationError(f"Must be a LinearSystem (got {system!r})", "system")
    num, den = synapse_transfer_function(synapse, dt)
    if dt is None:
        if not system.analog:
            raise ValidationError(
                "A discrete system needs the dt it is simulated with", attr="dt"
            )
        A, B, C, D = system.ss
    else:
        A, B, C, D = system.discrete_ss(dt)
    powers = [np.eye(len(A))]
    for _ in range(len(den) - 1):
        powers.append(powers[-1].dot(A))
    num_A = sum(n * p for n, p in zip(num, powers))
    den_A = sum(d * p for d, p in zip(den, powers))
    if np.linalg.cond(num_A) > 1e12:
        raise ValidationError(
            "The synapse's numerator vanishes at an eigenvalue of the system's A, so "
            "no recurrent transform maps the system onto it",
            attr="synapse",
        )
    A_H = np.linalg.solve(num_A, den_A)  # polynomials in A commute
    k = len(den) - 1
    gain = _dc_gain_numerator(num, dt)
    # D(s) I - N(s) A_H = Q(s) (s I - A), so Q_j = sum_{i>j} (d_i I - n_i A_H) A^(i-j-1)
    M = [d * powers[0] - n * A_H for n, d in zip(num, den)]
    Q = [
        sum(M[i].dot(powers[i - j - 1]) for i in range(j + 1, k + 1)) for j in range(k)
    ]
    B_H = np.hstack([q.dot(B) / gain for q in Q])
    D_H = np.hstack([D] + [np.zeros_like(D)] * (k - 1))
    return LinearSystem(A_H, B_H, C, D_H, analog=dt is None, dt=dt)


def input_synapses(synapse, dt=None):
    """The synapses through which the input blocks of `ss2sim` enter the network.

    Block ``j`` of ``B_H`` goes through ``F_j = g s^j / D(s)`` (``z`` in place of ``s``
    when ``dt`` is given), where ``N / D`` is the synapse's transfer function from
    `synapse_transfer_function` and ``g`` is ``N`` at DC. For a first-order synapse with a
    constant numerator, such as `nengo.Lowpass`, the one filter is the synapse itself
    (in a simulation at ``dt``).

    Parameters
    ----------
    synapse : nengo.LinearFilter
        The synapse given to `ss2sim`.
    dt : float or None
        The time step given to `ss2sim`.

    Returns
    -------
    list of nengo.LinearFilter
        ``k`` filters, analog if ``dt`` is None, else discrete at ``dt``.
    """
    num, den = synapse_transfer_function(synapse, dt)
    gain = _dc_gain_numerator(num, dt)
    return [
        LinearFilter(np.eye(1, j + 1, 0)[0] * gain, den[::-1], analog=dt is None)
        for j in range(len(den) - 1)
    ]
