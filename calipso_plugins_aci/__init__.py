"""Calipso's ACI plugin: leaf and spine switches and their ports, through the APIC REST API."""
