"""Exchanging nengo_lmu networks with other frameworks.

Keras: models trained elsewhere, brought into Nengo.

`read_keras_model` reads a saved Keras model (a Keras 3 ``.keras`` archive with
zipfile, json and h5py only; Keras 2.12's ``.keras``, legacy ``.h5`` and SavedModel)
into a `KerasModel`; `keras_layers.model_layers` maps its layers onto the layers of a
`.StackedModel`.

NIR: `nengo_lmu.interop.nir` exports a spiking `.DelayNetwork` to the Neuromorphic
Intermediate Representation (imported on its own: it needs the ``nir`` extra).
"""

from nengo_lmu.interop.keras_files import (
    KerasLayer,
    KerasModel,
    read_keras_model,
    save_keras_model,
)
from nengo_lmu.interop.keras_layers import SUPPORTED, model_layers

__all__ = [
    "KerasLayer",
    "KerasModel",
    "SUPPORTED",
    "model_layers",
    "read_keras_model",
    "save_keras_model",
]
