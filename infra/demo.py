"""Demo data: fictional states' users and diversion cases in every status and tier.

Everything here is invented: names, serial numbers and events are fictional.
"""

from __future__ import annotations

import csv
import io
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pyotp
from PIL import Image, ImageDraw

from cases.casework.attachments import Upload
from cases.casework.bulk_import import COLUMNS
from cases.identity.second_factor import STEP_SECONDS
from cases.kernel.errors import NotFound
from cases.kernel.viewer import Viewer
from projections.summaries import publish

from .wiring import Exchange

DEMO_PASSWORD = "demo-exchange-2026"
# The one TOTP secret of every demo user whose role requires a second factor (state admins,
# auditors, the secretariat), so a visitor can add it once to an authenticator app. Demo only:
# a real user's secret is random and shown to them alone.
DEMO_TOTP_SECRET = "DIVEXDEMOTOTPSECRETFORDEMOUSERS2"

# (code, status): a mix of States Parties and one signatory.
DEMO_STATES = [("FRA", "state_party"), ("DEU", "state_party"), ("MEX", "state_party"),
               ("NGA", "state_party"), ("SEN", "state_party"), ("PER", "state_party"),
               ("UKR", "signatory")]
ROLES_PER_STATE = {"analyst": ["analyst"], "reviewer": ["reviewer"], "auditor": ["auditor"]}

PLACES = ["a port warehouse", "a border crossing", "a river checkpoint", "an airstrip",
          "a bus terminal", "a farm outbuilding", "a market stall", "a customs yard"]
FINDS = [("small_arms", "930190", "assault rifles", "7.62x39mm"),
         ("small_arms", "930200", "pistols", "9x19mm"),
         ("light_weapons", "930120", "grenade launchers", "40mm"),
         ("ammunition", "930630", "cartridges", "5.56x45mm"),
         ("parts_and_components", "930591", "rifle receivers", ""),
         ("light_weapons", "930100", "heavy machine guns", "12.7x108mm")]
MAKERS = ["Norvik Arms", "Castellane SA", "Ardent Defence", "Kestrel Works", "Oriel Industria"]
POINTS = ["before_transfer", "in_transit", "at_or_after_delivery", "unauthorised_reexport",
          "stockpile_loss_or_theft", "unknown"]
ACTORS = [("broker", "Meridian Logistics Ltd"), ("carrier", "Blue Heron Shipping"),
          ("end_user", "Ministry of Interior depot 4"), ("non_state_armed_group", "Group 'Falcon'"),
          ("importer", "Sahel Trading House"), ("exporter", "Castellane SA")]
# Case 1 (FRA's, tabled at the meeting) carries these, for the README's search example.
SEARCH_EXAMPLE_SERIAL = "KR-2291-7734"
SEARCH_EXAMPLE_ACTOR = ("broker", "Saloum Trading SARL")
# Status paths that reach every lifecycle state.
PATHS = [[], ["under_investigation"], ["under_investigation", "confirmed"],
         ["unfounded"], ["under_investigation", "confirmed", "closed"],
         ["under_investigation", "unfounded", "closed", "under_investigation"]]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    state: str
    roles: str


