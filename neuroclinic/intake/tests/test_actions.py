"""Intake actions: each writes what it says, audits it, and a refusal writes nothing."""

import hashlib
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Organization
from neuroclinic.intake.actions import (
    consents,
    consult_requests,
    eligibility_decisions,
    packets,
    sign_in,
)
from neuroclinic.intake.checks import (
    consent_blocks_treatment,
    eligibility_blocks_treatment,
)
from neuroclinic.intake.errors import DuplicatesFound, IntakeError, SignInLinkInvalid
from neuroclinic.intake.models import (
    ConsentSignature,
    ConsultNote,
    ConsultRequest,
    EligibilityDecision,
    EligibilityRuleSet,
    IntakeDocument,
    PortalSignInLink,
)
from neuroclinic.intake.tests.factories import (
    baselines,
    consult_request,
    fill_packet,
    publish_all,
    signature_png,
)
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse, SafetyAlert
from neuroclinic.patients.models import CareTeamProvider, Patient

Action = AuditEvent.Action


def actions_of(code: str) -> int:
    return AuditEvent.objects.filter(action=code).count()


# Consult requests ----------------------------------------------------------------


def test_a_consult_request_is_stored_and_audited_without_phi(
    organization: Organization,
) -> None:
    request = consult_request(organization)
    assert request.status == ConsultRequest.Status.NEW
    assert actions_of(Action.CONSULT_REQUESTED) == 1
    event = AuditEvent.objects.get(action=Action.CONSULT_REQUESTED)
    assert "Robin" not in str(event.data)  # no PHI in the audit data


