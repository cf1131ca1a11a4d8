"""The custom context type: handlers reach the bot's dependencies as `context.services`.

As in python-telegram-bot's `contexttypesbot` example, `bot_data` is our own class instead of
a dict, so every dependency is typed and a missing one is a clear error, not a KeyError.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.assistant import Assistant, Brain
from bot.config import Settings
from bot.matching.encoder import Encoder
from bot.privacy import ChatTokens, UserHasher
from bot.replies.messages import Catalogue
from bot.storage import Storage, utc_now
from bot.telegram.flood import FloodGuard
from bot.telegram.health import Health, HealthServer
from bot.telegram.keyboards import ButtonSigner, Callback
from bot.watcher import KnowledgeWatcher

# A crisis message is kept in memory this long, so "this is not an emergency" can still show
# the ordinary answer; an hour covers reading the reply and deciding.
KEEP_CRISIS_SECONDS = 3600
# At most this many at once (a few hundred bytes each): a flood cannot grow it.
MOST_CRISIS_KEPT = 500


class RecentCrises:
    """Crisis messages held in memory only, never written anywhere: the question log keeps
    only their category. Pressing "this is not an emergency" takes one back, once."""

    def __init__(
        self, keep_seconds: float = KEEP_CRISIS_SECONDS, most: int = MOST_CRISIS_KEPT
    ) -> None:
        self._keep = keep_seconds
        self._most = most
        self._held: OrderedDict[int, tuple[str, str, float]] = OrderedDict()

    def remember(self, question_id: int, user: str, text: str) -> None:
        """Hold one crisis message for its sender."""
        self._held[question_id] = (user, text, time.monotonic())
        while len(self._held) > self._most:
            self._held.popitem(last=False)

    def take(self, question_id: int, user: str) -> str | None:
        """The message, if it is this sender's and recent enough; it is then forgotten."""
        held = self._held.pop(question_id, None)
        if held is None or held[0] != user or time.monotonic() - held[2] > self._keep:
            return None
        return held[1]


@dataclass
class Services:
    """What the handlers need once the bot has started (made in post_init)."""

    settings: Settings
    assistant: Assistant
    storage: Storage
    hasher: UserHasher
    chat_tokens: ChatTokens
    flood: FloodGuard
    watcher: KnowledgeWatcher
    health: Health
    # Signs every button for the person it is sent to (bot/telegram/keyboards.py).
    signer: ButtonSigner
    # The time for schedules (digest, partner lists, invitations); tests replace it to run a
    # week or a month in a second.
    clock: Callable[[], datetime] = field(default=utc_now)
    recent_crises: RecentCrises = field(default_factory=RecentCrises)
    # The multilingual encoder, once the first brain with its vectors is serving (jobs.
    # add_encoder); reloads build with it from then on.
    encoder: Encoder | None = None

    @property
    def catalogue(self) -> Catalogue:
        """The messages, speaking of the current knowledge base's region (follows reloads)."""
        return self.assistant.brain.cards.catalogue


class BotData:
    """The application's shared state: set at build time, completed in post_init."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.catalogue: Catalogue | None = None
        self.brain: Brain | None = None
        self.services: Services | None = None
        self.health: Health | None = None
        self.health_server: HealthServer | None = None
        # The multilingual encoder's worker (opened in post_init, closed in post_shutdown).
        self.encoder: Encoder | None = None


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler, job and the error handler receive."""

    @property
    def services(self) -> Services:
        """The running bot's services; RuntimeError before post_init has run."""
        found = self.bot_data.services
        if found is None:
            raise RuntimeError("the bot's services are not ready: post_init has not run")
        return found


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
BotApp = Application[
    ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[BotContext]
]

Pressed = Callable[[Update, BotContext, Message, Callback, str], Awaitable[str | None]]
"""A button handler: the update, the context, the message with the button, the decoded
data and the presser's language; returns the notice shown to them (or None)."""
