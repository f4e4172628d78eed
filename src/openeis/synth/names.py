"""Fake personal data built from syllables ("Tavrin Oskelby", "14 Quenwick Lane").

These values go only into columns that ingestion discards, so that a privacy test can
check that no name ever reaches the store. They are made of invented syllables: no real
person, famous or not, is meant. No value contains a comma, quote or newline.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa

from openeis.synth.columns import join, lookup

FIRST_ONSETS = (
    "Tav", "Osk", "Mer", "Quil", "Yst", "Brav", "Dun", "Fel", "Gor", "Hal", "Jor", "Kes",
    "Lam", "Nor", "Pel", "Riv", "Sab", "Tor", "Ulv", "Vex", "Wyn", "Zan", "Cas", "Eld",
)
FIRST_CODAS = ("rin", "a", "en", "ia", "or", "is", "el", "wen", "ard", "ith", "o", "yn")
LAST_STEMS = (
    "Osk", "Brem", "Cal", "Dray", "Emb", "Fenn", "Grav", "Holm", "Ivr", "Jask", "Kerr", "Lod",
    "Marr", "Nesk", "Orr", "Pask", "Quen", "Rusk", "Sorv", "Thal", "Ulm", "Vask", "Wend",
    "Yarr", "Zell",
)
LAST_LINKS = ("el", "a", "i", "o", "en", "ar")
LAST_ENDS = ("by", "ton", "wick", "mere", "dale", "holt", "fen", "stow", "ley", "worth")
STREET_ENDS = ("wick", "mere", "dale", "holt", "field", "bury", "gate", "brook")
STREET_KINDS = ("Road", "Lane", "Close", "Street", "Way", "Gardens", "Row")

FIRST_NAMES = pa.array([a + b for a, b in itertools.product(FIRST_ONSETS, FIRST_CODAS)])
LAST_NAMES = pa.array(
    [a + b + c for a, b, c in itertools.product(LAST_STEMS, LAST_LINKS, LAST_ENDS)]
)
STREETS = pa.array(
    [f"{a}{b} {c}" for a, b, c in itertools.product(LAST_STEMS, STREET_ENDS, STREET_KINDS)]
)


def first_names(rng: np.random.Generator, n: int) -> pa.Array:
    return lookup(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n))


def last_names(rng: np.random.Generator, n: int) -> pa.Array:
    return lookup(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n))


def full_names(first: pa.Array, last: pa.Array) -> pa.Array:
    return join(first, last, separator=" ")


def addresses(rng: np.random.Generator, n: int) -> pa.Array:
    numbers = pa.array(rng.integers(1, 200, n)).cast(pa.string())
    streets = lookup(STREETS, rng.integers(0, len(STREETS), n))
    return join(numbers, streets, separator=" ")


CATEGORY_PHRASES = {
    "use_of_force": "used more force than was needed during an arrest",
    "discourtesy": "was rude and dismissive when asked for help",
    "abuse_of_authority": "threatened to arrest them without any reason",
    "discrimination": "treated them differently because of who they are",
    "dishonesty": "gave an untrue account of what happened",
    "corruption": "asked for money to make a matter go away",
    "sexual_misconduct": "made unwanted personal remarks and contact",
    "neglect_of_duty": "did not follow up a reported crime",
    "unlawful_search_or_arrest": "searched them without grounds",
    "property": "lost property that had been seized",
    "off_duty_conduct": "behaved badly while off duty",
    "information_misuse": "looked up their details without a reason",
    "other": "handled an incident badly",
}
