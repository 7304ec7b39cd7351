"""Legendre Memory Units built the Nengo way."""

from nengo_lmu.compat import check_nengo_dl_stack
from nengo_lmu.version import version as __version__

HAS_NENGO_DL = check_nengo_dl_stack()

# pylint: disable=wrong-import-position
from nengo_lmu import builders  # noqa: E402,F401 (registers the Nengo builders)
from nengo_lmu.memory import (  # noqa: E402
    LegendreMemory,
    LinearSystemState,
)
from nengo_lmu.systems import (  # noqa: E402
    LegendreDelay,
    LinearSystem,
    PadeDelay,
    legendre_readout,
)
