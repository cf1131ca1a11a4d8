"""The one place that wires the Telegram bot: builder, handlers, jobs, start-up and shut-down."""

from __future__ import annotations

import logging
import secrets
from datetime import time as clock_time
from typing import Any

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.assistant import Assistant, Brain
from bot.config import Settings
from bot.replies.messages import Catalogue
from bot.telegram import handlers
from bot.telegram.flood import FloodGuard
from bot.watcher import KnowledgeWatcher
from bot.wiring import build_brain, make_chat_tokens, make_hasher, open_storage

log = logging.getLogger(__name__)

COMMANDS = ("start", "topics", "events", "language", "help", "privacy", "forget")
FOLLOW_UP_SECONDS = 30.0
RELOAD_SECONDS = 2.0

BotApp = Application[Any, Any, Any, Any, Any, Any]


class TokenFilter(logging.Filter):
    """Removes the bot token from every log line, whatever library wrote it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message with the token hidden."""
        if self._token and self._token in record.getMessage():
            record.msg = record.getMessage().replace(self._token, "<token>")
            record.args = None
        return True


def guard_logs(token: str) -> None:
    """Hide the token on every handler, and keep httpx from logging request URLs."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    token_filter = TokenFilter(token)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TokenFilter) for f in handler.filters):
            handler.addFilter(token_filter)


def build_application(
    settings: Settings, brain: Brain | None = None, catalogue: Catalogue | None = None
) -> BotApp:
    """Build the Application; resources open in post_init and close in post_shutdown."""
    assert settings.telegram_token, "TELEGRAM_BOT_TOKEN is not set"
    guard_logs(settings.telegram_token)
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.api_base_url:
        base = settings.api_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    app = builder.build()
    app.bot_data["settings"] = settings
    app.bot_data["catalogue"] = catalogue or Catalogue.load()
    app.bot_data["brain"] = brain

    # Order matters: commands first, staff commands before the catch-all for unknown
    # commands, then text questions, then everything else that is not text.
    app.add_handler(CommandHandler("start", handlers.start))
    app.add_handler(CommandHandler("help", handlers.help_command))
    app.add_handler(CommandHandler("privacy", handlers.privacy))
    app.add_handler(CommandHandler("topics", handlers.topics))
    app.add_handler(CommandHandler("events", handlers.events))
    app.add_handler(CommandHandler("language", handlers.language))
    app.add_handler(CommandHandler("forget", handlers.forget))
    app.add_handler(CommandHandler("needs", handlers.needs))
    app.add_handler(CommandHandler("stats", handlers.stats))
    app.add_handler(MessageHandler(filters.COMMAND, handlers.unknown_command))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.question))
    app.add_handler(CallbackQueryHandler(handlers.button_pressed))
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text))
    app.add_error_handler(handlers.error_handler)
    return app


async def _post_init(app: BotApp) -> None:
    """Open the database, load the knowledge base, register the command menu, start jobs."""
    settings: Settings = app.bot_data["settings"]
    catalogue: Catalogue = app.bot_data["catalogue"]
    brain: Brain | None = app.bot_data.get("brain")
    if brain is None:
        from bot.cli.main import load_brain  # noqa: PLC0415 - the CLI owns settings -> Brain

        brain = load_brain(settings, catalogue)
    storage = await open_storage(settings)
    app.bot_data["watcher"] = KnowledgeWatcher(
        settings.kb_dir, lambda knowledge: build_brain(knowledge, settings, catalogue)
    )
    app.bot_data["services"] = handlers.Services(
        settings=settings,
        assistant=Assistant(brain, catalogue, storage),
        storage=storage,
        catalogue=catalogue,
        hasher=make_hasher(settings),
        chat_tokens=make_chat_tokens(settings),
        flood=FloodGuard(),
    )
    for language in catalogue.languages:
        commands = [BotCommand(c, catalogue.get(f"command.{c}", language)) for c in COMMANDS]
        await app.bot.set_my_commands(
            commands,
            scope=BotCommandScopeDefault(),
            language_code=None if language == "en" else language,
        )
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            handlers.deliver_follow_ups,
            FOLLOW_UP_SECONDS,
            first=FOLLOW_UP_SECONDS,
            name="follow-ups",
        )
        app.job_queue.run_daily(handlers.purge_old_questions, clock_time(3, 30), name="retention")
        app.job_queue.run_repeating(
            handlers.reload_knowledge, RELOAD_SECONDS, first=RELOAD_SECONDS, name="reload"
        )
    log.info("bot ready: %d entries, database %s", len(brain.knowledge), settings.db_path)


async def _post_shutdown(app: BotApp) -> None:
    """Close the database; every question was already committed."""
    found = app.bot_data.get("services")
    if isinstance(found, handlers.Services):
        await found.storage.close()


async def start_polling(app: BotApp, timeout: int = 10, poll_interval: float = 0.0) -> None:
    """Start by hand (tests and embedding): initialise, post_init, start, poll."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=poll_interval, timeout=timeout, allowed_updates=Update.ALL_TYPES
    )


async def stop(app: BotApp) -> None:
    """Stop what `start_polling` or a webhook start began, and close resources."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


def webhook_secret(settings: Settings) -> str:
    """The secret Telegram must send with every webhook request."""
    return settings.webhook_secret or secrets.token_urlsafe(32)


def run(settings: Settings) -> int:
    """Run until Ctrl-C or SIGTERM: polling by default, a webhook when a URL is configured."""
    app = build_application(settings)
    if settings.webhook_url:
        path = settings.webhook_url.rstrip("/").rsplit("/", 1)[-1] or "telegram"
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=path,
            webhook_url=settings.webhook_url,
            secret_token=webhook_secret(settings),
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


__all__ = ["ContextTypes", "build_application", "run", "start_polling", "stop"]
