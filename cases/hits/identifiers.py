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


def identifiers(item: dict[str, Any]) -> list[str]:
    """The item's identifiers (one per serial number, or its headstamp and lot), each as
    the text the OPRF takes (UTF-8); none if the owner did not choose the check."""
    if item.get("match_check") != CHECKED:
        return []
    make = code(item.get("make"))
    found = [f"serial|{make}|{s}" for s in map(code, serials(item))
             if make and len(s) >= MIN_CHARS]
    headstamp, lot = code(item.get("headstamp")), code(item.get("lot"))
    if headstamp and len(lot) >= MIN_CHARS:
        found.append(f"lot|{headstamp}|{lot}")
    return [f"divex-match-v1|{f}" for f in dict.fromkeys(found)]


def why_not_checked(item: dict[str, Any]) -> str:
    """Why an item chosen for the check enters nothing ("" when it enters something)."""
    if item.get("match_check") != CHECKED or identifiers(item):
        return ""
    if serials(item) and not code(item.get("make")):
        return "no_make"
    return "too_short"
