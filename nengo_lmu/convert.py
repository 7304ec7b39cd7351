"""Bring LMU weights trained elsewhere into nengo_lmu networks."""

import pathlib

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.systems import LinearSystem

# the paper's Keras 2.2.4 model: h5 dataset -> (our name, Keras shape in terms of
# units U, order Q); Keras kernels are (inputs, outputs), Nengo transforms the transpose
PAPER_CELL = "model_weights/rnn_1/rnn_1/"
PAPER_READOUT = "model_weights/dense_1/dense_1/"
PAPER_LAYOUT = {
    PAPER_CELL + "input_encoders:0": ("input_encoders", ("1", "1")),
    PAPER_CELL + "hidden_encoders:0": ("hidden_encoders", ("U", "1")),
    PAPER_CELL + "memory_encoders:0": ("memory_encoders", ("Q", "1")),
    PAPER_CELL + "input_kernel:0": ("input_kernel", ("1", "U")),
    PAPER_CELL + "hidden_kernel:0": ("hidden_kernel", ("U", "U")),
    PAPER_CELL + "memory_kernel:0": ("memory_kernel", ("Q", "U")),
    PAPER_CELL + "AT:0": ("AT", ("Q", "Q")),
    PAPER_CELL + "BT:0": ("BT", ("1", "Q")),
    PAPER_READOUT + "kernel:0": ("readout_kernel", ("U", "C")),
    PAPER_READOUT + "bias:0": ("readout_bias", ("C",)),
}


def load_paper_weights(path):
    """Read the LMU paper's psMNIST Keras weights file as `.SequenceClassifier` kwargs.

    The file (``psMNIST-standard.hdf5``, Keras 2.2.4, weights only) holds a Keras
    ``RNN(LMUCell)`` whose memory steps ``m = m + m AT + u BT`` with
    ``AT = (A_d - I)^T`` and ``BT = B_d^T`` (zero-order hold, θ = 784 steps, dt = 1),
    followed by a softmax ``Dense`` readout.

    Parameters
    ----------
    path : str or Path
        The weights file.

    Returns
    -------
    dict
        ``SequenceClassifier(**kwargs)`` builds the model; simulate it with ``dt=1``.
    """
    import h5py  # pylint: disable=import-outside-toplevel

    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No weights file at {path}: expected the LMU paper's "
            "psMNIST-standard.hdf5 "
            "(e.g. ../shared/data/lmu-paper/psMNIST-standard.hdf5)"
        )
    try:
        with h5py.File(path, "r") as f:
            missing = [key for key in PAPER_LAYOUT if key not in f]
            if missing:
                raise ValidationError(
                    f"{path} is not the paper's LMU weights file: it lacks "
                    f"{', '.join(missing)}",
                    attr="path",
                )
            raw = {name: np.array(f[key]) for key, (name, _) in PAPER_LAYOUT.items()}
    except OSError as e:
        raise ValidationError(f"Cannot read {path} as HDF5: {e}", attr="path") from e

    sizes = {
        "1": 1,
        "U": raw["hidden_kernel"].shape[0],
        "Q": raw["AT"].shape[0],
        "C": raw["readout_bias"].shape[0],
    }
    for key, (name, dims) in PAPER_LAYOUT.items():
        expected = tuple(sizes[d] for d in dims)
        if raw[name].shape != expected:
            raise ValidationError(
                f"{key} has shape {raw[name].shape}, expected {expected} (with "
                f"{sizes['U']} units, order {sizes['Q']}, {sizes['C']} classes)",
                attr=name,
            )

    units, order = sizes["U"], sizes["Q"]
    memory = LinearSystem(
        np.eye(order) + raw["AT"].T.astype(np.float64),
        raw["BT"].T.astype(np.float64),
        np.ones((1, order)),
        np.zeros((1, 1)),
        analog=False,
        dt=1.0,
    )
    kwargs = {
        name: raw[name].T.astype(np.float64)
        for name in (
            "input_encoders",
            "hidden_encoders",
            "memory_encoders",
            "input_kernel",
            "hidden_kernel",
            "memory_kernel",
            "readout_kernel",
        )
    }
    kwargs.update(
        n_classes=sizes["C"],
        readout_bias=raw["readout_bias"].astype(np.float64),
        units=units,
        order=order,
        theta=784.0,
        input_d=1,
        memory_system=memory,
    )
    return kwargs


KERAS_ACTIVATIONS = {  # Keras activation name -> LMU hidden_neurons (None: identity)
    "tanh": lambda: nengo.Tanh(tau_ref=1),
    "relu": nengo.RectifiedLinear,
    "sigmoid": lambda: nengo.Sigmoid(tau_ref=1),
    "linear": lambda: None,
}


