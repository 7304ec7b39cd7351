"""Why the fully spiking psDigits memory does not map onto Loihi's neurons (issue 13).

Run: ``python benchmarks/loihi_lmu.py [--weights W] [--images N] [--ticks K1,K2,...]
[--rules R1,...] [--emulator-images N] [--emulator-ticks K] [--nef-neurons N1,...]
[--nef-step S] [--parts 1,2,3]`` (an environment with
the ``loihi`` extra and scikit-learn; without ``--weights`` it trains the psDigits
recipe with ReLU hidden units first, as ``nengo-lmu train psdigits --hidden relu``,
about a minute).

The memory is that of the trained psDigits network (`tasks.psdigits_recipe`: order
32, theta = 64 steps), fed by the pixels through its input encoder ``e_x`` alone (its
feedback from ``h`` and ``m`` left out, so that the state can be checked against the
float64 memory of the same input), as `SpikingMemory` realizes it: signed increments
of ``delta`` per spike, ``delta`` from `budget_delta` at the recipe's
``delta_error``. On Loihi a unit fires at most one spike per simulator step, so each
input step lasts ``K`` simulator steps ("ticks", dt = 1 ms; ``K`` ticks of the tick
system ``A^(1/K)`` with the input held are one step of the trained system); a signed
unit is an on/off pair; the state (``delta`` times the accumulated spikes) is held in
a Loihi synaptic current, a `nengo.Lowpass` with the chip's slowest decay (1/4096 per
tick), whose leak the units' drive compensates (``A_k - a I`` in place of
``A_k - I``), so that in exact arithmetic the pairs follow the trained system. The
pixels (multiples of 1/16) reach the chip as exact signed spikes of 1/16 from host
neurons.

Part 1: a float64 numpy model of that memory on ``--images`` test sequences under
one neuron rule at a time (a pair's two units get + and - the drive):

- ``nengo``: `nengo.SpikingRectifiedLinear` as Nengo runs it (negative input ignored,
  subtractive reset, any number of spikes per tick);
- ``loihi``: the chip (nengo-loihi's emulator, and
  `nengo_loihi.neurons.LoihiSpikingRectifiedLinear`): negative input lowers the
  voltage, which is clipped at 0; at most one spike per tick; reset to 0, so the
  voltage above the threshold is lost;
- ``clip`` and ``one-spike``, one of the chip's differences each: ``clip`` clips the
  voltage at 0, fires at most one spike and subtracts it; ``one-spike`` is Nengo's
  rule with at most one spike per tick (the rest stays in the voltage);

and the ``signed`` rules, a pair whose voltages both follow the signed residue (as
a `SpikingMemory` unit's voltage does), with the chip's negative voltage floor
(``Compartment.vmin``, down to ``-2**23 + 1``; here ``VMIN``) in place of
nengo-loihi's default 0:

- ``signed-if``: the reference, one signed integrate-and-fire unit per dimension,
  thresholds at +-``THRESHOLD`` (1/2), subtractive reset (a spike is the residue
  rounded, as `SpikingMemory`'s voltage starting at 1/2 makes it);
- ``signed``: the chip's rule (floor ``VMIN``, at most one spike per tick, a spike
  when the voltage exceeds ``THRESHOLD``, reset to 0), each unit's spikes fed back one
  tick later, once (what a relay unit with a one-tick synapse, connected with the
  opposite weight of the direct connection, does on the chip's integrating
  synapse): +1 into the partner's voltage, ``THRESHOLD - 1`` into its own, so that,
  but for the reset, the on unit's voltage is the residue and the off unit's minus
  it. The reset to 0 loses each spike's overshoot (the voltage above the threshold);
- ``signed-sub``: ``signed`` with a subtractive reset of ``THRESHOLD`` (no overshoot
  lost), which the chip does not have;
- ``signed-comp``: ``signed`` with each unit's mean overshoot, measured on as many
  training sequences, added back with the one-tick feedback.

It prints the NRMSE of the memory state at the end of each input step against the
float64 memory, the spikes per memory dimension per input step, and for the
``signed`` rules the mean overshoot per spike.

Then one fed-back pair (``signed``, ``FlooredRectifiedLinear`` units, with their
relays, no memory) on the emulator against the numpy model, with ``vmin`` = ``VMIN``
and 0.

Part 2 (not with ``--emulator-images 0``; on/off pairs only): the same memory as a
Nengo network (`LoihiSignedMemory`) on the reference
simulator (with `nengo.SpikingRectifiedLinear` and with
`LoihiSpikingRectifiedLinear` units) and on the Loihi emulator, ``--emulator-images``
test sequences at ``--emulator-ticks`` ticks per step: the emulator scores as the
numpy ``loihi`` rule does (the network adds the chip's one-tick synaptic delays and
its integer arithmetic), the reference simulator with Nengo's neurons as the
``nengo`` rule.

Part 3 (``--nef-neurons N1,N2,...``; none with ``0``): the same memory as a
Principle-3 network of NEF ensembles, the design that runs the thesis benchmark on the
emulator (``benchmarks/loihi_delay.py``): `DelayNetwork` (reference simulator, its
neuron-lead calibration) and `LoihiDelayNetwork` (emulator, on
``--emulator-images`` sequences) with ``N`` LIF neurons per dimension
(`LOIHI_ENSEMBLES`), each input step ``--nef-step`` seconds (theta = 64 steps), the
state scaled for white noise up to a quarter of the step rate with the pixels' RMS.
It prints the NRMSE of the state at the end of each step against the float64 memory
(in Legendre coordinates, `DelayNetwork.transform_inverse`) on ``--images`` test
sequences.
"""

