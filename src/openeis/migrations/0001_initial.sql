-- 0001: the canonical data model (generated from openeis.schema by
-- python -m openeis.store.ddl) and the bookkeeping tables.

CREATE SCHEMA IF NOT EXISTS restricted;

CREATE TABLE units (
    unit_id VARCHAR NOT NULL,
    unit_name VARCHAR,
    function VARCHAR NOT NULL,
    parent_unit_id VARCHAR,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE officers (
    officer_id VARCHAR NOT NULL,
    rank VARCHAR NOT NULL,
    unit_id VARCHAR,
    joined_at TIMESTAMP NOT NULL,
    left_at TIMESTAMP,
    leaving_reason VARCHAR,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE postings (
    posting_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    unit_id VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    rank VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE restricted.officer_characteristics (
    officer_id VARCHAR NOT NULL,
    ethnicity VARCHAR,
    gender VARCHAR,
    birth_year BIGINT,
    disability VARCHAR,
    religion VARCHAR,
    sexual_orientation VARCHAR,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE complaints (
    complaint_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    area VARCHAR,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE restricted.complainants (
    complainant_id VARCHAR NOT NULL,
    complaint_id VARCHAR NOT NULL,
    person_id VARCHAR,
    gender VARCHAR,
    ethnicity VARCHAR,
    age_band VARCHAR,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE allegations (
    allegation_id VARCHAR NOT NULL,
    complaint_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    finding VARCHAR NOT NULL,
    outcome VARCHAR,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE use_of_force (
    use_of_force_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    incident_id VARCHAR,
    force_type VARCHAR NOT NULL,
    subject_injured BOOLEAN,
    officer_injured BOOLEAN,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE absences (
    absence_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    reason VARCHAR,
    occurred_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE duty_periods (
    duty_period_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    unit_id VARCHAR,
    planned_shifts BIGINT NOT NULL,
    shifts_worked BIGINT NOT NULL,
    hours_on_duty DOUBLE PRECISION,
    arrests BIGINT,
    occurred_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE overtime_claims (
    claim_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    hours DOUBLE PRECISION NOT NULL,
    rate VARCHAR NOT NULL,
    reason VARCHAR,
    status VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP,
    recorded_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE shift_swaps (
    swap_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    other_officer_id VARCHAR,
    premium_day BOOLEAN,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE performance_reviews (
    review_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    rating VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE training (
    training_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    course VARCHAR,
    result VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE commendations (
    commendation_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE system_access (
    access_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    system VARCHAR,
    record_kind VARCHAR NOT NULL,
    subject_id VARCHAR,
    case_reference VARCHAR,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE declarations (
    declaration_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    decision VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP,
    recorded_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

CREATE TABLE other_events (
    event_id VARCHAR NOT NULL,
    officer_id VARCHAR NOT NULL,
    event_type VARCHAR NOT NULL,
    subtype VARCHAR,
    outcome VARCHAR,
    value DOUBLE PRECISION,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    _batch_id VARCHAR,
    _row_hash VARCHAR
);

-- Bookkeeping tables: what was ingested when, what changed, what was refused.

CREATE TABLE store_meta (
    name VARCHAR NOT NULL,
    value VARCHAR
);

CREATE TABLE ingest_batches (
    batch_id VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    format VARCHAR NOT NULL,
    source VARCHAR,
    mode VARCHAR NOT NULL,
    files VARCHAR,
    rows_read BIGINT,
    rows_inserted BIGINT,
    rows_updated BIGINT,
    rows_unchanged BIGINT,
    rows_quarantined BIGINT,
    warnings BIGINT,
    openeis_version VARCHAR
);

CREATE TABLE record_changes (
    batch_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    record_key VARCHAR NOT NULL,
    changed_columns VARCHAR NOT NULL,
    previous_row_hash VARCHAR,
    new_row_hash VARCHAR,
    changed_at TIMESTAMP NOT NULL
);

CREATE TABLE quarantine (
    batch_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    line BIGINT NOT NULL,
    column_name VARCHAR,
    value VARCHAR,
    reason VARCHAR NOT NULL,
    row_json VARCHAR,
    row_hash VARCHAR NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
);
