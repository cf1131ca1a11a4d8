"""Repeating jobs: follow-ups, knowledge-base reloads and the retention purge."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.insights import overview as insights
from bot.replies.cards import HTML
from bot.telegram.context import BotContext
from bot.telegram.sending import NO_PREVIEW
from bot.telegram.split import split_html
from bot.watcher import Change

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
        except BadRequest:
            log.warning("a follow-up message could not be delivered", exc_info=True)
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


async def reload_knowledge(context: BotContext) -> None:
    """Job: serve edited knowledge-base files once they validate; tell staff when they do not."""
    svc = context.services
    result = await svc.watcher.poll()
    if result.change is Change.RELOADED and result.brain is not None:
        svc.assistant.replace_brain(result.brain)
        svc.health.loaded(result.brain.knowledge)
        svc.health.metrics.reloads.labels("reloaded").inc()
    elif result.change is Change.REFUSED:
        svc.health.metrics.reloads.labels("refused").inc()
        text = (
            HTML.bold(HTML.text(svc.catalogue.get("staff.reload_refused", "en")))
            + "\n<pre>"
            + HTML.text(result.report())
            + "</pre>"
        )
        for staff_id in sorted(svc.settings.staff_ids):
            try:
                for part in split_html(text):
                    await context.bot.send_message(staff_id, part, parse_mode=ParseMode.HTML)
            except BadRequest:
                log.warning("could not tell a staff member about the refused change")


async def purge_old_questions(context: BotContext) -> None:
    """Job: apply the retention setting."""
    svc = context.services
    # Every replica schedules this daily; the first to claim the day's run does it.
    if not await svc.storage.jobs.claim("retention", RETENTION_CLAIM):
        return
    removed = await insights.purge(svc.storage, svc.settings.retention_days)
    if removed:
        log.info("retention: removed the text of %d old question(s)", removed)