import argparse
import time
import warnings

import nengo
import numpy as np
import scipy.linalg

from nengo_lmu import DelayNetwork
from nengo_lmu.backends.loihi import LOIHI_ENSEMBLES, LoihiDelayNetwork
from nengo_lmu.convert import load_weights, network_kwargs
from nengo_lmu.hybrid import memory_matrices
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.spiking_memory import budget_delta
from nengo_lmu.tasks import nrmse, psdigits, psdigits_recipe
from nengo_lmu.train import fit

DT = 0.001
DECAY = 1 - 1 / 4096  # the chip's slowest synaptic current, per tick
TAU = -DT / np.log(DECAY)  # as a nengo.Lowpass
INPUT_DELTA = 1 / 16  # psDigits pixels are multiples of 1/16
THRESHOLD = 0.5  # the signed rules' threshold, in spikes
VMIN = -4.0  # the signed rules' voltage floor, in spikes (the chip's: -2**23 + 1)


def tick_matrices(A, B, ticks):
    """``A_k = A^(1/ticks)`` and ``B_k`` such that ``ticks`` steps of
    ``x = A_k x + B_k u`` with ``u`` held are one step of ``x = A x + B u``."""
    A_k = np.real(scipy.linalg.fractional_matrix_power(A, 1.0 / ticks))
    total = sum(np.linalg.matrix_power(A_k, j) for j in range(ticks))
    return A_k, np.linalg.solve(total, B)


def step_units(rule, voltage, drive):
    """One tick of the units under ``rule`` (see the module notes); returns spikes."""
    if rule == "nengo":
        voltage += np.maximum(drive, 0)
        spikes = np.floor(voltage)
        voltage -= spikes
    elif rule == "one-spike":
        voltage += np.maximum(drive, 0)
        spikes = (voltage >= 1).astype(float)
        voltage -= spikes
    elif rule == "clip":
        np.maximum(voltage + drive, 0, out=voltage)
        spikes = (voltage >= 1).astype(float)
        voltage -= spikes
    elif rule == "loihi":
        np.maximum(voltage + drive, 0, out=voltage)
        spikes = (voltage > 1).astype(float)
        voltage[spikes > 0] = 0
    else:
        raise ValueError(f"unknown rule {rule!r}")
    return spikes


def step_signed(rule, voltage, drive, previous, offset, vmin=VMIN):
    """One tick of the ``signed`` rules' pairs (see the module notes); returns spikes
    and each spike's overshoot (the voltage above the threshold, which a reset to 0
    loses)."""
    n = voltage.shape[1] // 2
    if rule == "signed-if":  # one signed unit per dimension, in the on unit's voltage
        voltage[:, :n] += drive
        spikes = np.hstack([voltage[:, :n] > 0.5, voltage[:, :n] < -0.5]).astype(float)
        voltage[:, :n] -= spikes[:, :n] - spikes[:, n:]
        return spikes, np.zeros_like(spikes)
    voltage += np.hstack([drive, -drive]) + np.roll(previous, n, axis=1)
    voltage += (THRESHOLD - 1 + offset) * previous
    np.maximum(voltage, vmin, out=voltage)
    spikes = (voltage > THRESHOLD).astype(float)
    overshoot = (voltage - THRESHOLD) * spikes
    if rule == "signed-sub":
        voltage -= THRESHOLD * spikes
    else:
        voltage[spikes > 0] = 0
    return spikes, overshoot


