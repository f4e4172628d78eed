"""Sealing officers' identities into the identity vault, in the batch's own transaction.

The officers file's raw identifiers (the force's staff numbers) are read here, in this
process, next to their pseudonyms; each is sealed with the vault's public key (openeis.vault)
and only the seal reaches the store, in restricted.identity_vault. An officer is sealed once:
a re-ingest of the same roster changes nothing. Names are sealed only when the force asks
(`[privacy] vault_names`), from the officers file's name columns, which the ingest otherwise
discards unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import pyarrow as pa

from openeis.ingest.problems import IngestFailed, Problem, printable
from openeis.ingest.reader import LINE_COLUMN, CanonicalFile, ReadResult
from openeis.privacy import Pseudonymiser
from openeis.schema import PERSON_NAMES
from openeis.store import Store
from openeis.vault import PUBLIC_KEY_META, Sealer

NAME_PARTS = ("first_name", "middle_name", "last_name", "surname")  # joined in this order
# A staff number or name longer than this is a typing or export error, refused where it is
# (and the RSA keys of older stores seal at most 318 bytes).
MAX_SEALED_BYTES = 200
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass
class IdentitySealer:
    sealer: Sealer
    pseudonymiser: Pseudonymiser
    names: bool = False

    def __call__(self, store: Store, officers: ReadResult | CanonicalFile) -> int:
        """Seal the officers of this batch that the store now holds and the vault does not."""
        raw = sorted(_staff_numbers(officers))
        pseudonyms = {self.pseudonymiser.pseudonym("officer", r): r for r in raw}
        held = {r[0] for r in store.query("SELECT officer_id FROM officers")} & set(pseudonyms)
        sealed = {r[0] for r in store.query("SELECT officer_id FROM restricted.identity_vault")}
        names = _names(officers) if self.names else {}  # checked, sealed or not
        todo = sorted(held - sealed)
        if not todo:
            return 0
        numbers = self.sealer.seal_many([(p, pseudonyms[p]) for p in todo], "staff_number")
        named = [(p, names[pseudonyms[p]]) for p in todo if names.get(pseudonyms[p])]
        sealed_names = dict(zip([p for p, _ in named], self.sealer.seal_many(named, "name")))
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        rows = pa.table({"officer_id": pa.array(todo, pa.string()), "staff_number": pa.array(numbers, pa.string()),
                         "name": pa.array([sealed_names.get(p) for p in todo], pa.string()),
                         "vault_key_id": pa.array([self.sealer.key_id] * len(todo), pa.string()),
                         "sealed_at": pa.array([now] * len(todo), pa.timestamp("us"))})
        with store.registered("_openeis_vault_rows", rows):
            store.execute("INSERT INTO restricted.identity_vault (officer_id, staff_number, name, vault_key_id, "
                          "sealed_at) SELECT officer_id, staff_number, name, vault_key_id, sealed_at "
                          "FROM _openeis_vault_rows")
        return len(todo)


def _staff_numbers(officers: ReadResult | CanonicalFile) -> set[str]:
    """The batch's raw staff numbers, each short enough to seal (control characters were
    refused already, with every other canonical check)."""
    numbers, problems = set(), []
    for batch in officers.batches():
        lines = batch.column(LINE_COLUMN).to_pylist() if LINE_COLUMN in batch.column_names else [None] * batch.num_rows
        for line, value in zip(lines, batch.column("officer_id").to_pylist()):
            if not value:
                continue
            if len(value.encode()) > MAX_SEALED_BYTES:
                problems.append(Problem(officers.source.name, line or 0, "officer_id", value[:40] + "...",
                                        f"longer than {MAX_SEALED_BYTES} bytes: too long for a staff number "
                                        "(and to seal in the identity vault)"))
            numbers.add(value)
    _refuse(problems)
    return numbers


def _check_name(file: str, line: int, column: str, text: str, problems: list[Problem]) -> None:
    if _CONTROL.search(text):
        problems.append(Problem(file, line, column, printable(text[:40]), "holds a control character (a NUL byte, "
                                "a line break, a tab or an escape): not allowed in a name"))
    elif len(text.strip().encode()) > MAX_SEALED_BYTES:
        problems.append(Problem(file, line, column, text[:40] + "...",
                                f"longer than {MAX_SEALED_BYTES} bytes: too long for a name"))


def _refuse(problems: list[Problem]) -> None:
    if problems:
        shown = "; ".join(str(p) for p in problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise IngestFailed(f"{len(problems)} value(s) cannot go into the identity vault: {shown}; nothing was written",
                           problems)


def sealer_for(store: Store, pseudonymiser: Pseudonymiser, names: bool = False) -> IdentitySealer | None:
    """The store's sealer, or None when the store has no vault key yet (`openeis init` makes one)."""
    public = store.get_meta(PUBLIC_KEY_META)
    return IdentitySealer(Sealer(public.encode()), pseudonymiser, names) if public else None


def _names(officers: ReadResult | CanonicalFile) -> dict[str, str]:
    """Raw officer id -> name, from the canonical officers file's name columns (CSV or Parquet)."""
    if not isinstance(officers, CanonicalFile):
        return {}
    path = officers.source.path
    if officers.source.is_parquet:
        import pyarrow.parquet as pq

        present = set(pq.read_schema(path).names)
        columns = ["officer_id", *[c for c in PERSON_NAMES if c in present]]
        table = pq.read_table(path, columns=columns)
    else:
        import pyarrow.csv as pacsv

        header = pacsv.open_csv(path).schema.names
        columns = ["officer_id", *[c for c in PERSON_NAMES if c in header]]
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            include_columns=columns, column_types={c: pa.string() for c in columns}))
    if len(columns) == 1:
        return {}
    values = {c: table.column(c).cast(pa.string()).to_pylist() for c in columns}
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for i, officer in enumerate(values["officer_id"]):
        line = i + (1 if officers.source.is_parquet else 2)  # a row number; a CSV's header is line 1
        for column in columns[1:]:
            if values[column][i]:
                _check_name(officers.source.name, line, column, values[column][i], problems)
        whole = next((values[c][i] for c in ("full_name", "name") if c in values and values[c][i]), None)
        parts = [values[c][i] for c in NAME_PARTS if c in values and values[c][i]]
        text = whole or " ".join(p.strip() for p in parts)
        if officer and text and len(text.strip().encode()) > MAX_SEALED_BYTES:
            problems.append(Problem(officers.source.name, line, "name", text[:40] + "...",
                                    f"the name's parts together are longer than {MAX_SEALED_BYTES} bytes"))
        elif officer and text:
            out[officer.strip()] = text.strip()
    _refuse(problems)
    return out
