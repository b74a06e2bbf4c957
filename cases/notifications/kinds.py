"""The kinds of inbox items: who sees each, and the one sentence that says what happened.

A sentence carries no case content (no title, no number, no item), so it is what the inbox
line and the e-mail both say. Sentences are marked for the catalogs with `N_` and translated
where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.kernel.viewer import ANALYST, AUDITOR, REVIEWER, SECRETARIAT, STATE_ADMIN


def N_(message: str) -> str:
    """Marks a sentence for extraction (pybabel's ``N_``); it is translated where shown."""
    return message


@dataclass(frozen=True)
class Kind:
    """``audience``: the roles of the concerned state that see the item; empty for an item
    about one user, which only that user sees. ``action``: what the item asks of them, if
    anything (shown until someone of the state has done it)."""

    name: str
    audience: frozenset[str]
    sentence: str
    action: str = ""


READERS = frozenset({ANALYST, REVIEWER})
CONSENTERS = frozenset({ANALYST, STATE_ADMIN})

KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("case_shared", READERS | {AUDITOR}, N_("A case was shared with your state.")),
    Kind("contribution_added", READERS,
         N_("Another state added to a case your state reads.")),
    Kind("private_hit", READERS,
         N_("An item of your state's case may match an item another state recorded."),
         N_("Share, trace or dismiss")),
    Kind("case_tabled", READERS, N_("A case was tabled at a meeting your state takes part in.")),
    Kind("outcome_recorded", READERS,
         N_("A discussion outcome was recorded at a meeting your state takes part in.")),
    Kind("policy_consent_awaited", CONSENTERS,
         N_("Your state's consent is awaited to count a case in the tier-1 summaries."),
         N_("Give or refuse consent")),
    Kind("trace_received", READERS, N_("Your state received a trace request."),
         N_("Acknowledge and answer")),
    Kind("trace_acknowledged", READERS, N_("A trace request of your state was acknowledged.")),
    Kind("trace_more_info", READERS,
         N_("More information is asked for a trace request of your state."),
         N_("Supply the missing information")),
    Kind("trace_info_supplied", READERS,
         N_("The requesting state supplied the information asked for a trace request."),
         N_("Answer the request")),
    Kind("trace_answered", READERS, N_("A trace request of your state was answered."),
         N_("Read the answer and close")),
    Kind("trace_closed", READERS, N_("A trace request your state answered was closed.")),
    Kind("trace_deadline_changed", READERS,
         N_("The deadline of a trace request to your state was moved.")),
    Kind("trace_due_soon", READERS,
         N_("A trace request sent to or by your state is due in 3 days or less.")),
    Kind("trace_overdue", READERS,
         N_("A trace request sent to or by your state is overdue.")),
    Kind("meeting_convened", READERS,
         N_("Your state was invited to an informal meeting.")),
    Kind("lesson_consent_awaited", CONSENTERS,
         N_("A lesson proposed at a meeting awaits your state's consent."),
         N_("Give or refuse consent")),
    Kind("checkpoint_to_cosign", frozenset({AUDITOR}),
         N_("A checkpoint of the log awaits your state's cosignature."), N_("Cosign")),
    Kind("state_registered", frozenset({SECRETARIAT}),
         N_("A state joined the exchange.")),
    Kind("user_added", frozenset({STATE_ADMIN}), N_("A user joined your state.")),
    Kind("new_sign_in_place", frozenset(),
         N_("Your account was signed in to from a network it was never used from before. If "
            "that was not you, change your password and tell your state admin.")),
    Kind("second_factor_reset", frozenset(),
         N_("Your second factor was reset; set up a new one.")),
)}

DUE_SOON_DAYS = 3  # trace_due_soon: the deadline is at most this many days away


def kinds_seen_by(roles: frozenset[str]) -> list[str]:
    """The kinds of state items a user with these roles sees."""
    return [k.name for k in KINDS.values() if k.audience & roles]
