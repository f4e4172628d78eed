"""Transparency records, generated from the registry, the audits and the flags:

- a model card per live model (what it predicts, from what, how well, audited how);
- a UK Algorithmic Transparency Recording Standard (ATRS) record: tier 1 (a short public
  summary) and tier 2 (owner, purpose, data, model, human oversight, risks, mitigations,
  audits);
- public aggregate statistics (flags per period and source, review outcomes, audit verdicts)
  with every count under the suppression threshold shown as "<N", so that no small group of
  officers can be picked out.

Nothing here names or pseudonymises an officer: only counts and model metadata.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from openeis.config.transparency import TransparencyConfig
from openeis.html_report import escape, page, table
from openeis.models import registry
from openeis.store import Store


def suppress(count: int, threshold: int) -> int | str:
    return f"<{threshold}" if 0 < count < threshold else count


def live_models(store: Store) -> list[registry.RegisteredModel]:
    return registry.list_models(store, status="live")


def _latest_audit(store: Store, model_id: str) -> dict | None:
    rows = store.query("SELECT as_of, created_at, within_band, result FROM model_audits WHERE model_id = ? "
                       "ORDER BY created_at DESC LIMIT 1", [model_id])
    if not rows:
        return None
    as_of, created, within, result = rows[0]
    return {"as_of": as_of.isoformat(), "created_at": created.isoformat(timespec="seconds"),
            "within_band": bool(within), "result": json.loads(result)}


def model_card(store: Store, entry: registry.RegisteredModel) -> dict:
    audit = _latest_audit(store, entry.model_id)
    selection = entry.metrics.get("selection", {})
    chosen = selection.get("candidates", {}).get(entry.candidate, {})
    return {
        "model_id": entry.model_id,
        "status": entry.status,
        "predicts": f"{entry.label}: whether an officer will have an upheld allegation (on a "
                    "complaint recorded in the label window) after the scoring date",
        "model": {"candidate": entry.candidate, "kind": entry.kind, "parameters": entry.params},
        "trained": {"as_of": entry.trained_as_of.isoformat(), "training_dates": entry.train_dates,
                    "rows": entry.metrics.get("train_rows"), "positives": entry.metrics.get("train_positives")},
        "inputs": "Counts, rates and recency of the officer's own records as known on the scoring "
                  "date (complaints and findings, use of force, sickness and absence, duty, "
                  "overtime, system look-ups, other events, commendations, training, reviews), "
                  "comparison with peers in the same unit and role, role and unit function, "
                  "tenure. Never protected characteristics.",
        "validation": {"method": "temporal: trained on earlier dates, validated on later ones",
                       # models trained before issue 17 were selected on precision at capacity
                       "measure": selection.get("measure", "precision_at_capacity"),
                       "by_fold": chosen.get("folds"), "mean": chosen.get("mean"),
                       "fallback_to_baseline": selection.get("fallback")},
        "provenance": {"config_hash": entry.config_hash, "data_hash": entry.data_hash,
                       "code_version": entry.code_version},
        "bias_audit": None if audit is None else {"as_of": audit["as_of"], "within_band": audit["within_band"]},
        "use": "Each flag is a prompt for a human reviewer, with its reasons; never a verdict.",
    }


def atrs_record(store: Store, config: TransparencyConfig, cards: list[dict]) -> dict:
    return {
        "tier_1": {
            "name": "OpenEIS early-intervention system",
            "description": "Ranks officers by the estimated chance of a future upheld misconduct "
                           "finding, from the force's own records, and shows a small number each "
                           "period, with reasons, to supervisors who decide whether to act.",
            "purpose": config.purpose,
            "how_it_works": "A statistical model trained on past records scores every officer; "
                            "the highest scores, up to the reviewers' capacity, become flags, each "
                            "with the factors that raised it and how the officer compares with peers.",
            "human_decision": "A reviewer reads each flag and records a decision and rationale; "
                              "the system never decides anything about an officer.",
            "contact": config.contact,
        },
        "tier_2": {
            "owner": {"organisation": config.organisation, "team": config.team,
                      "senior_responsible_owner": config.senior_responsible_owner},
            "purpose_and_benefits": config.purpose,
            "data": {"sources": "complaints and allegations with findings, use of force, sickness "
                                "and absence, duty and overtime, rostering, performance reviews, "
                                "training, commendations, postings, system access, declarations",
                     "minimisation": "names, addresses and free text dropped on ingest; identifiers "
                                     "replaced by keyed pseudonyms",
                     "protected_characteristics": "held apart, used only to audit for bias",
                     "retention": "per-table retention rules applied by `openeis retention apply`"},
            "models": cards,
            "human_oversight": "Flags are limited to review capacity; each is reviewed by a person "
                               "who records a decision and rationale; promotion of a model to live "
                               "use requires a bias audit within the fairness band or a recorded "
                               "administrator override with a rationale.",
            "risks": ["labels reflect past findings, which may carry the bias of whoever decided them",
                      "workload and posting shape how many complaints an officer receives",
                      "a flag may be taken as an accusation",
                      "the model may go stale as practice changes"],
            "mitigations": ["bias audit with confidence intervals before any model is live",
                            "peer comparison with officers in the same unit and role",
                            "plain-language reasons on every flag; flags are prompts, not verdicts",
                            "monitoring of drift and of the realised precision of past flags",
                            "tamper-evident access log; subject access for officers"],
            "audits": [{"model_id": c["model_id"], **(c["bias_audit"] or {"status": "not audited"})} for c in cards],
        },
    }


def public_statistics(store: Store, threshold: int) -> dict:
    flags = store.query("SELECT as_of, source, status, count(*) FROM flags GROUP BY as_of, source, status "
                        "ORDER BY as_of, source, status")
    audits = store.query("SELECT within_band, count(*) FROM model_audits GROUP BY within_band")
    reviews = []
    if store.table_exists("reviews"):
        reviews = [{"decision": d, "count": suppress(n, threshold)}
                   for d, n in store.query("SELECT decision, count(*) FROM reviews GROUP BY decision ORDER BY decision")]
    return {
        "suppression": f"counts between 1 and {threshold - 1} are shown as '<{threshold}'",
        "flags": [{"as_of": a.isoformat(), "source": s, "status": st, "count": suppress(n, threshold)}
                  for a, s, st, n in flags],
        "review_outcomes": reviews,
        "audits": {"within_band": suppress(sum(n for w, n in audits if w), threshold),
                   "outside_band": suppress(sum(n for w, n in audits if not w), threshold)},
    }


def write_transparency(store: Store, config: TransparencyConfig, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    cards = [model_card(store, m) for m in live_models(store)]
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    atrs = atrs_record(store, config, cards)
    stats = public_statistics(store, config.suppression_threshold)
    files = {}
    for card in cards:
        path = out / f"model-card-{card['model_id']}.json"
        path.write_text(json.dumps(card, indent=1) + "\n")
        files[card["model_id"]] = str(path)
    (out / "atrs-record.json").write_text(json.dumps({"generated": generated, **atrs}, indent=1) + "\n")
    (out / "public-statistics.json").write_text(json.dumps({"generated": generated, **stats}, indent=1) + "\n")
    (out / "index.html").write_text(_html(atrs, stats, cards))
    return {"model_cards": len(cards), "directory": str(out)}


def _html(atrs: dict, stats: dict, cards: list[dict]) -> str:
    t1 = atrs["tier_1"]
    parts = ["<h2>Summary (ATRS tier 1)</h2>"]
    parts += [f"<p><b>{escape(k.replace('_', ' ').capitalize())}.</b> {escape(v)}</p>" for k, v in t1.items() if v]
    parts.append("<h2>Models in use</h2>")
    if not cards:
        parts.append("<p>No model is live.</p>")
    for c in cards:
        audit = c["bias_audit"]
        parts.append(f"<h3>{escape(c['model_id'])}</h3><p>{escape(c['predicts'])}. Model: "
                     f"{escape(c['model']['candidate'])}, trained as of {escape(c['trained']['as_of'])}. "
                     f"Bias audit: {escape('not audited' if audit is None else ('within the fairness band' if audit['within_band'] else 'outside the fairness band'))}"
                     f"{escape('' if audit is None else ' (as of ' + audit['as_of'] + ')')}.</p>")
    parts.append("<h2>Flags per period</h2><p>" + escape(stats["suppression"]) + "</p>")
    parts.append(table(["as of", "source", "status", "officers"],
                       [[f["as_of"], f["source"], f["status"], f["count"]] for f in stats["flags"]]))
    parts.append("<h2>Review outcomes</h2>")
    parts.append(table(["decision", "count"], [[r["decision"], r["count"]] for r in stats["review_outcomes"]])
                 if stats["review_outcomes"] else "<p>No reviews recorded yet.</p>")
    return page("OpenEIS transparency record", "".join(parts))
