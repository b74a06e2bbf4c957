"""Case views a state's keys opened, kept in process memory by (state, case, version).

A page of search results opens its twenty cases to show what matched: reading their events
and keys, and opening and folding every body, was as long as the search itself (~12 ms of a
~50 ms page at 100,000 cases), and the same latest cases come back page after page. A view
is handed out again only while the case's stored version, read at that moment, is the one
it was opened at: any change, narrowing or shredding is a new version, and is opened anew
(a state taken off the case opens nothing). Memory only, like the data keys `Sealing` keeps
unwrapped in the same process: a stolen database holds none of it. Shredding drops the
case's views in the process that shreds it.

Views are shared between requests: callers read them and never change them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from cases.casework.view import CaseView

VIEWS_KEPT = 2_000  # a few kilobytes each


class OpenedViews:
    """The least recently used views, at most ``kept`` of them."""

    def __init__(self, kept: int = VIEWS_KEPT) -> None:
        self.kept = kept
        self._views: OrderedDict[tuple[str, str, int], CaseView] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, state: str, versions: Mapping[str, int]) -> dict[str, CaseView]:
        """The state's views of the cases at the given (current) versions, of those kept."""
        found = {}
        with self._lock:
            for case_id, version in versions.items():
                view = self._views.get((state, case_id, version))
                if view is not None:
                    self._views.move_to_end((state, case_id, version))
                    found[case_id] = view
        return found

    def keep(self, state: str, views: Mapping[str, CaseView | None]) -> None:
        """Keeps the views that opened, each at its own version."""
        with self._lock:
            for case_id, view in views.items():
                if view is not None:
                    self._views[(state, case_id, view.version)] = view
            while len(self._views) > self.kept:
                self._views.popitem(last=False)

    def forget(self, case_id: str) -> None:
        """Drops every view of the case (it is shredded)."""
        with self._lock:
            for held in [h for h in self._views if h[1] == case_id]:
                del self._views[held]
