"""API operations on contributions to a case (issue 21): the thread of a case your state reads,
adding to it, and revising, withdrawing or hiding a contribution."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from uuid import UUID

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from cases.casework.attachments import Upload
from cases.casework.contribution import KINDS, MAX_TEXT
from cases.kernel.viewer import Viewer

from ..extensions import get_exchange
from .schemas import Strict
from .spec import operation

bp = Blueprint("contributions", __name__)

CONTRIBUTION = "/contributions/<uuid:contribution_id>"
ERRORS = (403, 404, 409)


class ContributionIn(Strict):
    kind: str = Field(description="What it is: a comment, information, or an answer to a "
                      "question", json_schema_extra={"enum": list(KINDS)})
    text: str = Field(max_length=MAX_TEXT)


class RevisionIn(Strict):
    text: str = Field(max_length=MAX_TEXT)


class HideIn(Strict):
    reason: str = Field(max_length=2000, description="Shown in the contribution's place")


class ContributionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    case_id: UUID
    state: str
    user: str
    kind: str
    written_on: datetime
    revised_on: datetime | None
    text: str = Field(description="Empty once withdrawn or hidden")
    withdrawn: bool
    hidden: bool
    hidden_reason: str
    version: int
    attachment_name: str = Field(description="Empty when there is no attachment")
    attachment_type: str = Field(description="Its type as read from its bytes, e.g. "
                                 "image/jpeg; empty when there is none")
    attachment_size: int
    meeting: str = Field(description="The informal meeting it was said at, if any")
    unattributed: bool = Field(description="Said at a Chatham House meeting by another "
                               "state: state and user are left empty")


class Thread(BaseModel):
    case_id: UUID
    title: str
    items: list[ContributionOut]


def _one(viewer: Viewer, contribution_id: UUID) -> ContributionOut:
    return ContributionOut.model_validate(get_exchange().contributions.read(viewer,
                                                                            contribution_id))


@operation(bp, "GET", "/cases/<uuid:case_id>/contributions", summary="The contributions of "
           "the states that read a case, oldest first", tag="contributions", response=Thread,
           errors=(403, 404))
def case_contributions(viewer: Viewer, case_id: UUID) -> Thread:
    exchange = get_exchange()
    return Thread(case_id=case_id, title=exchange.cases.view(viewer, case_id).title,
                  items=[ContributionOut.model_validate(c)
                         for c in exchange.contributions.thread(viewer, case_id)])


@operation(bp, "POST", "/cases/<uuid:case_id>/contributions", summary="Add to a case your "
           "state reads (every state that reads it reads this); as multipart/form-data, with "
           "a file in `attachment` (photos lose their metadata)", tag="contributions",
           body=ContributionIn, response=ContributionOut, status=201, errors=(403, 404),
           upload="attachment")
def contribute(viewer: Viewer, case_id: UUID, body: ContributionIn,
               upload: Upload | None) -> ContributionOut:
    return _one(viewer, get_exchange().contributions.contribute(viewer, case_id, body.kind,
                                                                body.text, upload))


@operation(bp, "GET", f"{CONTRIBUTION}/attachment", summary="A contribution's file, for a "
           "state that reads its case", tag="contributions", errors=(403, 404), binary=True)
def contribution_attachment(viewer: Viewer, contribution_id: UUID) -> Response:
    name, mime, chunks = get_exchange().contributions.attachment(viewer, contribution_id)
    return Response(b"".join(chunks), mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@operation(bp, "PUT", CONTRIBUTION, summary="Revise your state's contribution",
           tag="contributions", body=RevisionIn, response=ContributionOut, errors=ERRORS)
def revise_contribution(viewer: Viewer, contribution_id: UUID,
                        body: RevisionIn) -> ContributionOut:
    get_exchange().contributions.revise(viewer, contribution_id, body.text)
    return _one(viewer, contribution_id)


@operation(bp, "POST", f"{CONTRIBUTION}/withdraw", summary="Withdraw your state's "
           "contribution (auditors still see it in the log)", tag="contributions",
           response=ContributionOut, errors=ERRORS)
def withdraw_contribution(viewer: Viewer, contribution_id: UUID) -> ContributionOut:
    get_exchange().contributions.withdraw(viewer, contribution_id)
    return _one(viewer, contribution_id)


@operation(bp, "POST", f"{CONTRIBUTION}/hide", summary="Hide a contribution from your "
           "state's case, with a reason", tag="contributions", body=HideIn,
           response=ContributionOut, errors=ERRORS)
def hide_contribution(viewer: Viewer, contribution_id: UUID, body: HideIn) -> ContributionOut:
    get_exchange().contributions.hide(viewer, contribution_id, body.reason)
    return _one(viewer, contribution_id)


class ChathamIn(Strict):
    on: bool = Field(description="True: discussions are shown without who said what")


@operation(bp, "GET", "/meetings/<uuid:meeting_id>/agenda/<uuid:case_id>/discussion",
           summary="What participants said about a tabled case at the meeting, oldest first",
           tag="meetings", response=Thread, errors=(403, 404))
def meeting_discussion(viewer: Viewer, meeting_id: UUID, case_id: UUID) -> Thread:
    exchange = get_exchange()
    return Thread(case_id=case_id, title=exchange.cases.view(viewer, case_id).title,
                  items=[ContributionOut.model_validate(c) for c in exchange.contributions
                         .thread(viewer, case_id, meeting=meeting_id)])


@operation(bp, "POST", "/meetings/<uuid:meeting_id>/agenda/<uuid:case_id>/discussion",
           summary="Say something about a tabled case at the meeting (participants): a "
           "contribution to the case, marked as said there", tag="meetings",
           body=ContributionIn, response=ContributionOut, status=201,
           errors=(403, 404, 409))
def discuss(viewer: Viewer, meeting_id: UUID, case_id: UUID,
            body: ContributionIn) -> ContributionOut:
    return _one(viewer, get_exchange().contributions.contribute(
        viewer, case_id, body.kind, body.text, meeting=meeting_id))


@operation(bp, "POST", "/meetings/<uuid:meeting_id>/chatham-house", summary="Set whether "
           "the meeting's discussions are shown without who said what (secretariat)",
           tag="meetings", body=ChathamIn, errors=(403, 404, 409))
def set_chatham_house(viewer: Viewer, meeting_id: UUID, body: ChathamIn) -> None:
    get_exchange().meetings.set_chatham_house(viewer, meeting_id, body.on)
