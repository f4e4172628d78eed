"""Every action for every role, through the CLI, the REST API and the web pages, on DuckDB and
on PostgreSQL: each caller gets the answer the governance roles give (allowed or refused), the
callers give the same answer wherever more than one offers the action, and a refusal leaves a
`denied` entry in the access log while an allowed call leaves none. Every command and every
page must be in the matrix (the last two tests).

The expected answers are written out here, action by action, from the roles as a
professional-standards department would state them (docs/governance.md): they are not read
back from the policy code, so that a change of either shows up as a failure.

"Allowed" means the policy let the caller through: the command may still refuse for another
reason (an unknown model ID, a date with no training data), which the cheap arguments below
use so that an allowed training or audit does not cost a whole run. A refusal by the policy
is exit code 1 with "access denied" at the CLI and 403 from the API, or 404 where the role
may not learn that the thing exists (attacks/test_web.py checks that it answers exactly as a
missing one).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from openeis.cli import app
from openeis.governance import access_log, sign_in
from openeis.governance.roles import Role
from openeis.governance.users import get_user
from openeis.store import open_store
from openeis.web.app import create_app
from support.web_world import KEY, WEB_CONFIG, World, build_world

pytestmark = pytest.mark.slow

ADM, ANA, REV, AUD, OFF, WEL = (Role.ADMINISTRATOR, Role.ANALYST, Role.REVIEWER, Role.AUDITOR, Role.OFFICER,
                                 Role.WELFARE)
EVERY_ROLE = (ADM, ANA, REV, AUD, OFF, WEL)
# rita covers unit A; otto is an officer; wendy holds unit A's welfare prompts
API_USER = {ADM: "admin", ANA: "ana", REV: "rita", AUD: "aude", OFF: "otto", WEL: "wendy"}
ALLOWED, REFUSED = "allowed", "refused"
_names = itertools.count()


@dataclass(frozen=True)
class Case:
    action: str
    allowed: frozenset[Role]
    cli: object = None  # (world, work dir, role) -> command line arguments
    api: object = None  # (world, role) -> (method, path, body)
    stdin: str | None = None
    page: object = None  # (world, role) -> (method, path, form): a page of the web application, signed in


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


D = "2016-07-01"  # a date inside the world's three synthetic years
CASES = [
    # The store: what it holds, what ingest refused, loading a batch.
    Case("status", _roles(ADM, ANA, AUD), lambda w, d, r: ["status"], lambda w, r: ("GET", "/api/status", None)),
    Case("quarantine list", _roles(ADM), lambda w, d, r: ["quarantine", "list"],
         lambda w, r: ("GET", "/api/quarantine", None)),
    Case("ingest", _roles(ADM), lambda w, d, r: ["ingest", str(w.force_dir)]),
    # Force-wide exports: never for a role limited to some officers.
    Case("features", _roles(ADM, ANA), lambda w, d, r: ["features", "--as-of", D, "--out", str(d / "f.parquet")]),
    Case("labels", _roles(ADM, ANA), lambda w, d, r: ["labels", "--as-of", D, "--out", str(d / "l.parquet")]),
    Case("warehouse", _roles(ADM, ANA), lambda w, d, r: ["warehouse", "--out", str(d / "warehouse")]),
    # Models: the analyst's and the administrator's; reading the registry, also the auditor's.
    Case("train", _roles(ADM, ANA), lambda w, d, r: ["train", "--as-of", "2000-01-01"]),
    Case("backtest", _roles(ADM, ANA), lambda w, d, r: ["backtest", "--as-of", "2000-01-01", "--json", str(d / "b.json")]),
    # The split plan reads dates and medians of the records: aggregates, as `status`.
    Case("splits", _roles(ADM, ANA, AUD), lambda w, d, r: ["splits", "--as-of", D, "--json"]),
    Case("score", _roles(ADM), lambda w, d, r: ["score", "--model", "m-none"]),
    Case("monitor", _roles(ADM, ANA), lambda w, d, r: ["monitor", "--model", "m-none"]),
    Case("models list", _roles(ADM, ANA, AUD), lambda w, d, r: ["models", "list"], lambda w, r: ("GET", "/api/models", None),
         page=lambda w, r: ("GET", "/models", None)),
    Case("models show", _roles(ADM, ANA, AUD), lambda w, d, r: ["models", "show", "m-none"],
         lambda w, r: ("GET", "/api/models/m-none", None), page=lambda w, r: ("GET", "/models/m-none", None)),
    Case("models promote", _roles(ADM, ANA), lambda w, d, r: ["models", "promote", "m-none", "--to", "approved"],
         lambda w, r: ("POST", "/api/models/m-none/promote", {"to": "approved"}),
         page=lambda w, r: ("POST", "/models/m-none/promote", {"to": "approved"})),
    Case("models retire", _roles(ADM, ANA), lambda w, d, r: ["models", "retire", "m-none", "--rationale", "superseded"],
         lambda w, r: ("POST", "/api/models/m-none/retire", {"rationale": "superseded"})),
    Case("audit", _roles(ADM, ANA, AUD), lambda w, d, r: ["audit", "--model", "m-none", "--json", str(d / "a.json")]),
    Case("audit rows", _roles(AUD), lambda w, d, r: ["audit", "--model", "m-none", "--json", str(d / "a.json"),
                                                 "--rows", str(d / "rows.csv")]),
    Case("audits", _roles(ADM, ANA, AUD), api=lambda w, r: ("GET", "/api/audits", None),
         page=lambda w, r: ("GET", "/audit", None)),
    # Detectors examine the whole force.
    Case("detect", _roles(ADM, ANA), lambda w, d, r: ["detect", "--no-write-flags"]),
    Case("detect, flags to the queue", _roles(ADM), lambda w, d, r: ["detect", "--as-of", "2000-01-01"]),
    # The review side: flags and officers, each within the caller's scope.
    Case("the review queue", _roles(ADM, ANA, REV, OFF), api=lambda w, r: ("GET", "/api/flags", None),
         page=lambda w, r: ("GET", "/queue", None)),
    Case("a flag (the officer's own, in unit A)", _roles(ADM, ANA, REV, OFF),
         api=lambda w, r: ("GET", f"/api/flags/{w.flags_a[0]}", None),
         page=lambda w, r: ("GET", f"/flags/{w.flags_a[0]}", None)),
    Case("a flag's reviews", _roles(ADM, REV, OFF), api=lambda w, r: ("GET", f"/api/flags/{w.flags_a[0]}/reviews", None)),
    Case("an officer's profile", _roles(ADM, ANA, REV, OFF, WEL),
         api=lambda w, r: ("GET", f"/api/officers/{w.officer_self}", None),
         page=lambda w, r: ("GET", f"/officers/{w.officer_self}", None)),
    Case("assign a flag", _roles(ADM, REV),
         api=lambda w, r: ("POST", f"/api/flags/{w.flags_a[1]}/assign", {"assigned_to": "ravi", "version": 1}),
         page=lambda w, r: ("POST", f"/flags/{w.flags_a[3]}/assign", {"assigned_to": "ravi", "version": "1"})),
    Case("review a flag", _roles(ADM, REV),
         api=lambda w, r: ("POST", f"/api/flags/{w.flags_a[2]}/review",
                           {"decision": "no_action", "rationale": "Looked at it with the inspector.", "version": 99}),
         page=lambda w, r: ("POST", f"/flags/{w.flags_a[4]}/review",
                            {"decision": "no_action", "rationale": "Looked at it with the inspector.", "version": "1"})),
    # A decided flag's decision amended, and what came of its intervention (a flag not decided
    # yet is refused for that reason, after the policy let the caller through).
    Case("amend a review", _roles(ADM, REV),
         api=lambda w, r: ("POST", f"/api/flags/{w.flags_a[2]}/amend",
                           {"decision": "no_action", "rationale": "Second look with the inspector.",
                            "reason": "the matrix asks", "version": 99})),
    Case("an intervention outcome", _roles(ADM, REV),
         api=lambda w, r: ("POST", f"/api/flags/{w.flags_a[2]}/outcome", {"outcome": "completed", "note": "the matrix asks"}),
         page=lambda w, r: ("POST", f"/flags/{w.flags_a[2]}/outcome", {"outcome": "completed", "note": "the matrix asks"})),
    # The queues: conduct for those who read flags, welfare for those who hold welfare prompts
    # (the officer sees their own); what did not fit, for administrators; follow-ups.
    Case("queue", _roles(ADM, ANA, REV, OFF, WEL), lambda w, d, r: ["queue", "--json"]),
    Case("the welfare queue", _roles(ADM, OFF, WEL), api=lambda w, r: ("GET", "/api/flags?queue=welfare", None),
         page=lambda w, r: ("GET", "/welfare", None)),
    Case("the review queue as CSV", _roles(ADM, REV, OFF), page=lambda w, r: ("GET", "/queue.csv", None)),
    Case("the welfare queue as CSV", _roles(ADM, WEL), page=lambda w, r: ("GET", "/queue.csv?queue=welfare", None)),
    Case("flags not queued", _roles(ADM), api=lambda w, r: ("GET", "/api/flags?view=not_queued", None),
         page=lambda w, r: ("GET", "/queue?view=not_queued", None)),
    Case("a welfare prompt (unit A)", _roles(ADM, WEL), api=lambda w, r: ("GET", f"/api/flags/{w.welfare_flag}", None),
         page=lambda w, r: ("GET", f"/flags/{w.welfare_flag}", None)),
    Case("follow-ups", _roles(ADM, REV, OFF, WEL), api=lambda w, r: ("GET", "/api/follow-ups", None),
         page=lambda w, r: ("GET", "/follow-ups", None)),
    Case("an officer's records", _roles(ADM, ANA, REV, OFF, WEL),
         api=lambda w, r: ("GET", f"/api/officers/{w.officer_self}/records", None),
         page=lambda w, r: ("GET", f"/officers/{w.officer_self}/records", None)),
    # Who an officer is: the administrator, and those acting on their flags in their units.
    Case("reveal (an officer in unit A)", _roles(ADM, REV, WEL),
         lambda w, d, r: ["reveal", "--officer", w.officer_self, "--reason", "matrix: may this role reveal?",
                          "--vault-key-file", str(w.vault_key_file)],
         lambda w, r: ("POST", f"/api/officers/{w.officer_self}/reveal", {"reason": "matrix: may this role reveal?"}),
         page=lambda w, r: ("POST", f"/officers/{w.officer_self}/reveal", {"reason": "matrix: may this role reveal?"})),
    # Governance.
    Case("subject access (the officer's own)", _roles(ADM, OFF),
         lambda w, d, r: ["sar", "--officer", w.officer_self, "--pseudonym", "--out", str(d / "sar")]),
    Case("retention dry run", _roles(ADM), lambda w, d, r: ["retention", "apply", "--dry-run", "--as-of", "2000-01-01"]),
    Case("transparency", _roles(ADM, ANA, AUD), lambda w, d, r: ["transparency", "--out", str(d / "transparency")],
         lambda w, r: ("GET", "/api/transparency", None), page=lambda w, r: ("GET", "/transparency", None)),
    Case("log verify", _roles(ADM, AUD), lambda w, d, r: ["log", "verify"], lambda w, r: ("GET", "/api/access-log/verify", None),
         page=lambda w, r: ("GET", "/access-log?verify=true", None)),
    Case("log head", _roles(ADM, AUD), lambda w, d, r: ["log", "head"], lambda w, r: ("GET", "/api/access-log/head", None)),
    Case("log show", _roles(ADM, AUD), lambda w, d, r: ["log", "show"], lambda w, r: ("GET", "/api/access-log?limit=5", None),
         page=lambda w, r: ("GET", "/access-log", None)),
    Case("log reanchor", _roles(ADM), lambda w, d, r: ["log", "reanchor", "--reason", "the matrix"]),
    Case("users list", _roles(ADM), lambda w, d, r: ["users", "list"], lambda w, r: ("GET", "/api/users", None)),
    Case("users add", _roles(ADM), lambda w, d, r: ["users", "add", f"matrix{next(_names)}", "--role", "analyst"],
         stdin="a long enough password\n"),
    Case("users token", _roles(ADM), lambda w, d, r: ["users", "token", "ana", "--label", "matrix"]),
]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def world(request, tmp_path_factory) -> World:
    work = tmp_path_factory.mktemp(f"matrix-{request.param}")
    key_file = work / "openeis.key"
    key_file.write_text(KEY.hex() + "\n")
    os.chmod(key_file, 0o600)
    if request.param == "duckdb":
        built = build_world(str(work / "matrix.duckdb"), work, officers=60)
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"openeis_matrix_{os.getpid()}"
        server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.admin(f'CREATE DATABASE "{name}"')
        request.addfinalizer(lambda: server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        built = build_world(server.url(name), work, officers=60)
    built.force_dir = work / "force"
    built.key_file = key_file
    return built


@pytest.fixture(scope="module")
def client(world):
    with TestClient(create_app(world.url, KEY, WEB_CONFIG, vault_key_file=world.vault_key_file)) as test_client:
        yield test_client


@pytest.fixture(scope="module", autouse=True)
def page_sessions(world):
    """A signed-in session (cookie, CSRF token) for each role's user."""
    store = open_store(world.url)
    try:
        world.page_sessions = {}
        for role, name in API_USER.items():
            secret, session = sign_in.start_session(store, get_user(store, name))
            world.page_sessions[role] = (secret, session.csrf_token)
    finally:
        store.close()


