"""Staff insights: refresh and list emerging needs, triage them, close the loop, usage overview.

Async glue between the pure needs clustering (bot.needs) and the database (bot.storage);
the command line, the HTML report and the staff Telegram commands all use these functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import yaml

from bot.errors import UserError
from bot.knowledge.model import DEFAULT_LANGUAGE, DEFAULT_REGION, KnowledgeBase, Region
from bot.needs.grouping import Need, NeedSummary, assign, merge_triage, summarise
from bot.needs.status import STATUSES
from bot.storage import FollowUp, Storage, Usage
from bot.text import normalise

if TYPE_CHECKING:  # the embedding model and numpy load only when needs are grouped
    from bot.needs.groups import LearntWords, Vectoriser, Vectors

# Who changed a need, when it was not a staff member in Telegram (whose id is stored hashed).
COMMAND_LINE = "command line"
# How often a refresh of the needs regroups every stored question (`assign(regroup=True)`).
# Refreshed 30 times as questions arrive, the four tune sets (3 arrival orders) scored mean ARI
# 0.543 on words without it and 0.617 regrouping at every refresh (0.599 at every fifth);
# with the encoder 0.646 and 0.683 (0.680); grouped all at once, 0.617 and 0.690
# (benchmarks/needs_refresh.py). At 100,000 questions it makes a 1.7 s refresh 4 s
# (benchmarks/needs_log.py), so it runs at the first refresh of each day, not at every one.
REGROUP_EVERY = timedelta(days=1)
# FAQ questions in these languages are compared with every need (`_near_faqs`): the knowledge
# base's own languages, in which many newcomers write whatever language they read.
BASE_LANGUAGES = frozenset({DEFAULT_LANGUAGE, "fr"})


class InsightError(UserError):
    """A staff request that cannot be done (no such need, no such entry...)."""

    exit_code = 2


def vectoriser_for(
    texts: list[str],
    prepare: Callable[[str], str] | None = None,
    knowledge: KnowledgeBase | None = None,
    sentences: Sequence[str | None] = (),
    *,
    learnt: LearntWords | None = None,
) -> Vectoriser:
    """The vectoriser that groups and names needs: it has learnt every logged question's words
    (rarity, typo repair) and never "repairs" a word the knowledge base uses; given the
    sentence vectors stored with the questions, it mixes them in (`Vectoriser.learn_sentences`).
    With `learnt` (what an earlier one learnt from the questions in needs), it takes that up
    and `texts` are only the questions that came since."""
    from bot.matching.meaning import default_embedder  # noqa: PLC0415 - loads numpy only when needed
    from bot.needs.groups import Vectoriser  # noqa: PLC0415 - loads numpy only when needed

    vocabulary = {w for q in _faq_questions(knowledge) for w in (prepare or normalise)(q).split()}
    vectoriser = Vectoriser(
        default_embedder(),
        prepare or normalise,
        vocabulary=vocabulary,
        place_words=region_of(knowledge).place_words,
    )
    if learnt is not None:
        vectoriser.restore(learnt)
    vectoriser.learn(texts)
    if learnt is None:
        vectoriser.learn_sentences(texts, sentences)
    return vectoriser


def region_of(knowledge: KnowledgeBase | None) -> Region:
    """The knowledge base's region profile (the neutral one without a knowledge base)."""
    return knowledge.region if knowledge is not None else DEFAULT_REGION


def _faq_questions(knowledge: KnowledgeBase | None) -> list[str]:
    if knowledge is None:
        return []
    return [q for faq in knowledge.faqs.values() for q in _questions_of(faq)]


