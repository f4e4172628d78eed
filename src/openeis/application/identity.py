"""Re-identification for the entitled, on the record: who a pseudonym is.

`reveal` opens the officer's seal in the identity vault (openeis.vault) with the vault key,
for a role that may (administrator; a reviewer or a welfare account for an officer in their
units), with a written reason, and writes the reveal, with the reason, to the access log in
the same transaction. A refusal is logged as a refusal. The staff number itself never goes
into the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from openeis.application.errors import Invalid, NotFound, Refused, refusing
from openeis.application.session import Session
from openeis.governance.roles import Action, Resource, Role
from openeis.review import officer as officer_records
from openeis.review.scope import officer_unit

if TYPE_CHECKING:  # openeis.vault imports cryptography: only when a reveal runs
    from openeis.vault import VaultPrivateKey

MIN_REASON = 10


@dataclass(frozen=True)
class Revealed:
    officer: str
    staff_number: str
    name: str | None
    reason: str


def reveal(session: Session, officer: str, reason: str) -> Revealed:
    """Open the officer's seal. Every attempt is in the access log: a reveal as allowed (with
    its reason), any refusal (role, scope, vault key, reason, unknown officer) as denied with
    why. The vault key is checked against the store's vault before anything else is read; a
    role limited to some officers learns nothing of an officer outside them (404 as for an
    unknown one)."""
    from openeis.vault import VaultKeyError, key_id, open_seal, public_pem

    purpose = "reveal identity"
    session.allow(Action.READ, Resource.IDENTITY, purpose=purpose)  # a role that may never: 403, logged
    store = session.store
    scoped = session.actor.role in (Role.REVIEWER, Role.WELFARE, Role.OFFICER)
    missing = f"no officer {officer}" + (" in your scope" if scoped else "")

    def refused(error: Exception) -> Exception:
        session.log_refusal(Action.READ, Resource.IDENTITY, {"officer": officer}, purpose, str(error))
        return error

    try:
        private = _vault_key(session)
        if len((reason or "").strip()) < MIN_REASON:
            raise Invalid(f"a reveal needs a reason (at least {MIN_REASON} characters): it goes into the access log")
        if not officer_records.officer_exists(store, officer):
            raise NotFound(missing)
    except (Invalid, NotFound, Refused) as error:
        raise refused(error) from None
    latest = store.scalar("SELECT max(as_of) FROM flags WHERE officer = ?", [officer])
    unit = officer_unit(store, officer, latest or date.today())
    session.allow(Action.READ, Resource.IDENTITY, officer=officer, officer_unit=unit, purpose=purpose, hidden=missing)
    rows = store.query("SELECT staff_number, name, vault_key_id FROM restricted.identity_vault WHERE officer_id = ?",
                       [officer])
    try:
        if not rows:
            raise NotFound(f"officer {officer} has no entry in the identity vault (ingested before the store had "
                           "a vault, or by an adapter that does not seal identities)")
        with refusing(Refused, VaultKeyError):
            if rows[0][2] != key_id(public_pem(private)):
                raise VaultKeyError(f"{session.vault_key_file} is not the key this officer's identity was sealed "
                                    "with")
            staff_number = open_seal(private, officer, "staff_number", rows[0][0])
            name = open_seal(private, officer, "name", rows[0][1]) if rows[0][1] else None
    except (NotFound, Refused) as error:
        raise refused(error) from None
    with session.transaction():
        session.log(Action.READ, Resource.IDENTITY, {"officer": officer, "fields": ["staff_number"] + (
            ["name"] if name else [])}, purpose, reason=reason.strip())
    return Revealed(officer, staff_number, name, reason.strip())


def _vault_key(session: Session) -> VaultPrivateKey:
    """The vault's private key, refused unless it is there, private, and the store's own
    vault key (its public half is the one the store seals with)."""
    from openeis.vault import PUBLIC_KEY_META, VaultKeyError, key_id, public_pem, read_vault_key

    if session.vault_key_file is None:
        raise Refused("no identity vault key given (--vault-key-file)")
    stored = session.store.get_meta(PUBLIC_KEY_META)
    if not stored:
        raise Refused("this store has no identity vault (`openeis init` makes its vault key)")
    with refusing(Refused, VaultKeyError, OSError):
        private = read_vault_key(session.vault_key_file)
        if key_id(public_pem(private)) != key_id(stored.encode()):
            raise VaultKeyError(f"{session.vault_key_file} is not this store's identity vault key: nothing was "
                                "revealed")
    return private

