"""The human side of a flag: the review queue, one flag, assigning it, recording the
decision, its reviews, and an officer's profile. A reviewer sees only the officers posted in
their units, an officer only themselves: each flag and officer is checked against the
caller's scope, and lists are filtered to it."""

from __future__ import annotations

import functools
from collections.abc import Callable
import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

from openeis.application.errors import Invalid, NotFound
from openeis.application.session import Session
from openeis.governance.roles import Action, Actor, Resource, Role
from openeis.governance.users import list_users
from openeis.review import officer as officer_records
from openeis.review.queue import SOURCES, Item, Selection, detector_strength, rule_strength, select, select_welfare
from openeis.review.scope import flag_units, officer_unit
from openeis.review.workflow import (ReviewInput, amend_decision, amendments, assign, assignments, open_follow_ups,
                                     outcomes, record_outcome, record_review, reviews)

QUEUE_STATUSES = ("new", "in_review")  # decided flags leave the queue
PAGE_SIZE = 100  # flags per queue page: a national force flags thousands on one date
SORTS = {"priority": None, "rank": "rank", "score": "score", "age": "created_at", "due": "due",
         "officer": "officer", "status": "status", "source": "source", "unit": "unit"}
QUEUES = ("conduct", "welfare")
VIEWS = ("queued", "not_queued")
ALL_PERIODS_LIMIT = 24  # "all periods" looks back over at most this many scored dates


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _in_scope(actor: Actor, officer: str, unit: str | None) -> bool:
    if actor.role in (Role.REVIEWER, Role.WELFARE):
        return unit in actor.scope_units
    if actor.role is Role.OFFICER:
        return officer == actor.officer
    return True


_FLAG_COLUMNS = ("flag_id, as_of, officer, source, model_id, score, score_rank, percentile, rules, "
                 "explanation, created_at, status, version, queue")


def _flag(row) -> dict:
    explanation = json.loads(row[9])
    return {"flag_id": row[0], "as_of": row[1].isoformat(), "officer": row[2], "source": row[3],
            "model_id": row[4], "score": row[5], "rank": row[6], "percentile": row[7],
            "rules": json.loads(row[8]), "explanation": explanation,
            "prompt_kind": explanation.get("prompt_kind", "risk" if row[3] != "detector" else "integrity"),
            "created_at": row[10].isoformat(timespec="seconds"), "status": row[11], "version": row[12],
            "queue": row[13] or "conduct"}


def flag_resource(queue: str) -> Resource:
    """Conduct flags are flags; welfare prompts are welfare data, for other eyes."""
    return Resource.WELFARE if queue == "welfare" else Resource.FLAGS


def flag_dates(session: Session) -> list[str]:
    return [r[0].isoformat() for r in session.store.query("SELECT DISTINCT as_of FROM flags ORDER BY as_of DESC")]


def cohort_size(store, as_of: date) -> int:
    """Officers serving on the date, as the store knows them: what the capacity is a share of."""
    moment = datetime.combine(as_of, datetime.min.time())
    return int(store.scalar("SELECT count(*) FROM officers WHERE recorded_at <= ? AND joined_at <= ? "
                            "AND (left_at IS NULL OR left_at > ?)", [moment, moment, moment]) or 0)


def model_statuses(store) -> dict[str, str]:
    return dict(store.query("SELECT model_id, status FROM model_registry"))


