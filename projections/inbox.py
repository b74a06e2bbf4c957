"""The inbox: what each state's users (and each user) should know happened, built from the clear
headers of the log; no key is needed to know that something happened (DESIGN §7).

Items are per state, seen by the roles of their kind (`cases.notifications.kinds`), or per
user. An item about a case shows only while the state can read the case now: the inbox keeps
each case's readers, so after an unshare the removed state sees nothing of it. Titles stay
sealed here (the token of the latest title) and are opened on the way out with the viewer's
keys. Deadlines ("due in 3 days", "overdue") and checkpoints awaiting a cosignature are
computed when read, from the requests' deadlines in the deployment's time zone.

Read markers are per user, in a table a rebuild keeps; items have ids derived from the event
(or, for computed items, from what they are about), so a rebuilt item keeps its marker. Each
stored item is queued for mail in the same transaction (`projections.outbox`).
"""

from __future__ import annotations

from datetime import date
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import delete, insert, select, update

from cases.casework.case import Case
from cases.casework.contribution import Contribution
from cases.hits.hit import Hit
from cases.identity.directory import SECRETARIAT_CODE, State, User
from cases.meetings.meeting import Meeting
from cases.tracing.trace_request import TraceRequest

from .inbox_view import (
    InboxView,
    inbox_case_readers,
    inbox_cases,
    inbox_items,
    inbox_meetings,
    inbox_traces,
    item_id,
)


def _codes(text: str) -> list[str]:
    return [s for s in text.split(",") if s]



