"""Mackey-Glass, 15 steps ahead: an LMU (nengo_lmu in NengoDL) next to an LSTM
(tf.keras) of about the same size, trained in this one run on the same data.

Run: ``.venv/bin/python benchmarks/mackey_glass.py [--epochs N] [--window N]
[--lr LR] [--seed S]`` (3 to 5 minutes on 2 busy cores with the defaults). Prints
the test NRMSE of both networks (and of the trivial prediction "no change") and writes
``benchmarks/results/mackey_glass.png``.

Data: `nengo_lmu.tasks.mackey_glass` with the LMU paper's settings (128 series of
tau = 17, 5000 steps, half for testing), the target being the value 15 steps AHEAD.
The networks are the paper's (its notebook ``experiments/mackey-glass.ipynb``):

- LMU: 4 layers of the paper's cell with 49 units, order 4, theta 4 steps (input and
  hidden encoders LeCun uniform, memory encoders 0, input and memory kernels Glorot
  normal, hidden kernel uniform +-0.05, a hidden bias), then a linear Dense readout:
  18,246 trainable parameters, as in the paper;
- LSTM: 4 layers of 25 units, then a tanh Dense readout: 18,026 parameters.

Both train with Adam (learning rate ``--lr``, default 3e-3 for the short default
budget, decaying to 0 along a cosine over the run; the paper used Keras' constant
1e-3) on the MSE of every step, with the same
budget: ``--epochs`` passes over the 64 training series cut into windows of
``--window`` steps (minibatches of 32; each window starts from a zero state), the
windows in the same order for both. Each is then run on the 64 whole test series
(5000 steps); NRMSE = RMS error / RMS of the target, over all test steps. The paper
trained for 500 epochs on 32 whole series (one minibatch per epoch; the other 32
training series for validation, keeping the best epoch's weights); reported for the
fixed task: LMU 4.87 %, LSTM 5.87 %. ``--epochs 500 --window 5000`` is a budget of
that order (twice the series, no validation), many hours on 2 CPU cores.
"""

import argparse
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

# pylint: disable=wrong-import-position
import warnings  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nengo  # noqa: E402
import nengo_dl  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from nengo_lmu.lmu import LMU, Dense  # noqa: E402
from nengo_lmu.tasks import mackey_glass, nrmse  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"
BATCH, LAYERS, LMU_UNITS, LSTM_UNITS, ORDER, THETA = 32, 4, 49, 25, 4, 4.0

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--epochs", type=int, default=6, help="passes over the data")
parser.add_argument("--window", type=int, default=1000, help="steps per window")
parser.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate")
parser.add_argument("--seed", type=int, default=0, help="data and weights")
args = parser.parse_args()

warnings.filterwarnings("ignore", message="No GPU support detected")
tf.get_logger().setLevel("ERROR")

start = time.perf_counter()
data = mackey_glass(seed=args.seed)
steps = data.x_train.shape[1]
if steps % args.window:
    parser.error(f"--window must divide the {steps} steps of a series")


def windows(a):
    return a.reshape(-1, args.window, a.shape[-1])


order = np.random.RandomState(args.seed).permutation(steps // args.window * 64)
x_train, y_train = windows(data.x_train)[order], windows(data.y_train)[order]
n_train = len(x_train) // BATCH * BATCH
x_train, y_train = x_train[:n_train], y_train[:n_train]


def adam():
    """Adam, its learning rate decaying from ``--lr`` to 0 along a cosine."""
    n_batches = args.epochs * n_train // BATCH
    return tf.optimizers.Adam(tf.optimizers.schedules.CosineDecay(args.lr, n_batches))


def lecun_uniform(fan_in):
    return nengo.dists.Uniform(-np.sqrt(3 / fan_in), np.sqrt(3 / fan_in))


def lmu_network():
    """The paper's 4-layer LMU with a linear readout, as Nengo objects."""
    with nengo.Network(seed=args.seed) as net:
        nengo_dl.configure_settings(stateful=False)
        net.inp = nengo.Node(np.zeros(1))
        pre, size = net.inp, 1
        for _ in range(LAYERS):
            layer = LMU(
                units=LMU_UNITS,
                order=ORDER,
                theta=THETA,
                input_d=size,
                input_encoders=lecun_uniform(size),
                hidden_encoders=lecun_uniform(LMU_UNITS),
                input_kernel=nengo.dists.Gaussian(0, np.sqrt(2 / (size + LMU_UNITS))),
                hidden_kernel=nengo.dists.Uniform(-0.05, 0.05),
                hidden_bias=0.0,
            )
            nengo.Connection(pre, layer.input, synapse=None)
            pre, size = layer.output, LMU_UNITS
        limit = np.sqrt(6 / (LMU_UNITS + 1))  # Keras' Glorot uniform, as the paper
        readout = Dense(LMU_UNITS, 1, kernel=nengo.dists.Uniform(-limit, limit))
        nengo.Connection(pre, readout.input, synapse=None)
        net.probe = nengo.Probe(readout.output)
    return net


class EpochTimer(tf.keras.callbacks.Callback):
    """Training loss and wall time of each epoch."""

    def __init__(self):
        super().__init__()
        self.losses, self.times = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)
        self.losses.append(logs["loss"])


