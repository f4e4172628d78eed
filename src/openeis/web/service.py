"""What the web application can do, once, for the pages and the API alike.

Every function takes the store, the store's key (for the access log) and the actor; it asks
the policy (governance.policy.authorize: a refusal is logged before it is raised), does the
work, and logs the access with pseudonymous references only. Pages and API routes are thin
wrappers that turn these results into HTML or JSON.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from openeis.config import OpenEISConfig
from openeis.governance import access_log
from openeis.governance.policy import authorize
from openeis.governance.roles import Action, Actor, Resource, Role
from openeis.governance.users import list_users
from openeis.review import officer as officer_records
from openeis.review.scope import flag_units, officer_unit
from openeis.review.workflow import ReviewInput, assign, assignments, record_review, reviews
from openeis.store import Store

QUEUE_STATUSES = ("new", "in_review")  # decided flags leave the queue
PAGE_SIZE = 100  # flags per queue page: a national force flags thousands on one date
SORTS = {"rank": "score_rank", "score": "score", "officer": "officer", "status": "status",
         "source": "source", "as_of": "as_of"}


class NotFound(LookupError):
    pass


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _log(store: Store, key: bytes, actor: Actor, action: str, resource: Resource, records, purpose: str,
         own_transaction: bool = True) -> None:
    access_log.append(store, key, actor, action, resource.value, records=records, purpose=purpose,
                      own_transaction=own_transaction)


def _in_scope(actor: Actor, officer: str, unit: str | None) -> bool:
    if actor.role is Role.REVIEWER:
        return unit in actor.scope_units
    if actor.role is Role.OFFICER:
        return officer == actor.officer
    return True


# -- flags ------------------------------------------------------------------------------

_FLAG_COLUMNS = ("flag_id, as_of, officer, source, model_id, score, score_rank, percentile, rules, "
                 "explanation, created_at, status, version")


def _flag(row) -> dict:
    explanation = json.loads(row[9])
    return {"flag_id": row[0], "as_of": row[1].isoformat(), "officer": row[2], "source": row[3],
            "model_id": row[4], "score": row[5], "rank": row[6], "percentile": row[7],
            "rules": json.loads(row[8]), "explanation": explanation,
            "prompt_kind": explanation.get("prompt_kind", "risk" if row[3] != "detector" else "integrity"),
            "created_at": row[10].isoformat(timespec="seconds"), "status": row[11], "version": row[12]}


def flag_dates(store: Store) -> list[str]:
    return [r[0].isoformat() for r in store.query("SELECT DISTINCT as_of FROM flags ORDER BY as_of DESC")]


def list_flags(store: Store, key: bytes, actor: Actor, as_of: date | None = None,
               statuses: tuple[str, ...] = QUEUE_STATUSES, source: str | None = None,
               assigned: str | None = None, sort: str = "rank", descending: bool = False,
               limit: int = PAGE_SIZE, offset: int = 0) -> dict:
    """This period's flags in the actor's scope (the review queue), one page of them.

    Scope and filters are applied to the date's flags first (keys only), so that only the
    page's flags are read in full and logged as read."""
    authorize(store, key, actor, Action.READ, Resource.FLAGS, purpose="review queue")
    dates = flag_dates(store)
    if as_of is None and dates:
        as_of = date.fromisoformat(dates[0])
    where, params = ["as_of = ?"], [as_of]
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
    if page and not scoped:
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
    _log(store, key, actor, "read", Resource.FLAGS,
         {"as_of": as_of.isoformat() if as_of else None, "officers": [f["officer"] for f in flags]},
         "review queue")
    return {"as_of": as_of.isoformat() if as_of else None, "dates": dates, "total": len(kept),
            "offset": offset, "limit": limit, "flags": flags}


def _load_flag(store: Store, flag_id: str) -> dict:
    rows = store.query(f"SELECT {_FLAG_COLUMNS} FROM flags WHERE flag_id = ?", [flag_id])
    if not rows:
        raise NotFound(f"no flag {flag_id}")
    flag = _flag(rows[0])
    flag["unit"] = officer_unit(store, flag["officer"], date.fromisoformat(flag["as_of"]))
    flag["assigned_to"] = assignments(store).get(flag_id)
    return flag


def get_flag(store: Store, key: bytes, actor: Actor, flag_id: str) -> dict:
    """One flag with its explanation, its reviews and, once decided, what happened after."""
    flag = _load_flag(store, flag_id)
    authorize(store, key, actor, Action.READ, Resource.FLAGS, officer=flag["officer"],
              officer_unit=flag["unit"], purpose="review a flag")
    flag["reviews"] = reviews(store, flag_id=flag_id)
    flag["outcomes"] = None
    if flag["reviews"]:
        decided = datetime.fromisoformat(flag["reviews"][-1]["decided_at"])
        flag["outcomes"] = officer_records.outcomes_after(store, flag["officer"], decided, _now())
    _log(store, key, actor, "read", Resource.FLAGS, {"flag": flag_id, "officer": flag["officer"]},
         "review a flag")
    return flag


