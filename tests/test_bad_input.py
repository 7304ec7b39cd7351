"""Bad input that a new user tried (issue 12) gives a ValidationError naming it."""

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.convert import load_weights, save_weights
from nengo_lmu.lmu import SequenceClassifier
from nengo_lmu.networks import DelayNetwork
from nengo_lmu.systems import LegendreDelay, PadeDelay
from nengo_lmu.train import predict


@pytest.mark.parametrize("cls", [LegendreDelay, PadeDelay])
def test_bool_order(cls):
    with pytest.raises(ValidationError, match="order: Must be an integer .*bool True"):
        cls(1, True)


def test_bool_delay_network_size():
    with pytest.raises(ValidationError, match="n_neurons: .*bool"):
        DelayNetwork(n_neurons=True, theta=1.0, order=2, calibrate=False)


def small_classifier_kwargs():
    rng = np.random.RandomState(0)
    return dict(
        n_classes=2,
        units=3,
        order=2,
        theta=4.0,
        input_d=1,
        memory_kernel=rng.normal(size=(3, 2)),
        readout_kernel=rng.normal(size=(2, 3)),
    )


def test_truncated_weights_file(tmp_path):
    path = tmp_path / "weights.npz"
    save_weights(path, small_classifier_kwargs())
    assert sorted(load_weights(path)) == sorted(small_classifier_kwargs())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(
        ValidationError, match=r"path: Cannot read .*weights.npz .*expected a complete"
    ):
        load_weights(path)


@pytest.mark.parametrize("backend", ["nengo", "nengo_dl"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_predict_rejects_non_finite_input(backend, bad):
    net = SequenceClassifier(**small_classifier_kwargs())
    x = np.zeros((3, 5, 1))
    x[1, 2, 0] = bad
    with pytest.raises(ValidationError, match="x: Must be finite: sequence 1 "):
        predict(net, x, backend=backend)
