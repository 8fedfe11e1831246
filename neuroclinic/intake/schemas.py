from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from neuroclinic.lib.bidi import NoBidiSchema


class SelfCheckIn(Schema):
    instrument: str = Field(description="phq9 or gad7")
    answers: dict[str, Any]


class ConsultRequestIn(NoBidiSchema):
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=200)
    contact_method: str = "phone"
    contact_time: str = "any"
    interest: str = "unsure"
    seeking_help_for: str = Field(min_length=1, max_length=4000)
    referring_provider: str = Field("", max_length=200)
    heard_about: str = ""
    consent_to_contact: bool
    self_check: list[SelfCheckIn] = Field(
        default_factory=list, description="Attached only with the visitor's consent."
    )


class NoteOut(Schema):
    author: str
    text: str
    created_at: datetime


class ConsultRequestOut(Schema):
    uuid: UUID
    status: str
    given_name: str
    family_name: str
    phone: str
    email: str
    contact_method: str
    contact_time: str
    interest: str
    seeking_help_for: str
    referring_provider: str
    heard_about: str
    self_check: list[dict[str, Any]]
    assigned_to: str | None
    created_at: datetime
    waiting_seconds: int
    patient: UUID | None
    notes: list[NoteOut]


class ConsultCreatedOut(Schema):
    uuid: UUID
    status: str


class ConsultPatch(Schema):
    status: str | None = None
    assigned_to: str | None = Field(
        None, description="A colleague's username; empty string unassigns."
    )
    note: str | None = Field(None, max_length=4000)


class ConvertIn(NoBidiSchema):
    birth_date: date
    sex_at_birth: str
    given_name: str | None = None
    family_name: str | None = None
    existing_patient: UUID | None = None
    confirm_new: bool = False


class ConvertedOut(Schema):
    patient: UUID
    mrn: str


class SectionOut(Schema):
    key: str
    title: str
    complete: bool
    missing: list[str]
    saved_at: str


class PacketOut(Schema):
    patient: UUID
    started_at: datetime | None
    submitted_at: datetime | None
    reminder_count: int
    sections: list[SectionOut]


class FindingOut(Schema):
    rule_id: str
    title: str
    severity: str
    value: str
    source: str
    action: str
    treatments: list[str]


class DecisionOut(Schema):
    uuid: UUID
    outcome: str
    conditions: str
    reason: str
    rules_version: str
    decided_by: str
    signed_at: datetime
    patient_message: str
    clearance_letter: bool = Field(
        description="A clearance PDF made here before clearance requests were letters"
    )
    clearance_request: str | None = Field(
        None,
        description="Needs clearance: where the request is drafted as a letter "
        "(POST; the letters API)",
    )


class EligibilityOut(Schema):
    patient: UUID
    rules_version: str
    findings: list[FindingOut]
    # rule ids of the "missing" findings an exclusion rule needs: eligible over them
    # needs a reason, as over an exclusion (issue #14).
    required_missing: list[str]
    decisions: list[DecisionOut]
    blocks_treatment: str | None


class DecisionIn(Schema):
    outcome: str
    password: str
    conditions: str = ""
    reason: str = ""
    referral_resources: str = ""
    clearance_provider_name: str = ""
    clearance_provider_practice: str = ""
    clearance_provider_fax: str = ""
    clearance_provider_email: str = ""
    clearance_question: str = ""


class ConsentStateOut(Schema):
    kind: str
    label: str
    current_version: int | None
    signed_version: int | None
    signed_at: datetime | None
    is_current: bool
    status: str


class ConsentStatusOut(Schema):
    patient: UUID
    consents: list[ConsentStateOut]
    ketamine_blocked: str | None
    tms_blocked: str | None
