"""Portal links and the clinic tablet: create, send and open a link, and submit the answers it collects."""

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from uuid import UUID

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.lib.links import absolute_url
from neuroclinic.lib.messaging import send_email, send_sms
from neuroclinic.measures.actions.alerts import raise_safety_alert
from neuroclinic.measures.actions.common import (
    INSTRUMENT_ALERT_REASONS,
    PORTAL_LINK_HOURS,
    PORTAL_SALT,
    MeasuresError,
    PortalLinkInvalid,
)
from neuroclinic.measures.actions.responses import Recorded, record_response
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    Rater,
    answer_raises_safety_alert,
    get_instrument,
)
from neuroclinic.measures.models import (
    PortalLink,
    QuestionnaireResponse,
    SafetyAlert,
)
from neuroclinic.patients.models import Patient


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_portal_link(
    patient: Patient,
    *,
    instrument_codes: Sequence[str],
    channel: PortalLink.Channel,
    lifetime: timedelta = timedelta(hours=PORTAL_LINK_HOURS),
    by: User | None,
) -> tuple[PortalLink, str]:
    """A single-use link; returns it and its token (shown or sent once, stored hashed).

    `by` is None when the reminder job sends it.
    """
    codes = list(dict.fromkeys(instrument_codes))
    unknown = [c for c in codes if c not in INSTRUMENTS or not INSTRUMENTS[c].collected]
    if not codes or unknown:
        raise MeasuresError("Choose at least one questionnaire.", field="instruments")
    # A clinician-rated scale (MADRS, HAM-D17, CADSS-6) is entered by the clinician who
    # rates it, never answered by the patient through a link or the tablet.
    rated = [c for c in codes if INSTRUMENTS[c].rater == Rater.CLINICIAN]
    if rated:
        raise MeasuresError(
            f"{INSTRUMENTS[rated[0]].name} is rated by a clinician: enter it on the "
            "chart, it is not sent to the patient.",
            field="instruments",
        )
    token = signing.dumps(secrets.token_urlsafe(24), salt=PORTAL_SALT, compress=True)
    link = PortalLink.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        instrument_codes=codes,
        token_hash=_hash(token),
        channel=channel,
        created_by=by,
        expires_at=timezone.now() + lifetime,
    )
    record(
        AuditEvent.Action.KIOSK_STARTED
        if channel == PortalLink.Channel.KIOSK
        else AuditEvent.Action.PORTAL_LINK_SENT,
        actor=by,
        patient=patient,
        subject=link,
        channel=channel,
        instruments=codes,
    )
    return link, token


def portal_url(token: str) -> str:
    return absolute_url(reverse("portal_questionnaire", kwargs={"token": token}))


def send_portal_link(link: PortalLink, token: str) -> None:
    """Send the link by its channel, after the transaction commits. The message holds no clinical content."""
    patient = link.patient
    clinic = patient.organization.name
    text = f"{clinic}: please answer a short questionnaire before your visit: {portal_url(token)}"
    if link.channel == PortalLink.Channel.EMAIL:
        if not patient.email:
            raise MeasuresError(
                "The patient has no email address on file.", field="channel"
            )
        transaction.on_commit(
            lambda: send_email(patient.email, f"{clinic}: a short questionnaire", text)
        )
    elif link.channel == PortalLink.Channel.SMS:
        if not patient.phone:
            raise MeasuresError(
                "The patient has no phone number on file.", field="channel"
            )
        transaction.on_commit(lambda: send_sms(patient.phone, text))


def open_portal_link(token: str) -> PortalLink:
    """The link behind a token, if it may still be used; else PortalLinkInvalid saying why, and nothing more."""
    try:
        signing.loads(token, salt=PORTAL_SALT)
    except signing.BadSignature:
        raise PortalLinkInvalid(
            "This link is not valid. Check you copied all of it."
        ) from None
    link = (
        PortalLink.objects.select_related("patient", "patient__organization")
        .filter(token_hash=_hash(token))
        .first()
    )
    if link is None:
        raise PortalLinkInvalid("This link is not valid. Check you copied all of it.")
    if link.used_at is not None:
        raise PortalLinkInvalid(
            "This link was already used. Ask the clinic for a new one if you need it."
        )
    if link.expires_at <= timezone.now():
        raise PortalLinkInvalid("This link has expired. Ask the clinic for a new one.")
    return link


def link_progress(link: PortalLink) -> tuple[list[str], list[str]]:
    """(done, to do) instrument codes for this link, in the link's order."""
    done = set(
        QuestionnaireResponse.objects.filter(portal_link=link).values_list(
            "instrument_code", flat=True
        )
    )
    codes: list[str] = list(link.instrument_codes)
    return [c for c in codes if c in done], [c for c in codes if c not in done]


@transaction.atomic
def submit_from_link(
    link: PortalLink,
    *,
    instrument_code: str,
    answers: Mapping[str, object],
    submission_key: UUID | None,
) -> Recorded:
    """A patient's answers through a portal link or the clinic tablet."""
    link = (
        PortalLink.objects.select_for_update().select_related("patient").get(pk=link.pk)
    )
    if not link.is_usable:
        raise PortalLinkInvalid("This link can no longer be used.")
    if instrument_code not in link.instrument_codes:
        raise MeasuresError("That questionnaire is not part of this link.")
    source = (
        QuestionnaireResponse.Source.KIOSK
        if link.channel == PortalLink.Channel.KIOSK
        else QuestionnaireResponse.Source.PORTAL
    )
    recorded = record_response(
        link.patient,
        instrument_code=instrument_code,
        answers=answers,
        source=source,
        by=None,
        sex=_sex_for(link.patient),
        submission_key=submission_key,
        portal_link=link,
    )
    if recorded.alerts:
        link.alert_raised = True
        link.save(update_fields=["alert_raised"])
    _, remaining = link_progress(link)
    if not remaining:
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
    return recorded


@transaction.atomic
def record_early_answer(
    link: PortalLink, *, instrument_code: str, link_id: str, value: object
) -> SafetyAlert | None:
    """An answer that on its own means risk (item 9) raises the alert before the form is sent.

    The alert must not depend on the patient finishing the whole form: a patient
    who answers item 9 and then closes the page is still seen (Source: C4, M10). Returns the alert, or None when the answer raises none.
    Raises InvalidResponse for an answer that is not one of the item's options.
    """
    if instrument_code not in link.instrument_codes or not link.is_usable:
        return None
    if not answer_raises_safety_alert(instrument_code, link_id, value):
        return None
    link = (
        PortalLink.objects.select_for_update().select_related("patient").get(pk=link.pk)
    )
    instrument = get_instrument(instrument_code)
    alert = raise_safety_alert(
        link.patient,
        reason=INSTRUMENT_ALERT_REASONS[instrument.code],
        detail=f"Answered while completing the {instrument.name}, before submitting it.",
        portal_link=link,
    )
    if not link.alert_raised:
        link.alert_raised = True
        link.save(update_fields=["alert_raised"])
    return alert


def _sex_for(patient: Patient) -> str | None:
    return patient.sex_at_birth if patient.sex_at_birth in ("male", "female") else None
