"""Server-rendered HTML: the Jinja2 templates, the navigation each role sees, error pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from openeis.governance.roles import Role
from openeis.web.deps import Caller

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# Which pages each role sees in the navigation (the policy still decides each request).
NAV = [
    ("/queue", "Flag queue", {Role.ADMINISTRATOR, Role.REVIEWER, Role.ANALYST, Role.OFFICER}),
    ("/models", "Models", {Role.ADMINISTRATOR, Role.ANALYST, Role.AUDITOR}),
    ("/audit", "Bias audit", {Role.ADMINISTRATOR, Role.ANALYST, Role.AUDITOR}),
    ("/access-log", "Access log", {Role.ADMINISTRATOR, Role.AUDITOR}),
    ("/transparency", "Transparency", {Role.ADMINISTRATOR, Role.ANALYST, Role.AUDITOR}),
]
HOME = {Role.AUDITOR: "/audit", Role.ANALYST: "/models"}


def render(request: Request, name: str, caller: Caller | None, http_status: int = 200, **context) -> HTMLResponse:
    nav = [(href, label) for href, label, roles in NAV if caller and caller.user.role in roles]
    return templates.TemplateResponse(request, name, {
        "caller": caller, "nav": nav, "csrf": caller.session.csrf_token if caller and caller.session else "",
        "path": request.url.path, **context}, status_code=http_status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return templates.TemplateResponse(request, "error.html", {
        "caller": None, "nav": [], "csrf": "", "path": request.url.path, "status": status,
        "message": message}, status_code=status)
