"""Onboarding in the browser: the secretariat registers a state, its admin accepts, enrols a
second factor and invites an analyst who accepts and logs a case; refusals keep the typed
input and store nothing; every admin page refuses the roles and states it is not for."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import Browser, error_next_to, events

_CODE = re.compile(r'<code class="token invitation-code">([^<]+)</code>')
_SECRET = re.compile(r'<code class="token recovery-secret">([^<]+)</code>')


def issued_code(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    match = _CODE.search(response.text)
    assert match, response.text
    return match.group(1)


def accept(browser: Browser, code: str, username: str, **extra: str):  # type: ignore[no-untyped-def]
    return browser.post("/invitations/accept", {
        "code": code, "username": username, "password": PASSWORD,
        "password_again": PASSWORD, **extra})


def test_onboarding_a_state_end_to_end(app: Flask, exchange: Exchange) -> None:
    exchange.directory.initialise("secretariat", PASSWORD)
    secretariat = Browser(app.test_client())
    secretariat.login("secretariat")
    form = secretariat.get("/admin/states/new", headers={"Accept-Language": "fr"})
    assert "Allemagne (DEU)" in form.text  # country names in the user's language
    code = issued_code(secretariat.post("/admin/states", {
        "code": "FRA", "status": "state_party", "username": "fra.admin",
        "display_name": "Claire Martin"}))
    assert "FRA" in secretariat.get("/admin/states").text
    form = secretariat.get("/admin/states/new", headers={"Accept-Language": "fr"}).text
    assert 'value="FRA"' not in form and 'value="DEU"' in form  # registered: not offered
    assert form.index("Égypte") < form.index("Émirats") < form.index("Équateur") \
        < form.index("Érythrée") < form.index("Espagne") < form.index("Fidji")

    admin = Browser(app.test_client())
    response = accept(admin, code, "fra.admin")
    assert response.status_code == 302 and response.location == "/invitations/welcome"
    welcome = admin.get("/invitations/welcome")
    assert _SECRET.search(welcome.text) and welcome.headers["Cache-Control"] == "no-store"
    assert admin.get("/invitations/welcome").status_code == 302  # shown once
    assert admin.get("/admin/users").status_code == 302  # not signed in before enrolling
    admin.enrol_at_sign_in("fra.admin")
    users = admin.get("/admin/users")
    assert users.status_code == 200 and "fra.admin" in users.text
    assert exchange.directory.state("FRA").status == "state_party"

    invited = issued_code(admin.post("/admin/users/invite", {
        "username": "fra.analyst", "roles": ["analyst"], "display_name": "Luc"}))
    assert "fra.analyst" in admin.get("/admin/users").text
    analyst = Browser(app.test_client())
    response = accept(analyst, invited, "fra.analyst")
    assert response.status_code == 302 and response.location == "/cases/"
    logged = analyst.post("/cases/new", {"title": "Rifles at the port", "narrative": "n"})
    assert logged.status_code == 302, logged.text
    # Germany, onboarded by invitation too, reads it once France shares it bilaterally.
    deu = exchange.onboarding.accept(exchange.onboarding.register_state(
        exchange.directory.authenticate("secretariat", PASSWORD), "DEU", "state_party",
        "deu.admin").code, "", PASSWORD).unlocked.viewer
    exchange.onboarding.accept(exchange.onboarding.invite_user(
        deu, "deu.analyst", ["analyst"]).code, "", PASSWORD)
    share_page = analyst.get(f"{logged.location}/share", headers={"Accept-Language": "es"})
    assert "<strong>DEU</strong> Alemania" in share_page.text  # names in the user's language
    states_page = secretariat.get("/admin/states", headers={"Accept-Language": "fr"})
    assert "<strong>DEU</strong> Allemagne" in states_page.text
    shared = analyst.post(f"{logged.location}/share", {"tier": "bilateral", "states": ["DEU"],
                                                       "expected_version": "1"})
    assert shared.status_code == 302, shared.text
    reader = Browser(app.test_client())
    reader.login("deu.analyst")
    assert "Rifles at the port" in reader.get(logged.location).text
    # The secretariat, at the end of it all, reads none of it.
    assert "Rifles at the port" not in secretariat.get("/cases/").text
    assert exchange.directory.unlock("secretariat", PASSWORD).keyring.current.public() \
        != exchange.directory.state("FRA").public_keys


def test_bad_input_keeps_the_form_and_stores_nothing(app: Flask, exchange: Exchange,
                                                     people: dict[str, Viewer]) -> None:
    secretariat = Browser(app.test_client())
    secretariat.login("secretariat")
    before = events(exchange)
    response = secretariat.post("/admin/states", {"code": "ITA", "status": "state_party",
                                                  "username": "x", "display_name": "Dora"})
    assert response.status_code == 422
    assert error_next_to(response, "username") and 'value="Dora"' in response.text
    assert '<option value="ITA" selected>' in response.text
    response = secretariat.post("/admin/states", {"code": "FRA", "status": "state_party",
                                                  "username": "fra.boss"})
    assert response.status_code == 409 and error_next_to(response, "code")
    admin = Browser(app.test_client())
    admin.login("fra.admin")
    response = admin.post("/admin/users/invite", {"username": "fra.analyst",
                                                  "roles": ["analyst"]},
                          headers={"Accept-Language": "es"})
    assert response.status_code == 409
    assert "fra.analyst" in error_next_to(response, "username")
    assert "ya" in error_next_to(response, "username")  # translated (Spanish)
    response = admin.post("/admin/users/invite", {"username": "fra.new", "roles": []})
    assert response.status_code == 422 and error_next_to(response, "roles")
    assert 'value="fra.new"' in response.text
    visitor = Browser(app.test_client())
    response = accept(visitor, "dvi_nothing.here", "fra.new", display_name="Eve")
    assert response.status_code == 422 and error_next_to(response, "code")
    assert 'value="Eve"' in response.text and PASSWORD not in response.text
    code = issued_code(admin.post("/admin/users/invite", {"username": "fra.new",
                                                          "roles": ["analyst"]}))
    before = events(exchange)
    response = visitor.post("/invitations/accept", {
        "code": code, "username": "fra.new", "password": PASSWORD,
        "password_again": PASSWORD + "x"})
    assert response.status_code == 422 and error_next_to(response, "password_again")
    assert code in response.text and PASSWORD not in response.text
    assert events(exchange) == before


def test_used_or_revoked_codes_are_refused(app: Flask, exchange: Exchange,
                                           people: dict[str, Viewer]) -> None:
    admin = Browser(app.test_client())
    admin.login("fra.admin")
    used = issued_code(admin.post("/admin/users/invite", {"username": "fra.one",
                                                          "roles": ["reviewer"]}))
    assert accept(Browser(app.test_client()), used, "fra.one").status_code == 302
    revoked = issued_code(admin.post("/admin/users/invite", {"username": "fra.two",
                                                             "roles": ["reviewer"]}))
    invitation = next(i for i in exchange.onboarding.invitations(people["FRA.admin"])
                      if i.username == "fra.two")
    assert admin.post(f"/admin/invitations/{invitation.id}/revoke").status_code == 302
    before = events(exchange)
    for code, name in ((used, "fra.one"), (revoked, "fra.two")):
        response = accept(Browser(app.test_client()), code, name)
        assert response.status_code == 409 and error_next_to(response, "code")
    assert events(exchange) == before


# (method, path, who may): "secretariat" or "state_admin".
PAGES = [("GET", "/admin/states", "secretariat"), ("GET", "/admin/states/new", "secretariat"),
         ("POST", "/admin/states", "secretariat"), ("GET", "/admin/users", "state_admin"),
         ("GET", "/admin/users/invite", "state_admin"),
         ("POST", "/admin/users/invite", "state_admin"), ("GET", "/admin/keys", "state_admin"),
         ("POST", "/admin/users/fra.reviewer/roles", "state_admin"),
         ("POST", "/admin/users/fra.reviewer/deactivate", "state_admin"),
         ("POST", "/admin/users/fra.reviewer/reactivate", "state_admin"),
         ("POST", "/admin/keys", "state_admin"),
         ("GET", "/admin/states/DEU/status?status=signatory", "secretariat"),
         ("POST", "/admin/states/DEU/status", "secretariat"),
         ("POST", "/admin/states/DEU/suspension", "secretariat"),
         ("GET", "/admin/states/DEU/admin-invitation", "secretariat"),
         ("POST", "/admin/states/DEU/admin-invitation", "secretariat")]


@pytest.mark.parametrize("user", ["fra.analyst", "fra.reviewer", "deu.admin", "secretariat",
                                  "fra.admin"])
def test_every_admin_page_refuses_who_it_is_not_for(app: Flask, exchange: Exchange,
                                                    people: dict[str, Viewer],
                                                    user: str) -> None:
    browser = Browser(app.test_client())
    browser.login(user)
    viewer = exchange.directory.authenticate(user, PASSWORD)
    for method, path, who in PAGES:
        before = events(exchange)
        if method == "GET":
            response = browser.get(path)
        else:
            response = browser.post(path, {"roles": ["analyst"], "username": "x.y.z"})
        if not viewer.has(who):
            assert response.status_code == 403, (path, response.status_code)
            assert events(exchange) == before
        elif path.startswith("/admin/users/fra.") and viewer.state != "FRA":
            assert response.status_code == 404, (path, response.status_code)
        else:
            assert response.status_code in (200, 302, 422), (path, response.status_code)


def test_another_state_admin_cannot_revoke_and_forged_posts_are_refused(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    issued = exchange.onboarding.invite_user(people["FRA.admin"], "fra.new", ["analyst"])
    other, admin = Browser(app.test_client()), Browser(app.test_client())
    other.login("deu.admin")
    admin.login("fra.admin")
    before = events(exchange)
    path = f"/admin/invitations/{issued.invitation.id}/revoke"
    assert other.post(path).status_code == 404
    assert admin.post(path, csrf=False).status_code == 400  # no CSRF token: a forged form
    assert Browser(app.test_client()).post("/invitations/accept", {
        "code": issued.code, "username": "fra.new", "password": PASSWORD,
        "password_again": PASSWORD}, csrf=False).status_code == 400
    assert events(exchange) == before


def test_rotating_keys_keeps_the_admin_signed_in(app: Flask, exchange: Exchange,
                                                 people: dict[str, Viewer]) -> None:
    admin = Browser(app.test_client())
    admin.login("fra.admin")
    assert "Rotating makes a new version" in admin.get("/admin/keys").text
    assert admin.post("/admin/keys").status_code == 302
    assert exchange.directory.state("FRA").public_keys.version == 2
    assert admin.get("/admin/users").status_code == 200


def test_a_deactivated_user_is_invited_back(app: Flask, exchange: Exchange,
                                            people: dict[str, Viewer]) -> None:
    admin = Browser(app.test_client())
    admin.login("fra.admin")
    assert admin.post("/admin/users/fra.analyst/deactivate").status_code == 302
    assert "Invite back" in admin.get("/admin/users").text
    code = issued_code(admin.post("/admin/users/fra.analyst/reactivate"))
    analyst = Browser(app.test_client())
    response = analyst.post("/invitations/accept", {
        "code": code, "username": "fra.analyst", "password": "a brand new passphrase",
        "password_again": "a brand new passphrase"})
    assert response.status_code == 302 and response.location == "/cases/"
    assert exchange.directory.user("fra.analyst").active


def test_the_secretariat_changes_a_status_after_seeing_what_it_means(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    secretariat = Browser(app.test_client())
    secretariat.login("secretariat")
    page = secretariat.get("/admin/states/MLI/status?status=signatory",
                           headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and "portail" in page.text
    assert secretariat.get("/admin/states/MLI/status?status=state_party").status_code == 422
    response = secretariat.post("/admin/states/MLI/status", {"status": "signatory"})
    assert response.status_code == 302
    assert exchange.directory.state("MLI").status == "signatory"


def test_suspending_a_state_ends_its_sessions_and_sign_ins(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    analyst = Browser(app.test_client())
    analyst.login("fra.analyst")
    secretariat = Browser(app.test_client())
    secretariat.login("secretariat")
    assert secretariat.post("/admin/states/FRA/suspension").status_code == 302
    assert analyst.get("/cases/").status_code == 302  # back to the sign-in page
    refused = Browser(app.test_client()).post("/login", {"username": "fra.analyst",
                                                         "password": PASSWORD})
    assert refused.status_code == 401 and "suspended" in refused.text
    assert secretariat.post("/admin/states/FRA/suspension",
                            {"reinstate": "1"}).status_code == 302
    assert Browser(app.test_client()).login("fra.analyst").status_code == 302


def test_every_user_changes_their_own_password(app: Flask, exchange: Exchange,
                                               people: dict[str, Viewer]) -> None:
    analyst = Browser(app.test_client())
    analyst.login("fra.reviewer")
    assert "/account/password" in analyst.get("/account/security").text
    new = "a quite different passphrase"
    before = events(exchange)
    wrong = analyst.post("/account/password", {"current_password": "nope nope nope",
                                                "password": new, "password_again": new})
    assert wrong.status_code == 401 and error_next_to(wrong, "current_password")
    assert new not in wrong.text
    differ = analyst.post("/account/password", {"current_password": PASSWORD,
                                                 "password": new, "password_again": new + "!"})
    assert differ.status_code == 422 and error_next_to(differ, "password_again")
    assert events(exchange) == before
    assert analyst.post("/account/password", {"current_password": PASSWORD, "password": new,
                                               "password_again": new}).status_code == 302
    assert exchange.directory.unlock("fra.reviewer", new).user.username == "fra.reviewer"


def test_a_user_sees_their_sign_ins_and_an_admin_the_last_ones(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    first, second = Browser(app.test_client()), Browser(app.test_client())
    first.login("fra.analyst")
    second.login("fra.analyst")
    page = second.get("/account/sessions").text
    assert page.count("<tr><td>") == 2 and "this session" in page
    assert "The one before" in page
    admin = Browser(app.test_client())
    admin.login("fra.admin")
    users = admin.get("/admin/users").text
    row = users[users.index("fra.analyst"):users.index("fra.reviewer")]
    assert "never" not in row
    assert "never" in users[users.index("fra.reviewer"):]


def test_a_new_admin_for_a_state_that_lost_its_own_needs_its_recovery_secret(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    issued = exchange.onboarding.register_state(people["secretariat"], "ITA", "state_party",
                                                "ita.admin")
    secret = exchange.onboarding.accept(issued.code, "", PASSWORD).recovery_secret
    secretariat = Browser(app.test_client())
    secretariat.login("secretariat")
    assert "recovery secret" in secretariat.get("/admin/states/ITA/admin-invitation").text
    code = issued_code(secretariat.post("/admin/states/ITA/admin-invitation",
                                        {"username": "ita.newadmin"}))
    newcomer = Browser(app.test_client())
    before = events(exchange)
    response = accept(newcomer, code, "ita.newadmin")
    assert response.status_code == 422 and error_next_to(response, "recovery_secret")
    assert events(exchange) == before
    response = accept(newcomer, code, "ita.newadmin", recovery_secret=secret or "")
    assert response.status_code == 302 and response.location == "/login/enrol"
    assert exchange.directory.user("ita.newadmin").roles == ["state_admin"]
