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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

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


def new_key() -> bytes:
    """A new random key, in memory only: `openeis init` writes it once the store is known to
    take it (a refused init leaves no key behind)."""
    return secrets.token_bytes(KEY_BYTES)


def create_key_file(path: Path, key: bytes | None = None) -> bytes:
    """Write a key (a new random one unless given) with 0600 permissions; refuse to
    overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = key if key is not None else new_key()
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


# -- files holding personal data ------------------------------------------------------------


class PrivateFileError(Exception):
    """A file or folder for personal data that others could read."""


def private_directory(path: Path) -> Path:
    """A folder for personal data (a subject access export, audit rows): made 0700 if new;
    refused if it exists and others may enter it, since anything written there could be read."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        os.chmod(path, 0o700)  # whatever the umask
        return path
    if not path.is_dir():
        raise PrivateFileError(f"{path} exists and is not a folder")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PrivateFileError(f"{path} can be read by others (mode {mode:o}): give a new folder (it is made "
                               f"0700) or run `chmod 700 {path}` first")
    return path


@contextmanager
def write_private(path: Path) -> Iterator[TextIO]:
    """A text file only its owner can read (0600), replacing one that is there."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode otherwise
    with os.fdopen(descriptor, "w", newline="") as handle:
        yield handle


def write_private_text(path: Path, text: str) -> Path:
    with write_private(path) as handle:
        handle.write(text)
    return path
