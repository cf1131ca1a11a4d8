"""Sending and editing HTML replies, and what every handler needs to know about the user."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.matching.language import choose
from bot.replies.screens import Action, Screen
from bot.storage import StorageError
from bot.telegram.context import BotContext, Services
from bot.telegram.keyboards import button, for_screen, markup
from bot.telegram.split import split_html

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def user_key(update: Update, context: BotContext) -> str:
    """The keyed hash standing for this user; the raw id is never stored."""
    user = update.effective_user
    if user is None:
        raise ValueError("this update has no sender")
    return context.services.hasher("telegram", user.id)


async def language_of(update: Update, context: BotContext, text: str = "") -> str:
    """The language to answer in: the person's /language choice, else the message's script
    and words, else the phone's language, else English (bot.matching.language.choose)."""
    svc = context.services
    try:
        chosen = await svc.storage.users.language(user_key(update, context))
    except StorageError:  # an unreadable database must not cost the newcomer a reply
        chosen = None
    user = update.effective_user
    phone = user.language_code if user else None
    return choose(text, chosen=chosen, phone=phone, shipped=svc.catalogue.languages)


async def send_html(
    message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> Message:
    """Reply with HTML, split to Telegram's limit; buttons go on the last part."""
    parts = split_html(text)
    sent = message
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        sent = await message.reply_text(
            part,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=keyboard if last else None,
            do_quote=False,
        )
    return sent


async def edit_html(
    message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Replace a message in place (browsing edits one message instead of flooding the chat)."""
    part = split_html(text)[0]
    try:
        await message.edit_text(
            part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW, reply_markup=keyboard
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def answer_keyboard(
    svc: Services, entry_id: str, question_id: int | None, lang: str
) -> InlineKeyboardMarkup:
    """ "Was this helpful?" buttons and a way back to the entry's topic."""
    t = svc.catalogue.get
    qid = question_id or 0
    feedback = [
        button(t("button.helpful", lang), Action.FEEDBACK, 1, qid, entry_id),
        button(t("button.not_helpful", lang), Action.FEEDBACK, 0, qid, entry_id),
    ]
    brain = svc.assistant.brain
    entry = brain.knowledge.entry(entry_id)
    topic = brain.knowledge.topic_of(entry) if entry else None
    back = []
    if topic and topic in brain.knowledge.topics:
        title = brain.matcher.topic_title(topic, lang)
        back = [button(t("button.back_to_topic", lang, title=title), Action.TOPIC, topic)]
    return markup(feedback, back)


async def send_screen(message: Message, screen: Screen) -> Message:
    """Reply with a screen: its text, and its choices as buttons."""
    return await send_html(message, screen.text, for_screen(screen))


async def edit_screen(message: Message, screen: Screen) -> None:
    """Show a screen in place of a message (browsing edits one message)."""
    await edit_html(message, screen.text, for_screen(screen))
