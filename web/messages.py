"""Translating the domain's English refusals: each known message shape maps to a catalog entry.

`cases/` speaks English and knows nothing of Flask; its messages carry values (a limit, a
code), so they are matched by pattern and re-built from a translatable template.
"""

from __future__ import annotations

import re

from flask_babel import gettext

from cases.errors import DivexError

from .labels import label


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


_PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(p + r"\Z"), m) for p, m in (
    # cases/content.py
    (r"This field is required\.", N_("This field is required.")),
    (r"At most (?P<limit>\d+) characters\.", N_("At most %(limit)s characters.")),
    (r"Choose one of: (?P<choices>.*)\.", N_("Choose one of: %(choices)s.")),
    (r"'(?P<code>[^']*)' is not an ISO 3166-1 alpha-3 country code\.",
     N_("'%(code)s' is not an ISO 3166-1 alpha-3 country code.")),
    (r"'(?P<code>[^']*)' is not an ISO 3166-1 alpha-3 country code \(e\.g\. FRA, MEX\)\.",
     N_("'%(code)s' is not an ISO 3166-1 alpha-3 country code (e.g. FRA, MEX).")),
    (r"Enter a whole number\.", N_("Enter a whole number.")),
    (r"Must be between (?P<low>\d+) and (?P<high>\d+)\.",
     N_("Must be between %(low)s and %(high)s.")),
    (r"Enter a date as YYYY-MM-DD\.", N_("Enter a date as YYYY-MM-DD.")),
    (r"The date cannot be in the future\.", N_("The date cannot be in the future.")),
    (r"Unknown flag\(s\): (?P<flags>.*)\.", N_("Unknown flag(s): %(flags)s.")),
    (r"An HS code has 6 to 10 digits \(small arms: chapter 93, e\.g\. 930190\)\.",
     N_("An HS code has 6 to 10 digits (small arms: chapter 93, e.g. 930190).")),
    (r"Unknown concerned-state role '(?P<role>[^']*)'\.",
     N_("Unknown concerned-state role '%(role)s'.")),
    # cases/api_tokens.py, web/api
    (r"Give the token a name of 1 to (?P<most>\d+) characters\.",
     N_("Give the token a name of 1 to %(most)s characters.")),
    (r"A token can only have roles you hold\.", N_("A token can only have roles you hold.")),
    (r"A token lasts 1 to (?P<most>\d+) days\.", N_("A token lasts 1 to %(most)s days.")),
    (r"Wrong password\.", N_("Wrong password.")),
    (r"No such API token\.", N_("No such API token.")),
    (r"This API token is not valid\. Issue a new one on your account page\.",
     N_("This API token is not valid. Issue a new one on your account page.")),
    (r"Send an API token: Authorization: Bearer <token>\.",
     N_("Send an API token: Authorization: Bearer <token>.")),
    (r"Only a state admin manages the tokens of other users\.",
     N_("Only a state admin manages the tokens of other users.")),
    (r"The body must be a JSON object \(Content-Type: application/json\)\.",
     N_("The body must be a JSON object (Content-Type: application/json).")),
    # cases/directory_service.py
    (r"The contact point needs a name\.", N_("The contact point needs a name.")),
    (r"The contact point needs a channel\.", N_("The contact point needs a channel.")),
    # cases/services.py
    (r"Only analysts log cases\.", N_("Only analysts log cases.")),
    (r"Share bilaterally or on the portal\.", N_("Share bilaterally or on the portal.")),
    (r"Name at least one state to share with\.", N_("Name at least one state to share with.")),
    (r"(?P<code>\w+) cannot receive cases\.", N_("%(code)s cannot receive cases.")),
    (r"No such case\.", N_("No such case.")),
    (r"Only analysts of the owner state change this case\.",
     N_("Only analysts of the owner state change this case.")),
    (r"This case was changed by someone else since you opened it; reload it and make your "
     r"change again\.", N_("This case was changed by someone else since you opened it; "
                           "reload it and make your change again.")),
    (r"Your state's keys do not open this case\.",
     N_("Your state's keys do not open this case.")),
    (r"Unknown part '(?P<kind>[^']*)'\.", N_("Unknown part '%(kind)s'.")),
    # cases/case.py
    (r"A (?P<kind>\w+) is not revised; remove it and add a new one\.",
     N_("This part is not revised; remove it and add a new one.")),
    (r"Evidence notes are kept; add a correcting note instead\.",
     N_("Evidence notes are kept; add a correcting note instead.")),
    (r"Status must be one of (?P<choices>.*)\.", N_("Status must be one of %(choices)s.")),
    (r"A (?P<old>\w+) case cannot become (?P<new>\w+)\.",
     N_("A case in status %(old)s cannot become %(new)s.")),
    (r"Share bilaterally, to a meeting or on the portal\.",
     N_("Share bilaterally, to a meeting or on the portal.")),
    (r"Those states can already read this case\.",
     N_("Those states can already read this case.")),
    (r"None of those states can read this case\.",
     N_("None of those states can read this case.")),
    (r"This case has no (?P<kind>\w+) (?P<part>\w+)\.", N_("This case has no such part.")),
    # auditing, retention and crypto-shredding
    (r"Only auditors read the log\.", N_("Only auditors read the log.")),
    (r"Write a date as YYYY-MM-DD, optionally with a time HH:MM\.",
     N_("Write a date as YYYY-MM-DD, optionally with a time HH:MM.")),
    (r"No user named '(?P<name>[^']*)'\.", N_("No user named '%(name)s'.")),
    (r"No event with notification id (?P<id>\d+)\.",
     N_("No event with notification id %(id)s.")),
    (r"The case did not exist yet at that moment\.",
     N_("The case did not exist yet at that moment.")),
    (r"The log is empty: there is nothing to checkpoint yet\.",
     N_("The log is empty: there is nothing to checkpoint yet.")),
    (r"The exchange presents a checkpoint of (?P<size>\d+) events that does not extend the "
     r"one of (?P<cosigned>\d+) events (?P<state>\w+) cosigned: .*",
     N_("The exchange presents a checkpoint of %(size)s events that does not extend the one "
        "of %(cosigned)s events your state cosigned: the history may have been rewritten or "
        "split. Nothing was cosigned; alert your auditors and the secretariat.")),
    (r"This case was crypto-shredded; it cannot change\.",
     N_("This case was crypto-shredded; it cannot change.")),
    (r"Keep a case between 0 and (?P<most>\d+) years after closing, or indefinitely\.",
     N_("Keep a case between 0 and %(most)s years after closing, or indefinitely.")),
    (r"This case already has that retention rule\.",
     N_("This case already has that retention rule.")),
    (r"Only a closed case can be shredded\.", N_("Only a closed case can be shredded.")),
    (r"This case is kept indefinitely; set a retention period first\.",
     N_("This case is kept indefinitely; set a retention period first.")),
    (r"The retention period runs until (?P<day>[\d-]+)\.",
     N_("The retention period runs until %(day)s.")),
    (r"Shredding is already requested; a second state admin confirms it\.",
     N_("Shredding is already requested; a second state admin confirms it.")),
    (r"No one has asked to shred this case\.", N_("No one has asked to shred this case.")),
    (r"The case of this trace request was crypto-shredded; the request cannot change\.",
     N_("The case of this trace request was crypto-shredded; the request cannot change.")),
    (r"A second person must confirm: you asked for the shredding\.",
     N_("A second person must confirm: you asked for the shredding.")),
    (r"Only state admins of the owner state decide retention and shredding\.",
     N_("Only state admins of the owner state decide retention and shredding.")),
    # cases/releases.py, web/summaries.py
    (r"Give the year to release, e\.g\. 2025\.", N_("Give the year to release, e.g. 2025.")),
    (r"The first year to release is (?P<first>\d+), when the Arms Trade Treaty entered into "
     r"force\.", N_("The first year to release is %(first)s, when the Arms Trade Treaty "
                    "entered into force.")),
    (r"(?P<year>-?\d+) is not closed yet: release a past year\.",
     N_("%(year)s is not closed yet: release a past year.")),
    # cases/tracing_service.py
    (r"The case has no item (?P<items>.*)\.", N_("The case has no item %(items)s.")),
    # cases/directory*.py, cases/ledger.py
    (r"No state with code '(?P<code>[^']*)' is registered\.",
     N_("No state with code '%(code)s' is registered.")),
    (r"Wrong user name or password\.", N_("Wrong user name or password.")),
    (r"Too many wrong passwords or codes: this account is locked until "
     r"(?P<time>\d\d:\d\d) UTC\. Try again then, or ask your state admin\.",
     N_("Too many wrong passwords or codes: this account is locked until %(time)s UTC. Try "
        "again then, or ask your state admin.")),
    # cases/second_factor_service.py
    (r"That code is not right, or it was already used\.",
     N_("That code is not right, or it was already used.")),
    (r"That code is not right\. Check that the clock of your device is right and enter the "
     r"code it shows now\.", N_("That code is not right. Check that the clock of your device "
                                "is right and enter the code it shows now.")),
    (r"Sign in again\.", N_("Sign in again.")),
    (r"Start the set-up again: the secret was lost\.",
     N_("Start the set-up again: the secret was lost.")),
    (r"A second factor is already set up for this account\.",
     N_("A second factor is already set up for this account.")),
    (r"Only a state admin or the secretariat resets a second factor\.",
     N_("Only a state admin or the secretariat resets a second factor.")),
    (r"You cannot reset your own second factor; ask another state admin or the secretariat\.",
     N_("You cannot reset your own second factor; ask another state admin or the "
        "secretariat.")),
    (r"The secretariat resets the second factor of state admins only; a state admin resets "
     r"that of their own state's users\.",
     N_("The secretariat resets the second factor of state admins only; a state admin resets "
        "that of their own state's users.")),
    (r"(?P<name>\S+) has no second factor to reset\.",
     N_("%(name)s has no second factor to reset.")),
    (r"Someone else changed this record at the same time; reload and try again\.",
     N_("Someone else changed this record at the same time; reload and try again.")),
    # refusals with values of the directory, meetings, releases and trace requests
    (r"The password must have at least (?P<least>\d+) characters\.",
     N_("The password must have at least %(least)s characters.")),
    (r"Role\(s\) (?P<wrong>.*) cannot be given here; allowed: (?P<allowed>.*)\.",
     N_("Role(s) %(wrong)s cannot be given here; allowed: %(allowed)s.")),
    (r"(?P<code>\w+) has no key version (?P<version>\d+)\.",
     N_("%(code)s has no key version %(version)s.")),
    (r"(?P<code>\w+) has no contact point to confirm yet\.",
     N_("%(code)s has no contact point to confirm yet.")),
    (r"(?P<code>\w+) had no keys at (?P<moment>\S+)\.",
     N_("%(code)s had no keys at %(moment)s.")),
    (r"(?P<code>\w+) is already registered\.",
     N_("%(code)s is already registered.")),
    (r"(?P<name>\S+) is deactivated\.",
     N_("%(name)s is deactivated.")),
    (r"(?P<name>\S+) is not a user of (?P<code>\w+)\.",
     N_("%(name)s is not a user of %(code)s.")),
    (r"(?P<name>\S+) is already deactivated\.",
     N_("%(name)s is already deactivated.")),
    (r"The user name '(?P<name>[^']*)' is taken\.",
     N_("The user name '%(name)s' is taken.")),
    (r"(?P<code>\w+) cannot take part\.",
     N_("%(code)s cannot take part.")),
    (r"(?P<code>\w+) is not a registered state\.",
     N_("%(code)s is not a registered state.")),
    (r"(?P<code>\w+) already takes part\.",
     N_("%(code)s already takes part.")),
    (r"(?P<code>\w+) does not take part\.",
     N_("%(code)s does not take part.")),
    (r"A (?P<old>\w+) meeting cannot become (?P<new>\w+)\.",
     N_("A meeting in status %(old)s cannot become %(new)s.")),
    (r"This correction would change (?P<count>\d+) published figure\(s\) by fewer than "
     r"(?P<k>\d+) cases \(e\.g\. (?P<example>.*)\): the two releases could be compared "
     r"to reveal a small cell\.",
     N_("This correction would change %(count)s published figure(s) by fewer than %(k)s "
        "cases (e.g. %(example)s): the two releases could be compared to reveal a small "
        "cell.")),
    (r"Give between 1 and (?P<most>\d+) days\.",
     N_("Give between 1 and %(most)s days.")),
    (r"Not on the checklist: (?P<entries>.*)\.",
     N_("Not on the checklist: %(entries)s.")),
    (r"The outcome must be one of (?P<choices>.*)\.",
     N_("The outcome must be one of %(choices)s.")),
    (r"A (?P<old>\w+) request has no deadline to change\.",
     N_("A request in status %(old)s has no deadline to change.")),
    (r"A (?P<old>\w+) request has no answer to attach yet\.",
     N_("A request in status %(old)s has no answer to attach yet.")),
    (r"A (?P<kind>\w+) answer gives no route to attach\.",
     N_("An answer with the outcome %(kind)s gives no route to attach.")),
    (r"A (?P<old>\w+) trace request cannot become (?P<new>\w+)\.",
     N_("A trace request in status %(old)s cannot become %(new)s.")),
    (r"(?P<code>\w+) has no national contact point to ask\.",
     N_("%(code)s has no national contact point to ask.")),
)]


