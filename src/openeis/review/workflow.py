"""Assigning a flag and recording the reviewer's decision, with optimistic locking.

Every change to a flag names the version the person saw; the change applies only if the flag
is still at that version, and bumps it. Two reviewers saving the same flag at once: the first
wins, the second gets a Conflict naming what changed, and nothing of theirs is half-written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from openeis.store import Store

DECISIONS = {
    "no_action": "No action",
    "supervisory_conversation": "Supervisory conversation",
    "training": "Training",
    "welfare_referral": "Welfare / occupational health referral",
    "professional_standards_referral": "Referral to professional standards",
}
STATUSES = ("new", "in_review", "decided")
MIN_RATIONALE = 10
OUTCOMES = {
    "completed": "Completed",
    "partly_completed": "Partly completed",
    "not_completed": "Not completed",
    "no_longer_needed": "No longer needed",
}


class ReviewError(ValueError):
    """A refused review (missing rationale, unknown decision...), with the reason."""


class Conflict(Exception):
    """The flag changed since the person loaded it."""

    def __init__(self, flag_id: str, expected: int, current: int | None, status: str | None):
        self.flag_id, self.expected, self.current, self.status = flag_id, expected, current, status
        if current is None:
            message = f"flag {flag_id} no longer exists"
        else:
            message = (f"flag {flag_id} was changed by someone else (you saw version {expected}, "
                       f"it is now version {current}, status {status}): reload it and decide again")
        super().__init__(message)


@dataclass
class FactorFeedback:
    feature: str
    agree: bool
    note: str = ""


@dataclass
class ReviewInput:
    decision: str
    rationale: str
    factor_feedback: list[FactorFeedback] = field(default_factory=list)
    intervention: str | None = None
    follow_up_on: date | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def flag_state(store: Store, flag_id: str) -> tuple[int, str] | None:
    rows = store.query("SELECT version, status FROM flags WHERE flag_id = ?", [flag_id])
    return (rows[0][0], rows[0][1]) if rows else None


def _bump(store: Store, flag_id: str, expected_version: int, status: str,
          allowed_from: tuple[str, ...]) -> int:
    """Move the flag to `status` if it is still at `expected_version`; the new version."""
    placeholders = ", ".join("?" for _ in allowed_from)
    rows = store.query(
        f"UPDATE flags SET status = ?, version = version + 1 WHERE flag_id = ? AND version = ? "
        f"AND status IN ({placeholders}) RETURNING version",
        [status, flag_id, expected_version, *allowed_from],
    )
    if not rows:
        state = flag_state(store, flag_id)
        raise Conflict(flag_id, expected_version, *(state or (None, None)))
    return rows[0][0]


def assign(store: Store, flag_id: str, to: str, by: str, expected_version: int) -> int:
    """Give the flag to `to` (status becomes in review). In the caller's transaction."""
    version = _bump(store, flag_id, expected_version, "in_review", ("new", "in_review"))
    store.execute("DELETE FROM flag_assignments WHERE flag_id = ?", [flag_id])
    store.execute("INSERT INTO flag_assignments (flag_id, assigned_to, assigned_by, assigned_at) "
                  "VALUES (?, ?, ?, ?)", [flag_id, to, by, _now()])
    return version


def check_review(review: ReviewInput, factors: list[str]) -> None:
    if review.decision not in DECISIONS:
        raise ReviewError(f"decision {review.decision!r}: one of {', '.join(DECISIONS)}")
    if len((review.rationale or "").strip()) < MIN_RATIONALE:
        raise ReviewError(f"a written rationale is required (at least {MIN_RATIONALE} characters)")
    unknown = [f.feature for f in review.factor_feedback if f.feature not in factors]
    if unknown:
        raise ReviewError(f"feedback on factors the flag does not have: {', '.join(unknown)}")
    if review.decision != "no_action" and not (review.intervention or "").strip():
        raise ReviewError("say what the intervention is (or decide 'no action')")
    if review.follow_up_on and review.decision == "no_action":
        raise ReviewError("a follow-up date goes with an intervention, not with 'no action'")


