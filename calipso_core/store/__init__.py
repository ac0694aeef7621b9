"""PostgreSQL storage: schema, inventory repository and history."""

from calipso_core.store.history import as_of, diff
from calipso_core.store.inventory import Inventory

__all__ = ["Inventory", "as_of", "diff"]
