"""The ``nengo-lmu`` command line, run as a user runs it (a subprocess)."""

import subprocess
import sys

import numpy as np

from nengo_lmu.tasks import nrmse


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "nengo_lmu.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
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
