"""The cases a reader can read as a STIX 2.1 bundle that validates strictly.

Standard objects where STIX has them: a `report` per case, `identity` for states and actors,
`location` for countries (actors `located-at` theirs), `note` for evidence notes, TLP 2.0
marking definitions for the tier (README, "Exports"). What STIX lacks is declared as
extension definitions carried in the bundle: two new SDOs, `divex-item` and
`divex-route-leg`, and a property extension of `report` for the case's own facts. Their
JSON Schemas are built from the same field specs the forms use (`extension_schemas`) and
served at ``/stix/extensions/<id>.json``.

Identifiers and timestamps come from the cases, so two exports of the same data are
identical; a case's objects are created by its owner state, whoever exports them (STIX takes
one id and ``modified`` as one version by one creator). STIX asks for UUIDv4 ids on domain
objects: ours are UUIDv4-shaped but derived (SHA-256 of the case and part), so a re-export
updates the objects a receiver holds instead of duplicating them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pycountry
import stix2
from stix2.properties import (
    DictionaryProperty,
    IntegerProperty,
    ListProperty,
    Property,
    ReferenceProperty,
    StringProperty,
)

from cases.casework.case import STATUSES
from cases.casework.content import (
    CHOICE,
    CHOICES,
    CONCERNED_ROLES,
    COUNTRY,
    DAY,
    HS_CODE,
    INTEGER,
    ITEM,
    LEG,
    SERIALS,
    SUMMARY,
    Spec,
    serials,
)
from cases.casework.markings import TIER_TLP
from cases.casework.view import CaseView

NAMESPACE = b"divex/stix/0c8e5a52-7f55-4b0e-9d5b-2a8cf1f7d7a4/"
# Objects that are no case's (states, countries, the extensions) carry a fixed date, the
# ATT's entry into force, so they are identical from one export to the next.
FIXED_DATE = datetime(2014, 12, 24, tzinfo=UTC)
DIVEX = "identity--e5163064-6bcf-4422-96ca-b4e99c4758ed"  # creator of the extensions
ITEM_EXTENSION = "extension-definition--910a9690-bd4b-4d91-a5d4-98630150f70f"
LEG_EXTENSION = "extension-definition--e494de76-abdc-4c5f-9408-abda07e503b6"
REPORT_EXTENSION = "extension-definition--d41b6380-720a-4921-85b6-dfff3c3ff15a"
EXTENSION_VERSION = "1.0.0"

# TLP 2.0 marking definitions as OASIS publishes them (cti-stix-common-objects, tlp-2.0).
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS = {"clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}

# Item fields as the STIX object names them: serials as a list, the country as a location.
ITEM_SPECS = tuple(s for s in ITEM if s.name != "match_check")
LEG_SPECS = LEG


def stix_name(spec: Spec) -> str:
    if spec.type == SERIALS:
        return "serials"
    return f"{spec.name}_ref" if spec.type == COUNTRY else spec.name


def _property(spec: Spec) -> Property:
    if spec.type == COUNTRY:
        return ReferenceProperty(valid_types="location", spec_version="2.1")
    if spec.type == INTEGER:
        return IntegerProperty()
    if spec.type in (CHOICES, SERIALS):
        return ListProperty(StringProperty)
    return StringProperty()


def _properties(specs: tuple[Spec, ...]) -> list[tuple[str, Property]]:
    return [(stix_name(s), _property(s)) for s in specs]


@stix2.CustomObject("divex-item", [("name", StringProperty(required=True)),
                                     *_properties(ITEM_SPECS)],
                    extension_name=ITEM_EXTENSION)
class DivexItem:
    """An item of a case: a weapon, part or ammunition lot, with its markings."""


@stix2.CustomObject("divex-route-leg", _properties(LEG_SPECS), extension_name=LEG_EXTENSION)
class DivexRouteLeg:
    """One leg of the route the items took, between two countries (`location`s)."""


@stix2.v21.CustomExtension(REPORT_EXTENSION, [
    ("case_id", StringProperty(required=True)),
    ("status", StringProperty(required=True)),
    ("tier", StringProperty(required=True)),
    ("point_of_diversion", StringProperty()),
    ("concerned", DictionaryProperty(spec_version="2.1")),
])
class DivexCaseFacts:
    """A report's facts as divex keeps them: the case, its status and tier, the point of
    diversion, and the concerned states by role (`location` ids)."""

    extension_type = "property-extension"


def _id(kind: str, *parts: str) -> str:
    digest = hashlib.sha256(NAMESPACE + "/".join((kind, *parts)).encode()).digest()
    return f"{kind}--{UUID(bytes=digest[:16], version=4)}"


def _filled(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def state_identity(code: str) -> stix2.Identity:
    """A state (or the secretariat) as a STIX identity, the same object in every export."""
    return stix2.Identity(id=_id("identity", "state", code), name=code,
                          identity_class="organization", sectors=["government-national"],
                          created=FIXED_DATE, modified=FIXED_DATE)


def location_id(code: str) -> str:
    return _id("location", "country", code)


def country_location(code: str) -> stix2.Location:
    """A country (ISO 3166-1 alpha-3 in divex, alpha-2 in STIX) as a `location`."""
    country = pycountry.countries.get(alpha_3=code)
    return stix2.Location(id=location_id(code), name=country.name, country=country.alpha_2,
                          created=FIXED_DATE, modified=FIXED_DATE)


def tlp_marking(level: str) -> stix2.MarkingDefinition:
    return stix2.MarkingDefinition(
        id=TLP2_IDS[level], created="2022-10-01T00:00:00.000Z", name=f"TLP:{level.upper()}",
        extensions={TLP2_EXTENSION: {"extension_type": "property-extension",
                                     "tlp_2_0": level}})


def _stix_values(specs: tuple[Spec, ...], data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in specs:
        value = data.get(spec.name)
        if spec.type == SERIALS:
            value = serials(data)
        elif spec.type == COUNTRY and value:
            value = location_id(value)
        values[stix_name(spec)] = value
    return _filled(values)


def case_objects(view: CaseView) -> list[Any]:
    """The report of one case and the objects it refers to (items, actors and where they
    are, legs, notes), created by the case's owner state and marked with its tier's TLP."""
    report_id = _id("report", view.id)
    owner = _id("identity", "state", view.owner)
    made = {"created": view.opened_on, "modified": max(view.updated_on, view.opened_on),
            "created_by_ref": owner, "object_marking_refs": [TLP2_IDS[TIER_TLP[view.tier]]]}
    parts: list[Any] = []
    for part_id, item in view.items.items():
        name = " ".join(str(item.get(k) or "") for k in ("make", "model")).strip()
        name = " ".join((name, *serials(item)[:1])).strip()
        parts.append(DivexItem(id=_id("divex-item", view.id, part_id),
                               name=name or str(item["category"]),
                               **_stix_values(ITEM_SPECS, item), **made))
    for part_id, actor in view.actors.items():
        # Identity roles are an open list: the case's own actor roles (broker, carrier…).
        found = stix2.Identity(id=_id("identity", view.id, part_id), name=actor["name"],
                               identity_class="unknown", **_filled(
                                   {"roles": [actor.get("role")] if actor.get("role") else None,
                                    "description": actor.get("notes")}), **made)
        parts.append(found)
        if actor.get("country"):
            parts.append(stix2.Relationship(
                id=_id("relationship", view.id, part_id, "located-at"),
                relationship_type="located-at", source_ref=found.id,
                target_ref=location_id(actor["country"]), **made))
    for part_id, leg in view.legs.items():
        parts.append(DivexRouteLeg(id=_id("divex-route-leg", view.id, part_id),
                                   **_stix_values(LEG_SPECS, leg), **made))
    for n, note in enumerate(view.notes):
        on = note.get("on") or view.updated_on
        parts.append(stix2.Note(
            id=_id("note", view.id, "note", str(n)), content=note.get("text", ""),
            object_refs=[report_id], **_filled({"authors": [note.get("by")]
                                                if note.get("by") else None}),
            **{**made, "created": on, "modified": on}))
    concerned = {role: location_id(code)
                 for role, code in sorted((view.summary.get("concerned") or {}).items())
                 if code}
    places = sorted(location_id(code) for code in countries_of(view))
    facts = _filled({"case_id": view.id, "status": view.status, "tier": view.tier,
                     "point_of_diversion": view.summary.get("point_of_diversion"),
                     "concerned": concerned})
    report = stix2.Report(
        id=report_id, name=view.title or "(untitled case)",
        published=view.opened_on, report_types=["threat-report"],
        object_refs=[owner, *places, *(p.id for p in parts)],
        extensions={REPORT_EXTENSION: {"extension_type": "property-extension", **facts}},
        **_filled({"description": view.summary.get("narrative")}), **made)
    return [report, *parts]


def countries_of(view: CaseView) -> set[str]:
    """The countries the case names: concerned states, places of manufacture, actors' and
    route legs' countries (alpha-3 codes)."""
    named = {*(view.summary.get("concerned") or {}).values(),
             *(i.get("country_of_manufacture") for i in view.items.values()),
             *(a.get("country") for a in view.actors.values()),
             *(leg.get(end) for leg in view.legs.values() for end in ("origin", "destination"))}
    return {code for code in named if code}


