"""The knowledge-base model: typed, immutable entries that partners write in YAML."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

DEFAULT_LANGUAGE = "en"
# A knowledge base without a region profile tells time in UTC: no place is assumed.
DEFAULT_TIME_ZONE = "UTC"
# Stored for "the whole region" in `municipalities`, whatever the profile calls it.
EVERYWHERE = "*"

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_URL = re.compile(r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?(/[^\s<>\"]*)?$")
_LANG = re.compile(r"^[a-z]{2,3}$")
# Short codes dialled as they are: 211, 311, 811, 911, 988 and SMS codes like 686868.
_SHORT_CODE = re.compile(r"^(\d{3}|\d{5,6})$")
_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x)\s*(\d{1,6})\s*$", re.IGNORECASE)
_VANITY_TAIL = re.compile(r"^[\d\s().+-]*\d[\s.-]+[A-Z]{3,7}$")


MAX_ID_LENGTH = 40  # ids travel inside Telegram's 64-byte button data


def _check_id(value: str) -> str:
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f'the id "{value}" is too long: use at most {MAX_ID_LENGTH} characters')
    if not _ID.match(value):
        raise ValueError(
            f'"{value}" is not a usable id: use lower-case letters, digits, "-" or "_" '
            '(for example "ohip-health-card")'
        )
    return value


def _check_url(value: str) -> str:
    value = value.strip()
    if not _URL.match(value):
        raise ValueError(
            f'"{value}" is not a web address: it must start with https:// (or http://) '
            "and have no spaces"
        )
    return value


def _check_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError(f'"{value}" is not an email address (it should look like name@example.ca)')
    return value


def _check_language_code(value: str) -> str:
    if not _LANG.match(value):
        raise ValueError(
            f'"{value}" is not a language code: use two lower-case letters, like "en" or "fr". '
            "If it is part of your text, put the text in quotes: inside { }, a comma starts "
            "a new language"
        )
    return value


def phone_digits(number: str) -> str:
    """The dialable digits of a phone number, without extension (letters of vanity numbers kept)."""
    main = _EXTENSION.sub("", number)
    return re.sub(r"[^0-9A-Z]", "", main.upper())


def check_phone(value: str) -> str:
    """Accept North American numbers (with optional +1, extension) and short codes like 911."""
    text = value.strip()
    main = _EXTENSION.sub("", text)
    for ch in main:
        if ch.isdigit() or ch in " ().+-":
            continue
        if ch.isalpha() and _VANITY_TAIL.match(main):
            continue  # "1-800-222-TIPS": letters spell the last digits on purpose
        if ch in "lIO":
            digit = "1" if ch in "lI" else "0"
            raise ValueError(
                f'the phone number "{value}" has the letter {ch} where a digit should be '
                f"(did you mean {digit}?)"
            )
        raise ValueError(
            f'the phone number "{value}" has "{ch}", which is not a digit; write it like '
            '"905-668-7711" or "905-668-7711 ext. 2760"'
        )
    digits = re.sub(r"\D", "", main)
    if _VANITY_TAIL.match(main):
        digits = re.sub(r"[^0-9A-Z]", "", main.upper())
    if _SHORT_CODE.match(digits):
        return text
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        raise ValueError(
            f'the phone number "{value}" has {len(digits)} digits; a local number has 10 '
            '(area code first, like "905-668-7711")'
        )
    return text


def tel_uri(number: str) -> str:
    """A tel: link for a number, so phones can dial it with one tap."""
    digits = phone_digits(number)
    if len(digits) == 10:
        digits = "1" + digits
    return f"tel:+{digits}" if len(digits) == 11 else f"tel:{digits}"


EntryId = Annotated[str, AfterValidator(_check_id)]
Url = Annotated[str, AfterValidator(_check_url)]
Email = Annotated[str, AfterValidator(_check_email)]
LanguageCode = Annotated[str, AfterValidator(_check_language_code)]

# A text in one language, or a mapping language code -> text.
LocalText = str | dict[LanguageCode, str]
LocalList = list[str] | dict[LanguageCode, list[str]]


def _texts(value: Any) -> Any:
    """Let partners write numbers like 911 in keyword lists without quotes."""
    if isinstance(value, list):
        return [
            str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in value
        ]
    return value


Keywords = Annotated[list[str], BeforeValidator(_texts)]


def _one_or_many(value: Any) -> Any:
    """Let partners write `topic: health` where a list is expected."""
    return [value] if isinstance(value, str | dict) else value


def _region_of(info: ValidationInfo) -> Region | None:
    """The region profile the loader validates against (None outside the loader)."""
    context = info.context if isinstance(info.context, dict) else {}
    region = context.get("region")
    return region if isinstance(region, Region) else None


def _municipality(value: str, info: ValidationInfo) -> str:
    region = _region_of(info)
    if region is None:
        return value.strip()
    return region.municipality(value)


Municipality = Annotated[str, AfterValidator(_municipality)]


def localise(value: LocalText | None, language: str, fallback: str = DEFAULT_LANGUAGE) -> str:
    """Pick the text for a language, falling back to English, then to any language given."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    for lang in (language, fallback):
        if lang in value:
            return value[lang]
    return next(iter(value.values()), "")


