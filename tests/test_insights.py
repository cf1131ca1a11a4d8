"""Emerging needs end to end on a real database: grouping, triage, closing the loop, overview."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.insights import overview as insights
from bot.knowledge.loader import load_knowledge
from bot.privacy import ChatTokens
from bot.storage import LoggedQuestion, Storage
from bot.storage.records import iso
from tests.test_knowledge_base import KNOWLEDGE

NOW = datetime.now(UTC)


def unanswered(text: str, user: str, days_ago: float = 1, lang: str = "en") -> LoggedQuestion:
    return LoggedQuestion(
        channel="telegram",
        language=lang,
        outcome="unanswered",
        text=text,
        user_hash=user,
        asked_at=NOW - timedelta(days=days_ago),
    )


@pytest.fixture
async def storage(database: str | Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    # Every insight test runs on SQLite and on PostgreSQL (the `database` fixture).
    store = await Storage.open(database, spool_dir=tmp_path)
    yield store
    await store.close()


async def test_needs_are_grouped_counted_and_sorted(storage: Storage) -> None:
    await storage.questions.log_many(
        [
            unanswered("is there a cricket club in Ajax", "a"),
            unanswered("cricket clubs?", "b"),
            unanswered("cricket club", "b"),  # the same person again: counts once
            unanswered("crikcet club for kids", "c", lang="fr"),
            unanswered("halal butcher in Brock", "d"),
        ]
    )
    since, until = insights.period(None, None)
    region_only = load_knowledge(KNOWLEDGE / "region.yaml")  # the towns, no entries
    needs = await insights.list_needs(storage, since, until, knowledge=region_only)
    assert [(n.askers, n.questions) for n in needs] == [(3, 4), (1, 1)]
    cricket = needs[0]
    assert "cricket" in cricket.terms
    assert cricket.languages == {"en": 3, "fr": 1}
    assert cricket.municipalities == {"Ajax": 1}
    assert needs[1].municipalities == {"Brock": 1}


async def test_triage_sticks_when_new_questions_join(storage: Storage) -> None:
    await storage.questions.log_many([unanswered("cricket club", "a")])
    since, until = insights.period(None, None)
    (need,) = await insights.list_needs(storage, since, until)
    await insights.set_need(
        storage,
        need.id,
        status="assigned",
        note="asked CDCD",
        assignee="Community Development Council Durham",
    )
    await storage.questions.log_many([unanswered("any cricket clubs in whitby", "b")])
    (again,) = await insights.list_needs(storage, *insights.period(None, None))
    assert again.id == need.id
    assert again.askers == 2
    assert (again.status, again.note, again.assignee) == (
        "assigned",
        "asked CDCD",
        "Community Development Council Durham",
    )
    assert await insights.list_needs(storage, since, until, status="new") == []


async def test_bad_triage_requests(storage: Storage) -> None:
    with pytest.raises(insights.InsightError, match="no need number 99"):
        await insights.set_need(storage, 99, note="x")
    with pytest.raises(insights.InsightError, match="status must be one of"):
        await insights.set_need(storage, 1, status="done")


async def test_answering_a_need_gives_variants_and_reaches_opted_in_askers(
    storage: Storage, small_kb: Path
) -> None:
    knowledge = load_knowledge(small_kb)
    first = await storage.questions.log(unanswered("where do I get an ontario health card", "a"))
    second = await storage.questions.log(unanswered("ontario health card where??", "b"))
    await storage.questions.log(unanswered("ontario health card where??", "c"))
    tokens = ChatTokens(b"k" * 32)
    assert first is not None and second is not None
    await storage.follow_ups.add(first, "a", tokens.seal(1001), "en")
    await storage.follow_ups.add(second, "b", tokens.seal(1002), "fr")
    (need,) = await insights.list_needs(storage, *insights.period(None, None))

    answered = await insights.answer_need(storage, need.id, "health-card", knowledge)
    assert answered.waiting == 2
    assert "# Add these to the questions of health-card (kb/faqs.yaml:" in answered.variants_yaml
    assert "- ontario health card where??" in answered.variants_yaml

    sent: list[tuple[int, str, str]] = []

    async def send(chat_id: int, entry_id: str, language: str) -> bool:
        sent.append((chat_id, entry_id, language))
        return True

    assert await insights.deliver_follow_ups(storage, tokens.open, send) == 2
    assert sorted(sent) == [(1001, "health-card", "en"), (1002, "health-card", "fr")]
    # One message each: a second round sends nothing.
    assert await insights.deliver_follow_ups(storage, tokens.open, send) == 0


async def test_answer_with_unknown_entry(storage: Storage, small_kb: Path) -> None:
    with pytest.raises(insights.InsightError, match="no entry with the id 'nope'"):
        await insights.answer_need(storage, 1, "nope", load_knowledge(small_kb))


async def test_forget_removes_follow_ups(storage: Storage) -> None:
    qid = await storage.questions.log(unanswered("cricket", "a"))
    assert qid is not None
    await storage.follow_ups.add(qid, "a", "token", "en")
    erased = await storage.users.erase("a")
    assert erased.follow_ups == 1


async def test_purge_keeps_counts_but_not_old_text(storage: Storage) -> None:
    await storage.questions.log_many(
        [unanswered("old question", "a", days_ago=400), unanswered("new question", "b", days_ago=1)]
    )
    assert await insights.purge(storage, 365) == 1
    texts = [q.text for q in await storage.questions.find()]
    assert texts == [None, "new question"]
    with pytest.raises(insights.InsightError):
        await insights.purge(storage, 0)


async def test_overview_counts(storage: Storage, small_kb: Path) -> None:
    knowledge = load_knowledge(small_kb)
    answered = LoggedQuestion(
        channel="telegram",
        language="en",
        outcome="answered",
        text="health card",
        user_hash="a",
        entry_id="health-card",
        score=90,
        asked_at=NOW - timedelta(days=1),
    )
    qid = await storage.questions.log(answered)
    await storage.questions.log(unanswered("cricket club", "b", lang="fr"))
    await storage.usage.add_referrals(qid, "health-card", [("serviceontario", "Province")])
    await storage.feedback.record("a", "health-card", helpful=False)
    await storage.users.touch("a", source="poster-ajax")
    view = await insights.overview(storage, *insights.period(None, None), knowledge)
    assert (view.total, view.answered, view.answer_rate) == (2, 1, 0.5)
    assert view.usage.languages == {"en": 1, "fr": 1}
    assert view.topics == {"health": 1}
    assert view.usage.referrals == {"Province": 1}
    assert view.unhelpful == [("health-card", 0, 1)]
    assert view.usage.sources == {"poster-ajax": 1}
    assert len(view.needs) == 1
    assert sum(c for _, c, _ in view.weeks()) == 2


async def test_triage_survives_500_new_questions_and_a_merge(storage: Storage) -> None:
    # Two needs that are really one: the newer one gets triaged, then 500 questions arrive
    # (more of both, and other needs), and the merge keeps the older id with the triage.
    await storage.questions.log_many([unanswered("cricket club in Ajax", "a")])
    since, until = insights.period(None, None)
    (older,) = await insights.list_needs(storage, since, until)
    await storage.questions.log_many([unanswered("halal butcher", "b")])
    needs = await insights.list_needs(storage, since, until)
    halal = next(n for n in needs if n.id != older.id)
    await insights.set_need(
        storage, halal.id, status="assigned", note="ask the mosque", assignee="DLIP"
    )
    topics = [
        "cricket club",
        "halal butcher shop",
        "halal meat butcher",
        "winter tires",
        "yoga class",
        "bike repair",
        "mosque for friday prayer",
        "african grocery",
    ]
    await storage.questions.log_many(
        [unanswered(f"{topics[i % len(topics)]} please {i % 7}", f"u{i}") for i in range(500)]
    )
    needs = await insights.list_needs(storage, since, until)
    by_id = {n.id: n for n in needs}
    assert by_id[older.id].label.startswith("cricket")
    kept = by_id[halal.id]
    assert (kept.status, kept.note, kept.assignee) == ("assigned", "ask the mosque", "DLIP")
    assert kept.askers > 100  # the new halal questions joined the triaged need
    stored = await storage.needs.all(with_members=False)
    assert all(n.centroid is not None for n in stored)  # centroids are stored with needs


async def test_a_merge_keeps_the_older_id_and_moves_the_triage(storage: Storage) -> None:
    from bot.needs.groups import Centroid

    since, until = insights.period(None, None)
    await storage.questions.log_many([unanswered("halal meat", "a")])
    await insights.list_needs(storage, since, until)
    await storage.questions.log_many([unanswered("butcher shop", "b")])
    first, second = sorted(n.id for n in await insights.list_needs(storage, since, until))
    await insights.set_need(storage, second, status="assigned", note="ask", assignee="DLIP")
    # The newer need's centroid drifts onto the older one's (as 500 bridging questions would).
    stored = {n.id: n for n in await storage.needs.all(with_members=False)}
    older = stored[first].centroid
    assert older is not None
    await storage.needs.save({}, [], [Centroid(second, older.total * 3, 3)])
    await storage.questions.log_many([unanswered("halal meat please", f"u{i}") for i in range(500)])
    needs = {n.id: n for n in await insights.list_needs(storage, since, until)}
    assert second not in needs  # absorbed...
    kept = needs[first]  # ...into the older id, which took its triage and its questions
    assert (kept.status, kept.note, kept.assignee) == ("assigned", "ask", "DLIP")
    assert kept.askers == 502


async def test_what_grouping_learnt_is_kept_between_refreshes_and_dropped_with_the_text(
    storage: Storage,
) -> None:
    # A refresh takes up the word counts the last one stored and reads only its new questions;
    # blanking old text or erasing a person's questions drops the counts, and the next refresh
    # learns the whole log again.
    await storage.questions.log_many(
        [unanswered(t, f"u{i}") for i, t in enumerate(CRICKET)]
        + [unanswered("thank you", "t", days_ago=400)]
    )
    assert await insights.refresh_needs(storage) == 5
    generation, learnt = await storage.needs.learnt()
    assert learnt is not None and (learnt.documents, learnt.counts["cricket"]) == (5, 4)
    await storage.questions.log_many([unanswered(t, f"h{i}") for i, t in enumerate(HALAL)])
    assert await insights.refresh_needs(storage, regroup=False) == 3
    later, learnt = await storage.needs.learnt()
    assert learnt is not None and (learnt.documents, learnt.counts["halal"]) == (8, 3)
    assert later == generation + 1
    needs = {n.id: {m.text for m in n.members} for n in await storage.needs.all()}
    assert set(CRICKET) in needs.values() and set(HALAL) in needs.values()

    await storage.users.erase("h0")
    assert (await storage.needs.learnt())[1] is None
    await storage.questions.log_many([unanswered("halal meat shop", "h9")])
    assert await insights.refresh_needs(storage, regroup=False) == 1
    learnt = (await storage.needs.learnt())[1]
    assert learnt is not None and (learnt.documents, learnt.counts["halal"]) == (8, 3)
    assert await insights.purge(storage, 365) == 1  # "thank you", asked 400 days ago
    assert (await storage.needs.learnt())[1] is None


async def test_one_need_is_shown_as_the_list_shows_it_without_summarising_them_all(
    storage: Storage, small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge = load_knowledge(small_kb)
    texts = [*CRICKET, *HALAL, "where do I get an ontario health card", "health card ontario??"]
    await storage.questions.log_many(
        [unanswered(t, f"u{i}", days_ago=i) for i, t in enumerate(texts)]
        + [unanswered("crikcet club", "w"), unanswered("crikcet club for adults", "v", days_ago=-3)]
    )  # the typo read as "cricket" (a typical wording then); the last one after `until`
    since, until = insights.period(None, None)
    listed = await insights.list_needs(storage, since, until, knowledge=knowledge)
    assert any(n.near_entry for n in listed)
    assert any("crikcet club" in n.typical for n in listed)

    async def everything(*_args: object, **_kwargs: object) -> list[object]:
        raise AssertionError("one need must not summarise every need")

    monkeypatch.setattr(insights, "list_needs", everything)
    for summary in listed:
        assert await insights.show_need(storage, summary.id, since, until, None, knowledge) == (
            summary
        )


async def test_an_erasure_during_a_refresh_is_not_undone_by_it(storage: Storage) -> None:
    # A refresh reads the log, then someone uses /forget, then the refresh saves: what it
    # learnt still holds their words, so it is not stored, and their question is not put
    # back in a need; the next refresh learns the log again.
    await storage.questions.log_many([unanswered(t, f"u{i}") for i, t in enumerate(CRICKET)])
    assert await insights.refresh_needs(storage) == 4
    await storage.questions.log_many([unanswered("halal butcher Brock", "gone")])
    generation, learnt = await storage.needs.learnt()
    new = await storage.needs.unassigned()
    await storage.users.erase("gone")  # ...while the refresh works
    assert learnt is not None and len(new) == 1
    learnt = replace(learnt, documents=5, counts={**learnt.counts, "butcher": 1})
    await storage.needs.save({new[0].question_id: 1}, [], [], None, learnt, generation)
    assert (await storage.needs.learnt())[1] is None
    assert sum(len(n.members) for n in await storage.needs.all()) == 4
    await storage.questions.log_many([unanswered("cricket bats", "v")])
    assert await insights.refresh_needs(storage) == 1
    relearnt = (await storage.needs.learnt())[1]
    assert relearnt is not None and relearnt.documents == 5 and "butcher" not in relearnt.counts


async def test_newcomers_are_not_kept_waiting_while_needs_are_grouped(storage: Storage) -> None:
    # Grouping and summarising a big log takes seconds of arithmetic; it runs in a worker
    # thread, so the event loop (every newcomer's reply) never stalls behind a staff /needs.
    # In the loop itself, it stalled for the whole of each step (up to 1.0 s at this size);
    # in a thread the longest wait measured 0.02-0.16 s on a busy 2-core machine.
    rng = random.Random(4)
    words = [f"{a}{b}" for a in ("bal", "cor", "dun", "fel", "gar", "hol") for b in "aeiou"]
    await storage.questions.log_many(
        [unanswered(" ".join(rng.sample(words, 4)), f"u{i}") for i in range(6000)]
    )
    gaps: list[float] = []

    async def heartbeat() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            gaps.append(time.perf_counter() - last)
            last = time.perf_counter()

    beat = asyncio.create_task(heartbeat())
    since, until = insights.period(None, None)
    started = time.perf_counter()
    assert await insights.list_needs(storage, since, until)
    took = time.perf_counter() - started
    beat.cancel()
    assert max(gaps) < 0.3 < took, (max(gaps), took)


async def test_sentence_vectors_are_stored_grouped_by_and_purged(storage: Storage) -> None:
    # With the multilingual extra, an unanswered question keeps the encoder's vector; needs
    # then group by it as well as by words. Two wordings with no word in common but the same
    # sentence vector land together; without stored vectors they stay apart.
    import numpy as np

    from bot.needs.stored import decode_sentence, encode_sentence

    one, other = np.zeros(384), np.zeros(384)
    one[0], other[1] = 1.0, 1.0
    rows = [
        ("cricket club", "a", one, 2),
        ("halal butcher", "b", one, 2),
        ("tailor for alterations", "c", other, 400),
    ]
    await storage.questions.log_many(
        [
            replace(unanswered(text, user, days_ago=age), vector=encode_sentence(vector))
            for text, user, vector, age in rows
        ]
    )
    stored = {q.text: q.vector for q in await storage.questions.find()}
    decoded = decode_sentence(stored["cricket club"] or "")
    assert decoded is not None and decoded[0] == 1.0
    since, until = insights.period(None, None, default_days=800)
    needs = await insights.list_needs(storage, since, until)
    assert sorted(n.questions for n in needs) == [1, 2]
    assert await insights.purge(storage, 365) == 1  # the old question loses text and vector
    assert [q.vector is None for q in await storage.questions.find()] == [True, False, False]


CRICKET = [
    "is there a cricket club in Ajax",
    "cricket clubs near Whitby?",
    "cricket club for my son",
    "where can adults play cricket",
]
HALAL = ["halal butcher in Brock", "halal butchers Beaverton", "where to buy halal meat"]


async def test_a_regrouping_moves_questions_and_hands_an_emptied_needs_triage_on(
    storage: Storage,
) -> None:
    # As early refreshes can leave them: a cricket need, a halal need, and a triaged need
    # holding one question of each (asked again, word for word). Refreshes between
    # regroupings leave it be; the daily regrouping reads every question again, moves both,
    # and the triage goes with them.
    from bot.needs.grouping import Need

    texts = [*CRICKET, *HALAL, "halal butchers Beaverton", "cricket clubs near Whitby?"]
    await storage.questions.log_many([unanswered(t, f"u{i}") for i, t in enumerate(texts)])
    ids = [q.question_id for q in await storage.needs.unassigned()]
    where = {q: 1 if k < 4 else 2 if k < 7 else 3 for k, q in enumerate(ids)}
    await storage.needs.save(where, [Need(n, frozenset(), texts[0]) for n in (1, 2, 3)])
    await insights.set_need(storage, 3, status="assigned", note="ask the club", assignee="DLIP")
    await storage.jobs.claim("needs-regroup", insights.REGROUP_EVERY)  # regrouped today
    await storage.questions.log_many([unanswered("yoga class for seniors", "y")])
    assert await insights.refresh_needs(storage) == 1
    before = {n.id: [m.text for m in n.members] for n in await storage.needs.all()}
    assert before[3] == texts[-2:]

    await storage.db.write(
        "UPDATE job_runs SET last_run = ? WHERE name = 'needs-regroup'",
        (iso(NOW - timedelta(days=2)),),
    )
    await storage.questions.log_many([unanswered("yoga classes", "z")])
    assert await insights.refresh_needs(storage) == 1  # the first refresh of the day regroups
    after = {n.id: n for n in await storage.needs.all()}
    assert 3 not in after
    texts_of = {nid: {m.text for m in n.members} for nid, n in after.items()}
    assert set(CRICKET) <= texts_of[1] and set(HALAL) <= texts_of[2]
    assert [len(after[1].members), len(after[2].members)] == [5, 4]  # each took one of need 3's
    (triaged,) = [n for n in after.values() if n.status == "assigned"]
    assert (triaged.id in (1, 2), triaged.note, triaged.assignee) == (True, "ask the club", "DLIP")
    assert sum(len(n.members) for n in after.values()) == len(texts) + 2  # nothing lost


async def test_a_forced_regrouping_keeps_ids_and_triage(storage: Storage) -> None:
    # Regrouping a log that is already well grouped changes nothing staff set.
    since, until = insights.period(None, None)
    await storage.questions.log_many([unanswered(t, f"u{i}") for i, t in enumerate(CRICKET)])
    (cricket,) = await insights.list_needs(storage, since, until)
    await storage.questions.log_many([unanswered(t, f"h{i}") for i, t in enumerate(HALAL)])
    needs = await insights.list_needs(storage, since, until)
    halal = next(n for n in needs if n.id != cricket.id)
    await insights.set_need(
        storage, halal.id, status="not_in_scope", note="mosque", assignee="DLIP"
    )
    await storage.questions.log_many([unanswered("halal meat shop Oshawa", "h9")])
    assert await insights.refresh_needs(storage, regroup=True) == 1
    after = {n.id: n for n in await storage.needs.all()}
    assert set(after) == {cricket.id, halal.id}
    assert (after[halal.id].status, after[halal.id].note) == ("not_in_scope", "mosque")
    assert len(after[halal.id].members) == 4 and len(after[cricket.id].members) == 4
