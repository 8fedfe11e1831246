from typing import Any

from django.http import HttpRequest

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability

# (label, url name, capability needed), in menu order: the day's work.
NAVIGATION = (
    ("Patients", "patients:list", Capability.VIEW_PATIENT_LIST),
    ("Calendar", "scheduling:day", Capability.VIEW_SCHEDULE),
    ("Safety alerts", "measures:alerts", Capability.VIEW_CHART),
    ("Due questionnaires", "measures:worklist", Capability.SEND_QUESTIONNAIRES),
    ("Consult requests", "intake:queue", Capability.WORK_CONSULT_QUEUE),
    ("Intake", "intake:worklist", Capability.MANAGE_INTAKE),
    ("Infusions", "infusions:day", Capability.VIEW_INFUSIONS),
    ("Nurse station", "infusions:board", Capability.VIEW_INFUSIONS),
    ("TMS", "tms:courses", Capability.VIEW_TMS),
    ("Ledger", "ledger:dashboard", Capability.LEDGER_VIEW),
    ("Billing", "billing:home", Capability.BILLING_VIEW),
    ("Audit log", "audit:events", Capability.VIEW_AUDIT_LOG),
)
# What is set up once and changed rarely, grouped under one "Setup" entry so the menu
# fits one line at 1280 px (issue 18 item 8).
SETUP_NAVIGATION = (
    ("Ketamine protocols", "treatment:protocols", Capability.VIEW_INFUSIONS),
    ("Measures settings", "measures:settings", Capability.CONFIGURE_MEASURES),
    ("Staff", "accounts:users", Capability.MANAGE_USERS),
    ("Clinic", "clinics:settings", Capability.MANAGE_CLINIC),
    ("Public site", "site:edit_index", Capability.EDIT_PUBLIC_SITE),
    ("Operations", "operations:dashboard", Capability.MANAGE_OPERATIONS),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {"nav_items": [], "can_search_patients": False}
    setup_items = [
        (label, url, _is_current(request, url))
        for label, url, cap in SETUP_NAVIGATION
        if user.can(cap)
    ]
    return {
        "nav_items": [
            (label, url, _is_current(request, url))
            for label, url, cap in NAVIGATION
            if user.can(cap)
        ],
        "nav_setup_items": setup_items,
        "nav_setup_current": any(current for _, _, current in setup_items),
        "can_search_patients": user.can(Capability.VIEW_PATIENT_LIST),
        "Capability": Capability,
    }


def _is_current(request: HttpRequest, url_name: str) -> bool:
    match = request.resolver_match
    if match is None:
        return False
    if match.view_name == url_name:
        return True
    # Pages under a patient belong to "Patients".
    return url_name == "patients:list" and match.namespace == "patients"
