"""Signed Merkle checkpoints over the log, the witness states' cosignatures, and the proofs.

The checkpoint process reads the event hashes from the audit index (the tree's leaves, in
notification order), signs the root every ``every`` events and on demand with the log key,
and serves inclusion and consistency proofs. A member state's client is a `Witness`: it
cosigns the newest checkpoint only when a consistency proof shows it extends the last one the
state cosigned, so an operator cannot show two states two different histories.
Checkpoints are signed records, not a read model: a rebuild never drops them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Text, select
from sqlalchemy.exc import IntegrityError

from cases.audit.log import Checkpoint, Cosignature, checkpoint_statement
from cases.identity.directory import SECRETARIAT_CODE
from cases.identity.directory_service import Directory
from cases.kernel.errors import Conflict, NotFound
from cases.kernel.viewer import Viewer
from crypto import CryptoError
from crypto.logkey import LogKey, key_fingerprint
from crypto.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
)
from crypto.signing import verify_signature

from .audit_index import AuditIndexView

metadata = MetaData()

checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", Integer, primary_key=True),
    Column("root", String(64), nullable=False),
    Column("time", String(40), nullable=False),
    Column("log_key", String(16), nullable=False),
    Column("signature", String(128), nullable=False),
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


def now_text() -> str:
    return datetime.now(UTC).isoformat()


class CheckpointStore:
    """The checkpoint and cosignature tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    def all(self) -> list[Checkpoint]:
        with self.engine.connect() as db:
            rows = db.execute(select(checkpoints).order_by(checkpoints.c.size)).all()
            signed = db.execute(select(cosignatures).order_by(cosignatures.c.state)).all()
        by_size: dict[int, list[Cosignature]] = {}
        for row in signed:
            by_size.setdefault(row.size, []).append(
                Cosignature(row.state, row.key_version, row.signature, row.time))
        return [_checkpoint(r, by_size.get(r.size, [])) for r in rows]

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint and its cosignatures, read alone: `Exchange.follow` asks on
        every case list page, and a long log holds thousands of checkpoints."""
        with self.engine.connect() as db:
            row = db.execute(select(checkpoints).order_by(checkpoints.c.size.desc())
                             .limit(1)).first()
            if row is None:
                return None
            signed = db.execute(select(cosignatures).where(cosignatures.c.size == row.size)
                                .order_by(cosignatures.c.state)).all()
        return _checkpoint(row, [Cosignature(s.state, s.key_version, s.signature, s.time)
                                 for s in signed])

    def get(self, size: int) -> Checkpoint | None:
        return next((c for c in self.all() if c.size == size), None)

    def last_cosigned_by(self, state: str) -> Checkpoint | None:
        mine = [c for c in self.all() if any(s.state == state for s in c.cosignatures)]
        return mine[-1] if mine else None

    def add(self, checkpoint: Checkpoint, tree: CompactRange | None = None) -> None:
        """Stores a checkpoint, with the compact range of its tree when given."""
        with self.engine.begin() as db:
            db.execute(checkpoints.insert().values(
                size=checkpoint.size, root=checkpoint.root, time=checkpoint.time,
                log_key=checkpoint.log_key, signature=checkpoint.signature))
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

    def add_cosignature(self, size: int, cosignature: Cosignature) -> None:
        with self.engine.begin() as db:
            db.execute(cosignatures.insert().values(size=size, **cosignature.__dict__))


def _checkpoint(row: Any, signed: list[Cosignature]) -> Checkpoint:
    return Checkpoint(row.size, row.root, row.time, row.log_key, row.signature, tuple(signed))


class Checkpointer:
    """The checkpoint process: the tree over the audit index's event hashes, and its proofs."""

    def __init__(self, store: CheckpointStore, index: AuditIndexView, log_key: LogKey,
                 every: int) -> None:
        self.store = store
        self.index = index
        self.log_key = log_key
        self.every = max(1, every)
        self._tree = CompactRange()  # the tree at the last size this process signed or read

    def leaves(self, size: int | None = None, start: int = 0) -> list[bytes]:
        return [leaf_hash(h) for h in self.index.leaf_hashes(size, start)]

    def catch_up(self) -> list[Checkpoint]:
        """Records the checkpoints due every ``every`` events that are still missing,
        hashing only the events since the last checkpoint."""
        latest = self.store.latest()
        done = latest.size if latest else 0
        count = self.index.count()
        if count - done < self.every:
            return []
        tree = self._tree_from(latest)
        due = range(done - done % self.every + self.every, count + 1, self.every)
        return [self._sign(self._grown(tree, size)) for size in due]

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
        return inclusion_proof(self.leaves(size), position)

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        if not 0 <= old_size <= new_size <= self.index.count():
            raise NotFound("No tree of %(new_size)s events to prove %(old_size)s against.",
                           new_size=new_size, old_size=old_size)
        return consistency_proof(self.leaves(new_size), old_size)

    def _sign(self, tree: CompactRange) -> Checkpoint:
        root, time = tree.root().hex(), now_text()
        statement = checkpoint_statement(tree.size, root, time)
        checkpoint = Checkpoint(tree.size, root, time, key_fingerprint(self.log_key.public_bytes),
                                self.log_key.sign(statement).hex())
        self._tree = CompactRange.resume(tree.size, tree.roots())
        try:
            self.store.add(checkpoint, tree)
        except IntegrityError:
            return self.store.get(tree.size) or checkpoint  # another process signed it first
        return checkpoint


