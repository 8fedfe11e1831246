from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema


class OptionOut(Schema):
    value: int
    label: str


class ItemOut(Schema):
    linkId: str
    text: str
    required: bool
    loinc: str | None
    options: list[OptionOut]
    enableWhen: dict[str, Any] | None = None


class InstrumentSummaryOut(Schema):
    code: str
    name: str
    version: str
    rater: str
    recall_period: str
    loinc_panel: str | None
    loinc_total: str | None


class InstrumentOut(InstrumentSummaryOut):
    source: str
    licence: str
    wording_redistributable: bool
    preamble: str
    total_range: list[int] | None
    items: list[ItemOut]


class FhirResponseFields(Schema):
    """A FHIR QuestionnaireResponse sent as the body instead of `answers` (docs/fhir.md)."""

    resourceType: str | None = None
    questionnaire: str | None = None
    status: str | None = None
    authored: datetime | None = None
    item: list[dict[str, Any]] | None = None


class ScoreIn(FhirResponseFields):
    answers: dict[str, Any] | None = None
    sex: str | None = None


class ScoreOut(Schema):
    instrument: str
    version: str
    total: int | None
    severity: str | None
    flags: list[str]
    subscales: dict[str, int]
    triage: str | None
    safety_alert: bool
    crisis_resources: list[str] | None = None


class ResponseIn(FhirResponseFields):
    instrument: str | None = Field(None, max_length=32)
    answers: dict[str, Any] | None = None
    sex: str | None = None
    completed_at: datetime | None = None
    submission_key: UUID | None = None


class AlertOut(Schema):
    id: UUID = Field(alias="uuid")
    reason: str
    status: str
    raised_at: datetime
    assigned_to: str | None
    acknowledged_at: datetime | None
    risk_level: str
    disposition: str
    response_id: UUID | None


class ResponseOut(Schema):
    id: UUID = Field(alias="uuid")
    instrument: str
    instrument_version: str
    answers: dict[str, Any]
    total: int | None
    severity: str | None
    flags: list[str]
    subscales: dict[str, int]
    triage: str | None
    safety_alert: bool
    source: str
    entered_by: str | None
    completed_at: datetime
    version: int
    amends: UUID | None
    alerts: list[AlertOut] = []