def _period(session: Session, as_of: date, queue: str) -> Selection:
    """The budget of one period and queue: every flag of the date, in order (review.queue)."""
    store, config = session.store, session.config
    rows = store.query(
        "SELECT flag_id, officer, source, model_id, score_rank, percentile, rules, status, "
        "CASE WHEN source = 'detector' THEN explanation END FROM flags WHERE as_of = ? AND queue = ?",
        [as_of, queue])
    units = flag_units(store, as_of) if rows else {}
    statuses = model_statuses(store)
    thresholds = {r.name: r.at_least for r in config.rules.rules}
    items = []
    for flag_id, officer, source, model_id, rank, percentile, rules, status, explanation in rows:
        item = Item(flag_id, officer, source, queue, status, units.get(flag_id), model_id,
                    statuses.get(model_id) if source == "model" else None, rank, percentile)
        if source == "model":
            item.strength = (rank if rank is not None else 10**9, officer)
        elif source == "detector":
            measures = json.loads(explanation).get("measures", {}) if explanation else {}
            item.strength = detector_strength(measures, "q" not in measures, model_id or "", officer)
        else:
            item.strength = rule_strength(json.loads(rules), thresholds, percentile, officer)
        items.append(item)
    cohort = cohort_size(store, as_of)
    if queue == "welfare":
        return select_welfare(items, config.queue.welfare_capacity(cohort))
    capacity = config.flags.capacity(cohort) if cohort else 0
    return select(items, capacity, config.queue.shares(capacity), config.queue.unit_capacity)


def queue_items(session: Session, as_of: date | None = None, queue: str = "conduct",
                scope_unit: str | None = None, view: str = "queued", all_periods: bool = False) -> dict:
    """The queue of a period (default the latest) in the caller's scope: queued items in order,
    the capacity, and what did not fit, counted by source. `view="not_queued"` lists what did
    not fit instead (administrators). No access-log entry: callers log what they show."""
    if queue not in QUEUES:
        raise Invalid(f"queue must be one of {', '.join(QUEUES)}")
    if view not in VIEWS:
        raise Invalid(f"view must be one of {', '.join(VIEWS)}")
    dates = flag_dates(session)
    if as_of is None and dates:
        as_of = date.fromisoformat(dates[0])
    periods = ([date.fromisoformat(d) for d in dates[:ALL_PERIODS_LIMIT]] if all_periods
               else [as_of] if as_of else [])
    actor = session.actor
    chosen: list[Item] = []
    not_queued = {s: 0 for s in SOURCES}
    capacity = 0
    withdrawn = 0
    for day in periods:
        selection = _period(session, day, queue)
        if day == as_of:
            capacity = selection.capacity
        for item in selection.queued + selection.not_queued:
            item.extra["as_of"] = day
        in_scope = [i for i in (selection.queued if view == "queued" else selection.not_queued)
                    if _in_scope(actor, i.officer, i.unit) and (scope_unit is None or i.unit == scope_unit)]
        chosen.extend(in_scope)
        for item in selection.not_queued:
            if _in_scope(actor, item.officer, item.unit) and (scope_unit is None or item.unit == scope_unit):
                not_queued[item.source] += 1
        withdrawn += sum(_in_scope(actor, i.officer, i.unit) and (scope_unit is None or i.unit == scope_unit)
                         for i in selection.withdrawn)
    return {"as_of": as_of.isoformat() if as_of else None, "dates": dates, "capacity": capacity,
            "queue": queue, "items": chosen, "not_queued": not_queued, "withdrawn": withdrawn}


def _matches(flag: dict, search: str) -> bool:
    text = " ".join([flag["officer"], flag.get("unit") or "", flag["source"], flag.get("model_id") or "",
                     *flag["explanation"].get("sentences", [])]).lower()
    return all(word in text for word in search.lower().split())


