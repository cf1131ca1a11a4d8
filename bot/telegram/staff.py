"""Staff commands in Telegram (/needs, /stats): only for the ids in BOT_STAFF_IDS."""

from __future__ import annotations

from telegram import Message, Update

from bot.insights import overview as insights
from bot.replies.cards import HTML
from bot.telegram.commands import unknown_command
from bot.telegram.context import BotContext, Services
from bot.telegram.sending import send_html


async def staff_only(update: Update, context: BotContext) -> tuple[Services, Message] | None:
    """The services and message for staff; anyone else gets the unknown-command reply."""
    user = update.effective_user
    message = update.effective_message
    svc = context.services
    if user is not None and message is not None and user.id in svc.settings.staff_ids:
        return svc, message
    await unknown_command(update, context)
    return None


async def needs(update: Update, context: BotContext) -> None:
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


async def stats(update: Update, context: BotContext) -> None:
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
        "Crisis replies: "
        + HTML.text(", ".join(f"{k} {v}" for k, v in usage.crisis.items()) or "none"),
        # Presses of "this is not an emergency", per category: where the detector errs.
        "Said not an emergency: "
        + HTML.text(", ".join(f"{k} {v}" for k, v in usage.false_alarms.items()) or "none"),
    ]
    await send_html(message, "\n".join(lines))