def record_review(store: Store, flag_id: str, reviewer: str, review: ReviewInput,
                  expected_version: int) -> dict:
    """Record the decision and close the flag (status decided). In the caller's transaction."""
    rows = store.query("SELECT officer, explanation FROM flags WHERE flag_id = ?", [flag_id])
    if not rows:
        raise Conflict(flag_id, expected_version, None, None)
    officer, explanation = rows[0][0], json.loads(rows[0][1])
    check_review(review, [f["feature"] for f in explanation.get("factors", [])])
    version = _bump(store, flag_id, expected_version, "decided", ("new", "in_review"))
    review_id, decided_at = _insert_review(store, flag_id, officer, reviewer, review, version)
    return {"review_id": review_id, "flag_id": flag_id, "version": version,
            "decided_at": decided_at.isoformat(timespec="seconds")}


def reviews(store: Store, flag_id: str | None = None, officer: str | None = None) -> list[dict]:
    where, params = [], []
    if flag_id:
        where.append("flag_id = ?")
        params.append(flag_id)
    if officer:
        where.append("officer = ?")
        params.append(officer)
    sql = ("SELECT review_id, flag_id, officer, reviewer, decision, rationale, factor_feedback, "
           "intervention, follow_up_on, decided_at, flag_version FROM reviews")
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [{"review_id": r[0], "flag_id": r[1], "officer": r[2], "reviewer": r[3], "decision": r[4],
             "decision_label": DECISIONS.get(r[4], r[4]), "rationale": r[5],
             "factor_feedback": json.loads(r[6]), "intervention": r[7],
             "follow_up_on": r[8].isoformat() if r[8] else None,
             "decided_at": r[9].isoformat(timespec="seconds"), "flag_version": r[10]}
            for r in store.query(sql + " ORDER BY decided_at, review_id", params)]


def assignments(store: Store) -> dict[str, str]:
    return dict(store.query("SELECT flag_id, assigned_to FROM flag_assignments"))


def _insert_review(store: Store, flag_id: str, officer: str, reviewer: str, review: ReviewInput,
                   version: int) -> tuple[str, datetime]:
    decided_at = _now()
    review_id = "r-" + hashlib.sha256(f"{flag_id}|{version}".encode()).hexdigest()[:16]
    feedback = [{"feature": f.feature, "agree": f.agree, "note": f.note} for f in review.factor_feedback]
    store.execute(
        "INSERT INTO reviews (review_id, flag_id, officer, reviewer, decision, rationale, factor_feedback, "
        "intervention, follow_up_on, decided_at, flag_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [review_id, flag_id, officer, reviewer, review.decision, review.rationale.strip(),
         json.dumps(feedback), (review.intervention or "").strip() or None, review.follow_up_on,
         decided_at, version],
    )
    return review_id, decided_at


def amend_decision(store: Store, flag_id: str, reviewer: str, review: ReviewInput, reason: str,
                   expected_version: int) -> dict:
    """A decided flag's decision, amended: a new review, linked to the one it replaces, which
    stays as it was. Optimistic locking as for a decision. In the caller's transaction."""
    if len((reason or "").strip()) < MIN_RATIONALE:
        raise ReviewError(f"say why the decision is amended (at least {MIN_RATIONALE} characters)")
    rows = store.query("SELECT officer, explanation FROM flags WHERE flag_id = ?", [flag_id])
    if not rows:
        raise Conflict(flag_id, expected_version, None, None)
    current = reviews(store, flag_id=flag_id)
    if not current:
        raise ReviewError("the flag has no decision to amend: record the decision first")
    officer, explanation = rows[0][0], json.loads(rows[0][1])
    check_review(review, [f["feature"] for f in explanation.get("factors", [])])
    version = _bump(store, flag_id, expected_version, "decided", ("decided",))
    review_id, decided_at = _insert_review(store, flag_id, officer, reviewer, review, version)
    store.execute("INSERT INTO review_amendments (review_id, amends_review_id, flag_id, amended_by, amended_at, "
                  "reason) VALUES (?, ?, ?, ?, ?, ?)",
                  [review_id, current[-1]["review_id"], flag_id, reviewer, decided_at, reason.strip()])
    return {"review_id": review_id, "amends": current[-1]["review_id"], "flag_id": flag_id, "version": version,
            "decided_at": decided_at.isoformat(timespec="seconds")}


