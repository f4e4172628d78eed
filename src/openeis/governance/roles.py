"""Roles and what each may do. One table of rules, read by the one policy function."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Role(str, Enum):
    ADMINISTRATOR = "administrator"  # runs the system; records overrides with a rationale
    ANALYST = "analyst"  # models, features, pseudonymous data
    REVIEWER = "reviewer"  # flags and officer records in their scope (e.g. their command)
    AUDITOR = "auditor"  # aggregates, audits, access log, registry; no officer identities
    OFFICER = "officer"  # their own data only
    WELFARE = "welfare"  # line manager or occupational health: welfare prompts in their scope


class Resource(str, Enum):
    SOURCE_RECORDS = "source_records"  # the canonical tables, per officer
    PROTECTED = "protected_characteristics"  # the restricted schema
    FEATURES = "features"
    FLAGS = "flags"
    REVIEWS = "reviews"
    MODELS = "models"
    AUDITS = "audits"
    AGGREGATES = "aggregates"
    ACCESS_LOG = "access_log"
    AUDIT_ROWS = "audit_rows"  # pseudonymous rows behind an audit, for external recomputation
    INGEST = "ingest"
    RETENTION = "retention"
    USERS = "users"
    SUBJECT_ACCESS = "subject_access"
    WELFARE = "welfare"  # welfare prompts (attendance, sickness) and the health data behind them
    IDENTITY = "identity"  # who a pseudonym is: the identity vault, read only to reveal


class Action(str, Enum):
    READ = "read"
    CHANGE = "change"
    EXPORT = "export"
    DELETE = "delete"


# (role, resource) -> actions allowed. Scope limits (reviewer: own command; officer: self)
# are applied on top by the policy function.
RULES: dict[tuple[Role, Resource], frozenset[Action]] = {}


def _allow(role: Role, resources: tuple[Resource, ...], *actions: Action) -> None:
    for resource in resources:
        RULES[(role, resource)] = RULES.get((role, resource), frozenset()) | frozenset(actions)


# Protected characteristics, alone or joined to officers in the audit rows, are for the
# auditor only: the administrator runs the audit (aggregates) but cannot export its rows.
_everything = tuple(r for r in Resource if r not in (Resource.PROTECTED, Resource.AUDIT_ROWS))
_allow(Role.ADMINISTRATOR, _everything, Action.READ, Action.CHANGE, Action.EXPORT, Action.DELETE)
_allow(Role.ANALYST, (Resource.SOURCE_RECORDS, Resource.FEATURES, Resource.MODELS, Resource.AUDITS,
                      Resource.AGGREGATES), Action.READ, Action.CHANGE, Action.EXPORT)
_allow(Role.ANALYST, (Resource.FLAGS,), Action.READ)
_allow(Role.REVIEWER, (Resource.SOURCE_RECORDS, Resource.FLAGS, Resource.FEATURES), Action.READ)
_allow(Role.REVIEWER, (Resource.REVIEWS,), Action.READ, Action.CHANGE)
_allow(Role.AUDITOR, (Resource.AGGREGATES, Resource.AUDITS, Resource.MODELS, Resource.ACCESS_LOG),
       Action.READ, Action.EXPORT)
_allow(Role.AUDITOR, (Resource.AUDIT_ROWS, Resource.PROTECTED), Action.READ, Action.EXPORT)
_allow(Role.OFFICER, (Resource.SOURCE_RECORDS, Resource.FEATURES, Resource.FLAGS, Resource.REVIEWS,
                      Resource.SUBJECT_ACCESS), Action.READ, Action.EXPORT)
# Welfare prompts are for the line managers and occupational health who hold them (in their
# units), never for the conduct reviewers; the officer sees their own. Those who act on a
# flag or prompt may reveal who the officer is (in scope, with a reason, logged).
_allow(Role.WELFARE, (Resource.WELFARE,), Action.READ, Action.CHANGE, Action.EXPORT)
_allow(Role.REVIEWER, (Resource.FLAGS,), Action.EXPORT)  # their own queue, as CSV
_allow(Role.WELFARE, (Resource.SOURCE_RECORDS,), Action.READ)
_allow(Role.OFFICER, (Resource.WELFARE,), Action.READ)
_allow(Role.REVIEWER, (Resource.IDENTITY,), Action.READ)
_allow(Role.WELFARE, (Resource.IDENTITY,), Action.READ)

# Resources about identifiable officers: limited by the actor's scope.
PER_OFFICER = frozenset({Resource.SOURCE_RECORDS, Resource.FEATURES, Resource.FLAGS, Resource.REVIEWS,
                         Resource.SUBJECT_ACCESS, Resource.WELFARE, Resource.IDENTITY})


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    scope_units: frozenset[str] = field(default_factory=frozenset)  # reviewer: the units they cover
    officer: str | None = None  # officer role: their own pseudonym
