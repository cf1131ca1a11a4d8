"""Choosing the reply language: the person's choice, the message, the phone, English."""

from __future__ import annotations

import pytest

from bot.matching.language import base_code, choose, detect, is_right_to_left


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ہیلتھ کارڈ کیسے ملے گا", "ur"),
        ("کارت سلامت را چطور بگیرم", "fa"),
        ("كيف أحصل على بطاقة صحية", "ar"),
        ("ਹੈਲਥ ਕਾਰਡ ਕਿਵੇਂ ਬਣਦਾ ਹੈ", "pa"),
        ("हेल्थ कार्ड कैसे मिलेगा", "hi"),
        ("ஹெல்த் கார்டு எப்படி பெறுவது", "ta"),
        ("怎么办健康卡", "zh"),
        ("де знайти сімейного лікаря", "uk"),
        ("donde hay un banco de comida", "es"),
        ("saan ako pwedeng kumuha ng health card", "tl"),
        ("comment obtenir une carte santé", "fr"),
        ("where can I find a food bank in oshawa", "en"),
        # Romanised Hindi/Urdu is no language of its own: the phone's language or English.
        ("OHIP card kaise milega", None),
        # Longer romanised messages the identifier was sure were Tagalog (0.98 and more).
        ("mera passport kho gaya, ab kya karun", None),
        ("CO alarm ghar mein kahan lagana chahiye", None),
        ("mainu kam di lod aa, kithe apply karan", None),
        ("enakku vela venum, enga apply pannanum", None),
        ("nasaan ang pinakamalapit na food bank dito sa Oshawa", "tl"),
        ("911", None),
    ],
)
def test_detect(text: str, expected: str | None) -> None:
    assert detect(text) == expected


def test_choice_wins_then_message_then_phone() -> None:
    assert choose("ہیلتھ کارڈ کیسے ملے گا", chosen="en", phone="ur") == "en"
    assert choose("ہیلتھ کارڈ کیسے ملے گا", phone="en") == "ur"
    assert choose("OHIP card kaise milega", phone="ur-PK") == "ur"
    assert choose("OHIP card kaise milega", phone="fil") == "tl"
    assert choose("OHIP card kaise milega", phone="de") == "en"
    assert choose("", phone=None) == "en"


def test_codes_and_direction() -> None:
    assert base_code("fr-CA") == "fr" and base_code("fil") == "tl" and base_code(None) is None
    assert is_right_to_left("ur") and is_right_to_left("fa") and not is_right_to_left("hi")


def test_markup_is_not_read_as_words() -> None:
    """A question pasted with HTML around it is read by its words, not its tags: the tags'
    Latin letters outnumbered these Arabic ones, so it was guessed as no language at all."""
    pasted = '<div class="message"><span style="font-weight:bold">أين بنك الطعام</span></div>'
    assert detect(pasted) == "ar"
    assert choose(pasted, phone="en") == "ar"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("merci", "fr"),
        ("Bonjour !", "fr"),
        ("gracias", "es"),
        ("hola", "es"),
        ("Salamat po", "tl"),
        ("vanakkam", "ta"),
        ("sat sri akal ji", "pa"),
        ("hi, gracias", "es"),  # "hi" names no language, "gracias" does
        ("shukriya", "en"),  # Urdu and Hindi alike: the phone's language decides, or English
        ("no", "en"),
    ],
)
def test_a_greeting_or_thanks_says_its_own_language(text: str, expected: str) -> None:
    """They were too short for the identifier: "merci" and "gracias" were answered in
    English."""
    assert choose(text) == expected
    assert choose(text, chosen="ur") == "ur"  # the person's choice still wins
