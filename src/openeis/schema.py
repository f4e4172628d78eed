"""The canonical data model: every table OpenEIS stores, its columns, codes and times.

This module is the single source of truth. Migrations create tables from it, ingestion
validates against it, and docs/data-model.md is generated from it (a test keeps them equal).

Three times make features leakage-free later on:
- ``occurred_at``: when the thing happened (for a span, when it began);
- ``recorded_at``: when the force knew of it;
- ``decided_at``: when a later decision (a finding, an approval) was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Privacy(str, Enum):
    """What ingestion does with a column's values."""

    KEEP = "keep"  # stored as given (codes, dates, counts: not identifying on their own)
    PSEUDONYMISE = "pseudonymise"  # replaced by a keyed HMAC pseudonym


class ColumnType(str, Enum):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # accepts YYYY-MM-DD or an ISO 8601 date-time


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = False
    codes: tuple[str, ...] | None = None
    references: str | None = None  # name of the referenced table (its key column)
    privacy: Privacy = Privacy.KEEP
    namespace: str | None = None  # pseudonym namespace; equal namespaces give equal pseudonyms
    minimum: float | None = None  # a quantity's least value (counts and hours: 0)
    calendar_year: bool = False  # a year: within the configured span of dates ([ingest])


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: str
    columns: tuple[Column, ...]
    restricted: bool = False  # protected data: lives in the `restricted` schema, audit only
    # Input columns that are accepted and discarded on the way in (data minimisation).
    discarded: tuple[str, ...] = ()
    # (start, end) column pairs where end before start is an error.
    spans: tuple[tuple[str, str], ...] = ()
    kind: str = "event"  # "reference" (roster, units) or "event"
    # (column, codes meaning "not decided yet"): such rows must have no decided_at, and
    # every other value needs one, because features trust a decision only from decided_at.
    decision: tuple[str, tuple[str, ...]] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def qualified_name(self) -> str:
        """Name to use in SQL: restricted tables live in their own schema."""
        return f"restricted.{self.name}" if self.restricted else self.name

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def has(self, name: str) -> bool:
        return name in self.column_names


# ---------------------------------------------------------------------------------------
# Code lists. Forces use their own words; adapters map them onto these.

RANKS = (
    "constable",
    "sergeant",
    "inspector",
    "chief_inspector",
    "superintendent",
    "chief_superintendent",
    "chief_officer",
    "staff",  # police staff, not sworn
    "other",
)
UNIT_FUNCTIONS = (
    "response",
    "neighbourhood",
    "roads",
    "custody",
    "investigation",
    "public_order",
    "specialist",
    "back_office",
    "other",
)
ROLES = (
    "patrol",
    "neighbourhood",
    "roads",
    "custody",
    "investigation",
    "public_order",
    "specialist",
    "supervision",
    "administration",
    "training",
    "other",
)
LEAVING_REASONS = ("retired", "resigned", "dismissed", "transferred", "deceased", "other")
COMPLAINT_SOURCES = ("public", "internal", "conduct_matter", "other")
ALLEGATION_CATEGORIES = (
    "use_of_force",
    "discourtesy",
    "abuse_of_authority",
    "discrimination",
    "dishonesty",
    "corruption",
    "sexual_misconduct",
    "neglect_of_duty",
    "unlawful_search_or_arrest",
    "property",
    "off_duty_conduct",
    "information_misuse",
    "other",
)
FINDINGS = (
    "open",  # not yet decided: never carries decided_at
    "upheld",  # sustained / substantiated
    "not_upheld",  # not sustained
    "unfounded",
    "exonerated",
    "no_finding",  # e.g. no affidavit, complainant unavailable
    "withdrawn",
    "informal_resolution",
)
DECIDED_FINDINGS = tuple(f for f in FINDINGS if f != "open")
ALLEGATION_OUTCOMES = (
    "none",
    "words_of_advice",
    "reflective_practice",
    "management_action",
    "written_warning",
    "final_written_warning",
    "reprimand",
    "suspension",
    "reduction_in_rank",
    "dismissal",
    "other",
)
FORCE_TYPES = (
    "firearm_discharged",
    "firearm_drawn",
    "taser_discharged",
    "taser_drawn",
    "baton",
    "irritant_spray",
    "restraint",
    "unarmed",
    "dog",
    "vehicle",
    "other",
)
ABSENCE_KINDS = ("sickness", "annual_leave", "parental", "suspension", "restricted_duty", "other")
SICKNESS_REASONS = (
    "musculoskeletal",
    "mental_health",
    "respiratory",
    "gastrointestinal",
    "injury_on_duty",
    "injury_off_duty",
    "other",
)
OVERTIME_RATES = ("plain", "time_and_half", "double", "bank_holiday")
OVERTIME_STATUSES = ("pending", "approved", "rejected")
OVERTIME_REASONS = ("operation", "court", "late_finish", "event", "shortfall", "other")
REVIEW_RATINGS = ("exceptional", "exceeds", "meets", "below", "unsatisfactory")
TRAINING_CATEGORIES = (
    "mandatory",
    "public_safety",
    "first_aid",
    "ethics",
    "leadership",
    "driving",
    "firearms",
    "specialist",
    "other",
)
TRAINING_RESULTS = ("passed", "failed", "attended", "missed")
COMMENDATION_KINDS = ("chief_officer", "commander", "public_letter", "bravery", "other")
ACCESS_RECORD_KINDS = ("person", "vehicle", "address", "crime", "intelligence", "other")
DECLARATION_KINDS = (
    "business_interest",
    "secondary_employment",
    "association",
    "gift_hospitality",
    "other",
)
DECLARATION_DECISIONS = ("pending", "approved", "refused", "noted")
OTHER_EVENT_TYPES_DOCUMENTED = (
    "vehicle_accident",
    "officer_injury",
    "pursuit",
    "secondary_income",
)


