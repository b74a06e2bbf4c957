"""Human, translated labels for the domain's code words (categories, statuses, tiers, events)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pycountry
from babel import Locale
from flask import g
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from cases.casework.content import serials
from cases.identity.directory import SECRETARIAT_CODE

LABELS = {
    "yes": _l("Yes"),
    "no": _l("No"),
    # answers to a private hit (cases.hits.hit)
    "case_shared": _l("Shared its case"),
    "trace_sent": _l("Sent a trace request"),
    "dismissed": _l("Dismissed"),
    # kinds of contribution to a case (cases.casework.contribution)
    "comment": _l("Comment"),
    "information": _l("Information"),
    "answer": _l("Answer to a question"),
    # how a kind of inbox item is mailed (cases.notifications.addresses)
    "immediately": _l("At once"),
    "daily": _l("Daily digest"),
    "never": _l("Never"),
    # ATT Art. 2(1) categories, ammunition, parts and components (cases.casework.content)
    "battle_tanks": _l("Battle tanks"),
    "armoured_combat_vehicles": _l("Armoured combat vehicles"),
    "large_calibre_artillery": _l("Large-calibre artillery systems"),
    "combat_aircraft": _l("Combat aircraft"),
    "attack_helicopters": _l("Attack helicopters"),
    "warships": _l("Warships"),
    "missiles_and_launchers": _l("Missiles and missile launchers"),
    "small_arms": _l("Small arms"),
    "light_weapons": _l("Light weapons"),
    "ammunition": _l("Ammunition/munitions"),
    "parts_and_components": _l("Parts and components"),
    # marking conditions and flags
    "intact": _l("Intact"),
    "altered": _l("Altered"),
    "erased": _l("Erased"),
    "craft": _l("Craft-produced"),
    "3d_printed": _l("3D-printed"),
    "modular": _l("Modular"),
    "converted": _l("Converted"),
    # actor roles
    "exporter": _l("Exporter"),
    "importer": _l("Importer"),
    "broker": _l("Broker"),
    "carrier": _l("Carrier"),
    "end_user": _l("End user"),
    "intermediary": _l("Intermediary"),
    "non_state_armed_group": _l("Non-state armed group"),
    "criminal_group": _l("Criminal group"),
    "other": _l("Other"),
    # concerned-state roles
    "transit": _l("Transit state"),
    "discovery": _l("State of discovery"),
    # transport modes
    "air": _l("Air"),
    "sea": _l("Sea"),
    "road": _l("Road"),
    "rail": _l("Rail"),
    "post": _l("Post or courier"),
    "unknown": _l("Unknown"),
    # points of diversion
    "before_transfer": _l("Before transfer"),
    "in_transit": _l("In transit"),
    "at_or_after_delivery": _l("At or after delivery"),
    "unauthorised_reexport": _l("Unauthorised re-export"),
    "stockpile_loss_or_theft": _l("Stockpile loss or theft"),
    # statuses
    "suspected": _l("Suspected"),
    "under_investigation": _l("Under investigation"),
    "confirmed": _l("Confirmed"),
    "unfounded": _l("Unfounded"),
    "closed": _l("Closed"),
    # tiers
    "national": _l("National — own state only"),
    "bilateral": _l("Bilateral — named states"),
    "meeting": _l("Tier 3 — informal meeting"),
    "portal": _l("Tier 2 — exchange portal"),
    # part kinds
    "item": _l("item"),
    "actor": _l("actor"),
    "leg": _l("route leg"),
    "note": _l("evidence note"),
    # roles
    "analyst": _l("Analyst"),
    "reviewer": _l("Reviewer"),
    "auditor": _l("Auditor"),
    "state_admin": _l("State admin"),
    "secretariat": _l("Secretariat"),
    # state statuses (cases.identity.directory)
    "state_party": _l("State Party"),
    "signatory": _l("Signatory"),
    # trace requests (cases.tracing.trace_request)
    "sent": _l("Sent"),
    "acknowledged": _l("Acknowledged"),
    "more_info_requested": _l("More information requested"),
    "answered": _l("Answered"),
    "traced": _l("Traced"),
    "not_traced": _l("Not traced"),
    "answered_in_time": _l("Answered in time"),
    "not_answered_in_time": _l("Not answered in time"),
    "untraceable": _l("Untraceable"),
    "make": _l("Make"),
    "model": _l("Model"),
    "serial": _l("Serial number"),
    "calibre": _l("Calibre"),
    "year": _l("Year of manufacture"),
    "country_of_manufacture": _l("Country of manufacture"),
    "import_marking": _l("Import marking"),
    "markings_photos": _l("Photos of the markings"),
    "end_user_certificate": _l("End-user certificate"),
    # meetings (cases.meetings.meeting)
    "planned": _l("Planned"),
    "open": _l("Open"),
    "held": _l("Held"),
}

EVENTS = {
    # cases.meetings.meeting
    "Convened": _l("Meeting convened"),
    "ParticipantJoined": _l("Participant joined"),
    "ParticipantLeft": _l("Participant left"),
    "CaseTabled": _l("Case tabled"),
    "OutcomeRecorded": _l("Outcome recorded"),
    "LessonProposed": _l("Lesson proposed"),
    "ConsentGiven": _l("Consent given"),
    "ConsentWithdrawn": _l("Consent withdrawn"),
    "Opened": _l("Case logged"),
    "ContentRevised": _l("Summary revised"),
    "PartAdded": _l("Part added"),
    "PartRevised": _l("Part revised"),
    "PartRemoved": _l("Part removed"),
    "StatusChanged": _l("Status changed"),
    "Shared": _l("Shared"),
    "Unshared": _l("Sharing narrowed"),
    "RetentionSet": _l("Retention rule set"),
    "ShredRequested": _l("Crypto-shredding requested"),
    "ShredRequestWithdrawn": _l("Crypto-shredding request withdrawn"),
    "Shredded": _l("Crypto-shredded"),
}


# The tier-1 regions (continents as cases.policy.facts names them) as UN M49 areas, whose
# names in every language Babel's locale data holds.
REGIONS = {"Africa": "002", "North America": "003", "South America": "005", "Asia": "142",
           "Europe": "150", "Oceania": "009", "Antarctica": "AQ"}


def label(value: object) -> str:
    """The translated label of a code word or region; an unknown one is humanised as it is."""
    text = str(value or "")
    known = LABELS.get(text)
    if known is not None:
        return str(known)
    if text in REGIONS:
        return Locale.parse(str(get_locale())).territories[REGIONS[text]]
    return text.replace("_", " ").capitalize()


# Events named by their record's kind too ("User.RecoveryCodesIssued", as the audit log
# lists them); a qualified name not here falls back to its event's name above.
QUALIFIED_EVENTS = {
    "User.SignedInFromNewPlace": _l("Signed in from a new network"),
    "Hit.Found": _l("Private hit found"),
    "Hit.Answered": _l("Private hit answered"),
    "OracleUsage.Started": _l("Private hit checks started for the day"),
    "OracleUsage.Evaluated": _l("Private hit checks made"),
    "Contribution.Contributed": _l("Contribution added"),
    "Contribution.Revised": _l("Contribution revised"),
    "Contribution.Withdrawn": _l("Contribution withdrawn"),
    "Contribution.Hidden": _l("Contribution hidden by the case's owner"),
    "Case.PolicyFactsSealed": _l("Proposed for the tier-1 summaries"),
    "Case.PolicyConsentGiven": _l("Tier-1 consent given"),
    "Case.PolicyConsentWithdrawn": _l("Tier-1 consent withdrawn"),
    "Meeting.StatusChanged": _l("Meeting status changed"),
    "Meeting.ChathamHouseSet": _l("Chatham House mode set"),
    "Meeting.OutcomeRecordedWithFile": _l("Outcome recorded, with a file"),
    "Contribution.ContributedAtMeeting": _l("Said in a meeting's discussion"),
    "Invitation.Issued": _l("Invitation issued"),
    "Invitation.Accepted": _l("Invitation accepted"),
    "Invitation.Revoked": _l("Invitation revoked"),
    "Invitation.Expired": _l("Invitation expired"),
    "State.Registered": _l("State registered"),
    "State.KeysRotated": _l("State keys rotated"),
    "State.StatusChanged": _l("State status changed"),
    "State.Suspended": _l("State access suspended"),
    "State.Reinstated": _l("State access restored"),
    "State.LogKeyPublished": _l("Log key published"),
    "State.SubgroupKeyPublished": _l("Subgroup key published"),
    "State.CosigningKeyPublished": _l("Witness cosigning key published"),
    "State.CosigningKeyNamed": _l("Witness cosigning key published"),
    "State.ContactPointSet": _l("Contact point set"),
    "State.ContactPointConfirmed": _l("Contact point confirmed"),
    "User.Added": _l("User added"),
    "User.PasswordChanged": _l("Password changed"),
    "User.RolesChanged": _l("Roles changed"),
    "User.Deactivated": _l("User deactivated"),
    "User.Reactivated": _l("User reactivated"),
    "User.ApiTokenIssued": _l("API token issued"),
    "User.ApiTokenRevoked": _l("API token revoked"),
    "User.SecondFactorEnrolled": _l("Second factor enrolled"),
    "User.SecondFactorReset": _l("Second factor reset"),
    "User.RecoveryCodesIssued": _l("Recovery codes issued"),
    "User.RecoveryCodeUsed": _l("Recovery code used"),
    "User.LanguageChosen": _l("Interface language chosen"),
    "TraceRequest.Sent": _l("Trace request sent"),
    "TraceRequest.Acknowledged": _l("Trace request acknowledged"),
    "TraceRequest.MoreInfoRequested": _l("More information asked"),
    "TraceRequest.InformationSupplied": _l("Information supplied"),
    "TraceRequest.Answered": _l("Trace request answered"),
    "TraceRequest.AnsweredWithFile": _l("Trace request answered, with a file"),
    "TraceRequest.Closed": _l("Trace request closed"),
    "TraceRequest.DeadlineChanged": _l("Deadline changed"),
    "TraceRequest.AnswerAttached": _l("Answer attached"),
    "Release.Published": _l("Tier-1 release published"),
    "Release.Corrected": _l("Tier-1 release corrected"),
    "Release.Issued": _l("Tier-1 release published with its audit"),
    "Release.Reissued": _l("Tier-1 release corrected with its audit"),
}


# One sentence on each level of sharing, where it is chosen (DESIGN: the three-tier model).
TIERS_EXPLAINED = {
    "national": _l("Only your own state reads the case."),
    "bilateral": _l("The states you name read the case, and no one else."),
    "meeting": _l("The states taking part in an informal meeting read the case once you "
                  "table it there, to review it together."),
    "portal": _l("Every State Party on the exchange reads the case."),
    "tier1": _l("The WGETI diversion sub-working group never reads the case: only counts "
                "of coarse facts, above the disclosure threshold, once every concerned "
                "state consents."),
}


# A bare name (the case page's history names its events so) known only qualified, once.
_BARE_NAMES = [q.rsplit(".", 1)[-1] for q in QUALIFIED_EVENTS]
_ONLY_QUALIFIED = {q.rsplit(".", 1)[-1]: text for q, text in QUALIFIED_EVENTS.items()
                   if _BARE_NAMES.count(q.rsplit(".", 1)[-1]) == 1}


def colon(text: str) -> Markup:
    """A label and its colon as the user's language writes it: French puts a no-break space
    before it ("Statut : …"). Babel's locale data has no such rule."""
    language = str(get_locale() or "en")
    return Markup("{}\u00a0:" if language.startswith("fr") else "{}:").format(text)


