"""The mailer: turns the outbox's items into mails and sends them over SMTP (`smtplib`).

Each pass, in order: (1) sendings a crashed mailer left behind are settled (below); (2) the
computed items of the moment (trace requests due or overdue, checkpoints to cosign) are queued
like stored ones; (3) each queued item becomes, in one transaction, a mail to each concerned
user who confirmed an address and wants it now, or an entry of their daily digest; (4) the
digests of past days (in the deployment's time zone) are composed; (5) due mails are sent, a
refused or failed one retried with back-off. Several mailers may run at once: a mail is sent
by whoever claims it.

Never twice. Each mail has a Message-ID fixed when it is queued, and is claimed (``sending``,
with the time) in its own committed transaction just before the SMTP exchange; it is recorded
``sent`` once the server accepted it. If the process dies between the server's acceptance and
that record, the mail stays ``sending``. Whether the server took it cannot be known from here
(SMTP has no way to ask), so the rule is: a mail found ``sending`` longer than `LEASE` (far
beyond any send's timeout) becomes ``uncertain`` and is never sent again, and a send that
failed without the server's answer (the connection dropped mid-exchange) is ``uncertain`` at
once. A lost notice is the lesser harm: the inbox still holds the item. What can be known is
retried: no connection, a refused login, a server's refusal (4xx/5xx) are ``pending`` again
after the back-off, until `MAX_ATTEMPTS`. The window of doubt is the one SMTP exchange of one
mail: the connection and login come before the claim.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import func, insert, select, update

from cases.identity.directory import SECRETARIAT_CODE
from cases.notifications import mail_text
from cases.notifications.addresses import DAILY, IMMEDIATELY
from cases.notifications.kinds import KINDS
from projections import outbox
from projections.inbox_view import NAMESPACE, Moment, item_id
from projections.outbox import (
    EXPANDED,
    FAILED,
    NEW,
    PENDING,
    SENDING,
    SENT,
    UNCERTAIN,
    mail_digest_entries,
    mail_items,
    mail_messages,
)
from web.mail import translators

from .wiring import Exchange

log = logging.getLogger("divex.mailer")

TIMEOUT = 60  # seconds for each SMTP operation
LEASE = timedelta(minutes=10)  # a claim older than this was left by a dead mailer
MAX_ATTEMPTS = 8
BATCH = 100


def back_off(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failed attempt, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


@dataclass
class Pass:
    """What one pass did."""

    counts: Counter[str] = field(default_factory=Counter)


class Mailer:
    def __init__(self, exchange: Exchange, *, ssl_context: ssl.SSLContext | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 timeout: float = TIMEOUT) -> None:
        self.exchange = exchange
        self.settings = exchange.settings.mail
        self.zone = exchange.settings.zone
        self.engine = exchange.ledger.recorder.datastore.engine  # type: ignore[attr-defined]
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.clock = clock
        self.timeout = timeout
        self.words = translators()

    def run(self, stop: threading.Event, every: float = 15.0) -> None:
        """Passes until ``stop`` is set; a pass that fails is logged and the next one runs."""
        while not stop.is_set():
            try:
                if self.exchange.settings.projection_source == "log":
                    self.exchange.follow()  # items reach the outbox as the inbox catches up
                self.run_once()
            except Exception:  # the loop must outlive a database or server hiccup
                log.exception("mailer pass failed")
            stop.wait(every)

    def run_once(self) -> Pass:
        now, done = self.clock(), Pass()
        done.counts["uncertain"] = self.settle_interrupted(now)
        self.queue_computed(now)
        done.counts["expanded"] = self.expand(now)
        done.counts["digests"] = self.compose_digests(now)
        done.counts.update(self.send_due(now))
        return done

    # (1) Interrupted sendings

    def settle_interrupted(self, now: datetime) -> int:
        with self.engine.begin() as db:
            settled = db.execute(update(mail_messages).where(
                mail_messages.c.status == SENDING, mail_messages.c.claimed_at < now - LEASE
            ).values(status=UNCERTAIN, last_error="interrupted while sending; not sent again "
                     "in case the server took it")).rowcount
        if settled:
            log.warning("%d mails were being sent when a mailer stopped: marked uncertain, "
                        "not sent again", settled)
        return int(settled)

    # (2) Computed items

    def queue_computed(self, now: datetime) -> None:
        moment = Moment(now, self.zone, self.exchange.checkpoints.latest())
        rows = self.exchange.inbox.view.traces_due(moment)
        latest = moment.latest_checkpoint
        if latest is not None and latest.origin is not None:
            rows += [dict(item_id=item_id("checkpoint_to_cosign", latest.size, state.code),
                          state=state.code, user_id="", kind="checkpoint_to_cosign", case_id="",
                          case_gated=False, at=datetime.fromisoformat(latest.time))
                     for state in self.exchange.directory.states()
                     if state.code != SECRETARIAT_CODE and not latest.cosigned_by(state.code)]
        with self.engine.begin() as db:
            outbox.queue(db, rows, now)

    # (3) Expansion

    def expand(self, now: datetime) -> int:
        with self.engine.connect() as db:
            items = db.execute(select(mail_items).where(mail_items.c.status == NEW)
                               .order_by(mail_items.c.at).limit(BATCH)).all()
        expanded = 0
        for item in items:
            readable = True
            if item.case_gated:
                readable = self.exchange.inbox.view.case_readable(item.case_id, item.state)
                if readable is None:
                    continue  # the inbox has not seen the case yet (a rebuild under way)
            with self.engine.begin() as db:
                if readable:
                    self._mail_item(db, item, now)
                expanded += db.execute(update(mail_items).where(
                    mail_items.c.item_id == item.item_id, mail_items.c.status == NEW
                ).values(status=EXPANDED)).rowcount
        return expanded

    def _mail_item(self, db: Any, item: Any, now: datetime) -> None:
        """The item's mails and digest entries, in the caller's transaction."""
        recipients = self.exchange.mail_addresses.recipients(self._concerned(item))
        at = item.at if item.at.tzinfo else item.at.replace(tzinfo=UTC)
        for recipient in recipients.values():
            mode = recipient.mode(item.kind)
            if mode == IMMEDIATELY:
                subject, body = mail_text.item_mail(self._words_for(recipient.user_id),
                                                    item.kind, at, self.zone,
                                                    self.settings.base_url)
                outbox.queue_message(db, message_id(item.item_id, recipient.user_id),
                                     recipient.user_id, recipient.address, item.kind,
                                     subject, body, now)
            elif mode == DAILY and db.execute(select(mail_digest_entries.c.item_id).where(
                    mail_digest_entries.c.user_id == recipient.user_id,
                    mail_digest_entries.c.item_id == item.item_id)).first() is None:
                db.execute(insert(mail_digest_entries).values(
                    user_id=recipient.user_id, item_id=item.item_id, kind=item.kind,
                    day=at.astimezone(self.zone).date()))

    def _words_for(self, user_id: str) -> dict[str, Any]:
        """The language the user chose, alone; every language, English first, until they
        choose one."""
        try:
            language = self.exchange.ledger.repository.get(UUID(user_id)).language
        except (AggregateNotFoundError, ValueError, AttributeError):
            language = ""
        return {language: self.words[language]} if language in self.words else self.words

    def _concerned(self, item: Any) -> list[str]:
        """The active users the item is for: its user, or its state's users of its kind's
        roles."""
        if item.user_id:
            return [item.user_id]
        audience = KINDS[item.kind].audience
        return [str(u.id) for u in self.exchange.directory.users_of_state(item.state)
                if u.active and audience & set(u.roles)]

    # (4) Digests

    def compose_digests(self, now: datetime) -> int:
        today = now.astimezone(self.zone).date()
        e = mail_digest_entries.c
        with self.engine.connect() as db:
            days = db.execute(select(e.user_id, e.day).where(e.day < today).distinct()).all()
        composed = 0
        for user_id, day in days:
            with self.engine.begin() as db:
                counts = dict(db.execute(select(e.kind, func.count()).where(
                    e.user_id == user_id, e.day == day).group_by(e.kind)).tuples().all())
                recipient = self.exchange.mail_addresses.recipients([user_id]).get(user_id)
                if counts and recipient is not None:
                    subject, body = mail_text.digest_mail(self._words_for(user_id), counts,
                                                          day, self.settings.base_url)
                    composed += outbox.queue_message(
                        db, message_id(f"digest/{day.isoformat()}", user_id), user_id,
                        recipient.address, "digest", subject, body, now)
                db.execute(mail_digest_entries.delete().where(e.user_id == user_id,
                                                              e.day == day))
        return composed

    # (5) Sending

    def send_due(self, now: datetime) -> Counter[str]:
        done: Counter[str] = Counter()
        m = mail_messages.c
        with self.engine.connect() as db:
            due = db.execute(select(mail_messages).where(
                m.status == PENDING, m.next_attempt <= now).order_by(m.next_attempt)
                .limit(BATCH)).all()
        if not due:
            return done
        if not self.settings.smtp_url:
            return done  # no server configured: mails wait in the outbox
        try:
            server = self.connect()
        except (OSError, smtplib.SMTPException) as error:
            log.warning("mail server unavailable (%s); %d mails wait", error, len(due))
            for row in due:
                self._retry(row, now, f"no connection: {error}")
            done["retried"] += len(due)
            return done
        with server:
            for row in due:
                outcome = self._send_one(server, row, now)
                done[outcome] += 1
                if outcome == UNCERTAIN:
                    break  # the connection is gone; the others wait for the next pass
        return done

    def connect(self) -> smtplib.SMTP:
        """An SMTP session, encrypted (TLS from the start for smtps://, STARTTLS required for
        smtp://) and logged in if the URL names a user."""
        url = urlsplit(self.settings.smtp_url)
        host = url.hostname or "localhost"
        if url.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=self.timeout,
                                                    context=self.ssl_context)
        else:
            server = smtplib.SMTP(host, url.port or 587, timeout=self.timeout)
            try:
                server.starttls(context=self.ssl_context)
            except (OSError, smtplib.SMTPException):
                server.close()
                raise
        if url.username:
            try:
                server.login(unquote(url.username), unquote(url.password or ""))
            except (OSError, smtplib.SMTPException):
                server.close()
                raise
        return server

    def _send_one(self, server: smtplib.SMTP, row: Any, now: datetime) -> str:
        m = mail_messages.c
        with self.engine.begin() as db:
            claimed = db.execute(update(mail_messages).where(
                m.message_id == row.message_id, m.status == PENDING
            ).values(status=SENDING, claimed_at=now, attempts=row.attempts + 1)).rowcount
        if not claimed:
            return "taken"  # another mailer claimed it
        try:
            server.send_message(self._message(row, now))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                smtplib.SMTPDataError) as error:
            # The server answered no: nothing was delivered, so trying again is safe.
            return self._retry(row, now, str(error), claimed=True)
        except (OSError, smtplib.SMTPException) as error:
            self._mark(row.message_id, UNCERTAIN, f"no answer from the server: {error}")
            log.warning("mail %s: no answer from the server (%s); not sent again",
                        row.message_id, error)
            return UNCERTAIN
        self._record_sent(row.message_id, now)
        return SENT

    def _record_sent(self, message_id_: str, now: datetime) -> None:
        with self.engine.begin() as db:
            db.execute(update(mail_messages).where(mail_messages.c.message_id == message_id_)
                       .values(status=SENT, sent_at=now, body=""))

    def _retry(self, row: Any, now: datetime, error: str, claimed: bool = False) -> str:
        attempts = row.attempts + 1
        status = FAILED if attempts >= MAX_ATTEMPTS else PENDING
        with self.engine.begin() as db:
            db.execute(update(mail_messages).where(
                mail_messages.c.message_id == row.message_id,
                mail_messages.c.status == (SENDING if claimed else PENDING)
            ).values(status=status, attempts=attempts, claimed_at=None,
                     next_attempt=now + back_off(attempts), last_error=error[:200]))
        return "failed" if status == FAILED else "retried"

    def _mark(self, message_id_: str, status: str, error: str) -> None:
        with self.engine.begin() as db:
            db.execute(update(mail_messages).where(mail_messages.c.message_id == message_id_)
                       .values(status=status, last_error=error[:200]))

    def _message(self, row: Any, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = row.address
        message["Subject"] = row.subject
        message["Date"] = format_datetime(now)
        domain = self.settings.sender.rpartition("@")[2] or "divex.invalid"
        message["Message-ID"] = f"<{row.message_id}@{domain}>"
        message.set_content(row.body)
        return message


def message_id(about: str, user_id: str) -> str:
    """The Message-ID of the one mail to a user about an item (or a day's digest)."""
    return str(uuid5(NAMESPACE, f"mail/{about}/{user_id}"))
