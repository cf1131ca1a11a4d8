"""Handlers for the newcomer commands: /start, /help, /privacy, /topics, /events, /language,
/forget, and any command the bot does not have."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.replies.cards import HTML
from bot.replies.screens import Action
from bot.telegram import partners
from bot.telegram.context import BotContext
from bot.telegram.keyboards import button, for_screen, markup, rows
from bot.telegram.sending import language_of, send_html, send_screen, user_key

DEEP_LINK_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# Telegram allows deep-link payloads of up to 64 characters.
MAX_DEEP_LINK = 64


async def start(update: Update, context: BotContext) -> None:
    """Welcome the user; `/start <topic>` deep links open a topic and record the link."""
    svc = context.services
    message = update.effective_message
    if message is None:
        return
    payload = context.args[0] if context.args else None
    valid = payload and set(payload) <= DEEP_LINK_CHARS and len(payload) <= MAX_DEEP_LINK
    if valid and payload and payload.startswith(partners.PREFIX):
        # An invitation code is a secret: it is never recorded as the source of a visit.
        await partners.join(update, context, payload.removeprefix(partners.PREFIX))
        return
    source = payload if valid else None
    await svc.storage.users.touch(user_key(update, context), source=source)
    lang = await language_of(update, context)
    t = svc.catalogue.get
    user = update.effective_user
    name = user.first_name if user else ""
    screens = svc.assistant.brain.screens
    welcome = "\n\n".join(
        HTML.text(x)
        for x in (
            t("start.welcome", lang, name=name),
            t("start.what", lang),
            t("start.privacy", lang),
            svc.catalogue.elsewhere(user.language_code if user else None) or "",
        )
        if x
    )
    await send_html(message, welcome, for_screen(screens.topics(lang, HTML)))
    if source and source in svc.assistant.brain.knowledge.topics:
        screen = screens.topic(source, lang, HTML, datetime.now(UTC))
        await send_screen(message, screen)


async def help_command(update: Update, context: BotContext) -> None:
    """How to use the bot."""
    message = update.effective_message
    if message is None:
        return
    lang = await language_of(update, context)
    await send_html(message, HTML.text(context.services.catalogue.get("help.text", lang)))


async def privacy(update: Update, context: BotContext) -> None:
    """What is stored, and how to erase it."""
    svc = context.services
    message = update.effective_message
    if message is None:
        return
    lang = await language_of(update, context)
    text = svc.catalogue.get("privacy.text", lang, days=svc.settings.retention_days)
    await send_html(message, HTML.text(text))


async def topics(update: Update, context: BotContext) -> None:
    """Browse by topic."""
    message = update.effective_message
    if message is None:
        return
    lang = await language_of(update, context)
    screen = context.services.assistant.brain.screens.topics(lang, HTML)
    await send_screen(message, screen)


async def events(update: Update, context: BotContext) -> None:
    """List upcoming events."""
    message = update.effective_message
    if message is None:
        return
    lang = await language_of(update, context)
    screen = context.services.assistant.brain.screens.events(lang, HTML, datetime.now(UTC))
    await send_screen(message, screen)


async def language(update: Update, context: BotContext) -> None:
    """Offer the languages the bot speaks, each in its own name."""
    svc = context.services
    message = update.effective_message
    if message is None:
        return
    lang = await language_of(update, context)
    buttons = [
        button(svc.catalogue.get("language_name", code), Action.LANGUAGE, code)
        for code in svc.catalogue.languages
    ]
    await send_html(
        message,
        HTML.text(svc.catalogue.get("language.choose", lang)),
        InlineKeyboardMarkup(rows(buttons, per_row=2)),
    )


async def forget(update: Update, context: BotContext) -> None:
    """Ask before erasing everything about the user."""
    svc = context.services
    message = update.effective_message
    if message is None:
        return
    lang = await language_of(update, context)
    t = svc.catalogue.get
    keyboard = markup(
        [
            button(t("forget.yes", lang), Action.FORGET, "y"),
            button(t("forget.no", lang), Action.FORGET, "n"),
        ]
    )
    await send_html(message, HTML.text(t("forget.confirm", lang)), keyboard)


def addressed_to_us(update: Update, context: BotContext) -> bool:
    """Whether a command is for this bot: `/cmd@this_bot`, or `/cmd` in a private chat.

    In a group, `/start@other_bot` belongs to another bot, and a bare `/foo` may too.
    """
    message = update.effective_message
    if message is None or not message.text:
        return False
    command = message.text.split(maxsplit=1)[0]
    _, at, bot_name = command.partition("@")
    if at:
        return bot_name.lower() == (context.bot.username or "").lower()
    return message.chat.type == ChatType.PRIVATE


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have (commands for other bots are left alone)."""
    message = update.effective_message
    if message is None or not addressed_to_us(update, context):
        return
    lang = await language_of(update, context)
    await send_html(message, HTML.text(context.services.catalogue.get("unknown.command", lang)))
