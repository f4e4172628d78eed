"""Accounts, sign-in and CSRF: `openeis users` at the command line, argon2 hashes in the store,
sessions that carry a CSRF token, API tokens that stop when the account is disabled."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from openeis.governance.users import AccountError, add_user, check_password
from openeis.governance.roles import Role
from openeis.store import open_store
from openeis.web.app import create_app
from support.web_world import KEY, WEB_CONFIG, PASSWORD, build_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    work = tmp_path_factory.mktemp("accounts")
    return build_world(str(work / "web.duckdb"), work, officers=60)


@pytest.fixture
def client(world):
    with TestClient(create_app(world.url, KEY, WEB_CONFIG, vault_key_file=world.vault_key_file)) as test_client:
        yield test_client


def _sign_in(client, name, password=PASSWORD):
    form = client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)
    return client.post("/login", data={"name": name, "password": password, "login_token": token, "next": "/"},
                       follow_redirects=False)


def test_users_add_reads_the_password_from_stdin_and_stores_only_a_hash(cli, tmp_path):
    cli("init")
    added = cli("users", "add", "rev1", "--role", "reviewer", "--scope", "U0001", input="a long enough password\n")
    assert "user rev1 added (reviewer, scope U0001)" in added.stdout
    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        stored = store.scalar("SELECT password_hash FROM users WHERE name = 'rev1'")
        assert stored.startswith("$argon2id$") and "a long enough password" not in stored
        assert check_password(store, "rev1", "a long enough password").scope_units == frozenset({"U0001"})
        assert check_password(store, "rev1", "wrong password here") is None
        entry = store.query("SELECT actor, resource, purpose FROM access_log ORDER BY seq DESC LIMIT 1")[0]
        assert entry[1:] == ("users", "add a user")
    finally:
        store.close()
    refused = cli("users", "add", "rev2", "--role", "reviewer", input="a long enough password\n", expect=1)
    assert "needs a scope" in refused.stderr
    short = cli("users", "add", "adm", "--role", "administrator", input="short\n", expect=1)
    assert "at least 12 characters" in short.stderr
    token = cli("users", "token", "rev1", "--label", "script").stdout.strip()
    assert token.startswith("oeis_")
    assert "rev1" in cli("users", "list").stdout


def test_account_rules(world):
    store = open_store(world.url)
    try:
        with pytest.raises(AccountError, match="exists already"):
            add_user(store, "rita", Role.REVIEWER, PASSWORD, [world.unit_a])
        with pytest.raises(AccountError, match="--officer"):
            add_user(store, "o2", Role.OFFICER, PASSWORD)
        with pytest.raises(AccountError, match="letters, digits"):
            add_user(store, "bad name;", Role.ANALYST, PASSWORD)
    finally:
        store.close()


def test_sign_in_sets_an_http_only_session_and_wrong_passwords_fail(client):
    failed = _sign_in(client, "rita", "not the password")
    assert failed.status_code == 303 and "failed=1" in failed.headers["location"]
    unknown = _sign_in(client, "nobody", PASSWORD)
    assert unknown.status_code == 303 and "failed=1" in unknown.headers["location"]
    signed_in = _sign_in(client, "rita")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/queue"
    cookie = signed_in.headers["set-cookie"]
    assert "openeis_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    page = client.get("/queue")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self';")
    assert page.headers["cache-control"] == "no-store"


def test_pages_need_a_session(client):
    response = client.get("/queue", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=%2Fqueue")


def test_sign_in_form_needs_its_own_token(client):
    response = client.post("/login", data={"name": "rita", "password": PASSWORD, "login_token": "forged"})
    assert response.status_code == 403


def test_open_redirects_are_refused(client):
    form = client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"name": "rita", "password": PASSWORD, "login_token": token,
                                           "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/queue"


def test_api_with_a_session_cookie_needs_the_csrf_token(client, world):
    _sign_in(client, "rita")
    flag = world.flags_a[0]
    body = {"assigned_to": "rita", "version": 1}
    without = client.post(f"/api/flags/{flag}/assign", json=body)
    assert without.status_code == 403 and "CSRF" in without.json()["detail"]
    page = client.get(f"/flags/{flag}").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    with_token = client.post(f"/api/flags/{flag}/assign", json=body, headers={"X-CSRF-Token": csrf})
    assert with_token.status_code == 200, with_token.text
    assert with_token.json()["status"] == "in_review"


def test_disabling_an_account_ends_its_tokens_and_sessions(world, client):
    headers = {"Authorization": f"Bearer {world.tokens['ana']}"}
    assert client.get("/api/models", headers=headers).status_code == 200
    store = open_store(world.url)
    try:
        from openeis.governance.users import set_disabled

        set_disabled(store, "ana", True)
    finally:
        store.close()
    assert client.get("/api/models", headers=headers).status_code == 401
    assert _sign_in(client, "ana").headers["location"].startswith("/login?failed=1")
