"""The custom context type: handlers reach the bot's dependencies as `context.services`.

As in python-telegram-bot's `contexttypesbot` example, `bot_data` is our own class instead of
a dict, so every dependency is typed and a missing one is a clear error, not a KeyError.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.assistant import Assistant, Brain
from bot.config import Settings
from bot.privacy import ChatTokens, UserHasher
from bot.replies.messages import Catalogue
from bot.storage import Storage, utc_now
from bot.telegram.flood import FloodGuard
from bot.telegram.health import Health, HealthServer
from bot.telegram.keyboards import ButtonSigner, Callback
from bot.watcher import KnowledgeWatcher


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
