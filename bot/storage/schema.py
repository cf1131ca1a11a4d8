"""The database schema as numbered migrations, applied in order when a database opens.

One list for both backends. A migration is written in SQLite's words and the dialect
(bot.storage.dialect.Dialect.schema) turns it into PostgreSQL's: `id INTEGER PRIMARY KEY`
becomes an auto-numbered BIGSERIAL, other INTEGERs BIGINT, REAL DOUBLE PRECISION. So keep to
what both understand: TEXT timestamps in ISO form (bot.storage.records.iso), INTEGER 0/1 for
booleans, `CREATE TABLE` / `CREATE INDEX` / `ALTER TABLE ... ADD COLUMN`, no AUTOINCREMENT and
no SQLite-only functions (BLOB becomes BYTEA). SQLite counts applied migrations in
`PRAGMA user_version`, PostgreSQL in a `schema_version` table.
"""

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
    # 3: each need's running centroid (sum of its members' question vectors, and their count),
    # so a need keeps attracting new wordings after its old questions' text is purged.
    """
    ALTER TABLE needs ADD COLUMN centroid BLOB;
    ALTER TABLE needs ADD COLUMN centroid_count INTEGER NOT NULL DEFAULT 0;
    """,
    # 4: when each periodic job last ran, so that with several replicas a job runs once per
    # period (bot.storage.jobs claims the run with one conditional upsert).
    """
    CREATE TABLE job_runs (
        name      TEXT PRIMARY KEY,
        last_run  TEXT NOT NULL
    );
    """,
    # 5: staff triage history, staff prompts waiting for a text, partners and their invites,
    # "still right" confirmations, and the weekly digests already sent.
    """
    CREATE TABLE need_actions (
        id          INTEGER PRIMARY KEY,
        need_id     INTEGER NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
        acted_at    TEXT NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        detail      TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX need_actions_need ON need_actions (need_id, id);
    CREATE TABLE staff_prompts (
        user_hash   TEXT PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('note', 'search')),
        need_id     INTEGER NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
        asked_at    TEXT NOT NULL
    );
    CREATE TABLE partner_invites (
        code_hash   TEXT PRIMARY KEY,
        owner       TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        used_at     TEXT
    );
    CREATE TABLE partners (
        id            INTEGER PRIMARY KEY,
        owner         TEXT NOT NULL,
        user_hash     TEXT NOT NULL,
        chat_token    TEXT NOT NULL,
        language      TEXT NOT NULL,
        joined_at     TEXT NOT NULL,
        nudged_at     TEXT,
        revoked_at    TEXT
    );
    CREATE INDEX partners_user ON partners (user_hash);
    CREATE TABLE confirmations (
        id            INTEGER PRIMARY KEY,
        entry_id      TEXT NOT NULL,
        owner         TEXT NOT NULL,
        user_hash     TEXT NOT NULL,
        confirmed_at  TEXT NOT NULL
    );
    CREATE INDEX confirmations_entry ON confirmations (entry_id, confirmed_at);
    CREATE TABLE digests (
        slot      TEXT PRIMARY KEY,
        sent_at   TEXT NOT NULL
    );
    """,
    # 6: "this is not an emergency" pressed after a crisis reply: false alarms per category
    # for staff (issue 11); the message itself is never stored.
    """
    ALTER TABLE questions ADD COLUMN not_emergency INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: reliability. The inbox keeps every fetched Telegram update (sealed) until it is
    # handled, so a crash loses nothing; a question logged for an update is logged once
    # (update_id); one vote per user per question and entry (a second press updates it).
    """
    CREATE TABLE inbox (
        update_id    INTEGER PRIMARY KEY,
        received_at  TEXT NOT NULL,
        payload      TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        done_at      TEXT
    );
    CREATE INDEX inbox_done ON inbox (done_at);
    ALTER TABLE questions ADD COLUMN update_id INTEGER;
    CREATE UNIQUE INDEX questions_update ON questions (update_id);
    DELETE FROM feedback WHERE user_hash IS NOT NULL AND id NOT IN (
        SELECT MAX(id) FROM feedback WHERE user_hash IS NOT NULL
        GROUP BY user_hash, entry_id, COALESCE(question_id, 0)
    );
    CREATE UNIQUE INDEX feedback_one_vote
        ON feedback (user_hash, entry_id, COALESCE(question_id, 0));
    """,
    # 8: which replica holds a pending update: the one that received it claims it (claimed_at),
    # and another takes it over only once that claim is older than the lease, so a live
    # replica's updates are never handled twice and a dead one's are picked up.
    """
    ALTER TABLE inbox ADD COLUMN claimed_at TEXT;
    """,
    # 9: emerging needs (issue 12): an unanswered or ambiguous question's sentence vector
    # (the multilingual encoder's, float16 in base64; bot.needs.stored), so grouping never
    # runs the encoder. Blanked with the text, deleted with the question.
    """
    ALTER TABLE questions ADD COLUMN vector TEXT;
    """,
    # 10: emerging needs (issue 12): what grouping learnt from the questions already in needs
    # (how many use each word, for rarity and typo repair; the sentence vectors' common part),
    # so a refresh reads only its new questions. Written again at each full grouping; emptied
    # when question text is blanked or a person's questions are erased (rebuilt next time).
    # One need_model row; `generation` grows at each write, so a refresh that read it before
    # an erasure never writes back what it learnt from the erased text; `questions` is -1
    # while nothing learnt is stored.
    """
    CREATE TABLE need_words (
        word        TEXT PRIMARY KEY,
        questions   INTEGER NOT NULL
    );
    CREATE TABLE need_model (
        id              INTEGER PRIMARY KEY,
        generation      INTEGER NOT NULL,
        questions       INTEGER NOT NULL,
        sentence_mean   BLOB,
        learnt_at       TEXT NOT NULL
    );
    """,
)
