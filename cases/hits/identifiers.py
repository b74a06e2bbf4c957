"""What identifies an item for the private hit check, normalised so that two states writing the
same marking differently compute the same identifier.

A firearm (or any item with a serial) is its make and serial number; ammunition is its
headstamp and lot. Spaces, dashes, dots and case do not count (`cases.search.terms.code`).
"""

from __future__ import annotations

from typing import Any

from cases.casework.content import serials
from cases.search.terms import code

MIN_CHARS = 4  # a serial (or lot) shorter than this matches too much to mean anything
CHECKED = "yes"  # an item's match_check when its owner chose the check


def identifiers(item: dict[str, Any]) -> dict[str, str]:
    """The item's identifiers (one per serial number, or its headstamp and lot), each as
    the text the OPRF takes (UTF-8), with the marking as the owner wrote it; none if the
    owner did not choose the check."""
    if item.get("match_check") != CHECKED:
        return {}
    found: dict[str, str] = {}
    make = code(item.get("make"))
    for written in serials(item):
        serial = code(written)
        if make and len(serial) >= MIN_CHARS:
            found.setdefault(f"divex-match-v1|serial|{make}|{serial}", written)
    headstamp, lot = code(item.get("headstamp")), code(item.get("lot"))
    if headstamp and len(lot) >= MIN_CHARS:
        found[f"divex-match-v1|lot|{headstamp}|{lot}"] = f"{item['headstamp']} · {item['lot']}"
    return found




def not_entered(item: dict[str, Any]) -> int:
    """How many of an item's markings its check leaves out (too short, or no make)."""
    if item.get("match_check") != CHECKED:
        return 0
    markings = len(serials(item)) + (1 if item.get("lot") or item.get("headstamp") else 0)
    return max(0, markings - len(identifiers(item)))
