"""Subject access, retention, transparency records, the access log and user accounts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openeis.application.errors import Invalid, NotFound, refusing
from openeis.application.session import Session
from openeis.governance import access_log
from openeis.governance.log_anchor import AnchorError, AnchorRecord
from openeis.governance.roles import Action, Resource, Role
from openeis.privacy import Pseudonymiser

# -- subject access ------------------------------------------------------------------------


@dataclass
class SubjectAccess:
    officer: str  # the pseudonym
    records: int
    sections: int
    json_path: Path
    html_path: Path


PSEUDONYM_PREFIX_MIN = 8  # hex characters (32 bits): the queue shows 12


def subject_access(session: Session, officer: str, out: Path, is_pseudonym: bool = False,
                   reference: str = "", as_of: str | None = None) -> SubjectAccess:
    """Export everything held on one officer, as JSON and HTML (0600 files in a 0700 folder);
    with `as_of` (YYYY-MM-DD), the records as the force knew them when that day began and the
    features as of it. The officer must be one the store holds: an unknown identifier, or a
    pseudonym prefix that is too short or matches several officers, is refused rather than
    answered with an empty export. An officer may ask only for their own; the files are
    removed again if the log entry cannot be written."""
    from openeis.governance.subject_access import add_current_features, collect, write_export
    from openeis.privacy import PrivateFileError

    assert session.key is not None
    try:
        known_on = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise Invalid(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    purpose = "subject access request"
    session.allow(Action.EXPORT, Resource.SUBJECT_ACCESS, purpose=purpose)
    given = officer.strip()
    own = session.actor.officer if session.actor.role is Role.OFFICER else None
    if own is not None and not _names_own(session, given, is_pseudonym, own):
        # Refused before looking the officer up: whether someone else exists is not an officer's to learn.
        session.allow(Action.EXPORT, Resource.SUBJECT_ACCESS, purpose=purpose, officer=given or "?")
    pseudonym = _officer_pseudonym(session, given, is_pseudonym)
    session.allow(Action.EXPORT, Resource.SUBJECT_ACCESS, purpose=purpose, officer=pseudonym)
    store = session.store
    with session.transaction():
        export = collect(store, pseudonym, known_on)
        add_current_features(store, export, session.config.features)
        with refusing(Invalid, PrivateFileError):
            json_path, html_path = write_export(export, out, reference)
        try:
            session.log(Action.EXPORT, Resource.SUBJECT_ACCESS,
                        {"officer": pseudonym, "records": export.total(), "reference": reference,
                         **({"as_of": known_on.isoformat()} if known_on else {})}, purpose)
        except BaseException:
            json_path.unlink(missing_ok=True)
            html_path.unlink(missing_ok=True)
            raise
    return SubjectAccess(pseudonym, export.total(), len(export.sections), json_path, html_path)


def _names_own(session: Session, given: str, is_pseudonym: bool, own: str) -> bool:
    assert session.key is not None
    if is_pseudonym:
        text = given.lower()
        return len(text) >= PSEUDONYM_PREFIX_MIN and own.startswith(text)
    return Pseudonymiser(session.key).pseudonym("officer", given) == own


def _officer_pseudonym(session: Session, given: str, is_pseudonym: bool) -> str:
    """The full pseudonym of an officer the store holds, from the force's identifier or
    from a pseudonym (or a unique prefix of one, at least PSEUDONYM_PREFIX_MIN characters)."""
    from openeis.privacy import PSEUDONYM_HEX_CHARS

    assert session.key is not None
    store = session.store
    if not given:
        raise Invalid("--officer is empty: give the force's officer identifier (or a pseudonym with --pseudonym)")
    if not is_pseudonym:
        pseudonym = Pseudonymiser(session.key).pseudonym("officer", given)
        if not store.scalar("SELECT count(*) FROM officers WHERE officer_id = ?", [pseudonym]):
            raise NotFound(f"no officer {given!r} in this store: check the identifier as the force writes it "
                           "(or pass a pseudonym with --pseudonym); nothing was exported")
        return pseudonym
    text = given.lower()
    if not all(c in "0123456789abcdef" for c in text) or len(text) > PSEUDONYM_HEX_CHARS:
        raise Invalid(f"{given!r} is not a pseudonym ({PSEUDONYM_HEX_CHARS} hexadecimal characters, or a "
                      f"prefix of at least {PSEUDONYM_PREFIX_MIN}); for the force's identifier leave out --pseudonym")
    if len(text) < PSEUDONYM_PREFIX_MIN:
        raise Invalid(f"pseudonym prefix {given!r} is too short: give at least {PSEUDONYM_PREFIX_MIN} of its "
                      f"{PSEUDONYM_HEX_CHARS} characters")
    found = [row[0] for row in store.query(
        "SELECT officer_id FROM officers WHERE officer_id LIKE ? ORDER BY officer_id LIMIT 3", [text + "%"])]
    if not found:
        raise NotFound(f"no officer with pseudonym {given!r} in this store; nothing was exported")
    if len(found) > 1:
        raise Invalid(f"pseudonym prefix {given!r} matches more than one officer: give more of its characters "
                      "(the full pseudonym has 20)")
    return found[0]


# -- retention -----------------------------------------------------------------------------


@dataclass
class Retention:
    today: date
    dry_run: bool
    outcomes: list  # openeis.governance.retention.RuleOutcome
    compacted: str | None  # "file" (DuckDB rewritten), "tables" (PostgreSQL VACUUM FULL) or None


def retention(session: Session, dry_run: bool = False, as_of: str | None = None) -> Retention:
    """Delete records past their retention period and log the counts, in one transaction;
    then rewrite the store so that deleted rows leave nothing behind. A dry run only counts."""
    from openeis.governance import retention as rules_engine

    try:
        today = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise Invalid(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    rules = session.config.retention.rules
    store = session.store
    if dry_run:
        session.allow(Action.READ, Resource.RETENTION, purpose="retention policy (dry run)")
        with session.transaction():
            outcomes = rules_engine.due(store, rules, today)
            session.log(Action.READ, Resource.RETENTION,
                        {"as_of": today.isoformat(), "rows_due": {_rule_name(o): o.rows for o in outcomes}},
                        "retention policy (dry run)")
        return Retention(today, True, outcomes, None)
    session.allow(Action.DELETE, Resource.RETENTION, purpose="retention policy")
    with session.transaction():
        outcomes = rules_engine.apply(store, rules, today)
        session.log(Action.DELETE, Resource.RETENTION,
                    {"as_of": today.isoformat(), "rows_deleted": {_rule_name(o): o.rows for o in outcomes}},
                    "retention policy")
    compacted = None
    if any(o.rows for o in outcomes):
        if store.dialect == "duckdb":
            # Deleted rows must be gone from the file, not only from queries: rewritten
            # once the store is closed.
            path = Path(session.store_url)
            session.after_close.append(lambda: rules_engine.compact_duckdb_file(path))
            compacted = "file"
        else:
            rules_engine.compact_postgres(store, outcomes)
            compacted = "tables"
    return Retention(today, False, outcomes, compacted)


def _rule_name(outcome) -> str:
    return f"{outcome.rule.table} ({outcome.rule.reason or outcome.rule.after})"


# -- transparency --------------------------------------------------------------------------


def transparency_files(session: Session, out: Path) -> dict:
    """Public transparency records written to a directory: a model card per live model, the
    ATRS record and aggregate statistics with small counts suppressed."""
    from openeis.governance.transparency import write_transparency

    session.allow(Action.EXPORT, Resource.AGGREGATES, purpose="transparency records")
    with session.transaction():
        summary = write_transparency(session.store, session.config.transparency, out)
        session.log(Action.EXPORT, Resource.AGGREGATES, {"model_cards": summary["model_cards"], "out": str(out)},
                    "transparency records")
    return summary


def transparency_record(session: Session) -> dict:
    """The same records for the web application's page and the API."""
    from openeis.governance import transparency as records

    session.allow(Action.READ, Resource.AGGREGATES, purpose="transparency record")
    store, config = session.store, session.config
    with session.transaction():
        cards = [records.model_card(store, m) for m in records.live_models(store)]
        result = {"atrs": records.atrs_record(store, config.transparency, cards),
                  "statistics": records.public_statistics(store, config.transparency.suppression_threshold),
                  "model_cards": cards}
        session.log(Action.READ, Resource.AGGREGATES, {"model_cards": len(cards)}, "transparency record")
    return result


