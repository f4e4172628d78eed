"""Sign-in sessions (cookie + CSRF token) and API tokens (bearer) for the web application.

Only SHA-256 digests of the secrets are stored. Pages use the session cookie and must send
the session's CSRF token with every form post; tools use `Authorization: Bearer TOKEN`,
which a browser never sends on its own, so token requests need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from openeis.governance.users import User, get_user
from openeis.store import Store

SESSION_COOKIE = "openeis_session"
SESSION_HOURS = 10  # a working shift; sign in again after
TOKEN_PREFIX = "oeis_"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


def start_session(store: Store, user: User) -> tuple[str, Session]:
    """A new session: returns the cookie value (the secret) and the session."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = _now()
    store.execute("DELETE FROM web_sessions WHERE expires_at < ?", [now])  # tidy as we go
    store.execute(
        "INSERT INTO web_sessions (session_hash, user_name, csrf_token, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [digest(secret), user.name, csrf, now, now + timedelta(hours=SESSION_HOURS)],
    )
    return secret, Session(user, csrf)


def session_for(store: Store, secret: str | None) -> Session | None:
    if not secret:
        return None
    rows = store.query("SELECT user_name, csrf_token FROM web_sessions WHERE session_hash = ? "
                       "AND expires_at > ?", [digest(secret), _now()])
    if not rows:
        return None
    user = get_user(store, rows[0][0])
    if user is None or user.disabled:
        return None
    return Session(user, rows[0][1])


def end_session(store: Store, secret: str | None) -> None:
    if secret:
        store.execute("DELETE FROM web_sessions WHERE session_hash = ?", [digest(secret)])


def csrf_matches(session: Session, sent: str | None) -> bool:
    return sent is not None and sent != "" and hmac.compare_digest(session.csrf_token, sent)


def create_token(store: Store, user: User, label: str, days: int | None = 90) -> str:
    """A new API token for `user` (shown once; only its digest is kept)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    expires = now + timedelta(days=days) if days else None
    store.execute("INSERT INTO api_tokens (token_hash, user_name, label, created_at, expires_at) "
                  "VALUES (?, ?, ?, ?, ?)", [digest(token), user.name, label, now, expires])
    return token


def token_user(store: Store, token: str | None) -> User | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    rows = store.query("SELECT user_name FROM api_tokens WHERE token_hash = ? "
                       "AND (expires_at IS NULL OR expires_at > ?)", [digest(token), _now()])
    if not rows:
        return None
    user = get_user(store, rows[0][0])
    return None if user is None or user.disabled else user
