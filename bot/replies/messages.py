"""Message catalogues: every sentence the bot says, per language, kept in YAML files."""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from bot.knowledge.model import DEFAULT_LANGUAGE, DEFAULT_REGION, Region

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
ELSEWHERE = Path("elsewhere") / "211.yaml"
SAFETY_NET = Path("elsewhere") / "safety-net.yaml"


class Catalogue:
    """Looks up a message by key and language, falling back to English."""

    def __init__(
        self,
        messages: Mapping[str, Mapping[str, str]],
        elsewhere: Mapping[str, str] | None = None,
        region: Region = DEFAULT_REGION,
        safety_nets: Mapping[str, str] | None = None,
    ) -> None:
        self._messages = MappingProxyType(
            {k: MappingProxyType(dict(v)) for k, v in messages.items()}
        )
        # Fills {region}, {partnership}, {emergency} and {help_line} in every message, so
        # message files name no place and follow the knowledge base's region.yaml.
        self.region = region
        # One sentence per language not answered: "I answer in twelve languages, not yet in
        # yours; 211 speaks yours."
        self._elsewhere = MappingProxyType(dict(elsewhere or {}))
        # The safety-net line in languages without a catalogue (issue 11, point 1).
        self._safety_nets = MappingProxyType(dict(safety_nets or {}))
        if DEFAULT_LANGUAGE not in self._messages:
            raise ValueError("the message catalogue needs an English (en) file")

    @classmethod
    def load(cls, *directories: Path) -> Catalogue:
        """Read every `<lang>.yaml` file; later directories override earlier ones."""
        messages: dict[str, dict[str, str]] = {}
        for directory in (LOCALES_DIR, *directories):
            for path in sorted(directory.glob("*.yaml")):
                data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                if not isinstance(data, dict):
                    raise ValueError(f"{path}: a message file is a list of 'key: text' lines")
                messages.setdefault(path.stem, {}).update({str(k): str(v) for k, v in data.items()})
        elsewhere: Any = yaml.safe_load((LOCALES_DIR / ELSEWHERE).read_text(encoding="utf-8"))
        nets: Any = yaml.safe_load((LOCALES_DIR / SAFETY_NET).read_text(encoding="utf-8"))
        return cls(
            messages,
            {str(k): str(v) for k, v in (elsewhere or {}).items()},
            safety_nets={str(k): str(v) for k, v in (nets or {}).items()},
        )

    def for_region(self, region: Region) -> Catalogue:
        """The same messages, speaking of `region`."""
        return Catalogue(self._messages, self._elsewhere, region, self._safety_nets)

    @property
    def languages(self) -> tuple[str, ...]:
        """Language codes with a catalogue, English first."""
        others = sorted(lang for lang in self._messages if lang != DEFAULT_LANGUAGE)
        return (DEFAULT_LANGUAGE, *others)

    def supports(self, language: str | None) -> bool:
        """True when there is a catalogue for this language."""
        return language in self._messages

    def resolve(self, language: str | None) -> str:
        """The catalogue language to use for a Telegram language code like "fr-CA"."""
        if language:
            base = language.split("-")[0].lower()
            if base in self._messages:
                return base
        return DEFAULT_LANGUAGE

    def elsewhere(self, language: str | None) -> str | None:
        """For a language the bot cannot answer in: where to get help in it (None otherwise)."""
        if not language:
            return None
        base = language.split("-")[0].lower()
        return None if base in self._messages else self._elsewhere.get(base)

    def safety_net(self, language: str | None) -> str | None:
        """The safety-net line in a language the bot cannot answer in (None otherwise)."""
        if not language:
            return None
        base = language.split("-")[0].lower()
        return None if base in self._messages else self._safety_nets.get(base)

    def get(self, key: str, language: str | None = None, **values: object) -> str:
        """The message for `key` in `language` (or English), with {placeholders} filled."""
        lang = self.resolve(language)
        text = self._messages[lang].get(key) or self._messages[DEFAULT_LANGUAGE].get(key)
        if text is None:
            raise KeyError(f"no message called {key!r}")
        if "{" not in text:
            return text
        return string.Formatter().vformat(text, (), {**self.region.placeholders(lang), **values})

    def keys(self, language: str = DEFAULT_LANGUAGE) -> frozenset[str]:
        """The message keys of one language (for checking translations are complete)."""
        return frozenset(self._messages.get(language, {}))