def numpy_memory(A, B, delta, u, ticks, rule, offset=0.0):
    """States at the end of each input step, spikes per dimension per step, and the
    mean overshoot of each unit's spikes (``signed`` rules; ``offset`` is their
    overshoot compensation)."""
    A_k, B_k = tick_matrices(A, B, ticks)
    drive_matrix = (A_k - DECAY * np.eye(len(A))) * delta[None] / delta[:, None]
    n, steps = u.shape[:2]
    voltage = np.zeros((n, 2 * len(A)))
    fired = np.zeros_like(voltage)
    overshoot = np.zeros((2, 2 * len(A)))  # sums of overshoots, numbers of spikes
    counts = np.zeros((n, len(A)))  # leaky sums of on - off spikes
    states, spikes = [], 0.0
    for step in range(steps):
        for _ in range(ticks):
            drive = counts @ drive_matrix.T + (u[:, step] @ B_k.T) / delta
            if rule.startswith("signed"):
                fired, over = step_signed(rule, voltage, drive, fired, offset)
                overshoot += [over.sum(axis=0), fired.sum(axis=0)]
            else:
                fired = step_units(rule, voltage, np.hstack([drive, -drive]))
            counts = DECAY * counts + fired[:, : len(A)] - fired[:, len(A) :]
            spikes += fired.sum()
        states.append(counts * delta)
    return (
        np.stack(states, axis=1),
        spikes / (n * steps * len(A)),
        overshoot[0] / np.maximum(overshoot[1], 1),
    )


def ideal_memory(A, B, u):
    """The float64 states of ``x[t] = A x[t-1] + B u[t]`` after each step."""
    states, x = [], np.zeros((len(u), len(A)))
    for step in range(u.shape[1]):
        x = x @ A.T + u[:, step] @ B.T
        states.append(x)
    return np.stack(states, axis=1)


def on_off(X):
    """The weights between on/off pairs for the signed weights ``X``: an on unit's
    spike is +1, an off unit's -1, an on unit takes the drive, an off unit minus it."""
    return np.block([[X, -X], [-X, X]])


