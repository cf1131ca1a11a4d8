"""Browsing screens (topics, a topic's entries, upcoming events) shared by every front end.

A screen is text plus rows of choices; Telegram draws the choices as inline buttons and the
terminal chat as a numbered list, so both browse the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.knowledge.model import EVERYWHERE, Event, KnowledgeBase, localise
from bot.replies.cards import Cards, Markup
from bot.replies.messages import Catalogue

# A topic lists at most this many entries (Telegram keyboards grow unwieldy beyond ~30 rows).
MAX_TOPIC_ENTRIES = 30
# Button labels are cut here: Telegram shows about 60 characters on a phone.
MAX_LABEL = 60
MAX_EVENTS = 10


class Action(StrEnum):
    """What pressing a choice does. The values travel in Telegram's callback data: keep short."""

    TOPIC = "t"  # a topic, or all topics when the argument is empty
    ENTRY = "e"  # show an entry from topic browsing
    CHOICE = "a"  # a "did you mean" choice: entry, question id
    NONE_OF_THESE = "x"  # none of the choices fits: question id
    FEEDBACK = "f"  # was this helpful: 1/0, question id, entry
    NOTIFY = "n"  # tell me when you know: question id
    EVENTS = "ev"  # upcoming events in one municipality ("" for all)
    LANGUAGE = "l"  # reply language chosen
    FORGET = "fg"  # erase my data: y/n
    # Staff only (every handler checks BOT_STAFF_IDS again: button data can be forged).
    NEEDS = "sn"  # the open needs, one page: page number
    NEED = "sd"  # a need's card: need id
    OWNERS = "so"  # who to assign a need to: need id, page number
    ASSIGN = "sa"  # assign a need: need id, owner key
    OUT_OF_SCOPE = "ss"  # mark a need not in scope: need id
    NOTE = "sm"  # the next text is a note for a need: need id
    ENTRIES = "se"  # the entries nearest to a need, and search by title: need id
    PICK = "sp"  # show an entry before answering a need with it: need id, entry id
    ANSWER = "sw"  # answer a need with an entry: need id, entry id
    REOPEN = "sr"  # set a need back to new (not in scope by mistake, answer withdrawn): need id
    REVOKE = "pr"  # stop a partner link: partner id
    # Partners only: an entry of theirs is still right.
    STILL_RIGHT = "pk"  # entry id
    NOT_EMERGENCY = "ne"  # a crisis reply was a false alarm: question id


@dataclass(frozen=True)
class Choice:
    """One button or numbered option."""

    label: str
    action: Action
    args: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class Screen:
    """Text (already in the front end's markup) and rows of choices."""

    text: str
    rows: tuple[tuple[Choice, ...], ...] = ()

    @property
    def choices(self) -> list[Choice]:
        """Every choice, row by row."""
        return [choice for row in self.rows for choice in row]


def in_rows(choices: Sequence[Choice], per_row: int = 1) -> tuple[tuple[Choice, ...], ...]:
    """Lay choices out in rows of `per_row`."""
    return tuple(tuple(choices[i : i + per_row]) for i in range(0, len(choices), per_row))


class Screens:
    """Builds the browsing screens for one knowledge base and catalogue."""

    def __init__(self, knowledge: KnowledgeBase, cards: Cards, catalogue: Catalogue) -> None:
        self.knowledge = knowledge
        self.cards = cards
        self.catalogue = catalogue

    def topics(self, lang: str, markup: Markup) -> Screen:
        """Every topic, two to a row."""
        choices = [
            Choice(f"{t.emoji or ''} {localise(t.title, lang)}".strip(), Action.TOPIC, (t.id,))
            for t in self.knowledge.topics.values()
        ]
        return Screen(markup.text(self.catalogue.get("topics.choose", lang)), in_rows(choices, 2))

    def topic(self, topic_id: str, lang: str, markup: Markup, now: datetime) -> Screen:
        """A topic's entries (events only while upcoming), with a way back to all topics."""
        t = self.catalogue.get
        back = (Choice(t("button.topics", lang), Action.TOPIC, ("",)),)
        topic = self.knowledge.topics.get(topic_id)
        if topic is None:
            return Screen(markup.text(t("topics.empty", lang)), (back,))
        entries = [
            e
            for e in self.knowledge.entries_in_topic(topic_id)
            if not isinstance(e, Event) or e.is_upcoming(now)
        ]
        title = t(
            "topics.entries", lang, emoji=topic.emoji or "", title=localise(topic.title, lang)
        )
        text = markup.bold(markup.text(title.strip()))
        if topic.description:
            text += "\n" + markup.text(localise(topic.description, lang))
        if not entries:
            text += "\n\n" + markup.text(t("topics.empty", lang))
        choices = [
            Choice(self.knowledge.title_of(e, lang)[:MAX_LABEL], Action.ENTRY, (e.id,))
            for e in entries[:MAX_TOPIC_ENTRIES]
        ]
        return Screen(text, (*in_rows(choices), back))

    def events(self, lang: str, markup: Markup, now: datetime, place: str = "") -> Screen:
        """Upcoming events, soonest first, with a filter by municipality."""
        t = self.catalogue.get
        upcoming = self.knowledge.upcoming_events(now)
        whole_region = EVERYWHERE  # the region profile's "everywhere": shown in every town
        places = sorted({e.municipality for e in upcoming if e.municipality} - {whole_region})
        shown = [e for e in upcoming if not place or e.municipality in (place, whole_region)]
        if not upcoming:
            text = markup.text(t("events.none", lang))
        elif not shown:
            text = markup.text(t("events.none_in_place", lang, place=place))
        else:
            text = markup.bold(markup.text(t("events.title", lang))) + "\n\n"
            text += "\n\n".join(self.cards.event(e, lang, markup) for e in shown[:MAX_EVENTS])
        filters = [Choice(("✅ " if p == place else "") + p, Action.EVENTS, (p,)) for p in places]
        if places:
            label = ("✅ " if not place else "") + t("button.all_places", lang)
            filters.append(Choice(label, Action.EVENTS, ("",)))
        return Screen(text, in_rows(filters, 3))
