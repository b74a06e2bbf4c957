"""Storing and reading an attachment: the checks every upload passes, its sealed chunks in the
blob table beside the signed event that names it, and its bytes again for a reader.

Used by contributions and trace request answers alike: the caller seals under its record's key
(the case's, or the trace request's) and stores the chunks in its own transaction, so the event
and its file are stored together or not at all.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

from cases.kernel.errors import InvalidInput
from cases.kernel.keystore import KeyStore
from crypto import CaseKey, CryptoError

from .attachments import IMAGES, Upload, file_type, open_chunks, seal_chunks, without_metadata


class AttachmentStore:
    def __init__(self, keystore: KeyStore, file_limit: int = 20 << 20,
                 case_limit: int = 200 << 20) -> None:
        self.keystore, self.file_limit, self.case_limit = keystore, file_limit, case_limit

    def checked(self, upload: Upload) -> tuple[bytes, str]:
        """The bytes to store (a photo without its metadata) and their type, or a refusal
        next to the field."""
        if len(upload.data) > self.file_limit:
            raise InvalidInput("A file may be at most %(limit)s MiB.", field="attachment",
                               limit=self.file_limit >> 20)
        mime = file_type(upload)
        return (without_metadata(upload.data, mime) if mime in IMAGES else upload.data), mime

    def store(self, session: Any, case_id: str, key: CaseKey, data: bytes,
              mime: str) -> dict[str, Any]:
        """Seals and stores the chunks, within the case's room; returns what the event
        records of the file (id, type, size, SHA-256 of the sealed chunks)."""
        if self.keystore.case_blob_bytes(session, case_id) + len(data) > self.case_limit:
            raise InvalidInput("The case's attachments would pass %(limit)s MiB: ask the "
                               "owner state to make room.", field="attachment",
                               limit=self.case_limit >> 20)
        blob_id, digest = uuid.uuid4().hex, hashlib.sha256()
        for index, sealed in enumerate(seal_chunks(key, blob_id, data)):
            digest.update(sealed)
            self.keystore.put_blob_chunk(session, blob_id, index, case_id, sealed)
        return {"id": blob_id, "type": mime, "size": len(data), "sha256": digest.hexdigest()}

    def read(self, session: Any, blob: dict[str, Any], key: CaseKey) -> Iterator[bytes]:
        """The file's bytes, once the stored chunks are shown to be those the signed event
        names."""
        sealed = self.keystore.blob_chunks(session, blob["id"])
        if hashlib.sha256(b"".join(sealed)).hexdigest() != blob["sha256"]:
            raise CryptoError("the stored attachment is not the one the signed event names")
        return open_chunks(key, blob["id"], sealed)
