"""Every interface string exists in every shipped language, with the same placeholders."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml

import bot.locales
from bot.replies.messages import Catalogue

SHIPPED = ("en", "fr", "hi", "ur", "pa", "ta", "tl", "fa", "zh", "ar", "es", "uk")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _templates(language: str) -> dict[str, str]:
    """A catalogue file as written, placeholders unfilled."""
    path = Path(bot.locales.__file__).parent / f"{language}.yaml"
    return {str(k): str(v) for k, v in yaml.safe_load(path.read_text(encoding="utf-8")).items()}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


def test_twelve_languages_are_shipped(catalogue: Catalogue) -> None:
    assert set(catalogue.languages) == set(SHIPPED)


@pytest.mark.parametrize("language", SHIPPED[1:])
def test_catalogue_matches_english(catalogue: Catalogue, language: str) -> None:
    english = catalogue.keys("en")
    keys = catalogue.keys(language)
    assert keys == english, (
        f"{language}: missing {sorted(english - keys)}, unknown {sorted(keys - english)}"
    )
    templates = _templates(language)
    english_templates = _templates("en")
    for key in english:
        original = english_templates[key]
        translated = templates[key]
        assert _placeholders(translated) == _placeholders(original), (language, key)
        # Numbers people dial stay exactly as in English.
        for number in ("911", "988", "211"):
            if number in original:
                assert number in translated, (language, key, number)


@pytest.mark.parametrize("language", SHIPPED)
def test_language_is_named_in_itself(catalogue: Catalogue, language: str) -> None:
    name = catalogue.get("language_name", language)
    assert name and (language == "en" or name != "English")


# The same word in English and in the language, on purpose: French "Source", and Taglish
# loanwords Tagalog speakers use as they are.
SAME_AS_ENGLISH = {
    ("fr", "answer.sources"),
    ("tl", "contact.email"),
    ("tl", "contact.website"),
    ("tl", "contact.address"),
    ("tl", "staff.card.status"),
    ("tl", "staff.actor.command_line"),
}


@pytest.mark.parametrize("language", SHIPPED[1:])
def test_no_string_is_left_in_english(language: str) -> None:
    # A key copied in English to fill a gap ("TODO translate") is not a translation.
    english = _templates("en")
    words = string.Formatter()
    copied = [
        key
        for key, text in _templates(language).items()
        if text == english[key]
        and any(c.isalpha() for part, *_ in words.parse(text) for c in part)
        and (language, key) not in SAME_AS_ENGLISH
    ]
    assert copied == [], f"{language}: still in English: {copied}"