def list_flags(session: Session, as_of: date | None = None, statuses: tuple[str, ...] = QUEUE_STATUSES,
               source: str | None = None, assigned: str | None = None, sort: str = "priority",
               descending: bool = False, limit: int = PAGE_SIZE, offset: int = 0, queue: str = "conduct",
               view: str = "queued", search: str | None = None, scope_unit: str | None = None,
               all_periods: bool = False) -> dict:
    """The review queue: this period's queued flags in the caller's scope, one page of them,
    with the capacity and what did not fit (review.queue). A conduct queue needs `read flags`,
    the welfare queue `read welfare`; listing what was not queued is for those who may change
    flags (administrators). Only the page's flags are read in full and logged as read."""
    resource = flag_resource(queue)
    session.allow(Action.READ, resource, purpose="review queue")
    if view == "not_queued":
        session.allow(Action.CHANGE, Resource.FLAGS, purpose="browse flags not queued")
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}")
    found = queue_items(session, as_of, queue, scope_unit, view, all_periods)
    owners = assignments(session.store)
    items = [i for i in found["items"]
             if (not statuses or i.status in statuses) and (not source or i.source == source)
             and not (assigned == "me" and owners.get(i.flag_id) != session.actor.name)
             and not (assigned == "unassigned" and owners.get(i.flag_id))]
    rows = {}
    if items and (search or SORTS[sort] in ("score", "created_at")):
        rows = _read_flags(session, [i.flag_id for i in items])
    if search:
        items = [i for i in items if _matches({**rows[i.flag_id], "unit": i.unit}, search)]
    items = _sorted(items, sort, descending, rows, session.config.queue.review_within_days)
    page = items[offset:offset + limit]
    full = _read_flags(session, [i.flag_id for i in page if i.flag_id not in rows]) | rows
    today = _now().date()
    flags = []
    for item in page:
        flag = dict(full[item.flag_id])
        due = date.fromisoformat(flag["as_of"]) + timedelta(days=session.config.queue.review_within_days)
        flag.update(unit=item.unit, assigned_to=owners.get(item.flag_id), position=item.position,
                    model_status=item.model_status, due_on=due.isoformat(),
                    overdue=flag["status"] != "decided" and due < today,
                    age_days=(today - date.fromisoformat(flag["created_at"][:10])).days)
        flags.append(flag)
    session.log(Action.READ, resource,
                {"as_of": found["as_of"], "queue": queue, "view": view, "officers": [f["officer"] for f in flags]},
                "review queue")
    return {"as_of": found["as_of"], "dates": found["dates"], "queue": queue, "view": view,
            "capacity": found["capacity"], "total": len(items), "not_queued": found["not_queued"],
            "withdrawn": found["withdrawn"], "offset": offset, "limit": limit, "flags": flags}


def _read_flags(session: Session, flag_ids: list[str]) -> dict[str, dict]:
    out = {}
    for start in range(0, len(flag_ids), 1000):
        chunk = flag_ids[start:start + 1000]
        for row in session.store.query(
                f"SELECT {_FLAG_COLUMNS} FROM flags WHERE flag_id IN ({', '.join('?' for _ in chunk)})", chunk):
            out[row[0]] = _flag(row)
    return out


def _sorted(items: list[Item], sort: str, descending: bool, rows: dict, review_days: int) -> list[Item]:
    def key(item: Item):
        if sort == "rank":
            return (item.rank is None, item.rank or 0)
        if sort == "score":
            value = rows[item.flag_id]["score"]
            return (value is None, value or 0.0)
        if sort == "age":
            return rows[item.flag_id]["created_at"]
        if sort == "due":
            return item.extra.get("as_of") or date.min
        if sort in ("officer", "status", "source"):
            return getattr(item, sort)
        if sort == "unit":
            return item.unit or ""
        return (item.extra.get("as_of") or date.min, item.position or 0)  # priority: the queue's order

    ordered = sorted(items, key=key, reverse=descending)
    if sort == "priority" and not descending:  # newest period first, each in its own order
        ordered.sort(key=lambda i: i.extra.get("as_of") or date.min, reverse=True)
    return ordered


def _scoped(actor: Actor) -> bool:
    return actor.role in (Role.REVIEWER, Role.WELFARE, Role.OFFICER)


