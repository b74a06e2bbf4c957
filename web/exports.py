"""Downloads of the cases the signed-in user's state can read, as the case list filters and
searches them: STIX 2.1 and CSV; and of one case as a MISP event. And, to anyone, the JSON
Schemas of divex's STIX extensions (formats, no case content)."""

from __future__ import annotations

import json
from uuid import UUID

from flask import Blueprint, Response, request
from flask_login import login_required

from cases.casework.exports import cases_csv
from cases.casework.misp import misp_event
from cases.casework.stix import extension_schemas, stix_bundle
from cases.casework.view import CaseView
from cases.kernel.errors import NotFound
from cases.kernel.viewer import Viewer
from cases.search.terms import Query
from projections.case_index import CaseFilter

from .cases import case_filter, search_query
from .extensions import caught_up_exchange, current_viewer

bp = Blueprint("exports", __name__, url_prefix="/exports")
schemas = Blueprint("stix_extensions", __name__, url_prefix="/stix/extensions")

PAGE = 200


def readable_cases(viewer: Viewer, where: CaseFilter | None = None,
                   query: Query | None = None) -> list[CaseView]:
    """Every case the viewer's state reads that the filter keeps and the search finds (all
    of them by default), opened through the service (the access check)."""
    exchange = caught_up_exchange()
    where, query = where or CaseFilter(), query or Query()
    if query:
        exchange.index_for(viewer)
    views, offset = [], 0
    while True:
        rows, total = exchange.case_search(viewer, query, where, offset=offset, limit=PAGE,
                                           exact=True)
        for row in rows:
            try:
                views.append(exchange.cases.view(viewer, UUID(row.case_id)))
            except NotFound:
                continue  # the index lags a narrowing: the service has the last word
        offset += PAGE
        if offset >= (total or 0):
            return views


def chosen_cases() -> list[CaseView]:
    """The cases of the list as filtered and searched by the request's arguments."""
    return readable_cases(current_viewer(), case_filter(request.args),
                          search_query(request.args))


def download(body: str, mimetype: str, filename: str) -> Response:
    """An attachment; opened case content, so no cache along the way keeps a copy."""
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename={filename}",
                             "Cache-Control": "no-store"})


@bp.get("/cases.stix.json")
@login_required
def stix() -> Response:
    return download(stix_bundle(chosen_cases(), current_viewer().state),
                    "application/stix+json;version=2.1", "divex-cases.stix.json")


@bp.get("/cases.csv")
@login_required
def csv() -> Response:
    return download(cases_csv(chosen_cases()), "text/csv", "divex-cases.csv")


@bp.get("/cases/<uuid:case_id>.misp.json")
@login_required
def misp(case_id: UUID) -> Response:
    """One case as a MISP event, for a state's own MISP instance."""
    view = caught_up_exchange().cases.view(current_viewer(), case_id)
    return download(misp_event(view), "application/json", f"divex-case-{case_id}.misp.json")


@schemas.get("/<name>.json")
def extension_schema(name: str) -> Response:
    """The schema an extension definition's ``schema`` names, by its id."""
    found = extension_schemas().get(name)
    if found is None:
        raise NotFound("divex defines no STIX extension of that id.")
    return Response(json.dumps(found, indent=2, sort_keys=True),
                    mimetype="application/schema+json",
                    headers={"Cache-Control": "public, max-age=86400"})
