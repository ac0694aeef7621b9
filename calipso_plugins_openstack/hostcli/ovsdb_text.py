"""OVSDB values as ``ovs-vsctl`` prints them: atoms (strings quoted only when needed),
maps ``{key=value, ...}`` and sets ``[a, b]``.

A string is quoted when it is empty, does not start with a letter or ``_``, holds
anything but letters, ``_``, ``-`` and ``.``, reads ``true``/``false`` or looks like a
UUID: so ``Port "qr-bb9b8340-72"`` but ``Port patch-int``. Quoted strings use JSON escapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from sys import intern

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_BARE = re.compile(r"^[A-Za-z_][A-Za-z_.-]*$")
_QUOTED_TEXT = r'[^"\\\x00-\x1f]*'  # the text of a quoted string that has no escapes
_BARE_TEXT = r'[^\s,=}\]"]+'
_BARE_ATOM = re.compile(_BARE_TEXT)
_PLAIN_QUOTED = re.compile(rf'"({_QUOTED_TEXT})"')
_PLAIN_ATOM = rf'(?:"{_QUOTED_TEXT}"|{_BARE_TEXT})'
_PLAIN_PAIR = re.compile(rf'(?:"({_QUOTED_TEXT})"|({_BARE_TEXT}))=(?:"({_QUOTED_TEXT})"|({_BARE_TEXT}))')
_PLAIN_MAP = re.compile(rf"\{{(?:{_PLAIN_ATOM}={_PLAIN_ATOM}(?:, {_PLAIN_ATOM}={_PLAIN_ATOM})*)?\}}")
#: What JSON escapes in a quoted string.
_ESCAPED = re.compile(r'["\\\x00-\x1f]')
_DECODER = json.JSONDecoder()


class ValueSyntaxError(ValueError):
    """A value that is not an OVSDB atom, map or set as ovs-vsctl prints it."""


def needs_quotes(text: str) -> bool:
    return not _BARE.match(text) or text in ("true", "false") or bool(_UUID.match(text))


@lru_cache(maxsize=1 << 14)  # the same names and addresses come again on every host
def quote(text: str) -> str:
    """``text`` as ovs-vsctl prints a string atom."""
    if not needs_quotes(text):
        return text
    return json.dumps(text, ensure_ascii=False) if _ESCAPED.search(text) else f'"{text}"'


@lru_cache(maxsize=1 << 14)  # names come again on every host (a tunnel port per peer)
def parse_atom(text: str) -> str:
    """The string an atom stands for (quotes and escapes removed)."""
    value, end = _atom_at(text, 0)
    if end != len(text):
        raise ValueSyntaxError(f"unexpected {text[end:]!r} after {text[:end]!r}")
    return value


def _atom_at(text: str, start: int) -> tuple[str, int]:
    if text.startswith('"', start):
        plain = _PLAIN_QUOTED.match(text, start)
        if plain:
            return plain.group(1), plain.end()
        try:
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            raise ValueSyntaxError(f"bad quoted string: {exc.msg}") from None
        return value, end
    match = _BARE_ATOM.match(text, start)
    if not match:
        raise ValueSyntaxError(f"expected a value at {text[start:]!r}")
    return match.group(0), match.end()


def parse_map(text: str) -> dict[str, str]:
    """``{a=b, c="d"}`` as a dict of strings."""
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueSyntaxError(f"a map is written {{key=value, ...}}, not {text!r}")
    plain = _plain_map(text)
    if plain is not None:
        return plain
    result: dict[str, str] = {}
    position, end = 1, len(text) - 1
    while position < end:
        key, position = _atom_at(text, position)
        if not text.startswith("=", position):
            raise ValueSyntaxError(f"expected '=' after {key!r}")
        value, position = _atom_at(text, position + 1)
        result[key] = value
        if text.startswith(", ", position):
            position += 2
        elif position != end:
            raise ValueSyntaxError(f"expected ', ' or '}}' at {text[position:]!r}")
    return result


def _plain_map(text: str) -> dict[str, str] | None:
    """The map ``{...}`` if its atoms are bare or quoted without escapes (what ovs-vsctl
    nearly always prints), read by two regex passes, its strings interned; else None."""
    if not _PLAIN_MAP.fullmatch(text):
        return None
    pairs = _PLAIN_PAIR.findall(text, 1, len(text) - 1)  # a bare atom is never empty
    # interned: a tunnel port's options repeat on every host (quadratic in hosts otherwise)
    return {intern(bare_key or key): intern(bare_value or value) for key, bare_key, value, bare_value in pairs}


def render_map(mapping: Mapping[str, str]) -> str:
    """A dict as ovs-vsctl prints a map: keys sorted, atoms quoted when needed."""
    return "{" + ", ".join([f"{quote(k)}={quote(v)}" for k, v in sorted(mapping.items())]) + "}"


def parse_int_set(text: str) -> tuple[int, ...]:
    """``[1, 2]`` (or a lone ``1``) as a tuple of ints."""
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return tuple(int(v) for v in inner.split(",") if v.strip())
    except ValueError:
        raise ValueSyntaxError(f"expected integers, not {text!r}") from None


def render_int_set(values: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"