def _load_flag(session: Session, flag_id: str, action: Action, purpose: str,
               resource_of: Callable[[str], Resource]) -> tuple[dict, Resource]:
    """The flag and the resource it is (`resource_of` its queue), once the caller may `action`
    it. A role that may never do so, in either queue, is refused (403) whether or not the flag
    exists; otherwise a flag the caller may not act on (outside its scope, or in a queue it
    does not hold) answers exactly as a missing one (404), so that it learns nothing of flags
    it may not see. Both refusals are in the access log."""
    if not any(session.may(action, resource_of(q)) for q in QUEUES):
        session.allow(action, resource_of("conduct"), purpose=purpose)  # logged, raised
    store = session.store
    missing = f"no flag {flag_id}" + (" in your scope" if _scoped(session.actor) else "")
    rows = store.query(f"SELECT {_FLAG_COLUMNS} FROM flags WHERE flag_id = ?", [flag_id])
    if not rows:
        raise NotFound(missing)
    flag = _flag(rows[0])
    flag["unit"] = officer_unit(store, flag["officer"], date.fromisoformat(flag["as_of"]))
    resource = resource_of(flag["queue"])
    session.allow(action, resource, purpose=purpose, officer=flag["officer"], officer_unit=flag["unit"],
                  hidden=missing)
    flag["assigned_to"] = assignments(store).get(flag_id)
    return flag, resource


def _change_resource_of(queue: str) -> Resource:
    """Deciding on a flag (and reading the decisions): reviews, or welfare for a prompt."""
    return Resource.WELFARE if queue == "welfare" else Resource.REVIEWS


def _read_resource(flag: dict) -> Resource:
    return _change_resource_of(flag["queue"])


def health_visible(session: Session, officer: str, unit: str | None) -> bool:
    """Whether health details (absence reasons, sickness) may be shown to the caller: those
    who hold welfare prompts in scope and the officer themselves; never a conduct reviewer,
    and not the administrator running the system."""
    return session.actor.role in (Role.WELFARE, Role.OFFICER) and session.may(
        Action.READ, Resource.WELFARE, officer=officer, officer_unit=unit)


def get_flag(session: Session, flag_id: str) -> dict:
    """One flag with its explanation, the records behind it and, for roles that may read
    the decisions on it, its reviews (amendments included, newest last), the outcome of its
    intervention and, once decided, what happened after (`reviews`, `amendments`,
    `intervention_outcomes` and `outcomes` None for the others: an analyst reads flags, not
    the decisions on them). A conduct flag needs `read flags`, a welfare prompt `read welfare`."""
    flag, resource = _load_flag(session, flag_id, Action.READ, "review a flag", flag_resource)
    store = session.store
    shown = session.may(Action.READ, _read_resource(flag), officer=flag["officer"], officer_unit=flag["unit"])
    flag["reviews"] = reviews(store, flag_id=flag_id) if shown else None
    flag["amendments"] = amendments(store, flag_id) if shown else None
    flag["intervention_outcomes"] = outcomes(store, flag_id=flag_id) if shown else None
    flag["outcomes"] = None
    if flag["reviews"]:
        decided = datetime.fromisoformat(flag["reviews"][0]["decided_at"])
        flag["outcomes"] = officer_records.outcomes_after(store, flag["officer"], decided, _now())
    flag["model_status"] = model_statuses(store).get(flag["model_id"]) if flag["source"] == "model" else None
    visible = health_visible(session, flag["officer"], flag["unit"])
    flag["evidence_records"] = officer_records.records_by_id(
        store, flag["officer"], flag["explanation"].get("evidence", []), visible)
    flag["factor_records"] = _factor_records(session, flag, visible)
    session.log(Action.READ, resource, {"flag": flag_id, "officer": flag["officer"],
                                        "reviews": len(flag["reviews"]) if shown else "not shown"},
                "review a flag")
    return flag


FACTOR_RECORDS_SHOWN = 5


@functools.lru_cache(maxsize=4)
def _feature_specs(features_json: str) -> dict:
    """The feature plan's specs (what table and window each feature counts), made once per
    configuration: building the plan takes longer than the page."""
    from openeis.config.features import FeaturesConfig
    from openeis.flags.sentences import Describer

    return Describer(FeaturesConfig.model_validate_json(features_json)).specs


