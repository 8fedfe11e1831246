"""Letters: drafted from the chart, signed with the password and locked, sent to an address on file."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.letters import pdf
from neuroclinic.letters.actions import letters
from neuroclinic.letters.chart import letter_chart
from neuroclinic.letters.errors import LettersError
from neuroclinic.letters.models import Letter, LetterSend, LetterTemplate
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Patient
from tests.pdf_text import pdf_text, squeezed

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer(patient: Patient, front_desk: User) -> CareTeamProvider:
    return patient_actions.add_care_team_provider(
        patient,
        role=CareTeamProvider.Role.REFERRING,
        name="Dr Rowan Referrer (test)",
        practice="Test Psychiatry",
        fax="555-0199",
        by=front_desk,
    )


@pytest.fixture
def scored(patient: Patient, nurse: User) -> Patient:
    now = timezone.now()
    for days_ago, total in ((30, 20), (10, 12), (1, 4)):
        record_response(
            patient,
            instrument_code="phq9",
            answers=phq9(total),
            source=QuestionnaireResponse.Source.STAFF,
            completed_at=now - timedelta(days=days_ago),
            by=nurse,
        )
    return patient


def test_an_end_of_series_letter_carries_the_scores(
    scored: Patient, referrer: CareTeamProvider, prescriber: User
) -> None:
    letter = letters.draft_letter(
        scored, kind="end_of_series", recipient=referrer, by=prescriber
    )
    assert "Dr Rowan Referrer (test)" in letter.body
    assert "| PHQ-9 total | 20 | 4 |" in letter.body
    assert "-80.0%" in letter.body
    assert "Response (a fall of 50% or more): yes" in letter.body
    assert "Remission (PHQ-9 of 4 or less): yes" in letter.body
    assert LetterTemplate.objects.get().version == 1  # made from the default


def test_signing_needs_the_password_and_locks_the_letter(
    scored: Patient, referrer: CareTeamProvider, prescriber: User
) -> None:
    letter = letters.draft_letter(
        scored, kind="end_of_series", recipient=referrer, by=prescriber
    )
    with pytest.raises(LettersError) as error:
        letters.sign_letter(letter, password="wrong", by=prescriber)
    assert error.value.field == "password"
    assert Letter.objects.get().status == Letter.Status.DRAFT
    letters.sign_letter(letter, password=TEST_PASSWORD, by=prescriber)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.SIGNED
    assert len(letter.body_sha256) == 64
    with pytest.raises(LettersError):
        letters.edit_draft(letter, body="changed", by=prescriber)
    with pytest.raises(LettersError):
        letters.sign_letter(letter, password=TEST_PASSWORD, by=prescriber)


def test_sending_needs_a_signature_and_an_address(
    scored: Patient, referrer: CareTeamProvider, prescriber: User, consented: object
) -> None:
    letter = letters.draft_letter(
        scored, kind="end_of_series", recipient=referrer, by=prescriber
    )
    with pytest.raises(LettersError) as error:
        letters.record_send(letter, channel="fax", by=prescriber)
    assert error.value.code == "unsigned"
    letters.sign_letter(letter, password=TEST_PASSWORD, by=prescriber)
    with pytest.raises(LettersError) as error:
        letters.record_send(letter, channel="email", by=prescriber)
    assert error.value.code == "no_address"
    assert not LetterSend.objects.exists()
    send = letters.record_send(letter, channel="fax", by=prescriber)
    assert send.address == "555-0199"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LETTER_SENT).count() == 1


def test_a_provider_of_another_patient_is_refused(
    scored: Patient, prescriber: User, front_desk: User, organization: object
) -> None:
    other = patient_actions.register_patient(
        scored.organization,
        by=front_desk,
        family_name="Otherova",
        given_name="Sam",
        birth_date=scored.birth_date,
        sex_at_birth=Patient.SexAtBirth.MALE,
    )
    theirs = patient_actions.add_care_team_provider(
        other, role=CareTeamProvider.Role.REFERRING, name="Dr Else", by=front_desk
    )
    with pytest.raises(LettersError):
        letters.draft_letter(
            scored, kind="end_of_series", recipient=theirs, by=prescriber
        )
    assert not Letter.objects.exists()


def test_templates_are_versions_and_unknown_fields_are_refused(
    patient: Patient, director: User
) -> None:
    assert patient.organization is not None
    with pytest.raises(LettersError) as error:
        letters.save_template(
            patient.organization, kind="consult", body="{{ secret_key }}", by=director
        )
    assert error.value.code == "unknown_field"
    first = letters.save_template(
        patient.organization,
        kind="consult",
        body="Dear {{ recipient_name }}",
        by=director,
    )
    second = letters.save_template(
        patient.organization,
        kind="consult",
        body="Hello {{ recipient_name }}",
        by=director,
    )
    assert (first.version, second.version) == (1, 2)
    assert LetterTemplate.objects.get(pk=first.pk).body == "Dear {{ recipient_name }}"


def test_the_pdf_is_sanitized_and_renders(
    scored: Patient, referrer: CareTeamProvider, prescriber: User
) -> None:
    letter = letters.draft_letter(
        scored, kind="end_of_series", recipient=referrer, by=prescriber
    )
    letters.edit_draft(
        letter, body=letter.body + "\n\n<script>alert(1)</script>", by=prescriber
    )
    html = pdf.letter_html(letter)
    assert "<script>" not in html
    assert "DRAFT" in html
    assert pdf.letter_pdf(letter).startswith(b"%PDF")


def test_the_demo_signs_and_sends_letters_for_completed_series(
    scored: Patient, referrer: CareTeamProvider, prescriber: User, organization: object
) -> None:
    import random

    from neuroclinic.clinics.demo import DEMO_PASSWORD, DemoContext
    from neuroclinic.infusions.models import InfusionSession
    from neuroclinic.intake.actions import consents
    from neuroclinic.letters import demo

    prescriber.set_password(DEMO_PASSWORD)
    prescriber.save()
    assert scored.organization is not None
    consents.publish_consent(  # as the intake demo does before this one runs
        scored.organization,
        kind="communication",
        title="Communication preferences",
        body="The clinic may contact me.",
        by=None,
    )
    context = DemoContext(
        organization=scored.organization,
        staff={"prescriber": prescriber},
        patients=[scored],
        rng=random.Random(1),
    )
    demo.load(context)  # no completed series yet: nothing
    assert not Letter.objects.exists()
    demo.SERIES_LENGTH = 0
    try:
        demo.load(context)
    finally:
        demo.SERIES_LENGTH = 6
    letter = Letter.objects.get()
    assert letter.status == Letter.Status.SIGNED
    assert letter.sends.get().channel == "fax"
    assert InfusionSession.objects.count() == 0


def test_the_end_of_series_pdf_carries_the_trajectory_chart(
    scored: Patient, referrer: CareTeamProvider, prescriber: User, nurse: User
) -> None:
    letter = letters.draft_letter(
        scored, kind="end_of_series", recipient=referrer, by=prescriber
    )
    letter = letters.sign_letter(letter, password=TEST_PASSWORD, by=prescriber)
    chart = letter_chart(letter)
    assert chart.startswith("<svg")
    assert "PHQ-9" in chart
    text = squeezed(pdf_text(pdf.letter_pdf(letter)))
    assert "(PHQ-9)overtime" in text  # the chart's heading, drawn by WeasyPrint
    assert "Remission≤4" in text  # its reference lines' labels
    assert "Baseline20" in text
    assert "PHQ-9totalsovertime" in text  # its caption
    # A score recorded after the signature does not change the signed letter's chart.
    record_response(
        scored,
        instrument_code="phq9",
        answers=phq9(15),
        source=QuestionnaireResponse.Source.STAFF,
        completed_at=timezone.now() + timedelta(minutes=1),
        by=nurse,
    )
    assert letter_chart(Letter.objects.get(pk=letter.pk)) == chart


@pytest.mark.parametrize(
    ("kind", "charted"),
    [
        ("end_of_series", True),
        ("tms_course", True),
        ("booster", True),
        ("consult", False),
        ("therapist", False),
        ("concerns", False),
    ],
)
def test_which_letters_carry_the_chart(
    scored: Patient,
    referrer: CareTeamProvider,
    prescriber: User,
    kind: str,
    charted: bool,
) -> None:
    letter = letters.draft_letter(scored, kind=kind, recipient=referrer, by=prescriber)
    assert bool(letter_chart(letter)) is charted


def test_no_scores_no_chart(
    patient: Patient, referrer: CareTeamProvider, prescriber: User
) -> None:
    letter = letters.draft_letter(
        patient, kind="end_of_series", recipient=referrer, by=prescriber
    )
    assert letter_chart(letter) == ""
    assert b"%PDF" in pdf.letter_pdf(letter)[:8]
