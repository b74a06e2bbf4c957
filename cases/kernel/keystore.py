"""The keystore: sealed key material kept beside the event log, never in it.

Users' sealed private keys and state keyrings change when passwords change or keys rotate; kept
in the append-only log, an old copy under an old (perhaps leaked) password would live forever.
Rows here are written in the same transaction as the events that mention them
(`Ledger.transaction`). Nothing in these tables is readable without a password, a recovery
secret or a state private key. A user's second factor (TOTP secret, recovery-code key) is
sealed to the user's own key, so only their password opens it; replacing or resetting it must
leave no old copy behind, hence here and not in the log, which records only the facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Session

metadata = MetaData()

credentials = Table(
    "divex_credentials",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("state", String(3), nullable=False, index=True),
    Column("user_public", LargeBinary, nullable=False),
    # The user's own X25519 private key, sealed under their password (crypto.passwords).
    Column("private_sealed", LargeBinary, nullable=False),
    # The state's keyring, sealed to the user's public key (crypto.boxes).
    Column("keyring_sealed", LargeBinary, nullable=False),
)

state_recovery = Table(
    "divex_state_recovery",
    metadata,
    Column("state", String(3), primary_key=True),
    # The state's keyring, sealed to the public key derived from its one-time recovery secret.
    Column("keyring_sealed", LargeBinary, nullable=False),
)

# Case keys wrapped for each state that may read them; deleting a case's rows crypto-shreds it.
case_keys = Table(
    "divex_case_keys",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("key_version", Integer, primary_key=True),
    Column("recipient", String(3), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
)

# The key of each proposal of a case's tier-1 facts (cases.policy.facts), sealed to the
# subgroup key. The facts themselves are in the log under this key; deleting a case's rows
# shreds them, so the subgroup key opens nothing of a shredded case.
policy_fact_keys = Table(
    "divex_policy_fact_keys",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
)

# The case each trace request is about (in clear, as in its Sent event), written with the
# request: shredding a case finds the keys of its trace requests here, without reading the log.
contribution_cases = Table(  # which case each contribution is about (its aggregate says too)
    "divex_contribution_cases",
    metadata,
    Column("contribution_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
)

blobs = Table(  # attachments, sealed in chunks under their case's key (`attachments`)
    "divex_blobs",
    metadata,
    Column("blob_id", String(36), primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("sealed", LargeBinary, nullable=False),
)

trace_request_cases = Table(
    "divex_trace_request_cases",
    metadata,
    Column("trace_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
)

# API tokens: the user's own key sealed under each token's secret (crypto.apitoken); deleting
# a row revokes the token for good.
api_tokens = Table(
    "divex_api_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("digest", String(64), nullable=False),
    Column("user_key_sealed", LargeBinary, nullable=False),
)


@dataclass(frozen=True)
class ApiTokenRow:
    token_id: str
    user_id: str
    digest: str
    user_key_sealed: bytes


second_factors = Table(
    "divex_second_factors",
    metadata,
    Column("user_id", String(36), primary_key=True),
    # The TOTP secret, sealed to the user's own public key (crypto.boxes).
    Column("secret_sealed", LargeBinary, nullable=False),
    # The key of the recovery codes' HMAC digests, sealed to the user's own public key too.
    Column("recovery_key_sealed", LargeBinary, nullable=False),
    # The time step of the last accepted code: a code is never accepted twice.
    Column("last_step", Integer, nullable=False),
)

# Keyed digests of the unused recovery codes (cases.identity.second_factor); a used one is deleted.
recovery_codes = Table(
    "divex_recovery_codes",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("digest", String(64), primary_key=True),
)


@dataclass(frozen=True)
class SecondFactor:
    user_id: str
    secret_sealed: bytes
    recovery_key_sealed: bytes
    last_step: int


@dataclass(frozen=True)
class Credential:
    user_id: str
    state: str
    user_public: bytes
    private_sealed: bytes
    keyring_sealed: bytes


class KeyStore:
    """Reads and writes sealed key material; writes take the caller's transaction session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> bool:
        """Creates the keystore's missing tables. True when the trace-request links table
        is new: a store made before it has trace requests to link (`link_trace_requests`)."""
        links_are_new = not inspect(self.engine).has_table(trace_request_cases.name)
        metadata.create_all(self.engine)
        return links_are_new

    def credential(self, session: Session, user_id: str) -> Credential | None:
        row = session.execute(
            select(credentials).where(credentials.c.user_id == user_id)
        ).first()
        return Credential(**row._mapping) if row else None

    def credentials_of_state(self, session: Session, state: str) -> list[Credential]:
        rows = session.execute(select(credentials).where(credentials.c.state == state))
        return [Credential(**row._mapping) for row in rows]

    def put_credential(self, session: Session, credential: Credential) -> None:
        session.execute(delete(credentials).where(credentials.c.user_id == credential.user_id))
        session.execute(credentials.insert().values(**credential.__dict__))

    def drop_credential(self, session: Session, user_id: str) -> None:
        session.execute(delete(credentials).where(credentials.c.user_id == user_id))

    def api_token(self, session: Session, token_id: str) -> ApiTokenRow | None:
        row = session.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).first()
        return ApiTokenRow(**row._mapping) if row else None

    def put_api_token(self, session: Session, row: ApiTokenRow) -> None:
        session.execute(api_tokens.insert().values(**row.__dict__))

    def drop_api_tokens(self, session: Session, user_id: str,
                        token_id: str | None = None) -> None:
        """Deletes one token of a user, or all of them (password changed, user deactivated)."""
        query = delete(api_tokens).where(api_tokens.c.user_id == user_id)
        if token_id is not None:
            query = query.where(api_tokens.c.token_id == token_id)
        session.execute(query)
    def second_factor(self, session: Session, user_id: str) -> SecondFactor | None:
        row = session.execute(
            select(second_factors).where(second_factors.c.user_id == user_id)).first()
        return SecondFactor(**row._mapping) if row else None

    def put_second_factor(self, session: Session, factor: SecondFactor,
                          digests: list[str] | None = None) -> None:
        """Stores (or re-seals) a second factor; with ``digests``, replaces the recovery
        codes too."""
        session.execute(delete(second_factors).where(
            second_factors.c.user_id == factor.user_id))
        session.execute(second_factors.insert().values(**factor.__dict__))
        if digests is not None:
            session.execute(delete(recovery_codes).where(
                recovery_codes.c.user_id == factor.user_id))
            for digest in digests:
                session.execute(recovery_codes.insert().values(user_id=factor.user_id,
                                                               digest=digest))

    def drop_second_factor(self, session: Session, user_id: str) -> None:
        session.execute(delete(second_factors).where(second_factors.c.user_id == user_id))
        session.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))

    def advance_step(self, session: Session, user_id: str, step: int) -> bool:
        """Records ``step`` as used; False if it, or a later one, already was (a replay).
        One conditional UPDATE, so two requests racing with one code cannot both win."""
        return session.execute(second_factors.update().where(
            second_factors.c.user_id == user_id, second_factors.c.last_step < step,
        ).values(last_step=step)).rowcount == 1

    def use_recovery_code(self, session: Session, user_id: str, digest: str) -> bool:
        """Spends a recovery code: True once for a stored code, False ever after."""
        return session.execute(delete(recovery_codes).where(
            recovery_codes.c.user_id == user_id, recovery_codes.c.digest == digest,
        )).rowcount == 1

    def recovery_codes_left(self, session: Session, user_id: str) -> int:
        return len(session.execute(select(recovery_codes.c.digest).where(
            recovery_codes.c.user_id == user_id)).all())

    def recovery_keyring(self, session: Session, state: str) -> bytes | None:
        return session.execute(
            select(state_recovery.c.keyring_sealed).where(state_recovery.c.state == state)
        ).scalar()

    def put_recovery_keyring(self, session: Session, state: str, sealed: bytes) -> None:
        session.execute(delete(state_recovery).where(state_recovery.c.state == state))
        session.execute(state_recovery.insert().values(state=state, keyring_sealed=sealed))

    def put_wrapped_keys(self, session: Session, case_id: str,
                         wrapped: dict[tuple[int, str], bytes]) -> None:
        """Stores wrapped case keys by (key version, recipient state), replacing an older
        wrapping of the same key (a state removed, then shared with again)."""
        for (version, recipient), blob in wrapped.items():
            session.execute(delete(case_keys).where(
                case_keys.c.case_id == case_id, case_keys.c.key_version == version,
                case_keys.c.recipient == recipient))
            session.execute(case_keys.insert().values(
                case_id=case_id, key_version=version, recipient=recipient, wrapped=blob))

    def put_new_cases_keys(self, session: Session,
                           wrapped: Iterable[tuple[str, dict[tuple[int, str], bytes]]]) -> None:
        """Stores the wrapped keys of new cases (an import), one statement for all."""
        rows = [{"case_id": case_id, "key_version": version, "recipient": recipient,
                 "wrapped": blob}
                for case_id, blobs in wrapped for (version, recipient), blob in blobs.items()]
        if rows:
            session.execute(case_keys.insert(), rows)

    def link_contribution(self, session: Session, contribution_id: str, case_id: str) -> None:
        session.execute(contribution_cases.insert().values(contribution_id=contribution_id,
                                                           case_id=case_id))

    def contributions_to(self, session: Session, case_id: str) -> list[str]:
        return list(session.execute(select(contribution_cases.c.contribution_id).where(
            contribution_cases.c.case_id == case_id)).scalars())

    def put_blob_chunk(self, session: Session, blob_id: str, chunk: int, case_id: str,
                       sealed: bytes) -> None:
        session.execute(blobs.insert().values(blob_id=blob_id, chunk=chunk, case_id=case_id,
                                              sealed=sealed))

    def blob_chunks(self, session: Session, blob_id: str) -> list[bytes]:
        return [bytes(b) for b in session.execute(select(blobs.c.sealed).where(
            blobs.c.blob_id == blob_id).order_by(blobs.c.chunk)).scalars()]

    def case_blob_bytes(self, session: Session, case_id: str) -> int:
        """What a case's attachments take, sealed."""
        return int(session.execute(select(func.coalesce(func.sum(func.length(blobs.c.sealed)),
                                                        0)).where(
            blobs.c.case_id == case_id)).scalar() or 0)

    def link_trace_request(self, session: Session, trace_id: str, case_id: str) -> None:
        session.execute(trace_request_cases.insert().values(trace_id=trace_id, case_id=case_id))

    def trace_requests_of(self, session: Session, case_id: str) -> list[str]:
        return list(session.execute(select(trace_request_cases.c.trace_id).where(
            trace_request_cases.c.case_id == case_id).order_by(
            trace_request_cases.c.trace_id)).scalars())

    def drop_keys(self, session: Session, aggregate_id: str) -> int:
        """Crypto-shreds a case (or trace request): deletes every wrapped key of it.

        On SQLite the deleted bytes are overwritten too (not every build does it by default).
        """
        if self.engine.dialect.name == "sqlite":
            session.execute(text("PRAGMA secure_delete = ON"))
        session.execute(delete(policy_fact_keys).where(
            policy_fact_keys.c.case_id == aggregate_id))
        session.execute(delete(blobs).where(blobs.c.case_id == aggregate_id))
        return session.execute(delete(case_keys).where(case_keys.c.case_id == aggregate_id)
                               ).rowcount

    def put_policy_fact_key(self, session: Session, case_id: str, version: int,
                            sealed: bytes) -> None:
        session.execute(policy_fact_keys.insert().values(case_id=case_id, version=version,
                                                         sealed=sealed))

    def policy_fact_keys(self, pairs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], bytes]:
        """The sealed facts keys of the given (case, version) proposals that still exist."""
        wanted, found = set(pairs), {}
        cases = sorted({case_id for case_id, _ in wanted})
        with self.engine.connect() as db:
            for start in range(0, len(cases), 500):
                rows = db.execute(select(policy_fact_keys).where(
                    policy_fact_keys.c.case_id.in_(cases[start:start + 500])))
                found.update({(r.case_id, r.version): r.sealed for r in rows
                              if (r.case_id, r.version) in wanted})
        return found

    def scrub(self) -> None:
        """After a shredding commits: on SQLite, empties the write-ahead log, whose older
        frames still hold the deleted keys. (PostgreSQL keeps dead rows in its data files
        until VACUUM reuses their space; a dump never shows them.)"""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    def wrapped_keys(self, session: Session, case_id: str, recipient: str) -> dict[int, bytes]:
        """The case keys, by version, that a state can unwrap."""
        return self.wrapped_keys_of(session, [case_id], recipient).get(case_id, {})

    def wrapped_keys_of(self, session: Session, case_ids: Iterable[str],
                        recipient: str) -> dict[str, dict[int, bytes]]:
        """`wrapped_keys` of several cases in one query (a page of a list): case id ->
        version -> wrapped key; a case the state holds no key of is absent."""
        found: dict[str, dict[int, bytes]] = {}
        for case_id, version, blob in session.execute(
                select(case_keys.c.case_id, case_keys.c.key_version, case_keys.c.wrapped).where(
                    case_keys.c.case_id.in_(list(case_ids)),
                    case_keys.c.recipient == recipient)):
            found.setdefault(case_id, {})[version] = blob
        return found
