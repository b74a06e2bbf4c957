"""The log as static tiles (c2sp.org/tlog-tiles): the newest checkpoint note, the Merkle tree's
hash tiles and the entry bundles, up to that checkpoint's size.

An entry is what a leaf of the tree is the hash of: the event's hash (32 bytes), which
commits to the clear header, the sealed body's digest and the signature. No header and no
content is served: a mirror checks the tree and the checkpoints from the tiles alone, and an
auditor matches entries to events with the audit bundle. Level-0 tiles are hashed from the
audit index (256 events at most); the levels above are the stored subtree roots
(`projections.subtrees`).
"""

from __future__ import annotations

from cases.audit.checkpoint import Checkpoint
from cases.kernel.errors import NotFound
from crypto.tiles import TILE_WIDTH, entry_bundle, tile_count

from .audit_index import AuditIndexView
from .checkpoints import CheckpointStore
from .subtrees import Subtrees


class Tiles:
    def __init__(self, store: CheckpointStore, index: AuditIndexView,
                 subtrees: Subtrees) -> None:
        self.store = store
        self.index = index
        self.subtrees = subtrees

    def checkpoint(self) -> Checkpoint:
        """The newest checkpoint note (of the C2SP format); `NotFound` before the first."""
        latest = self.store.latest()
        if latest is None or latest.origin is None:
            raise NotFound("The log has no checkpoint in the C2SP format yet.")
        return latest

    def tile(self, level: int, index: int, width: int) -> bytes:
        """The hashes of tile ``index`` at ``level`` (``width`` of them); `NotFound` unless
        the newest checkpoint covers them. Above level 0 they are the stored subtree roots."""
        size = self._require(level, index, width)
        if level > 0:
            self.subtrees.extend(size)
        return b"".join(self.subtrees.hashes(level, index * TILE_WIDTH, width))

    def entries(self, index: int, width: int) -> bytes:
        """Entry bundle ``index``: the event hashes of its ``width`` leaves."""
        self._require(0, index, width)
        start = index * TILE_WIDTH
        return entry_bundle(self.index.leaf_hashes(start + width, start))

    def _require(self, level: int, index: int, width: int) -> int:
        """The newest checkpoint's size, which must cover the tile."""
        size = self.checkpoint().size
        if index * TILE_WIDTH + width > tile_count(size, level):
            raise NotFound("The newest checkpoint (%(size)s entries) covers no such tile.",
                           size=size)
        return size
