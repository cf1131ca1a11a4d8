"""Partners in Telegram: joining with an invitation link, their monthly list of entries to
check, and the "still right" button. A partner sees only their own organisation's entries."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.insights import digest as lists
from bot.insights.schedule import nudge_due
from bot.insights.screens import StaffScreens
from bot.replies.cards import HTML
from bot.replies.screens import Action
from bot.storage import Partner, Redeemed
from bot.telegram.context import BotContext, Pressed, Services
from bot.telegram.keyboards import Callback, decode, for_screen
from bot.telegram.sending import NO_PREVIEW, language_of, send_html, user_key
from bot.telegram.split import split_html

log = logging.getLogger(__name__)

PREFIX = "partner-"


async def join(update: Update, context: BotContext, code: str) -> None:
    """`/start partner-<code>`: use the invitation once and send the partner their list."""
    svc = context.services
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = await language_of(update, context)
    now = svc.clock()
    try:
        partner = await svc.storage.partners.redeem(
            code, user_key(update, context), svc.chat_tokens.seal(chat.id), lang, now
        )
    except Redeemed as refused:
        await send_html(message, HTML.text(svc.catalogue.get(f"partner.link_{refused}", lang)))
        return
    log.info("a partner joined for %s", partner.owner)
    welcome = svc.catalogue.get("partner.welcome", lang, owner=partner.owner)
    await send_html(message, HTML.text(welcome))
    await send_list(context.bot, svc, partner, chat.id, now)


async def send_list(bot: Bot, svc: Services, partner: Partner, chat_id: int, now: datetime) -> None:
    """Send a partner their list (stale, unverified, unhelpful entries; assigned needs)."""
    items = await lists.partner_list(
        svc.storage,
        svc.assistant.brain.knowledge,
        partner.owner,
        now,
        svc.settings.stale_after_days,
        svc.settings.nudge_days,
    )
    screen = StaffScreens(svc.catalogue, svc.assistant.brain.knowledge, HTML).partner_list(
        items, partner.language
    )
    parts = split_html(screen.text)
    keyboard: InlineKeyboardMarkup | None = for_screen(screen) if screen.rows else None
    for index, part in enumerate(parts):
        await bot.send_message(
            chat_id,
            part,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=keyboard if index == len(parts) - 1 else None,
        )
    await svc.storage.partners.mark_nudged(partner.id, now)


async def nudge_partners(context: BotContext) -> None:
    """Job: each active partner gets their list once every `nudge_days`, in office hours."""
    svc = context.services
    now = svc.clock()
    every = timedelta(days=svc.settings.nudge_days)
    zone = svc.assistant.brain.knowledge.region.zone
    for partner in await svc.storage.partners.all():
        if not nudge_due(now, partner.nudged_at, partner.joined_at, every, zone):
            continue
        chat_id = svc.chat_tokens.open(partner.chat_token)
        try:
            if chat_id is None:
                raise ValueError("the partner's chat token cannot be opened")
            await send_list(context.bot, svc, partner, chat_id, now)
        except (TelegramError, ValueError):
            # Blocked the bot, or a token from an old secret: try again next period, not
            # every ten minutes.
            log.warning("could not send partner link #%d their list", partner.id, exc_info=True)
            await svc.storage.partners.mark_nudged(partner.id, now)


async def still_right(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """A partner confirms one of their own entries is still right; recorded, YAML unchanged."""
    svc = context.services
    entry_id = callback.arg(0)
    who = user_key(update, context)
    knowledge = svc.assistant.brain.knowledge
    owner = next(
        (
            o
            for o in await svc.storage.partners.owners_of(who)
            if lists.owns(knowledge, o, entry_id)
        ),
        None,
    )
    if owner is None:
        log.warning("a still-right press for an entry the sender does not own; ignored")
        return svc.catalogue.get("partner.not_yours", lang)
    await svc.storage.partners.confirm(entry_id, owner, who, svc.clock())
    kept = [
        row
        for row in (message.reply_markup.inline_keyboard if message.reply_markup else ())
        if not any(_confirms(b.callback_data, entry_id) for b in row)
    ]
    await message.edit_reply_markup(InlineKeyboardMarkup(kept) if kept else None)
    return svc.catalogue.get("partner.confirmed", lang, entry=entry_id)


def _confirms(data: object, entry_id: str) -> bool:
    """True for the "still right" button of this entry."""
    pressed = decode(data if isinstance(data, str) else None)
    return pressed.kind == Action.STILL_RIGHT.value and pressed.arg(0) == entry_id


HANDLERS: dict[Action, Pressed] = {Action.STILL_RIGHT: still_right}
