"""The tamper-evident access log.

Every read or change of personal data appends one entry: who, in which role, when, what
(resource and pseudonymous record references, never names or content), why, and whether it
was allowed. Each entry's hash covers its fields and the previous entry's hash, so editing,
deleting or reordering any entry breaks the chain from there on. The newest entry's sequence
number and hash (the head) are also kept in store_meta with an HMAC made with the store's
key: cutting entries off the end leaves a head that no longer matches, and a forged head
needs the key, which is not in the database. Auditors can also keep copies of the head
(`openeis log head`) outside the system and compare later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from openeis.governance.roles import Actor
from openeis.store import Store

GENESIS = "0" * 64
HEAD_META = "access_log_head"
COLUMNS = (
    "seq", "logged_at", "actor", "role", "action", "resource", "records", "purpose", "outcome", "reason",
)


@dataclass(frozen=True)
class Entry:
    seq: int
    logged_at: datetime
    actor: str
    role: str
    action: str
    resource: str
    records: str | None
    purpose: str | None
    outcome: str
    reason: str | None
    previous_hash: str
    entry_hash: str


def entry_hash(fields: dict, previous_hash: str) -> str:
    """SHA-256 of the entry's fields (canonical JSON) and the previous entry's hash."""
    body = {name: fields[name] for name in COLUMNS}
    body["logged_at"] = fields["logged_at"].isoformat(timespec="microseconds")
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{previous_hash}\n{text}".encode()).hexdigest()


def _sign_head(key: bytes, seq: int, head_hash: str) -> str:
    return hmac.new(key, f"access-log-head\x1f{seq}\x1f{head_hash}".encode(), hashlib.sha256).hexdigest()


def append(
    store: Store,
    key: bytes,
    actor: Actor,
    action: str,
    resource: str,
    records: dict | list | str | None = None,
    purpose: str | None = None,
    outcome: str = "allowed",
    reason: str | None = None,
    own_transaction: bool = True,
) -> Entry:
    """Append one entry. `records` holds pseudonymous references or counts, never content."""
    if own_transaction:
        with store.transaction():
            return append(store, key, actor, action, resource, records, purpose, outcome, reason, False)
    # Concurrent writers (server stores) queue here: each reads the newest entry only once
    # the one before it has committed, so two entries never claim the same seq.
    store.lock("access_log")
    last = store.query("SELECT seq, entry_hash FROM access_log ORDER BY seq DESC LIMIT 1")
    seq, previous = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
    fields: dict[str, Any] = {
        "seq": seq,
        "logged_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "actor": actor.name,
        "role": actor.role.value,
        "action": action,
        "resource": resource,
        "records": records if isinstance(records, str) or records is None else json.dumps(records, sort_keys=True),
        "purpose": purpose,
        "outcome": outcome,
        "reason": reason,
    }
    digest = entry_hash(fields, previous)
    store.execute(
        f"INSERT INTO access_log ({', '.join(COLUMNS)}, previous_hash, entry_hash) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)}, ?, ?)",
        [fields[name] for name in COLUMNS] + [previous, digest],
    )
    store.set_meta(HEAD_META, f"{seq}:{digest}:{_sign_head(key, seq, digest)}")
    return Entry(**fields, previous_hash=previous, entry_hash=digest)


def ingest_logger(store: Store, key: bytes, actor: Actor, purpose: str):
    """A `before_commit` callback for ingestion: one entry per batch, with row counts per
    table, written inside the batch's own transaction."""

    def log(report) -> None:
        counts = {t.table: {"inserted": t.inserted, "updated": t.updated, "quarantined": t.quarantined}
                  for t in report.tables}
        append(store, key, actor, "change", "source_records",
               records={"batch": report.batch_id, "tables": counts}, purpose=purpose, own_transaction=False)

    return log


def entries(store: Store, limit: int | None = None) -> list[Entry]:
    sql = f"SELECT {', '.join(COLUMNS)}, previous_hash, entry_hash FROM access_log ORDER BY seq"
    if limit is not None:
        sql += f" DESC LIMIT {int(limit)}"
    rows = [Entry(*row) for row in store.query(sql)]
    return sorted(rows, key=lambda e: e.seq)


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_broken_seq: int | None = None
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"access log intact: {self.entries} entries, every link and the signed head check out"
        return f"access log BROKEN at entry {self.first_broken_seq}: {self.problem}"


def verify(store: Store, key: bytes | None) -> Verification:
    """Walk the chain in sequence order and report the first broken link.

    A deleted entry leaves a gap in the sequence; an edited one no longer matches its hash;
    entries moved to other places (their sequence numbers swapped) no longer link to the
    entry before them, since each hash covers the previous hash and the sequence number."""
    rows = [Entry(*row) for row in store.query(
        f"SELECT {', '.join(COLUMNS)}, previous_hash, entry_hash FROM access_log ORDER BY seq"
    )]
    previous = GENESIS
    for position, entry in enumerate(rows, start=1):
        if entry.seq != position:
            return Verification(False, len(rows), position, f"expected entry {position}, found entry {entry.seq} "
                                "(an entry was deleted or renumbered)")
        if entry.previous_hash != previous:
            return Verification(False, len(rows), entry.seq, "does not link to the entry before it")
        fields = {name: getattr(entry, name) for name in COLUMNS}
        if entry_hash(fields, previous) != entry.entry_hash:
            return Verification(False, len(rows), entry.seq, "its content does not match its hash (edited)")
        previous = entry.entry_hash
    head = store.get_meta(HEAD_META)
    if head is None:
        if rows:
            return Verification(False, len(rows), None, "the signed head is missing")
        return Verification(True, 0)
    head_seq_text, head_hash, signature = head.split(":")
    head_seq = int(head_seq_text)
    if key is not None and not hmac.compare_digest(signature, _sign_head(key, head_seq, head_hash)):
        return Verification(False, len(rows), head_seq, "the head's signature is wrong (head forged)")
    if head_seq != len(rows) or (rows and rows[-1].entry_hash != head_hash):
        first_missing = min(head_seq, len(rows)) + 1
        return Verification(False, len(rows), first_missing,
                            f"the signed head names entry {head_seq} but the log ends at entry {len(rows)} "
                            "(entries were cut off the end)")
    return Verification(True, len(rows))


def head(store: Store) -> str | None:
    """`seq:hash:signature` of the newest entry, for auditors to keep outside the system."""
    return store.get_meta(HEAD_META)
