"""Staff in Telegram (only the ids in BOT_STAFF_IDS): /needs with triage buttons, /stats,
/partners, and the note or entry search a staff member types after pressing a button.

Button data can be forged by anyone, so every staff button handler checks membership again
(`_staff_button`); a non-staff press changes nothing and gets the "expired" notice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import cast

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop, JobQueue

from bot.insights import overview as insights
from bot.insights import triage
from bot.insights.screens import StaffScreens
from bot.needs.grouping import NeedSummary
from bot.replies.cards import HTML
from bot.replies.screens import Action
from bot.telegram import jobs
from bot.telegram.commands import unknown_command
from bot.telegram.context import BotContext, Pressed, Services
from bot.telegram.keyboards import Callback, for_screen
from bot.telegram.sending import (
    edit_screen,
    language_of,
    send_html,
    send_screen,
    user_key,
)

log = logging.getLogger(__name__)

OPEN = ("new", "assigned")
# A staff member's next message counts as a note or a search for this long after the button;
# later, what they type is an ordinary question again.
PROMPT_MINUTES = 15


def is_staff(update: Update, context: BotContext) -> bool:
    """True for the ids in BOT_STAFF_IDS."""
    user = update.effective_user
    return user is not None and user.id in context.services.settings.staff_ids


def screens(svc: Services) -> StaffScreens:
    """The staff screens for the knowledge base being served now."""
    return StaffScreens(svc.catalogue, svc.assistant.brain.knowledge, HTML)


async def staff_only(update: Update, context: BotContext) -> tuple[Services, Message] | None:
    """The services and message for staff; anyone else gets the unknown-command reply."""
    message = update.effective_message
    if message is not None and is_staff(update, context):
        return context.services, message
    await unknown_command(update, context)
    return None


async def week_needs(svc: Services, every: bool = False) -> list[NeedSummary]:
    """Open needs (new or assigned), or all, biggest this week first; older ones stay reachable."""
    since, until = insights.period(None, None)
    found = await insights.list_needs(
        svc.storage,
        since,
        until,
        prepare=svc.assistant.brain.matcher.index.prepare,
        knowledge=svc.assistant.brain.knowledge,
    )
    return [n for n in found if every or n.status in OPEN]


async def needs(update: Update, context: BotContext) -> None:
    """Staff: the open needs of the week as buttons, ten a page (`/needs all`: every status)."""
    staff = await staff_only(update, context)
    if staff is None:
        return
    svc, message = staff
    lang = await language_of(update, context)
    since, until = insights.period(None, None)
    every = (context.args or [""])[0].lower() == "all"
    screen = screens(svc).needs_list(await week_needs(svc, every), 1, lang, since, until, every)
    await send_screen(message, screen)


async def stats(update: Update, context: BotContext) -> None:
    """Staff: a one-screen usage overview."""
    staff = await staff_only(update, context)
    if staff is None:
        return
    svc, message = staff
    lang = await language_of(update, context)
    t = svc.catalogue.get
    since, until = insights.period(None, None)
    view = await insights.overview(
        svc.storage,
        since,
        until,
        svc.assistant.brain.knowledge,
        svc.assistant.brain.matcher.index.prepare,
    )
    usage = view.usage
    none = t("staff.stats.none", lang)

    def listed(pairs: list[tuple[str, int]] | dict[str, int]) -> str:
        items = pairs.items() if isinstance(pairs, dict) else pairs
        return ", ".join(f"{k} {v}" for k, v in items) or none

    lines = [
        HTML.bold(HTML.text(t("staff.stats_title", lang))),
        t(
            "staff.stats.questions",
            lang,
            count=view.total,
            rate=round(view.answer_rate * 100),
            people=usage.users,
        ),
        t("staff.stats.languages", lang, value=listed(usage.languages)),
        t("staff.stats.top", lang, value=listed(usage.top_entries[:5])),
        t(
            "staff.stats.unhelpful",
            lang,
            value=", ".join(e for e, _, _ in view.unhelpful[:5]) or none,
        ),
        t("staff.stats.referrals", lang, value=listed(usage.referrals)),
        t("staff.stats.needs", lang, count=len(view.needs)),
        t("staff.stats.crisis", lang, value=listed(usage.crisis)),
        # Presses of "this is not an emergency", per category: where the detector errs.
        t("staff.stats.false_alarms", lang, value=listed(usage.false_alarms)),
    ]
    await send_html(message, "\n".join(HTML.text(x) if i else x for i, x in enumerate(lines)))


async def partners(update: Update, context: BotContext) -> None:
    """Staff: partner links (with revoke buttons) and invitations not used yet."""
    staff = await staff_only(update, context)
    if staff is None:
        return
    svc, message = staff
    lang = await language_of(update, context)
    now = svc.clock()
    screen = screens(svc).partners(
        await svc.storage.partners.all(), await svc.storage.partners.invites(now), lang
    )
    await send_screen(message, screen)


# -- buttons ---------------------------------------------------------------------------------


def _staff_button(handler: Pressed) -> Pressed:
    """Refuse anyone not on the staff list; any staff press cancels a pending note or search."""

    async def run(
        update: Update, context: BotContext, message: Message, callback: Callback, lang: str
    ) -> str | None:
        svc = context.services
        if not is_staff(update, context):
            log.warning("a staff button was pressed by someone not on the staff list; ignored")
            return svc.catalogue.get("button.expired", lang)
        await svc.storage.triage.clear(user_key(update, context))
        try:
            return await handler(update, context, message, callback, lang)
        except insights.InsightError:
            return svc.catalogue.get("staff.not_found", lang)

    run.__doc__ = handler.__doc__
    run.__name__ = handler.__name__
    return run


async def _summary(svc: Services, need_id: int) -> NeedSummary:
    since, until = insights.period(None, None)
    brain = svc.assistant.brain
    return await insights.show_need(
        svc.storage, need_id, since, until, brain.matcher.index.prepare, brain.knowledge
    )


async def _card(
    update: Update, context: BotContext, message: Message, need_id: int, lang: str
) -> None:
    svc = context.services
    history = await svc.storage.triage.history(need_id)
    screen = screens(svc).need_card(
        await _summary(svc, need_id), history, lang, viewer=user_key(update, context)
    )
    await edit_screen(message, screen)


def _nearest(svc: Services, need: NeedSummary) -> list[str]:
    return triage.nearest_entries(svc.assistant.brain.matcher.match, need.wordings)


async def needs_page(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Another page of the needs (open ones, or all with "all")."""
    svc = context.services
    since, until = insights.period(None, None)
    every = callback.arg(1) == "all"
    screen = screens(svc).needs_list(
        await week_needs(svc, every), callback.number(0) or 1, lang, since, until, every
    )
    await edit_screen(message, screen)
    return None


