"""Save small keras-lmu models made by real Keras 3, and their outputs, as fixtures.

Run by ``make keras3-fixtures`` in a scratch environment (``requirements.txt`` beside
this file: TensorFlow 2.19, Keras 3, keras-lmu 0.9), never the pinned one. For each
model it writes ``<name>.keras`` (Keras 3's archive) and ``<name>.npz`` (fixed inputs
``x`` and Keras' ``model.predict(x)``, ``y``) here; ``tests/test_keras3_fixtures.py``
checks that nengo_lmu reproduces ``y`` from the archive on both simulators.
Weights are random (uniform in +-0.6, so that every path carries signal), a trainable
theta is set to 7.5 steps (a "trained" value), all seeded.
"""

import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# pylint: disable=wrong-import-position
import keras  # noqa: E402
import keras_lmu  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = pathlib.Path(__file__).parent
STEPS, N = 12, 3
L = keras.layers


def lmu(memory_d, order, theta, hidden, **options):
    return keras_lmu.LMU(memory_d, order, theta, hidden, **options)


def rnn(memory_d, order, theta, hidden, return_sequences=False, **options):
    cell = keras_lmu.LMUCell(memory_d, order, theta, hidden, **options)
    return L.RNN(cell, return_sequences=return_sequences)


def functional(input_d, layers):
    inp = keras.Input((STEPS, input_d))
    h = inp
    for layer in layers:
        h = layer(h)
    return keras.Model(inp, h)


def sequential(input_d, layers):
    return keras.Sequential([keras.Input((STEPS, input_d))] + layers)


MODELS = {
    # one LMU (FFT implementation) and a readout: a SequenceClassifier
    "classifier": lambda: functional(
        2,
        [
            lmu(1, 4, 6.0, L.SimpleRNNCell(5), input_to_hidden=True),
            L.Dense(3),
        ],
    ),
    # stacked: FFT LMU with memory_d 2 and a memory bias, dropout, an RNN(LMUCell)
    # with every connection and a trainable theta (euler), a recurrent LMU with a
    # sigmoid hidden cell, a softmax readout
    "stacked": lambda: functional(
        2,
        [
            lmu(
                2,
                3,
                4.0,
                L.SimpleRNNCell(5),
                input_to_hidden=True,
                use_bias=True,
                return_sequences=True,
            ),
            L.Dropout(0.2),
            rnn(
                1,
                3,
                5.0,
                L.Dense(4, activation="relu"),
                return_sequences=True,
                trainable_theta=True,
                discretizer="euler",
                hidden_to_memory=True,
                memory_to_memory=True,
                input_to_hidden=True,
                use_bias=True,
            ),
            lmu(
                1,
                4,
                6.0,
                L.SimpleRNNCell(3, activation="sigmoid"),
                hidden_to_memory=True,
            ),
            L.Dense(3, activation="softmax"),
        ],
    ),
    # Sequential, sequence output: LMUFeedforward without an input kernel, an LMU
    # with a trainable theta (zoh) and a linear Dense hidden cell, Dense activations
    "sequence": lambda: sequential(
        2,
        [
            keras_lmu.LMUFeedforward(
                2,
                3,
                4.0,
                L.Dense(4, activation="tanh"),
                kernel_initializer=None,
                discretizer="euler",
                return_sequences=True,
            ),
            lmu(
                1,
                3,
                5.0,
                L.Dense(3),
                trainable_theta=True,
                memory_to_memory=True,
                return_sequences=True,
            ),
            L.Dense(4, activation="relu"),
            L.Dense(3, activation="tanh"),
            L.Dense(2, activation="sigmoid"),
        ],
    ),
    # the Mackey-Glass network of the LMU paper in small: 4 LMU layers of the
    # paper's cell (input and hidden encoders, input, hidden and memory kernels, a
    # hidden bias), sequence output, a linear readout
    "mackey_glass": lambda: functional(
        1,
        [
            lmu(
                1,
                4,
                4.0,
                L.SimpleRNNCell(6),
                input_to_hidden=True,
                hidden_to_memory=True,
                return_sequences=True,
            )
            for _ in range(4)
        ]
        + [L.Dense(1)],
    ),
    # not supported (an LSTM layer): the import names it
    "unsupported": lambda: functional(1, [L.LSTM(3), L.Dense(2)]),
}


def main():
    rng = np.random.RandomState(0)
    keras.utils.set_random_seed(0)
    versions = dict(
        tensorflow=tf.__version__,
        keras=keras.__version__,
        keras_lmu=keras_lmu.__version__,
    )
    for name, make in MODELS.items():
        model = make()
        for w in model.weights:
            if w.path.endswith("theta_inv"):
                w.assign(np.float32(1 / 7.5))
            else:
                w.assign(rng.uniform(-0.6, 0.6, size=w.shape).astype(np.float32))
        input_d = model.inputs[0].shape[-1]
        x = rng.uniform(-1, 1, size=(N, STEPS, input_d)).astype(np.float32)
        y = model.predict(x, verbose=0)
        model.save(HERE / f"{name}.keras")
        np.savez(HERE / f"{name}.npz", x=x, y=y, versions=json.dumps(versions))
        print(f"{name}: output {y.shape}, {len(model.weights)} weights")
    print(f"written to {HERE} with {versions}")


if __name__ == "__main__":
    main()
