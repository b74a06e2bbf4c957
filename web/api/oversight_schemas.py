"""The JSON shapes of the API's oversight: the tier-1 summaries and their releases (counts
only, suppressed figures as null), and the auditors' log metadata, checkpoints and access
ledger (clear headers and digests, never content beyond what the auditor's state reads)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cases.audit.audit_service import AuditedEvent
from projections.audit_index import AuditRow
from projections.disclosure import Table
from projections.summaries import Summary

from .schemas import CaseOut, FromAttributes, HistoryEntryOut, PageQuery, Strict, Timestamp

# Summaries


class SummaryTableOut(BaseModel):
    rows: list[str]
    columns: list[str]
    cells: dict[str, dict[str, int | None]] = Field(
        description="row -> column -> cases; null marks a suppressed figure")
    row_totals: dict[str, int | None]
    column_totals: dict[str, int | None]
    total: int | None

    @classmethod
    def of(cls, table: Table) -> SummaryTableOut:
        cells: dict[str, dict[str, int | None]] = {row: {} for row in table.rows}
        for (row, column), value in table.cells.items():
            cells.setdefault(row, {})[column] = value
        return cls(rows=table.rows, columns=table.columns, cells=cells,
                   row_totals=table.row_totals, column_totals=table.column_totals,
                   total=table.total)


class SummaryOut(BaseModel):
    k: int = Field(description="A figure counts at least k cases ...")
    min_reporters: int = Field(description="... from at least this many reporting states")
    dominance: int = Field(description="... none of which holds more than this % of it")
    protection: int = Field(description="The audit keeps every suppressed count uncertain "
                                        "by at least this many cases")
    cases: int | None = Field(description="Consented cases behind the tables; null below k")
    tables: dict[str, SummaryTableOut] = Field(
        description="By year and point_of_diversion, category, region, status; traced, "
                    "traced_by_region and response count cases with a trace request")
    traced_share: dict[str, float | None] = Field(
        description="Year (or 'year region') -> share of traced cases; null when hidden")

    @classmethod
    def of(cls, summary: Summary) -> SummaryOut:
        return cls(k=summary.thresholds.k, min_reporters=summary.thresholds.min_reporters,
                   dominance=summary.thresholds.dominance,
                   protection=summary.thresholds.protection, cases=summary.cases,
                   tables={name: SummaryTableOut.of(t) for name, t in summary.tables.items()},
                   traced_share=summary.traced_share)


class AuditFindingOut(BaseModel):
    figure: str = Field(description='"table|row|column"')
    reason: str = Field(description="The rule that suppressed it, or the figure it protects")
    lower: str = Field(description="The least value anyone can derive from the release")
    upper: str | None = Field(description="The greatest; null when unbounded")
    protected: bool


class EditionOut(BaseModel):
    k: int
    min_reporters: int
    rules: dict[str, int] = Field(default_factory=dict,
                                  description="Every rule of the edition (k, min_reporters, "
                                              "dominance, protection)")
    on: datetime
    figures: dict[str, int | None] = Field(
        description='"table|row|column" -> cases; null marks a suppressed figure; the '
                    'headline is "cases|total|total"')
    audit: list[AuditFindingOut] | None = Field(
        default=None, description="The audit report (secretariat only; null for others)")


class ReleaseOut(FromAttributes):
    year: int
    editions: list[EditionOut] = Field(description="The first release, then its corrections")


class ReleasePage(BaseModel):
    items: list[ReleaseOut]
    page: int
    per_page: int
    total: int


class ReleaseIn(Strict):
    year: int = Field(description="A closed year; a second release of it is a correction")


# Audit


class AuditQuery(PageQuery):
    aggregate_id: str = ""
    aggregate_kind: str = Field("", description="Case, TraceRequest, Meeting, State, User…")
    actor_state: str = ""
    user: str = Field("", description="User name of the actor")
    event_type: str = Field("", description="e.g. Case.Shared")
    since: str = Field("", description="YYYY-MM-DD or an ISO 8601 moment (UTC by default)")
    until: str = Field("", description="YYYY-MM-DD (to the end of that day) or a moment")


class AuditRowOut(FromAttributes):
    notification_id: int
    position: int = Field(description="Leaf index in the checkpoints' Merkle tree")
    aggregate_id: str
    aggregate_kind: str
    version: int
    event_type: str
    # SQLite gives the stored UTC time back without its offset; RFC 3339 needs one.
    timestamp: Timestamp
    actor_state: str
    actor_user: str = Field(description="User id; empty for a case or trace request your "
                            "state does not read")
    event_hash: str

    @classmethod
    def of(cls, row: AuditRow, *, withheld: bool) -> AuditRowOut:
        out = cls.model_validate(row)
        return out.model_copy(update={"actor_user": ""}) if withheld else out


class AuditPage(BaseModel):
    items: list[AuditRowOut]
    page: int
    per_page: int
    total: int


class CosignatureOut(FromAttributes):
    state: str
    key_version: int
    signature: str
    time: str


class WitnessCosignatureOut(FromAttributes):
    witness: str = Field(description="The witness's key name")
    key_id: str = Field(description="Its note key ID, 8 hex")
    signature: str = Field(description="cosignature/v1: 8-byte POSIX time and Ed25519 "
                           "signature, hex")
    state: str | None = Field(description="The member state whose witness it is; null for "
                              "an external witness")
    key_version: int | None


class CheckpointOut(FromAttributes):
    size: int
    root: str
    time: str
    origin: str | None = Field(description="The log's origin (c2sp.org/tlog-checkpoint); "
                               "null for a checkpoint of divex's first format")
    log_key: str = Field(description="The log key that signed it: its note key ID (8 hex) "
                         "with an origin, else its fingerprint")
    signature: str
    cosignatures: list[CosignatureOut] = Field(description="The states' cosignatures of "
                                               "the first format")
    witnessed: list[WitnessCosignatureOut] = Field(description="cosignature/v1 lines")


class CheckpointPage(BaseModel):
    items: list[CheckpointOut] = Field(description="Newest first")
    page: int
    per_page: int
    total: int


class CosignOut(BaseModel):
    cosigned: bool = Field(description="false: no checkpoint yet, or your state already "
                           "cosigned the newest")
    checkpoint: CheckpointOut | None = Field(description="The newest checkpoint")


class InclusionOut(BaseModel):
    checkpoint: CheckpointOut = Field(description="The newest checkpoint covering the event")
    proof: list[str] = Field(description="RFC 6962 audit path, hex, leaf to root")
    holds: bool


class AuditEventOut(BaseModel):
    row: AuditRowOut
    header: dict[str, Any]
    body_sha256: str
    signature: str
    signature_ok: bool
    signature_problem: str
    chain_ok: bool
    previous: int | None = Field(description="Notification id of the record's previous event")
    next: int | None
    inclusion: InclusionOut | None = Field(description="null until a checkpoint covers it")

    @classmethod
    def of(cls, row: AuditRow, detail: AuditedEvent,
           included: dict[str, Any] | None) -> AuditEventOut:
        return cls(row=AuditRowOut.of(row, withheld=detail.withheld), header=detail.shown_header,
                   body_sha256=detail.record.body_sha256, signature=detail.record.signature,
                   signature_ok=detail.signature_ok, signature_problem=detail.signature_problem,
                   chain_ok=detail.chain_ok, previous=detail.previous, next=detail.next,
                   inclusion=None if included is None else InclusionOut(
                       checkpoint=CheckpointOut.model_validate(included["checkpoint"]),
                       proof=included["proof"], holds=included["holds"]))


class FindingOut(FromAttributes):
    notification_id: int
    aggregate: str
    version: int
    check: str
    detail: str


class VerificationOut(FromAttributes):
    ok: bool
    events_checked: int
    checkpoints_checked: int
    cosignatures_checked: int
    finding: FindingOut | None = Field(description="The first bad record, if any")
    trust: dict[str, str] = Field(description="Fingerprints of the keys the log trusts")


class MomentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: str = Field("", description="YYYY-MM-DD or an ISO 8601 moment; empty: now")


class CaseAtOut(BaseModel):
    case_id: str
    at: datetime
    version: int = Field(description="The case's version at that moment")
    readers: list[str] = Field(description="States that could read it then")
    case: CaseOut | None = Field(description="null if your state cannot read it")
    history: list[HistoryEntryOut]


class AccessQuery(PageQuery):
    state: str = Field(min_length=1, description="ISO 3166-1 alpha-3 code")
    at: str = Field("", description="YYYY-MM-DD or an ISO 8601 moment; empty: now")


class AccessRowOut(FromAttributes):
    aggregate_id: str
    kind: str = Field(description="case, trace_request or lesson")
    case_id: str
    since: datetime
    key_versions: list[int] = Field(description="Key versions handed to the state by then")


class AccessOut(BaseModel):
    state: str
    at: datetime
    items: list[AccessRowOut] = Field(description="Oldest access first")
    page: int
    per_page: int
    total: int
