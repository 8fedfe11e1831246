from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from neuroclinic.lib.bidi import NoBidiSchema

SexAtBirth = Literal["female", "male", "intersex", "unknown", "declined"]


class PatientIn(NoBidiSchema):
    family_name: str = Field(max_length=100, min_length=1)
    given_name: str = Field(max_length=100, min_length=1)
    middle_name: str = Field("", max_length=100)
    preferred_name: str = Field("", max_length=100)
    birth_date: date
    sex_at_birth: SexAtBirth
    gender_identity: str = Field("", max_length=60)
    pronouns: str = Field("", max_length=40)
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=200)
    address_line1: str = Field("", max_length=200)
    address_line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=50)
    postal_code: str = Field("", max_length=20)
    preferred_language: str = Field("English", max_length=40)


class PatientCreateIn(PatientIn):
    # A likely duplicate (same birth date, similar name) is refused with 409 unless
    # the caller has checked that this is a different person.
    allow_duplicate: bool = False


class PatientPatch(NoBidiSchema):
    family_name: str | None = Field(None, max_length=100, min_length=1)
    given_name: str | None = Field(None, max_length=100, min_length=1)
    middle_name: str | None = Field(None, max_length=100)
    preferred_name: str | None = Field(None, max_length=100)
    birth_date: date | None = None
    sex_at_birth: SexAtBirth | None = None
    gender_identity: str | None = Field(None, max_length=60)
    pronouns: str | None = Field(None, max_length=40)
    phone: str | None = Field(None, max_length=30)
    email: str | None = Field(None, max_length=200)
    address_line1: str | None = Field(None, max_length=200)
    address_line2: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=50)
    postal_code: str | None = Field(None, max_length=20)
    preferred_language: str | None = Field(None, max_length=40)


class PatientSummaryOut(Schema):
    id: UUID = Field(alias="uuid")
    mrn: str
    family_name: str
    given_name: str
    preferred_name: str
    birth_date: date


class PatientOut(PatientSummaryOut):
    middle_name: str
    sex_at_birth: str
    gender_identity: str
    pronouns: str
    phone: str
    email: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    preferred_language: str
    created_at: datetime
    updated_at: datetime


class ContactOut(Schema):
    kind: str
    name: str
    relationship: str
    phone: str
    email: str


class ProviderOut(Schema):
    role: str
    name: str
    npi: str
    practice: str
    phone: str
    fax: str
    email: str


class DiagnosisOut(Schema):
    icd10_code: str
    description: str
    recorded_at: datetime
    ended_at: datetime | None
    end_reason: str


class MedicationOut(Schema):
    name: str
    dose: str
    recorded_at: datetime
    ended_at: datetime | None
    end_reason: str


class AllergyOut(Schema):
    substance: str
    reaction: str
    severity: str
    recorded_at: datetime
    ended_at: datetime | None
    end_reason: str


class PatientChartOut(PatientOut):
    contacts: list[ContactOut]
    care_team: list[ProviderOut]
    diagnoses: list[DiagnosisOut]
    medications: list[MedicationOut]
    allergies: list[AllergyOut]
