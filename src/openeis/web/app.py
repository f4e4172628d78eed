"""The web application: one FastAPI app with server-rendered pages and a REST API under /api.

`create_app(store_url, key, config)` is all a server (or a test) needs. Who is calling is
decided per request: an API token (`Authorization: Bearer ...`) or a sign-in session cookie;
with a cookie, every state-changing request must carry the session's CSRF token.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openeis import __version__
from openeis.application.errors import AccessDenied, Refused
from openeis.application.session import check_key
from openeis.config import OpenEISConfig
from openeis.governance.log_anchor import LogAnchor
from openeis.review.workflow import Conflict, ReviewError
from openeis.web import api, pages
from openeis.web.deps import CsrfFailed, SignInRequired
from openeis.web.rendering import HERE, error_page, templates
from openeis.web.stores import StoreProvider

logger = logging.getLogger("openeis.web")

# Charts render with Vega's expression interpreter, so no script needs eval; everything is
# served from this origin (forces run air-gapped). Vega's SVG renderer writes style
# attributes, hence inline styles (not scripts) are allowed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _error(request: Request, status: int, message: str, **extra):
    if _wants_json(request):
        return JSONResponse({"detail": message, **extra}, status_code=status)
    return error_page(request, status, message)


def create_app(store_url: str, key: bytes, config: OpenEISConfig | None = None,
               secure_cookies: bool = False, vault_key_file: Path | None = None,
               anchor: LogAnchor | None = None) -> FastAPI:
    """The application on one store. `key` must be the store's own (`prepare_store` checks
    it); `vault_key_file`: the identity vault's private key, read only when someone reveals;
    `anchor` keeps the access log's newest entry outside the store (None: not anchored, as in
    tests that make their store without a key file)."""
    app = FastAPI(
        title="OpenEIS",
        version=__version__,
        description="Open early-intervention system. A flag is a prompt for human review, never a "
        "verdict. Every request is checked against the governance roles and every access to "
        "personal data is written to the tamper-evident access log.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from the vendored Swagger UI: nothing is fetched from outside
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.stores = StoreProvider(store_url)
    with app.state.stores.borrow() as store:
        from openeis.review.officer import ensure_lookup_indexes

        check_key(store, key, store_url)  # a wrong key must not sign a single entry
        ensure_lookup_indexes(store)
    app.state.key = key
    app.state.anchor = anchor
    app.state.config = config or OpenEISConfig()
    app.state.secure_cookies = secure_cookies
    app.state.vault_key_file = vault_key_file

    app.add_middleware(Guard)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        if _wants_json(request):
            return await request_validation_exception_handler(request, error)
        problems = "; ".join(f"{'.'.join(str(part) for part in e['loc'][1:]) or 'request'}: {e['msg']}"
                             for e in error.errors())
        return error_page(request, 422, f"the request is not valid: {problems}")

    @app.exception_handler(AccessDenied)
    async def denied(request: Request, error: AccessDenied):
        return _error(request, 403, f"not allowed: {error.decision.reason} (this attempt is in the access log)")

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused):
        # NotFound 404, Invalid 422, GateRefused 409...: each refusal names its status.
        return _error(request, error.http_status, str(error))

    @app.exception_handler(Conflict)
    async def conflict(request: Request, error: Conflict):
        return _error(request, 409, str(error), current_version=error.current, current_status=error.status)

    @app.exception_handler(ReviewError)
    async def bad_review(request: Request, error: ReviewError):
        return _error(request, 422, str(error))

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, error: CsrfFailed):
        return _error(request, 403, "missing or wrong CSRF token (send the session's token in "
                      "X-CSRF-Token, or use an API token)")

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, error: SignInRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        response = _error(request, error.status_code, str(error.detail))
        if error.status_code == 401 and _wants_json(request):
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request):
        return templates.TemplateResponse(request, "api_docs.html", {})

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    return app


class Guard:
    """Every response gets the security headers, and no error reaches the server as an
    exception. Starlette's outermost error handler answers an unexpected error without them
    and then raises it again, which makes uvicorn close the connection (the next request on
    it is reset): here it is answered as a 500 page (or JSON under /api) with the headers,
    and its traceback goes to the server's log only."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not path.startswith("/static"):
                    headers.setdefault("Cache-Control", "no-store")  # personal data: never cached
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unexpected error answering %s %s", scope.get("method"), path)
            if started:
                raise  # part of the answer is out: nothing better can be sent
            request = Request(scope)
            response = _error(request, 500, "something went wrong on the server; it is in the server's log "
                                            "(nothing was changed by this request)")
            await response(scope, receive, send_with_headers)


@asynccontextmanager
async def _lifespan(app: FastAPI):
    yield
    app.state.stores.close()
