"""Calipso's REST API (Starlette): the original's endpoints plus search, graph, impact,
history and health, behind token authentication."""

from calipso_core.api.app import create_app

__all__ = ["create_app"]
