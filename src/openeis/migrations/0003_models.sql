-- 0003: the model registry, scores and flags.
-- Portable types only (DuckDB and PostgreSQL): TEXT, BYTEA, DOUBLE PRECISION, DATE,
-- TIMESTAMP, INTEGER, BIGINT. JSON is stored as TEXT.

CREATE TABLE model_registry (
    model_id TEXT NOT NULL PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    label TEXT NOT NULL,
    trained_as_of DATE NOT NULL,
    train_dates TEXT NOT NULL,
    candidate TEXT NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    code_version TEXT NOT NULL,
    metrics TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('candidate', 'approved', 'live', 'retired')),
    artifact BYTEA NOT NULL,
    artifact_sha256 TEXT NOT NULL
);

-- Every status change, with who made it and why (an override of the bias gate needs a rationale).
CREATE TABLE model_events (
    model_id TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    rationale TEXT
);

-- The model's score for every officer in the cohort on a date.
CREATE TABLE scores (
    model_id TEXT NOT NULL,
    as_of DATE NOT NULL,
    officer TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    score_rank INTEGER NOT NULL,
    percentile DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (model_id, as_of, officer)
);

-- Officers put in front of a human reviewer. A flag is a prompt, never a verdict: it cannot
-- be written without its explanation (JSON: factors with sentences, rules triggered).
CREATE TABLE flags (
    flag_id TEXT NOT NULL PRIMARY KEY,
    as_of DATE NOT NULL,
    officer TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('model', 'rule', 'detector')),
    model_id TEXT,
    score DOUBLE PRECISION,
    score_rank INTEGER,
    percentile DOUBLE PRECISION,
    rules TEXT NOT NULL,
    explanation TEXT NOT NULL CHECK (length(explanation) > 20),
    created_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_review', 'decided')),
    version INTEGER NOT NULL DEFAULT 1
);

-- Bias audits of a model on an as-of date (the audit's JSON), read by the promotion gate.
CREATE TABLE model_audits (
    audit_id TEXT NOT NULL PRIMARY KEY,
    model_id TEXT NOT NULL,
    as_of DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    within_band BOOLEAN NOT NULL,
    result TEXT NOT NULL
);
