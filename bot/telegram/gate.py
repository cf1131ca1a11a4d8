"""The first handler every update meets (group -10): what the bot ignores, and flood control.

Ignored before any work: channel posts, messages without a person behind them (sent on behalf
of a channel or an anonymous admin), and edits (an edited question was already answered and
counted). Then each user gets at most the flood limit's updates of any kind; over it, a button
press is still answered (the spinner stops) and the first message over gets one polite notice.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.replies.cards import HTML
from bot.telegram.context import BotApp, BotContext
from bot.telegram.flood import Verdict
from bot.telegram.sending import send_html

log = logging.getLogger(__name__)

# Handler groups run in ascending order, one handler per group: the gate has a group of its
# own, before the contact count (-2) and staff text (-1).
GATE_GROUP = -10


def ignored(update: Update) -> bool:
    """Updates the bot never answers."""
    if (
        update.channel_post is not None
        or update.edited_channel_post is not None
        or update.edited_message is not None
        or update.business_message is not None
        or update.edited_business_message is not None
    ):
        return True
    message = update.message
    return message is not None and (message.from_user is None or message.sender_chat is not None)


async def gate(update: Update, context: BotContext) -> None:
    """Stop ignored updates and over-the-limit ones; let everything else through."""
    if ignored(update):
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None:
        return
    svc = context.services
    verdict = svc.flood.check(svc.hasher("telegram", user.id))
    if verdict is Verdict.ALLOW:
        return
    lang = svc.catalogue.resolve(user.language_code)
    notice = svc.catalogue.get("flood.slow_down", lang)
    if verdict is Verdict.WARN:
        log.warning("flood control: a user is sending too fast; slowing them down")
    query = update.callback_query
    try:
        if query is not None:
            await query.answer(notice if verdict is Verdict.WARN else None)
        elif (
            verdict is Verdict.WARN
            and update.message is not None
            and update.message.chat.type == ChatType.PRIVATE
        ):
            await send_html(update.message, HTML.text(notice))
    except TelegramError:
        log.debug("could not answer an update over the flood limit", exc_info=True)
    raise ApplicationHandlerStop


def register(app: BotApp) -> None:
    """Add the gate before every other handler."""
    app.add_handler(TypeHandler(Update, gate), group=GATE_GROUP)
