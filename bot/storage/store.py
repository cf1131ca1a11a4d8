"""`Storage`: the one object the rest of the bot uses, with a repository per kind of record."""

from __future__ import annotations

from pathlib import Path

from bot.storage.database import Database, open_database
from bot.storage.follow_ups import FollowUps
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

    def __init__(self, db: Database) -> None:
        self.db = db
        self.questions = QuestionLog(db)
        self.users = Users(db)
        self.feedback = Feedback(db)
        self.needs = NeedStore(db)
        self.follow_ups = FollowUps(db)
        self.usage = UsageCounts(db)
        self.jobs = JobRuns(db)
        self.triage = Triage(db)
        self.partners = Partners(db)

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
        storage = cls(await open_database(target, spool_dir))
        try:
            await storage.questions.replay_spool()
        except BaseException:
            await storage.db.close()
            raise
        return storage

    async def close(self) -> None:
        """Close the database; every write was already committed."""
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
