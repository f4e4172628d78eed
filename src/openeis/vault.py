"""The identity vault's keys and seals: who a pseudonym is, for those entitled to ask.

The force's staff number (and, if the force wishes, the officer's name) is sealed at ingest
with HPKE (RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM; the `cryptography`
package) under the vault's public key, which the store keeps. Only the private key opens a seal,
and it lives in its own file (0600), apart from the pseudonymisation key and never in the store:
the ingest can seal but not open, a copy of the store identifies nobody, and a reveal (`openeis
reveal`, the officer page's button) needs the vault key, an entitled role and a reason, and is
logged. Each seal is bound to its pseudonym and field (HPKE's info), so a seal copied onto
another officer's row does not open.

Stores made before December 2026 hold an RSA vault key (3072-bit, RSA-OAEP with SHA-256, the
pseudonym as the OAEP label); they go on sealing and opening with it. New keys are X25519: made
in well under a millisecond, where an RSA key takes about a tenth of a second or more
(docs/benchmarks.md, "Identity vault").
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidKey, InvalidTag
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

PUBLIC_KEY_META = "identity_vault_public_key"  # store_meta: the PEM public key that seals


class VaultKeyError(Exception):
    """A problem with the identity vault key file or a seal."""


def default_vault_key_path(store: str) -> Path:
    """Beside a store file: openeis.duckdb -> openeis.vault.key. For a server URL:
    ./openeis.vault.key. A force should keep it elsewhere (the reveal service only)."""
    if "://" in store:
        return Path("openeis.vault.key")
    return Path(store).with_suffix(".vault.key")


VaultPrivateKey = x25519.X25519PrivateKey | rsa.RSAPrivateKey
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)


def _context(officer: str, field: str) -> bytes:
    """What a seal is bound to: its officer and field."""
    return f"openeis-vault|{field}|{officer}".encode()


def _oaep(officer: str, field: str) -> padding.OAEP:
    """The RSA seals of stores made before X25519 keys (the same binding, as the OAEP label)."""
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=_context(officer, field))


def key_id(public_pem: bytes) -> str:
    """Names the public key (a hash of it): seals made with another key are refused plainly."""
    return hashlib.sha256(public_pem.strip()).hexdigest()[:16]


def create_vault_key(path: Path) -> bytes:
    """A new private key in a 0600 file (never replacing one); returns the public key PEM."""
    private = x25519.X25519PrivateKey.generate()
    write_key_file(path, private)
    return public_pem(private)


def write_key_file(path: Path, private: PrivateKeyTypes) -> None:
    """`private` as PEM in a new 0600 file: never replacing one, never readable by others."""
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def public_pem(private: VaultPrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


def read_vault_key(path: Path) -> VaultPrivateKey:
    if not path.exists():
        raise VaultKeyError(f"identity vault key file {path} not found: the reveal service holds it "
                            "(pass --vault-key-file, or set [privacy] vault_key_file)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise VaultKeyError(f"vault key file {path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise VaultKeyError(f"vault key file {path} does not hold a private key") from None
    if not isinstance(key, (x25519.X25519PrivateKey, rsa.RSAPrivateKey)):
        raise VaultKeyError(f"vault key file {path} does not hold an identity vault key (X25519, or RSA from "
                            "before December 2026)")
    return key


@dataclass(frozen=True)
class Sealer:
    """Seals with the public key: what the ingest holds."""

    public_pem: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public_pem)

    def seal(self, officer: str, field: str, text: str) -> str:
        return self.seal_many([(officer, text)], field)[0]

    def seal_many(self, rows: list[tuple[str, str]], field: str) -> list[str]:
        """Each (officer, text) sealed, bound to the officer and the field."""
        public = serialization.load_pem_public_key(self.public_pem)
        if isinstance(public, x25519.X25519PublicKey):
            sealed = [_SUITE.encrypt(text.encode(), public, info=_context(officer, field)) for officer, text in rows]
        elif isinstance(public, rsa.RSAPublicKey):
            sealed = [public.encrypt(text.encode(), _oaep(officer, field)) for officer, text in rows]
        else:
            raise VaultKeyError("the store's identity vault key is neither X25519 nor RSA")
        return [base64.b64encode(seal).decode() for seal in sealed]


def open_seal(private: VaultPrivateKey, officer: str, field: str, sealed: str) -> str:
    try:
        if isinstance(private, x25519.X25519PrivateKey):
            return _SUITE.decrypt(base64.b64decode(sealed), private, info=_context(officer, field)).decode()
        return private.decrypt(base64.b64decode(sealed), _oaep(officer, field)).decode()
    except (ValueError, InvalidKey, InvalidTag):
        raise VaultKeyError(f"the vault entry of {officer} does not open with this vault key "
                            "(another key sealed it, or the entry was moved or altered)") from None
