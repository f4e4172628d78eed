"""Server-rendered HTML: the Jinja2 templates, the navigation each role sees, error pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from openeis.governance.roles import Role
from openeis.health import detector_label
from openeis.web.deps import Caller

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def plain_number(value, digits: int = 3) -> str:
    """Numbers as people write them: 1,030 not 1.03e+03, 0.042 not 4.2e-02, '–' for none."""
    if value is None or isinstance(value, str):
        return "–" if value is None else value
    number = float(value)
    if number != number:
        return "–"
    if number.is_integer():
        return f"{int(number):,}"
    if abs(number) >= 100:
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return f"{number:,.{max(0, digits - 2)}f}".rstrip("0").rstrip(".")
    return f"{number:.{digits}f}".rstrip("0").rstrip(".") or "0"


def percent(value, digits: int = 0) -> str:
    return "–" if value is None else f"{float(value):.{digits}f}%"


def ordinal(value) -> str:
    """The officer's place among peers: '92nd percentile'."""
    if value is None:
        return "–"
    n = int(round(float(value)))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} percentile"


templates.env.filters["plain"] = plain_number
templates.env.filters["percent"] = percent
templates.env.filters["ordinal"] = ordinal
templates.env.filters["detector"] = detector_label

# Which pages each role sees in the navigation (the policy still decides each request).
NAV = [
    ("/queue", "Flag queue", {Role.ADMINISTRATOR, Role.REVIEWER, Role.ANALYST, Role.OFFICER}),
    ("/welfare", "Welfare queue", {Role.ADMINISTRATOR, Role.WELFARE}),
    ("/follow-ups", "Follow-ups", {Role.ADMINISTRATOR, Role.REVIEWER, Role.WELFARE}),
    ("/models", "Models", {Role.ADMINISTRATOR, Role.ANALYST, Role.AUDITOR}),
    ("/audit", "Bias audit", {Role.ADMINISTRATOR, Role.ANALYST, Role.AUDITOR}),
    ("/access-log", "Access log", {Role.ADMINISTRATOR, Role.AUDITOR}),
    ("/transparency", "Transparency", {Role.ADMINISTRATOR, Role.ANALYST, Role.AUDITOR}),
]
HOME = {Role.AUDITOR: "/audit", Role.ANALYST: "/models", Role.WELFARE: "/welfare"}


def render(request: Request, name: str, caller: Caller | None, http_status: int = 200, **context) -> HTMLResponse:
    nav = [(href, label) for href, label, roles in NAV if caller and caller.user.role in roles]
    return templates.TemplateResponse(request, name, {
        "caller": caller, "nav": nav, "csrf": caller.session.csrf_token if caller and caller.session else "",
        "path": request.url.path, **context}, status_code=http_status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return templates.TemplateResponse(request, "error.html", {
        "caller": None, "nav": [], "csrf": "", "path": request.url.path, "status": status,
        "message": message}, status_code=status)
