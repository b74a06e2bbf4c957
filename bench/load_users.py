"""The locust users of bench/load.py: analysts and reviewers signed in through /login.

Each load user takes an account of its own (bench/load_seed.py makes 42 analysts and 12
reviewers over six states) and the case ids of its state from ``DIVEX_LOAD_CASES``. An analyst
edits only its own slice of its state's cases, so two users never race on one case: any
conflict (409) is an error of the product, not of the bench.

Weights (per analyst; reviewers do the reads only, same proportions):
list 30, list filtered 20, search 15, open a case 30, add an evidence note 6, revise the
summary 3, change the sharing 3, baseline GET /login 4. Think time between tasks
(DIVEX_LOAD_THINK, default 2-8 s: ~10 requests/s from 50 users). The statistics restart
a warm-up (DIVEX_LOAD_WARMUP, default 15 s) after the last user signed in, and the run stops
DIVEX_LOAD_SECONDS later. The 50 sign-ins (Argon2id, ~0.7 CPU s each) arrive within seconds
and queue for ~20 s on 2 cores; requests issued meanwhile wait behind them, and measuring
from the last sign-in counted that start-up queue into every route's tail.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, task

SEED = json.loads(Path(os.environ["DIVEX_LOAD_CASES"]).read_text())
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="expected_version" value="(\d+)"')
READERS = re.compile(r"<strong>Readable by:</strong> ([A-Z, ]+)</p>")
CASE_LINK = re.compile(r'href="/cases/([0-9a-f-]{36})"')
STATUSES = ("suspected", "under_investigation", "confirmed", "unfounded", "closed")
TIERS = ("national", "bilateral", "portal")
ANALYSTS = itertools.count()
REVIEWERS = itertools.count()
THINK = [float(s) for s in os.environ.get("DIVEX_LOAD_THINK", "2,8").split(",")]
MEASURED_SECONDS = float(os.environ.get("DIVEX_LOAD_SECONDS", "60"))
WARMUP_SECONDS = float(os.environ.get("DIVEX_LOAD_WARMUP", "15"))
SIGNED_IN = itertools.count(1)


def signed_in(environment: Any) -> None:
    """Once every user has signed in (Argon2id at the product's cost: the slow part of
    starting) and the warm-up passed, the statistics start afresh; the run stops
    MEASURED_SECONDS later."""
    if next(SIGNED_IN) == environment.parsed_options.num_users:
        gevent.spawn_later(WARMUP_SECONDS, _measure, environment)


def _measure(environment: Any) -> None:
    environment.stats.reset_all()
    gevent.spawn_later(MEASURED_SECONDS, environment.runner.quit)

# Names under which locust reports each route (bench/load.py reads them back).
LIST, FILTERED, CASE, BASELINE = ("list", "list filtered", "case page", "baseline GET /login")
SEARCH = "search"
# Words, names and serial starts the seeded cases hold (bench/load_seed.py), and one that none
# does; a search takes one or two, sometimes with a filter.
SEARCHED = ("rifles", "pistols", "cartridges", "warehouse", "checkpoint", "norvik",
            "castellane", "meridian", "heron", "sahel trading", "dx-12", "DX 4", "licence",
            "photographs markings", "saloum")
CATEGORIES = ("small_arms", "light_weapons", "ammunition", "parts_and_components")


class LoadUser(HttpUser):
    abstract = True
    wait_time = between(*THINK)
    role = ""

    def on_start(self) -> None:
        pool, counter = ((SEED["analysts"], ANALYSTS) if self.role == "analyst"
                         else (SEED["reviewers"], REVIEWERS))
        account = pool[next(counter) % len(pool)]
        self.state = account["state"]
        own = SEED["owners"][self.state]
        per_state = len(pool) // len(SEED["states"])
        self.mine = own[int(account["slot"])::per_state]  # this user's slice, for edits
        self.own = own
        self.seen: list[str] = []  # case ids from the last list page
        page = self.client.get("/login", name="sign in (GET /login)")
        response = self.client.post(
            "/login", name="sign in (POST /login)", allow_redirects=False,
            data={"username": account["username"], "password": SEED["password"],
                  "csrf_token": token(page.text)})
        if response.status_code != 302:
            raise RuntimeError(f"sign-in of {account['username']} got {response.status_code}")
        page = self.client.get("/cases/", name="sign in (GET /cases/)")
        if '<html lang="en">' not in page.text:  # the checks below read English pages
            self.client.post("/language", name="sign in (English)", allow_redirects=False,
                             data={"lang": "en", "next": "/cases/", "csrf_token": token(page.text)})
        signed_in(self.environment)

    # Reads

    def list_cases(self) -> None:
        page = random.randint(1, 5)
        with self.client.get(f"/cases/?page={page}", name=LIST, catch_response=True) as r:
            self.expect(r, 200, "cases your state can read")
            self.seen = CASE_LINK.findall(r.text)

    def list_filtered(self) -> None:
        choice = random.randrange(4)
        if choice == 0:
            query = f"status={random.choice(STATUSES)}"
        elif choice == 1:
            query = f"tier={random.choice(TIERS)}"
        elif choice == 2:
            query = f"owner={random.choice(SEED['states'])}"
        else:
            today = datetime.now(UTC).date()
            query = (f"updated_from={today - timedelta(days=7)}&updated_to={today}"
                     f"&status={random.choice(STATUSES)}")
        with self.client.get(f"/cases/?{query}", name=FILTERED, catch_response=True) as r:
            self.expect(r, 200, "cases your state can read")

    def search(self) -> None:
        query = {"q": " ".join(random.sample(SEARCHED, random.choice((1, 1, 2))))}
        if random.random() < 0.3:
            query["category"] = random.choice(CATEGORIES)
        with self.client.get("/cases/", params=query, name=SEARCH, catch_response=True) as r:
            self.expect(r, 200, "cases your state can read")

    def open_case(self) -> None:
        case_id = random.choice(self.seen if self.seen and random.random() < 0.5 else self.own)
        with self.client.get(f"/cases/{case_id}", name=CASE, catch_response=True) as r:
            self.expect(r, 200, "readable by")

    def baseline(self) -> None:
        with self.client.get("/login", name=BASELINE, catch_response=True) as r:
            self.expect(r, 200, "csrf_token")

    # Helpers

    @staticmethod
    def expect(response: Any, status: int, text: str = "") -> bool:
        if response.status_code != status:
            response.failure(f"HTTP {response.status_code}, expected {status}")
            return False
        if text and text not in response.text.lower():  # a page, not an error page
            response.failure(f"page lacks {text!r}")
            return False
        response.success()
        return True


def token(html: str) -> str:
    match = TOKEN.search(html)
    return match.group(1) if match else ""


class Reviewer(LoadUser):
    weight = 12
    role = "reviewer"

    @task(30)
    def t_list(self) -> None:
        self.list_cases()

    @task(20)
    def t_filtered(self) -> None:
        self.list_filtered()

    @task(15)
    def t_search(self) -> None:
        self.search()

    @task(30)
    def t_case(self) -> None:
        self.open_case()

    @task(4)
    def t_baseline(self) -> None:
        self.baseline()


class Analyst(Reviewer):
    weight = 42
    role = "analyst"

    @task(6)
    def add_note(self) -> None:
        case_id = random.choice(self.mine)
        form = self.client.get(f"/cases/{case_id}/note/new", name="edit: note form")
        self.post(f"/cases/{case_id}/note/new", "edit: add note", form.text,
                  {"text": f"Checked again on {datetime.now(UTC):%Y-%m-%d %H:%M:%S}."})

    @task(3)
    def revise_summary(self) -> None:
        case_id = random.choice(self.mine)
        form = self.client.get(f"/cases/{case_id}/summary", name="edit: summary form")
        others = [s for s in SEED["states"] if s != self.state]
        self.post(f"/cases/{case_id}/summary", "edit: revise summary", form.text, {
            "title": f"Rifles found in a cache, revised {random.randint(1, 10**6)}",
            "narrative": "Forty rifles with erased serials; revised after a second visit.",
            "point_of_diversion": "at_or_after_delivery",
            "concerned_exporter": random.choice(others), "concerned_discovery": self.state})

    @task(3)
    def change_sharing(self) -> None:
        """Shares with one more state; when every state reads it, stops sharing with one."""
        case_id = random.choice(self.mine)
        page = self.client.get(f"/cases/{case_id}", name=CASE)
        found = READERS.search(page.text)
        readers = set(found.group(1).split(", ")) if found else set()
        missing = [s for s in SEED["states"] if s not in readers]
        if missing:
            form = self.client.get(f"/cases/{case_id}/share", name="share: form")
            version = VERSION.search(form.text)
            state = random.choice(missing)
            confirm = self.client.get(
                f"/cases/{case_id}/share/confirm", name="share: confirm",
                params={"tier": "bilateral", "states": state,
                        "expected_version": version.group(1) if version else ""})
            self.post(f"/cases/{case_id}/share", "share: share", confirm.text,
                      {"tier": "bilateral", "states": state})
        else:
            form = self.client.get(f"/cases/{case_id}/unshare", name="share: unshare form")
            version = VERSION.search(form.text)
            state = random.choice(sorted(readers - {self.state}))
            confirm = self.client.get(
                f"/cases/{case_id}/unshare/confirm", name="share: confirm unshare",
                params={"states": state, "expected_version": version.group(1) if version else ""})
            self.post(f"/cases/{case_id}/unshare", "share: unshare", confirm.text,
                      {"states": state})

    def post(self, path: str, name: str, form_html: str, data: dict[str, str]) -> None:
        """Posts a form with the CSRF token and expected version of the page it came from."""
        version = VERSION.search(form_html)
        body = dict(data, csrf_token=token(form_html),
                    expected_version=version.group(1) if version else "")
        with self.client.post(path, data=body, name=name, allow_redirects=False,
                              catch_response=True) as r:
            self.expect(r, 302)
