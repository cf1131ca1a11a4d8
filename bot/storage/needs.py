"""Emerging needs: groups of unanswered questions with their triage (status, note, assignee)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.needs.grouping import Asked, Need
from bot.storage.database import Connection, Database, Row
from bot.storage.records import from_iso, iso, utc_now

if TYPE_CHECKING:  # numpy loads only when centroids are read or written
    from bot.needs.groups import Centroid, LearntWords

_MEMBERS = (
    "SELECT n.need_id, q.id, COALESCE(q.text, ''), q.asked_at, q.user_hash, q.language,"
    " q.vector FROM need_questions n JOIN questions q ON q.id = n.question_id"
)


class NeedStore:
    """Needs and which questions belong to them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def unassigned(self) -> list[Asked]:
        """Unanswered questions (with text) not yet in any need."""
        # The ids are found in the outcome index alone, then only their rows are read: asking
        # for the text in the same pass read every unanswered row (0.26 s against 0.06 s at
        # 100,000 questions on SQLite, benchmarks/needs_log.py).
        rows = await self._db.fetch_all(
            "SELECT q.id, q.text, q.asked_at, q.user_hash, q.language, q.vector FROM questions q"
            " WHERE q.id IN (SELECT u.id FROM questions u WHERE u.outcome = 'unanswered'"
            " AND NOT EXISTS (SELECT 1 FROM need_questions n WHERE n.question_id = u.id))"
            " AND q.text IS NOT NULL ORDER BY q.id"
        )
        return [_asked(row) for row in rows]

    async def all(self, with_members: bool = True) -> list[Need]:
        """Every stored need, oldest first, with its member questions when asked."""
        needs = {int(r["id"]): _need(r) for r in await self._db.fetch_all("SELECT * FROM needs")}
        if with_members and needs:
            for row in await self._db.fetch_all(_MEMBERS + " ORDER BY q.id"):
                needs[int(row[0])].members.append(_asked(row[1:]))
        return [needs[i] for i in sorted(needs)]

    async def need(self, need_id: int) -> Need | None:
        """One need with its members."""
        row = await self._db.fetch_one("SELECT * FROM needs WHERE id = ?", (need_id,))
        if row is None:
            return None
        need = _need(row)
        members = await self._db.fetch_all(
            _MEMBERS + " WHERE n.need_id = ? ORDER BY q.id", (need_id,)
        )
        need.members.extend(_asked(m[1:]) for m in members)
        return need

    async def learnt(self) -> tuple[int, LearntWords | None]:
        """What grouping learnt from the questions in needs (`save` stored it), or None when
        nothing is stored (never grouped, or emptied since by `forget_learnt`), with the
        stored generation to hand back to `save`."""
        row = await self._db.fetch_one(
            "SELECT generation, questions, sentence_mean FROM need_model WHERE id = 1"
        )
        if row is None or int(row[1]) < 0:
            return (int(row[0]) if row is not None else 0), None
        import numpy as np  # noqa: PLC0415 - loads numpy only when needed

        from bot.needs.groups import LearntWords  # noqa: PLC0415 - loads numpy only when needed

        words = await self._db.fetch_all("SELECT word, questions FROM need_words")
        mean = row[2]
        return int(row[0]), LearntWords(
            int(row[1]),
            {str(w): int(n) for w, n in words},
            np.frombuffer(mean, dtype="<f4").astype(np.float64) if mean is not None else None,
        )

    async def next_id(self) -> int:
        """The id the next new need gets."""
        row = await self._db.fetch_one("SELECT COALESCE(MAX(id), 0) + 1 FROM needs")
        return int(row[0]) if row else 1

    async def save(
        self,
        memberships: dict[int, int],
        created: list[Need],
        centroids: Sequence[Centroid] = (),
        merged: dict[int, dict[str, str]] | None = None,
        learnt: LearntWords | None = None,
        generation: int = 0,
    ) -> None:
        """Store new needs, memberships, centroids, merges and what grouping learnt from the
        questions now in needs (`learnt`, replacing what was stored) in one transaction.

        `learnt` is written only if the stored generation is still `generation` (what
        `learnt()` gave when the refresh began): an erasure or purge since then means it may
        hold words of text that is gone, so nothing is written and the next refresh learns
        the log again. Memberships of questions erased meanwhile are dropped.

        `merged` maps each absorbed need to {"kept": id, and the kept need's new triage
        fields}; its questions not in `memberships` move to the kept need; it is deleted.
        """
        import numpy as np  # noqa: PLC0415 - loads numpy only when needed

        now = iso(utc_now())
        kept_changes = merged or {}

        async def run(connection: Connection) -> None:
            await connection.executemany(
                "INSERT INTO needs (id, terms, representative, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(n.id, " ".join(sorted(n.terms)), n.representative, now, now) for n in created],
            )
            await connection.executemany(
                "INSERT INTO need_questions (question_id, need_id)"
                " SELECT ?, ? WHERE EXISTS (SELECT 1 FROM questions WHERE id = ?)"
                " ON CONFLICT (question_id) DO UPDATE SET need_id = excluded.need_id",
                [(q, n, q) for q, n in sorted(memberships.items())],
            )
            await connection.executemany(
                "UPDATE needs SET centroid = ?, centroid_count = ? WHERE id = ?",
                [
                    (np.asarray(c.total, dtype="<f4").tobytes(), c.count, c.need_id)
                    for c in centroids
                ],
            )
            for changes in kept_changes.values():
                fields = {k: v for k, v in changes.items() if k != "kept"}
                if fields:
                    sets = ", ".join(f"{k} = ?" for k in fields)  # keys: merge_triage's names
                    await connection.execute(
                        f"UPDATE needs SET {sets}, updated_at = ? WHERE id = ?",
                        [*fields.values(), now, int(changes["kept"])],
                    )
            # The absorbed need's questions that nothing above moved go to the need that kept it.
            await connection.executemany(
                "UPDATE need_questions SET need_id = ? WHERE need_id = ?",
                [(int(changes["kept"]), absorbed) for absorbed, changes in kept_changes.items()],
            )
            await connection.executemany(
                "DELETE FROM needs WHERE id = ?", [(absorbed,) for absorbed in kept_changes]
            )
            if learnt is not None and await _generation(connection) == generation:
                await connection.execute("DELETE FROM need_words")
                await connection.executemany(
                    "INSERT INTO need_words (word, questions) VALUES (?, ?)",
                    sorted(learnt.counts.items()),
                )
                mean = learnt.sentence_mean
                await _write_model(
                    connection,
                    learnt.documents,
                    np.asarray(mean, dtype="<f4").tobytes() if mean is not None else None,
                )

        await self._db.transaction(run)

    async def update(
        self,
        need_id: int,
        *,
        status: str | None = None,
        note: str | None = None,
        assignee: str | None = None,
        entry_id: str | None = None,
        actor: str | None = None,
        action: str = "",
        detail: str = "",
    ) -> bool:
        """Change a need's triage fields; False when there is no such need.

        With an `actor`, the change is written to the need's history in the same transaction,
        so no change goes unrecorded.
        """
        changes: dict[str, Any] = {
            k: v
            for k, v in {
                "status": status,
                "note": note,
                "assignee": assignee,
                "entry_id": entry_id,
            }.items()
            if v is not None
        }
        if not changes:
            return await self._exists(need_id)
        sets = ", ".join(f"{k} = ?" for k in changes)  # keys: the fixed names above
        now = iso(utc_now())

        async def run(connection: Connection) -> int:
            changed = await connection.execute(
                f"UPDATE needs SET {sets}, updated_at = ? WHERE id = ?",
                [*changes.values(), now, need_id],
            )
            if changed > 0 and actor is not None:
                await connection.execute(
                    "INSERT INTO need_actions (need_id, acted_at, actor, action, detail)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (need_id, now, actor, action or "changed", detail),
                )
            return changed

        return await self._db.transaction(run) > 0

    async def _exists(self, need_id: int) -> bool:
        return await self._db.fetch_one("SELECT 1 FROM needs WHERE id = ?", (need_id,)) is not None


