"""API operations on cases: the list, a case and its history, its parts, status, sharing,
retention and shredding, and its proposal for the tier-1 summaries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import Blueprint
from pydantic import BaseModel
from werkzeug.datastructures import MultiDict

from cases.casework.stix import stix_bundle
from cases.kernel.viewer import Viewer
from projections.case_index import CaseOrder

from ..cases import CASE_COLUMNS, case_filter, search_query
from ..exports import readable_cases
from ..extensions import caught_up_exchange, get_exchange
from .schemas import (
    ActorIn,
    CaseListQuery,
    CaseOut,
    CasePage,
    CaseRowOut,
    CaseSearchQuery,
    ConsentIn,
    HistoryEntryOut,
    HistoryOut,
    ItemIn,
    LegIn,
    NewCase,
    NoteIn,
    PolicyOut,
    RetentionIn,
    SavedSearchIn,
    SavedSearchList,
    SavedSearchOut,
    ShareIn,
    ShareOut,
    SharePreviewOut,
    SharePreviewQuery,
    StatusIn,
    StixBundleOut,
    SummaryRevision,
    UnshareIn,
    VersionQuery,
)
from .spec import operation

bp = Blueprint("cases", __name__)

CASE = "/cases/<uuid:case_id>"
READ_ERRORS = (404,)
CHANGE_ERRORS = (403, 404, 409)


def _case(viewer: Viewer, case_id: UUID) -> CaseOut:
    return CaseOut.model_validate(get_exchange().cases.view(viewer, case_id))


def _content(body: Any) -> dict[str, Any]:
    values = body.model_dump(exclude={"expected_version"})
    if "year" in values:
        values["year"] = "" if values["year"] is None else values["year"]
    return values


@operation(bp, "GET", "/cases", summary="The cases your state can read, newest change "
           "first; with q, those that match, most words matched first; sort and dir choose "
           "another order", tag="cases",
           query=CaseListQuery, response=CasePage)
def list_cases(viewer: Viewer, query: CaseListQuery) -> CasePage:
    args = MultiDict(query.model_dump(exclude={"page", "per_page", "sort", "dir"}))
    where, words = case_filter(args), search_query(args)
    exchange = caught_up_exchange()
    waiting = exchange.index_for(viewer)
    order = None
    if query.sort or not words:
        by = query.sort or "updated"
        order = CaseOrder(by, query.dir == "desc" if query.dir else CASE_COLUMNS[by])
    rows, total = exchange.case_search(viewer, words, where,
                                       (query.page - 1) * query.per_page, query.per_page,
                                       order)
    titles = exchange.cases.titles(viewer, rows)
    matches = exchange.search.matches(viewer, [r.case_id for r in rows], words) \
        if words.terms else {}
    return CasePage(page=query.page, per_page=query.per_page, total=total, not_indexed=waiting,
                    items=[CaseRowOut.of(row, titles[row.case_id], matches.get(row.case_id, []))
                           for row in rows])


@operation(bp, "GET", "/searches", summary="Your saved searches (sealed to your own key)",
           tag="search", response=SavedSearchList, errors=(403,))
def saved_searches(viewer: Viewer) -> SavedSearchList:
    return SavedSearchList(items=[SavedSearchOut.model_validate(s)
                                  for s in get_exchange().search.saved(viewer)])


@operation(bp, "POST", "/searches", summary="Save a search of the case list", tag="search",
           body=SavedSearchIn, response=SavedSearchOut, status=201, errors=(403,))
def save_search(viewer: Viewer, body: SavedSearchIn) -> SavedSearchOut:
    search = get_exchange().search
    search_id = search.save(viewer, body.name, body.model_dump(exclude={"name"}))
    return SavedSearchOut.model_validate(
        next(s for s in search.saved(viewer) if s.search_id == search_id))


@operation(bp, "DELETE", "/searches/<search_id>", summary="Delete a saved search",
           tag="search", status=204, errors=(403, 404))
def delete_search(viewer: Viewer, search_id: str) -> None:
    get_exchange().search.delete(viewer, search_id)


@operation(bp, "POST", "/cases", summary="Log a new case (only your state can read it)",
           tag="cases", body=NewCase, response=CaseOut, status=201, errors=(403,))
def open_case(viewer: Viewer, body: NewCase) -> CaseOut:
    summary = body.model_dump()
    return _case(viewer, get_exchange().cases.open_case(
        viewer, summary, summary.pop("items"), summary.pop("actors"), summary.pop("legs")))


@operation(bp, "GET", CASE, summary="A case as your state can read it", tag="cases",
           response=CaseOut, errors=READ_ERRORS)
def get_case(viewer: Viewer, case_id: UUID) -> CaseOut:
    return _case(viewer, case_id)


@operation(bp, "GET", f"{CASE}/history", summary="Every event of a case, opened where "
           "your state can", tag="cases", response=HistoryOut, errors=READ_ERRORS)
def case_history(viewer: Viewer, case_id: UUID) -> HistoryOut:
    entries = get_exchange().cases.history(viewer, case_id)
    return HistoryOut(items=[HistoryEntryOut.model_validate(e) for e in entries])


@operation(bp, "PUT", f"{CASE}/summary", summary="Revise the summary", tag="cases",
           body=SummaryRevision, response=CaseOut, errors=CHANGE_ERRORS)
def revise_summary(viewer: Viewer, case_id: UUID, body: SummaryRevision) -> CaseOut:
    get_exchange().cases.revise_summary(viewer, case_id, body.expected_version,
                                        body.model_dump(exclude={"expected_version"}))
    return _case(viewer, case_id)


# The parts of a case: one operation per kind and verb, as the pages have one form each.


def _add_part(viewer: Viewer, case_id: UUID, kind: str, body: Any) -> CaseOut:
    get_exchange().cases.add_part(viewer, case_id, body.expected_version, kind, _content(body))
    return _case(viewer, case_id)


def _revise_part(viewer: Viewer, case_id: UUID, kind: str, part_id: str, body: Any) -> CaseOut:
    get_exchange().cases.revise_part(viewer, case_id, body.expected_version, kind, part_id,
                                     _content(body))
    return _case(viewer, case_id)


def _remove_part(viewer: Viewer, case_id: UUID, kind: str, part_id: str,
                 query: VersionQuery) -> CaseOut:
    get_exchange().cases.remove_part(viewer, case_id, query.expected_version, kind, part_id)
    return _case(viewer, case_id)


def _adding(kind: str, model: type[BaseModel]) -> Callable[..., Any]:
    return operation(bp, "POST", f"{CASE}/{kind}s", summary=f"Add a {kind}", tag="cases",
                     body=model, response=CaseOut, status=201, errors=CHANGE_ERRORS)


def _revising(kind: str, model: type[BaseModel]) -> Callable[..., Any]:
    return operation(bp, "PUT", f"{CASE}/{kind}s/<part_id>", summary=f"Revise a {kind}",
                     tag="cases", body=model, response=CaseOut, errors=CHANGE_ERRORS)


def _removing(kind: str) -> Callable[..., Any]:
    return operation(bp, "DELETE", f"{CASE}/{kind}s/<part_id>", summary=f"Remove a {kind}",
                     tag="cases", query=VersionQuery, response=CaseOut, errors=CHANGE_ERRORS)


@_adding("item", ItemIn)
def add_item(viewer: Viewer, case_id: UUID, body: ItemIn) -> CaseOut:
    return _add_part(viewer, case_id, "item", body)


@_revising("item", ItemIn)
def revise_item(viewer: Viewer, case_id: UUID, part_id: str, body: ItemIn) -> CaseOut:
    return _revise_part(viewer, case_id, "item", part_id, body)


@_removing("item")
def remove_item(viewer: Viewer, case_id: UUID, part_id: str, query: VersionQuery) -> CaseOut:
    return _remove_part(viewer, case_id, "item", part_id, query)


@_adding("actor", ActorIn)
def add_actor(viewer: Viewer, case_id: UUID, body: ActorIn) -> CaseOut:
    return _add_part(viewer, case_id, "actor", body)


@_revising("actor", ActorIn)
def revise_actor(viewer: Viewer, case_id: UUID, part_id: str, body: ActorIn) -> CaseOut:
    return _revise_part(viewer, case_id, "actor", part_id, body)


@_removing("actor")
def remove_actor(viewer: Viewer, case_id: UUID, part_id: str, query: VersionQuery) -> CaseOut:
    return _remove_part(viewer, case_id, "actor", part_id, query)


@_adding("leg", LegIn)
def add_leg(viewer: Viewer, case_id: UUID, body: LegIn) -> CaseOut:
    return _add_part(viewer, case_id, "leg", body)


@_removing("leg")
def remove_leg(viewer: Viewer, case_id: UUID, part_id: str, query: VersionQuery) -> CaseOut:
    return _remove_part(viewer, case_id, "leg", part_id, query)


@_adding("note", NoteIn)
def add_note(viewer: Viewer, case_id: UUID, body: NoteIn) -> CaseOut:
    return _add_part(viewer, case_id, "note", body)


@operation(bp, "POST", f"{CASE}/status", summary="Change the status", tag="cases",
           body=StatusIn, response=CaseOut, errors=CHANGE_ERRORS)
def change_status(viewer: Viewer, case_id: UUID, body: StatusIn) -> CaseOut:
    get_exchange().cases.change_status(viewer, case_id, body.expected_version,
                                       body.status, body.reason)
    return _case(viewer, case_id)


@operation(bp, "POST", f"{CASE}/sharing", summary="Share bilaterally or on the portal",
           tag="sharing", body=ShareIn, response=ShareOut, errors=CHANGE_ERRORS)
def share_case(viewer: Viewer, case_id: UUID, body: ShareIn) -> ShareOut:
    added = get_exchange().cases.share(viewer, case_id, body.expected_version, body.tier,
                                       sorted({s.strip().upper() for s in body.states}))
    return ShareOut(added=list(added), case=_case(viewer, case_id))


@operation(bp, "GET", "/exports/stix", summary="The cases your state can read, filtered and "
           "searched as the list is, as one STIX 2.1 bundle (the page's STIX download)",
           tag="exports", query=CaseSearchQuery, response=StixBundleOut)
def export_stix(viewer: Viewer, query: CaseSearchQuery) -> StixBundleOut:
    args = MultiDict(query.model_dump())
    bundle = stix_bundle(readable_cases(viewer, case_filter(args), search_query(args)),
                         viewer.state)
    return StixBundleOut.model_validate_json(bundle)


@operation(bp, "GET", f"{CASE}/sharing/preview", summary="Who would read the case after "
           "a share (nothing changes)", tag="sharing", query=SharePreviewQuery,
           response=SharePreviewOut, errors=(403, 404))
def preview_share(viewer: Viewer, case_id: UUID, query: SharePreviewQuery
                  ) -> SharePreviewOut:
    cases = get_exchange().cases
    case = cases.view_to_change(viewer, case_id)
    audience = set(cases.audience(viewer, query.tier, query.states))
    return SharePreviewOut(readers=sorted(audience | set(case.recipients)),
                           added=sorted(audience - set(case.recipients)))


@operation(bp, "POST", f"{CASE}/sharing/removal", summary="Stop sharing with states "
           "(the case key is rotated)", tag="sharing", body=UnshareIn, response=CaseOut,
           errors=CHANGE_ERRORS)
def unshare_case(viewer: Viewer, case_id: UUID, body: UnshareIn) -> CaseOut:
    get_exchange().cases.unshare(viewer, case_id, body.expected_version,
                                 sorted({s.strip().upper() for s in body.states}))
    return _case(viewer, case_id)


@operation(bp, "PUT", f"{CASE}/retention", summary="Set how long the case is kept after "
           "closing", tag="retention", body=RetentionIn, response=CaseOut,
           errors=CHANGE_ERRORS)
def set_retention(viewer: Viewer, case_id: UUID, body: RetentionIn) -> CaseOut:
    get_exchange().cases.set_retention(viewer, case_id, body.keep_years)
    return _case(viewer, case_id)


@operation(bp, "POST", f"{CASE}/shredding", summary="Ask for the case to be shredded "
           "(a second admin confirms)", tag="retention", response=CaseOut,
           errors=CHANGE_ERRORS)
def request_shred(viewer: Viewer, case_id: UUID) -> CaseOut:
    get_exchange().cases.request_shred(viewer, case_id)
    return _case(viewer, case_id)


@operation(bp, "DELETE", f"{CASE}/shredding", summary="Withdraw a request to shred",
           tag="retention", response=CaseOut, errors=CHANGE_ERRORS)
def withdraw_shred(viewer: Viewer, case_id: UUID) -> CaseOut:
    get_exchange().cases.withdraw_shred(viewer, case_id)
    return _case(viewer, case_id)


@operation(bp, "POST", f"{CASE}/shredding/confirmation", summary="Confirm the shredding: "
           "every key of the case is destroyed", tag="retention", status=204,
           errors=CHANGE_ERRORS)
def confirm_shred(viewer: Viewer, case_id: UUID) -> None:
    get_exchange().cases.confirm_shred(viewer, case_id)


@operation(bp, "POST", f"{CASE}/policy-proposal", summary="Propose the case for the tier-1 "
           "policy summaries", tag="summaries", response=PolicyOut, errors=CHANGE_ERRORS)
def propose_for_summaries(viewer: Viewer, case_id: UUID) -> PolicyOut:
    return PolicyOut(waiting_for=get_exchange().policy.propose(viewer, case_id))


@operation(bp, "PUT", f"{CASE}/policy-consent", summary="Give or withhold your state's "
           "consent to the case in the summaries", tag="summaries", body=ConsentIn,
           status=204, errors=CHANGE_ERRORS)
def consent_to_summaries(viewer: Viewer, case_id: UUID, body: ConsentIn) -> None:
    get_exchange().policy.consent(viewer, case_id, body.given)


