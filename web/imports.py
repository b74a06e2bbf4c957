"""Bulk import of a state's existing records (issue 23 item 10): a template to download, a
check of the whole file that stores nothing, then the import as one batch with its progress.

The checked file travels back with the confirmation as CSV text in the form: nothing of it is
kept on the server between the two steps, and it is checked again before anything is stored.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

from flask import (
    Blueprint,
    Request,
    Response,
    current_app,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup, escape

from cases.casework.bulk_import import (
    COLUMNS,
    REFERENCE,
    Plan,
    csv_text,
    read_csv,
    read_table,
    template,
    xlsx_table,
)
from cases.kernel.errors import DivexError, Forbidden, InvalidInput
from cases.kernel.viewer import ANALYST

from .exports import download
from .extensions import current_viewer, get_exchange
from .fields import ITEM as ITEM_FIELDS
from .fields import SUMMARY as SUMMARY_FIELDS
from .labels import label
from .messages import refusal

bp = Blueprint("imports", __name__, url_prefix="/cases/import")

MAX_IMPORT_BYTES = 16 * 1024 * 1024  # a file of 10,000 rows is ~2 MB of CSV
SHOWN = 200  # cases and problems listed on the check page; the rest are counted
PROGRESS_STEPS = 50  # progress lines written while sealing, at most
VALUES = {"country": _l("ISO 3166-1 code (FRA, DEU…)"), "date": _l("YYYY-MM-DD"),
          "number": _l("a whole number"),
          "serials": _l("one per line in the cell, or separated by “;”")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadRequest(Request):
    """A request whose body may be a file: the import routes take up to `MAX_IMPORT_BYTES`,
    a contribution its attachment, every other route the app's limit."""

    @property  # type: ignore[override]
    def max_content_length(self) -> int | None:
        if self.endpoint in ("imports.check", "imports.confirm", "api.imports.import_cases"):
            return MAX_IMPORT_BYTES
        if self.endpoint in ("contributions.add", "api.contributions.contribute",
                             "traces.answer", "api.traces.answer_trace",
                             "meetings.act", "api.meetings.record_outcome"):
            # room to say a file is too big, next to its field
            return (current_app.config["ATTACHMENT_MAX_MIB"] + 8) << 20
        return super().max_content_length

    @property  # type: ignore[override]
    def max_form_memory_size(self) -> int | None:
        if self.endpoint == "imports.confirm":
            return MAX_IMPORT_BYTES
        return super().max_form_memory_size


def _analyst() -> Any:
    viewer = current_viewer()
    if not viewer.has(ANALYST):
        raise Forbidden("Only analysts log cases.")
    return viewer


@bp.get("")
@login_required
def start() -> str:
    _analyst()
    return start_page({})


def start_page(errors: dict[str, str]) -> str:
    return render_template("imports/start.html", errors=errors, guide=column_guide())


def column_guide() -> list[tuple[str, Any, str]]:
    """Each column of the template: its name, what it holds, the values it takes."""
    fields = {f.name: f for f in (*SUMMARY_FIELDS, *ITEM_FIELDS)}
    guide: list[tuple[str, Any, str]] = [
        (REFERENCE, _l("Your reference for the case: rows with the same one are one case"),
         "")]
    for name in COLUMNS[1:]:
        f = fields[name]
        if f.kind in ("select", "checkboxes"):
            values = ", ".join(f"{c} ({label(c)})" for c in f.choices)
            if f.kind == "checkboxes":
                values = gettext("several, separated by “;”: %(values)s", values=values)
        else:
            values = str(VALUES.get(f.kind) or f.hint or "")
        guide.append((name, f.label, values))
    return guide


@bp.get("/template.csv")
@login_required
def template_csv() -> Response:
    return download(template(), "text/csv", "divex-import-template.csv")


def read_upload(data: bytes, name: str, mimetype: str) -> tuple[Plan, str]:
    """The plan of an uploaded CSV or Excel file, and its rows as CSV text."""
    if name.lower().endswith(".xlsx") or mimetype == XLSX:
        table = xlsx_table(data)
        return read_table(table), csv_text(table)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text: save it from your spreadsheet as "
                           "'CSV UTF-8', or as an Excel workbook (.xlsx).",
                           field="file") from None
    return read_csv(text), text


