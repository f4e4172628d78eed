"""Bias specifications: deliberate group effects planted in a synthetic force.

Syntax: ``KIND:ATTR=VALUE[:TARGET]:FACTOR``, for example

- ``upheld:group=B:1.5``: at equal propensity, allegations against group B are upheld
  1.5 times as often (the upheld probability is multiplied, capped below 1);
- ``posting:group=B:high_exposure:2.0``: the odds of a posting to a high-exposure unit
  (response, public order) are doubled for group B; TARGET may also be a unit function;
- ``complaints:group=B:1.3``: complaint rate (as primary accused) times 1.3;
- ``use_of_force:gender=M:1.2``: use-of-force report rate times 1.2.

ATTR is ``group`` (alias of ``ethnicity``), ``ethnicity``, ``gender`` (or ``sex``) or
``disability``. Without a spec there is no group effect at all.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from openeis.synth.profiles import (
    DISABILITY_CODES,
    ETHNIC_GROUPS,
    GENDERS,
    HIGH_EXPOSURE_FUNCTIONS,
    TEAM_FUNCTIONS,
)

BIAS_KINDS = ("upheld", "posting", "complaints", "use_of_force")
ATTRIBUTE_ALIASES = {
    "group": "ethnicity",
    "ethnicity": "ethnicity",
    "gender": "gender",
    "sex": "gender",
    "disability": "disability",
}
ATTRIBUTE_VALUES: dict[str, tuple[str, ...]] = {
    "ethnicity": ETHNIC_GROUPS,
    "gender": GENDERS,
    "disability": DISABILITY_CODES,
}
# The group each measured effect is compared with (the largest group).
REFERENCE_VALUES = {"ethnicity": "A", "gender": "M", "disability": "N"}
HIGH_EXPOSURE = "high_exposure"
POSTING_TARGETS = (HIGH_EXPOSURE,) + TEAM_FUNCTIONS


class BiasSpec(BaseModel):
    """One planted group effect. Build it with parse_bias("upheld:group=B:1.5")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["upheld", "posting", "complaints", "use_of_force"]
    attribute: Literal["ethnicity", "gender", "disability"]
    value: str
    target: str | None = Field(
        None, description="posting only: high_exposure (default) or a unit function"
    )
    factor: float = Field(gt=0, le=100, description="multiplier (odds multiplier for posting)")

    @model_validator(mode="before")
    @classmethod
    def _default_target(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("kind") == "posting" and not data.get("target"):
            return {**data, "target": HIGH_EXPOSURE}
        return data

    @model_validator(mode="after")
    def _check(self) -> BiasSpec:
        allowed = ATTRIBUTE_VALUES[self.attribute]
        if self.value not in allowed:
            raise ValueError(
                f"{self.attribute} has values {', '.join(allowed)}; got {self.value!r}"
            )
        if self.kind == "posting":
            if self.target not in POSTING_TARGETS:
                raise ValueError(
                    f"posting target must be one of {', '.join(POSTING_TARGETS)}; "
                    f"got {self.target!r}"
                )
        elif self.target is not None:
            raise ValueError(f"bias kind {self.kind!r} takes no target (got {self.target!r})")
        return self

    @property
    def target_functions(self) -> tuple[str, ...]:
        """Unit functions whose odds a posting bias changes."""
        if self.kind != "posting":
            return ()
        if self.target == HIGH_EXPOSURE:
            return HIGH_EXPOSURE_FUNCTIONS
        return (str(self.target),)

    @property
    def reference(self) -> str:
        return REFERENCE_VALUES[self.attribute]

    def __str__(self) -> str:
        target = f":{self.target}" if self.kind == "posting" else ""
        return f"{self.kind}:{self.attribute}={self.value}{target}:{self.factor:g}"


def parse_bias(spec: str) -> BiasSpec:
    """Parse ``KIND:ATTR=VALUE[:TARGET]:FACTOR``; a clear ValueError when it is wrong."""
    if not isinstance(spec, str):
        raise ValueError(f"a bias spec is a string like 'upheld:group=B:1.5', got {spec!r}")
    text = spec.strip()
    parts = text.split(":")
    usage = "expected KIND:ATTR=VALUE[:TARGET]:FACTOR, e.g. upheld:group=B:1.5"
    if len(parts) not in (3, 4):
        raise ValueError(f"bad bias spec {spec!r}: {usage}")
    kind = parts[0].strip().lower()
    if kind not in BIAS_KINDS:
        raise ValueError(
            f"bad bias spec {spec!r}: unknown kind {kind!r}; known: {', '.join(BIAS_KINDS)}"
        )
    if "=" not in parts[1]:
        raise ValueError(f"bad bias spec {spec!r}: {usage}")
    attr, value = (s.strip() for s in parts[1].split("=", 1))
    attribute = ATTRIBUTE_ALIASES.get(attr.lower())
    if attribute is None:
        raise ValueError(
            f"bad bias spec {spec!r}: unknown attribute {attr!r}; "
            f"known: {', '.join(ATTRIBUTE_ALIASES)}"
        )
    target = parts[2].strip() if len(parts) == 4 else None
    try:
        factor = float(parts[-1])
    except ValueError:
        raise ValueError(f"bad bias spec {spec!r}: factor {parts[-1]!r} is not a number") from None
    if not np.isfinite(factor) or factor <= 0:
        raise ValueError(f"bad bias spec {spec!r}: factor must be a positive number")
    try:
        return BiasSpec(kind=kind, attribute=attribute, value=value, target=target, factor=factor)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        messages = "; ".join(e["msg"] for e in getattr(error, "errors", lambda: [])()) or str(error)
        raise ValueError(f"bad bias spec {spec!r}: {messages}") from None


def rate_multiplier(
    specs: list[BiasSpec], kind: str, attributes: dict[str, np.ndarray]
) -> np.ndarray | None:
    """Per-officer product of the factors of `kind` specs; None when no spec applies.

    `attributes` maps an attribute name to the officers' values (string codes, numpy).
    """
    out: np.ndarray | None = None
    for spec in specs:
        if spec.kind != kind:
            continue
        hit = attributes[spec.attribute] == spec.value
        factor = np.where(hit, spec.factor, 1.0)
        out = factor if out is None else out * factor
    return out
