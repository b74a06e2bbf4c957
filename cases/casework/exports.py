"""The cases a reader can read, in exchange formats: a STIX 2.1 bundle and CSV.

Both take the `CaseView`s the `Cases` service opened for the viewer, so they hold exactly
what the viewer's pages show. Identifiers and timestamps come from the cases themselves, so
two exports of the same data are identical. A case's objects are created by its owner state,
whoever exports them: STIX takes one id and ``modified`` as one version by one creator, so
two states exporting a shared case must agree on it.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

import stix2
from stix2.properties import IntegerProperty, ListProperty, StringProperty

from cases.casework.content import ITEM, LEG, serials
from cases.casework.view import CaseView

NAMESPACE = UUID("0c8e5a52-7f55-4b0e-9d5b-2a8cf1f7d7a4")
# A state's identity object has no date of its own in a case; a fixed one (the ATT's entry
# into force) keeps it identical from one export to the next.
STATE_IDENTITY_DATE = datetime(2014, 12, 24, tzinfo=UTC)
ITEM_FIELDS = tuple(spec.name for spec in ITEM)  # a CSV cell holds a line's serials, one per line
STIX_ITEM_FIELDS = (*(f for f in ITEM_FIELDS if f != "serial"), "serials")  # as a list
LEG_FIELDS = tuple(spec.name for spec in LEG)
CASE_COLUMNS = ("case_id", "title", "status", "tier", "owner", "point_of_diversion")
# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@stix2.CustomObject("x-divex-item", [
    ("name", StringProperty(required=True)),
    ("category", StringProperty()),
    ("hs_code", StringProperty()),
    ("quantity", IntegerProperty()),
    ("make", StringProperty()),
    ("model", StringProperty()),
    ("serials", ListProperty(StringProperty)),
    ("year", IntegerProperty()),
    ("calibre", StringProperty()),
    ("country_of_manufacture", StringProperty()),
    ("import_marking", StringProperty()),
    ("marking_condition", StringProperty()),
    ("flags", ListProperty(StringProperty)),
    ("lot", StringProperty()),
    ("headstamp", StringProperty()),
])
class DivexItem:
    """An item of a case: a weapon, part or ammunition lot, with its markings."""


@stix2.CustomObject("x-divex-route-leg", [
    ("origin", StringProperty(required=True)),
    ("destination", StringProperty(required=True)),
    ("mode", StringProperty()),
    ("date", StringProperty()),
    ("notes", StringProperty()),
])
class DivexRouteLeg:
    """One leg of the route the items took: ISO 3166-1 alpha-3 origin and destination."""


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid5(NAMESPACE, '/'.join(parts))}"


def _filled(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in fields if data.get(k) not in (None, "", [])}


def state_identity(code: str) -> stix2.Identity:
    """A state (or the secretariat) as a STIX identity, the same id in every export."""
    return stix2.Identity(id=_id("identity", "state", code), name=code,
                          identity_class="organization", sectors=["government-national"],
                          created=STATE_IDENTITY_DATE, modified=STATE_IDENTITY_DATE)


def case_objects(view: CaseView) -> list[Any]:
    """The report of one case and the objects it refers to (items, actors, legs, notes),
    created by the case's owner state."""
    report_id = _id("report", view.id)
    owner = _id("identity", "state", view.owner)
    made = {"created": view.opened_on, "modified": max(view.updated_on, view.opened_on),
            "created_by_ref": owner}
    parts: list[Any] = []
    for part_id, item in view.items.items():
        found = serials(item)
        name = " ".join(str(item.get(k) or "") for k in ("make", "model")).strip()
        name = " ".join((name, *found[:1])).strip()
        parts.append(DivexItem(id=_id("x-divex-item", view.id, part_id),
                               name=name or str(item.get("category") or "item"),
                               **_filled({**item, "serials": found}, STIX_ITEM_FIELDS),
                               **made))
    for part_id, actor in view.actors.items():
        # Identity roles are an open list: the case's own actor roles (broker, carrier…).
        parts.append(stix2.Identity(
            id=_id("identity", view.id, part_id), name=actor.get("name") or "actor",
            identity_class="unknown", roles=[actor["role"]] if actor.get("role") else None,
            description=actor.get("notes") or None, x_divex_country=actor.get("country") or None,
            allow_custom=True, **made))
    for part_id, leg in view.legs.items():
        parts.append(DivexRouteLeg(id=_id("x-divex-route-leg", view.id, part_id),
                                   **_filled(leg, LEG_FIELDS), **made))
    for n, note in enumerate(view.notes):
        on = note.get("on") or view.updated_on
        parts.append(stix2.Note(
            id=_id("note", view.id, "note", str(n)), content=note.get("text", ""),
            authors=[note["by"]] if note.get("by") else None, object_refs=[report_id],
            created=on, modified=on, created_by_ref=owner))
    report = stix2.Report(
        id=report_id, name=view.title or "(untitled case)",
        description=view.summary.get("narrative") or None, published=view.opened_on,
        report_types=["threat-report"],
        labels=[f"status:{view.status}", f"tier:{view.tier}", f"owner:{view.owner}"],
        object_refs=[owner, *(p.id for p in parts)],
        x_divex_case_id=view.id,
        x_divex_point_of_diversion=view.summary.get("point_of_diversion") or None,
        x_divex_concerned=view.summary.get("concerned") or None,
        allow_custom=True, **made)
    return [report, *parts]


def stix_bundle(views: list[CaseView], produced_by: str) -> str:
    """A STIX 2.1 bundle: per case a report referring to its items, actors, legs and notes,
    with an identity for each owner state (their creator) and for ``produced_by``, the
    exporting state (so a bundle of no case still holds an object, as STIX requires)."""
    owners = {v.owner for v in views}
    objects: list[Any] = [state_identity(code) for code in sorted({produced_by, *owners})]
    for view in views:
        objects += case_objects(view)
    contents = "/".join(f"{v.id}@{v.version}" for v in views)
    return stix2.Bundle(id=_id("bundle", produced_by, contents), objects=objects,
                        allow_custom=True).serialize(pretty=True)


def cases_csv(views: list[CaseView]) -> str:
    """One row per item (a case without items gets one row with empty item columns).

    A cell that a spreadsheet would run as a formula is prefixed with an apostrophe.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CASE_COLUMNS, *ITEM_FIELDS])
    for view in views:
        case = [view.id, view.title, view.status, view.tier, view.owner,
                view.summary.get("point_of_diversion", "")]
        for item in view.items.values() or [{}]:
            writer.writerow([_cell(v) for v in (*case, *(item.get(k) for k in ITEM_FIELDS))])
    return out.getvalue()


def _cell(value: Any) -> str:
    text = " ".join(map(str, value)) if isinstance(value, list) else \
        ("" if value is None else str(value))
    return f"'{text}" if text.startswith(FORMULA_START) else text
