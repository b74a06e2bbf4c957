"""Reaching the real services tests need: skip locally with the reason, fail in CI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "DIVEX_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


def services_required() -> bool:
    return os.environ.get("DIVEX_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Fails the test in CI (DIVEX_REQUIRE_SERVICES=1), skips it elsewhere."""
    if services_required():
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Creates a throw-away database on the test server; yields its SQLAlchemy URL."""
    import psycopg

    name = f"divex_t_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL} unreachable: {error}".strip())
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://",
                                                                 "postgresql+psycopg://")
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
