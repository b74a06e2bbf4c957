"""What every list page reads from its query string: the column it sorts by, the direction,
the page size; and the links that change one of them while keeping the rest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from werkzeug.datastructures import MultiDict

PAGE_SIZES = (25, 50, 100)


@dataclass(frozen=True)
class Sorting:
    """The column a list sorts by and the direction; ``chosen`` if the query asked for it."""

    by: str
    descending: bool
    chosen: bool = False


def sorting(args: MultiDict[str, str], columns: Mapping[str, bool], default: str) -> Sorting:
    """``sort`` and ``dir`` of the query; ``columns`` maps each sort key to whether it runs
    descending when first chosen. An unknown key or direction falls back to the default
    silently on the pages (an old bookmark still opens the list); the API refuses it."""
    by = args.get("sort", "")
    if by not in columns:
        return Sorting(default, columns[default])
    direction = args.get("dir", "")
    return Sorting(by, direction == "desc" if direction in ("asc", "desc") else columns[by],
                   True)


def page_size(args: MultiDict[str, str]) -> int:
    """``size`` of the query if it is one of `PAGE_SIZES`, else the configured default."""
    size = args.get("size", type=int)
    return size if size in PAGE_SIZES else int(current_app.config["PAGE_SIZE"])


def url_with(**changes: Any) -> str:
    """This page's address with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    args.update(changes)
    return url_for(request.endpoint or "", **(request.view_args or {}),
                   **{k: v for k, v in args.items() if v is not None})