def seed(exchange: Exchange, cases: int = 36, rng_seed: int = 2018) -> list[DemoLogin]:
    """Fills an empty exchange with states, users and cases; returns the demo logins."""
    rng = random.Random(rng_seed)
    directory = exchange.directory
    directory.initialise("secretariat", DEMO_PASSWORD, "Secretariat")
    logins = [DemoLogin("secretariat", "XAT", "secretariat, state_admin")]
    secretariat = directory.authenticate("secretariat", DEMO_PASSWORD)
    analysts: dict[str, Viewer] = {}
    for code, status in DEMO_STATES:
        prefix = code.lower()
        directory.create_state(secretariat, code, status, f"{prefix}.admin", DEMO_PASSWORD)
        admin = directory.authenticate(f"{prefix}.admin", DEMO_PASSWORD)
        logins.append(DemoLogin(f"{prefix}.admin", code, "state_admin"))
        for suffix, roles in ROLES_PER_STATE.items():
            directory.add_user(admin, f"{prefix}.{suffix}", DEMO_PASSWORD, roles)
            logins.append(DemoLogin(f"{prefix}.{suffix}", code, ", ".join(roles)))
        analysts[code] = directory.authenticate(f"{prefix}.analyst", DEMO_PASSWORD)
    codes = [code for code, _ in DEMO_STATES]
    case_ids = [_seed_case(exchange, analysts[codes[n % len(codes)]], n, rng, codes)
                for n in range(cases)]
    _seed_contact_points(exchange, codes[:-1])  # the last state's contact point stays missing
    _seed_traces(exchange, analysts, case_ids[:3])
    _seed_contributions(exchange, analysts, case_ids)
    _seed_hits(exchange, analysts)
    _seed_meeting(exchange, secretariat, analysts, case_ids)
    _seed_policy(exchange, analysts, [c for n, c in enumerate(case_ids) if n % 3])
    exchange.follow()
    _seed_release(exchange, secretariat)
    _seed_checkpoint(exchange, codes[:3])
    _seed_second_factors(exchange, logins)
    return logins


REGISTER = (  # France's national register, as an analyst would import it (fictional)
    {"case": "FR-REG-2024-031", "title": "Pistols seized in a lorry at the Le Perthus crossing",
     "narrative": "Customs found the pistols behind a false panel. Fictional demo record.",
     "point_of_diversion": "in_transit", "found_on": "2024-05-17", "found_at": "Le Perthus",
     "concerned_exporter": "DEU", "concerned_transit": "ESP", "concerned_discovery": "FRA",
     "category": "small_arms", "quantity": "6", "make": "Castellan", "model": "P-9",
     "serial": "CP9-118204;CP9-118205;CP9-118206;CP9-118207;CP9-118208;CP9-118209",
     "calibre": "9x19mm", "country_of_manufacture": "DEU", "marking_condition": "intact"},
    {"case": "FR-REG-2024-031", "category": "ammunition", "quantity": "900",
     "lot": "LOT-44-19", "headstamp": "CA 19"},
    {"case": "FR-REG-2024-077", "title": "Rifle with an erased serial found in a warehouse",
     "point_of_diversion": "unknown", "found_on": "2024-09-02", "found_at": "Marseille",
     "concerned_discovery": "FRA", "category": "small_arms", "quantity": "1",
     "make": "Norvik", "model": "NA-47", "calibre": "7.62x39mm", "marking_condition": "erased"},
    {"case": "FR-REG-2025-004", "title": "Craft-produced submachine guns in a workshop",
     "point_of_diversion": "unknown", "found_on": "2025-01-21", "found_at": "Lille",
     "concerned_discovery": "FRA", "category": "small_arms", "quantity": "3",
     "flags": "craft", "marking_condition": "erased"},
)


def register_csv() -> str:
    """A sample file for the import page: a few cases of France's national register."""
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    writer.writerows(REGISTER)
    return out.getvalue()


def invite_newcomer(exchange: Exchange) -> str:
    """One pending invitation (a FRA analyst), so a visitor can try accepting one; returns
    its code, which the demo prints."""
    admin = exchange.directory.unlock("fra.admin", DEMO_PASSWORD).viewer
    return exchange.onboarding.invite_user(admin, "fra.newcomer", ["analyst"],
                                           "New analyst (demo)").code


def demo_code(at: datetime | None = None) -> str:
    """The demo users' current second-factor code."""
    return pyotp.TOTP(DEMO_TOTP_SECRET).at(at or datetime.now(UTC))