# ---------------------------------------------------------------------------------------
# Column helpers: the same columns recur in most tables.

T = ColumnType
P = Privacy


def _officer(required: bool = True, name: str = "officer_id") -> Column:
    return Column(
        name,
        T.STRING,
        "The officer (pseudonym of the force's officer identifier).",
        required=required,
        references="officers",
        privacy=P.PSEUDONYMISE,
        namespace="officer",
    )


def _complaint() -> Column:
    return Column(
        "complaint_id",
        T.STRING,
        "The complaint (pseudonym).",
        required=True,
        references="complaints",
        privacy=P.PSEUDONYMISE,
        namespace="complaint",
    )


def _record_key(name: str, namespace: str, what: str) -> Column:
    return Column(
        name,
        T.STRING,
        f"Source key of the {what} (pseudonymised: source keys can identify a case).",
        required=True,
        privacy=P.PSEUDONYMISE,
        namespace=namespace,
    )


def _occurred(description: str = "When it happened.") -> Column:
    return Column("occurred_at", T.TIMESTAMP, description, required=True)


def _recorded(description: str = "When the force knew of it.") -> Column:
    return Column("recorded_at", T.TIMESTAMP, description, required=True)


def _decided(description: str) -> Column:
    return Column("decided_at", T.TIMESTAMP, description)


def _code(name: str, codes: tuple[str, ...], description: str, required: bool = False) -> Column:
    return Column(name, T.STRING, description, required=required, codes=codes)


FREE_TEXT = ("narrative", "summary", "details", "notes", "free_text", "comments")
PERSON_NAMES = ("name", "first_name", "last_name", "full_name", "middle_name", "surname")
CONTACT = ("address", "postcode", "email", "phone", "telephone")


