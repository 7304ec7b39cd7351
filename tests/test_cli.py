"""The ``nengo-lmu`` command line, run as a user runs it (a subprocess)."""

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import nengo_lmu.hybrid
from nengo_lmu import cli
from nengo_lmu.convert import load_weights, network_kwargs, save_weights
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.tasks import nrmse, psdigits_recipe


ROOT = pathlib.Path(__file__).parents[1]


def run_cli(*args):
    """Run ``nengo-lmu`` from the repository root (this checkout's nengo_lmu)."""
    return subprocess.run(
        [sys.executable, "-m", "nengo_lmu.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_delay_demo(tmp_path):
    plot = tmp_path / "delay.png"
    result = run_cli("delay", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    line = [s for s in result.stdout.splitlines() if s.startswith("nrmse")][0]
    value = float(line.split(":")[1])
    # the order-6 Legendre delay of 1 Hz white noise is accurate to well under 1 %
    assert 0 < value < 0.01
    assert f"plot written to {plot}" in result.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_delay_bad_arguments(tmp_path):
    result = run_cli("delay", "--order", "0")
    assert result.returncode == 2
    assert "--order: must be > 0" in result.stderr

    result = run_cli(
        "delay", "--theta", "20", "--t", "5", "--plot", str(tmp_path / "x.png")
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1  # one clear line, no traceback
    assert "transient" in result.stderr


def test_nrmse():
    target = np.sin(np.linspace(0, 10, 1000))
    assert nrmse(target, target) == 0
    # normalized by the RMS of the target: an error of 10 % of the signal gives 0.1
    assert np.isclose(nrmse(1.1 * target, target), 0.1)


@pytest.fixture
def paper(data_directory):
    """The paper's weights file (str, for the command line)."""
    return str(data_directory / "lmu-paper" / "psMNIST-standard.hdf5")


def last_value(stdout, key):
    """The value on the last line starting with ``key:``."""
    lines = [s for s in stdout.splitlines() if s.startswith(f"{key}:")]
    return float(lines[-1].split(":")[1])


def test_import_keras_and_evaluate_spiking(tmp_path, paper, data_directory):
    out = tmp_path / "paper.npz"
    result = run_cli("import-keras", paper, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"weights written to {out}" in result.stdout
    common = ("--n", "40", "--quiet", "--task", "psmnist-paper")
    common += ("--data", str(data_directory))
    results = [
        run_cli("evaluate", "--weights", weights, *common, *extra)
        for weights, extra in [
            (paper, ()),
            (str(out), ()),
            (str(out), ("--spiking", "--k", "1", "--rate-scale", "0.5")),
            (str(out), ("--spiking", "--backend", "nengo", "--n", "3")),
        ]
    ]
    for r in results:
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[-1].startswith("accuracy: ")
    paper, imported, spiking, reference = (r.stdout for r in results)
    assert last_value(paper, "accuracy") == last_value(imported, "accuracy") > 0.9
    assert 0.2 < last_value(spiking, "spikes per unit per input step") < 0.5
    assert 0.5 < last_value(reference, "spikes per unit per input step") < 1.0
    for out in (spiking, reference):  # the measured statistics, beside the total
        stats = re.search(
            r"^hidden spikes: (\S+) spikes per unit per input step \((\S+) positive, "
            r"(\S+) negative\); at most (\d+) in one step; (\S+)% of unit-steps and "
            r"(\S+)% of units above 1$",
            out,
            flags=re.M,
        )
        assert stats, out
        total, positive, negative = (float(v) for v in stats.groups()[:3])
        assert np.isclose(total, positive + negative, atol=2e-3)
        assert round(total, 2) == last_value(out, "spikes per unit per input step")
        assert positive > 0 and negative > 0  # tanh units spike with a sign
        assert 1 <= int(stats[4]) <= 2  # at most k * rate_scale rounded up


def test_train_psdigits_then_spiking(tmp_path):
    """The main job, shortened: train on psDigits, fine-tune spike-aware, report."""
    result = run_cli(
        "train",
        "psdigits",
        "--epochs",
        "3",
        "--spiking",
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    rate = last_value(result.stdout, "rate accuracy")
    spiking = last_value(result.stdout, "spiking accuracy")
    assert 0.3 < spiking and 0.3 < rate, result.stdout  # 10 classes: chance is 0.1
    assert last_value(result.stdout, "accuracy") == spiking
    # tanh units fire at most k * rate_scale spikes per input step on average (the
    # recipe's conversion settings)
    settings = psdigits_recipe().spiking
    bound = settings["k"] * settings["rate_scale"]
    assert 0.1 < last_value(result.stdout, "spikes per unit per input step") < bound
    assert (tmp_path / "weights.npz").is_file()
    assert (tmp_path / "training.png").read_bytes()[:4] == b"\x89PNG"
    assert f"plot written to {tmp_path / 'training.png'}" in result.stdout


def test_finetune_paper_weights(tmp_path, paper, data_directory):
    """Spike-aware fine-tuning of the paper's model from the command line (a few
    sequences), then evaluating the weights it wrote."""
    data = ("--data", str(data_directory))
    common = ("--task", "psmnist-paper", "--n", "20", "--quiet", *data)
    result = run_cli(
        "train",
        "psmnist-paper",
        *data,
        "--init",
        paper,
        "--epochs",
        "0",
        "--spiking",
        "--n-train",
        "50",
        "--minibatch-size",
        "25",
        "--n",
        "20",
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    evaluated = run_cli(
        "evaluate",
        "--weights",
        str(tmp_path / "weights.npz"),
        "--spiking",
        *common,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert (
        last_value(evaluated.stdout, "accuracy")
        == last_value(result.stdout, "spiking accuracy")
        > 0.8
    )


def test_bad_arguments_give_one_line(tmp_path):
    for args in [
        ("train", "psmnist", "--epochs", "-1"),
        ("evaluate", "--weights", str(tmp_path / "missing.npz")),
        ("evaluate", "--weights", str(tmp_path / "w.npz"), "--spiking", "--k", "0"),
        ("import-keras", str(tmp_path / "missing.keras")),
    ]:
        result = run_cli(*args)
        assert result.returncode == 2, args
        lines = [s for s in result.stderr.splitlines() if "error:" in s]
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr


def tiny_weights(tmp_path):
    """A weights file of a tiny untrained psDigits-shaped classifier."""
    init = tmp_path / "init.npz"
    net = SequenceClassifier(
        n_classes=10,
        units=3,
        order=2,
        theta=64.0,
        input_d=1,
        memory_kernel=0.1,
        readout_kernel=0.1,
    )
    save_weights(init, network_kwargs(net))
    return init


def test_finetune_learning_rate_is_the_stated_one(tmp_path, monkeypatch, capsys):
    """``--learning-rate`` is the rate fine-tuning uses (the README's recipe: ``--epochs
    0 --spiking --learning-rate 1e-4``), ``--finetune-learning-rate`` overrides it,
    and without either fine-tuning uses a tenth of the task's rate (in-process, with
    `finetune` replaced by a stub that records its learning rate)."""
    init = tiny_weights(tmp_path)
    rates = []

    class Stop(Exception):
        pass

    def finetune(*args, learning_rate, **kwargs):
        rates.append(learning_rate)
        raise Stop

    monkeypatch.setattr(nengo_lmu.hybrid, "finetune", finetune)
    common = ["train", "psdigits", "--init", str(init), "--epochs", "0", "--spiking"]
    common += ["--quiet", "--out", str(tmp_path)]
    cases = [
        (["--learning-rate", "1e-4"], 1e-4),
        (["--learning-rate", "1e-4", "--finetune-learning-rate", "3e-5"], 3e-5),
        ([], psdigits_recipe().learning_rate / 10),
    ]
    for extra, _ in cases:
        with pytest.raises(Stop):
            cli.main(common + extra)
    assert rates == [rate for _, rate in cases]
    assert "Adam's learning rate 0.0001\n" in capsys.readouterr().out


def test_evaluate_fully_spiking(paper, tmp_path):
    """``evaluate --spiking --memory spiking`` on the paper's weights and on a .npz
    with an analog memory (as ``nengo-lmu train`` writes: the CLI's --dt gives the
    step) prints the memory's neurons and spikes."""
    from nengo_lmu.convert import save_weights
    from nengo_lmu.tasks import psdigits_recipe

    rng = np.random.RandomState(0)
    network = dict(psdigits_recipe(0).network)
    network.pop("seed")
    network.update(
        memory_kernel=rng.normal(0, 0.1, size=(network["units"], network["order"])),
        readout_kernel=rng.normal(0, 0.1, size=(10, network["units"])),
    )
    save_weights(tmp_path / "digits.npz", network)
    spiking = ("--spiking", "--memory", "spiking", "--quiet")
    digits = tmp_path / "digits.npz"
    for weights, task in [(paper, "psmnist-paper"), (digits, "psdigits")]:
        result = run_cli(
            "evaluate", "--weights", str(weights), "--task", task, "--n", "4", *spiking
        )
        assert result.returncode == 0, result.stderr
        order = 256 if task == "psmnist-paper" else network["order"]
        assert last_value(result.stdout, "memory neurons") == order
        key = "memory spikes per dimension per input step"
        assert 0 < last_value(result.stdout, key)
        assert 0 < last_value(result.stdout, "spikes per unit per input step")
        assert re.search(r"^accuracy: \d\.\d{4}$", result.stdout, re.M)


def test_evaluate_with_ticks(paper):
    """``--ticks`` reaches the spiking memory (its spikes counted per input step);
    with the ideal memory it is one line naming it, exit code 2."""
    args = ("evaluate", "--weights", paper, "--spiking", "--n", "2", "--quiet")
    result = run_cli(*args, "--memory", "spiking", "--ticks", "2")
    assert result.returncode == 0, result.stderr
    assert 0 < last_value(result.stdout, "memory spikes per dimension per input step")
    result = run_cli(*args, "--ticks", "2")
    assert result.returncode == 2, result.stderr
    lines = [s for s in result.stderr.splitlines() if "error:" in s]
    assert len(lines) == 1 and "ticks" in lines[0], result.stderr


def test_spiking_memory_bad_settings_give_one_line(paper):
    """Settings a spiking memory cannot work with: one line, exit code 2."""
    for extra in [("--dt", "2"), ("--memory", "spiking", "--dt", "0.5")]:
        args = ("evaluate", "--weights", paper, "--spiking", "--memory", "spiking")
        result = run_cli(*args, *extra, "--n", "2", "--quiet")
        assert result.returncode == 2, result.stderr
        lines = [s for s in result.stderr.splitlines() if "error:" in s]
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "dt" in lines[0]


def test_recipe_spiking_settings_reach_to_spiking(tmp_path, monkeypatch):
    """``train psdigits --spiking --memory spiking`` fine-tunes and runs the network
    with the recipe's conversion settings (`.tasks.Recipe.spiking`), what is given on
    the command line overrides them, and a hybrid run (``--memory ideal``, for which
    they were not chosen) gets `to_spiking`'s defaults (in-process, with `finetune`
    and `to_spiking` replaced by stubs that record their arguments)."""
    init = tiny_weights(tmp_path)
    calls = []

    class Stop(Exception):
        pass

    def finetune(net, *args, **kwargs):
        calls.append(("finetune", kwargs))
        return net, {}

    def to_spiking(net, **kwargs):
        calls.append(("to_spiking", kwargs))
        raise Stop

    monkeypatch.setattr(nengo_lmu.hybrid, "finetune", finetune)
    monkeypatch.setattr(nengo_lmu.hybrid, "to_spiking", to_spiking)
    common = ["train", "psdigits", "--init", str(init), "--epochs", "0", "--spiking"]
    common += ["--n", "2", "--quiet", "--out", str(tmp_path)]
    recipe = psdigits_recipe().spiking
    assert recipe and {"k", "rate_scale", "delta_error"} <= set(recipe)
    given = dict(k=3, rate_scale=0.5, delta_error=0.02)
    flags = ["--k", "3", "--rate-scale", "0.5", "--delta-error", "0.02"]
    runs = [("spiking", [], recipe), ("spiking", flags, given), ("ideal", [], {})]
    for memory, extra, expected in runs:
        calls.clear()
        with pytest.raises(Stop):
            cli.main(common + ["--memory", memory] + extra)
        assert [name for name, _ in calls] == ["finetune", "to_spiking"]
        for _, kwargs in calls:
            assert {key: kwargs[key] for key in expected} == expected
            assert kwargs["memory"] == memory and kwargs["dt"] == 1.0
            if memory == "ideal":
                assert not set(recipe) & set(kwargs), kwargs


def test_bad_delta_error(paper):
    """--delta-error must be a finite number > 0: one line, exit code 2."""
    for value, message in [("0", "--delta-error: must be > 0"), ("inf", "delta_error")]:
        result = run_cli(
            "evaluate", "--weights", paper, "--spiking", "--memory", "spiking",
            "--delta-error", value, "--n", "2", "--quiet",
        )
        assert result.returncode == 2, result.stderr
        lines = [s for s in result.stderr.splitlines() if "error:" in s]
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert message in lines[0], lines[0]


@pytest.mark.parametrize("ticks", [1, 3])
def test_balanced_basis_is_the_one_trained_in(tmp_path, monkeypatch, ticks):
    """``--basis balanced`` reaches `finetune` and the spiking run after it as the
    basis of the network before fine-tuning (`.hybrid.memory_basis`, of one of the
    ``--ticks``), not one recomputed from the tuned weights (in-process, stubs record
    the arguments)."""
    init = tiny_weights(tmp_path)
    calls = []

    class Stop(Exception):
        pass

    def finetune(net, *args, **kwargs):
        calls.append(kwargs["basis"])
        return SequenceClassifier(**dict(network_kwargs(net), memory_kernel=0.3)), {}

    def to_spiking(net, **kwargs):
        calls.append(kwargs["basis"])
        raise Stop

    monkeypatch.setattr(nengo_lmu.hybrid, "finetune", finetune)
    monkeypatch.setattr(nengo_lmu.hybrid, "to_spiking", to_spiking)
    with pytest.raises(Stop):
        cli.main(
            ["train", "psdigits", "--init", str(init), "--epochs", "0", "--spiking"]
            + ["--memory", "spiking", "--basis", "balanced", "--n", "2", "--quiet"]
            + ["--ticks", str(ticks), "--out", str(tmp_path)]
        )
    expected = nengo_lmu.hybrid.memory_basis(
        SequenceClassifier(**load_weights(init)), dt=1.0, ticks=ticks
    )
    assert len(calls) == 2 and not np.allclose(expected, np.eye(len(expected)))
    for basis in calls:
        assert np.array_equal(basis, expected)
