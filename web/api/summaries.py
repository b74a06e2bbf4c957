"""API operations on the tier-1 policy summaries: the signed releases of closed years every
user reads, the secretariat's live preview and audit reports, and its publishing of a
release. Counts only: no case, reporting state or text."""

from __future__ import annotations

from flask import Blueprint

from cases.kernel.errors import NotFound
from cases.kernel.viewer import SECRETARIAT, Viewer
from cases.policy.releases import Release

from ..extensions import get_exchange
from ..summaries import current_summary, publish_year
from .oversight_schemas import ReleaseIn, ReleaseOut, ReleasePage, SummaryOut
from .schemas import PageQuery
from .spec import operation

bp = Blueprint("summaries", __name__)


def release_out(viewer: Viewer, release: Release) -> ReleaseOut:
    """A release as the viewer reads it: the audit report is the secretariat's."""
    found = ReleaseOut.model_validate(release)
    if not viewer.has(SECRETARIAT):
        for edition in found.editions:
            edition.audit = None
    return found


@operation(bp, "GET", "/summaries", summary="The live preview of the tier-1 tables "
           "(secretariat only; members read releases)", tag="summaries", response=SummaryOut,
           errors=(403,))
def get_summaries(viewer: Viewer) -> SummaryOut:
    return SummaryOut.of(current_summary(viewer))


@operation(bp, "GET", "/summaries/releases", summary="The signed releases of closed "
           "years, oldest first", tag="summaries", query=PageQuery, response=ReleasePage)
def list_releases(viewer: Viewer, query: PageQuery) -> ReleasePage:
    releases = get_exchange().releases.all()
    return ReleasePage(page=query.page, per_page=query.per_page, total=len(releases),
                       items=[release_out(viewer, r) for r in query.window(releases)])


@operation(bp, "GET", "/summaries/releases/<int:year>", summary="The release of one year, "
           "with every edition", tag="summaries", response=ReleaseOut, errors=(404,))
def get_release(viewer: Viewer, year: int) -> ReleaseOut:
    release = next((r for r in get_exchange().releases.all() if r.year == year), None)
    if release is None:
        raise NotFound("No release for %(year)s.", year=year)
    return release_out(viewer, release)


@operation(bp, "POST", "/summaries/releases", summary="Publish (or correct) the release "
           "of a closed year (secretariat)", tag="summaries", body=ReleaseIn,
           response=ReleaseOut, status=201, errors=(403, 409))
def publish_release(viewer: Viewer, body: ReleaseIn) -> ReleaseOut:
    return release_out(viewer, publish_year(viewer, body.year))
