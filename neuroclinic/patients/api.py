from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_errors import PROBLEM_CONTENT_TYPE, FieldErrors
from neuroclinic.api_pages import Pages
from neuroclinic.audit.models import AuditEvent
from neuroclinic.patients import actions
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.forms import PatientForm
from neuroclinic.patients.models import SEARCH_LIMIT, Patient
from neuroclinic.patients.schemas import (
    PatientCreateIn,
    PatientIn,
    PatientOut,
    PatientPatch,
    PatientSummaryOut,
)

router = Router(tags=["patients"])


def _staff(request: HttpRequest, capability: Capability) -> User:
    user = request.user
    assert isinstance(user, User)  # the API's auth guarantees a signed-in staff user
    if not user.can(capability):
        raise HttpError(403, "Your role does not allow this.")
    return user


def _validated(
    data: dict[str, Any],
    instance: Patient | None = None,
    *,
    only: set[str] | None = None,
) -> dict[str, Any]:
    """The same field rules as the registration form, so both doors agree.

    With `only`, errors in other fields are ignored: a PATCH is judged by what
    it changes, not by older values that today's rules would refuse.
    """
    form = PatientForm(data=data, instance=instance)
    form.is_valid()
    errors = {
        field: [str(e) for e in errors]
        for field, errors in form.errors.items()
        if only is None or field in only
    }
    if errors:
        raise FieldErrors(errors)
    return dict(form.cleaned_data)


class SearchIn(Schema):
    q: str = Field(min_length=1, max_length=100)


LIST_PARAMETERS = frozenset({"page", "page_size"})


@router.get("/patients", response=list[PatientSummaryOut])
@paginate(Pages, page_size=50)
def list_patients(request: HttpRequest) -> Any:
    """All patients the caller may see, newest first. To search, POST /api/patients/search.

    Any other query parameter is refused rather than ignored: `?q=` would
    otherwise return every patient, and search words in a URL reach logs.
    """
    user = _staff(request, Capability.VIEW_PATIENT_LIST)
    unknown = sorted(set(request.GET) - LIST_PARAMETERS)
    if "q" in unknown:
        raise HttpError(
            400,
            "Unknown query parameter 'q': this list does not search. Search with"
            ' POST /api/patients/search and a body {"q": "..."}, which keeps the'
            " search words out of URLs and logs.",
        )
    if unknown:
        raise HttpError(
            400,
            f"Unknown query parameter {unknown[0]!r}: this list takes only"
            " 'page' and 'page_size'.",
        )
    return Patient.objects.visible_to(user).order_by("-created_at", "-id")


@router.post("/patients/search", response=list[PatientSummaryOut])
def search_patients(request: HttpRequest, payload: SearchIn) -> list[Patient]:
    """Up to 20 patients matching a name, date of birth, MRN or phone.

    A POST, so the search words (PHI) stay out of URLs and access logs.
    """
    user = _staff(request, Capability.VIEW_PATIENT_LIST)
    query = payload.q.strip()
    results = list(Patient.objects.visible_to(user).search(query)[:SEARCH_LIMIT])
    actions.record_search(query, results, by=user, via="api")
    return results


def duplicate_problem(
    request: HttpRequest, exc: actions.DuplicatePatient
) -> HttpResponse:
    """409: the clinic may already have this patient. Names them by id only (no
    names or birth dates in the answer), and says how to register anyway."""
    ids = [str(p.uuid) for p in exc.existing]
    return JsonResponse(
        {
            "type": "about:blank",
            "title": "Possible duplicate patient",
            "status": 409,
            "instance": request.path,
            "detail": (
                f"A patient with the same birth date and a similar name is already"
                f" registered: {', '.join(ids)}. Open that record (GET /api/patients/{ids[0]})"
                " to check; if this is a different person, send the registration again"
                ' with "allow_duplicate": true.'
            ),
            "existing_patients": ids,
        },
        status=409,
        content_type=PROBLEM_CONTENT_TYPE,
    )


@router.post("/patients", response={201: PatientOut})
def create_patient(
    request: HttpRequest, payload: PatientCreateIn
) -> Status[Patient] | HttpResponse:
    """Register a patient, after the same duplicate check as the staff page."""
    user = _staff(request, Capability.REGISTER_PATIENT)
    assert user.organization is not None
    data = _validated(payload.model_dump(exclude={"allow_duplicate"}))
    try:
        patient = actions.register_new_patient(
            user.organization,
            allow_duplicate=payload.allow_duplicate,
            by=user,
            via="api",
            **data,
        )
    except actions.DuplicatePatient as exc:
        return duplicate_problem(request, exc)
    return Status(201, patient)


@router.get("/patients/{patient_id}", response=PatientOut)
def read_patient(request: HttpRequest, patient_id: UUID) -> Patient:
    user = _staff(request, Capability.VIEW_PATIENT_LIST)
    patient = get_patient_for_user(
        user, patient_id, capability=Capability.VIEW_PATIENT_LIST
    )
    actions.record_chart_access(
        patient, action=AuditEvent.Action.PATIENT_READ_API, by=user
    )
    return patient


@router.patch("/patients/{patient_id}", response=PatientOut)
def update_patient(
    request: HttpRequest, patient_id: UUID, payload: PatientPatch
) -> Patient:
    user = _staff(request, Capability.EDIT_DEMOGRAPHICS)
    patient = get_patient_for_user(
        user, patient_id, capability=Capability.EDIT_DEMOGRAPHICS
    )
    current = {name: getattr(patient, name) for name in PatientIn.model_fields}
    changes = payload.model_dump(exclude_unset=True)
    nulls = [name for name, value in changes.items() if value is None]
    if nulls:
        raise FieldErrors({name: ["This field may not be null."] for name in nulls})
    data = _validated(
        current | changes,
        instance=Patient.objects.get(pk=patient.pk),
        only=set(changes),
    )
    return actions.update_patient(patient, by=user, **{k: data[k] for k in changes})
