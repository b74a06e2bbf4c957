"""API operations on informal meetings (tier 3): the list, a meeting with its agenda, outcomes,
lessons and history, and every action of the meeting page, through the `Meetings` service."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response

from cases.casework.attachments import Upload
from cases.kernel.errors import NotFound
from cases.kernel.viewer import Viewer
from cases.meetings.meeting import MEETING_TRANSITIONS

from ..extensions import get_exchange
from ..files import file_response
from ..meetings import MEETING_COLUMNS
from .exchange_schemas import (
    AccessConfirmedOut,
    ConveneIn,
    LessonIn,
    MeetingListQuery,
    MeetingOut,
    MeetingPage,
    MeetingRowOut,
    MeetingStatusIn,
    StateIn,
    TableIn,
    TextIn,
)
from .schemas import ConsentIn
from .spec import operation

bp = Blueprint("meetings", __name__)

MEETING = "/meetings/<uuid:meeting_id>"
# A meeting's non-participants get 403, as on the page: the service tells them it exists.
READ_ERRORS = (403, 404)
CHANGE_ERRORS = (403, 404, 409)


def meeting_out(viewer: Viewer, meeting_id: UUID) -> MeetingOut:
    """The meeting as its page shows it to the viewer: tabled cases titled where readable."""
    exchange = get_exchange()
    meetings = exchange.meetings
    view = meetings.view(viewer, meeting_id)
    titles: dict[str, str | None] = {}
    for case_id in view.agenda:
        try:
            titles[case_id] = exchange.cases.view(viewer, UUID(case_id)).title
        except NotFound:
            titles[case_id] = None  # on the agenda, but not shared with this state
    return MeetingOut.of(view, MEETING_TRANSITIONS[view.status], titles,
                         meetings.history(viewer, meeting_id))


@operation(bp, "GET", "/meetings", summary="The meetings you may see, by default newest "
           "date first; sort and dir choose another order", tag="meetings",
           query=MeetingListQuery, response=MeetingPage)
def list_meetings(viewer: Viewer, query: MeetingListQuery) -> MeetingPage:
    descending = query.dir == "desc" if query.dir else MEETING_COLUMNS[query.sort]
    found = get_exchange().meetings.listing(viewer, query.sort, descending)
    return MeetingPage(page=query.page, per_page=query.per_page, total=len(found),
                       items=[MeetingRowOut.of(m) for m in query.window(found)])


@operation(bp, "POST", "/meetings", summary="Convene an informal meeting (secretariat)",
           tag="meetings", body=ConveneIn, response=MeetingOut, status=201, errors=(403,))
def convene_meeting(viewer: Viewer, body: ConveneIn) -> MeetingOut:
    meeting_id = get_exchange().meetings.convene(viewer, body.title, body.date,
                                                 body.convening_body, body.participants)
    return meeting_out(viewer, meeting_id)


@operation(bp, "GET", MEETING, summary="A meeting: participants, agenda with outcomes, "
           "lessons and history", tag="meetings", response=MeetingOut, errors=READ_ERRORS)
def get_meeting(viewer: Viewer, meeting_id: UUID) -> MeetingOut:
    return meeting_out(viewer, meeting_id)


@operation(bp, "POST", f"{MEETING}/participants", summary="Admit a state (secretariat); "
           "it reads tabled cases once their owners confirm", tag="meetings", body=StateIn,
           response=MeetingOut, errors=CHANGE_ERRORS)
def admit_state(viewer: Viewer, meeting_id: UUID, body: StateIn) -> MeetingOut:
    get_exchange().meetings.admit(viewer, meeting_id, body.state)
    return meeting_out(viewer, meeting_id)


@operation(bp, "DELETE", f"{MEETING}/participants/<state>", summary="End a state's "
           "participation (secretariat, or that state's admin); cases it read only "
           "through the meeting move to a new key", tag="meetings", status=204,
           errors=CHANGE_ERRORS)
def release_state(viewer: Viewer, meeting_id: UUID, state: str) -> None:
    get_exchange().meetings.release(viewer, meeting_id, state)


@operation(bp, "POST", f"{MEETING}/status", summary="Change the meeting's status "
           "(secretariat)", tag="meetings", body=MeetingStatusIn, response=MeetingOut,
           errors=(*CHANGE_ERRORS, 422))
def change_meeting_status(viewer: Viewer, meeting_id: UUID,
                          body: MeetingStatusIn) -> MeetingOut:
    get_exchange().meetings.change_status(viewer, meeting_id, body.status)
    return meeting_out(viewer, meeting_id)


@operation(bp, "POST", f"{MEETING}/agenda", summary="Table a case of your state: it is "
           "shared with every participant", tag="meetings", body=TableIn,
           response=MeetingOut, status=201, errors=CHANGE_ERRORS)
def table_case(viewer: Viewer, meeting_id: UUID, body: TableIn) -> MeetingOut:
    get_exchange().meetings.table_case(viewer, meeting_id, body.case_id)
    return meeting_out(viewer, meeting_id)


@operation(bp, "POST", f"{MEETING}/agenda/<uuid:case_id>/access", summary="Let "
           "participants who joined after tabling read the case (its owner)",
           tag="meetings", response=AccessConfirmedOut, errors=(*CHANGE_ERRORS, 422))
def confirm_access(viewer: Viewer, meeting_id: UUID, case_id: UUID) -> AccessConfirmedOut:
    added = get_exchange().meetings.confirm_access(viewer, meeting_id, case_id)
    return AccessConfirmedOut(added=list(added), meeting=meeting_out(viewer, meeting_id))


@operation(bp, "POST", f"{MEETING}/agenda/<uuid:case_id>/outcomes", summary="Record the "
           "outcome of a case's discussion (convenor or owner), sealed for its readers; as "
           "multipart/form-data, with a file in `attachment`", tag="meetings", body=TextIn,
           response=MeetingOut, status=201, errors=CHANGE_ERRORS, upload="attachment")
def record_outcome(viewer: Viewer, meeting_id: UUID, case_id: UUID,
                   body: TextIn, upload: Upload | None) -> MeetingOut:
    get_exchange().meetings.record_outcome(viewer, meeting_id, case_id, body.text, upload)
    return meeting_out(viewer, meeting_id)


@operation(bp, "GET", f"{MEETING}/outcomes/<int:version>/file", summary="The file of the "
           "outcome recorded at that version of the meeting, for the states that read its "
           "case", tag="meetings", errors=READ_ERRORS, binary=True)
def outcome_file(viewer: Viewer, meeting_id: UUID, version: int) -> Response:
    name, mime, chunks = get_exchange().meetings.outcome_file(viewer, meeting_id, version)
    return file_response(name, mime, chunks)


@operation(bp, "POST", f"{MEETING}/lessons", summary="Propose a lesson for the WGETI "
           "subgroup (analysts of a participating state)", tag="meetings", body=LessonIn,
           response=MeetingOut, status=201, errors=(403, 404))
def propose_lesson(viewer: Viewer, meeting_id: UUID, body: LessonIn) -> MeetingOut:
    get_exchange().meetings.propose_lesson(viewer, meeting_id, body.text, body.concerned)
    return meeting_out(viewer, meeting_id)


@operation(bp, "PUT", f"{MEETING}/lessons/<lesson_id>/consent", summary="Give or "
           "withdraw your state's consent to a lesson", tag="meetings", body=ConsentIn,
           response=MeetingOut, errors=CHANGE_ERRORS)
def consent_to_lesson(viewer: Viewer, meeting_id: UUID, lesson_id: str,
                      body: ConsentIn) -> MeetingOut:
    get_exchange().meetings.consent(viewer, meeting_id, lesson_id, body.given)
    return meeting_out(viewer, meeting_id)
