"""The JSON shapes of the API. Types and required fields are checked here; meaning (a known
country, a category of the ATT, a date not in the future) is checked by the domain, as for the
pages, and refused with the field it concerns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, create_model

from cases.casework import content
from cases.casework.case import BILATERAL, PORTAL, STATUSES
from cases.casework.content import (
    CHOICE,
    CHOICES,
    COUNTRY,
    DAY,
    HS_CODE,
    INTEGER,
    LONG_TEXT,
    SERIALS,
    TEXT,
    Spec,
)
from cases.search.terms import MAX_QUERY_CHARS, MAX_QUERY_WORDS
from projections.case_index import CaseRow

from ..forms import MAX_PAGE

MAX_PAGE_SIZE = 100


def _utc(moment: datetime) -> str:
    """Stored times are UTC; some are kept without their zone. RFC 3339 needs it."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


Timestamp = Annotated[datetime, PlainSerializer(_utc, return_type=str, when_used="json")]


class Strict(BaseModel):
    """Unknown fields are refused rather than ignored: a typo must not pass unnoticed."""

    model_config = ConfigDict(extra="forbid", strict=True)


class FromAttributes(BaseModel):
    """A response read from the same-named attributes of a view, row or record:
    ``Model.model_validate(obj)`` (pydantic's from_attributes; the JSON Schema is unchanged)."""

    model_config = ConfigDict(from_attributes=True)


class Versioned(Strict):
    expected_version: int = Field(ge=1, description="The case version the change is based "
                                  "on; 409 (nothing changed) if a later change touched the "
                                  "same part of the case.")


class Concerned(Strict):
    exporter: str = ""
    transit: str = ""
    importer: str = ""
    discovery: str = ""


# Each content body is described by the domain's specs (cases.casework.content): the same
# fields, vocabularies and required ones as the forms. Types and the allowed values are
# documented here; the domain checks them and says which field is wrong.
DESCRIPTIONS = {COUNTRY: "ISO 3166-1 alpha-3 code", DAY: "YYYY-MM-DD",
                HS_CODE: "6 to 10 digits", LONG_TEXT: "", TEXT: "",
                SERIALS: "serial numbers, one per line (or a list); at most the quantity"}


def _field(spec: Spec) -> tuple[Any, Any]:
    """The annotation and default of a spec's field in a JSON body."""
    if spec.type == INTEGER:
        return (int, ...) if spec.required else (int | None, None)
    if spec.type == CHOICES:
        return list[str], Field([], json_schema_extra={"items": {"enum": list(spec.choices)}})
    extra: dict[str, Any] = {}
    if spec.type == CHOICE:  # "" for an optional one: not chosen, unknown
        extra["enum"] = list(spec.choices) if spec.required else ["", *spec.choices]
    elif spec.type in (TEXT, LONG_TEXT):
        extra["maxLength"] = spec.limit
    description = DESCRIPTIONS.get(spec.type) or None
    default = ... if spec.required else ""
    if spec.type == SERIALS:
        return str | list[str], Field(default, description=description)
    return str, Field(default, description=description, json_schema_extra=extra)


def body(name: str, specs: tuple[Spec, ...], base: type[BaseModel], **more: Any) -> Any:
    return create_model(name, __base__=base, __module__=__name__,
                        **{spec.name: _field(spec) for spec in specs}, **more)


CaseSummary = body("CaseSummary", content.SUMMARY, Strict, concerned=(Concerned, Concerned()))


class SummaryRevision(Versioned, CaseSummary):  # type: ignore[misc,valid-type]
    pass


ItemIn = body("ItemIn", content.ITEM, Versioned)
NewItem = body("NewItem", content.ITEM, Strict)
NewActor = body("NewActor", content.ACTOR, Strict)
NewLeg = body("NewLeg", content.LEG, Strict)


def _first(part: Any, what: str) -> tuple[Any, Any]:
    return list[part], Field([], max_length=content.MAX_FIRST_PARTS,
                             description=f"The case's first {what}, logged with it: all or none")


NewCase = body("NewCase", (), CaseSummary, items=_first(NewItem, "items"),
               actors=_first(NewActor, "actors"), legs=_first(NewLeg, "route legs"))
ActorIn = body("ActorIn", content.ACTOR, Versioned)
LegIn = body("LegIn", content.LEG, Versioned)
NoteIn = body("NoteIn", content.NOTE, Versioned)


class StatusIn(Versioned):
    status: str = Field(json_schema_extra={"enum": list(STATUSES)})
    reason: str = ""


class ShareIn(Versioned):
    tier: str = Field(description="bilateral or portal",
                      json_schema_extra={"enum": [BILATERAL, PORTAL]})
    states: list[str] = Field([], description="ISO 3166-1 alpha-3 codes (bilateral)")


class UnshareIn(Versioned):
    states: list[str]


class RetentionIn(Strict):
    keep_years: int | None = Field(description="Years kept after closing; null: indefinitely")


class ConsentIn(Strict):
    given: bool


class VersionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")  # not strict: query values arrive as text
    expected_version: int = Field(ge=1)


class SharePreviewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tier: str = Field(description="bilateral or portal")
    states: list[str] = Field([], description="ISO 3166-1 alpha-3 codes (bilateral)")


class CaseSearchQuery(BaseModel):
    """What the case list filters and searches by, as the page's form has it."""

    model_config = ConfigDict(extra="forbid")
    q: str = Field("", description="Words, names, makes or serials (with or without "
                   "separators, or their first 4 characters or more); every word must match. "
                   f"At most {MAX_QUERY_CHARS} characters and {MAX_QUERY_WORDS} words.")
    status: str = ""
    tier: str = ""
    owner: str = ""
    category: str = Field("", description="ATT Art. 2(1) category of an item")
    point_of_diversion: str = ""
    concerned: str = Field("", description="ISO 3166-1 alpha-3 code of a concerned state")
    updated_from: str = Field("", description="YYYY-MM-DD")
    updated_to: str = Field("", description="YYYY-MM-DD")


def direction_field(natural: str) -> Any:
    return Field(None, description=f"asc or desc; by default {natural}")


class CaseListQuery(CaseSearchQuery):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
    sort: Literal["updated", "opened", "status", "owner", "tier"] | None = Field(
        None, description="The column to sort by (a status by its code); ties go by the "
        "last change, then id, in the same direction. By default the last change, or with q "
        "the most words matched first.")
    dir: Literal["asc", "desc"] | None = direction_field("desc for updated and opened, asc "
                                                         "for the others")


class SavedSearchIn(CaseSearchQuery):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(max_length=100)


# Responses


class MatchOut(FromAttributes):
    kind: str = Field(description="item, actor, leg or note")
    text: str


class CaseRowOut(BaseModel):
    id: str
    title: str | None = Field(description="null if your state's keys do not open it")
    owner: str
    status: str
    tier: str
    opened: Timestamp
    updated: Timestamp
    version: int
    recipients: list[str]
    shredded_on: Timestamp | None
    matches: list[MatchOut] = Field([], description="The parts that matched the words "
                                    "searched")

    @classmethod
    def of(cls, row: CaseRow, title: str | None, matches: list[Any] = ()) -> CaseRowOut:
        return cls(id=row.case_id, title=title, owner=row.owner, status=row.status,
                   tier=row.tier, opened=row.opened, updated=row.updated, version=row.version,
                   recipients=row.recipients, shredded_on=row.shredded_on,
                   matches=[MatchOut.model_validate(m) for m in matches])


class CasePage(BaseModel):
    items: list[CaseRowOut]
    page: int
    per_page: int
    total: int | None = Field(description="How many match; null for a search whose every "
                              "word and filter is common: those come latest change first, "
                              "not counted, and there is a next page")
    not_indexed: int = Field(0, description="Cases your state reads that are not indexed "
                             "for search yet (each call indexes some)")


class SavedSearchOut(FromAttributes):
    search_id: str
    name: str
    args: dict[str, str]


class SavedSearchList(BaseModel):
    items: list[SavedSearchOut]


class CaseOut(FromAttributes):
    id: str
    owner: str
    status: str
    tier: str
    recipients: list[str]
    version: int
    key_version: int
    opened_on: Timestamp
    updated_on: Timestamp
    summary: dict[str, Any]
    items: dict[str, dict[str, Any]]
    actors: dict[str, dict[str, Any]]
    legs: dict[str, dict[str, Any]]
    notes: list[dict[str, Any]]
    status_changes: list[dict[str, Any]]
    unreadable_events: int
    shredded_on: Timestamp | None
    keep_years: int | None
    shred_due: Timestamp | None
    shred_requested_by: str


class ShareOut(BaseModel):
    added: list[str] = Field(description="States newly able to read the case")
    case: CaseOut


class SharePreviewOut(BaseModel):
    readers: list[str] = Field(description="States that would read the case after the share")
    added: list[str] = Field(description="Of those, the states that do not read it yet")


class StixBundleOut(BaseModel):
    """A STIX 2.1 bundle (https://docs.oasis-open.org/cti/stix/v2.1/) that passes the OASIS
    validator in strict mode: per case a report referring to its items, actors, countries,
    route legs and notes, marked with its tier's TLP 2.0 level; the states' identities; and
    the extension definitions of divex's objects (schemas at /stix/extensions/<id>.json)."""

    model_config = ConfigDict(extra="allow")
    type: str
    id: str
    objects: list[dict[str, Any]]


class HistoryEntryOut(FromAttributes):
    version: int
    timestamp: Timestamp
    event: str
    state: str
    user: str
    clear: dict[str, Any]
    content: dict[str, Any] | None


class HistoryOut(BaseModel):
    items: list[HistoryEntryOut]


class PolicyOut(BaseModel):
    waiting_for: list[str] = Field(description="Concerned states whose consent is awaited")


class PageQuery(BaseModel):
    """``page`` and ``per_page`` of a list operation (the lists the pages show)."""

    model_config = ConfigDict(extra="forbid")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=MAX_PAGE_SIZE)

    def window(self, rows: list[Any]) -> list[Any]:
        """This page's share of a list the service returns whole."""
        start = (self.page - 1) * self.per_page
        return rows[start:start + self.per_page]
