"""Models trained elsewhere, brought into Nengo: Keras files of keras-lmu models.

`read_keras_model` reads a saved Keras model (a Keras 3 ``.keras`` archive with
zipfile, json and h5py only; Keras 2.12's ``.keras``, legacy ``.h5`` and SavedModel)
into a `KerasModel`; `keras_layers.model_layers` maps its layers onto the layers of a
`.StackedModel`.
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
