"""The lab hosts' minimal shell: enough bash to answer what discovery sends.

It understands lists joined by ``;``, ``&&`` and ``||``; words in single or double quotes;
``$?``; ```cmd``` and ``$(cmd)`` (not nested); a leading ``sudo``; and ``echo``, ``true``
and ``false`` — which covers the command lines of :func:`calipso_core.hostcli.batch.batch`.
Every other simple command is matched word by word against registered patterns, where
``{name}`` stands for one word and ``{name*}`` (last) for the rest; the pattern with the
most literal words wins::

    shell = Shell({
        "ip netns list": lambda: render_ip_netns_list(namespaces),
        "ip netns exec {ns} ip address show": lambda ns: render_ip_address_show(...),
        "virsh dumpxml {id}": lambda id: render_dumpxml(...),
    })
    shell("sudo ip netns list; echo '@@calipso-batch@@ 1' $?")

A handler returns stdout (exit status 0) or a :class:`CommandOutput`. Patterns are
compared with the words after quote removal, so write them without quotes. Pipes and
redirections are not interpreted: they are plain words a pattern may spell out. It is not
a real shell.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from calipso_core.lab.ssh import CommandOutput

Handler = Callable[..., "CommandOutput | str"]
STATUS = object()  # stands for ``$?`` inside a word until the command runs
#: A run of characters that stand for themselves (no quote, operator, ``$``, escape or blank).
_PLAIN = re.compile(r"[^\s;&|'\"`$\\]+")


@dataclass(frozen=True)
class Substitution:
    """A ```command``` or ``$(command)`` inside a word, run when the word is expanded."""

    command_line: str


Word = tuple[object, ...]  # literal strings, STATUS and Substitutions


class ShellSyntaxError(ValueError):
    """A command line this shell cannot read (an unterminated quote, a dangling ``&&``)."""


@dataclass(frozen=True)
class _Pattern:
    words: tuple[str, ...]
    handler: Handler

    @property
    def literal_count(self) -> int:
        return sum(1 for w in self.words if not w.startswith("{"))

    def match(self, argv: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for i, word in enumerate(self.words):
            if word.startswith("{") and word.endswith("*}"):
                params[word[1:-2]] = " ".join(argv[i:])
                return params if i < len(argv) else None
            if i >= len(argv):
                return None
            if word.startswith("{") and word.endswith("}"):
                params[word[1:-1]] = argv[i]
            elif word != argv[i]:
                return None
        return params if len(argv) == len(self.words) else None


class Shell:
    """A lab host's shell: ``shell(command_line)`` → CommandOutput(exit_status, stdout, stderr)."""

    def __init__(self, commands: Mapping[str, Handler], command_delay: Callable[[], float] | None = None):
        """``command_delay()`` gives the seconds each program (not a builtin) takes to run."""
        patterns = [_Pattern(tuple(p.split()), h) for p, h in commands.items()]
        #: The patterns that may match a command, in order, by its program (first word);
        #: those starting with a parameter may match any program.
        self._any = [p for p in patterns if p.words[0].startswith("{")]
        self._by_program = {program: [p for p in patterns if p.words[0] == program or p in self._any]
                            for program in {p.words[0] for p in patterns} if not program.startswith("{")}
        self.command_delay = command_delay

    def __call__(self, command_line: str) -> CommandOutput:
        return self.run(command_line)

    def prepare(self) -> None:
        """Answer once, without delay, each command that takes no parameter, so that what
        the host builds for its answers (kept until the model changes) is ready."""
        patterns = {id(p): p for candidates in self._by_program.values() for p in candidates}
        for pattern in patterns.values():
            if not any(word.startswith("{") for word in pattern.words):
                pattern.handler()

    def run(self, command_line: str) -> CommandOutput:
        """Run a command line and return the joined stdout/stderr and the last status."""
        try:
            steps = tokenize(command_line)
        except ShellSyntaxError as exc:
            return CommandOutput(2, "", f"bash: syntax error: {exc}\n")
        status, stdout, stderr = 0, [], []
        for operator, words in steps:
            if (operator == "&&" and status != 0) or (operator == "||" and status == 0):
                continue
            argv = [self._expand(word, status) for word in words]
            output = self._simple(argv)
            status = output.exit_status
            stdout.append(output.stdout)
            stderr.append(output.stderr)
        return CommandOutput(status, "".join(stdout), "".join(stderr))

    def _expand(self, word: Word, status: int) -> str:
        """A word's text: ``$?`` replaced by ``status``, a substitution by its output."""
        parts = []
        for part in word:
            if part is STATUS:
                parts.append(str(status))
            elif isinstance(part, Substitution):
                parts.append(self.run(part.command_line).stdout.rstrip("\n"))
            else:
                parts.append(str(part))
        return "".join(parts)

    def _simple(self, argv: list[str]) -> CommandOutput:
        while argv and argv[0] == "sudo":
            argv = argv[1:]
        if not argv:
            return CommandOutput(0)
        if argv[0] == "echo":
            newline = argv[1:2] != ["-n"]
            text = " ".join(argv[1:] if newline else argv[2:])
            return CommandOutput(0, text + ("\n" if newline else ""))
        if argv[0] in ("true", "false"):
            return CommandOutput(0 if argv[0] == "true" else 1)
        candidates = self._by_program.get(argv[0], self._any)
        matches = [(p, params) for p in candidates if (params := p.match(argv)) is not None]
        if not matches:
            return CommandOutput(127, "", f"bash: {argv[0]}: command not found\n")
        pattern, params = max(matches, key=lambda m: m[0].literal_count)
        if self.command_delay is not None:
            time.sleep(self.command_delay())
        result = pattern.handler(**params)
        return CommandOutput(0, result) if isinstance(result, str) else result


