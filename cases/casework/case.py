"""The Case aggregate: what can happen to a diversion case.

A sealed aggregate (DESIGN §3): it keeps only clear facts (owner, status, tier, recipients,
key version, parts present, chain head), so its rules run without any key. Content travels
sealed in each event's ``body``; `cases.casework.case_service` opens it for readers.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.ledger import Actor, SignedAggregate, stored_as


class Status(StrEnum):
    """Where a case stands. A StrEnum is its plain string to JSON, so events store and sign
    the same bytes as before (no transcoding needed, and none that would change them)."""

    SUSPECTED = "suspected"
    UNDER_INVESTIGATION = "under_investigation"
    CONFIRMED = "confirmed"
    UNFOUNDED = "unfounded"
    CLOSED = "closed"


SUSPECTED, UNDER_INVESTIGATION, CONFIRMED, UNFOUNDED, CLOSED = Status
STATUSES = tuple(Status)

# Reopening is the move from `closed` back to `under_investigation`.
TRANSITIONS = {
    SUSPECTED: (UNDER_INVESTIGATION, UNFOUNDED),
    UNDER_INVESTIGATION: (CONFIRMED, UNFOUNDED),
    CONFIRMED: (CLOSED, UNDER_INVESTIGATION),
    UNFOUNDED: (CLOSED, UNDER_INVESTIGATION),
    CLOSED: (UNDER_INVESTIGATION,),
}

class Tier(StrEnum):
    """Who reads a case: its state, named states, a meeting's participants, all States
    Parties. Tier 1 (policy summaries) is not a tier of a case: it never reads one."""

    NATIONAL = "national"
    BILATERAL = "bilateral"
    MEETING = "meeting"
    PORTAL = "portal"


NATIONAL, BILATERAL, MEETING, PORTAL = Tier
TIERS = tuple(Tier)

# The parts of a case that come and go, each keyed by a part id in clear.
PARTS = ("item", "actor", "leg", "note")

MAX_RETENTION_YEARS = 100
# The UNIDIR ITI review asks that records of transfers be kept at least this long.
ITI_RETENTION_YEARS = 20


def years_after(moment: datetime, years: int) -> datetime:
    """The same day ``years`` later (28 February for a 29 February without a twin)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@stored_as("cases.case")
