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
from openeis.governance.policy import Decision, decide
from openeis.governance.roles import Action, Actor, Resource
from openeis.privacy import KeyFileError, default_key_path, read_key_file
from openeis.store import Store, StoreError, open_store

from openeis.application.errors import AccessDenied, Refused, refusing


@dataclass
class Session:
    """An actor at work on an opened store. `key` signs the access log's head; it is None
    only where an action is allowed to run without it (`log verify`)."""

    store: Store
    key: bytes | None
    actor: Actor
    config: OpenEISConfig
    store_url: str = ""
    vault_key_file: Path | None = None  # the identity vault's private key: read only to reveal
    after_close: list[Callable[[], None]] = field(default_factory=list)  # run by open_session

    def allow(self, action: Action, resource: Resource, purpose: str, officer: str | None = None,
              officer_unit: str | None = None, force_wide: bool = False) -> Decision:
        """Ask the policy; a refusal is written to the access log (outcome `denied`, with the
        reason) and raised as AccessDenied. Call it outside the action's transaction."""
        decision = decide(self.actor, action, resource, officer, officer_unit, force_wide)
        if not decision.allowed:
            if self.key is not None:
                access_log.append(self.store, self.key, self.actor, action.value, resource.value,
                                  records={"officer": officer} if officer else None, purpose=purpose,
                                  outcome="denied", reason=decision.reason,
                                  own_transaction=not self.store.in_transaction)
            raise AccessDenied(decision)
        return decision

    def may(self, action: Action, resource: Resource, officer: str | None = None,
            officer_unit: str | None = None) -> bool:
        """Whether the policy would allow it, asked without logging: for what a page shows
        beside the action it was opened for (e.g. a reveal button)."""
        return decide(self.actor, action, resource, officer, officer_unit).allowed

    def log(self, action: Action, resource: Resource, records: dict | list | str | None, purpose: str,
            reason: str | None = None) -> None:
        """The access-log entry of an allowed action: in the action's transaction when there
        is one, so that the work and its entry commit together or not at all."""
        if self.key is None:
            raise Refused("the store's key is needed to write the access log")
        access_log.append(self.store, self.key, self.actor, action.value, resource.value, records=records,
                          purpose=purpose, reason=reason, own_transaction=not self.store.in_transaction)

    def log_refusal(self, action: Action, resource: Resource, records: dict | None, purpose: str,
                    reason: str) -> None:
        """A refusal decided by the action itself (e.g. the bias gate), logged as a refusal."""
        if self.key is not None:
            access_log.append(self.store, self.key, self.actor, action.value, resource.value, records=records,
                              purpose=purpose, outcome="denied", reason=reason,
                              own_transaction=not self.store.in_transaction)

    def transaction(self):
        return self.store.transaction()


def load_settings(path: str | None) -> OpenEISConfig:
    with refusing(Refused, ConfigFileError):
        return load_config(path)


def key_path(store_url: str, key_file: Path | None, config: OpenEISConfig) -> Path:
    if key_file:
        return Path(key_file)
    if config.privacy.key_file:
        return Path(config.privacy.key_file)
    return default_key_path(store_url)


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
    """The store's key. The missing store is the first thing to fix: its key would be missing too."""
    require_store(store_url)
    with refusing(Refused, KeyFileError):
        return read_key_file(key_path(store_url, key_file, config))


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
    """Open the store (it must be an OpenEIS store), read its key, and only then migrate it
    and hand both over with the actor: nothing is written before the key is in hand.
    `key_optional`: carry on without a key file (the session then cannot log; only
    `log verify` does this)."""
    with opened_store(store_url, migrate=False) as store:
        if key_optional and not key_path(store_url, key_file, config).exists():
            key = None
        else:
            key = read_key(store_url, key_file, config)
        # (Checking that the key is this store's, before anything is written, belongs here.)
        store.migrate()
        session = Session(store, key, actor, config, store_url,
                          vault_key_path(store_url, vault_key_file, config))
        yield session
    for then in session.after_close:
        then()


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
    vault key, the only place keys are created. An existing store must match the key it is
    given; its vault key, once made, may live elsewhere (only its public half is in the store)."""
    from openeis.ingest.canonical import KeyMismatch, check_key
    from openeis.privacy import Pseudonymiser, load_or_create_key

    path = key_path(store_url, key_file, config)
    with refusing(Refused, KeyFileError, OSError):
        key, created = load_or_create_key(path)
    with opened_store(store_url, must_exist=False) as store:
        applied = store.migrate()
        try:
            check_key(store, Pseudonymiser(key))
        except KeyMismatch as error:
            raise Refused(f"{store_url}: {error}") from None
        vault = _create_vault_key(store, vault_key_path(store_url, vault_key_file, config))
        return CreatedStore(store.schema_version(), len(applied), path, created, vault)


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