def test_confirmation_email_goes_out_after_commit(
    organization: Organization, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        consult_request(organization)
    assert len(mail.outbox) == 1
    assert "we have your request" in mail.outbox[0].subject
    assert "988" in mail.outbox[0].body


def test_a_request_without_consent_or_contact_is_refused(
    organization: Organization,
) -> None:
    with pytest.raises(IntakeError) as refused:
        consult_requests.submit_consult_request(
            organization,
            given_name="A",
            family_name="B",
            phone="1",
            seeking_help_for="x",
            consent_to_contact=False,
        )
    assert refused.value.field == "consent_to_contact"
    with pytest.raises(IntakeError) as refused:
        consult_requests.submit_consult_request(
            organization,
            given_name="A",
            family_name="B",
            seeking_help_for="x",
            consent_to_contact=True,
        )
    assert refused.value.field == "phone"
    assert ConsultRequest.objects.count() == 0
    assert actions_of(Action.CONSULT_REQUESTED) == 0


def test_status_assignment_and_notes_are_audited(
    organization: Organization, front_desk: User, nurse: User
) -> None:
    request = consult_request(organization)
    consult_requests.update_consult_request(
        request, by=front_desk, status="contacted", assigned_to=nurse
    )
    request.refresh_from_db()
    assert request.status == "contacted"
    assert request.assigned_to == nurse
    event = AuditEvent.objects.get(action=Action.CONSULT_UPDATED)
    assert event.data["changes"]["status"] == {"old": "new", "new": "contacted"}
    consult_requests.add_consult_note(request, by=front_desk, text="Left a message.")
    assert ConsultNote.objects.get().text == "Left a message."
    with pytest.raises(IntakeError):
        consult_requests.update_consult_request(
            request, by=front_desk, status="converted"
        )
    with pytest.raises(IntakeError):
        consult_requests.add_consult_note(request, by=front_desk, text="   ")


def test_assigning_to_someone_at_another_clinic_is_refused(
    organization: Organization, front_desk: User, outsider: User
) -> None:
    request = consult_request(organization)
    with pytest.raises(IntakeError):
        consult_requests.update_consult_request(
            request, by=front_desk, assigned_to=outsider
        )
    request.refresh_from_db()
    assert request.assigned_to is None


def test_conversion_registers_the_patient_opens_the_packet_and_keeps_the_self_check(
    organization: Organization, front_desk: User
) -> None:
    result = consult_requests.score_self_check(
        "phq9", {f"phq9-{n}": 2 for n in range(1, 9)} | {"phq9-9": 0}
    )
    request = consult_requests.submit_consult_request(
        organization,
        given_name="Quinn",
        family_name="Mockingham",
        phone="555-0177",
        seeking_help_for="x",
        referring_provider="Dr Sample",
        consent_to_contact=True,
        self_check=[result],
    )
    patient = consult_requests.convert_consult_request(
        request, by=front_desk, birth_date=date(1980, 1, 2), sex_at_birth="female"
    )
    request.refresh_from_db()
    assert request.status == ConsultRequest.Status.CONVERTED
    assert request.patient == patient
    assert patient.given_name == "Quinn"
    assert patient.phone == "555-0177"
    baseline = QuestionnaireResponse.objects.get(patient=patient)
    assert baseline.source == QuestionnaireResponse.Source.SELF_CHECK
    assert baseline.total == 16
    assert CareTeamProvider.objects.get(patient=patient).name == "Dr Sample"
    assert packets.open_packet(patient).consult_request == request
    assert actions_of(Action.CONSULT_CONVERTED) == 1
    with pytest.raises(IntakeError):
        consult_requests.convert_consult_request(
            request, by=front_desk, birth_date=date(1980, 1, 2), sex_at_birth="female"
        )


def test_conversion_stops_at_possible_duplicates_until_told(
    organization: Organization, front_desk: User, patient: Patient
) -> None:
    request = consult_request(organization, given_name="Casey", family_name="Testova")
    with pytest.raises(DuplicatesFound) as found:
        consult_requests.convert_consult_request(
            request, by=front_desk, birth_date=patient.birth_date, sex_at_birth="female"
        )
    assert found.value.duplicates == [patient]
    assert Patient.objects.count() == 1
    request.refresh_from_db()
    assert request.status == ConsultRequest.Status.NEW
    linked = consult_requests.convert_consult_request(
        request,
        by=front_desk,
        birth_date=patient.birth_date,
        sex_at_birth="female",
        existing=patient,
    )
    assert linked == patient
    assert Patient.objects.count() == 1


def test_a_positive_item_9_self_check_raises_a_safety_alert_on_conversion(
    organization: Organization, front_desk: User
) -> None:
    result = consult_requests.score_self_check(
        "phq9", {f"phq9-{n}": 1 for n in range(1, 10)}
    )
    assert result.item9_positive
    request = consult_requests.submit_consult_request(
        organization,
        given_name="A",
        family_name="B",
        phone="1",
        seeking_help_for="x",
        consent_to_contact=True,
        self_check=[result],
    )
    patient = consult_requests.convert_consult_request(
        request, by=front_desk, birth_date=date(1990, 1, 1), sex_at_birth="male"
    )
    assert SafetyAlert.objects.filter(patient=patient).count() == 1


def test_self_check_tokens_carry_results_and_refuse_tampering() -> None:
    result = consult_requests.score_self_check(
        "gad7", {f"gad7-{n}": 1 for n in range(1, 8)}
    )
    token = consult_requests.self_check_token([result])
    assert [r.total for r in consult_requests.self_check_results(token)] == [7]
    assert consult_requests.self_check_results(token[:-3] + "abc") == []
    assert consult_requests.self_check_results("") == []


def test_rate_limit_counts_per_address(db: None) -> None:
    from django.core.cache import cache

    cache.clear()
    assert not any(
        consult_requests.rate_limited("t", "10.0.0.1")
        for _ in range(consult_requests.RATE_LIMIT)
    )
    assert consult_requests.rate_limited("t", "10.0.0.1")
    assert not consult_requests.rate_limited("t", "10.0.0.2")


# Sign-in links -----------------------------------------------------------------------


def test_a_sign_in_link_works_once_and_stores_only_its_hash(
    patient: Patient, front_desk: User
) -> None:
    link, token = sign_in.create_sign_in_link(
        patient, channel=PortalSignInLink.Channel.SHOWN, by=front_desk
    )
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(PortalSignInLink.objects.values_list())
    assert sign_in.use_sign_in_link(token).patient == patient
    with pytest.raises(SignInLinkInvalid, match="already used"):
        sign_in.use_sign_in_link(token)


def test_an_expired_or_forged_link_says_why_and_nothing_more(
    patient: Patient, front_desk: User
) -> None:
    _link, token = sign_in.create_sign_in_link(
        patient,
        channel=PortalSignInLink.Channel.SHOWN,
        by=front_desk,
        lifetime=timedelta(seconds=-1),
    )
    with pytest.raises(SignInLinkInvalid) as refused:
        sign_in.use_sign_in_link(token)
    assert "expired" in refused.value.message
    assert patient.given_name not in refused.value.message
    with pytest.raises(SignInLinkInvalid, match="not valid"):
        sign_in.use_sign_in_link("garbage")


# The packet ----------------------------------------------------------------------------


def test_sections_save_as_they_are_and_report_what_is_missing(patient: Patient) -> None:
    packet_row = packets.open_packet(patient)
    packet_row = packets.save_section(
        packet_row, "about", {"city": "Springfield", "unexpected": "dropped"}
    )
    assert packet_row.sections["about"]["city"] == "Springfield"
    assert "unexpected" not in packet_row.sections["about"]
    status = {s.key: s for s in packets.packet_status(packet_row)}
    assert not status["about"].complete
    assert "Street address" in status["about"].missing
    assert (
        AuditEvent.objects.filter(
            action=Action.INTAKE_SECTION_SAVED, patient=patient
        ).count()
        == 1
    )
    # Saving the same thing again writes no second audit row.
    packets.save_section(packet_row, "about", {"city": "Springfield"})
    assert (
        AuditEvent.objects.filter(
            action=Action.INTAKE_SECTION_SAVED, patient=patient
        ).count()
        == 1
    )


def test_a_complete_packet_can_be_sent_and_notifies_a_prescriber(
    patient: Patient, prescriber: User
) -> None:
    packet_row = fill_packet(patient)
    with pytest.raises(IntakeError, match="Questionnaires"):
        packets.submit_packet(packet_row)
    baselines(patient)
    statuses = packets.packet_status(packet_row)
    assert packets.patient_part_complete(statuses)
    packet_row = packets.submit_packet(packet_row)
    assert packet_row.submitted_at is not None
    assert prescriber.notifications.count() == 1
    with pytest.raises(IntakeError, match="already sent"):
        packets.save_section(packet_row, "about", {})


def test_staff_only_instruments_do_not_hold_up_the_patient(patient: Patient) -> None:
    packet_row = fill_packet(patient)
    by_code = {s.code: s for s in packets.instrument_statuses(packet_row)}
    assert by_code["phq9"].by_patient
    assert by_code["audit-c"].by_patient
    assert not by_code[
        "cssrs-screener"
    ].by_patient  # clinician-rated, wording not shipped
    assert not by_code["dast10"].by_patient


def test_reminders_send_a_fresh_link(
    patient: Patient, front_desk: User, django_capture_on_commit_callbacks: object
) -> None:
    packet_row = packets.open_packet(patient)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        packets.send_reminder(
            packet_row, by=front_desk, channel=PortalSignInLink.Channel.EMAIL
        )
    packet_row.refresh_from_db()
    assert packet_row.reminder_count == 1
    assert "/portal/sign-in/" in mail.outbox[-1].body
    assert "finish" in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("content", "ok"),
    [
        (b"%PDF-1.7\n...", True),
        (b"\x89PNG\r\n\x1a\n0000", True),
        (b"\xff\xd8\xff\xe0JFIF", True),
        (b"<html><script>alert(1)</script>", False),
        (b"MZ\x90\x00", False),
        (b"", False),
    ],
)
def test_uploads_are_checked_by_content_not_name(
    patient: Patient, content: bytes, ok: bool
) -> None:
    if ok:
        document = packets.upload_document(
            patient, kind="referral", name="x.exe", content=content, by=None
        )
        stored_name = str(document.file.name)
        assert stored_name.endswith((".pdf", ".png", ".jpg"))
        assert "x.exe" not in stored_name
    else:
        with pytest.raises(IntakeError):
            packets.upload_document(
                patient, kind="referral", name="letter.pdf", content=content, by=None
            )
        assert IntakeDocument.objects.count() == 0