class HostSigmaDelta(nengo.Process):
    """Exact signed spikes of ``INPUT_DELTA`` whose leaky sum (``DECAY``) follows a
    sequence held for ``ticks`` ticks per step, at most ``pairs`` per sign per tick;
    output ``(on, off)`` spikes (``1 / dt`` each) for host neurons to repeat."""

    def __init__(self, sequence, ticks, pairs=4):
        self.sequence, self.ticks, self.pairs = np.asarray(sequence), ticks, pairs
        super().__init__(default_size_in=0, default_size_out=2 * pairs)

    def make_step(self, shape_in, shape_out, dt, rng, state):
        sequence, ticks, pairs = self.sequence, self.ticks, self.pairs
        held = np.zeros(1)

        def step_hostsigmadelta(t):
            k = min((int(round(t / dt)) - 1) // ticks, len(sequence) - 1)
            n = np.clip(
                np.round((sequence[k] - DECAY * held[0]) / INPUT_DELTA), -pairs, pairs
            )
            held[0] = DECAY * held[0] + INPUT_DELTA * n
            return np.r_[np.arange(pairs) < n, np.arange(pairs) < -n] / dt

        return step_hostsigmadelta


class LoihiSignedMemory(nengo.Network):
    """The signed-increment memory of the module notes as a Nengo network: host input
    neurons (mark ``input_units`` off-chip), on/off ``neuron_type`` units on the chip,
    the integrating synapse ``TAU`` on every connection into them; ``B`` includes the
    input encoder (the host spikes carry the pixels)."""

    def __init__(self, A, B, delta, sequence, ticks, neuron_type, **kwargs):
        super().__init__(**kwargs)
        A_k, B_k = tick_matrices(A, B, ticks)
        per_spike = 1 / (1 - DECAY)  # a Lowpass adds (1 - DECAY) of a spike's weight
        drive = (A_k - DECAY * np.eye(len(A))) * delta[None] / delta[:, None]
        with self:
            source = nengo.Node(HostSigmaDelta(sequence, ticks), label="x spikes")
            self.input_units = nengo.Ensemble(
                source.size_out,
                1,
                neuron_type=nengo.SpikingRectifiedLinear(),
                gain=nengo.dists.Choice([1.0]),
                bias=nengo.dists.Choice([0.0]),
            )
            nengo.Connection(
                source, self.input_units.neurons, transform=1 + 1e-6, synapse=None
            )
            self.units = nengo.Ensemble(
                2 * len(A),
                1,
                neuron_type=neuron_type,
                gain=nengo.dists.Choice([1.0]),
                bias=nengo.dists.Choice([0.0]),
            )
            nengo.Connection(
                self.units.neurons,
                self.units.neurons,
                transform=on_off(drive) * per_spike,
                synapse=TAU,
            )
            to_units = B_k[:, :1] * INPUT_DELTA / delta[:, None]
            pairs = source.size_out // 2
            nengo.Connection(
                self.input_units.neurons,
                self.units.neurons,
                transform=on_off(np.tile(to_units, pairs)) * per_spike,
                synapse=TAU,
            )
            self.probe = nengo.Probe(self.units.neurons)


def network_states(simulator, A, B, delta, sequence, ticks, neuron_type):
    """The memory states at the end of each step of ``sequence`` on ``simulator``
    ("nengo" or "emulator")."""
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    with nengo.Network(seed=0) as net:
        nengo_loihi.add_params(net)
        memory = LoihiSignedMemory(A, B, delta, sequence, ticks, neuron_type)
        net.config[memory.input_units].on_chip = False
    if simulator == "nengo":
        sim = nengo.Simulator(net, dt=DT, progress_bar=False)
    else:
        sim = nengo_loihi.Simulator(net, dt=DT, target="sim", progress_bar=False)
    with sim:
        sim.run_steps(ticks * len(sequence))
    fired = sim.data[memory.probe] * DT
    n = len(A)
    counts, states = np.zeros(n), []
    for t, row in enumerate(fired):
        counts = DECAY * counts + row[:n] - row[n:]
        if (t + 1) % ticks == 0:
            states.append(counts * delta)
    return np.array(states)


def nef_states(simulator, x, n_neurons, step, order, input_rms):
    """The Legendre states at the end of each step of the sequences ``x`` (pixels
    times ``e_x``, back to back) in a Principle-3 memory of ``n_neurons`` LIF neurons
    per dimension, ``step`` seconds per input step: `DelayNetwork` on the reference
    simulator ("nengo"), `LoihiDelayNetwork` on the emulator ("emulator")."""
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    u = x.reshape(-1)
    per = int(round(step / DT))
    emulator = simulator == "emulator"
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.PresentInput(u[:, None], step))
        kwargs = dict(
            theta=len(x[0]) * step,
            order=order,
            input_high=0.25 / step,
            input_rms=input_rms,
            seed=0,
        )
        if emulator:
            memory = LoihiDelayNetwork(n_neurons, **kwargs)
            state = nengo.Node(size_in=order)
            memory._wire(np.eye(order), state)  # pylint: disable=protected-access
        else:
            memory = DelayNetwork(n_neurons, **kwargs, **LOIHI_ENSEMBLES)
            state = memory.state
        nengo.Connection(stim, memory.input, synapse=None)
        probe = nengo.Probe(state)
    if emulator:
        sim = nengo_loihi.Simulator(
            net, dt=DT, target="sim", remove_passthrough=False, progress_bar=False
        )
    else:
        sim = nengo.Simulator(net, dt=DT, progress_bar=False)
    with sim:
        sim.run_steps(len(u) * per)
    states = sim.data[probe][per - 1 :: per] @ memory.transform_inverse.T
    return states.reshape(x.shape[0], x.shape[1], order)


