"""Problems the person running the bot can fix, each presented as one clear message.

Every layer raises its own kind (a bad setting, a broken knowledge base, an unusable
database...); each kind decides here, once, how it is shown and which exit code it gives, so
the command line catches one base class and never needs to import the layer that raised it
(importing storage or Telegram just to catch their errors cost `validate` ~0.1 s of 0.45 s).
"""

from __future__ import annotations

from typing import ClassVar


class UserError(Exception):
    """A problem shown as `<program>: <label>: <message>`, never as a traceback."""

    label: ClassVar[str] = "error"
    # 1: the work failed; 2: the request itself was wrong (bad usage, bad setting).
    exit_code: int = 1

    def report(self, program: str) -> str:
        """What the person sees, one line unless the problem has several parts."""
        return f"{program}: {self.label}: {self}"