def test_uploads_are_size_limited(patient: Patient, settings: object) -> None:
    settings.INTAKE_UPLOAD_MAX_BYTES = 100  # type: ignore[attr-defined]
    with pytest.raises(IntakeError, match="under"):
        packets.upload_document(
            patient,
            kind="referral",
            name="a.pdf",
            content=b"%PDF-" + b"0" * 200,
            by=None,
        )


# Eligibility -----------------------------------------------------------------------------


def test_review_reads_the_packet_and_questionnaires(patient: Patient) -> None:
    fill_packet(
        patient,
        medical={"heart_disease": "yes"},
        medications={"rows": [{"name": "Xanax", "dose": "1 mg"}]},
    )
    baselines(patient)
    review = eligibility_decisions.review_for(patient).review
    ids = {f.rule_id for f in review.findings}
    assert {"heart_disease", "sedatives"} <= ids
    assert review.exclusions == []
    assert eligibility_decisions.review_for(patient).facts.failed_adequate_trials == 2


def test_a_decision_needs_the_password_and_keeps_the_rules_version(
    patient: Patient, prescriber: User
) -> None:
    fill_packet(patient)
    with pytest.raises(IntakeError) as refused:
        eligibility_decisions.decide_eligibility(
            patient, by=prescriber, password="wrong", outcome="eligible"
        )
    assert refused.value.field == "password"
    assert EligibilityDecision.objects.count() == 0
    decision = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible",
        # Unanswered facts an exclusion needs (no C-SSRS here): an override says why.
        reason="C-SSRS screener asked at the consultation: no intent or plan",
    )
    assert decision.rules_version.startswith("defaults ")
    assert decision.findings
    assert decision.facts["failed_adequate_trials"] == 2
    assert "Good news" in decision.patient_message
    assert eligibility_blocks_treatment(patient) is None
    assert actions_of(Action.ELIGIBILITY_DECIDED) == 1