def nef_part(x, target, neurons, step, emulator_images, input_rms):
    """Part 3: the state NRMSE of the Principle-3 memory."""
    print(
        f"Principle-3 memory (NEF ensembles of LIF neurons), {step * 1e3:g} ms per "
        "input step; state NRMSE at the end of each step"
    )
    runs = [("nengo", len(x), "reference simulator")]
    runs += [("emulator", emulator_images, "Loihi emulator")] * bool(emulator_images)
    for simulator, n, name in runs:
        for n_neurons in neurons:
            start = time.time()
            states = nef_states(
                simulator, x[:n], n_neurons, step, target.shape[-1], input_rms
            )
            print(
                f"{name:20s} {n_neurons:4d} LIF/dim, {n} sequences: NRMSE "
                f"{nrmse(states, target[:n]):.3f} ({time.time() - start:.0f} s)",
                flush=True,
            )


class FlooredRectifiedLinear(nengo.SpikingRectifiedLinear):
    """The units of the ``signed`` rules, for the emulator: the builder
    `pair_check` registers gives them the threshold ``THRESHOLD`` and the voltage
    floor ``vmin`` (in spikes; nengo-loihi's default is 0)."""

    vmin = VMIN


def pair_check(drive=0.3, ticks=1000, vmin=VMIN):
    """One fed-back pair (the ``signed`` rule, no memory: biases ``+-drive`` spikes
    per tick) with its two relay units on the emulator, against the numpy model;
    returns both spike trains."""
    import nengo_loihi  # pylint: disable=import-outside-toplevel
    from nengo_loihi.builder import Builder  # pylint: disable=import-outside-toplevel

    def build_floored(model, neuron_type, neurons, block):  # pylint: disable=W0613
        block.compartment.configure_relu(vth=THRESHOLD / model.dt, dt=model.dt)
        block.compartment.vmin = neuron_type.vmin / model.dt

    if FlooredRectifiedLinear not in Builder.builders:
        Builder.register(FlooredRectifiedLinear)(build_floored)

    def ensemble(neuron_type, bias):
        return nengo.Ensemble(
            2, 1, neuron_type=neuron_type, gain=np.ones(2), bias=np.asarray(bias) / DT
        )

    neuron_type = FlooredRectifiedLinear()
    neuron_type.vmin = vmin
    feedback = np.array([[THRESHOLD - 1, 1], [1, THRESHOLD - 1]]) / (1 - DECAY)
    with nengo.Network(seed=0) as net:
        units = ensemble(neuron_type, [drive, -drive])
        relays = ensemble(nengo.SpikingRectifiedLinear(), [0, 0])
        nengo.Connection(units.neurons, units.neurons, transform=feedback, synapse=TAU)
        nengo.Connection(units.neurons, relays.neurons, transform=2, synapse=DT / 10)
        nengo.Connection(
            relays.neurons, units.neurons, transform=-feedback, synapse=TAU
        )
        probe = nengo.Probe(units.neurons)
    with nengo_loihi.Simulator(net, dt=DT, target="sim", progress_bar=False) as sim:
        sim.run_steps(ticks)
    voltage, fired, model = np.zeros((1, 2)), np.zeros((1, 2)), []
    for _ in range(ticks):
        fired = step_signed(
            "signed", voltage, np.full((1, 1), drive), fired, 0.0, vmin
        )[0]
        model.append(fired[0])
    return sim.data[probe] * DT, np.array(model)


def rules_part(args, A, B, delta, u, target, train):
    """Part 1: the numpy rules, then one fed-back pair on the emulator."""
    u_train = train[: args.images]
    for ticks in map(int, args.ticks.split(",")):
        for rule in args.rules.split(","):
            start = time.time()
            offset = 0.0
            if rule == "signed-comp":  # the mean overshoots, on training sequences
                offset = numpy_memory(A, B, delta, u_train, ticks, "signed")[2]
            states, spikes, overshoot = numpy_memory(
                A, B, delta, u, ticks, rule.replace("-comp", ""), offset
            )
            print(
                f"numpy, {ticks:4d} ticks/step, rule {rule:11s}: NRMSE "
                f"{nrmse(states, target):7.3f}, {spikes:5.1f} spikes/dim/step"
                + (
                    f", mean overshoot {overshoot.mean():.4f} spikes"
                    if rule.startswith("signed") and rule != "signed-if"
                    else ""
                )
                + f" ({time.time() - start:.0f} s)",
                flush=True,
            )
    for vmin in (VMIN, 0.0):
        chip, model = pair_check(vmin=vmin)
        print(
            f"emulator, one fed-back pair and its relays, vmin {vmin}, drive +-0.3 "
            f"spikes/tick, 1000 ticks: on/off spikes {chip.sum(axis=0)} (numpy "
            f"'signed' rule {model.sum(axis=0)}; same spike times: "
            f"{np.array_equal(chip, model)})",
            flush=True,
        )


