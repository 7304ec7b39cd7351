"""Per-dimension delta rules for the spiking memory, in a float64 numpy model.

Run: ``OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/spike_budget.py
[--data DIR] [--n-val N] [--n-test N] [--check N] [--errors E1,E2,...]
[--rules 0,1,3] [--bases own,balanced] [--recurrence-errors E1,E2,...]
[--sources E1,E2,...]``.

A fast numpy model of the fully spiking paper psMNIST network (`SpikingMemory`:
signed integrate-and-fire units fired by the state's increments, delta_i per
dimension; `RegularSpiking(Tanh)` hidden units, k = 2, rate_scale = 0.7), vectorized
over images, independent of Nengo. ``--check N`` first compares it with the NengoDL
network (`to_spiking`, float64) on N test images: spikes and scores. Then, for each
rule (`rules`: one absolute delta; relative to each dimension's state RMS on
``--n-calib`` training images; `budget_delta` without and with its feedback term;
``--rules`` picks some) and each scale in ``--errors`` (the RMS rounding error per
hidden unit, `rounding_error`), the accuracy and memory spikes per dimension per input
step on the first ``--n-val`` validation images (the paper's last 10000 shuffled
training images); then each rule at its best validation scale within ``--budget``
spikes, on the first ``--n-test`` test images. ``--bases`` repeats all of it with the
memory realized in other state bases (``balanced``: `.hybrid.memory_basis`;
``schur``: the orthogonal real Schur basis of ``A``; the transformed system and
weights, to_spiking's ``basis``: the ideal network is the same), where the rule
`budget_delta` with ``recurrence=True`` (scales ``--recurrence-errors``: it counts the
residue the recurrence passes on, so the same spikes take a larger scale) is
``to_spiking``'s default for a basis.

``--sources`` (scales of the default rule) instead asks where the spiking memory's
error costs accuracy, on the first ``--n-val`` validation images: the exact memory,
then its state rounded to ``delta`` only where the hidden units read it, then also
where the memory's own input reads it (``memory_encoders``), then the spiking memory,
whose recurrence also passes on the rounding residue.
"""

import argparse

import numpy as np
import scipy.linalg

from nengo_lmu.convert import load_paper_weights
from nengo_lmu.data import data_dir, psmnist
from nengo_lmu.hybrid import memory_basis, to_spiking
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.spiking_memory import budget_delta, rounding_error
from nengo_lmu.train import predict


def fully_spiking(x, w, A, B, delta, c=1.4, ideal=False, v0=0.5, rounded=()):
    """Scores (N, classes), memory spikes per dimension per step and the RMS state
    per dimension of the fully spiking network on x (N, steps, 1), float64: hidden
    units firing ``c`` (``k * rate_scale``) spikes per step at a unit rate
    (``c=None``: rate units) from voltage ``v0``; ``ideal`` keeps the memory
    exact, and then its readers in ``rounded`` (``"hidden"``: the hidden units,
    ``"memory"``: the memory's own input) read the exact state rounded to
    ``delta`` (no spikes)."""
    N, n = len(x), A.shape[0]
    s, v = np.zeros((N, n)), np.full((N, n), 0.5)
    h, hv = np.zeros((N, w["units"])), np.full((N, w["units"]), v0)
    AmIT, BT = (A - np.eye(n)).T, B.T
    spikes, squares = 0.0, np.zeros(n)

    def seen(state, reader):
        return np.round(state / delta) * delta if reader in rounded else state

    for t in range(x.shape[1]):
        x_t = x[:, t].astype(np.float64)
        u = x_t @ w["input_encoders"].T + h @ w["hidden_encoders"].T
        u += seen(s, "memory") @ w["memory_encoders"].T
        incr = s @ AmIT + u @ BT
        if ideal:
            s = s + incr
        else:
            v += incr / delta
            n_spikes = np.floor(v)
            v -= n_spikes
            spikes += np.abs(n_spikes).sum()
            s = s + delta * n_spikes
        squares += np.mean(s**2, axis=0)
        a = x_t @ w["input_kernel"].T + h @ w["hidden_kernel"].T
        a += seen(s, "hidden") @ w["memory_kernel"].T
        if c is None:
            h = np.tanh(a)
            continue
        hv += c * np.tanh(a)
        nh = np.floor(hv)
        hv -= nh
        h = nh / c
    scores = h @ w["readout_kernel"].T + w["readout_bias"]
    steps = x.shape[1]
    return scores, spikes / (N * n * steps), np.sqrt(squares / steps)