def test_needs_clearance_names_the_provider_and_leaves_the_letter_to_letters(
    patient: Patient, prescriber: User
) -> None:
    fill_packet(patient, medical={"heart_disease": "yes"})
    with pytest.raises(IntakeError) as refused:
        eligibility_decisions.decide_eligibility(
            patient, by=prescriber, password=TEST_PASSWORD, outcome="needs_clearance"
        )
    assert refused.value.field == "clearance_provider_name"
    decision = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="needs_clearance",
        clearance_provider_name="Dr Heart",
        clearance_question="Safe for a BP rise of 20 mmHg?",
    )
    # The request itself is a letter now (letters.actions.letters.request_clearance,
    # tested in letters/tests/test_clearance.py): intake makes no PDF of its own.
    assert not decision.clearance_letter
    assert decision.clearance_provider_name == "Dr Heart"
    assert "Dr Heart" in decision.patient_message
    assert "clearance" in str(eligibility_blocks_treatment(patient))


def test_not_eligible_needs_a_reason_and_gives_resources(
    patient: Patient, prescriber: User
) -> None:
    with pytest.raises(IntakeError):
        eligibility_decisions.decide_eligibility(
            patient, by=prescriber, password=TEST_PASSWORD, outcome="not_eligible"
        )
    decision = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="not_eligible",
        reason="Psychosis.",
    )
    assert "988" in decision.patient_message


def test_clinic_wording_is_what_the_patient_sees(
    patient: Patient, prescriber: User, director: User, organization: Organization
) -> None:
    eligibility_decisions.save_intake_settings(
        organization, by=director, message_eligible="All set, see you soon."
    )
    decision = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible",
        # Unanswered facts an exclusion needs (no C-SSRS here): an override says why.
        reason="C-SSRS screener asked at the consultation: no intent or plan",
    )
    assert decision.patient_message == "All set, see you soon."
    assert (
        eligibility_decisions.portal_status_message(patient) == "All set, see you soon."
    )


def test_a_wording_change_is_audited_with_old_and_new_text_and_a_repeat_writes_nothing(
    director: User, organization: Organization
) -> None:
    before = eligibility_decisions.intake_settings(organization.pk).message_eligible

    eligibility_decisions.save_intake_settings(
        organization, message_eligible="All set.", by=director
    )
    eligibility_decisions.save_intake_settings(
        organization, message_eligible="All set.", by=director
    )

    event = AuditEvent.objects.get(action=Action.INTAKE_SETTINGS_CHANGED)
    assert event.data["changes"] == {
        "message_eligible": {"old": before, "new": "All set."}
    }
    assert event.actor == director


def test_rule_changes_are_new_versions_and_decisions_keep_theirs(
    patient: Patient, prescriber: User, director: User, organization: Organization
) -> None:
    with pytest.raises(IntakeError):
        eligibility_decisions.save_rules(
            organization, by=director, overrides={"nope": {}}, reason="x"
        )
    assert EligibilityRuleSet.objects.count() == 0
    eligibility_decisions.save_rules(
        organization,
        by=director,
        overrides={"bmi_dosing_weight": {"enabled": False}},
        reason="Our dosing policy covers it.",
    )
    second = eligibility_decisions.save_rules(
        organization, by=director, overrides={}, reason="Back to defaults."
    )
    assert second.version == 2
    decision = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible",
        # Unanswered facts an exclusion needs (no C-SSRS here): an override says why.
        reason="C-SSRS screener asked at the consultation: no intent or plan",
    )
    assert decision.rules_version.startswith("clinic v2 on defaults")


