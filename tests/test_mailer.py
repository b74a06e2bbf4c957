"""Notification mails through a real SMTP server (aiosmtpd), on SQLite and PostgreSQL: who gets
what, preferences and digests, no case content, retries, and never a mail twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cases.kernel.viewer import Viewer
from infra.cli import main
from infra.mailer import MAX_ATTEMPTS, Mailer
from infra.settings import MailSettings, load_settings
from infra.wiring import Exchange
from projections.outbox import mail_messages
from tests.conftest import cli_env, register_states
from tests.smtp import SmtpServer, free_port, smtp_server
from tests.test_cases import ITEM, SUMMARY

BASE = "https://divex.example.org"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as running:
        yield running


@pytest.fixture
def people(exchange: Exchange) -> dict[str, Viewer]:
    return register_states(exchange.directory, roles=("analyst", "reviewer"))


def mailing(exchange: Exchange, url: str, zone: str = "UTC") -> None:
    exchange.settings = replace(exchange.settings, time_zone=zone, mail=MailSettings(
        smtp_url=url, sender="divex@divex.example.org", base_url=BASE))


def confirmed(exchange: Exchange, viewer: Viewer, modes: dict[str, str] | None = None) -> str:
    address = f"{viewer.username}@mail.example"
    exchange.mail_addresses.confirm(exchange.mail_addresses.request(viewer, address))
    if modes:
        exchange.mail_addresses.set_modes(viewer, modes)
    return address


def share(exchange: Exchange, people: dict[str, Viewer], title: str = SUMMARY["title"]) -> str:
    case_id = exchange.cases.open_case(people["FRA"], dict(SUMMARY, title=title))
    exchange.cases.add_part(people["FRA"], case_id, 1, "item", ITEM)
    exchange.cases.share(people["FRA"], case_id, 2, "bilateral", ["DEU"])
    exchange.follow()
    return str(case_id)


def mailer(exchange: Exchange, server: SmtpServer, clock: Clock | None = None) -> Mailer:
    return Mailer(exchange, ssl_context=server.client_context, clock=clock or Clock())


def statuses(exchange: Exchange) -> list[str]:
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        return sorted(db.execute(select(mail_messages.c.status)).scalars())


def test_an_item_is_mailed_at_once_to_confirmed_addresses_without_case_content(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer) -> None:
    mailing(exchange, server.url)
    analyst = confirmed(exchange, people["DEU.analyst"])
    reviewer = confirmed(exchange, people["DEU.reviewer"])
    exchange.mail_addresses.request(people["DEU.admin"], "unconfirmed@mail.example")
    confirmed(exchange, people["MLI.analyst"])
    share(exchange, people)
    done = mailer(exchange, server).run_once()
    assert done.counts["sent"] == 2
    assert sorted(m["To"] for m in server.inbox.messages) == sorted([analyst, reviewer])
    for message, text in zip(server.inbox.messages, server.inbox.bodies(), strict=True):
        assert message["Subject"] == "divex: A case was shared with your state"
        assert message["Message-ID"].endswith("@divex.example.org>")
        assert "A case was shared with your state." in text
        assert f"{BASE}/inbox/" in text and f"{BASE}/account/mail" in text
        for content in (SUMMARY["title"], SUMMARY["narrative"], "SN-123", "Acme", "AR-1",
                        "FRA", "France", "Rifles"):
            assert content not in text
    assert mailer(exchange, server).run_once().counts["sent"] == 0  # once only


def test_mails_are_in_english_french_and_spanish(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer) -> None:
    mailing(exchange, server.url)
    confirmed(exchange, people["DEU.analyst"])
    share(exchange, people)
    mailer(exchange, server).run_once()
    text = server.inbox.bodies()[0]
    assert "Un dossier a été partagé avec votre État." in text
    assert "Se compartió un caso con su Estado." in text


def test_never_means_no_mail_and_daily_means_one_digest_the_next_day(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer) -> None:
    mailing(exchange, server.url, zone="Asia/Tokyo")
    confirmed(exchange, people["DEU.analyst"], {"case_shared": "never"})
    digest_to = confirmed(exchange, people["DEU.reviewer"], {"case_shared": "daily"})
    share(exchange, people)
    share(exchange, people, "Second case")
    clock = Clock()
    assert mailer(exchange, server, clock).run_once().counts["sent"] == 0
    assert server.inbox.messages == []
    tomorrow = datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=1)
    clock.now = datetime.combine(tomorrow, datetime.min.time(), ZoneInfo("Asia/Tokyo")) + \
        timedelta(minutes=1)
    assert mailer(exchange, server, clock).run_once().counts["sent"] == 1
    assert mailer(exchange, server, clock).run_once().counts["sent"] == 0
    [message] = server.inbox.messages
    text = server.inbox.bodies()[0]
    assert message["To"] == digest_to
    assert "2 x A case was shared with your state." in text
    assert "Second case" not in text and SUMMARY["title"] not in text


def test_a_mail_is_not_sent_twice_when_the_sender_dies_after_sending(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    mailing(exchange, server.url)
    confirmed(exchange, people["DEU.analyst"])
    share(exchange, people)

    def killed(*args: object) -> None:
        raise SystemExit("killed after the server took the mail, before it was recorded")

    clock = Clock()
    with monkeypatch.context() as patched:
        patched.setattr(Mailer, "_record_sent", killed)
        with pytest.raises(SystemExit):
            mailer(exchange, server, clock).run_once()
    assert len(server.inbox.messages) == 1
    assert statuses(exchange) == ["sending"]
    # A mailer started at once finds it claimed, and one started later settles it as
    # uncertain: neither sends it again.
    assert mailer(exchange, server, clock).run_once().counts["sent"] == 0
    clock.now += timedelta(minutes=11)
    assert mailer(exchange, server, clock).run_once().counts["uncertain"] == 1
    assert mailer(exchange, server, clock).run_once().counts["sent"] == 0
    assert len(server.inbox.messages) == 1
    assert statuses(exchange) == ["uncertain"]


def test_an_unreachable_server_is_retried_with_back_off(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer) -> None:
    mailing(exchange, server.url.replace(str(server.port), str(free_port())))
    confirmed(exchange, people["DEU.analyst"])
    share(exchange, people)
    clock = Clock()
    assert mailer(exchange, server, clock).run_once().counts["retried"] == 1
    assert statuses(exchange) == ["pending"]
    mailing(exchange, server.url)
    clock.now += timedelta(seconds=30)  # within the first back-off: not tried yet
    assert mailer(exchange, server, clock).run_once().counts["sent"] == 0
    clock.now += timedelta(minutes=1)
    assert mailer(exchange, server, clock).run_once().counts["sent"] == 1
    assert len(server.inbox.messages) == 1


def test_a_refused_mail_is_retried_then_given_up(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer) -> None:
    mailing(exchange, server.url)
    confirmed(exchange, people["DEU.analyst"])
    share(exchange, people)
    server.inbox.refuse = "451 4.3.0 Try again later"
    clock = Clock()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        done = mailer(exchange, server, clock).run_once()
        assert done.counts["failed" if attempt == MAX_ATTEMPTS else "retried"] == 1
        clock.now += timedelta(hours=1)
    assert statuses(exchange) == ["failed"] and server.inbox.messages == []


def test_a_wrong_password_or_a_server_without_starttls_sends_nothing(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer,
        tmp_path: Path) -> None:
    mailing(exchange, server.url.replace("s3cret", "wrong"))
    confirmed(exchange, people["DEU.analyst"])
    share(exchange, people)
    # aiosmtpd leaves smtplib's second mechanism unanswered: a short timeout ends it.
    quick = Mailer(exchange, ssl_context=server.client_context, timeout=2)
    assert quick.run_once().counts["retried"] == 1
    (tmp_path / "plain").mkdir()
    with smtp_server(tmp_path / "plain", starttls=False) as plain:
        mailing(exchange, plain.url)
        clock = Clock()
        clock.now += timedelta(minutes=5)
        assert mailer(exchange, plain, clock).run_once().counts["retried"] == 1
        assert plain.inbox.messages == []


def test_tls_from_the_start(exchange: Exchange, people: dict[str, Viewer],
                            tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls=True) as tls:
        mailing(exchange, tls.url)
        confirmed(exchange, people["DEU.analyst"])
        share(exchange, people)
        assert mailer(exchange, tls).run_once().counts["sent"] == 1
        assert len(tls.inbox.messages) == 1


def test_an_item_about_a_case_no_longer_readable_is_not_mailed(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer) -> None:
    mailing(exchange, server.url)
    confirmed(exchange, people["DEU.analyst"])
    case_id = share(exchange, people)
    exchange.cases.unshare(people["FRA"], case_id, 3, ["DEU"])
    exchange.follow()
    assert mailer(exchange, server).run_once().counts["sent"] == 0


def test_a_removed_address_gets_nothing(exchange: Exchange, people: dict[str, Viewer],
                                        server: SmtpServer) -> None:
    mailing(exchange, server.url)
    confirmed(exchange, people["DEU.analyst"])
    exchange.mail_addresses.remove(people["DEU.analyst"])
    share(exchange, people)
    assert mailer(exchange, server).run_once().counts["sent"] == 0


def test_divex_mailer_sends_once_and_refuses_without_a_server(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer,
        tmp_path: Path) -> None:
    confirmed(exchange, people["DEU.analyst"])
    share(exchange, people)
    refused = CliRunner().invoke(main, ["mailer", "--once"], env=cli_env(exchange))
    assert refused.exit_code == 1 and "DIVEX_SMTP_URL is not set" in refused.output
    cert = tmp_path / "smtp-cert.pem"  # the test server's certificate, trusted as a CA
    env = cli_env(exchange, DIVEX_SMTP_URL=server.url, DIVEX_MAIL_FROM="divex@example.org",
                  SSL_CERT_FILE=str(cert))
    result = CliRunner().invoke(main, ["mailer", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output and len(server.inbox.messages) == 1


@pytest.mark.parametrize("env, problem", [
    ({"DIVEX_SMTP_URL": "http://mail.example"}, "must start with smtp://"),
    ({"DIVEX_SMTP_URL": "smtp://mail.example"}, "DIVEX_MAIL_FROM"),
    ({"DIVEX_BASE_URL": "divex.example.org"}, "DIVEX_BASE_URL"),
    ({"DIVEX_TIME_ZONE": "Mars/Olympus"}, "DIVEX_TIME_ZONE")])
def test_bad_mail_settings_are_refused_naming_the_variable(env: dict[str, str],
                                                           problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        load_settings(env)


def test_auditors_are_mailed_a_checkpoint_until_their_state_cosigns_it(
        exchange: Exchange, server: SmtpServer) -> None:
    people = register_states(exchange.directory, roles=("auditor",))
    mailing(exchange, server.url)
    confirmed(exchange, people["FRA.auditor"])
    german = confirmed(exchange, people["DEU.auditor"])
    exchange.follow()
    exchange.checkpointer.record()
    exchange.witness.cosign(people["FRA.auditor"])
    assert mailer(exchange, server).run_once().counts["sent"] == 1
    assert [m["To"] for m in server.inbox.messages] == [german]


def test_a_user_who_chose_a_language_gets_mails_in_it_alone(
        exchange: Exchange, people: dict[str, Viewer], server: SmtpServer) -> None:
    mailing(exchange, server.url)
    exchange.directory.choose_language(people["DEU.analyst"], "fr")
    confirmed(exchange, people["DEU.analyst"])
    share(exchange, people)
    mailer(exchange, server).run_once()
    [message] = server.inbox.messages
    [text] = server.inbox.bodies()
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "divex : Un dossier a été partagé avec votre État"
    assert "Un dossier a été partagé avec votre État." in text
    assert "A case was shared with your state." not in text
    assert "Se compartió un caso con su Estado." not in text
    assert "Ce courriel ne contient aucun contenu de dossier." in text