def all_texts(value: LocalText | LocalList | None) -> list[str]:
    """Every text of every language, for indexing."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return list(value)
    out: list[str] = []
    for item in value.values():
        out.extend([item] if isinstance(item, str) else item)
    return out


# The fields of an entry that people read (and that fact checks and parity tests look at).
TEXT_FIELDS = (
    "name",
    "title",
    "description",
    "answer",
    "reply",
    "hours",
    "eligibility",
    "cost",
    "caveat",
    "schedule",
    "address",
    "location",
)


def texts_of(entry: object, language: str | None = None) -> list[str]:
    """The human-readable texts of an entry and its phone labels: in every language, or in
    one (`language`, with the English fallback) for checks that read one language."""
    out: list[str] = []
    for name in TEXT_FIELDS:
        value = getattr(entry, name, None)
        if language is None:
            out += all_texts(value)
        elif value is not None:
            out.append(localise(value, language))
    for phone in getattr(entry, "phones", []):
        out += all_texts(phone.label) if language is None else [localise(phone.label, language)]
    return out


def languages_of(value: LocalText | LocalList | None) -> frozenset[str]:
    """The languages a text is written in (plain text counts as the default language)."""
    if value is None:
        return frozenset()
    if isinstance(value, str | list):
        return frozenset({DEFAULT_LANGUAGE})
    return frozenset(value)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Phone(_Model):
    """A phone number with an optional label ("toll-free", "TTY", "text")."""

    number: Annotated[str, AfterValidator(check_phone)]
    label: LocalText | None = None


def _phone(value: Any) -> Any:
    return (
        {"number": value} if isinstance(value, str | int) and not isinstance(value, bool) else value
    )


PhoneField = Annotated[Phone, BeforeValidator(_phone)]
Phones = Annotated[list[PhoneField], BeforeValidator(_one_or_many)]


class Provenance(_Model):
    """Who keeps an entry current, where its facts come from, and when they were checked."""

    owner: str | None = None
    source: Url | None = None
    sources: list[Url] = Field(default_factory=list)
    # Where a fact comes from a publication with no web address kept ("dailyhive.com, 2023").
    citation: str | None = None
    last_verified: date | None = None
    # True when the facts come from an old or secondary page: the bot then asks users to confirm.
    unverified: bool = False
    caveat: LocalText | None = None
    # The period a money amount, income limit or fee in the entry is valid for
    # (for example a benefit year, July 2025 to June 2026); see bot/figures.py.
    figures_from: date | None = None
    figures_until: date | None = None
    # The translations a native speaker has checked ("reviewed: [fr, ur]"). English is the
    # language partners write in and is not a translation. Every other language is reported
    # as unreviewed until listed here, French included: the French was written by the project
    # (issue 18) with no record of a native speaker's check.
    reviewed: list[LanguageCode] = Field(default_factory=list)

    def translations(self) -> frozenset[str]:
        """The languages other than English that this entry's texts are written in."""
        found: set[str] = set()
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, dict) and all(isinstance(k, str) for k in value):
                found |= {k for k in value if _LANG.match(k)}
        return frozenset(found - {DEFAULT_LANGUAGE})

    def unreviewed(self) -> list[str]:
        """Translations not yet checked by a native speaker, sorted."""
        return sorted(self.translations() - set(self.reviewed))

    @model_validator(mode="after")
    def _figures_period_in_order(self) -> Provenance:
        if self.figures_from and self.figures_until and self.figures_until < self.figures_from:
            raise ValueError(
                f"figures_until ({self.figures_until}) is before figures_from ({self.figures_from})"
            )
        return self


