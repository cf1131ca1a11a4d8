"""The database schema as numbered migrations, applied in order by `Database.open`."""

from __future__ import annotations

# Each migration runs once, in order, inside a transaction; never edit one that has shipped,
# add a new one instead.
MIGRATIONS: tuple[str, ...] = (
    # 1: the question log, feedback and per-user settings.
    """
    CREATE TABLE users (
        user_hash   TEXT PRIMARY KEY,
        language    TEXT,
        source      TEXT,
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL
    );
    CREATE TABLE questions (
        id              INTEGER PRIMARY KEY,
        asked_at        TEXT NOT NULL,
        user_hash       TEXT,
        channel         TEXT NOT NULL,
        language        TEXT NOT NULL,
        text            TEXT,
        outcome         TEXT NOT NULL,
        entry_id        TEXT,
        score           REAL NOT NULL DEFAULT 0,
        crisis_category TEXT,
        candidates      TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE INDEX questions_outcome ON questions (outcome, asked_at);
    CREATE INDEX questions_user ON questions (user_hash);
    CREATE TABLE feedback (
        id          INTEGER PRIMARY KEY,
        given_at    TEXT NOT NULL,
        user_hash   TEXT,
        question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
        entry_id    TEXT NOT NULL,
        helpful     INTEGER NOT NULL CHECK (helpful IN (0, 1))
    );
    CREATE INDEX feedback_entry ON feedback (entry_id);
    CREATE INDEX feedback_user ON feedback (user_hash);
    """,
    # 2: emerging needs with their triage, contacts given out, and "tell me later" requests.
    """
    CREATE TABLE needs (
        id              INTEGER PRIMARY KEY,
        terms           TEXT NOT NULL,
        representative  TEXT NOT NULL,
        status          TEXT NOT NULL DEFAULT 'new'
                        CHECK (status IN ('new', 'assigned', 'answered', 'not_in_scope')),
        note            TEXT NOT NULL DEFAULT '',
        assignee        TEXT NOT NULL DEFAULT '',
        entry_id        TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
    );
    CREATE TABLE need_questions (
        question_id INTEGER PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
        need_id     INTEGER NOT NULL REFERENCES needs (id) ON DELETE CASCADE
    );
    CREATE INDEX need_questions_need ON need_questions (need_id);
    CREATE TABLE referrals (
        id          INTEGER PRIMARY KEY,
        shown_at    TEXT NOT NULL,
        question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL,
        entry_id    TEXT NOT NULL,
        service_id  TEXT NOT NULL,
        owner       TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX referrals_owner ON referrals (owner, shown_at);
    CREATE TABLE follow_ups (
        question_id   INTEGER PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
        user_hash     TEXT NOT NULL,
        chat_token    TEXT NOT NULL,
        language      TEXT NOT NULL,
        requested_at  TEXT NOT NULL,
        sent_at       TEXT
    );
    CREATE INDEX follow_ups_user ON follow_ups (user_hash);
    """,
    # 3: "this is not an emergency" pressed after a crisis reply: false alarms per category
    # for staff (issue 11); the message itself is never stored.
    """
    ALTER TABLE questions ADD COLUMN not_emergency INTEGER NOT NULL DEFAULT 0;
    """,
)
