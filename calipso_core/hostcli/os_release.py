"""``cat /etc/os-release``: the host's operating system, as shell-style ``KEY=value`` lines.

Calipso appends the machine architecture (``&& echo ARCHITECURE=`arch```, spelled as the
original did, so recorded outputs parse the same way)::

    NAME="Ubuntu"
    VERSION="16.04 LTS (Xenial Xerus)"
    ID=ubuntu
    ARCHITECURE=x86_64
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from calipso_core.errors import ParseError
from calipso_core.hostcli._text import joined, numbered_lines

CAT_OS_RELEASE = "cat /etc/os-release"
CAT_OS_RELEASE_AND_ARCH = "cat /etc/os-release && echo ARCHITECURE=`arch`"
ARCHITECTURE_KEY = "ARCHITECURE"
_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_BARE = re.compile(r"^[A-Za-z0-9._:/+-]*$")
#: Keys distributions write without quotes when their value allows it.
_UNQUOTED_KEYS = frozenset(("ID", "ID_LIKE", "UBUNTU_CODENAME", "VERSION_CODENAME", "VARIANT_ID", ARCHITECTURE_KEY))
_ESCAPED = re.compile(r"\\([\"\\$`])")
_NEEDS_ESCAPE = re.compile(r"[\"\\$`]")


@dataclass(frozen=True)
class OsRelease:
    """The os-release fields in the order printed (``NAME``, ``VERSION``, ``ID``...)."""

    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        return self.fields.get("NAME")

    @property
    def version(self) -> str | None:
        return self.fields.get("VERSION")

    @property
    def id(self) -> str | None:
        return self.fields.get("ID")

    @property
    def id_like(self) -> str | None:
        return self.fields.get("ID_LIKE")

    @property
    def architecture(self) -> str | None:
        return self.fields.get(ARCHITECTURE_KEY)


def parse_os_release(text: str, command: str = CAT_OS_RELEASE) -> OsRelease:
    """The fields of ``/etc/os-release`` (blank lines and ``#`` comments skipped)."""
    fields: dict[str, str] = {}
    for number, line in numbered_lines(text):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line.strip())
        if not match:
            raise ParseError(command, "expected KEY=value", number, line)
        key, value = match.groups()
        fields[key] = _unquote(command, number, line, value)
    return OsRelease(fields)


def _unquote(command: str, number: int, line: str, value: str) -> str:
    if value[:1] in ("'", '"'):
        quote = value[0]
        if len(value) < 2 or value[-1] != quote:
            raise ParseError(command, "unterminated quoted value", number, line)
        inner = value[1:-1]
        return _ESCAPED.sub(r"\1", inner) if quote == '"' else inner
    if not _BARE.match(value):
        raise ParseError(command, "a value with spaces or shell characters must be quoted", number, line)
    return value


def render_os_release(release: OsRelease) -> str:
    """The text of ``/etc/os-release`` (plus the architecture line) for ``release``."""
    lines = []
    for key, value in release.fields.items():
        if key in _UNQUOTED_KEYS and value and _BARE.match(value):
            lines.append(f"{key}={value}")
        else:
            escaped = _NEEDS_ESCAPE.sub(_backslashed, value)
            lines.append(f'{key}="{escaped}"')
    return joined(lines)


def _backslashed(match: re.Match) -> str:
    return "\\" + match.group(0)
