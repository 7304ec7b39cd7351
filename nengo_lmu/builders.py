"""Build linear systems and memories into a Nengo model as `SimLinearSystem` operators.

The operator is a `nengo.builder.processes.SimProcess`, so the reference simulator
steps it with the process' own ``make_step``. It is a distinct type so that NengoDL,
which looks its operator builders up by exact type, uses the native TensorFlow builder
in `nengo_lmu.dl_builders` instead of wrapping the process in a numpy function. That
module is imported (and its builder registered) the first time a model is built while
NengoDL is loaded, so plain Nengo use never imports TensorFlow.
"""

import sys

from nengo.builder import Builder, Signal
from nengo.builder.processes import SimProcess

from nengo_lmu.memory import LinearSystemState
from nengo_lmu.systems import LinearSystem


class SimLinearSystem(SimProcess):
    """Step a `.LinearSystem` synapse or a `.LinearSystemState` process.

    Same signals and semantics as `nengo.builder.processes.SimProcess`, with the state
    ``X`` of shape ``(input dimensions, order)``.
    """

    @property
    def outputs_state(self):
        """True if the output is the state itself (a `.LinearSystemState`)."""
        return isinstance(self.process, LinearSystemState)

    def discrete_ss(self, dt):
        """The discrete ``(A, B, C, D)`` stepped at ``dt`` (C, D are None when the
        output is the state)."""
        if self.outputs_state:
            A, B, _, _ = self.process.discrete_system(dt).ss
            return A, B, None, None
        return self.process.discrete_ss(dt)

    @property
    def merge_key(self):
        """Operators with equal keys step the same system and can run as one."""
        if self.outputs_state:
            return ("state", self.mode, self.process.system, self.process.method)
        return ("synapse", self.mode, self.process)


@Builder.register(LinearSystem)
@Builder.register(LinearSystemState)
def build_linear_system(model, process, sig_in, sig_out=None, mode="set"):
    """Add a `.SimLinearSystem` operator for ``process`` reading ``sig_in``.

    Called by Nengo's builder for synapses (``mode="update"``) and node outputs
    (``mode="set"``); returns the output signal.
    """
    if "nengo_dl" in sys.modules:
        import nengo_lmu.dl_builders  # noqa: F401 (registers the TensorFlow builder)

    if sig_out is None:
        sig_out = Signal(shape=sig_in.shape, name=f"{sig_in.name}.{process}")
    X = process.make_state(sig_in.shape, sig_out.shape, model.dt, dtype=sig_out.dtype)
    state = {"X": Signal(X["X"], name=f"{process}.X")}
    model.sig[process]["_state_X"] = state["X"]
    model.add_op(
        SimLinearSystem(
            process,
            sig_in,
            sig_out,
            model.time,
            mode=mode,
            state=state,
            tag=str(process),
        )
    )
    return sig_out
