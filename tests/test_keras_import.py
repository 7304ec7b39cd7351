"""keras-lmu 0.9 layers converted to nengo_lmu networks give Keras' outputs (1e-5)."""

import nengo
import numpy as np
import pytest

from nengo_lmu import LMU
from nengo_lmu.convert import from_keras_lmu
from reference import loss_weights, outputs_and_gradients

tf = pytest.importorskip("tensorflow")
keras_lmu = pytest.importorskip("keras_lmu")

T, INPUT_D, UNITS, ORDER, THETA = 16, 2, 5, 4, 6.0

CASES = {  # name: (layer kind, hidden cell, memory_d, LMUCell options)
    "lmu-fft-rnn": ("LMU", "rnn", 1, {}),
    "lmu-fft-dense-i2h": ("LMU", "dense", 2, dict(input_to_hidden=True, use_bias=True)),
    "lmu-h2m": ("LMU", "rnn", 2, dict(hidden_to_memory=True)),
    "lmu-m2m-dense": ("LMU", "dense-relu", 1, dict(memory_to_memory=True)),
    "cell-all": (
        "RNN",
        "rnn",
        2,
        dict(
            input_to_hidden=True,
            hidden_to_memory=True,
            memory_to_memory=True,
            use_bias=True,
        ),
    ),
    "cell-dense-h2m": ("RNN", "dense", 1, dict(hidden_to_memory=True)),
    "cell-no-kernel": ("RNN", "rnn", INPUT_D, dict(kernel_initializer=None)),
    "cell-euler": ("RNN", "rnn", 1, dict(discretizer="euler", input_to_hidden=True)),
    "cell-theta-zoh": ("RNN", "rnn", 1, dict(trainable_theta=True)),
    "cell-theta-euler": (
        "RNN",
        "dense",
        2,
        dict(trainable_theta=True, discretizer="euler"),
    ),
}


def keras_layer(kind, hidden, memory_d, options):
    hidden_cell = {
        "rnn": lambda: tf.keras.layers.SimpleRNNCell(UNITS),
        "dense": lambda: tf.keras.layers.Dense(UNITS),
        "dense-relu": lambda: tf.keras.layers.Dense(UNITS, activation="relu"),
    }[hidden]()
    args = dict(memory_d=memory_d, order=ORDER, theta=THETA, hidden_cell=hidden_cell)
    if kind == "LMU":
        return keras_lmu.LMU(return_sequences=True, **args, **options)
    return tf.keras.layers.RNN(
        keras_lmu.LMUCell(**args, **options), return_sequences=True
    )


@pytest.mark.parametrize("case", CASES)
def test_keras_lmu_import(case):
    import nengo_dl  # pylint: disable=import-outside-toplevel

    kind, hidden, memory_d, options = CASES[case]
    rng = np.random.RandomState(0)
    tf.random.set_seed(0)
    layer = keras_layer(kind, hidden, memory_d, options)
    inp = tf.keras.Input((T, INPUT_D))
    model = tf.keras.Model(inp, layer(inp))
    for w in model.weights:  # random weights, so that every path carries signal
        if "theta_inv" in w.name:
            w.assign(np.float32(1 / 7.5))  # a trained theta (initial 6)
        else:
            w.assign(rng.uniform(-0.6, 0.6, size=w.shape))
    x = rng.uniform(-1, 1, size=(3, T, INPUT_D)).astype(np.float32)
    expected = model.predict(x, verbose=0)
    if kind == "LMU":
        fft = not (options.get("hidden_to_memory") or options.get("memory_to_memory"))
        assert isinstance(layer.layer, keras_lmu.LMUFeedforward) == fft

    kwargs = from_keras_lmu(layer)
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(np.zeros(INPUT_D))
        lmu = LMU(**kwargs)
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output)
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=3, progress_bar=False) as sim:
        actual = sim.predict({stim: x})[probe]
    assert np.ptp(expected) > 0.5
    assert np.allclose(actual, expected, atol=1e-5, rtol=0), np.abs(
        actual - expected
    ).max()

    if case == "cell-all":  # the reference simulator too, for one case
        with nengo.Network(seed=0) as net:
            stim = nengo.Node(nengo.processes.PresentInput(x[0], presentation_time=1.0))
            lmu = LMU(**kwargs)
            nengo.Connection(stim, lmu.input, synapse=None)
            probe = nengo.Probe(lmu.output)
        with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
            sim.run_steps(T)
        assert np.allclose(sim.data[probe], expected[0], atol=1e-5, rtol=0)