# Consent -----------------------------------------------------------------------------------


def test_signing_stores_the_hash_of_the_exact_text_the_image_and_a_pdf(
    patient: Patient, organization: Organization
) -> None:
    documents = publish_all(organization)
    signature = consents.sign_consent(
        patient,
        documents["ketamine"],
        typed_name="Casey Testova",
        signature_png=signature_png(1),
        ip_address="203.0.113.9",
        channel=ConsentSignature.Channel.PORTAL,
    )
    assert (
        signature.text_sha256
        == hashlib.sha256(
            consents.signed_text(documents["ketamine"]).encode()
        ).hexdigest()
    )
    assert signature.signed_text.endswith(documents["ketamine"].body)
    assert signature.ip_address == "203.0.113.9"
    pdf = signature.pdf.read()
    assert pdf.startswith(b"%PDF")
    assert signature.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    assert signature.signature_image.read().startswith(b"\x89PNG")
    event = AuditEvent.objects.get(action=Action.CONSENT_SIGNED)
    assert event.data["text_sha256"] == signature.text_sha256


def test_a_batch_signs_each_as_sign_consent_does_with_its_own_pdf(
    patient: Patient, organization: Organization
) -> None:
    from neuroclinic.intake import pdf as consent_pdf

    assert consent_pdf.PARALLEL_FROM <= 4  # a batch this size may use workers
    documents = publish_all(organization)
    kinds = ("ketamine", "privacy", "financial", "communication")
    signatures = consents.sign_consents(
        [
            consents.ConsentToSign(
                patient,
                documents[kind],
                typed_name="  Casey   Testova ",
                signature_png=signature_png(n),
                ip_address="203.0.113.9",
                channel=ConsentSignature.Channel.PORTAL,
            )
            for n, kind in enumerate(kinds)
        ]
    )
    assert [s.document.kind for s in signatures] == list(kinds)
    events = list(
        AuditEvent.objects.filter(action=Action.CONSENT_SIGNED).order_by("seq")
    )
    assert [e.subject_id for e in events] == [str(s.uuid) for s in signatures]
    for signature, event in zip(signatures, events, strict=True):
        signature.refresh_from_db()
        assert signature.typed_name == "Casey Testova"
        stored = signature.pdf.read()
        assert stored.startswith(b"%PDF")
        assert signature.pdf_sha256 == hashlib.sha256(stored).hexdigest()
        assert event.data["pdf_sha256"] == signature.pdf_sha256
        # Each PDF is its own signature's page, as sign_consent renders it.
        assert stored == consent_pdf.signed_consent(
            signature,
            document=signature.document,
            patient=patient,
            signature_png=signature.signature_image.read(),
        )
    assert len({s.pdf_sha256 for s in signatures}) == len(kinds)


# The test process has other threads; the demo command, which batches, has one.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
def test_pdfs_rendered_in_worker_processes_are_those_rendered_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from neuroclinic.intake import pdf as consent_pdf

    pages = [
        f"<h1>Consent {n}</h1><p>{'Signed. ' * (n + 1)}</p>"
        for n in range(consent_pdf.PARALLEL_FROM)
    ]
    here = [consent_pdf._pdf(page) for page in pages]
    import os
    import threading
    from concurrent.futures import ProcessPoolExecutor
    from typing import Any

    forked: list[object] = []

    def counted(*args: Any, **kwargs: Any) -> ProcessPoolExecutor:
        forked.append(kwargs)
        return ProcessPoolExecutor(*args, **kwargs)

    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(consent_pdf, "ProcessPoolExecutor", counted)
    assert consent_pdf.render_all(pages) == here
    assert forked  # the workers did render them
    assert len(set(here)) == len(pages)


