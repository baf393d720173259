"""``--encrypt-to``: the export ZIP as an OpenPGP message, decrypted with the recipient's private key."""

import io
import shutil
import subprocess
import zipfile

import gnupg
import pytest
from requests_world import ALICE

from tutela.errors import InvalidInput
from tutela.requests.service import RequestService

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")


@pytest.fixture
def recipient(tmp_path):
    """A throwaway ed25519/cv25519 key pair without passphrase; the public key in a file."""
    home = tmp_path / "recipient-gnupg"
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    params = gpg.gen_key_input(key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH",
                               subkey_curve="cv25519", name_email="dpo@recipient.example",
                               no_protection=True, expire_date=0)
    key = gpg.gen_key(params)
    assert key.fingerprint, key.stderr
    public = tmp_path / "recipient.asc"
    public.write_text(gpg.export_keys(key.fingerprint))
    yield gpg, public
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False)


def test_encrypted_export_decrypts_with_the_private_key(sqlite_shop, recipient, tmp_path):
    gpg, public = recipient
    service = RequestService(sqlite_shop, actor="op", tenant="t1")
    req = service.create("access", [("email", ALICE)])
    service.mark_verified(req.id, "test")
    service.run(req.id)
    out = service.export_path(req.id, tmp_path / "alice.zip.gpg", encrypt_to=public)
    data = out.read_bytes()
    assert not data.startswith(b"PK") and b"Alice A" not in data
    plain = gpg.decrypt(data)
    assert plain.ok, plain.status
    archive = zipfile.ZipFile(io.BytesIO(plain.data))
    assert "manifest.json" in archive.namelist()
    assert b"Alice A" in archive.read("tables/shop.customers.json")
    assert service.show(req.id).history[-1].event == "exported"


def test_plain_export_path_writes_the_zip(sqlite_shop, tmp_path):
    service = RequestService(sqlite_shop, actor="op", tenant="t1")
    req = service.create("access", [("email", ALICE)])
    service.mark_verified(req.id, "test")
    service.run(req.id)
    out = service.export_path(req.id, tmp_path / "alice.zip")
    assert zipfile.is_zipfile(out) and (out.stat().st_mode & 0o777) == 0o600


def test_a_file_without_a_public_key_is_refused(sqlite_shop, tmp_path):
    service = RequestService(sqlite_shop, actor="op", tenant="t1")
    req = service.create("access", [("email", ALICE)])
    service.mark_verified(req.id, "test")
    service.run(req.id)
    bogus = tmp_path / "not-a-key.asc"
    bogus.write_text("hello")
    with pytest.raises(InvalidInput, match="no OpenPGP public key"):
        service.export_path(req.id, tmp_path / "x.gpg", encrypt_to=bogus)
    assert not (tmp_path / "x.gpg").exists()