async def refresh_needs(
    storage: Storage,
    prepare: Callable[[str], str] | None = None,
    knowledge: KnowledgeBase | None = None,
    *,
    regroup: bool | None = None,
) -> int:
    """Put every unanswered question not yet grouped into a need, then merge needs that drifted
    close: the older id keeps the questions and takes over the triage of the one it absorbed.
    Returns how many questions were added.

    Once every REGROUP_EVERY (or when `regroup` says so), the refresh also reads every stored
    question again and lets it move to the need that now suits it best (`assign`); the first
    grouping of a log counts as one. Between regroupings it takes up what the last refresh
    learnt (`NeedStore.learnt`: word counts, the sentence vectors' common part) and reads only
    the new questions; with nothing stored (after an erasure or the purge), it learns the
    whole log again without regrouping.

    Reading the ungrouped questions, grouping them and saving must not interleave with another
    refresh (two would both create the same need), so the whole of it holds the "needs" lock:
    across replicas on PostgreSQL, across processes on SQLite.
    """
    store = storage.needs
    async with storage.db.exclusive("needs"):
        new = await store.unassigned()
        if not new:
            return 0
        if regroup is None:
            regroup = await storage.jobs.claim("needs-regroup", REGROUP_EVERY)
        generation, learnt = await store.learnt()
        if regroup:
            learnt = None
        existing = await store.all(with_members=learnt is None)
        # Grouping is arithmetic that takes seconds on a big log: it runs in a worker thread,
        # so the bot keeps answering newcomers meanwhile (the event loop never waits on it).
        if learnt is None:
            # A full grouping: learn the words of every question in a need, and the new ones.
            logged = [m for n in existing for m in n.members if m.text] + new
            vectoriser = await asyncio.to_thread(
                vectoriser_for,
                [q.text for q in logged],
                prepare,
                knowledge,
                [q.vector for q in logged],
            )
        else:
            # Between regroupings, what the last grouping learnt is taken up and only the new
            # questions are read: at 100,000 logged questions, a refresh adding 1,000 went
            # from 1.7-3.1 s to 0.14-0.16 s (generated log), from 3.9-4.7 s to 0.44-0.56 s
            # (built from CLINC150, 1,600 needs; benchmarks/needs_log.py).
            vectoriser = await asyncio.to_thread(
                vectoriser_for, [q.text for q in new], prepare, knowledge, learnt=learnt
            )
            await _with_members(storage, existing, vectoriser.dim)
        next_id = await store.next_id()
        result = await asyncio.to_thread(
            assign, new, existing, vectoriser, next_id, regroup=regroup
        )
        by_id = {n.id: n for n in existing}
        fresh = {n.id: n for n in result.created}
        merged: dict[int, dict[str, str]] = {}
        for absorbed, kept in sorted(result.merged.items()):
            # A regrouping can empty an old need into a new one: the new one takes its triage.
            kept_need = by_id.get(kept) or fresh.get(kept)
            gone = by_id.get(absorbed)
            if gone is None:
                continue  # a need created in this pass: its questions already point at `kept`
            # Storage moves its questions that a regrouping did not move elsewhere.
            changes = merge_triage(kept_need, gone) if kept_need is not None else {}
            for field_name, value in changes.items():
                setattr(kept_need, field_name, value)
            merged[absorbed] = {"kept": str(kept), **changes}
        created = [n for n in result.created if n.id not in result.merged]
        left_out = [q.text for q in new if q.question_id not in result.memberships]
        learnt = await asyncio.to_thread(vectoriser.learnt, left_out)
        await store.save(
            dict(result.memberships),
            created,
            list(result.centroids.values()),
            merged,
            learnt,
            generation,
        )
        return len(new) - len(left_out)


async def _with_members(storage: Storage, needs: Sequence[Need], dim: int) -> None:
    """Load the members of the needs whose stored centroid cannot be used (none yet, or of
    another size), so `assign` can place them by their questions."""
    for need in needs:
        if need.centroid is None or need.centroid.total.shape != (dim,):
            found = await storage.needs.need(need.id)
            need.members = found.members if found is not None else []


def period(
    since: datetime | None, until: datetime | None, default_days: int = 7
) -> tuple[datetime, datetime]:
    """The reporting window: by default the last week up to now."""
    # Timestamps are stored to the second; a second of slack keeps "just now" inside.
    end = until or datetime.now(UTC) + timedelta(seconds=1)
    start = since or end - timedelta(days=default_days)
    if start >= end:
        raise InsightError("--since must be before --until")
    return start, end


async def list_needs(
    storage: Storage,
    since: datetime,
    until: datetime,
    *,
    status: str | None = None,
    prepare: Callable[[str], str] | None = None,
    knowledge: KnowledgeBase | None = None,
) -> list[NeedSummary]:
    """Needs with activity up to `until`, rising ones first, then biggest in the period."""
    await refresh_needs(storage, prepare, knowledge)
    everything = await storage.needs.all()
    return await asyncio.to_thread(  # seconds on a big log: off the event loop, as grouping
        _summaries, everything, since, until, status, prepare, knowledge
    )


