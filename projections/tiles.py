"""The log as static tiles (c2sp.org/tlog-tiles): the newest checkpoint note, the Merkle tree's
hash tiles and the entry bundles, up to that checkpoint's size.

An entry is what a leaf of the tree is the hash of: the event's hash (32 bytes), which
commits to the clear header, the sealed body's digest and the signature. No header and no
content is served: a mirror checks the tree and the checkpoints from the tiles alone, and an
auditor matches entries to events with the audit bundle. Tiles are computed from the audit
index; a full tile never changes, so computed ones are kept (a few hundred, 8 KiB each).
"""

from __future__ import annotations

from collections import OrderedDict

from cases.audit.checkpoint import Checkpoint
from cases.kernel.errors import NotFound
from crypto.merkle import HASH_SIZE, leaf_hash, tree_root
from crypto.tiles import TILE_WIDTH, entry_bundle, tile_count

from .audit_index import AuditIndexView
from .checkpoints import CheckpointStore

KEPT_TILES = 512


class Tiles:
    def __init__(self, store: CheckpointStore, index: AuditIndexView) -> None:
        self.store = store
        self.index = index
        self._full: OrderedDict[tuple[int, int], bytes] = OrderedDict()

    def checkpoint(self) -> Checkpoint:
        """The newest checkpoint note (of the C2SP format); `NotFound` before the first."""
        latest = self.store.latest()
        if latest is None or latest.origin is None:
            raise NotFound("The log has no checkpoint in the C2SP format yet.")
        return latest

    def tile(self, level: int, index: int, width: int) -> bytes:
        """The hashes of tile ``index`` at ``level`` (``width`` of them); `NotFound` unless
        the newest checkpoint covers them."""
        self._require(level, index, width)
        if width == TILE_WIDTH and (level, index) in self._full:
            self._full.move_to_end((level, index))
            return self._full[(level, index)]
        span = TILE_WIDTH ** level  # the leaves under each hash of the tile
        if level <= 1:  # at most 65,536 leaves: read in one query
            start = index * TILE_WIDTH * span
            leaves = [leaf_hash(h) for h in self.index.leaf_hashes(start + width * span, start)]
            data = b"".join(tree_root(leaves[i:i + span]) for i in range(0, len(leaves), span))
        else:  # each hash is the root of a full tile of the level below
            below = (self.tile(level - 1, index * TILE_WIDTH + i, TILE_WIDTH)
                     for i in range(width))
            data = b"".join(tree_root([t[i:i + HASH_SIZE] for i in range(0, len(t), HASH_SIZE)])
                            for t in below)
        if width == TILE_WIDTH:
            self._full[(level, index)] = data
            while len(self._full) > KEPT_TILES:
                self._full.popitem(last=False)
        return data

    def entries(self, index: int, width: int) -> bytes:
        """Entry bundle ``index``: the event hashes of its ``width`` leaves."""
        self._require(0, index, width)
        start = index * TILE_WIDTH
        return entry_bundle(self.index.leaf_hashes(start + width, start))

    def _require(self, level: int, index: int, width: int) -> None:
        size = self.checkpoint().size
        if index * TILE_WIDTH + width > tile_count(size, level):
            raise NotFound("The newest checkpoint (%(size)s entries) covers no such tile.",
                           size=size)
