"""VPP's fixed-width columns: ``%-Ns`` (left) and ``%=Ns`` (centred) of its format()."""

from __future__ import annotations


def centred(value: str, width: int) -> str:
    """``value`` centred in ``width`` columns as VPP's ``%=Ns`` does it: the odd space
    goes to the left; a longer value is printed whole."""
    pad = width - len(value)
    if pad <= 0:
        return value
    left = (pad + 1) // 2
    return " " * left + value + " " * (pad - left)


def left(value: str, width: int) -> str:
    """``value`` padded on the right to ``width`` columns (``%-Ns``)."""
    return value.ljust(width)


def vppctl_command(command: str) -> str:
    """How an error message names a VPP CLI command."""
    return f"vppctl {command}"
