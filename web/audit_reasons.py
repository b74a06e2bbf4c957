"""The tier-1 audit's reasons in the reader's language.

A release freezes its audit report in English, inside a signed event, so the record stays
one text; the page translates each reason when it shows it, and writes each figure with the
names of its table, row and column.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .labels import label

# The tables as a figure's first part names them (projections.summaries).
TABLES = {"cases": _l("Cases"), "point_of_diversion": _l("Point of diversion"),
          "category": _l("Category"), "region": _l("Region"), "status": _l("Status"),
          "items": _l("Items"), "traced": _l("Origin traced"),
          "traced_by_region": _l("Origin traced, by region"),
          "response": _l("Answered within the deadline"), "total": _l("Total")}

_REASONS = (
    (re.compile(r"fewer than (\d+) cases"), lambda n: _("fewer than %(n)s cases", n=n)),
    (re.compile(r"fewer than (\d+) reporting states"),
     lambda n: _("fewer than %(n)s reporting states", n=n)),
    (re.compile(r"one state holds more than (\d+)%"),
     lambda n: _("one state holds more than %(n)s%%", n=n)),
    (re.compile(r"one case holds more than (\d+)%"),
     lambda n: _("one case holds more than %(n)s%%", n=n)),
    (re.compile(r"moved by fewer than (\d+) since the last edition"),
     lambda n: _("moved by fewer than %(n)s since the last edition", n=n)),
    (re.compile(r"protects (.+)"), lambda f: _("protects %(figure)s", figure=figure_name(f))),
    (re.compile(r"a zero beside a suppressed figure"),
     lambda: _("a zero beside a suppressed figure")),
    (re.compile(r"suppressed in an earlier edition"),
     lambda: _("suppressed in an earlier edition")),
)


def audit_reason(reason: str) -> str:
    """A reason of the audit report in the user's language (as recorded, if unknown)."""
    for pattern, say in _REASONS:
        if found := pattern.fullmatch(reason):
            return say(*found.groups())
    return reason


def figure_name(figure: str) -> str:
    """``region|2026|Europe`` as "region / 2026 / Europe", each part named where divex has a
    name for it."""
    return " / ".join(str(TABLES.get(part) or label(part)) for part in figure.split("|"))
