"""API operations on the tier-1 policy summaries: the disclosure-controlled tables every user
sees on the summaries page, the signed releases of closed years, and the secretariat's
publishing of a release. Counts only: no case, reporting state or text."""

from __future__ import annotations

from flask import Blueprint

from cases.kernel.errors import NotFound
from cases.kernel.viewer import Viewer

from ..extensions import get_exchange
from ..summaries import current_summary, publish_year
from .oversight_schemas import ReleaseIn, ReleaseOut, ReleasePage, SummaryOut
from .schemas import PageQuery
from .spec import operation

bp = Blueprint("summaries", __name__)


@operation(bp, "GET", "/summaries", summary="The tier-1 tables of consented cases, small "
           "cells suppressed", tag="summaries", response=SummaryOut)
def get_summaries(viewer: Viewer) -> SummaryOut:
    return SummaryOut.of(current_summary())


@operation(bp, "GET", "/summaries/releases", summary="The signed releases of closed "
           "years, oldest first", tag="summaries", query=PageQuery, response=ReleasePage)
def list_releases(viewer: Viewer, query: PageQuery) -> ReleasePage:
    releases = get_exchange().releases.all()
    return ReleasePage(page=query.page, per_page=query.per_page, total=len(releases),
                       items=[ReleaseOut.model_validate(r) for r in query.window(releases)])


@operation(bp, "GET", "/summaries/releases/<int:year>", summary="The release of one year, "
           "with every edition", tag="summaries", response=ReleaseOut, errors=(404,))
def get_release(viewer: Viewer, year: int) -> ReleaseOut:
    release = next((r for r in get_exchange().releases.all() if r.year == year), None)
    if release is None:
        raise NotFound("No release for %(year)s.", year=year)
    return ReleaseOut.model_validate(release)


@operation(bp, "POST", "/summaries/releases", summary="Publish (or correct) the release "
           "of a closed year (secretariat)", tag="summaries", body=ReleaseIn,
           response=ReleaseOut, status=201, errors=(403, 409))
def publish_release(viewer: Viewer, body: ReleaseIn) -> ReleaseOut:
    return ReleaseOut.model_validate(publish_year(viewer, body.year))