class Inbox(Projection[InboxView]):
    """Projects the events that concern someone into inbox items."""

    name = "inbox"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # nothing to tell anyone: only move the position

    # Cases

    @process_event.register
    def _(self, event: Case.Opened, tracking: Tracking) -> None:
        case = str(event.originator_id)
        readers = sorted({g["recipient"] for g in event.grants})
        self.view.record(tracking, rows={
            inbox_cases: [dict(case_id=case, owner=event.owner, title_token=event.title,
                               title_key_version=event.key_version, policy_concerned="",
                               policy_consents="")],
            inbox_case_readers: [dict(case_id=case, state=state) for state in readers]})

    @process_event.register
    def _(self, event: Case.ContentRevised, tracking: Tracking) -> None:
        self.view.record(tracking, title=(str(event.originator_id), event.title,
                                          event.key_version))

    @process_event.register
    def _(self, event: Case.Shredded, tracking: Tracking) -> None:
        self.view.record(tracking, statements=[self._case_update(
            event, title_token="", title_key_version=0)])

    @process_event.register
    def _(self, event: Case.Shared, tracking: Tracking) -> None:
        case = str(event.originator_id)
        # A share to a meeting's participants is told by the meeting's tabling.
        items = [] if event.meeting else [
            _new(event, "case_shared", state, case_id=case, case_gated=True)
            for state in event.added if state != event.actor_state]
        self.view.record(tracking, items, rows={
            inbox_case_readers: [dict(case_id=case, state=state) for state in event.added]})

    @process_event.register
    def _(self, event: Case.Unshared, tracking: Tracking) -> None:
        r = inbox_case_readers.c
        self.view.record(tracking, statements=[delete(inbox_case_readers).where(
            r.case_id == str(event.originator_id), r.state.in_(list(event.removed)))],
            told=event.removed)

    @process_event.register
    def _(self, event: Contribution.Contributed, tracking: Tracking) -> None:
        # Every state that reads the case now, but the one that wrote it. Said at a meeting
        # (which may be under Chatham House), the item does not name who said it.
        items = [_new(event, "contribution_added", state, case_id=event.case_id,
                      case_gated=True, ref=str(event.originator_id))
                 for state in self._readers(event.case_id) if state != event.actor_state]
        if getattr(event, "meeting", ""):
            items = [dict(item, actor_state="") for item in items]
        self.view.record(tracking, items)

    @process_event.register
    def _(self, event: Hit.Found, tracking: Tracking) -> None:
        # Both states; neither learns the other's case (the hit page opens only its own).
        self.view.record(tracking, [_new(event, "private_hit", state, ref=str(event.originator_id))
                                    for state in event.parties])

    @process_event.register
    def _(self, event: Hit.Answered, tracking: Tracking) -> None:
        self.view.record(tracking, statements=[_settle(
            "private_hit", event.actor_state, ref=str(event.originator_id))],
            told=[event.actor_state])

    @process_event.register
    def _(self, event: Case.PolicyFactsSealed, tracking: Tracking) -> None:
        case = str(event.originator_id)
        row = self._case(case)
        consents = set(_codes(row.policy_consents)) \
            if _codes(row.policy_concerned) == list(event.concerned) else set()
        consents.add(row.owner)
        items = [_new(event, "policy_consent_awaited", state, case_id=case, case_gated=True)
                 for state in event.concerned if state not in consents]
        self.view.record(tracking, items, statements=[self._case_update(
            event, policy_concerned=",".join(event.concerned),
            policy_consents=",".join(sorted(consents)))])

    @process_event.register
    def _(self, event: Case.PolicyConsentGiven, tracking: Tracking) -> None:
        case = str(event.originator_id)
        consents = set(_codes(self._case(case).policy_consents)) | {event.actor_state}
        self.view.record(tracking, statements=[
            self._case_update(event, policy_consents=",".join(sorted(consents))),
            _settle("policy_consent_awaited", event.actor_state, case_id=case)],
            told=[event.actor_state])

    @process_event.register
    def _(self, event: Case.PolicyConsentWithdrawn, tracking: Tracking) -> None:
        case = str(event.originator_id)
        consents = set(_codes(self._case(case).policy_consents)) - {event.actor_state}
        self.view.record(tracking, statements=[
            self._case_update(event, policy_consents=",".join(sorted(consents)))])

    def _case(self, case_id: str) -> Any:
        with self.view.reading() as session:
            return session.execute(select(inbox_cases).where(
                inbox_cases.c.case_id == case_id)).one()

    def _readers(self, case_id: str) -> list[str]:
        with self.view.reading() as session:
            return list(session.execute(select(inbox_case_readers.c.state).where(
                inbox_case_readers.c.case_id == case_id)).scalars())

    @staticmethod
    def _case_update(event: Any, **values: Any) -> Any:
        return update(inbox_cases).where(
            inbox_cases.c.case_id == str(event.originator_id)).values(**values)

    # Trace requests: each step tells the other party

    @process_event.register
    def _(self, event: TraceRequest.Sent, tracking: Tracking) -> None:
        trace = str(event.originator_id)
        self.view.record(tracking, [_new(event, "trace_received", event.requested,
                                         case_id=event.case_id, trace_id=trace,
                                         ref=event.requester)],
                         statements=[insert(inbox_traces).values(
                             trace_id=trace, case_id=event.case_id, requester=event.requester,
                             requested=event.requested, status="sent",
                             deadline=date.fromisoformat(event.deadline),
                             deadline_set=event.timestamp)],
                         told=[event.requester])  # its deadline is counted for both

    @process_event.register
    def _(self, event: TraceRequest.Acknowledged, tracking: Tracking) -> None:
        self._trace_step(event, tracking, "trace_acknowledged", "acknowledged",
                         settles=("trace_received", "trace_info_supplied"))

    @process_event.register
    def _(self, event: TraceRequest.MoreInfoRequested, tracking: Tracking) -> None:
        self._trace_step(event, tracking, "trace_more_info", "more_info_requested",
                         settles=("trace_received", "trace_info_supplied"))

    @process_event.register
    def _(self, event: TraceRequest.InformationSupplied, tracking: Tracking) -> None:
        self._trace_step(event, tracking, "trace_info_supplied", "sent",
                         settles=("trace_more_info",))

    @process_event.register
    def _(self, event: TraceRequest.Answered, tracking: Tracking) -> None:
        self._trace_step(event, tracking, "trace_answered", "answered",
                         settles=("trace_received", "trace_info_supplied"))

    @process_event.register
    def _(self, event: TraceRequest.Closed, tracking: Tracking) -> None:
        self._trace_step(event, tracking, "trace_closed", "closed", settles=("trace_answered",))

    @process_event.register
    def _(self, event: TraceRequest.DeadlineChanged, tracking: Tracking) -> None:
        self._trace_step(event, tracking, "trace_deadline_changed", "",
                         deadline=date.fromisoformat(event.deadline),
                         deadline_set=event.timestamp)

    def _trace_step(self, event: Any, tracking: Tracking, kind: str, status: str,
                    settles: tuple[str, ...] = (), **changes: Any) -> None:
        trace = str(event.originator_id)
        with self.view.reading() as session:
            row = session.execute(select(inbox_traces).where(
                inbox_traces.c.trace_id == trace)).one()
        other = row.requested if event.actor_state == row.requester else row.requester
        if status:
            changes["status"] = status
        self.view.record(tracking, [_new(event, kind, other, case_id=row.case_id,
                                         trace_id=trace, ref=event.actor_state)],
                         statements=[
                             update(inbox_traces).where(inbox_traces.c.trace_id == trace)
                             .values(**changes),
                             *(_settle(k, event.actor_state, trace_id=trace)
                               for k in settles)],
                         told=[row.requester, row.requested])

    # Meetings

    @process_event.register
    def _(self, event: Meeting.Convened, tracking: Tracking) -> None:
        meeting = str(event.originator_id)
        self.view.record(tracking, [_new(event, "meeting_convened", state, meeting_id=meeting)
                                    for state in event.participants],
                         statements=[insert(inbox_meetings).values(
                             meeting_id=meeting, participants=",".join(event.participants))])

    @process_event.register
    def _(self, event: Meeting.ParticipantJoined, tracking: Tracking) -> None:
        meeting = str(event.originator_id)
        participants = sorted({*self._participants(meeting), event.state})
        self.view.record(tracking, [_new(event, "meeting_convened", event.state,
                                         meeting_id=meeting)],
                         statements=[self._meeting_update(meeting, participants)])

    @process_event.register
    def _(self, event: Meeting.ParticipantLeft, tracking: Tracking) -> None:
        meeting = str(event.originator_id)
        participants = [s for s in self._participants(meeting) if s != event.state]
        self.view.record(tracking, statements=[self._meeting_update(meeting, participants)])

    @process_event.register
    def _(self, event: Meeting.CaseTabled, tracking: Tracking) -> None:
        self._tell_participants(event, tracking, "case_tabled")

    @process_event.register
    def _(self, event: Meeting.OutcomeRecorded, tracking: Tracking) -> None:
        self._tell_participants(event, tracking, "outcome_recorded")

    @process_event.register
    def _(self, event: Meeting.LessonProposed, tracking: Tracking) -> None:
        meeting = str(event.originator_id)
        self.view.record(tracking, [
            _new(event, "lesson_consent_awaited", state, meeting_id=meeting,
                 ref=event.lesson_id)
            for state in event.concerned if state != event.actor_state])

    @process_event.register
    def _(self, event: Meeting.ConsentGiven, tracking: Tracking) -> None:
        self.view.record(tracking, statements=[_settle(
            "lesson_consent_awaited", event.actor_state, meeting_id=str(event.originator_id),
            ref=event.lesson_id)], told=[event.actor_state])

    def _tell_participants(self, event: Any, tracking: Tracking, kind: str) -> None:
        meeting = str(event.originator_id)
        self.view.record(tracking, [
            _new(event, kind, state, meeting_id=meeting, case_id=event.case_id,
                 case_gated=True)
            for state in self._participants(meeting) if state != event.actor_state])

    def _participants(self, meeting_id: str) -> list[str]:
        return _codes(self.view.scalar(select(inbox_meetings.c.participants).where(
            inbox_meetings.c.meeting_id == meeting_id)) or "")

    @staticmethod
    def _meeting_update(meeting_id: str, participants: list[str]) -> Any:
        return update(inbox_meetings).where(inbox_meetings.c.meeting_id == meeting_id).values(
            participants=",".join(participants))

    # The directory

    @process_event.register
    def _(self, event: State.Registered, tracking: Tracking) -> None:
        items = [] if event.code == SECRETARIAT_CODE else [
            _new(event, "state_registered", SECRETARIAT_CODE, ref=event.code)]
        self.view.record(tracking, items)

    @process_event.register
    def _(self, event: User.Added, tracking: Tracking) -> None:
        # A user who made their own account (the first secretariat user) is told nothing.
        items = [] if event.actor_user == str(event.originator_id) else [
            _new(event, "user_added", event.state, ref=event.username[:36])]
        self.view.record(tracking, items)

    @process_event.register
    def _(self, event: User.SignedInFromNewPlace, tracking: Tracking) -> None:
        self.view.record(tracking, [_new(event, "new_sign_in_place", "",
                                         user_id=str(event.originator_id))])

    @process_event.register
    def _(self, event: User.SecondFactorReset, tracking: Tracking) -> None:
        self.view.record(tracking, [_new(event, "second_factor_reset", "",
                                         user_id=str(event.originator_id))])


def _new(event: Any, kind: str, state: str, *, user_id: str = "", case_id: str = "",
         case_gated: bool = False, trace_id: str = "", meeting_id: str = "",
         ref: str = "") -> dict[str, Any]:
    """A stored item: its id is the event's and its recipient's, so a replay makes it again
    with the same id."""
    return dict(item_id=item_id(event.originator_id, event.originator_version,
                                state or user_id, kind),
                state=state, user_id=user_id, kind=kind, case_id=case_id,
                case_gated=case_gated, trace_id=trace_id, meeting_id=meeting_id, ref=ref,
                actor_state=event.actor_state, at=event.timestamp, settled=False)


def _settle(kind: str, state: str, **about: str) -> Any:
    """Settles a state's items of a kind about a record: someone of the state acted."""
    i = inbox_items.c
    return update(inbox_items).where(
        i.kind == kind, i.state == state, *(i[k] == v for k, v in about.items())
    ).values(settled=True)

