"""Fuzzing the onboarding and administration forms: registering a state, inviting, accepting
an invitation, managing users and states, rotating keys, changing one's password. Any body
gets a page a person can read, never a 5xx; a refusal stores nothing."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from hypothesis import example, given
from hypothesis import strategies as st

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import events
from tests.web.fuzzing import (
    FUZZ,
    Fuzzer,
    Spec,
    anything,
    blank,
    choice,
    hostile_text,
    known_country,
    not_a_choice,
    over_long,
    submit,
    text,
    unknown_country,
)

COVERED = {"admin.register_state", "admin.invite", "admin.accept", "admin.change_roles",
           "admin.deactivate", "admin.reactivate", "admin.revoke", "admin.rotate_keys",
           "admin.change_status", "admin.suspend", "admin.reinvite_admin",
           "account.change_password"}

ROLES = ["analyst", "reviewer", "auditor", "state_admin"]
NAMES = st.one_of(st.sampled_from(["fra.new", "fra.analyst", "FRA.New", "x", "fra new"]),
                  hostile_text())
STATE_SPECS = (Spec("code", st.one_of(known_country(), unknown_country()), unknown_country()),
               Spec("status", choice(["state_party", "signatory"]),
                    not_a_choice(["state_party", "signatory"])),
               Spec("username", NAMES, blank()),
               Spec("display_name", text(200), over_long(200)))
INVITE_SPECS = (Spec("username", NAMES, blank()),
                Spec("roles", st.lists(choice(ROLES), min_size=1, unique=True),
                     st.lists(not_a_choice([*ROLES, "secretariat"]), min_size=1, max_size=2)),
                Spec("display_name", text(200), over_long(200)))
PASSWORDS = st.one_of(st.just(PASSWORD), hostile_text())


@st.composite
def acceptance(draw: Any, codes: list[str]) -> list:
    specs = (Spec("code", st.one_of(st.sampled_from(codes), hostile_text(),
                                    st.sampled_from([c[:-2] for c in codes]))),
             Spec("username", st.one_of(st.sampled_from(["fra.invited", "fra.other"]),
                                        hostile_text())),
             Spec("display_name", text(200)), Spec("password", PASSWORDS),
             Spec("password_again", PASSWORDS), Spec("recovery_secret", hostile_text()))
    return draw(anything(specs))


def fuzzer(app: Flask, username: str) -> Fuzzer:
    """One signed-in fuzzer per user and app, shared by a test's examples (signing in for
    each would meet the sign-in throttle)."""
    made = app.extensions.setdefault("fuzzers", {})
    if username not in made:
        made[username] = Fuzzer(app, username)
    return made[username]


def world(app: Flask) -> dict[str, Fuzzer]:
    return {who: fuzzer(app, name) for who, name in (
        ("secretariat", "secretariat"), ("admin", "fra.admin"), ("analyst", "fra.analyst"))}


@FUZZ
@given(body=anything(STATE_SPECS))
@example(body=[("code", "ita"), ("status", "state_party"), ("username", "ita.admin")])
def test_registering_a_state_survives_any_body(app: Flask, exchange: Exchange,
                                               people: dict[str, Viewer], body: list) -> None:
    submit(fuzzer(app, "secretariat"), exchange, "/admin/states", body,
           [s.name for s in STATE_SPECS], shows=True)


@FUZZ
@given(data=st.data())
def test_admin_forms_survive_any_body(app: Flask, exchange: Exchange,
                                      people: dict[str, Viewer], data: Any) -> None:
    fuzzers = world(app)
    pending = next((i for i in exchange.onboarding.invitations(people["FRA.admin"])
                    if i.username == "fra.pending"), None) or exchange.onboarding.invite_user(
        people["FRA.admin"], "fra.pending", ["analyst"]).invitation
    for _ in range(6):
        action = data.draw(st.sampled_from(["invite", "roles", "deactivate", "reactivate",
                                            "revoke", "keys"]))
        who = data.draw(st.sampled_from(["admin", "admin", "analyst", "secretariat"]))
        name = data.draw(st.one_of(st.sampled_from(["fra.reviewer", "fra.analyst",
                                                    "deu.analyst", "nobody"]),
                                   st.text(st.characters(blacklist_categories=["Cs", "Cc"],
                                                         blacklist_characters="/?#%"),
                                           min_size=1, max_size=20)))
        path, body, fields = {
            "invite": ("/admin/users/invite", data.draw(anything(INVITE_SPECS)),
                       ["username", "roles", "display_name"]),
            "roles": (f"/admin/users/{name}/roles",
                      data.draw(anything(INVITE_SPECS[1:2])), ["roles"]),
            "deactivate": (f"/admin/users/{name}/deactivate", [], []),
            "reactivate": (f"/admin/users/{name}/reactivate", [], []),
            "revoke": (f"/admin/invitations/{data.draw(st.sampled_from([pending.id, uuid.uuid4()]))}/revoke", [], []),  # noqa: E501
            "keys": ("/admin/keys", data.draw(anything(())), []),
        }[action]
        submit(fuzzers[who], exchange, path, body, fields,
               shows=action in ("invite", "reactivate"))


@FUZZ
@given(data=st.data())
def test_state_forms_survive_any_body(app: Flask, exchange: Exchange,
                                      people: dict[str, Viewer], data: Any) -> None:
    fuzzers = world(app)
    for _ in range(6):
        who = data.draw(st.sampled_from(["secretariat", "secretariat", "admin"]))
        code = data.draw(st.one_of(st.sampled_from(["DEU", "mli", "XAT", "ZZZ"]),
                                   st.text("ABCXYZ", min_size=1, max_size=4)))
        action = data.draw(st.sampled_from(["status", "suspension", "admin-invitation"]))
        specs = {"status": (Spec("status", choice(["state_party", "signatory"])),),
                 "suspension": (Spec("reinstate", choice(["1", ""])),),
                 "admin-invitation": INVITE_SPECS[::2]}[action]
        submit(fuzzers[who], exchange, f"/admin/states/{code}/{action}",
               data.draw(anything(specs)), [s.name for s in specs],
               shows=action == "admin-invitation")


@FUZZ
@given(data=st.data())
def test_accepting_survives_any_body(app: Flask, exchange: Exchange,
                                     people: dict[str, Viewer], data: Any) -> None:
    codes = [exchange.onboarding.invite_user(people["FRA.admin"], f"fra.invited{n}",
                                             ["reviewer"]).code
             for n in range(events(exchange), events(exchange) + 2)]
    body = data.draw(acceptance(codes))
    submit(Fuzzer(app, ""), exchange, "/invitations/accept", body,
           ["code", "username", "display_name", "password", "password_again",
            "recovery_secret"])


@FUZZ
@given(body=anything((Spec("current_password", PASSWORDS), Spec("password", PASSWORDS),
                      Spec("password_again", PASSWORDS))))
def test_changing_a_password_survives_any_body(app: Flask, exchange: Exchange,
                                               people: dict[str, Viewer], body: list) -> None:
    exchange.directory.lockout.succeeded("fra.reviewer", "127.0.0.1")
    submit(fuzzer(app, "fra.reviewer"), exchange, "/account/password", body,
           ["current_password", "password", "password_again"])
