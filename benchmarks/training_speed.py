"""Training and inference speed on psMNIST: nengo_lmu in NengoDL next to keras-lmu.

Run: ``.venv/bin/python benchmarks/training_speed.py [--rounds N] [--n-test N]
[--data DIR]`` (about 6 minutes on 2 cores).

All models have the psMNIST architecture (units 212, order 256, theta 784 steps,
input_d 1, 10 classes), and train with batch 100, 784 steps, Adam 1e-3 and sparse
categorical cross-entropy on the last step, on the same psMNIST batches (keras-lmu's
convention), in this one process with the same TensorFlow:

- nengo_lmu: `SequenceClassifier` trained with ``nengo_dl.Simulator.fit`` as the README
  shows (default settings: the LMU and its readout fused into one operator each), the
  same network built from its Nengo objects (``fused = False``), and the fused network
  with θ trainable too (zero-order hold: the memory is discretized at the trained θ,
  a matrix exponential, once per batch);
- the LMU network of NengoDL's documentation example (nodes for x, u and m, a tanh
  `nengo_dl.TensorNode` for h, A and B as non-trainable ``synapse=0`` connections,
  ``unroll_simulation=16``), written here with plain Nengo and NengoDL objects;
- keras-lmu 0.7: ``RNN(LMUCell(SimpleRNNCell(212)))``, also with
  ``trainable_theta=True`` (zero-order hold: a matrix exponential in every step), and
  its ``LMU`` layer, which computes the memory with FFTs (the feed-forward mode: no
  hidden-to-memory or memory-to-memory connections).

The models take turns, one batch each, for ``--rounds`` rounds after one warm-up batch
each, so that a varying machine load hits them alike; each line gives the median
wall-clock seconds per batch, the samples per second, the process CPU seconds per
batch, and the speed relative to the fastest keras-lmu mode and to the NengoDL example.
Then inference, models taking turns again: test images per second in NengoDL for the
rate network (the trained architecture) and the hybrid network with spiking hidden
neurons (``SpikeAwareRegularSpiking(nengo.Tanh(tau_ref=1))``, `to_spiking`'s type,
fused too), next to
keras-lmu; and steps per second of both networks in the Nengo
reference simulator.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

# pylint: disable=wrong-import-position
import warnings  # noqa: E402

import keras_lmu  # noqa: E402
import nengo  # noqa: E402
import nengo_dl  # noqa: E402
import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402
import tensorflow as tf  # noqa: E402

from nengo_lmu.data import psmnist  # noqa: E402
from nengo_lmu.lmu import SequenceClassifier  # noqa: E402
from nengo_lmu.neurons import SpikeAwareRegularSpiking  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--rounds", type=int, default=3, help="timed batches per model")
parser.add_argument("--n-test", type=int, default=1000, help="test images (inference)")
parser.add_argument("--data", default=None)
args = parser.parse_args()

warnings.filterwarnings("ignore", message="No GPU support detected")
tf.get_logger().setLevel("ERROR")  # keras' warnings about retracing fit
BATCH, UNITS, ORDER, THETA = 100, 212, 256, 784
data = psmnist("keras-lmu", args.data)
x_train = data.x_train[: (args.rounds + 1) * BATCH]
y_train = data.y_train[: (args.rounds + 1) * BATCH].astype(np.int32)
x_test = data.x_test[: args.n_test]
loss = tf.losses.SparseCategoricalCrossentropy(from_logits=True)


class BatchTimer(tf.keras.callbacks.Callback):
    """Wall-clock and process CPU time of each training batch."""

    def __init__(self):
        super().__init__()
        self.wall, self.cpu = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter(), time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        self.wall.append(time.perf_counter() - self.start[0])
        self.cpu.append(time.process_time() - self.start[1])


open_simulators = []


def nengo_dl_trainer(net, inp, probe, **sim_kwargs):
    """``train(x, y, callback)``: one NengoDL fit on the batch."""
    sim = nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=BATCH, progress_bar=False, seed=0, **sim_kwargs
    )
    open_simulators.append(sim)
    sim.compile(optimizer=tf.optimizers.Adam(1e-3), loss={probe: loss})

    def train(x, y, callback):
        sim.fit({inp: x}, {probe: y[:, None, None]}, callbacks=[callback], verbose=0)

    return train


PAPER_WEIGHTS = [  # the weights of the paper's cell, all trained by default
    "input_encoders",
    "hidden_encoders",
    "memory_encoders",
    "input_kernel",
    "hidden_kernel",
    "memory_kernel",
]


def nengo_lmu_trainer(fused, trainable_theta=False):
    net = SequenceClassifier(
        n_classes=10,
        units=UNITS,
        order=ORDER,
        theta=THETA,
        input_d=1,
        seed=0,
        **(
            dict(trainable=PAPER_WEIGHTS + ["theta"], dt=1.0) if trainable_theta else {}
        ),
    )
    net.lmu.fused = net.readout.fused = fused
    return nengo_dl_trainer(net, net.input, net.probe)


class DocsLMUCell(nengo.Network):
    """The LMU cell of NengoDL's documentation example (psMNIST)."""

    def __init__(self, units, order, theta, input_d, **kwargs):
        super().__init__(**kwargs)
        Q = np.arange(order, dtype=np.float64)
        R = (2 * Q + 1)[:, None] / theta
        j, i = np.meshgrid(Q, Q)
        A = np.where(i < j, -1, (-1.0) ** (i - j + 1)) * R
        B = (-1.0) ** Q[:, None] * R
        A, B, _, _, _ = scipy.signal.cont2discrete(
            (A, B, np.ones((1, order)), np.zeros((1,))), dt=1.0, method="zoh"
        )
        with self:
            nengo_dl.configure_settings(trainable=None)
            self.x = nengo.Node(size_in=input_d)
            self.u = nengo.Node(size_in=1)
            self.m = nengo.Node(size_in=order)
            self.h = nengo_dl.TensorNode(tf.nn.tanh, shape_in=(units,), pass_time=False)
            nengo.Connection(
                self.x, self.u, transform=np.ones((1, input_d)), synapse=None
            )
            conn_A = nengo.Connection(self.m, self.m, transform=A, synapse=0)
            self.config[conn_A].trainable = False
            conn_B = nengo.Connection(self.u, self.m, transform=B, synapse=None)
            self.config[conn_B].trainable = False
            nengo.Connection(
                self.x, self.h, transform=nengo_dl.dists.Glorot(), synapse=None
            )
            nengo.Connection(
                self.h, self.h, transform=nengo_dl.dists.Glorot(), synapse=0
            )
            nengo.Connection(
                self.m,
                self.h,
                transform=nengo_dl.dists.Glorot(distribution="normal"),
                synapse=None,
            )


