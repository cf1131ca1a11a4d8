"""The one place that wires the Telegram bot: builder, handlers, jobs, start-up and shut-down."""

from __future__ import annotations

import logging
import secrets
from datetime import time as clock_time
from typing import cast

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.assistant import Assistant, Brain
from bot.config import Settings
from bot.replies.messages import Catalogue
from bot.telegram import buttons, commands, digest, jobs, partners, questions, staff
from bot.telegram.context import CONTEXT_TYPES, BotApp, BotContext, Services
from bot.telegram.flood import FloodGuard
from bot.telegram.health import ContactRequest, Health, HealthServer
from bot.watcher import KnowledgeWatcher
from bot.wiring import build_brain, load_brain, make_chat_tokens, make_hasher, open_storage

log = logging.getLogger(__name__)

COMMANDS = ("start", "topics", "events", "language", "help", "privacy", "forget")
RELOAD_SECONDS = 2.0
# The digest is due at a whole hour: checking every minute sends it within a minute of it.
DIGEST_CHECK_SECONDS = 60.0
# Partner lists are monthly: ten minutes late is fine.
NUDGE_CHECK_SECONDS = 600.0


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
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    guard_logs(settings.telegram_token)
    health = Health(mode="webhook" if settings.webhook_url else "polling")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .context_types(CONTEXT_TYPES)
        .rate_limiter(AIORateLimiter(max_retries=2))
        # Each successful getUpdates call is the "last contact" /healthz reports.
        .get_updates_request(ContactRequest(health, connection_pool_size=1))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.api_base_url:
        base = settings.api_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    # The builder's generic types cannot follow context_types() into the job queue's type.
    app = cast(BotApp, builder.build())
    app.bot_data.settings = settings
    app.bot_data.catalogue = catalogue or Catalogue.load()
    app.bot_data.brain = brain
    app.bot_data.health = health

    # Every update (webhook or poll) counts as contact with Telegram; group -2 runs first
    # (a group runs one handler per update, so this one cannot share group -1 with staff text).
    app.add_handler(TypeHandler(Update, _contact), group=-2)

    # Order matters: commands first, staff commands before the catch-all for unknown
    # commands, then text questions, then everything else that is not text.
    app.add_handler(CommandHandler("start", commands.start))
    app.add_handler(CommandHandler("help", commands.help_command))
    app.add_handler(CommandHandler("privacy", commands.privacy))
    app.add_handler(CommandHandler("topics", commands.topics))
    app.add_handler(CommandHandler("events", commands.events))
    app.add_handler(CommandHandler("language", commands.language))
    app.add_handler(CommandHandler("forget", commands.forget))
    app.add_handler(CommandHandler("needs", staff.needs))
    app.add_handler(CommandHandler("stats", staff.stats))
    app.add_handler(CommandHandler("partners", staff.partners))
    app.add_handler(MessageHandler(filters.COMMAND, commands.unknown_command))
    # A staff member's note or entry search comes first (group -1); it stops the update only
    # when a button asked for that text, so staff can still ask questions.
    if settings.staff_ids:
        staff_text = filters.TEXT & ~filters.COMMAND & filters.User(user_id=settings.staff_ids)
        app.add_handler(MessageHandler(staff_text, staff.typed), group=-1)
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, questions.question))
    buttons.register(app, {**staff.HANDLERS, **partners.HANDLERS})
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, questions.not_text))
    app.add_error_handler(error_handler)
    return app


async def _post_init(app: BotApp) -> None:
    """Open the database, load the knowledge base, register the command menu, start jobs."""
    data = app.bot_data
    assert data.settings is not None and data.catalogue is not None  # set by build_application
    assert data.health is not None
    settings, catalogue, health = data.settings, data.catalogue, data.health
    brain = data.brain or load_brain(settings, catalogue)
    hasher, chat_tokens = make_hasher(settings), make_chat_tokens(settings)
    storage = await open_storage(settings)
    health.database_check = storage.writable
    health.loaded(brain.knowledge)
    data.services = Services(
        settings=settings,
        assistant=Assistant(brain, catalogue, storage),
        storage=storage,
        hasher=hasher,
        chat_tokens=chat_tokens,
        flood=FloodGuard(),
        watcher=KnowledgeWatcher(
            settings.kb_dir, lambda knowledge: build_brain(knowledge, settings, catalogue)
        ),
        health=health,
    )
    if settings.health_port is not None:
        data.health_server = HealthServer(health, settings.health_listen, settings.health_port)
        await data.health_server.start()
    for language in catalogue.languages:
        menu = [BotCommand(c, catalogue.get(f"command.{c}", language)) for c in COMMANDS]
        await app.bot.set_my_commands(
            menu,
            scope=BotCommandScopeDefault(),
            language_code=None if language == "en" else language,
        )
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            jobs.deliver_follow_ups,
            settings.follow_up_seconds,
            first=settings.follow_up_seconds,
            name="follow-ups",
        )
        app.job_queue.run_daily(jobs.purge_old_questions, clock_time(3, 30), name="retention")
        app.job_queue.run_repeating(
            jobs.reload_knowledge, RELOAD_SECONDS, first=RELOAD_SECONDS, name="reload"
        )
        app.job_queue.run_repeating(
            digest.weekly_digest, DIGEST_CHECK_SECONDS, first=DIGEST_CHECK_SECONDS, name="digest"
        )
        app.job_queue.run_repeating(
            partners.nudge_partners, NUDGE_CHECK_SECONDS, first=NUDGE_CHECK_SECONDS, name="nudges"
        )
    log.info("bot ready: %d entries, database %s", len(brain.knowledge), storage.location)


async def _post_shutdown(app: BotApp) -> None:
    """Stop the health server and close the database; every question was already committed."""
    if app.bot_data.health_server is not None:
        await app.bot_data.health_server.stop()
        app.bot_data.health_server = None
    if app.bot_data.services is not None:
        await app.bot_data.services.storage.close()


async def _contact(update: Update, context: BotContext) -> None:
    """Note that Telegram reached us (for /healthz)."""
    if context.bot_data.health is not None:
        context.bot_data.health.contact()


async def error_handler(update: object, context: BotContext) -> None:
    """Log the traceback, tell the user something went wrong, never show internals."""
    log.error("an update could not be handled", exc_info=context.error)
    if context.bot_data.health is not None:
        context.bot_data.health.metrics.errors.inc()
    catalogue = context.bot_data.catalogue
    if not isinstance(update, Update) or catalogue is None:
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except Exception:  # the spinner must stop, but answering may fail too
            log.debug("could not answer the callback query", exc_info=True)
    if update.effective_message is not None:
        try:
            user = update.effective_user
            lang = catalogue.resolve(user.language_code if user else None)
            await update.effective_message.reply_text(catalogue.get("error.generic", lang))
        except Exception:  # the error reply itself must never raise
            log.warning("could not tell the user about the error", exc_info=True)


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


__all__ = ["build_application", "run", "start_polling", "stop"]
