"""Who is acting on which store: opening the store and its key (the one place every caller
uses), the policy check for the caller, and the access-log entry.

    with open_session(store_url, actor, key_file=..., config=settings) as session:
        result = governance.subject_access(session, ...)

An action calls `session.allow(...)` for each permission it needs, before its transaction
(a refusal must reach the log even though the action fails), then does its work and
`session.log(...)` inside `session.transaction()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from openeis.config import ConfigFileError, OpenEISConfig, load_config
from openeis.governance import access_log
from openeis.governance.log_anchor import AnchorError, LogAnchor, default_anchor_path
from openeis.governance.policy import Decision, decide
from openeis.governance.roles import Action, Actor, Resource
from openeis.privacy import KeyFileError, Pseudonymiser, default_key_path, read_key_file
from openeis.store import Store, StoreError, open_store, store_location

from openeis.application.errors import AccessDenied, NotFound, Refused, refusing


@dataclass
class Session:
    """An actor at work on an opened store. `key` signs the access log's head; it is None
    only where an action is allowed to run without it (`log verify`). `anchor` keeps the
    log's newest entry outside the store (governance/log_anchor.py); None where no key file
    is at hand (a library caller, a test), and then nothing is anchored."""

    store: Store
    key: bytes | None
    actor: Actor
    config: OpenEISConfig
    store_url: str = ""
    vault_key_file: Path | None = None  # the identity vault's private key: read only to reveal
    after_close: list[Callable[[], None]] = field(default_factory=list)  # run by open_session
    anchor: LogAnchor | None = None

    def allow(self, action: Action, resource: Resource, purpose: str, officer: str | None = None,
              officer_unit: str | None = None, force_wide: bool = False,
              hidden: str | None = None) -> Decision:
        """Ask the policy; a refusal is written to the access log (outcome `denied`, with the
        reason) and raised as AccessDenied, or as NotFound(`hidden`) when the caller may not
        learn that the thing exists (a flag or officer outside a reviewer's scope answers as a
        missing one does). Call it outside the action's transaction."""
        decision = decide(self.actor, action, resource, officer, officer_unit, force_wide)
        if not decision.allowed:
            self._append(action.value, resource.value, {"officer": officer} if officer else None, purpose,
                         "denied", decision.reason)
            if hidden is not None:
                raise NotFound(hidden)
            raise AccessDenied(decision)
        return decision

    def may(self, action: Action, resource: Resource, officer: str | None = None,
            officer_unit: str | None = None) -> bool:
        """Whether the policy would allow it, asked to decide what to show (not an attempt:
        nothing is logged). E.g. a flag's reviews go only to roles that may read reviews, a
        reveal button only to those who may reveal."""
        return decide(self.actor, action, resource, officer, officer_unit).allowed

    def log(self, action: Action, resource: Resource, records: dict | list | str | None, purpose: str,
            reason: str | None = None) -> None:
        """The access-log entry of an allowed action: in the action's transaction when there
        is one, so that the work and its entry commit together or not at all."""
        if self.key is None:
            raise Refused("the store's key is needed to write the access log")
        self._append(action.value, resource.value, records, purpose, "allowed", reason)

    def log_refusal(self, action: Action, resource: Resource, records: dict | None, purpose: str,
                    reason: str) -> None:
        """A refusal decided by the action itself (e.g. the bias gate), logged as a refusal."""
        self._append(action.value, resource.value, records, purpose, "denied", reason)

    def _append(self, action: str, resource: str, records, purpose: str, outcome: str,
                reason: str | None) -> None:
        if self.key is None:
            return  # (only `log verify` runs without the key, and it writes nothing)
        append_entry(self.store, self.key, self.anchor, self.actor, action, resource, records, purpose,
                     outcome, reason)

    def transaction(self):
        return self.store.transaction()


def append_entry(store: Store, key: bytes, anchor: LogAnchor | None, who: access_log.Who, action: str,
                 resource: str, records, purpose: str, outcome: str, reason: str | None) -> None:
    """One access-log entry (in the caller's transaction, or its own), and the anchor moved
    to it once it has committed. Every entry is written here."""
    entry = access_log.append(store, key, who, action, resource, records=records, purpose=purpose,
                              outcome=outcome, reason=reason, own_transaction=not store.in_transaction)
    if anchor is not None:
        store.after_commit(lambda: advance_anchor(anchor, entry.seq, entry.entry_hash), replacing=anchor.path)


