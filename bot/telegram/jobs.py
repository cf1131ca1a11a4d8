"""Repeating jobs: follow-ups, knowledge-base reloads and the retention purge."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import cast

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import JobQueue

from bot.insights import overview as insights
from bot.replies.cards import HTML
from bot.storage import StorageError
from bot.telegram.context import BotContext
from bot.telegram.durable import INBOX_LEASE, WelcomeApplication
from bot.telegram.sending import NO_PREVIEW
from bot.telegram.split import split_html
from bot.watcher import Change
from bot.wiring import build_brain

log = logging.getLogger(__name__)

# The retention job is daily; a run claimed less than 12 hours ago means another replica did
# today's (half a day leaves room for replicas whose clocks or schedules drift).
RETENTION_CLAIM = timedelta(hours=12)


async def deliver_follow_ups(context: BotContext) -> None:
    """Job: message people whose question now has an answer (one message each)."""
    svc = context.services
    cards = svc.assistant.brain.cards

    async def send(chat_id: int, entry_id: str, lang: str) -> bool:
        intro = HTML.bold(HTML.text(svc.catalogue.get("followup.intro", lang)))
        body = cards.entry(entry_id, lang, HTML)
        try:
            for part in split_html(f"{intro}\n\n{body}"):
                await context.bot.send_message(
                    chat_id, part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                )
        except (Forbidden, BadRequest) as exc:
            # This person blocked the bot or the chat is gone: drop their follow-up only.
            log.warning("a follow-up could not be delivered (%s); the others go on", exc.message)
            return False
        return True

    async def delivered(entry_id: str) -> None:
        await svc.assistant.record_referrals(None, entry_id)

    # With several replicas, one delivers at a time; the others skip this round (and each
    # person's follow-ups are claimed with a row lock besides).
    async with svc.storage.db.exclusive("follow-ups", wait=False) as held:
        if not held:
            return
        sent = await insights.deliver_follow_ups(svc.storage, svc.chat_tokens.open, send, delivered)
        svc.health.metrics.follow_ups.inc(sent)
    if sent:
        log.info("sent %d follow-up message(s)", sent)


async def add_encoder(context: BotContext) -> None:
    """Job, once at start: serve the same knowledge base with the multilingual encoder.

    Encoding every wording takes minutes the first time (18,676 wordings: about 3.5 minutes
    on 2 cores; then only new ones), so the bot answers on words meanwhile. Reloads use the
    encoder from now on; one that lands while this brain is built is built again with it."""
    svc = context.services
    encoder = context.bot_data.encoder
    catalogue = context.bot_data.catalogue
    if encoder is None or catalogue is None:
        return
    svc.encoder = encoder
    loop = asyncio.get_running_loop()
    while svc.assistant.brain.matcher.encoder is None:
        serving = svc.assistant.brain
        brain = await loop.run_in_executor(
            None, build_brain, serving.knowledge, svc.settings, catalogue, encoder
        )
        if svc.assistant.brain is serving:
            svc.assistant.replace_brain(brain)
    log.info("the multilingual encoder is ready")


async def reload_knowledge(context: BotContext) -> None:
    """Job: serve edited knowledge-base files once they validate; tell staff when they do not."""
    svc = context.services
    result = await svc.watcher.poll()
    if result.change is Change.RELOADED and result.brain is not None:
        svc.assistant.replace_brain(result.brain)
        queue = cast("JobQueue[BotContext] | None", context.job_queue)
        if svc.encoder is not None and result.brain.matcher.encoder is None and queue is not None:
            # Built on words just before the encoder was ready: build it again with it.
            queue.run_once(add_encoder, 0, name="encoder")
        svc.health.loaded(result.brain.knowledge)
        svc.health.metrics.reloads.labels("reloaded").inc()
    elif result.change is Change.REFUSED:
        svc.health.metrics.reloads.labels("refused").inc()
        for staff_id in sorted(svc.settings.staff_ids):
            lang = await _staff_language(context, staff_id)
            text = (
                HTML.bold(HTML.text(svc.catalogue.get("staff.reload_refused", lang)))
                + "\n<pre>"
                + HTML.text(result.report())
                + "</pre>"
            )
            try:
                for part in split_html(text):
                    await context.bot.send_message(staff_id, part, parse_mode=ParseMode.HTML)
            except (Forbidden, BadRequest) as exc:
                log.warning("could not tell a staff member about the refused change: %s", exc)


async def _staff_language(context: BotContext, staff_id: int) -> str:
    """The language a staff member chose with /language, else English."""
    svc = context.services
    try:
        chosen = await svc.storage.users.language(svc.hasher("telegram", staff_id))
    except StorageError:
        chosen = None
    return chosen or "en"


async def replay_spool(context: BotContext) -> None:
    """Job: write what was spooled while the database could not be written, once it can."""
    questions = context.services.storage.questions
    if questions.spool_path.exists():
        await questions.replay_spool()


async def take_over_inbox(context: BotContext) -> None:
    """Job (replicas): handle the updates a replica that died left pending in the inbox."""
    app = context.application
    if not isinstance(app, WelcomeApplication):
        return
    found = await app.take_over(INBOX_LEASE)
    if found:
        log.warning("took over %d update(s) another replica left pending", found)


async def purge_old_questions(context: BotContext) -> None:
    """Job: apply the retention setting."""
    svc = context.services
    # Every replica schedules this daily; the first to claim the day's run does it.
    if not await svc.storage.jobs.claim("retention", RETENTION_CLAIM):
        return
    removed = await insights.purge(svc.storage, svc.settings.retention_days)
    if removed:
        log.info("retention: removed the text of %d old question(s)", removed)
    # Telegram resends an unacknowledged update for up to 24 hours: ids older than 2 days
    # can no longer come back.
    await svc.storage.inbox.purge(datetime.now(UTC) - timedelta(days=2))
