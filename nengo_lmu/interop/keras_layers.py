"""Map the layers of a saved Keras model (`.keras_files.KerasModel`) onto Nengo.

A chain of keras-lmu layers (``LMU``, ``LMUFeedforward``, ``RNN(LMUCell)``, stacked
with ``return_sequences=True``), ``Dense`` layers, ``Dropout`` (the identity at
inference) and ``InputLayer`` becomes the layers of a `.StackedModel`. keras-lmu
counts θ in steps: simulate with ``dt=1``.
"""

import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu.convert import KERAS_ACTIVATIONS, LMU_WEIGHTS
from nengo_lmu.systems import LegendreDelay, LinearSystem

SUPPORTED = (
    "InputLayer",
    "Dropout",
    "Dense (activation linear, relu, tanh, sigmoid or softmax)",
    "keras_lmu.LMU",
    "keras_lmu.LMUFeedforward",
    "RNN(keras_lmu.LMUCell)",
)
"""The Keras layers a model may hold."""

DENSE_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "softmax")
HIDDEN_CELLS = ("SimpleRNNCell", "Dense")

def unsupported(layer, why):
    """The error for a layer that cannot be mapped."""
    return ValidationError(
        f"Layer {layer.config.get('name')!r} ({layer.class_name}) is not supported: "
        f"{why}. Supported layers: {'; '.join(SUPPORTED)}",
        attr="layer",
    )


def lmu_options(layer):
    """The keras-lmu options of an LMU layer (an RNN's are its LMUCell's), or None
    if ``layer`` is not a keras-lmu layer."""
    config = layer.config
    if layer.class_name == "RNN":
        cell = config.get("cell", {})
        if cell.get("class_name", "").split(">")[-1] != "LMUCell":
            raise unsupported(layer, f"an RNN of {cell.get('class_name')}")
        if config.get("go_backwards") or config.get("stateful"):
            raise unsupported(layer, "go_backwards and stateful are not")
        options = dict(cell["config"], return_sequences=config["return_sequences"])
    elif layer.class_name in ("LMU", "LMUFeedforward"):
        options = dict(config)
        if options.get("conv_mode", "fft") != "fft":
            raise unsupported(layer, "conv_mode 'raw' truncates the impulse response")
    else:
        return None
    hidden = options.get("hidden_cell") or {}
    hidden_class = hidden.get("class_name", "None").split(">")[-1]
    if hidden_class not in HIDDEN_CELLS:
        raise unsupported(
            layer, f"hidden cell {hidden_class} (use {' or '.join(HIDDEN_CELLS)})"
        )
    activation = hidden["config"].get("activation", "linear")
    if activation not in KERAS_ACTIVATIONS:
        raise unsupported(
            layer,
            f"hidden activation {activation!r} (use {', '.join(KERAS_ACTIVATIONS)})",
        )
    return dict(options, hidden_class=hidden_class, activation=activation)


def keras_memory(theta, order, discretizer):
    """The discrete Legendre memory keras-lmu steps for a fixed θ (in steps)."""
    A, B, _, _ = LegendreDelay(theta, order).ss
    if discretizer == "zoh":
        M = scipy.linalg.expm(np.block([[A, B], [np.zeros((1, order + 1))]]))
        A, B = M[:order, :order], M[:order, order:]
    elif discretizer == "euler":
        A, B = np.eye(order) + A, B
    else:
        raise ValidationError(
            f"Unknown discretizer {discretizer!r} (keras-lmu has 'zoh' and 'euler')",
            attr="discretizer",
        )
    return LinearSystem(A, B, np.ones((1, order)), 0, analog=False, dt=1.0)


