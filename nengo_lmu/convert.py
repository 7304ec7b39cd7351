"""Bring LMU weights trained elsewhere into nengo_lmu networks."""

import inspect
import json
import pathlib
import zipfile

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu import neurons
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


LMU_WEIGHTS = (
    "input_encoders",
    "hidden_encoders",
    "memory_encoders",
    "memory_bias",
    "input_kernel",
    "hidden_kernel",
    "memory_kernel",
    "hidden_bias",
)
"""The names of an `.LMU`'s weights (its constructor arguments)."""


KERAS_ACTIVATIONS = {  # Keras activation name -> LMU hidden_neurons (None: identity)
    "tanh": lambda: nengo.Tanh(tau_ref=1),
    "relu": nengo.RectifiedLinear,
    "sigmoid": lambda: nengo.Sigmoid(tau_ref=1),
    "linear": lambda: None,
}


def from_keras_lmu(layer):
    """`.LMU` arguments equivalent to a trained keras-lmu layer.

    Supports keras-lmu 0.9's ``LMU`` (both its recurrent and its FFT feed-forward
    implementation), ``LMUFeedforward`` and ``RNN(LMUCell)``, with a
    ``SimpleRNNCell`` or ``Dense`` hidden cell (activation tanh, relu, sigmoid or
    linear), any ``memory_d``, ``input_to_hidden``, ``hidden_to_memory``,
    ``memory_to_memory``, memory bias, ``zoh`` or ``euler``. A trainable θ
    (``trainable_theta=True``, which learns 1 / θ) stays trainable: the `.LMU`
    learns ``dt / θ`` (the same value, as ``dt = 1``), starting from the layer's
    trained θ, with the layer's discretizer. The layer must be built. keras-lmu
    counts θ in steps: simulate the network with ``dt=1``. Saved models: see
    `keras_network`.

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

    from nengo_lmu.interop import keras_files, keras_layers

    inner = layer.layer if isinstance(layer, keras_lmu.LMU) else layer
    if not (
        isinstance(inner, keras_lmu.LMUFeedforward)
        or isinstance(inner, tf.keras.layers.RNN)
        and isinstance(inner.cell, keras_lmu.LMUCell)
    ):
        raise ValidationError(
            f"Must be a built keras_lmu.LMU, keras_lmu.LMUFeedforward or "
            f"RNN(LMUCell) layer (got {type(layer).__name__}"
            f"{'' if getattr(layer, 'built', False) else ', not built'})",
            attr="layer",
        )
    described = keras_files.keras_object_layer(layer)
    if "hidden_kernel" not in described.weights:
        raise ValidationError(
            "The layer must be built (call it on an input)", attr="layer"
        )
    options = keras_layers.lmu_options(described)
    return keras_layers.lmu_kwargs(options, described.weights)


def _trained(conn, name):
    """The current weights of ``conn`` as an array; an error for an initializer."""
    init = conn.transform.init
    if isinstance(init, nengo.dists.Distribution):
        raise ValidationError(
            f"{name} is still its initializer {init}: a trained network is needed. "
            "Train it in NengoDL and write the weights back with "
            "sim.freeze_params(net), or give the weights as arrays",
            attr=name,
        )
    init = np.array(init, dtype=np.float64)
    if init.ndim == 0:  # a scalar s means s I in Nengo (freeze_params writes 1 x 1 so)
        return init * np.eye(conn.size_out, conn.size_in)
    return init


def network_kwargs(net):
    """The arguments that rebuild ``net`` with its current (trained) weights.

    Parameters
    ----------
    net : LMU or SequenceClassifier
        A network whose weights are arrays: given as arrays, or trained in NengoDL and
        written back with ``sim.freeze_params(net)``. The matrices ``A``, ``B`` of a
        memory built from connections (trained, or given) become a discrete
        ``memory_system`` of the whole memory (``A`` and ``B`` stay trainable if they
        were); a trained θ becomes ``theta``.

    Returns
    -------
    dict
        ``type(net)(**kwargs)`` builds the same network (``label`` and ``seed``
        included).
    """
    from nengo_lmu.lmu import LMU, SequenceClassifier  # pylint: disable=cyclic-import

    if isinstance(net, SequenceClassifier):
        lmu = net.lmu
    elif isinstance(net, LMU):
        lmu = net
    else:
        raise ValidationError(
            f"Must be an LMU or a SequenceClassifier (got {type(net).__name__})",
            attr="net",
        )
    weights = {n: _trained(c, n) for n, c in lmu.weight_connections.items()}
    kwargs = dict(lmu.arguments, label=net.label, seed=net.seed)
    for name in LMU_WEIGHTS:
        value = weights.get(name)
        is_bias = name.endswith("_bias") and value is not None
        kwargs[name] = value[:, 0] if is_bias else value
    if "A" in weights:  # the memory is built from connections: its (trained) system
        n, d = weights["B"].shape
        kwargs["memory_system"] = LinearSystem(
            weights["A"],
            weights["B"],
            np.ones((1, n)),
            np.zeros((1, d)),
            analog=False,
            dt=lmu.dt,
        )
    if "theta" in weights:
        kwargs["theta"] = lmu.dt / float(np.ravel(weights["theta"])[0])
    if isinstance(net, SequenceClassifier):
        bias = net.readout.bias if hasattr(net.readout, "bias") else None
        kwargs.update(
            n_classes=net.readout.output.size_out,
            readout_kernel=_trained(net.readout.kernel, "readout_kernel"),
            readout_bias=None if bias is None else _trained(bias, "readout_bias")[:, 0],
        )
    return kwargs


def _neuron_spec(neuron_type):
    """A JSON-able description of a Nengo neuron type (or None): its number
    parameters, the ``base_type`` of a `nengo.RegularSpiking` (say), and an
    ``initial_state`` of `nengo.dists.Choice` values."""
    if neuron_type is None:
        return None
    if not isinstance(neuron_type, nengo.neurons.NeuronType):
        raise ValidationError(
            f"Cannot save hidden_neurons {neuron_type!r}: only Nengo neuron types and "
            "None are saved (TensorFlow functions are not)",
            attr="hidden_neurons",
        )
    names = inspect.signature(type(neuron_type)).parameters
    params = {p: getattr(neuron_type, p, None) for p in names}
    spec = {
        "type": type(neuron_type).__name__,
        "params": {
            p: float(v) for p, v in params.items() if isinstance(v, (int, float))
        },
    }
    if isinstance(params.get("base_type"), nengo.neurons.NeuronType):
        spec["base_type"] = _neuron_spec(params["base_type"])
    state = params.get("initial_state") or {}
    for name, value in state.items():
        if not (isinstance(value, nengo.dists.Choice) and value.weights is None):
            raise ValidationError(
                f"Cannot save the initial {name} {value!r} of {neuron_type}: only "
                "nengo.dists.Choice([values]) (equally likely) is saved",
                attr="hidden_neurons",
            )
    if state:
        spec["initial_state"] = {
            name: value.options.tolist() for name, value in state.items()
        }
    return spec


def _neuron_type(spec):
    """The neuron type a `_neuron_spec` describes."""
    if spec is None:
        return None
    cls = getattr(nengo.neurons, spec["type"], getattr(neurons, spec["type"], None))
    if not (isinstance(cls, type) and issubclass(cls, nengo.neurons.NeuronType)):
        raise ValidationError(
            f"Unknown neuron type {spec['type']!r} in the weights file",
            attr="hidden_neurons",
        )
    params = dict(spec["params"])
    if "base_type" in spec:
        params["base_type"] = _neuron_type(spec["base_type"])
    if "initial_state" in spec:
        params["initial_state"] = {
            name: nengo.dists.Choice(values)
            for name, values in spec["initial_state"].items()
        }
    return cls(**params)


SYSTEM_FIELDS = ("A", "B", "C", "D")


def save_weights(path, kwargs):
    """Write `.SequenceClassifier` (or `.LMU`) arguments to a ``.npz`` file.

    Parameters
    ----------
    path : str or Path
        The file to write (``.npz``).
    kwargs : dict
        The arguments: from `network_kwargs` (a trained network),
        `load_paper_weights` or `from_keras_lmu`. Weights are arrays; the memory
        system, the hidden neuron type (a Nengo neuron type or None) and the scalars are
        stored too; ``label`` and ``seed`` are not (they name and seed a network, and
        are given when building it). A ``memory_network`` is not saved (it is a
        conversion, see `.hybrid.to_spiking`).
    """
    arrays = {}
    for name, value in kwargs.items():
        if value is None or name in ("label", "seed"):
            continue
        if name == "memory_system":
            for field, matrix in zip(SYSTEM_FIELDS, value.ss):
                arrays[f"memory_system.{field}"] = matrix
            arrays["memory_system.dt"] = np.nan if value.analog else value.dt
        elif name == "hidden_neurons":
            arrays[name] = json.dumps(_neuron_spec(value))
        elif name == "memory_network":
            raise ValidationError(
                "A network with a memory of neurons is not saved: save the network it "
                "was converted from",
                attr="memory_network",
            )
        else:
            arrays[name] = np.asarray(value)
    if "hidden_neurons" in kwargs and kwargs["hidden_neurons"] is None:
        arrays["hidden_neurons"] = json.dumps(None)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)


def load_weights(path):
    """Read the arguments of a `.SequenceClassifier` from a weights file.

    Parameters
    ----------
    path : str or Path
        A ``.npz`` file written by `save_weights`, or the LMU paper's Keras ``.hdf5``
        file (see `load_paper_weights`).

    Returns
    -------
    dict
        ``SequenceClassifier(**kwargs)`` builds the model.
    """
    path = pathlib.Path(path)
    if path.suffix in (".h5", ".hdf5"):
        return load_paper_weights(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No weights file at {path}: expected a .npz written by nengo_lmu "
            "(nengo-lmu train / import-keras) or the paper's .hdf5"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {name: f[name] for name in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValidationError(
            f"Cannot read {path} as a nengo_lmu weights file ({e}): expected a "
            "complete .npz written by nengo_lmu (nengo-lmu train / import-keras, "
            "convert.save_weights); a truncated or partly copied file cannot be read",
            attr="path",
        ) from e
    kwargs = {}
    for name, value in data.items():
        if name.startswith("memory_system."):
            continue
        if name == "hidden_neurons":
            kwargs[name] = _neuron_type(json.loads(str(value)))
        elif name == "trainable":
            kwargs[name] = [str(v) for v in value]
        elif value.ndim == 0:
            kwargs[name] = value.item()
        else:
            kwargs[name] = value.astype(np.float64)
    if "memory_system.A" in data:
        dt = float(data["memory_system.dt"])
        kwargs["memory_system"] = LinearSystem(
            *(data[f"memory_system.{field}"] for field in SYSTEM_FIELDS),
            analog=bool(np.isnan(dt)),
            dt=None if np.isnan(dt) else dt,
        )
    return kwargs


def keras_network(path, **kwargs):
    """A Nengo network equivalent to a saved Keras model of keras-lmu layers.

    Parameters
    ----------
    path : str or Path
        A Keras 3 ``.keras`` archive (read without Keras 3), a Keras 2.12 ``.keras``,
        ``.h5`` or SavedModel, or a ``.npz`` from ``nengo-lmu import-keras``, holding
        a chain of the layers in ``nengo_lmu.interop.SUPPORTED``: keras-lmu ``LMU``,
        ``LMUFeedforward`` or ``RNN(LMUCell)`` layers (stacked with
        ``return_sequences=True``), ``Dense``, ``Dropout``, ``InputLayer``.
    **kwargs
        ``label``, ``seed`` of the network.

    Returns
    -------
    StackedModel
        With ``.input`` and ``.probe`` (the model's output); `.train.predict` returns
        what Keras' ``predict`` does. Simulate it with ``dt=1`` (θ in steps).
    """
    from nengo_lmu.interop import model_layers, read_keras_model
    from nengo_lmu.stacked import StackedModel  # pylint: disable=cyclic-import

    layers, input_d, sequence_output = model_layers(read_keras_model(path))
    return StackedModel(layers, input_d, sequence_output, **kwargs)


def load_keras_model(path):
    """Read a saved Keras classifier of one keras-lmu layer and a dense readout.

    Parameters
    ----------
    path : str or Path
        A saved Keras model (see `keras_network`) whose layers are one keras-lmu
        layer (the last output only) and one linear or softmax ``Dense`` readout
        (the class is the same), besides inputs and dropout.

    Returns
    -------
    dict
        ``SequenceClassifier(**kwargs)`` builds the model (scores are the readout's
        logits); simulate it with ``dt=1``. Other models: `keras_network`.
    """
    from nengo_lmu.interop import model_layers, read_keras_model

    layers, _, sequence_output = model_layers(read_keras_model(path))
    kinds = [layer["type"] for layer in layers]
    if kinds != ["LMU", "Dense"] or sequence_output:
        raise ValidationError(
            f"{path} must hold a keras-lmu layer (return_sequences=False) followed by "
            f"a Dense readout (found {', '.join(kinds)}"
            f"{', with sequence output' if sequence_output else ''}); "
            "convert.keras_network builds any stack of LMU and Dense layers",
            attr="path",
        )
    lmu, readout = layers
    if readout["activation"] not in ("linear", "softmax"):
        raise ValidationError(
            f"The readout's activation must be linear or softmax (got "
            f"{readout['activation']})",
            attr="path",
        )
    return dict(
        lmu["kwargs"],
        n_classes=readout["kernel"].shape[0],
        readout_kernel=readout["kernel"],
        readout_bias=readout["bias"],
    )
