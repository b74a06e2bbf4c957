"""Signed Merkle checkpoints over the log, the witnesses' cosignatures, and the proofs.

The checkpoint process reads the event hashes from the audit index (the tree's leaves, in
notification order), signs the root every ``every`` events and on demand with the log key as
a c2sp.org/tlog-checkpoint note, and serves inclusion and consistency proofs. Witnesses
(`projections.witness`) cosign them. Checkpoints are signed records, not a read model: a
rebuild never drops them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from cases.audit.checkpoint import Checkpoint, Cosignature, WitnessCosignature
from cases.audit.log import LogRecord
from cases.audit.receipt import make_receipt
from cases.kernel.errors import Conflict, NotFound
from crypto import CryptoError
from crypto.logkey import LogKey
from crypto.merkle import CompactRange, consistency_path, inclusion_path, leaf_hash
from crypto.note import NoteSigner, parse_note
from crypto.tlog import CheckpointBody

from .audit_index import AuditIndexView
from .subtrees import Subtrees
from .subtrees import metadata as subtree_tables

metadata = MetaData()

checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", Integer, primary_key=True),
    Column("root", String(64), nullable=False),
    Column("time", String(40), nullable=False),
    Column("log_key", String(16), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("origin", String(255)),  # NULL: divex's first format (see `Checkpoint`)
)

# The compact range (subtree roots) of each checkpoint's tree, so the next checkpoint hashes
# only the events since, not the whole log again. Derived data, checked against the signed
# root before use.
frontiers = Table(
    "audit_frontiers",
    metadata,
    Column("size", Integer, primary_key=True),
    Column("roots", Text, nullable=False),  # hex subtree roots, left to right, space-separated
)

cosignatures = Table(
    "audit_cosignatures",
    metadata,
    Column("size", Integer, primary_key=True),
    Column("state", String(3), primary_key=True),
    Column("key_version", Integer, nullable=False),
    Column("signature", String(128), nullable=False),
    Column("time", String(40), nullable=False),
)


# cosignature/v1 lines on the checkpoint notes, from member states' witnesses and external ones.
# The root is kept so a cosignature attaches only to the checkpoint it signed.
witness_cosignatures = Table(
    "audit_witness_cosignatures",
    metadata,
    Column("size", Integer, primary_key=True),
    Column("witness", String(255), primary_key=True),
    Column("key_id", String(8), primary_key=True),
    Column("root", String(64), nullable=False),
    Column("signature", String(144), nullable=False),
    Column("state", String(3)),
    Column("key_version", Integer),
)

# Each member state's witness: the latest checkpoint it cosigned (tlog-witness asks a witness
# to keep it, and to move it atomically), with its own cosignature so a changed row is seen.
witness_heads = Table(
    "audit_witness_heads",
    metadata,
    Column("witness", String(255), primary_key=True),
    Column("origin", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("root", String(64), nullable=False),
    Column("signature", String(144), nullable=False),
)

# Checkpoint notes signed by the log key that a witness refused as inconsistent with what it
# had cosigned: the proof of a split view, which `divex audit verify` reports.
witness_evidence = Table(
    "audit_witness_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("witness", String(255), nullable=False),
    Column("received", String(40), nullable=False),
    Column("note", Text, nullable=False),
)


def now_text() -> str:
    return datetime.now(UTC).isoformat()


class CheckpointStore:
    """The checkpoint and cosignature tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> None:
        metadata.create_all(self.engine)
        subtree_tables.create_all(self.engine)
        if "origin" not in {c["name"] for c in inspect(self.engine).get_columns(
                "audit_checkpoints")}:
            try:  # a store of divex's first checkpoint format
                with self.engine.begin() as db:
                    db.execute(text("ALTER TABLE audit_checkpoints ADD COLUMN origin "
                                    "VARCHAR(255)"))
            except (OperationalError, ProgrammingError):
                pass  # another process added it a moment ago

    def all(self) -> list[Checkpoint]:
        with self.engine.connect() as db:
            rows = db.execute(select(checkpoints).order_by(checkpoints.c.size)).all()
            signed = db.execute(select(cosignatures).order_by(cosignatures.c.state)).all()
            witnessed = db.execute(select(witness_cosignatures).order_by(
                witness_cosignatures.c.witness)).all()
        by_size: dict[int, list[Cosignature]] = {}
        for row in signed:
            by_size.setdefault(row.size, []).append(
                Cosignature(row.state, row.key_version, row.signature, row.time))
        return [_checkpoint(r, by_size.get(r.size, []), witnessed) for r in rows]

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint and its cosignatures, read alone: `Exchange.follow` asks on
        every case list page, and a long log holds thousands of checkpoints."""
        return self._one(select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1))

    def get(self, size: int) -> Checkpoint | None:
        return self._one(select(checkpoints).where(checkpoints.c.size == size))

    def _one(self, query: Any) -> Checkpoint | None:
        with self.engine.connect() as db:
            row = db.execute(query).first()
            if row is None:
                return None
            signed = db.execute(select(cosignatures).where(cosignatures.c.size == row.size)
                                .order_by(cosignatures.c.state)).all()
            witnessed = db.execute(select(witness_cosignatures).where(
                witness_cosignatures.c.size == row.size).order_by(
                witness_cosignatures.c.witness)).all()
        return _checkpoint(row, [Cosignature(s.state, s.key_version, s.signature, s.time)
                                 for s in signed], witnessed)

    def last_cosigned_by(self, state: str) -> Checkpoint | None:
        """The newest checkpoint of the first format the state cosigned."""
        mine = [c for c in self.all() if any(s.state == state for s in c.cosignatures)]
        return mine[-1] if mine else None

    def for_audit(self) -> list[Checkpoint]:
        """Every checkpoint, then the log-signed notes witnesses refused (split views)."""
        with self.engine.connect() as db:
            refused = db.execute(select(witness_evidence).order_by(witness_evidence.c.id)).all()
        found = []
        for row in refused:
            try:
                found.append(Checkpoint.from_note(parse_note(row.note), row.received))
            except CryptoError:
                continue  # only well-formed notes are stored; nothing else to report
        return self.all() + found

    def add(self, checkpoint: Checkpoint, tree: CompactRange | None = None) -> None:
        """Stores a checkpoint, with the compact range of its tree when given."""
        with self.engine.begin() as db:
            db.execute(checkpoints.insert().values(
                size=checkpoint.size, root=checkpoint.root, time=checkpoint.time,
                log_key=checkpoint.log_key, signature=checkpoint.signature,
                origin=checkpoint.origin))
            if tree is not None:
                db.execute(frontiers.insert().values(
                    size=tree.size, roots=" ".join(r.hex() for r in tree.roots())))

    def tree_at(self, checkpoint: Checkpoint) -> CompactRange | None:
        """The stored compact range of the checkpoint's tree, if there is one and its root is
        the signed one."""
        with self.engine.connect() as db:
            roots = db.execute(select(frontiers.c.roots).where(
                frontiers.c.size == checkpoint.size)).scalar()
        if roots is None:
            return None
        try:
            tree = CompactRange.resume(checkpoint.size,
                                       [bytes.fromhex(r) for r in roots.split()])
        except (CryptoError, ValueError):
            return None
        return tree if tree.root().hex() == checkpoint.root else None

    def add_witness_cosignature(self, size: int, root: str,
                                cosignature: WitnessCosignature) -> None:
        """Keeps a cosignature/v1 (a witness that signs the same checkpoint again replaces
        its line: the latest time counts)."""
        key = {"size": size, "witness": cosignature.witness, "key_id": cosignature.key_id}
        with self.engine.begin() as db:
            db.execute(witness_cosignatures.delete().where(
                *(witness_cosignatures.c[k] == v for k, v in key.items())))
            db.execute(witness_cosignatures.insert().values(
                **key, root=root, signature=cosignature.signature, state=cosignature.state,
                key_version=cosignature.key_version))

    def cosigned_sizes(self, witness: str) -> list[int]:
        with self.engine.connect() as db:
            return list(db.execute(select(witness_cosignatures.c.size).where(
                witness_cosignatures.c.witness == witness)).scalars())

    def witness_head(self, witness: str) -> Any:
        """The witness's latest cosigned checkpoint: origin, size, root, signature."""
        with self.engine.connect() as db:
            return db.execute(select(witness_heads).where(
                witness_heads.c.witness == witness)).first()

    def move_witness_head(self, witness: str, old_size: int | None, origin: str, size: int,
                          root: str, signature: str) -> bool:
        """Moves the head from ``old_size`` (None: it has none) to the new checkpoint, in
        one statement; False if another request moved it first."""
        values = {"origin": origin, "size": size, "root": root, "signature": signature}
        try:
            with self.engine.begin() as db:
                if old_size is None:
                    db.execute(witness_heads.insert().values(witness=witness, **values))
                    return True
                moved = db.execute(update(witness_heads).where(
                    witness_heads.c.witness == witness,
                    witness_heads.c.size == old_size).values(**values))
                return bool(moved.rowcount)
        except IntegrityError:
            return False

    def add_evidence(self, witness: str, note: str) -> None:
        with self.engine.begin() as db:
            db.execute(witness_evidence.insert().values(witness=witness, received=now_text(),
                                                        note=note))


