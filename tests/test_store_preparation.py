"""Several processes preparing and opening a new store at once, as a server's workers do."""

from __future__ import annotations

import multiprocessing
from typing import Any

from infra.settings import Settings
from infra.wiring import open_exchange, prepare_store
from tests.conftest import PASSWORD, register_states
from web import create_app

WORKERS = 4


def _boot(settings: Settings, barrier: Any) -> None:
    """What `infra.wsgi` does in each worker."""
    barrier.wait()
    prepare_store(settings)
    exchange = open_exchange(settings)
    create_app(exchange)
    exchange.close()


def test_workers_booting_together_on_a_new_store_all_boot(settings: Settings) -> None:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(WORKERS)
    workers = [spawn.Process(target=_boot, args=(settings, barrier)) for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0] * WORKERS
    # The store they made serves a sign-in.
    exchange = open_exchange(settings)
    try:
        register_states(exchange.directory, ("FRA",))
        client = create_app(exchange, {"WTF_CSRF_ENABLED": False}).test_client()
        signed_in = client.post("/login", data={"username": "fra.analyst", "password": PASSWORD})
        assert signed_in.status_code == 302
        assert client.get("/cases/").status_code == 200
    finally:
        exchange.close()
