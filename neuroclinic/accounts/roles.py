"""Roles and what each may do: the one permission matrix.

A role is a Django Group (created by a data migration, so every environment has
the same ones). What a role may do is this table, in code, so that it is
reviewed like code and cannot drift in a database; docs/permissions.md is the
same table in prose, and a test keeps the two in step.

Minimum necessary (45 CFR 164.502(b); Source: P2 (docs/sources.md)): front desk sees
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
    # patients
    VIEW_PATIENT_LIST = (
        "view_patient_list"  # search and list patients, demographic chart
    )
    VIEW_CHART = (
        "view_chart"  # the clinical chart: allergies, diagnoses, medications, measures
    )
    REGISTER_PATIENT = "register_patient"
    EDIT_DEMOGRAPHICS = "edit_demographics"
    EDIT_CLINICAL_LISTS = "edit_clinical_lists"  # diagnoses, medications, allergies
    EXPORT_CHART = "export_chart"  # print and export a chart
    # measures
    RECORD_MEASURES = "record_measures"  # enter questionnaires for a patient
    SEND_QUESTIONNAIRES = "send_questionnaires"  # portal links, clinic tablet, worklist
    FLAG_SAFETY_CONCERN = "flag_safety_concern"
    ACKNOWLEDGE_SAFETY_ALERTS = "acknowledge_safety_alerts"
    CONFIGURE_MEASURES = "configure_measures"  # schedules and licensed item wording
    # ledger (controlled substances)
    LEDGER_VIEW = "ledger_view"  # stock, entries, sessions, counts, check status
    LEDGER_RECEIVE = "ledger_receive"  # receive invoices; move vials between safes
    LEDGER_DRAW = "ledger_draw"  # draw, administer, waste for a session
    LEDGER_WITNESS = "ledger_witness"  # confirm another's waste, count or destruction
    LEDGER_COUNT = "ledger_count"  # counts and inventories
    LEDGER_ADJUST = "ledger_adjust"  # discrepancies, adjustments, reversals
    LEDGER_DESTROY = "ledger_destroy"  # destruction, reverse distributor, theft/loss
    LEDGER_REPORT = "ledger_report"  # inspection reports (patient name and address)
    LEDGER_SETUP = "ledger_setup"  # registrants, safes, products, suppliers
    # intake (docs/intake.md)
    WORK_CONSULT_QUEUE = "work_consult_queue"  # consult queue: status, notes, convert
    MANAGE_INTAKE = "manage_intake"  # portal sign-in links, packet status, reminders
    VIEW_INTAKE = "view_intake"  # intake answers, documents, eligibility findings
    DECIDE_ELIGIBILITY = "decide_eligibility"  # sign an eligibility decision
    CONFIGURE_ELIGIBILITY = "configure_eligibility"  # rules and patient wording
    VIEW_CONSENTS = "view_consents"  # consent status and signed PDFs
    COLLECT_CONSENT = "collect_consent"  # hand the clinic tablet to a patient to sign
    MANAGE_CONSENT_FORMS = "manage_consent_forms"  # publish consent form versions
    EDIT_PUBLIC_SITE = "edit_public_site"  # the clinic's public pages, FAQ, branding
    # treatment and infusions (docs/infusions.md)
    MANAGE_PROTOCOLS = (
        "manage_protocols"  # draft and sign the clinic's ketamine protocols
    )
    WRITE_ORDERS = (
        "write_orders"  # treatment plans, signed orders, co-sign infusion notes
    )
    RUN_INFUSIONS = (
        "run_infusions"  # check-in to signed note: checklist, dose, vitals, events
    )
    VIEW_INFUSIONS = (
        "view_infusions"  # infusion records, the nurse-station board, reports
    )
    # rTMS and iTBS (docs/tms.md)
    VIEW_TMS = "view_tms"  # TMS screens, thresholds, courses, sessions, the course page
    RUN_TMS = (
        "run_tms"  # safety screen, motor threshold, the session screen, seizure button
    )
    ORDER_TMS = "order_tms"  # course orders, screen decisions, seizure reviews
    # billing (docs/billing.md): demographics, codes, charges and payments; never scores or notes
    BILLING_VIEW = (
        "billing_view"  # patient accounts, invoices, estimates, superbills, reports
    )
    BILLING_CHARGE = "billing_charge"  # self-pay answer, estimates, packages sold, invoices, superbills
    BILLING_PAYMENTS = "billing_payments"  # take payments, apply credit
    BILLING_REFUND = "billing_refund"  # give money back
    BILLING_SETUP = (
        "billing_setup"  # price list, packages, practice tax id, clinicians' NPIs
    )
    # letters (docs/letters.md): they quote scores, so clinicians only
    WRITE_LETTERS = (
        "write_letters"  # draft, sign, send and print letters about a patient
    )
    MANAGE_LETTER_TEMPLATES = "manage_letter_templates"  # the clinic's letter wording
    # outcomes (docs/outcomes.md)
    VIEW_OUTCOMES = "view_outcomes"  # clinic dashboards and quality measures
    CONFIGURE_BOOSTER_RULES = "configure_booster_rules"  # the versioned booster rules
    CONFIGURE_EM_RULES = (
        "configure_em_rules"  # office-visit time bands, new-patient look-back
    )
    WORK_FOLLOW_UPS = "work_follow_ups"  # the post-series follow-up worklist
    RESEARCH_EXPORT = "research_export"  # the de-identified research data set
    # scheduling (docs/scheduling.md)
    VIEW_SCHEDULE = "view_schedule"  # the calendar: day and week views by room
    BOOK_APPOINTMENTS = (
        "book_appointments"  # book, move, cancel, series, no-shows, confirm by phone
    )
    CHECK_IN_PATIENTS = "check_in_patients"  # check in a booked visit
    # administration
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_USERS = "manage_users"
    MANAGE_CLINIC = "manage_clinic"  # organization, locations, rooms, devices
    MANAGE_OPERATIONS = (
        "manage_operations"  # background jobs, failures and retries, workers, backups
    )


_R = Role
# Who may do what, one line per capability: each app adds its own lines.
GRANTS: dict[Capability, frozenset[Role]] = {
    Capability.VIEW_PATIENT_LIST: frozenset(
        {
            _R.CLINIC_ADMIN,
            _R.MEDICAL_DIRECTOR,
            _R.PRESCRIBER,
            _R.NURSE,
            _R.FRONT_DESK,
            _R.TMS_TECHNICIAN,
            _R.BILLING,
            _R.AUDITOR,
        }
    ),
    Capability.VIEW_CHART: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.TMS_TECHNICIAN, _R.AUDITOR}
    ),
    Capability.REGISTER_PATIENT: frozenset(
        {_R.CLINIC_ADMIN, _R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.FRONT_DESK}
    ),
    Capability.EDIT_DEMOGRAPHICS: frozenset(
        {_R.CLINIC_ADMIN, _R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.FRONT_DESK}
    ),
    Capability.EDIT_CLINICAL_LISTS: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE}
    ),
    Capability.EXPORT_CHART: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.AUDITOR}
    ),
    Capability.RECORD_MEASURES: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.TMS_TECHNICIAN}
    ),
    Capability.SEND_QUESTIONNAIRES: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.FRONT_DESK, _R.TMS_TECHNICIAN}
    ),
    Capability.FLAG_SAFETY_CONCERN: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.TMS_TECHNICIAN}
    ),
    Capability.ACKNOWLEDGE_SAFETY_ALERTS: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER}
    ),
    Capability.CONFIGURE_MEASURES: frozenset({_R.MEDICAL_DIRECTOR}),
    # ledger: docs/ledger.md explains each grant
    Capability.LEDGER_VIEW: frozenset(
        {_R.CUSTODIAN, _R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.AUDITOR}
    ),
    Capability.LEDGER_RECEIVE: frozenset({_R.CUSTODIAN}),
    Capability.LEDGER_DRAW: frozenset({_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE}),
    Capability.LEDGER_WITNESS: frozenset(
        {_R.CUSTODIAN, _R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE}
    ),
    Capability.LEDGER_COUNT: frozenset({_R.CUSTODIAN, _R.MEDICAL_DIRECTOR, _R.NURSE}),
    Capability.LEDGER_ADJUST: frozenset({_R.CUSTODIAN, _R.MEDICAL_DIRECTOR}),
    Capability.LEDGER_DESTROY: frozenset({_R.CUSTODIAN, _R.MEDICAL_DIRECTOR}),
    Capability.LEDGER_REPORT: frozenset(
        {_R.CUSTODIAN, _R.MEDICAL_DIRECTOR, _R.AUDITOR}
    ),
    Capability.LEDGER_SETUP: frozenset({_R.CUSTODIAN}),
    # intake: docs/intake.md explains each grant
    Capability.WORK_CONSULT_QUEUE: frozenset(
        {_R.CLINIC_ADMIN, _R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.FRONT_DESK}
    ),
    Capability.MANAGE_INTAKE: frozenset(
        {_R.CLINIC_ADMIN, _R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.FRONT_DESK}
    ),
    Capability.VIEW_INTAKE: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.AUDITOR}
    ),
    Capability.DECIDE_ELIGIBILITY: frozenset({_R.MEDICAL_DIRECTOR, _R.PRESCRIBER}),
    Capability.CONFIGURE_ELIGIBILITY: frozenset({_R.MEDICAL_DIRECTOR}),
    Capability.VIEW_CONSENTS: frozenset(
        {
            _R.CLINIC_ADMIN,
            _R.MEDICAL_DIRECTOR,
            _R.PRESCRIBER,
            _R.NURSE,
            _R.FRONT_DESK,
            _R.TMS_TECHNICIAN,
            _R.AUDITOR,
        }
    ),
    Capability.COLLECT_CONSENT: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.FRONT_DESK, _R.TMS_TECHNICIAN}
    ),
    Capability.MANAGE_CONSENT_FORMS: frozenset({_R.CLINIC_ADMIN, _R.MEDICAL_DIRECTOR}),
    Capability.EDIT_PUBLIC_SITE: frozenset({_R.CLINIC_ADMIN}),
    Capability.MANAGE_PROTOCOLS: frozenset({_R.MEDICAL_DIRECTOR}),
    Capability.WRITE_ORDERS: frozenset({_R.MEDICAL_DIRECTOR, _R.PRESCRIBER}),
    Capability.RUN_INFUSIONS: frozenset({_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE}),
    Capability.VIEW_INFUSIONS: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.AUDITOR}
    ),
    # tms: docs/tms.md explains each grant
    Capability.VIEW_TMS: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.TMS_TECHNICIAN, _R.AUDITOR}
    ),
    Capability.RUN_TMS: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.TMS_TECHNICIAN}
    ),
    Capability.ORDER_TMS: frozenset({_R.MEDICAL_DIRECTOR, _R.PRESCRIBER}),
    # billing: docs/billing.md explains each grant
    Capability.BILLING_VIEW: frozenset(
        {_R.CLINIC_ADMIN, _R.FRONT_DESK, _R.BILLING, _R.AUDITOR}
    ),
    Capability.BILLING_CHARGE: frozenset({_R.FRONT_DESK, _R.BILLING}),
    Capability.BILLING_PAYMENTS: frozenset({_R.FRONT_DESK, _R.BILLING}),
    Capability.BILLING_REFUND: frozenset({_R.BILLING}),
    Capability.BILLING_SETUP: frozenset({_R.CLINIC_ADMIN, _R.BILLING}),
    Capability.WRITE_LETTERS: frozenset({_R.MEDICAL_DIRECTOR, _R.PRESCRIBER}),
    Capability.MANAGE_LETTER_TEMPLATES: frozenset({_R.MEDICAL_DIRECTOR}),
    Capability.VIEW_OUTCOMES: frozenset({_R.MEDICAL_DIRECTOR}),
    Capability.CONFIGURE_BOOSTER_RULES: frozenset({_R.MEDICAL_DIRECTOR}),
    Capability.CONFIGURE_EM_RULES: frozenset({_R.CLINIC_ADMIN, _R.MEDICAL_DIRECTOR}),
    Capability.WORK_FOLLOW_UPS: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.FRONT_DESK}
    ),
    Capability.RESEARCH_EXPORT: frozenset({_R.MEDICAL_DIRECTOR}),
    # scheduling: docs/scheduling.md explains each grant
    Capability.VIEW_SCHEDULE: frozenset(
        {
            _R.CLINIC_ADMIN,
            _R.MEDICAL_DIRECTOR,
            _R.PRESCRIBER,
            _R.NURSE,
            _R.FRONT_DESK,
            _R.TMS_TECHNICIAN,
            _R.AUDITOR,
        }
    ),
    Capability.BOOK_APPOINTMENTS: frozenset(
        {_R.CLINIC_ADMIN, _R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.FRONT_DESK}
    ),
    Capability.CHECK_IN_PATIENTS: frozenset(
        {_R.MEDICAL_DIRECTOR, _R.PRESCRIBER, _R.NURSE, _R.FRONT_DESK, _R.TMS_TECHNICIAN}
    ),
    Capability.VIEW_AUDIT_LOG: frozenset(
        {_R.CLINIC_ADMIN, _R.MEDICAL_DIRECTOR, _R.AUDITOR}
    ),
    Capability.MANAGE_USERS: frozenset({_R.CLINIC_ADMIN}),
    Capability.MANAGE_CLINIC: frozenset({_R.CLINIC_ADMIN}),
    Capability.MANAGE_OPERATIONS: frozenset({_R.CLINIC_ADMIN}),
}

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    role: frozenset(c for c, roles in GRANTS.items() if role in roles) for role in Role
}


def capabilities_of(roles: set[Role] | frozenset[Role]) -> frozenset[Capability]:
    granted: set[Capability] = set()
    for role in roles:
        granted |= ROLE_CAPABILITIES[role]
    return frozenset(granted)