def _summaries(
    everything: list[Need],
    since: datetime,
    until: datetime,
    status: str | None,
    prepare: Callable[[str], str] | None,
    knowledge: KnowledgeBase | None,
) -> list[NeedSummary]:
    """`list_needs`'s summaries of needs loaded with their members (pure arithmetic)."""
    texts = [m.text for n in everything for m in n.members if m.text]
    vectoriser = vectoriser_for(texts, prepare, knowledge)
    # Each distinct wording is read once, not once per need and again for the FAQs: listing
    # 100,000 questions in 1,609 needs with the knowledge base went from 16.1 / 13.5 s to
    # 13.6 / 10.3 s (two alternating runs; benchmarks/RESULTS.md, issue 12).
    row = {text: k for k, text in enumerate(dict.fromkeys(texts))}
    table = vectoriser.vectors(list(row))

    def vectors(some: Sequence[str]) -> Vectors:
        return table[[row[t] for t in some]]

    near = _near_faqs(everything, vectoriser, knowledge, vectors)
    summaries = []
    for need in everything:
        if status is not None and need.status != status:
            continue
        need.members = [m for m in need.members if m.asked_at < until]
        if not need.members:
            continue
        summaries.append(
            summarise(
                need,
                since,
                until,
                vectoriser,
                near.get(need.id),
                region_of(knowledge).places_in,
                vectors,
            )
        )
    summaries.sort(key=lambda s: (not s.rising, -s.in_period, -s.askers, -s.change, s.id))
    return summaries


def _near_faqs(
    needs: list[Need],
    vectoriser: Vectoriser,
    knowledge: KnowledgeBase | None,
    vectors: Callable[[Sequence[str]], Vectors] | None = None,
) -> dict[int, str]:
    """Needs that an existing FAQ is close to (unanswered only because of the wording);
    `vectors` reads the needs' questions (by default, `vectoriser.vectors`).

    A need is compared with the FAQ questions in English, in French and in the languages its
    own questions were asked in: the knowledge base holds 18,844 questions in 12 languages,
    1,560 of them in English and French, and reading all of them took most of a need's
    detail (3 s of 3.5 s at 100,000 logged questions).
    """
    if knowledge is None:
        return {}
    import numpy as np  # noqa: PLC0415 - loads numpy only when needed

    from bot.needs.groups import Centroid, near_answers  # noqa: PLC0415 - loads numpy only when needed

    centroids, languages = [], []
    for need in needs:
        if need.status == "answered":
            continue
        asked = (vectors or vectoriser.vectors)([m.text for m in need.members if m.text])
        if asked.any():
            centroids.append(Centroid(need.id, asked.sum(axis=0), len(asked)))
            languages.append({*BASE_LANGUAGES, *(m.language for m in need.members)})
    wanted = set().union(*languages)
    rows = [
        (faq.id, language, q)
        for faq in knowledge.faqs.values()
        for language, questions in _questions_by_language(faq).items()
        if language in wanted
        for q in questions
    ]
    if not rows or not centroids:
        return {}
    faq_vectors = vectoriser.vectors([q for _, _, q in rows])
    allowed = [np.array([lang in these for _, lang, _ in rows]) for these in languages]
    found = near_answers(centroids, faq_vectors, [e for e, _, _ in rows], allowed=allowed)
    return {n.need_id: n.entry_id for n in found}


async def show_need(
    storage: Storage,
    need_id: int,
    since: datetime,
    until: datetime,
    prepare: Callable[[str], str] | None = None,
    knowledge: KnowledgeBase | None = None,
) -> NeedSummary:
    """One need in detail (label, typical wordings, trend, a close FAQ), as `list_needs`
    shows it.

    With what grouping learnt stored (`NeedStore.learnt`), only this need's questions are
    read: the word counts give the same rarity as learning the whole log (100,000 questions
    in 1,609 needs: 10-13 s for every need's summary, against a fraction of a second).
    """
    await refresh_needs(storage, prepare, knowledge)
    need = await storage.needs.need(need_id)
    if need is None:
        raise InsightError(f"there is no need number {need_id}")
    _, learnt = await storage.needs.learnt()
    if learnt is not None and any(m.asked_at < until for m in need.members):
        return await asyncio.to_thread(_summary, need, since, until, learnt, prepare, knowledge)
    for summary in await list_needs(storage, since, until, prepare=prepare, knowledge=knowledge):
        if summary.id == need_id:
            return summary
    return summarise(need, since, until, places_in=region_of(knowledge).places_in)


