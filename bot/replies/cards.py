"""Reply cards: the answer and each linked service's contacts, as plain text or Telegram HTML."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from urllib.parse import quote_plus

from bot.knowledge import figures, places
from bot.knowledge.freshness import STALE_AFTER_DAYS, is_stale
from bot.knowledge.model import (
    DEFAULT_LANGUAGE,
    CrisisLine,
    Event,
    Faq,
    KnowledgeBase,
    LocalText,
    Phone,
    Provenance,
    Service,
    localise,
    tel_uri,
)
from bot.matching.matcher import Match, Outcome
from bot.matching.smalltalk import Talk
from bot.replies import bidi
from bot.replies.glossary import Glossary
from bot.replies.messages import Catalogue
from bot.retention import RETENTION_DAYS


class Markup(Protocol):
    """How a card is marked up: plain text for terminals, HTML for Telegram."""

    def text(self, value: str) -> str:
        """Escape text written by users or partners."""

    def bold(self, value: str) -> str:
        """Emphasise already-escaped text."""

    def link(self, label: str, url: str) -> str:
        """A link with an (unescaped) label."""

    def italic(self, value: str) -> str:
        """De-emphasise already-escaped text."""


class PlainText:
    """Plain text for the console and the JSON `text` field."""

    def text(self, value: str) -> str:
        """Plain text needs no escaping."""
        return value

    def bold(self, value: str) -> str:
        """Plain text has no bold."""
        return value

    def italic(self, value: str) -> str:
        """Plain text has no italics."""
        return value

    def link(self, label: str, url: str) -> str:
        """Show the address, since a terminal cannot hide it behind a label."""
        if url.startswith("tel:") or label == url:
            return label
        return f"{label} ({url})"


class TelegramHtml:
    """Telegram's HTML subset; everything from users or partners is escaped."""

    def text(self, value: str) -> str:
        """Escape <, > and & (and quotes, for attribute safety)."""
        return html.escape(value, quote=True)

    def bold(self, value: str) -> str:
        """Wrap in <b>."""
        return f"<b>{value}</b>"

    def italic(self, value: str) -> str:
        """Wrap in <i>."""
        return f"<i>{value}</i>"

    def link(self, label: str, url: str) -> str:
        """An <a> tag; tel: links are not clickable in Telegram, so phones stay plain text."""
        if url.startswith("tel:"):
            return html.escape(label)
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'


PLAIN = PlainText()
HTML = TelegramHtml()
# The word back to small talk: a greeting gets how to ask, thanks an invitation to ask again.
_SMALL_TALK = {
    Talk.HELLO: "smalltalk.hello",
    Talk.THANKS: "smalltalk.thanks",
    Talk.BYE: "chat.bye",
    Talk.NOT_HELPFUL: "smalltalk.sorry",
    Talk.PRIVACY: "privacy.text",
}


def map_url(address: str) -> str:
    """A map search for an address (opens in any browser or maps app)."""
    return f"https://www.google.com/maps/search/?api=1&query={quote_plus(address)}"


def has_language(value: LocalText | None, lang: str) -> bool:
    """Whether a text is written in `lang` (a plain string is English)."""
    if value is None:
        return True
    if isinstance(value, str):
        return lang == DEFAULT_LANGUAGE
    return lang in value


@dataclass(frozen=True)
class CardOptions:
    """Choices about what a card shows."""

    # Entries not verified within this many days get a "please confirm" line.
    stale_after_days: int = STALE_AFTER_DAYS
    show_sources: bool = True
    # How long question text is kept (the privacy notice says so): the settings' value.
    retention_days: int = RETENTION_DAYS


