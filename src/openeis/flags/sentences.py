"""Plain sentences for features: "4 complaints in the last 12 months".

Descriptions come from the feature plan (source, metric, window of each feature), with
nicer nouns for the built-in aggregations; anything unknown still gets a readable sentence
from its name. A reviewer must be able to read every factor without the data dictionary.
"""

from __future__ import annotations

import math
import re

from openeis.features.build import plan
from openeis.features.compile import FeatureSpec
from openeis.config.features import FeaturesConfig

WINDOW_WORDS = {"30d": "30 days", "90d": "90 days", "180d": "6 months", "1y": "12 months",
                "2y": "2 years", "5y": "5 years"}

NOUNS = {
    "complaints": "complaints",
    "allegations": "allegations",
    "allegations_open": "allegations still open",
    "allegations_upheld": "upheld allegations",
    "allegations_not_upheld": "allegations not upheld",
    "allegations_unfounded": "allegations found unfounded",
    "allegations_exonerated": "allegations where the officer was exonerated",
    "allegations_no_finding": "allegations with no finding",
    "allegations_withdrawn": "withdrawn allegations",
    "allegations_informal_resolution": "allegations resolved informally",
    "use_of_force": "uses of force",
    "use_of_force_subject_injured": "uses of force in which the subject was injured",
    "use_of_force_officer_injured": "uses of force in which the officer was injured",
    "sickness": "sickness",
    "duty": "",
    "overtime": "overtime claims",
    "overtime_rejected": "rejected overtime claims",
    "lookups": "police-system look-ups",
    "lookups_no_case": "police-system look-ups with no case reference",
    "lookups_night": "night-time police-system look-ups",
    "event_vehicle_accident": "vehicle accidents",
    "event_officer_injury": "officer injuries",
    "event_pursuit": "pursuits",
    "vehicle_accident_blameworthy": "blameworthy vehicle accidents",
    "pursuit_collision": "pursuits ending in a collision",
    "commendations": "commendations",
    "training_missed": "missed training sessions",
    "training_failed": "failed training assessments",
    "declarations_active": "active declared interests",
    "declarations_refused": "refused business-interest declarations",
    "premium_swaps": "shift swaps onto premium-rate days",
    "postings": "postings",
}
VALUE_NOUNS = {"shifts_worked": "shifts worked", "hours_on_duty": "hours on duty",
               "arrests": "arrests", "missed_shifts": "missed shifts", "hours": "overtime hours"}


