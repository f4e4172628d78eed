"""Server-rendered pages (Jinja2). Every asset is served from /static: nothing is fetched from
outside, since forces run air-gapped. Forms post with the session's CSRF token."""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from openeis.application import governance as governance_actions
from openeis.application import identity as identity_actions
from openeis.application import models as model_actions
from openeis.application import review as review_actions
from openeis.application import sign_in as sign_in_actions
from openeis.application.errors import GateRefused, Invalid, NotFound, Refused
from openeis.application.session import Session
from openeis.governance import sign_in
from openeis.governance.roles import Action, Resource, Role
from openeis.review.workflow import DECISIONS, OUTCOMES, Conflict, FactorFeedback, ReviewError, ReviewInput
from openeis.web import charts
from openeis.web.api import access_log_check, access_log_page
from openeis.web.deps import Caller, PageCaller, PageSession, StoreDep, check_csrf
from openeis.web.rendering import HOME, error_page, render

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "openeis_login"  # double-submit token protecting the sign-in form itself


PageNumber = Annotated[int, Query(ge=1, le=10_000_000)]  # beyond it: a 422, not an overflow


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an open redirect to another host.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# -- sign in and out --------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", failed: bool = False):
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=_safe_next(next), login_token=token, failed=failed)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.secure_cookies, max_age=3600)
    return response


@router.post("/login")
def login(request: Request, store: StoreDep, name: Annotated[str, Form(max_length=1000)],
          password: Annotated[str, Form(max_length=1000)],
          login_token: Annotated[str, Form(max_length=200)] = "", next: Annotated[str, Form(max_length=2000)] = "/"):
    cookie = request.cookies.get(LOGIN_COOKIE) or ""
    if not login_token or not secrets.compare_digest(cookie, login_token):
        return error_page(request, 403, "the sign-in form expired or was not sent from this site: try again")
    state = request.app.state
    outcome = sign_in_actions.sign_in(store, state.key, state.anchor, state.config.sign_in, name, password,
                                      client_address(request))
    if outcome.locked_until is not None:
        minutes = -(-outcome.retry_after // 60)
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, http_status=429, next=_safe_next(next), login_token=token,
                          locked=f"Too many failed sign-ins: try again in {minutes} minute{'s' if minutes != 1 else ''}.")
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                            secure=state.secure_cookies, max_age=3600)
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if outcome.user is None or outcome.secret is None:
        return RedirectResponse(f"/login?failed=1&next={quote(_safe_next(next), safe='')}", status_code=303)
    target = _safe_next(next)
    if target == "/":
        target = HOME.get(outcome.user.role, "/queue")
    signed_in = RedirectResponse(target, status_code=303)
    signed_in.set_cookie(sign_in.SESSION_COOKIE, outcome.secret, httponly=True, samesite="lax",
                        secure=state.secure_cookies, max_age=sign_in.SESSION_HOURS * 3600)
    signed_in.delete_cookie(LOGIN_COOKIE)
    return signed_in


