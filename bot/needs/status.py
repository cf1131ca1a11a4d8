"""The life of a need as staff triage it: new, then assigned, answered or not in scope."""

from __future__ import annotations

# The database's CHECK constraint lists the same four (bot/storage/schema.py).
STATUSES = ("new", "assigned", "answered", "not_in_scope")
