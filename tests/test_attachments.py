"""Attachments (issue 21): the type read from the bytes, photos without their metadata, sealed in
chunks under the case key, stored with their event or not at all; from the attacker's side."""

from __future__ import annotations

import io
from typing import Any
from uuid import UUID

import pytest
from PIL import Image
from sqlalchemy import text

from cases.casework.attachments import CHUNK, Upload, open_chunks, seal_chunks
from cases.kernel.errors import InvalidInput, NotFound
from crypto import CaseKey, CryptoError
from infra.wiring import Exchange
from tests import test_contributions as base

people, shared, events = base.people, base.shared, base.events  # the same fixtures

PDF = b"%PDF-1.7\n" + b"Markings of the rifles: SECRET-MARK-7741\n" * 2000 + b"%%EOF\n"


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (120, 80, 40))
    exif = Image.Exif()
    exif[0x8825] = {2: (14.0, 41.0, 29.0), 1: "N"}  # GPS: where the officer stood
    exif[0xA431] = "CAMERA-SERIAL-5512"  # body serial number
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def download(exchange: Exchange, viewer: Any, contribution: UUID) -> tuple[str, str, bytes]:
    name, mime, chunks = exchange.contributions.attachment(viewer, contribution)
    return name, mime, b"".join(chunks)


def test_a_document_comes_back_whole_to_every_reader_only(exchange: Exchange, people: dict,
                                                           shared: UUID) -> None:
    added = exchange.contributions.contribute(people["DEU"], shared, "information", "",
                                              Upload("licence.pdf", PDF))
    for reader in ("FRA", "DEU.reviewer"):
        assert download(exchange, people[reader], added) == ("licence.pdf", "application/pdf",
                                                            PDF)
    with pytest.raises(NotFound):
        exchange.contributions.attachment(people["MLI"], added)
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        raw = b"".join(bytes(r[0]) for r in db.execute(text("SELECT sealed FROM divex_blobs")))
        logged = b"".join(bytes(r[0]) for r in db.execute(text("SELECT state FROM divex_events")))
    assert b"SECRET-MARK" not in raw + logged and b"licence.pdf" not in logged


def test_a_photo_loses_its_position_and_camera_serial(exchange: Exchange, people: dict,
                                                      shared: UUID) -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)
    added = exchange.contributions.contribute(people["DEU"], shared, "comment", "Markings",
                                              Upload("IMG_0042.jpg", original))
    _, mime, stored = download(exchange, people["FRA"], added)
    photo = Image.open(io.BytesIO(stored))
    assert mime == "image/jpeg" and photo.size == (64, 48)
    assert not photo.getexif() and b"CAMERA-SERIAL" not in stored and b"Exif" not in stored


@pytest.mark.parametrize(("name", "data"), [
    ("report.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200),  # an executable renamed
    ("notes.txt", "Fusils saisis à Kidira".encode("latin-1")),  # not UTF-8 text
    ("photo.jpg", b"\xff\xd8\xff\xe0" + b"not really a photo" * 10),
])
def test_a_file_that_is_not_what_it_claims_is_refused(exchange: Exchange, people: dict,
                                                      shared: UUID, name: str,
                                                      data: bytes) -> None:
    before = events(exchange)
    with pytest.raises(InvalidInput) as refused:
        exchange.contributions.contribute(people["DEU"], shared, "comment", "x",
                                          Upload(name, data))
    assert refused.value.field == "attachment" and events(exchange) == before


def test_limits_are_kept_before_anything_is_stored(exchange: Exchange, people: dict,
                                                   shared: UUID) -> None:
    contributions = exchange.contributions
    before = events(exchange)
    with pytest.raises(InvalidInput, match="at most 20 MiB"):
        contributions.contribute(people["DEU"], shared, "comment", "x",
                                 Upload("big.txt", b"a" * (25 << 20)))
    contributions.files.case_limit = len(PDF) + 10
    contributions.contribute(people["DEU"], shared, "comment", "", Upload("a.pdf", PDF))
    with pytest.raises(InvalidInput, match="attachments would pass"):
        contributions.contribute(people["DEU"], shared, "comment", "", Upload("b.pdf", PDF))
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        blobs = db.execute(text("SELECT COUNT(DISTINCT blob_id) FROM divex_blobs")).scalar()
    assert blobs == 1 and events(exchange) == before + 1


def test_chunks_cannot_be_dropped_swapped_or_moved() -> None:
    key = CaseKey.generate(1)
    data = bytes(range(256)) * (CHUNK // 128)  # two chunks
    sealed = list(seal_chunks(key, "blob-a", data))
    assert b"".join(open_chunks(key, "blob-a", sealed)) == data
    for tampered in (sealed[:1], sealed[::-1]):
        with pytest.raises(CryptoError):
            b"".join(open_chunks(key, "blob-a", tampered))
    with pytest.raises(CryptoError):
        b"".join(open_chunks(key, "blob-b", sealed))
