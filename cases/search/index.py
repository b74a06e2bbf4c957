"""The blind index's tables: per-state tokens of the cases each state reads, and saved searches.

Written only in a request of a signed-in user of the state (who holds its keyring, hence its
search key), deleted without any key: a narrowing drops the removed states' rows, shredding
every row of the case, in the same transaction as the event. Nothing here is a word: a token is
128 bits of HMAC under the state's search key (`crypto.searchkey`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from crypto import UserKey, open_sealed, seal_to

metadata = MetaData()

search_tokens = Table(
    "divex_search_tokens",
    metadata,
    Column("state", String(3), primary_key=True),
    Column("key_version", Integer, primary_key=True),
    Column("token", LargeBinary(16), primary_key=True),
    Column("case_id", String(36), primary_key=True),
    Index("divex_search_tokens_by_case", "case_id", "state"),
)

# Which case each state has indexed, at which case version and search key version: a readable
# case without a row here, or with an older one, waits to be indexed (see `CaseIndexView`).
search_cases = Table(
    "divex_search_cases",
    metadata,
    Column("state", String(3), primary_key=True),
    Column("case_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("key_version", Integer, nullable=False),
)

# PostgreSQL only: each indexed case's tokens as one array, under a GIN index, so a search of
# several common words is answered by intersecting the index's posting lists (1.7-8 ms at
# 100,000 cases) rather than reading every token row of each word (30-90 ms). The same opaque
# tokens as `search_tokens`, written and dropped with them.
token_sets_metadata = MetaData()
search_token_sets = Table(
    "divex_search_token_sets",
    token_sets_metadata,
    Column("state", String(3), primary_key=True),
    Column("case_id", String(36), primary_key=True),
    Column("key_version", Integer, nullable=False),
    Column("tokens", ARRAY(BYTEA), nullable=False),
    # fastupdate off: each indexing writes into the index at once. With PostgreSQL's pending
    # list, every search read the list (129 pages after two load runs without vacuum), and
    # search p95 under load was 110-150 ms; without it, 94 ms.
    Index("divex_search_token_sets_tokens", "tokens", postgresql_using="gin",
          postgresql_with={"fastupdate": "off"}),
)

# Where in the log (a notification id) nothing of a state's waited to be indexed under a
# search key version: a process starting later compares only the cases touched since, not
# every case the state reads (~0.5 s a state at 100,000 cases, once per process before).
search_marks = Table(
    "divex_search_marks",
    metadata,
    Column("state", String(3), primary_key=True),
    Column("key_version", Integer, primary_key=True),
    Column("position", Integer, nullable=False),
)

# A user's saved searches, each sealed (HPKE) to the user's own key: a query is case text.
saved_searches = Table(
    "divex_saved_searches",
    metadata,
    Column("search_id", String(32), primary_key=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("saved_on", DateTime(timezone=True), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
)


IN_BATCH = 500  # ids in one IN (…) list: well under SQLite's limit on bound values


class SearchStore:
    """Reads and writes the index's rows inside the caller's transaction (a session)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> None:
        """Creates the tables; on PostgreSQL, fills the token sets of a store indexed before
        they existed from its token rows (once, one statement)."""
        metadata.create_all(self.engine)
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.begin() as connection:
            new = not self.engine.dialect.has_table(connection, search_token_sets.name)
            token_sets_metadata.create_all(connection)
            if new:
                connection.execute(text(
                    "INSERT INTO divex_search_token_sets (state, case_id, key_version, tokens) "
                    "SELECT state, case_id, key_version, array_agg(token) "
                    "FROM divex_search_tokens GROUP BY state, case_id, key_version"))

    @staticmethod
    def replace(session: Session, state: str, key_version: int,
                indexed: Sequence[tuple[str, int, Iterable[bytes]]]) -> None:
        """A state's tokens of each case (id, version, tokens), instead of those it had: a
        statement per table for the whole batch. Only the cases the state had indexed have
        rows to drop (tokens are written with their case's row): looked up by the key of
        `search_cases`, so a first indexing deletes nothing. Deleting tokens by case ids
        was planned, with statistics from before the state had any, as a walk over all
        the state's tokens: 10 s a batch, growing with the index (100,000-case bulk load)."""
        if not indexed:
            return
        indexed = [(case_id, version, set(found)) for case_id, version, found in indexed]
        ids = [case_id for case_id, _, _ in indexed]
        SearchStore.forget_all(session, state, [
            case_id for start in range(0, len(ids), IN_BATCH)
            for case_id in session.execute(select(search_cases.c.case_id).where(
                search_cases.c.state == state,
                search_cases.c.case_id.in_(ids[start:start + IN_BATCH]))).scalars()])
        tokens = [{"state": state, "key_version": key_version, "token": t, "case_id": case_id}
                  for case_id, _, found in indexed for t in found]
        if tokens:
            session.execute(insert(search_tokens), tokens)
            if _token_sets(session):
                session.execute(insert(search_token_sets), [
                    {"state": state, "case_id": case_id, "key_version": key_version,
                     "tokens": sorted(found)}
                    for case_id, _, found in indexed if found])
        session.execute(insert(search_cases), [
            {"state": state, "case_id": case_id, "version": version, "key_version": key_version}
            for case_id, version, _ in indexed])

    def indexed_to(self, state: str, key_version: int) -> int | None:
        """The stored position up to which the state had nothing left to index, if any."""
        m = search_marks.c
        with self.engine.connect() as connection:
            return connection.execute(select(m.position).where(
                m.state == state, m.key_version == key_version)).scalar()

    def note_indexed_to(self, state: str, key_version: int, position: int) -> None:
        """Stores ``position`` as the state's mark, unless a later one is stored. A side job
        of a request: a busy store (SQLite's one writer) or a racing process's first mark
        leaves the stored one as it is."""
        m = search_marks.c
        try:
            with self.engine.begin() as connection:
                moved = connection.execute(update(search_marks).where(
                    m.state == state, m.key_version == key_version, m.position < position
                ).values(position=position)).rowcount
                if not moved and connection.execute(select(m.position).where(
                        m.state == state, m.key_version == key_version)).scalar() is None:
                    connection.execute(insert(search_marks).values(
                        state=state, key_version=key_version, position=position))
        except (IntegrityError, OperationalError):
            return

    @staticmethod
    def forget(session: Session, case_id: str, states: Iterable[str] | None = None) -> None:
        """Drops the rows of a case for ``states`` (every state if None)."""
        for table in _tables(session):
            chosen = table.c.case_id == case_id
            if states is not None:
                chosen &= table.c.state.in_(list(states))
            session.execute(delete(table).where(chosen))

    @staticmethod
    def forget_all(session: Session, state: str, case_ids: Iterable[str]) -> None:
        """Drops a state's rows of the cases (found stale by a search, or indexed again)."""
        case_ids = list(case_ids)
        for start in range(0, len(case_ids), IN_BATCH):
            for table in _tables(session):
                session.execute(delete(table).where(
                    table.c.state == state,
                    table.c.case_id.in_(case_ids[start:start + IN_BATCH])))


def _token_sets(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _tables(session: Session) -> tuple[Table, ...]:
    """The tables holding a state's rows of a case."""
    return (search_tokens, search_cases, *((search_token_sets,) if _token_sets(session) else ()))


def saved_context(user_id: str, search_id: str) -> dict[str, str]:
    """The HPKE context a saved search is sealed under: its user and its id."""
    return {"purpose": "divex saved search", "user": user_id, "search": search_id}


def reseal_saved_searches(session: Session, user_id: str, old_key: UserKey | None,
                          new_public: bytes) -> None:
    """A user's saved searches sealed to their new key (a password change), or dropped when
    the old key is lost (a recovery): what no key opens is kept by no one."""
    s = saved_searches.c
    if old_key is None:
        session.execute(delete(saved_searches).where(s.user_id == user_id))
        return
    for search_id, sealed in session.execute(select(s.search_id, s.sealed).where(
            s.user_id == user_id)).all():
        context = saved_context(user_id, search_id)
        session.execute(update(saved_searches).where(s.search_id == search_id).values(
            sealed=seal_to(new_public, open_sealed(old_key.private, sealed, context),
                           context)))