# Refusals of cases/ without values: translated by their own text (`translate` falls back to
# the catalog); listed here so extraction finds them.
PLAIN_REFUSALS = (
    N_("A checkpoint in the bundle is malformed."),
    N_("This case is not proposed for the tier-1 summaries."),
    N_("Only the owner and the concerned member states consent."),
    N_("Only the secretariat publishes a log key."),
    N_("Only the secretariat publishes the subgroup key."),
    N_("Set up a second factor first."),
    N_("A user name has 3 to 64 characters: letters, digits, '.', '_', '-' or '@', "
       "starting with a letter or digit."),
    N_("The password must not contain the user name."),
    N_("The password repeats too few different characters."),
    N_("Choose at least one role."),
    N_("divex is already initialised: the secretariat exists."),
    N_("That code is reserved for the secretariat."),
    N_("That recovery secret does not open this state's keys."),
    N_("You cannot deactivate your own account."),
    N_("That is not a recovery secret as divex prints them."),
    N_("Only the secretariat or the state itself ends its participation."),
    N_("The convenor or the case's owner records the outcome."),
    N_("An analyst or state admin gives its state's consent."),
    N_("Only participants, the secretariat and auditors see this meeting."),
    N_("Your state holds no key for this."),
    N_("A meeting needs at least two participating states."),
    N_("This case is already on the agenda."),
    N_("This case is not on the agenda."),
    N_("Only a participating state proposes lessons."),
    N_("Name the states concerned by this lesson."),
    N_("No such lesson."),
    N_("Only the states concerned by a lesson consent to it."),
    N_("This meeting is closed."),
    N_("Only a participating state tables its cases."),
    N_("Only analysts or admins give their state's consent."),
    N_("Only analysts or admins of the owner state propose a case for the tier-1 summaries."),
    N_("No subgroup key is published yet; ask the secretariat."),
    N_("Nothing changed since the last release of this year."),
    N_("Only the secretariat publishes releases."),
    N_("No such user."),
    N_("A case is shared to a meeting by tabling it there."),
    N_("The case version is missing or not a number."),
    N_("Name at least one item of the case to trace."),
    N_("The deadline must fall after the day of sending."),
    N_("This answer is already a route leg of the case."),
    N_("Enter a whole number of days."),
    N_("Tick what is missing or say it in a note."),
    N_("Answers go by checklist entry."),
    N_("Give the missing information or a note."),
    N_("Say what you ask the requested state."),
    N_("The answer names no destination to route the items to."),
    N_("Name the state to ask."),
    N_("A state does not send a trace request to itself."),
    N_("No such trace request."),
    N_("Only analysts of the two states act on a trace request."),
    N_("Your state's keys do not open this trace request."),
    N_("Only analysts of the state that owns the case send trace requests."),
    N_("Too many people are signing in at this moment. Try again in a few seconds."),
    # cases/invitations.py, cases/onboarding_service.py, web/admin.py (issue 28)
    N_("This invitation was already used."),
    N_("This invitation was revoked. Ask for a new one."),
    N_("This invitation has expired. Ask for a new one."),
    N_("Only a pending invitation can be revoked."),
    N_("No such invitation."),
    N_("This invitation code is not right. Check it, or ask for a new one."),
    N_("Only the secretariat registers states."),
    N_("%(code)s already has a pending invitation; revoke it first to invite someone else."),
    N_("Only a state admin invites users."),
    N_("That is not an invitation code as divex prints them."),
    N_("This invitation is for another user name. Use the one you were given."),
    N_("%(name)s already has these roles."),
    N_("Only a state admin changes roles."),
    N_("Only a state admin deactivates users."),
    N_("Only a state admin rotates the state's keys."),
    N_("The state's keys changed after this invitation was issued. Ask your state admin for "
       "a new one."),
    N_("%(name)s is the last state admin of %(code)s; make someone else state admin first."),
    N_("Only a state admin manages invitations."),
    N_("Only a state admin manages users."),
    N_("The two passwords differ."),
    N_("Only a state admin reactivates users."),
    N_("%(name)s is active."),
    N_("%(name)s already has a pending invitation."),
    N_("%(code)s already has that status."),
    N_("The access of %(code)s is already suspended."),
    N_("The access of %(code)s is not suspended."),
    N_("The access of %(code)s to the exchange is suspended; ask the secretariat."),
    N_("Only the secretariat manages states."),
)


_LABELLED = {"old", "new", "kind"}


def refusal(error: DivexError) -> str:
    """A domain refusal in the user's language: its template translated, then filled."""
    if not error.params:
        return translate(error.message)
    values = {k: label(v) if k in _LABELLED else v for k, v in error.params.items()}
    return gettext(error.template, **values)


def translate(message: str) -> str:
    """The message in the user's language if its shape is known, else as the domain said it."""
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            values = {k: label(v) if k in _LABELLED else v
                      for k, v in match.groupdict().items()}
            return gettext(template, **values)
    return gettext(message)
