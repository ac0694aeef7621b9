"""Calipso's OpenStack plugin: Keystone, Nova and Neutron through openstacksdk, and the
OVS and Linux bridge switching of each host over SSH."""
