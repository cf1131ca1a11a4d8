"""Repeating jobs: follow-ups, knowledge-base reloads and the retention purge."""

from __future__ import annotations

import logging

from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.insights import overview as insights
from bot.replies.cards import HTML
from bot.telegram.context import BotContext
from bot.telegram.sending import NO_PREVIEW
from bot.telegram.split import split_html
from bot.watcher import Change

log = logging.getLogger(__name__)


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
        await svc.assistant.record_referrals(None, entry_id)
        return True

    sent = await insights.deliver_follow_ups(svc.storage, svc.chat_tokens.open, send)
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
    removed = await insights.purge(svc.storage, svc.settings.retention_days)
    if removed:
        log.info("retention: removed the text of %d old question(s)", removed)