def number(value: float) -> str:
    """1, 2.5, 0.33: no needless decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    value = float(value)
    if value.is_integer():
        return f"{int(value):,}"
    if abs(value) >= 10:
        return f"{value:,.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.1f}"


def _noun(stem: str) -> str:
    if stem in NOUNS:
        return NOUNS[stem]
    for prefix, template in (("allegations_", "{} allegations"), ("sanction_", "sanctions ({})"),
                             ("use_of_force_", "uses of force: {}"), ("review_", "performance reviews rated {}"),
                             ("absence_", "{}"), ("event_", "{}")):
        if stem.startswith(prefix):
            return template.format(stem[len(prefix):].replace("_", " "))
    return stem.replace("_", " ")


def singular(noun: str) -> str:
    """The noun phrase for one: "complaints in ..." -> "complaint in ...", "uses of force" ->
    "use of force", "sanctions: dismissal" -> "sanction: dismissal" (the first plural word)."""
    words = noun.split(" ")
    for i, word in enumerate(words):
        core = word.rstrip(":,")
        tail = word[len(core):]
        if core.endswith("ss") or not core.endswith("s") or len(core) < 3:
            continue
        if core.endswith("ies"):
            core = core[:-3] + "y"
        else:
            core = core[:-1]
        words[i] = core + tail
        break
    return " ".join(words)


def _counted(value, noun: str) -> str:
    """'1 complaint', '3 complaints': the number and the noun agreeing with it."""
    one = value is not None and not (isinstance(value, float) and math.isnan(value)) and float(value) == 1
    return f"{number(value)} {singular(noun) if one else noun}"


def _window(window: str) -> str:
    if window == "all":
        return "in their whole service"
    return f"in the last {WINDOW_WORDS.get(window, window)}"


def spec_phrase(spec: FeatureSpec, value: float) -> str:
    stem = _stem(spec)
    if spec.metric == "days_since":
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"no {_noun(stem)} on record"
        return f"{_counted(value, 'days')} since the last of their {_noun(stem)}"
    if spec.metric == "sum":
        what = VALUE_NOUNS.get(spec.value or "", (spec.value or "").replace("_", " "))
        return f"{_counted(value, what)} {_window(spec.window)}"
    if spec.metric == "days":
        return f"{_counted(value, 'days')} of {_noun(stem)} {_window(spec.window)}"
    if spec.metric == "spells":
        return f"{_counted(value, 'spells')} of {_noun(stem)} {_window(spec.window)}"
    return f"{_counted(value, _noun(stem))} {_window(spec.window)}"


def _stem(spec: FeatureSpec) -> str:
    name = spec.name
    if spec.metric == "days_since":
        return name[: -len("_days_since")]
    suffix = f"_{spec.value}_sum_{spec.window}" if spec.metric == "sum" else f"_{spec.metric}_{spec.window}"
    return name[: -len(suffix)] if name.endswith(suffix) else name


ATTRIBUTES = {
    "tenure_days": lambda v: f"{number(float(v) / 365.25)} years of service",
    "days_in_posting": lambda v: f"{number(v)} days in the current posting",
    "rank_level": lambda v: f"rank level {number(v)}",
    "posting_role": lambda v: f"role: {v}",
    "unit_function": lambda v: f"unit function: {v}",
    "coaccused_officers_5y": lambda v: f"{number(v)} officers named with them on complaints in the last 5 years",
    "coaccused_upheld_rate_5y": lambda v: f"upheld rate of the officers named with them on complaints: {_percent(v)}",
    "coaccused_upheld_5y": lambda v: f"{number(v)} upheld allegations against officers named with them on complaints",
    "upheld_share_all": lambda v: f"{_percent(v)} of their decided allegations upheld",
    "sickness_bradford_1y": lambda v: f"Bradford factor {number(v)} over the last 12 months (sickness spells squared times days)",
    "overtime_hours_per_shift_1y": lambda v: f"{number(v)} overtime hours per shift worked in the last 12 months",
    "peer_group_size": lambda v: f"{number(v)} officers in their peer group",
}


ATTRIBUTE_LABELS = {
    "tenure_days": "Length of service", "days_in_posting": "Days in the current posting",
    "rank_level": "Rank level", "posting_role": "Role", "unit_function": "Unit function",
    "coaccused_officers_5y": "Officers named with them on complaints in the last 5 years",
    "coaccused_upheld_rate_5y": "Upheld rate of the officers named with them on complaints",
    "coaccused_upheld_5y": "Upheld allegations against officers named with them on complaints",
    "upheld_share_all": "Share of their decided allegations upheld",
    "sickness_bradford_1y": "Bradford factor over the last 12 months",
    "overtime_hours_per_shift_1y": "Overtime hours per shift worked in the last 12 months",
    "peer_group_size": "Officers in their peer group",
}


def _percent(v) -> str:
    return "unknown" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):.0%}"


DERIVED = [
    (re.compile(r"^(\w+)_trend$"), lambda m, v: f"{_signed(v)} {NOUNS.get(m[1], m[1])} in the last 6 months compared with the 6 months before"),
    (re.compile(r"^(\w+)_per_100_shifts_1y$"), lambda m, v: f"{number(v)} {NOUNS.get(m[1], m[1])} per 100 shifts worked in the last 12 months"),
    (re.compile(r"^(\w+)_per_1000_hours_1y$"), lambda m, v: f"{number(v)} {NOUNS.get(m[1], m[1])} per 1,000 hours on duty in the last 12 months"),
    (re.compile(r"^(\w+)_per_arrest_1y$"), lambda m, v: f"{number(v)} {NOUNS.get(m[1], m[1])} per arrest in the last 12 months"),
]


def _signed(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "unknown change in"
    return ("+" if float(v) > 0 else "") + number(v)


class Describer:
    """Turns (feature, value) into a phrase, for one feature configuration."""

    def __init__(self, config: FeaturesConfig | None = None):
        self.specs = {s.name: s for s in plan(config or FeaturesConfig()).specs}

    def phrase(self, feature: str, value) -> str:
        if feature.endswith(("_peer_ratio", "_peer_pct", "_peer_poisson")):
            return self._peer_phrase(feature, value)
        if feature in self.specs:
            return spec_phrase(self.specs[feature], value)
        if feature in ATTRIBUTES:
            return ATTRIBUTES[feature](value)
        for pattern, make in DERIVED:
            m = pattern.match(feature)
            if m:
                return make(m, value)
        return f"{feature.replace('_', ' ')}: {number(value) if not isinstance(value, str) else value}"

    def _peer_phrase(self, feature: str, value) -> str:
        base, kind = feature.rsplit("_peer_", 1)
        what = self.phrase(base, float("nan")).replace("unknown ", "", 1)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"{what}: no peer comparison (peer group too small)"
        if kind == "ratio":
            return f"{what}: {number(value)} times their peers' median (counting one extra for both)"
        if kind == "pct":
            return f"{what}: more than {_percent(value)} of their peers"
        return (f"{what}: as many as happens by chance about 1 time in {number(10 ** float(value))} "
                "at their peers' rate for the same amount of work")

    def label(self, feature: str) -> str:
        """What the feature is, without a value: a chart's or a table's row label."""
        if feature.endswith(("_peer_ratio", "_peer_pct", "_peer_poisson")):
            return self.label(feature.rsplit("_peer_", 1)[0]) + " (against peers)"
        if feature in ATTRIBUTE_LABELS:
            return ATTRIBUTE_LABELS[feature]
        spec = self.specs.get(feature)
        if spec is not None and spec.metric == "days_since":
            return f"Days since the last of their {_noun(_stem(spec))}"
        text = self.phrase(feature, float("nan"))
        for unknown in ("unknown change in ", "unknown "):
            text = text.replace(unknown, "Change in " if unknown.startswith("unknown change") else "", 1)
        return text[:1].upper() + text[1:]

    def is_relative(self, feature: str) -> bool:
        """Peer-relative features already compare with peers: no peer median is quoted."""
        return feature.endswith(("_peer_ratio", "_peer_pct", "_peer_poisson")) or feature == "peer_group_size"
