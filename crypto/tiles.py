"""Tile paths, tile widths and entry bundles of the static log API (c2sp.org/tlog-tiles)."""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

from .errors import CryptoError

TILE_WIDTH = 256
MAX_LEVEL = 63
_ELEMENT = re.compile(r"[0-9]{3}")
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


def index_path(index: int) -> str:
    """A tile index as zero-padded 3-digit path elements, all but the last after an 'x'
    (1234067 → 'x001/x234/067')."""
    if index < 0:
        raise CryptoError("a tile index is not negative")
    elements = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        elements.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(elements))


def tile_path(level: int | str, index: int, width: int | None = None) -> str:
    """``tile/<L>/<N>[.p/<W>]``; ``level`` "entries" names an entry bundle."""
    suffix = f".p/{width}" if width is not None and width < TILE_WIDTH else ""
    return f"tile/{level}/{index_path(index)}{suffix}"


def parse_level(text: str) -> int:
    if not _LEVEL.fullmatch(text) or int(text) > MAX_LEVEL:
        raise CryptoError("a tile level is 0 to 63, without leading zeroes")
    return int(text)


def parse_index(path: str) -> tuple[int, int]:
    """The index and width of ``<N>[.p/<W>]`` (width 256 for a full tile), refusing any
    spelling but the canonical one."""
    width = TILE_WIDTH
    if ".p/" in path:
        path, partial = path.split(".p/", 1)
        if not _WIDTH.fullmatch(partial) or int(partial) >= TILE_WIDTH:
            raise CryptoError("a partial tile's width is 1 to 255, without leading zeroes")
        width = int(partial)
    *upper, last = path.split("/")
    if not _ELEMENT.fullmatch(last) or any(
            not (e.startswith("x") and _ELEMENT.fullmatch(e[1:])) for e in upper):
        raise CryptoError("a tile index is 3-digit path elements, all but the last after 'x'")
    index = int("".join(e.lstrip("x") for e in [*upper, last]))
    if index_path(index) != path:
        raise CryptoError("a tile index has no leading zero elements")
    return index, width


def tile_count(size: int, level: int) -> int:
    """How many hashes level ``level`` holds for a tree of ``size`` leaves (full subtrees of
    256**level leaves)."""
    return size // TILE_WIDTH ** level


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    """The entries, each after its big-endian uint16 length."""
    out = bytearray()
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise CryptoError("an entry of a bundle is at most 65535 bytes")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise CryptoError("the entry bundle is truncated")
        (length,) = struct.unpack(">H", data[at:at + 2])
        if at + 2 + length > len(data):
            raise CryptoError("the entry bundle is truncated")
        entries.append(data[at + 2:at + 2 + length])
        at += 2 + length
    return entries
