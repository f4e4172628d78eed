"""The REST API under /api: the pages' capabilities for tools, described by /api/openapi.json.

Authenticate with an API token (`openeis users token NAME`) as `Authorization: Bearer TOKEN`,
or with a browser session plus its CSRF token in `X-CSRF-Token` for changes. Every endpoint
calls one action of openeis.application, which enforces the governance roles and writes the
access log.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from openeis.application import governance as governance_actions
from openeis.application import identity as identity_actions
from openeis.application import ingest as ingest_actions
from openeis.application import models as model_actions
from openeis.application import review as review_actions
from openeis.review.workflow import DECISIONS, OUTCOMES, FactorFeedback, ReviewInput
from openeis.web.deps import ApiSession

router = APIRouter(prefix="/api", tags=["api"])

Status = Literal["new", "in_review", "decided"]
if TYPE_CHECKING:
    Decision = str
else:
    Decision = Literal[tuple(DECISIONS)]


class Flag(BaseModel):
    flag_id: str
    as_of: date
    officer: str = Field(description="The officer's pseudonym.")
    source: str = Field(description="model, rule or detector")
    model_id: str | None
    score: float | None
    rank: int | None
    percentile: float | None
    rules: list[dict[str, Any]]
    explanation: dict[str, Any] = Field(description="Sentences and factors: why this officer was flagged.")
    prompt_kind: str
    created_at: str
    status: Status
    version: int = Field(description="Send it back with a change (optimistic locking).")
    unit: str | None
    assigned_to: str | None
    queue: Literal["conduct", "welfare"] = Field(description="conduct (professional standards) or welfare "
                                                 "(line managers, occupational health)")
    position: int | None = Field(None, description="Place in the period's queue (the review budget's order).")
    model_status: str | None = Field(None, description="The registry status of a model flag's model.")
    due_on: str | None = None
    overdue: bool | None = None


class FlagDetail(Flag):
    reviews: list[dict[str, Any]] | None = Field(description="The decisions on the flag; null for roles that may "
                                                 "not read reviews (an analyst).")
    amendments: dict[str, Any] | None = Field(default_factory=dict, description="review_id -> what it amended, who, "
                                              "why; null for roles that may not read reviews.")
    intervention_outcomes: list[dict[str, Any]] | None = Field(default_factory=list, description="null for roles "
                                                               "that may not read reviews.")
    outcomes: dict[str, Any] | None = Field(description="After a decision: records since, against the same time before.")
    evidence_records: list[dict[str, Any]] = Field(default_factory=list, description="The records a hit cites.")
    factor_records: dict[str, Any] = Field(default_factory=dict, description="The records behind each factor.")


class FlagQueue(BaseModel):
    as_of: date | None
    dates: list[date]
    queue: Literal["conduct", "welfare"]
    capacity: int = Field(description="The period's review capacity for this queue.")
    not_queued: dict[str, int] = Field(description="Flags over capacity, by source (in your scope).")
    total: int = Field(description="Flags matching, in your scope, over all pages.")
    offset: int
    limit: int
    flags: list[Flag]


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assigned_to: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1, le=2**31 - 1)


class AssignmentResult(BaseModel):
    flag_id: str
    assigned_to: str
    status: Status
    version: int


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feature: str = Field(max_length=200)
    agree: bool
    note: str = Field(default="", max_length=2000)


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Decision
    rationale: str = Field(max_length=20000, description="Required: why (at least 10 characters).")
    factor_feedback: list[Feedback] = Field(default_factory=list, max_length=100)
    intervention: str | None = Field(default=None, max_length=5000)
    follow_up_on: date | None = None
    version: int = Field(ge=1, le=2**31 - 1, description="The flag version you reviewed.")


class ReviewResult(BaseModel):
    review_id: str
    flag_id: str
    version: int
    decided_at: str


class Promotion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Literal["approved", "live"] | None = None
    override_gate: bool = False
    rationale: str | None = Field(default=None, max_length=5000)


class PromotionResult(BaseModel):
    model_id: str
    status: str
    gate: str | None


class AccessLogPage(BaseModel):
    entries: list[dict[str, Any]]
    total: int


class AccessLogCheck(BaseModel):
    ok: bool
    entries: int
    first_broken_seq: int | None
    problem: str | None
    message: str
    head: str | None


ERRORS: dict[int | str, dict[str, Any]] = {401: {"description": "Not signed in"},
                                          403: {"description": "Not allowed (logged)"}}


@router.get("/flags", response_model=FlagQueue, responses=ERRORS)
def list_flags(session: ApiSession,
               as_of: date | None = None,
               status: Annotated[list[Status] | None, Query()] = None,
               source: Literal["model", "rule", "detector"] | None = None,
               assigned: Literal["me", "unassigned"] | None = None,
               sort: Literal[tuple(review_actions.SORTS)] = "priority",  # type: ignore[valid-type]
               descending: bool = False,
               limit: Annotated[int, Query(ge=1, le=1000)] = review_actions.PAGE_SIZE,
               offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
               queue: Literal["conduct", "welfare"] = "conduct",
               view: Literal["queued", "not_queued"] = "queued",
               search: Annotated[str | None, Query(max_length=200)] = None,
               unit: Annotated[str | None, Query(max_length=200)] = None):
    """The review queue: the flags of one as-of date (default the latest) that fit the period's
    review budget, in your scope, in the queue's order, a page at a time (`limit`, `offset`;
    `total` says how many match). By default only flags still to decide (new, in review).
    `queue=welfare`: attendance prompts (welfare role, administrators). `view=not_queued`: what
    did not fit (administrators)."""
    return review_actions.list_flags(session, as_of,
                                     tuple(status) if status else review_actions.QUEUE_STATUSES, source, assigned,
                                     sort, descending, limit, offset, queue, view, search, unit)


@router.get("/flags/{flag_id}", response_model=FlagDetail, responses={**ERRORS, 404: {"description": "No such flag"}})
def get_flag(flag_id: str, session: ApiSession):
    """One flag: score, reasons (factors with officer value and peer median), rules, reviews."""
    return review_actions.get_flag(session, flag_id)


@router.post("/flags/{flag_id}/assign", response_model=AssignmentResult,
             responses={**ERRORS, 404: {"description": "No such flag"}, 409: {"description": "Changed meanwhile"},
                        422: {"description": "Invalid"}})
def assign_flag(flag_id: str, body: Assignment, session: ApiSession):
    """Give the flag to a reviewer covering the officer's unit (or an administrator)."""
    return review_actions.assign_flag(session, flag_id, body.assigned_to, body.version)


