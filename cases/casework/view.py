"""What a reader sees of a case: content folded from the events their state can open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cases.casework.case import Case

Opener = Callable[[Any], "dict[str, Any] | None"]


@dataclass
class CaseView:
    id: str
    owner: str
    status: str
    tier: str
    recipients: list[str]
    version: int
    key_version: int
    opened_on: datetime
    updated_on: datetime
    summary: dict[str, Any] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)
    legs: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    status_changes: list[dict[str, Any]] = field(default_factory=list)
    unreadable_events: int = 0
    shredded_on: datetime | None = None
    # Retention (clear facts): years kept after closing (None: indefinitely), from when the
    # rule lets the case be shredded, and who asked for shredding (a user name, or "").
    keep_years: int | None = None
    shred_due: datetime | None = None
    shred_requested_by: str = ""

    @property
    def title(self) -> str:
        return self.summary.get("title", "")


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    timestamp: datetime
    event: str
    state: str
    user: str
    clear: dict[str, Any]
    content: dict[str, Any] | None


def event_name(event: Any) -> str:
    return type(event).__name__


def fold_view(case: Case, events: list[Any], open_body: Opener,
              username: Callable[[str], str]) -> CaseView:
    """Folds the opened events into the content a reader sees."""
    view = CaseView(id=str(case.id), owner=case.owner, status=case.status, tier=case.tier,
                    recipients=list(case.recipients), version=case.version,
                    key_version=case.key_version, opened_on=case.created_on,
                    updated_on=case.modified_on, keep_years=case.keep_years,
                    shred_due=case.shred_due(),
                    shred_requested_by=username(case.shred_requested_by)
                    if case.shred_requested_by else "")
    parts = {"item": view.items, "actor": view.actors, "leg": view.legs}
    for event in events:
        if isinstance(event, Case.Shredded):
            view.shredded_on = event.timestamp
        if isinstance(event, Case.PolicyFactsSealed):
            continue  # sealed to the subgroup key: not content of the case
        content = open_body(event)
        if event.body and content is None:
            view.unreadable_events += 1
            continue
        if isinstance(event, (Case.Opened, Case.ContentRevised)):
            view.summary = dict(content or {})  # a copy: the history shows the same bodies
        elif isinstance(event, (Case.PartAdded, Case.PartRevised)):
            if event.kind == "note":
                view.notes.append(dict(content or {}, on=event.timestamp,
                                       by=username(event.actor_user)))
            else:
                parts[event.kind][event.part_id] = dict(content or {})
        elif isinstance(event, Case.PartRemoved):
            parts.get(event.kind, {}).pop(event.part_id, None)
        elif isinstance(event, Case.StatusChanged):
            view.status_changes.append({"status": event.status, "on": event.timestamp,
                                        "by": username(event.actor_user),
                                        "reason": (content or {}).get("reason", "")})
    return view


# What an auditor of a state that does not read the case sees of each event's clear fields.
SHOWN_TO_ANY_AUDITOR = ("signing_key_version", "key_version", "prev_hash")


def history_entry(event: Any, content: dict[str, Any] | None,
                  username: Callable[[str], str], *, withheld: bool = False) -> HistoryEntry:
    """One event of the history; ``withheld`` for an auditor whose state does not read the
    case: no status, part kind, recipient or user, only what verification needs."""
    clear = {k: v for k, v in event.clear_fields().items()
             if k not in ("type", "aggregate", "version", "timestamp", "actor_state",
                          "actor_user", "title")
             and (not withheld or k in SHOWN_TO_ANY_AUDITOR)}
    return HistoryEntry(version=event.originator_version, timestamp=event.timestamp,
                        event=event_name(event), state=event.actor_state,
                        user="" if withheld else username(event.actor_user), clear=clear,
                        content=content)
