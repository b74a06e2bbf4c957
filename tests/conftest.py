"""Shared fixtures: an exchange on a fresh SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from cases.identity.directory_service import Directory
from cases.kernel.viewer import Viewer
from infra.settings import Settings, sqlite_url
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.follower import catch_up
from tests.services import fresh_postgres_database

# Tiny Argon2id parameters keep the suite fast; the product default lives in crypto.passwords.
FAST_KDF = {"kdf_memory_kib": 8, "kdf_iterations": 1, "kdf_lanes": 1}

PASSWORD = "correct horse battery staple"


def make_settings(data_dir: Path, database_url: str | None = None, *,
                  secure_cookies: bool = False) -> Settings:
    """Plain HTTP by default, as the Flask test client and the live test server speak it."""
    return Settings(data_dir=data_dir, database_url=database_url or sqlite_url(data_dir),
                    secret_key="test-secret", secure_cookies=secure_cookies, **FAST_KDF)


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
    prepare_store(settings)
    opened = open_exchange(settings)
    yield opened
    opened.close()


def register_states(directory: Directory, codes: tuple[str, ...] = ("FRA", "DEU", "MLI"),
                    roles: tuple[str, ...] = ("analyst",)) -> dict[str, Viewer]:
    """The secretariat and States Parties, each with an admin and one user per role.

    Keys: "secretariat", "FRA.admin", "FRA.<role>" for each role, and "FRA" for the analyst.
    """
    directory.initialise("secretariat", PASSWORD)
    viewers = {"secretariat": directory.authenticate("secretariat", PASSWORD)}
    for code in codes:
        low = code.lower()
        directory.create_state(viewers["secretariat"], code, "state_party", f"{low}.admin",
                               PASSWORD)
        viewers[f"{code}.admin"] = directory.authenticate(f"{low}.admin", PASSWORD)
        for role in roles:
            directory.add_user(viewers[f"{code}.admin"], f"{low}.{role}", PASSWORD, [role])
            viewers[f"{code}.{role}"] = directory.authenticate(f"{low}.{role}", PASSWORD)
        if "analyst" in roles:
            viewers[code] = viewers[f"{code}.analyst"]
    return viewers


def rebuilt_from_zero(exchange: Exchange, projection: Any) -> dict[str, list[tuple]]:
    """The projection's tables after dropping them and replaying the whole log."""
    projection.view.drop()
    projection.view.create_table()
    catch_up(exchange.ledger, [projection])
    return projection.view.dump()


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def previous_step_code(secret: str) -> str:
    """The code of the time step before now, never within 3 s of a step's end: the server
    takes one step either side of its own now, and a slow request crossing into the next
    step would otherwise find the code two steps old."""
    if 30 - time.time() % 30 < 3:
        time.sleep(30 - time.time() % 30 + 0.1)
    return pyotp.TOTP(secret).at(time.time() - 30)


def enrolled(directory: Directory, viewer: Viewer) -> list[str]:
    """Enrols the user in the second factor (`TOTP_SECRET`, with the previous time step's
    code, so the current one is still unused); returns their ten recovery codes."""
    return directory.second_factors.enrol(viewer, TOTP_SECRET,
                                          previous_step_code(TOTP_SECRET), password=PASSWORD)


def cli_env(exchange: Exchange, **extra: str) -> dict[str, str]:
    """The DIVEX_* environment that points the `divex` command at this exchange's store."""
    env = {"DIVEX_DATA_DIR": str(exchange.settings.data_dir),
           "DIVEX_DATABASE_URL": exchange.settings.database_url}
    env.update({f"DIVEX_{k.upper()}": str(v) for k, v in FAST_KDF.items()})
    env.update(extra)
    return env
