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
