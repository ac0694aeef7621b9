"""The VPP plugin's part of the lab: the hosts' ``vppctl`` and the VPP ground truth."""
