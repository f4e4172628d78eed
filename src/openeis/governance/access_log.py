"""The tamper-evident access log.

Every read or change of personal data appends one entry: who, in which role, when, what
(resource and pseudonymous record references, never names or content), why, and whether it
was allowed. Each entry's hash covers its fields and the previous entry's hash, so editing,
deleting or reordering any entry breaks the chain from there on. The newest entry's sequence
number and hash (the head) are also kept in store_meta with an HMAC made with the store's
key: cutting entries off the end, or adding some, leaves a head that no longer matches, and a
forged head needs the key, which is not in the database. A store put back as it was earlier,
or a table wiped with its head, is consistent with itself: the anchor outside the store
(log_anchor.py) catches those. Auditors can also keep copies of the head (`openeis log head`)
outside the system and compare later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from openeis.governance.log_anchor import AnchorRecord
from openeis.governance.roles import Role
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


class Who(Protocol):
    """Whoever an entry is about: an Actor, or a sign-in attempt under a name no account has."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> Role | str: ...


def _sign_head(key: bytes, seq: int, head_hash: str) -> str:
    return hmac.new(key, f"access-log-head\x1f{seq}\x1f{head_hash}".encode(), hashlib.sha256).hexdigest()


def append(
    store: Store,
    key: bytes,
    actor: Who,
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
        "role": actor.role.value if isinstance(actor.role, Role) else actor.role,
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


def entries(store: Store, limit: int | None = None) -> list[Entry]:
    sql = f"SELECT {', '.join(COLUMNS)}, previous_hash, entry_hash FROM access_log ORDER BY seq"
    if limit is not None:
        sql += f" DESC LIMIT {int(limit)}"
    rows = [Entry(*row) for row in store.query(sql)]
    return sorted(rows, key=lambda e: e.seq)


@dataclass(frozen=True)
class Verification:
    """What `log verify` found. `ok` only when every check that could be made passed;
    `signed` says whether the signatures (the head's, the anchor's) could be checked at all:
    without the key they cannot, and a log that links up is then not called verified."""

    ok: bool
    entries: int
    first_broken_seq: int | None = None
    problem: str | None = None
    signed: bool = True
    anchor: AnchorRecord | None = None

    @property
    def verified(self) -> bool:
        return self.ok and self.signed

    def __str__(self) -> str:
        if not self.ok:
            where = f" at entry {self.first_broken_seq}" if self.first_broken_seq is not None else ""
            return f"access log BROKEN{where}: {self.problem}"
        anchored = ""
        if self.anchor is not None:
            since = "the store's creation" if self.anchor.since_seq == 0 else \
                f"entry {self.anchor.since_seq} ({self.anchor.since})"
            anchored = f"; the anchor outside the store (entry {self.anchor.seq}, anchored since {since}) matches"
        if not self.signed:
            return (f"access log NOT VERIFIED: the {self.entries} entries link up{anchored}, but without the "
                    "key the signatures of the head and the anchor cannot be checked, so entries added or "
                    "a head rewritten by someone without the key would not show: run with the key file")
        return f"access log intact: {self.entries} entries, every link and the signed head check out{anchored}"


def parse_head(text: str | None) -> tuple[int, str, str] | None:
    """`seq:hash:signature` -> its parts; None if it is not one (a malformed head)."""
    if text is None:
        return None
    parts = text.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not all(_is_hex64(p) for p in parts[1:]):
        return None
    return int(parts[0]), parts[1], parts[2]


def _is_hex64(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def verify(store: Store, key: bytes | None, anchor: AnchorRecord | None = None,
           anchor_signed: bool | None = None, anchor_problem: str | None = None) -> Verification:
    """Walk the chain in sequence order and report the first broken link, then check the
    signed head against the chain's end and the anchor kept outside the store.

    A deleted entry leaves a gap in the sequence; an edited one no longer matches its hash;
    entries moved to other places (their sequence numbers swapped) no longer link to the
    entry before them, since each hash covers the previous hash and the sequence number.
    `anchor`: this store's anchor record (log_anchor.py), `anchor_signed` whether its
    signature checked out (None: no key to check it with), `anchor_problem` why it could not
    be read (a missing or malformed anchor file is evidence too)."""
    rows = [Entry(*row) for row in store.query(
        f"SELECT {', '.join(COLUMNS)}, previous_hash, entry_hash FROM access_log ORDER BY seq"
    )]
    count = len(rows)
    signed = key is not None

    def broken(seq: int | None, problem: str) -> Verification:
        return Verification(False, count, seq, problem, signed, anchor)

    previous = GENESIS
    for position, entry in enumerate(rows, start=1):
        if entry.seq != position:
            return broken(position, f"expected entry {position}, found entry {entry.seq} "
                          "(an entry was deleted, duplicated or renumbered)")
        if entry.previous_hash != previous:
            return broken(entry.seq, "does not link to the entry before it")
        fields = {name: getattr(entry, name) for name in COLUMNS}
        if entry_hash(fields, previous) != entry.entry_hash:
            return broken(entry.seq, "its content does not match its hash (edited)")
        previous = entry.entry_hash

    head_text = store.get_meta(HEAD_META)
    if head_text is None and rows:
        return broken(count, "the signed head is missing")
    if head_text is not None:
        parsed = parse_head(head_text)
        if parsed is None:
            shown = head_text if len(head_text) <= 80 else head_text[:77] + "..."
            return broken(count or None, f"the signed head is malformed ({shown!r}; expected seq:hash:signature)")
        head_seq, head_hash, signature = parsed
        if key is not None and not hmac.compare_digest(signature, _sign_head(key, head_seq, head_hash)):
            return broken(head_seq, "the head's signature is wrong (head forged)")
        if head_seq < count:
            return broken(head_seq + 1, f"the signed head names entry {head_seq} but the log goes on to entry "
                          f"{count} (entries were added without the key: forged)")
        if head_seq > count:
            return broken(count + 1, f"the signed head names entry {head_seq} but the log ends at entry {count} "
                          "(entries were cut off the end)")
        if (rows[-1].entry_hash if rows else GENESIS) != head_hash:
            return broken(head_seq or None, "is not the entry the signed head names (replaced)")

    if anchor_problem is not None:
        return broken(None, anchor_problem)
    if anchor is not None:
        if anchor_signed is False:
            return broken(anchor.seq, "the anchor outside the store is not signed with the store's key "
                          "(anchor forged)")
        if anchor.seq > count:
            removed = "every entry" if count == 0 else f"entries {count + 1}-{anchor.seq}"
            return broken(count + 1, f"the anchor outside the store shows that entry {anchor.seq} was written, "
                          f"but the log ends at entry {count}: {removed} and the head with them were removed "
                          "(the log wiped, or an older copy of the store put back)")
        if anchor.seq > 0 and rows[anchor.seq - 1].entry_hash != anchor.entry_hash:
            return broken(anchor.seq, "is not the entry the anchor outside the store recorded "
                          "(the log was rewritten up to here)")
    return Verification(True, count, signed=signed, anchor=anchor)


def head_entry(store: Store) -> tuple[int, str]:
    """(seq, hash) of the newest entry the signed head names; (0, GENESIS) when there is
    none, or the head is malformed (the anchor then starts from nothing and verify reports it)."""
    parsed = parse_head(store.get_meta(HEAD_META))
    return (parsed[0], parsed[1]) if parsed else (0, GENESIS)


def head_signed_with(store: Store, key: bytes) -> bool | None:
    """Whether the signed head was signed with `key` (None: no well-formed head to tell)."""
    parsed = parse_head(store.get_meta(HEAD_META))
    if parsed is None:
        return None
    return hmac.compare_digest(parsed[2], _sign_head(key, parsed[0], parsed[1]))


def head(store: Store) -> str | None:
    """`seq:hash:signature` of the newest entry, for auditors to keep outside the system."""
    return store.get_meta(HEAD_META)
