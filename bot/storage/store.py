"""`Storage`: the one object the rest of the bot uses, with a repository per kind of record."""

from __future__ import annotations

from pathlib import Path

from bot.storage.database import Database, SQLiteDatabase, open_database
from bot.storage.follow_ups import FollowUps
from bot.storage.inbox import Inbox
from bot.storage.jobs import JobRuns
from bot.storage.needs import NeedStore
from bot.storage.partners import Partners
from bot.storage.people import Feedback, Users
from bot.storage.questions import QuestionLog
from bot.storage.records import StorageError
from bot.storage.triage import Triage
from bot.storage.usage import UsageCounts


class Storage:
    """An open database and its repositories. Create with `await Storage.open(path)`."""

    def __init__(self, db: Database, inbox_db: Database | None = None) -> None:
        self.db = db
        self._inbox_db = inbox_db
        self.questions = QuestionLog(db)
        self.users = Users(db)
        self.feedback = Feedback(db)
        self.needs = NeedStore(db)
        self.follow_ups = FollowUps(db)
        self.usage = UsageCounts(db)
        self.jobs = JobRuns(db)
        self.triage = Triage(db)
        self.partners = Partners(db)
        # On SQLite the inbox has a connection of its own: marking an update done must not
        # wait behind other writes, since a crash in between means it is answered twice.
        self.inbox = Inbox(inbox_db or db)

    @property
    def location(self) -> str:
        """The database file, or the PostgreSQL URL without its password."""
        return self.db.location

    @property
    def backend(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.db.dialect.name

    @classmethod
    async def open(cls, target: str | Path, spool_dir: Path | None = None) -> Storage:
        """Open (creating if needed) and migrate the database; replay spooled questions.

        `target` is a SQLite file path or a `postgresql://` URL; `spool_dir` is where a
        PostgreSQL replica keeps questions while the server cannot be reached.
        """
        db = await open_database(target, spool_dir)
        inbox_db: Database | None = None
        try:
            if isinstance(db, SQLiteDatabase):
                inbox_db = await SQLiteDatabase.open(db.path, check=False)
        except BaseException:
            await db.close()
            raise
        storage = cls(db, inbox_db)
        try:
            await storage.questions.replay_spool()
        except BaseException:
            await storage.close()
            raise
        return storage

    async def close(self) -> None:
        """Close the database; every write was already committed."""
        if self._inbox_db is not None:
            await self._inbox_db.close()
        await self.db.close()

    async def writable(self) -> bool:
        """True when the database takes a write now (for the health check; changes nothing)."""
        try:
            # A write statement takes SQLite's write lock even when it matches no row, so this
            # fails on a read-only, full or locked-out file without touching any data.
            await self.db.write("UPDATE questions SET id = id WHERE 0")
        except StorageError:
            return False
        return True

    async def schema_version(self) -> int:
        """The number of migrations applied."""
        return await self.db.schema_version()
