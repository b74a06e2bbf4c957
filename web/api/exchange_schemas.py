"""The JSON shapes of the API's exchange between states: informal meetings, trace requests and
the directory of states and their national contact points. As in `schemas`, types are checked
here and meaning by the domain."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from cases.identity.directory import State
from cases.meetings.meeting import Meeting
from cases.meetings.meeting_service import MeetingView
from cases.tracing.trace_request import DEFAULT_DEADLINE_DAYS
from projections.trace_board import BoardRow

from .schemas import (
    FromAttributes,
    HistoryEntryOut,
    PageQuery,
    Strict,
    Versioned,
    direction_field,
)

# Meetings


class ConveneIn(Strict):
    title: str
    date: str = Field(description="YYYY-MM-DD")
    convening_body: str = ""
    participants: list[str] = Field(description="ISO 3166-1 alpha-3 codes, at least two")


class StateIn(Strict):
    state: str = Field(description="ISO 3166-1 alpha-3 code")


class MeetingStatusIn(Strict):
    status: str = Field(description="planned, open, held or closed (in that order)")


class TableIn(Strict):
    case_id: UUID = Field(strict=False, description="A case of your state")


class TextIn(Strict):
    text: str


class LessonIn(Strict):
    text: str
    concerned: list[str] = Field(description="Participating states the lesson concerns; "
                                 "each must consent before it goes to the subgroup")


class MeetingRowOut(BaseModel):
    id: str
    title: str
    date: str
    convening_body: str
    participants: list[str]
    status: str
    version: int
    tabled_cases: int

    @classmethod
    def of(cls, meeting: Meeting) -> MeetingRowOut:
        return cls(id=str(meeting.id), title=meeting.title, date=meeting.date,
                   convening_body=meeting.convening_body,
                   participants=list(meeting.participants), status=meeting.status,
                   version=meeting.version, tabled_cases=len(meeting.agenda))


class MeetingPage(BaseModel):
    items: list[MeetingRowOut]
    page: int
    per_page: int
    total: int


class TabledCaseOut(BaseModel):
    case_id: str
    owner: str
    title: str | None = Field(description="null if your state cannot read the case")
    outcomes: list[str] = Field(description="The outcomes your state's keys open")
    outcome_files: list[dict[str, Any]] = Field(
        default_factory=list, description="Their files: version (of the meeting, to fetch "
        "it at /meetings/{id}/outcomes/{version}/file), name, type, size")
    shredded: bool


class LessonOut(BaseModel):
    id: str
    concerned: list[str]
    consents: list[str]
    complete: bool = Field(description="Every concerned state consented")
    text: str | None = Field(description="null if your state holds no key to it")


class MeetingOut(BaseModel):
    id: str
    title: str
    date: str
    convening_body: str
    participants: list[str]
    status: str
    next_statuses: list[str]
    version: int
    chatham_house: bool = Field(description="Discussions are shown without who said what")
    agenda: list[TabledCaseOut]
    lessons: list[LessonOut]
    history: list[HistoryEntryOut]

    @classmethod
    def of(cls, view: MeetingView, next_statuses: tuple[str, ...],
           titles: dict[str, str | None], history: list[Any]) -> MeetingOut:
        return cls(
            id=view.id, title=view.title, date=view.date, convening_body=view.convening_body,
            participants=view.participants, status=view.status,
            next_statuses=list(next_statuses), version=view.version,
            chatham_house=view.chatham_house,
            agenda=[TabledCaseOut(case_id=case_id, owner=owner, title=titles.get(case_id),
                                  outcomes=view.outcomes.get(case_id, []),
                                  outcome_files=view.outcome_files.get(case_id, []),
                                  shredded=case_id in view.shredded)
                    for case_id, owner in view.agenda.items()],
            lessons=[LessonOut(**lesson) for lesson in view.lessons],
            history=[HistoryEntryOut.model_validate(entry) for entry in history])


class AccessConfirmedOut(BaseModel):
    added: list[str] = Field(description="Participants newly able to read the case")
    meeting: MeetingOut


# Trace requests


class BoardQuery(PageQuery):
    direction: str = Field("", pattern="^(|incoming|outgoing)$",
                           description="incoming, outgoing, or empty for both")
    sort: Literal["deadline", "sent", "status", "state"] = Field(
        "deadline", description="deadline (answered requests last in both directions), sent, "
        "status (in the order of the lifecycle) or state (the other party); ties go by "
        "deadline, then id, in the same direction")
    dir: Literal["asc", "desc"] | None = direction_field("desc for sent (the latest first), "
                                                         "asc for the others")


class MeetingListQuery(PageQuery):
    sort: Literal["date", "title", "status"] = Field(
        "date", description="date, title (ignoring case) or status (in the order of a "
        "meeting's life); ties go by date, then id, in the same direction")
    dir: Literal["asc", "desc"] | None = direction_field("desc for date (the newest first), "
                                                         "asc for the others")


class SendTraceIn(Strict):
    requested_state: str = Field(description="ISO 3166-1 alpha-3 code of the state asked")
    item_ids: list[str] = Field(description="Part ids of the case's items to trace")
    questions: str
    deadline_days: int = DEFAULT_DEADLINE_DAYS
    share_with_case_readers: bool = False


class MoreInfoIn(Strict):
    checklist: list[str] = Field(description="What is missing (the ITI request format)")
    note: str = ""


class SupplyIn(Strict):
    answers: dict[str, str] = Field({}, description="Missing information by checklist entry")
    note: str = ""


class AnswerIn(Strict):
    outcome: str = Field(description="traced, not_traced or untraceable")
    destination: str = Field("", description="state the items were transferred to (ISO alpha-3)")
    recipient: str = Field("", description="consignee or end user they were transferred to")
    date: str = Field("", description="date of the transfer, YYYY-MM-DD")
    licence: str = Field("", description="export licence")
    last_legal_holder: str = Field("", description="last legal holder the state knows of")
    text: str = ""


class CloseIn(Strict):
    feedback: str = ""


class DeadlineIn(Strict):
    deadline: str = Field(description="YYYY-MM-DD")


class AttachIn(Versioned):
    pass


class TraceRowOut(BaseModel):
    id: str
    case_id: str
    direction: str = Field(description="incoming: asked of your state; outgoing: sent by it")
    requester: str
    requested: str
    status: str
    outcome: str
    items: int
    sent_on: date
    deadline: date
    acknowledged_on: date | None
    answered_on: date | None
    closed_on: date | None
    days_open: int
    overdue: bool
    action: str = Field(description="What the request waits for from your state: acknowledge, "
                        "answer, supply (the missing information), close, or empty")
    case_title: str | None = Field(description="The case's title, where your state reads the "
                                   "case now")
    item_list: list[dict[str, Any]] = Field(description="The items the request is about, as "
                                            "sent")

    @classmethod
    def of(cls, row: BoardRow, direction: str, title: str | None,
           items: list[dict[str, Any]]) -> TraceRowOut:
        """The row's fields, its trace_id as id, which way it goes for the viewer, the case's
        title and the items."""
        fields = {k: v for k, v in asdict(row).items() if k != "request_token"}
        return cls.model_validate({**fields, "id": row.trace_id, "direction": direction,
                                   "case_title": title, "item_list": items})


class TracePage(BaseModel):
    items: list[TraceRowOut]
    page: int
    per_page: int
    total: int


class PairStatsOut(FromAttributes):
    requester: str
    requested: str
    count: int
    acknowledged_within_7_days: int
    answered_within_deadline: int


class ResponseRecordOut(BaseModel):
    items: list[PairStatsOut]


class TraceOut(FromAttributes):
    id: str
    case_id: str
    requester: str
    requested: str
    item_ids: list[str]
    status: str
    outcome: str
    sent_on: date
    deadline: date
    acknowledged_on: date | None
    answered_on: date | None
    closed_on: date | None
    overdue: bool
    recipients: list[str]
    version: int
    attached_part_id: str
    questions: str
    items: dict[str, dict[str, Any]]
    shared_with_case_readers: bool
    more_info: list[dict[str, Any]]
    supplied: list[dict[str, Any]]
    answer: dict[str, Any] | None
    feedback: str
    unreadable_events: int
    case_shredded: bool


class AttachedOut(BaseModel):
    part_id: str = Field(description="The route leg added to the case")
    trace: TraceOut


# Directory


class ContactPointIn(Strict):
    name: str
    office: str = ""
    channel: str
    volunteers_to_assist: bool = False


class ContactPointOut(BaseModel):
    name: str
    office: str
    channel: str
    volunteers_to_assist: bool
    confirmed_on: datetime


class PublicKeysOut(BaseModel):
    version: int
    encryption: str = Field(description="X25519 public key, hex")
    signing: str = Field(description="Ed25519 public key, hex")


class StateOut(BaseModel):
    code: str
    name: str
    status: str
    public_keys: PublicKeysOut
    contact_point: ContactPointOut | None
    contact_point_stale: bool = Field(description="Not confirmed for twelve months (or none)")
    suspended: bool = Field(False, description="Its users cannot sign in (secretariat's "
                            "decision, reversible)")

    @classmethod
    def of(cls, state: State, now: datetime) -> StateOut:
        point = state.contact_point
        return cls(code=state.code, name=state.name, status=state.status,
                   suspended=state.suspended,
                   public_keys=PublicKeysOut(**state.public_keys.to_dict()),
                   contact_point=ContactPointOut(**point) if point else None,
                   contact_point_stale=state.contact_point_is_stale(now))


class StatePage(BaseModel):
    items: list[StateOut]
    page: int
    per_page: int
    total: int
