"""Named constants that make the synthetic force look like a real one.

Everything the generator treats as "how a force behaves" lives here, so it can be read
(and documented in docs/synth.md) in one place. Rates are per shift worked unless the
name says otherwise; probabilities are shares of the relevant population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openeis import schema

# ---------------------------------------------------------------------------------------
# People

ETHNIC_GROUPS = ("A", "B", "C", "D")  # synthetic groups: no real category is implied
ETHNIC_SHARES = (0.70, 0.15, 0.10, 0.05)
GENDERS = ("M", "F")
GENDER_SHARES = (0.70, 0.30)
DISABILITY_CODES = ("Y", "N")
DISABILITY_SHARE = 0.05
RELIGION_CODES = ("R1", "R2", "R3", "R4", "R5")  # synthetic, recorded for ~25%
RELIGION_RECORDED = 0.25
ORIENTATION_CODES = ("S1", "S2", "S3")  # synthetic, recorded for ~15%
ORIENTATION_RECORDED = 0.15
STAFF_SHARE = 0.10  # police staff (rank `staff`): not sworn, mostly back office

JOIN_AGE_MIN, JOIN_AGE_MAX = 18, 45
JOIN_AGE_GAMMA = (2.0, 3.5)  # 18 + gamma(shape, scale) years, clipped: mean ~25
RETIREMENT_AGE = 60
RETIREMENT_SERVICE_YEARS = (26.0, 32.0)  # full pension service, uniform
LEAVING_HAZARD = 0.042  # non-retirement leavers per year; with retirements ~6%/year
MIN_TENURE_DAYS = 60
# Non-retirement leaving reasons; `dismissed` is scaled by the officer's propensity.
LEAVING_REASON_SHARES = {
    "resigned": 0.66,
    "transferred": 0.22,
    "dismissed": 0.04,
    "deceased": 0.01,
    "other": 0.07,
}

# Latent traits: lognormal with mean 1 (mu = -sigma^2 / 2).
PROPENSITY_SIGMA = 0.85  # misconduct propensity: heavy tail (99th percentile ~4.8)
ACTIVITY_SIGMA = 0.30  # proactivity: more arrests, a little more complaints
FRAILTY_SIGMA = 0.60  # sickness proneness
OVERTIME_APPETITE_SIGMA = 0.60
ACCESS_INTENSITY_SIGMA = 0.35

# ---------------------------------------------------------------------------------------
# Ranks

SWORN_RANKS = tuple(rank for rank in schema.RANKS if rank not in ("staff", "other"))
SWORN_RANK_SHARES = (0.76, 0.16, 0.05, 0.018, 0.008, 0.003, 0.001)
RANK_MIN_SERVICE_YEARS = (0, 3, 6, 10, 13, 16, 20)
PROMOTION_PROBABILITY = (0.10, 0.08, 0.06, 0.05, 0.04, 0.03, 0.0)  # at a posting change
# How much of a unit's front-line exposure a rank carries (complaints, force, arrests).
RANK_EXPOSURE = {
    "constable": 1.0,
    "sergeant": 0.6,
    "inspector": 0.25,
    "chief_inspector": 0.1,
    "superintendent": 0.05,
    "chief_superintendent": 0.05,
    "chief_officer": 0.05,
    "staff": 0.2,
    "other": 0.5,
}

# ---------------------------------------------------------------------------------------
# Units


@dataclass(frozen=True)
class FunctionProfile:
    """How a kind of unit works. Rates are per shift worked unless noted."""

    share: float  # share of sworn postings
    unit_name: str
    role: str  # role of a constable posted there
    planned_shifts: int  # rostered shifts in a full month, before annual leave
    shift_hours: float
    around_the_clock: bool  # works nights: look-ups at any hour are normal
    arrests: float
    complaints: float  # complaint cases (as primary accused) for propensity 1
    use_of_force: float
    overtime_per_month: float  # overtime claims per month
    access: float  # factor on options.access_rate (look-ups per week)
    vehicle_accident: float
    officer_injury: float
    pursuit: float
    commendations_per_year: float


FUNCTION_PROFILES: dict[str, FunctionProfile] = {
    "response": FunctionProfile(
        0.30, "Response Team", "patrol", 18, 10.0, True,
        0.12, 0.00260, 0.020, 1.8, 1.0, 0.0015, 0.0020, 0.0020, 0.12,
    ),
    "neighbourhood": FunctionProfile(
        0.20, "Neighbourhood Team", "neighbourhood", 19, 9.0, False,
        0.05, 0.00150, 0.005, 1.2, 1.0, 0.0006, 0.0010, 0.0003, 0.10,
    ),
    "roads": FunctionProfile(
        0.05, "Roads Policing Unit", "roads", 18, 10.0, True,
        0.05, 0.00120, 0.008, 1.5, 0.8, 0.0040, 0.0015, 0.0120, 0.08,
    ),
    "custody": FunctionProfile(
        0.05, "Custody Suite", "custody", 17, 12.0, True,
        0.00, 0.00060, 0.025, 1.5, 0.6, 0.0000, 0.0020, 0.0000, 0.04,
    ),
    "investigation": FunctionProfile(
        0.16, "Investigation Team", "investigation", 20, 8.5, False,
        0.04, 0.00060, 0.002, 1.6, 1.2, 0.0003, 0.0003, 0.0000, 0.08,
    ),
    "public_order": FunctionProfile(
        0.07, "Public Order Unit", "public_order", 18, 10.0, True,
        0.10, 0.00260, 0.030, 2.5, 0.8, 0.0010, 0.0040, 0.0010, 0.10,
    ),
    "specialist": FunctionProfile(
        0.05, "Specialist Operations Unit", "specialist", 19, 10.0, True,
        0.03, 0.00075, 0.010, 2.0, 0.8, 0.0010, 0.0015, 0.0020, 0.10,
    ),
    "back_office": FunctionProfile(
        0.12, "Business Support Unit", "administration", 21, 7.5, False,
        0.00, 0.00015, 0.000, 0.4, 0.5, 0.0001, 0.0001, 0.0000, 0.03,
    ),
    "other": FunctionProfile(  # commands: listed as units, nobody is posted there
        0.0, "Command", "other", 20, 8.0, False,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ),
}
assert tuple(FUNCTION_PROFILES) == schema.UNIT_FUNCTIONS
TEAM_FUNCTIONS = tuple(f for f in schema.UNIT_FUNCTIONS if f != "other")
HIGH_EXPOSURE_FUNCTIONS = ("response", "public_order")

# Function shares for police staff and for senior officers (chief inspector and above).
STAFF_FUNCTION_SHARES = {"back_office": 0.60, "custody": 0.15, "investigation": 0.25}
SENIOR_FUNCTION_SHARES = {
    "response": 0.15,
    "neighbourhood": 0.15,
    "investigation": 0.20,
    "back_office": 0.30,
    "specialist": 0.10,
    "public_order": 0.05,
    "roads": 0.025,
    "custody": 0.025,
}
OFFICERS_PER_UNIT = 40
MIN_TEAMS = 8
TEAMS_PER_COMMAND = 12
UNIT_SIZE_SIGMA = 0.30  # lognormal spread of unit sizes within a function
COMMAND_NAMES = ("North", "South", "East", "West", "Central", "City", "Rural", "Coastal")
BEATS_PER_COMMAND = 24
POSTING_YEARS = (2.0, 5.0)  # a posting lasts uniform(2, 5) years
POSTING_STAY_IN_FUNCTION = 0.35  # next posting keeps the function (detectives stay detectives)
BACK_OFFICE_TRAINING_ROLE = 0.20  # constables in back office: training role, else administration
SUPERVISOR_ROLE = 0.85  # sergeants and above: supervision role, else the unit's role

# ---------------------------------------------------------------------------------------
# Duty, sickness, leave

SICK_SPELLS_PER_YEAR = 2.5
SICK_DURATION_MIX = (  # (share, min days, max days)
    (0.62, 1, 3),
    (0.25, 4, 14),
    (0.10, 15, 60),
    (0.03, 61, 300),
)
SICKNESS_REASON_SHARES = {
    "musculoskeletal": 0.22,
    "mental_health": 0.18,
    "respiratory": 0.25,
    "gastrointestinal": 0.15,
    "injury_on_duty": 0.06,
    "injury_off_duty": 0.06,
    "other": 0.08,
}
LEAVE_SPANS_PER_YEAR = 5.0
LEAVE_DURATION_MIX = ((0.30, 1, 2), (0.50, 4, 9), (0.20, 10, 16))
PARENTAL_PER_YEAR = {"F": 0.020, "M": 0.008}
PARENTAL_DAYS = (30, 300)
SUSPENSIONS_PER_YEAR = 0.002  # at propensity 1, scaled by propensity^1.5
SUSPENSION_DAYS = (14, 240)
RESTRICTED_DUTY_PER_YEAR = 0.02
RESTRICTED_DUTY_DAYS = (14, 180)
SICKNESS_PROPENSITY_POWER = 0.25  # sickness rate x propensity^power (weak link)

# ---------------------------------------------------------------------------------------
# Overtime and swaps

OVERTIME_HOURS_GAMMA = (2.0, 1.4)  # hours ~ gamma, rounded to quarter hours
OVERTIME_MAX_HOURS = 8.0
OVERTIME_START_HOURS = (6, 15)  # start hour uniform in [6, 15]
OVERTIME_RATE_SHARES = {"plain": 0.30, "time_and_half": 0.55, "double": 0.12, "bank_holiday": 0.03}
OVERTIME_REASON_SHARES = {
    "operation": 0.25,
    "court": 0.15,
    "late_finish": 0.35,
    "event": 0.10,
    "shortfall": 0.12,
    "other": 0.03,
}
OVERTIME_REJECTED = 0.04
OVERTIME_SUBMIT_DAYS = (0, 7)
OVERTIME_DECIDE_DAYS = (1, 21)
SWAPS_PER_MONTH = 0.3
SWAP_UNDECIDED = 0.02

# ---------------------------------------------------------------------------------------
# Complaints

COMPLAINT_ACCUSED_SHARES = (0.70, 0.22, 0.08)  # 1, 2 or 3 accused officers
ALLEGATIONS_PER_ACCUSED_SHARES = (0.70, 0.30)  # 1 or 2 allegations each
COMPLAINT_ACTIVITY_POWER = 0.5  # complaint rate x activity^power
COMPLAINT_SOURCE_SHARES = {"public": 0.80, "internal": 0.10, "conduct_matter": 0.08, "other": 0.02}
RECORD_DELAY_MEAN_DAYS = 8.0  # exponential
RECORD_LATE_SHARE = 0.03  # recorded 30-180 days later
RECORD_LATE_DAYS = (30, 180)
RECORD_EARLY_SHARE = 0.001  # data-quality case: recorded 1-5 days BEFORE occurred_at
DECISION_GAMMA = (2.0, 107.0)  # days from recording: median ~6 months, tail to ~2 years
DECISION_JITTER_DAYS = 30  # allegations of one case are decided within a month
WITHDRAWN_DELAY_FACTOR = 0.3
UPHELD_BASE = 0.12  # upheld probability at propensity 1
UPHELD_PROPENSITY_SLOPE = 0.8  # logit(p) = logit(base) + slope * log(propensity)
UPHELD_CAP = 0.95
NOT_UPHELD_FINDING_SHARES = {
    "not_upheld": 0.45,
    "unfounded": 0.10,
    "exonerated": 0.05,
    "no_finding": 0.10,
    "withdrawn": 0.10,
    "informal_resolution": 0.20,
}
UPHELD_OUTCOME_SHARES = {
    "words_of_advice": 0.22,
    "reflective_practice": 0.30,
    "management_action": 0.20,
    "written_warning": 0.14,
    "final_written_warning": 0.07,
    "reprimand": 0.03,
    "suspension": 0.01,
    "reduction_in_rank": 0.01,
    "dismissal": 0.02,
}
INFORMAL_OUTCOME_SHARES = {"reflective_practice": 0.5, "words_of_advice": 0.3, "none": 0.2}
SERIOUS_CATEGORIES = ("corruption", "sexual_misconduct", "discrimination", "dishonesty")
SERIOUS_SHIFT_PER_PROPENSITY = 0.02  # P(serious category) += 0.02 x propensity (cap 0.4)
CATEGORY_SHARES = {  # by unit function of the primary accused
    "response": {
        "use_of_force": 0.22, "discourtesy": 0.22, "abuse_of_authority": 0.10,
        "unlawful_search_or_arrest": 0.14, "neglect_of_duty": 0.14, "property": 0.05,
        "discrimination": 0.05, "other": 0.08,
    },
    "public_order": {
        "use_of_force": 0.35, "discourtesy": 0.20, "abuse_of_authority": 0.12,
        "unlawful_search_or_arrest": 0.12, "discrimination": 0.06, "other": 0.15,
    },
    "custody": {
        "use_of_force": 0.30, "neglect_of_duty": 0.30, "discourtesy": 0.20,
        "property": 0.10, "other": 0.10,
    },
    "roads": {
        "discourtesy": 0.35, "neglect_of_duty": 0.20, "abuse_of_authority": 0.15,
        "unlawful_search_or_arrest": 0.10, "other": 0.20,
    },
    "neighbourhood": {
        "discourtesy": 0.28, "neglect_of_duty": 0.28, "abuse_of_authority": 0.10,
        "information_misuse": 0.06, "unlawful_search_or_arrest": 0.08, "other": 0.20,
    },
    "investigation": {
        "neglect_of_duty": 0.40, "discourtesy": 0.15, "dishonesty": 0.10,
        "information_misuse": 0.15, "property": 0.08, "other": 0.12,
    },
    "specialist": {
        "use_of_force": 0.25, "neglect_of_duty": 0.25, "discourtesy": 0.20,
        "abuse_of_authority": 0.10, "other": 0.20,
    },
    "back_office": {
        "information_misuse": 0.25, "discourtesy": 0.25, "neglect_of_duty": 0.20,
        "off_duty_conduct": 0.15, "other": 0.15,
    },
    "other": {"other": 1.0},
}
COMPLAINANTS_TWO_SHARE = 0.15
REPEAT_COMPLAINANT_SHARE = 0.07  # complainants drawn from a small pool of repeat complainants
COMPLAINANT_GENDER_SHARES = {"M": 0.58, "F": 0.40, "": 0.02}
COMPLAINANT_ETHNICITY_SHARES = {"A": 0.60, "B": 0.18, "C": 0.12, "D": 0.07, "": 0.03}
AGE_BAND_SHARES = {
    "18-24": 0.18, "25-34": 0.27, "35-44": 0.22, "45-54": 0.17, "55-64": 0.10, "65+": 0.05,
    "": 0.01,
}
DISMISSAL_WINDOW_DAYS = 365  # a dismissal outcome needs the officer gone within a year

# ---------------------------------------------------------------------------------------
# Use of force

USE_OF_FORCE_PAIR_SHARE = 0.30  # incidents reported by two officers
SUBJECT_INJURED = 0.10
OFFICER_INJURED = 0.05
FORCE_TYPE_SHARES = {
    "custody": {"restraint": 0.60, "unarmed": 0.25, "irritant_spray": 0.05, "other": 0.10},
    "specialist": {
        "firearm_drawn": 0.40, "firearm_discharged": 0.005, "taser_drawn": 0.20,
        "taser_discharged": 0.05, "restraint": 0.20, "dog": 0.10, "other": 0.045,
    },
    "roads": {"vehicle": 0.20, "restraint": 0.40, "unarmed": 0.20, "taser_drawn": 0.10,
              "irritant_spray": 0.05, "other": 0.05},
    "default": {
        "restraint": 0.38, "unarmed": 0.22, "taser_drawn": 0.15, "taser_discharged": 0.04,
        "irritant_spray": 0.08, "baton": 0.04, "dog": 0.01, "other": 0.08,
    },
}

# ---------------------------------------------------------------------------------------
# Reviews, training, commendations, declarations, other events

REVIEW_MONTH_DAY = (3, 31)  # the review year ends on 31 March
REVIEW_MISSING = 0.05
REVIEW_MIN_DAYS_SERVED = 180
REVIEW_SIGNOFF_DAYS = (0, 60)
REVIEW_PROPENSITY_SLOPE = 0.35  # latent score -= slope * log(propensity)
REVIEW_RATING_SHARES = (0.05, 0.25, 0.60, 0.08, 0.02)  # exceptional .. unsatisfactory
MANDATORY_MISSED = 0.04  # x propensity^0.5
MANDATORY_FAILED = 0.02
OTHER_COURSES_PER_YEAR = 1.5
OTHER_COURSE_RESULTS = {"passed": 0.82, "attended": 0.12, "failed": 0.03, "missed": 0.03}
COURSES_PER_CATEGORY = 6
TRAINING_BY_FUNCTION = {
    "response": {"public_safety": 0.35, "first_aid": 0.25, "driving": 0.15, "ethics": 0.1,
                 "leadership": 0.05, "other": 0.10},
    "roads": {"driving": 0.55, "first_aid": 0.15, "public_safety": 0.1, "other": 0.2},
    "specialist": {"firearms": 0.45, "specialist": 0.25, "first_aid": 0.15, "other": 0.15},
    "public_order": {"public_safety": 0.55, "first_aid": 0.2, "driving": 0.1, "other": 0.15},
    "default": {"first_aid": 0.20, "ethics": 0.20, "leadership": 0.15, "specialist": 0.15,
                "public_safety": 0.1, "other": 0.20},
}
COMMENDATION_KIND_SHARES = {
    "commander": 0.40, "chief_officer": 0.15, "public_letter": 0.35, "bravery": 0.05, "other": 0.05,
}
COMMENDATION_DELAY_DAYS = (30, 150)
DECLARING_OFFICERS = 0.10
DECLARATION_SECOND_SHARE = 0.20
DECLARATION_KIND_SHARES = {
    "secondary_employment": 0.45, "business_interest": 0.25, "association": 0.10,
    "gift_hospitality": 0.15, "other": 0.05,
}
DECLARATION_DECISION_SHARES = {"approved": 0.80, "noted": 0.12, "refused": 0.05, "pending": 0.03}
DECLARATION_ENDED_SHARE = 0.35
SECONDARY_INCOME_GBP = (6.0, 0.6)  # lognormal(mu, sigma) per monthly pay record: ~GBP 480
VEHICLE_ACCIDENT_OUTCOMES = {"not_blameworthy": 0.55, "blameworthy": 0.45}
VEHICLE_ACCIDENT_SUBTYPES = {"damage_only": 0.75, "minor_injury": 0.2, "serious_injury": 0.05}
INJURY_SUBTYPES = {"assault": 0.45, "accident": 0.40, "other": 0.15}
PURSUIT_OUTCOMES = {"stopped": 0.55, "abandoned": 0.35, "collision": 0.10}

# ---------------------------------------------------------------------------------------
# System access (look-ups)

ACCESS_KIND_SHARES = {
    "person": 0.42, "vehicle": 0.25, "address": 0.10, "crime": 0.13, "intelligence": 0.08,
    "other": 0.02,
}
ACCESS_SYSTEMS = {  # record kind -> (systems, shares)
    "person": (("PNC", "PND", "LOCAL_INTEL"), (0.5, 0.3, 0.2)),
    "vehicle": (("PNC",), (1.0,)),
    "address": (("LOCAL_INTEL", "COMMAND_CONTROL"), (0.5, 0.5)),
    "crime": (("CRIME_RECORDS",), (1.0,)),
    "intelligence": (("LOCAL_INTEL", "PND"), (0.7, 0.3)),
    "other": (("COMMAND_CONTROL", "CUSTODY"), (0.6, 0.4)),
}
ACCESS_REPEAT_SHARE = 0.20  # a look-up repeats the officer's previous subject (case work)
ACCESS_NO_CASE = 0.002  # look-ups without a case reference by clean officers
ACCESS_SUBJECTS_PER_OFFICER = 40  # subject pool size = max(100k, this x headcount)
DAY_SHIFT_HOURS = (7, 19)  # look-up hours for units that do not work nights
NIGHT_SHARE_AROUND_CLOCK = 0.25  # share of look-ups 23:00-07:00 in 24/7 units

# ---------------------------------------------------------------------------------------
# Planted integrity anomalies (ground truth only)

ANOMALY_KINDS = (
    "overtime_during_sickness",
    "overtime_during_leave",
    "overlapping_overtime",
    "excessive_overtime_hours",
    "lookups_without_case_reference",
    "repeated_subject_lookups",
    "out_of_hours_lookups",
    "lookups_after_complaint",
    "undeclared_secondary_income",
    "premium_day_swaps",
    "high_bradford_factor",
)
ACCESS_ANOMALY_KINDS = ANOMALY_KINDS[4:8]
ANOMALY_WINDOW_DAYS = 730  # non-access anomalies are planted in the last two years
ANOMALY_DESCRIPTIONS = {
    "overtime_during_sickness": "overtime claimed for a day inside a recorded sickness absence",
    "overtime_during_leave": "overtime claimed for a day inside recorded annual leave",
    "overlapping_overtime": "two overtime claims whose claimed hours overlap",
    "excessive_overtime_hours": "a single overtime claim of more than 16 hours",
    "lookups_without_case_reference": "look-up with no case reference",
    "repeated_subject_lookups": "repeated look-up of the same subject far beyond peers",
    "out_of_hours_lookups": "burst of look-ups between 01:00 and 05:00 by a day-shift officer",
    "lookups_after_complaint": "burst of look-ups of one person within days of a complaint "
    "about the officer",
    "undeclared_secondary_income": "secondary income in pay records with no declaration",
    "premium_day_swaps": "shift swap taking a premium-rate day far more often than peers",
    "high_bradford_factor": "one of many short sickness spells (high Bradford factor)",
}


def shares(mapping: dict[str, float], codes: tuple[str, ...]) -> np.ndarray:
    """Probabilities aligned to `codes` from a {code: share} mapping (normalised)."""
    out = np.array([mapping.get(code, 0.0) for code in codes], dtype=np.float64)
    unknown = set(mapping) - set(codes)
    if unknown:
        raise ValueError(f"unknown codes {sorted(unknown)}")
    return out / out.sum()


def function_array(attribute: str) -> np.ndarray:
    """One FunctionProfile attribute as an array indexed like schema.UNIT_FUNCTIONS."""
    return np.array([getattr(FUNCTION_PROFILES[f], attribute) for f in schema.UNIT_FUNCTIONS])


def rank_exposure_array() -> np.ndarray:
    return np.array([RANK_EXPOSURE[r] for r in schema.RANKS])