def _seed_second_factors(exchange: Exchange, logins: list[DemoLogin]) -> None:
    """Enrols the demo secret for every demo user whose role requires a second factor.
    Enrolment takes the previous step's code, so the current one still signs in at once."""
    directory = exchange.directory
    for login in logins:
        user = directory.user(login.username)
        if user.needs_second_factor:
            unlocked = directory.unlock(login.username, DEMO_PASSWORD)
            directory.second_factors.enrol_at_sign_in(unlocked, DEMO_TOTP_SECRET,
                                                      _previous_step_code())


def _previous_step_code() -> str:
    """The previous step's code, taken clear of a step's end: enrolment accepts one step
    either side of its own now, so a code taken just before a step ends could be two old."""
    now = datetime.now(UTC).timestamp()
    if STEP_SECONDS - now % STEP_SECONDS < 2:
        time.sleep(STEP_SECONDS - now % STEP_SECONDS + 0.1)
    return pyotp.TOTP(DEMO_TOTP_SECRET).at(datetime.now(UTC).timestamp() - STEP_SECONDS)


def _seed_policy(exchange: Exchange, analysts: dict[str, Viewer], case_ids: list) -> None:
    """The shared cases proposed for the tier-1 summaries, with every consent given."""
    for case_id in case_ids:
        owner = exchange.ledger.repository.get(case_id).owner
        for state in exchange.policy.propose(analysts[owner], case_id):
            exchange.policy.consent(analysts[state], case_id, True)


def _seed_release(exchange: Exchange, secretariat: Viewer) -> None:
    """Last year's tier-1 release, frozen by the secretariat, for the members to read."""
    this_year = datetime.now(UTC).year
    publish(exchange.releases, secretariat, exchange.policy_summary.included(),
            exchange.thresholds, this_year - 1, this_year)


def _seed_checkpoint(exchange: Exchange, witnesses: list[str]) -> None:
    """A checkpoint of the whole demo log, cosigned by the auditors of a few states."""
    exchange.checkpointer.record()
    for code in witnesses:
        exchange.witness.cosign(
            exchange.directory.authenticate(f"{code.lower()}.auditor", DEMO_PASSWORD))


def _seed_contact_points(exchange: Exchange, codes: list[str]) -> None:
    for code in codes:
        admin = exchange.directory.authenticate(f"{code.lower()}.admin", DEMO_PASSWORD)
        exchange.directory.set_contact_point(
            admin, name=f"National contact point of {code}", office="Export control office",
            channel=f"ncp@{code.lower()}.example", volunteers_to_assist=code in ("FRA", "MEX"))


def _seed_contributions(exchange: Exchange, analysts: dict[str, Viewer],
                        case_ids: list) -> None:
    """On France's first case shared with other states: what one of them adds, and France's
    answer, so the thread and the inbox show both."""
    fra = analysts["FRA"]
    for case_id in case_ids:
        try:
            case = exchange.cases.view(fra, case_id)
        except NotFound:
            continue
        readers = [s for s in case.recipients if s != "FRA" and s in analysts]
        if case.owner == "FRA" and readers:
            other = analysts[readers[0]]
            exchange.contributions.contribute(
                other, case_id, "information",
                f"{readers[0]} checked its export records: these items match licence "
                f"{readers[0]}-EX-2017-0932, issued for delivery to a government end user. "
                "The end-user certificate is in our national file (fictional demo entry).",
                Upload("markings-item-1.png", markings_photo()))
            exchange.contributions.contribute(
                fra, case_id, "comment", "Thank you. We will compare the serials with the "
                "licence annex and put the case under investigation.")
            return


HIT_RIFLE = {"category": "small_arms", "make": "Norvik", "model": "NA-47",
             "calibre": "7.62x39mm", "match_check": "yes"}
HIT_ROUNDS = {"category": "ammunition", "quantity": "1200", "calibre": "7.62x39mm",
              "match_check": "yes"}