@bp.post("")
@login_required
def check() -> tuple[str, int]:
    _analyst()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return start_page({"file": gettext("Choose the file to import.")}), 422
    try:
        plan, text = read_upload(upload.read(), upload.filename, upload.mimetype)
    except InvalidInput as error:
        return start_page({"file": refusal(error)}), 422
    return checked_page(plan, text, upload.filename)


def checked_page(plan: Plan, text: str, name: str) -> tuple[str, int]:
    return render_template("imports/checked.html", plan=plan, text=text, name=name,
                           shown=SHOWN, refusal=refusal), 422 if plan.problems else 200


@bp.post("/confirm")
@login_required
def confirm() -> Any:
    viewer = _analyst()
    text, name = request.form.get("content", ""), request.form.get("name", "")
    plan = read_csv(text)
    if plan.problems or not plan.cases:
        return checked_page(plan, text, name)
    page = render_template("imports/progress.html", plan=plan, name=name)
    head, tail = page.split("<!-- progress -->", 1)
    response = Response(stream_with_context(_run(viewer, plan, head, tail)),
                        mimetype="text/html")
    response.headers["X-Accel-Buffering"] = "no"  # a proxy passes each line on at once
    return response


def _run(viewer: Any, plan: Plan, head: str, tail: str) -> Iterator[str]:
    """The page, written as the import goes: sealing and signing, storing, then the lists
    catching up. Each progress line replaces the one before it on screen (the stylesheet
    shows the last one)."""
    yield head
    exchange, cases, events = get_exchange(), len(plan.cases), len(plan.cases) + plan.items
    every = max(1, cases // PROGRESS_STEPS)
    try:
        imported = yield from _while(
            lambda progress: exchange.cases.import_cases(viewer, plan.cases, progress),
            lambda done: _line(done, cases, ngettext(
                "Sealed and signed %(num)s of %(total)s case",
                "Sealed and signed %(num)s of %(total)s cases", done,
                total=format_decimal(cases))) if done % every == 0 or done == cases else "")
    except DivexError as error:
        yield Markup('</div><p class="error" role="alert">{}</p>').format(gettext(
            "Nothing was imported: %(reason)s", reason=refusal(error)))
        yield tail
        return
    applied = 0

    def caught_up(batch: int) -> str:
        nonlocal applied
        applied += batch
        return _line(min(applied, events), events, gettext(
            "Stored in one batch. Bringing the case list up to date: %(num)s of %(total)s "
            "events", num=format_decimal(min(applied, events)), total=format_decimal(events)))

    yield from _while(exchange.follow, caught_up)
    yield Markup('</div><p class="done" role="status">{}</p><p><a href="{}">{}</a></p>').format(
        ngettext("Imported %(num)s case with %(items)s item lines.",
                 "Imported %(num)s cases with %(items)s item lines.", len(imported),
                 items=format_decimal(plan.items)),
        url_for("cases.index"), gettext("Go to the case list"))
    yield tail


def _while(task: Callable[[Callable[[int], None]], Any],
           line_of: Callable[[int], str]) -> Generator[str, None, Any]:
    """Runs ``task(progress)`` in a thread, yielding a line for each progress it reports
    (the page goes out while the work goes on); returns its result or raises its error."""
    updates: queue.Queue[tuple[bool, Any]] = queue.Queue()

    def work() -> None:
        try:
            updates.put((True, task(lambda done: updates.put((False, done)))))
        except BaseException as error:  # handed to the request's thread, raised there
            updates.put((True, error))

    threading.Thread(target=work, daemon=True).start()
    while True:
        finished, value = updates.get()
        if finished:
            if isinstance(value, BaseException):
                raise value
            return value
        if line := line_of(value):
            yield line


def _line(done: int, total: int, text: str) -> str:
    return str(Markup('<p class="step"><progress value="{}" max="{}"></progress> {}</p>\n')
               .format(done, total, escape(text)))
