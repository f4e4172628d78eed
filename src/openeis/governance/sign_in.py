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


# -- throttling password guessing -----------------------------------------------------------

ATTEMPTS_KEPT_HOURS = 24


@dataclass(frozen=True)
class Throttle:
    """Whether sign-ins under a name, or from an address, are refused for now, and until when."""

    locked: bool
    by: str | None = None  # "name" or "address"
    failures: int = 0
    until: datetime | None = None


def throttle(store: Store, name: str, address: str, max_per_name: int, max_per_address: int,
             window: timedelta, now: datetime | None = None) -> Throttle:
    """Failed sign-ins in the window: under `name` since its last success, and from `address`.
    At `max_per_name` (or `max_per_address`) failures they lock until the oldest failure
    that counts towards the limit leaves the window."""
    now = now or _now()
    start = now - window
    last_success = store.scalar("SELECT max(attempted_at) FROM sign_in_attempts WHERE user_name = ? "
                                "AND outcome = 'succeeded'", [name])
    since = max(start, last_success) if last_success else start
    for by, column, value, limit, after in (("name", "user_name", name, max_per_name, since),
                                            ("address", "address", address, max_per_address, start)):
        times = [row[0] for row in store.query(
            f"SELECT attempted_at FROM sign_in_attempts WHERE {column} = ? AND outcome = 'failed' "
            "AND attempted_at > ? ORDER BY attempted_at DESC", [value, after])]
        if len(times) >= limit:
            return Throttle(True, by, len(times), times[limit - 1] + window)
    return Throttle(False)


def record_attempt(store: Store, name: str, address: str, outcome: str, now: datetime | None = None) -> None:
    now = now or _now()
    store.execute("DELETE FROM sign_in_attempts WHERE attempted_at < ?", [now - timedelta(hours=ATTEMPTS_KEPT_HOURS)])
    store.execute("INSERT INTO sign_in_attempts (attempted_at, user_name, address, outcome) VALUES (?, ?, ?, ?)",
                  [now, name, address, outcome])
