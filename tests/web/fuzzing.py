"""What the form fuzz tests share: hostile and valid field values, a client that sends any
form body (duplicated, missing, extra fields, bytes that are not UTF-8), and the checks every
submission must pass."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pycountry
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from markupsafe import escape
from werkzeug.test import TestResponse

from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import Browser, error_next_to, events

# Function-scoped fixtures (one app and store per test) are shared by a test's examples on
# purpose: accepted submissions pile up, and each example reads the state it needs first.
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

COUNTRIES = sorted(c.alpha_3 for c in pycountry.countries)
NASTY = (
    "", " ", "\x00", "a\x00b", "\t\r\n", "\x1b[31mred", "\u202eevil\u202c", "\ufeff", "\u200b",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "{{ 7*7 }}", "%(x)s",
    "' OR 1=1 --", "../../etc/passwd", "\uff26\uff32\uff21", "FR\u0410", "fra",
    "\U0001d405\U0001d411\U0001d400", "İ", "ß", "ﬀ", "١٢", "²",
    "1e3", "-1", "0", "+5", "1_000", "0x10", "NaN", "∞", "9" * 30, "9" * 5000, "2024-02-30",
    "9999-12-31", "0001-01-01", "20240115", "2024-W03-1", "null", "None", "true", "[]", "{}",
    "x" * 201, "é" * 2001, "🙂" * 300,
)
# Crafted inputs that once answered 500 (issue 25): each fuzz test that reaches the field
# tries them first, as regression examples.
FAR_MOMENT = "9999-12-31T23:59:59-23:59"  # past the year 9999 once in UTC
HUGE_ID = "999999999999999999999"  # beyond a 64-bit integer
LINE_BREAK_NEXT = "/\r\n/evil.example/"  # a header split, and // after a browser drops CR/LF
TAB_NEXT = "/\t/evil.example/"  # // once a browser drops the tab
# Characters a person can type (no surrogates, which a browser cannot send).
TYPED = st.characters(blacklist_categories=["Cs"])
VISIBLE = st.characters(blacklist_categories=["Cs", "Cc", "Zs", "Zl", "Zp"])


def hostile_text() -> SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY), st.text(TYPED, max_size=40),
                     long_text(190, 20_100))


def long_text(low: int, high: int) -> SearchStrategy[str]:
    """A string of ``low`` to ``high`` characters, cheap to draw at any length."""
    return st.tuples(st.text(VISIBLE, min_size=1, max_size=4), st.integers(low, high)).map(
        lambda t: (t[0] * (t[1] // len(t[0]) + 1))[:t[1]])


def text(limit: int, *, required: bool = False) -> SearchStrategy[str]:
    """What a text field accepts: anything typed, at most ``limit`` once trimmed."""
    short = st.text(TYPED, max_size=min(limit, 60))
    values = st.one_of(short, short, long_text(limit - 3, limit))
    return values.filter(lambda s: bool(s.strip())) if required else values


def over_long(limit: int) -> SearchStrategy[str]:
    return long_text(limit + 1, limit + 40)


def blank() -> SearchStrategy[str]:
    return st.sampled_from(["", " ", "\t", "\n \r\n", "\u3000"])


def known_country() -> SearchStrategy[str]:
    """A code as a person may type it: any case, stray spaces."""
    return st.tuples(st.sampled_from(COUNTRIES), st.booleans(), st.sampled_from(["", " "])).map(
        lambda t: f"{t[2]}{t[0].lower() if t[1] else t[0]}{t[2]}")


def _is_country(value: str) -> bool:
    """An alpha-3 code, or an alpha-2 code (taken for its alpha-3 twin)."""
    code = value.strip().upper()
    return (len(code) == 3 and pycountry.countries.get(alpha_3=code) is not None) or \
        (len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None)


def unknown_country() -> SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["ZZZ", "XXX", "EU", "FRAN", "FR", "FR\u0410", "\uff26\uff32\uff21",
                         "123", "F R"]),
        st.text(string.ascii_letters, min_size=1, max_size=5),
        st.text(TYPED, min_size=1, max_size=6)).filter(
        lambda s: bool(s.strip()) and not _is_country(s))


def choice(choices: Sequence[str]) -> SearchStrategy[str]:
    return st.sampled_from(list(choices))


def not_a_choice(choices: Sequence[str]) -> SearchStrategy[str]:
    return st.one_of(hostile_text(), st.sampled_from([c.upper() for c in choices]),
                     st.sampled_from([f"{c}\x00" for c in choices])).filter(
        lambda s: bool(s.strip()) and s.strip() not in choices)


def whole_number(low: int, high: int) -> SearchStrategy[str]:
    return st.integers(low, high).map(str)


def not_a_number_between(low: int, high: int) -> SearchStrategy[str]:
    def wrong(s: str) -> bool:
        s = s.strip()
        if not s:
            return False
        try:
            return not low <= int(s) <= high
        except ValueError:
            return True
    return st.one_of(st.sampled_from(NASTY), st.integers(-10**30, low - 1).map(str),
                     st.integers(high + 1, 10**30).map(str),
                     st.floats(allow_nan=True).map(str), st.text(TYPED, max_size=10)).filter(wrong)


def past_day(first: date = date(1850, 1, 1)) -> SearchStrategy[str]:
    return st.dates(first, date.today()).map(date.isoformat)


def not_a_past_day() -> SearchStrategy[str]:
    tomorrow = date.today() + timedelta(days=1)

    def wrong(s: str) -> bool:
        try:
            return date.fromisoformat(s.strip()) > date.today()
        except ValueError:
            return bool(s.strip())
    return st.one_of(st.dates(tomorrow).map(date.isoformat),
                     st.sampled_from(["2024-02-30", "2024-13-01", "24-01-01", "01/02/2024",
                                      "yesterday", "2024-01-01T10:00", "99999-01-01", "²"]),
                     st.text(TYPED, min_size=1, max_size=12)).filter(wrong)


# Forms


@dataclass(frozen=True)
class Spec:
    """One field of a form: what it accepts, what it must refuse next to itself, and how an
    accepted value is stored (None: stored as typed, trimmed)."""

    name: str
    valid: SearchStrategy[Any]
    invalid: SearchStrategy[Any] | None = None
    stored: Callable[[Any], Any] | None = None

    def expect(self, value: Any) -> Any:
        return self.stored(value) if self.stored else value.strip()


def upper(value: str) -> str:
    return value.strip().upper()


Pairs = list[tuple[str, Any]]


@st.composite
def anything(draw: Any, specs: Sequence[Spec]) -> Pairs:
    """A body with each field valid, hostile, missing, duplicated or as bytes, plus extras."""
    pairs: Pairs = []
    for spec in specs:
        how = draw(st.sampled_from(["valid", "valid", "hostile", "invalid", "missing", "twice",
                                    "bytes"]))
        if how == "missing":
            continue
        if how == "invalid" and spec.invalid is not None:
            value = draw(spec.invalid)
        elif how == "hostile":
            value = draw(hostile_text())
        elif how == "bytes":
            value = draw(st.binary(min_size=1, max_size=20))
        else:
            value = draw(spec.valid)
        pairs.extend(as_pairs(spec.name, value))
        if how == "twice":
            pairs.extend(as_pairs(spec.name, draw(hostile_text())))
    extras = draw(st.lists(st.tuples(st.sampled_from(["id", "owner", "version", "state",
                                                      "user_id", "status", "tier", "__class__",
                                                      "expected_version", "lang"]),
                                     hostile_text()), max_size=2))
    return pairs + extras


def as_pairs(name: str, value: Any) -> Pairs:
    return [(name, v) for v in value] if isinstance(value, list) else [(name, value)]


def valid_body(draw: Any, specs: Sequence[Spec]) -> tuple[Pairs, dict[str, Any]]:
    """Every field valid: the body, and what each field's stored value must then be."""
    pairs, drawn = [], {}
    for spec in specs:
        drawn[spec.name] = draw(spec.valid)
        pairs.extend(as_pairs(spec.name, drawn[spec.name]))
    return pairs, drawn


