"""Check, without importing them, that the installed NengoDL stack is one we support;
and the one place where nengo_lmu uses private internals of Nengo, NengoDL and Keras.

NengoDL 3.6 imports ``keras.engine``, which exists only up to TensorFlow/Keras 2.12,
and TensorFlow 2.12 is built against numpy 1.x. An unsupported combination would fail
deep inside ``import nengo_dl``; `check_nengo_dl_stack` names it up front instead.

Every use of a private internal goes through a function below named for what it does
(the library's and the tests'); ``INTERNALS`` lists each with the version it was verified
on. `check_internals` (run by the tests) fails when an installed version differs from
it, and each function raises `InternalsError` naming the internal and the installed
version if the internal is gone. These modules are imported only when called.
"""

from importlib import metadata

# distribution -> (lowest supported version, first unsupported version)
SUPPORTED = {
    "nengo-dl": ((3, 6), (3, 7)),
    "tensorflow": ((2, 10), (2, 13)),
    "keras": ((2, 10), (2, 13)),
    "numpy": ((1, 21), (2, 0)),
}
TF_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-intel")


def _parse(version):
    parts = []
    for piece in version.split("."):
        digits = "".join(c for c in piece if c.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _installed(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def installed_versions():
    """The installed versions of the NengoDL stack (None where not installed)."""
    tf_version = next(
        (v for v in map(_installed, TF_DISTRIBUTIONS) if v is not None), None
    )
    return {
        "nengo-dl": _installed("nengo-dl"),
        "tensorflow": tf_version,
        "keras": _installed("keras"),
        "numpy": _installed("numpy"),
    }


def _supported_range(name):
    low, high = SUPPORTED[name]
    return f"{name}>={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"


def check_nengo_dl_stack(versions=None):
    """Raise ImportError if NengoDL is installed with versions it cannot run on.

    Parameters
    ----------
    versions : dict, optional
        ``{distribution: version or None}``; by default what is installed.

    Returns
    -------
    bool
        True if NengoDL is installed (and supported), False if it is not installed.
    """
    versions = installed_versions() if versions is None else versions
    if versions.get("nengo-dl") is None:
        return False
    bad = []
    for name in SUPPORTED:
        version = versions.get(name)
        if version is None:
            if name != "keras":  # TensorFlow may bring its Keras under another name
                bad.append(f"{name} is not installed")
            continue
        low, high = SUPPORTED[name]
        if not low <= _parse(version)[:2] < high:
            bad.append(f"{name} {version} is installed")
    if bad:
        found = ", ".join(f"{k} {v}" for k, v in versions.items() if v is not None)
        raise ImportError(
            "nengo_lmu cannot use NengoDL with these package versions: "
            + "; ".join(bad)
            + ". Supported: "
            + ", ".join(_supported_range(name) for name in SUPPORTED)
            + f" (found: {found}). Install the pinned stack with "
            "`pip install -c constraints.txt -e .[dl]` from the nengo_lmu checkout, "
            "or uninstall nengo-dl to use nengo_lmu with Nengo alone."
        )
    return True


HAS_NENGO_DL = check_nengo_dl_stack()


def configure_trainable(net, obj, trainable):
    """Mark ``obj`` of ``net`` as (not) trainable in NengoDL; a no-op without
    NengoDL."""
    if HAS_NENGO_DL:
        import nengo  # pylint: disable=import-outside-toplevel
        import nengo_dl  # pylint: disable=import-outside-toplevel

        if not hasattr(net.config[nengo.Connection], "trainable"):
            with net:
                nengo_dl.configure_settings(trainable=None)
        net.config[obj].trainable = trainable


class InternalsError(RuntimeError):
    """A private internal of Nengo, NengoDL or Keras used by nengo_lmu has moved."""


INTERNALS = {  # internal: (distribution, verified on (major, minor), what it is for)
    "keras.engine.base_layer_utils.call_context": (
        "keras",
        (2, 12),
        "find the NengoDL TensorGraph being called (read_once_per_run)",
    ),
    "nengo_dl.tensor_graph.TensorGraph.get_tensor": (
        "nengo-dl",
        (3, 6),
        "read a trainable parameter outside the simulation loop (read_once_per_run)",
    ),
    "nengo_dl.signals.TensorSignal.reset": (
        "nengo-dl",
        (3, 6),
        "drop the index tensor get_tensor caches (read_once_per_run)",
    ),
    "nengo.builder.Model.operators": (
        "nengo",
        (3, 2),
        "replace the operators built for an LMU or Dense by one (replace_operators)",
    ),
    "nengo_dl.Simulator._generate_inputs": (
        "nengo-dl",
        (3, 6),
        "give the tests the Keras model's inputs (keras_inputs)",
    ),
    "nengo_dl.tensor_graph.TensorGraph.plan": (
        "nengo-dl",
        (3, 6),
        "give the tests the operator types NengoDL runs (planned_operator_types)",
    ),
    "nengo_dl.builder.Builder.op_builds": (
        "nengo-dl",
        (3, 6),
        "give the tests the builder of each operator group (operator_builders)",
    ),
}


def check_internals(versions=None):
    """Raise `InternalsError` if an installed version differs from the one an internal
    in ``INTERNALS`` was verified on.

    Parameters
    ----------
    versions : dict, optional
        ``{distribution: version or None}``; by default what is installed.
    """
    if versions is None:
        versions = dict(installed_versions(), nengo=_installed("nengo"))
    moved = [
        f"{internal} (to {use}) was verified on {dist} {'.'.join(map(str, verified))}"
        f", but {dist} {versions.get(dist)} is installed"
        for internal, (dist, verified, use) in INTERNALS.items()
        if versions.get(dist) is None or _parse(versions[dist])[:2] != verified
    ]
    if moved:
        raise InternalsError(
            "nengo_lmu uses private internals verified on other versions: "
            + "; ".join(moved)
            + ". Check that each still exists and behaves the same (or replace it), "
            "then update nengo_lmu.compat.INTERNALS."
        )


def _internal(name, get):
    """``get()``; `InternalsError` naming the internal ``name`` if it is gone."""
    try:
        return get()
    except (AttributeError, ImportError) as e:
        dist, verified, use = INTERNALS[name]
        raise InternalsError(
            f"{name}, a private internal nengo_lmu uses to {use}, is missing in "
            f"{dist} {_installed(dist)} (verified on {dist} "
            f"{'.'.join(map(str, verified))}): {e}"
        ) from e


def _call_context():
    # pylint: disable=import-outside-toplevel
    from keras.engine.base_layer_utils import call_context

    return call_context()


def read_once_per_run(signals, sig):
    """The value of the parameter signal ``sig`` (one no operator writes), read from
    the variable of the NengoDL `~nengo_dl.tensor_graph.TensorGraph` being called:
    outside its simulation loop, so what is computed from it is computed once per
    run (batch), not once per step. Call it in an ``OpBuilder.build_pre``; gradients
    flow to the variable as they do through the loop."""
    graph = _internal(
        "keras.engine.base_layer_utils.call_context", lambda: _call_context().layer
    )
    value = _internal(
        "nengo_dl.tensor_graph.TensorGraph.get_tensor", lambda: graph.get_tensor(sig)
    )
    # drop the index tensor get_tensor cached outside the loop
    _internal("nengo_dl.signals.TensorSignal.reset", lambda: signals[sig].reset())
    return value


def replace_operators(model, start, operators):
    """Replace the operators ``model`` holds from index ``start`` on by ``operators``
    (Nengo keeps no other reference to them until the model is simulated)."""
    ops = _internal("nengo.builder.Model.operators", lambda: model.operators)
    ops[start:] = operators


def keras_inputs(sim, data):
    """The inputs of ``sim.keras_model`` (all input nodes, and the number of steps)
    for ``data`` fed to input nodes (tests)."""
    return _internal(
        "nengo_dl.Simulator._generate_inputs",
        lambda: sim._generate_inputs(data),  # pylint: disable=protected-access
    )


def planned_operator_types(sim):
    """The types of the operators a NengoDL simulator runs (tests)."""
    plan = _internal(
        "nengo_dl.tensor_graph.TensorGraph.plan", lambda: sim.tensor_graph.plan
    )
    return {type(op) for ops in plan for op in ops}


def operator_builders(sim):
    """``{operator group: its OpBuilder}`` of a NengoDL simulator (tests)."""
    return _internal(
        "nengo_dl.builder.Builder.op_builds",
        lambda: sim.tensor_graph.op_builder.op_builds,
    )
