"""The canonical byte encoding that signatures and hashes are computed over."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Encodes `value` as canonical JSON: the same bytes on every machine.

    The encoding is `json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False, allow_nan=False)` encoded as UTF-8: object keys sorted by code point,
    no whitespace, non-ASCII characters written as themselves (not `\\u` escapes), tuples
    written as arrays, `True`/`False`/`None` as `true`/`false`/`null`, integers in decimal.

    Only dict (with str keys), list, tuple, str, int, bool and None are accepted; float and
    anything else raise TypeError, because floats do not encode identically everywhere.
    """
    _check(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of `data` as 64 lowercase hex characters."""
    return hashlib.sha256(data).hexdigest()


# The types canonical JSON writes as they are (a str subclass, as its plain string).
PLAIN_TYPES = frozenset({str, int, bool, type(None)})


def _check(value: Any) -> None:
    kind = type(value)
    if kind is dict:
        if not set(map(type, value)) <= {str}:
            key = next(k for k in value if type(k) is not str)
            raise TypeError(f"canonical JSON object keys must be str, not {type(key).__name__}")
        items = value.values()
    elif kind in (list, tuple):
        items = value
    elif kind in PLAIN_TYPES or isinstance(value, str):
        return  # a str subclass (an enum's member) encodes as its plain string
    else:
        raise TypeError(f"canonical JSON cannot encode {kind.__name__}")
    if not set(map(type, items)) <= PLAIN_TYPES:  # the element types are tested in C, at once
        for item in items:
            _check(item)