def advance_anchor(anchor: LogAnchor, seq: int, entry_hash: str) -> None:
    """Move the anchor after a commit. The work is committed already, so a failure here must
    not turn it into a refusal: it is reported on stderr, and the anchor stays one entry
    behind (which `log verify` allows) until the next entry moves it."""
    try:
        anchor.advance(seq, entry_hash)
    except (AnchorError, OSError) as error:
        import sys

        print(f"warning: the access log's anchor {anchor.path} was not moved to entry {seq}: {error}",
              file=sys.stderr)


def load_settings(path: str | None) -> OpenEISConfig:
    with refusing(Refused, ConfigFileError):
        return load_config(path)


def key_path(store_url: str, key_file: Path | None, config: OpenEISConfig) -> Path:
    if key_file:
        return Path(key_file)
    if config.privacy.key_file:
        return Path(config.privacy.key_file)
    return default_key_path(store_url)


def anchor_path(store_url: str, key_file: Path | None, config: OpenEISConfig) -> Path:
    if config.privacy.log_anchor_file:
        return Path(config.privacy.log_anchor_file)
    return default_anchor_path(key_path(store_url, key_file, config))


def vault_key_path(store_url: str, vault_key_file: Path | None, config: OpenEISConfig) -> Path:
    from openeis.vault import default_vault_key_path

    if vault_key_file:
        return Path(vault_key_file)
    if config.privacy.vault_key_file:
        return Path(config.privacy.vault_key_file)
    return default_vault_key_path(store_url)


def require_store(store_url: str) -> None:
    if "://" not in store_url and not Path(store_url).exists():
        raise Refused(f"store {store_url} does not exist: run `openeis init --store {store_url}` first")


def read_key(store_url: str, key_file: Path | None, config: OpenEISConfig) -> bytes:
    """The store's key. The missing store is the first thing to fix: its key would be missing
    too. A missing key file is never made anew here (only `openeis init` makes one, for a new
    store): the store's pseudonyms were made with its own key."""
    require_store(store_url)
    path = key_path(store_url, key_file, config)
    if not path.exists():
        raise Refused(f"key file {path} not found: this store's pseudonyms were made with its own key; "
                      "pass --key-file (or OPENEIS_KEY_FILE) with the force's key file, restored from its "
                      "backup if need be. A new key cannot read this store: `openeis init` will not make one "
                      "for it")
    with refusing(Refused, KeyFileError):
        return read_key_file(path)


def check_key(store: Store, key: bytes, store_url: str) -> None:
    """Refuse a key other than the store's own, before anything is written: a wrong key
    would give every officer a second pseudonym and sign the log's head with the wrong key.
    The store keeps the key's fingerprint (an HMAC of a constant); a store made before it
    did is checked against its log's signed head instead, and then given the fingerprint."""
    fingerprint = Pseudonymiser(key).fingerprint()
    stored = store.get_meta("key_fingerprint")
    if stored is None and access_log.head_signed_with(store, key) is False:
        stored = "(the access log's head)"
    if stored is not None and stored != fingerprint:
        raise Refused(f"{_shown(store_url)} was pseudonymised with a different key than the one given: pass the "
                      "store's own key file with --key-file (a wrong key would split every officer in two "
                      "and sign the access log with the wrong key); nothing was written")
    if stored is None:
        with store.transaction():
            store.set_meta("key_fingerprint", fingerprint)


def _shown(store_url: str) -> str:
    from openeis.store.postgres_store import redacted

    return redacted(store_url) if "://" in store_url else store_url


def store_anchor(store: Store, store_url: str, key: bytes | None, path: Path) -> LogAnchor:
    """The store's anchor. With the key, a store anchored nowhere yet (made before anchors
    existed, or moved to a new location) starts to be anchored at its signed head; a missing
    or broken record is left for `log verify` to report."""
    anchor = LogAnchor(path, store_location(store_url), key)
    if key is None:
        return anchor
    try:
        if anchor.read() is None:
            seq, entry_hash = access_log.head_entry(store)
            anchor.begin(seq, entry_hash)
    except (AnchorError, OSError):
        pass  # evidence: `log verify` reports it; every other command goes on
    return anchor


@contextmanager
def opened_store(store_url: str, must_exist: bool = True, migrate: bool = True) -> Iterator[Store]:
    """The store, migrated to this version's schema (a store made by an older version gains
    the newer tables) unless `migrate` is False; closed afterwards."""
    if must_exist:
        require_store(store_url)
    with refusing(Refused, StoreError):
        store = open_store(store_url)
    try:
        if must_exist and store.schema_version() == 0:
            raise Refused(f"{store_url} is not an OpenEIS store: run `openeis init` first")
        if must_exist and migrate:
            store.migrate()
        yield store
    finally:
        store.close()