class Witness:
    """A state's client, cosigning checkpoints it has seen extend the ones it cosigned."""

    def __init__(self, checkpointer: Checkpointer, directory: Directory) -> None:
        self.checkpointer = checkpointer
        self.store = checkpointer.store
        self.directory = directory

    def cosign(self, viewer: Viewer) -> Checkpoint | None:
        """Cosigns the newest checkpoint; `Conflict` (nothing signed) if it forks history.

        Returns None when there is no checkpoint or the state already cosigned the newest.
        """
        latest = self.store.latest()
        if latest is None or any(s.state == viewer.state for s in latest.cosignatures):
            return None
        self._check_log_signature(latest)
        previous = self.store.last_cosigned_by(viewer.state)
        if previous is not None:
            self._check_own_cosignature(viewer.state, previous)
            try:
                verify_consistency(previous.size, latest.size, bytes.fromhex(previous.root),
                                   bytes.fromhex(latest.root),
                                   self.checkpointer.consistency(previous.size, latest.size))
            except (CryptoError, NotFound):
                raise Conflict(
                    "The exchange presents a checkpoint of %(size)s events that does not "
                    "extend the one of %(cosigned)s events %(code)s cosigned: the history may "
                    "have been rewritten or split. Nothing was cosigned; alert your auditors "
                    "and the secretariat.", size=latest.size, cosigned=previous.size,
                    code=viewer.state) from None
        keys = viewer.keyring.current
        cosignature = Cosignature(viewer.state, keys.version,
                                  keys.sign(latest.statement()).hex(), now_text())
        try:
            self.store.add_cosignature(latest.size, cosignature)
        except IntegrityError:
            return None  # another session of the same state cosigned it a moment ago
        return latest

    def _check_log_signature(self, checkpoint: Checkpoint) -> None:
        published = {key_fingerprint(bytes.fromhex(k)): bytes.fromhex(k)
                     for k in self.directory.state(SECRETARIAT_CODE).log_keys}
        try:
            verify_signature(published[checkpoint.log_key], checkpoint.statement(),
                             bytes.fromhex(checkpoint.signature))
        except (KeyError, CryptoError, ValueError):
            raise Conflict("The newest checkpoint is not signed by the published log key; "
                           "nothing was cosigned.") from None

    def _check_own_cosignature(self, state: str, checkpoint: Checkpoint) -> None:
        """The stored root the state vouched for is the one it signed, not a swapped one."""
        own = next(s for s in checkpoint.cosignatures if s.state == state)
        try:
            public = self.directory.state(state).public_keys_at(own.key_version).signing
            verify_signature(public, checkpoint.statement(), bytes.fromhex(own.signature))
        except (CryptoError, NotFound, ValueError):
            raise Conflict("The checkpoint of %(size)s events that %(code)s cosigned was "
                           "altered since; nothing was cosigned.", size=checkpoint.size,
                           code=state) from None
