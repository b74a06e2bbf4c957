"""API bulk import of cases (issue 23 item 10): the CSV checked whole, then stored as one batch.

The body carries the file as text, laid out as the web's template (`GET /cases/import/
template.csv`); with ``dry_run`` (the default) nothing is stored and every problem is listed.
"""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint
from pydantic import BaseModel, Field

from cases.casework.bulk_import import read_csv
from cases.kernel.errors import Forbidden, InvalidInput
from cases.kernel.viewer import ANALYST, Viewer

from ..extensions import get_exchange
from ..messages import refusal
from .schemas import Strict
from .spec import operation

bp = Blueprint("imports", __name__)


class ImportIn(Strict):
    csv: str = Field(description="The file's text: a header row naming the template's "
                                 "columns, then one row per item line")
    dry_run: bool = Field(True, description="Check only: store nothing, list every problem")


class ImportProblem(BaseModel):
    row: int = Field(description="As a spreadsheet numbers it (the header is row 1; 0: the "
                                 "whole file)")
    column: str
    message: str


class ImportOut(BaseModel):
    ok: bool
    cases: int
    items: int
    problems: list[ImportProblem]
    imported: list[UUID] = Field(description="The new cases' ids (none in a dry run)")


@operation(bp, "POST", "/cases/import", summary="Import cases and their item lines from a "
           "CSV table: checked whole, then stored as one batch (all or nothing)", tag="cases",
           body=ImportIn, response=ImportOut, errors=(403,))
def import_cases(viewer: Viewer, body: ImportIn) -> ImportOut:
    if not viewer.has(ANALYST):
        raise Forbidden("Only analysts log cases.")
    plan = read_csv(body.csv)
    problems = [ImportProblem(row=p.row, column=p.column, message=refusal(p.error))
                for p in plan.problems]
    if problems and not body.dry_run:
        first = problems[0]
        raise InvalidInput("Nothing was imported: the file has %(num)s problem(s), the first "
                           "in row %(row)s (%(column)s): %(problem)s Send it with dry_run to "
                           "see them all.", field="csv", num=len(problems), row=first.row,
                           column=first.column or "-", problem=first.message)
    imported = [] if body.dry_run else get_exchange().cases.import_cases(viewer, plan.cases)
    return ImportOut(ok=not problems, cases=len(plan.cases), items=plan.items,
                     problems=problems, imported=imported)