def _seed_hits(exchange: Exchange, analysts: dict[str, Viewer]) -> None:
    """Germany's report of rifles and rounds stolen from a dealer, and France's seizure of one
    of those rifles and rounds of the same lot, each written its own way: two private hits
    both states are told of, and nothing shared yet."""
    exchange.cases.open_case(
        analysts["DEU"], {"title": "Rifles and ammunition stolen from a licensed dealer",
                          "narrative": "Break-in at a dealer's store near Hamburg. Fictional "
                                       "demo case.",
                          "point_of_diversion": "stockpile_loss_or_theft",
                          "found_on": (date.today() - timedelta(days=300)).isoformat(),
                          "found_at": "Hamburg"},
        items=[{**HIT_RIFLE, "quantity": "3", "serial": "NA47-220913\nNA47-220914\nNA47-220915"},
               {**HIT_ROUNDS, "headstamp": "NV 21", "lot": "LOT-2107-B"}])
    exchange.cases.open_case(
        analysts["FRA"], {"title": "Rifle and rounds seized in a van at the port of Le Havre",
                          "narrative": "Found during a customs check of a van leaving a ferry. "
                                       "Fictional demo case.",
                          "point_of_diversion": "unknown",
                          "found_on": (date.today() - timedelta(days=20)).isoformat(),
                          "found_at": "Le Havre"},
        items=[{**HIT_RIFLE, "quantity": "1", "serial": "na47 220914"},
               {**HIT_ROUNDS, "quantity": "350", "headstamp": "NV21", "lot": "lot 2107 b"}])


