"""The access log's anchor: its newest entry, kept outside the store.

The hash chain shows an edited, deleted or reordered entry, and the signed head in the store
shows entries cut off the end. Neither shows a store put back as it was earlier (a backup
restored, entries 8-10 deleted and the head of entry 7 put back), nor a table wiped with its
head: what is left is a smaller log that is consistent with itself. The anchor is a counter
kept where the store's writer cannot reach it: beside the key file (default `openeis.anchor`
beside `openeis.key`), holding for each store the sequence number and hash of the newest
entry committed, signed with the key. It only ever moves forward. `log verify` then requires
the anchored entry to be in the log, unchanged.

One file serves every store that shares a key file, one record per store, under the store's
location (`store_location`: a DuckDB file's resolved path, a server's host, port and
database), which nothing inside the store can change. The anchor moves after each commit
(`Store.after_commit`): a crash between the two leaves it one entry behind, never ahead, and
an entry behind still catches any rollback beyond it. Writers on one host (web workers,
commands) take an exclusive `flock` on `<anchor>.lock`, read, and write only a higher
sequence number (a new file renamed over the old, so a reader never sees half a file).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

FORMAT = "openeis-access-log-anchor/1"
GENESIS = "0" * 64


class AnchorError(Exception):
    """The anchor file cannot be read or is not an anchor file: evidence for `log verify`."""


@dataclass(frozen=True)
class AnchorRecord:
    seq: int  # the newest entry known to have been committed
    entry_hash: str
    since_seq: int  # the log's newest entry when anchoring began (0: from the store's creation)
    since: str  # when anchoring began (UTC, ISO 8601)
    signature: str  # HMAC-SHA256 with the store's key over the fields above and the location


def default_anchor_path(key_path: Path) -> Path:
    """Beside the key file, in the directory the store's writer cannot reach."""
    return key_path.with_suffix(".anchor")


def _sign(key: bytes, location: str, seq: int, entry_hash: str, since_seq: int, since: str) -> str:
    message = "\x1f".join(["access-log-anchor", location, str(seq), entry_hash, str(since_seq), since])
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LogAnchor:
    """The anchor of the store at `location`, in the file at `path`. `key` signs (and checks)
    records; None only for `log verify` without the key, which can compare but not check."""

    path: Path
    location: str
    key: bytes | None

    # -- reading ------------------------------------------------------------------------

    def read(self) -> AnchorRecord | None:
        """This store's record; None if the file or the record is not there. Raises
        AnchorError if the file is not a well-formed anchor file."""
        stores = self._read_all()
        if stores is None or self.location not in stores:
            return None
        return _record(stores[self.location], self.path)

    def signature_ok(self, record: AnchorRecord) -> bool | None:
        """Whether the record was signed with the key (None: no key to check with)."""
        if self.key is None:
            return None
        expected = _sign(self.key, self.location, record.seq, record.entry_hash, record.since_seq, record.since)
        return hmac.compare_digest(expected, record.signature)

    def _read_all(self) -> dict | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise AnchorError(f"the anchor file {self.path} cannot be read: {error}") from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            raise AnchorError(f"the anchor file {self.path} is not an anchor file (not JSON)") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(
                document.get("stores"), dict):
            raise AnchorError(f"the anchor file {self.path} is not an anchor file (format {FORMAT} expected)")
        return document["stores"]

    # -- writing ------------------------------------------------------------------------

    def begin(self, seq: int, entry_hash: str) -> AnchorRecord:
        """Start anchoring this store at its newest entry (`openeis init`, or the first
        keyed command on a store anchored nowhere yet). Keeps a record already there."""
        with self._locked():
            stores = self._read_all() or {}
            if self.location in stores:
                return _record(stores[self.location], self.path)
            since = datetime.now(timezone.utc).isoformat(timespec="seconds")
            record = self._signed(seq, entry_hash, seq, since)
            stores[self.location] = asdict(record)
            self._write_all(stores)
            return record

    def advance(self, seq: int, entry_hash: str) -> None:
        """Move the anchor to a committed entry, if it is newer than the anchored one. A
        record that is missing or does not check out is left alone: it is evidence, and
        only `openeis log reanchor` replaces it."""
        with self._locked():
            stores = self._read_all()
            if stores is None or self.location not in stores:
                return
            current = _record(stores[self.location], self.path)
            if seq <= current.seq or not self.signature_ok(current):
                return
            stores[self.location] = asdict(self._signed(seq, entry_hash, current.since_seq, current.since))
            self._write_all(stores)

    def replace(self, seq: int, entry_hash: str) -> AnchorRecord | None:
        """Anchor this store at `seq` anew, whatever the record said (`openeis log reanchor`,
        after an administrator has accepted a restore). Returns the record replaced."""
        with self._locked():
            try:
                stores = self._read_all() or {}
                previous = _record(stores[self.location], self.path) if self.location in stores else None
            except AnchorError:
                stores, previous = {}, None
            since = datetime.now(timezone.utc).isoformat(timespec="seconds")
            stores[self.location] = asdict(self._signed(seq, entry_hash, seq, since))
            self._write_all(stores)
            return previous

    def _signed(self, seq: int, entry_hash: str, since_seq: int, since: str) -> AnchorRecord:
        if self.key is None:
            raise AnchorError("the anchor can only be written with the store's key")
        return AnchorRecord(seq, entry_hash, since_seq, since,
                            _sign(self.key, self.location, seq, entry_hash, since_seq, since))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    def _write_all(self, stores: dict) -> None:
        text = json.dumps({"format": FORMAT, "stores": stores}, indent=1, sort_keys=True) + "\n"
        descriptor, temporary = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w") as handle:  # mkstemp: mode 0600
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _record(value: object, path: Path) -> AnchorRecord:
    try:
        assert isinstance(value, dict)
        record = AnchorRecord(int(value["seq"]), str(value["entry_hash"]), int(value["since_seq"]),
                              str(value["since"]), str(value["signature"]))
        assert record.seq >= record.since_seq >= 0
    except (AssertionError, KeyError, TypeError, ValueError):
        raise AnchorError(f"the anchor file {path} holds a malformed record for this store") from None
    return record