def extension_definitions() -> list[Any]:
    """The extension definitions of divex's objects, and divex as their creator."""
    author = stix2.Identity(id=DIVEX, name="divex", identity_class="system",
                            description="The diversion case exchange of ATT States Parties.",
                            created=FIXED_DATE, modified=FIXED_DATE)
    described = (
        (ITEM_EXTENSION, "divex-item", "new-sdo",
         "An item of a diversion case: Art. 2(1) category, quantity and markings."),
        (LEG_EXTENSION, "divex-route-leg", "new-sdo",
         "A leg of the route diverted items took, between two countries."),
        (REPORT_EXTENSION, "divex case facts", "property-extension",
         "The facts of the diversion case a report describes: status, tier, point of "
         "diversion and concerned states."))
    return [author, *(stix2.ExtensionDefinition(
        id=ext_id, name=name, description=text, version=EXTENSION_VERSION,
        extension_types=[kind], created_by_ref=DIVEX, created=FIXED_DATE, modified=FIXED_DATE,
        schema=f"JSON Schema served by every divex deployment at /stix/extensions/{ext_id}.json")
        for ext_id, name, kind, text in described)]


def stix_bundle(views: list[CaseView], produced_by: str) -> str:
    """A STIX 2.1 bundle: per case a report referring to its items, actors, legs and notes,
    with the identities of the owner states (their creators) and of ``produced_by``, the
    exporting state, the countries they name, the TLP markings they carry, and the
    definitions of divex's extensions."""
    objects: list[Any] = []
    for view in views:
        objects += case_objects(view)
    owners = sorted({produced_by, *(v.owner for v in views)})
    countries = sorted(set().union(*(countries_of(v) for v in views)))
    levels = sorted({TIER_TLP[v.tier] for v in views})
    shared = [*extension_definitions(), *(tlp_marking(level) for level in levels),
              *(state_identity(code) for code in owners),
              *(country_location(code) for code in countries)]
    contents = "/".join(f"{v.id}@{v.version}" for v in views)
    return stix2.Bundle(id=_id("bundle", produced_by, contents),
                        objects=[*shared, *objects]).serialize(pretty=True)


