"""The storage layer on both backends: a SQLite file in tmp_path and a real PostgreSQL server.

Every test taking `database` runs twice (tests/conftest.py); the few that are about one
backend's own behaviour (SQLite's WAL and file locks, PostgreSQL's server errors) say so.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.storage import FollowUp, LoggedQuestion, Storage, StorageError
from bot.storage.dialect import POSTGRESQL, SQLITE, Connection, is_url, redact_url
from bot.storage.records import TIMESTAMP_FORMAT, from_iso, iso
from bot.storage.schema import MIGRATIONS
from tests import pgserver


def question(text: str = "where can I buy a cricket bat", **kw: object) -> LoggedQuestion:
    values: dict[str, object] = {
        "channel": "telegram",
        "language": "en",
        "outcome": "unanswered",
        "text": text,
        "user_hash": "u1",
    }
    values.update(kw)
    return LoggedQuestion(**values)  # type: ignore[arg-type]


@pytest.fixture
async def storage(database: str | Path, tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(database, spool_dir=tmp_path)
    yield store
    await store.close()


# -- the dialect (pure) ---------------------------------------------------------------------


def test_placeholders_are_numbered_outside_quotes() -> None:
    sql = "SELECT '?', \"a?\" FROM t WHERE a = ? AND b IN (?, ?)"
    assert POSTGRESQL.sql(sql) == "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b IN ($2, $3)"
    assert SQLITE.sql(sql) == sql


def test_schema_types_for_postgresql() -> None:
    script = "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, x REAL, q INTEGER PRIMARY KEY)"
    assert POSTGRESQL.schema(script) == (
        "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, n BIGINT, x DOUBLE PRECISION,"
        " q BIGINT PRIMARY KEY)"
    )
    assert SQLITE.schema(script) == script


def test_urls_are_told_apart_and_redacted() -> None:
    assert is_url("postgresql://bot@db/welcome") and is_url("postgres://x@y/z")
    assert not is_url("data/welcome-bot.sqlite3") and not is_url(Path("postgresql:/x"))
    assert redact_url("postgresql://bot:s3cret@db:5432/w") == "postgresql://bot:***@db:5432/w"
    assert redact_url("postgresql://bot@db/w") == "postgresql://bot@db/w"


# -- both backends --------------------------------------------------------------------------


async def test_open_creates_and_migrates(storage: Storage, database: str | Path) -> None:
    assert await storage.schema_version() == len(MIGRATIONS)
    assert storage.backend == ("postgresql" if is_url(database) else "sqlite")


async def test_reopening_does_not_migrate_again(database: str | Path, tmp_path: Path) -> None:
    first = await Storage.open(database, spool_dir=tmp_path)
    await first.questions.log(question())
    await first.close()
    again = await Storage.open(database, spool_dir=tmp_path)
    try:
        assert await again.schema_version() == len(MIGRATIONS)
        assert await again.questions.count() == 1
    finally:
        await again.close()


async def test_questions_survive_reopen(database: str | Path, tmp_path: Path) -> None:
    storage = await Storage.open(database, spool_dir=tmp_path)
    first = await storage.questions.log(question(candidates=(("a", 50.0), ("b", 40.0))))
    second = await storage.questions.log(
        question(
            "how do I get a health card", outcome="answered", entry_id="health-card", score=88.5
        )
    )
    await storage.close()
    assert first is not None and second is not None and second > first

    storage = await Storage.open(database, spool_dir=tmp_path)
    try:
        rows = await storage.questions.find()
        assert [r.id for r in rows] == [first, second]
        assert rows[0].candidates == (("a", 50.0), ("b", 40.0))
        assert rows[1].entry_id == "health-card"
        assert rows[1].score == 88.5
        unanswered = await storage.questions.find(outcome="unanswered")
        assert [r.text for r in unanswered] == ["where can I buy a cricket bat"]
        assert [r.id for r in await storage.questions.find(limit=1)] == [first]
    finally:
        await storage.close()


async def test_time_filters(storage: Storage) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    for days in (0, 3, 10):
        await storage.questions.log(question(f"q{days}", asked_at=now - timedelta(days=days)))
    recent = await storage.questions.find(since=now - timedelta(days=5))
    assert [q.text for q in recent] == ["q3", "q0"]
    older = await storage.questions.find(until=now - timedelta(days=5))
    assert [q.text for q in older] == ["q10"]


async def test_ambiguous_choice_and_none_fitted(storage: Storage) -> None:
    chosen = await storage.questions.log(question("bus", outcome="ambiguous"))
    dropped = await storage.questions.log(question("bus?", outcome="ambiguous"))
    assert chosen is not None and dropped is not None
    await storage.questions.choose_entry(chosen, "bus-fares")
    await storage.questions.mark_unanswered(dropped)
    await storage.questions.mark_unanswered(chosen)  # only an ambiguous one changes... twice
    rows = {q.id: q for q in await storage.questions.find()}
    assert (rows[dropped].outcome, rows[dropped].entry_id) == ("unanswered", None)
    assert rows[chosen].outcome == "unanswered" and rows[chosen].entry_id is None


async def test_erase_user_removes_everything_about_them(storage: Storage) -> None:
    qid = await storage.questions.log(question())
    await storage.questions.log(question(user_hash="someone-else"))
    assert qid is not None
    await storage.feedback.record("u1", "health-card", helpful=True, question_id=qid)
    await storage.follow_ups.add(qid, "u1", "sealed", "en")
    await storage.users.set_language("u1", "fr")
    await storage.users.touch("u1", source="poster-ajax")
    assert await storage.users.language("u1") == "fr"
    assert await storage.users.source("u1") == "poster-ajax"

    erased = await storage.users.erase("u1")
    assert (erased.questions, erased.feedback, erased.settings, erased.follow_ups) == (1, 1, 1, 1)
    assert await storage.questions.count("u1") == 0
    assert await storage.questions.count() == 1
    assert await storage.users.language("u1") is None
    assert await storage.feedback.counts() == {}


async def test_feedback_counts(storage: Storage) -> None:
    await storage.feedback.record("u1", "a", helpful=True)
    await storage.feedback.record("u2", "a", helpful=False)
    await storage.feedback.record("u3", "a", helpful=True)
    await storage.feedback.record("u3", "a", helpful=True)  # one vote per user: not counted twice
    assert await storage.feedback.counts() == {"a": (2, 1)}


async def test_first_deep_link_source_is_kept(storage: Storage) -> None:
    await storage.users.touch("u1", source="library-poster")
    await storage.users.touch("u1", source="other")
    await storage.users.touch("u1")
    assert await storage.users.source("u1") == "library-poster"


async def test_follow_up_asked_again_is_one_row(storage: Storage) -> None:
    qid = await storage.questions.log(question())
    assert qid is not None
    await storage.follow_ups.add(qid, "u1", "first", "en")
    await storage.follow_ups.add(qid, "u1", "second", "fr")
    row = await storage.db.fetch_one("SELECT COUNT(*), MAX(chat_token) FROM follow_ups")
    assert row is not None and (int(row[0]), row[1]) == (1, "second")


async def test_usage_counts_answered_per_day(storage: Storage) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    await storage.questions.log(question("a", outcome="answered", entry_id="x", asked_at=now))
    await storage.questions.log(question("b", asked_at=now))
    await storage.usage.add_referrals(None, "x", [("svc", "Region of Durham")])
    usage = await storage.usage.between(now - timedelta(days=1), now + timedelta(days=1))
    assert usage.by_day == [("2026-11-24", 2, 1)]
    assert usage.top_entries == [("x", 1)]
    assert usage.users == 1


async def test_a_job_runs_once_per_period(storage: Storage) -> None:
    now = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)
    day = timedelta(hours=12)
    assert await storage.jobs.claim("retention", day, now)
    assert not await storage.jobs.claim("retention", day, now + timedelta(minutes=1))
    assert await storage.jobs.claim("other", day, now)
    assert await storage.jobs.claim("retention", day, now + timedelta(days=1))
    assert await storage.jobs.last_run("retention") == "2026-11-25T03:30:00Z"


async def test_exclusive_skips_when_held(storage: Storage) -> None:
    held = storage.db.exclusive("job")
    async with held as first, storage.db.exclusive("job", wait=False) as second:
        assert (first, second) == (True, False)
    async with storage.db.exclusive("job", wait=False) as third:
        assert third


async def test_a_failed_transaction_leaves_nothing(storage: Storage) -> None:
    async def half(connection: Connection) -> None:
        await connection.execute(
            "INSERT INTO users (user_hash, first_seen, last_seen) VALUES (?, ?, ?)",
            ("u9", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        )
        await connection.execute("INSERT INTO nowhere VALUES (1)")

    with pytest.raises(StorageError):
        await storage.db.transaction(half)
    assert await storage.users.language("u9") is None
    assert await storage.db.fetch_one("SELECT 1 FROM users WHERE user_hash = 'u9'") is None


async def test_migration_is_all_or_nothing(
    database: str | Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = await Storage.open(database, spool_dir=tmp_path)
    await storage.close()
    broken = (*MIGRATIONS, "CREATE TABLE extra (x INTEGER); CREATE TABLE broken (;")
    monkeypatch.setattr("bot.storage.database.MIGRATIONS", broken)
    if is_url(database):
        monkeypatch.setattr("bot.storage.postgres.MIGRATIONS", broken)
    with pytest.raises(StorageError):
        await Storage.open(database, spool_dir=tmp_path)
    monkeypatch.undo()
    storage = await Storage.open(database, spool_dir=tmp_path)
    try:
        assert await storage.schema_version() == len(MIGRATIONS)
        with pytest.raises(StorageError):
            await storage.db.fetch_one("SELECT COUNT(*) FROM extra")
    finally:
        await storage.close()


# -- several writers at once (on PostgreSQL: as several replicas would) ----------------------


async def test_concurrent_writers_lose_nothing(database: str | Path, tmp_path: Path) -> None:
    # Two Storage objects are two replicas' connections (on SQLite: two connections to a file).
    replicas = [await Storage.open(database, spool_dir=tmp_path) for _ in range(2)]
    try:

        async def writer(number: int) -> None:
            storage = replicas[number % 2]
            for i in range(25):
                qid = await storage.questions.log(
                    question(f"w{number} q{i}", user_hash=f"u{number}")
                )
                await storage.users.touch(f"u{number}")
                # One vote per user and question: each of these is on its own question.
                await storage.feedback.record(f"u{number}", "a", i % 2 == 0, qid)

        await asyncio.gather(*(writer(n) for n in range(4)))
        assert await replicas[0].questions.count() == 100
        assert await replicas[1].feedback.counts() == {"a": (52, 48)}
        texts = [q.text for q in await replicas[0].questions.find()]
        assert len(set(texts)) == 100
    finally:
        for storage in replicas:
            await storage.close()


async def test_follow_ups_go_out_once_with_two_deliverers(
    database: str | Path, tmp_path: Path
) -> None:
    replicas = [await Storage.open(database, spool_dir=tmp_path) for _ in range(2)]
    first, second = replicas
    try:
        ids = []
        for user in ("a", "b", "c", "d"):
            qid = await first.questions.log(question("cricket bats", user_hash=user))
            assert qid is not None
            ids.append(qid)
            await first.follow_ups.add(qid, user, f"token-{user}", "en")
        await first.db.write(
            "INSERT INTO needs (id, terms, representative, status, entry_id, created_at,"
            " updated_at) VALUES (1, 'cricket', 'cricket bats', 'answered', 'x', ?, ?)",
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        )
        await first.needs.save(dict.fromkeys(ids, 1), [])
        sent: list[str] = []

        async def slow_send(follow_up: FollowUp) -> bool:
            sent.append(follow_up.user_hash)
            await asyncio.sleep(0.05)  # the other deliverer runs meanwhile
            return True

        counts = await asyncio.gather(
            first.follow_ups.deliver(1, slow_send), second.follow_ups.deliver(1, slow_send)
        )
        assert sorted(sent) == ["a", "b", "c", "d"]
        assert sum(counts) == 4
        assert await first.follow_ups.pending(1) == []
    finally:
        for storage in replicas:
            await storage.close()


async def test_concurrent_needs_refreshes_group_each_question_once(
    database: str | Path, tmp_path: Path
) -> None:
    from bot.insights.overview import refresh_needs

    replicas = [await Storage.open(database, spool_dir=tmp_path) for _ in range(2)]
    try:
        await replicas[0].questions.log_many(
            [question(f"cricket club number {i}", user_hash=f"u{i}") for i in range(30)]
            + [question(f"halal grocery store {i}", user_hash=f"v{i}") for i in range(30)]
        )
        added = await asyncio.gather(*(refresh_needs(s) for s in replicas))
        assert sum(added) == 60
        needs = await replicas[1].needs.all()
        members = [m.question_id for n in needs for m in n.members]
        assert len(members) == len(set(members)) == 60
        assert [n.id for n in needs] == list(range(1, len(needs) + 1))
    finally:
        for storage in replicas:
            await storage.close()


# -- SQLite's own behaviour ------------------------------------------------------------------


async def test_sqlite_uses_wal(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "data" / "bot.sqlite3")
    await storage.close()
    with sqlite3.connect(tmp_path / "data" / "bot.sqlite3") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"questions", "feedback", "users", "job_runs"} <= tables


async def test_locked_database_spools_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    storage = await Storage.open(path)
    monkeypatch.setattr("bot.storage.database.BUSY_TIMEOUT_MS", 50)
    await storage.db.fetch_one("PRAGMA busy_timeout = 50")
    blocker = sqlite3.connect(path, timeout=0.05)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert await storage.questions.log(question("asked while locked")) is None
        assert storage.questions.spool_path.exists()
    finally:
        blocker.rollback()
        blocker.close()
        await storage.close()
    storage = await Storage.open(path)
    try:
        assert [q.text for q in await storage.questions.find()] == ["asked while locked"]
        assert not storage.questions.spool_path.exists()
    finally:
        await storage.close()


async def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.write_text("this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot use the database"):
        await Storage.open(path)


# -- PostgreSQL's own behaviour --------------------------------------------------------------


async def test_postgresql_unreachable_spools_and_replays(
    postgres_cluster: pgserver.Cluster, tmp_path: Path
) -> None:
    url = postgres_cluster.create_database()
    storage = await Storage.open(url, spool_dir=tmp_path)
    await storage.db._pool.close()  # type: ignore[attr-defined]  # the server went away
    assert await storage.questions.log(question("asked while the server was away")) is None
    assert storage.questions.spool_path.parent == tmp_path
    assert storage.questions.spool_path.exists()
    storage = await Storage.open(url, spool_dir=tmp_path)
    try:
        assert [q.text for q in await storage.questions.find()] == [
            "asked while the server was away"
        ]
        assert not storage.questions.spool_path.exists()
    finally:
        await storage.close()


async def test_postgresql_errors_name_the_cause(
    postgres_cluster: pgserver.Cluster, tmp_path: Path
) -> None:
    missing = postgres_cluster.url("no_such_database")
    with pytest.raises(StorageError, match="does not exist"):
        await Storage.open(missing, spool_dir=tmp_path)
    closed_port = postgres_cluster.url("x").replace(f":{postgres_cluster.port}/", ":1/")
    with pytest.raises(StorageError, match="cannot reach the PostgreSQL server"):
        await Storage.open(closed_port, spool_dir=tmp_path)


async def test_replicas_starting_together_migrate_once(
    postgres_cluster: pgserver.Cluster, tmp_path: Path
) -> None:
    url = postgres_cluster.create_database()
    replicas = await asyncio.gather(*(Storage.open(url, spool_dir=tmp_path) for _ in range(3)))
    try:
        rows = await replicas[0].db.fetch_all("SELECT version FROM schema_version ORDER BY 1")
        assert [int(r[0]) for r in rows] == list(range(1, len(MIGRATIONS) + 1))
    finally:
        for storage in replicas:
            await storage.close()


# -- migrate: SQLite into PostgreSQL ---------------------------------------------------------


async def test_copy_sqlite_into_postgresql_keeps_everything(
    postgres_cluster: pgserver.Cluster, tmp_path: Path
) -> None:
    from bot.storage.copy import copy_database, tables

    old = await Storage.open(tmp_path / "old.sqlite3")
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    await old.questions.log_many(
        [question(f"cricket {i}", user_hash=f"u{i % 7}", asked_at=now) for i in range(12)]
    )
    answered = await old.questions.log(question("health card", outcome="answered", score=91.25))
    assert answered is not None
    await old.feedback.record("u1", "health-card", helpful=True, question_id=answered)
    await old.users.touch("u1", source="poster")
    await old.follow_ups.add(1, "u1", "sealed", "fr")
    await old.usage.add_referrals(answered, "health-card", [("serviceontario", "Ontario")])
    from bot.insights.overview import refresh_needs

    await refresh_needs(old)
    await old.needs.update(1, status="assigned", assignee="Priya")
    await old.jobs.claim("retention", timedelta(hours=12), now)
    before = await old.usage.between(now - timedelta(days=1), now + timedelta(days=1))

    url = postgres_cluster.create_database()
    new = await Storage.open(url, spool_dir=tmp_path)
    try:
        report = await copy_database(old.db, new.db)
        assert {c.table for c in report} == set(tables())
        assert all(c.source == c.target for c in report)
        assert {c.table: c.target for c in report}["questions"] == 13
        after = await new.usage.between(now - timedelta(days=1), now + timedelta(days=1))
        assert after == before
        assert await new.questions.find() == await old.questions.find()
        assert needs_view(await new.needs.all()) == needs_view(await old.needs.all())
        # New rows get ids after the copied ones.
        assert await new.questions.log(question("after the move")) == answered + 1
        with pytest.raises(StorageError, match="already has data"):
            await copy_database(old.db, new.db)
    finally:
        await new.close()
        await old.close()


def test_migrate_command_copies_and_reports(
    postgres_cluster: pgserver.Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.main import main

    source = tmp_path / "welcome-bot.sqlite3"

    async def fill() -> None:
        storage = await Storage.open(source)
        await storage.questions.log_many([question(f"q{i}") for i in range(5)])
        await storage.close()

    asyncio.run(fill())
    source.with_name(source.name + ".secret").write_text("s" * 64)
    url = postgres_cluster.create_database()
    assert main(["migrate", "--from", str(source), "--to", url]) == 0
    out = capsys.readouterr().out
    assert "questions" in out and "every count matches" in out
    assert "BOT_HASH_SECRET" in out
    assert main(["migrate", "--from", str(source), "--to", url]) == 1
    assert "already has data" in capsys.readouterr().err
    assert main(["migrate", "--from", str(tmp_path / "none.sqlite3"), "--to", url]) == 1


def needs_view(needs: list) -> list[tuple]:
    """Needs as comparable tuples (a centroid's vector compared by its bytes)."""
    return [
        (
            n.id,
            n.status,
            n.note,
            n.assignee,
            n.entry_id,
            [m.question_id for m in n.members],
            (n.centroid.count, n.centroid.total.tobytes()) if n.centroid else None,
        )
        for n in needs
    ]


async def test_not_an_emergency_is_counted_per_category_without_text(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        crisis = await storage.questions.log(
            question(None, outcome="crisis", crisis_category="fire_gas")
        )
        ordinary = await storage.questions.log(question())
        assert await storage.questions.mark_not_emergency(crisis) == "fire_gas"
        # Only a crisis can be a false alarm; an ordinary question is left alone.
        assert await storage.questions.mark_not_emergency(ordinary) is None
        now = datetime.now(UTC)
        usage = await storage.usage.between(now - timedelta(days=1), now + timedelta(days=1))
        assert usage.false_alarms == {"fire_gas": 1}
        assert usage.crisis == {"fire_gas": 1}
    finally:
        await storage.close()
    with sqlite3.connect(tmp_path / "bot.sqlite3") as raw:
        assert raw.execute(
            "SELECT text, not_emergency FROM questions WHERE id = ?", (crisis,)
        ).fetchall() == [(None, 1)]


async def test_replicas_never_take_the_same_pending_update(
    database: str | Path, tmp_path: Path
) -> None:
    """The replica that received an update holds it; another takes it over only once the
    claim is older than the lease (the first replica died), and never both at once."""
    first = await Storage.open(database, spool_dir=tmp_path)
    second = await Storage.open(database, spool_dir=tmp_path)
    try:
        assert await first.inbox.add_many([(1, "a"), (2, "b")]) == {1, 2}
        lease = timedelta(seconds=60)
        assert await second.inbox.pending(lease) == []  # still in the first one's hands
        await first.inbox.done(1)
        # The first replica died two minutes ago with update 2 in hand; both of the others
        # look at once: it goes to exactly one of them.
        await first.db.write(
            "UPDATE inbox SET claimed_at = ? WHERE update_id = 2",
            (iso(datetime.now(UTC) - timedelta(minutes=2)),),
        )
        taken = await asyncio.gather(first.inbox.pending(lease), second.inbox.pending(lease))
        assert sorted(p.update_id for found in taken for p in found) == [2]
        # Just claimed: within the lease nobody takes it again.
        assert await first.inbox.pending(lease) == []
        assert await second.inbox.pending(lease) == []
    finally:
        await first.close()
        await second.close()


# Fixed offsets, not st.timezones(): that needs the system's time zone database.
OFFSETS = st.builds(
    timezone,
    st.timedeltas(min_value=timedelta(hours=-12), max_value=timedelta(hours=14)).map(
        lambda d: timedelta(minutes=d // timedelta(minutes=15) * 15)
    ),
)


@given(st.datetimes(min_value=datetime(1970, 1, 2), timezones=OFFSETS))
def test_stored_times_read_back_as_strptime_reads_them(moment: datetime) -> None:
    text = iso(moment)
    expected = datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    assert from_iso(text) == expected and from_iso(text).tzinfo == UTC


@pytest.mark.parametrize("bad", ["2026-12-02", "2026-12-02T10:00:00", "2026-12-02 10:00:00Z", ""])
def test_a_time_not_in_the_stored_format_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        from_iso(bad)