# -- the access log ------------------------------------------------------------------------


def verify_log(session: Session) -> tuple[access_log.Verification, str | None]:
    """Walk the hash chain, check the signed head and the anchor outside the store (without
    the key: the chain and the anchor's numbers only, never called verified, and nothing is
    logged, since an entry needs the key). Returns the result and the head after this
    check's own entry."""
    session.allow(Action.READ, Resource.ACCESS_LOG, purpose="verify the access log")
    record, signed, problem = _anchor_record(session)
    result = access_log.verify(session.store, session.key, record, signed, problem)
    if session.key is not None:
        session.log(Action.READ, Resource.ACCESS_LOG, {"verified": result.ok, "entries": result.entries},
                    "verify the access log")
    return result, access_log.head(session.store)


def _anchor_record(session: Session) -> tuple[AnchorRecord | None, bool | None, str | None]:
    """This store's anchor record, whether its signature checks out, and what is wrong with
    it if it cannot be read. A missing record is evidence when the key is at hand (with the
    key, opening the session anchors a store anchored nowhere yet, so only a file that could
    not be written is left without one)."""
    anchor = session.anchor
    if anchor is None:
        return None, None, None
    try:
        record = anchor.read()
    except AnchorError as error:
        return None, None, str(error)
    if record is None:
        if session.key is None:
            return None, None, None
        return None, None, f"the anchor file {anchor.path} holds no anchor for this store (it could not be written)"
    return record, anchor.signature_ok(record), None