def _summary(
    need: Need,
    since: datetime,
    until: datetime,
    learnt: LearntWords,
    prepare: Callable[[str], str] | None,
    knowledge: KnowledgeBase | None,
) -> NeedSummary:
    """`show_need`'s summary of one need, from what grouping learnt (pure arithmetic)."""
    vectoriser = vectoriser_for([], prepare, knowledge, learnt=learnt)
    vectoriser.read(m.text for m in need.members if m.text)
    near = _near_faqs([need], vectoriser, knowledge)  # all its questions, as `list_needs`
    shown = replace(need, members=[m for m in need.members if m.asked_at < until])
    places_in = region_of(knowledge).places_in
    return summarise(shown, since, until, vectoriser, near.get(need.id), places_in)


async def suggest_entry(
    storage: Storage,
    need_id: int,
    knowledge: KnowledgeBase,
    prepare: Callable[[str], str] | None = None,
) -> str | None:
    """The existing FAQ close enough to answer a need as it stands, if there is one."""
    now = datetime.now(UTC)
    summary = await show_need(storage, need_id, now - timedelta(days=7), now, prepare, knowledge)
    return summary.near_entry


async def set_need(
    storage: Storage,
    need_id: int,
    *,
    status: str | None = None,
    note: str | None = None,
    assignee: str | None = None,
    actor: str = COMMAND_LINE,
) -> None:
    """Change a need's status, note or assignee; the change goes into the need's history."""
    if status is not None and status not in STATUSES:
        raise InsightError(f"status must be one of {', '.join(STATUSES)}")
    if status == "answered":
        raise InsightError("to mark a need answered, use `needs answer ID --entry ENTRY_ID`")
    if assignee:
        action, detail = "assigned", assignee
    elif note is not None:
        action, detail = "note", note
    else:
        action, detail = "status", status or ""
    if not await storage.needs.update(
        need_id,
        status=status,
        note=note,
        assignee=assignee,
        actor=actor,
        action=action,
        detail=detail,
    ):
        raise InsightError(f"there is no need number {need_id}")


async def add_note(storage: Storage, need_id: int, text: str, actor: str) -> None:
    """Add a note below the need's earlier notes (the command line's --note replaces them)."""
    need = await storage.needs.need(need_id)
    if need is None:
        raise InsightError(f"there is no need number {need_id}")
    note = f"{need.note}\n{text}" if need.note else text
    if not await storage.needs.update(need_id, note=note, actor=actor, action="note", detail=text):
        raise InsightError(f"there is no need number {need_id}")


@dataclass(frozen=True)
class Answered:
    """A need linked to the entry that now answers it."""

    need: NeedSummary
    entry_id: str
    variants_yaml: str
    waiting: int  # people who asked to be told, to be messaged by the running bot
    variants: tuple[str, ...] = ()  # wordings the entry does not have yet
    where: str = ""  # the file (and line) of the entry, to add them to


async def answer_need(
    storage: Storage,
    need_id: int,
    entry_id: str,
    knowledge: KnowledgeBase,
    actor: str = COMMAND_LINE,
) -> Answered:
    """Mark a need answered by an entry; give the question variants to paste into its YAML."""
    entry = knowledge.entry(entry_id)
    if entry is None:
        raise InsightError(f"there is no entry with the id {entry_id!r} in the knowledge base")
    need = await storage.needs.need(need_id)
    if need is None:
        raise InsightError(f"there is no need number {need_id}")
    await storage.needs.update(
        need_id,
        status="answered",
        entry_id=entry_id,
        actor=actor,
        action="answered",
        detail=entry_id,
    )
    need.status, need.entry_id = "answered", entry_id
    now = datetime.now(UTC)
    summary = summarise(need, now - timedelta(days=7), now, places_in=knowledge.region.places_in)
    known = {q.casefold() for q in _questions_of(entry)}
    variants = [w for w in summary.wordings if w.casefold() not in known and "[" not in w]
    where = knowledge.locations.get(entry_id)
    header = f"# Add these to the questions of {entry_id}" + (f" ({where})" if where else "")
    body = yaml.safe_dump(variants, allow_unicode=True, default_flow_style=False, width=1000)
    waiting = len(await storage.follow_ups.pending(need_id))
    return Answered(
        summary, entry_id, f"{header}\n{body}", waiting, tuple(variants), str(where or "")
    )


