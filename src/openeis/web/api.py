"""The REST API under /api: the pages' capabilities for tools, described by /api/openapi.json.

Authenticate with an API token (`openeis users token NAME`) as `Authorization: Bearer TOKEN`,
or with a browser session plus its CSRF token in `X-CSRF-Token` for changes. Every endpoint
enforces the governance roles and writes the access log (service.py does both).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from openeis.review.workflow import DECISIONS, FactorFeedback, ReviewInput
from openeis.store import Store
from openeis.web import service
from openeis.web.app import Caller, api_caller, get_store

router = APIRouter(prefix="/api", tags=["api"])

Status = Literal["new", "in_review", "decided"]
Decision = Literal[tuple(DECISIONS)]  # type: ignore[valid-type]


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


class FlagDetail(Flag):
    reviews: list[dict[str, Any]]
    outcomes: dict[str, Any] | None = Field(description="After a decision: records since, against the same time before.")


class FlagQueue(BaseModel):
    as_of: date | None
    dates: list[date]
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


StoreDep = Annotated[Store, Depends(get_store)]
CallerDep = Annotated[Caller, Depends(api_caller)]
ERRORS = {401: {"description": "Not signed in"}, 403: {"description": "Not allowed (logged)"}}


def _key(request: Request) -> bytes:
    return request.app.state.key


@router.get("/flags", response_model=FlagQueue, responses=ERRORS)
def list_flags(request: Request, store: StoreDep, caller: CallerDep,
               as_of: date | None = None,
               status: Annotated[list[Status] | None, Query()] = None,
               source: Literal["model", "rule", "detector"] | None = None,
               assigned: Literal["me", "unassigned"] | None = None,
               sort: Literal[tuple(service.SORTS)] = "rank",  # type: ignore[valid-type]
               descending: bool = False,
               limit: Annotated[int, Query(ge=1, le=1000)] = service.PAGE_SIZE,
               offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0):
    """The review queue: flags of one as-of date (default the latest) in your scope, a page at a
    time (`limit`, `offset`; `total` says how many match). By default only flags still to
    decide (new, in review)."""
    return service.list_flags(store, _key(request), caller.actor, as_of,
                              tuple(status) if status else service.QUEUE_STATUSES, source, assigned,
                              sort, descending, limit, offset)


@router.get("/flags/{flag_id}", response_model=FlagDetail, responses={**ERRORS, 404: {"description": "No such flag"}})
def get_flag(request: Request, flag_id: str, store: StoreDep, caller: CallerDep):
    """One flag: score, reasons (factors with officer value and peer median), rules, reviews."""
    return service.get_flag(store, _key(request), caller.actor, flag_id)


@router.post("/flags/{flag_id}/assign", response_model=AssignmentResult,
             responses={**ERRORS, 404: {"description": "No such flag"}, 409: {"description": "Changed meanwhile"},
                        422: {"description": "Invalid"}})
def assign_flag(request: Request, flag_id: str, body: Assignment, store: StoreDep, caller: CallerDep):
    """Give the flag to a reviewer covering the officer's unit (or an administrator)."""
    try:
        return service.assign_flag(store, _key(request), caller.actor, flag_id, body.assigned_to, body.version)
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


@router.post("/flags/{flag_id}/review", response_model=ReviewResult,
             responses={**ERRORS, 404: {"description": "No such flag"},
                        409: {"description": "Someone else changed the flag: reload and decide again"},
                        422: {"description": "Invalid review (e.g. no rationale)"}})
def review_flag(request: Request, flag_id: str, body: Review, store: StoreDep, caller: CallerDep):
    """Record the decision on a flag, with a written rationale and your view of each factor."""
    review = ReviewInput(body.decision, body.rationale,
                         [FactorFeedback(f.feature, f.agree, f.note) for f in body.factor_feedback],
                         body.intervention, body.follow_up_on)
    return service.review_flag(store, _key(request), caller.actor, flag_id, review, body.version)


@router.get("/flags/{flag_id}/reviews", response_model=list[dict[str, Any]],
            responses={**ERRORS, 404: {"description": "No such flag"}})
def flag_reviews(request: Request, flag_id: str, store: StoreDep, caller: CallerDep):
    return service.flag_reviews(store, _key(request), caller.actor, flag_id)


@router.get("/officers/{officer}", response_model=dict[str, Any],
            responses={**ERRORS, 404: {"description": "No such officer"}})
def officer_profile(request: Request, officer: str, store: StoreDep, caller: CallerDep):
    """An officer's records timeline, score history, flags, reviews and post-decision outcomes."""
    return service.officer_profile(store, _key(request), caller.actor, officer)


@router.get("/models", response_model=list[dict[str, Any]], responses=ERRORS)
def models(request: Request, store: StoreDep, caller: CallerDep):
    return service.models(store, _key(request), caller.actor)


@router.get("/models/{model_id}", response_model=dict[str, Any],
            responses={**ERRORS, 404: {"description": "No such model"}})
def model_detail(request: Request, model_id: str, store: StoreDep, caller: CallerDep):
    return service.model_detail(store, _key(request), caller.actor, model_id)


@router.post("/models/{model_id}/promote", response_model=PromotionResult,
             responses={**ERRORS, 404: {"description": "No such model"},
                        409: {"description": "Refused by the bias gate or the registry"}})
def promote(request: Request, model_id: str, body: Promotion, store: StoreDep, caller: CallerDep):
    """Promote a model; going live passes through the bias gate (an administrator may override
    with a written rationale; both are logged)."""
    from openeis.models.jobs import GateRefused
    from openeis.models.registry import RegistryError

    try:
        return service.promote_model(store, request.app.state.config, _key(request), caller.actor,
                                     model_id, body.to, body.override_gate, body.rationale)
    except (GateRefused, RegistryError) as error:
        raise HTTPException(409, str(error)) from None


@router.get("/audits", response_model=list[dict[str, Any]], responses=ERRORS)
def audits(request: Request, store: StoreDep, caller: CallerDep, model_id: str | None = None):
    """Bias audits (group metrics with intervals, gate verdicts), newest first."""
    return service.audits(store, _key(request), caller.actor, model_id)


@router.get("/access-log", response_model=AccessLogPage, responses=ERRORS)
def access_log_entries(request: Request, store: StoreDep, caller: CallerDep,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                       before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                       outcome: Literal["allowed", "denied"] | None = None):
    """Access-log entries, newest first (page with `before` = the lowest seq you have)."""
    return service.access_log_entries(store, _key(request), caller.actor, limit, before, outcome)


@router.get("/access-log/verify", response_model=AccessLogCheck, responses=ERRORS)
def verify_access_log(request: Request, store: StoreDep, caller: CallerDep):
    """Walk the hash chain and check the signed head."""
    return service.verify_access_log(store, _key(request), caller.actor)


@router.get("/transparency", response_model=dict[str, Any], responses=ERRORS)
def transparency(request: Request, store: StoreDep, caller: CallerDep):
    """The transparency record (ATRS fields, model cards, suppressed public statistics)."""
    return service.transparency(store, request.app.state.config, _key(request), caller.actor)
