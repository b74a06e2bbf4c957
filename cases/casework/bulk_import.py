"""Bulk import of existing records: a table of cases and their items, checked whole first.

One row per item line. Rows that share a ``case`` reference are one case, whose text is taken
from its first row; a row without a reference is a case of its own. A row whose item columns
are all empty logs a case without items. Every problem is reported with its row (as a
spreadsheet numbers it, the header being row 1) and its column, so the whole file can be fixed
at once; nothing is stored unless every row is right.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cases.casework.content import (
    CHOICES,
    CONCERNED_ROLES,
    ITEM,
    SERIALS,
    SUMMARY,
    Spec,
    lines_of,
    validate,
    validate_concerned,
    validate_item,
)
from cases.kernel.errors import DivexError, InvalidInput

REFERENCE = "case"
CASE_COLUMNS = (REFERENCE, *(s.name for s in SUMMARY),
                *(f"concerned_{role}" for role in CONCERNED_ROLES))
ITEM_COLUMNS = tuple(s.name for s in ITEM)
COLUMNS = (*CASE_COLUMNS, *ITEM_COLUMNS)
MAX_ROWS = 20_000
LIST_SEPARATORS = (";", ",")  # in a flags cell; serials are one per line or split by ";"


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: ``row`` as a spreadsheet numbers it (0: the file as a whole)."""

    row: int
    column: str
    error: DivexError


@dataclass
class PlannedCase:
    """A case the import would log: its text, its item lines and the rows they came from."""

    reference: str
    rows: list[int]
    summary: dict[str, Any]
    first_row: dict[str, str]  # as typed: a later row of the case may repeat it
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Plan:
    cases: list[PlannedCase]
    problems: list[Problem]

    @property
    def items(self) -> int:
        return sum(len(case.items) for case in self.cases)


def template() -> str:
    """The CSV an analyst fills in: the header and two example rows of one case."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    example = {REFERENCE: "FR-2026-001", "title": "Rifles found in a truck at Kidira",
               "point_of_diversion": "in_transit", "found_on": "2026-03-14",
               "found_at": "Kidira", "concerned_exporter": "DEU", "concerned_discovery": "SEN",
               "category": "small_arms", "quantity": "3", "make": "Norvik", "model": "NA-47",
               "serial": "KR-2291-7734;KR-2291-7735;KR-2291-7736", "calibre": "7.62x39mm",
               "marking_condition": "intact"}
    writer.writerow([example.get(c, "") for c in COLUMNS])
    writer.writerow([{REFERENCE: "FR-2026-001", "category": "ammunition", "quantity": "1200",
                      "lot": "LOT-88-2", "headstamp": "NV 88"}.get(c, "") for c in COLUMNS])
    return out.getvalue()


def read_csv(text: str) -> Plan:
    """Checks a CSV file's text (its header names the columns, in any order)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)  # BOM: Excel
    try:
        table = list(reader)
    except csv.Error as error:
        return _refused(InvalidInput("The file is not a readable CSV table (%(reason)s).",
                                     reason=str(error)), reader.line_num)
    return read_table(table)


def xlsx_table(data: bytes) -> list[list[str]]:
    """The cells of an Excel workbook's first sheet, as text (laid out as the template)."""
    from openpyxl import load_workbook  # only for an Excel file

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        return [["" if v is None else _cell_text(v) for v in row]
                for row in sheet.iter_rows(values_only=True)]
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise InvalidInput("The file is not a readable Excel workbook (%(reason)s).",
                           field="file", reason=type(error).__name__) from None


def csv_text(table: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue()


def _cell_text(value: Any) -> str:
    if hasattr(value, "date") and callable(value.date):  # a date cell: the day it shows
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(table: list[list[str]]) -> Plan:
    """Checks rows under a header row; every problem is reported, with its row and column."""
    if not table or not any(cell.strip() for cell in table[0]):
        return _refused(InvalidInput("The file has no header row: download the template."), 1)
    header = [cell.strip().lower() for cell in table[0]]
    unknown = [c for c in header if c and c not in COLUMNS]
    if unknown or "title" not in header:
        return _refused(InvalidInput(
            "Unknown or missing columns (%(columns)s): the header must use the template's "
            "column names, and name 'title'.", columns=", ".join(unknown) or "title"), 1)
    rows = [(n, dict(zip(header, (c.strip() for c in cells), strict=False)))
            for n, cells in enumerate(table[1:], start=2) if any(c.strip() for c in cells)]
    if len(rows) > MAX_ROWS:
        return _refused(InvalidInput("At most %(limit)s rows in one import.", limit=MAX_ROWS), 0)
    if not rows:
        return _refused(InvalidInput("The file has no rows under its header."), 2)
    plan = Plan([], [])
    by_reference: dict[str, PlannedCase] = {}
    for n, row in rows:
        reference = row.get(REFERENCE, "")
        case = by_reference.get(reference) if reference else None
        if case is None:
            case = PlannedCase(reference, [], _summary(n, row, plan.problems), row)
            plan.cases.append(case)
            if reference:
                by_reference[reference] = case
        else:
            _same_case(n, row, case, plan.problems)
        case.rows.append(n)
        if any(row.get(c) for c in ITEM_COLUMNS):
            item = _item(n, row, plan.problems)
            if item is not None:
                case.items.append(item)
    return plan


def _refused(error: DivexError, row: int) -> Plan:
    return Plan([], [Problem(row, "", error)])


def _checked(specs: Iterable[Spec], data: dict[str, Any], n: int,
             problems: list[Problem]) -> dict[str, Any] | None:
    """Every field checked on its own, so a row reports all its problems at once."""
    content, fine = {}, True
    for spec in specs:
        try:
            content |= validate((spec,), data)
        except DivexError as error:
            problems.append(Problem(n, spec.name, error))
            fine = False
    return content if fine else None


def _summary(n: int, row: dict[str, str], problems: list[Problem]) -> dict[str, Any]:
    summary = _checked(SUMMARY, row, n, problems) or {}
    concerned = {role: row.get(f"concerned_{role}", "") for role in CONCERNED_ROLES}
    for role, code in concerned.items():
        try:
            summary.setdefault("concerned", {}).update(validate_concerned({role: code}))
        except DivexError as error:
            problems.append(Problem(n, f"concerned_{role}", error))
    return summary


def _same_case(n: int, row: dict[str, str], case: PlannedCase,
               problems: list[Problem]) -> None:
    """A later row of a case may repeat its text, not change it."""
    for column in CASE_COLUMNS[1:]:
        if row.get(column) and row[column] != case.first_row.get(column, ""):
            problems.append(Problem(n, column, InvalidInput(
                "This row belongs to case %(reference)s, whose text is taken from its first "
                "row (%(row)s): leave the cell empty or repeat that row's value.",
                reference=case.reference, row=case.rows[0])))


def _item(n: int, row: dict[str, str], problems: list[Problem]) -> dict[str, Any] | None:
    data: dict[str, Any] = dict(row)
    for spec in ITEM:
        raw = str(row.get(spec.name, ""))
        if spec.type == CHOICES:
            data[spec.name] = [v.strip() for v in _split(raw) if v.strip()]
        elif spec.type == SERIALS:
            data[spec.name] = "\n".join(lines_of(raw.replace(";", "\n")))
    if _checked(ITEM, data, n, problems) is None:
        return None
    try:
        return validate_item(data)
    except DivexError as error:  # across fields: more serial numbers than items
        problems.append(Problem(n, error.field or "", error))
        return None


def _split(raw: str) -> list[str]:
    for separator in LIST_SEPARATORS:
        raw = raw.replace(separator, "\n")
    return lines_of(raw)