async def need(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """A need's card: wordings, places, languages, dates, status, assignee, notes, history."""
    await _card(update, context, message, callback.number(0), lang)
    return None


async def owners(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """The knowledge base's owners to assign a need to, likely ones first."""
    svc = context.services
    summary = await _summary(svc, callback.number(0))
    listed = triage.suggested_owners(svc.assistant.brain.knowledge, _nearest(svc, summary))
    pairs = [(o, triage.owner_key(o)) for o in listed]
    screen = screens(svc).owners_menu(summary, pairs, callback.number(1) or 1, lang)
    await edit_screen(message, screen)
    return None


async def assign(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Assign a need to an owner (its status becomes "assigned")."""
    svc = context.services
    need_id = callback.number(0)
    owner = triage.owner_by_key(svc.assistant.brain.knowledge, callback.arg(1))
    if owner is None:
        return svc.catalogue.get("staff.not_found", lang)
    await insights.set_need(
        svc.storage, need_id, status="assigned", assignee=owner, actor=user_key(update, context)
    )
    await _card(update, context, message, need_id, lang)
    return svc.catalogue.get("staff.assigned", lang, id=need_id, owner=owner)


async def out_of_scope(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Mark a need not in scope (the partnership will not answer it)."""
    svc = context.services
    need_id = callback.number(0)
    await insights.set_need(
        svc.storage, need_id, status="not_in_scope", actor=user_key(update, context)
    )
    await _card(update, context, message, need_id, lang)
    return svc.catalogue.get("staff.out_of_scope", lang, id=need_id)


async def reopen(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Set a need back to new, like `needs set ID --status new`."""
    svc = context.services
    need_id = callback.number(0)
    await insights.set_need(svc.storage, need_id, status="new", actor=user_key(update, context))
    await _card(update, context, message, need_id, lang)
    return svc.catalogue.get("staff.reopened", lang, id=need_id)


async def note(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """The staff member's next text becomes a note on the need."""
    svc = context.services
    summary = await _summary(svc, callback.number(0))
    await svc.storage.triage.ask(user_key(update, context), "note", summary.id)
    await send_html(message, HTML.text(svc.catalogue.get("staff.note.ask", lang, id=summary.id)))
    return None


async def entries(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """The entries nearest to a need as buttons; typing part of a title finds any other."""
    svc = context.services
    summary = await _summary(svc, callback.number(0))
    await svc.storage.triage.ask(user_key(update, context), "search", summary.id)
    screen = screens(svc).entries_menu(summary, _nearest(svc, summary), lang)
    await edit_screen(message, screen)
    return None


async def pick(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """The chosen entry as users will read it, with a button to answer the need with it."""
    svc = context.services
    need_id, entry_id = callback.number(0), callback.arg(1)
    brain = svc.assistant.brain
    if brain.knowledge.entry(entry_id) is None:
        return svc.catalogue.get("staff.not_found", lang)
    summary = await _summary(svc, need_id)
    waiting = len(await svc.storage.follow_ups.pending(need_id))
    card = brain.cards.entry(entry_id, lang, HTML)
    screen = screens(svc).confirm_answer(summary, entry_id, card, waiting, lang)
    await edit_screen(message, screen)
    return None


async def answer(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Answer a need: it is closed, the people waiting are told once, staff get the wordings."""
    svc = context.services
    need_id, entry_id = callback.number(0), callback.arg(1)
    done = await insights.answer_need(
        svc.storage, need_id, entry_id, svc.assistant.brain.knowledge, user_key(update, context)
    )
    screen = screens(svc).answered(need_id, entry_id, done.variants, done.where, done.waiting, lang)
    await edit_screen(message, screen)
    queue = cast("JobQueue[BotContext] | None", context.job_queue)
    if done.waiting and queue is not None:
        # Tell the people waiting now rather than at the next 30-second round.
        queue.run_once(jobs.deliver_follow_ups, 0)
    return None


async def revoke(
    update: Update, context: BotContext, message: Message, callback: Callback, lang: str
) -> str | None:
    """Stop a partner link: that person gets no more lists and cannot confirm entries."""
    svc = context.services
    partner_id = callback.number(0)
    if not await svc.storage.partners.revoke(partner_id):
        return svc.catalogue.get("staff.not_found", lang)
    screen = screens(svc).partners(
        await svc.storage.partners.all(), await svc.storage.partners.invites(svc.clock()), lang
    )
    await edit_screen(message, screen)
    return svc.catalogue.get("staff.revoked", lang, id=partner_id)


HANDLERS: dict[Action, Pressed] = {
    action: _staff_button(handler)
    for action, handler in {
        Action.NEEDS: needs_page,
        Action.NEED: need,
        Action.OWNERS: owners,
        Action.ASSIGN: assign,
        Action.OUT_OF_SCOPE: out_of_scope,
        Action.REOPEN: reopen,
        Action.NOTE: note,
        Action.ENTRIES: entries,
        Action.PICK: pick,
        Action.ANSWER: answer,
        Action.REVOKE: revoke,
    }.items()
}


# -- what staff type after a button ---------------------------------------------------------


async def typed(update: Update, context: BotContext) -> None:
    """A staff member's text after "Add a note" or "Answer with an entry".

    Runs before questions (handler group -1); with no pending prompt the text goes on to be
    answered as a question, like anyone's.
    """
    message = update.effective_message
    if message is None or not message.text or not is_staff(update, context):
        return
    svc = context.services
    actor = user_key(update, context)
    prompt = await svc.storage.triage.take(actor, timedelta(minutes=PROMPT_MINUTES), svc.clock())
    if prompt is None:
        return
    lang = await language_of(update, context)
    text = message.text.strip()
    try:
        if prompt.kind == "note":
            await insights.add_note(svc.storage, prompt.need_id, text, actor)
            summary = await _summary(svc, prompt.need_id)
            history = await svc.storage.triage.history(prompt.need_id)
            screen = screens(svc).need_card(summary, history, lang, viewer=actor)
            saved = svc.catalogue.get("staff.note.saved", lang, id=prompt.need_id)
            await send_html(
                message, f"{HTML.italic(HTML.text(saved))}\n\n{screen.text}", for_screen(screen)
            )
        else:
            summary = await _summary(svc, prompt.need_id)
            found = triage.find_entries(svc.assistant.brain.knowledge, text)
            screen = screens(svc).entries_menu(summary, found, lang, typed=text)
            # Keep listening: staff can try another word.
            await svc.storage.triage.ask(actor, "search", prompt.need_id)
            await send_screen(message, screen)
    except insights.InsightError:
        await send_html(message, HTML.text(svc.catalogue.get("staff.not_found", lang)))
    raise ApplicationHandlerStop
