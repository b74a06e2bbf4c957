"""A stolen database holds no private key in clear: SQLite file bytes and a PostgreSQL dump."""

from __future__ import annotations

import base64
import re
import subprocess

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from cases.kernel.viewer import Viewer
from infra.settings import Settings
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.services import unavailable


def raw_database_bytes(settings: Settings) -> bytes:
    if not settings.is_postgres:
        files = sorted(settings.data_dir.glob("divex.sqlite*"))
        return b"".join(path.read_bytes() for path in files)
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    try:
        dump = subprocess.run(["pg_dump", "--data-only", url], check=True,
                              capture_output=True).stdout
        # bytea columns are dumped as \\x<hex>: add their decoded bytes to what is searched.
        return dump + b"".join(bytes.fromhex(h.decode())
                               for h in re.findall(rb"\\\\x([0-9a-f]+)", dump))
    except FileNotFoundError:
        unavailable("pg_dump is not installed")
    raise AssertionError("unreachable")


def private_key_forms(viewer: Viewer) -> list[bytes]:
    """Every way a private key of the viewer's keyring could appear in clear."""
    forms = []
    for version in viewer.keyring.versions:
        pair = viewer.keyring.get(version)
        for key in (pair.encryption, pair.signing):
            raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            forms += [raw, raw.hex().encode(), base64.b64encode(raw)]
    return forms


def test_raw_database_contains_no_private_key(exchange: Exchange, settings: Settings) -> None:
    exchange.directory.initialise("secretariat", PASSWORD)
    secretariat = exchange.directory.authenticate("secretariat", PASSWORD)
    exchange.directory.create_state(secretariat, "FRA", "state_party", "fra.admin", PASSWORD)
    admin = exchange.directory.authenticate("fra.admin", PASSWORD)
    exchange.directory.add_user(admin, "fra.analyst", PASSWORD, ["analyst"])
    admin = exchange.directory.rotate_state_keys(admin)
    exchange.ledger.recorder.datastore.engine.dispose()  # flush the SQLite WAL to the files

    dump = raw_database_bytes(settings)
    assert b"fra.analyst" in dump  # the dump is real: clear directory facts are in it
    for viewer in (secretariat, admin):
        for form in private_key_forms(viewer):
            assert form not in dump
