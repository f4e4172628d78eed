"""The synthetic force generator: valid, deterministic, realistic, biased when asked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
from pydantic import ValidationError

from openeis import schema
from openeis.synth import GROUND_TRUTH_DIR, STEPS, SynthOptions, generate_force, parse_bias
from openeis.synth.names import FIRST_NAMES, LAST_NAMES
from openeis.synth.profiles import ANOMALY_KINDS, HIGH_EXPOSURE_FUNCTIONS
from openeis.synth.validate import read_table, table_path, validate_dir

SMALL = dict(officers=400, years=3, seed=7, start="2016-04-01")


def load(out: Path, name: str):
    path = table_path(out, name)
    assert path is not None, f"{name} missing in {out}"
    return read_table(path, name)


def column(table, name: str) -> np.ndarray:
    return np.asarray(table[name].to_numpy(zero_copy_only=False))


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("small")
    calls: list[tuple[str, int, int]] = []
    def progress(step: str, done: int, total: int) -> None:
        calls.append((step, done, total))

    summary = generate_force(SynthOptions(**SMALL), out, progress=progress)
    summary["_progress_calls"] = calls  # type: ignore[assignment]
    return out, summary


# ---------------------------------------------------------------------------------------
# Options and bias specs


def test_parse_bias_specs():
    spec = parse_bias("upheld:group=B:1.5")
    assert (spec.kind, spec.attribute, spec.value, spec.target, spec.factor) == (
        "upheld", "ethnicity", "B", None, 1.5,
    )
    posting = parse_bias("posting:group=B:high_exposure:2.0")
    assert posting.target == "high_exposure"
    assert set(posting.target_functions) == set(HIGH_EXPOSURE_FUNCTIONS)
    assert parse_bias("posting:gender=F:2").target == "high_exposure"
    assert parse_bias("posting:gender=F:roads:0.5").target_functions == ("roads",)
    assert parse_bias("complaints:ethnicity=C:1.3").factor == 1.3
    assert str(parse_bias("upheld:group=B:1.5")) == "upheld:ethnicity=B:1.5"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("upheld:group=B", "expected KIND"),
        ("promotion:group=B:1.5", "unknown kind"),
        ("upheld:height=B:1.5", "unknown attribute"),
        ("upheld:group=Z:1.5", "ethnicity has values"),
        ("upheld:group=B:abc", "not a number"),
        ("upheld:group=B:-1", "positive"),
        ("upheld:group=B:response:1.5", "takes no target"),
        ("posting:group=B:nowhere:2", "posting target"),
        ("upheld:groupB:1.5", "expected KIND"),
    ],
)
def test_parse_bias_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_bias(spec)


def test_options_validate():
    opts = SynthOptions(officers=100, years=2, biases=["upheld:group=B:1.5"], start="2020-02-29")
    assert opts.biases[0].kind == "upheld"
    assert opts.end.isoformat() == "2022-02-28"
    with pytest.raises(ValidationError):
        SynthOptions(officers=5)
    with pytest.raises(ValidationError):
        SynthOptions(file_format="xlsx")
    with pytest.raises(ValidationError):
        SynthOptions(unknown_option=1)
    with pytest.raises(ValidationError):
        SynthOptions(biases=["upheld:group=Q:1.5"])


# ---------------------------------------------------------------------------------------
# Validity of the files


def test_files_are_valid_against_schema(small):
    out, summary = small
    assert validate_dir(out) == []
    for table in schema.TABLES:
        t = load(out, table.name)
        assert t.num_rows == summary[table.name], table.name
        assert t.num_rows > 0, table.name
        header = (out / f"{table.name}.csv").open().readline().strip().split(",")
        assert header[: len(table.column_names)] == list(table.column_names)
        assert set(header[len(table.column_names):]) <= set(table.discarded)


def test_validator_catches_problems(small, tmp_path):
    out, _ = small
    for path in out.glob("*.csv"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    lines = (tmp_path / "allegations.csv").read_text().splitlines()
    fields = lines[1].split(",")
    fields[4] = "sustained"  # not a finding code
    fields[2] = "W9999999"  # not an officer
    lines[1] = ",".join(fields)
    (tmp_path / "allegations.csv").write_text("\n".join(lines) + "\n")
    problems = validate_dir(tmp_path, snapshot="2019-04-01")
    assert any("allegations.finding" in p for p in problems)
    assert any("allegations.officer_id" in p and "not in officers" in p for p in problems)


def test_identifiers_and_times_look_like_source_data(small):
    out, _ = small
    officers = column(load(out, "officers"), "officer_id")
    assert all(len(o) == 8 and o.startswith("W") and o[1:].isdigit() for o in officers[:50])
    units = column(load(out, "units"), "unit_id")
    assert all(u.startswith("U") and u[1:].isdigit() for u in units)
    complaints = column(load(out, "complaints"), "complaint_id")
    assert all(c[0] == "C" and c[5] == "-" and len(c) == 12 for c in complaints[:50])
    with (out / "system_access.csv").open() as handle:
        handle.readline()
        row = handle.readline().split(",")
    assert row[6][10] == "T" and len(row[6]) == 19  # YYYY-MM-DDTHH:MM:SS
    with (out / "absences.csv").open() as handle:
        handle.readline()
        row = handle.readline().split(",")
    assert len(row[4]) == 10  # YYYY-MM-DD
    swaps = (out / "shift_swaps.csv").read_text()
    assert ",true," in swaps and ",false," in swaps


def test_roster_is_consistent(small):
    out, _ = small
    officers = load(out, "officers").to_pandas()
    postings = load(out, "postings").to_pandas()
    last = postings.sort_values(["officer_id", "occurred_at"]).groupby("officer_id").tail(1)
    last = last.set_index("officer_id")
    officers = officers.set_index("officer_id")
    assert (officers.loc[last.index, "unit_id"] == last["unit_id"]).all()
    assert (officers.loc[last.index, "rank"] == last["rank"]).all()
    # Postings of an officer never overlap; only the last may be open.
    postings = postings.sort_values(["officer_id", "occurred_at"])
    next_start = postings.groupby("officer_id")["occurred_at"].shift(-1)
    assert not (postings["ends_at"] >= next_start).any()
    assert not (postings["ends_at"].isna() & next_start.notna()).any()
    # Headcount: `officers` serving on any day; leavers were replaced.
    import pandas as pd

    for day in pd.date_range(SMALL["start"], periods=36, freq="MS"):
        serving = (officers["joined_at"] <= day) & ~(officers["left_at"] <= day)
        assert serving.sum() == SMALL["officers"], day
    assert len(officers) > SMALL["officers"]
    ranks = officers["rank"].value_counts(normalize=True)
    assert ranks.index[0] == "constable" and ranks["constable"] > 0.5


def test_findings_open_and_decided(small):
    out, _ = small
    allegations = load(out, "allegations").to_pandas()
    is_open = allegations["finding"] == "open"
    assert allegations.loc[is_open, "decided_at"].isna().all()
    assert allegations.loc[~is_open, "decided_at"].notna().all()
    assert is_open.any() and (allegations["finding"] == "upheld").any()
    complaints = load(out, "complaints").to_pandas().set_index("complaint_id")
    open_cases = set(allegations.loc[is_open, "complaint_id"])
    assert complaints.loc[list(open_cases), "decided_at"].isna().all()
    closed = complaints.index.difference(list(open_cases))
    assert complaints.loc[closed, "decided_at"].notna().all()


def test_progress_and_summary(small):
    out, summary = small
    calls = summary["_progress_calls"]
    assert [c[0] for c in calls] == list(STEPS)
    assert [c[1] for c in calls] == list(range(1, len(STEPS) + 1))
    assert all(c[2] == len(STEPS) for c in calls)
    assert summary["anomalies"] > 0


# ---------------------------------------------------------------------------------------
# Determinism and formats


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    options = dict(officers=300, years=3, seed=11)
    generate_force(SynthOptions(**options), tmp_path / "a")
    generate_force(SynthOptions(**options), tmp_path / "b")
    generate_force(SynthOptions(**{**options, "seed": 12}), tmp_path / "c")
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a.keys() == b.keys() == c.keys()
    assert a == b
    assert a["complaints.csv"] != c["complaints.csv"]
    assert a["duty_periods.csv"] != c["duty_periods.csv"]
    parquet = dict(officers=200, years=2, seed=11, file_format="parquet")
    generate_force(SynthOptions(**parquet), tmp_path / "p1")
    generate_force(SynthOptions(**parquet), tmp_path / "p2")
    assert _files(tmp_path / "p1") == _files(tmp_path / "p2")


def test_parquet_equals_csv(small, tmp_path):
    out, _ = small
    generate_force(SynthOptions(**SMALL, file_format="parquet"), tmp_path)
    assert not list(tmp_path.glob("*.csv"))
    for table in schema.TABLES:
        from_csv = load(out, table.name)
        from_parquet = load(tmp_path, table.name)
        assert from_parquet.equals(from_csv), table.name
    assert (tmp_path / GROUND_TRUTH_DIR / "officers.csv").is_file()


def test_rerun_replaces_files_of_other_format(tmp_path):
    generate_force(SynthOptions(officers=100, years=1, seed=1, file_format="parquet"), tmp_path)
    generate_force(SynthOptions(officers=100, years=1, seed=1), tmp_path)
    assert not list(tmp_path.glob("*.parquet"))
    assert validate_dir(tmp_path) == []


# ---------------------------------------------------------------------------------------
# Ground truth and planted anomalies


def test_ground_truth(small):
    out, summary = small
    truth = out / GROUND_TRUTH_DIR
    officers = load(out, "officers")
    gt = pacsv.read_csv(truth / "officers.csv").to_pandas()
    assert set(gt["officer_id"]) == set(column(officers, "officer_id"))
    assert 0.85 < gt["propensity"].mean() < 1.15
    assert gt["propensity"].max() > 3 * gt["propensity"].median()  # heavy tail
    effects = json.loads((truth / "effects.json").read_text())
    assert effects["seed"] == SMALL["seed"]
    assert effects["snapshot"] == "2019-04-01"
    assert effects["counts"]["officers"] == summary["officers"]
    assert "ethnicity" in effects["realised"]["by_attribute"]


def test_planted_anomalies_exist_and_hold(small):
    out, _ = small
    import pandas as pd

    anomalies = pd.read_csv(out / GROUND_TRUTH_DIR / "anomalies.csv")
    assert set(anomalies["kind"]) == set(ANOMALY_KINDS)
    assert (anomalies.groupby("kind")["officer_id"].nunique() >= 3).all()
    tables = {name: load(out, name).to_pandas() for name in anomalies["table"].unique()}
    for name, group in anomalies.groupby("table"):
        key = schema.table(name).key
        frame = tables[name].set_index(key)
        assert group["record_id"].isin(frame.index).all(), name
        assert (frame.loc[group["record_id"], "officer_id"].to_numpy() == group["officer_id"]).all()

    def records(kind):
        rows = anomalies[anomalies["kind"] == kind]
        frame = tables[rows["table"].iloc[0]]
        key = schema.table(rows["table"].iloc[0]).key
        planted = frame[key].isin(rows["record_id"])
        return frame[planted], frame[~frame[key].isin(anomalies["record_id"])]

    planted, normal = records("excessive_overtime_hours")
    assert (planted["hours"] > 16).all() and normal["hours"].max() <= 16
    planted, normal = records("lookups_without_case_reference")
    assert planted["case_reference"].isna().all()
    assert normal["case_reference"].isna().mean() < 0.005
    planted, _ = records("out_of_hours_lookups")
    assert planted["occurred_at"].dt.hour.between(1, 4).all()
    planted, normal = records("premium_day_swaps")
    assert planted["premium_day"].all() and normal["premium_day"].mean() < 0.4

    # Overtime inside absences happens only where planted.
    overtime = tables["overtime_claims"]
    absences = load(out, "absences").to_pandas()
    away = absences[absences["kind"].isin(["sickness", "annual_leave"])]
    joined = overtime.merge(away, on="officer_id", suffixes=("", "_absence"))
    day = joined["occurred_at"].dt.normalize()
    ends = joined["ends_at_absence"].fillna(pd.Timestamp("2200-01-01").as_unit("s"))
    inside = joined[(day >= joined["occurred_at_absence"]) & (day <= ends)]
    kinds = anomalies.set_index("record_id").loc[inside["claim_id"], "kind"]
    assert len(inside) > 0
    assert set(kinds) == {"overtime_during_sickness", "overtime_during_leave"}

    # Undeclared income: no declaration at all for those officers.
    declarations = load(out, "declarations").to_pandas()
    undeclared = anomalies.loc[anomalies["kind"] == "undeclared_secondary_income", "officer_id"]
    assert not undeclared.isin(declarations["officer_id"]).any()

    truth = pd.read_csv(out / GROUND_TRUTH_DIR / "officers.csv", keep_default_na=False)
    flagged = truth[truth["anomalies"] != ""]
    assert set(flagged["officer_id"]) == set(anomalies["officer_id"])


def test_fake_names_present_and_syllabic(small):
    out, _ = small
    officers = load(out, "officers")
    first = set(column(officers, "first_name"))
    last = set(column(officers, "last_name"))
    assert first <= set(FIRST_NAMES.to_pylist()) and last <= set(LAST_NAMES.to_pylist())
    complainants = load(out, "complainants")
    assert pc.all(pc.is_valid(complainants["address"])).as_py()
    complaints = load(out, "complaints").to_pandas()
    named = complaints[complaints["complainant_name"].notna()]
    assert len(named) > 0
    assert all(n in text for n, text in zip(named["complainant_name"], named["narrative"]))


# ---------------------------------------------------------------------------------------
# Bias injection (forces big enough for the effect to show; no system_access to save time)

BIG = dict(officers=12000, years=5, access_months=0)


def _group_rates(out: Path):
    import pandas as pd

    groups = load(out, "officer_characteristics").to_pandas().set_index("officer_id")["ethnicity"]
    allegations = load(out, "allegations").to_pandas()
    decided = allegations[allegations["finding"] != "open"]
    upheld = (decided["finding"] == "upheld").groupby(decided["officer_id"].map(groups)).mean()
    postings = load(out, "postings").to_pandas()
    sworn = postings[postings["rank"] != "staff"]
    high = sworn["unit_id"].map(
        load(out, "units").to_pandas().set_index("unit_id")["function"]
    ).isin(HIGH_EXPOSURE_FUNCTIONS)
    share = high.groupby(sworn["officer_id"].map(groups)).mean()
    odds = share / (1 - share)
    return upheld["B"] / upheld["A"], odds["B"] / odds["A"], pd


@pytest.mark.slow
def test_injected_bias_is_visible(tmp_path):
    biases = ["upheld:group=B:1.5", "posting:group=B:high_exposure:2.0"]
    generate_force(SynthOptions(**BIG, seed=21, biases=biases), tmp_path)
    upheld_ratio, posting_odds_ratio, _ = _group_rates(tmp_path)
    assert 1.3 <= upheld_ratio <= 1.7
    assert 1.6 <= posting_odds_ratio <= 2.5
    effects = json.loads((tmp_path / GROUND_TRUTH_DIR / "effects.json").read_text())
    realised = {b["spec"]: b for b in effects["realised"]["biases"]}
    assert realised["upheld:ethnicity=B:1.5"]["realised"] == pytest.approx(upheld_ratio, abs=1e-3)
    assert 1.6 <= realised["posting:ethnicity=B:high_exposure:2"]["realised"] <= 2.5


@pytest.mark.slow
def test_no_bias_no_group_effect(tmp_path):
    generate_force(SynthOptions(**BIG, seed=22), tmp_path)
    upheld_ratio, posting_odds_ratio, _ = _group_rates(tmp_path)
    assert 0.85 <= upheld_ratio <= 1.15
    assert 0.85 <= posting_odds_ratio <= 1.15
