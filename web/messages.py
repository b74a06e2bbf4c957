"""Domain refusals in the user's language: the refusal's template translated, then filled.

`cases/` speaks English and knows nothing of Flask. Each refusal carries a literal template
with named holes and the values that fill it (`cases.errors.DivexError`); pybabel extracts the
templates by the error classes' names (see web/babel.cfg), so nothing is matched back here.
"""

from __future__ import annotations

from flask_babel import gettext

from cases.kernel.errors import DivexError

from .labels import label

# The one rule for translated values: a value whose name is in LABELLED is one code word of the
# domain (a status of a case, meeting or trace request as `old` and `new`, a part kind as
# `kind`, a trace answer's `outcome`) and is shown through `labels.label`. Every other value is
# shown as given: country codes (`code`), user names (`name`), numbers, dates, ids, what the
# user typed, and lists of the accepted codes (`choices`), which are what a client must send.
LABELLED = frozenset({"old", "new", "kind", "outcome"})


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def refusal(error: DivexError) -> str:
    """A domain refusal in the user's language: its template translated, then filled."""
    values = {k: label(v) if k in LABELLED else v for k, v in error.params.items()}
    return gettext(error.template, **values)