async def forget_learnt(connection: Connection) -> None:
    """Drop what grouping learnt from the questions (`NeedStore.learnt`): done when question
    text is blanked or erased, so no count outlives the words it came from; the next refresh
    learns the log again."""
    await connection.execute("DELETE FROM need_words")
    await _write_model(connection, -1, None)


async def _generation(connection: Connection) -> int:
    # The stored generation of need_model (0 before the first write).
    row = await connection.fetch_one("SELECT generation FROM need_model WHERE id = 1")
    return int(row[0]) if row is not None else 0


async def _write_model(connection: Connection, questions: int, mean: bytes | None) -> None:
    # The one need_model row, its generation one higher than before.
    await connection.execute(
        "INSERT INTO need_model (id, generation, questions, sentence_mean, learnt_at)"
        " VALUES (1, 1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " generation = need_model.generation + 1, questions = excluded.questions,"
        " sentence_mean = excluded.sentence_mean, learnt_at = excluded.learnt_at",
        (questions, mean, iso(utc_now())),
    )


def _need(row: Row) -> Need:
    return Need(
        id=int(row["id"]),
        terms=frozenset(str(row["terms"]).split()),
        representative=str(row["representative"]),
        status=str(row["status"]),
        note=str(row["note"]),
        assignee=str(row["assignee"]),
        entry_id=row["entry_id"],
        centroid=_centroid(row),
    )


def _asked(row: Row | Sequence[Any]) -> Asked:
    return Asked(
        question_id=int(row[0]),
        text=str(row[1] or ""),
        asked_at=from_iso(row[2]),
        user_hash=row[3],
        language=str(row[4]),
        vector=row[5] if len(row) > 5 else None,
    )


def _centroid(row: Row) -> Centroid | None:
    if row["centroid"] is None or not row["centroid_count"]:
        return None
    import numpy as np  # noqa: PLC0415 - loads numpy only when needed

    from bot.needs.groups import Centroid  # noqa: PLC0415 - loads numpy only when needed

    total = np.frombuffer(row["centroid"], dtype="<f4").copy()
    return Centroid(int(row["id"]), total, int(row["centroid_count"]))
