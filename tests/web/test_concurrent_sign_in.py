"""Many sign-ins at the same moment, at the product's password cost, on real threaded servers.

Each sign-in derives a 64 MiB Argon2id key. Two derivations at once in one process used to
hang both requests for good; now they queue, and beyond the queue the page says to retry.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from cases.identity.lockout import sign_in_failures
from crypto import DERIVATIONS
from infra.settings import Settings
from infra.wiring import Exchange, open_exchange, prepare_store
from tests.conftest import PASSWORD, make_settings
from web import create_app

USERS = [f"fra.analyst{n}" for n in range(8)]
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def product_cost(data_dir: Path, **changes: object) -> Settings:
    """Test settings with the product's default Argon2id cost instead of the tests' tiny one."""
    defaults = Settings(data_dir=data_dir, database_url="", secret_key="")
    return replace(make_settings(data_dir), kdf_memory_kib=defaults.kdf_memory_kib,
                   kdf_iterations=defaults.kdf_iterations, kdf_lanes=defaults.kdf_lanes,
                   **changes)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose eight analysts' keys are sealed at the product's cost."""
    data_dir = tmp_path_factory.mktemp("concurrent")
    settings = product_cost(data_dir)
    prepare_store(settings)
    exchange = open_exchange(settings)
    directory = exchange.directory
    directory.initialise("secretariat", PASSWORD)
    secretariat = directory.authenticate("secretariat", PASSWORD)
    directory.create_state(secretariat, "FRA", "state_party", "fra.admin", PASSWORD)
    admin = directory.authenticate("fra.admin", PASSWORD)
    for name in USERS:
        directory.add_user(admin, name, PASSWORD, ["analyst"])
    exchange.close()
    return data_dir


@contextmanager
def serve(exchange: Exchange) -> Iterator[str]:
    """`divex serve`'s server (werkzeug, a thread per request) on a free port."""
    server = make_server("127.0.0.1", 0, create_app(exchange), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    exchange.close()


def sign_in(base: str, username: str) -> requests.Response:
    """The browser's two requests: the form (for its CSRF token), then the password."""
    browser = requests.Session()
    token = _TOKEN.search(browser.get(f"{base}/login", timeout=60).text).group(1)
    return browser.post(f"{base}/login", timeout=60, allow_redirects=False, data={
        "csrf_token": token, "username": username, "password": PASSWORD, "next": ""})


def all_at_once(base: str) -> list[requests.Response]:
    with ThreadPoolExecutor(len(USERS)) as pool:
        return list(pool.map(lambda name: sign_in(base, name), USERS))


def signed_in(response: requests.Response) -> bool:
    return response.status_code == 302 and response.headers["Location"].endswith("/cases/")


def test_eight_users_signing_in_at_once_on_the_threaded_server_all_get_in(store: Path) -> None:
    with serve(open_exchange(product_cost(store, kdf_wait_seconds=120))) as url:
        responses = all_at_once(url)
    assert [signed_in(r) for r in responses] == [True] * len(USERS)


@pytest.fixture
def no_queue(store: Path) -> Iterator[Exchange]:
    """One derivation at a time and none waiting; the process's gate is put back after."""
    yield open_exchange(product_cost(store, kdf_queue=0, kdf_wait_seconds=0.05))
    defaults = Settings(data_dir=store, database_url="", secret_key="")
    DERIVATIONS.configure(defaults.kdf_queue, defaults.kdf_wait_seconds)


def test_beyond_the_queue_a_sign_in_is_asked_to_retry_and_loses_nothing(
        no_queue: Exchange) -> None:
    exchange = no_queue
    with serve(exchange) as url:
        responses = all_at_once(url)
        busy = [(name, r) for name, r in zip(USERS, responses, strict=True)
                if r.status_code == 503]
        assert busy, "one derivation at a time with no queue: some must be turned away"
        assert all(signed_in(r) or r.status_code == 503 for r in responses)
        for name, response in busy:
            assert int(response.headers["Retry-After"]) >= 1
            assert "Try again in a few seconds" in response.text
            assert f'value="{name}"' in response.text  # the typed user name is kept
        with exchange.ledger.recorder.datastore.engine.connect() as db:
            assert not list(db.execute(select(sign_in_failures)))  # no strike against anyone
        name = busy[0][0]
        assert signed_in(sign_in(url, name))  # and retrying gets in


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_eight_users_signing_in_at_once_on_gunicorn_with_threads_all_get_in(
        store: Path) -> None:
    port = free_port()
    env = {**os.environ, "DIVEX_DATA_DIR": str(store), "DIVEX_SECRET_KEY": "test-secret-" * 3,
           "DIVEX_SECURE_COOKIES": "0", "DIVEX_KDF_WAIT_SECONDS": "120"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread",
         "--threads", "8", "--bind", f"127.0.0.1:{port}", "infra.wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/login", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):  # not up, or still booting
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        responses = all_at_once(base)
        assert [signed_in(r) for r in responses] == [True] * len(USERS)
    finally:
        server.terminate()
        server.wait(timeout=30)
