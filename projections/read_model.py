"""What every read model shares: its tables beside its tracking table, dropped and dumped
together (for `divex projections rebuild` and the tests that compare a rebuild)."""

from __future__ import annotations

from typing import ClassVar

from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy import MetaData, inspect, select


class ReadModel(SQLAlchemyTrackingRecorder):
    """A projection's view: subclasses name their tables' ``metadata``; each write commits
    with its tracking record."""

    metadata: ClassVar[MetaData]

    def create_table(self) -> None:
        """Creates the tables; tables of an older shape are dropped first, with the tracking,
        so the read model is rebuilt from zero as it catches up."""
        if self._outdated():
            self.drop()
        super().create_table()
        self.metadata.create_all(self.datastore.engine)

    def _outdated(self) -> bool:
        found = inspect(self.datastore.engine)
        return any(found.has_table(t.name) and
                   {c["name"] for c in found.get_columns(t.name)} != set(t.columns.keys())
                   for t in self.metadata.sorted_tables)

    def drop(self) -> None:
        """Drops the tables and the tracking, for a rebuild from zero."""
        self.metadata.drop_all(self.datastore.engine)
        self.tracking_table.drop(self.datastore.engine, checkfirst=True)

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table, sorted: for comparing a rebuild with the live one."""
        with self.transaction(commit=False) as session:
            return {t.name: sorted(tuple(r) for r in session.execute(select(t)).all())
                    for t in self.metadata.sorted_tables}
