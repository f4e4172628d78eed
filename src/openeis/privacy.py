"""Pseudonymisation key and keyed HMAC pseudonyms.

The key lives in its own file (0600) beside the store and never enters the database, so a
copy of the store alone cannot be re-identified. Two stores given the same key file give
the same pseudonyms to the same people, so snapshots and engines can be compared.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from openeis.sql_text import literal

KEY_BYTES = 32
PSEUDONYM_HEX_CHARS = 20  # 80 bits: collision-free in practice for any force's lifetime


class KeyFileError(Exception):
    """A problem with the pseudonymisation key file."""


def default_key_path(store: str) -> Path:
    """Beside a store file: openeis.duckdb -> openeis.key. For a server URL: ./openeis.key."""
    if "://" in store:
        return Path("openeis.key")
    path = Path(store)
    return path.with_suffix(".key")


def create_key_file(path: Path) -> bytes:
    """Write a new random key with 0600 permissions; refuse to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    # O_EXCL: never silently replace a key, which would orphan every pseudonym made with it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    os.chmod(path, 0o600)
    return key


def read_key_file(path: Path) -> bytes:
    if not path.exists():
        raise KeyFileError(
            f"pseudonymisation key file {path} not found: run `openeis init` "
            "(or pass --key-file to point at the force's key)"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"key file {path} is readable by others (mode {mode:o}); run `chmod 600 {path}`"
        )
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise KeyFileError(f"key file {path} does not hold a hex key") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"key file {path} holds {len(key)} bytes, expected {KEY_BYTES}")
    return key


def load_or_create_key(path: Path) -> tuple[bytes, bool]:
    """The key at path, creating it if absent. Returns (key, created)."""
    if path.exists():
        return read_key_file(path), False
    return create_key_file(path), True


@dataclass(frozen=True)
class Pseudonymiser:
    """Keyed HMAC-SHA256 pseudonyms, namespaced so an officer and a case never collide."""

    key: bytes

    def pseudonym(self, namespace: str, value: str) -> str:
        digest = hmac.new(self.key, f"{namespace}\x1f{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:PSEUDONYM_HEX_CHARS]

    def fingerprint(self) -> str:
        """Identifies the key without revealing it, so a store can refuse a wrong key."""
        return self.pseudonym("openeis-key-fingerprint", "v1")

    def sql_expression(self, value_sql: str, namespace: str) -> tuple[str, list[bytes]]:
        """The same pseudonym computed in SQL (DuckDB: sha256, unhex), vectorised and
        parallel: HMAC(k, m) = SHA256((k ^ opad) || SHA256((k ^ ipad) || m)).
        Returns the expression and its two parameters (the padded keys, never stored)."""
        block = self.key.ljust(64, b"\0")  # SHA-256 block size; keys <= 64 bytes are padded
        inner = bytes(b ^ 0x36 for b in block)
        outer = bytes(b ^ 0x5C for b in block)
        message = f"encode({literal(namespace)} || chr(31) || {value_sql})"
        expression = (
            f"CASE WHEN {value_sql} IS NULL THEN NULL ELSE "
            f"left(sha256(?::BLOB || unhex(sha256(?::BLOB || {message}))), {PSEUDONYM_HEX_CHARS}) END"
        )
        return expression, [outer, inner]
