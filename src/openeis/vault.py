"""The identity vault's keys and seals: who a pseudonym is, for those entitled to ask.

The force's staff number (and, if the force wishes, the officer's name) is sealed at ingest
with RSA-OAEP (SHA-256, 3072-bit key; the `cryptography` package) under the vault's public
key, which the store keeps. Only the private key opens a seal, and it lives in its own file
(0600), apart from the pseudonymisation key and never in the store: the ingest can seal but not
open, a copy of the store identifies nobody, and a reveal (`openeis reveal`, the officer page's
button) needs the vault key, an entitled role and a reason, and is logged. Each seal is bound to
its pseudonym (the OAEP label), so a seal copied onto another officer's row does not open.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEY_BITS = 3072
PUBLIC_KEY_META = "identity_vault_public_key"  # store_meta: the PEM public key that seals


class VaultKeyError(Exception):
    """A problem with the identity vault key file or a seal."""


def default_vault_key_path(store: str) -> Path:
    """Beside a store file: openeis.duckdb -> openeis.vault.key. For a server URL:
    ./openeis.vault.key. A force should keep it elsewhere (the reveal service only)."""
    if "://" in store:
        return Path("openeis.vault.key")
    return Path(store).with_suffix(".vault.key")


def _oaep(officer: str, field: str) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                        label=f"openeis-vault|{field}|{officer}".encode())


def key_id(public_pem: bytes) -> str:
    """Names the public key (a hash of it): seals made with another key are refused plainly."""
    return hashlib.sha256(public_pem.strip()).hexdigest()[:16]


def create_vault_key(path: Path) -> bytes:
    """A new private key in a 0600 file (never replacing one); returns the public key PEM."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return public_pem(private)


def public_pem(private: rsa.RSAPrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


def read_vault_key(path: Path) -> rsa.RSAPrivateKey:
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
    if not isinstance(key, rsa.RSAPrivateKey):
        raise VaultKeyError(f"vault key file {path} does not hold an RSA key")
    return key


@dataclass(frozen=True)
class Sealer:
    """Seals with the public key: what the ingest holds."""

    public_pem: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public_pem)

    def seal(self, officer: str, field: str, text: str) -> str:
        public = serialization.load_pem_public_key(self.public_pem)
        assert isinstance(public, rsa.RSAPublicKey)
        return base64.b64encode(public.encrypt(text.encode(), _oaep(officer, field))).decode()

    def seal_many(self, rows: list[tuple[str, str]], field: str) -> list[str]:
        public = serialization.load_pem_public_key(self.public_pem)
        assert isinstance(public, rsa.RSAPublicKey)
        return [base64.b64encode(public.encrypt(text.encode(), _oaep(officer, field))).decode()
                for officer, text in rows]


def open_seal(private: rsa.RSAPrivateKey, officer: str, field: str, sealed: str) -> str:
    try:
        return private.decrypt(base64.b64decode(sealed), _oaep(officer, field)).decode()
    except (ValueError, InvalidKey):
        raise VaultKeyError(f"the vault entry of {officer} does not open with this vault key "
                            "(another key sealed it, or the entry was moved or altered)") from None
