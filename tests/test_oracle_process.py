"""The match oracle as its own process (issue 20, scaled out): `divex oracle` alone reads its
key; the exchange calls it with requests signed by the asking state; a forged, stale or replayed
request is refused; `divex oracle rotate` replaces the key and the states' identifiers are
entered again under it. On SQLite and PostgreSQL, with a real `divex oracle` process."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cases.hits.match_index import match_tokens
from cases.hits.oracle import signed_request
from crypto import canonical_json, oprf
from infra.settings import Settings
from infra.wiring import Exchange, open_exchange, prepare_store
from tests.conftest import register_states

RIFLE = {"category": "small_arms", "quantity": "1", "make": "Norvik", "serial": "NA47-220914",
         "match_check": "yes"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def oracle_env(settings: Settings, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIVEX_")}
    return {**env, "DIVEX_DATA_DIR": str(folder), "DIVEX_DATABASE_URL": settings.database_url,
            "DIVEX_SECRET_KEY": "oracle-test-secret"}


@pytest.fixture
def oracle(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`divex oracle` in its own folder, on the test's database: its URL, env and folder."""
    folder = tmp_path / "oracle"
    folder.mkdir()
    prepare_store(settings)
    port, env = free_port(), oracle_env(settings, folder)
    process = subprocess.Popen([sys.executable, "-m", "infra.cli", "oracle", "--port",
                                str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None:
                    output = process.stdout.read().decode()  # type: ignore[union-attr]
                    raise AssertionError(output) from None
                time.sleep(0.1)
        yield url, env, folder
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def remote(settings: Settings, oracle: tuple[str, dict[str, str], Path],
           tmp_path: Path) -> Iterator[Exchange]:
    web = tmp_path / "web"
    web.mkdir()
    opened = open_exchange(replace(settings, data_dir=web, oracle_url=oracle[0]))
    yield opened
    opened.close()


def post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{url}/evaluate", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_hits_through_the_oracle_process_which_alone_holds_the_key(
        remote: Exchange, oracle: tuple[str, dict[str, str], Path], tmp_path: Path) -> None:
    people = register_states(remote.directory, ("FRA", "DEU", "MLI"))
    remote.cases.open_case(people["DEU"], {"title": "Stolen"}, items=[RIFLE])
    remote.cases.open_case(people["FRA"], {"title": "Seized"},
                           items=[{**RIFLE, "serial": "na47 220914"}])
    assert [h.other for h in remote.hits.for_state(people["FRA"])] == ["DEU"]
    assert not (tmp_path / "web" / "oracle.key").exists()
    key_file = oracle[2] / "oracle.key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_forged_stale_and_replayed_requests_are_refused(
        remote: Exchange, oracle: tuple[str, dict[str, str], Path]) -> None:
    people = register_states(remote.directory, ("FRA", "MLI"))
    url, elements = oracle[0], [oprf.blind(b"divex-match-v1|serial|NORVIK|NA47220914")[1]]
    fra, mli = people["FRA"].actor, people["MLI"].actor
    honest = signed_request(fra, elements)
    forged = {**signed_request(mli, elements), "state": "FRA"}  # MLI's signature, FRA's name
    assert post(url, forged)[0] == 403
    stale = {k: v for k, v in signed_request(fra, elements).items() if k != "signature"}
    stale["signed_at"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    stale["signature"] = fra.keys.sign(canonical_json(stale)).hex()
    assert post(url, stale)[0] == 403
    status, answer = post(url, honest)
    assert status == 200 and len(answer["evaluated"]) == 1
    assert base64.b64decode(answer["evaluated"][0]) != elements[0]
    assert post(url, honest)[0] == 422  # the same request again: a replay
    assert post(url, {"elements": "x"})[0] == 422


def test_a_rotated_key_reenters_every_states_identifiers(
        remote: Exchange, oracle: tuple[str, dict[str, str], Path], settings: Settings) -> None:
    people = register_states(remote.directory, ("FRA", "DEU", "MLI"))
    remote.cases.open_case(people["DEU"], {"title": "Stolen"}, items=[RIFLE])
    remote.cases.open_case(people["FRA"], {"title": "Seized"}, items=[RIFLE])
    before = remote.hits.oracle.key_id()
    rotated = subprocess.run([sys.executable, "-m", "infra.cli", "oracle", "rotate"],
                             env=oracle[1], capture_output=True, text=True, timeout=60)
    assert rotated.returncode == 0, rotated.stderr
    after = remote.hits.oracle.key_id()
    assert after != before and after in rotated.stdout
    for state in ("FRA", "DEU"):
        assert remote.hits.refresh(people[state]) == 1
    engine = remote.ledger.recorder.datastore.engine
    with engine.connect() as connection:
        keys = connection.execute(select(match_tokens.c.oracle_key)).scalars().all()
    assert keys == [after, after]
    # Tokens under the new key still meet: a third state's record makes its own hits.
    remote.cases.open_case(people["MLI"], {"title": "Found"}, items=[RIFLE])
    assert sorted(h.other for h in remote.hits.for_state(people["MLI"])) == ["DEU", "FRA"]
    assert len(remote.hits.for_state(people["FRA"])) == 2  # the old hit, and MLI's
