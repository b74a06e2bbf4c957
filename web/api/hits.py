"""API operations on private hits (issue 20): your state's hits and its answer to one. A hit names
the other state and nothing of its case; there is no call that lists tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from cases.hits.hit import ANSWERS
from cases.kernel.viewer import Viewer

from ..extensions import get_exchange
from .schemas import Strict
from .spec import operation

bp = Blueprint("hits", __name__)


class HitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    other: str = Field(description="The other state (ISO 3166-1 alpha-3)")
    found_on: datetime
    case_id: str = Field(description="Your state's case (empty if its reference no longer "
                         "opens)")
    item_id: str
    case_title: str | None = Field(description="None once the case or item is gone")
    item: dict[str, Any] | None
    marking: str = Field(description="Your state's serial number (ammunition: headstamp and "
                         "lot) that matched, as your state wrote it")
    mine: str = Field(description="Your state's answer, empty if none yet")
    theirs: str = Field(description="The other state's answer, empty if none yet")


class HitList(BaseModel):
    items: list[HitOut]


class HitAnswerIn(Strict):
    answer: str = Field(description="case_shared shares your case with the other state "
                        "(bilateral); trace_sent records that you sent a trace request; "
                        "dismissed closes it", json_schema_extra={"enum": list(ANSWERS)})


@operation(bp, "GET", "/hits", summary="Your state's private hits, newest first", tag="hits",
           response=HitList, errors=(403,))
def list_hits(viewer: Viewer) -> HitList:
    return HitList(items=[HitOut.model_validate(h)
                          for h in get_exchange().hits.for_state(viewer)])


@operation(bp, "GET", "/hits/<uuid:hit_id>", summary="One private hit of your state",
           tag="hits", response=HitOut, errors=(403, 404))
def get_hit(viewer: Viewer, hit_id: UUID) -> HitOut:
    return HitOut.model_validate(get_exchange().hits.view(viewer, hit_id))


@operation(bp, "POST", "/hits/<uuid:hit_id>/answer", summary="Answer a private hit (once)",
           tag="hits", body=HitAnswerIn, response=HitOut, errors=(403, 404, 409))
def answer_hit(viewer: Viewer, hit_id: UUID, body: HitAnswerIn) -> HitOut:
    return HitOut.model_validate(get_exchange().hits.answer(viewer, hit_id, body.answer))
