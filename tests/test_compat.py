"""NengoDL stack versions: clear errors for unsupported ones; Nengo-only use; the
private internals nengo_lmu uses, checked against the versions they were verified on."""

import subprocess
import sys
import textwrap

import pytest

from nengo_lmu import compat
from nengo_lmu.compat import InternalsError, check_internals, check_nengo_dl_stack

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


def test_internals_verified_on_installed_versions():
    """Fails when Nengo, NengoDL or Keras move to a version other than the one each
    private internal in compat.INTERNALS was verified on: re-verify, then update it."""
    pytest.importorskip("nengo_dl")
    check_internals()


def test_moved_version_names_the_internal():
    verified = dict(GOOD, nengo="3.2.0")
    check_internals(verified)
    with pytest.raises(InternalsError) as excinfo:
        check_internals(dict(verified, keras="2.13.1"))
    message = str(excinfo.value)
    assert "keras.engine.base_layer_utils.call_context (to find the NengoDL " in message
    assert "was verified on keras 2.12, but keras 2.13.1 is installed" in message
    assert "nengo_dl" not in message  # only the internals of the moved package


def test_internals_work_and_a_missing_one_is_named(monkeypatch):
    """Every internal in use: a fused LMU with trainable theta (read_once_per_run,
    replace_operators) and the test helpers; then one removed."""
    nengo_dl = pytest.importorskip("nengo_dl")
    import nengo
    import numpy as np

    from nengo_lmu import LMU
    from nengo_lmu.builders import SimLMU

    with nengo.Network(seed=0) as net:
        stim = nengo.Node(np.zeros(1))
        lmu = LMU(3, 2, 4.0, 1, trainable=["theta", "memory_kernel"], dt=1.0)
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output)
    with nengo_dl.Simulator(net, dt=1.0, progress_bar=False) as sim:
        assert SimLMU in compat.planned_operator_types(sim)
        assert len(compat.operator_builders(sim)) > 1
        inputs = compat.keras_inputs(sim, {stim: np.ones((1, 5, 1))})
        assert sim.keras_model(inputs)[0].shape == (1, 5, 3)
        assert sim.predict({stim: np.ones((1, 5, 1))})[probe].shape == (1, 5, 3)

        monkeypatch.delattr(nengo_dl.Simulator, "_generate_inputs")
        with pytest.raises(InternalsError) as excinfo:
            compat.keras_inputs(sim, {stim: np.ones((1, 5, 1))})
    assert str(excinfo.value).startswith(
        "nengo_dl.Simulator._generate_inputs, a private internal nengo_lmu uses to "
        "give the tests the Keras model's inputs (keras_inputs), is missing in "
        "nengo-dl 3.6"
    )
