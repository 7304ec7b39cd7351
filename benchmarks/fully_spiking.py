"""Fully spiking LMU (spiking memory and hidden units) on psDigits (numbers in README).

Run: ``.venv/bin/python benchmarks/fully_spiking.py`` (about 2 minutes on 2 cores).
Trains an LMU with a small memory (order 6, θ = 64 steps, 128 tanh units; a memory
whose `DelayNetwork` mapping is well-conditioned at one step per pixel) on psDigits in
NengoDL, then evaluates it on the test set with the ideal memory and with the memory in
`DelayNetwork` s (`nengo_lmu.to_spiking(memory=...)`), with rate or spiking hidden
units. The rate-neuron memory separates the delay network's own error from spike noise.
"""

import warnings

import nengo
import numpy as np

from nengo_lmu.hybrid import to_spiking
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.tasks import psdigits
from nengo_lmu.train import fit, predict

warnings.filterwarnings("ignore", message="No GPU support detected")

data = psdigits()
x, y = data.x_test, data.y_test.ravel()
net = SequenceClassifier(
    n_classes=10, units=128, order=6, theta=64.0, input_d=1, dt=1.0, seed=0
)
fit(
    net,
    data.x_train,
    data.y_train.ravel(),
    epochs=30,
    learning_rate=2e-3,
    minibatch_size=32,
    progress_bar=False,
)


def accuracy(network):
    scores = predict(network, x, minibatch_size=len(x))
    return np.mean(np.argmax(scores, axis=1) == y)


print(f"psDigits, {len(x)} test sequences; LMU order 6, theta 64 steps, 128 units")
print(f"ideal memory, rate hidden units: accuracy {accuracy(net):.4f}")
print(f"ideal memory, spiking hidden units: accuracy {accuracy(to_spiking(net)):.4f}")
relu = dict(
    max_rates=nengo.dists.Uniform(1, 2), synapse=5.0, calibrate=False, dt=1.0
)  # rates in spikes per step (dt = 1)
memories = {
    "DelayNetwork of rate ReLU neurons (max rates 1-2 per step, synapse 5 steps)": dict(
        neuron_type=nengo.RectifiedLinear(), **relu
    ),
    "DelayNetwork of regular-spiking ReLU neurons (the same)": dict(
        neuron_type=nengo.RegularSpiking(nengo.RectifiedLinear()), **relu
    ),
}
for name, memory in memories.items():
    for hidden in ("rate", "spiking"):
        network = to_spiking(net, hidden=hidden, memory=memory)
        print(f"{name}, {hidden} hidden units: accuracy {accuracy(network):.4f}")
