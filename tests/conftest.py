"""Options: ``--slow`` runs the long tests; ``--plots DIR`` saves diagnostic plots."""

import pathlib

import pytest


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run tests marked slow")
    parser.addoption("--plots", default=None, help="directory to save plots in")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow test: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def plots(request):
    """A directory to save plots in, or None when ``--plots`` was not given."""
    path = request.config.getoption("--plots")
    if path is None:
        return None
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def restore_nengo_precision():
    """Restore nengo.rc's float precision after the test: NengoDL 3.6 sets it to its
    own dtype while it builds a model and leaves it there when the build raises."""
    import nengo  # pylint: disable=import-outside-toplevel

    bits = nengo.rc.get("precision", "bits")
    yield
    nengo.rc.set("precision", "bits", bits)
