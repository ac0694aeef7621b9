"""``ethtool IF``: a NIC's link settings, one ``Key: value`` a line, some values
continued on the next lines::

    Settings for eno16777728:
    \tSupported ports: [ TP ]
    \tSupported link modes:   10baseT/Half 10baseT/Full
    \t                        100baseT/Half 100baseT/Full
    \tSpeed: 1000Mb/s
    \tCurrent message level: 0x00000007 (7)
    \t\t\t       drv probe link
    \tLink detected: yes
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, joined

_MESSAGE_LEVEL_INDENT = "\t\t\t       "
_NOT_REPORTED = "Not reported"

#: A value of one line is a string; a value continued over several lines a tuple of them.
Value = str | tuple[str, ...]


def ethtool_command(interface: str) -> str:
    return f"ethtool {interface}"


@dataclass(frozen=True)
class EthtoolInfo:
    """The settings ``ethtool`` shows for ``interface``, keyed as printed (``Speed``,
    ``Duplex``, ``Supported link modes``...), in the order printed."""

    interface: str
    fields: Mapping[str, Value] = field(default_factory=dict)

    @property
    def link_detected(self) -> bool | None:
        """True/False from ``Link detected``; None when ethtool did not report it."""
        value = self.fields.get("Link detected")
        return None if value is None else value == "yes"

    @property
    def speed(self) -> str | None:
        """``Speed`` as printed (``1000Mb/s``, ``Unknown!``), if reported."""
        value = self.fields.get("Speed")
        return value if isinstance(value, str) else None


def parse_ethtool(text: str, command: str = "ethtool") -> EthtoolInfo:
    """The settings in ``ethtool IF`` output."""
    lines = [(n, line) for n, line in body_lines(text) if line.strip()]
    if not lines or not lines[0][1].startswith("Settings for ") or not lines[0][1].rstrip().endswith(":"):
        number, line = lines[0] if lines else (1, "")
        raise ParseError(command, "expected 'Settings for <interface>:'", number, line)
    interface = lines[0][1].rstrip()[len("Settings for ") : -1]
    fields: dict[str, list[str]] = {}
    last_key = None
    for number, line in lines[1:]:
        if line.startswith("\t") and line[1:2] not in ("\t", " "):
            key, colon, value = line[1:].partition(":")
            if not colon:
                raise ParseError(command, "expected '<key>: <value>'", number, line)
            last_key = key
            fields[key] = [value.strip()]
        elif line.startswith("\t") and last_key is not None:
            fields[last_key].append(line.strip())
        else:
            raise ParseError(command, "expected a tab-indented '<key>: <value>' or continuation", number, line)
    return EthtoolInfo(interface, {k: v[0] if len(v) == 1 else tuple(v) for k, v in fields.items()})


def render_ethtool(info: EthtoolInfo) -> str:
    """The text ``ethtool`` prints for ``info``, with its link-mode column alignment."""
    lines = [f"Settings for {info.interface}:"]
    for key, value in info.fields.items():
        values = [value] if isinstance(value, str) else list(value)
        if key.endswith(" link modes"):
            lines.extend(_render_link_modes(key, values))
        else:
            lines.append(f"\t{key}: {values[0]}" if values[0] else f"\t{key}:")
            lines.extend(_MESSAGE_LEVEL_INDENT + v for v in values[1:])
    return joined(lines)


def _render_link_modes(key: str, values: list[str]) -> list[str]:
    """ethtool pads link modes to a column (at least 24) and ends each mode with a space."""
    prefix = key[: -len(" link modes")]
    indent = max(len(prefix) + 14, 24)
    padding = " " * (indent - len(prefix) - 12)

    def modes(v: str) -> str:
        return v if v == _NOT_REPORTED else v + " "

    lines = [f"\t{key}:{padding}{modes(values[0])}"]
    lines.extend("\t" + " " * indent + modes(v) for v in values[1:])
    return lines
