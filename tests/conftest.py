"""Options: ``--slow`` runs the long tests; ``--plots DIR`` saves diagnostic plots.

Fixtures: ``plots``, and ``data_directory`` for the tests that need the MNIST files
and the paper's weights.
"""

import contextlib
import pathlib

import pytest

from nengo_lmu.data import data_dir

ROOT = pathlib.Path(__file__).parents[1]


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


@pytest.fixture(scope="session")
def data_directory():
    """The data directory, found as nengo_lmu finds it from the repository root
    (``$NENGO_LMU_DATA``, else ``../shared/data``).

    Every test that needs the data takes this fixture, so all of them skip, with the
    same reason, when there is no data directory (a checkout without the data can run
    the rest of the suite), and all of them fail when the directory is there but a
    file in it is missing or wrong (CI has the data: a broken copy must not pass
    as skipped).
    """
    with contextlib.chdir(ROOT):
        try:
            return data_dir()
        except FileNotFoundError as e:
            pytest.skip(f"no data directory: {e}")
