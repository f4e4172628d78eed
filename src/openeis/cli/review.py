"""queue, reveal: the review queue as a reviewer sees it, and re-identification on the record."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis.application import identity as identity_actions
from openeis.application import review as actions
from openeis.application.errors import Invalid
from openeis.application.models import parse_date
from openeis.governance.roles import Action
from openeis.cli.common import (DEFAULT_STORE, ConfigOption, KeyFileOption, StoreOption, VaultKeyFileOption, command,
                                console, session)


def register(app: typer.Typer) -> None:
    command(app)(queue)
    command(app)(reveal)


def queue(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="The period (default: the latest date with flags).")] = None,
    scope: Annotated[Optional[str], typer.Option("--scope", help="Only officers posted in this unit on the date.")] = None,
    status: Annotated[str, typer.Option("--status", help="open (new and in review), decided or all.")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print the queue as JSON for tools.")] = False,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """The review queues of a period: the conduct items that fit the review budget (model
    flags, rule flags and detector hits sharing one capacity, in the documented order), the
    welfare queue apart, and how many did not fit. Each caller sees the queues their role
    may read, in their scope (OPENEIS_SCOPE for a reviewer)."""
    statuses = {"open": actions.QUEUE_STATUSES, "decided": ("decided",), "all": ()}.get(status)
    if statuses is None:
        raise Invalid("--status must be open, decided or all")
    day = parse_date(as_of, "--as-of")
    with session(store, key_file, config) as caller:
        readable = [name for name in actions.QUEUES if caller.may(Action.READ, actions.flag_resource(name))]
        # a caller who may read neither is refused by the conduct queue, and the refusal logged
        queues = {name: actions.list_flags(caller, day, statuses, limit=10**9, queue=name, scope_unit=scope)
                  for name in readable or ["conduct"]}
    conduct = queues.get("conduct")
    welfare = queues.get("welfare")
    items = [_item(f) for q in queues.values() for f in q["flags"]]
    first = conduct or welfare or {}
    payload = {"as_of": first.get("as_of"), "capacity": conduct["capacity"] if conduct else 0, "items": items,
               "not_queued": {"rule": conduct["not_queued"]["rule"], "detector": conduct["not_queued"]["detector"],
                              "model": conduct["not_queued"]["model"]} if conduct else {"rule": 0, "detector": 0},
               "scope": scope, "status": status, "withdrawn_model_flags": conduct["withdrawn"] if conduct else 0}
    if welfare is not None:
        payload["welfare_capacity"] = welfare["capacity"]
        payload["welfare_not_queued"] = {k: v for k, v in welfare["not_queued"].items() if k != "model"}
    if as_json:
        print(json.dumps(payload, indent=1))
        return
    _print(payload)


def _item(flag: dict) -> dict:
    return {"flag": flag["flag_id"], "officer": flag["officer"], "source": flag["source"],
            "model": flag["model_id"] if flag["source"] == "model" else None,
            "model_status": flag["model_status"], "queue": flag["queue"],
            "reasons": flag["explanation"].get("sentences", []),
            "position": flag["position"], "status": flag["status"], "unit": flag["unit"], "rank": flag["rank"],
            "score": flag["score"], "as_of": flag["as_of"], "due_on": flag["due_on"],
            "assigned_to": flag["assigned_to"]}


def _print(payload: dict) -> None:
    table = RichTable(title=f"review queue as of {payload['as_of']} (conduct capacity {payload['capacity']})")
    for heading in ("#", "queue", "source", "officer", "unit", "status", "main reason"):
        table.add_column(heading)
    for item in payload["items"]:
        table.add_row(str(item["position"]), item["queue"], item["source"], item["officer"][:12], item["unit"] or "-",
                      item["status"], (item["reasons"] or ["-"])[0])
    console.print(table)
    missed = payload["not_queued"]
    console.print(f"not queued (over capacity): {missed.get('model', 0)} more model flags, {missed['rule']} more officers "
                  f"trigger a threshold rule, {missed['detector']} more detector hits. A flag is a prompt for "
                  "review, never a verdict.", highlight=False)


def reveal(
    officer: Annotated[str, typer.Option("--officer", help="The officer's pseudonym.")],
    reason: Annotated[str, typer.Option("--reason", help="Why you need to know who this is (goes into the access log).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    vault_key_file: VaultKeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Who a pseudonym is: the force's staff number (and name, if the force keeps it) from the
    identity vault, for an entitled role, with a reason, written to the access log."""
    with session(store, key_file, config, vault_key_file=vault_key_file) as caller:
        found = identity_actions.reveal(caller, officer, reason)
    if as_json:
        print(json.dumps({"officer": found.officer, "staff_number": found.staff_number, "name": found.name}))
        return
    console.print(f"officer {found.officer}: staff number {found.staff_number}"
                  + (f", {found.name}" if found.name else "") + " (this reveal is in the access log)", highlight=False,
                  markup=False)
