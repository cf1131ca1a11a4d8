"""Which language to answer in: the person's choice, the message's script and words, the phone.

Order (first that applies):
1. the language the person chose with /language (always wins);
2. a greeting, thanks or "no" that says its own language ("merci", "gracias", "salamat po");
   the message's script, when it is not Latin (Gurmukhi is Punjabi, Tamil script is Tamil;
   Arabic script is told apart by letters: Urdu's ٹ ڈ ڑ ں ے, Persian's پ چ ژ گ);
3. for Latin script, English or French from common words when that guess is confident,
   else `py3langid` restricted to the shipped Latin-script languages (Spanish, Tagalog,
   English, French), only when it is sure;
4. the phone's language (Telegram's code; "fil" is Tagalog);
5. English.

Romanised Hindi, Urdu and Punjabi ("OHIP card kaise milega") are not guessed as a language:
they are answered in the phone's language or English, and matched against the romanised
variants the knowledge base holds. Tagalog needs one of its own small words (`_TAGALOG`), or
the identifier names it for them.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from bot.knowledge.model import DEFAULT_LANGUAGE
from bot.matching.smalltalk import said_in
from bot.text import normalise, script_language, without_markup

log = logging.getLogger(__name__)

# The languages the bot answers in (each has a catalogue in bot/locales and translations in
# the knowledge base). Order: English, French, then by number of the region's newcomers who
# speak them (issue 15).
SHIPPED: tuple[str, ...] = ("en", "fr", "pa", "ur", "hi", "ta", "tl", "zh", "ar", "es", "uk", "fa")
RIGHT_TO_LEFT = frozenset({"ar", "fa", "ur"})
LATIN = ("en", "fr", "es", "tl")
# Telegram sends IETF codes; a few differ from the knowledge base's ISO 639-1 codes.
ALIASES = {"fil": "tl", "pes": "fa", "prs": "fa", "pnb": "pa", "cmn": "zh", "yue": "zh"}
# py3langid's normalised probability needed to name a Latin-script language. On the tune
# split's Spanish and Tagalog questions the right guess is above 0.99; romanised Hindi and
# Punjabi land between 0.4 and 0.6 ("OHIP card kaise milega": Tagalog, 0.45).
LANGID_CONFIDENCE = 0.9

_FRENCH = frozenset(
    "je j ai est les des une un du au aux pour comment ou quand quel quelle quels avec sans "
    "mon ma mes votre vos nous vous suis trouver besoin aide carte sante emploi logement "
    "ecole francais cours bonjour merci puis peux dois faire obtenir".split()
)
_ENGLISH = frozenset(
    "i the is a an to for how where when what can do my me need get find help with of in "
    "on and are there any you".split()
)
# Tagalog is named only beside one of its own small words. Restricted to four Latin-script
# languages, the identifier read romanised Hindi, Urdu, Punjabi and Tamil as Tagalog, sure of
# it ("mera passport kho gaya, kya karun": 0.98), so they were answered in Tagalog: 280 of the
# project's 1,852 such messages. None of them holds one of these words; 1,408 of the 1,455
# Latin-script Tagalog messages the identifier names do ("ko", "na", "hindi", "wala" and "si"
# are Hindi, Urdu or Punjabi words too, "ba" Finglish).
_TAGALOG = frozenset(
    "ang ng mga sa po yung ung yun naman lang paano pano saan anong ako kami tayo namin natin "
    "kmi nmin siya sya niya nya nyo niyo may meron gusto pwede puwede kung ito iyan yan dito "
    "ngayon kahapon tapos kailangan nang nasa wag huwag kay talaga tlga lng nmn pag pagka "
    "tong kumusta kamusta".split()
)


def base_code(code: str | None) -> str | None:
    """ "fr-CA" -> "fr", "fil" -> "tl"; None for nothing."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return ALIASES.get(base, base)


def _hints(words: list[str]) -> str | None:
    """English or French from common words, only when the message is clearly one of them."""
    french = sum(w in _FRENCH for w in words)
    english = sum(w in _ENGLISH for w in words)
    if french >= 2 and french > 2 * english:
        return "fr"
    if english >= 2 and english > 2 * french:
        return "en"
    return None


@functools.cache
def _identifier() -> Any:
    """py3langid's model limited to the shipped Latin-script languages (None if missing)."""
    try:
        from py3langid.langid import (  # type: ignore[import-untyped]  # noqa: PLC0415
            _load_identifier,  # optional at run time: the bot works without it
        )
    except ImportError:
        log.warning(
            "py3langid is not installed; Latin-script languages other than English and "
            "French are not recognised from words"
        )
        return None
    return _load_identifier(norm_probs=True, langs=list(LATIN))


def detect(text: str, shipped: tuple[str, ...] = SHIPPED) -> str | None:
    """The shipped language a message is written in, or None when unsure."""
    # Tags are not the person's words: "<b>" and "<br>" are Latin letters, so an Arabic
    # question pasted with HTML around it was read as English or not at all.
    text = without_markup(text)
    # "merci", "gracias", "salamat po": too short for the identifier, but a greeting or thanks
    # says its own language.
    spoken = said_in(text)
    if spoken is not None:
        return spoken if spoken in shipped else None
    script = script_language(text)
    if script is not None:
        return script if script in shipped else None
    if not any(ch.isalpha() for ch in text):
        return None
    words = normalise(text).split()
    confident = _hints(words)
    if confident is not None:
        return confident
    identifier = _identifier()
    if identifier is None:
        return None
    code, probability = identifier.classify(text)
    if code == "tl" and _TAGALOG.isdisjoint(words):
        return None
    if probability >= LANGID_CONFIDENCE and code in shipped:
        return str(code)
    return None


def choose(
    text: str,
    chosen: str | None = None,
    phone: str | None = None,
    shipped: tuple[str, ...] = SHIPPED,
) -> str:
    """The language to answer in (see the module's docstring for the order)."""
    for code in (base_code(chosen), detect(text, shipped) if text else None, base_code(phone)):
        if code and code in shipped:
            return code
    return DEFAULT_LANGUAGE


def is_right_to_left(language: str) -> bool:
    """True for Arabic, Persian and Urdu."""
    return language in RIGHT_TO_LEFT