def _denials(world) -> int:
    store = open_store(world.url)
    try:
        return sum(e.outcome == "denied" for e in access_log.entries(store))
    finally:
        store.close()


def _through_cli(world, case: Case, role: Role, work: Path) -> str:
    env = {"OPENEIS_ROLE": role.value, "OPENEIS_USER": "matrix",
           "OPENEIS_SCOPE": world.unit_a if role in (REV, WEL) else None,
           "OPENEIS_OFFICER": world.officer_self if role is OFF else None,
           "OPENEIS_CONFIG": None, "OPENEIS_STORE": None, "OPENEIS_KEY_FILE": None}
    args = [*case.cli(world, work, role), "--store", world.url, "--key-file", str(world.key_file)]
    before = _denials(world)
    result = CliRunner().invoke(app, args, env=env, input=case.stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    refused = result.exit_code == 1 and "access denied" in result.output
    assert _denials(world) == before + (1 if refused else 0), (case.action, role, result.output)
    return REFUSED if refused else ALLOWED


def _hidden(world, response, before: int) -> bool:
    """A refusal that answers as a missing thing does (404), where the role may not learn that
    it exists (a welfare account asking for a conduct flag): still a refusal, and logged."""
    return response.status_code == 404 and _denials(world) == before + 1


def _through_page(world, client, case: Case, role: Role) -> str:
    """The page as the role's signed-in user (a form posted with the session's CSRF token)."""
    method, path, form = case.page(world, role)
    cookie, csrf = world.page_sessions[role]
    before = _denials(world)
    client.cookies.clear()
    client.cookies.set(sign_in.SESSION_COOKIE, cookie)
    data = {**form, "csrf_token": csrf} if form is not None else None
    response = client.request(method, path, data=data, follow_redirects=False)
    assert response.status_code not in (401, 500), (case.action, role, response.status_code, response.text[:300])
    assert not response.headers.get("location", "").startswith("/login"), (case.action, role)
    refused = response.status_code == 403 or _hidden(world, response, before)
    if response.status_code == 403:
        assert "in the access log" in response.text
    assert _denials(world) == before + (1 if refused else 0), (case.action, role, response.status_code)
    return REFUSED if refused else ALLOWED


def _through_api(world, client, case: Case, role: Role) -> str:
    method, path, body = case.api(world, role)
    before = _denials(world)
    response = client.request(method, path, json=body, headers={"Authorization": f"Bearer {world.tokens[API_USER[role]]}"})
    assert response.status_code not in (401, 500), (case.action, role, response.text)
    refused = response.status_code == 403 or _hidden(world, response, before)
    if response.status_code == 403:
        assert "access log" in response.json()["detail"]
    assert _denials(world) == before + (1 if refused else 0), (case.action, role, response.text)
    return REFUSED if refused else ALLOWED


@pytest.mark.parametrize("case", CASES, ids=[c.action for c in CASES])
def test_every_role_gets_the_same_answer_through_the_cli_and_the_api(world, client, case, tmp_path):
    for role in EVERY_ROLE:
        expected = ALLOWED if role in case.allowed else REFUSED
        answers = {}
        if case.cli:
            work = tmp_path / role.value
            work.mkdir()
            answers["cli"] = _through_cli(world, case, role, work)
        if case.api:
            answers["api"] = _through_api(world, client, case, role)
        if case.page:
            answers["page"] = _through_page(world, client, case, role)
        assert set(answers.values()) == {expected}, (case.action, role.value, answers)


def test_every_command_that_touches_the_store_is_in_the_matrix():
    """A new command must say who may run it: the matrix covers every command of the CLI but
    those that touch no store or create one, and the web server, whose every request is an
    action of its own."""
    import typer.main

    root = typer.main.get_command(app)
    groups = {name: set(getattr(command, "commands", {})) for name, command in root.commands.items()}
    commands = {f"{name} {sub}" if subs else name for name, subs in groups.items() for sub in (subs or [None])}
    stub = World("", None, "UA", "UB", [], [], "p", vault_key_file=Path("vault.key"))
    stub.force_dir = Path("force")
    covered = set()
    for case in CASES:
        if case.cli:
            args = case.cli(stub, Path("."), ADM)
            covered.add(f"{args[0]} {args[1]}" if groups.get(args[0]) else args[0])
    no_store = {"version", "init", "synth", "demo", "config show", "config docs", "serve"}
    # Disabling, enabling an account and setting its password are `users` changes, as `users add`.
    like_users_add = {"users disable", "users enable", "users password"}
    assert commands - covered - no_store - like_users_add == set()
    assert covered <= commands


def test_every_page_of_the_web_application_is_in_the_matrix():
    """Every page route (but signing in and out, and the start page, which only redirects)
    says which roles may open it: a new page must be added here."""
    from openeis.web import pages

    uncovered = _routes_not_in_the_matrix(pages.router, "page")
    assert uncovered - {("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/")} == set()


def test_every_api_route_is_in_the_matrix():
    """Every REST operation says which roles may call it: a new one must be added here."""
    from openeis.web import api

    assert _routes_not_in_the_matrix(api.router, "api") == set()


def _routes_not_in_the_matrix(router, kind: str) -> set[tuple[str, str]]:
    """The (method, path) routes of `router` that no case's `kind` ("page" or "api") calls."""
    from fastapi.routing import APIRoute

    routes = {(method, route.path) for route in router.routes if isinstance(route, APIRoute)
              for method in route.methods}
    stub = World("", None, "UA", "UB", ["f-a0", "f-a1", "f-a2", "f-a3", "f-a4"], [], "p")
    covered = set()
    for case in CASES:
        call = getattr(case, kind)
        if call:
            method, path, _ = call(stub, ADM)
            covered.add((method, _route_of(path, routes)))
    return routes - covered


def _route_of(path: str, routes: set[tuple[str, str]]) -> str:
    import re

    path = path.split("?")[0]
    for _, pattern in routes:
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", pattern), path):
            return pattern
    return path
