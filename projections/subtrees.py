"""The roots of the log tree's aligned subtrees of 256, 65,536, … leaves, kept as the log
grows, so a proof reads O(log n) stored hashes instead of hashing every leaf of the log.

Level L holds, at index i, the root of leaves ``i·256**L`` to ``(i+1)·256**L``: exactly the
hashes of the tlog-tiles hash tiles at level L (c2sp.org/tlog-tiles). A perfect subtree of
2**h leaves is then the root of at most 128 hashes of level ``h // 8``, and any range a proof
names splits into at most one perfect subtree per height. Derived data, recomputed from the
audit index's event hashes if lost; whoever receives a proof checks it against a signed root.
"""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import Column, Engine, Integer, LargeBinary, MetaData, Table, select
from sqlalchemy.exc import IntegrityError

from crypto.merkle import leaf_hash, range_root, tree_root
from crypto.tiles import TILE_WIDTH

from .audit_index import AuditIndexView

metadata = MetaData()

subtrees = Table(
    "audit_subtrees",
    metadata,
    Column("level", Integer, primary_key=True),  # 1: 256 leaves, 2: 65,536 leaves, …
    Column("idx", Integer, primary_key=True),
    Column("root", LargeBinary(32), nullable=False),
)

LEVEL_BITS = 8  # log2(TILE_WIDTH)
BATCH = 256  # roots hashed and written per statement
KEPT_CHUNKS = 64  # full 256-leaf chunks kept in memory (8 KiB each)


class Subtrees:
    def __init__(self, engine: Engine, index: AuditIndexView) -> None:
        self.engine = engine
        self.index = index
        # The stored roots this process read, per level from index 0: a stored root never
        # changes (the log only grows), so it is read once (32 bytes per 256 events).
        self._read: dict[int, list[bytes]] = {}
        self._chunks: OrderedDict[int, list[bytes]] = OrderedDict()

    def extend(self, size: int) -> None:
        """Stores the root of every full subtree of each level below ``size`` leaves."""
        level = 1
        while TILE_WIDTH ** level <= size:
            due = size // TILE_WIDTH ** level
            if len(self._read.get(level, ())) >= due:
                level += 1
                continue  # read from the store already: nothing to add
            stored = self._stored(level)
            for first in range(stored, due, BATCH):
                last = min(first + BATCH, due)
                below = self.hashes(level - 1, first * TILE_WIDTH, (last - first) * TILE_WIDTH)
                if len(below) < (last - first) * TILE_WIDTH:
                    return  # the level below is still being stored by another process
                rows = [{"level": level, "idx": first + i,
                         "root": tree_root(below[i * TILE_WIDTH:(i + 1) * TILE_WIDTH])}
                        for i in range(last - first)]
                try:
                    with self.engine.begin() as db:
                        db.execute(subtrees.insert(), rows)
                except IntegrityError:
                    break  # another process stores the same roots: take its rows
            level += 1

    def hashes(self, level: int, first: int, count: int) -> list[bytes]:
        """``count`` hashes of ``level`` from index ``first``: leaf hashes at level 0,
        stored roots above (fewer if they are not stored yet)."""
        if level == 0:
            return [leaf_hash(h) for h in self.index.leaf_hashes(first + count, first)]
        known = self._read.setdefault(level, [])
        if len(known) < first + count:
            with self.engine.connect() as db:
                for idx, root in db.execute(
                        select(subtrees.c.idx, subtrees.c.root)
                        .where(subtrees.c.level == level, subtrees.c.idx >= len(known))
                        .order_by(subtrees.c.idx)):
                    if idx != len(known):
                        break  # a gap: the roots after it are read once it is filled
                    known.append(root)
        return known[first:first + count]

    def leaves(self, start: int, count: int) -> list[bytes]:
        """Leaf hashes of a range; the 256-leaf chunk a short range lies in is kept (the few
        a proof's ragged edges need are read once; a leaf never changes, so a chunk read
        while partial serves every range it holds)."""
        chunk, offset = divmod(start, TILE_WIDTH)
        if offset + count > TILE_WIDTH:
            return self.hashes(0, start, count)  # over several chunks: no stored root
        kept = self._chunks.get(chunk)
        if kept is None or len(kept) < offset + count:
            kept = self._chunks[chunk] = self.hashes(0, chunk * TILE_WIDTH, TILE_WIDTH)
            while len(self._chunks) > KEPT_CHUNKS:
                self._chunks.popitem(last=False)
        self._chunks.move_to_end(chunk)
        return kept[offset:offset + count]

    def root(self, start: int, end: int) -> bytes:
        """The Merkle Tree Hash of leaves ``start`` to ``end`` (a range a proof names)."""
        return range_root(start, end, self.perfect)

    def perfect(self, start: int, height: int) -> bytes:
        """The root of the 2**height leaves from ``start`` (a multiple of 2**height), from
        the highest level that holds it."""
        level = height // LEVEL_BITS
        while level > 0:
            span = LEVEL_BITS * level
            count = 1 << (height - span)
            found = self.hashes(level, start >> span, count)
            if len(found) == count:
                return tree_root(found)
            level -= 1  # not stored (yet): from the level below
        return tree_root(self.leaves(start, 1 << height))

    def _stored(self, level: int) -> int:
        """How many roots of ``level`` are stored (they are stored from index 0 on)."""
        with self.engine.connect() as db:
            last = db.execute(select(subtrees.c.idx).where(subtrees.c.level == level)
                              .order_by(subtrees.c.idx.desc()).limit(1)).scalar()
        return 0 if last is None else last + 1