def test_a_batch_with_one_refused_signature_stores_none(
    patient: Patient, organization: Organization
) -> None:
    documents = publish_all(organization)
    items = [
        consents.ConsentToSign(
            patient,
            documents[kind],
            typed_name=name,
            signature_png=signature_png(1),
            ip_address=None,
            channel=ConsentSignature.Channel.PORTAL,
        )
        for kind, name in (("ketamine", "Casey"), ("privacy", " "))
    ]
    with pytest.raises(IntakeError) as refused:
        consents.sign_consents(items)
    assert refused.value.field == "typed_name"
    assert ConsentSignature.objects.count() == 0
    assert not AuditEvent.objects.filter(action=Action.CONSENT_SIGNED).exists()


@pytest.mark.parametrize(
    ("typed_name", "png", "field"),
    [
        ("", signature_png(1), "typed_name"),
        ("Casey", b"", "signature"),
        ("Casey", b"%PDF-not an image", "signature"),
        ("Casey", b"\x89PNG\r\n\x1a\nbroken", "signature"),
    ],
)
def test_a_signature_needs_a_name_and_a_drawing(
    patient: Patient,
    organization: Organization,
    typed_name: str,
    png: bytes,
    field: str,
) -> None:
    documents = publish_all(organization)
    with pytest.raises(IntakeError) as refused:
        consents.sign_consent(
            patient,
            documents["tms"],
            typed_name=typed_name,
            signature_png=png,
            ip_address=None,
            channel=ConsentSignature.Channel.PORTAL,
        )
    assert refused.value.field == field
    assert ConsentSignature.objects.count() == 0


def test_a_blank_canvas_is_not_a_signature(
    patient: Patient, organization: Organization
) -> None:
    from io import BytesIO

    from PIL import Image

    blank = BytesIO()
    Image.new("RGBA", (600, 200), (0, 0, 0, 0)).save(blank, format="PNG")
    documents = publish_all(organization)
    with pytest.raises(IntakeError, match="Draw"):
        consents.sign_consent(
            patient,
            documents["tms"],
            typed_name="Casey",
            signature_png=blank.getvalue(),
            ip_address=None,
            channel=ConsentSignature.Channel.PORTAL,
        )


def test_a_new_version_asks_for_consent_again(
    patient: Patient, organization: Organization, admin: User
) -> None:
    documents = publish_all(organization)
    for kind in ("ketamine", "privacy", "financial"):
        consents.sign_consent(
            patient,
            documents[kind],
            typed_name="Casey Testova",
            signature_png=signature_png(2),
            ip_address=None,
            channel=ConsentSignature.Channel.PORTAL,
        )
    assert consent_blocks_treatment(patient, treatment="ketamine") is None
    new = consents.publish_consent(
        organization,
        kind="ketamine",
        title=documents["ketamine"].title,
        body=documents["ketamine"].body + "\n\nNew paragraph.",
        by=admin,
    )
    assert new.version == 2
    assert "version 1 signed; version 2 needs signing" in str(
        consent_blocks_treatment(patient, treatment="ketamine")
    )
    with pytest.raises(IntakeError, match="newer version"):
        consents.sign_consent(
            patient,
            documents["ketamine"],
            typed_name="Casey",
            signature_png=signature_png(3),
            ip_address=None,
            channel=ConsentSignature.Channel.PORTAL,
        )
    with pytest.raises(IntakeError, match="Nothing changed"):
        consents.publish_consent(
            organization, kind="ketamine", title=new.title, body=new.body, by=admin
        )


def test_a_form_from_another_clinic_cannot_be_signed(
    patient: Patient, other_organization: Organization
) -> None:
    documents = publish_all(other_organization)
    with pytest.raises(IntakeError):
        consents.sign_consent(
            patient,
            documents["tms"],
            typed_name="Casey",
            signature_png=signature_png(1),
            ip_address=None,
            channel=ConsentSignature.Channel.PORTAL,
        )


def test_the_decision_is_the_newest_signed(patient: Patient, prescriber: User) -> None:
    eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="not_eligible",
        reason="x",
    )
    unguarded_update(
        EligibilityDecision.objects.all(), signed_at=timezone.now() - timedelta(days=1)
    )
    eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible",
        reason="Intake taken by phone; answers in the consult note",
    )
    assert eligibility_blocks_treatment(patient) is None


