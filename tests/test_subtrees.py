"""Proofs made from the stored subtree roots are the proofs RFC 6962 makes from every leaf,
at sizes that cross the 256- and 65,536-leaf levels, and survive lost or missing roots."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert

from crypto.merkle import (
    consistency_path,
    consistency_proof,
    inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from infra.wiring import Exchange
from projections.audit_index import audit_log
from projections.subtrees import Subtrees, subtrees

SIZE = 65_536 + 3 * 256 + 17  # two full levels and a ragged edge


@pytest.fixture
def grown(exchange: Exchange) -> Exchange:
    """The log's index holding SIZE leaves (synthetic event hashes: the tree does not care
    what an event is, only its hash and position)."""
    index = exchange.checkpointer.index
    start = index.count()
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [{"notification_id": 10_000_000 + p, "position": p,
             "aggregate_id": "00000000-0000-0000-0000-000000000000",
             "aggregate_kind": "case", "version": p, "event_type": "Synthetic",
             "timestamp": moment, "actor_state": "FRA", "actor_user": "bench",
             "event_hash": hashlib.sha256(p.to_bytes(8, "big")).hexdigest()}
            for p in range(start, SIZE)]
    with index.datastore.engine.begin() as db:
        for first in range(0, len(rows), 10_000):
            db.execute(insert(audit_log), rows[first:first + 10_000])
    return exchange


def test_proofs_from_stored_subtrees_are_the_proofs_from_every_leaf(grown: Exchange) -> None:
    checkpointer = grown.checkpointer
    leaves = checkpointer.leaves(SIZE)
    root = tree_root(leaves)
    for old in (1, 255, 256, 257, 4096, 65_535, 65_536, 65_537, SIZE - 1):
        proof = checkpointer.consistency(old, SIZE)
        assert proof == consistency_proof(leaves, old), old
        verify_consistency(old, SIZE, tree_root(leaves[:old]), root, proof)
    for position in (0, 255, 256, 65_535, 65_536, SIZE - 1):
        proof = checkpointer.inclusion(position, SIZE)
        assert proof == inclusion_proof(leaves, position), position
        verify_inclusion(leaves[position], position, SIZE, proof, root)
    assert checkpointer.subtrees.hashes(2, 0, 2) == [tree_root(leaves[:65_536])]


def test_lost_roots_are_hashed_again_from_the_level_below(grown: Exchange) -> None:
    checkpointer = grown.checkpointer
    leaves = checkpointer.leaves(SIZE)
    expected = consistency_proof(leaves, 300)
    checkpointer.consistency(300, SIZE)  # stores the roots
    engine = checkpointer.store.engine
    with engine.begin() as db:
        db.execute(delete(subtrees).where(subtrees.c.level == 2))
        db.execute(delete(subtrees).where(subtrees.c.level == 1, subtrees.c.idx >= 100))
    other_process = Subtrees(engine, checkpointer.index)
    assert other_process.root(0, SIZE) == tree_root(leaves)
    other_process.extend(SIZE)  # stores them again
    assert consistency_path(SIZE, 300, other_process.root) == expected
    fresh = Subtrees(engine, checkpointer.index)
    assert len(fresh.hashes(1, 0, 1000)) == SIZE // 256
    assert fresh.hashes(2, 0, 1) == [tree_root(leaves[:65_536])]
