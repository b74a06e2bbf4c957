"""Attachments as responses."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from flask import Response

from cases.casework.attachments import IMAGES


def file_response(name: str, mime: str, chunks: Iterable[bytes]) -> Response:
    """An attachment as a response: photos inline, everything else downloaded; its type is
    the one read from its bytes when it was added, never sniffed, never cached."""
    disposition = "inline" if mime in IMAGES else "attachment"
    return Response(chunks, mimetype=mime, headers={
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