# The client and the checks


class Fuzzer:
    """A signed-in user who sends any body, with the session's CSRF token."""

    def __init__(self, app: Flask, username: str) -> None:
        self.browser = Browser(app.test_client())
        if username:
            assert self.browser.login(username, PASSWORD).status_code == 302
        self.csrf = self.browser.token()

    def post(self, path: str, pairs: Pairs) -> TestResponse:
        body = urlencode([("csrf_token", self.csrf), *((k, v if isinstance(v, bytes | str)
                                                         else str(v)) for k, v in pairs)])
        return self.browser.client.post(path, data=body,
                                        content_type="application/x-www-form-urlencoded")

    def get(self, path: str) -> TestResponse:
        return self.browser.get(path)


_PAGE_MESSAGE = re.compile(r'<p class="(?:error|message)"[^>]*>([^<]+)</p>')


def page_message(response: TestResponse) -> str:
    found = _PAGE_MESSAGE.search(response.text)
    return found.group(1).strip() if found else ""


def submit(fuzzer: Fuzzer, exchange: Exchange, path: str, pairs: Pairs,
           fields: Sequence[str] = (), *, shows: bool = False) -> TestResponse:
    """Sends the body and checks what every submission owes: never a 5xx; a refusal is a
    4xx with a message a person can read (next to a field, or on the page) and stores no
    event; an acceptance is a redirect (or, for a form that only ``shows`` a result, a
    page)."""
    before = events(exchange)
    response = fuzzer.post(path, pairs)
    status = response.status_code
    assert status < 500, f"{status} for {pairs!r}"
    if status in (302, 303) or (shows and status == 200):
        return response
    assert 400 <= status < 500, f"{status} for {pairs!r}"
    assert events(exchange) == before, f"a refusal ({status}) stored events: {pairs!r}"
    message = next((m for f in fields if (m := error_next_to(response, f).strip())), "") \
        or page_message(response)
    assert message and not message.startswith(("Traceback", "{", "<")), \
        f"{status} without a readable message for {pairs!r}"
    return response


def visit(fuzzer: Fuzzer, path: str) -> TestResponse:
    """A page asked for with any address: never a 5xx; a refusal is a 4xx with a message."""
    response = fuzzer.get(path)
    status = response.status_code
    assert status < 500, f"{status} for {path!r}"
    if status >= 400:
        message = page_message(response)
        assert message and not message.startswith(("Traceback", "{", "<")), \
            f"{status} without a readable message for {path!r}"
    return response


def refused_next_to(fuzzer: Fuzzer, exchange: Exchange, path: str, pairs: Pairs,
                    field: str, fields: Sequence[str]) -> TestResponse:
    response = submit(fuzzer, exchange, path, pairs, fields)
    assert 400 <= response.status_code < 500, f"{field}: accepted {pairs!r}"
    assert error_next_to(response, field).strip(), \
        f"no message next to {field} for {pairs!r}: {page_message(response)!r}"
    return response


def shown(value: Any, page: str) -> bool:
    """Whether a stored value appears on a page, escaped as the templates escape it."""
    return str(escape(str(value))) in page
