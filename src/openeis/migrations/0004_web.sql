-- 0004: the web application's tables: local accounts, sign-in sessions, API tokens, and
-- the review of a flag (the human decision a flag prompts).

-- Local accounts. Passwords are argon2id hashes (never the password), scope_units is a JSON
-- list of unit ids a reviewer covers, officer is the pseudonym an officer account may see.
CREATE TABLE users (
    name VARCHAR NOT NULL PRIMARY KEY,
    role VARCHAR NOT NULL,
    scope_units VARCHAR NOT NULL,
    officer VARCHAR,
    password_hash VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled BOOLEAN NOT NULL
);

-- Sign-in sessions and API tokens: only the SHA-256 of the secret is stored, so a copy of
-- the database does not sign anyone in. A session carries its CSRF token.
CREATE TABLE web_sessions (
    session_hash VARCHAR NOT NULL PRIMARY KEY,
    user_name VARCHAR NOT NULL,
    csrf_token VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    token_hash VARCHAR NOT NULL PRIMARY KEY,
    user_name VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP
);

-- Who is working a flag. (A column on flags would do, but ALTER TABLE on a table other
-- migrations constrain is not portable between the two engines, so one row per flag here.)
CREATE TABLE flag_assignments (
    flag_id VARCHAR NOT NULL PRIMARY KEY,
    assigned_to VARCHAR NOT NULL,
    assigned_by VARCHAR NOT NULL,
    assigned_at TIMESTAMP NOT NULL
);

-- One row per recorded decision. factor_feedback: JSON list of {feature, agree, note},
-- flag_version: the flag's version the reviewer saw (optimistic locking).
CREATE TABLE reviews (
    review_id VARCHAR NOT NULL PRIMARY KEY,
    flag_id VARCHAR NOT NULL,
    officer VARCHAR NOT NULL,
    reviewer VARCHAR NOT NULL,
    decision VARCHAR NOT NULL CHECK (decision IN ('no_action', 'supervisory_conversation', 'training',
        'welfare_referral', 'professional_standards_referral')),
    rationale VARCHAR NOT NULL CHECK (length(rationale) >= 10),
    factor_feedback VARCHAR NOT NULL,
    intervention VARCHAR,
    follow_up_on DATE,
    decided_at TIMESTAMP NOT NULL,
    flag_version INTEGER NOT NULL
);

-- Backtest results (the JSON `openeis backtest --json` writes), kept so the models page can
-- chart them next to the registry.
CREATE TABLE backtests (
    backtest_id VARCHAR NOT NULL PRIMARY KEY,
    label VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    result VARCHAR NOT NULL
);
