"""The one door to a TMS course: through the patient's visibility (404), then the role (403)."""

import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.patients.models import Patient
from neuroclinic.tms.models import AdverseEvent, SeizureEvent, TmsCourse, TmsSession


def get_course_for_user(
    user: User, course_uuid: uuid.UUID | str, *, capability: Capability
) -> TmsCourse:
    """A course of a patient this user may see (else 404), if the role allows `capability` (else 403)."""
    try:
        course = (
            TmsCourse.objects.filter(patient__in=Patient.objects.visible_to(user))
            .select_related("patient", "location", "ordered_by", "screen")
            .get(uuid=course_uuid)
        )
    except (TmsCourse.DoesNotExist, ValueError):
        raise Http404("No such course.") from None
    if not user.can(capability):
        raise PermissionDenied
    return course


def get_patient_for_user(
    user: User, patient_uuid: uuid.UUID | str, *, capability: Capability
) -> Patient:
    try:
        patient = Patient.objects.visible_to(user).get(uuid=patient_uuid)
    except (Patient.DoesNotExist, ValueError):
        raise Http404("No such patient.") from None
    if not user.can(capability):
        raise PermissionDenied
    return patient


def get_session_for_user(
    user: User, session_uuid: uuid.UUID | str, *, capability: Capability
) -> TmsSession:
    try:
        session = (
            TmsSession.objects.filter(patient__in=Patient.objects.visible_to(user))
            .select_related("course__location", "patient", "threshold")
            .get(uuid=session_uuid)
        )
    except (TmsSession.DoesNotExist, ValueError):
        raise Http404("No such session.") from None
    if not user.can(capability):
        raise PermissionDenied
    return session


def get_seizure_for_user(
    user: User, seizure_uuid: uuid.UUID | str, *, capability: Capability
) -> SeizureEvent:
    try:
        seizure = (
            SeizureEvent.objects.filter(
                course__patient__in=Patient.objects.visible_to(user)
            )
            .select_related("course__patient")
            .get(uuid=seizure_uuid)
        )
    except (SeizureEvent.DoesNotExist, ValueError):
        raise Http404("No such event.") from None
    if not user.can(capability):
        raise PermissionDenied
    return seizure


def get_adverse_event_for_user(
    user: User, event_uuid: uuid.UUID | str, *, capability: Capability
) -> AdverseEvent:
    try:
        event = (
            AdverseEvent.objects.filter(patient__in=Patient.objects.visible_to(user))
            .select_related("course__patient", "patient", "session", "recorded_by")
            .get(uuid=event_uuid)
        )
    except (AdverseEvent.DoesNotExist, ValueError):
        raise Http404("No such event.") from None
    if not user.can(capability):
        raise PermissionDenied
    return event
