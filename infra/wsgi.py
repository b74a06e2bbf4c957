"""WSGI entry point for a production server, e.g. `gunicorn -w 2 'infra.wsgi:app'`.

Configured from the environment exactly as `divex serve` is (README, "Configuration"); each
server process imports this module and so opens its own exchange.
"""

from __future__ import annotations

from web import create_app

from .settings import DEMO_SECRET_KEY, load_settings
from .wiring import open_exchange, prepare_store

settings = load_settings()
if settings.secret_key == DEMO_SECRET_KEY:
    raise RuntimeError("DIVEX_SECRET_KEY is not set: the server needs its own long random "
                       "secret, as `divex serve` does.")
prepare_store(settings)
exchange = open_exchange(settings)
exchange.start_following()  # a thread in each worker process (so no --preload)
app = create_app(exchange)