def chip_part(args, A, B, delta, e_x, x):
    """Part 2: the on/off-pair memory on the reference simulator and the emulator."""
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    ticks, n = args.emulator_ticks, args.emulator_images
    target = ideal_memory(A, B, e_x * x[:n])
    model = numpy_memory(A, B, delta, e_x * x[:n], ticks, "loihi")[0]
    print(
        f"{n} test sequences, {ticks} ticks/step: numpy 'loihi' rule NRMSE "
        f"{nrmse(model, target):.3f}"
    )
    runs = [
        (
            "nengo",
            nengo.SpikingRectifiedLinear(),
            "reference simulator, SpikingRectifiedLinear",
        ),
        (
            "nengo",
            nengo_loihi.neurons.LoihiSpikingRectifiedLinear(),
            "reference simulator, LoihiSpikingRectifiedLinear",
        ),
        ("emulator", nengo.SpikingRectifiedLinear(), "Loihi emulator"),
    ]
    for simulator, neuron_type, name in runs:
        start = time.time()
        states = np.array(
            [
                network_states(
                    simulator, A, B * e_x, delta, seq[:, 0], ticks, neuron_type
                )
                for seq in x[:n]
            ]
        )
        print(
            f"{name:50s} NRMSE {nrmse(states, target):.3f} "
            f"({time.time() - start:.0f} s)",
            flush=True,
        )


def main():
    warnings.filterwarnings("ignore", category=UserWarning)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--weights",
        help="a psdigits weights file (default: train the recipe with ReLU units)",
    )
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--ticks", default="20,100,400")
    parser.add_argument(
        "--rules",
        default="nengo,loihi,clip,one-spike,signed-if,signed,signed-sub,signed-comp",
    )
    parser.add_argument("--emulator-images", type=int, default=2)
    parser.add_argument("--emulator-ticks", type=int, default=20)
    parser.add_argument("--nef-neurons", default="64,256")
    parser.add_argument("--nef-step", type=float, default=0.02)
    parser.add_argument("--parts", default="1,2,3")
    args = parser.parse_args()
    recipe = psdigits_recipe(0)
    data = psdigits()
    if args.weights:
        net = SequenceClassifier(**load_weights(args.weights))
    else:
        net = SequenceClassifier(
            **dict(recipe.network, hidden_neurons=nengo.RectifiedLinear())
        )
        fit(
            net,
            data.x_train,
            data.y_train.ravel(),
            **recipe.fit_settings,
            progress_bar=False,
        )
    kwargs = network_kwargs(net)
    A, B = memory_matrices(net, recipe.dt)
    e_x = float(np.ravel(kwargs["input_encoders"])[0])
    delta = budget_delta(
        A,
        B,
        kwargs["memory_kernel"],
        kwargs["memory_encoders"],
        recipe.spiking["delta_error"],
    )
    x = data.x_test.astype(np.float64)  # pixels; the memory's input is e_x x
    u = e_x * x[: args.images]
    target = ideal_memory(A, B, u)
    print(
        f"psDigits memory (e_x = {e_x:.3f}): order {len(A)}, theta 64 steps, "
        f"delta {delta.min():.4f}-{delta.max():.4f} "
        f"(delta_error {recipe.spiking['delta_error']}), "
        f"{args.images} test sequences; state NRMSE at the end of each step"
    )
    parts = set(args.parts.split(","))
    if "1" in parts:
        rules_part(args, A, B, delta, u, target, e_x * data.x_train.astype(np.float64))
    if "2" in parts and args.emulator_images:
        chip_part(args, A, B, delta, e_x, x)
    if "3" in parts and args.nef_neurons != "0":
        neurons = [int(n) for n in args.nef_neurons.split(",")]
        rms = float(np.std(e_x * data.x_train))
        nef_part(u, target, neurons, args.nef_step, args.emulator_images, rms)


if __name__ == "__main__":
    main()
