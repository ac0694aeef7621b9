"""A plugin that cannot be imported (it needs a module that does not exist)."""

import calipso_missing_dependency  # noqa: F401
