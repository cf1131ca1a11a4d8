"""The one place that wires the Telegram bot: builder, handlers, jobs, start-up and shut-down."""

from __future__ import annotations

import logging
import secrets
from datetime import time as clock_time
from typing import ClassVar, cast
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.assistant import Assistant, Brain
from bot.config import Settings
from bot.errors import UserError
from bot.privacy import ChatTokens, Sealer, UserHasher
from bot.replies.messages import Catalogue
from bot.storage import Storage
from bot.telegram import buttons, commands, digest, gate, jobs, partners, questions, staff
from bot.telegram.context import CONTEXT_TYPES, BotApp, BotContext, BotData, Services
from bot.telegram.durable import (
    DurableBot,
    DurableQueue,
    Journal,
    PerUserProcessor,
    WelcomeApplication,
    inbox_lease,
)
from bot.telegram.flood import FloodGuard
from bot.telegram.health import ContactRequest, Health, HealthServer
from bot.telegram.keyboards import ButtonSigner
from bot.telegram.receipts import Receipts
from bot.watcher import KnowledgeWatcher
from bot.wiring import build_brain, load_brain, open_encoder, open_storage, secret_of

log = logging.getLogger(__name__)

COMMANDS = ("start", "topics", "events", "language", "help", "privacy", "forget")
RELOAD_SECONDS = 2.0
# The digest is due at a whole hour: checking every minute sends it within a minute of it.
DIGEST_CHECK_SECONDS = 60.0
# Partner lists are monthly: ten minutes late is fine.
NUDGE_CHECK_SECONDS = 600.0
# Writes spooled while the database could not be written are tried again this often.
SPOOL_SECONDS = 60.0


class StartError(UserError):
    """The bot cannot start: the message is one line for the operator, never the token."""

    label: ClassVar[str] = "cannot start"


