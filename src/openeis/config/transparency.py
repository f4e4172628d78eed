"""The `[transparency]` config section (kept apart so the config does not import the reports)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TransparencyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation: str = Field("the force", description="Organisation that owns the system (ATRS: owner).")
    team: str = Field("Professional Standards Department", description="Team responsible (ATRS).")
    contact: str = Field("", description="Public contact for questions about the system (ATRS).")
    senior_responsible_owner: str = Field("", description="Role of the senior responsible owner (ATRS).")
    purpose: str = Field(
        "To help supervisors and professional-standards reviewers decide which officers to "
        "offer early support or a supervisory conversation, by ranking officers by the "
        "estimated chance of a future upheld misconduct finding and explaining each ranking.",
        description="Why the system is used (ATRS tier 1).")
    suppression_threshold: int = Field(5, ge=1, description="Public counts below this are shown "
                                       "as '<N' (small-number suppression).")
