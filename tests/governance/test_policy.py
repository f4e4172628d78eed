"""The policy: one function decides every access, with a reason."""

from __future__ import annotations

from openeis.governance.policy import decide
from openeis.governance.roles import Action, Actor, Resource, Role


def test_protected_characteristics_are_for_the_audit_only():
    for role in Role:
        decision = decide(Actor("x", role), Action.READ, Resource.PROTECTED)
        assert decision.allowed == (role is Role.AUDITOR), role


def test_reviewer_sees_only_their_scope():
    reviewer = Actor("r", Role.REVIEWER, scope_units=frozenset({"RESP1"}))
    assert decide(reviewer, Action.READ, Resource.FLAGS, officer="p1", officer_unit="RESP1").allowed
    denied = decide(reviewer, Action.READ, Resource.FLAGS, officer="p2", officer_unit="HQ")
    assert not denied.allowed and "scope" in denied.reason


def test_officer_sees_only_themselves():
    officer = Actor("o", Role.OFFICER, officer="p1")
    assert decide(officer, Action.READ, Resource.SOURCE_RECORDS, officer="p1").allowed
    assert not decide(officer, Action.READ, Resource.SOURCE_RECORDS, officer="p2").allowed
    assert not decide(officer, Action.READ, Resource.ACCESS_LOG).allowed


def test_auditor_sees_aggregates_not_identities():
    auditor = Actor("a", Role.AUDITOR)
    assert decide(auditor, Action.READ, Resource.ACCESS_LOG).allowed
    assert decide(auditor, Action.READ, Resource.AUDITS).allowed
    assert not decide(auditor, Action.READ, Resource.SOURCE_RECORDS, officer="p1").allowed
    assert not decide(auditor, Action.READ, Resource.FLAGS).allowed


def test_denials_say_why():
    decision = decide(Actor("r", Role.REVIEWER), Action.DELETE, Resource.SOURCE_RECORDS)
    assert not decision.allowed and decision.reason == "role reviewer may not delete source_records"


def test_a_denial_is_an_error_with_a_reason_and_is_logged(tmp_path):
    import pytest

    from openeis.application.errors import AccessDenied
    from openeis.application.session import Session
    from openeis.config import OpenEISConfig
    from openeis.governance import access_log
    from openeis.store import open_store

    store = open_store(str(tmp_path / "s.duckdb"))
    store.migrate()
    key = b"k" * 32
    session = Session(store, key, Actor("o", Role.OFFICER, officer="p1"), OpenEISConfig())
    session.allow(Action.READ, Resource.FLAGS, officer="p1", purpose="own flags")
    with pytest.raises(AccessDenied) as denied:
        session.allow(Action.READ, Resource.FLAGS, officer="p2", purpose="curiosity")
    assert "only their own" in str(denied.value)
    entries = access_log.entries(store)
    assert [(e.outcome, e.reason, e.records) for e in entries] == [
        ("denied", "an officer may see only their own records", '{"officer": "p2"}')
    ]
    assert access_log.verify(store, key).ok
    store.close()


def test_a_force_wide_action_is_refused_to_scoped_roles():
    """Features, detectors, labels: every officer at once, which no reviewer's units or
    officer's own records can hold."""
    reviewer = Actor("r", Role.REVIEWER, scope_units=frozenset({"RESP1"}))
    officer = Actor("o", Role.OFFICER, officer="p1")
    for actor in (reviewer, officer):
        decision = decide(actor, Action.READ, Resource.SOURCE_RECORDS, force_wide=True)
        assert not decision.allowed and "covers every officer" in decision.reason
        # The same read as a list the caller filters to the scope stays allowed.
        assert decide(actor, Action.READ, Resource.SOURCE_RECORDS).allowed
    assert decide(Actor("a", Role.ANALYST), Action.READ, Resource.SOURCE_RECORDS, force_wide=True).allowed
