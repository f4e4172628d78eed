"""Request dependencies, in one leaf module: the store borrowed for a request, who is
calling (an API token or a sign-in session, with its CSRF check), and the application
Session they act through. Routes import from here; nothing here imports a route."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from openeis.application.session import Session
from openeis.governance import sign_in
from openeis.governance.roles import Actor
from openeis.governance.users import User
from openeis.store import Store

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Caller:
    """The signed-in user and how they came in (a session, or an API token)."""

    user: User
    session: sign_in.Session | None = None

    @property
    def actor(self) -> Actor:
        return self.user.actor()


class SignInRequired(Exception):
    """A page needs a signed-in user: send the browser to the sign-in page."""


class CsrfFailed(Exception):
    pass


def get_store(request: Request) -> Iterator[Store]:
    with request.app.state.stores.borrow() as store:
        yield store


def api_caller(request: Request, store: Store = Depends(get_store)) -> Caller:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = sign_in.token_user(store, header[7:].strip())
        if user is None:
            raise StarletteHTTPException(401, "invalid or expired API token")
        return Caller(user)
    found = sign_in.session_for(store, request.cookies.get(sign_in.SESSION_COOKIE))
    if found is None:
        raise StarletteHTTPException(401, "sign in, or send an API token (Authorization: Bearer ...)")
    if request.method in UNSAFE_METHODS and not sign_in.csrf_matches(found, request.headers.get("x-csrf-token")):
        raise CsrfFailed()
    return Caller(found.user, found)


def page_caller(request: Request, store: Store = Depends(get_store)) -> Caller:
    found = sign_in.session_for(store, request.cookies.get(sign_in.SESSION_COOKIE))
    if found is None:
        raise SignInRequired()
    return Caller(found.user, found)


def check_csrf(caller: Caller, sent: str) -> None:
    if caller.session is None or not sign_in.csrf_matches(caller.session, sent):
        raise CsrfFailed()


def _session(request: Request, store: Store, caller: Caller) -> Session:
    state = request.app.state
    return Session(store, state.key, caller.actor, state.config, state.stores.url,
                   getattr(state, "vault_key_file", None), anchor=state.anchor)


def api_session(request: Request, store: Store = Depends(get_store),
                caller: Caller = Depends(api_caller)) -> Session:
    """The API caller at work: what every /api route acts through."""
    return _session(request, store, caller)


def page_session(request: Request, store: Store = Depends(get_store),
                 caller: Caller = Depends(page_caller)) -> Session:
    """The signed-in browser user at work: what every page acts through."""
    return _session(request, store, caller)


StoreDep = Annotated[Store, Depends(get_store)]
ApiCaller = Annotated[Caller, Depends(api_caller)]
PageCaller = Annotated[Caller, Depends(page_caller)]
ApiSession = Annotated[Session, Depends(api_session)]
PageSession = Annotated[Session, Depends(page_session)]
