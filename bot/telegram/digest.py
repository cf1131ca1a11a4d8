"""The weekly digest to staff: one message each, in their language, with the HTML report.

`send_digest` takes plain parts (a Bot, the storage, the knowledge base) so the command line's
`digest --send` uses it too, without starting the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.config import Settings
from bot.insights import report
from bot.insights.digest import weekly
from bot.insights.schedule import digest_due, slot_name, weekday_number
from bot.insights.screens import StaffScreens
from bot.knowledge.model import KnowledgeBase
from bot.privacy import UserHasher
from bot.replies.cards import HTML
from bot.replies.messages import Catalogue
from bot.storage import Storage
from bot.telegram.context import BotContext
from bot.telegram.sending import NO_PREVIEW
from bot.telegram.split import split_html

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)


async def send_digest(
    bot: Bot,
    storage: Storage,
    knowledge: KnowledgeBase,
    catalogue: Catalogue,
    hasher: UserHasher,
    settings: Settings,
    since: datetime,
    until: datetime,
    prepare: Callable[[str], str] | None = None,
) -> int:
    """Send the digest for [since, until) to every staff member; how many got it."""
    digest = await weekly(storage, knowledge, since, until, settings.stale_after_days, prepare)
    page = report.render(digest.this_week).encode("utf-8")
    words = StaffScreens(catalogue, knowledge, HTML)
    delivered = 0
    for staff_id in sorted(settings.staff_ids):
        lang = await storage.users.language(hasher("telegram", staff_id)) or "en"
        try:
            for part in split_html(words.digest(digest, lang)):
                await bot.send_message(
                    staff_id, part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                )
            await bot.send_document(
                staff_id,
                document=page,
                filename=f"report-{since:%Y-%m-%d}-to-{until:%Y-%m-%d}.html",
                caption=catalogue.get(
                    "digest.caption", lang, start=f"{since:%Y-%m-%d}", end=f"{until:%Y-%m-%d}"
                ),
            )
            delivered += 1
        except TelegramError:
            log.warning("the weekly digest could not reach a staff member", exc_info=True)
    return delivered


async def weekly_digest(context: BotContext) -> None:
    """Job: at the configured day and hour (region's time), send the digest once."""
    svc = context.services
    settings = svc.settings
    if not settings.staff_ids:
        return
    slot = digest_due(
        svc.clock(),
        weekday_number(settings.digest_day),
        settings.digest_hour,
        svc.assistant.brain.knowledge.region.zone,
    )
    # Claim the slot before sending: two bot processes, or a restart, never send it twice.
    if slot is None or not await svc.storage.partners.claim_digest(slot_name(slot)):
        return
    brain = svc.assistant.brain
    sent = await send_digest(
        context.bot,
        svc.storage,
        brain.knowledge,
        svc.catalogue,
        svc.hasher,
        settings,
        slot - WEEK,
        slot,
        brain.matcher.index.prepare,
    )
    log.info("weekly digest sent to %d staff member(s)", sent)
