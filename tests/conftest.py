"""Shared fixtures: an exchange on a fresh SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.settings import Settings, sqlite_url
from infra.wiring import Exchange, open_exchange
from tests.services import fresh_postgres_database

# Tiny Argon2id parameters keep the suite fast; the product default lives in crypto.passwords.
FAST_KDF = {"kdf_memory_kib": 8, "kdf_iterations": 1, "kdf_lanes": 1}

PASSWORD = "correct horse battery staple"


def make_settings(data_dir: Path, database_url: str | None = None) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url or sqlite_url(data_dir),
                    secret_key="test-secret", **FAST_KDF)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh, empty store on each backend."""
    if request.param == "sqlite":
        yield make_settings(tmp_path)
    else:
        with fresh_postgres_database() as url:
            yield make_settings(tmp_path, url)


@pytest.fixture
def exchange(settings: Settings) -> Iterator[Exchange]:
    opened = open_exchange(settings)
    yield opened
    opened.close()
