-- 0008: the files each canonical ingest read, by content hash, so that a later ingest can
-- skip a file it has already loaded (incremental ingest: a monthly drop re-sends the tables
-- that did not change). changed_rows: what the file inserted or updated in its batch,
-- quarantined_rows: what it refused (such a file is always read again, to report them again).
CREATE TABLE ingest_files (
    batch_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    file_name VARCHAR,
    sha256 VARCHAR,  -- NULL: rows an adapter mapped from a force's export (no one file)
    size_bytes BIGINT NOT NULL,
    changed_rows BIGINT NOT NULL,
    quarantined_rows BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);
