"""Emerging needs: group unanswered questions into needs staff can count, trend and act on.

Pure (no storage, no Telegram). Grouping is by meaning (bot.needs.groups): each need keeps a
running centroid, new questions join the nearest need or start one, and needs that drift
close merge into the older one, which keeps its id and takes over the triage (status, note,
assignee) of the one it absorbed. A need is named by its most distinctive words, shown with
its 3 most typical wordings, flagged when it rises fast this week (a Poisson test against the
previous 4 weeks) and when an existing FAQ is close to it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and scipy load only when needs are grouped (partner tools start fast)
    from bot.needs.groups import Centroid, NeedGroups, Vectoriser, Vectors


@dataclass(frozen=True)
class Asked:
    """One logged question as the clustering sees it (text already redacted)."""

    question_id: int
    text: str
    asked_at: datetime
    user_hash: str | None = None
    language: str = "en"
    # The sentence encoder's vector stored with it (bot.needs.stored), when there is one.
    vector: str | None = field(default=None, repr=False)


@dataclass
class Need:
    """A group of questions about the same thing; `terms`: its words when it was created."""

    id: int
    terms: frozenset[str]
    representative: str
    status: str = "new"
    note: str = ""
    assignee: str = ""
    entry_id: str | None = None
    members: list[Asked] = field(default_factory=list)
    centroid: Centroid | None = None


@dataclass(frozen=True)
class Assignment:
    """What one regrouping decided, for storage to apply in one transaction."""

    memberships: dict[int, int]  # question id -> need id (new questions, and moved ones)
    created: list[Need]
    merged: dict[int, int]  # absorbed need id -> the older need id that keeps its questions
    centroids: dict[int, Centroid]  # every need's centroid after this pass


def assign(
    questions: Sequence[Asked],
    existing: Sequence[Need],
    vectoriser: Vectoriser,
    next_id: int,
    *,
    regroup: bool = False,
) -> Assignment:
    """Put new questions into the nearest existing need or new ones, then merge needs that
    drifted close (keeping the older id).

    `vectoriser` must already have learnt every logged question's words (rarity and typo
    repair see the whole log). An existing need is placed by its stored centroid, or, if it
    has none yet, by its members' vectors. Only the new questions are refined (moved to the
    need whose centroid suits them best once the batch is in), so between regroupings the
    questions staff have seen stay where they are.

    With `regroup` (the periodic pass: bot.insights.REGROUP_EVERY), every stored question is
    read again with today's word rarity, each need's centroid is rebuilt from its members
    (where all of them still have their text), and every question may move to the need that
    now suits it best, then needs merge, twice over (REGROUP_ROUNDS). Fed in batches, the
    online pass keeps a need that was split early split; regrouping recovers what grouping all
    at once finds (benchmarks/RESULTS.md, issue 12). A need left with no question hands its
    triage on, as in a merge, to the need most of its questions went to.
    """
    import numpy as np  # noqa: PLC0415 - loads numpy only when needed

    from bot.needs.groups import (  # noqa: PLC0415 - loads numpy only when needed
        REGROUP_ROUNDS,
        Centroid,
        NeedGroups,
        resolve,
    )

    stored: list[Asked] = []  # with `regroup`: the stored questions read again
    was: list[int | None] = []  # the need each of them sits in
    restored: list[Centroid] = []
    rebuilt: list[tuple[Centroid, int]] = []  # a need's centroid made from its rows from here
    for need in existing:
        members = [m for m in need.members if m.text]
        centroid = need.centroid
        if centroid is not None and centroid.total.shape != (vectoriser.dim,):
            centroid = None  # stored before sentence vectors came (or went): recomputed
        if regroup and members:
            if centroid is None or len(members) == len(need.members):
                centroid = Centroid(need.id, np.zeros(vectoriser.dim, np.float32), len(members))
                rebuilt.append((centroid, len(stored)))
            stored += members
            was += [need.id] * len(members)
        elif centroid is None and members:
            vectors = vectoriser.vectors([m.text for m in members], [m.vector for m in members])
            centroid = Centroid(need.id, vectors.sum(axis=0), len(vectors))
        if centroid is not None and centroid.count > 0:
            restored.append(centroid)
    rows = [*stored, *questions]
    vectors = vectoriser.vectors([q.text for q in rows], [q.vector for q in rows])
    for centroid, start in rebuilt:
        centroid.total = vectors[start : start + centroid.count].sum(axis=0)
    groups = NeedGroups(
        [c for c in restored if c.total.any()],
        next_id=next_id,
        join=vectoriser.join,
        merge=vectoriser.merge,
        dim=vectoriser.dim,
    )
    was = [nid if nid in groups else None for nid in was]
    was += groups.add(vectors[len(stored) :]).needs
    placed = was
    merged: dict[int, int] = {}
    for _ in range(REGROUP_ROUNDS if regroup else 1):
        placed = groups.refine(
            vectors, [resolve(merged, n) if n is not None else None for n in placed]
        )
        more = groups.merge()
        merged = {absorbed: resolve(more, kept) for absorbed, kept in merged.items()} | more
    now = [resolve(merged, nid) if nid is not None else None for nid in placed]
    memberships = {
        q.question_id: nid
        for k, (q, nid) in enumerate(zip(rows, now, strict=True))
        if nid is not None and (k >= len(stored) or nid != was[k])
    }
    merged.update(_emptied(existing, groups, merged, was[: len(stored)], now[: len(stored)]))
    known = {n.id for n in existing}
    texts: dict[int, list[str]] = defaultdict(list)
    for q, nid in zip(rows, now, strict=True):
        if nid is not None and nid not in known:
            texts[nid].append(q.text)
    created = [
        Need(nid, frozenset(w for t in texts[nid] for w in vectoriser.words(t)), texts[nid][0])
        for nid in sorted(texts)
    ]
    return Assignment(memberships, created, merged, {c.need_id: c for c in groups.centroids()})


def _emptied(
    existing: Sequence[Need],
    groups: NeedGroups,
    merged: Mapping[int, int],
    was: Sequence[int | None],
    now: Sequence[int | None],
) -> dict[int, int]:
    """{need id: the need most of its questions went to} for each existing need a regrouping
    left with no question (`was[k]` / `now[k]`: stored question k's need before and after)."""
    went: dict[int, Counter[int]] = defaultdict(Counter)
    for before, after in zip(was, now, strict=True):
        if before is None or after is None or before in groups or before in merged:
            continue
        went[before][after] += 1
    return {n.id: went[n.id].most_common(1)[0][0] for n in existing if went[n.id]}


def merge_triage(kept: Need, absorbed: Need) -> dict[str, str]:
    """The triage fields the kept (older) need takes from one it absorbed: its own where staff
    set them, the absorbed need's otherwise, and both notes when both have one."""
    changes: dict[str, str] = {}
    if kept.status == "new" and absorbed.status != "new":
        changes["status"] = absorbed.status
    if absorbed.note and absorbed.note not in kept.note:
        changes["note"] = f"{kept.note} / {absorbed.note}" if kept.note else absorbed.note
    if absorbed.assignee and not kept.assignee:
        changes["assignee"] = absorbed.assignee
    if absorbed.entry_id and not kept.entry_id:
        changes["entry_id"] = absorbed.entry_id
    return changes


def representative_of(members: Sequence[Asked]) -> str:
    """The most common wording (ties: the shortest, then alphabetical)."""
    counts = Counter(" ".join(m.text.split()) for m in members)
    return min(counts, key=lambda text: (-counts[text], len(text), text))


@dataclass(frozen=True)
class NeedSummary:
    """What staff see for one need over a period."""

    id: int
    representative: str
    status: str
    assignee: str
    note: str
    entry_id: str | None
    questions: int  # all questions in the need
    askers: int  # distinct people; each counts once however often they asked
    in_period: int  # distinct askers in the period
    previous: int  # distinct askers in the period before
    languages: dict[str, int]
    municipalities: dict[str, int]
    first_seen: datetime
    last_seen: datetime
    terms: tuple[str, ...]
    wordings: tuple[str, ...]
    label: str = ""  # its most distinctive words ("cricket club")
    typical: tuple[str, ...] = ()  # the 3 wordings closest to its centroid
    this_week: int = 0  # askers in the 7 days up to the end of the period
    usual_week: float = 0.0  # askers a week, on average over the 4 weeks before
    rising: bool = False  # this week is far above the usual rate (`groups.trend`)
    near_entry: str | None = None  # an existing FAQ close enough to answer it as it stands

    @property
    def name(self) -> str:
        """What staff read: the label, or the most common wording when there is none."""
        return self.label or self.representative

    @property
    def trend(self) -> str:
        """ "rising" (flagged), "new", "up", "down" or "steady", comparing this period with the
        one before."""
        if self.rising:
            return "rising"
        if self.previous == 0:
            return "new" if self.in_period else "steady"
        if self.in_period > self.previous * 1.2:
            return "up"
        if self.in_period < self.previous * 0.8:
            return "down"
        return "steady"

    @property
    def change(self) -> int:
        """Askers this period minus askers in the previous one."""
        return self.in_period - self.previous


def _askers(members: Iterable[Asked]) -> int:
    # Questions asked without a user (the console) each count as their own asker.
    return len({m.user_hash or f"q{m.question_id}" for m in members})


def summarise(
    need: Need,
    since: datetime,
    until: datetime,
    vectoriser: Vectoriser | None = None,
    near_entry: str | None = None,
    places_in: Callable[[str], list[str]] = lambda _text: [],
    vectors: Callable[[Sequence[str]], Vectors] | None = None,
) -> NeedSummary:
    """Counts, languages, places, dates, trend, and (given the vectoriser that grouped it) a
    label and typical wordings for one need with its members loaded. `places_in` names the
    municipalities a question mentions (the region profile's); `vectors` reads texts as
    `vectoriser.vectors` does (from rows computed once for every need, say)."""
    members = sorted(need.members, key=lambda m: (m.asked_at, m.question_id))
    length = until - since
    current = [m for m in members if since <= m.asked_at < until]
    before = [m for m in members if since - length <= m.asked_at < since]
    places: Counter[str] = Counter()
    for asker_places in {
        (m.user_hash or f"q{m.question_id}", p) for m in members for p in places_in(m.text)
    }:
        places[asker_places[1]] += 1
    from bot.needs.groups import label, trend, typical  # noqa: PLC0415 - loads numpy only when needed

    wording_counts = Counter(" ".join(m.text.split()) for m in members)
    weeks = weekly_askers(members, until)
    flag = trend(weeks[0], weeks[1:])
    name, examples = "", tuple[str, ...]()
    texts = [m.text for m in members if m.text]
    if vectoriser is not None and texts:
        name = label([vectoriser.words(t) for t in texts], vectoriser.weight)
        rows = (vectors or vectoriser.vectors)(texts)
        examples = tuple(typical(rows, rows.sum(axis=0), texts))
    return NeedSummary(
        id=need.id,
        representative=representative_of(members) if members else need.representative,
        status=need.status,
        assignee=need.assignee,
        note=need.note,
        entry_id=need.entry_id,
        questions=len(members),
        askers=_askers(members),
        in_period=_askers(current),
        previous=_askers(before),
        languages=dict(Counter(m.language for m in members).most_common()),
        municipalities=dict(places.most_common()),
        first_seen=members[0].asked_at if members else since,
        last_seen=members[-1].asked_at if members else since,
        terms=tuple(sorted(need.terms)),
        wordings=tuple(text for text, _ in wording_counts.most_common()),
        label=name,
        typical=examples,
        this_week=flag.this_week,
        usual_week=flag.expected,
        rising=flag.rising,
        near_entry=near_entry,
    )


def weekly_askers(members: Iterable[Asked], until: datetime, weeks: int = 5) -> list[int]:
    """Distinct askers per week before `until`, most recent first (each person once a week)."""
    seen: set[tuple[int, str]] = set()
    ages = []
    for m in members:
        age = (until - m.asked_at).total_seconds() / 86400
        key = (int(age // 7), m.user_hash or f"q{m.question_id}")
        if age >= 0 and key not in seen:
            seen.add(key)
            ages.append(age)
    from bot.needs.groups import weekly_counts  # noqa: PLC0415 - loads numpy only when needed

    return weekly_counts(ages, weeks)
