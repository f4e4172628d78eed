"""Sealing officers' identities into the identity vault, in the batch's own transaction.

The officers file's raw identifiers (the force's staff numbers) are read here, in this
process, next to their pseudonyms; each is sealed with the vault's public key (openeis.vault)
and only the seal reaches the store, in restricted.identity_vault. An officer is sealed once:
a re-ingest of the same roster changes nothing. Names are sealed only when the force asks
(`[privacy] vault_names`), from the officers file's name columns, which the ingest otherwise
discards unread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pyarrow as pa

from openeis.ingest.reader import CanonicalFile, ReadResult
from openeis.privacy import Pseudonymiser
from openeis.schema import PERSON_NAMES
from openeis.store import Store
from openeis.vault import PUBLIC_KEY_META, Sealer

NAME_PARTS = ("first_name", "middle_name", "last_name", "surname")  # joined in this order


@dataclass
class IdentitySealer:
    sealer: Sealer
    pseudonymiser: Pseudonymiser
    names: bool = False

    def __call__(self, store: Store, officers: ReadResult | CanonicalFile) -> int:
        """Seal the officers of this batch that the store now holds and the vault does not."""
        raw = sorted({v for batch in officers.batches() for v in batch.column("officer_id").to_pylist() if v})
        pseudonyms = {self.pseudonymiser.pseudonym("officer", r): r for r in raw}
        held = {r[0] for r in store.query("SELECT officer_id FROM officers")} & set(pseudonyms)
        sealed = {r[0] for r in store.query("SELECT officer_id FROM restricted.identity_vault")}
        todo = sorted(held - sealed)
        if not todo:
            return 0
        names = _names(officers) if self.names else {}
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
    out = {}
    for i, officer in enumerate(values["officer_id"]):
        whole = next((values[c][i] for c in ("full_name", "name") if c in values and values[c][i]), None)
        parts = [values[c][i] for c in NAME_PARTS if c in values and values[c][i]]
        text = whole or " ".join(p.strip() for p in parts)
        if officer and text:
            out[officer.strip()] = text.strip()
    return out
