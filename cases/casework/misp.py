"""A case as a MISP event (JSON a MISP instance imports), built with pymisp's object model.

The tier becomes MISP's distribution and a TLP tag (README, "Exports"); the owner state is
the creating organisation, whoever exports; identifiers derive from the case's, so two exports
of the same case are the same event. It holds what the viewer's `CaseView` holds.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

import pycountry
from pymisp import MISPEvent, MISPObject, MISPOrganisation

from cases.casework.content import serials
from cases.casework.markings import TIER_TLP
from cases.casework.view import CaseView

NAMESPACE = UUID("6f3f2f4e-2a55-4c3c-8f7e-0b7a6f9b1c21")
# MISP distribution: 0 your organisation only, 1 this community only, 4 a sharing group.
DISTRIBUTION = {"national": 0, "bilateral": 4, "meeting": 4, "portal": 1}
# MISP analysis: 0 initial, 1 ongoing, 2 completed.
ANALYSIS = {"suspected": 0, "under_investigation": 1, "confirmed": 2, "unfounded": 2,
            "closed": 2}


def _uuid(*parts: str) -> str:
    return str(uuid5(NAMESPACE, "/".join(parts)))


def misp_event(view: CaseView) -> str:
    """The case as the JSON of one MISP event."""
    event = MISPEvent()
    event.uuid = _uuid(view.id)
    event.info = view.title or "(untitled case)"
    event.date = view.opened_on.date()
    event.timestamp = max(view.updated_on, view.opened_on)
    event.distribution = DISTRIBUTION[view.tier]
    event.threat_level_id = 4  # undefined: a diversion case rates no cyber threat
    event.analysis = ANALYSIS.get(view.status, 0)
    owner = MISPOrganisation()
    owner.from_dict(name=view.owner, uuid=_uuid("state", view.owner))
    event.Orgc = owner
    for tag in (f"tlp:{TIER_TLP[view.tier]}", f"divex:status=\"{view.status}\"",
                f"divex:tier=\"{view.tier}\""):
        event.add_tag(tag)
    narrative = view.summary.get("narrative")
    if narrative:
        event.add_attribute("text", narrative, comment="narrative", uuid=_uuid(view.id, "n"))
    for part_id, item in view.items.items():
        event.add_object(_item(view, part_id, item))
    for part_id, actor in view.actors.items():
        event.add_object(_actor(view, part_id, actor))
    for part_id, leg in view.legs.items():
        for end in ("origin", "destination"):
            if leg.get(end):
                event.add_object(_place(view, f"{part_id}/{end}", leg[end],
                                        f"route leg {end} ({leg.get('mode') or 'mode unknown'}"
                                        f"{', ' + leg['date'] if leg.get('date') else ''})"))
    for role, code in sorted((view.summary.get("concerned") or {}).items()):
        if code:
            event.add_object(_place(view, f"concerned/{role}", code, f"concerned state: {role}"))
    for n, note in enumerate(view.notes):
        event.add_attribute("text", note.get("text", ""), uuid=_uuid(view.id, "note", str(n)),
                            comment=f"evidence note by {note.get('by') or 'unknown'}")
    return event.to_json(indent=2, sort_keys=True)


def _object(name: str, uuid: str, comment: str = "") -> MISPObject:
    found = MISPObject(name, standalone=False)
    found.uuid = uuid
    if comment:
        found.comment = comment
    return found


def _add(found: MISPObject, uuid: str, values: dict[str, Any]) -> MISPObject:
    for relation, value in values.items():
        if value not in (None, "", []):
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            found.add_attribute(relation, value=text, uuid=_uuid(uuid, relation))
    return found


def _item(view: CaseView, part_id: str, item: dict[str, Any]) -> MISPObject:
    uuid = _uuid(view.id, part_id)
    described = " ".join(str(item.get(k) or "") for k in ("category", "make", "model",
                                                          "calibre")).split()
    details = {k: item.get(k) for k in ("quantity", "hs_code", "year", "country_of_manufacture",
                                         "import_marking", "marking_condition", "flags", "lot",
                                         "headstamp") if item.get(k) not in (None, "", [])}
    found = serials(item)
    if len(found) > 1:
        details["serials"] = ", ".join(found)
    description = " ".join(described) + "".join(f"; {k}: {v}" for k, v in details.items())
    return _add(_object("physical-item", uuid, "item"), uuid, {
        "item-number": found[0] if found else part_id, "description": description or "item",
        "case-number": view.id})


def _actor(view: CaseView, part_id: str, actor: dict[str, Any]) -> MISPObject:
    uuid = _uuid(view.id, part_id)
    country = actor.get("country")
    return _add(_object("organization", uuid, "actor"), uuid, {
        "name": actor.get("name") or "actor", "role": actor.get("role"),
        "description": "; ".join(x for x in (actor.get("notes"),
                                             f"country: {country}" if country else "") if x)})


def _place(view: CaseView, key: str, code: str, comment: str) -> MISPObject:
    uuid = _uuid(view.id, key)
    country = pycountry.countries.get(alpha_3=code)
    return _add(_object("geolocation", uuid, comment), uuid, {
        "country": country.name if country else code,
        "countrycode": country.alpha_2 if country else None})