class OneLineNetworkErrors(logging.Filter):
    """python-telegram-bot's retry loop logs a full traceback for each network failure (an
    unreachable API at start, a dropped connection while polling): keep one line, the cause."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Fold the exception into the message."""
        if record.exc_info and record.getMessage().startswith("Network Retry Loop"):
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


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
    """Hide the token on every handler, and keep httpx from logging request URLs.

    The job queue's scheduler logs two lines per job run at INFO (the reload job alone runs
    43,200 times a day): it only speaks from WARNING up.
    """
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    ptb = logging.getLogger("telegram.ext")
    if not any(isinstance(f, OneLineNetworkErrors) for f in ptb.filters):
        ptb.addFilter(OneLineNetworkErrors())
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
    urls: dict[str, str] = {}
    if settings.api_base_url:
        base = settings.api_base_url.rstrip("/")
        urls = {"base_url": base, "base_file_url": base.removesuffix("/bot") + "/file/bot"}
    # Built by hand (the builder cannot make a subclass): the same requests the builder makes,
    # 256 connections for sending and one for polling.
    bot = DurableBot(
        settings.telegram_token,
        request=HTTPXRequest(connection_pool_size=256),
        # Each successful getUpdates call is the "last contact" /healthz reports.
        get_updates_request=ContactRequest(health, connection_pool_size=1),
        rate_limiter=AIORateLimiter(overall_max_rate=settings.send_rate, max_retries=2),
        **urls,
    )
    builder = (
        ApplicationBuilder()
        .application_class(WelcomeApplication)
        .bot(bot)
        .context_types(CONTEXT_TYPES)
        .update_queue(DurableQueue())
        .concurrent_updates(PerUserProcessor())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    # The builder's generic types cannot follow context_types() into the job queue's type.
    app = cast(BotApp, builder.build())
    if isinstance(app, WelcomeApplication):
        app.stop_timeout = settings.stop_seconds
    app.bot_data.settings = settings
    app.bot_data.catalogue = catalogue or Catalogue.load()
    app.bot_data.brain = brain
    app.bot_data.health = health

    # Every update (webhook or poll) counts as contact with Telegram; group -2 runs first
    # (a group runs one handler per update, so this one cannot share group -1 with staff text).
    app.add_handler(TypeHandler(Update, _contact), group=-2)

    # Ignored updates and flood control come before everything, even the contact count.
    gate.register(app)

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
    """Check the secret, open the database, load the knowledge base, replay the inbox, start
    jobs. Whatever fails closes what was opened, so the process exits instead of hanging."""
    data = app.bot_data
    assert data.settings is not None and data.catalogue is not None  # set by build_application
    assert data.health is not None
    settings, catalogue, health = data.settings, data.catalogue, data.health
    secret = secret_of(settings)  # SecretError: one line, before anything is opened
    brain = data.brain or load_brain(settings, catalogue)
    storage = await open_storage(settings)
    try:
        # The bot answers on words at once; jobs.add_encoder then builds the brain that also
        # reads meaning in every language (the wordings' vectors take minutes the first time).
        data.encoder = open_encoder(settings)
        health.database_check = storage.writable
        health.loaded(brain.knowledge)
        data.services = Services(
            settings=settings,
            assistant=Assistant(brain, catalogue, storage),
            storage=storage,
            hasher=UserHasher(secret),
            chat_tokens=ChatTokens(secret),
            flood=FloodGuard(),
            watcher=KnowledgeWatcher(
                settings.kb_dir,
                lambda knowledge: build_brain(
                    knowledge, settings, catalogue, data.services.encoder if data.services else None
                ),
            ),
            health=health,
            signer=ButtonSigner(secret),
        )
        if isinstance(app.bot, DurableBot):
            app.bot.sign_with(data.services.signer)
        await _start_services(app, settings, catalogue, storage)
        if isinstance(app, WelcomeApplication):
            journal = Journal(storage.inbox, Sealer(secret), Receipts(settings.receipts_file))
            await app.replay(journal, inbox_lease(bool(settings.db_url)))
    except BaseException:
        data.services = None
        _close_encoder(data)
        if data.health_server is not None:
            await data.health_server.stop()
            data.health_server = None
        await storage.close()
        raise
    log.info("bot ready: %d entries, database %s", len(brain.knowledge), storage.location)


async def _start_services(
    app: BotApp, settings: Settings, catalogue: Catalogue, storage: Storage
) -> None:
    """The health server, the command menu in every language, and the repeating jobs."""
    data = app.bot_data
    assert data.health is not None
    if settings.health_port is not None:
        data.health_server = HealthServer(data.health, settings.health_listen, settings.health_port)
        await data.health_server.start()
    for language in catalogue.languages:
        menu = [BotCommand(c, catalogue.get(f"command.{c}", language)) for c in COMMANDS]
        await app.bot.set_my_commands(
            menu,
            scope=BotCommandScopeDefault(),
            language_code=None if language == "en" else language,
        )
    if app.job_queue is not None:
        if data.encoder is not None:
            app.job_queue.run_once(jobs.add_encoder, 0, name="encoder")
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
        app.job_queue.run_repeating(
            jobs.replay_spool, SPOOL_SECONDS, first=SPOOL_SECONDS, name="spool"
        )
        if settings.db_url:  # replicas share the inbox: take over what a dead one left
            app.job_queue.run_repeating(
                jobs.take_over_inbox, SPOOL_SECONDS, first=SPOOL_SECONDS, name="inbox"
            )


def _close_encoder(data: BotData) -> None:
    """Stop the encoder's worker process, if one was opened."""
    if data.encoder is not None:
        data.encoder.close()
        data.encoder = None


async def _post_shutdown(app: BotApp) -> None:
    """Stop the health server and close the database; every question was already committed."""
    if app.bot_data.health_server is not None:
        await app.bot_data.health_server.stop()
        app.bot_data.health_server = None
    if app.bot_data.services is not None:
        await app.bot_data.services.storage.close()
    _close_encoder(app.bot_data)
    queue = app.durable_queue if isinstance(app, WelcomeApplication) else None
    if queue is not None and queue.journal is not None and queue.journal.receipts is not None:
        queue.journal.receipts.close()


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


def webhook_path(url: str) -> str:
    """The path Telegram posts to: the URL's whole path ("telegram" when it has none)."""
    return urlsplit(url).path.strip("/") or "telegram"


def run(settings: Settings) -> int:
    """Run until Ctrl-C or SIGTERM: polling by default, a webhook when a URL is configured.

    A rejected token or an unreachable Bot API is a StartError (one line, no token). The
    secret is checked first: a bad secret file is reported even when Telegram is unreachable.
    """
    secret_of(settings)
    app = build_application(settings)
    try:
        _run(app, settings)
    except InvalidToken:
        raise StartError(
            "Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN (from @BotFather)"
        ) from None
    except NetworkError as exc:
        where = settings.api_base_url or "https://api.telegram.org"
        raise StartError(f"cannot reach the Telegram Bot API at {where}: {exc.message}") from None
    return 0


def _run(app: BotApp, settings: Settings) -> None:
    if settings.webhook_url:
        path = webhook_path(settings.webhook_url)
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


__all__ = ["StartError", "build_application", "run", "start_polling", "stop", "webhook_path"]