def _questions_of(entry: object) -> list[str]:
    return [q for qs in _questions_by_language(entry).values() for q in qs]


def _questions_by_language(entry: object) -> dict[str, list[str]]:
    questions = getattr(entry, "questions", [])
    if isinstance(questions, dict):
        return {str(language): list(qs) for language, qs in questions.items()}
    return {DEFAULT_LANGUAGE: list(questions)}


Send = Callable[[int, str, str], Awaitable[bool]]  # chat id, entry id, language -> delivered


async def deliver_follow_ups(
    storage: Storage,
    open_token: Callable[[str], int | None],
    send: Send,
    delivered_hook: Callable[[str], Awaitable[None]] | None = None,
) -> int:
    """Message everyone waiting on a need that is now answered; each person gets one message.

    Safe to run on several replicas at once: each person's follow-ups are claimed with a row
    lock (bot.storage.follow_ups.FollowUps.deliver). `delivered_hook` runs once per delivered
    message with the entry id, after its claim committed (it may write to the database).
    """
    delivered = 0
    for need in await storage.needs.all(with_members=False):
        entry_id = need.entry_id
        if need.status != "answered" or not entry_id:
            continue

        async def one(follow_up: FollowUp, entry_id: str = entry_id) -> bool:
            # Undeliverable (blocked the bot, token from an old secret) is still marked sent:
            # never retry forever, and drop the sealed chat id either way.
            chat_id = open_token(follow_up.chat_token)
            return chat_id is not None and await send(chat_id, entry_id, follow_up.language)

        sent = await storage.follow_ups.deliver(need.id, one)
        delivered += sent
        if delivered_hook is not None:
            for _ in range(sent):
                await delivered_hook(entry_id)
    return delivered


@dataclass(frozen=True)
class Overview:
    """The usage overview for a period, with the top needs."""

    since: datetime
    until: datetime
    usage: Usage
    needs: list[NeedSummary]
    topics: dict[str, int]
    unhelpful: list[tuple[str, int, int]]  # entry, helpful, not helpful; most unhelpful first
    # Whose report it is: the partnership's name heads the page.
    region: Region = DEFAULT_REGION

    @property
    def total(self) -> int:
        """Questions in the period."""
        return sum(n for _, n, _ in self.usage.by_day)

    @property
    def answered(self) -> int:
        """Questions answered straight away."""
        return self.usage.outcomes.get("answered", 0)

    @property
    def answer_rate(self) -> float:
        """Share of questions answered (0-1)."""
        return self.answered / self.total if self.total else 0.0

    def weeks(self) -> list[tuple[str, int, int]]:
        """Questions and answered per ISO week."""
        weeks: dict[str, list[int]] = {}
        for day, count, answered in self.usage.by_day:
            year, week, _ = datetime.strptime(day, "%Y-%m-%d").isocalendar()
            bucket = weeks.setdefault(f"{year}-W{week:02d}", [0, 0])
            bucket[0] += count
            bucket[1] += answered
        return [(w, c, a) for w, (c, a) in weeks.items()]


async def overview(
    storage: Storage,
    since: datetime,
    until: datetime,
    knowledge: KnowledgeBase | None = None,
    prepare: Callable[[str], str] | None = None,
) -> Overview:
    """Everything the stats command, the report and /stats show."""
    usage = await storage.usage.between(since, until)
    needs = await list_needs(storage, since, until, prepare=prepare, knowledge=knowledge)
    topics: dict[str, int] = {}
    if knowledge is not None:
        for entry_id, count in usage.top_entries:
            entry = knowledge.entry(entry_id)
            topic = knowledge.topic_of(entry) if entry else None
            name = topic or "(no topic)"
            topics[name] = topics.get(name, 0) + count
    unhelpful = sorted(
        ((e, h, n) for e, (h, n) in usage.feedback.items() if n),
        key=lambda t: (-t[2], t[1], t[0]),
    )
    topics_by_use = dict(sorted(topics.items(), key=lambda kv: -kv[1]))
    return Overview(since, until, usage, needs, topics_by_use, unhelpful, region_of(knowledge))


async def purge(storage: Storage, retention_days: int, now: datetime | None = None) -> int:
    """Remove question text older than the retention period; counts stay."""
    if retention_days < 1:
        raise InsightError("retention must be at least one day")
    moment = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    return await storage.questions.purge_text(moment)
