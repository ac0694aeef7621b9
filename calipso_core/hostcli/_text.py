"""What the host command parsers share: numbered lines, word pairs, numbers and MACs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from calipso_core.errors import ParseError

MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """Each line of ``text`` with its 1-based number, without line ends."""
    yield from enumerate(text.splitlines(), start=1)


def body_lines(text: str) -> list[tuple[int, str]]:
    """The numbered lines of ``text`` with trailing blank lines dropped (tools end with one)."""
    lines = list(numbered_lines(text))
    while lines and not lines[-1][1].strip():
        lines.pop()
    return lines


def joined(lines: list[str]) -> str:
    """Lines as a command prints them: each ends with a newline; no lines, no text."""
    return "".join(line + "\n" for line in lines)


def take_pairs(
    command: str, number: int, line: str, words: list[str], keys: frozenset[str]
) -> tuple[dict[str, str], list[str]]:
    """Split ``words`` into ``key value`` pairs for the known ``keys`` and the other words.

    A known key without a value is an error naming the line; the other words are kept in
    order so that nothing the tool printed is lost.
    """
    pairs: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in keys:
            if i + 1 >= len(words):
                raise ParseError(command, f"'{word}' without a value", number, line)
            pairs[word] = words[i + 1]
            i += 2
        else:
            rest.append(word)
            i += 1
    return pairs, rest


def to_int(command: str, number: int, line: str, value: str, what: str) -> int:
    """``value`` as an int, or a ParseError saying which ``what`` was not a number."""
    try:
        return int(value)
    except ValueError:
        raise ParseError(command, f"{what} is not a number: {value!r}", number, line) from None


def check_mac(command: str, number: int, line: str, value: str) -> str:
    """``value`` if it is a MAC address written as six hex pairs, else a ParseError."""
    if not MAC_RE.match(value):
        raise ParseError(command, f"not a MAC address: {value!r}", number, line)
    return value