def train_lmu():
    net = lmu_network()
    timer = EpochTimer()
    with nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=BATCH, progress_bar=False, seed=args.seed
    ) as sim:
        n_params = sum(int(np.prod(w.shape)) for w in sim.keras_model.trainable_weights)
        sim.compile(optimizer=adam(), loss={net.probe: "mse"})
        sim.fit(
            {net.inp: x_train},
            {net.probe: y_train},
            epochs=args.epochs,
            shuffle=False,
            callbacks=[timer],
            verbose=0,
        )
        predicted = sim.predict({net.inp: data.x_test}, verbose=0)[net.probe]
    return "LMU (nengo_lmu, NengoDL)", n_params, timer, predicted


def train_lstm():
    tf.random.set_seed(args.seed)
    model = tf.keras.Sequential(
        [tf.keras.Input((None, 1))]
        + [
            tf.keras.layers.LSTM(LSTM_UNITS, return_sequences=True)
            for _ in range(LAYERS)
        ]
        + [tf.keras.layers.Dense(1, activation="tanh")]
    )
    model.compile(optimizer=adam(), loss="mse")
    timer = EpochTimer()
    model.fit(
        x_train,
        y_train,
        batch_size=BATCH,
        epochs=args.epochs,
        shuffle=False,
        callbacks=[timer],
        verbose=0,
    )
    predicted = model.predict(data.x_test, batch_size=BATCH, verbose=0)
    return "LSTM (tf.keras)", model.count_params(), timer, predicted


print(
    f"Mackey-Glass (tau 17), predict 15 steps ahead; train: 64 series x {steps} steps "
    f"in windows of {args.window} ({n_train} windows, batch {BATCH}, {args.epochs} "
    f"epochs, Adam {args.lr:g} with cosine decay); test: 64 whole series; seed "
    f"{args.seed}",
    flush=True,
)
print(
    f"no change (predict x[t + 15] = x[t]): NRMSE {nrmse(data.x_test, data.y_test):.4f}"
)
results = []
for train in (train_lmu, train_lstm):
    name, n_params, timer, predicted = train()
    error = nrmse(predicted, data.y_test)
    results.append((name, timer, predicted, error))
    print(
        f"{name}: {n_params} trainable parameters, {np.median(timer.times):.1f} s per "
        f"epoch (median), final training loss {timer.losses[-1]:.2e}, "
        f"test NRMSE {error:.4f}",
        flush=True,
    )
print("paper (fixed task, 500 epochs): LMU 0.0487, LSTM 0.0587")

fig, (ax_loss, ax_series) = plt.subplots(1, 2, figsize=(12, 4))
for name, timer, predicted, error in results:
    ax_loss.semilogy(np.arange(1, args.epochs + 1), timer.losses, "o-", label=name)
    ax_series.plot(predicted[0, :300, 0], label=f"{name}, NRMSE {error:.3f}")
ax_series.plot(data.y_test[0, :300, 0], "k--", label="target x[t + 15]")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training MSE")
ax_loss.legend()
ax_series.set_xlabel("step t (first test series)")
ax_series.legend(loc="lower left", fontsize="small")
RESULTS.mkdir(exist_ok=True)
path = RESULTS / "mackey_glass.png"
fig.savefig(path, dpi=100, bbox_inches="tight")
print(
    f"wrote benchmarks/results/{path.name}; {time.perf_counter() - start:.0f} s in all"
)
