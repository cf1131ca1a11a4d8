"""How long a question's text is kept: the purge uses it, and the privacy notice says it."""

from __future__ import annotations

# Question text is deleted after this many days unless the operator sets BOT_RETENTION_DAYS:
# a year holds every season's needs (winter coats, the start of school).
RETENTION_DAYS = 365
