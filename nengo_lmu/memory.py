"""Nengo processes whose output is the state of a linear system (the LMU memory)."""

import numpy as np
from nengo.exceptions import SimulationError, ValidationError
from nengo.params import BoolParam, EnumParam, IntParam, Parameter
from nengo.processes import Process
from nengo.rc import rc

from nengo_lmu.systems import DISCRETIZE_METHODS, LegendreDelay, LinearSystem


class LinearSystemParam(Parameter):
    """A parameter whose value is a `.LinearSystem` (compared by value)."""

    equatable = True

    def coerce(self, instance, system):
        self.check_type(instance, system, LinearSystem)
        return super().coerce(instance, system)


def discrete_system(system, dt, method="zoh"):
    """``system`` as stepped at time step ``dt``: an analog system discretized with
    ``method`` (see `.LinearSystem.discretize`), a discrete one as it is (after
    checking that ``dt`` matches its own)."""
    if system.analog:
        return system.discretize(dt, method=method)
    system.discrete_ss(dt)  # checks that dt matches
    return system


class LinearSystemState(Process):
    """Output the states of a single-input `.LinearSystem` driven by each input.

    For every input dimension ``k`` the process keeps a state ``x_k`` (``system.order``
    values) with ``x_k[t] = A x_k[t-1] + B u_k[t]`` and outputs all of them,
    dimension-major: ``[x_0, x_1, ...]`` (the layout keras-lmu uses for its memory).
    An analog system is discretized at the simulator's ``dt``.

    Use it as ``nengo.Node(LinearSystemState(system, size_in=d))``.

    Parameters
    ----------
    system : LinearSystem
        A single-input system (its ``C`` and ``D`` are not used).
    size_in : int, optional
        Number of input dimensions ``d``; the output has ``d * system.order``.
    method : "zoh" or "euler" or "bilinear", optional
        How an analog system is discretized (see `.LinearSystem.discretize`).
    """

    system = LinearSystemParam("system", readonly=True)
    size_in = IntParam("size_in", low=1, readonly=True)
    method = EnumParam("method", values=DISCRETIZE_METHODS, readonly=True)

    def __init__(self, system, size_in=1, method="zoh", **kwargs):
        self.system = system
        self.size_in = size_in
        self.method = method
        if system.size_in != 1:
            raise ValidationError(
                f"The system must have one input (it has {system.size_in})",
                attr="system",
                obj=self,
            )
        kwargs.setdefault("default_size_in", size_in)
        super().__init__(default_size_out=size_in * system.order, **kwargs)

    def discrete_system(self, dt):
        """The discrete system stepped at time step ``dt``."""
        return discrete_system(self.system, dt, self.method)

    def _check_shapes(self, shape_in, shape_out):
        """Check the node's shapes; return the number of input signals ``d``."""
        d, order = shape_in[0], self.system.order
        if shape_out != (d * order,):
            raise ValidationError(
                f"A node with size_in={d} needs size_out = size_in * order = "
                f"{d * order} (got {shape_out[0]}); create the node as "
                f"nengo.Node({type(self).__name__}(..., size_in={d}))",
                attr="size_in",
                obj=self,
            )
        return d

    def make_state(self, shape_in, shape_out, dt, dtype=None):
        """Create the state ``X`` of shape ``(size_in, order)``."""
        d = self._check_shapes(shape_in, shape_out)
        self.discrete_system(dt)  # validates dt
        dtype = np.dtype(rc.float_dtype if dtype is None else dtype)
        return {"X": np.zeros((d, self.system.order), dtype=dtype)}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        """Return ``step(t, u)``, which updates and returns the flattened state."""
        self._check_shapes(shape_in, shape_out)
        A, B, _, _ = self.discrete_system(dt).ss
        X = state["X"]
        AT, b = A.T.copy(), B[:, 0].copy()

        def step_linearsystemstate(t, u):
            X[...] = X.dot(AT) + u[:, None] * b
            return X.ravel()

        return step_linearsystemstate


class LegendreMemory(LinearSystemState):
    """The LMU's memory: the state of a `.LegendreDelay` for each input dimension.

    Use it as ``nengo.Node(LegendreMemory(theta, order, size_in=d))``; the output
    (``d * order`` values) holds, for each dimension, the Legendre coefficients of its
    last ``theta`` seconds (decode them with `.legendre_readout`).

    Parameters
    ----------
    theta : float
        Window length in seconds (with the simulator's ``dt`` setting the steps).
    order : int
        Number of Legendre coefficients per input dimension.
    size_in : int, optional
        Number of input dimensions.
    method : "zoh" or "euler" or "bilinear", optional
        Discretization of the continuous Legendre system.
    theta_input : bool, optional
        If True, the node takes one more input, after the ``size_in`` signals:
        ``dt / theta``, the fraction of the window that one step covers, and each step
        uses the memory discretized at that window (``method`` "zoh" or "euler";
        ``theta`` is then only the nominal window). NengoDL differentiates through
        the discretization, so a trainable connection into this input learns
        ``theta`` (as `.LMU` does with ``trainable=["theta"]``).
    """

    theta_input = BoolParam("theta_input", readonly=True)

    def __init__(
        self, theta, order, size_in=1, method="zoh", theta_input=False, **kwargs
    ):
        self.theta_input = theta_input
        super().__init__(
            LegendreDelay(theta, order),
            size_in=size_in,
            method=method,
            default_size_in=size_in + theta_input,
            **kwargs,
        )
        if theta_input and method not in ("zoh", "euler"):
            raise ValidationError(
                f"A theta input needs method 'zoh' or 'euler' (got {method!r})",
                attr="method",
                obj=self,
            )

    @property
    def theta(self):
        """The window length."""
        return self.system.theta

    @property
    def order(self):
        """The number of Legendre coefficients per input dimension."""
        return self.system.order

    @property
    def unit_system(self):
        """The continuous Legendre system of a window of 1 (its ``A``, ``B`` times
        ``theta``); discretized at ``dt / theta``, it is the memory's discrete
        system."""
        return LegendreDelay(1.0, self.order)

    def _check_shapes(self, shape_in, shape_out):
        return super()._check_shapes((shape_in[0] - self.theta_input,), shape_out)

    def make_step(self, shape_in, shape_out, dt, rng, state):
        """Return ``step(t, u)``, which updates and returns the flattened state (with
        a theta input, the last value of ``u`` is ``dt / theta``)."""
        if not self.theta_input:
            return super().make_step(shape_in, shape_out, dt, rng, state)
        self._check_shapes(shape_in, shape_out)
        X = state["X"]
        current = {"rate": None}

        def step_legendrememory(t, u):
            rate = u[-1]
            if rate != current["rate"]:
                if not (np.isfinite(rate) and rate > 0):
                    raise SimulationError(
                        f"{self}: the theta input dt / theta must be a finite number "
                        f"> 0 (got {rate})"
                    )
                A, B, _, _ = self.unit_system.discretize(rate, self.method).ss
                current.update(rate=rate, AT=A.T.copy(), b=B[:, 0].copy())
            X[...] = X.dot(current["AT"]) + u[:-1, None] * current["b"]
            return X.ravel()

        return step_legendrememory

    @property
    def _argreprs(self):
        args = [f"theta={self.theta!r}", f"order={self.order!r}"]
        args += [] if self.size_in == 1 else [f"size_in={self.size_in}"]
        args += [] if self.method == "zoh" else [f"method={self.method!r}"]
        return args + (["theta_input=True"] if self.theta_input else [])
