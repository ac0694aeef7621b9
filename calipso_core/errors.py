"""The one family of errors Calipso raises on purpose.

The command line prints the message of any ``CalipsoError`` (without a traceback) and
exits non-zero; the API turns it into ``{"error": {"message", "code", "title"}}``.
"""


class CalipsoError(Exception):
    """Root of every error Calipso raises on purpose."""


class PluginError(CalipsoError):
    """Raised by the plugin manager: two plugins register the same name, a hook returns
    something that is not its record type, or a plugin named in configuration is missing.
    The user sees which plugins (and distributions) are involved."""


class ConfigError(CalipsoError):
    """Raised when settings or an environment document are invalid; ``errors`` lists
    every problem as ``"<json path>: <reason>"``."""

    def __init__(self, message: str, errors: list[str] | None = None):
        self.errors = errors or []
        super().__init__("\n".join([message, *("  " + e for e in self.errors)]))


class NotFound(CalipsoError):
    """Raised when a named environment, object or record does not exist."""


class DatabaseError(CalipsoError):
    """Raised when the database cannot be reached or its schema is not up to date."""


class SshError(CalipsoError):
    """Raised by ``calipso_core.sshclient`` when a host cannot be used over SSH; ``host``
    names it. A scan records it against that host and goes on with the others."""

    def __init__(self, host: str, message: str):
        self.host = host
        super().__init__(message)

    def __reduce__(self):
        return (_rebuild_error, (type(self), self.__dict__, self.args))


def _rebuild_error(cls: type, state: dict, args: tuple) -> CalipsoError:
    """Rebuilds an error whose ``__init__`` takes other arguments than ``args`` (pickling)."""
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = args
    return error


class HostUnreachable(SshError):
    """Raised when no SSH connection to ``host`` can be made or kept (refused, timed out,
    closed, or the jump host cannot reach it), after the connect retries; ``reason`` says why."""

    def __init__(self, host: str, reason: str):
        self.reason = reason
        super().__init__(host, f"SSH host {host} is unreachable: {reason}")


class CommandTimeout(SshError):
    """Raised when ``command`` on ``host`` has not finished within ``seconds``."""

    def __init__(self, host: str, command: str, seconds: float):
        self.command, self.seconds = command, seconds
        super().__init__(host, f"command {command!r} on {host} did not finish within {seconds:g} s")


class HostKeyMismatch(SshError):
    """Raised when ``host`` shows another host key than the one recorded in known_hosts.
    Calipso refuses the connection: the host was re-installed, or someone is in between."""

    def __init__(self, host: str, expected_fingerprint: str, got_fingerprint: str):
        self.expected_fingerprint, self.got_fingerprint = expected_fingerprint, got_fingerprint
        super().__init__(
            host,
            f"SSH host key of {host} changed: known_hosts has {expected_fingerprint}, the host shows "
            f"{got_fingerprint}; connection refused (remove the old entry if the change is expected)",
        )


class SshAuthenticationFailed(SshError):
    """Raised when ``host`` refuses the configured ``user`` and credentials (``method``:
    password or key). The secret itself is never part of the message."""

    def __init__(self, host: str, user: str, method: str):
        self.user, self.method = user, method
        super().__init__(host, f"SSH login as {user} on {host} failed ({method} authentication refused)")


class ParseError(CalipsoError):
    """Raised by the host command parsers (``calipso_core.hostcli`` and the plugins' own)
    when a command's output is not in the format of the real tool. The message names the
    ``command``, the ``line_number`` (1-based, when one line is at fault), that ``line``
    and the ``reason``; a scan records it against the host and goes on with the others."""

    def __init__(self, command: str, reason: str, line_number: int | None = None, line: str | None = None):
        self.command, self.reason, self.line_number, self.line = command, reason, line_number, line
        where = f" line {line_number}" if line_number is not None else ""
        shown = f": {line!r}" if line is not None else ""
        super().__init__(f"{command}:{where}: {reason}{shown}")

    def __reduce__(self):
        return (_rebuild_error, (type(self), self.__dict__, self.args))


class CommandFailed(CalipsoError):
    """Raised when a command run on a host exits non-zero; names the host, the command,
    its exit status and what it wrote on stderr."""

    def __init__(self, host: str, command: str, exit_status: int, stderr: str = ""):
        self.host, self.command, self.exit_status = host, command, exit_status
        detail = f": {stderr.strip()[:300]}" if stderr.strip() else ""
        super().__init__(f"{command!r} on {host} exited with {exit_status}{detail}")

    def __reduce__(self):
        return type(self), (self.host, self.command, self.exit_status)
