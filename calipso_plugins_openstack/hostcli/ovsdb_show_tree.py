"""The indentation tree of ``ovs-vsctl show``: each line is a named item (``Bridge br-int``)
or a setting (``fail_mode: secure``), nested by four spaces."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from calipso_core.errors import ParseError

KINDS = ("Manager", "Bridge", "Controller", "Port", "Interface")
_KIND_SET = frozenset(KINDS)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(slots=True)
class Item:
    """One line of the tree: ``kind`` and ``value`` (the name as printed) for a named item,
    ``key`` and ``value`` (as printed) for a setting; ``children`` the lines nested in it."""

    command: str
    number: int
    line: str
    kind: str | None
    key: str | None
    value: str
    children: list[Item] = field(default_factory=list)


def parse_tree(text: str, command: str) -> Item:
    """The root item (the switch UUID) with everything nested under it."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line and not line.isspace()]
    if not lines or not _UUID.match(lines[0][1].strip()) or lines[0][1][0] == " ":
        number, line = lines[0] if lines else (1, "")
        raise ParseError(command, "expected the Open_vSwitch UUID on the first line", number, line)
    root = Item(command, lines[0][0], lines[0][1], "Open_vSwitch", None, lines[0][1].strip())
    stack = [root]
    for number, line in lines[1:]:
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        depth = indent >> 2
        if indent & 3 or body[0].isspace() or not 1 <= depth <= len(stack):
            raise ParseError(command, "indentation is not a step of four spaces under the line above",
                             number, line)
        body = body.rstrip()
        kind, _, name = body.partition(" ")
        if kind in _KIND_SET and name and not name[0].isspace():
            item = Item(command, number, line, kind, None, name)
        else:
            key, colon, value = body.partition(":")
            if not colon or not key or " " in key or (value and not value.startswith(" ")):
                raise ParseError(command, "expected '<Kind> <name>' or '<key>: <value>'", number, line)
            item = Item(command, number, line, None, key, value.strip())
        del stack[depth:]
        stack[-1].children.append(item)
        stack.append(item)
    return root