def test_item6_eligible_over_an_exclusion_needs_a_reason(
    patient: Patient, prescriber: User
) -> None:
    """Issue 14, item 6: an override is written, shown with the decision and audited."""
    fill_packet(patient, measurements={"bp_systolic": "190", "bp_diastolic": "105"})
    with pytest.raises(IntakeError) as refused:
        eligibility_decisions.decide_eligibility(
            patient, by=prescriber, password=TEST_PASSWORD, outcome="eligible"
        )
    assert refused.value.field == "reason"
    assert "override" in refused.value.message
    assert EligibilityDecision.objects.count() == 0
    assert actions_of(Action.ELIGIBILITY_DECIDED) == 0

    decision = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible",
        reason="Single drug-induced episode 11 months ago; psychiatrist concurs",
    )

    assert decision.reason.startswith("Single drug-induced episode")
    event = AuditEvent.objects.get(action=Action.ELIGIBILITY_DECIDED)
    assert event.data["override_of"]


def test_item6_eligible_over_an_unanswered_required_fact_needs_a_reason(
    patient: Patient, prescriber: User
) -> None:
    """Issue 14, item 6: an unanswered fact an exclusion needs is overridden like one."""
    fill_packet(patient, medical={"glaucoma": "unsure"})
    baselines(patient)  # the C-SSRS screener answered: glaucoma is the one unanswered
    with pytest.raises(IntakeError) as refused:
        eligibility_decisions.decide_eligibility(
            patient,
            by=prescriber,
            password=TEST_PASSWORD,
            outcome="eligible_with_conditions",
            conditions="Vitals every 5 minutes",
            reason="   ",
        )
    assert refused.value.field == "reason"
    assert (
        "Not answered: Glaucoma, or raised pressure in the eye" in refused.value.message
    )
    assert EligibilityDecision.objects.count() == 0
    assert actions_of(Action.ELIGIBILITY_DECIDED) == 0

    decision = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible",
        reason="Optometrist letter on file: normal eye pressure",
    )
    assert decision.reason.startswith("Optometrist letter")
    event = AuditEvent.objects.get(action=Action.ELIGIBILITY_DECIDED)
    assert event.data["override_of"] == [
        "Not answered: Glaucoma, or raised pressure in the eye"
    ]


def test_item6_not_eligible_over_an_unanswered_fact_needs_no_override(
    patient: Patient, prescriber: User
) -> None:
    fill_packet(patient, medical={"glaucoma": "unsure"})
    decision = eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="needs_clearance",
        clearance_provider_name="Dr Eye",
        clearance_question="Is the intraocular pressure normal?",
    )
    assert decision.outcome == "needs_clearance"


@pytest.mark.parametrize(
    ("section", "answers", "rule_id"),
    [
        ("medical", {"glaucoma": "yes"}, "glaucoma"),
        ("medical", {"recent_mi_angina": "yes"}, "recent_mi_angina"),
        ("medical", {"preeclampsia": "yes"}, "preeclampsia"),
        ("medical", {"sleep_apnoea_airway": "yes"}, "sleep_apnoea_airway"),
        ("psychiatric", {"mania_current": "yes"}, "mania_active"),
    ],
)
def test_item6_new_exclusions_from_the_packet_need_a_reason(
    patient: Patient,
    prescriber: User,
    section: str,
    answers: dict[str, str],
    rule_id: str,
) -> None:
    fill_packet(patient, **{section: answers})
    review = eligibility_decisions.review_for(patient).review
    assert rule_id in {f.rule_id for f in review.exclusions}
    with pytest.raises(IntakeError, match="write the reason for this override"):
        eligibility_decisions.decide_eligibility(
            patient, by=prescriber, password=TEST_PASSWORD, outcome="eligible"
        )
    assert EligibilityDecision.objects.count() == 0


def test_item6_a_high_risk_cssrs_screener_is_current_suicidal_intent(
    patient: Patient,
) -> None:
    fill_packet(patient)
    review = eligibility_decisions.review_for(patient)
    assert review.facts.suicidal_intent_current is None
    assert "missing.suicidal_intent_current" in review.review.required_missing
    record_response(
        patient,
        instrument_code="cssrs-screener",
        answers={
            "cssrs-screener-1": 1,
            "cssrs-screener-2": 1,
            "cssrs-screener-3": 1,
            "cssrs-screener-4": 1,
            "cssrs-screener-5": 0,
            "cssrs-screener-6": 0,
        },
        source=QuestionnaireResponse.Source.PORTAL,
        by=None,
    )
    review = eligibility_decisions.review_for(patient)
    assert review.facts.suicidal_intent_current is True
    assert "suicidal_intent" in {f.rule_id for f in review.review.exclusions}