def _factor_records(session: Session, flag: dict, visible: bool) -> dict:
    """For each factor: the table and period of the records behind it, their count and the
    newest few (the page links to all of them in the officer's records)."""
    specs = _feature_specs(session.config.features.model_dump_json())
    as_of = datetime.combine(date.fromisoformat(flag["as_of"]), datetime.min.time())
    out = {}
    for factor in flag["explanation"].get("factors", []):
        base = factor["feature"].rsplit("_peer_", 1)[0]
        table, since, until = officer_records.factor_window(specs.get(base), as_of)
        if table is None:
            continue
        shown, total = officer_records.records(session.store, flag["officer"], [table], since, until,
                                               FACTOR_RECORDS_SHOWN, 0, visible)
        out[factor["feature"]] = {"kind": table, "since": since.date().isoformat() if since else None,
                                  "until": until.date().isoformat(), "total": total, "records": shown}
    return out


def assignable_users(session: Session, unit: str | None, queue: str = "conduct") -> list[str]:
    """Who may be given a flag of an officer in `unit`: administrators, and the reviewers
    (conduct) or welfare accounts (welfare) covering it."""
    role = Role.WELFARE if queue == "welfare" else Role.REVIEWER
    return [u.name for u in list_users(session.store) if not u.disabled and (
        u.role is Role.ADMINISTRATOR or (u.role is role and unit in u.scope_units))]


def assign_flag(session: Session, flag_id: str, to: str, version: int) -> dict:
    """Give the flag to a reviewer covering the officer's unit (or an administrator)."""
    flag, resource = _load_flag(session, flag_id, Action.CHANGE, "assign a flag", _change_resource_of)
    if to not in assignable_users(session, flag["unit"], flag["queue"]):
        raise Invalid(f"{to} cannot take this flag: not an enabled reviewer covering unit "
                      f"{flag['unit']} nor an administrator")
    with session.transaction():
        new_version = assign(session.store, flag_id, to, session.actor.name, version)
        session.log(Action.CHANGE, resource,
                    {"flag": flag_id, "officer": flag["officer"], "assigned_to": to}, "assign a flag")
    return {"flag_id": flag_id, "assigned_to": to, "status": "in_review", "version": new_version}


def review_flag(session: Session, flag_id: str, review: ReviewInput, version: int) -> dict:
    """Record the decision: the review and its access-log entry commit together or not at all.
    A refused review raises review.workflow.ReviewError, a stale version Conflict."""
    flag, resource = _load_flag(session, flag_id, Action.CHANGE, "record a review decision", _change_resource_of)
    with session.transaction():
        result = record_review(session.store, flag_id, session.actor.name, review, version)
        session.log(Action.CHANGE, resource,
                    {"flag": flag_id, "officer": flag["officer"], "review": result["review_id"],
                     "decision": review.decision}, "record a review decision")
    return result


def amend_review(session: Session, flag_id: str, review: ReviewInput, reason: str, version: int) -> dict:
    """Amend the decision on a decided flag: a new review row, linked to the one it replaces
    with who amended it and why; the earlier decision stays in the history."""
    flag, resource = _load_flag(session, flag_id, Action.CHANGE, "amend a review decision", _change_resource_of)
    with session.transaction():
        result = amend_decision(session.store, flag_id, session.actor.name, review, reason, version)
        session.log(Action.CHANGE, resource,
                    {"flag": flag_id, "officer": flag["officer"], "review": result["review_id"],
                     "amends": result["amends"], "decision": review.decision}, "amend a review decision")
    return result


def record_intervention_outcome(session: Session, flag_id: str, outcome: str, note: str) -> dict:
    """What came of the intervention decided on the flag: closes its follow-up."""
    flag, resource = _load_flag(session, flag_id, Action.CHANGE, "record an intervention outcome", _change_resource_of)
    with session.transaction():
        result = record_outcome(session.store, flag_id, session.actor.name, outcome, note)
        session.log(Action.CHANGE, resource,
                    {"flag": flag_id, "officer": flag["officer"], "outcome": result["outcome_id"]},
                    "record an intervention outcome")
    return result


def flag_reviews(session: Session, flag_id: str) -> list[dict]:
    flag, resource = _load_flag(session, flag_id, Action.READ, "read reviews", _change_resource_of)
    found = reviews(session.store, flag_id=flag_id)
    session.log(Action.READ, resource, {"flag": flag_id, "officer": flag["officer"]}, "read reviews")
    return found


