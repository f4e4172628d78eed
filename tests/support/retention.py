"""The retention tests' force: the hand-made one with an old allegation not upheld, whose
distinctive record id must be gone from the store file after `retention apply`."""

from __future__ import annotations

import copy

from support.handmade import force


def retention_force():
    tables = copy.deepcopy(force())
    # An old allegation not upheld, with a distinctive record id to look for in the file.
    tables["allegations"].append(
        {"allegation_id": "ALX-OLD-RETAIN-ME-NOT", "complaint_id": "CRX-2020-0001", "officer_id": "WX100002",
         "category": "discourtesy", "finding": "unfounded", "outcome": "", "occurred_at": "2009-01-01",
         "recorded_at": "2009-01-05", "decided_at": "2009-06-01"}
    )
    return tables
