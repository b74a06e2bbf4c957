"""The case-scoped routes, with who may use them and a valid sample body: for access tests.

Paths carry `{case_id}` and, for parts, `{part_id}` (an existing part of that kind). Every POST
also needs `csrf_token` (from any page's form) and `expected_version` (the case's version);
GET confirmations take `expected_version` in the query. `who` is `reader` (any user of a
state that can read the case) or `owner_analyst` (an analyst of the state that owns it).

A sample body is valid for a case owned by FRA with one part of each kind, in the sharing
tiers listed in `valid_in` (bilateral meaning shared with DEU). Outside them the owner
analyst is refused because of the case, not the route: sharing with DEU when DEU already
reads is 409 on POST (the GET confirmation still shows 200: nothing would change); stopping
sharing with DEU when DEU does not read is 422 on the GET confirmation and 409 on POST.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUMMARY = {"title": "Rifles found near the border", "narrative": "Forty rifles, serials erased.",
           "point_of_diversion": "at_or_after_delivery", "concerned_exporter": "DEU",
           "concerned_discovery": "MLI"}
ITEM = {"category": "small_arms", "quantity": "40", "hs_code": "930190", "make": "Acme",
        "model": "AR-1", "serial": "SN-123", "year": "2011", "calibre": "7.62x39",
        "country_of_manufacture": "DEU", "marking_condition": "erased", "flags": ["modular"]}
ACTOR = {"role": "broker", "name": "Example Trading Ltd", "country": "DEU", "notes": ""}
LEG = {"origin": "DEU", "destination": "MLI", "mode": "sea", "date": "2024-01-15", "notes": ""}
NATIONAL = ("national",)
SHARED = ("bilateral", "portal")
NOTE = {"text": "Customs report no. 12 attached to the national file."}


@dataclass(frozen=True)
class CaseRoute:
    method: str
    path: str
    endpoint: str
    who: str
    body: dict[str, str | list[str]] = field(default_factory=dict)
    part: str = ""  # the kind of part `{part_id}` names, if any
    valid_in: tuple[str, ...] = ("national", "bilateral", "portal")


CASE_ROUTES: tuple[CaseRoute, ...] = (
    CaseRoute("GET", "/cases/{case_id}", "cases.show", "reader"),
    CaseRoute("GET", "/cases/{case_id}/summary", "cases.edit_summary", "owner_analyst"),
    CaseRoute("POST", "/cases/{case_id}/summary", "cases.revise_summary", "owner_analyst",
              SUMMARY),
    *(r for kind, body in (("item", ITEM), ("actor", ACTOR), ("leg", LEG), ("note", NOTE))
      for r in (CaseRoute("GET", f"/cases/{{case_id}}/{kind}/new", "cases.new_part",
                          "owner_analyst"),
                CaseRoute("POST", f"/cases/{{case_id}}/{kind}/new", "cases.add_part",
                          "owner_analyst", body))),
    *(r for kind, body in (("item", ITEM), ("actor", ACTOR))
      for r in (CaseRoute("GET", f"/cases/{{case_id}}/{kind}/{{part_id}}/edit",
                          "cases.edit_part", "owner_analyst", part=kind),
                CaseRoute("POST", f"/cases/{{case_id}}/{kind}/{{part_id}}/edit",
                          "cases.revise_part", "owner_analyst", body, part=kind))),
    *(r for kind in ("item", "actor", "leg")
      for r in (CaseRoute("GET", f"/cases/{{case_id}}/{kind}/{{part_id}}/remove",
                          "cases.confirm_remove", "owner_analyst", part=kind),
                CaseRoute("POST", f"/cases/{{case_id}}/{kind}/{{part_id}}/remove",
                          "cases.remove_part", "owner_analyst", part=kind))),
    CaseRoute("GET", "/cases/{case_id}/status", "cases.edit_status", "owner_analyst"),
    CaseRoute("POST", "/cases/{case_id}/status", "cases.change_status", "owner_analyst",
              {"status": "under_investigation", "reason": "Serials checked."}),
    CaseRoute("GET", "/cases/{case_id}/share", "sharing.share", "owner_analyst"),
    CaseRoute("GET", "/cases/{case_id}/share/confirm", "sharing.confirm_share", "owner_analyst",
              {"tier": "bilateral", "states": ["DEU"]}),
    CaseRoute("POST", "/cases/{case_id}/share", "sharing.do_share", "owner_analyst",
              {"tier": "bilateral", "states": ["DEU"]}, valid_in=NATIONAL),
    CaseRoute("GET", "/cases/{case_id}/unshare", "sharing.unshare", "owner_analyst"),
    CaseRoute("GET", "/cases/{case_id}/unshare/confirm", "sharing.confirm_unshare",
              "owner_analyst", {"states": ["DEU"]}, valid_in=SHARED),
    CaseRoute("POST", "/cases/{case_id}/unshare", "sharing.do_unshare", "owner_analyst",
              {"states": ["DEU"]}, valid_in=SHARED),
)