def lmu_kwargs(options, weights):
    """`.LMU` arguments of a keras-lmu layer: its options (`lmu_options`) and its
    arrays (named as in `.keras_files`)."""
    memory_d, order = int(options["memory_d"]), int(options["order"])
    n_memory = memory_d * order
    hidden_to_memory = options.get("hidden_to_memory", False)
    trainable_theta = options.get("trainable_theta", False)
    W = weights["hidden_kernel"]  # (h_in, units): rows [memory, input if i2h]
    units = W.shape[1]
    E = weights.get("kernel")  # (input_d [+ units], memory_d), or None: identity
    if E is None:
        input_d = memory_d
        input_encoders = np.eye(memory_d)
    else:
        input_d = E.shape[0] - (units if hidden_to_memory else 0)
        input_encoders = E[:input_d].T
    theta = float(options["theta"])
    if trainable_theta:
        theta = 1.0 / float(weights["theta_inv"])
        memory = dict(method=options.get("discretizer", "zoh"), dt=1.0)
    else:
        memory = dict(
            memory_system=keras_memory(theta, order, options.get("discretizer", "zoh"))
        )
    recurrent = weights.get("recurrent_kernel")
    bias = weights.get("hidden_bias")
    kwargs = dict(
        units=units,
        order=order,
        theta=theta,
        input_d=input_d,
        memory_d=memory_d,
        hidden_neurons=KERAS_ACTIVATIONS[options["activation"]](),
        input_encoders=input_encoders,
        hidden_encoders=E[input_d:].T if hidden_to_memory else None,
        memory_encoders=None if recurrent is None else recurrent.T,
        memory_bias=weights.get("bias"),
        input_kernel=W[n_memory:].T if options.get("input_to_hidden") else None,
        hidden_kernel=(
            weights["hidden_recurrent_kernel"].T
            if options["hidden_class"] == "SimpleRNNCell"
            else None
        ),
        memory_kernel=W[:n_memory].T,
        hidden_bias=bias,
        **memory,
    )
    kwargs["trainable"] = [
        k
        for k in LMU_WEIGHTS
        if kwargs[k] is not None and not (k == "input_encoders" and E is None)
    ] + (["theta"] if trainable_theta else [])
    return kwargs


def dense_layer(layer):
    """A `.StackedModel` dense layer from a Keras ``Dense``."""
    activation = layer.config.get("activation", "linear")
    if activation not in DENSE_ACTIVATIONS:
        raise unsupported(
            layer, f"activation {activation!r} (use {', '.join(DENSE_ACTIVATIONS)})"
        )
    bias = layer.weights.get("bias")
    return dict(
        type="Dense",
        kernel=layer.weights["kernel"].T,
        bias=bias,
        activation=activation,
    )


def model_layers(model):
    """The layers of a `.StackedModel` equivalent to ``model``.

    Parameters
    ----------
    model : KerasModel
        A chain of the layers in `SUPPORTED` (each called on the one before).

    Returns
    -------
    layers : list of dict
        ``dict(type="LMU", kwargs=...)`` (`.LMU` arguments) or ``dict(type="Dense",
        kernel=..., bias=..., activation=...)``.
    input_d : int
        Input dimensions.
    sequence_output : bool
        Whether the model outputs every step (its last keras-lmu layer returns
        sequences, or it has none) or only the last.
    """
    layers, input_d, sequence_output = [], None, True
    previous = None
    for layer in model.layers:
        name = layer.config.get("name")
        if previous is not None and layer.inbound not in ((), (previous,)):
            raise unsupported(
                layer,
                f"it is called on {', '.join(layer.inbound)}; only chains of layers "
                f"(each called on the one before, here {previous!r}) are",
            )
        previous = name
        if layer.class_name in ("InputLayer", "Dropout"):
            continue
        if layer.class_name == "Dense":
            layers.append(dense_layer(layer))
            size_in = layers[-1]["kernel"].shape[1]
        else:
            options = lmu_options(layer)
            if options is None:
                raise unsupported(layer, "no mapping for this class")
            if not sequence_output:
                raise unsupported(
                    layer,
                    "the keras-lmu layer before it returns only its last step "
                    "(return_sequences=False)",
                )
            layers.append(dict(type="LMU", kwargs=lmu_kwargs(options, layer.weights)))
            size_in = layers[-1]["kwargs"]["input_d"]
            sequence_output = bool(options.get("return_sequences", False))
        input_d = size_in if input_d is None else input_d
    if not layers:
        raise ValidationError(
            f"{model.path} holds no layers to map (only inputs and dropout)",
            attr="path",
        )
    return layers, input_d, sequence_output
