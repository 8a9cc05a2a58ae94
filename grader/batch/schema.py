"""The gradebook's tables, as SQL (what each holds: :mod:`grader.batch.gradebook`)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment  TEXT NOT NULL,
    folder      TEXT NOT NULL,
    layout      TEXT NOT NULL,
    version     TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,          -- running | done | interrupted | stopped (killed)
    counts      TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS submissions (
    assignment TEXT NOT NULL,
    submission TEXT NOT NULL,           -- the layout's key: student id, Canvas user id, ...
    layout     TEXT NOT NULL,
    path       TEXT NOT NULL,           -- the graded file ('' when none)
    file       TEXT NOT NULL,           -- its name
    members    TEXT NOT NULL,           -- JSON list of student ids
    hash       TEXT NOT NULL,
    version    TEXT NOT NULL,
    status     TEXT NOT NULL,           -- graded | error
    reason     TEXT NOT NULL,           -- '' | input | import | layout | group | worker | deadline
    message    TEXT NOT NULL,
    notes      TEXT NOT NULL,           -- JSON list
    score      REAL NOT NULL,
    max_score  REAL NOT NULL,
    seconds    REAL NOT NULL,
    graded_at  TEXT NOT NULL,
    run_id     INTEGER NOT NULL,
    result     TEXT,                    -- JSON of the Result (dataclasses.asdict) but its items
    PRIMARY KEY (assignment, submission)
);
CREATE TABLE IF NOT EXISTS results (
    assignment TEXT NOT NULL,
    submission TEXT NOT NULL,
    item       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    title      TEXT NOT NULL,
    score      REAL NOT NULL,
    max_score  REAL NOT NULL,
    status     TEXT NOT NULL,
    feedback   TEXT NOT NULL,
    cases      TEXT NOT NULL,           -- JSON list of case results
    hash       TEXT NOT NULL,
    version    TEXT NOT NULL,
    graded_at  TEXT NOT NULL,
    PRIMARY KEY (assignment, submission, item)
);
CREATE TABLE IF NOT EXISTS members (
    assignment TEXT NOT NULL,
    student    TEXT NOT NULL,
    submission TEXT NOT NULL,
    name       TEXT NOT NULL,           -- as the layout names them (Gradescope does)
    email      TEXT NOT NULL,
    PRIMARY KEY (assignment, student, submission)
);
CREATE TABLE IF NOT EXISTS roster (
    assignment TEXT NOT NULL,
    id         TEXT NOT NULL,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    extra      TEXT NOT NULL,           -- JSON: section, sis_user_id, sis_login_id
    PRIMARY KEY (assignment, id)
);
CREATE TABLE IF NOT EXISTS times (
    assignment   TEXT NOT NULL,
    submission   TEXT NOT NULL,
    submitted_at TEXT,                  -- ISO with offset, NULL when unknown
    source       TEXT NOT NULL,         -- gradescope | timestamp.txt | FILE.csv | mtime
    flagged      INTEGER NOT NULL,      -- the LMS marked it late without a time
    PRIMARY KEY (assignment, submission)
);
CREATE TABLE IF NOT EXISTS finals (
    assignment TEXT NOT NULL,
    student    TEXT NOT NULL,
    submission TEXT NOT NULL,
    final      REAL NOT NULL,
    status     TEXT NOT NULL,           -- on time | grace | late | after late-until | ...
    detail     TEXT NOT NULL,           -- JSON of grader.policy.lateness.Final
    computed_at TEXT NOT NULL,
    PRIMARY KEY (assignment, student)
);
CREATE INDEX IF NOT EXISTS submissions_by_hash ON submissions (assignment, hash, version);
"""
