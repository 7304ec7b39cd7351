"""Read saved Keras models of keras-lmu layers as plain configs and arrays.

Formats:

- Keras 3 ``.keras`` (a zip of ``config.json`` and ``model.weights.h5``; each layer's
  variables at ``layers/<folder>/.../vars/<i>``, the folder being the snake_case class
  name, numbered ``_1``, ``_2``... for repeats), read with zipfile, json and h5py;
- Keras 2.12's ``.keras`` (``save_format="keras_v3"``: the same zip, with
  ``_layer_checkpoint_dependencies/<folder>/...``), read the same way;
- Keras 2.12's legacy HDF5 (``.h5``: ``model_config`` and named weights), with h5py;
- a SavedModel directory, loaded by the pinned TensorFlow (Keras 2.12, keras-lmu);
- a ``.npz`` written by `save_keras_model` (``nengo-lmu import-keras``).

Each layer becomes a `KerasLayer`: its class, config, and its arrays under the names
of `keras_layers` (``kernel``, ``bias``, ``theta_inv``, ``recurrent_kernel`` of the
LMU cell; ``hidden_kernel``, ``hidden_recurrent_kernel``, ``hidden_bias`` of its
hidden cell).
"""

import io
import json
import pathlib
import re
import zipfile
from typing import NamedTuple

import numpy as np
from nengo.exceptions import ValidationError


class KerasLayer(NamedTuple):
    """One layer of a saved Keras model."""

    class_name: str
    """Keras' class name, without a registration prefix (``LMU``, ``Dense``, ...)."""
    config: dict
    """The layer's config as Keras saved it."""
    weights: dict
    """Its arrays (float64) by name (see the module's notes)."""
    inbound: tuple
    """The names of the layers it is called on (empty for inputs, Sequential)."""


class KerasModel(NamedTuple):
    """A saved Keras model: its layers in order, and where it came from."""

    layers: list
    path: pathlib.Path
    format: str


def read_keras_model(path):
    """Read a saved Keras model into a `KerasModel` (see the module's formats).

    Parameters
    ----------
    path : str or Path
        A ``.keras`` archive (Keras 3 or 2.12), a legacy ``.h5``, a SavedModel
        directory, or a ``.npz`` from `save_keras_model`.

    Returns
    -------
    KerasModel
    """
    path = pathlib.Path(path)
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise ValidationError(
                f"{path} is a directory without saved_model.pb: expected a Keras "
                "SavedModel directory, a .keras archive or an .h5 file",
                attr="path",
            )
        return _read_saved_model(path)
    if not path.is_file():
        raise FileNotFoundError(f"No saved Keras model at {path}")
    if path.suffix == ".npz":
        return _read_npz(path)
    if zipfile.is_zipfile(path):
        return _read_archive(path)
    import h5py  # pylint: disable=import-outside-toplevel

    try:
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                raise ValidationError(
                    f"{path} is an HDF5 file without a model_config: expected a whole "
                    "Keras model saved by model.save (not weights only)",
                    attr="path",
                )
            return _read_legacy_h5(path, f)
    except OSError as e:
        raise ValidationError(
            f"Cannot read {path} as a saved Keras model: expected a .keras archive "
            f"(zip), an .h5 file or a SavedModel directory ({e})",
            attr="path",
        ) from e


def _base_class(class_name):
    """``LMU`` for ``keras-lmu>LMU`` (Keras 2 registration prefix)."""
    return class_name.split(">")[-1]


def _model_layer_configs(config):
    """The layer configs of a Sequential or Functional model config."""
    model_class = _base_class(config.get("class_name", ""))
    if model_class not in ("Sequential", "Functional", "Model"):
        raise ValidationError(
            f"Expected a Sequential or Functional model (got "
            f"{config.get('class_name')!r})",
            attr="path",
        )
    return config["config"]["layers"], model_class


def _inbound(layer_config):
    """The names of the layers a functional layer is called on (Keras 2 and 3)."""
    names = []

    def walk(item):
        if isinstance(item, dict):
            if item.get("class_name") == "__keras_tensor__":  # Keras 3
                names.append(item["config"]["keras_history"][0])
            else:
                for value in item.values():
                    walk(value)
        elif isinstance(item, list):
            if len(item) >= 3 and isinstance(item[0], str) and isinstance(item[1], int):
                names.append(item[0])  # Keras 2: [name, node, tensor, kwargs]
            else:
                for value in item:
                    walk(value)

    walk(layer_config.get("inbound_nodes", []))
    return tuple(names)