RECURRENCE = "budget_delta, recurrence counted"


def rules(w, A, B, rms):
    """Each rule's delta per dimension at the error 1 that `budget_delta` scales to
    (`rounding_error`: the RMS rounding error per hidden unit, its feedback through
    the memory included, and for `RECURRENCE` the residue the recurrence passes on),
    so that a rule's scale is ``to_spiking``'s ``delta_error`` for the default rule
    (without a basis) and for `RECURRENCE` (with one)."""
    kernel, encoders = w["memory_kernel"], w["memory_encoders"]
    shapes = {
        "uniform (absolute delta)": np.ones(len(A)),
        "RMS-relative (calibration RMS)": rms,
        "budget_delta, readout only": budget_delta(A, B, kernel, error=1.0),
        "budget_delta (default)": budget_delta(A, B, kernel, encoders, error=1.0),
        RECURRENCE: budget_delta(A, B, kernel, encoders, 1.0, recurrence=True),
    }
    return {
        name: at_unit_error(shape, w, A, B, recurrence=name == RECURRENCE)
        for name, shape in shapes.items()
    }


def at_unit_error(shape, w, A, B, recurrence=False):
    """``shape`` (delta per dimension) scaled to a `rounding_error` of 1."""
    kernel, encoders = w["memory_kernel"], w["memory_encoders"]
    return shape / rounding_error(shape, A, B, kernel, encoders, recurrence=recurrence)


def in_basis(w, A, B, T):
    """The weights and the memory system ``A``, ``B`` with the state ``T m``."""
    if T is None:
        return w, A, B
    inverse = np.linalg.inv(T)
    reading = {name: w[name] @ inverse for name in ("memory_kernel", "memory_encoders")}
    return dict(w, **reading), T @ A @ inverse, T @ B


def evaluate(x, y, w, A, B, delta):
    """(accuracy, memory spikes per dimension per step) of the numpy model."""
    scores, spikes, _ = fully_spiking(x, w, A, B, delta)
    return np.mean(np.argmax(scores, axis=1) == y), spikes


def sources(x, y, w, A, B, errors):
    """Where the spiking memory's error costs accuracy: at each scale of the default
    rule (``delta_error``), the exact memory, its state rounded to ``delta`` only where
    the hidden units read it, also where the memory's own input reads it, and the
    spiking memory (its residue also passed on by the recurrence)."""
    shape = at_unit_error(
        budget_delta(A, B, w["memory_kernel"], w["memory_encoders"], error=1.0), w, A, B
    )
    cases = {
        "exact memory": dict(ideal=True),
        "rounded where the hidden units read it": dict(ideal=True, rounded=("hidden",)),
        "... and where its own input reads it": dict(
            ideal=True, rounded=("hidden", "memory")
        ),
        "spiking memory": {},
    }
    print(f"\nwhere the error costs accuracy (first {len(x)} validation images)\n")
    print("| delta_error | memory | accuracy | memory spikes/dim/step |")
    print("|---|---|---|---|")
    for error in errors:
        for name, case in cases.items():
            scores, spikes, _ = fully_spiking(x, w, A, B, error * shape, **case)
            accuracy = np.mean(np.argmax(scores, axis=1) == y)
            print(f"| {error} | {name} | {accuracy:.4f} | {spikes:.2f} |", flush=True)


