"""Button presses: one handler per kind of button, routed by python-telegram-bot.

`register` adds a `CallbackQueryHandler(pattern=...)` for every `Action`; a press whose data
matches no pattern is answered by `unknown_button` so the spinner always stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler

from bot.matching.matcher import Outcome
from bot.replies.cards import HTML
from bot.replies.screens import Action
from bot.storage import StorageError
from bot.telegram.context import BotApp, BotContext, Pressed
from bot.telegram.keyboards import Callback, button, markup, pattern
from bot.telegram.sending import (
    answer_keyboard,
    edit_html,
    edit_screen,
    language_of,
    send_html,
    user_key,
)

log = logging.getLogger(__name__)


def _press(handler: Pressed) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """Wrap a button handler: check the signature, find the language, always answer the query.

    Data that was not signed for the presser (forged, someone else's button, an old unsigned
    button, a message the bot cannot edit any more) is answered with "this button has
    expired" and changes nothing.
    """

    async def run(update: Update, context: BotContext) -> None:
        query = update.callback_query
        if query is None:
            return
        notice: str | None = None
        try:
            svc = context.services
            callback = svc.signer.verify(query.data, query.from_user.id)
            if callback is None or not isinstance(query.message, Message):
                lang = svc.catalogue.resolve(query.from_user.language_code)
                notice = svc.catalogue.get("button.expired", lang)
                return
            lang = await language_of(update, context)
            try:
                notice = await handler(update, context, query.message, callback, lang)
            except BadRequest as exc:
                # The message was deleted or is too old to edit: nothing to change.
                log.info("a button's message could not be changed: %s", exc.message)
                notice = svc.catalogue.get("button.expired", lang)
        finally:
            try:
                await query.answer(notice)
            except TelegramError:  # too old to answer, or Telegram unreachable: nothing to do
                log.debug("could not answer a button press", exc_info=True)

    run.__doc__ = handler.__doc__
    run.__name__ = handler.__name__
    return run


async def topic(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """A topic's entries, or all topics when the topic is empty."""
    screens = context.services.assistant.brain.screens
    topic_id = callback.arg(0)
    screen = (
        screens.topic(topic_id, lang, HTML, datetime.now(UTC))
        if topic_id
        else screens.topics(lang, HTML)
    )
    await edit_screen(message, screen)
    return None


