"""Telegram handlers: thin adapters that take the text, call the core, format and reply."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import (
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, ContextTypes

from bot.assistant import Assistant
from bot.config import Settings
from bot.insights import overview as insights
from bot.knowledge.model import MUNICIPALITIES, Event, localise
from bot.matching.matcher import Outcome
from bot.matching.text import guess_language
from bot.privacy import ChatTokens, UserHasher
from bot.replies.cards import HTML
from bot.replies.messages import Catalogue
from bot.storage.database import Storage, StorageError
from bot.telegram.flood import FloodGuard, Verdict
from bot.telegram.keyboards import button, decode, markup, rows
from bot.telegram.split import split_html
from bot.watcher import Change

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
DEEP_LINK_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass
class Services:
    """What the handlers need, kept in application.bot_data["services"]."""

    settings: Settings
    assistant: Assistant
    storage: Storage
    catalogue: Catalogue
    hasher: UserHasher
    chat_tokens: ChatTokens
    flood: FloodGuard


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The shared services of the running bot."""
    found = context.application.bot_data["services"]
    assert isinstance(found, Services)
    return found


def user_key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The keyed hash standing for this user; the raw id is never stored."""
    user = update.effective_user
    assert user is not None
    return services(context).hasher("telegram", user.id)


async def language_of(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str = "") -> str:
    """The user's chosen language, else the question's language, else Telegram's setting."""
    svc = services(context)
    chosen = await svc.storage.get_language(user_key(update, context))
    if chosen:
        return chosen
    guessed = guess_language(text) if text else None
    if guessed and svc.catalogue.supports(guessed):
        return guessed
    user = update.effective_user
    return svc.catalogue.resolve(user.language_code if user else None)


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
        button(t("button.helpful", lang), "f", 1, qid, entry_id),
        button(t("button.not_helpful", lang), "f", 0, qid, entry_id),
    ]
    brain = svc.assistant.brain
    entry = brain.knowledge.entry(entry_id)
    topic = brain.knowledge.topic_of(entry) if entry else None
    back = []
    if topic and topic in brain.knowledge.topics:
        title = brain.matcher.topic_title(topic, lang)
        back = [button(t("button.back_to_topic", lang, title=title), "t", topic)]
    return markup(feedback, back)


# -- commands ---------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome the user; `/start <topic>` deep links open a topic and record the link."""
    svc = services(context)
    message = update.effective_message
    assert message is not None
    payload = context.args[0] if context.args else None
    source = payload if payload and set(payload) <= DEEP_LINK_CHARS and len(payload) <= 64 else None
    await svc.storage.touch_user(user_key(update, context), source=source)
    lang = await language_of(update, context)
    t = svc.catalogue.get
    user = update.effective_user
    name = user.first_name if user else ""
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
    await send_html(message, welcome, topics_keyboard(svc, lang))
    if source and source in svc.assistant.brain.knowledge.topics:
        text, keyboard = topic_view(svc, source, lang)
        await send_html(message, text, keyboard)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How to use the bot."""
    message = update.effective_message
    assert message is not None
    lang = await language_of(update, context)
    await send_html(message, HTML.text(services(context).catalogue.get("help.text", lang)))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What is stored, and how to erase it."""
    svc = services(context)
    message = update.effective_message
    assert message is not None
    lang = await language_of(update, context)
    text = svc.catalogue.get("privacy.text", lang, days=svc.settings.retention_days)
    await send_html(message, HTML.text(text))


def topics_keyboard(svc: Services, lang: str) -> InlineKeyboardMarkup:
    """One button per topic."""
    topics = svc.assistant.brain.knowledge.topics.values()
    buttons = [
        button(f"{t.emoji or ''} {localise(t.title, lang)}".strip(), "t", t.id) for t in topics
    ]
    return InlineKeyboardMarkup(rows(buttons, per_row=2))