def tokenize(command_line: str) -> list[tuple[str, list[Word]]]:
    """The simple commands of a line, each with the operator before it (``;`` first)."""
    steps: list[tuple[str, list[Word]]] = []
    operator, words, word = ";", [], None
    i, text = 0, command_line
    while i < len(text):
        char = text[i]
        if char in " \t\n" or char == ";" or text.startswith(("&&", "||"), i):
            if word is not None:
                words.append(tuple(word))
                word = None
            if char not in " \t\n":
                token = ";" if char == ";" else text[i : i + 2]
                _end_step(steps, operator, words, token)
                operator, words = token, []
                i += len(token) - 1
        else:
            plain = _PLAIN.match(text, i)
            parts, i = ([plain.group()], plain.end() - 1) if plain else _word_part(text, i)
            word = (word or []) + parts
        i += 1
    if word is not None:
        words.append(tuple(word))
    _end_step(steps, operator, words, "end of line")
    return steps


def _end_step(steps: list, operator: str, words: list[Word], before: str) -> None:
    if words:
        steps.append((operator, words))
    elif operator != ";" or before not in (";", "end of line"):
        raise ShellSyntaxError(f"near unexpected token `{before}'")


def _word_part(text: str, i: int) -> tuple[list[object], int]:
    """The parts of a word at ``i`` (a quoted string, ``$?``, a substitution or one
    character) and the index of their last character."""
    char = text[i]
    if char == "'":
        end = _closing(text, i + 1, "'")
        return [text[i + 1 : end]], end
    if char == '"':
        return _double_quoted(text, i)
    if text.startswith("$?", i):
        return [STATUS], i + 1
    if char == "`" or text.startswith("$(", i):
        begin = i + 1 if char == "`" else i + 2
        end = _closing(text, begin, "`" if char == "`" else ")")
        return [Substitution(text[begin:end])], end
    if char == "\\" and i + 1 < len(text):
        return [text[i + 1]], i + 1
    return [char], i


def _closing(text: str, start: int, quote: str) -> int:
    end = text.find(quote, start)
    if end < 0:
        raise ShellSyntaxError(f"unexpected end of line while looking for matching `{quote}'")
    return end


def _double_quoted(text: str, start: int) -> tuple[list[object], int]:
    """The parts of a double-quoted word starting at ``start`` and the index of its end."""
    parts: list[object] = [""]
    i = start + 1
    while i < len(text) and text[i] != '"':
        if text.startswith(("$?", "$(", "`"), i):
            more, i = _word_part(text, i)
            parts += more
        elif text[i] == "\\" and i + 1 < len(text) and text[i + 1] in '"\\$`':
            parts.append(text[i + 1])
            i += 1
        else:
            parts.append(text[i])
        i += 1
    if i >= len(text):
        raise ShellSyntaxError('unexpected end of line while looking for matching `"\'')
    return parts, i
