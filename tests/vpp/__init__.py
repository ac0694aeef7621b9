"""Tests of the VPP plugin (a package, so that module names do not collide with other plugins' tests)."""