def check(data, w, A, B, kwargs, n, basis, name):
    """The numpy model against NengoDL (float64) on the first n test images, the
    memory in ``basis`` (None: the network's own; ``name`` as printed)."""
    import nengo_dl  # pylint: disable=import-outside-toplevel

    rate = SequenceClassifier(**kwargs, seed=0)
    net = to_spiking(rate, memory="spiking", basis=basis)
    with net:
        nengo_dl.configure_settings(dtype="float64")
    x = data.x_test[:n]
    scores, stats = predict(net, x, minibatch_size=n, spikes=True)
    delta = net.lmu.spiking_memory.delta
    ours, spikes, _ = fully_spiking(x, *in_basis(w, A, B, net.memory_basis), delta)
    print(
        f"numpy model vs NengoDL (float64), first {n} test images, default delta, "
        f"basis {name}: "
        f"max |score difference| {np.abs(scores - ours).max():.1e}, memory spikes "
        f"per dimension per step {spikes:.4f} vs {stats['memory'].total:.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--n-val", type=int, default=3000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--n-calib", type=int, default=500)
    parser.add_argument("--check", type=int, default=8)
    parser.add_argument("--errors", default="0.02,0.025,0.03")
    parser.add_argument("--rules", default="all", help="comma-separated rule numbers")
    parser.add_argument("--budget", type=float, default=5.0)
    parser.add_argument(
        "--bases", default="own", help="comma-separated: own, balanced, schur"
    )
    parser.add_argument("--recurrence-errors", default="0.33,0.36,0.4,0.44")
    parser.add_argument(
        "--sources", default=None, help="comma-separated scales: only `sources`"
    )
    args = parser.parse_args()
    directory = data_dir(args.data)
    kwargs = load_paper_weights(directory / "lmu-paper/psMNIST-standard.hdf5")
    w = dict(kwargs, readout_bias=np.asarray(kwargs["readout_bias"]))
    A, B = kwargs["memory_system"].A, kwargs["memory_system"].B
    data = psmnist("paper", directory)
    known = {
        "own": lambda: None,
        "balanced": lambda: memory_basis(SequenceClassifier(**kwargs)),
        "schur": lambda: scipy.linalg.schur(A, output="real")[1].T,
    }
    bases = {name: known[name]() for name in args.bases.split(",")}
    if args.check:
        for name, T in bases.items():
            check(data, w, A, B, kwargs, args.check, T, name)
    xv, yv = data.x_val[: args.n_val], data.y_val[: args.n_val]
    if args.sources:
        sources(xv, yv.ravel(), w, A, B, [float(e) for e in args.sources.split(",")])
        return
    scores = fully_spiking(xv, w, A, B, 1.0, ideal=True)[0]
    print(
        f"\nfirst {len(xv)} validation images; hybrid (ideal memory) accuracy "
        f"{np.mean(np.argmax(scores, axis=1) == yv):.4f}; RMS from the first "
        f"{args.n_calib} training images (rate network)\n"
    )
    print("| basis | rule | scale (pre-activation error) | mean delta | validation "
          "accuracy | memory spikes/dim/step |")
    print("|---|---|---|---|---|---|")
    best, chosen = {}, {}
    for basis, T in bases.items():
        system = in_basis(w, A, B, T)
        rms = fully_spiking(data.x_train[: args.n_calib], *system, 1.0, None, True)[2]
        chosen[basis] = rules(*system, rms)
        if args.rules != "all":
            names = list(chosen[basis])
            chosen[basis] = {names[int(i)]: chosen[basis][names[int(i)]]
                             for i in args.rules.split(",")}
        for name, shape in chosen[basis].items():
            errors = args.recurrence_errors if name == RECURRENCE else args.errors
            for error in map(float, errors.split(",")):
                accuracy, spikes = evaluate(xv, yv, *system, error * shape)
                print(
                    f"| {basis} | {name} | {error} | {error * shape.mean():.4f} | "
                    f"{accuracy:.4f} | {spikes:.2f} |",
                    flush=True,
                )
                key = (basis, name)
                if spikes <= args.budget and accuracy > best.get(key, (0, 0))[1]:
                    best[key] = (error, accuracy)
    print(f"\nbest validation accuracy at <= {args.budget} spikes, then on the first "
          f"{args.n_test} test images (numpy model):")
    xt, yt = data.x_test[: args.n_test], data.y_test[: args.n_test]
    for (basis, name), (error, accuracy) in best.items():
        system = in_basis(w, A, B, bases[basis])
        test, spikes = evaluate(xt, yt, *system, error * chosen[basis][name])
        print(f"{basis} basis, {name}: error {error} (validation {accuracy:.4f}) -> "
              f"test {test:.4f} at {spikes:.2f} spikes/dim/step")

if __name__ == "__main__":
    main()
