"""The second factor in the browser: enrolment, the code step, recovery codes, enforcement,
resets, throttle and lockout, from the user's and from the attacker's side."""

from __future__ import annotations

import pyotp
import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.conftest import PASSWORD, previous_step_code
from tests.web.conftest import Browser, authenticator, events

PAGES = ("/cases/", "/meetings/", "/traces/", "/directory/", "/summaries/", "/audit/",
         "/account/security")


def fresh(app: Flask) -> Browser:
    return Browser(app.test_client())


def enrolled(app: Flask, username: str) -> Browser:
    """The user signed in once (enrolling if their role requires it), then signed out."""
    browser = fresh(app)
    assert browser.login(username).status_code == 302
    browser.post("/logout")
    return browser


def enrol_voluntarily(app: Flask, username: str) -> tuple[Browser, str, list[str]]:
    """A user whose role does not require a second factor sets one up on the Security page."""
    browser = fresh(app)
    assert browser.login(username).status_code == 302
    page = browser.get("/account/security/enrol").text
    secret = page.split('<code class="secret">')[1].split("</code>")[0].replace(" ", "")
    response = browser.post("/account/security/enrol",
                            {"code": previous_step_code(secret),
                             "password": PASSWORD})
    assert response.location == "/account/security/recovery-codes"
    codes = [line.split("</code>")[0] for line in
             browser.get(response.location).text.split("<li><code>")[1:]]
    assert len(codes) == 10
    return browser, secret, codes


