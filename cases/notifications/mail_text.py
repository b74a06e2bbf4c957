"""The words of divex's mails: what kind of thing happened, when, and a link to sign in, in the
languages given (the user's chosen one, or each language of the exchange). Never case
content: no title, no number, no item, no state's name.

Composed from `N_`-marked templates, translated by the ``translators`` the mailer passes in
(one gettext function per language, from the web catalogs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo

from .kinds import KINDS, N_

Gettext = Callable[[str], str]

SUBJECT = N_("divex: %(what)s")
SIGN_IN = N_("Sign in to see it: %(link)s")
DIGEST_SUBJECT = N_("divex: your inbox on %(day)s")
DIGEST_HEAD = N_("What reached your divex inbox on %(day)s:")
DIGEST_SIGN_IN = N_("Sign in to see them: %(link)s")
CONFIRM_SUBJECT = N_("divex: confirm your e-mail address")
CONFIRM_BODY = N_("Someone (you, we hope) asked divex to send its notifications to this "
                  "address. To confirm, open this link within two days: %(link)s")
CONFIRM_IGNORE = N_("If it was not you, ignore this mail: nothing will be sent to you.")
FOOTER = N_("This mail holds no case content. Choose which mails you get, or stop them: "
            "%(link)s")


def _when(at: datetime, zone: tzinfo) -> str:
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} ({local.tzname()})"


def _sections(translators: Mapping[str, Gettext], lines: Callable[[Gettext], list[str]]) -> str:
    """The same lines in each language, English first."""
    return "\n\n".join("\n".join(lines(gettext)) for gettext in translators.values())


def item_mail(translators: Mapping[str, Gettext], kind: str, at: datetime, zone: tzinfo,
              base_url: str) -> tuple[str, str]:
    """Subject and body of the mail that tells of one item."""
    english = next(iter(translators.values()))
    sentence = KINDS[kind].sentence
    body = _sections(translators, lambda _: [
        _(sentence), _when(at, zone), _(SIGN_IN) % {"link": f"{base_url}/inbox/"}])
    return (english(SUBJECT) % {"what": english(sentence).rstrip(".")},
            body + "\n\n-- \n" + english(FOOTER) % {"link": f"{base_url}/account/mail"})


def digest_mail(translators: Mapping[str, Gettext], counts: Mapping[str, int], day: date,
                base_url: str) -> tuple[str, str]:
    """Subject and body of a day's digest: how many items of each kind."""
    english = next(iter(translators.values()))
    body = _sections(translators, lambda _: [
        _(DIGEST_HEAD) % {"day": day.isoformat()},
        *(f"  {n} x {_(KINDS[kind].sentence)}" for kind, n in sorted(counts.items())),
        _(DIGEST_SIGN_IN) % {"link": f"{base_url}/inbox/"}])
    return (english(DIGEST_SUBJECT) % {"day": day.isoformat()},
            body + "\n\n-- \n" + english(FOOTER) % {"link": f"{base_url}/account/mail"})


def confirmation_mail(translators: Mapping[str, Gettext], link: str) -> tuple[str, str]:
    english = next(iter(translators.values()))
    return english(CONFIRM_SUBJECT), _sections(translators, lambda _: [
        _(CONFIRM_BODY) % {"link": link}, _(CONFIRM_IGNORE)])
