"""Handlers for what people type: a question gets an answer, choices or an honest "don't know";
anything that is not text gets a kind explanation."""

from __future__ import annotations

import logging
import time

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.matching.matcher import Outcome
from bot.replies import bidi
from bot.replies.cards import HTML
from bot.replies.screens import Action
from bot.telegram.context import BotContext
from bot.telegram.keyboards import button, markup, rows
from bot.telegram.sending import answer_keyboard, language_of, send_html, user_key

log = logging.getLogger(__name__)


def addressed_text(update: Update, context: BotContext) -> str | None:
    """The question text, or None when a group message is not meant for the bot."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not message.text:
        return None
    if chat.type == ChatType.PRIVATE:
        return message.text
    mention = f"@{context.bot.username}"
    replied = message.reply_to_message
    if mention.lower() in message.text.lower():
        return message.text.replace(mention, " ").strip()
    if (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == context.bot.id
    ):
        return message.text
    return None


async def question(update: Update, context: BotContext) -> None:
    """Answer a question: crisis first, else an answer, choices, or an honest "don't know"."""
    text = addressed_text(update, context)
    message = update.effective_message
    if text is None or message is None or not text.strip():
        return
    svc = context.services
    user = user_key(update, context)
    started = time.perf_counter()
    lang = await language_of(update, context, text)
    sender = update.effective_user
    answer = await svc.assistant.ask(
        text,
        language=lang,
        channel="telegram",
        user_hash=user,
        markup=HTML,
        user_language=sender.language_code if sender else None,
        update_id=update.update_id,
    )
    match = answer.match
    t = svc.catalogue.get
    keyboard: InlineKeyboardMarkup | None = None
    reply = answer.text
    if match.outcome is Outcome.CRISIS:
        # One way out of a false alarm: the ordinary answer, so no one is ever blocked.
        if answer.question_id:
            svc.recent_crises.remember(answer.question_id, user, text)
            label = t("button.not_emergency", lang)
            keyboard = markup([button(label, Action.NOT_EMERGENCY, answer.question_id)])
    elif match.outcome is Outcome.ANSWERED and match.entry_id:
        keyboard = answer_keyboard(svc, match.entry_id, answer.question_id, lang)
        reply += "\n\n" + HTML.italic(HTML.text(t("answer.helpful", lang)))
    else:
        qid = answer.question_id or 0
        title = svc.assistant.brain.matcher.title
        choices = [
            button(title(c.entry_id, lang)[:60], Action.CHOICE, c.entry_id, qid)
            for c in match.choices
        ]
        if match.outcome is Outcome.AMBIGUOUS:
            none = [button(t("button.none", lang), Action.NONE_OF_THESE, qid)]
            keyboard = markup(*rows(choices), none)
        elif match.outcome is Outcome.UNANSWERED:
            # The question stays unanswered (an emerging need) whichever button is pressed.
            notify = [button(t("button.notify", lang), Action.NOTIFY, qid)] if qid else []
            keyboard = markup(*rows(choices), notify) if choices or notify else None
    # Every line right to left in Arabic, Persian and Urdu, the feedback line too.
    await send_html(message, bidi.for_language(reply, lang), keyboard)
    metrics = svc.health.metrics
    metrics.questions.labels(match.outcome.value).inc()
    metrics.latency.observe(time.perf_counter() - started)


async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes, locations: explain kindly that the bot reads text."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    lang = await language_of(update, context)
    await send_html(message, HTML.text(context.services.catalogue.get("nontext.reply", lang)))
