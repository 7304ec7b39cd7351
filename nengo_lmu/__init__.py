"""Legendre Memory Units built the Nengo way."""

from nengo_lmu.compat import HAS_NENGO_DL
from nengo_lmu.version import version as __version__

# pylint: disable=wrong-import-position
from nengo_lmu import builders  # noqa: E402,F401 (registers the Nengo builders)
from nengo_lmu.hybrid import to_spiking  # noqa: E402
from nengo_lmu.lmu import LMU, Dense, SequenceClassifier  # noqa: E402
from nengo_lmu.memory import (  # noqa: E402
    LegendreMemory,
    LinearSystemState,
)
from nengo_lmu.networks import DelayNetwork  # noqa: E402
from nengo_lmu.spiking_memory import SpikingMemory  # noqa: E402
from nengo_lmu.synapses import input_synapses, ss2sim  # noqa: E402
from nengo_lmu.systems import (  # noqa: E402
    LegendreDelay,
    LinearSystem,
    PadeDelay,
    legendre_readout,
)

__all__ = [
    "HAS_NENGO_DL",
    "LinearSystem",
    "LegendreDelay",
    "PadeDelay",
    "legendre_readout",
    "LinearSystemState",
    "LegendreMemory",
    "ss2sim",
    "input_synapses",
    "DelayNetwork",
    "SpikingMemory",
    "LMU",
    "Dense",
    "SequenceClassifier",
    "to_spiking",
]
