"""Train an LMU on psMNIST from scratch: nengo_lmu in NengoDL next to keras-lmu.

Run: ``.venv/bin/python benchmarks/psmnist_training.py [--batches N] [--epochs N]
[--paper-cell] [--n-test N] [--data DIR]``.

Every model gets the same budget and data: keras-lmu's psMNIST convention, one epoch
on the first 50,000 training images by default (``--batches`` per epoch), in one
shuffled order (``numpy.random.RandomState(0)``, a new permutation each epoch) that
all models share, batch 100, Adam 1e-3 (Keras' defaults otherwise), sparse categorical
cross-entropy on the logits of the last step, float32. The models:

- keras-lmu 0.7: its documentation's model, ``RNN(LMUCell(memory_d=1, order=256,
  theta=784, hidden_cell=SimpleRNNCell(212), hidden_to_memory=False,
  memory_to_memory=False, input_to_hidden=True, kernel_initializer="ones"))`` and
  ``Dense(10)`` (Keras' initializers: Glorot uniform kernels, orthogonal recurrent
  kernel, zero biases), built with ``tf.random.set_seed(0)``;
- nengo_lmu, the same model: a `SequenceClassifier` with the `LMU` that
  ``from_keras_lmu`` makes of the keras-lmu layer before training, and its ``Dense``
  readout's weights: the same initial weights and memory matrices (keras-lmu's
  float32 discretization, which differs from the exact one by up to 2e-5), so that
  only the frameworks' numerics differ; trained with ``nengo_dl.Simulator.fit``;
- with ``--paper-cell``, nengo_lmu with the paper's cell (`SequenceClassifier`
  defaults: units 212, order 256, θ = 784 steps; seed 0).

The models take turns batch by batch in this one process (so a varying machine load
hits them alike). Printed: how far apart the untrained keras-lmu and nengo_lmu models'
outputs are; then per model the median wall-clock seconds per batch (after the first,
which builds the graph), the mean training loss over the last tenth of the batches,
and the accuracy on the test images (all 10,000 by default). Full 10-epoch training
(the paper's) is a GPU-scale run: ``--epochs 10``.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

# pylint: disable=wrong-import-position
import warnings  # noqa: E402

import keras_lmu  # noqa: E402
import nengo_dl  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from nengo_lmu.convert import from_keras_lmu  # noqa: E402
from nengo_lmu.data import psmnist  # noqa: E402
from nengo_lmu.lmu import SequenceClassifier  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--batches", type=int, default=500, help="batches per epoch")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--paper-cell", action="store_true", help="also the paper's cell")
parser.add_argument("--n-test", type=int, default=10000, help="test images")
parser.add_argument("--data", default=None)
args = parser.parse_args()

warnings.filterwarnings("ignore", message="No GPU support detected")
tf.get_logger().setLevel("ERROR")  # keras' warnings about retracing fit
BATCH = 100
data = psmnist("keras-lmu", args.data)
x_train = data.x_train[: args.batches * BATCH]
y_train = data.y_train[: args.batches * BATCH].astype(np.int32)
x_test, y_test = data.x_test[: args.n_test], data.y_test[: args.n_test]
loss = tf.losses.SparseCategoricalCrossentropy(from_logits=True)


class BatchLog(tf.keras.callbacks.Callback):
    """Wall time and training loss of every batch."""

    def __init__(self):
        super().__init__()
        self.times, self.losses = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self.start)
        self.losses.append(logs["loss"])


def keras_docs_model():
    """keras-lmu's documentation model, compiled; and its RNN and Dense layers."""
    tf.random.set_seed(0)
    rnn = tf.keras.layers.RNN(
        keras_lmu.LMUCell(
            memory_d=1,
            order=256,
            theta=784,
            hidden_cell=tf.keras.layers.SimpleRNNCell(212),
            hidden_to_memory=False,
            memory_to_memory=False,
            input_to_hidden=True,
            kernel_initializer="ones",
        )
    )
    dense = tf.keras.layers.Dense(10)
    inp = tf.keras.Input((784, 1))
    model = tf.keras.Model(inp, dense(rnn(inp)))
    model.compile(optimizer=tf.optimizers.Adam(1e-3), loss=loss)
    return model, rnn, dense


class KerasModel:
    """``train(x, y, log)`` on one batch, ``predict(x)``: a compiled Keras model."""

    def __init__(self, model):
        self.model = model

    def train(self, x, y, log):
        self.model.fit(
            x, y, batch_size=BATCH, shuffle=False, callbacks=[log], verbose=0
        )

    def predict(self, x):
        return self.model.predict(x, batch_size=BATCH, verbose=0)


class NengoModel:
    """The same for a `SequenceClassifier` in a NengoDL simulator."""

    def __init__(self, net):
        self.net = net
        self.sim = nengo_dl.Simulator(
            net, dt=1.0, minibatch_size=BATCH, progress_bar=False, seed=0
        )
        self.sim.compile(optimizer=tf.optimizers.Adam(1e-3), loss={net.probe: loss})

    def train(self, x, y, log):
        self.sim.fit(
            {self.net.input: x},
            {self.net.probe: y[:, None, None]},
            shuffle=False,
            callbacks=[log],
            verbose=0,
        )

    def predict(self, x):
        return self.sim.predict({self.net.input: x}, verbose=0)[self.net.probe][:, -1]


keras_model, rnn, dense = keras_docs_model()
lmu_kwargs = from_keras_lmu(rnn)
models = {
    "keras-lmu docs model (keras-lmu RNN(LMUCell))": KerasModel(keras_model),
    "keras-lmu docs model (nengo_lmu in NengoDL)": NengoModel(
        SequenceClassifier(
            n_classes=10,
            readout_kernel=dense.kernel.numpy().T,
            readout_bias=dense.bias.numpy(),
            seed=0,
            **lmu_kwargs,
        )
    ),
}
if args.paper_cell:
    models["paper's cell (nengo_lmu in NengoDL)"] = NengoModel(
        SequenceClassifier(
            n_classes=10, units=212, order=256, theta=784.0, input_d=1, seed=0
        )
    )

keras_scores, nengo_scores = (
    m.predict(x_test[:BATCH]) for m in list(models.values())[:2]
)
print(
    f"untrained, first {BATCH} test images: max |nengo_lmu - keras-lmu| "
    f"{np.abs(nengo_scores - keras_scores).max():.1e} (scores up to "
    f"{np.abs(keras_scores).max():.2f})",
    flush=True,
)

logs = {name: BatchLog() for name in models}
rng = np.random.RandomState(0)
for _ in range(args.epochs):
    order = rng.permutation(len(x_train))
    for start in range(0, len(order), BATCH):
        batch = order[start : start + BATCH]
        for name, model in models.items():
            model.train(x_train[batch], y_train[batch], logs[name])

print(
    f"\n{args.epochs} x {args.batches} batches of {BATCH}, models taking turns; "
    f"accuracy on {len(y_test)} test images\n\n"
    "| model | s/batch | samples/s | final training loss | test accuracy |\n"
    "|---|---|---|---|---|"
)
for name, model in models.items():
    scores = model.predict(x_test)
    accuracy = np.mean(np.argmax(scores, axis=1) == y_test)
    times = logs[name].times[1:] or logs[name].times
    last = logs[name].losses[-max(1, len(logs[name].losses) // 10) :]
    print(
        f"| {name} | {np.median(times):.2f} | {BATCH / np.median(times):.0f} | "
        f"{np.mean(last):.4f} | {accuracy:.4f} |",
        flush=True,
    )
