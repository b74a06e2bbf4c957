"""Settings read once from the environment; everything else receives them as arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEMO_SECRET_KEY = "divex-demo-secret-do-not-use-in-production"


@dataclass(frozen=True)
class Settings:
    """Where divex keeps its data and how it is secured.

    ``database_url`` is the SQLAlchemy URL of the event store and read models; by default an
    SQLite file under ``data_dir``. ``kdf_memory_kib`` and friends tune the password KDF that
    wraps users' private keys (see ``crypto.passwords``). ``secure_cookies`` marks the session
    cookie Secure and sends plain HTTP to HTTPS; only `divex demo` on a loopback address, and
    tests, turn it off.
    """

    data_dir: Path
    database_url: str
    secret_key: str
    kdf_memory_kib: int = 65536
    kdf_iterations: int = 3
    kdf_lanes: int = 4
    log_key_path: Path | None = None
    checkpoint_every: int = 1000
    disclosure_k: int = 5
    disclosure_reporters: int = 2
    secure_cookies: bool = True
    proxy_hops: int = 0
    login_rate_limit: str = "10 per minute"
    ratelimit_storage_uri: str = "memory://"

    @property
    def log_key_file(self) -> Path:
        """The checkpoint process's private key (created on first use, mode 0600)."""
        return self.log_key_path or self.data_dir / "log-signing.key"

    @property
    def subgroup_key_file(self) -> Path:
        """The private key of the tier-1 summary projection (created on first use)."""
        return self.data_dir / "subgroup.key"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def event_store_env(self) -> dict[str, str]:
        """The `eventsourcing` environment for the one event store of the exchange."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": self.database_url,
            "CREATE_TABLE": "y",
        }


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'divex.sqlite').resolve()}"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Builds settings from ``DIVEX_*`` environment variables (documented in the README)."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("DIVEX_DATA_DIR", "instance")).expanduser()
    return Settings(
        data_dir=data_dir,
        database_url=env.get("DIVEX_DATABASE_URL") or sqlite_url(data_dir),
        secret_key=env.get("DIVEX_SECRET_KEY", DEMO_SECRET_KEY),
        kdf_memory_kib=int(env.get("DIVEX_KDF_MEMORY_KIB", "65536")),
        kdf_iterations=int(env.get("DIVEX_KDF_ITERATIONS", "3")),
        kdf_lanes=int(env.get("DIVEX_KDF_LANES", "4")),
        log_key_path=Path(env["DIVEX_LOG_KEY_FILE"]) if env.get("DIVEX_LOG_KEY_FILE") else None,
        checkpoint_every=int(env.get("DIVEX_CHECKPOINT_EVERY", "1000")),
        disclosure_k=int(env.get("DIVEX_DISCLOSURE_K", "5")),
        disclosure_reporters=int(env.get("DIVEX_DISCLOSURE_REPORTERS", "2")),
        secure_cookies=flag(env.get("DIVEX_SECURE_COOKIES", "1"), "DIVEX_SECURE_COOKIES"),
        proxy_hops=int(env.get("DIVEX_PROXY_HOPS", "0")),
        login_rate_limit=env.get("DIVEX_LOGIN_RATE_LIMIT", "10 per minute"),
        ratelimit_storage_uri=env.get("DIVEX_RATELIMIT_STORAGE_URI", "memory://"),
    )


def flag(value: str, name: str) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off; anything else is refused."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0 (true/false), not {value!r}.")