class Term(_Model):
    """A short form newcomers may not know ("OHIP"), and what it stands for.

    The bot explains each term the first time an answer uses it, so partners can write
    "OHIP" everywhere and every reply still says once what it means.
    """

    term: LocalText
    meaning: LocalText


class Topic(_Model):
    """A heading newcomers browse by, like Health or Housing."""

    id: EntryId
    title: LocalText
    emoji: str | None = None
    description: LocalText | None = None
    order: int = 100


class Location(_Model):
    """One site of a service that has several: its own address, phones and hours."""

    name: LocalText
    address: str | None = None
    phones: Phones = Field(default_factory=list)
    hours: LocalText | None = None
    municipality: Municipality | None = None


class Service(Provenance):
    """An organisation or programme, with the contacts a newcomer needs."""

    id: EntryId
    name: LocalText
    topics: Annotated[list[EntryId], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    description: LocalText | None = None
    phones: Phones = Field(default_factory=list)
    email: Email | None = None
    website: Url | None = None
    address: str | None = None
    hours: LocalText | None = None
    # Other sites, each with its own address, phones and hours (the fields above: the main one).
    locations: list[Location] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    municipalities: Annotated[list[Municipality], BeforeValidator(_one_or_many)] = Field(
        default_factory=list
    )
    eligibility: LocalText | None = None
    cost: LocalText | None = None
    keywords: Keywords = Field(default_factory=list)
    questions: LocalList = Field(default_factory=list)
    # Shown (with 211) when the bot does not know an answer: a settlement agency, say.
    offer_when_unanswered: bool = False

    @model_validator(mode="before")
    @classmethod
    def _topic_alias(cls, data: Any) -> Any:
        # Partners naturally write `topic:` for a service in one topic.
        if isinstance(data, dict) and "topic" in data and "topics" not in data:
            data = {**data, "topics": data["topic"]}
            del data["topic"]
        return data


class Faq(Provenance):
    """A question newcomers ask, in many wordings, with one answer."""

    id: EntryId
    topic: EntryId | None = None
    questions: LocalList
    keywords: Keywords = Field(default_factory=list)
    answer: LocalText
    services: Annotated[list[EntryId], BeforeValidator(_one_or_many)] = Field(default_factory=list)

    @field_validator("questions")
    @classmethod
    def _some_questions(cls, value: LocalList) -> LocalList:
        if not all_texts(value):
            raise ValueError("give at least one question, the way a newcomer would ask it")
        return value


class Event(Provenance):
    """A community event; it is offered only until it ends."""

    id: EntryId
    title: LocalText
    description: LocalText | None = None
    start: datetime
    end: datetime | None = None
    # For a recurring event: when it happens, in words ("Every Tuesday, 6 to 8 pm").
    schedule: LocalText | None = None
    location: str | None = None
    municipality: Municipality | None = None
    organiser: EntryId | None = None
    cost: LocalText | None = None
    registration_url: Url | None = None
    topic: EntryId | None = None
    questions: LocalList = Field(default_factory=list)
    keywords: Keywords = Field(default_factory=list)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_is_whole_day(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(0, 0))
        return value

    @field_validator("start", "end")
    @classmethod
    def _in_local_time(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        # Partners write the region's local times; an explicit offset is respected.
        if value is not None and value.tzinfo is None:
            region = _region_of(info)
            zone = region.zone if region else ZoneInfo(DEFAULT_TIME_ZONE)
            return value.replace(tzinfo=zone)
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> Event:
        if self.end is not None and self.end < self.start:
            raise ValueError(
                f"the event ends ({self.end:%Y-%m-%d %H:%M}) before it starts "
                f"({self.start:%Y-%m-%d %H:%M})"
            )
        return self

    @property
    def finishes(self) -> datetime:
        """When the event is over: its end, or the end of its start day."""
        if self.end is not None:
            return self.end
        return datetime.combine(self.start.date(), time(23, 59), tzinfo=self.start.tzinfo)

    def is_upcoming(self, now: datetime) -> bool:
        """True until the event has finished."""
        return self.finishes >= now


# The kinds of danger the safety layer tells apart; each has its own reply and contacts.
CrisisCategory = Literal[
    "self_harm",
    "overdose",
    "medical",
    "fire_gas",
    "harm_others",
    "child_abuse",
    "elder_abuse",
    "trafficking",
    "sexual_assault",
    "domestic_violence",
    "crime",
    "homeless",
]
CRISIS_CATEGORIES: tuple[str, ...] = CrisisCategory.__args__  # type: ignore[attr-defined]


class CrisisLine(Provenance):
    """A kind of danger: the reply and who to call. The words that spot it live in the
    safety lexicons (knowledge/safety/<language>.yaml); `triggers` adds exact phrases."""

    id: EntryId
    category: CrisisCategory
    priority: int = 100
    triggers: LocalList = Field(default_factory=list)
    reply: LocalText
    services: Annotated[list[EntryId], BeforeValidator(_one_or_many)] = Field(default_factory=list)

    def services_with(self, also: CrisisLine | None = None) -> list[EntryId]:
        """This kind's services, then those of `also` (another kind of danger the message may
        speak of), each once, in that order: what the crisis reply lists."""
        return list(dict.fromkeys([*self.services, *(also.services if also else [])]))


class Town(_Model):
    """One municipality of the region, and the other names people use for places in it."""

    name: str
    # Villages and old names inside it (a village inside a township): questions that
    # name them are tagged with the municipality.
    aliases: list[str] = Field(default_factory=list)


class Partnership(_Model):
    """The organisation that runs the bot for the region."""

    name: LocalText
    website: Url | None = None


class HelpLine(_Model):
    """The general line for finding community services (211 in much of Canada)."""

    name: LocalText
    phone: Annotated[str, AfterValidator(check_phone)]


_PLACE_SPLIT = re.compile(r"[\W_]+")


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'"{value}" is not a time zone; use a name like "America/Halifax" or '
            '"America/Vancouver"'
        ) from None
    return value


class Region(_Model):
    """Where the bot serves: every word and setting that differs from one partnership to the next.

    Kept in the knowledge base (`region.yaml`), so a partnership elsewhere replaces the
    knowledge folder and no code; the greetings, the "whole region" label, town matching, the
    report's heading and local times all come from here.
    """

    name: LocalText
    # The label for a service or event that covers every municipality.
    everywhere: LocalText
    # Other words partners write for the whole region (besides `everywhere` itself).
    everywhere_aliases: list[str] = Field(default_factory=list)
    partnership: Partnership
    time_zone: Annotated[str, AfterValidator(_time_zone)]
    municipalities: list[Town] = Field(default_factory=list)
    help_line: HelpLine | None = None
    emergency: Annotated[str, AfterValidator(check_phone)] = "911"

    @model_validator(mode="after")
    def _names_unique(self) -> Region:
        seen: set[str] = set()
        for town in self.municipalities:
            for name in (town.name, *town.aliases):
                key = name.casefold()
                if key in seen:
                    raise ValueError(f'"{name}" is listed twice among the municipalities')
                seen.add(key)
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The region's time zone (ZoneInfo keeps one instance per name)."""
        return ZoneInfo(self.time_zone)

    @property
    def names(self) -> tuple[str, ...]:
        """The municipalities' names, in the order the profile lists them."""
        return tuple(t.name for t in self.municipalities)

    def name_in(self, language: str) -> str:
        """The region's name in a language (English when not translated)."""
        return localise(self.name, language)

    def label(self, area: str, language: str) -> str:
        """How a stored municipality reads on a card: the whole region gets its own label."""
        return localise(self.everywhere, language) if area == EVERYWHERE else area

    def municipality(self, value: str) -> str:
        """The stored form of a municipality a partner wrote, or a plain-words error."""
        key = value.strip().casefold()
        for town in self.municipalities:
            if key == town.name.casefold():
                return town.name
        whole = [*all_texts(self.everywhere), *self.everywhere_aliases, "all", EVERYWHERE]
        if key in {w.casefold() for w in whole}:
            return EVERYWHERE
        if not self.municipalities:
            return value.strip()  # a profile with no list accepts any place name
        everywhere = localise(self.everywhere, DEFAULT_LANGUAGE)
        raise ValueError(
            f'"{value}" is not one of the municipalities in region.yaml: '
            + ", ".join(self.names)
            + f' (or "{everywhere}")'
        )

    def places_in(self, text: str) -> list[str]:
        """The municipalities a text names, directly or by a place inside them."""
        words = f" {_PLACE_SPLIT.sub(' ', text.casefold())} "
        return sorted({town for town, place in self._place_keys if place in words})

    @functools.cached_property
    def _place_keys(self) -> tuple[tuple[str, str], ...]:
        # (municipality, " place name ") once per profile: `places_in` reads every question of
        # every need in a summary (40 -> 4.4 µs a question, timed on the shipped profile).
        return tuple(
            (town.name, f" {_PLACE_SPLIT.sub(' ', place.casefold()).strip()} ")
            for town in self.municipalities
            for place in (town.name, *town.aliases)
        )

    @property
    def place_words(self) -> frozenset[str]:
        """Every word of every place name and of the region's names, lower-case (needs leave
        them out when comparing questions)."""
        names = [
            *(p for town in self.municipalities for p in (town.name, *town.aliases)),
            *all_texts(self.name),
            *self.everywhere_aliases,
        ]
        return frozenset(
            word for name in names for word in _PLACE_SPLIT.sub(" ", name.casefold()).split()
        )

    def placeholders(self, language: str) -> dict[str, str]:
        """The {region}-style words message files may use, in one language."""
        return {
            "region": self.name_in(language),
            "partnership": localise(self.partnership.name, language),
            "emergency": self.emergency,
            "help_line": localise(self.help_line.name, language) if self.help_line else "",
        }


# Used when a knowledge base has no region.yaml: neutral words, UTC, any place name accepted.
DEFAULT_REGION = Region(
    name={"en": "your area", "fr": "votre région"},
    everywhere={"en": "Everywhere", "fr": "Partout"},
    partnership=Partnership(name="the local partnership"),
    time_zone=DEFAULT_TIME_ZONE,
)


def _words(value: Any) -> Any:
    """Let partners write numbers and single words where a list of phrases is expected."""
    if isinstance(value, str | int):
        value = [value]
    return _texts(value)


Phrases = Annotated[list[str], BeforeValidator(_words)]
_GROUP_REF = re.compile(r"\{([a-z_]+)\}")


def _check_phrase(phrase: str) -> str:
    words = phrase.split()
    if not words:
        raise ValueError("a phrase cannot be empty")
    if all(w in {"*", "...", "#"} for w in words):
        raise ValueError(f'"{phrase}" has no letters: it would match almost anything')
    for word in words:
        if word.startswith("*") and word.endswith("*") and len(word.strip("*")) < 3:
            raise ValueError(f'"{word}" is too short to match inside other words (3 letters min)')
    return phrase


class SafetyConcept(_Model):
    """How one kind of danger is written in one language.

    terms: phrases that mean this danger on their own ("kill myself", "not breathing").
    pairs: groups of phrases that mean it only together, in any order within a sentence
    (a harm word with a person word: [[hit, beat*], [me, {partner}]]).
    """

    terms: Phrases = Field(default_factory=list)
    pairs: list[list[Phrases]] = Field(default_factory=list)

    @field_validator("terms")
    @classmethod
    def _terms_ok(cls, value: list[str]) -> list[str]:
        return [_check_phrase(v) for v in value]

    @field_validator("pairs")
    @classmethod
    def _pairs_ok(cls, value: list[list[list[str]]]) -> list[list[list[str]]]:
        for pair in value:
            if not 2 <= len(pair) <= 3:
                raise ValueError(
                    "a pair is 2 or 3 lists of phrases that mean danger together, like "
                    "[[took, keeps], [my passport]]"
                )
            for side in pair:
                if not side:
                    raise ValueError("each side of a pair needs at least one phrase")
                for phrase in side:
                    _check_phrase(phrase)
        return value


class SafetyLexicon(_Model):
    """One language's words for danger, for the safety detector (knowledge/safety/*.yaml).

    words: named groups of single words used in phrases as {name} ({child}, {partner}).
    calm: context that lowers the alarm (a course, an essay, the past) in the same sentence.
    urgent: words that keep the alarm on whatever the context (now, tonight, help).
    idioms: phrases whose danger words are not danger ("this paperwork is killing me").
    fillers: words that may sit between any two words of a phrase without changing it
    (Tagalog's polite "po": "gusto ko na po mamatay" is "gusto ko na mamatay").
    """

    language: LanguageCode
    # False until a native speaker has checked the lists (see knowledge/README.md).
    reviewed: bool = False
    words: dict[Annotated[str, Field(pattern=r"^[a-z_]+$")], Phrases] = Field(default_factory=dict)
    calm: Phrases = Field(default_factory=list)
    urgent: Phrases = Field(default_factory=list)
    idioms: Phrases = Field(default_factory=list)
    fillers: Phrases = Field(default_factory=list)
    categories: dict[CrisisCategory, SafetyConcept] = Field(default_factory=dict)

    @field_validator("words")
    @classmethod
    def _one_word_each(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, group in value.items():
            for word in group:
                if len(word.split()) != 1:
                    raise ValueError(f'the word group "{name}" holds "{word}": one word each')
        return value

    @field_validator("calm", "urgent", "idioms")
    @classmethod
    def _phrases_ok(cls, value: list[str], info: ValidationInfo) -> list[str]:
        _check_groups(value, info.data.get("words", {}))
        return value

    @field_validator("categories")
    @classmethod
    def _categories_ok(
        cls, value: dict[str, SafetyConcept], info: ValidationInfo
    ) -> dict[str, SafetyConcept]:
        for concept in value.values():
            phrases = [*concept.terms]
            phrases += [p for pair in concept.pairs for side in pair for p in side]
            _check_groups(phrases, info.data.get("words", {}))
        return value


def _check_groups(phrases: list[str], words: dict[str, list[str]]) -> None:
    """Every {group} a phrase uses must be defined under words:."""
    for phrase in phrases:
        _check_phrase(phrase)
        for name in _GROUP_REF.findall(phrase):
            if name not in words:
                known = ", ".join(sorted(words)) or "none yet"
                raise ValueError(
                    f'"{phrase}" uses {{{name}}}, but there is no word group "{name}" '
                    f"under words: (groups here: {known})"
                )


SynonymGroup = Annotated[list[str], Field(min_length=2)]

Entry = Faq | Service | Event


@dataclass(frozen=True)
class SourceLocation:
    """Where an entry was written: file, line and column (1-based)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class KnowledgeBase:
    """A whole, validated knowledge base: every entry by id, read-only."""

    topics: Mapping[str, Topic]
    services: Mapping[str, Service]
    faqs: Mapping[str, Faq]
    events: Mapping[str, Event]
    crisis: tuple[CrisisLine, ...]
    synonyms: tuple[tuple[str, ...], ...]
    locations: Mapping[str, SourceLocation] = field(default_factory=dict)
    root: str = ""
    glossary: tuple[Term, ...] = ()
    region: Region = DEFAULT_REGION
    safety: tuple[SafetyLexicon, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        topics: list[Topic],
        services: list[Service],
        faqs: list[Faq],
        events: list[Event],
        crisis: list[CrisisLine],
        synonyms: list[list[str]],
        locations: dict[str, SourceLocation] | None = None,
        root: str = "",
        glossary: list[Term] | None = None,
        region: Region | None = None,
        safety: list[SafetyLexicon] | None = None,
    ) -> KnowledgeBase:
        """Freeze lists of entries into lookup tables."""
        return cls(
            topics=MappingProxyType({t.id: t for t in sorted(topics, key=lambda t: t.order)}),
            services=MappingProxyType({s.id: s for s in services}),
            faqs=MappingProxyType({f.id: f for f in faqs}),
            events=MappingProxyType(
                {e.id: e for e in sorted(events, key=lambda e: (e.start, e.id))}
            ),
            crisis=tuple(sorted(crisis, key=lambda c: (c.priority, c.id))),
            synonyms=tuple(tuple(group) for group in synonyms),
            locations=MappingProxyType(dict(locations or {})),
            root=root,
            glossary=tuple(glossary or ()),
            region=region or DEFAULT_REGION,
            safety=tuple(sorted(safety or (), key=lambda lexicon: lexicon.language)),
        )

    def entry(self, entry_id: str) -> Entry | None:
        """The FAQ, service or event with this id."""
        return self.faqs.get(entry_id) or self.services.get(entry_id) or self.events.get(entry_id)

    def entries(self) -> Iterator[Entry]:
        """Every answerable entry: FAQs, then services, then events."""
        yield from self.faqs.values()
        yield from self.services.values()
        yield from self.events.values()

    def upcoming_events(self, now: datetime) -> list[Event]:
        """Events not yet over, soonest first."""
        return [e for e in self.events.values() if e.is_upcoming(now)]

    def topic_of(self, entry: Entry) -> str | None:
        """The topic id an entry belongs to, if any."""
        if isinstance(entry, Service):
            return entry.topics[0] if entry.topics else None
        return entry.topic

    def entries_in_topic(self, topic_id: str) -> list[Entry]:
        """The FAQs, services and events filed under a topic."""
        found: list[Entry] = []
        for entry in self.entries():
            topics = entry.topics if isinstance(entry, Service) else [entry.topic]
            if topic_id in topics:
                found.append(entry)
        return found

    def title_of(self, entry: Entry, language: str) -> str:
        """A short human title for an entry: an FAQ's first question, a service's name."""
        if isinstance(entry, Faq):
            questions = entry.questions
            if isinstance(questions, dict):
                chosen = questions.get(language) or questions.get(DEFAULT_LANGUAGE)
                if not chosen:
                    chosen = next(iter(questions.values()))
                return chosen[0]
            return questions[0]
        if isinstance(entry, Service):
            return localise(entry.name, language)
        return localise(entry.title, language)

    def __len__(self) -> int:
        return len(self.faqs) + len(self.services) + len(self.events)