def assignable_users(store: Store, unit: str | None) -> list[str]:
    """Who may be given a flag of an officer in `unit`: administrators and reviewers covering it."""
    return [u.name for u in list_users(store) if not u.disabled and (
        u.role is Role.ADMINISTRATOR or (u.role is Role.REVIEWER and unit in u.scope_units))]


def assign_flag(store: Store, key: bytes, actor: Actor, flag_id: str, to: str, version: int) -> dict:
    flag = _load_flag(store, flag_id)
    authorize(store, key, actor, Action.CHANGE, Resource.REVIEWS, officer=flag["officer"],
              officer_unit=flag["unit"], purpose="assign a flag")
    if to not in assignable_users(store, flag["unit"]):
        raise ValueError(f"{to} cannot take this flag: not an enabled reviewer covering unit "
                         f"{flag['unit']} nor an administrator")
    with store.transaction():
        new_version = assign(store, flag_id, to, actor.name, version)
        _log(store, key, actor, "change", Resource.REVIEWS,
             {"flag": flag_id, "officer": flag["officer"], "assigned_to": to}, "assign a flag",
             own_transaction=False)
    return {"flag_id": flag_id, "assigned_to": to, "status": "in_review", "version": new_version}


def review_flag(store: Store, key: bytes, actor: Actor, flag_id: str, review: ReviewInput,
                version: int) -> dict:
    """Record the decision: the review and its access-log entry commit together or not at all."""
    flag = _load_flag(store, flag_id)
    authorize(store, key, actor, Action.CHANGE, Resource.REVIEWS, officer=flag["officer"],
              officer_unit=flag["unit"], purpose="record a review decision")
    with store.transaction():
        result = record_review(store, flag_id, actor.name, review, version)
        _log(store, key, actor, "change", Resource.REVIEWS,
             {"flag": flag_id, "officer": flag["officer"], "review": result["review_id"],
              "decision": review.decision}, "record a review decision", own_transaction=False)
    return result


def flag_reviews(store: Store, key: bytes, actor: Actor, flag_id: str) -> list[dict]:
    flag = _load_flag(store, flag_id)
    authorize(store, key, actor, Action.READ, Resource.REVIEWS, officer=flag["officer"],
              officer_unit=flag["unit"], purpose="read reviews")
    found = reviews(store, flag_id=flag_id)
    _log(store, key, actor, "read", Resource.REVIEWS, {"flag": flag_id, "officer": flag["officer"]},
         "read reviews")
    return found


# -- officers ---------------------------------------------------------------------------

def officer_profile(store: Store, key: bytes, actor: Actor, officer: str) -> dict:
    """Timeline, score history, flags with their factors, reviews and outcomes of one officer.
    A reviewer's scope is checked against the unit on the officer's latest flag (the reason
    they are looking), else against today's posting."""
    if not officer_records.officer_exists(store, officer):
        raise NotFound(f"no officer {officer}")
    flags = [_flag(r) for r in store.query(
        f"SELECT {_FLAG_COLUMNS} FROM flags WHERE officer = ? ORDER BY as_of DESC, source", [officer])]
    on = date.fromisoformat(flags[0]["as_of"]) if flags else _now().date()
    unit = officer_unit(store, officer, on)
    authorize(store, key, actor, Action.READ, Resource.SOURCE_RECORDS, officer=officer,
              officer_unit=unit, purpose="officer profile")
    profile = {
        "officer": officer, "unit": unit, "unit_on": on.isoformat(),
        "timeline": officer_records.timeline(store, officer),
        "score_history": officer_records.score_history(store, officer),
        "flags": flags,
        "reviews": reviews(store, officer=officer),
    }
    for review in profile["reviews"]:
        review["outcomes"] = officer_records.outcomes_after(
            store, officer, datetime.fromisoformat(review["decided_at"]), _now())
    _log(store, key, actor, "read", Resource.SOURCE_RECORDS,
         {"officer": officer, "timeline_records": len(profile["timeline"])}, "officer profile")
    return profile


# -- models, audits, access log, transparency --------------------------------------------

def models(store: Store, key: bytes, actor: Actor) -> list[dict]:
    from openeis.models import registry

    authorize(store, key, actor, Action.READ, Resource.MODELS, purpose="model registry")
    found = [m.as_dict() for m in registry.list_models(store)]
    _log(store, key, actor, "read", Resource.MODELS, {"models": len(found)}, "model registry")
    return found


def backtests(store: Store, key: bytes, actor: Actor, limit: int = 5) -> list[dict]:
    """The latest backtest results (`openeis backtest` keeps them in the store)."""
    authorize(store, key, actor, Action.READ, Resource.MODELS, purpose="backtests")
    rows = store.query("SELECT backtest_id, label, created_at, result FROM backtests "
                       f"ORDER BY created_at DESC LIMIT {int(limit)}")
    found = [{"backtest_id": r[0], "label": r[1], "created_at": r[2].isoformat(timespec="seconds"),
              "result": json.loads(r[3])} for r in rows]
    _log(store, key, actor, "read", Resource.MODELS, {"backtests": len(found)}, "backtests")
    return found