def _snake_case(name):
    """Keras' folder name for a class (``LMUFeedforward`` -> ``lmu_feedforward``)."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _lmu_cell_config(class_name, config):
    """The config holding the LMU options (an RNN's cell's), or None."""
    if class_name == "RNN":
        cell = config.get("cell", {})
        is_lmu = _base_class(cell.get("class_name", "")) == "LMUCell"
        return cell.get("config") if is_lmu else None
    return config if class_name in ("LMU", "LMUFeedforward") else None


def _hidden_config(class_name, config):
    """The config of the hidden cell of an LMU layer (None if not an LMU)."""
    cell = _lmu_cell_config(class_name, config) or {}
    return (cell.get("hidden_cell") or {}).get("config")


def _positional_names(class_name, config):
    """The names of an LMU cell's own variables and of its hidden cell's, in the
    order keras-lmu creates them; for a Dense, its variables."""
    if class_name == "Dense":
        return ["kernel"] + (["bias"] if config.get("use_bias", True) else []), []
    cell = _lmu_cell_config(class_name, config)
    if cell is None:
        return [], []
    own = [
        name
        for name, present in (
            ("kernel", cell.get("kernel_initializer") is not None),
            ("bias", cell.get("use_bias", False)),
            ("theta_inv", cell.get("trainable_theta", False)),
            ("recurrent_kernel", cell.get("memory_to_memory", False)),
        )
        if present
    ]
    hidden = cell.get("hidden_cell") or {}
    hidden_class = _base_class(hidden.get("class_name", ""))
    use_bias = hidden.get("config", {}).get("use_bias", True)
    hidden_names = {
        "SimpleRNNCell": ["hidden_kernel", "hidden_recurrent_kernel"],
        "Dense": ["hidden_kernel"],
    }.get(hidden_class, [])
    if hidden_names and use_bias:
        hidden_names.append("hidden_bias")
    return own, hidden_names


def _read_archive(path):
    """A ``.keras`` zip archive (Keras 3, or Keras 2.12's keras_v3)."""
    import h5py  # pylint: disable=import-outside-toplevel

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "config.json" not in names or "model.weights.h5" not in names:
            raise ValidationError(
                f"{path} is a zip without config.json and model.weights.h5: expected "
                "a .keras archive written by Keras' model.save",
                attr="path",
            )
        config = json.loads(archive.read("config.json"))
        weights_file = io.BytesIO(archive.read("model.weights.h5"))
    layer_configs, model_class = _model_layer_configs(config)
    with h5py.File(weights_file, "r") as f:
        if "layers" in f:
            root, fmt = f["layers"], "Keras 3 .keras"
        elif "_layer_checkpoint_dependencies" in f:
            root, fmt = f["_layer_checkpoint_dependencies"], "Keras 2 .keras"
        else:
            raise ValidationError(
                f"{path}: model.weights.h5 has neither layers/ (Keras 3) nor "
                "_layer_checkpoint_dependencies/ (Keras 2)",
                attr="path",
            )
        counts, layers = {}, []
        for layer_config in layer_configs:
            class_name = _base_class(layer_config["class_name"])
            config = layer_config["config"]
            folder = _snake_case(class_name)
            k = counts.get(folder, 0)
            counts[folder] = k + 1
            group = root.get(folder if k == 0 else f"{folder}_{k}")
            weights = {} if group is None else _group_weights(
                group, class_name, config, path
            )
            layers.append(
                KerasLayer(class_name, config, weights, _inbound(layer_config))
            )
    return KerasModel(_with_input(layers, model_class), path, fmt)


def _with_input(layers, model_class):
    """The layers; a Sequential's chained in order (its configs name no inputs)."""
    if model_class != "Sequential":
        return layers
    return [
        layer._replace(inbound=(layers[i - 1].config["name"],) if i else ())
        for i, layer in enumerate(layers)
    ]


def _vars(group):
    """The arrays of ``group/vars`` in order (``vars/0``, ``vars/1``...)."""
    if "vars" not in group:
        return []
    v = group["vars"]
    return [np.array(v[str(i)], dtype=np.float64) for i in range(len(v))]


def _group_weights(group, class_name, config, path):
    """A layer's arrays by name, from its folder of ``vars`` (positional)."""
    own_names, hidden_names = _positional_names(class_name, config)
    if class_name == "Dense" or not (own_names or hidden_names):
        own = _vars(group)
        hidden = []
    else:
        own, hidden = [], []

        def visit(name, obj):
            parts = name.split("/")
            if parts[-1] != "vars" or "delay_layer" in parts:
                return
            values = _vars(obj.parent)
            (hidden if "hidden_cell" in parts else own).extend(values)

        group.visititems(visit)
    found = len(own), len(hidden)
    if found != (len(own_names), len(hidden_names)):
        raise ValidationError(
            f"{path}: layer {config.get('name')!r} ({class_name}) has {found[0]} + "
            f"{found[1]} variables, expected {own_names} + {hidden_names} from its "
            "config",
            attr="path",
        )
    return dict(zip(own_names + hidden_names, own + hidden))


def _read_legacy_h5(path, f):
    """Keras 2's legacy HDF5: ``model_config`` and ``model_weights/<layer>``."""
    config = json.loads(f.attrs["model_config"])
    layer_configs, model_class = _model_layer_configs(config)
    layers = []
    for layer_config in layer_configs:
        class_name = _base_class(layer_config["class_name"])
        config = layer_config["config"]
        group = f["model_weights"].get(config["name"])
        named = {}
        if group is not None:
            for name in group.attrs.get("weight_names", []):
                name = name.decode() if isinstance(name, bytes) else str(name)
                named[name] = np.array(group[name], dtype=np.float64)
        weights = _named_weights(named, class_name, config)
        layers.append(KerasLayer(class_name, config, weights, _inbound(layer_config)))
    return KerasModel(_with_input(layers, model_class), path, "Keras 2 .h5")


def _named_weights(named, class_name, config):
    """A layer's arrays by our names, from Keras 2 variable names
    (``lmu/simple_rnn_cell/kernel:0``: the hidden cell's, as named in the config)."""
    hidden = _hidden_config(class_name, config)
    hidden_name = None if hidden is None else hidden.get("name")
    weights = {}
    for name, value in named.items():
        parts = name.split(":")[0].split("/")
        key = parts[-1]
        if hidden_name is not None and hidden_name in parts[:-1]:
            key = {"recurrent_kernel": "hidden_recurrent_kernel"}.get(
                key, f"hidden_{key}"
            )
        weights[key] = value
    return weights


def _read_saved_model(path):
    """A SavedModel directory, loaded by TensorFlow's Keras (with keras-lmu)."""
    try:
        import keras_lmu  # noqa: F401  # pylint: disable=unused-import (registers)
        import tensorflow as tf  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        raise ImportError(
            "A SavedModel is read by TensorFlow with keras-lmu: pip install -c "
            "constraints.txt -e '.[all]'"
        ) from e
    try:
        model = tf.keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as e:
        raise ValidationError(
            f"Cannot load {path} as a Keras SavedModel: {e}", attr="path"
        ) from e
    layers = [keras_object_layer(layer) for layer in model.layers]
    inbound = [()] + [(layers[i - 1].config["name"],) for i in range(1, len(layers))]
    if not isinstance(model, tf.keras.Sequential):
        config = model.get_config()
        inbound = [_inbound(c) for c in config["layers"]]
    return KerasModel(
        [layer._replace(inbound=i) for layer, i in zip(layers, inbound)],
        path,
        "SavedModel",
    )


def keras_object_layer(layer):
    """A `KerasLayer` from a built Keras layer object (TensorFlow's Keras)."""
    import keras_lmu  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    inner = layer.layer if isinstance(layer, keras_lmu.LMU) else layer
    cell = None
    if isinstance(inner, tf.keras.layers.RNN) and isinstance(
        inner.cell, keras_lmu.LMUCell
    ):
        cell = inner.cell
    elif isinstance(inner, keras_lmu.LMUFeedforward):
        cell = inner
    weights = {}
    if cell is not None:
        hidden = cell.hidden_cell
        variables = {
            "kernel": cell.kernel,
            "bias": cell.bias,
            "theta_inv": getattr(cell, "theta_inv", None)
            if getattr(cell, "trainable_theta", False)
            else None,
            "recurrent_kernel": getattr(cell, "recurrent_kernel", None),
            "hidden_kernel": getattr(hidden, "kernel", None),
            "hidden_recurrent_kernel": getattr(hidden, "recurrent_kernel", None),
            "hidden_bias": getattr(hidden, "bias", None),
        }
    elif isinstance(layer, tf.keras.layers.Dense):
        variables = {"kernel": layer.kernel, "bias": layer.bias}
    else:
        variables = {}
    weights = {
        k: np.array(v, dtype=np.float64) for k, v in variables.items() if v is not None
    }
    return KerasLayer(type(layer).__name__, layer.get_config(), weights, ())


NPZ_KEY = "keras_model"
"""The key of the layers' configs in a `save_keras_model` file."""


def save_keras_model(path, model):
    """Write a `KerasModel` (configs and arrays) to a ``.npz`` file, which
    `read_keras_model` reads back (no Keras needed)."""
    arrays = {
        f"layers/{i}/{name}": value
        for i, layer in enumerate(model.layers)
        for name, value in layer.weights.items()
    }
    arrays[NPZ_KEY] = json.dumps(
        [
            dict(
                class_name=layer.class_name,
                config=layer.config,
                inbound=layer.inbound,
            )
            for layer in model.layers
        ],
        default=str,
    )
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)


def is_keras_npz(path):
    """Whether ``path`` is a ``.npz`` written by `save_keras_model`."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return NPZ_KEY in f.files
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            if NPZ_KEY not in f.files:
                raise ValidationError(
                    f"{path} is not a Keras model written by nengo_lmu "
                    "(save_keras_model, nengo-lmu import-keras): it has no "
                    f"{NPZ_KEY!r}",
                    attr="path",
                )
            layers = json.loads(str(f[NPZ_KEY]))
            arrays = {
                name: f[name].astype(np.float64)
                for name in f.files
                if name != NPZ_KEY
            }
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValidationError(
            f"Cannot read {path} as a .npz Keras model written by nengo_lmu ({e}): "
            "expected a complete file from nengo-lmu import-keras",
            attr="path",
        ) from e
    return KerasModel(
        [
            KerasLayer(
                layer["class_name"],
                layer["config"],
                {
                    name.split("/")[-1]: value
                    for name, value in arrays.items()
                    if name.startswith(f"layers/{i}/")
                },
                tuple(layer["inbound"]),
            )
            for i, layer in enumerate(layers)
        ],
        path,
        "nengo_lmu .npz",
    )