def amendments(store: Store, flag_id: str) -> dict[str, dict]:
    """review_id -> the amendment that made it (what it replaced, who, when, why)."""
    return {r[0]: {"amends": r[1], "amended_by": r[2], "amended_at": r[3].isoformat(timespec="seconds"),
                   "reason": r[4]}
            for r in store.query("SELECT review_id, amends_review_id, amended_by, amended_at, reason "
                                 "FROM review_amendments WHERE flag_id = ?", [flag_id])}


def record_outcome(store: Store, flag_id: str, recorded_by: str, outcome: str, note: str) -> dict:
    """The outcome of the intervention of the flag's current decision. In the caller's transaction."""
    if outcome not in OUTCOMES:
        raise ReviewError(f"outcome {outcome!r}: one of {', '.join(OUTCOMES)}")
    if len((note or "").strip()) < MIN_RATIONALE:
        raise ReviewError(f"describe the outcome (at least {MIN_RATIONALE} characters)")
    current = reviews(store, flag_id=flag_id)
    if not current or current[-1]["decision"] == "no_action":
        raise ReviewError("no intervention was decided on this flag, so there is no outcome to record")
    review = current[-1]
    recorded_at = _now()
    outcome_id = "o-" + hashlib.sha256(f"{review['review_id']}|{recorded_at.isoformat()}".encode()).hexdigest()[:16]
    store.execute("INSERT INTO intervention_outcomes (outcome_id, review_id, flag_id, officer, outcome, note, "
                  "recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  [outcome_id, review["review_id"], flag_id, review["officer"], outcome, note.strip(),
                   recorded_by, recorded_at])
    return {"outcome_id": outcome_id, "review_id": review["review_id"], "flag_id": flag_id,
            "recorded_at": recorded_at.isoformat(timespec="seconds")}


def outcomes(store: Store, flag_id: str | None = None) -> list[dict]:
    where, params = ("WHERE flag_id = ?", [flag_id]) if flag_id else ("", [])
    return [{"outcome_id": r[0], "review_id": r[1], "flag_id": r[2], "outcome": r[3],
             "outcome_label": OUTCOMES.get(r[3], r[3]), "note": r[4], "recorded_by": r[5],
             "recorded_at": r[6].isoformat(timespec="seconds")}
            for r in store.query("SELECT outcome_id, review_id, flag_id, outcome, note, recorded_by, recorded_at "
                                 f"FROM intervention_outcomes {where} ORDER BY recorded_at", params)]


def open_follow_ups(store: Store) -> list[dict]:
    """The current decision of every decided flag that set a follow-up date and has no
    intervention outcome recorded since: soonest due first."""
    rows = store.query(
        "SELECT r.review_id, r.flag_id, r.officer, r.reviewer, r.decision, r.intervention, r.follow_up_on, "
        "r.decided_at, f.as_of, f.queue, f.source FROM reviews r JOIN flags f ON f.flag_id = r.flag_id "
        "WHERE r.follow_up_on IS NOT NULL AND NOT EXISTS (SELECT 1 FROM review_amendments a "
        "WHERE a.amends_review_id = r.review_id) AND NOT EXISTS (SELECT 1 FROM intervention_outcomes o "
        "WHERE o.review_id = r.review_id) ORDER BY r.follow_up_on, r.flag_id")
    return [{"review_id": r[0], "flag_id": r[1], "officer": r[2], "reviewer": r[3], "decision": r[4],
             "decision_label": DECISIONS.get(r[4], r[4]), "intervention": r[5],
             "follow_up_on": r[6].isoformat(), "decided_at": r[7].isoformat(timespec="seconds"),
             "as_of": r[8].isoformat(), "queue": r[9] or "conduct", "source": r[10]} for r in rows]
