"""Train an LMU on psMNIST from scratch: nengo_lmu in NengoDL next to keras-lmu.

Run: ``.venv/bin/python benchmarks/psmnist_training.py [--batches N] [--data DIR]``.
Both get the same budget (one epoch on the first 50,000 training images by default,
batch 100, Adam 1e-3) and data (keras-lmu's psMNIST convention), in one process:

- nengo_lmu: the paper's recipe (`SequenceClassifier` with the paper's cell: units
  212, order 256, theta 784 steps, dt 1), trained with ``nengo_dl.Simulator.fit``;
- keras-lmu 0.7: its documentation's model, ``RNN(LMUCell(SimpleRNNCell(212),
  order 256, theta 784, input_to_hidden, kernel_initializer "ones"))`` + ``Dense(10)``.

Prints seconds per batch (after the first, which builds the graph) and test accuracy
on all 10,000 test images. Full 10-epoch training (the paper's) is a GPU-scale run:
``--epochs 10``.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

# pylint: disable=wrong-import-position
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from nengo_lmu.data import psmnist  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--batches", type=int, default=500, help="batches per epoch")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--n-test", type=int, default=10000, help="test images")
parser.add_argument("--data", default=None)
parser.add_argument("--only", choices=("nengo_lmu", "keras-lmu"), default=None)
args = parser.parse_args()

BATCH = 100
data = psmnist("keras-lmu", args.data)
x_train = data.x_train[: args.batches * BATCH]
y_train = data.y_train[: args.batches * BATCH].astype(np.int32)
x_test, y_test = data.x_test[: args.n_test], data.y_test[: args.n_test]
loss = tf.losses.SparseCategoricalCrossentropy(from_logits=True)


class BatchTimer(tf.keras.callbacks.Callback):
    """Wall time of every training batch."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def report(name, timer, accuracy):
    times = np.array(timer.times[1:] if len(timer.times) > 1 else timer.times)
    print(
        f"{name}: {np.median(times):.2f} s/batch (median of {len(times)} batches "
        f"after the first; {BATCH / np.median(times):.0f} samples/s), "
        f"{args.epochs} x {args.batches} batches, accuracy on {len(y_test)} test "
        f"images {accuracy:.4f}",
        flush=True,
    )


def nengo_lmu_run():
    import nengo_dl  # pylint: disable=import-outside-toplevel

    from nengo_lmu.lmu import SequenceClassifier  # pylint: disable=import-outside-toplevel

    net = SequenceClassifier(
        n_classes=10, units=212, order=256, theta=784.0, input_d=1, seed=0
    )
    timer = BatchTimer()
    with nengo_dl.Simulator(
        net,
        dt=1.0,
        minibatch_size=BATCH,
        progress_bar=False,
        seed=0,
    ) as sim:
        sim.compile(optimizer=tf.optimizers.Adam(1e-3), loss={net.probe: loss})
        sim.fit(
            {net.input: x_train},
            {net.probe: y_train[:, None, None]},
            epochs=args.epochs,
            callbacks=[timer],
            verbose=0,
        )
        scores = sim.predict({net.input: x_test}, verbose=0)[net.probe][:, -1]
    report("nengo_lmu (NengoDL)", timer, np.mean(np.argmax(scores, 1) == y_test))


def keras_lmu_run():
    import keras_lmu  # pylint: disable=import-outside-toplevel

    tf.random.set_seed(0)
    inp = tf.keras.Input((784, 1))
    h = tf.keras.layers.RNN(
        keras_lmu.LMUCell(
            memory_d=1,
            order=256,
            theta=784,
            hidden_cell=tf.keras.layers.SimpleRNNCell(212),
            input_to_hidden=True,
            kernel_initializer="ones",
        )
    )(inp)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(10)(h))
    model.compile(optimizer=tf.optimizers.Adam(1e-3), loss=loss)
    timer = BatchTimer()
    model.fit(
        x_train,
        y_train,
        batch_size=BATCH,
        epochs=args.epochs,
        callbacks=[timer],
        verbose=0,
    )
    scores = model.predict(x_test, batch_size=500, verbose=0)
    report("keras-lmu RNN(LMUCell)", timer, np.mean(np.argmax(scores, 1) == y_test))


if args.only != "keras-lmu":
    nengo_lmu_run()
if args.only != "nengo_lmu":
    keras_lmu_run()