def docs_example_trainer():
    with nengo.Network(seed=0) as net:
        nengo_dl.configure_settings(trainable=None, stateful=False, keep_history=False)
        inp = nengo.Node(np.zeros(1))
        lmu = DocsLMUCell(units=UNITS, order=ORDER, theta=THETA, input_d=1)
        conn = nengo.Connection(inp, lmu.x, synapse=None)
        net.config[conn].trainable = False
        out = nengo.Node(size_in=10)
        nengo.Connection(lmu.h, out, transform=nengo_dl.dists.Glorot(), synapse=None)
        probe = nengo.Probe(out)
    return nengo_dl_trainer(net, inp, probe, unroll_simulation=16)


def keras_lmu_model(layer):
    tf.random.set_seed(0)
    inp = tf.keras.Input((THETA, 1))
    model = tf.keras.Model(inp, tf.keras.layers.Dense(10)(layer(inp)))
    model.compile(optimizer=tf.optimizers.Adam(1e-3), loss=loss)
    return model


def keras_lmu_trainer(fft, trainable_theta=False):
    cell_args = dict(
        memory_d=1,
        order=ORDER,
        theta=THETA,
        hidden_cell=tf.keras.layers.SimpleRNNCell(UNITS),
        input_to_hidden=True,
        kernel_initializer="ones",
        trainable_theta=trainable_theta,
    )
    layer = (
        keras_lmu.LMU(**cell_args)
        if fft
        else tf.keras.layers.RNN(keras_lmu.LMUCell(**cell_args))
    )
    model = keras_lmu_model(layer)

    def train(x, y, callback):
        model.fit(x, y, batch_size=BATCH, callbacks=[callback], verbose=0)

    return train, model