def follow_ups(session: Session, reviewer: str | None = None) -> dict:
    """Follow-ups of decided flags whose intervention has no recorded outcome yet, due first,
    with the overdue ones marked; and each reviewer's workload (open items assigned, follow-ups
    due and overdue). A reviewer sees those in their scope; `reviewer` narrows to one person."""
    session.allow(Action.READ, Resource.REVIEWS if session.actor.role is not Role.WELFARE else Resource.WELFARE,
                  purpose="follow-ups")
    store, actor = session.store, session.actor
    today = _now().date()
    pending = open_follow_ups(store)
    shown = []
    for item in pending:
        unit = officer_unit(store, item["officer"], date.fromisoformat(item["as_of"]))
        resource = flag_resource(item["queue"])
        if not session.may(Action.READ, resource, officer=item["officer"], officer_unit=unit):
            continue
        if reviewer and item["reviewer"] != reviewer:
            continue
        item["unit"] = unit
        item["overdue"] = date.fromisoformat(item["follow_up_on"]) < today
        shown.append(item)
    workload: dict[str, dict] = {}
    owners = assignments(store)
    open_ids = {r[0]: r[1] for r in store.query("SELECT flag_id, officer FROM flags WHERE status = 'in_review'")}
    for flag_id, owner in owners.items():
        if flag_id in open_ids and (actor.role not in (Role.REVIEWER, Role.WELFARE) or owner == actor.name):
            workload.setdefault(owner, {"assigned_open": 0, "follow_ups_due": 0, "overdue": 0})["assigned_open"] += 1
    for item in shown:
        entry = workload.setdefault(item["reviewer"], {"assigned_open": 0, "follow_ups_due": 0, "overdue": 0})
        entry["follow_ups_due"] += 1
        entry["overdue"] += int(item["overdue"])
    session.log(Action.READ, Resource.REVIEWS if actor.role is not Role.WELFARE else Resource.WELFARE,
                {"follow_ups": [i["flag_id"] for i in shown]}, "follow-ups")
    return {"today": today.isoformat(), "follow_ups": shown,
            "workload": [{"reviewer": k, **v} for k, v in sorted(workload.items())]}


def queue_csv(session: Session, **filters) -> str:
    """The caller's queue as CSV (every page), cells safe from spreadsheet formulas; logged as
    an export of the flags listed."""
    from openeis.csv_safety import csv_text

    queue = filters.get("queue", "conduct")
    resource = flag_resource(queue)
    session.allow(Action.EXPORT, resource, purpose="queue export")
    listed = list_flags(session, **{**filters, "limit": 10**9, "offset": 0})
    header = ["position", "as_of", "flag", "officer", "unit", "source", "model", "queue", "status", "rank",
              "score", "due_on", "assigned_to", "main_reason"]
    rows = [[f["position"], f["as_of"], f["flag_id"], f["officer"], f["unit"], f["source"], f["model_id"],
             f["queue"], f["status"], f["rank"], f["score"], f["due_on"], f["assigned_to"],
             (f["explanation"].get("sentences") or [""])[0]] for f in listed["flags"]]
    session.log(Action.EXPORT, resource, {"as_of": listed["as_of"], "queue": queue,
                                         "flags": [f["flag_id"] for f in listed["flags"]]}, "queue export")
    return csv_text(header, rows)


