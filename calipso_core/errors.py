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
