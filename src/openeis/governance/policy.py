"""The one place that decides every access, for the CLI, the web application and the demo
alike (openeis.application asks it, logs a refusal as a refusal and raises it as an error)."""

from __future__ import annotations

from dataclasses import dataclass

from openeis.governance.roles import PER_OFFICER, RULES, Action, Actor, Resource, Role


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def decide(
    actor: Actor,
    action: Action,
    resource: Resource,
    officer: str | None = None,
    officer_unit: str | None = None,
    force_wide: bool = False,
) -> Decision:
    """May `actor` do `action` on `resource` (about `officer`, posted in `officer_unit`)?

    `force_wide`: the action covers every officer at once and cannot be cut down to a scope
    (building features, running the detectors, a force-wide export): refused to roles that
    see only some officers (a reviewer's units, an officer's own records)."""
    allowed = RULES.get((actor.role, resource), frozenset())
    if action not in allowed:
        return Decision(False, f"role {actor.role.value} may not {action.value} {resource.value}")
    scoped = actor.role in (Role.OFFICER, Role.REVIEWER, Role.WELFARE)
    if resource in PER_OFFICER and officer is not None:
        if actor.role is Role.OFFICER and officer != actor.officer:
            return Decision(False, "an officer may see only their own records")
        if actor.role in (Role.REVIEWER, Role.WELFARE) and officer_unit not in actor.scope_units:
            return Decision(False, f"officer is outside reviewer {actor.name}'s scope")
    elif resource in PER_OFFICER and scoped:
        if force_wide:
            return Decision(False, f"role {actor.role.value} sees only the officers in its scope; "
                            f"this {action.value} of {resource.value} covers every officer")
        # Listing across officers: the caller must filter to the actor's scope.
        return Decision(True, f"allowed within {actor.role.value} scope")
    return Decision(True, f"role {actor.role.value} may {action.value} {resource.value}")
