"""A general stacked model: several `.LMU` and `.Dense` layers in a chain."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu import compat
from nengo_lmu.lmu import LMU, Dense, SequenceInput, configure_trainable

DENSE_NEURONS = {  # Dense activation -> Nengo neuron type (None: no neurons)
    "linear": None,
    "softmax": None,
    "relu": nengo.RectifiedLinear,
    "tanh": lambda: nengo.Tanh(tau_ref=1),
    "sigmoid": lambda: nengo.Sigmoid(tau_ref=1),
}


def softmax(x):
    """The softmax of ``x`` (numerically stable)."""
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


class StackedModel(nengo.Network):
    """A chain of layers, e.g. a Keras model of stacked keras-lmu layers.

    Each layer feeds the next in every step (synapse None): `.LMU` layers (with their
    one-step recurrences) and dense layers ``f(W x + b)`` (`.Dense`, then the
    activation: the identity, units of ``nengo.RectifiedLinear``, ``nengo.Tanh`` or
    ``nengo.Sigmoid`` with unit gain, or a softmax node), so it runs on any Nengo
    simulator (`.train.predict` runs it on both). `.convert.keras_network` builds one
    from a saved Keras model.

    Parameters
    ----------
    layers : list of dict
        In order: ``dict(type="LMU", kwargs=...)`` with the `.LMU` arguments, or
        ``dict(type="Dense", kernel=..., bias=..., activation=...)`` with the kernel
        (outputs, inputs), the bias (outputs,) or None, and one of
        ``linear, relu, tanh, sigmoid, softmax``.
    input_d : int
        Input dimensions.
    sequence_output : bool
        Whether the output is every step's (`.train.predict` returns them all) or only
        the last step's.
    **kwargs
        ``label``, ``seed``, ``add_to_container`` of `nengo.Network`.

    Attributes
    ----------
    input : nengo.Node
        The sequence (as `.SequenceClassifier`'s input).
    layers : list of LMU or Dense
        The layer networks.
    output : nengo.Node or nengo.ensemble.Neurons
        The last layer's output.
    probe : nengo.Probe
        Probes ``output``.
    specs : list of dict
        The ``layers`` argument (`spiking_copy` rebuilds from it).
    """

    def __init__(self, layers, input_d, sequence_output=False, **kwargs):
        super().__init__(**kwargs)
        if not layers:
            raise ValidationError("Must have at least one layer", attr="layers")
        self.specs = list(layers)
        self.sequence_output = bool(sequence_output)
        with self:
            self.input = nengo.Node(SequenceInput(input_d), label="data")
            pre, size = self.input, input_d
            self.layers = []
            for i, spec in enumerate(self.specs):
                pre, size = self._add_layer(i, spec, pre, size)
            self.output = pre
            self.probe = nengo.Probe(self.output, label="output")
            if compat.HAS_NENGO_DL and not self.sequence_output:
                import nengo_dl  # pylint: disable=import-outside-toplevel

                nengo_dl.configure_settings(keep_history=False)  # last step only

    def _add_layer(self, i, spec, pre, size):
        """Add layer ``i`` fed by ``pre`` (``size`` dimensions); return its output
        and size."""
        kind = spec.get("type")
        if kind == "LMU":
            layer = LMU(**spec["kwargs"], label=f"layer {i}: LMU")
            if layer.input.size_in != size:
                raise ValidationError(
                    f"Layer {i} (LMU) takes {layer.input.size_in} inputs; the layer "
                    f"before gives {size}",
                    attr="layers",
                )
            nengo.Connection(pre, layer.input, synapse=None)
            self.layers.append(layer)
            return layer.output, layer.arguments["units"]
        if kind != "Dense":
            raise ValidationError(
                f"Layer {i} has type {kind!r}; use 'LMU' or 'Dense'", attr="layers"
            )
        kernel = np.asarray(spec["kernel"], dtype=np.float64)
        activation = spec.get("activation", "linear")
        if activation not in DENSE_NEURONS:
            raise ValidationError(
                f"Layer {i} (Dense) has activation {activation!r}; use one of "
                f"{', '.join(DENSE_NEURONS)}",
                attr="layers",
            )
        n_out = kernel.shape[0]
        layer = Dense(size, n_out, kernel, spec.get("bias"), label=f"layer {i}: Dense")
        nengo.Connection(pre, layer.input, synapse=None)
        self.layers.append(layer)
        if activation == "softmax":
            out = nengo.Node(lambda t, x: softmax(x), size_in=n_out, label="softmax")
        elif DENSE_NEURONS[activation] is None:
            return layer.output, n_out
        else:
            ens = nengo.Ensemble(
                n_out,
                1,
                neuron_type=DENSE_NEURONS[activation](),
                gain=nengo.dists.Choice([1.0]),
                bias=nengo.dists.Choice([0.0]),
                label=activation,
            )
            configure_trainable(self, ens, False)
            out = ens.neurons
        nengo.Connection(layer.output, out, synapse=None)
        return out, n_out

    def spiking_copy(self, hidden_neurons):
        """The same model with each LMU's hidden neurons replaced.

        Parameters
        ----------
        hidden_neurons : callable
            ``hidden_neurons(rate_type)``: the neuron type replacing an LMU's trained
            rate type (e.g. `.hybrid.spiking_neurons`).

        Returns
        -------
        StackedModel
        """
        specs = [
            dict(
                spec,
                kwargs=dict(
                    spec["kwargs"],
                    hidden_neurons=hidden_neurons(spec["kwargs"]["hidden_neurons"]),
                ),
            )
            if spec["type"] == "LMU"
            else spec
            for spec in self.specs
        ]
        return StackedModel(
            specs,
            self.input.size_out,
            self.sequence_output,
            label=self.label,
            seed=self.seed,
        )