async def entry(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """An entry chosen while browsing a topic, shown in place."""
    svc = context.services
    entry_id = callback.arg(0)
    text = svc.assistant.brain.cards.entry(entry_id, lang, HTML)
    await svc.assistant.record_referrals(None, entry_id)
    await edit_html(message, text, answer_keyboard(svc, entry_id, None, lang))
    return None


async def choice(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """A "did you mean" choice: the entry is shown and recorded for that question."""
    svc = context.services
    entry_id, qid = callback.arg(0), callback.number(1)
    await svc.storage.questions.choose_entry(qid, entry_id)
    await svc.assistant.record_referrals(qid or None, entry_id)
    text = svc.assistant.brain.cards.entry(entry_id, lang, HTML)
    await edit_html(message, text, answer_keyboard(svc, entry_id, qid, lang))
    return None


async def none_of_these(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """None of the choices fits: the question is unanswered (an emerging need)."""
    svc = context.services
    qid = callback.number(0)
    await svc.storage.questions.mark_unanswered(qid)
    t = svc.catalogue.get
    notify = markup([button(t("button.notify", lang), Action.NOTIFY, qid)]) if qid else None
    await edit_html(message, svc.assistant.brain.cards.unanswered(lang, HTML), notify)
    return None


async def feedback(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Was this helpful? The vote is stored and the feedback buttons removed."""
    svc = context.services
    helpful, qid, entry_id = callback.arg(0) == "1", callback.number(1), callback.arg(2)
    await svc.storage.feedback.record(user_key(update, context), entry_id, helpful, qid or None)
    prefix = f"{Action.FEEDBACK.value}:"
    kept = [
        r
        for r in (message.reply_markup.inline_keyboard if message.reply_markup else ())
        if not any(str(b.callback_data or "").startswith(prefix) for b in r)
    ]
    await message.edit_reply_markup(InlineKeyboardMarkup(kept) if kept else None)
    return svc.catalogue.get("feedback.thanks", lang)


async def notify(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Tell me when you know: a follow-up is saved for this question."""
    svc = context.services
    chat = update.effective_chat
    t = svc.catalogue.get
    if chat is None:
        return t("notify.failed", lang)
    try:
        await svc.storage.follow_ups.add(
            callback.number(0), user_key(update, context), svc.chat_tokens.seal(chat.id), lang
        )
    except StorageError:
        return t("notify.failed", lang)
    await message.edit_reply_markup(None)
    return t("notify.saved", lang)


async def events(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Upcoming events in one municipality ("" for all)."""
    screens = context.services.assistant.brain.screens
    screen = screens.events(lang, HTML, datetime.now(UTC), callback.arg(0))
    await edit_screen(message, screen)
    return None


async def language(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """A reply language chosen from /language: stored, and it always wins afterwards."""
    svc = context.services
    chosen = svc.catalogue.resolve(callback.arg(0))
    await svc.storage.users.set_language(user_key(update, context), chosen)
    await edit_html(message, HTML.text(svc.catalogue.get("language.saved", chosen)))
    return None


async def forget(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Erase everything about the user, or cancel."""
    svc = context.services
    t = svc.catalogue.get
    if callback.arg(0) != "y":
        await edit_html(message, HTML.text(t("forget.cancelled", lang)))
        return None
    user = user_key(update, context)
    erased = await svc.storage.users.erase(user)
    svc.flood.forget(user)
    await edit_html(message, HTML.text(t("forget.done", lang, count=erased.total)))
    return None


async def unknown_button(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Data that matches no button kind (an old or forged button): changes nothing."""
    return context.services.catalogue.get("button.expired", lang)


async def not_emergency(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """A crisis reply was a false alarm: count it for its category, show the ordinary answer
    (the crisis reply stays above it, with its numbers)."""
    svc = context.services
    qid = callback.number(0)
    await svc.storage.questions.mark_not_emergency(qid)
    await message.edit_reply_markup(None)
    text = svc.recent_crises.take(qid, user_key(update, context))
    if text is None:
        await message.reply_text(svc.catalogue.get("crisis.ask_again", lang))
        return None
    # Not logged: the log keeps only the crisis category of this message.
    answer = await svc.assistant.ask(
        text, language=lang, channel="telegram", log=False, markup=HTML, safety=False
    )
    keyboard = None
    if answer.match.outcome is Outcome.ANSWERED and answer.match.entry_id:
        keyboard = answer_keyboard(svc, answer.match.entry_id, None, lang)
    await send_html(message, answer.text, keyboard)
    return None


HANDLERS: dict[Action, Pressed] = {
    Action.TOPIC: topic,
    Action.ENTRY: entry,
    Action.CHOICE: choice,
    Action.NONE_OF_THESE: none_of_these,
    Action.FEEDBACK: feedback,
    Action.NOTIFY: notify,
    Action.EVENTS: events,
    Action.LANGUAGE: language,
    Action.FORGET: forget,
    Action.NOT_EMERGENCY: not_emergency,
}


def register(app: BotApp, more: dict[Action, Pressed] | None = None) -> None:
    """One CallbackQueryHandler per button kind (with `more`, like the staff buttons), then a
    catch-all that answers the rest."""
    for kind, handler in {**HANDLERS, **(more or {})}.items():
        app.add_handler(CallbackQueryHandler(_press(handler), pattern=pattern(kind)))
    app.add_handler(CallbackQueryHandler(_press(unknown_button)))
