"""The cases a reader can read, in exchange formats: a STIX 2.1 bundle and CSV.

Both take the `CaseView`s the `Cases` service opened for the viewer, so they hold exactly
what the viewer's pages show. Identifiers are derived from case and part ids, so two exports
of the same data are comparable.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID, uuid5

import stix2

from .view import CaseView

NAMESPACE = UUID("0c8e5a52-7f55-4b0e-9d5b-2a8cf1f7d7a4")
ITEM_FIELDS = ("category", "hs_code", "quantity", "make", "model", "serial", "year", "calibre",
               "country_of_manufacture", "import_marking", "marking_condition", "flags",
               "lot", "headstamp")


@stix2.CustomObject("x-divex-item", [
    ("name", stix2.properties.StringProperty(required=True)),
    ("category", stix2.properties.StringProperty()),
    ("hs_code", stix2.properties.StringProperty()),
    ("quantity", stix2.properties.IntegerProperty()),
    ("make", stix2.properties.StringProperty()),
    ("model", stix2.properties.StringProperty()),
    ("serial", stix2.properties.StringProperty()),
    ("year", stix2.properties.IntegerProperty()),
    ("calibre", stix2.properties.StringProperty()),
    ("country_of_manufacture", stix2.properties.StringProperty()),
    ("import_marking", stix2.properties.StringProperty()),
    ("marking_condition", stix2.properties.StringProperty()),
    ("flags", stix2.properties.ListProperty(stix2.properties.StringProperty)),
    ("lot", stix2.properties.StringProperty()),
    ("headstamp", stix2.properties.StringProperty()),
])
class DivexItem:
    """An item of a case: a weapon, part or ammunition lot, with its markings."""


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid5(NAMESPACE, '/'.join(parts))}"


def _item(case_id: str, part_id: str, item: dict[str, Any]) -> DivexItem:
    values = {k: item[k] for k in ITEM_FIELDS if item.get(k) not in (None, "", [])}
    name = " ".join(str(item.get(k) or "") for k in ("make", "model", "serial")).strip()
    return DivexItem(id=_id("x-divex-item", case_id, part_id),
                     name=name or str(item.get("category") or "item"), **values)


def stix_bundle(views: list[CaseView], produced_by: str) -> str:
    """A STIX 2.1 bundle: per case a report referring to its items, actors and notes."""
    producer = stix2.Identity(id=_id("identity", "state", produced_by), name=produced_by,
                              identity_class="organization")
    objects: list[Any] = [producer]
    for view in views:
        parts: list[Any] = [_item(view.id, part_id, item) for part_id, item in view.items.items()]
        parts += [stix2.Identity(id=_id("identity", view.id, part_id),
                                 name=actor.get("name") or actor.get("role") or "actor",
                                 identity_class="organization",
                                 roles=[actor["role"]] if actor.get("role") else None,
                                 created_by_ref=producer.id)
                  for part_id, actor in view.actors.items()]
        report_id = _id("report", view.id)
        parts += [stix2.Note(id=_id("note", view.id, str(n)), content=note.get("text", ""),
                             object_refs=[report_id], created_by_ref=producer.id)
                  for n, note in enumerate(view.notes)]
        objects += parts
        objects.append(stix2.Report(
            id=report_id, name=view.title or "(untitled case)",
            description=view.summary.get("narrative") or None, published=view.opened_on,
            created=view.opened_on, modified=max(view.updated_on, view.opened_on),
            report_types=["threat-report"], created_by_ref=producer.id,
            labels=[f"status:{view.status}", f"tier:{view.tier}", f"owner:{view.owner}"],
            object_refs=[p.id for p in parts] or [producer.id], allow_custom=True))
    return stix2.Bundle(objects=objects, allow_custom=True).serialize(pretty=True)


def cases_csv(views: list[CaseView]) -> str:
    """One row per item (a case without items gets one row with empty item columns)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["case_id", "title", "status", "tier", "owner", "point_of_diversion",
                     *ITEM_FIELDS])
    for view in views:
        case = [view.id, view.title, view.status, view.tier, view.owner,
                view.summary.get("point_of_diversion", "")]
        for item in view.items.values() or [{}]:
            writer.writerow([*case, *(_plain(item.get(k)) for k in ITEM_FIELDS)])
    return out.getvalue()


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(map(str, value))
    return "" if value is None else str(value)