TABLES: tuple[Table, ...] = (
    Table(
        name="units",
        kind="reference",
        description="Organisational units (teams, stations, departments) and what they do. "
        "The unit's function decides whom an officer is compared with.",
        key="unit_id",
        columns=(
            Column("unit_id", T.STRING, "Unit code, as the force writes it.", required=True),
            Column("unit_name", T.STRING, "Unit name (not personal data)."),
            _code("function", UNIT_FUNCTIONS, "What the unit does.", required=True),
            Column("parent_unit_id", T.STRING, "Command or area the unit belongs to."),
            _recorded("When the unit entered the force's records."),
        ),
    ),
    Table(
        name="officers",
        kind="reference",
        description="The roster: one row per officer or member of staff, current or former.",
        key="officer_id",
        columns=(
            Column(
                "officer_id",
                T.STRING,
                "Pseudonym of the force's officer identifier (warrant or payroll number).",
                required=True,
                privacy=P.PSEUDONYMISE,
                namespace="officer",
            ),
            _code("rank", RANKS, "Current (or last) rank; rank over time is in postings.", True),
            Column("unit_id", T.STRING, "Current (or last) unit.", references="units"),
            Column("joined_at", T.TIMESTAMP, "Date the officer joined the force.", required=True),
            Column("left_at", T.TIMESTAMP, "Date the officer left; empty while serving."),
            _code("leaving_reason", LEAVING_REASONS, "Why the officer left."),
            _recorded("When the roster entry was made."),
        ),
        discarded=PERSON_NAMES + CONTACT + ("date_of_birth", "national_insurance_number"),
        spans=(("joined_at", "left_at"),),
        notes=(
            "An officer is in the cohort on a date when joined_at <= date and left_at is "
            "empty or after it.",
        ),
    ),
    Table(
        name="postings",
        description="Assignments over time: which unit, role and rank an officer held when. "
        "Peer comparison uses the posting held on the as-of date.",
        key="posting_id",
        columns=(
            _record_key("posting_id", "posting", "posting"),
            _officer(),
            Column("unit_id", T.STRING, "Unit of the posting.", required=True, references="units"),
            _code("role", ROLES, "Role in the unit.", required=True),
            _code("rank", RANKS, "Rank held during the posting.", required=True),
            _occurred("Start of the posting."),
            Column("ends_at", T.TIMESTAMP, "End of the posting; empty while current."),
            _recorded(),
        ),
        spans=(("occurred_at", "ends_at"),),
    ),
    Table(
        name="officer_characteristics",
        restricted=True,
        description="Protected characteristics, in the restricted schema. Used only to audit "
        "models and detectors for bias; never a model input.",
        key="officer_id",
        columns=(
            Column(
                "officer_id",
                T.STRING,
                "The officer (pseudonym).",
                required=True,
                references="officers",
                privacy=P.PSEUDONYMISE,
                namespace="officer",
            ),
            Column("ethnicity", T.STRING, "Self-declared ethnic group, in the force's codes."),
            Column("gender", T.STRING, "Gender, in the force's codes."),
            Column("birth_year", T.INTEGER, "Year of birth (age is a protected characteristic).", calendar_year=True),
            Column("disability", T.STRING, "Declared disability status."),
            Column("religion", T.STRING, "Religion or belief, where recorded."),
            Column("sexual_orientation", T.STRING, "Sexual orientation, where recorded."),
            _recorded(),
        ),
        discarded=PERSON_NAMES + ("date_of_birth",),
    ),
    Table(
        name="complaints",
        description="Complaints and conduct matters, one row per case.",
        key="complaint_id",
        columns=(
            _record_key("complaint_id", "complaint", "complaint"),
            _code("source", COMPLAINT_SOURCES, "Who raised it.", required=True),
            Column("area", T.STRING, "Where it happened (beat, ward or sector code)."),
            _occurred("When the incident complained of happened."),
            _recorded("When the complaint was received."),
            _decided("When the case was closed; empty while open."),
        ),
        discarded=FREE_TEXT + ("complainant_name", "complainant_address", "location_address"),
    ),
    Table(
        name="complainants",
        restricted=True,
        description="People who complained, minimised to what a bias audit of complaints "
        "needs. Restricted, and subject to their own retention rule.",
        key="complainant_id",
        columns=(
            _record_key("complainant_id", "complainant_record", "complainant record"),
            _complaint(),
            Column(
                "person_id",
                T.STRING,
                "The complainant as a person (pseudonym), to link repeat complainants.",
                privacy=P.PSEUDONYMISE,
                namespace="complainant",
            ),
            Column("gender", T.STRING, "Gender, in the force's codes."),
            Column("ethnicity", T.STRING, "Ethnic group, in the force's codes."),
            Column("age_band", T.STRING, "Age band at the time (for example 25-34)."),
            _recorded(),
        ),
        discarded=PERSON_NAMES + CONTACT + FREE_TEXT + ("date_of_birth",),
    ),
    Table(
        name="allegations",
        description="One row per allegation against one officer on one complaint, with its "
        "finding and when the finding was decided.",
        key="allegation_id",
        columns=(
            _record_key("allegation_id", "allegation", "allegation"),
            _complaint(),
            _officer(),
            _code("category", ALLEGATION_CATEGORIES, "What is alleged.", required=True),
            _code(
                "finding",
                FINDINGS,
                "The finding; `open` until decided. A decided finding needs decided_at.",
                required=True,
            ),
            _code("outcome", ALLEGATION_OUTCOMES, "Sanction or action after the finding."),
            _occurred("When the conduct alleged happened."),
            _recorded("When the allegation was recorded."),
            _decided("When the finding was decided; empty while open."),
        ),
        discarded=FREE_TEXT,
        decision=("finding", ("open",)),
        notes=(
            "Features count an allegation's finding only from decided_at: before that "
            "date it is open, whatever it later became.",
        ),
    ),
    Table(
        name="use_of_force",
        description="Use-of-force reports, one row per officer per incident.",
        key="use_of_force_id",
        columns=(
            _record_key("use_of_force_id", "use_of_force", "use-of-force report"),
            _officer(),
            Column(
                "incident_id",
                T.STRING,
                "Incident shared by officers on the same report (pseudonym).",
                privacy=P.PSEUDONYMISE,
                namespace="incident",
            ),
            _code("force_type", FORCE_TYPES, "Most serious force used.", required=True),
            Column("subject_injured", T.BOOLEAN, "The subject was injured."),
            Column("officer_injured", T.BOOLEAN, "The officer was injured."),
            _occurred(),
            _recorded("When the report was submitted."),
        ),
        discarded=FREE_TEXT + ("subject_name",),
    ),
    Table(
        name="absences",
        description="Sickness and other absence, including annual leave, as spans. "
        "Sickness reasons are health data: kept as a category only.",
        key="absence_id",
        columns=(
            _record_key("absence_id", "absence", "absence"),
            _officer(),
            _code("kind", ABSENCE_KINDS, "Kind of absence.", required=True),
            _code("reason", SICKNESS_REASONS, "Reason category (sickness only)."),
            _occurred("First day of absence."),
            Column("ends_at", T.TIMESTAMP, "Last day of absence; empty while ongoing."),
            _recorded("When the absence was reported."),
        ),
        discarded=FREE_TEXT + ("diagnosis",),
        spans=(("occurred_at", "ends_at"),),
    ),
    Table(
        name="duty_periods",
        description="Rostered duty per officer and period (usually a month): planned and "
        "worked shifts, hours on duty and arrests. This is the exposure that "
        "exposure-adjusted rates divide by.",
        key="duty_period_id",
        columns=(
            _record_key("duty_period_id", "duty_period", "duty period"),
            _officer(),
            Column("unit_id", T.STRING, "Unit worked for.", references="units"),
            Column("planned_shifts", T.INTEGER, "Shifts on the roster.", required=True, minimum=0),
            Column("shifts_worked", T.INTEGER, "Shifts actually worked.", required=True, minimum=0),
            Column("hours_on_duty", T.FLOAT, "Hours on duty, overtime included.", minimum=0),
            Column("arrests", T.INTEGER, "Arrests made.", minimum=0),
            _occurred("First day of the period."),
            Column("ends_at", T.TIMESTAMP, "Last day of the period.", required=True),
            _recorded("When the period's roster was closed."),
        ),
        spans=(("occurred_at", "ends_at"),),
    ),
    Table(
        name="overtime_claims",
        description="Overtime claims: the duty claimed for, hours, pay rate and approval.",
        key="claim_id",
        columns=(
            _record_key("claim_id", "overtime_claim", "overtime claim"),
            _officer(),
            Column("hours", T.FLOAT, "Hours claimed.", required=True, minimum=0),
            _code("rate", OVERTIME_RATES, "Pay rate claimed.", required=True),
            _code("reason", OVERTIME_REASONS, "Why the overtime was worked."),
            _code("status", OVERTIME_STATUSES, "Approval status.", required=True),
            _occurred("Start of the duty claimed for."),
            Column("ends_at", T.TIMESTAMP, "End of the duty claimed for."),
            _recorded("When the claim was submitted."),
            _decided("When the claim was approved or rejected."),
        ),
        discarded=FREE_TEXT,
        spans=(("occurred_at", "ends_at"),),
        decision=("status", ("pending",)),
    ),
    Table(
        name="shift_swaps",
        description="Shift swaps between officers.",
        key="swap_id",
        columns=(
            _record_key("swap_id", "shift_swap", "shift swap"),
            _officer(),
            _officer(required=False, name="other_officer_id"),
            Column("premium_day", T.BOOLEAN, "The shift taken falls on a premium-rate day."),
            _occurred("Date of the shift taken."),
            _recorded("When the swap was requested."),
            _decided("When the swap was approved."),
        ),
    ),
    Table(
        name="performance_reviews",
        description="Performance and development reviews.",
        key="review_id",
        columns=(
            _record_key("review_id", "performance_review", "review"),
            _officer(),
            _code("rating", REVIEW_RATINGS, "Overall rating.", required=True),
            _occurred("End of the period reviewed."),
            _recorded("When the review was signed off."),
        ),
        discarded=FREE_TEXT + ("reviewer_name",),
    ),
    Table(
        name="training",
        description="Training courses attended, passed, failed or missed.",
        key="training_id",
        columns=(
            _record_key("training_id", "training", "training record"),
            _officer(),
            _code("category", TRAINING_CATEGORIES, "Kind of course.", required=True),
            Column("course", T.STRING, "Course code."),
            _code("result", TRAINING_RESULTS, "Result.", required=True),
            _occurred("Date of the course."),
            _recorded(),
        ),
    ),
    Table(
        name="commendations",
        description="Commendations and letters of appreciation.",
        key="commendation_id",
        columns=(
            _record_key("commendation_id", "commendation", "commendation"),
            _officer(),
            _code("kind", COMMENDATION_KINDS, "Kind of commendation.", required=True),
            _occurred("Date of the act commended."),
            _recorded("Date awarded."),
        ),
        discarded=FREE_TEXT,
    ),
    Table(
        name="system_access",
        description="Look-ups in police IT systems: who looked up what kind of record, when, "
        "and under which case reference, if any. Unauthorised look-ups are a frequent "
        "misconduct finding.",
        key="access_id",
        columns=(
            _record_key("access_id", "system_access", "look-up"),
            _officer(),
            Column("system", T.STRING, "System queried (for example PNC, local intelligence)."),
            _code("record_kind", ACCESS_RECORD_KINDS, "Kind of record looked up.", True),
            Column(
                "subject_id",
                T.STRING,
                "The person or record looked up (pseudonym), to see repeated look-ups.",
                privacy=P.PSEUDONYMISE,
                namespace="subject",
            ),
            Column(
                "case_reference",
                T.STRING,
                "Case or incident reference given for the look-up (pseudonym); empty if none.",
                privacy=P.PSEUDONYMISE,
                namespace="case",
            ),
            _occurred("Time of the look-up."),
            _recorded("When the log entry was written."),
        ),
        discarded=("search_terms", "subject_name") + FREE_TEXT,
    ),
    Table(
        name="declarations",
        description="Register of declared business interests, secondary employment, "
        "associations, gifts and hospitality.",
        key="declaration_id",
        columns=(
            _record_key("declaration_id", "declaration", "declaration"),
            _officer(),
            _code("kind", DECLARATION_KINDS, "What is declared.", required=True),
            _code("decision", DECLARATION_DECISIONS, "Decision on the declaration.", True),
            _occurred("Start of the interest or association."),
            Column("ends_at", T.TIMESTAMP, "End of the interest; empty if continuing."),
            _recorded("When it was declared."),
            _decided("When it was approved, refused or noted."),
        ),
        discarded=FREE_TEXT + ("counterparty_name", "business_name"),
        spans=(("occurred_at", "ends_at"),),
        decision=("decision", ("pending",)),
    ),
    Table(
        name="other_events",
        description="Extension point for event kinds without a table of their own, for "
        "example vehicle_accident, officer_injury, pursuit, secondary_income (pay records). "
        "Features treat each event_type like a table.",
        key="event_id",
        columns=(
            _record_key("event_id", "other_event", "event"),
            _officer(),
            Column("event_type", T.STRING, "Kind of event (lower_snake_case).", required=True),
            Column("subtype", T.STRING, "Finer kind, if any."),
            Column("outcome", T.STRING, "Outcome, if any."),
            Column("value", T.FLOAT, "A number attached to the event, if any."),
            _occurred(),
            _recorded(),
            _decided("When the outcome was decided, if it has one."),
        ),
        discarded=FREE_TEXT,
    ),
)

TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}


def table(name: str) -> Table:
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES_BY_NAME)}") from None


def ingest_order() -> list[Table]:
    """Tables with every referenced table before the tables that refer to it."""
    ordered: list[Table] = []
    done: set[str] = set()

    def visit(t: Table) -> None:
        if t.name in done:
            return
        for column in t.columns:
            if column.references and column.references != t.name:
                visit(TABLES_BY_NAME[column.references])
        done.add(t.name)
        ordered.append(t)

    for t in TABLES:
        visit(t)
    return ordered


PROTECTED_TABLES = tuple(t.name for t in TABLES if t.restricted)