@router.post("/flags/{flag_id}/review", response_model=ReviewResult,
             responses={**ERRORS, 404: {"description": "No such flag"},
                        409: {"description": "Someone else changed the flag: reload and decide again"},
                        422: {"description": "Invalid review (e.g. no rationale)"}})
def review_flag(flag_id: str, body: Review, session: ApiSession):
    """Record the decision on a flag, with a written rationale and your view of each factor."""
    decision = ReviewInput(body.decision, body.rationale,
                           [FactorFeedback(f.feature, f.agree, f.note) for f in body.factor_feedback],
                           body.intervention, body.follow_up_on)
    return review_actions.review_flag(session, flag_id, decision, body.version)


@router.get("/flags/{flag_id}/reviews", response_model=list[dict[str, Any]],
            responses={**ERRORS, 404: {"description": "No such flag"}})
def flag_reviews(flag_id: str, session: ApiSession):
    return review_actions.flag_reviews(session, flag_id)


class Amendment(Review):
    reason: str = Field(max_length=5000, description="Why the decision is amended (at least 10 characters).")


class OutcomeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal[tuple(OUTCOMES)]  # type: ignore[valid-type]
    note: str = Field(max_length=5000, description="What happened (at least 10 characters).")


class RevealInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=2000, description="Why you need to know who this is (logged).")


