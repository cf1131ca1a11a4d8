"""Right-to-left replies (Arabic, Persian, Urdu) laid out as their readers expect.

Telegram sets each paragraph's direction from its first strong letter, so a line that starts
with a Latin name ("Welcome Centre Immigrant Services") or an emoji and a phone number would
be laid out left to right in an Urdu reply, and a phone number's hyphens and brackets can
jump to the wrong side. Each line therefore starts with a RIGHT-TO-LEFT MARK, and each run
of Latin letters, digits, phone numbers and web addresses is closed in LEFT-TO-RIGHT MARKs,
so it reads left to right inside the right-to-left sentence. Marks are invisible, and HTML
tags (link addresses) are left untouched.
"""

from __future__ import annotations

import re

from bot.matching.language import RIGHT_TO_LEFT

RLM = "\u200f"
LRM = "\u200e"

# HTML tags and entities ("&amp;") are never marked inside.
_TAG = re.compile(r"(<[^>]*>|&#?\w+;)")
# A left-to-right run: Latin letters or digits, with the punctuation that lives inside names,
# numbers and addresses (1-800-668-6868, someone@example.ca, https://..., ext. 3400).
_LTR_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .,'’&@/:+#%=?_~\-]*[A-Za-z0-9/]|[A-Za-z0-9]")


def _marked(text: str) -> str:
    return _LTR_RUN.sub(lambda m: f"{LRM}{m.group(0)}{LRM}", text)


def right_to_left(text: str) -> str:
    """`text` (plain or Telegram HTML) with the marks a right-to-left reader needs."""
    # Marks already there are taken out first, so marking twice changes nothing.
    text = text.replace(RLM, "").replace(LRM, "")
    lines = []
    for line in text.split("\n"):
        parts = _TAG.split(line)
        body = "".join(p if _TAG.fullmatch(p) else _marked(p) for p in parts)
        lines.append(RLM + body if line else line)
    return "\n".join(lines)


def for_language(text: str, language: str) -> str:
    """Right-to-left marks for Arabic, Persian and Urdu; other languages unchanged."""
    return right_to_left(text) if language in RIGHT_TO_LEFT else text