def first_serial(item: dict[str, Any]) -> str:
    """An item's first serial number, and how many more it carries: ``KR-1 (+323)``."""
    found = serials(item)
    if len(found) < 2:
        return "".join(found)
    return gettext("%(serial)s (+%(more)s)", serial=found[0], more=len(found) - 1)


def tier_explained(tier: str) -> str:
    return str(TIERS_EXPLAINED.get(tier, ""))


def event_label(name: str) -> str:
    """An event's name in the user's language, from its bare or qualified name."""
    bare = name.rsplit(".", 1)[-1]
    known = QUALIFIED_EVENTS.get(name) or EVENTS.get(bare) or _ONLY_QUALIFIED.get(bare)
    return str(known) if known is not None else name


@lru_cache(maxsize=8)
def countries(language: str) -> tuple[tuple[str, str], ...]:
    """Every ISO 3166-1 country as (alpha-3 code, name in ``language``), by name."""
    names = Locale.parse(language).territories
    return tuple(sorted(((c.alpha_3, names.get(c.alpha_2, c.name))
                         for c in pycountry.countries), key=lambda pair: pair[1]))


def country_list() -> Markup:
    """The page's list of countries that country fields suggest from (`list="countries"`),
    once per page: typing a name offers its code, which stays the stored value."""
    if g.get("country_list_drawn"):
        return Markup("")
    g.country_list_drawn = True
    options = "".join(f'<option value="{code}">{escape(name)}</option>'
                      for code, name in countries(str(get_locale() or "en")))
    return Markup(f'<datalist id="countries">{options}</datalist>')


def country(code: str, fallback: str = "") -> str:
    """A state's name in the user's language (Babel's territory names), from its alpha-3
    code; ``fallback`` (else the code) where ISO 3166 has no such country."""
    if code == SECRETARIAT_CODE:
        return str(_l("ATT Secretariat"))
    found = pycountry.countries.get(alpha_3=code)
    if found is None:
        return fallback or code
    return Locale.parse(str(get_locale() or "en")).territories.get(found.alpha_2, found.name)