@pytest.mark.parametrize("discretizer", ["zoh", "euler"])
def test_trainable_theta_gradients(discretizer):
    """An RNN(LMUCell) with trainable_theta, imported, gives Keras' outputs and
    Keras' gradients (of a random projection of the outputs) for every weight, the
    learned dt / theta (= Keras' 1 / theta with dt = 1) included."""
    rng = np.random.RandomState(1)
    cell = keras_lmu.LMUCell(
        memory_d=1,
        order=ORDER,
        theta=THETA,
        hidden_cell=tf.keras.layers.SimpleRNNCell(UNITS),
        input_to_hidden=True,
        trainable_theta=True,
        discretizer=discretizer,
    )
    layer = tf.keras.layers.RNN(cell, return_sequences=True)
    layer(tf.zeros((1, T, INPUT_D)))
    for w in layer.weights:
        w.assign(rng.uniform(-0.6, 0.6, size=w.shape))
    cell.theta_inv.assign(1 / 7.5)  # a trained theta (initial 6)
    x = rng.uniform(-1, 1, size=(3, T, INPUT_D)).astype(np.float32)
    hidden = cell.hidden_cell
    keras_weights = [
        cell.kernel,
        hidden.kernel,
        hidden.recurrent_kernel,
        hidden.bias,
        cell.theta_inv,
    ]
    with tf.GradientTape() as tape:
        expected = layer(x)
        loss = tf.reduce_sum(expected * loss_weights(expected.shape))
    g_enc, g_kernel, g_rec, g_bias, g_theta = (
        g.numpy() for g in tape.gradient(loss, keras_weights)
    )
    expected_grads = {  # as Nengo transforms (outputs, inputs)
        "input_encoders": g_enc.T,
        "memory_kernel": g_kernel[:ORDER].T,
        "input_kernel": g_kernel[ORDER:].T,
        "hidden_kernel": g_rec.T,
        "hidden_bias": g_bias[:, None],
        "theta": np.reshape(g_theta, (1, 1)),
    }

    with nengo.Network(seed=0) as net:
        stim = nengo.Node(np.zeros(INPUT_D))
        lmu = LMU(**from_keras_lmu(layer))
        nengo.Connection(stim, lmu.input, synapse=None)
        nengo.Probe(lmu.output)
    actual, grads, _ = outputs_and_gradients(net, stim, x)
    assert np.allclose(actual, expected, atol=1e-5, rtol=0)
    assert sorted(expected_grads) == sorted(lmu.weight_connections)
    for name, expected_grad in expected_grads.items():
        grad = grads[lmu.weight_connections[name]]
        scale = max(np.abs(expected_grad).max(), 1.0)
        assert np.abs(expected_grad).max() > 1e-2, name  # every weight matters
        assert np.allclose(grad, expected_grad, atol=1e-5 * scale, rtol=0), (
            name,
            np.abs(grad - expected_grad).max() / scale,
        )


