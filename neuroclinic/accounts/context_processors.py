from typing import Any

from django.http import HttpRequest

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability

# (label, url name, capability needed), in menu order.
NAVIGATION = (
    ("Patients", "patients:list", Capability.VIEW_PATIENT_LIST),
    ("Audit log", "audit:events", Capability.VIEW_AUDIT_LOG),
    ("Staff", "accounts:users", Capability.MANAGE_USERS),
    ("Clinic", "clinics:settings", Capability.MANAGE_CLINIC),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {"nav_items": [], "can_search_patients": False}
    return {
        "nav_items": [
            (label, url, url.split(":")[0])
            for label, url, cap in NAVIGATION
            if user.can(cap)
        ],
        "can_search_patients": user.can(Capability.VIEW_PATIENT_LIST),
        "Capability": Capability,
    }
