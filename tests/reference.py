"""Independent references shared by the LMU tests: a float64 numpy LMU cell; and
the gradients NengoDL computes, to compare with other builds and with Keras."""

import numpy as np
import scipy.signal

from nengo_lmu import legendre_readout
from nengo_lmu.compat import keras_inputs, planned_operator_types


def legendre_zoh(theta, order, dt=1.0, method="zoh"):
    """Closed-form Legendre (A, B), discretized by scipy."""
    A = np.zeros((order, order))
    B = np.zeros((order, 1))
    for i in range(order):
        B[i] = (2 * i + 1) * (-1) ** i / theta
        for j in range(order):
            A[i, j] = (2 * i + 1) / theta * (-1 if i < j else (-1) ** (i - j + 1))
    Ad, Bd, *_ = scipy.signal.cont2discrete((A, B, np.ones((1, order)), 0), dt, method)
    return Ad, Bd[:, 0]


def numpy_cell(x, w, theta, order, f=np.tanh, method="zoh"):
    """The LMU cell in float64 for a sequence x (steps, input_d), or a batch of them
    (n, steps, input_d); h (steps, units) or (n, steps, units).

    ``w`` holds the weights as Nengo transforms (outputs, inputs); absent ones are 0.
    """
    Ad, Bd = legendre_zoh(theta, order, method=method)
    x = np.asarray(x, dtype=np.float64)
    batch = x.shape[:-2]
    memory_d = w["input_encoders"].shape[0]
    units = w["input_kernel"].shape[0]
    m = np.zeros(batch + (memory_d, order))
    h = np.zeros(batch + (units,))
    hs = []
    for x_t in np.moveaxis(x, -2, 0):  # row vectors: v @ W.T is W v
        u = x_t @ w["input_encoders"].T + h @ w["hidden_encoders"].T
        u += m.reshape(batch + (-1,)) @ w["memory_encoders"].T + w["memory_bias"]
        m = m @ Ad.T + u[..., None] * Bd
        h = f(
            x_t @ w["input_kernel"].T
            + h @ w["hidden_kernel"].T
            + m.reshape(batch + (-1,)) @ w["memory_kernel"].T
            + w["hidden_bias"]
        )
        hs.append(h)
    return np.stack(hs, axis=-2)


def random_weights(rng, units, order, input_d, memory_d, names=None, scale=0.5):
    """Random values for the LMU's weights (all, or those in ``names``)."""
    shapes = {
        "input_encoders": (memory_d, input_d),
        "hidden_encoders": (memory_d, units),
        "memory_encoders": (memory_d, memory_d * order),
        "memory_bias": (memory_d,),
        "input_kernel": (units, input_d),
        "hidden_kernel": (units, units),
        "memory_kernel": (units, memory_d * order),
        "hidden_bias": (units,),
    }
    names = shapes if names is None else names
    return {k: rng.uniform(-scale, scale, size=shapes[k]) for k in names}


def delay_line_kwargs(order, theta):
    """`LMU` arguments whose output is the memory's decoded u(t - theta)."""
    return dict(
        units=1,
        order=order,
        theta=theta,
        input_d=1,
        hidden_neurons=None,
        hidden_encoders=None,
        memory_encoders=None,
        input_kernel=None,
        hidden_kernel=None,
        memory_kernel=legendre_readout(order, 1.0),
    )


def loss_weights(shape):
    """The fixed random projection whose sum is the loss of the gradient tests."""
    return np.random.RandomState(9).randn(*shape)


def outputs_and_gradients(net, stim, x, fused=True, every_probe=False):
    """The first probe's data for the input x (n, steps, d) fed to ``stim``, in NengoDL
    with ``dt = 1``, and the gradients of ``sum(data * loss_weights)`` with respect to
    each connection's weights (by connection), with the LMU and Dense layers fused or
    not; also the types of the operators in the plan. With ``every_probe``, the data
    of every probe (a list, the first probe's first)."""
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    for subnet in net.all_networks:
        subnet.fused = fused
    with nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=len(x), progress_bar=False
    ) as sim:
        op_types = planned_operator_types(sim)
        conns = [c for c in net.all_connections if sim.data[c].weights is not None]
        inputs = keras_inputs(sim, {stim: x})  # all input nodes, and n_steps
        with tf.GradientTape() as tape:
            outs = sim.keras_model(inputs)
            out = outs[0]
            loss = tf.reduce_sum(out * loss_weights(out.shape))
        variables = sim.keras_model.trainable_weights
        grads = tape.gradient(loss, variables)
        # read each connection's gradient through sim.data: weights - (weights - grad)
        before = [sim.data[c].weights for c in conns]
        for var, grad in zip(variables, grads):
            if grad is not None:
                var.assign_sub(grad)
        gradients = {c: w - sim.data[c].weights for w, c in zip(before, conns)}
    data = [o.numpy() for o in outs] if every_probe else out.numpy()
    return data, gradients, op_types


def spiking_memory_cell(x, w, A, B, delta, f=np.tanh, ticks=1):
    """The LMU cell with a spiking memory (float64): the state ``s`` is ``delta``
    times the accumulated signed spikes of units that integrate the increments
    ``A s + B u - s`` (voltage from 0.5, fire ``floor(v)``, subtract it), ``ticks``
    times per step with ``u`` held (``A``, ``B`` then the system of one tick).

    ``w`` as for `numpy_cell`; ``A`` (n, n), ``B`` (n, memory_d) the discrete memory
    system; ``f=None`` skips the hidden layer. Returns h (steps, units), the states s
    (steps, n) and the spike counts (steps, n; with ticks, positive minus negative),
    and with ticks also the positive and the negative spikes (steps, n) apart.
    """
    s, v = np.zeros(A.shape[0]), np.full(A.shape[0], 0.5)
    h = np.zeros(w["input_kernel"].shape[0])
    hs, states, counts, signs = [], [], [], []
    for x_t in x:
        u = w["input_encoders"] @ x_t + w["hidden_encoders"] @ h
        u += w["memory_encoders"] @ s + w["memory_bias"]
        n_step = np.zeros((2, len(s)))
        for _ in range(ticks):
            v += (A @ s + B @ u - s) / delta
            n = np.floor(v)
            v -= n
            s = s + delta * n
            n_step += np.maximum(n, 0), np.maximum(-n, 0)
        if f is not None:
            h = f(
                w["input_kernel"] @ x_t
                + w["hidden_kernel"] @ h
                + w["memory_kernel"] @ s
                + w["hidden_bias"]
            )
        hs.append(h)
        states.append(s)
        counts.append(n_step[0] - n_step[1])
        signs.append(n_step)
    if ticks > 1:
        signs = np.array(signs)
        return (
            np.array(hs),
            np.array(states),
            np.array(counts),
            signs[:, 0],
            signs[:, 1],
        )
    return np.array(hs), np.array(states), np.array(counts)
