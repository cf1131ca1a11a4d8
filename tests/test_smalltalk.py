"""Small talk: greetings, thanks and goodbyes are answered in kind, not matched or logged."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.matching import smalltalk
from bot.matching.smalltalk import Talk, said_in, small_talk


@pytest.mark.parametrize(
    ("text", "talk"),
    [
        ("hi", Talk.HELLO),
        ("Hello!! 😀", Talk.HELLO),
        ("good morning everyone", Talk.HELLO),
        ("Bonjour", Talk.HELLO),
        ("hola", Talk.HELLO),
        ("مرحبًا", Talk.HELLO),  # a vowel mark (tanween) on the last letter
        ("السلام علیکم", Talk.HELLO),  # Urdu letters, read as Arabic's
        ("assalam o alaikum", Talk.HELLO),
        ("namaste ji", Talk.HELLO),
        ("ਸਤ ਸ੍ਰੀ ਅਕਾਲ ਜੀ", Talk.HELLO),
        ("வணக்கம்", Talk.HELLO),
        ("Kumusta po", Talk.HELLO),
        ("Привіт", Talk.HELLO),
        ("你好！", Talk.HELLO),
        ("thank you so much!!", Talk.THANKS),
        ("Thanks a lot", Talk.THANKS),
        ("thank you for the information", Talk.THANKS),
        ("ok thanks", Talk.THANKS),
        ("Merci beaucoup !", Talk.THANKS),
        ("Muchas gracias", Talk.THANKS),
        ("شكراً جزيلاً", Talk.THANKS),
        ("بہت شکریہ", Talk.THANKS),
        ("خیلی ممنون", Talk.THANKS),
        ("shukriya", Talk.THANKS),
        ("धन्यवाद", Talk.THANKS),
        ("ਧੰਨਵਾਦ", Talk.THANKS),
        ("romba nandri", Talk.THANKS),
        ("Salamat po", Talk.THANKS),
        ("Дякую!", Talk.THANKS),
        ("非常感谢", Talk.THANKS),
        ("hi, thanks!", Talk.THANKS),  # thanks wins over a greeting
        ("thank you very much for your help", Talk.THANKS),
        ("thanks, bye", Talk.BYE),  # a goodbye wins: its reply carries 911/988
        ("bye", Talk.BYE),
        ("khuda hafiz", Talk.BYE),
        ("à bientôt", Talk.BYE),
        ("à demain", Talk.BYE),  # not the Portuguese "desmai*" (fainted) with a typo
        # "How are you" greets; emoji say what their word says (skin tones aside).
        ("how are you?", Talk.HELLO),
        ("Comment ça va ?", Talk.HELLO),
        ("kumusta ka po", Talk.HELLO),
        ("كيف حالك", Talk.HELLO),
        ("як справи", Talk.HELLO),
        ("hi 👋", Talk.HELLO),
        ("👍", Talk.THANKS),
        ("👍🏽👍🏽", Talk.THANKS),
        ("🙏", Talk.THANKS),
        ("ok ❤️", Talk.THANKS),
        # The last reply did not help: not a question for the emerging needs.
        ("no", Talk.NOT_HELPFUL),
        ("No!!", Talk.NOT_HELPFUL),
        ("?", Talk.NOT_HELPFUL),
        ("??? ...", Talk.NOT_HELPFUL),
        ("that didn't help", Talk.NOT_HELPFUL),
        ("Wrong answer", Talk.NOT_HELPFUL),
        ("I don't understand", Talk.NOT_HELPFUL),
        ("c'est faux", Talk.NOT_HELPFUL),
        ("¿qué?", Talk.NOT_HELPFUL),
        ("nahi ji", Talk.NOT_HELPFUL),
        ("galat hai", Talk.NOT_HELPFUL),
        ("نہیں", Talk.NOT_HELPFUL),
        ("لا", Talk.NOT_HELPFUL),
        ("இல்லை", Talk.NOT_HELPFUL),
        ("Mali po", Talk.NOT_HELPFUL),
        ("не те", Talk.NOT_HELPFUL),
        ("不对", Talk.NOT_HELPFUL),
        ("no thanks", Talk.THANKS),  # a polite "no" is thanks
        ("non merci", Talk.THANKS),
    ],
)
def test_small_talk_in_the_languages_people_write(text: str, talk: Talk) -> None:
    assert small_talk(text) is talk


@pytest.mark.parametrize(
    "text",
    [
        "hi how do I get a health card",  # a question after the greeting
        "thanks but where is the food bank",
        "hello i want to die",
        "help",
        "hi help",
        "what can you do",
        "hello " * 9,  # too long to be a greeting
        "",
        "   ",
        "🙂",
        "😭",  # no word for it: read as a message, with the 911/988 line
        "hindi",  # Tagalog's "no", but also the language someone may be asking for
        "no food bank in ajax?",
        "no one helps me",
        "wrong address for the clinic",
        "how are you going to help me with rent",
        "whats up with my ohip card",
    ],
)
def test_anything_more_is_a_question(text: str) -> None:
    assert small_talk(text) is None


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_never_raises(text: str) -> None:
    assert small_talk(text) in (None, *Talk)


def test_a_phrase_names_its_language_only_when_it_has_one() -> None:
    assert said_in("merci beaucoup") == "fr"
    assert said_in("maraming salamat po") == "tl"
    assert said_in("ok thanks") is None  # English words name no language: the usual order
    assert said_in("merci, gracias") is None  # two languages: none
    assert said_in("merci, where is the food bank") is None  # a question


@pytest.mark.parametrize("language", ["fr", "es", "tl", "hi", "pa", "ta", "ur", "ar", "zh"])
def test_every_phrase_that_names_a_language_is_small_talk(language: str) -> None:
    """A phrase listed with its language but missing from the small-talk table would never be
    read: its language list and the table must agree."""
    for phrase in smalltalk._SAID_IN[language].split("|"):
        if phrase.strip():
            assert small_talk(phrase) is not None, phrase
            assert said_in(phrase) == language, phrase
