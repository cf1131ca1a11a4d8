"""The assistant: one place where a question is matched, logged and turned into a reply.

The console chat, the `ask` command and the Telegram handlers all go through `Assistant`,
so they answer and log alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path

from bot.knowledge.model import KnowledgeBase
from bot.knowledge.places import services_shown
from bot.matching.encoder import Encoder
from bot.matching.matcher import Match, Matcher, MatchSettings, Outcome
from bot.needs.stored import encode_sentence
from bot.privacy import redact
from bot.replies.cards import PLAIN, CardOptions, Cards, Markup
from bot.replies.messages import Catalogue
from bot.replies.screens import Screens
from bot.storage import LoggedQuestion, Storage, StorageError
from bot.text import script_language

# One thread for all matching: the matcher is used by one caller at a time, as before.
_MATCHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matching")

# Logged text is cut here: enough to understand a need, not a whole pasted document.
MAX_LOGGED_CHARS = 500


@dataclass(frozen=True)
class Brain:
    """A knowledge base with its matcher and card builder, swapped whole on reload."""

    knowledge: KnowledgeBase
    matcher: Matcher
    cards: Cards
    screens: Screens

    @classmethod
    def build(
        cls,
        knowledge: KnowledgeBase,
        catalogue: Catalogue,
        settings: MatchSettings | None = None,
        options: CardOptions | None = None,
        today: date | None = None,
        cache_dir: Path | None = None,
        safety_examples: Path | None = None,
        encoder: Encoder | None = None,
    ) -> Brain:
        """Index a knowledge base (the slow part) and prepare its cards."""
        catalogue = catalogue.for_region(knowledge.region)  # {region} is this base's region
        cards = Cards(knowledge, catalogue, options, today=today)
        return cls(
            knowledge,
            Matcher(
                knowledge, settings, cache_dir, encoder=encoder, safety_examples=safety_examples
            ),
            cards,
            Screens(knowledge, cards, catalogue),
        )


@dataclass(frozen=True)
class Answer:
    """A match, its id in the question log (None when not logged), and the reply text."""

    match: Match
    question_id: int | None
    text: str


class Assistant:
    """Answers questions from the current knowledge base and logs them."""

    def __init__(self, brain: Brain, catalogue: Catalogue, storage: Storage | None = None) -> None:
        self.brain = brain
        self.catalogue = catalogue
        self.storage = storage

    def replace_brain(self, brain: Brain) -> None:
        """Serve a newly loaded knowledge base; questions in flight finish on the old one."""
        self.brain = brain

    def match(self, text: str, language: str | None = None, now: datetime | None = None) -> Match:
        """Match without logging."""
        return self.brain.matcher.match(text, language, now)

    async def ask(
        self,
        text: str,
        *,
        language: str | None = None,
        channel: str = "console",
        user_hash: str | None = None,
        log: bool = True,
        markup: Markup = PLAIN,
        user_language: str | None = None,
        safety: bool = True,
        update_id: int | None = None,
    ) -> Answer:
        """Match a question, commit it to the log (before any reply is sent), render the reply.

        `user_language` (a Telegram language code) says which language someone reads when the
        question's script does not: an "I don't know" then starts with a sentence in it.
        `update_id` (Telegram's) makes logging idempotent: an update handled again after a
        crash reuses its logged question and does not count its contacts twice.
        """
        brain = self.brain
        # Matching is CPU work (tens of milliseconds): in its own thread the event loop keeps
        # sending replies and marking updates done meanwhile.
        match = await asyncio.get_running_loop().run_in_executor(
            _MATCHING, partial(brain.matcher.match, text, language, safety=safety)
        )
        question_id = None
        # Small talk is not a question: nothing to count as unanswered, nothing kept.
        if log and self.storage is not None and match.outcome is not Outcome.SMALL_TALK:
            earlier = await self._logged_for(update_id)
            question_id = earlier or await self.storage.questions.log(
                replace(self.to_log(match, text, channel, user_hash), update_id=update_id)
            )
            if earlier is None and match.outcome is Outcome.ANSWERED and match.entry_id:
                await self.record_referrals(question_id, match.entry_id, match.places)
        reply = brain.cards.for_match(match, markup)
        reader = script_language(text) or user_language
        if match.carries_net and match.outcome is not Outcome.CRISIS:
            # The safety net in the person's own language too, when the bot cannot answer in it.
            net = self.catalogue.safety_net(reader)
            reply = f"🆘 {markup.text(net)}\n\n{reply}" if net else reply
        if match.outcome is Outcome.UNANSWERED:
            note = self.catalogue.elsewhere(reader)
            reply = f"{markup.text(note)}\n\n{reply}" if note else reply
        return Answer(match, question_id, reply)

    async def _logged_for(self, update_id: int | None) -> int | None:
        if update_id is None or self.storage is None:
            return None
        try:
            return await self.storage.questions.logged_for(update_id)
        except StorageError:  # an unreadable database must not cost the newcomer a reply
            return None

    async def record_referrals(
        self, question_id: int | None, entry_id: str, towns: Sequence[str] = ()
    ) -> None:
        """Count the partner contacts an answer gave out (partners report this to funders)."""
        if self.storage is not None:
            shown = services_shown(self.brain.knowledge, entry_id, towns)
            services = [(s.id, s.owner or "") for s in shown]
            await self.storage.usage.add_referrals(question_id, entry_id, services)

    @staticmethod
    def to_log(match: Match, text: str, channel: str, user_hash: str | None) -> LoggedQuestion:
        """What is stored about a question: redacted text, or only the category for a crisis."""
        is_crisis = match.outcome is Outcome.CRISIS
        # Cut before redacting (redaction time grows with the text), with room so a number
        # straddling the cut is still seen whole; then cut to the stored length.
        typed = text.strip()
        whole = None if is_crisis else redact(typed[: 2 * MAX_LOGGED_CHARS])
        # Emerging needs group unanswered questions by the encoder's vector too. It was
        # computed from the message as typed, so it is kept only when the stored text is that
        # whole message: nothing redacted, nothing cut.
        vector = None
        if (
            match.vector is not None
            and match.outcome in (Outcome.UNANSWERED, Outcome.AMBIGUOUS)
            and whole == typed
            and len(typed) <= MAX_LOGGED_CHARS
        ):
            vector = encode_sentence(match.vector)
        return LoggedQuestion(
            channel=channel,
            language=match.language,
            outcome=match.outcome.value,
            text=None if whole is None else whole[:MAX_LOGGED_CHARS],
            user_hash=user_hash,
            entry_id=match.entry_id,
            score=match.score,
            crisis_category=match.crisis.category if match.crisis else None,
            candidates=tuple((c.entry_id, c.score) for c in match.candidates),
            vector=vector,
        )
