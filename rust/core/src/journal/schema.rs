//! The journal's schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Migrations run in order, each in the same transaction as the version bump. A journal
//! from a newer poscore is refused rather than guessed at.

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = 2;

/// Migration `n` (1-based) takes the schema from version `n - 1` to `n`.
pub const MIGRATIONS: &[&str] = &[V1, V2];

const V1: &str = r#"
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('next_trace', 1), ('batch', 1), ('sign_on_required', 1);

CREATE TABLE batches (
    batch       INTEGER PRIMARY KEY,
    state       TEXT NOT NULL CHECK (state IN ('open', 'settling', 'closed')),
    opened_at   INTEGER NOT NULL,
    closed_at   INTEGER,
    total_count INTEGER,
    total_minor INTEGER,
    balanced    INTEGER
);
CREATE INDEX batches_settling ON batches (batch) WHERE state = 'settling';
INSERT INTO batches (batch, state, opened_at) VALUES (1, 'open', 0);

CREATE TABLE transactions (
    id            INTEGER PRIMARY KEY,
    request_id    TEXT NOT NULL UNIQUE,
    fingerprint   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    trace         INTEGER NOT NULL CHECK (trace BETWEEN 1 AND 999999),
    batch         INTEGER NOT NULL CHECK (batch BETWEEN 1 AND 999999),
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    currency      TEXT NOT NULL,
    masked_pan    TEXT NOT NULL,
    pan_hash      TEXT NOT NULL,
    auth_code     TEXT,
    rrn           TEXT,
    response_code TEXT,
    original_id   INTEGER REFERENCES transactions (id),
    settled       INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (batch, trace)
);
-- One partial index per unfinished state: recovery and the work queue read only unfinished
-- rows, so their cost does not grow with the journal. (A query uses a partial index only when
-- its WHERE repeats the index's condition; `journal::queries` holds those queries.)
CREATE INDEX transactions_queued ON transactions (id) WHERE state = 'queued';
CREATE INDEX transactions_sending ON transactions (id) WHERE state = 'sending';
CREATE INDEX transactions_trace ON transactions (trace);
CREATE INDEX transactions_original ON transactions (original_id) WHERE original_id IS NOT NULL;
CREATE INDEX transactions_unsettled ON transactions (batch) WHERE settled = 0;

CREATE TABLE reversals (
    txn_id          INTEGER PRIMARY KEY REFERENCES transactions (id),
    state           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_response   TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX reversals_pending ON reversals (next_attempt_at, txn_id) WHERE state = 'pending';

CREATE TABLE advices (
    txn_id          INTEGER PRIMARY KEY REFERENCES transactions (id),
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_response   TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX advices_queued ON advices (next_attempt_at, txn_id) WHERE state = 'queued';
CREATE INDEX advices_sending ON advices (txn_id) WHERE state = 'sending';

CREATE TABLE print_jobs (
    id              INTEGER PRIMARY KEY,
    txn_id          INTEGER NOT NULL REFERENCES transactions (id),
    copy            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX print_jobs_txn ON print_jobs (txn_id);
CREATE INDEX print_jobs_queued ON print_jobs (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX print_jobs_printing ON print_jobs (id) WHERE state = 'printing';

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    txn_id     INTEGER,
    entity     TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    cause      TEXT NOT NULL
);
CREATE INDEX events_txn ON events (txn_id) WHERE txn_id IS NOT NULL;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER reversals_no_delete BEFORE DELETE ON reversals
BEGIN SELECT RAISE(ABORT, 'reversals are never deleted'); END;
CREATE TRIGGER transactions_no_delete BEFORE DELETE ON transactions
BEGIN SELECT RAISE(ABORT, 'transactions are never deleted'); END;
"#;

/// Version 2: the durable print queue (held jobs, delivery, printed time, jobs whose outcome
/// was unknowable), training transactions, electronic signatures, printer counters.
const V2: &str = r#"
UPDATE print_jobs SET state = 'sending' WHERE state = 'printing';
DROP INDEX print_jobs_printing;
CREATE INDEX print_jobs_sending ON print_jobs (id) WHERE state = 'sending';
CREATE INDEX print_jobs_held ON print_jobs (id) WHERE state = 'held';
-- Why a job waits for the operator: a printer condition code (`paper_out`, …) or `tear_off`.
ALTER TABLE print_jobs ADD COLUMN held_reason TEXT;
ALTER TABLE print_jobs ADD COLUMN printed_at INTEGER;
ALTER TABLE print_jobs ADD COLUMN delivered TEXT CHECK (delivered IN ('paper', 'electronic'));
-- 1 when an earlier attempt may have printed (no confirmation, or cut off by a restart): the
-- next copy is printed marked REPRINT.
ALTER TABLE print_jobs ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
-- The condition code of the last failure, and when the job first failed (the electronic
-- receipt fallback counts from then).
ALTER TABLE print_jobs ADD COLUMN last_condition TEXT;
ALTER TABLE print_jobs ADD COLUMN failing_since INTEGER;

ALTER TABLE transactions ADD COLUMN training INTEGER NOT NULL DEFAULT 0;

CREATE TABLE signatures (
    txn_id      INTEGER PRIMARY KEY REFERENCES transactions (id),
    data        BLOB NOT NULL,
    captured_at INTEGER NOT NULL
);

INSERT INTO counters (name, value) VALUES
    ('printer_mm', 0), ('printer_jobs', 0), ('paper_changes', 0), ('mm_since_paper_change', 0), ('reprints', 0);
"#;
