"""Signing in to the web application and out again: the password check, throttling of
guesses per name and per client address, the new session, and an access-log entry for every
attempt, failed or not, and for each lockout.

There is no actor before a sign-in succeeds, so these actions take the store, its key and
the anchor rather than a Session; the entry names the name typed (and the account's role,
if there is one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from openeis.application.session import append_entry
from openeis.config import SignInConfig
from openeis.governance import sign_in as sessions
from openeis.governance.log_anchor import LogAnchor
from openeis.governance.users import User, check_sign_in, get_user
from openeis.store import Store

NAME_LIMIT = 200  # characters of a typed name kept in the log (it is whatever was typed)
ADDRESS_LIMIT = 100


@dataclass(frozen=True)
class Attempt:
    """Whoever tried to sign in, as the access log names them."""

    name: str
    role: str


@dataclass(frozen=True)
class SignIn:
    """The outcome. `user` and `secret` (the session cookie's value) when it succeeded;
    `locked_until` when the name or the address is locked out for now."""

    user: User | None = None
    secret: str | None = None
    locked_until: datetime | None = None

    @property
    def retry_after(self) -> int:
        """Seconds until a locked sign-in may be tried again."""
        if self.locked_until is None:
            return 0
        return max(1, int((self.locked_until - _now()).total_seconds()) + 1)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def printable(text: str, limit: int) -> str:
    """Typed text made safe to log and show: control characters replaced, length bounded."""
    cleaned = "".join(c if c.isprintable() else "\ufffd" for c in text)
    return cleaned if len(cleaned) <= limit else cleaned[:limit - 1] + "\u2026"


def sign_in(store: Store, key: bytes, anchor: LogAnchor | None, settings: SignInConfig, name: str,
            password: str, address: str) -> SignIn:
    """Check the password unless the name or the address is locked out; start a session if
    it matches. One transaction per attempt, holding a lock on the name, so that guesses at
    one name queue and none gets past the count while another is being checked."""
    name = printable(name, NAME_LIMIT)
    address = printable(address or "unknown", ADDRESS_LIMIT)
    window = timedelta(minutes=settings.window_minutes)
    records = {"address": address}

    def log(who: Attempt, action: str, outcome: str, reason: str) -> None:
        append_entry(store, key, anchor, who, action, "session", records, "sign in", outcome, reason)

    with store.transaction():
        store.lock(f"sign_in:{name}")
        account = get_user(store, name)
        who = Attempt(name, account.role.value if account else "none")
        now = _now()
        throttle = sessions.throttle(store, name, address, settings.max_failures_per_account,
                                     settings.max_failures_per_address, window, now)
        if throttle.locked:
            sessions.record_attempt(store, name, address, "locked", now)
            log(who, "sign_in", "denied", f"locked out: {throttle.failures} failed sign-ins "
                f"{'under this name' if throttle.by == 'name' else 'from this address'} within "
                f"{settings.window_minutes} minutes; refused until {throttle.until:%Y-%m-%d %H:%M:%S} UTC "
                "without checking the password")
            return SignIn(locked_until=throttle.until)
        user, why = check_sign_in(store, name, password)
        if user is None:
            sessions.record_attempt(store, name, address, "failed", now)
            log(who, "sign_in", "denied", why)
            after = sessions.throttle(store, name, address, settings.max_failures_per_account,
                                      settings.max_failures_per_address, window, now)
            if after.locked:
                log(who, "lock_out", "denied", f"{after.failures} failed sign-ins "
                    f"{'under this name' if after.by == 'name' else 'from this address'} within "
                    f"{settings.window_minutes} minutes: sign-ins refused until "
                    f"{after.until:%Y-%m-%d %H:%M:%S} UTC")
            return SignIn()
        sessions.record_attempt(store, name, address, "succeeded", now)
        secret, _ = sessions.start_session(store, user)
        log(who, "sign_in", "allowed", "password matched")
        return SignIn(user=user, secret=secret)


def sign_out(store: Store, key: bytes, anchor: LogAnchor | None, secret: str | None) -> None:
    """End a session (logged as the user it belonged to)."""
    found = sessions.session_for(store, secret)
    with store.transaction():
        sessions.end_session(store, secret)
        if found is not None:
            append_entry(store, key, anchor, Attempt(found.user.name, found.user.role.value), "sign_out",
                         "session", None, "sign out", "allowed", None)
