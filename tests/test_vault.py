"""The identity vault's keys and seals (openeis.vault): X25519 keys for new stores, and the RSA
keys of stores made before them, which go on sealing and opening."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519

from openeis.privacy import Pseudonymiser, read_key_file
from openeis.vault import (Sealer, VaultKeyError, create_vault_key, open_seal, public_pem, read_vault_key,
                           write_key_file)
from support.handmade import write_force


def test_a_new_vault_key_is_x25519_private_to_its_owner_and_never_replaced(tmp_path):
    path = tmp_path / "vault.key"
    public = create_vault_key(path)
    assert isinstance(read_vault_key(path), x25519.X25519PrivateKey)
    assert public == public_pem(read_vault_key(path))
    assert path.stat().st_mode & 0o077 == 0
    with pytest.raises(FileExistsError):
        create_vault_key(path)


@pytest.mark.parametrize("kind", ["x25519", "rsa"])
def test_a_seal_opens_only_for_its_officer_and_field_and_with_its_key(tmp_path, kind):
    make = {"x25519": x25519.X25519PrivateKey.generate,
            "rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072)}[kind]
    private, other = make(), make()
    sealer = Sealer(public_pem(private))
    seals = sealer.seal_many([("O1", "PC 1001"), ("O2", "PC 1002")], "staff_number")
    assert seals[0] != seals[1] and "PC 1001" not in seals[0]
    assert open_seal(private, "O1", "staff_number", seals[0]) == "PC 1001"
    assert open_seal(private, "O2", "staff_number", seals[1]) == "PC 1002"
    assert sealer.seal("O1", "name", "A. Officer") != sealer.seal("O1", "name", "A. Officer")  # randomised
    for officer, field, key in [("O2", "staff_number", private),  # moved onto another officer's row
                                ("O1", "name", private),  # moved into another field
                                ("O1", "staff_number", other)]:  # another vault's key
        with pytest.raises(VaultKeyError, match="does not open"):
            open_seal(key, officer, field, seals[0])


def test_a_key_file_of_another_kind_is_refused_plainly(tmp_path):
    path = tmp_path / "vault.key"
    write_key_file(path, ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(VaultKeyError, match="does not hold an identity vault key"):
        read_vault_key(path)


def test_a_store_made_with_an_rsa_vault_key_still_seals_and_reveals(cli, tmp_path):
    """A store initialised before X25519 keys: `openeis init` found its RSA key file and the
    store kept its public half; ingest seals with it and reveal opens with it."""
    write_key_file(tmp_path / "openeis.vault.key", rsa.generate_private_key(public_exponent=65537, key_size=3072))
    write_force(tmp_path / "in")
    cli("init")
    cli("ingest", tmp_path / "in")
    officer = Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("officer", "WX100001")
    revealed = json.loads(cli("reveal", "--officer", officer, "--reason", "vault test: an older store",
                              "--json").stdout)
    assert revealed["staff_number"] == "WX100001"