def reanchor(session: Session, reason: str) -> tuple[AnchorRecord | None, int]:
    """Accept the log as it is now, after a restore an administrator knows of: the anchor
    moves to the current signed head, and an entry records the old anchor, the new one and
    why. Only a log whose chain and head verify may be re-anchored (the anchor alone may be
    what is wrong). Returns the record replaced and the entry anchored at."""
    session.allow(Action.CHANGE, Resource.ACCESS_LOG, purpose="re-anchor the access log")
    if not reason.strip():
        raise Invalid("give the reason for re-anchoring (e.g. the backup that was restored and why)")
    if session.anchor is None or session.key is None:
        raise Invalid("the key file is needed to re-anchor the access log")
    unanchored = access_log.verify(session.store, session.key)
    if not unanchored.ok:
        raise Invalid(f"only a log whose chain and head check out can be re-anchored: {unanchored}")
    with session.transaction():
        seq, entry_hash = access_log.head_entry(session.store)
        try:
            previous = session.anchor.read()
        except AnchorError:
            previous = None
        session.log(Action.CHANGE, Resource.ACCESS_LOG,
                    {"previous_anchor": previous.seq if previous else None, "anchored_at": seq + 1},
                    "re-anchor the access log", reason=reason.strip())
    seq, entry_hash = access_log.head_entry(session.store)
    replaced = session.anchor.replace(seq, entry_hash)
    return replaced, seq


def log_head(session: Session) -> str | None:
    """The signed head, to keep outside the system. Checked against the policy (a refusal is
    logged), but an allowed read is not logged: the head holds no personal data, and an entry
    would move the very head being copied."""
    session.allow(Action.READ, Resource.ACCESS_LOG, purpose="read the log head")
    return access_log.head(session.store)


def log_entries(session: Session, limit: int = 100, before: int | None = None,
                outcome: str | None = None) -> tuple[list[access_log.Entry], int]:
    """The newest entries (below `before`, of one outcome if given), oldest first, and how
    many the log holds."""
    session.allow(Action.READ, Resource.ACCESS_LOG, purpose="read the access log")
    store = session.store
    with session.transaction():
        where: list[str] = []
        params: list[object] = []
        if before:
            where.append("seq < ?")
            params.append(before)
        if outcome:
            where.append("outcome = ?")
            params.append(outcome)
        sql = f"SELECT {', '.join(access_log.COLUMNS)}, previous_hash, entry_hash FROM access_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = store.query(sql + f" ORDER BY seq DESC LIMIT {max(0, int(limit))}", params)
        entries = sorted((access_log.Entry(*row) for row in rows), key=lambda e: e.seq)
        total = int(store.scalar("SELECT count(*) FROM access_log"))
        session.log(Action.READ, Resource.ACCESS_LOG,
                    {"entries": len(entries), "first": entries[0].seq if entries else None,
                     "last": entries[-1].seq if entries else None}, "read the access log")
    return entries, total


# -- user accounts -------------------------------------------------------------------------


def _change_account(session: Session, change: Callable[[], Any], records: dict, purpose: str) -> Any:
    from openeis.governance.users import AccountError

    session.allow(Action.CHANGE, Resource.USERS, purpose=purpose)
    with refusing(Invalid, AccountError):
        with session.transaction():
            result = change()
            session.log(Action.CHANGE, Resource.USERS, records, purpose)
    return result


def add_user(session: Session, name: str, role: Role, password: str, scope: list[str] | None = None,
             officer: str | None = None):
    from openeis.governance import users

    return _change_account(session, lambda: users.add_user(session.store, name, role, password, scope or [], officer),
                           {"user": name, "role": role.value, "scope": sorted(scope or [])}, "add a user")


def list_users(session: Session) -> list:
    from openeis.governance import users

    session.allow(Action.READ, Resource.USERS, purpose="list the users")
    with session.transaction():
        found = users.list_users(session.store)
        session.log(Action.READ, Resource.USERS, {"users": len(found)}, "list the users")
    return found


def set_disabled(session: Session, name: str, disabled: bool) -> None:
    from openeis.governance import users

    _change_account(session, lambda: users.set_disabled(session.store, name, disabled),
                    {"user": name, "disabled": disabled}, "disable a user" if disabled else "enable a user")


def set_password(session: Session, name: str, password: str) -> None:
    from openeis.governance import users

    _change_account(session, lambda: users.set_password(session.store, name, password), {"user": name},
                    "set a password")


def create_token(session: Session, name: str, label: str = "api", days: int | None = 90) -> str:
    """An API token for an enabled account (shown once; only its digest is kept)."""
    from openeis.governance import users
    from openeis.governance.sign_in import create_token as new_token

    session.allow(Action.CHANGE, Resource.USERS, purpose="create an API token")
    user = users.get_user(session.store, name)
    if user is None or user.disabled:
        raise NotFound(f"no active user {name}")
    with session.transaction():
        token = new_token(session.store, user, label, days)
        session.log(Action.CHANGE, Resource.USERS, {"user": name, "token_label": label}, "create an API token")
    return token

