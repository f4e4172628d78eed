-- 0006: sign-in attempts, so that the web application can throttle password guessing per
-- name and per client address across every worker of a server store (issue 21). One row
-- per attempt: when, the name typed (an account's or not), the client's address and the
-- outcome (failed, succeeded, locked). Rows older than a day are deleted as new ones come;
-- the access log keeps the lasting record of every attempt.

CREATE TABLE sign_in_attempts (
    attempted_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    address VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL CHECK (outcome IN ('failed', 'succeeded', 'locked'))
);
