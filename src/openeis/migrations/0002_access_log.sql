-- 0002: the tamper-evident access log. Each entry carries the hash of the one before it;
-- the newest entry's hash is also kept, signed with the store's key, in store_meta
-- (name 'access_log_head'), so that cutting entries off the end is detected too.

CREATE TABLE access_log (
    seq BIGINT NOT NULL,
    logged_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    resource VARCHAR NOT NULL,
    records VARCHAR,
    purpose VARCHAR,
    outcome VARCHAR NOT NULL,
    reason VARCHAR,
    previous_hash VARCHAR NOT NULL,
    entry_hash VARCHAR NOT NULL
);