class Cards:
    """Builds the reply text for matches, entries and services in one language and markup."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        catalogue: Catalogue,
        options: CardOptions | None = None,
        today: date | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.catalogue = catalogue.for_region(knowledge.region)
        self.options = options or CardOptions()
        self._today = today
        self.glossary = Glossary(knowledge.glossary)

    @property
    def today(self) -> date:
        """Today in the region (fixed in tests)."""
        return self._today or datetime.now(self.knowledge.region.zone).date()

    def for_match(
        self, match: Match, markup: Markup = PLAIN, titles: Iterable[str] | None = None
    ) -> str:
        """The whole reply to a question (right-to-left marks for Arabic, Persian, Urdu)."""
        return bidi.for_language(self._for_match(match, markup, titles), match.language)

    def _for_match(self, match: Match, markup: Markup, titles: Iterable[str] | None) -> str:
        lang = match.language
        if match.outcome is Outcome.CRISIS and match.crisis is not None:
            return self.crisis(match.crisis, lang, markup, match.also)
        if match.outcome is Outcome.SMALL_TALK:
            key = _SMALL_TALK[match.talk or Talk.HELLO]
            words = markup.text(self.catalogue.get(key, lang, days=self.options.retention_days))
            if match.talk is Talk.NOT_HELPFUL:
                # The last reply did not help: who can, in person, as after "I don't know".
                return "\n\n".join(
                    [words, self.safety_net(lang, markup), self._help_now(lang, markup)]
                )
            return words + "\n\n" + self.safety_net(lang, markup) if match.carries_net else words
        if match.outcome is Outcome.ANSWERED and match.entry_id:
            card = self.entry(match.entry_id, lang, markup, match.places)
            return card + "\n\n" + self.safety_net(lang, markup) if match.worried else card
        labels = (
            list(titles)
            if titles is not None
            else [self._title(c.entry_id, lang) for c in match.choices]
        )
        lines = [f"{n}. {markup.text(label)}" for n, label in enumerate(labels, 1)]
        if match.outcome is Outcome.AMBIGUOUS:
            intro = markup.text(self.catalogue.get("ambiguous.intro", lang))
            return "\n".join([intro, *lines]) + "\n\n" + self.safety_net(lang, markup)
        return self.unanswered(lang, markup, lines)

    def safety_net(self, lang: str, markup: Markup = PLAIN) -> str:
        """The line under every reply that is not a sure answer, and under a sure answer to a
        message the safety model worries about: 911 for danger, 988 for suicide. The detector
        cannot know every way danger is written; this means no message leaves with nothing."""
        return "🆘 " + markup.text(self.catalogue.get("safety.net", lang))

    def _title(self, entry_id: str, lang: str) -> str:
        entry = self.knowledge.entry(entry_id)
        return self.knowledge.title_of(entry, lang) if entry else entry_id

    def entry(
        self, entry_id: str, lang: str, markup: Markup = PLAIN, towns: Sequence[str] = ()
    ) -> str:
        """The card for one FAQ, service or event; `towns` named in the question pick the
        linked services that serve them."""
        entry = self.knowledge.entry(entry_id)
        if entry is None:
            return self.unanswered(lang, markup)
        if isinstance(entry, Faq):
            parts = [markup.text(self.glossary.explain(localise(entry.answer, lang), lang))]
            if not has_language(entry.answer, lang):
                # Better an answer in English than none; one line in their language says so.
                parts.insert(0, markup.italic(self.catalogue.get("answer.untranslated", lang)))
            for service in places.services_shown(self.knowledge, entry_id, towns):
                parts.append(self.service(service, lang, markup))
        elif isinstance(entry, Service):
            parts = [self.service(entry, lang, markup, with_description=True)]
        else:
            parts = [self.event(entry, lang, markup)]
        footer = self._footer(entry, lang, markup)
        if footer:
            parts.append(footer)
        return bidi.for_language("\n\n".join(p for p in parts if p), lang)

    def needs_confirmation(self, entry: Provenance) -> bool:
        """True when an entry is flagged unverified or was last checked too long ago."""
        if entry.unverified:
            return True
        return is_stale(entry, self.today, self.options.stale_after_days)

    def _footer(self, entry: Provenance, lang: str, markup: Markup) -> str:
        lines: list[str] = []
        period = figures.period_key(entry)
        if period is not None:
            key, days = period
            words = {name: self.month(day, lang) for name, day in days.items()}
            lines.append(markup.text(self.catalogue.get(key, lang, **words)))
            if figures.expired(entry, self.today):
                lines.append(markup.text(self.catalogue.get("figures.expired", lang)))
        if entry.caveat:
            lines.append(markup.text(localise(entry.caveat, lang)))
        if self.needs_confirmation(entry):
            lines.append(markup.text(self.catalogue.get("answer.confirm", lang)))
        if self.options.show_sources and entry.citation and not entry.source:
            lines.append(
                self._field("", "answer.sources", markup.text(entry.citation), lang, markup)
            )
        if self.options.show_sources and entry.source:
            checked = (
                " (" + self.catalogue.get("answer.checked", lang, date=entry.last_verified) + ")"
                if entry.last_verified
                else ""
            )
            source = f"{markup.link(entry.source, entry.source)}{markup.text(checked)}"
            lines.append(self._field("", "answer.sources", source, lang, markup))
        return "\n".join(lines)

    def service(
        self, service: Service, lang: str, markup: Markup = PLAIN, with_description: bool = False
    ) -> str:
        """A service's contact block: name, phones, address with map link, website, hours..."""
        lines = [markup.bold(markup.text(localise(service.name, lang)))]
        if with_description and service.description:
            description = localise(service.description, lang)
            lines.append(markup.text(self.glossary.explain(description, lang)))
        lines += self._site(service.phones, service.address, None, lang, markup)
        if service.website:
            lines.append(
                self._address_field("🌐", "contact.website", service.website, lang, markup)
            )
        if service.email:
            lines.append(
                self._field("✉️", "contact.email", markup.text(service.email), lang, markup)
            )
        lines += self._site((), None, service.hours, lang, markup)
        for site in service.locations:
            lines.append(f"🏢 {markup.bold(markup.text(localise(site.name, lang)))}")
            lines += [
                "   " + line
                for line in self._site(site.phones, site.address, site.hours, lang, markup)
            ]
        if service.languages:
            lines.append(
                self._field(
                    "🗣",
                    "contact.languages",
                    markup.text(", ".join(service.languages)),
                    lang,
                    markup,
                )
            )
        if service.municipalities:
            lines.append(
                self._field(
                    "🏘",
                    "contact.areas",
                    markup.text(self.areas(service.municipalities, lang)),
                    lang,
                    markup,
                )
            )
        if with_description and service.eligibility:
            lines.append(
                self._field(
                    "✅",
                    "contact.eligibility",
                    markup.text(localise(service.eligibility, lang)),
                    lang,
                    markup,
                )
            )
        if with_description and service.cost:
            lines.append(
                self._field(
                    "💲",
                    "contact.cost",
                    markup.text(localise(service.cost, lang)),
                    lang,
                    markup,
                )
            )
        return "\n".join(lines)

    def _field(self, emoji: str, key: str, value: str, lang: str, markup: Markup) -> str:
        """One "📞 Phone: value" line (`value` already marked up); French puts a space
        before the colon."""
        name = markup.text(self.catalogue.get(key, lang))
        colon = markup.text(self.catalogue.get("label.colon", lang))
        return f"{emoji} {name}{colon}{value}".lstrip()

    def _address_field(self, emoji: str, key: str, url: str, lang: str, markup: Markup) -> str:
        """A "🌐 Website: https://..." line whose value is the web address, as a link."""
        return self._field(emoji, key, markup.link(url, url), lang, markup)

    def _site(
        self,
        phones: Sequence[Phone],
        address: str | None,
        hours: LocalText | None,
        lang: str,
        markup: Markup,
    ) -> list[str]:
        """The phone, address (with a map link) and hours lines of a service or one of its sites."""
        label = self.catalogue.get
        lines = []
        for phone in phones:
            extra = f" ({localise(phone.label, lang)})" if phone.label else ""
            number = markup.link(phone.number, tel_uri(phone.number))
            lines.append(
                self._field("📞", "contact.phone", f"{number}{markup.text(extra)}", lang, markup)
            )
        if address:
            # A terminal cannot hide a long map address behind a word, so only HTML gets it.
            link = (
                f" ({markup.link(label('contact.map', lang), map_url(address))})"
                if isinstance(markup, TelegramHtml)
                else ""
            )
            lines.append(
                self._field("📍", "contact.address", f"{markup.text(address)}{link}", lang, markup)
            )
        if hours:
            lines.append(
                self._field("🕒", "contact.hours", markup.text(localise(hours, lang)), lang, markup)
            )
        return lines

    def event(self, event: Event, lang: str, markup: Markup = PLAIN) -> str:
        """An event card: title, when, where, cost, registration."""
        lines = [markup.bold(markup.text(localise(event.title, lang)))]
        when = localise(event.schedule, lang) if event.schedule else self.when(event, lang)
        lines.append(self._field("📅", "event.when", markup.text(when), lang, markup))
        town = self.areas([event.municipality], lang) if event.municipality else None
        place = ", ".join(p for p in (event.location, town) if p)
        if place:
            lines.append(self._field("📍", "event.where", markup.text(place), lang, markup))
        if event.cost:
            lines.append(
                self._field(
                    "💲", "contact.cost", markup.text(localise(event.cost, lang)), lang, markup
                )
            )
        if event.organiser and event.organiser in self.knowledge.services:
            organiser = localise(self.knowledge.services[event.organiser].name, lang)
            lines.append(self._field("👥", "event.organiser", markup.text(organiser), lang, markup))
        if event.registration_url:
            url = event.registration_url
            lines.append(self._address_field("📝", "event.register", url, lang, markup))
        if event.description:
            description = localise(event.description, lang)
            lines.append(markup.text(self.glossary.explain(description, lang)))
        return "\n".join(lines)

    def areas(self, municipalities: Iterable[str], lang: str) -> str:
        """Municipalities as a card shows them: the whole region by its label in `lang`."""
        return ", ".join(self.knowledge.region.label(m, lang) for m in municipalities)

    def month(self, day: date, lang: str) -> str:
        """ "July 2025" in English and French (as before), the month's name in `lang` else."""
        if lang in figures.MONTHS:
            return figures.month(day, lang)
        return f"{self._names('date.months', lang)[day.month - 1]} {day.year}"

    def _names(self, key: str, lang: str) -> list[str]:
        names = self.catalogue.get(key, lang).split()
        return names if len(names) in (7, 12) else self.catalogue.get(key).split()

    def day(self, moment: datetime, lang: str = "en") -> str:
        """ "Sat 14 Mar 2026", with the weekday, month and order of `lang`."""
        return self.catalogue.get(
            "date.day",
            lang,
            weekday=self._names("date.weekdays", lang)[moment.weekday()],
            day=f"{moment.day:02d}" if lang == "en" else str(moment.day),
            month=self._names("date.months", lang)[moment.month - 1],
            year=moment.year,
        )

    def when(self, event: Event, lang: str = "en") -> str:
        """The event's date and time in the region's time zone, in `lang`."""
        zone = self.knowledge.region.zone
        start = event.start.astimezone(zone)
        text = self.day(start, lang)
        if (start.hour, start.minute) != (0, 0):
            text += f", {start:%H:%M}"
        if event.end is not None:
            end = event.end.astimezone(zone)
            text += f"–{end:%H:%M}" if end.date() == start.date() else f" – {self.day(end, lang)}"
        return text

    def crisis(
        self,
        line: CrisisLine,
        lang: str,
        markup: Markup = PLAIN,
        also: CrisisLine | None = None,
    ) -> str:
        """The emergency reply: 911 first, the category's message, then the crisis lines; with
        `also` (another kind of danger the message may speak of), that kind's lines after."""
        parts = [
            markup.bold(markup.text(self.catalogue.get("crisis.intro", lang))),
            markup.text(localise(line.reply, lang)),
        ]
        services = [
            self.knowledge.services[s]
            for s in line.services_with(also)
            if s in self.knowledge.services
        ]
        if services:
            parts.append(markup.text(self.catalogue.get("crisis.more", lang)))
            parts.extend(self.service(s, lang, markup) for s in services)
        return bidi.for_language("\n\n".join(parts), lang)

    def help_services(self) -> list[Service]:
        """Services to offer when the bot does not know: those flagged `offer_when_unanswered`."""
        return [s for s in self.knowledge.services.values() if s.offer_when_unanswered]

    def unanswered(self, lang: str, markup: Markup = PLAIN, related: Sequence[str] = ()) -> str:
        """The honest "I don't know yet" reply, answers that might be related, who can help now."""
        parts = [
            markup.text(self.catalogue.get("unanswered.reply", lang)),
            self.safety_net(lang, markup),
        ]
        if related:
            intro = markup.text(self.catalogue.get("unanswered.related", lang))
            parts.append("\n".join([intro, *related]))
        parts.append(self._help_now(lang, markup))
        return bidi.for_language("\n\n".join(parts), lang)

    def _help_now(self, lang: str, markup: Markup) -> str:
        """Who can help in person now: 211, then the region's first-stop services."""
        parts = [
            markup.text(self.catalogue.get("unanswered.help_now", lang)),
            "☎️ " + markup.text(self.catalogue.get("unanswered.211", lang)),
        ]
        parts.extend(self.service(s, lang, markup) for s in self.help_services())
        return "\n\n".join(parts)
