"""What staff and partners read: the needs list, a need's card, the triage menus, the weekly
digest and a partner's monthly list. Pure: text in the reader's language plus choices.

Telegram draws the choices as inline buttons (Screen, Choice and Action from replies.screens);
the command line prints the same text with
PLAIN markup (`digest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.insights.digest import Digest, PartnerList
from bot.knowledge.model import KnowledgeBase
from bot.needs.grouping import NeedSummary
from bot.replies.cards import Markup
from bot.replies.messages import Catalogue
from bot.replies.screens import MAX_LABEL, Action, Choice, Screen, in_rows
from bot.storage import Confirmation, Invite, NeedAction, Partner

# Ten needs a page: the number, and what a phone shows without scrolling.
NEEDS_PER_PAGE = 10
OWNERS_PER_PAGE = 8
# A card shows the most common wordings; `needs show` on the command line has up to 20.
CARD_WORDINGS = 5
CARD_HISTORY = 8
TREND_ICONS = {"rising": "⚠", "up": "▲", "down": "▼", "new": "●", "steady": "="}
COMMAND_LINE = "command line"


def label_of(need: NeedSummary) -> str:
    """The short name of a need: its label from its most distinctive words ("cricket club"),
    or its most common wording when it has no label yet."""
    return need.name


def pages(count: int, per_page: int) -> int:
    """How many pages `count` items fill (at least one)."""
    return max(1, -(-count // per_page))


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StaffScreens:
    """Builds the staff and partner screens in one language."""

    def __init__(self, catalogue: Catalogue, knowledge: KnowledgeBase, markup: Markup) -> None:
        self.catalogue = catalogue
        self.knowledge = knowledge
        self.m = markup

    def _t(self, key: str, lang: str, **values: object) -> str:
        return self.catalogue.get(key, lang, **values)

    def status(self, status: str, lang: str) -> str:
        """A need's status in words."""
        return self._t(f"staff.status.{status}", lang)

    def trend(self, trend: str, lang: str) -> str:
        """A need's trend in words, with its arrow."""
        return f"{TREND_ICONS.get(trend, '')} {self._t(f'staff.trend.{trend}', lang)}".strip()

    def title(self, entry_id: str, lang: str) -> str:
        """An entry's title, or its id when the knowledge base no longer has it."""
        entry = self.knowledge.entry(entry_id)
        return self.knowledge.title_of(entry, lang) if entry else entry_id

    # -- needs -----------------------------------------------------------------------------

    def needs_list(
        self,
        needs: Sequence[NeedSummary],
        page: int,
        lang: str,
        since: datetime,
        until: datetime,
        every: bool = False,
    ) -> Screen:
        """One page of needs (open ones, or `every` status), biggest first, each a button."""
        m = self.m
        scope = "all" if every else "open"
        if not needs:
            return Screen(m.text(self._t(f"staff.needs_none.{scope}", lang)))
        total = pages(len(needs), NEEDS_PER_PAGE)
        page = min(max(page, 1), total)
        shown = needs[(page - 1) * NEEDS_PER_PAGE : page * NEEDS_PER_PAGE]
        lines = [
            m.bold(
                m.text(
                    self._t(
                        f"staff.needs_title.{scope}",
                        lang,
                        start=f"{since:%Y-%m-%d}",
                        end=f"{until:%Y-%m-%d}",
                        count=len(needs),
                    )
                )
            )
        ]
        for need in shown:
            line = self._t(
                "staff.need_line",
                lang,
                id=need.id,
                label=label_of(need),
                people=need.in_period,
                trend=self.trend(need.trend, lang),
                status=self.status(need.status, lang),
            )
            if need.assignee:
                line += f" ({need.assignee})"
            lines.append(m.text(line))
        if total > 1:
            lines.append(m.italic(m.text(self._t("staff.page", lang, page=page, pages=total))))
        choices = [Choice(_short(f"#{n.id} {label_of(n)}"), Action.NEED, (n.id,)) for n in shown]
        turn = []
        if page > 1:
            turn.append(Choice(self._t("button.previous", lang), Action.NEEDS, (page - 1, scope)))
        if page < total:
            turn.append(Choice(self._t("button.next", lang), Action.NEEDS, (page + 1, scope)))
        return Screen("\n".join(lines), (*in_rows(choices), tuple(turn)))

    def need_card(
        self,
        need: NeedSummary,
        history: Sequence[NeedAction],
        lang: str,
        viewer: str = "",
    ) -> Screen:
        """Everything about one need, and what staff can do with it.

        The one place a need is rendered for staff: new fields of NeedSummary go here.
        """
        m, t = self.m, self._t
        lines = [
            m.bold(m.text(t("staff.card.title", lang, id=need.id, label=label_of(need)))),
            m.text(t("staff.card.status", lang, status=self.status(need.status, lang))),
        ]
        if need.assignee:
            lines.append(m.text(t("staff.card.assignee", lang, owner=need.assignee)))
        if need.entry_id:
            answer = f"{self.title(need.entry_id, lang)} ({need.entry_id})"
            lines.append(m.text(t("staff.card.entry", lang, entry=answer)))
        lines += [
            m.text(
                t(
                    "staff.card.people",
                    lang,
                    people=need.askers,
                    questions=need.questions,
                    now=need.in_period,
                    before=need.previous,
                    trend=self.trend(need.trend, lang),
                )
            ),
            m.text(
                t(
                    "staff.card.languages",
                    lang,
                    languages=", ".join(f"{k} {v}" for k, v in need.languages.items()),
                )
            ),
            m.text(
                t(
                    "staff.card.places",
                    lang,
                    places=", ".join(need.municipalities) or t("staff.card.no_places", lang),
                )
            ),
            m.text(
                t(
                    "staff.card.seen",
                    lang,
                    first=f"{need.first_seen:%Y-%m-%d}",
                    last=f"{need.last_seen:%Y-%m-%d}",
                )
            ),
            "",
            m.bold(m.text(t("staff.card.wordings", lang))),
            *(f"• {m.text(w)}" for w in (need.typical or need.wordings)[:CARD_WORDINGS]),
        ]
        if need.near_entry and need.status != "answered":
            near = f"{self.title(need.near_entry, lang)} ({need.near_entry})"
            lines += ["", m.text(t("staff.card.near", lang, entry=near))]
        if need.note:
            lines += ["", m.bold(m.text(t("staff.card.notes", lang))), m.text(need.note)]
        if history:
            lines += ["", m.bold(m.text(t("staff.card.history", lang)))]
            for action in history[-CARD_HISTORY:]:
                lines.append(m.text(f"• {self.action(action, lang, viewer)}"))
        rows: list[tuple[Choice, ...]] = []
        if need.status in ("new", "assigned"):
            rows += [
                (
                    Choice(t("button.assign", lang), Action.OWNERS, (need.id, 1)),
                    Choice(t("button.not_in_scope", lang), Action.OUT_OF_SCOPE, (need.id,)),
                ),
                (
                    Choice(t("button.note", lang), Action.NOTE, (need.id,)),
                    Choice(t("button.answer", lang), Action.ENTRIES, (need.id,)),
                ),
            ]
        else:
            rows.append((Choice(t("button.note", lang), Action.NOTE, (need.id,)),))
        if need.status != "new":
            rows.append((Choice(t("button.reopen", lang), Action.REOPEN, (need.id,)),))
        rows.append((Choice(t("button.all_needs", lang), Action.NEEDS, (1,)),))
        return Screen("\n".join(lines), tuple(rows))

    def action(self, action: NeedAction, lang: str, viewer: str = "") -> str:
        """One line of a need's history: when, who, what."""
        if action.actor == viewer:
            who = self._t("staff.actor.you", lang)
        elif action.actor == COMMAND_LINE:
            who = self._t("staff.actor.command_line", lang)
        else:
            who = self._t("staff.actor.staff", lang, code=action.actor[:6])
        key = action.action if action.action in ("assigned", "not_in_scope", "note") else ""
        if action.action == "answered":
            key = "answered"
        what = self._t(f"staff.history.{key or 'status'}", lang, detail=action.detail)
        return f"{action.acted_at:%Y-%m-%d %H:%M} UTC · {who}: {what}"

    def owners_menu(
        self, need: NeedSummary, owners: Sequence[tuple[str, str]], page: int, lang: str
    ) -> Screen:
        """Who to assign a need to: (owner, key) pairs, likely owners first, in pages."""
        total = pages(len(owners), OWNERS_PER_PAGE)
        page = min(max(page, 1), total)
        shown = owners[(page - 1) * OWNERS_PER_PAGE : page * OWNERS_PER_PAGE]
        choices = [Choice(_short(o), Action.ASSIGN, (need.id, key)) for o, key in shown]
        turn = []
        if page > 1:
            turn.append(
                Choice(self._t("button.previous", lang), Action.OWNERS, (need.id, page - 1))
            )
        if page < total:
            turn.append(Choice(self._t("button.next", lang), Action.OWNERS, (need.id, page + 1)))
        back = (Choice(self._t("button.back_to_need", lang), Action.NEED, (need.id,)),)
        text = self.m.text(self._t("staff.assign.choose", lang, id=need.id, label=label_of(need)))
        return Screen(text, (*in_rows(choices), tuple(turn), back))

    def entries_menu(
        self, need: NeedSummary, entry_ids: Sequence[str], lang: str, typed: str = ""
    ) -> Screen:
        """Entries to answer a need with: the nearest ones, or those found by a typed title."""
        t = self._t
        if typed:
            key = "staff.search.results" if entry_ids else "staff.search.none"
            text = t(key, lang, text=typed, id=need.id)
        else:
            key = "staff.answer.choose" if entry_ids else "staff.answer.none_near"
            text = t(key, lang, id=need.id, label=label_of(need))
        choices = [
            Choice(_short(self.title(e, lang)), Action.PICK, (need.id, e)) for e in entry_ids
        ]
        back = (Choice(t("button.back_to_need", lang), Action.NEED, (need.id,)),)
        return Screen(self.m.text(text), (*in_rows(choices), back))

    def confirm_answer(
        self, need: NeedSummary, entry_id: str, card: str, waiting: int, lang: str
    ) -> Screen:
        """The entry as users will get it, and a button to answer the need with it."""
        t = self._t
        head = self.m.bold(
            self.m.text(t("staff.answer.confirm", lang, id=need.id, waiting=waiting))
        )
        rows = (
            (Choice(t("button.confirm_answer", lang), Action.ANSWER, (need.id, entry_id)),),
            (Choice(t("button.back_to_need", lang), Action.ENTRIES, (need.id,)),),
        )
        return Screen(f"{head}\n\n{card}", rows)

    def answered(
        self,
        need_id: int,
        entry_id: str,
        variants: Sequence[str],
        where: str,
        waiting: int,
        lang: str,
    ) -> Screen:
        """Done: how many people will be told, and the wordings to add to the entry's file."""
        m, t = self.m, self._t
        lines = [
            m.bold(m.text(t("staff.answered", lang, id=need_id, entry=entry_id, waiting=waiting)))
        ]
        if variants:
            lines += [
                "",
                m.text(t("staff.variants", lang, entry=entry_id, file=where or "?")),
                *(f"- {m.text(v)}" for v in variants),
            ]
        else:
            lines += ["", m.text(t("staff.variants_none", lang, entry=entry_id))]
        back = (Choice(t("button.back_to_need", lang), Action.NEED, (need_id,)),)
        return Screen("\n".join(lines), (back,))

    # -- partners --------------------------------------------------------------------------

    def partners(self, partners: Sequence[Partner], invites: Sequence[Invite], lang: str) -> Screen:
        """Active partner links with a revoke button each, and invitations not yet used."""
        m, t = self.m, self._t
        if not partners and not invites:
            return Screen(m.text(t("staff.partners_none", lang)))
        lines = [m.bold(m.text(t("staff.partners_title", lang)))]
        for p in partners:
            last = f"{p.nudged_at:%Y-%m-%d}" if p.nudged_at else "-"
            lines.append(
                m.text(
                    t(
                        "staff.partner_line",
                        lang,
                        id=p.id,
                        owner=p.owner,
                        date=f"{p.joined_at:%Y-%m-%d}",
                        last=last,
                    )
                )
            )
        if invites:
            lines += ["", m.bold(m.text(t("staff.invites", lang)))]
            lines += [
                m.text(t("staff.invite_line", lang, owner=i.owner, date=f"{i.expires_at:%Y-%m-%d}"))
                for i in invites
            ]
        choices = [
            Choice(t("button.revoke", lang, id=p.id), Action.REVOKE, (p.id,)) for p in partners
        ]
        return Screen("\n".join(lines), in_rows(choices, 2))

    def partner_list(self, items: PartnerList, lang: str) -> Screen:
        """A partner's monthly list: only their own entries, each with a "still right" button."""
        m, t = self.m, self._t
        if items.empty:
            return Screen(m.text(t("partner.nothing", lang, owner=items.owner)))
        lines = [m.bold(m.text(t("partner.title", lang, owner=items.owner)))]
        if items.stale:
            lines += ["", m.bold(m.text(t("partner.stale", lang)))]
            for e in items.stale:
                checked = f"{e.last_verified}" if e.last_verified else t("partner.never", lang)
                why = [t(f"partner.why.{flag}", lang) for flag in e.flags if flag != "never"]
                lines.append(
                    m.text(
                        f"• {self.title(e.entry_id, lang)} ({e.entry_id})"
                        + t("label.colon", lang)
                        + t("partner.checked", lang, date=checked)
                        + "".join(f"; {w}" for w in why)
                    )
                )
        if items.unhelpful:
            lines += ["", m.bold(m.text(t("partner.unhelpful", lang)))]
            for entry_id, helpful, unhelpful in items.unhelpful:
                lines.append(
                    m.text(
                        f"• {self.title(entry_id, lang)} ({entry_id})"
                        + t("label.colon", lang)
                        + t("partner.votes", lang, bad=unhelpful, total=helpful + unhelpful)
                    )
                )
        if items.needs:
            lines += ["", m.bold(m.text(t("partner.needs", lang)))]
            for need in items.needs:
                lines.append(
                    m.text(f"• {label_of(need)} " + t("partner.people", lang, people=need.askers))
                )
        lines += ["", m.italic(m.text(t("partner.how", lang)))]
        choices = [
            Choice(_short(t("button.still_right", lang, entry=e)), Action.STILL_RIGHT, (e,))
            for e in items.entry_ids
        ]
        return Screen("\n".join(lines), in_rows(choices))

    # -- the weekly digest -----------------------------------------------------------------

    def digest(self, digest: Digest, lang: str) -> str:
        """The weekly message to staff (the report goes with it as a file)."""
        m, t = self.m, self._t
        view = digest.this_week
        none = t("digest.none", lang)
        lines = [
            m.bold(
                m.text(
                    t(
                        "digest.title",
                        lang,
                        start=f"{view.since:%Y-%m-%d}",
                        end=f"{view.until:%Y-%m-%d}",
                    )
                )
            ),
            m.text(t("digest.questions", lang, count=view.total, before=digest.last_week_total)),
            m.text(
                t(
                    "digest.rate",
                    lang,
                    rate=round(view.answer_rate * 100),
                    before=round(digest.last_week_rate * 100),
                )
            ),
            "",
            m.bold(m.text(t("digest.top", lang))),
        ]
        lines += [
            m.text(
                f"{i}. #{n.id} {label_of(n)} · "
                + t("digest.need", lang, people=n.in_period, trend=self.trend(n.trend, lang))
                + f" · {self.status(n.status, lang)}"
            )
            for i, n in enumerate(digest.top, 1)
        ] or [m.text(none)]
        lines += ["", m.bold(m.text(t("digest.rising", lang)))]
        lines += [
            m.text(f"• #{n.id} {label_of(n)} ({n.previous} → {n.in_period})") for n in digest.rising
        ] or [m.text(none)]
        lines += ["", m.bold(m.text(t("digest.unhelpful", lang)))]
        lines += [
            m.text(f"• {entry_id}: " + t("partner.votes", lang, bad=bad, total=good + bad))
            for entry_id, good, bad in digest.unhelpful[:10]
        ] or [m.text(none)]
        lines += [
            "",
            m.bold(
                m.text(
                    t("digest.stale", lang, count=len(digest.stale), new=len(digest.newly_stale))
                )
            ),
        ]
        lines += [m.text(f"• {e.entry_id} ({e.owner})") for e in digest.newly_stale[:10]]
        lines += ["", m.bold(m.text(t("digest.confirmed", lang)))]
        lines += [self._confirmed(c, lang) for c in digest.confirmed] or [m.text(none)]
        lines += ["", m.italic(m.text(t("digest.report", lang)))]
        return "\n".join(lines)

    def _confirmed(self, confirmation: Confirmation, lang: str) -> str:
        return self.m.text(
            "• "
            + self._t(
                "digest.confirmed_line",
                lang,
                entry=confirmation.entry_id,
                owner=confirmation.owner,
                date=f"{confirmation.confirmed_at:%Y-%m-%d}",
            )
        )