class Identity(BaseModel):
    officer: str
    staff_number: str
    name: str | None


@router.post("/flags/{flag_id}/amend", response_model=dict[str, Any],
             responses={**ERRORS, 404: {"description": "No such flag"}, 409: {"description": "Changed meanwhile"},
                        422: {"description": "Invalid"}})
def amend_review(flag_id: str, body: Amendment, session: ApiSession):
    """Amend the decision on a decided flag; the earlier decision stays in its history."""
    decision = ReviewInput(body.decision, body.rationale,
                           [FactorFeedback(f.feature, f.agree, f.note) for f in body.factor_feedback],
                           body.intervention, body.follow_up_on)
    return review_actions.amend_review(session, flag_id, decision, body.reason, body.version)


@router.post("/flags/{flag_id}/outcome", response_model=dict[str, Any],
             responses={**ERRORS, 404: {"description": "No such flag"}, 422: {"description": "Invalid"}})
def record_outcome(flag_id: str, body: OutcomeInput, session: ApiSession):
    """Record what came of the flag's intervention (closes its follow-up)."""
    return review_actions.record_intervention_outcome(session, flag_id, body.outcome, body.note)


@router.get("/follow-ups", response_model=dict[str, Any], responses=ERRORS)
def follow_ups(session: ApiSession, reviewer: Annotated[str | None, Query(max_length=200)] = None):
    """Follow-ups due and overdue (no outcome recorded yet), and each reviewer's workload."""
    return review_actions.follow_ups(session, reviewer)


@router.post("/officers/{officer}/reveal", response_model=Identity,
             responses={**ERRORS, 404: {"description": "No such officer or no vault entry"},
                        422: {"description": "No reason given"}})
def reveal(officer: str, body: RevealInput, session: ApiSession):
    """Who the officer is (staff number, and name if the force keeps it), for an entitled role
    with a reason; the reveal is written to the access log."""
    found = identity_actions.reveal(session, officer, body.reason)
    return {"officer": found.officer, "staff_number": found.staff_number, "name": found.name}


@router.get("/officers/{officer}/records", response_model=dict[str, Any],
            responses={**ERRORS, 404: {"description": "No such officer"}})
def officer_records(officer: str, session: ApiSession,
                    kind: Annotated[list[str] | None, Query()] = None,
                    since: date | None = None, until: date | None = None,
                    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1):
    """One page of the officer's records, newest first, filtered by kind and dates."""
    return review_actions.officer_records_page(session, officer, kind, since, until, page)


@router.get("/officers/{officer}", response_model=dict[str, Any],
            responses={**ERRORS, 404: {"description": "No such officer"}})
def officer_profile(officer: str, session: ApiSession):
    """An officer's records timeline, score history, flags, reviews and post-decision outcomes."""
    return review_actions.officer_profile(session, officer)


@router.get("/models", response_model=list[dict[str, Any]], responses=ERRORS)
def models(session: ApiSession):
    return [m.as_dict() for m in model_actions.list_models(session)]


@router.get("/models/{model_id}", response_model=dict[str, Any],
            responses={**ERRORS, 404: {"description": "No such model"}})
def model_detail(model_id: str, session: ApiSession):
    return model_actions.show_model(session, model_id, with_audits=True)


@router.post("/models/{model_id}/promote", response_model=PromotionResult,
             responses={**ERRORS, 404: {"description": "No such model"},
                        409: {"description": "Refused by the bias gate or the registry"}})
def promote(model_id: str, body: Promotion, session: ApiSession):
    """Promote a model; going live passes through the bias gate (an administrator may override
    with a written rationale; both are logged)."""
    entry, gate = model_actions.promote(session, model_id, body.to, body.override_gate, body.rationale)
    return {"model_id": entry.model_id, "status": entry.status, "gate": gate}


class Retirement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rationale: str = Field(min_length=1, max_length=5000)