def training():
    keras_rnn, keras_rnn_model = keras_lmu_trainer(fft=False)
    trainers = {
        "nengo_lmu `LMU` (NengoDL, fused: the default)": nengo_lmu_trainer(fused=True),
        "nengo_lmu `LMU` (NengoDL, standard build)": nengo_lmu_trainer(fused=False),
        "nengo_lmu `LMU`, trainable θ (NengoDL, fused)": nengo_lmu_trainer(
            fused=True, trainable_theta=True
        ),
        "NengoDL docs example LMU": docs_example_trainer(),
        "keras-lmu `RNN(LMUCell)`": keras_rnn,
        "keras-lmu `RNN(LMUCell)`, trainable_theta": keras_lmu_trainer(
            fft=False, trainable_theta=True
        )[0],
        "keras-lmu `LMU` (FFT)": keras_lmu_trainer(fft=True)[0],
    }
    timers = {name: BatchTimer() for name in trainers}
    for k in range(args.rounds + 1):  # round 0: warm-up (builds the graphs)
        batch = slice(k * BATCH, (k + 1) * BATCH)
        for name, train in trainers.items():
            train(x_train[batch], y_train[batch], timers[name])
    while open_simulators:
        open_simulators.pop().close()
    wall = {name: np.median(t.wall[1:]) for name, t in timers.items()}
    cpu = {name: np.median(t.cpu[1:]) for name, t in timers.items()}
    keras = min(v for name, v in wall.items() if name.startswith("keras"))
    docs = wall["NengoDL docs example LMU"]
    print(
        f"\nTraining: median of {args.rounds} batches (batch 100, 784 steps, Adam) "
        "after a warm-up batch, models taking turns\n\n"
        "| model | s/batch | samples/s | CPU s/batch | vs fastest keras-lmu | "
        "vs NengoDL example |\n|---|---|---|---|---|---|"
    )
    for name in trainers:
        print(
            f"| {name} | {wall[name]:.2f} | {BATCH / wall[name]:.0f} | "
            f"{cpu[name]:.2f} | {keras / wall[name]:.2f}x | {docs / wall[name]:.2f}x |",
            flush=True,
        )
    return keras_rnn_model


def classifier(hidden_neurons):
    return SequenceClassifier(
        n_classes=10,
        units=UNITS,
        order=ORDER,
        theta=THETA,
        input_d=1,
        hidden_neurons=hidden_neurons,
        seed=0,
    )


NETWORKS = {
    "rate": nengo.Tanh(tau_ref=1),
    "hybrid spiking": SpikeAwareRegularSpiking(nengo.Tanh(tau_ref=1)),
}


def nengo_dl_predictor(neurons):
    """``predict(x)`` of a `SequenceClassifier` with these hidden neurons."""
    net = classifier(neurons)
    sim = nengo_dl.Simulator(net, dt=1.0, minibatch_size=BATCH, progress_bar=False)
    open_simulators.append(sim)
    return lambda x: sim.predict({net.input: x}, verbose=0)


def inference(keras_rnn_model):
    predictors = {
        f"nengo_lmu {name} network (NengoDL)": nengo_dl_predictor(neurons)
        for name, neurons in NETWORKS.items()
    }
    predictors["keras-lmu `RNN(LMUCell)`"] = lambda x: keras_rnn_model.predict(
        x, batch_size=BATCH, verbose=0
    )
    seconds = dict.fromkeys(predictors, 0.0)
    for predict in predictors.values():
        predict(x_test[:BATCH])  # warm-up (builds the graph)
    for start in range(0, len(x_test), 2 * BATCH):  # taking turns
        for name, predict in predictors.items():
            begin = time.perf_counter()
            predict(x_test[start : start + 2 * BATCH])
            seconds[name] += time.perf_counter() - begin
    while open_simulators:
        open_simulators.pop().close()
    print(
        f"\nInference on {len(x_test)} test images (batch 100), models taking "
        "turns\n\n| model | images/s |\n|---|---|"
    )
    for name, total in seconds.items():
        print(f"| {name} | {len(x_test) / total:.1f} |", flush=True)
    print("\nNengo reference simulator, 10 test images (7840 steps)\n")
    print("| model | steps/s |\n|---|---|")
    for name, neurons in NETWORKS.items():
        net = classifier(neurons)
        with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
            begin = time.perf_counter()
            for image in x_test[:10]:
                net.input.output.data = image
                sim.reset()
                sim.run_steps(THETA)
            rate = 10 * THETA / (time.perf_counter() - begin)
        print(f"| nengo_lmu {name} network | {rate:.0f} |", flush=True)


print(
    f"{os.cpu_count()} CPUs, TensorFlow {tf.__version__}, NengoDL "
    f"{nengo_dl.__version__}, keras-lmu {keras_lmu.__version__}; load average "
    f"{os.getloadavg()[0]:.1f} at the start",
    flush=True,
)
inference(training())
print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