def test_unsupported_layers():
    from nengo.exceptions import ValidationError  # pylint: disable=import-outside-toplevel

    with pytest.raises(ValidationError, match="Must be a built keras_lmu.LMU"):
        from_keras_lmu(tf.keras.layers.Dense(3))
    layer = keras_layer("RNN", "rnn", 1, {})
    with pytest.raises(ValidationError, match="must be built|not built"):
        from_keras_lmu(layer)
    lstm = keras_lmu.LMU(1, ORDER, THETA, tf.keras.layers.LSTMCell(UNITS))
    lstm(tf.zeros((1, T, INPUT_D)))
    with pytest.raises(
        ValidationError, match="hidden cell LSTMCell .use SimpleRNNCell or Dense"
    ):
        from_keras_lmu(lstm)


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_saved_keras_model_import(tmp_path, fmt):
    """A saved Keras classifier (keras-lmu layer + Dense) loads into a
    SequenceClassifier with the same scores (1e-5), and bad models are refused."""
    from nengo_lmu.convert import load_keras_model
    from nengo_lmu.lmu import SequenceClassifier
    from nengo_lmu.train import predict

    tf.random.set_seed(3)
    inputs = tf.keras.Input((T, INPUT_D))
    lmu = keras_lmu.LMU(
        memory_d=1,
        order=ORDER,
        theta=THETA,
        hidden_cell=tf.keras.layers.SimpleRNNCell(UNITS),
        input_to_hidden=True,
    )
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3)(lmu(inputs)))
    path = tmp_path / f"model.{fmt}"
    model.save(path)
    x = np.random.RandomState(4).uniform(-1, 1, size=(6, T, INPUT_D))
    net = SequenceClassifier(**load_keras_model(path))
    assert np.allclose(predict(net, x), model.predict(x, verbose=0), atol=1e-5)

    two_dense = tf.keras.Model(
        inputs, tf.keras.layers.Dense(2)(tf.keras.layers.Dense(3)(inputs))
    )
    two_dense.save(tmp_path / "bad.keras")
    with pytest.raises(
        nengo.exceptions.ValidationError, match="must hold a keras-lmu layer"
    ):
        load_keras_model(tmp_path / "bad.keras")
    sliced = tf.keras.Model(inputs, tf.keras.layers.Dense(2)(inputs[:, -1]))
    sliced.save(tmp_path / "sliced.keras")
    with pytest.raises(
        nengo.exceptions.ValidationError,
        match=r"\(SlicingOpLambda\) is not supported.* Supported layers: InputLayer",
    ):
        load_keras_model(tmp_path / "sliced.keras")


@pytest.mark.parametrize("fmt", ["keras_v3", "h5", "tf"])
def test_keras2_formats_stacked(tmp_path, fmt):
    """Keras 2.12's formats of a stacked model (a Sequential: LMU, dropout,
    RNN(LMUCell) with every connection and a trainable theta, Dense layers) give
    Keras' outputs at every step (1e-5 relative) through keras_network."""
    from nengo_lmu.convert import keras_network
    from nengo_lmu.interop import read_keras_model
    from nengo_lmu.train import predict

    rng = np.random.RandomState(5)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((T, INPUT_D)),
            keras_lmu.LMU(
                2,
                ORDER,
                THETA,
                tf.keras.layers.SimpleRNNCell(UNITS),
                input_to_hidden=True,
                use_bias=True,
                return_sequences=True,
            ),
            tf.keras.layers.Dropout(0.3),
            tf.keras.layers.RNN(
                keras_lmu.LMUCell(
                    1,
                    ORDER,
                    THETA,
                    tf.keras.layers.Dense(3, activation="tanh"),
                    trainable_theta=True,
                    hidden_to_memory=True,
                    memory_to_memory=True,
                    input_to_hidden=True,
                ),
                return_sequences=True,
            ),
            tf.keras.layers.Dense(2, activation="sigmoid"),
        ]
    )
    for w in model.weights:
        w.assign(rng.uniform(-0.6, 0.6, size=w.shape))
    x = rng.uniform(-1, 1, size=(2, T, INPUT_D)).astype(np.float32)
    expected = model.predict(x, verbose=0)
    path = tmp_path / {"keras_v3": "m.keras", "h5": "m.h5", "tf": "m"}[fmt]
    model.save(path, save_format=fmt)
    assert read_keras_model(path).format == {
        "keras_v3": "Keras 2 .keras",
        "h5": "Keras 2 .h5",
        "tf": "SavedModel",
    }[fmt]
    net = keras_network(path)
    actual = predict(net, x)
    assert actual.shape == expected.shape == (2, T, 2)
    assert np.abs(actual - expected).max() < 1e-5 * np.abs(expected).max()
