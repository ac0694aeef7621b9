"""``vppctl show version``: one line naming the build::

    vpp v16.09-rc0~157-g203c632 built by localadmin on ubuntu0 at Sun Jun 26 16:35:15 PDT 2016
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import body_lines, joined
from calipso_plugins_vpp.hostcli._columns import vppctl_command

SHOW_VERSION = "show version"
_LINE = re.compile(r"^(?P<program>\S+) (?P<version>v\S+) built by (?P<user>\S+) on (?P<host>\S+) at (?P<date>\S.*)$")


@dataclass(frozen=True)
class VppVersion:
    """What ``show version`` says: program, version, and who built it where and when."""

    program: str
    version: str
    built_by: str
    built_on: str
    built_at: str

    @property
    def binary(self) -> str:
        """``vpp v16.09-rc0~157-g203c632``: how the original Calipso named a vEdge's binary."""
        return f"{self.program} {self.version}"


def parse_show_version(text: str, command: str = vppctl_command(SHOW_VERSION)) -> VppVersion:
    lines = body_lines(text)
    if len(lines) != 1:
        number, line = lines[1] if len(lines) > 1 else (1, "")
        raise ParseError(command, f"expected one line '<program> v<version> built by ...', found {len(lines)}",
                         number, line)
    number, line = lines[0]
    match = _LINE.match(line)
    if not match:
        raise ParseError(command, "expected '<program> v<version> built by <user> on <host> at <date>'", number, line)
    return VppVersion(match["program"], match["version"], match["user"], match["host"], match["date"])


def render_show_version(version: VppVersion) -> str:
    return joined([f"{version.program} {version.version} built by {version.built_by} on {version.built_on} "
                   f"at {version.built_at}"])
