"""NengoDL stack versions: clear errors for unsupported ones; Nengo-only use."""

import subprocess
import sys
import textwrap

import pytest

from nengo_lmu.compat import check_nengo_dl_stack

GOOD = {
    "nengo-dl": "3.6.0",
    "tensorflow": "2.12.1",
    "keras": "2.12.0",
    "numpy": "1.24.3",
}


def test_supported_stack():
    assert check_nengo_dl_stack(GOOD) is True
    assert check_nengo_dl_stack(dict(GOOD, **{"nengo-dl": None})) is False


@pytest.mark.parametrize(
    "name, version",
    [
        ("tensorflow", "2.15.0"),
        ("keras", "3.0.5"),
        ("numpy", "2.0.1"),
        ("nengo-dl", "3.5.0"),
    ],
)
def test_unsupported_stack(name, version):
    with pytest.raises(ImportError) as excinfo:
        check_nengo_dl_stack(dict(GOOD, **{name: version}))
    message = str(excinfo.value)
    assert f"{name} {version} is installed" in message
    assert "Supported: nengo-dl>=3.6,<3.7, tensorflow>=2.10,<2.13" in message


def run_python(code, pythonpath=None):
    env = None
    if pythonpath is not None:
        import os

        env = dict(os.environ, PYTHONPATH=str(pythonpath))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_import_with_unsupported_tensorflow(tmp_path):
    # an installed TensorFlow 2.15 (as seen by package metadata) shadows the real one
    info = tmp_path / "tensorflow-2.15.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tensorflow\nVersion: 2.15.0\n"
    )
    result = run_python("import nengo_lmu", pythonpath=tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: nengo_lmu cannot use NengoDL")
    assert "tensorflow 2.15.0 is installed" in last
    assert "tensorflow>=2.10,<2.13" in last
    assert "site-packages/nengo_dl" not in result.stderr  # raised before importing it


def test_nengo_without_tensorflow():
    """The systems, processes and Nengo builders work when TensorFlow is absent."""
    result = run_python(
        """
        import importlib.metadata as md
        import sys

        HIDDEN = ("tensorflow", "nengo_dl", "keras")

        class Hide:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in HIDDEN:
                    raise ModuleNotFoundError(f"No module named {name!r}")

        sys.meta_path.insert(0, Hide())
        version = md.version

        def hidden_version(name):
            if name in ("nengo-dl", "tensorflow", "tensorflow-cpu", "keras"):
                raise md.PackageNotFoundError(name)
            return version(name)

        md.version = hidden_version

        import nengo
        import numpy as np
        import nengo_lmu

        assert not nengo_lmu.HAS_NENGO_DL
        with nengo.Network() as net:
            u = nengo.Node(np.sin)
            mem = nengo.Node(nengo_lmu.LegendreMemory(0.5, 4))
            nengo.Connection(u, mem, synapse=nengo_lmu.LegendreDelay(0.1, 3))
            p = nengo.Probe(mem)
        with nengo.Simulator(net, progress_bar=False) as sim:
            sim.run(0.1)
        assert sim.data[p].shape == (100, 4)
        assert "tensorflow" not in sys.modules
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