def model_detail(store: Store, key: bytes, actor: Actor, model_id: str) -> dict:
    from openeis.models import registry

    authorize(store, key, actor, Action.READ, Resource.MODELS, purpose="model detail")
    try:
        model = registry.get(store, model_id).as_dict()
    except registry.RegistryError as error:
        raise NotFound(str(error)) from None
    model["events"] = registry.events(store, model_id)
    model["audits"] = _audits(store, model_id)
    _log(store, key, actor, "read", Resource.MODELS, {"model_id": model_id}, "model detail")
    return model


def promote_model(store: Store, config: OpenEISConfig, key: bytes, actor: Actor, model_id: str,
                  to: str | None, override_gate: bool, rationale: str | None) -> dict:
    """Promotion through the bias gate (models.jobs.promote logs both outcomes)."""
    from openeis.models import registry
    from openeis.models.jobs import promote

    authorize(store, key, actor, Action.CHANGE, Resource.MODELS, purpose="promote a model")
    try:
        registry.get(store, model_id)
    except registry.RegistryError as error:
        raise NotFound(str(error)) from None
    entry, gate = promote(store, config, key, model_id, to, actor, override_gate, rationale)
    return {"model_id": entry.model_id, "status": entry.status, "gate": gate}


def _audits(store: Store, model_id: str | None = None) -> list[dict]:
    sql = "SELECT audit_id, model_id, as_of, created_at, within_band, result FROM model_audits"
    params = []
    if model_id:
        sql += " WHERE model_id = ?"
        params.append(model_id)
    return [{"audit_id": r[0], "model_id": r[1], "as_of": r[2].isoformat(),
             "created_at": r[3].isoformat(timespec="seconds"), "within_band": bool(r[4]),
             "result": json.loads(r[5])}
            for r in store.query(sql + " ORDER BY created_at DESC", params)]


def audits(store: Store, key: bytes, actor: Actor, model_id: str | None = None) -> list[dict]:
    authorize(store, key, actor, Action.READ, Resource.AUDITS, purpose="bias audits")
    found = _audits(store, model_id)
    _log(store, key, actor, "read", Resource.AUDITS, {"audits": len(found), "model_id": model_id},
         "bias audits")
    return found


def access_log_entries(store: Store, key: bytes, actor: Actor, limit: int = 100, before: int | None = None,
                       outcome: str | None = None) -> dict:
    authorize(store, key, actor, Action.READ, Resource.ACCESS_LOG, purpose="read the access log")
    where, params = [], []
    if before:
        where.append("seq < ?")
        params.append(before)
    if outcome:
        where.append("outcome = ?")
        params.append(outcome)
    columns = ", ".join(access_log.COLUMNS)
    sql = f"SELECT {columns}, entry_hash FROM access_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = store.query(sql + f" ORDER BY seq DESC LIMIT {max(1, min(int(limit), 1000))}", params)
    entries = [{**dict(zip(access_log.COLUMNS, r[:-1])), "entry_hash": r[-1]} for r in rows]
    for entry in entries:
        entry["logged_at"] = entry["logged_at"].isoformat(timespec="seconds")
    _log(store, key, actor, "read", Resource.ACCESS_LOG,
         {"entries": len(entries), "first": entries[-1]["seq"] if entries else None,
          "last": entries[0]["seq"] if entries else None}, "read the access log")
    return {"entries": entries, "total": store.scalar("SELECT count(*) FROM access_log")}


def verify_access_log(store: Store, key: bytes, actor: Actor) -> dict:
    authorize(store, key, actor, Action.READ, Resource.ACCESS_LOG, purpose="verify the access log")
    result = access_log.verify(store, key)
    _log(store, key, actor, "read", Resource.ACCESS_LOG, {"verified": result.ok, "entries": result.entries},
         "verify the access log")
    return {"ok": result.ok, "entries": result.entries, "first_broken_seq": result.first_broken_seq,
            "problem": result.problem, "message": str(result), "head": access_log.head(store)}


def transparency(store: Store, config: OpenEISConfig, key: bytes, actor: Actor) -> dict:
    from openeis.governance import transparency as records

    authorize(store, key, actor, Action.READ, Resource.AGGREGATES, purpose="transparency record")
    cards = [records.model_card(store, m) for m in records.live_models(store)]
    result = {"atrs": records.atrs_record(store, config.transparency, cards),
              "statistics": records.public_statistics(store, config.transparency.suppression_threshold),
              "model_cards": cards}
    _log(store, key, actor, "read", Resource.AGGREGATES, {"model_cards": len(cards)}, "transparency record")
    return result

