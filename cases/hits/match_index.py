"""The match index's tables (issue 20): per state, the OPRF tokens of the items it chose to
check, with handles only that state can compute and a reference only it can open.

``token`` is the OPRF output (cut to 256 bits): equal across states for the same identifier,
which is the point. ``case_handle``, ``item_handle`` and ``source`` are keyed digests under
the state's search key (of ``key_version``): they let the state find and drop its own rows
and skip identifiers it entered already, and tell nobody else anything. ``ref`` seals the
case and item to the state's own encryption key. ``divex_hit_parties`` lists each hit's
states, to list a state's hits without reading the log; ``divex_match_waiting`` the cases
whose identifiers wait for the next day's checks.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, MetaData, String, Table

metadata = MetaData()

TOKEN_BYTES = 32

match_tokens = Table(
    "divex_match_tokens",
    metadata,
    Column("state", String(3), primary_key=True),
    Column("item_handle", LargeBinary(16), primary_key=True),
    Column("source", LargeBinary(16), primary_key=True),
    Column("case_handle", LargeBinary(16), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("oracle_key", String(16), nullable=False),  # the oracle key's id (`key_id_of`)
    Column("token", LargeBinary(TOKEN_BYTES), nullable=False),
    Column("ref", LargeBinary, nullable=False),
    Index("divex_match_tokens_by_token", "token"),
    Index("divex_match_tokens_by_case", "state", "case_handle"),
    Index("divex_match_tokens_by_oracle_key", "state", "oracle_key"),
)

hit_parties = Table(
    "divex_hit_parties",
    metadata,
    Column("hit_id", String(36), primary_key=True),
    Column("state", String(3), primary_key=True, index=True),
)

# Cases of a state with identifiers left waiting (the day's limit was reached): the reference
# (sealed to the state) says which case, for the state's next request after the limit resets.
match_waiting = Table(
    "divex_match_waiting",
    metadata,
    Column("state", String(3), primary_key=True),
    Column("case_handle", LargeBinary(16), primary_key=True),
    Column("ref", LargeBinary, nullable=False),
)
