"""The clinic's rates on the dashboard: the funnel, no-shows, adverse events per 100
infusions and CADSS-6 by infusion number, on a small clinic whose answers are known."""

from datetime import UTC, date, datetime, timedelta

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.infusions.models import (
    AdverseEvent,
    InfusionSession,
    SessionQuestionnaire,
)
from neuroclinic.intake.tests.factories import consult_request
from neuroclinic.outcomes import rates
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import setup
from neuroclinic.scheduling.models import Appointment, AppointmentType

START = date(2026, 3, 2)


def test_rates_on_a_known_clinic(
    organization: Organization,
    patient: Patient,
    prescriber: User,
    director: User,
    nurse: User,
    admin: User,
) -> None:
    plan = factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=START,
        scores=((-1, 20), (11, 3)),
    )
    # Three consult requests: one became this patient (treated, series complete), two did not.
    converted = consult_request(organization)
    converted.patient = patient
    converted.save(update_fields=["patient"])
    consult_request(organization, email="b@example.com")
    consult_request(organization, email="c@example.com")

    sessions = list(InfusionSession.objects.filter(plan=plan).order_by("started_at"))
    assert len(sessions) == 6
    for session in sessions[:2]:
        AdverseEvent.objects.create(
            session=session,
            kind=AdverseEvent.Kind.NAUSEA,
            severity=AdverseEvent.Severity.MILD,
            onset_at=factories.at(session.service_date),
            recorded_by=nurse,
        )
    AdverseEvent.objects.create(
        session=sessions[0],
        kind=AdverseEvent.Kind.HYPERTENSION,
        severity=AdverseEvent.Severity.MODERATE,
        onset_at=factories.at(sessions[0].service_date),
        recorded_by=nurse,
    )
    for session, total in zip(sessions[:2], (12, 6), strict=True):
        response = factories.score(
            patient, session.service_date, total, code="cadss6", hour=11
        )
        SessionQuestionnaire.objects.create(
            session=session, response=response, phase="post"
        )

    setup.install_default_types(organization, by=admin)
    booster = AppointmentType.objects.get(organization=organization, code="booster")
    location = sessions[0].location
    past = datetime(2026, 4, 1, 15, tzinfo=UTC)
    for n, status in enumerate(
        [Appointment.Status.CHECKED_IN] * 3
        + [Appointment.Status.NO_SHOW, Appointment.Status.CANCELLED]
    ):
        at = past + timedelta(days=n)
        Appointment.objects.create(
            organization=organization,
            location=location,
            patient=patient,
            appointment_type=booster,
            starts_at=at,
            ends_at=at + timedelta(hours=2),
            held_until=at + timedelta(hours=2),
            status=status,
            booked_by=admin,
        )

    found = rates.clinic_rates(organization.pk)

    assert [(s.label, s.count) for s in found.funnel] == [
        ("Consult requested", 3),
        ("Became a patient", 1),
        ("Treatment plan made", 1),
        ("First infusion given", 1),
        ("Induction series completed", 1),
    ]
    assert str(found.funnel[-1].of_requests.percent) == "33.3"
    # 1 no-show of 4 attended-or-missed visits; the cancelled one is not counted.
    assert (found.no_show.count, found.no_show.total) == (1, 4)
    assert [(r.label, r.count, r.total) for r in found.no_show_by_type] == [
        ("Booster infusion", 1, 4)
    ]
    assert found.infusions_given == 6
    per_100 = {e.label: (e.events, str(e.per_100)) for e in found.adverse_events}
    assert per_100["Nausea"] == (2, "33.3")
    assert per_100["Hypertension"] == (1, "16.7")
    assert per_100["Headache"] == (0, "0.0")
    assert [(r.infusion_number, r.count, str(r.mean)) for r in found.cadss] == [
        (1, 1, "12.0"),
        (2, 1, "6.0"),
    ]


def test_an_empty_clinic_has_no_rates_and_no_division_by_zero(
    organization: Organization,
) -> None:
    found = rates.clinic_rates(organization.pk)
    assert all(s.count == 0 and s.of_requests.percent is None for s in found.funnel)
    assert found.no_show.percent is None
    assert all(e.per_100 is None for e in found.adverse_events)
    assert found.cadss == ()
