-- 0007: the review queue a team can work through: welfare prompts apart from conduct, the
-- identity vault, amended decisions and intervention outcomes.

-- Which queue a flag goes to: conduct (professional standards) or welfare (line managers and
-- occupational health). Written by every writer of flags. Earlier Bradford-factor hits were
-- welfare prompts already.
ALTER TABLE flags ADD COLUMN queue VARCHAR DEFAULT 'conduct';
UPDATE flags SET queue = 'welfare' WHERE model_id = 'detector:high_bradford_factor';

-- The identity vault: the force's staff number (and, if the force wishes, the name) of each
-- officer, sealed with RSA-OAEP under the vault's public key (base64). Only the private vault key, held apart from the
-- pseudonymisation key and never in the store, opens them: `openeis reveal`, logged.
CREATE TABLE restricted.identity_vault (
    officer_id VARCHAR NOT NULL PRIMARY KEY,
    staff_number VARCHAR NOT NULL,
    name VARCHAR,
    vault_key_id VARCHAR NOT NULL,
    sealed_at TIMESTAMP NOT NULL
);

-- A decision amended: the new decision is a row in reviews like the first, and this row links it
-- to the one it replaces, with who amended it and why. Nothing is overwritten.
CREATE TABLE review_amendments (
    review_id VARCHAR NOT NULL PRIMARY KEY,
    amends_review_id VARCHAR NOT NULL,
    flag_id VARCHAR NOT NULL,
    amended_by VARCHAR NOT NULL,
    amended_at TIMESTAMP NOT NULL,
    reason VARCHAR NOT NULL CHECK (length(reason) >= 10)
);

-- What came of an intervention, recorded at or after its follow-up: it closes the follow-up.
CREATE TABLE intervention_outcomes (
    outcome_id VARCHAR NOT NULL PRIMARY KEY,
    review_id VARCHAR NOT NULL,
    flag_id VARCHAR NOT NULL,
    officer VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL CHECK (outcome IN ('completed', 'partly_completed', 'not_completed',
        'no_longer_needed')),
    note VARCHAR NOT NULL,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
