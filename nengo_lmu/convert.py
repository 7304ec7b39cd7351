"""Bring LMU weights trained elsewhere into nengo_lmu networks."""

import pathlib

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
            f"No weights file at {path}: expected the LMU paper's psMNIST-standard.hdf5 "
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