@contextmanager
def open_session(store_url: str, actor: Actor, config: OpenEISConfig, key_file: Path | None = None,
                 key_optional: bool = False, vault_key_file: Path | None = None) -> Iterator[Session]:
    """Open the store (it must be an OpenEIS store), read its key, check that it is the
    store's own, and only then migrate the store and hand both over with the actor: nothing
    is written before the key is in hand and known to be right. `key_optional`: carry on
    without a key file (the session then cannot log and writes nothing; only `log verify`
    does this). The identity vault's key is only located here; `reveal` reads and checks it."""
    with opened_store(store_url, migrate=False) as store:
        require_feature_engine(store)  # a Spark warehouse cannot hold the access log
        if key_optional and not key_path(store_url, key_file, config).exists():
            key = None
        else:
            key = read_key(store_url, key_file, config)
            check_key(store, key, store_url)
            store.migrate()
        anchor = store_anchor(store, store_url, key, anchor_path(store_url, key_file, config))
        session = Session(store, key, actor, config, store_url,
                          vault_key_path(store_url, vault_key_file, config), anchor=anchor)
        yield session
    for then in session.after_close:
        then()


def prepare_store(store_url: str, key_file: Path | None, config: OpenEISConfig) -> tuple[bytes, LogAnchor]:
    """For a server that opens the store per request (`openeis serve`): the key, checked to
    be the store's own, and the log's anchor; the store migrated now, not on a request."""
    with opened_store(store_url, migrate=False) as store:
        key = read_key(store_url, key_file, config)
        check_key(store, key, store_url)
        store.migrate()
        return key, store_anchor(store, store_url, key, anchor_path(store_url, key_file, config))


def require_feature_engine(store: Store) -> None:
    """Features (and so models and scoring) run on DuckDB and PostgreSQL stores. A Spark
    warehouse runs feature and label SQL through the Python API only: the actions also
    write the access log (and models, scores) to the store, which a Parquet warehouse
    cannot hold (docs/scale.md)."""
    if store.dialect == "spark":
        raise Refused("spark:// stores are read-only warehouses: `openeis` commands write the access log "
                      "to the store; run them on the DuckDB or PostgreSQL store the warehouse was written "
                      "from, or build features on Spark with openeis.features.build_features "
                      "(see docs/scale.md)")


@dataclass(frozen=True)
class CreatedStore:
    schema_version: int
    migrations_applied: int
    key_path: Path
    key_created: bool
    vault_key_path: Path | None = None  # the identity vault key, when this run created it


def create_store(store_url: str, config: OpenEISConfig, key_file: Path | None = None,
                 vault_key_file: Path | None = None) -> CreatedStore:
    """`openeis init`: the store's schema (by versioned migrations), its key and its identity
    vault key, the only place keys are created, and the access log's anchor beside the key.
    An existing store must match the key it is given; a store that has a key already is never
    given a new one. A refused init leaves no new key behind. The vault key, once made, may
    live elsewhere (only its public half is in the store)."""
    from openeis.privacy import create_key_file, new_key

    path = key_path(store_url, key_file, config)
    existed = path.exists()
    with refusing(Refused, KeyFileError):
        key = read_key_file(path) if existed else new_key()
    with opened_store(store_url, must_exist=False, migrate=False) as store:
        version = store.schema_version()
        if version and not existed and store.table_exists("store_meta") and (
                store.get_meta("key_fingerprint") or access_log.head_entry(store)[0]):
            raise Refused(f"{_shown(store_url)} is an OpenEIS store with a key already, and key file {path} "
                          "does not exist: pass its key with --key-file (restored from backup if need be). "
                          "A new key cannot read this store, so none was made")
        if version:
            check_key(store, key, store_url)
        if not existed:
            with refusing(Refused, KeyFileError, OSError):
                create_key_file(path, key)
        try:
            applied = store.migrate()
            check_key(store, key, store_url)  # a new store: its fingerprint
            store_anchor(store, store_url, key, anchor_path(store_url, key_file, config))
            vault = _create_vault_key(store, vault_key_path(store_url, vault_key_file, config))
        except BaseException:
            if not existed:
                path.unlink(missing_ok=True)
            raise
        return CreatedStore(store.schema_version(), len(applied), path, not existed, vault)


def _create_vault_key(store: Store, path: Path) -> Path | None:
    """A store without a vault gets one: a new private key file (or the one at `path`), whose
    public half goes into the store to seal identities at ingest."""
    from openeis.vault import PUBLIC_KEY_META, VaultKeyError, create_vault_key, public_pem, read_vault_key

    if store.get_meta(PUBLIC_KEY_META):
        return None
    with refusing(Refused, VaultKeyError, OSError):
        public = public_pem(read_vault_key(path)) if path.exists() else create_vault_key(path)
    store.set_meta(PUBLIC_KEY_META, public.decode())
    return path
