"""nengo-ocl support: a `Simulator` that steps `.SimLinearSystem` operators in OpenCL.

nengo-ocl plans each operator type with a ``_plan_<type name>`` method of its simulator
and has none for nengo_lmu's `.SimLinearSystem` (`.LinearSystem` synapses and
`.LinearSystemState` / `.LegendreMemory` nodes), so `nengo_ocl.Simulator` fails on them.
`Simulator` adds that method: one OpenCL kernel steps every linear system of a group,
a work group per state row (an input dimension of one operator)::

    x_new = A x + B u,   y = C x_new  (D = 0),  y = C x + D u  (D != 0),  y = x_new

(the last for a `.LinearSystemState`, whose output is its state), the same recurrence
as `.LinearSystem.make_step`, in float32, with the matrices on the device. Use it as
``nengo_lmu.backends.ocl.Simulator(net)`` wherever you would use `nengo_ocl.Simulator`.
"""

import nengo_ocl
import numpy as np
import pyopencl as cl
from mako.template import Template
from nengo.exceptions import BuildError
from nengo_ocl.clra_nonlinearities import _plan_template
from nengo_ocl.clraggedarray import to_device
from nengo_ocl.plan import Plan

KERNEL = """
__kernel void linear_system(
    __global const int *row_ops,
    __global const int *row_ks,
    __global const int *ns,
    __global const int *kinds,
    __global const int *incs,
    __global const int *Astarts,
    __global const int *Bstarts,
    __global const int *Cstarts,
    __global const float *Ds,
    __global const float *mats,
    __global const int *Xstarts,
    __global const int *Xstride0s,
    __global const int *ustarts,
    __global const int *ustrides,
    __global const int *ystarts,
    __global const int *ystrides,
    __global float *data
)
{
    __local float x[${n_max}];
    __local float x_new[${n_max}];
    const int t = get_local_id(0);
    const int r = get_global_id(1);
    const int i = row_ops[r];
    const int k = row_ks[r];
    const int n = ns[i];
    __global float *X = data + Xstarts[i] + k * Xstride0s[i];
    __global const float *A = mats + Astarts[i];
    __global const float *B = mats + Bstarts[i];
    __global const float *C = mats + Cstarts[i];
    const float u = data[ustarts[i] + k * ustrides[i]];
    __global float *y = data + ystarts[i];
    const int ystride = ystrides[i];

    for (int j = t; j < n; j += ${lsize})
        x[j] = X[j];
    barrier(CLK_LOCAL_MEM_FENCE);

    for (int j = t; j < n; j += ${lsize}) {
        float s = B[j] * u;
        for (int l = 0; l < n; l++)
            s += A[j * n + l] * x[l];
        X[j] = s;
        x_new[j] = s;
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    if (kinds[i] == ${STATE}) {
        for (int j = t; j < n; j += ${lsize}) {
            const int yj = (k * n + j) * ystride;
            y[yj] = incs[i] ? y[yj] + x_new[j] : x_new[j];
        }
    } else if (t == 0) {
        float s = (kinds[i] == ${FEEDTHROUGH}) ? Ds[i] * u : 0.0f;
        __local const float *xs = (kinds[i] == ${FEEDTHROUGH}) ? x : x_new;
        for (int l = 0; l < n; l++)
            s += C[l] * xs[l];
        const int yk = k * ystride;
        y[yk] = incs[i] ? y[yk] + s : s;
    }
}
"""

KINDS = {"output": 0, "feedthrough": 1, "state": 2}
"""How an operator's output is computed (see the module's notes)."""


def _kind(op, D):
    if op.outputs_state:
        return KINDS["state"]
    return KINDS["feedthrough"] if D.item() != 0 else KINDS["output"]


def _check_supported(op):
    if getattr(op.process, "theta_input", False):
        raise BuildError(
            f"{op.process}: a LegendreMemory with a theta input (a trainable theta) "
            "cannot run on nengo-ocl, which would discretize it in every step; "
            "build the trained network with its fixed theta (`LMU.trained_theta`) "
            "instead"
        )
    if getattr(op.process, "system", op.process).order == 0:
        raise BuildError(
            f"{op.process}: a linear system without states cannot run on nengo-ocl; "
            "use a transform instead"
        )


