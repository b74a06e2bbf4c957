"""What each case status means and what each move records, in the user's language: the
status panel and the status form explain the lifecycle instead of only listing moves."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from cases.casework.case import STATUSES, TRANSITIONS

MEANING = {
    "suspected": _l("A possible diversion was reported; nothing is established yet."),
    "under_investigation": _l("The state is establishing the facts: tracing, checks, "
                              "questions to other states."),
    "confirmed": _l("The investigation established that a diversion took place."),
    "unfounded": _l("The investigation found no diversion."),
    "closed": _l("No further work is expected; the retention rule runs from now."),
}

MOVE = {
    ("suspected", "under_investigation"): _l("Start investigating the report."),
    ("suspected", "unfounded"): _l("Set the report aside at once, e.g. a mistaken report."),
    ("under_investigation", "confirmed"): _l("Record that the diversion is established."),
    ("under_investigation", "unfounded"): _l("Record that no diversion took place."),
    ("confirmed", "closed"): _l("End the work on a confirmed case."),
    ("confirmed", "under_investigation"): _l("Reopen the investigation, e.g. new facts."),
    ("unfounded", "closed"): _l("End the work on an unfounded case."),
    ("unfounded", "under_investigation"): _l("Reopen the investigation, e.g. new facts."),
    ("closed", "under_investigation"): _l("Reopen a closed case for investigation."),
}

# Why a status a user looks for is not offered from where the case stands.
NOT_OFFERED = {
    ("suspected", "confirmed"): _l("A suspected case is confirmed only after an "
                                   "investigation: put it under investigation first."),
    ("suspected", "closed"): _l("A suspected case is closed once it is confirmed or found "
                                "unfounded."),
}


def lifecycle(status: str) -> dict[str, object]:
    """The page's view of the lifecycle from ``status``: every status with its meaning,
    the moves offered with what each records, and why the others are not offered."""
    moves = [(target, MOVE[(status, target)]) for target in TRANSITIONS[status]]
    not_offered = [text for (origin, _target), text in NOT_OFFERED.items() if origin == status]
    return {"current": status, "statuses": [(s, MEANING[s]) for s in STATUSES],
            "moves": moves, "not_offered": not_offered}
