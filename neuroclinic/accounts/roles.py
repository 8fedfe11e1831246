"""Roles and what each may do: the one permission matrix.

A role is a Django Group (created by a data migration, so every environment has
the same ones). What a role may do is this table, in code, so that it is
reviewed like code and cannot drift in a database; docs/permissions.md is the
same table in prose, and a test keeps the two in step.

Minimum necessary (45 CFR 164.502(b), domain.md section 6.2): front desk sees
demographics and scheduling, nurses the infusion record, prescribers the whole
chart, billing codes and amounts, the custodian the ledger, auditors read
everything and change nothing.
"""

from enum import StrEnum


class Role(StrEnum):
    CLINIC_ADMIN = "clinic_admin"
    MEDICAL_DIRECTOR = "medical_director"
    PRESCRIBER = "prescriber"
    NURSE = "nurse"
    FRONT_DESK = "front_desk"
    TMS_TECHNICIAN = "tms_technician"
    CUSTODIAN = "cs_custodian"
    BILLING = "billing"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CLINIC_ADMIN: "Clinic admin",
    Role.MEDICAL_DIRECTOR: "Medical director",
    Role.PRESCRIBER: "Prescriber",
    Role.NURSE: "Nurse / CRNA",
    Role.FRONT_DESK: "Front desk",
    Role.TMS_TECHNICIAN: "TMS technician",
    Role.CUSTODIAN: "Controlled-substance custodian",
    Role.BILLING: "Billing",
    Role.AUDITOR: "Auditor",
}


class Capability(StrEnum):
    VIEW_PATIENT_LIST = (
        "view_patient_list"  # search and list patients (names, DOB, MRN)
    )
    VIEW_CHART = "view_chart"  # open a patient's chart (clinical data)
    REGISTER_PATIENT = "register_patient"
    EDIT_DEMOGRAPHICS = "edit_demographics"
    EDIT_CLINICAL_LISTS = "edit_clinical_lists"  # diagnoses, medications, allergies
    EXPORT_CHART = "export_chart"  # print and export a chart
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_USERS = "manage_users"
    MANAGE_CLINIC = "manage_clinic"  # organization, locations, rooms, devices


_C = Capability
ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.CLINIC_ADMIN: frozenset(
        {
            _C.VIEW_PATIENT_LIST,
            _C.REGISTER_PATIENT,
            _C.EDIT_DEMOGRAPHICS,
            _C.VIEW_AUDIT_LOG,
            _C.MANAGE_USERS,
            _C.MANAGE_CLINIC,
        }
    ),
    Role.MEDICAL_DIRECTOR: frozenset(
        {
            _C.VIEW_PATIENT_LIST,
            _C.VIEW_CHART,
            _C.REGISTER_PATIENT,
            _C.EDIT_DEMOGRAPHICS,
            _C.EDIT_CLINICAL_LISTS,
            _C.EXPORT_CHART,
            _C.VIEW_AUDIT_LOG,
        }
    ),
    Role.PRESCRIBER: frozenset(
        {
            _C.VIEW_PATIENT_LIST,
            _C.VIEW_CHART,
            _C.REGISTER_PATIENT,
            _C.EDIT_DEMOGRAPHICS,
            _C.EDIT_CLINICAL_LISTS,
            _C.EXPORT_CHART,
        }
    ),
    Role.NURSE: frozenset(
        {
            _C.VIEW_PATIENT_LIST,
            _C.VIEW_CHART,
            _C.REGISTER_PATIENT,
            _C.EDIT_DEMOGRAPHICS,
            _C.EDIT_CLINICAL_LISTS,
            _C.EXPORT_CHART,
        }
    ),
    Role.FRONT_DESK: frozenset(
        {_C.VIEW_PATIENT_LIST, _C.REGISTER_PATIENT, _C.EDIT_DEMOGRAPHICS}
    ),
    Role.TMS_TECHNICIAN: frozenset({_C.VIEW_PATIENT_LIST, _C.VIEW_CHART}),
    Role.CUSTODIAN: frozenset(),
    Role.BILLING: frozenset({_C.VIEW_PATIENT_LIST}),
    Role.AUDITOR: frozenset(
        {_C.VIEW_PATIENT_LIST, _C.VIEW_CHART, _C.VIEW_AUDIT_LOG, _C.EXPORT_CHART}
    ),
}


def capabilities_of(roles: set[Role] | frozenset[Role]) -> frozenset[Capability]:
    granted: set[Capability] = set()
    for role in roles:
        granted |= ROLE_CAPABILITIES[role]
    return frozenset(granted)
