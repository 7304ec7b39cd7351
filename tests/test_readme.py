"""The Python examples of the README and of the docs pages run as written.

Each file's ``python`` blocks run in order in one namespace per file; the checks below
test what the examples print against what they are meant to show.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def run_blocks(path, capsys):
    """Run the ``python`` blocks of a Markdown file; return what they printed."""
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)
    assert blocks, f"{path.name} has no python blocks"
    namespace = {}
    for block in blocks:
        exec(compile(block, str(path), "exec"), namespace)  # noqa: S102
    return capsys.readouterr().out


def check_readme(out):
    value = float(re.search(r"NRMSE: (\S+)", out).group(1))
    assert 0 < value < 0.01  # order 12 decodes u(t - theta/2) of 2 Hz noise to < 1 %


def check_getting_started(out):
    rate = float(re.search(r"rate accuracy: (\S+)", out).group(1))
    spiking = float(re.search(r"spiking accuracy: (\S+)", out).group(1))
    spikes = float(re.search(r"spikes per unit per step: (\S+)", out).group(1))
    assert rate > 0.85  # the toy task is learned
    assert spiking > 0.75  # and survives spiking hidden units
    assert 0 < spikes < 1.4  # at most k * rate_scale = 1.4 spikes per unit per step


def check_concepts(out):
    assert "discrete: True dt: 1.0 A: (256, 256)" in out
    assert "memory size_out: 768" in out  # 3 dimensions x order 256
    assert "(4, 1000, 12)" in out


def check_delay_network(out):
    value = float(re.search(r"spiking delay NRMSE: (\S+)", out).group(1))
    assert 0 < value < 0.05  # the goal for spiking ReLU in the benchmark's setting


def check_training(out):
    accuracy = float(re.search(r"training accuracy: (\S+)", out).group(1))
    assert accuracy > 0.85  # the toy task is learned


CHECKS = {
    "README.md": check_readme,
    "docs/getting-started.md": check_getting_started,
    "docs/concepts.md": check_concepts,
    "docs/delay-network.md": check_delay_network,
    "docs/training.md": check_training,
}


def test_every_example_checked():
    files = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
    with_code = {
        str(path.relative_to(ROOT))
        for path in files
        if re.search(r"```python\n", path.read_text())
    }
    assert with_code == set(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_examples(name, capsys):
    CHECKS[name](run_blocks(ROOT / name, capsys))
