"""The one lock of a lab model: every mutation runs under ``model.lock``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def locked(method: F) -> F:
    """Run a model method under the model's lock and count it as one change of the
    model (``model.version``), so readers can tell their caches are stale."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            result = method(self, *args, **kwargs)
            self.version += 1
            return result

    return wrapper  # type: ignore[return-value]
