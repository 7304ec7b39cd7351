"""Neuron types of nengo_lmu's spiking networks.

`SpikeAwareRegularSpiking` is the hidden-unit type of `.hybrid.to_spiking`; the
memory's units are `.spiking_memory.SignedIntegrateFire`.
"""

import nengo


class SpikeAwareRegularSpiking(nengo.RegularSpiking):
    """`nengo.RegularSpiking` units that NengoDL trains through their spikes.

    On every simulator these are `nengo.RegularSpiking` units (integrate the base
    type's rate, fire a spike per unit integrated, subtract it). They differ in
    training only: NengoDL steps them as spikes in training too, with the gradient
    of the rate in the backward pass (a straight-through estimator:
    `.dl_builders.SpikeAwareRegularSpikingBuilder`, and `.SimLMU` in the fused
    build), where it trains `nengo.RegularSpiking` itself as its rate. A type of
    its own keeps that choice to the networks that ask for it: NengoDL's handling
    of `nengo.RegularSpiking` elsewhere is left as it is.

    Parameters
    ----------
    base_type : nengo.neurons.NeuronType
        The rate type whose rate the units integrate.
    amplitude : float
        The output of one spike times ``dt``.
    initial_state : dict, optional
        Initial ``voltage`` (see `nengo.RegularSpiking`).
    """
