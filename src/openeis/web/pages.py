"""Server-rendered pages (Jinja2). Every asset is served from /static: nothing is fetched from
outside, since forces run air-gapped. Forms post with the session's CSRF token."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from openeis.application import governance as governance_actions
from openeis.application import models as model_actions
from openeis.application import review as review_actions
from openeis.application import sign_in as sign_in_actions
from openeis.application.errors import GateRefused, Invalid
from openeis.application.session import Session
from openeis.governance import sign_in
from openeis.governance.roles import Role
from openeis.review.workflow import DECISIONS, Conflict, FactorFeedback, ReviewError, ReviewInput
from openeis.web import charts
from openeis.web.api import access_log_check, access_log_page
from openeis.web.deps import Caller, PageCaller, PageSession, StoreDep, check_csrf
from openeis.web.rendering import HOME, error_page, render

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "openeis_login"  # double-submit token protecting the sign-in form itself


def _date(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{name} {text[:40]!r} is not a date (YYYY-MM-DD)") from None


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


# -- the review queue and a flag ----------------------------------------------------------

@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, caller: PageCaller, session: PageSession, as_of: str | None = None,
          status: str = "open", source: str | None = None, assigned: str | None = None,
          sort: str = "rank", descending: bool = False, done: str | None = None,
          page: Annotated[int, Query(ge=1, le=10_000_000)] = 1):
    statuses = {"open": review_actions.QUEUE_STATUSES, "new": ("new",), "in_review": ("in_review",),
                "decided": ("decided",), "all": ()}.get(status, review_actions.QUEUE_STATUSES)
    chosen = _date(as_of, "as_of")
    page = max(1, page)
    result = review_actions.list_flags(session, chosen, statuses,
                                source or None, assigned or None, sort, descending,
                                review_actions.PAGE_SIZE, (page - 1) * review_actions.PAGE_SIZE)
    pages = max(1, -(-result["total"] // review_actions.PAGE_SIZE))
    filters = {"as_of": result["as_of"] or "", "status": status, "source": source or "",
               "assigned": assigned or "", "sort": sort, "descending": "true" if descending else ""}
    return render(request, "queue.html", caller, queue=result, status=status, source=source or "",
                  assigned=assigned or "", sort=sort, descending=descending, done=done,
                  sorts=list(review_actions.SORTS), page=page, pages=pages, filters=filters)


@router.get("/flags/{flag_id}", response_class=HTMLResponse)
def flag_page(request: Request, flag_id: str, caller: PageCaller, session: PageSession, problem: str | None = None):
    return _flag_view(request, caller, session, flag_id, problem)


def _flag_view(request: Request, caller: Caller, session: Session, flag_id: str, problem: str | None,
               submitted: dict | None = None, http_status: int = 200) -> HTMLResponse:
    """The flag page; after a refused review, again with the reason and what was typed."""
    flag = review_actions.get_flag(session, flag_id)
    factors = flag["explanation"].get("factors", [])
    may_review = caller.user.role in (Role.REVIEWER, Role.ADMINISTRATOR)
    return render(request, "flag.html", caller, http_status=http_status, flag=flag, factors=factors,
                  decisions=DECISIONS, peer_chart=charts.peer_comparison(factors) if factors else None,
                  may_review=may_review, problem=problem, submitted=submitted,
                  assignees=review_actions.assignable_users(session, flag["unit"]) if may_review else [])


@router.post("/flags/{flag_id}/assign")
def assign_page(request: Request, flag_id: str, caller: PageCaller, session: PageSession,
                assigned_to: Annotated[str, Form()], version: Annotated[int, Form()],
                csrf_token: Annotated[str, Form()] = ""):
    check_csrf(caller, csrf_token)
    try:
        review_actions.assign_flag(session, flag_id, assigned_to, version)
    except (Conflict, Invalid) as error:
        return RedirectResponse(f"/flags/{quote(flag_id)}?problem={quote(str(error))}", status_code=303)
    return RedirectResponse(f"/flags/{quote(flag_id)}", status_code=303)


@router.post("/flags/{flag_id}/review")
async def review_page(request: Request, flag_id: str, caller: PageCaller, session: PageSession):
    """The review form: the decision, a required rationale, agree/disagree per factor, the
    intervention and a follow-up date. (Async only to read the form, whose factor fields are
    named after the flag's factors; the work runs in the thread pool like every other page.)"""
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
        return RedirectResponse(f"/flags/{quote(flag_id)}?problem={quote('the follow-up date is not a date')}",
                                status_code=303)
    try:
        review_actions.review_flag(session, flag_id, decision, version)
    except (Conflict, ReviewError) as error:
        return _flag_view(request, caller, session, flag_id, str(error), submitted=form,
                          http_status=409 if isinstance(error, Conflict) else 422)
    return RedirectResponse(f"/queue?done={quote(flag_id)}", status_code=303)


# -- the officer profile ------------------------------------------------------------------

@router.get("/officers/{officer}", response_class=HTMLResponse)
def officer_page(request: Request, officer: str, caller: PageCaller, session: PageSession):
    profile = review_actions.officer_profile(session, officer)
    latest = next((f for f in profile["flags"] if f["explanation"].get("factors")), None)
    factors = latest["explanation"]["factors"] if latest else []
    return render(request, "officer.html", caller, profile=profile, latest=latest, factors=factors,
                  history_chart=charts.score_history(profile["score_history"]) if profile["score_history"] else None,
                  peer_chart=charts.peer_comparison(factors) if factors else None)


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
def model_page(request: Request, model_id: str, caller: PageCaller, session: PageSession, problem: str | None = None,
               done: str | None = None):
    model = model_actions.show_model(session, model_id, with_audits=True)
    return render(request, "model.html", caller, model=model, problem=problem, done=done,
                  may_promote=caller.user.role in (Role.ADMINISTRATOR, Role.ANALYST),
                  may_override=caller.user.role is Role.ADMINISTRATOR)


@router.post("/models/{model_id}/promote")
def promote_page(request: Request, model_id: str, caller: PageCaller, session: PageSession,
                 csrf_token: Annotated[str, Form()] = "", to: Annotated[str, Form()] = "",
                 override_gate: Annotated[bool, Form()] = False, rationale: Annotated[str, Form()] = ""):
    check_csrf(caller, csrf_token)
    try:
        entry, gate = model_actions.promote(session, model_id, to or None, override_gate, rationale or None)
    except (GateRefused, Invalid) as error:
        return RedirectResponse(f"/models/{quote(model_id)}?problem={quote(str(error))}", status_code=303)
    note = f"now {entry.status}" + (f" ({gate})" if gate else "")
    return RedirectResponse(f"/models/{quote(model_id)}?done={quote(note)}", status_code=303)


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
def audit_page(request: Request, caller: PageCaller, session: PageSession, audit_id: str | None = None):
    found = model_actions.audits(session)
    chosen = next((a for a in found if a["audit_id"] == audit_id), found[0] if found else None)
    return render(request, "audit.html", caller, audits=found, audit=chosen,
                  view=_audit_view(chosen) if chosen else None)


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
