"""Attachments (issue 21): photos, PDFs, plain text and CSV added to a case with a contribution.

The type is read from the bytes (`filetype` for the binary formats, UTF-8 without NUL bytes for
text), never from the name or the browser. Photos lose their metadata (EXIF GPS position,
camera serial, owner) before anything is stored: Pillow writes the pixels again, alone. The
bytes are then sealed under the case key in chunks, each bound to the attachment, its place
and whether it is the last, so chunks cannot be swapped, dropped or moved to another file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import filetype
from PIL import Image, UnidentifiedImageError

from cases.kernel.errors import InvalidInput
from crypto import CaseKey, canonical_json

IMAGES = ("image/jpeg", "image/png", "image/webp")
TYPES = (*IMAGES, "application/pdf", "text/plain", "text/csv")
CHUNK = 1024 * 1024
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def file_type(upload: Upload) -> str:
    """The attachment's type as its bytes say, or a refusal naming the field."""
    kind = filetype.guess(upload.data[:8192])
    if kind is not None:
        if kind.mime in TYPES:
            return str(kind.mime)
    elif b"\x00" not in upload.data:
        try:
            upload.data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "text/csv" if upload.name.lower().endswith(".csv") else "text/plain"
    raise InvalidInput("Attach a photo (JPEG, PNG, WebP), a PDF, plain text or CSV: this "
                       "file is none of them, whatever its name says.", field="attachment")


def without_metadata(data: bytes, mime: str) -> bytes:
    """A photo written again with its pixels only: no EXIF, XMP, comments or text chunks."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            bare = Image.frombytes(image.mode, image.size, image.tobytes())
            if image.mode == "P" and (palette := image.getpalette()) is not None:
                bare.putpalette(palette)
            out = io.BytesIO()
            options = {"quality": 95} if mime == "image/jpeg" else {}
            if mime == "image/webp":
                options = {"lossless": True}
            bare.save(out, _PILLOW_FORMATS[mime], **options)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError):
        raise InvalidInput("This photo cannot be read: it is damaged or not what it claims.",
                           field="attachment") from None


def _context(blob_id: str, index: int, last: bool) -> bytes:
    return canonical_json({"attachment": blob_id, "chunk": index, "last": last})


def seal_chunks(key: CaseKey, blob_id: str, data: bytes) -> Iterator[bytes]:
    """The bytes sealed in chunks (at least one, so an empty file has its end too)."""
    count = max(1, -(-len(data) // CHUNK))
    for index in range(count):
        yield key.seal(data[index * CHUNK:(index + 1) * CHUNK],
                       _context(blob_id, index, index == count - 1))


def open_chunks(key: CaseKey, blob_id: str, sealed: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes again; raises `CryptoError` on a chunk changed, moved or missing (the last
    chunk must say it is the last)."""
    chunks = list(sealed)
    for index, token in enumerate(chunks):
        yield key.open(token, _context(blob_id, index, index == len(chunks) - 1))