class Case(SignedAggregate):
    """One suspected or confirmed diversion, owned by the state that logged it."""

    class Opened(SignedAggregate.Created):
        owner: str
        key_version: int
        grants: list[dict[str, Any]]
        title: str

    def __init__(self, owner: str, key_version: int, grants: list[dict[str, Any]],
                 title: str) -> None:
        self.owner = owner
        self.status = SUSPECTED
        self.tier = NATIONAL
        self.key_version = key_version
        self.recipients = sorted({g["recipient"] for g in grants})
        self.parts: dict[str, set[str]] = {kind: set() for kind in PARTS}
        self.title = title
        # States that read the case only because it was tabled at a meeting: state -> meeting.
        self.via_meeting: dict[str, str] = {}
        self.closed_on: datetime | None = None
        self.keep_years: int | None = None  # None: kept indefinitely
        self.shred_requested_by = ""  # user id of the state admin who asked
        self.shredded = False
        # Tier 1: the member states whose consent the policy facts wait for, and who gave it.
        self.policy_concerned: list[str] | None = None
        self.policy_consents: set[str] = set()
        # The version that last changed each part of the case ("summary", "status",
        # "sharing" or a part id): what a change made on an older version may collide with.
        self.touched: dict[str, int] = {}

    def _touch(self, key: str) -> None:
        """Called from an event's apply, before the version moves on. A case loaded from a
        snapshot taken before parts were tracked starts tracking here; "*" remembers from
        which version, and changes made on older versions are checked against the whole
        case (`changed_since`)."""
        touched = self.__dict__.setdefault("touched", {"*": self.version})
        touched[key] = self.version + 1

    def changed_since(self, version: int, part: str | None) -> bool:
        """Whether a change prepared on ``version`` collides with a later one: one that
        touched the same ``part``, or any later change when ``part`` is None."""
        touched = self.__dict__.get("touched")
        if part is None or touched is None or version < touched.get("*", 0) \
                or version > self.version:
            return version != self.version
        return touched.get(part, 0) > version

    @classmethod
    def open(cls, actor: Actor, case_id: UUID, grants: list[dict[str, Any]], title: str,
             body: bytes) -> Case:
        """Opens a case; ``title`` is the sealed title token, ``body`` the sealed summary."""
        return cls._start(cls.Opened, case_id, actor, body=body, owner=actor.state,
                          key_version=1, grants=grants, title=title)

    class ContentRevised(SignedAggregate.Event):
        key_version: int
        title: str

        def apply(self, case: Case) -> None:
            case.title = self.title
            case._touch("summary")

    def revise_content(self, actor: Actor, title: str, body: bytes) -> None:
        self._record(self.ContentRevised, actor, body=body, key_version=self.key_version,
                     title=title)

    class PartAdded(SignedAggregate.Event):
        kind: str
        part_id: str
        key_version: int

        def apply(self, case: Case) -> None:
            case.parts[self.kind].add(self.part_id)
            case._touch(self.part_id)

    class PartRevised(SignedAggregate.Event):
        kind: str
        part_id: str
        key_version: int

        def apply(self, case: Case) -> None:
            case._touch(self.part_id)

    class PartRemoved(SignedAggregate.Event):
        kind: str
        part_id: str

        def apply(self, case: Case) -> None:
            case.parts[self.kind].discard(self.part_id)
            case._touch(self.part_id)

    def add_part(self, actor: Actor, kind: str, part_id: str, body: bytes) -> None:
        """Adds an item, actor, route leg or evidence note (sealed in ``body``); a removed
        part comes back under its own id (a restore)."""
        self._check_kind(kind)
        if part_id in self.parts[kind]:
            raise Conflict("This part is on the case already.", field="part_id")
        self._record(self.PartAdded, actor, body=body, kind=kind, part_id=part_id,
                     key_version=self.key_version)

    def revise_part(self, actor: Actor, kind: str, part_id: str, body: bytes) -> None:
        self._check_part(kind, part_id)
        if kind in ("leg", "note"):
            raise InvalidInput("A route leg or evidence note is not revised; remove it and "
                               "add a new one.", field="kind")
        self._record(self.PartRevised, actor, body=body, kind=kind, part_id=part_id,
                     key_version=self.key_version)

    def remove_part(self, actor: Actor, kind: str, part_id: str) -> None:
        self._check_part(kind, part_id)
        if kind == "note":
            raise InvalidInput("Evidence notes are kept; add a correcting note instead.",
                               field="kind")
        self._record(self.PartRemoved, actor, kind=kind, part_id=part_id)

    class StatusChanged(SignedAggregate.Event):
        status: str
        key_version: int

        def apply(self, case: Case) -> None:
            case.status = self.status
            case.closed_on = self.timestamp if self.status == CLOSED else None
            case.shred_requested_by = ""  # a request holds only for the case as it was
            case._touch("status")

    def change_status(self, actor: Actor, status: str, body: bytes) -> None:
        """Moves the case along its lifecycle; ``body`` seals the reason given."""
        if status not in STATUSES:
            raise InvalidInput("Status must be one of %(choices)s.", field="status",
                               choices=", ".join(STATUSES))
        if status not in TRANSITIONS[self.status]:
            raise Conflict("A case in status %(old)s cannot become %(new)s.", field="status",
                           old=self.status, new=status)
        self._record(self.StatusChanged, actor, body=body, status=status,
                     key_version=self.key_version)

    class Shared(SignedAggregate.Event):
        tier: str
        added: list[str]
        grants: list[dict[str, Any]]
        meeting: str

        def apply(self, case: Case) -> None:
            case.tier = self.tier
            case.recipients = sorted(set(case.recipients) | set(self.added))
            if self.meeting:
                case.via_meeting.update(dict.fromkeys(self.added, self.meeting))

    def share(self, actor: Actor, tier: str, added: list[str],
              grants: list[dict[str, Any]], meeting: str = "") -> None:
        """Widens the audience; ``grants`` record the wrapped keys handed to ``added``.

        ``meeting`` names the meeting the case was tabled at, for a meeting share.
        """
        if tier not in (BILATERAL, MEETING, PORTAL):
            raise InvalidInput("Share bilaterally, to a meeting or on the portal.", field="tier")
        fresh = sorted(set(added) - set(self.recipients))
        if not fresh and TIERS.index(tier) <= TIERS.index(self.tier):
            raise Conflict("Those states can already read this case.", field="states")
        self._record(self.Shared, actor, tier=max(tier, self.tier, key=TIERS.index),
                     added=fresh, grants=grants, meeting=meeting)

    class Unshared(SignedAggregate.Event):
        tier: str
        removed: list[str]
        key_version: int
        grants: list[dict[str, Any]]

        def apply(self, case: Case) -> None:
            case.tier = self.tier
            case.recipients = sorted(set(case.recipients) - set(self.removed))
            case.key_version = self.key_version
            for state in self.removed:
                case.via_meeting.pop(state, None)

    def unshare(self, actor: Actor, removed: list[str], tier: str,
                grants: list[dict[str, Any]]) -> None:
        """Narrows the audience and moves to a new case key, wrapped only for who remains."""
        gone = sorted(set(removed) & set(self.recipients) - {self.owner})
        if not gone:
            raise Conflict("None of those states can read this case.", field="states")
        self._record(self.Unshared, actor, tier=tier, removed=gone,
                     key_version=self.key_version + 1, grants=grants)

    class RetentionSet(SignedAggregate.Event):
        keep_years: int | None

        def apply(self, case: Case) -> None:
            case.keep_years = self.keep_years
            case.shred_requested_by = ""  # a request holds only under the rule it was made

    def set_retention(self, actor: Actor, keep_years: int | None) -> None:
        """How long after closing the case is kept; None keeps it indefinitely."""
        self._check_not_shredded()
        valid = keep_years is None or (isinstance(keep_years, int)
                                       and not isinstance(keep_years, bool)
                                       and 0 <= keep_years <= MAX_RETENTION_YEARS)
        if not valid:
            raise InvalidInput("Keep a case between 0 and %(most)s years after closing, or "
                               "indefinitely.", field="keep_years", most=MAX_RETENTION_YEARS)
        if keep_years == self.keep_years:
            raise Conflict("This case already has that retention rule.", field="keep_years")
        self._record(self.RetentionSet, actor, keep_years=keep_years)

    def shred_due(self) -> datetime | None:
        """From when the retention rule lets the case be shredded (None: not yet known)."""
        if self.status != CLOSED or self.closed_on is None or self.keep_years is None:
            return None
        return years_after(self.closed_on, self.keep_years)

    class ShredRequested(SignedAggregate.Event):
        def apply(self, case: Case) -> None:
            case.shred_requested_by = self.actor_user

    def request_shred(self, actor: Actor, now: datetime) -> None:
        """The first of two people asks to crypto-shred the case, once retention allows."""
        self._check_not_shredded()
        if self.status != CLOSED or self.closed_on is None:
            raise Conflict("Only a closed case can be shredded.", field="status")
        if self.keep_years is None:
            raise Conflict("This case is kept indefinitely; set a retention period first.",
                           field="keep_years")
        due = years_after(self.closed_on, self.keep_years)
        if now < due:
            raise Conflict("The retention period runs until %(day)s.", field="keep_years",
                           day=due.date().isoformat())
        if self.shred_requested_by:
            raise Conflict("Shredding is already requested; a second state admin confirms it.")
        self._record(self.ShredRequested, actor)

    class ShredRequestWithdrawn(SignedAggregate.Event):
        def apply(self, case: Case) -> None:
            case.shred_requested_by = ""

    def withdraw_shred(self, actor: Actor) -> None:
        """Any state admin of the owner withdraws a pending request."""
        self._check_not_shredded()
        if not self.shred_requested_by:
            raise Conflict("No one has asked to shred this case.")
        self._record(self.ShredRequestWithdrawn, actor)

    class Shredded(SignedAggregate.Event):
        """The case keys were deleted from the keystore with this event: content is gone."""

        requested_by: str

        def apply(self, case: Case) -> None:
            case.shredded = True
            case.shred_requested_by = ""

    def confirm_shred(self, actor: Actor) -> None:
        """The second person confirms; the service deletes the keys with this event."""
        self._check_not_shredded()
        if not self.shred_requested_by:
            raise Conflict("No one has asked to shred this case.")
        if actor.user == self.shred_requested_by:
            raise Conflict("A second person must confirm: you asked for the shredding.")
        self._record(self.Shredded, actor, requested_by=self.shred_requested_by)

    class PolicyFactsSealed(SignedAggregate.Event):
        """The owner's coarse facts for the tier-1 summaries, sealed to the subgroup key (not
        the case key); they count only once every concerned member state consents."""

        concerned: list[str]

        def apply(self, case: Case) -> None:
            if case.policy_concerned != self.concerned:
                case.policy_consents = set()
            case.policy_concerned = list(self.concerned)
            case.policy_consents.add(case.owner)

    def seal_policy_facts(self, actor: Actor, concerned: list[str], body: bytes) -> None:
        self._record(self.PolicyFactsSealed, actor, body=body,
                     concerned=sorted(set(concerned) - {self.owner}))

    class PolicyConsentGiven(SignedAggregate.Event):
        def apply(self, case: Case) -> None:
            case.policy_consents.add(self.actor_state)

    class PolicyConsentWithdrawn(SignedAggregate.Event):
        def apply(self, case: Case) -> None:
            case.policy_consents.discard(self.actor_state)

    def consent_to_policy(self, actor: Actor, given: bool) -> None:
        """A concerned state (or the owner) gives or withdraws consent to tier-1 inclusion."""
        if self.policy_concerned is None:
            raise Conflict("This case is not proposed for the tier-1 summaries.")
        if actor.state not in [*self.policy_concerned, self.owner]:
            raise Forbidden("Only the owner and the concerned member states consent.")
        if given and actor.state in self.policy_consents:
            raise Conflict("Your state's consent is already recorded so.")
        if not given and actor.state not in self.policy_consents:
            raise Conflict("Your state has not consented.")
        self._record(self.PolicyConsentGiven if given else self.PolicyConsentWithdrawn, actor)

    @property
    def in_policy_summaries(self) -> bool:
        """Tier-1 consent is complete: the owner and every concerned member state."""
        return (self.policy_concerned is not None
                and set(self.policy_concerned) | {self.owner} <= self.policy_consents)

    def _record(self, event_class: type, actor: Actor, body: bytes = b"",
                **clear_fields: Any) -> None:
        self._check_not_shredded()
        super()._record(event_class, actor, body, **clear_fields)

    def _check_not_shredded(self) -> None:
        if self.shredded:
            raise Conflict("This case was crypto-shredded; it cannot change.")

    # Rules

    def readable_by(self, state: str) -> bool:
        return state in self.recipients

    def _check_kind(self, kind: str) -> None:
        if kind not in PARTS:
            raise InvalidInput("Unknown part '%(value)s'.", field="kind", value=kind)

    def _check_part(self, kind: str, part_id: str) -> None:
        self._check_kind(kind)
        if part_id not in self.parts[kind]:
            raise NotFound("This case has no %(kind)s %(part)s.", field="part_id", kind=kind,
                           part=part_id)