def from_keras_lmu(layer):
    """`.LMU` arguments equivalent to a trained keras-lmu layer.

    Supports keras-lmu 0.7's ``LMU`` (both its recurrent and its FFT feed-forward
    implementation), ``LMUFeedforward`` and ``RNN(LMUCell)``, with a
    ``SimpleRNNCell`` or ``Dense`` hidden cell (activation tanh, relu, sigmoid or
    linear), any ``memory_d``, ``input_to_hidden``, ``hidden_to_memory``,
    ``memory_to_memory``, memory bias, ``zoh`` or ``euler``. A trainable θ
    (``trainable_theta=True``, which learns 1 / θ) stays trainable: the `.LMU`
    learns ``dt / θ`` (the same value, as ``dt = 1``), starting from the layer's
    trained θ, with the layer's discretizer. The layer must be built. keras-lmu
    counts θ in steps: simulate the network with ``dt=1``.

    Parameters
    ----------
    layer : keras_lmu.LMU or keras_lmu.LMUFeedforward or tf.keras.layers.RNN

    Returns
    -------
    dict
        ``LMU(**kwargs)`` builds the equivalent network.
    """
    import keras_lmu  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    inner = layer.layer if isinstance(layer, keras_lmu.LMU) else layer
    if isinstance(inner, tf.keras.layers.RNN) and isinstance(
        inner.cell, keras_lmu.LMUCell
    ):
        lmu = inner.cell
        A, B = _keras_cell_memory(lmu)
    elif isinstance(inner, keras_lmu.LMUFeedforward):
        lmu = inner
        A, B = _keras_cell_memory(inner.delay_layer.cell)
    else:
        raise ValidationError(
            f"Must be a keras_lmu.LMU, keras_lmu.LMUFeedforward or RNN(LMUCell) layer "
            f"(got {type(layer).__name__})",
            attr="layer",
        )
    if not getattr(lmu, "built", False) or A is None:
        raise ValidationError(
            "The layer must be built (call it on an input)", attr="layer"
        )
    cell = lmu.hidden_cell
    if not isinstance(cell, (tf.keras.layers.SimpleRNNCell, tf.keras.layers.Dense)):
        raise ValidationError(
            f"Hidden cell {type(cell).__name__} is not supported; use SimpleRNNCell or "
            "Dense",
            attr="hidden_cell",
        )
    activation = cell.activation.__name__
    if activation not in KERAS_ACTIVATIONS:
        raise ValidationError(
            f"Activation {activation!r} is not supported; use one of "
            f"{', '.join(KERAS_ACTIVATIONS)}",
            attr="activation",
        )

    def value(weight):
        return None if weight is None else np.array(weight, dtype=np.float64)

    memory_d, order = lmu.memory_d, lmu.order
    trainable_theta = getattr(lmu, "trainable_theta", False)
    n_memory = memory_d * order
    W = value(cell.kernel)  # (h_in, units): rows [memory, input if input_to_hidden]
    units = W.shape[1]
    hidden_to_memory = getattr(lmu, "hidden_to_memory", False)
    memory_to_memory = getattr(lmu, "memory_to_memory", False)
    E = value(lmu.kernel)  # (input_d [+ units], memory_d), or None for the identity
    if E is None:
        input_d = memory_d
        input_encoders = np.eye(memory_d)
    else:
        input_d = E.shape[0] - (units if hidden_to_memory else 0)
        input_encoders = E[:input_d].T
    kwargs = dict(
        units=units,
        order=order,
        theta=float(lmu.theta),
        input_d=input_d,
        memory_d=memory_d,
        hidden_neurons=KERAS_ACTIVATIONS[activation](),
        input_encoders=input_encoders,
        hidden_encoders=E[input_d:].T if hidden_to_memory else None,
        memory_encoders=value(lmu.recurrent_kernel).T if memory_to_memory else None,
        memory_bias=value(lmu.bias),
        input_kernel=W[n_memory:].T if lmu.input_to_hidden else None,
        hidden_kernel=(
            value(cell.recurrent_kernel).T
            if isinstance(cell, tf.keras.layers.SimpleRNNCell)
            else None
        ),
        memory_kernel=W[:n_memory].T,
        hidden_bias=value(cell.bias),
        **(
            dict(method=lmu.discretizer, dt=1.0)
            if trainable_theta
            else dict(
                memory_system=LinearSystem(
                    A, B, np.ones((1, order)), 0, analog=False, dt=1.0
                )
            )
        ),
    )
    kwargs["trainable"] = [
        k
        for k in (
            "input_encoders",
            "hidden_encoders",
            "memory_encoders",
            "memory_bias",
            "input_kernel",
            "hidden_kernel",
            "memory_kernel",
            "hidden_bias",
        )
        if kwargs[k] is not None and not (k == "input_encoders" and E is None)
    ] + (["theta"] if trainable_theta else [])
    return kwargs


def _keras_cell_memory(cell):
    """The discrete (A, B) an LMUCell with a fixed θ steps (stored transposed), or
    None, None if it is not built."""
    if cell.A is None:
        return None, None
    return np.array(cell.A, dtype=np.float64).T, np.array(cell.B, dtype=np.float64).T
