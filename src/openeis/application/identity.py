"""Re-identification for the entitled, on the record: who a pseudonym is.

`reveal` opens the officer's seal in the identity vault (openeis.vault) with the vault key,
for a role that may (administrator; a reviewer or a welfare account for an officer in their
units), with a written reason, and writes the reveal, with the reason, to the access log in
the same transaction. A refusal is logged as a refusal. The staff number itself never goes
into the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from openeis.application.errors import Invalid, NotFound, Refused, refusing
from openeis.application.session import Session
from openeis.governance.roles import Action, Resource
from openeis.review import officer as officer_records
from openeis.review.scope import officer_unit

MIN_REASON = 10


@dataclass(frozen=True)
class Revealed:
    officer: str
    staff_number: str
    name: str | None
    reason: str


def reveal(session: Session, officer: str, reason: str) -> Revealed:
    from openeis.vault import PUBLIC_KEY_META, VaultKeyError, key_id, open_seal, public_pem, read_vault_key

    store = session.store
    if len((reason or "").strip()) < MIN_REASON:
        raise Invalid(f"a reveal needs a reason (at least {MIN_REASON} characters): it goes into the access log")
    if not officer_records.officer_exists(store, officer):
        raise NotFound(f"no officer {officer}")
    latest = store.scalar("SELECT max(as_of) FROM flags WHERE officer = ?", [officer])
    from datetime import date

    unit = officer_unit(store, officer, latest or date.today())
    session.allow(Action.READ, Resource.IDENTITY, officer=officer, officer_unit=unit, purpose="reveal identity")
    rows = store.query("SELECT staff_number, name, vault_key_id FROM restricted.identity_vault WHERE officer_id = ?",
                       [officer])
    if not rows:
        raise NotFound(f"officer {officer} has no entry in the identity vault (ingested before the store had "
                       "a vault, or by an adapter that does not seal identities)")
    if session.vault_key_file is None:
        raise Refused("no identity vault key given (--vault-key-file)")
    with refusing(Refused, VaultKeyError, OSError):
        private = read_vault_key(session.vault_key_file)
        stored = store.get_meta(PUBLIC_KEY_META) or ""
        if key_id(public_pem(private)) != rows[0][2] or key_id(stored.encode()) != rows[0][2]:
            raise VaultKeyError(f"{session.vault_key_file} is not the key this officer's identity was sealed with")
        staff_number = open_seal(private, officer, "staff_number", rows[0][0])
        name = open_seal(private, officer, "name", rows[0][1]) if rows[0][1] else None
    with session.transaction():
        session.log(Action.READ, Resource.IDENTITY, {"officer": officer, "fields": ["staff_number"] + (
            ["name"] if name else [])}, "reveal identity", reason=reason.strip())
    return Revealed(officer, staff_number, name, reason.strip())