@router.post("/models/{model_id}/retire", response_model=PromotionResult,
             responses={**ERRORS, 409: {"description": "Refused by the registry"}})
def retire(model_id: str, body: Retirement, session: ApiSession):
    """Retire a model: it no longer scores anyone (as `openeis models retire`)."""
    entry = model_actions.retire(session, model_id, body.rationale)
    return {"model_id": entry.model_id, "status": entry.status, "gate": None}


@router.get("/audits", response_model=list[dict[str, Any]], responses=ERRORS)
def audits(session: ApiSession, model_id: str | None = None):
    """Bias audits (group metrics with intervals, gate verdicts), newest first."""
    return model_actions.audits(session, model_id)


@router.get("/access-log", response_model=AccessLogPage, responses=ERRORS)
def access_log_entries(session: ApiSession,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                       before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                       outcome: Literal["allowed", "denied"] | None = None):
    """Access-log entries, newest first (page with `before` = the lowest seq you have)."""
    return access_log_page(session, limit, before, outcome)


@router.get("/access-log/verify", response_model=AccessLogCheck, responses=ERRORS)
def verify_access_log(session: ApiSession):
    """Walk the hash chain and check the signed head."""
    return access_log_check(session)


@router.get("/access-log/head", response_model=dict[str, str | None], responses=ERRORS)
def access_log_head(session: ApiSession):
    """The signed head (`seq:hash:signature`): keep copies outside the system (as `openeis log
    head`; a refusal is logged, an allowed read is not, so that it does not move the head)."""
    return {"head": governance_actions.log_head(session)}


class StoreStatus(BaseModel):
    schema_version: int
    rows: dict[str, int]
    batches: list[list[Any]]


@router.get("/status", response_model=StoreStatus, responses=ERRORS)
def status(session: ApiSession):
    """Row counts per table, the schema version and the latest ingest batches (as `openeis status`)."""
    found = ingest_actions.status(session)
    return {"schema_version": found.schema_version, "rows": found.rows, "batches": [list(b) for b in found.batches]}


@router.get("/quarantine", response_model=list[dict[str, Any]], responses=ERRORS)
def quarantine(session: ApiSession, table: str | None = None,
               limit: Annotated[int, Query(ge=1, le=10_000)] = 100):
    """Rows refused by `ingest --quarantine`, with their reasons (as `openeis quarantine list`)."""
    return [row.__dict__ for row in ingest_actions.quarantine_rows(session, table, limit)]


@router.get("/users", response_model=list[dict[str, Any]], responses=ERRORS)
def users(session: ApiSession):
    """The accounts: name, role, scope, officer, disabled (as `openeis users list`)."""
    return [{"name": u.name, "role": u.role.value, "scope": sorted(u.scope_units), "officer": u.officer,
             "disabled": u.disabled} for u in governance_actions.list_users(session)]


@router.get("/transparency", response_model=dict[str, Any], responses=ERRORS)
def transparency(session: ApiSession):
    """The transparency record (ATRS fields, model cards, suppressed public statistics)."""
    return governance_actions.transparency_record(session)


def access_log_page(session, limit: int, before: int | None, outcome: str | None) -> dict:
    """Entries newest first, as the API and the access-log page show them."""
    entries, total = governance_actions.log_entries(session, limit, before, outcome)
    shown = [{**{name: getattr(e, name) for name in ACCESS_LOG_FIELDS}, "entry_hash": e.entry_hash,
              "logged_at": e.logged_at.isoformat(timespec="seconds")} for e in reversed(entries)]
    return {"entries": shown, "total": total}


def access_log_check(session) -> dict:
    result, head = governance_actions.verify_log(session)
    return {"ok": result.ok, "entries": result.entries, "first_broken_seq": result.first_broken_seq,
            "problem": result.problem, "message": str(result), "head": head}


ACCESS_LOG_FIELDS = ("seq", "logged_at", "actor", "role", "action", "resource", "records", "purpose", "outcome",
                     "reason")
