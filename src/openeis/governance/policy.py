"""The one place that decides every access, for the CLI and the API alike."""

from __future__ import annotations

from dataclasses import dataclass

from openeis.governance.roles import PER_OFFICER, RULES, Action, Actor, Resource, Role


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


class AccessDenied(Exception):
    def __init__(self, decision: Decision):
        super().__init__(decision.reason)
        self.decision = decision


def decide(
    actor: Actor,
    action: Action,
    resource: Resource,
    officer: str | None = None,
    officer_unit: str | None = None,
) -> Decision:
    """May `actor` do `action` on `resource` (about `officer`, posted in `officer_unit`)?"""
    allowed = RULES.get((actor.role, resource), frozenset())
    if action not in allowed:
        return Decision(False, f"role {actor.role.value} may not {action.value} {resource.value}")
    if resource in PER_OFFICER and officer is not None:
        if actor.role is Role.OFFICER and officer != actor.officer:
            return Decision(False, "an officer may see only their own records")
        if actor.role is Role.REVIEWER and officer_unit not in actor.scope_units:
            return Decision(False, f"officer is outside reviewer {actor.name}'s scope")
    if resource in PER_OFFICER and officer is None and actor.role in (Role.OFFICER, Role.REVIEWER):
        # Listing across officers: the caller must filter to the actor's scope.
        return Decision(True, f"allowed within {actor.role.value} scope")
    return Decision(True, f"role {actor.role.value} may {action.value} {resource.value}")


def authorize(
    store,
    key: bytes,
    actor: Actor,
    action: Action,
    resource: Resource,
    officer: str | None = None,
    officer_unit: str | None = None,
    purpose: str | None = None,
) -> Decision:
    """Decide, and log a denial (an allowed access is logged by the caller, with what it read).

    Raises AccessDenied after the denial is in the access log, so a refused attempt always
    leaves a trace."""
    from openeis.governance import access_log

    decision = decide(actor, action, resource, officer, officer_unit)
    if not decision.allowed:
        access_log.append(
            store, key, actor, action.value, resource.value,
            records={"officer": officer} if officer else None,
            purpose=purpose, outcome="denied", reason=decision.reason,
        )
        raise AccessDenied(decision)
    return decision