def client_address(request: Request) -> str:
    """The client's address: the connection's, or behind a proxy the first address of the
    header `[sign_in] address_header` names (only set it where the proxy overwrites it)."""
    header = request.app.state.config.sign_in.address_header
    if header:
        forwarded = request.headers.get(header, "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.client.host if request.client else "unknown"


@router.post("/logout")
def logout(request: Request, store: StoreDep, caller: PageCaller, csrf_token: Annotated[str, Form()] = ""):
    check_csrf(caller, csrf_token)
    state = request.app.state
    sign_in_actions.sign_out(store, state.key, state.anchor, request.cookies.get(sign_in.SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sign_in.SESSION_COOKIE)
    return response


@router.get("/")
def home(caller: PageCaller):
    return RedirectResponse(HOME.get(caller.user.role, "/queue"), status_code=303)


# -- the review queues and a flag ------------------------------------------------------------

STATUS_FILTERS = {"open": review_actions.QUEUE_STATUSES, "new": ("new",), "in_review": ("in_review",),
                  "decided": ("decided",), "all": ()}


def _day(text: str | None, what: str = "as_of") -> date | None:
    return model_actions.parse_date(text or None, what)


def _queue_args(as_of: str | None, status: str, source: str | None, assigned: str | None, sort: str,
                descending: bool, search: str | None, view: str, queue_name: str) -> dict:
    """The queue's filters from the query string, each checked (a bad one is a 422 page)."""
    if status not in STATUS_FILTERS:
        raise Invalid(f"status must be one of {', '.join(STATUS_FILTERS)}")
    if source not in (None, "", "model", "rule", "detector"):
        raise Invalid("source must be model, rule or detector")
    if assigned not in (None, "", "me", "unassigned"):
        raise Invalid("assigned must be me or unassigned")
    all_periods = as_of == "all"
    return {"as_of": None if all_periods else _day(as_of), "statuses": STATUS_FILTERS[status],
            "source": source or None, "assigned": assigned or None, "sort": sort, "descending": descending,
            "search": (search or "").strip()[:200] or None, "view": view, "queue": queue_name,
            "all_periods": all_periods}


def _queue_page(request: Request, caller: Caller, session: Session, queue_name: str, as_of: str | None,
                status: str, source: str | None, assigned: str | None, sort: str, descending: bool,
                done: str | None, page: int, search: str | None, view: str):
    args = _queue_args(as_of, status, source, assigned, sort, descending, search, view, queue_name)
    page = max(1, page)
    result = review_actions.list_flags(session, limit=review_actions.PAGE_SIZE,
                                       offset=(page - 1) * review_actions.PAGE_SIZE, **args)
    pages = max(1, -(-result["total"] // review_actions.PAGE_SIZE))
    filters = {"as_of": "all" if args["all_periods"] else result["as_of"] or "", "status": status,
               "source": source or "", "assigned": assigned or "", "sort": sort,
               "descending": "true" if descending else "", "search": args["search"] or "", "view": view}
    filters = {k: v for k, v in filters.items() if v}  # an empty value is no filter (and no bad boolean)
    # A decision just recorded: named only if it is a flag the caller may see, now decided
    # (the text comes from the store, never from the address).
    decided = None
    if done and re.fullmatch(r"f-[0-9a-f]{16}", done):
        try:
            flag = review_actions.get_flag(session, done)
            decided = flag["flag_id"] if flag["status"] == "decided" else None
        except Refused:
            decided = None
    return render(request, "queue.html", caller, queue=result, status=status, source=source or "",
                  assigned=assigned or "", sort=sort, descending=descending, done=decided,
                  sorts=list(review_actions.SORTS), page=page, pages=pages, filters=filters,
                  search=args["search"] or "", view=view, all_periods=args["all_periods"],
                  base="/welfare" if queue_name == "welfare" else "/queue",
                  may_browse_overflow=session.may(Action.CHANGE, Resource.FLAGS))


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, caller: PageCaller, session: PageSession, as_of: str | None = None,
          status: str = "open", source: str | None = None, assigned: str | None = None,
          sort: str = "priority", descending: bool = False, done: str | None = None, page: PageNumber = 1,
          search: str | None = None, view: Literal["queued", "not_queued"] = "queued"):
    return _queue_page(request, caller, session, "conduct", as_of, status, source, assigned, sort, descending,
                       done, page, search, view)


@router.get("/welfare", response_class=HTMLResponse)
def welfare_queue(request: Request, caller: PageCaller, session: PageSession, as_of: str | None = None,
                  status: str = "open", source: str | None = None, assigned: str | None = None,
                  sort: str = "priority", descending: bool = False, done: str | None = None, page: PageNumber = 1,
                  search: str | None = None, view: Literal["queued", "not_queued"] = "queued"):
    return _queue_page(request, caller, session, "welfare", as_of, status, source, assigned, sort, descending,
                       done, page, search, view)


@router.get("/queue.csv")
def queue_csv(request: Request, caller: PageCaller, session: PageSession, as_of: str | None = None,
              status: str = "open", source: str | None = None, assigned: str | None = None,
              sort: str = "priority", descending: bool = False, search: str | None = None,
              queue: Literal["conduct", "welfare"] = "conduct"):
    """The caller's queue as CSV: every page, cells safe from spreadsheet formulas."""
    args = _queue_args(as_of, status, source, assigned, sort, descending, search, "queued", queue)
    text = review_actions.queue_csv(session, **args)
    name = f"openeis-{queue}-queue-{args['as_of'] or 'all'}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


EVIDENCE_PAGE = 10


@router.get("/flags/{flag_id}", response_class=HTMLResponse)
def flag_page(request: Request, flag_id: str, caller: PageCaller, session: PageSession,
              evidence_kind: str | None = None, evidence_page: PageNumber = 1):
    return _flag_view(request, caller, session, flag_id, None, evidence_kind=evidence_kind,
                      evidence_page=evidence_page)


def _flag_view(request: Request, caller: Caller, session: Session, flag_id: str, problem: str | None,
               submitted: dict | None = None, http_status: int = 200, done: str | None = None,
               evidence_kind: str | None = None, evidence_page: int = 1) -> HTMLResponse:
    """The flag page; after a refused change, again with the reason and what was typed (never
    a message read from the address)."""
    flag = review_actions.get_flag(session, flag_id)
    factors = flag["explanation"].get("factors", [])
    may_review = session.may(Action.CHANGE, Resource.WELFARE if flag["queue"] == "welfare" else Resource.REVIEWS,
                             flag["officer"], flag["unit"])
    evidence = flag["evidence_records"]
    kinds = sorted({e["kind"] for e in evidence})
    if evidence_kind and evidence_kind not in kinds:
        raise Invalid(f"evidence_kind must be one of {', '.join(kinds) or '(none)'}")
    shown = [e for e in evidence if not evidence_kind or e["kind"] == evidence_kind]
    evidence_pages = max(1, -(-len(shown) // EVIDENCE_PAGE))
    evidence_page = min(max(1, evidence_page), evidence_pages)
    return render(request, "flag.html", caller, http_status=http_status, flag=flag, factors=factors,
                  decisions=DECISIONS, outcomes=OUTCOMES,
                  peer_chart=charts.peer_comparison(factors) if any(f.get("peer_percentile") is not None
                                                                    for f in factors) else None,
                  may_review=may_review, problem=problem, submitted=submitted, done=done,
                  evidence=shown[(evidence_page - 1) * EVIDENCE_PAGE:evidence_page * EVIDENCE_PAGE],
                  evidence_kinds=kinds, evidence_kind=evidence_kind or "", evidence_page=evidence_page,
                  evidence_pages=evidence_pages, evidence_count=len(shown),
                  assignees=review_actions.assignable_users(session, flag["unit"], flag["queue"]) if may_review else [])


@router.post("/flags/{flag_id}/assign")
def assign_page(request: Request, flag_id: str, caller: PageCaller, session: PageSession,
                assigned_to: Annotated[str, Form()], version: Annotated[int, Form()],
                csrf_token: Annotated[str, Form()] = ""):
    check_csrf(caller, csrf_token)
    try:
        review_actions.assign_flag(session, flag_id, assigned_to, version)
    except (Conflict, Invalid) as error:
        return _flag_view(request, caller, session, flag_id, str(error),
                          http_status=409 if isinstance(error, Conflict) else 422)
    return RedirectResponse(f"/flags/{quote(flag_id)}", status_code=303)


@router.post("/flags/{flag_id}/review")
async def review_page(request: Request, flag_id: str, caller: PageCaller, session: PageSession):
    """The review form: the decision, a required rationale, agree/disagree per factor, the
    intervention and a follow-up date; with `amend_reason`, an amendment of the decision.
    (Async only to read the form, whose factor fields are named after the flag's factors;
    the work runs in the thread pool like every other page.)"""
    form = dict((await request.form()).items())
    return await run_in_threadpool(_review, request, flag_id, caller, session, form)


def _review(request: Request, flag_id: str, caller: Caller, session: Session, form: dict):
    check_csrf(caller, str(form.get("csrf_token", "")))
    feedback = [FactorFeedback(name.removeprefix("factor:"), value == "agree",
                               str(form.get(f"note:{name.removeprefix('factor:')}", "")).strip())
                for name, value in form.items() if name.startswith("factor:")]
    follow_up = str(form.get("follow_up_on", "")).strip()
    try:
        decision = ReviewInput(str(form.get("decision", "")), str(form.get("rationale", "")), feedback,
                               str(form.get("intervention", "")) or None,
                               date.fromisoformat(follow_up) if follow_up else None)
        version = int(str(form.get("version", "0")))
        if not 0 <= version <= 2**31 - 1:
            raise ValueError(version)
    except ValueError:
        return _flag_view(request, caller, session, flag_id, "the follow-up date is not a date (YYYY-MM-DD)",
                          submitted=form, http_status=422)
    amend = "amend_reason" in form
    try:
        if amend:
            review_actions.amend_review(session, flag_id, decision, str(form.get("amend_reason", "")), version)
        else:
            review_actions.review_flag(session, flag_id, decision, version)
    except (Conflict, ReviewError) as error:
        return _flag_view(request, caller, session, flag_id, str(error), submitted=form,
                          http_status=409 if isinstance(error, Conflict) else 422)
    if amend:
        return RedirectResponse(f"/flags/{quote(flag_id)}#decision", status_code=303)
    target = "/welfare" if review_actions.get_flag(session, flag_id)["queue"] == "welfare" else "/queue"
    return RedirectResponse(f"{target}?done={quote(flag_id)}", status_code=303)


@router.post("/flags/{flag_id}/outcome")
def outcome_page(request: Request, flag_id: str, caller: PageCaller, session: PageSession,
                 outcome: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
                 csrf_token: Annotated[str, Form()] = ""):
    check_csrf(caller, csrf_token)
    try:
        review_actions.record_intervention_outcome(session, flag_id, outcome, note)
    except ReviewError as error:
        return _flag_view(request, caller, session, flag_id, str(error), submitted={"note": note}, http_status=422)
    return RedirectResponse(f"/flags/{quote(flag_id)}#outcome", status_code=303)


@router.get("/follow-ups", response_class=HTMLResponse)
def follow_ups_page(request: Request, caller: PageCaller, session: PageSession, reviewer: str | None = None):
    found = review_actions.follow_ups(session, reviewer or None)
    return render(request, "follow_ups.html", caller, found=found, reviewer=reviewer or "")


# -- the officer: profile, records, reveal ---------------------------------------------------

def _officer_view(request: Request, caller: Caller, session: Session, officer: str,
                  revealed=None, problem: str | None = None, http_status: int = 200) -> HTMLResponse:
    profile = review_actions.officer_profile(session, officer)
    latest = next((f for f in profile["flags"] if f["explanation"].get("factors")), None)
    factors = latest["explanation"]["factors"] if latest else []
    return render(request, "officer.html", caller, http_status=http_status, profile=profile, latest=latest,
                  factors=factors, revealed=revealed, problem=problem,
                  history_chart=charts.score_history(profile["score_history"]) if profile["score_history"] else None,
                  monthly_chart=charts.records_by_month(profile["monthly"]) if profile["monthly"] else None,
                  peer_chart=charts.peer_comparison(factors) if any(f.get("peer_percentile") is not None
                                                                    for f in factors) else None)


@router.get("/officers/{officer}", response_class=HTMLResponse)
def officer_page(request: Request, officer: str, caller: PageCaller, session: PageSession):
    return _officer_view(request, caller, session, officer)


@router.post("/officers/{officer}/reveal", response_class=HTMLResponse)
def reveal_page(request: Request, officer: str, caller: PageCaller, session: PageSession,
                reason: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = ""):
    """Who the officer is, shown once on this response (never put in an address), for an
    entitled role with a reason; the reveal is in the access log."""
    check_csrf(caller, csrf_token)
    try:
        revealed = identity_actions.reveal(session, officer, reason)
    except Invalid as error:
        return _officer_view(request, caller, session, officer, problem=str(error), http_status=422)
    return _officer_view(request, caller, session, officer, revealed=revealed)


@router.get("/officers/{officer}/records", response_class=HTMLResponse)
def officer_records_page(request: Request, officer: str, caller: PageCaller, session: PageSession,
                         kind: Annotated[list[str] | None, Query()] = None, since: str | None = None,
                         until: str | None = None, page: PageNumber = 1):
    found = review_actions.officer_records_page(session, officer, kind or None, _day(since, "since"),
                                                _day(until, "until"), page)
    filters = [("since", found["since"] or ""), ("until", found["until"] or "")] + [("kind", k) for k in found["kinds"]]
    return render(request, "records.html", caller, found=found, filters=filters)


# -- models, audits, access log, transparency -----------------------------------------------

def _backtest_rows(result: dict) -> list[dict]:
    rows = []
    for entry in result.get("dates", []):
        models = entry.get("models", {})
        selected = models.get(entry.get("selected"), {})
        if "precision_at_capacity" in selected:
            rows.append({"as_of": entry["as_of"], "method": "selected model",
                         "precision": selected["precision_at_capacity"]})
        prior = models.get("prior_complaints_5y", {})
        if "precision_at_capacity" in prior:
            rows.append({"as_of": entry["as_of"], "method": "prior complaints (5 years)",
                         "precision": prior["precision_at_capacity"]})
        if entry.get("rule", {}).get("precision") is not None:
            rows.append({"as_of": entry["as_of"], "method": "department rule",
                         "precision": entry["rule"]["precision"]})
    return rows


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, caller: PageCaller, session: PageSession):
    found = [m.as_dict() for m in model_actions.list_models(session)]
    tests = model_actions.backtests(session)
    for test in tests:
        rows = _backtest_rows(test["result"])
        test["rows"] = rows
        test["chart"] = charts.backtest_precision(rows) if rows else None
    return render(request, "models.html", caller, models=found, backtests=tests)


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, model_id: str, caller: PageCaller, session: PageSession, promoted: bool = False):
    return _model_view(request, caller, session, model_id, None, promoted=promoted)


def _model_view(request: Request, caller: Caller, session: Session, model_id: str, problem: str | None,
                http_status: int = 200, promoted: bool = False) -> HTMLResponse:
    model = model_actions.show_model(session, model_id, with_audits=True)
    done = None
    if promoted:  # the message is made from the registry, never read from the address
        last = (model.get("events") or [{}])[-1]
        done = f"now {model['status']}" + (f" ({last['rationale']})" if last.get("rationale") else "")
    return render(request, "model.html", caller, http_status=http_status, model=model, problem=problem, done=done,
                  may_promote=caller.user.role in (Role.ADMINISTRATOR, Role.ANALYST),
                  may_override=caller.user.role is Role.ADMINISTRATOR)


@router.post("/models/{model_id}/promote")
def promote_page(request: Request, model_id: str, caller: PageCaller, session: PageSession,
                 csrf_token: Annotated[str, Form()] = "", to: Annotated[str, Form()] = "",
                 override_gate: Annotated[bool, Form()] = False, rationale: Annotated[str, Form()] = ""):
    check_csrf(caller, csrf_token)
    try:
        model_actions.promote(session, model_id, to or None, override_gate, rationale or None)
    except (GateRefused, Invalid) as error:
        return _model_view(request, caller, session, model_id, str(error), http_status=error.http_status)
    return RedirectResponse(f"/models/{quote(model_id)}?promoted=true", status_code=303)


def _audit_view(audit: dict) -> dict:
    """Flag-rate and FPR rows with intervals, per characteristic and group, for charts and tables."""
    rows = []
    for attribute in audit["result"].get("attributes", []):
        for group in attribute.get("groups", []):
            metrics = group.get("metrics", {})
            rows.append({"characteristic": attribute["attribute"], "group": group["group"],
                         "officers": group.get("officers"), "flags": group.get("flags"),
                         "positives": group.get("positives"),
                         "flag_rate": metrics.get("flag_rate", {}), "fpr": metrics.get("fpr", {})})
    flag_rows = [{"characteristic": r["characteristic"], "group": r["group"], **r["flag_rate"]}
                 for r in rows if r["flag_rate"]]
    return {"rows": rows, "chart": charts.group_rates(flag_rows, "Flag rate", "Flag rate by group") if flag_rows else None}


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, caller: PageCaller, session: PageSession, audit_id: str | None = None,
               as_of: str | None = None):
    """A one-line verdict per flag source on the scored date, then the model's audit."""
    sources = model_actions.source_audits(session, _day(as_of))
    found = model_actions.audits(session)
    live = {m.model_id for m in model_actions.list_models(session) if m.status == "live"}
    default = next((a for a in found if a["model_id"] in live), found[0] if found else None)
    chosen = next((a for a in found if a["audit_id"] == audit_id), default)
    if audit_id and (chosen is None or chosen["audit_id"] != audit_id):
        raise NotFound(f"no audit {audit_id}")
    return render(request, "audit.html", caller, audits=found, audit=chosen, sources=sources,
                  view=_audit_view(chosen) if chosen else None, gate=_gate_summary(chosen) if chosen else None)


def _gate_summary(audit: dict) -> dict:
    """The gate's reasons grouped: outside the band (each named) and too thin to judge (counted,
    with the groups), instead of one bullet per comparison."""
    gate = audit["result"].get("gate", {})
    outside = gate.get("outside_band", [])
    thin = gate.get("insufficient", [])
    groups = sorted({f"{e['attribute']} {e['group']}" for e in thin})
    return {"allowed": gate.get("allowed", audit["within_band"]), "outside": outside, "thin": len(thin),
            "thin_groups": groups, "reasons": gate.get("reasons", [])}


@router.get("/access-log", response_class=HTMLResponse)
def access_log_view(request: Request, caller: PageCaller, session: PageSession,
                    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                    outcome: Literal["allowed", "denied", ""] | None = None, verify: bool = False):
    check = access_log_check(session) if verify else None
    page = access_log_page(session, 100, before, outcome or None)
    return render(request, "access_log.html", caller, page=page, check=check, outcome=outcome or "")


@router.get("/transparency", response_class=HTMLResponse)
def transparency_page(request: Request, caller: PageCaller, session: PageSession):
    record = governance_actions.transparency_record(session)
    return render(request, "transparency.html", caller, record=record)
