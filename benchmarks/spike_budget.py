"""Per-dimension delta rules for the spiking memory, in a float64 numpy model.

Run: ``nice -n 10 .venv/bin/python benchmarks/spike_budget.py [--data DIR]
[--n-val N] [--check N]``.

A fast numpy model of the fully spiking paper psMNIST network (`SpikingMemory`:
signed integrate-and-fire units fired by the state's increments, delta_i per
dimension; `RegularSpiking(Tanh)` hidden units, k = 2, rate_scale = 0.7), vectorized
over images, independent of Nengo. ``--check N`` first compares it with the NengoDL
network (`to_spiking`) on N test images: spikes and scores. Then, for each rule of
`nengo_lmu.spike_budget` and a range of its scale, the accuracy and memory spikes per
dimension per input step on the first ``--n-val`` validation images (the paper's
last 10000 shuffled training images), the rule's statistics taken from the memory
system (Gramian) or from ``--n-calib`` training images (calibration).
"""

import argparse
import os
import time

import numpy as np

from nengo_lmu.convert import load_paper_weights
from nengo_lmu.data import data_dir, psmnist


def fully_spiking(x, w, A, B, delta, k=2, rate_scale=0.7, ideal=False):
    """Scores (N, classes) and memory spikes per dimension per step of the fully
    spiking network on x (N, steps, 1), float64; ``ideal`` keeps the memory exact."""
    c = k * rate_scale
    N, n = len(x), A.shape[0]
    s, v = np.zeros((N, n)), np.full((N, n), 0.5)
    h, hv = np.zeros((N, w["units"])), np.full((N, w["units"]), 0.5)
    AmIT, BT = (A - np.eye(n)).T, B.T
    spikes = 0.0
    for t in range(x.shape[1]):
        x_t = x[:, t].astype(np.float64)
        u = x_t @ w["input_encoders"].T + h @ w["hidden_encoders"].T
        u += s @ w["memory_encoders"].T
        incr = s @ AmIT + u @ BT
        if ideal:
            s = s + incr
        else:
            v += incr / delta
            n_spikes = np.floor(v)
            v -= n_spikes
            spikes += np.abs(n_spikes).sum()
            s = s + delta * n_spikes
        a = x_t @ w["input_kernel"].T + h @ w["hidden_kernel"].T
        a += s @ w["memory_kernel"].T
        hv += c * np.tanh(a)
        nh = np.floor(hv)
        hv -= nh
        h = nh / c
    scores = h @ w["readout_kernel"].T + w["readout_bias"]
    return scores, spikes / (N * n * x.shape[1])