def topic_view(svc: Services, topic_id: str, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """A topic's entries as buttons, with a way back to all topics."""
    knowledge = svc.assistant.brain.knowledge
    t = svc.catalogue.get
    topic = knowledge.topics.get(topic_id)
    back = [button(t("button.topics", lang), "t", "")]
    if topic is None:
        return HTML.text(t("topics.empty", lang)), markup(back)
    now = datetime.now(UTC)
    entries = [
        e
        for e in knowledge.entries_in_topic(topic_id)
        if not isinstance(e, Event) or e.is_upcoming(now)
    ]
    title = t("topics.entries", lang, emoji=topic.emoji or "", title=localise(topic.title, lang))
    text = HTML.bold(HTML.text(title.strip()))
    if topic.description:
        text += "\n" + HTML.text(localise(topic.description, lang))
    if not entries:
        text += "\n\n" + HTML.text(t("topics.empty", lang))
    buttons = [button(knowledge.title_of(e, lang)[:60], "e", e.id) for e in entries[:30]]
    return text, markup(*rows(buttons), back)


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Browse by topic."""
    svc = services(context)
    message = update.effective_message
    assert message is not None
    lang = await language_of(update, context)
    await send_html(
        message, HTML.text(svc.catalogue.get("topics.choose", lang)), topics_keyboard(svc, lang)
    )


def events_view(svc: Services, lang: str, place: str = "") -> tuple[str, InlineKeyboardMarkup]:
    """Upcoming events, soonest first, with municipality filter buttons."""
    t = svc.catalogue.get
    cards = svc.assistant.brain.cards
    upcoming = svc.assistant.brain.knowledge.upcoming_events(datetime.now(UTC))
    places = sorted({e.municipality for e in upcoming if e.municipality in MUNICIPALITIES})
    shown = [e for e in upcoming if not place or e.municipality in (place, "All of Durham")]
    if not upcoming:
        text = HTML.text(t("events.none", lang))
    elif not shown:
        text = HTML.text(t("events.none_in_place", lang, place=place))
    else:
        text = HTML.bold(HTML.text(t("events.title", lang))) + "\n\n"
        text += "\n\n".join(cards.event(e, lang, HTML) for e in shown[:10])
    filters = [button(("✅ " if p == place else "") + p, "ev", p) for p in places]
    if places:
        filters.append(
            button(("✅ " if not place else "") + t("button.all_places", lang), "ev", "")
        )
    return text, markup(*rows(filters, per_row=3))


async def events(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List upcoming events."""
    svc = services(context)
    message = update.effective_message
    assert message is not None
    lang = await language_of(update, context)
    text, keyboard = events_view(svc, lang)
    await send_html(message, text, keyboard)


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the languages the bot speaks."""
    svc = services(context)
    message = update.effective_message
    assert message is not None
    lang = await language_of(update, context)
    buttons = [
        button(svc.catalogue.get("language_name", code), "l", code)
        for code in svc.catalogue.languages
    ]
    await send_html(
        message,
        HTML.text(svc.catalogue.get("language.choose", lang)),
        InlineKeyboardMarkup(rows(buttons, per_row=2)),
    )


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask before erasing everything about the user."""
    svc = services(context)
    message = update.effective_message
    assert message is not None
    lang = await language_of(update, context)
    t = svc.catalogue.get
    keyboard = markup(
        [button(t("forget.yes", lang), "fg", "y"), button(t("forget.no", lang), "fg", "n")]
    )
    await send_html(message, HTML.text(t("forget.confirm", lang)), keyboard)


async def staff_only(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Services, Message] | None:
    """The services and message for staff; anyone else gets the unknown-command reply."""
    user = update.effective_user
    message = update.effective_message
    svc = services(context)
    if user is not None and message is not None and user.id in svc.settings.staff_ids:
        return svc, message
    await unknown_command(update, context)
    return None


async def needs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Staff: the top new needs this week."""
    staff = await staff_only(update, context)
    if staff is None:
        return
    svc, message = staff
    since, until = insights.period(None, None)
    found = await insights.list_needs(
        svc.storage, since, until, status="new", prepare=svc.assistant.brain.matcher.index.prepare
    )
    t = svc.catalogue.get
    if not found:
        await send_html(message, HTML.text(t("staff.needs_none", "en")))
        return
    lines = [HTML.bold(HTML.text(t("staff.needs_title", "en")))]
    for need in found[:10]:
        places = f" ({', '.join(need.municipalities)})" if need.municipalities else ""
        lines.append(
            f"#{need.id} · {need.in_period} people · {need.trend}: "
            f"{HTML.text(need.representative)}{HTML.text(places)}"
        )
    await send_html(message, "\n".join(lines))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Staff: a one-screen usage overview."""
    staff = await staff_only(update, context)
    if staff is None:
        return
    svc, message = staff
    since, until = insights.period(None, None)
    view = await insights.overview(
        svc.storage,
        since,
        until,
        svc.assistant.brain.knowledge,
        svc.assistant.brain.matcher.index.prepare,
    )
    usage = view.usage
    lines = [
        HTML.bold(HTML.text(svc.catalogue.get("staff.stats_title", "en"))),
        f"Questions: {view.total} · answered: {view.answer_rate:.0%} · people: {usage.users}",
        "Languages: " + HTML.text(", ".join(f"{k} {v}" for k, v in usage.languages.items())),
        "Top answers: " + HTML.text(", ".join(f"{k} {v}" for k, v in usage.top_entries[:5])),
        "Not helpful: " + HTML.text(", ".join(e for e, _, _ in view.unhelpful[:5]) or "none"),
        "Contacts given: "
        + HTML.text(", ".join(f"{k} {v}" for k, v in usage.referrals.items()) or "none"),
        f"Emerging needs: {len(view.needs)}",
    ]
    await send_html(message, "\n".join(lines))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have."""
    message = update.effective_message
    assert message is not None
    lang = await language_of(update, context)
    await send_html(message, HTML.text(services(context).catalogue.get("unknown.command", lang)))


# -- messages ---------------------------------------------------------------------------------


def addressed_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
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


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a question: crisis first, else an answer, choices, or an honest "don't know"."""
    text = addressed_text(update, context)
    message = update.effective_message
    if text is None or message is None or not text.strip():
        return
    svc = services(context)
    user = user_key(update, context)
    verdict = svc.flood.check(user)
    if verdict is not Verdict.ALLOW:
        if verdict is Verdict.WARN:
            log.warning("flood control: a user is sending too fast; slowing them down")
            lang = await language_of(update, context)
            await send_html(message, HTML.text(svc.catalogue.get("flood.slow_down", lang)))
        return
    lang = await language_of(update, context, text)
    sender = update.effective_user
    answer = await svc.assistant.ask(
        text,
        language=lang,
        channel="telegram",
        user_hash=user,
        markup=HTML,
        user_language=sender.language_code if sender else None,
    )
    match = answer.match
    t = svc.catalogue.get
    keyboard: InlineKeyboardMarkup | None = None
    text = answer.text
    if match.outcome is Outcome.ANSWERED and match.entry_id:
        keyboard = answer_keyboard(svc, match.entry_id, answer.question_id, lang)
        text += "\n\n" + HTML.italic(HTML.text(t("answer.helpful", lang)))
    else:
        qid = answer.question_id or 0
        choices = [
            button(svc.assistant.brain.matcher.title(c.entry_id, lang)[:60], "a", c.entry_id, qid)
            for c in match.choices
        ]
        if match.outcome is Outcome.AMBIGUOUS:
            keyboard = markup(*rows(choices), [button(t("button.none", lang), "x", qid)])
        elif match.outcome is Outcome.UNANSWERED:
            # The question stays unanswered (an emerging need) whichever button is pressed.
            notify = [button(t("button.notify", lang), "n", qid)] if qid else []
            keyboard = markup(*rows(choices), notify) if choices or notify else None
    await send_html(message, text, keyboard)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes, locations: explain kindly that the bot reads text."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    lang = await language_of(update, context)
    await send_html(message, HTML.text(services(context).catalogue.get("nontext.reply", lang)))


# -- buttons ----------------------------------------------------------------------------------


async def button_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Route a button press by the kind in its callback data."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    svc = services(context)
    callback = decode(query.data)
    lang = await language_of(update, context)
    t = svc.catalogue.get
    message = query.message
    notice: str | None = None
    if callback.kind == "t":  # a topic, or all topics
        topic = callback.arg(0)
        if topic:
            text, keyboard = topic_view(svc, topic, lang)
        else:
            text, keyboard = HTML.text(t("topics.choose", lang)), topics_keyboard(svc, lang)
        await edit_html(message, text, keyboard)
    elif callback.kind == "e":  # an entry from topic browsing: shown in place
        entry_id = callback.arg(0)
        text = svc.assistant.brain.cards.entry(entry_id, lang, HTML)
        await svc.assistant.record_referrals(None, entry_id)
        await edit_html(message, text, answer_keyboard(svc, entry_id, None, lang))
    elif callback.kind == "a":  # a "did you mean" choice
        entry_id, qid = callback.arg(0), int(callback.arg(1, "0") or 0)
        await svc.storage.choose_entry(qid, entry_id)
        await svc.assistant.record_referrals(qid or None, entry_id)
        text = svc.assistant.brain.cards.entry(entry_id, lang, HTML)
        await edit_html(message, text, answer_keyboard(svc, entry_id, qid, lang))
    elif callback.kind == "x":  # none of the choices: it is an unanswered question
        qid = int(callback.arg(0, "0") or 0)
        await svc.storage.mark_unanswered(qid)
        notify = markup([button(t("button.notify", lang), "n", qid)]) if qid else None
        await edit_html(message, svc.assistant.brain.cards.unanswered(lang, HTML), notify)
    elif callback.kind == "f":  # was this helpful?
        helpful, qid, entry_id = (
            callback.arg(0) == "1",
            int(callback.arg(1, "0") or 0),
            callback.arg(2),
        )
        await svc.storage.record_feedback(user_key(update, context), entry_id, helpful, qid or None)
        notice = t("feedback.thanks", lang)
        kept = [
            r
            for r in (message.reply_markup.inline_keyboard if message.reply_markup else ())
            if not any(str(b.callback_data or "").startswith("f:") for b in r)
        ]
        await message.edit_reply_markup(InlineKeyboardMarkup(kept) if kept else None)
    elif callback.kind == "n":  # tell me when you know
        qid = int(callback.arg(0, "0") or 0)
        chat = update.effective_chat
        try:
            assert chat is not None
            await svc.storage.needs.add_follow_up(
                qid, user_key(update, context), svc.chat_tokens.seal(chat.id), lang
            )
            notice = t("notify.saved", lang)
            await message.edit_reply_markup(None)
        except (StorageError, AssertionError):
            notice = t("notify.failed", lang)
    elif callback.kind == "ev":  # events in one municipality
        text, keyboard = events_view(svc, lang, callback.arg(0))
        await edit_html(message, text, keyboard)
    elif callback.kind == "l":  # language chosen
        chosen = svc.catalogue.resolve(callback.arg(0))
        await svc.storage.set_language(user_key(update, context), chosen)
        await edit_html(message, HTML.text(t("language.saved", chosen)))
    elif callback.kind == "fg":  # forget: confirmed or cancelled
        if callback.arg(0) == "y":
            user = user_key(update, context)
            erased = await svc.storage.erase_user(user)
            svc.flood.forget(user)
            await edit_html(message, HTML.text(t("forget.done", lang, count=erased.total)))
        else:
            await edit_html(message, HTML.text(t("forget.cancelled", lang)))
    await query.answer(notice)


# -- jobs and errors --------------------------------------------------------------------------


async def deliver_follow_ups(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: message people whose question now has an answer (one message each)."""
    svc = services(context)
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
    if sent:
        log.info("sent %d follow-up message(s)", sent)


async def reload_knowledge(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: serve edited knowledge-base files once they validate; tell staff when they do not."""
    svc = services(context)
    watcher = context.application.bot_data["watcher"]
    result = await watcher.poll()
    if result.change is Change.RELOADED and result.brain is not None:
        svc.assistant.replace_brain(result.brain)
    elif result.change is Change.REFUSED:
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


async def purge_old_questions(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: apply the retention setting."""
    svc = services(context)
    removed = await insights.purge(svc.storage, svc.settings.retention_days)
    if removed:
        log.info("retention: removed the text of %d old question(s)", removed)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback, tell the user something went wrong, never show internals."""
    log.error("an update could not be handled", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            lang = "en"
            app: Application = context.application  # type: ignore[type-arg]
            catalogue = app.bot_data["services"].catalogue
            if update.effective_user is not None:
                lang = catalogue.resolve(update.effective_user.language_code)
            await update.effective_message.reply_text(catalogue.get("error.generic", lang))
        except Exception:  # the error reply itself must never raise
            log.warning("could not tell the user about the error", exc_info=True)
