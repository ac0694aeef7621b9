"""The OpenStack part of the lab: what the simulated cloud's Nova and Neutron say."""