def _schema_of(spec: Spec) -> dict[str, Any]:
    if spec.type == COUNTRY:
        return {"type": "string", "pattern": "^location--[0-9a-f-]{36}$"}
    if spec.type == INTEGER:
        return {"type": "integer", "minimum": spec.low,
                **({"maximum": spec.high} if spec.high else {})}
    if spec.type == CHOICE:
        return {"type": "string", "enum": list(spec.choices)}
    if spec.type == CHOICES:
        return {"type": "array", "items": {"enum": list(spec.choices)}, "uniqueItems": True}
    if spec.type == SERIALS:
        return {"type": "array", "items": {"type": "string", "maxLength": spec.limit}}
    if spec.type == DAY:
        return {"type": "string", "format": "date"}
    if spec.type == HS_CODE:
        return {"type": "string", "pattern": r"^\d{6,10}$"}
    return {"type": "string", "maxLength": spec.limit}


COMMON = {"spec_version": {"const": "2.1"},
          "created_by_ref": {"type": "string", "pattern": "^identity--"},
          "created": {"type": "string"}, "modified": {"type": "string"},
          "revoked": {"type": "boolean"}, "labels": {"type": "array"},
          "confidence": {"type": "integer"}, "lang": {"type": "string"},
          "external_references": {"type": "array"}, "granular_markings": {"type": "array"},
          "object_marking_refs": {"type": "array",
                                  "items": {"type": "string",
                                            "pattern": "^marking-definition--"}}}


def _new_sdo_schema(ext_id: str, type_name: str, fields: dict[str, Any],
                    required: list[str]) -> dict[str, Any]:
    extension = {"type": "object", "required": [ext_id],
                 "properties": {ext_id: {"type": "object",
                                         "properties": {"extension_type": {"const": "new-sdo"}},
                                         "required": ["extension_type"]}}}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"/stix/extensions/{ext_id}.json", "title": type_name, "type": "object",
            "properties": {"type": {"const": type_name},
                           "id": {"type": "string", "pattern": f"^{type_name}--"},
                           **COMMON, **fields, "extensions": extension},
            "required": ["type", "spec_version", "id", "created", "modified", "extensions",
                         *required],
            "additionalProperties": False}


def extension_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each divex extension, by extension-definition id."""
    item = {"name": {"type": "string"}, **{stix_name(s): _schema_of(s) for s in ITEM_SPECS}}
    leg = {stix_name(s): _schema_of(s) for s in LEG_SPECS}
    facts = {"extension_type": {"const": "property-extension"},
             "case_id": {"type": "string", "format": "uuid"},
             "status": {"type": "string", "enum": [str(s) for s in STATUSES]},
             "tier": {"type": "string", "enum": [str(tier) for tier in TIER_TLP]},
             "point_of_diversion": _schema_of(next(s for s in SUMMARY
                                                   if s.name == "point_of_diversion")),
             "concerned": {"type": "object", "propertyNames": {"enum": list(CONCERNED_ROLES)},
                                "additionalProperties": _schema_of(Spec("c", COUNTRY))}}
    return {
        ITEM_EXTENSION: _new_sdo_schema(ITEM_EXTENSION, "divex-item", item,
                                        ["name", *(stix_name(s) for s in ITEM_SPECS
                                                   if s.required)]),
        LEG_EXTENSION: _new_sdo_schema(LEG_EXTENSION, "divex-route-leg", leg,
                                       [stix_name(s) for s in LEG_SPECS if s.required]),
        REPORT_EXTENSION: {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"/stix/extensions/{REPORT_EXTENSION}.json",
            "title": "divex case facts", "description": "A property extension of report: "
            f"the object under extensions.{REPORT_EXTENSION}.",
            "type": "object", "properties": facts,
            "required": ["extension_type", "case_id", "status", "tier"],
            "additionalProperties": False}}