def _checkpoint(row: Any, signed: list[Cosignature], witnessed: list[Any]) -> Checkpoint:
    lines = tuple(WitnessCosignature(w.witness, w.key_id, w.signature, w.state, w.key_version)
                  for w in witnessed if w.size == row.size and w.root == row.root)
    return Checkpoint(row.size, row.root, row.time, row.log_key, row.signature, tuple(signed),
                      row.origin, lines)


class Checkpointer:
    """The checkpoint process: the tree over the audit index's event hashes, and its proofs."""

    def __init__(self, store: CheckpointStore, index: AuditIndexView, log_key: LogKey,
                 every: int, origin: str) -> None:
        self.store = store
        self.index = index
        self.log_key = log_key
        self.signer = NoteSigner(origin, log_key.private)  # the key name is the origin
        self.every = max(1, every)
        self._tree = CompactRange()  # the tree at the last size this process signed or read
        self._seen = 0  # the size of the latest checkpoint this process saw stored or signed
        self.subtrees = Subtrees(store.engine, index)

    def leaves(self, size: int | None = None, start: int = 0) -> list[bytes]:
        return [leaf_hash(h) for h in self.index.leaf_hashes(size, start)]

    def catch_up(self) -> list[Checkpoint]:
        """Records the checkpoints due every ``every`` events that are still missing,
        hashing only the events since the last checkpoint. The store is asked for the latest
        only when one may be due since the latest this process saw (another process may
        have signed later ones, never fewer): one query less on every follow that applies
        events."""
        count = self.index.count()
        if count - self._seen < self.every:
            return []
        latest = self.store.latest()
        done = latest.size if latest else 0
        self._seen = max(self._seen, done)
        if count - done < self.every:
            return []
        tree = self._tree_from(latest)
        due = range(done - done % self.every + self.every, count + 1, self.every)
        signed = [self._sign(self._grown(tree, size)) for size in due]
        self._seen = max(self._seen, signed[-1].size)
        self.subtrees.extend(signed[-1].size)  # so proofs to it read no leaf beyond 255
        return signed

    def record(self) -> Checkpoint:
        """A checkpoint of the whole log as the audit index holds it now (on demand)."""
        count = self.index.count()
        if count == 0:
            raise Conflict("The log is empty: there is nothing to checkpoint yet.")
        latest = self.store.latest()
        if latest is not None and latest.size >= count:
            return self.store.get(count) or self._sign(self._grown(CompactRange(), count))
        return self._sign(self._grown(self._tree_from(latest), count))

    def _tree_from(self, checkpoint: Checkpoint | None) -> CompactRange:
        """The tree of the checkpoint's size, for the caller to grow: a copy of the one in
        memory (request threads sign at once), the stored range, or, when neither matches,
        hashed again from the leaves."""
        if checkpoint is None:
            return CompactRange()
        known = self._tree
        if known.size == checkpoint.size and known.root().hex() == checkpoint.root:
            return CompactRange.resume(known.size, known.roots())
        stored = self.store.tree_at(checkpoint)
        return stored if stored is not None else self._grown(CompactRange(), checkpoint.size)

    def _grown(self, tree: CompactRange, size: int) -> CompactRange:
        """The tree extended with the leaves up to ``size`` (in place)."""
        for leaf in self.leaves(size, tree.size):
            tree.append(leaf)
        return tree

    def inclusion(self, position: int, size: int) -> list[bytes]:
        """The audit path of the event at ``position`` in the tree of ``size`` events."""
        if not 0 <= position < size <= self.index.count():
            raise NotFound("No event at position %(position)s in a tree of %(size)s events.",
                           position=position, size=size)
        self.subtrees.extend(size)
        return inclusion_path(size, position, self.subtrees.root)

    def receipt(self, record: LogRecord, position: int) -> str:
        """The tlog-proof of the event at leaf ``position`` under the newest checkpoint."""
        latest = self.store.latest()
        if latest is None or latest.origin is None or latest.size <= position:
            raise Conflict("No checkpoint covers this event yet; its receipt can be made once "
                           "the next one is signed.")
        return make_receipt(record, position, self.inclusion(position, latest.size), latest)

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        if not 0 <= old_size <= new_size <= self.index.count():
            raise NotFound("No tree of %(new_size)s events to prove %(old_size)s against.",
                           new_size=new_size, old_size=old_size)
        self.subtrees.extend(new_size)
        return consistency_path(new_size, old_size, self.subtrees.root)

    @property
    def origin(self) -> str:
        return self.signer.name

    def _sign(self, tree: CompactRange) -> Checkpoint:
        body = CheckpointBody(self.origin, tree.size, tree.root())
        signed = self.signer.sign(body.text())
        checkpoint = Checkpoint(tree.size, body.root.hex(), now_text(), signed.key_id.hex(),
                                signed.signature.hex(), origin=self.origin)
        self._tree = CompactRange.resume(tree.size, tree.roots())
        try:
            self.store.add(checkpoint, tree)
        except IntegrityError:
            return self.store.get(tree.size) or checkpoint  # another process signed it first
        return checkpoint
