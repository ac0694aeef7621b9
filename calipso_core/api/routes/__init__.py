"""One module per resource; each exposes ``OPERATIONS``, the operations it serves."""