def markings_photo() -> bytes:
    """A drawn stand-in for a photo of an item's markings (no real weapon, no real serial)."""
    image = Image.new("RGB", (480, 160), (92, 98, 104))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 40, 460, 120), fill=(60, 64, 70), outline=(200, 200, 200))
    draw.text((40, 60), "NORVIK  NA-47   KR-2291-7734", fill=(230, 230, 230))
    draw.text((40, 90), "CAL 7.62x39   2011   (DEMO)", fill=(200, 200, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _seed_traces(exchange: Exchange, analysts: dict[str, Viewer], case_ids: list) -> None:
    """Three trace requests: one just sent and due in two days (so both states' inboxes
    warn of it), one waiting for information, one answered."""
    traces = exchange.traces
    for step, case_id in enumerate(case_ids):
        owner = exchange.cases.view(analysts[DEMO_STATES[step][0]], case_id)
        analyst = analysts[owner.owner]
        requested = owner.summary["concerned"]["exporter"]
        trace_id = traces.send(analyst, case_id, requested, list(owner.items),
                               "Please trace these items: to whom were they exported?")
        if step == 0:
            traces.change_deadline(analyst, trace_id, datetime.now(
                exchange.settings.zone).date() + timedelta(days=2))
        if step >= 1:
            traces.acknowledge(analysts[requested], trace_id)
            traces.request_more_info(analysts[requested], trace_id, ["markings_photos"],
                                     "Photos of the markings, please.")
        if step == 2:
            traces.complete(analyst, trace_id, note="Photos are in the national file.")
            traces.answer(analysts[requested], trace_id, "traced", destination=owner.owner,
                          date="2018-04-02", licence="EX-2018-114",
                          text="Exported under licence EX-2018-114 to the state of discovery.",
                          upload=Upload("licence-EX-2018-114-extract.txt", (
                              b"Export licence EX-2018-114 (fictional demo extract)\n"
                              b"Consignee: Ministry of Defence of the state of discovery\n"
                              b"End-user certificate: EUC-2018-0419, no re-export without "
                              b"consent\n")))


def _seed_meeting(exchange: Exchange, secretariat: Viewer, analysts: dict[str, Viewer],
                  case_ids: list) -> None:
    meetings = exchange.meetings
    meeting = meetings.convene(secretariat, "Informal exchange on diversion cases",
                               "2026-05-20", "Diversion Information Exchange Forum",
                               ["FRA", "DEU", "MEX", "NGA"])
    fra_case = case_ids[0]  # case 1 belongs to FRA and is national (see _seed_case)
    meetings.table_case(analysts["FRA"], meeting, fra_case)
    # Discussed under the Chatham House rule: the page shows what was said, not who said it.
    meetings.set_chatham_house(secretariat, meeting, True)
    exchange.contributions.contribute(
        analysts["MEX"], fra_case, "information", "A lot with the same import marking crossed "
        "our northern border in 2023 (fictional demo entry).", meeting=meeting)
    exchange.contributions.contribute(
        analysts["DEU"], fra_case, "comment", "The dealer named in the route leg was "
        "reported to us for a licence breach; we can share the file bilaterally.",
        meeting=meeting)
    meetings.record_outcome(analysts["FRA"], meeting, fra_case,
                            "Participants agreed that the markings point to a re-export.")
    lesson = meetings.propose_lesson(analysts["FRA"], meeting,
                                     "Re-exports through transit hubs recur in several cases.",
                                     ["FRA", "DEU"])
    meetings.consent(analysts["FRA"], meeting, lesson, True)
    # Peru joins after the tabling: it reads FRA's case only once FRA agrees (the meeting page
    # tells FRA who waits on it).
    meetings.admit(secretariat, meeting, "PER")


def _seed_case(exchange: Exchange, analyst: Viewer, number: int, rng: random.Random,
               codes: list[str]) -> UUID:
    category, hs_code, what, calibre = FINDS[number % len(FINDS)]
    place = rng.choice(PLACES)
    others = [c for c in codes if c != analyst.state]
    exporter, transit = rng.sample(others, 2)
    quantity = rng.randint(3, 400)
    summary = {
        "title": f"{quantity} {what} found at {place} (case {number + 1:03d})",
        "narrative": (f"During a routine inspection at {place}, officers found {quantity} "
                      f"{what}. Markings point to a transfer authorised to another end user. "
                      "Fictional demo case."),
        "point_of_diversion": POINTS[number % len(POINTS)],
        # Found over the last twenty months, so last year's tier-1 release has cases to count.
        "found_on": (date.today() - timedelta(days=12 + 17 * number)).isoformat(),
        "found_at": place,
        "concerned": {"exporter": exporter, "transit": transit, "discovery": analyst.state},
    }
    cases = exchange.cases
    case_id = cases.open_case(analyst, summary)
    version = 1
    make, model = rng.choice(MAKERS), f"M{rng.randint(10, 99)}"
    first = rng.randint(100000, 999999)  # drawn for case 1 too: same demo after
    # Seized in a run of consecutive serials, as a lot often is; case 1's are found by search.
    serial = "\n".join(f"DX-{first + n}" if number else f"{SEARCH_EXAMPLE_SERIAL[:-1]}{4 + n}"
                        for n in range(min(quantity, 5)))
    cases.add_part(analyst, case_id, version, "item", {
        "category": category, "hs_code": hs_code, "quantity": str(quantity),
        "make": make, "model": model, "serial": serial, "year": str(rng.randint(1975, 2022)),
        "calibre": calibre, "country_of_manufacture": exporter,
        "marking_condition": rng.choice(["intact", "altered", "erased"]),
        "flags": ["modular"] if number % 7 == 0 else [], "match_check": "yes"})
    role, name = ACTORS[number % len(ACTORS)] if number else SEARCH_EXAMPLE_ACTOR
    cases.add_part(analyst, case_id, version + 1, "actor",
                   {"role": role, "name": name, "country": transit})
    cases.add_part(analyst, case_id, version + 2, "leg", {
        "origin": exporter, "destination": transit, "mode": rng.choice(["sea", "air", "road"]),
        "date": f"20{rng.randint(15, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"})
    version += 3
    for status in PATHS[number % len(PATHS)]:
        cases.change_status(analyst, case_id, version, status, "Demo status change.")
        version += 1
    tier = number % 3
    if tier == 1:
        cases.share(analyst, case_id, version, "bilateral", [exporter, transit])
    elif tier == 2:
        cases.share(analyst, case_id, version, "portal")
    return case_id
