"""Calipso's VPP plugin: the FD.io VPP switching of each host, through vppctl over SSH."""
