"""Check, without importing them, that the installed NengoDL stack is one we support.

NengoDL 3.6 imports ``keras.engine``, which exists only up to TensorFlow/Keras 2.12,
and TensorFlow 2.12 is built against numpy 1.x. An unsupported combination would fail
deep inside ``import nengo_dl``; `check_nengo_dl_stack` names it up front instead.
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