def password_step(app: Flask, username: str) -> Browser:
    browser = fresh(app)
    response = browser.post("/login", {"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/login/code"
    return browser


def test_a_state_admin_is_sent_to_enrolment_and_reaches_nothing_before(
        app: Flask, people: dict[str, Viewer]) -> None:
    browser = fresh(app)
    response = browser.post("/login", {"username": "fra.admin", "password": PASSWORD})
    assert response.location == "/login/enrol"
    for path in PAGES:
        assert browser.get(path).status_code == 302, path
        assert browser.get(path).location.startswith("/login"), path
    page = browser.get("/login/enrol")
    assert "<svg" in page.text and "<title>" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    wrong = browser.post("/login/enrol", {"code": "000000"})
    assert wrong.status_code == 422 and browser.get("/cases/").status_code == 302
    assert browser.enrol_at_sign_in("fra.admin").status_code == 302
    assert browser.get("/cases/").status_code == 200


@pytest.mark.parametrize("username", ["secretariat", "fra.auditor"])
def test_auditors_and_the_secretariat_must_enrol_too(app: Flask, exchange: Exchange,
                                                     people: dict[str, Viewer],
                                                     username: str) -> None:
    if username == "fra.auditor":
        exchange.directory.add_user(people["FRA.admin"], "fra.auditor", PASSWORD, ["auditor"])
    response = fresh(app).post("/login", {"username": username, "password": PASSWORD})
    assert response.location == "/login/enrol"


def test_an_analyst_signs_in_with_the_password_alone_until_they_enrol(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    assert fresh(app).login("fra.analyst").location == "/cases/"
    _, secret, _ = enrol_voluntarily(app, "fra.analyst")
    assert exchange.directory.user("fra.analyst").second_factor
    browser = password_step(app, "fra.analyst")
    response = browser.post("/login/code", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and browser.get("/cases/").status_code == 200


def test_a_stolen_session_cannot_enrol_a_second_factor_without_the_password(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    victim = fresh(app)
    assert victim.login("fra.analyst").location == "/cases/"
    thief = fresh(app)
    thief.client.set_cookie("divex_session", victim.cookie or "")
    page = thief.get("/account/security/enrol")
    assert page.status_code == 200 and 'name="password"' in page.text
    secret = page.text.split('<code class="secret">')[1].split("</code>")[0].replace(" ", "")
    before = events(exchange)
    for password in ("", "not the password at all"):
        refused = thief.post("/account/security/enrol",
                             {"code": pyotp.TOTP(secret).now(), "password": password})
        assert refused.status_code == 401
        assert "Wrong user name or password." in refused.text
    assert events(exchange) == before
    assert not exchange.directory.user("fra.analyst").second_factor
    victim.post("/logout")
    assert fresh(app).login("fra.analyst").location == "/cases/"  # the owner is not locked out
    done = thief.post("/account/security/enrol",
                      {"code": pyotp.TOTP(secret).now(), "password": PASSWORD})
    assert done.location.startswith("/login")  # the stolen session ended with its owner's
    owner = fresh(app)  # the owner, who knows the password, enrols
    owner.login("fra.analyst")
    secret = owner.get("/account/security/enrol").text.split(
        '<code class="secret">')[1].split("</code>")[0].replace(" ", "")
    done = owner.post("/account/security/enrol",
                      {"code": pyotp.TOTP(secret).now(), "password": PASSWORD})
    assert done.location == "/account/security/recovery-codes"
    assert exchange.directory.user("fra.analyst").second_factor


def test_enrolment_at_sign_in_does_not_ask_for_the_password_again(
        app: Flask, people: dict[str, Viewer]) -> None:
    browser = fresh(app)
    assert browser.post("/login", {"username": "fra.admin", "password": PASSWORD}
                        ).location == "/login/enrol"
    assert 'name="password"' not in browser.get("/login/enrol").text
    assert browser.enrol_at_sign_in("fra.admin").status_code == 302


def test_a_pending_sign_in_reaches_no_page_and_holds_no_keyring(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    enrolled(app, "fra.admin")
    browser = password_step(app, "fra.admin")
    for path in PAGES:
        assert browser.get(path).location.startswith("/login"), path
    case_id = exchange.cases.open_case(people["FRA"], {"title": "T", "narrative": "n"})
    assert browser.get(f"/cases/{case_id}").status_code == 302
    assert browser.post("/directory/contact-point", {"name": "x", "channel": "y"}
                        ).status_code == 302
    from sqlalchemy import select

    from web.sessions import web_sessions
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        rows = list(db.execute(select(web_sessions)))
    assert rows and all(r.keyring is None and r.user_id is None for r in rows)


def test_a_wrong_code_is_refused_and_counted(app: Flask, exchange: Exchange,
                                             people: dict[str, Viewer]) -> None:
    enrolled(app, "fra.admin")
    browser = password_step(app, "fra.admin")
    response = browser.post("/login/code", {"code": "123456"})
    assert response.status_code == 401 and "not right" in response.text
    assert browser.get("/cases/").status_code == 302
    assert len(exchange.directory.lockout.counting("fra.admin")) == 1
    # the right code still works and clears the count
    good = browser.post("/login/code", {"code": browser.authenticator("fra.admin").code()})
    assert good.status_code == 302 and browser.get("/cases/").status_code == 200
    assert exchange.directory.lockout.counting("fra.admin") == []


def test_a_replayed_code_is_refused(app: Flask, people: dict[str, Viewer]) -> None:
    enrolled(app, "fra.admin")
    app_of_user = authenticator_of(app, "fra.admin")
    code = app_of_user.code()
    first = password_step(app, "fra.admin")
    assert first.post("/login/code", {"code": code}).status_code == 302
    second = password_step(app, "fra.admin")
    replay = second.post("/login/code", {"code": code})
    assert replay.status_code == 401 and second.get("/cases/").status_code == 302


def test_the_enrolment_code_cannot_sign_in_again(app: Flask, people: dict[str, Viewer]
                                                 ) -> None:
    browser = fresh(app)
    browser.post("/login", {"username": "fra.admin", "password": PASSWORD})
    page = browser.get("/login/enrol").text
    secret = page.split('<code class="secret">')[1].split("</code>")[0].replace(" ", "")
    code = pyotp.TOTP(secret).now()
    assert browser.post("/login/enrol", {"code": code}).status_code == 302
    again = password_step(app, "fra.admin")
    assert again.post("/login/code", {"code": code}).status_code == 401


def test_a_recovery_code_works_once_and_only_once(app: Flask, exchange: Exchange,
                                                  people: dict[str, Viewer]) -> None:
    _, _, codes = enrol_voluntarily(app, "fra.analyst")
    before = events(exchange)
    browser = password_step(app, "fra.analyst")
    response = browser.post("/login/code", {"code": codes[0].lower().replace("-", " ")})
    assert response.status_code == 302
    assert "9 are left" in browser.get(response.location).text  # and signed in
    assert events(exchange) == before + 1  # RecoveryCodeUsed
    assert exchange.directory.user("fra.analyst").recovery_codes_left == 9
    again = password_step(app, "fra.analyst")
    assert again.post("/login/code", {"code": codes[0]}).status_code == 401
    assert again.get("/cases/").status_code == 302


def test_new_recovery_codes_need_the_password_and_the_old_ones_die(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    browser, _, old = enrol_voluntarily(app, "fra.analyst")
    refused = browser.post("/account/security/recovery-codes", {"password": "not it at all"})
    assert refused.status_code == 401
    response = browser.post("/account/security/recovery-codes", {"password": PASSWORD})
    page = browser.get(response.location)
    assert page.headers["Cache-Control"] == "no-store"
    new = [line.split("</code>")[0] for line in page.text.split("<li><code>")[1:]]
    assert len(new) == 10 and not set(new) & set(old)
    assert "shown only once" in browser.get(response.location, follow_redirects=True).text
    stale = password_step(app, "fra.analyst")
    assert stale.post("/login/code", {"code": old[1]}).status_code == 401
    fresh_codes = password_step(app, "fra.analyst")
    assert fresh_codes.post("/login/code", {"code": new[0]}).status_code == 302


def test_five_wrong_codes_lock_the_account_with_a_clear_message(
        app: Flask, people: dict[str, Viewer]) -> None:
    enrolled(app, "fra.admin")
    browser = password_step(app, "fra.admin")
    for _ in range(5):
        assert browser.post("/login/code", {"code": "000000"}).status_code == 401
    locked = browser.post("/login/code", {"code": browser.authenticator("fra.admin").code()})
    assert locked.status_code == 401 and "Too many wrong passwords or codes" in locked.text
    assert "try again after" in locked.text and browser.get("/cases/").status_code == 302
    # a right password does not start a new round of guesses either
    again = fresh(app).post("/login", {"username": "fra.admin", "password": PASSWORD})
    assert again.status_code == 401 and "try again after" in again.text


def test_a_right_password_does_not_clear_the_count_of_wrong_codes(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    enrolled(app, "fra.admin")
    for _ in range(2):
        browser = password_step(app, "fra.admin")
        for _ in range(2):
            browser.post("/login/code", {"code": "000000"})
    assert len(exchange.directory.lockout.counting("fra.admin")) == 4


def test_the_code_step_is_throttled(exchange: Exchange, people: dict[str, Viewer]) -> None:
    from web import create_app

    app = create_app(exchange, {"TESTING": True, "LOGIN_RATE_LIMIT": "3 per minute"})
    _, secret, _ = enrol_voluntarily(app, "fra.analyst")
    browser = password_step(app, "fra.analyst")
    for _ in range(3):
        browser.post("/login/code", {"code": "000000"})
    throttled = browser.post("/login/code", {"code": pyotp.TOTP(secret).now()})
    assert throttled.status_code == 429 and browser.get("/cases/").status_code == 302


def test_an_expired_pending_sign_in_starts_again(app: Flask, people: dict[str, Viewer]
                                                 ) -> None:
    enrolled(app, "fra.admin")
    browser = password_step(app, "fra.admin")
    with browser.client.session_transaction() as session:
        session["pending"] = dict(session["pending"], until="2020-01-01T00:00:00+00:00")
    response = browser.post("/login/code", {"code": browser.authenticator("fra.admin").code()})
    assert response.location == "/login" and browser.get("/cases/").status_code == 302


def test_a_state_admin_resets_a_user_of_their_state(app: Flask, exchange: Exchange,
                                                    people: dict[str, Viewer]) -> None:
    enrol_voluntarily(app, "fra.analyst")
    admin = fresh(app)
    admin.login("fra.admin")
    assert "fra.analyst" in admin.get("/account/security").text
    assert admin.post("/account/security/reset", {"username": "fra.analyst"}).status_code == 302
    assert not exchange.directory.user("fra.analyst").second_factor
    assert fresh(app).login("fra.analyst").location == "/cases/"  # password alone again


def test_another_states_admin_cannot_reset(app: Flask, exchange: Exchange,
                                           people: dict[str, Viewer]) -> None:
    enrol_voluntarily(app, "fra.analyst")
    enrolled(app, "fra.admin")
    attacker = fresh(app)
    attacker.login("deu.admin")
    assert "fra.analyst" not in attacker.get("/account/security").text
    before = events(exchange)
    nobody = attacker.post("/account/security/reset", {"username": "fra.nobody"})
    for target in ("fra.analyst", "fra.admin"):
        response = attacker.post("/account/security/reset", {"username": target})
        # the same refusal as for a name that does not exist: nothing to learn from it
        assert response.status_code == nobody.status_code == 404
        assert response.text.replace(target, "fra.nobody") == nobody.text
    assert events(exchange) == before
    assert exchange.directory.user("fra.analyst").second_factor


def test_only_the_secretariat_resets_a_state_admin_who_lost_theirs(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    enrolled(app, "fra.admin")
    own = fresh(app)
    own.login("fra.admin")
    assert own.post("/account/security/reset", {"username": "fra.admin"}).status_code == 403
    secretariat = fresh(app)
    secretariat.login("secretariat")
    enrol_voluntarily(app, "deu.analyst")
    refused = secretariat.post("/account/security/reset", {"username": "deu.analyst"})
    assert refused.status_code == 403
    assert "fra.admin" in secretariat.get("/account/security").text
    assert secretariat.post("/account/security/reset", {"username": "fra.admin"}
                            ).status_code == 302
    browser = fresh(app)
    assert browser.post("/login", {"username": "fra.admin", "password": PASSWORD}
                        ).location == "/login/enrol"


def test_the_code_page_is_translated(app: Flask, people: dict[str, Viewer]) -> None:
    enrolled(app, "fra.admin")
    browser = password_step(app, "fra.admin")
    browser.post("/language", {"lang": "es"})
    assert "Segundo factor" in browser.get("/login/code").text


def authenticator_of(app: Flask, username: str):
    return authenticator(app.extensions["divex"], username)


def test_a_second_factor_set_up_behind_the_users_back_is_told_at_their_next_sign_in(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    from tests.conftest import enrolled as enrolled_by_someone

    assert fresh(app).login("fra.analyst").status_code == 302  # the user's own sign-in
    enrolled_by_someone(exchange.directory, people["FRA"])  # a thief with password and session
    page = password_step(app, "fra.analyst").get("/login/code").text
    assert "A second factor was set up for this account on" in page
    assert "after your last sign-in" in page


def test_a_second_factor_the_user_set_up_themself_raises_no_alarm(
        app: Flask, people: dict[str, Viewer]) -> None:
    enrolled(app, "fra.admin")  # enrolled at their first sign-in, then signed in
    page = password_step(app, "fra.admin").get("/login/code").text
    assert "after your last sign-in" not in page
