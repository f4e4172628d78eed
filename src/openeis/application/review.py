"""The human side of a flag: the review queue, one flag, assigning it, recording the
decision, its reviews, and an officer's profile. A reviewer sees only the officers posted in
their units, an officer only themselves: each flag and officer is checked against the
caller's scope, and lists are filtered to it."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

from openeis.application.errors import Invalid, NotFound
from openeis.application.session import Session
from openeis.governance.roles import Action, Actor, Resource, Role
from openeis.governance.users import list_users
from openeis.review import officer as officer_records
from openeis.review.scope import flag_units, officer_unit
from openeis.review.workflow import ReviewInput, assign, assignments, record_review, reviews

QUEUE_STATUSES = ("new", "in_review")  # decided flags leave the queue
PAGE_SIZE = 100  # flags per queue page: a national force flags thousands on one date
SORTS = {"rank": "score_rank", "score": "score", "officer": "officer", "status": "status",
         "source": "source", "as_of": "as_of"}


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _in_scope(actor: Actor, officer: str, unit: str | None) -> bool:
    if actor.role is Role.REVIEWER:
        return unit in actor.scope_units
    if actor.role is Role.OFFICER:
        return officer == actor.officer
    return True


_FLAG_COLUMNS = ("flag_id, as_of, officer, source, model_id, score, score_rank, percentile, rules, "
                 "explanation, created_at, status, version")


def _flag(row) -> dict:
    explanation = json.loads(row[9])
    return {"flag_id": row[0], "as_of": row[1].isoformat(), "officer": row[2], "source": row[3],
            "model_id": row[4], "score": row[5], "rank": row[6], "percentile": row[7],
            "rules": json.loads(row[8]), "explanation": explanation,
            "prompt_kind": explanation.get("prompt_kind", "risk" if row[3] != "detector" else "integrity"),
            "created_at": row[10].isoformat(timespec="seconds"), "status": row[11], "version": row[12]}


def flag_dates(session: Session) -> list[str]:
    return [r[0].isoformat() for r in session.store.query("SELECT DISTINCT as_of FROM flags ORDER BY as_of DESC")]


def list_flags(session: Session, as_of: date | None = None, statuses: tuple[str, ...] = QUEUE_STATUSES,
               source: str | None = None, assigned: str | None = None, sort: str = "rank",
               descending: bool = False, limit: int = PAGE_SIZE, offset: int = 0) -> dict:
    """This period's flags in the caller's scope (the review queue), one page of them.

    Scope and filters are applied to the date's flags first (keys only), so that only the
    page's flags are read in full and logged as read."""
    session.allow(Action.READ, Resource.FLAGS, purpose="review queue")
    store, actor = session.store, session.actor
    dates = flag_dates(session)
    if as_of is None and dates:
        as_of = date.fromisoformat(dates[0])
    where, params = ["as_of = ?"], list[object]([as_of])
    if statuses:
        where.append(f"status IN ({', '.join('?' for _ in statuses)})")
        params += list(statuses)
    if source:
        where.append("source = ?")
        params.append(source)
    order = SORTS.get(sort, "score_rank")
    direction = "DESC" if descending else "ASC"
    keys = store.query(f"SELECT flag_id, officer FROM flags WHERE {' AND '.join(where)} "
                       f"ORDER BY {order} {direction} NULLS LAST, source, score_rank, officer", params)
    # Only a reviewer's view depends on every flag's unit; for the others, the page's will do.
    scoped = actor.role is Role.REVIEWER
    units = flag_units(store, as_of) if scoped and as_of and keys else {}
    owners = assignments(store)
    kept = [flag_id for flag_id, officer in keys
            if _in_scope(actor, officer, units.get(flag_id))
            and not (assigned == "me" and owners.get(flag_id) != actor.name)
            and not (assigned == "unassigned" and owners.get(flag_id))]
    page = kept[offset:offset + limit]
    if page and not scoped and as_of:
        units = flag_units(store, as_of, page)
    flags = []
    if page:
        rows = {r[0]: r for r in store.query(
            f"SELECT {_FLAG_COLUMNS} FROM flags WHERE flag_id IN ({', '.join('?' for _ in page)})", page)}
        for flag_id in page:
            flag = _flag(rows[flag_id])
            flag["unit"] = units.get(flag_id)
            flag["assigned_to"] = owners.get(flag_id)
            flags.append(flag)
    session.log(Action.READ, Resource.FLAGS,
                {"as_of": as_of.isoformat() if as_of else None, "officers": [f["officer"] for f in flags]},
                "review queue")
    return {"as_of": as_of.isoformat() if as_of else None, "dates": dates, "total": len(kept),
            "offset": offset, "limit": limit, "flags": flags}


def _scoped(actor: Actor) -> bool:
    return actor.role in (Role.REVIEWER, Role.OFFICER)


def _load_flag(session: Session, flag_id: str, action: Action, resource: Resource, purpose: str) -> dict:
    """The flag, once the caller may `action` it. A role that may never do so is refused
    (403) whether or not the flag exists; for a role limited to some officers, a flag outside
    its scope answers exactly as a missing one (404), so that it learns nothing of flags it
    may not see. Both refusals are in the access log."""
    session.allow(action, resource, purpose=purpose)
    store = session.store
    missing = f"no flag {flag_id}" + (" in your scope" if _scoped(session.actor) else "")
    rows = store.query(f"SELECT {_FLAG_COLUMNS} FROM flags WHERE flag_id = ?", [flag_id])
    if not rows:
        raise NotFound(missing)
    flag = _flag(rows[0])
    flag["unit"] = officer_unit(store, flag["officer"], date.fromisoformat(flag["as_of"]))
    session.allow(action, resource, purpose=purpose, officer=flag["officer"], officer_unit=flag["unit"],
                  hidden=missing)
    flag["assigned_to"] = assignments(store).get(flag_id)
    return flag