def officer_records_page(session: Session, officer: str, kinds: list[str] | None = None,
                         since: date | None = None, until: date | None = None, page: int = 1,
                         per_page: int = 50) -> dict:
    """One page of an officer's records, filtered by kind and dates, newest first."""
    store = session.store
    session.allow(Action.READ, Resource.SOURCE_RECORDS, purpose="officer records")
    missing = f"no officer {officer}" + (" in your scope" if _scoped(session.actor) else "")
    if not officer_records.officer_exists(store, officer):
        raise NotFound(missing)
    unit = _profile_unit(store, officer)
    session.allow(Action.READ, Resource.SOURCE_RECORDS, officer=officer, officer_unit=unit, purpose="officer records",
                  hidden=missing)
    unknown = [k for k in kinds or [] if k not in officer_records.RECORD_TABLES]
    if unknown:
        raise Invalid(f"unknown kind of record: {', '.join(unknown)} (one of {', '.join(officer_records.RECORD_TABLES)})")
    page = max(1, page)
    start = datetime.combine(since, datetime.min.time()) if since else None
    end = datetime.combine(until, datetime.min.time()) if until else None
    found, total = officer_records.records(store, officer, kinds, start, end, per_page, (page - 1) * per_page,
                                           health_visible(session, officer, unit))
    session.log(Action.READ, Resource.SOURCE_RECORDS,
                {"officer": officer, "records": [f"{r['kind']}:{r['record']}" for r in found]}, "officer records")
    return {"officer": officer, "unit": unit, "records": found, "total": total, "page": page,
            "pages": max(1, -(-total // per_page)), "kinds": kinds or [], "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None, "all_kinds": list(officer_records.RECORD_TABLES)}


def _profile_unit(store, officer: str) -> str | None:
    latest = store.scalar("SELECT max(as_of) FROM flags WHERE officer = ?", [officer])
    return officer_unit(store, officer, latest or _now().date())


def officer_profile(session: Session, officer: str) -> dict:
    """Timeline, score history, flags with their factors, reviews and outcomes of one officer
    (reviews and their outcomes only for roles that may read reviews; None for the others).
    A reviewer's scope is checked against the unit on the officer's latest flag (the reason
    they are looking), else against today's posting; an officer outside the caller's scope
    answers as an unknown one does. Flags are those of the queues the caller may read; scores
    are the live models' (shadow scores are labelled, for administrators and analysts only);
    health details only for those entitled to them."""
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
    flags = [f for f in flags if session.may(Action.READ, flag_resource(f["queue"]), officer, unit)]
    visible = health_visible(session, officer, unit)
    statuses = model_statuses(store)
    published = {r[0] for r in store.query("SELECT DISTINCT model_id FROM model_events WHERE to_status = 'live'")}
    shadow_ok = session.actor.role in (Role.ADMINISTRATOR, Role.ANALYST)
    history = []
    for point in officer_records.score_history(store, officer):
        point["model_status"] = statuses.get(point["model_id"])
        # a model that was never live only ever made shadow scores
        point["shadow"] = point["model_status"] != "live" and point["model_id"] not in published
        if shadow_ok or not point["shadow"]:
            history.append(point)
    # Decisions only where the caller may read the decisions on that flag (an analyst: none).
    readable = {f["flag_id"] for f in flags
                if session.may(Action.READ, _read_resource(f), officer=officer, officer_unit=unit)}
    shown = bool(readable) or any(session.may(Action.READ, r, officer=officer, officer_unit=unit)
                                  for r in (Resource.REVIEWS, Resource.WELFARE))
    profile: dict[str, Any] = {
        "officer": officer, "unit": unit, "unit_on": on.isoformat(),
        "monthly": officer_records.monthly_counts(store, officer, visible),
        "score_history": history,
        "flags": flags,
        "reviews": [r for r in reviews(store, officer=officer) if r["flag_id"] in readable] if shown else None,
        "health_visible": visible,
        "may_reveal": session.may(Action.READ, Resource.IDENTITY, officer, unit),
    }
    profile["records"], profile["records_total"] = officer_records.records(store, officer, None, None, None, 20, 0,
                                                                           visible)
    profile["timeline"] = profile["records"]  # the newest records (the records page has them all)
    for review in profile["reviews"] or []:
        review["outcomes"] = officer_records.outcomes_after(
            store, officer, datetime.fromisoformat(review["decided_at"]), _now())
    session.log(Action.READ, Resource.SOURCE_RECORDS,
                {"officer": officer, "records": profile["records_total"],
                 "reviews": len(profile["reviews"]) if shown else "not shown"}, purpose)
    return profile
