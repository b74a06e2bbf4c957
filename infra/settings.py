"""Settings read once from the environment; everything else receives them as arguments."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crypto import CryptoError
from crypto.note import CosignatureVerifier, parse_vkey

DEMO_SECRET_KEY = "divex-demo-secret-do-not-use-in-production"


@dataclass(frozen=True)
class StreamSettings:
    """Kafka, for the relay and the projection workers (README, "Scale out").

    ``idempotent`` turns on the idempotent producer; with it off (for brokers that lack it,
    such as Tansu 0.6 on memory storage) one request in flight per connection still keeps the
    order of retried sends. Consumers absorb duplicates either way.
    """

    bootstrap: str = "127.0.0.1:9092"
    topic: str = "divex.events"
    partitions: int = 6
    replication: int = 1  # replicas of each partition when the relay creates the topic
    group: str = "divex-projections"
    idempotent: bool = True
    session_timeout_ms: int = 45000
    heartbeat_interval_ms: int = 3000
    poll_seconds: float = 0.2  # the relay's pause when the log has nothing new
    # Workers stalled this long re-get everything from their low-water mark. Keep it well
    # above session_timeout_ms, or a dead worker's partitions trigger needless re-sends.
    resend_after_seconds: float = 120.0


@dataclass(frozen=True)
class MailSettings:
    """Notification e-mail (README, "Inbox and e-mail"). No ``smtp_url``: no mail is sent.

    ``smtp_url`` is ``smtp://user:password@host:587`` (STARTTLS, required) or
    ``smtps://user:password@host:465`` (TLS from the start). ``base_url`` is where the
    sign-in links of the mails point.
    """

    smtp_url: str = ""
    sender: str = ""
    base_url: str = "http://127.0.0.1:5000"


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
    kdf_queue: int = 16  # derivations that may wait in a process behind the one running
    kdf_wait_seconds: float = 5.0  # the longest one waits before a 503 "try again"
    log_key_path: Path | None = None
    # The checkpoints' origin line (c2sp.org/tlog-checkpoint); empty: derived from the log
    # key (`wiring.log_origin`), so it is stable as long as the key is.
    log_origin: str = ""
    # External witnesses (c2sp.org/tlog-witness) each new checkpoint is submitted to:
    # (URL prefix of add-checkpoint, vkey of its cosignature/v1 key).
    witnesses: tuple[tuple[str, str], ...] = ()
    checkpoint_every: int = 1000
    # How often a follower looks for other processes' events (its own process's commits
    # wake it at once): `divex projections run --source log` and each server process.
    follow_seconds: float = 0.05
    disclosure_k: int = 5
    disclosure_reporters: int = 3
    disclosure_dominance: int = 60  # percent of a figure one state (or case) may hold
    disclosure_protection: int = 3  # cases a suppressed count stays uncertain by, at least
    secure_cookies: bool = True
    proxy_hops: int = 0
    login_rate_limit: str = "10 per minute"
    api_rate_limit: str = "600 per minute"  # per API token
    ratelimit_storage_uri: str = "memory://"
    # The largest request body read (JSON or form); the longest case text is 20,000
    # characters a field, and no page uploads files.
    max_request_bytes: int = 1024 * 1024
    attachment_max_mib: int = 20  # one file added to a case
    case_attachments_max_mib: int = 200  # all of a case's files
    invitation_days: int = 7  # an invitation code is valid this long
    oracle_daily_limit: int = 2000  # private hit checks (OPRF evaluations) a state a day
    oracle_url: str = ""  # `divex oracle`'s address when it runs apart (scaled out)
    projection_source: str = "log"  # or "kafka": read models are built by stream workers
    stream: StreamSettings = StreamSettings()
    # The deployment's calendar: a deadline day ends at midnight here, and digests cover its
    # days. An IANA name, e.g. "Europe/Vienna".
    time_zone: str = "UTC"
    mail: MailSettings = MailSettings()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def log_key_file(self) -> Path:
        """The checkpoint process's private key (created on first use, mode 0600)."""
        return self.log_key_path or self.data_dir / "log-signing.key"

    @property
    def subgroup_key_file(self) -> Path:
        """The private key of the tier-1 summary projection (created on first use)."""
        return self.data_dir / "subgroup.key"

    @property
    def oracle_key_file(self) -> Path:
        """The match oracle's OPRF key (created on first use, mode 0600)."""
        return self.data_dir / "oracle.key"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def event_store_env(self) -> dict[str, str]:
        """The `eventsourcing` environment for the one event store of the exchange."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": self.database_url,
            # Each process keeps the aggregates it loaded and reads only their newer events
            # (fast-forward, the library's default): a request's user and state cost one
            # query each instead of a snapshot look-up and a replay, and never go stale.
            "AGGREGATE_CACHE_MAXSIZE": str(AGGREGATE_CACHE_SIZE),
        }


AGGREGATE_CACHE_SIZE = 1000  # aggregates kept per process (users, states, recent cases)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'divex.sqlite').resolve()}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Builds settings from ``DIVEX_*`` environment variables (documented in the README)."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("DIVEX_DATA_DIR", "instance")).expanduser()
    return Settings(
        data_dir=data_dir,
        database_url=env.get("DIVEX_DATABASE_URL") or sqlite_url(data_dir),
        secret_key=env.get("DIVEX_SECRET_KEY", DEMO_SECRET_KEY),
        kdf_memory_kib=number(env, "DIVEX_KDF_MEMORY_KIB", "65536"),
        kdf_iterations=number(env, "DIVEX_KDF_ITERATIONS", "3"),
        kdf_lanes=number(env, "DIVEX_KDF_LANES", "4"),
        kdf_queue=number(env, "DIVEX_KDF_QUEUE", "16"),
        kdf_wait_seconds=number(env, "DIVEX_KDF_WAIT_SECONDS", "5", float),
        log_key_path=Path(env["DIVEX_LOG_KEY_FILE"]) if env.get("DIVEX_LOG_KEY_FILE") else None,
        log_origin=log_origin(env.get("DIVEX_LOG_ORIGIN", "")),
        witnesses=witnesses(env.get("DIVEX_WITNESSES", "")),
        checkpoint_every=number(env, "DIVEX_CHECKPOINT_EVERY", "1000"),
        follow_seconds=number(env, "DIVEX_FOLLOW_SECONDS", "0.05", float, minimum=0.001),
        disclosure_k=number(env, "DIVEX_DISCLOSURE_K", "5"),
        disclosure_reporters=number(env, "DIVEX_DISCLOSURE_REPORTERS", "3"),
        disclosure_dominance=number(env, "DIVEX_DISCLOSURE_DOMINANCE", "60", minimum=1),
        disclosure_protection=number(env, "DIVEX_DISCLOSURE_PROTECTION", "3", minimum=1),
        secure_cookies=flag(env.get("DIVEX_SECURE_COOKIES", "1"), "DIVEX_SECURE_COOKIES"),
        proxy_hops=number(env, "DIVEX_PROXY_HOPS", "0"),
        login_rate_limit=env.get("DIVEX_LOGIN_RATE_LIMIT", "10 per minute"),
        api_rate_limit=env.get("DIVEX_API_RATE_LIMIT", "600 per minute"),
        ratelimit_storage_uri=env.get("DIVEX_RATELIMIT_STORAGE_URI", "memory://"),
        max_request_bytes=int(env.get("DIVEX_MAX_REQUEST_BYTES", str(1024 * 1024))),
        invitation_days=number(env, "DIVEX_INVITATION_DAYS", "7", minimum=1),
        oracle_daily_limit=number(env, "DIVEX_ORACLE_DAILY_LIMIT", "2000", minimum=1),
        oracle_url=env.get("DIVEX_ORACLE_URL", "").strip(),
        attachment_max_mib=number(env, "DIVEX_ATTACHMENT_MAX_MIB", "20", minimum=1),
        case_attachments_max_mib=number(env, "DIVEX_CASE_ATTACHMENTS_MAX_MIB", "200",
                                        minimum=1),
        projection_source=choice(env.get("DIVEX_PROJECTION_SOURCE", "log"), ("log", "kafka"),
                                 "DIVEX_PROJECTION_SOURCE"),
        stream=stream_settings(env),
        time_zone=time_zone(env.get("DIVEX_TIME_ZONE", "UTC")),
        mail=mail_settings(env),
    )


def time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"DIVEX_TIME_ZONE must be an IANA time zone such as Europe/Vienna, "
                         f"not {name!r}.") from None
    return name


def mail_settings(env: Mapping[str, str]) -> MailSettings:
    url = env.get("DIVEX_SMTP_URL", "").strip()
    if url and not url.startswith(("smtp://", "smtps://")):
        raise ValueError("DIVEX_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// "
                         "(TLS).")
    sender = env.get("DIVEX_MAIL_FROM", "").strip()
    if url and "@" not in sender:
        raise ValueError("DIVEX_MAIL_FROM must be the address mails are sent from, e.g. "
                         "divex@example.org, when DIVEX_SMTP_URL is set.")
    base = env.get("DIVEX_BASE_URL", MailSettings.base_url).strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"DIVEX_BASE_URL must start with https:// or http://, not {base!r}.")
    return MailSettings(smtp_url=url, sender=sender, base_url=base)


def stream_settings(env: Mapping[str, str]) -> StreamSettings:
    default = StreamSettings()
    return StreamSettings(
        bootstrap=env.get("DIVEX_KAFKA_BOOTSTRAP", default.bootstrap),
        topic=env.get("DIVEX_KAFKA_TOPIC", default.topic),
        partitions=number(env, "DIVEX_KAFKA_PARTITIONS", default.partitions),
        replication=number(env, "DIVEX_KAFKA_REPLICATION", default.replication),
        group=env.get("DIVEX_KAFKA_GROUP", default.group),
        idempotent=flag(env.get("DIVEX_KAFKA_IDEMPOTENT", "1"), "DIVEX_KAFKA_IDEMPOTENT"),
        session_timeout_ms=number(env, "DIVEX_KAFKA_SESSION_TIMEOUT_MS",
                                  default.session_timeout_ms),
        heartbeat_interval_ms=number(env, "DIVEX_KAFKA_HEARTBEAT_MS",
                                     default.heartbeat_interval_ms),
        poll_seconds=number(env, "DIVEX_RELAY_POLL_SECONDS", default.poll_seconds, float),
        resend_after_seconds=number(env, "DIVEX_RELAY_RESEND_AFTER",
                                    default.resend_after_seconds, float),
    )


def log_origin(value: str) -> str:
    """A checkpoint origin: one schema-less name without spaces or '+' (or empty)."""
    origin = value.strip()
    if (origin and not re.fullmatch(r"[^\s+]+", origin)) or "://" in origin:
        raise ValueError(f"DIVEX_LOG_ORIGIN must be a schema-less name without spaces or "
                         f"'+' (e.g. exchange.example.org/log), not {value!r}.")
    return origin


def witnesses(value: str) -> tuple[tuple[str, str], ...]:
    """``URL VKEY`` pairs, one a line or separated by commas; each vkey a cosignature/v1 key."""
    found = []
    for entry in re.split(r"[,\n]", value):
        if not entry.strip():
            continue
        parts = entry.split()
        if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
            raise ValueError("DIVEX_WITNESSES holds 'URL VKEY' pairs (the witness's "
                             f"add-checkpoint prefix and its verifier key), not {entry!r}.")
        try:
            verifier = parse_vkey(parts[1])
        except CryptoError as error:
            raise ValueError(f"DIVEX_WITNESSES: {parts[1]!r} is not a verifier key: "
                             f"{error}.") from None
        if not isinstance(verifier, CosignatureVerifier):
            raise ValueError(f"DIVEX_WITNESSES: {parts[1]!r} is not a cosignature/v1 key "
                             "(type 0x04).")
        found.append((parts[0].rstrip("/"), parts[1]))
    return tuple(found)


def number(env: Mapping[str, str], name: str, default: object,
           kind: type[int] | type[float] = int, minimum: float | None = None) -> Any:
    """A numeric setting; a value that is not a number is refused naming the variable."""
    value = env.get(name, str(default))
    try:
        found = kind(value)
    except ValueError:
        raise ValueError(f"{name} must be a {'whole ' if kind is int else ''}number, not "
                         f"{value!r}.") from None
    if minimum is not None and found < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value!r}.")
    return found


def flag(value: str, name: str) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off; anything else is refused."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0 (true/false), not {value!r}.")


def choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
    return value