def get_flag(session: Session, flag_id: str) -> dict:
    """One flag with its explanation and, for roles that may read reviews, its reviews and,
    once decided, what happened after (`reviews` and `outcomes` None for the others: an
    analyst reads flags, not the decisions on them)."""
    flag = _load_flag(session, flag_id, Action.READ, Resource.FLAGS, "review a flag")
    store = session.store
    shown = session.may(Action.READ, Resource.REVIEWS, officer=flag["officer"], officer_unit=flag["unit"])
    flag["reviews"] = reviews(store, flag_id=flag_id) if shown else None
    flag["outcomes"] = None
    if flag["reviews"]:
        decided = datetime.fromisoformat(flag["reviews"][-1]["decided_at"])
        flag["outcomes"] = officer_records.outcomes_after(store, flag["officer"], decided, _now())
    session.log(Action.READ, Resource.FLAGS, {"flag": flag_id, "officer": flag["officer"],
                                              "reviews": len(flag["reviews"]) if shown else "not shown"},
                "review a flag")
    return flag


def assignable_users(session: Session, unit: str | None) -> list[str]:
    """Who may be given a flag of an officer in `unit`: administrators and reviewers covering it."""
    return [u.name for u in list_users(session.store) if not u.disabled and (
        u.role is Role.ADMINISTRATOR or (u.role is Role.REVIEWER and unit in u.scope_units))]


def assign_flag(session: Session, flag_id: str, to: str, version: int) -> dict:
    """Give the flag to a reviewer covering the officer's unit (or an administrator)."""
    flag = _load_flag(session, flag_id, Action.CHANGE, Resource.REVIEWS, "assign a flag")
    if to not in assignable_users(session, flag["unit"]):
        raise Invalid(f"{to} cannot take this flag: not an enabled reviewer covering unit "
                      f"{flag['unit']} nor an administrator")
    with session.transaction():
        new_version = assign(session.store, flag_id, to, session.actor.name, version)
        session.log(Action.CHANGE, Resource.REVIEWS,
                    {"flag": flag_id, "officer": flag["officer"], "assigned_to": to}, "assign a flag")
    return {"flag_id": flag_id, "assigned_to": to, "status": "in_review", "version": new_version}


def review_flag(session: Session, flag_id: str, review: ReviewInput, version: int) -> dict:
    """Record the decision: the review and its access-log entry commit together or not at all.
    A refused review raises review.workflow.ReviewError, a stale version Conflict."""
    flag = _load_flag(session, flag_id, Action.CHANGE, Resource.REVIEWS, "record a review decision")
    with session.transaction():
        result = record_review(session.store, flag_id, session.actor.name, review, version)
        session.log(Action.CHANGE, Resource.REVIEWS,
                    {"flag": flag_id, "officer": flag["officer"], "review": result["review_id"],
                     "decision": review.decision}, "record a review decision")
    return result


def flag_reviews(session: Session, flag_id: str) -> list[dict]:
    flag = _load_flag(session, flag_id, Action.READ, Resource.REVIEWS, "read reviews")
    found = reviews(session.store, flag_id=flag_id)
    session.log(Action.READ, Resource.REVIEWS, {"flag": flag_id, "officer": flag["officer"]}, "read reviews")
    return found


def officer_profile(session: Session, officer: str) -> dict:
    """Timeline, score history, flags with their factors, reviews and outcomes of one officer
    (reviews and their outcomes only for roles that may read reviews; None for the others).
    A reviewer's scope is checked against the unit on the officer's latest flag (the reason
    they are looking), else against today's posting; an officer outside the caller's scope
    answers as an unknown one does."""
    purpose = "officer profile"
    session.allow(Action.READ, Resource.SOURCE_RECORDS, purpose=purpose)
    store = session.store
    missing = f"no officer {officer}" + (" in your scope" if _scoped(session.actor) else "")
    if not officer_records.officer_exists(store, officer):
        raise NotFound(missing)
    flags = [_flag(r) for r in store.query(
        f"SELECT {_FLAG_COLUMNS} FROM flags WHERE officer = ? ORDER BY as_of DESC, source", [officer])]
    on = date.fromisoformat(flags[0]["as_of"]) if flags else _now().date()
    unit = officer_unit(store, officer, on)
    session.allow(Action.READ, Resource.SOURCE_RECORDS, officer=officer, officer_unit=unit, purpose=purpose,
                  hidden=missing)
    shown = session.may(Action.READ, Resource.REVIEWS, officer=officer, officer_unit=unit)
    profile: dict[str, Any] = {
        "officer": officer, "unit": unit, "unit_on": on.isoformat(),
        "timeline": officer_records.timeline(store, officer),
        "score_history": officer_records.score_history(store, officer),
        "flags": flags,
        "reviews": reviews(store, officer=officer) if shown else None,
    }
    for review in profile["reviews"] or []:
        review["outcomes"] = officer_records.outcomes_after(
            store, officer, datetime.fromisoformat(review["decided_at"]), _now())
    session.log(Action.READ, Resource.SOURCE_RECORDS,
                {"officer": officer, "timeline_records": len(profile["timeline"]),
                 "reviews": len(profile["reviews"]) if shown else "not shown"}, purpose)
    return profile