def plan_linear_system(queue, ops, data, sidx, dt):
    """A `nengo_ocl.plan.Plan` stepping the `.SimLinearSystem` operators ``ops``.

    Parameters
    ----------
    queue : pyopencl.CommandQueue
        The simulator's queue.
    ops : list of SimLinearSystem
        Operators without dependencies on each other (one operator group).
    data : nengo_ocl.clraggedarray.CLRaggedArray
        The simulator's signals (``all_data``).
    sidx : dict
        The index of each signal in ``data``.
    dt : float
        The simulator's time step.
    """
    for op in ops:
        _check_supported(op)
    mats, starts, ns, kinds, Ds = [], {"A": [], "B": [], "C": []}, [], [], []
    offset = 0
    for op in ops:
        A, B, C, D = op.discrete_ss(dt)
        n = len(A)
        C = np.zeros((1, n)) if C is None else C
        D = np.zeros((1, 1)) if D is None else D
        for name, matrix in zip("ABC", (A, B[:, 0], C[0])):
            starts[name].append(offset)
            mats.append(np.ravel(matrix))
            offset += matrix.size
        ns.append(n)
        kinds.append(_kind(op, D))
        Ds.append(D.item())

    def views(sigs):
        return data[[sidx[sig] for sig in sigs]]

    X = views([op.state["X"] for op in ops])
    u = views([op.input for op in ops])
    y = views([op.output for op in ops])
    assert (X.stride1s == 1).all()
    rows = [(i, k) for i, op in enumerate(ops) for k in range(op.input.shape[0])]
    row_ops, row_ks = np.array(rows, dtype=np.int32).T
    n_max = max(ns)
    lsize = min(n_max, queue.device.max_work_group_size, 256)
    text = Template(KERNEL).render(
        n_max=n_max,
        lsize=lsize,
        STATE=KINDS["state"],
        FEEDTHROUGH=KINDS["feedthrough"],
    )

    def ints(values):
        return to_device(queue, np.ascontiguousarray(values, dtype=np.int32))

    def floats(values):
        return to_device(queue, np.ascontiguousarray(values, dtype=np.float32))

    args = (
        ints(row_ops),
        ints(row_ks),
        ints(ns),
        ints(kinds),
        ints([op.mode == "inc" for op in ops]),
        ints(starts["A"]),
        ints(starts["B"]),
        ints(starts["C"]),
        floats(Ds),
        floats(np.concatenate(mats)),
        ints(X.starts),
        ints(X.stride0s),
        ints(u.starts),
        ints(u.stride0s),
        ints(y.starts),
        ints(y.stride0s),
    )
    kernel = cl.Program(queue.context, text).build().linear_system
    kernel.set_args(*[arg.data for arg in args], data.cl_buf.data)
    plan = Plan(
        queue,
        kernel,
        gsize=(lsize, len(rows)),
        lsize=(lsize, 1),
        name="cl_linear_system",
        tag=f"{len(ops)} linear systems",
    )
    plan.full_args = args  # keep the device arrays alive
    plan.flops_per_call = 2 * sum(ns[i] * (ns[i] + 2) for i, _ in rows)
    return plan


class Simulator(nengo_ocl.Simulator):
    """`nengo_ocl.Simulator` that also runs nengo_lmu's linear systems in OpenCL.

    Takes the arguments of `nengo_ocl.Simulator`. `.LinearSystem` synapses and
    `.LinearSystemState` / `.LegendreMemory` nodes step in one OpenCL kernel per
    operator group (`plan_linear_system`), in float32 as all of nengo-ocl; everything
    else is nengo-ocl's own planning. A `.LegendreMemory` with a theta input (a
    trainable theta) raises a `nengo.exceptions.BuildError`.
    """

    def _plan_SimLinearSystem(self, ops):
        plan = plan_linear_system(
            self.queue, ops, self.all_data, self.sidx, self.model.dt
        )
        return [plan]

    def _neuron_arrays(self, ops, *names):
        """The signals ``J``, ``output`` and the states ``names`` of neuron ops."""

        def sigs(get):
            return self.all_data[[self.sidx[get(op)] for op in ops]]

        return [sigs(lambda op: op.J), sigs(lambda op: op.output)] + [
            sigs(lambda op, name=name: op.state[name]) for name in names
        ]

    def _per_neuron(self, ops, value):
        """A ragged array of ``value(neurons)`` for each neuron of ``ops``."""
        return self.RaggedArray(
            [value(op.neurons) * np.ones(op.J.size) for op in ops], dtype=np.float32
        )

    def _plan_Tanh(self, ops):
        J, R = self._neuron_arrays(ops)
        return [
            _plan_template(
                self.queue,
                "cl_tanh",
                "R = tanh(J) / ref;",
                inputs=dict(J=J),
                outputs=dict(R=R),
                parameters=dict(ref=self._per_neuron(ops, lambda n: n.tau_ref)),
            )
        ]

    def _plan_RegularSpiking(self, ops):
        """`nengo.RegularSpiking` (and `.SpikeAwareRegularSpiking`) units."""
        J, S, V = self._neuron_arrays(ops, "voltage")
        dt = float(self.model.dt)
        return [
            _plan_template(
                self.queue,
                "cl_regular_spiking",
                f"""
                V += {dt}f * J;
                n_spikes = floor(V);
                outS = (amp / {dt}f) * n_spikes;
                outV = V - n_spikes;
                """,
                declares="float n_spikes;",
                inputs=dict(J=J, V=V),
                outputs=dict(outV=V, outS=S),
                parameters=dict(amp=self._per_neuron(ops, lambda n: n.amplitude)),
            )
        ]

    _plan_SpikeAwareRegularSpiking = _plan_RegularSpiking
