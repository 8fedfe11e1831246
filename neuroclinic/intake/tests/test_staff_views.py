"""Staff pages: the queue, conversion, intake status, eligibility review, consent; who may see what."""

import pytest
from django.core import mail
from django.test import Client

from conftest import PERSONA_ROLES, TEST_PASSWORD, login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.intake import packet
from neuroclinic.intake.actions import (
    consents,
    consult_requests,
    eligibility_decisions,
    packets,
    sign_in,
)
from neuroclinic.intake.models import (
    ConsentSignature,
    ConsultRequest,
    EligibilityDecision,
    PortalSignInLink,
)
from neuroclinic.intake.tests.factories import (
    baselines,
    consult_request,
    fill_packet,
    publish_all,
    signature_png,
)
from neuroclinic.letters.models import Letter
from neuroclinic.patients.models import Patient

XSS = "<script>alert(1)</script>"
PERSONAS = [*PERSONA_ROLES, "anonymous"]


def test_the_public_form_lands_in_the_queue_and_is_worked(
    client: Client, organization: Organization, front_desk: User
) -> None:
    response = client.post(
        "/consultation/",
        {
            "given_name": XSS,
            "family_name": "Example",
            "phone": "555-0101",
            "email": "",
            "contact_method": "phone",
            "contact_time": "any",
            "interest": "ketamine",
            "seeking_help_for": XSS,
            "referring_provider": XSS,
            "heard_about": "",
            "consent_to_contact": "on",
        },
    )
    assert response["Location"] == "/consultation/thanks/"
    request = ConsultRequest.objects.get()
    login(client, front_desk)
    queue = client.get("/intake/requests/").content.decode()
    assert XSS not in queue
    assert "&lt;script&gt;" in queue
    detail = client.get(f"/intake/requests/{request.uuid}/").content.decode()
    assert XSS not in detail
    client.post(
        f"/intake/requests/{request.uuid}/",
        {"form": "update", "status": "contacted", "assigned_to": front_desk.pk},
    )
    client.post(f"/intake/requests/{request.uuid}/", {"form": "note", "text": XSS})
    request.refresh_from_db()
    assert request.status == "contacted"
    assert XSS not in client.get(f"/intake/requests/{request.uuid}/").content.decode()


def test_the_consult_form_shows_field_errors_and_stores_nothing(
    client: Client, organization: Organization
) -> None:
    response = client.post(
        "/consultation/",
        {
            "given_name": "",
            "family_name": "",
            "contact_method": "email",
            "contact_time": "any",
            "interest": "ketamine",
            "seeking_help_for": "",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please agree that we may contact you" in html
    assert "Give an email address to be emailed." in html
    assert ConsultRequest.objects.count() == 0


def test_the_honeypot_looks_like_success_and_stores_nothing(
    client: Client, organization: Organization
) -> None:
    response = client.post(
        "/consultation/",
        {
            "website": "http://spam.example",
            "given_name": "Bot",
            "family_name": "Bot",
            "phone": "1",
            "contact_method": "phone",
            "contact_time": "any",
            "interest": "ketamine",
            "seeking_help_for": "buy",
            "consent_to_contact": "on",
        },
    )
    assert response["Location"] == "/consultation/thanks/"
    assert ConsultRequest.objects.count() == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CONSULT_REFUSED).exists()


def test_consult_posts_are_rate_limited_per_address(
    client: Client, organization: Organization
) -> None:
    from django.core.cache import cache

    cache.clear()
    data = {
        "given_name": "A",
        "family_name": "B",
        "phone": "1",
        "contact_method": "phone",
        "contact_time": "any",
        "interest": "ketamine",
        "seeking_help_for": "x",
        "consent_to_contact": "on",
    }
    for _ in range(consult_requests.RATE_LIMIT):
        assert (
            client.post("/consultation/", data, REMOTE_ADDR="192.0.2.1").status_code
            == 302
        )
    refused = client.post(
        "/consultation/",
        data,
        REMOTE_ADDR="192.0.2.1",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert refused.status_code == 429
    assert "988" in refused.content.decode()
    assert ConsultRequest.objects.count() == consult_requests.RATE_LIMIT
    assert (
        client.post("/consultation/", data, REMOTE_ADDR="192.0.2.2").status_code == 302
    )


def test_a_self_check_result_is_stored_only_when_attached(
    client: Client, organization: Organization
) -> None:
    answers = {f"phq9-{n}": "2" for n in range(1, 9)} | {"phq9-9": "0"}
    result = client.post(
        "/self-check/phq9/", answers | {"instrument": "phq9"}
    ).content.decode()
    assert "16" in result
    assert "screen, not a diagnosis" in result
    assert "moderately severe" in result
    token = result.split("?self_check=")[1].split('"')[0]
    form = client.get(f"/consultation/?self_check={token}").content.decode()
    assert "Send my self-check result" in form
    base = {
        "given_name": "A",
        "family_name": "B",
        "phone": "1",
        "contact_method": "phone",
        "contact_time": "any",
        "interest": "ketamine",
        "seeking_help_for": "x",
        "consent_to_contact": "on",
    }
    from urllib.parse import unquote

    client.post("/consultation/", base | {"self_check_token": unquote(token)})
    client.post(
        "/consultation/",
        base | {"self_check_token": unquote(token), "attach_self_check": "on"},
    )
    stored = list(
        ConsultRequest.objects.order_by("id").values_list("self_check", flat=True)
    )
    assert stored[0] == []
    assert stored[1][0]["total"] == 16


def test_the_self_check_shows_crisis_lines_for_item_9_and_stores_nothing(
    client: Client, organization: Organization
) -> None:
    answers = {f"phq9-{n}": "0" for n in range(1, 9)} | {"phq9-9": "1"}
    result = client.post(
        "/self-check/phq9/", answers | {"instrument": "phq9"}
    ).content.decode()
    assert "You are not alone" in result
    assert "988" in result
    early = client.post(
        "/self-check/phq9/item/", {"item": "phq9-9", "phq9-9": "1"}
    ).content.decode()
    assert "988" in early
    assert (
        client.post("/self-check/phq9/item/", {"item": "phq9-9", "phq9-9": "0"}).content
        == b""
    )
    assert ConsultRequest.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_the_self_check_names_unanswered_items(
    client: Client, organization: Organization
) -> None:
    response = client.post("/self-check/gad7/", {"gad7-1": "1", "instrument": "gad7"})
    assert response.status_code == 200
    assert "has-error" in response.content.decode()


def test_the_htmx_self_check_returns_the_result_fragment(
    client: Client, organization: Organization
) -> None:
    answers = {f"gad7-{n}": "1" for n in range(1, 8)}
    html = client.post(
        "/self-check/gad7/", answers | {"instrument": "gad7"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="result"' in html
    assert "<html" not in html


def test_convert_with_duplicate_check(
    client: Client, organization: Organization, front_desk: User, patient: Patient
) -> None:
    request = consult_request(organization, given_name="Casey", family_name="Testova")
    login(client, front_desk)
    data = {
        "given_name": "Casey",
        "family_name": "Testova",
        "birth_date": patient.birth_date.isoformat(),
        "sex_at_birth": "female",
    }
    response = client.post(f"/intake/requests/{request.uuid}/convert/", data)
    assert response.status_code == 422
    assert "Possible duplicates" in response.content.decode()
    assert patient.mrn in response.content.decode()
    response = client.post(
        f"/intake/requests/{request.uuid}/convert/", data | {"confirm_new": "on"}
    )
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_sex_at_birth_starts_empty_on_the_convert_form_and_must_be_chosen(
    client: Client, organization: Organization, front_desk: User
) -> None:
    request = consult_request(organization, given_name="Casey", family_name="Testova")
    login(client, front_desk)
    url = f"/intake/requests/{request.uuid}/convert/"
    form = client.get(f"/intake/requests/{request.uuid}/").content.decode()
    assert 'name="sex_at_birth"' in form
    assert 'value="" selected' in form  # no sex preselected

    response = client.post(
        url,
        {"given_name": "Casey", "family_name": "Testova", "birth_date": "1980-02-03"},
    )

    assert response.status_code == 422
    assert "This field is required" in response.content.decode()
    assert Patient.objects.count() == 0


def test_staff_send_a_link_shown_once(
    client: Client, patient: Patient, front_desk: User
) -> None:
    login(client, front_desk)
    client.post(f"/intake/patients/{patient.uuid}/sign-in-link/", {"channel": "shown"})
    first = client.get(f"/intake/patients/{patient.uuid}/").content.decode()
    assert "/portal/sign-in/" in first
    assert (
        "/portal/sign-in/"
        not in client.get(f"/intake/patients/{patient.uuid}/").content.decode()
    )


def test_staff_send_a_link_by_email(
    client: Client,
    patient: Patient,
    front_desk: User,
    django_capture_on_commit_callbacks: object,
) -> None:
    login(client, front_desk)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        client.post(
            f"/intake/patients/{patient.uuid}/sign-in-link/", {"channel": "email"}
        )
    assert mail.outbox[-1].to == [patient.email]
    assert "Testova" not in mail.outbox[-1].body  # no PHI beyond the clinic's name


def test_the_prescriber_reviews_and_signs(
    client: Client, patient: Patient, prescriber: User
) -> None:
    fill_packet(patient, medical={"heart_disease": "yes", "details": XSS})
    baselines(patient)
    login(client, prescriber)
    page = client.get(f"/intake/patients/{patient.uuid}/eligibility/").content.decode()
    assert "Heart disease" in page
    assert "K20, K16b" in page
    assert "Cautions" in page
    wrong = client.post(
        f"/intake/patients/{patient.uuid}/eligibility/",
        {"outcome": "eligible", "password": "nope"},
    )
    assert wrong.status_code == 422
    assert "password is not right" in wrong.content.decode()
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.ELIGIBILITY_SIGN_REFUSED
        ).count()
        == 1
    )
    ok = client.post(
        f"/intake/patients/{patient.uuid}/eligibility/",
        {
            "outcome": "needs_clearance",
            "clearance_provider_name": "Dr Heart",
            "clearance_question": "Safe?",
            "password": TEST_PASSWORD,
        },
    )
    decision = EligibilityDecision.objects.get()
    # The clearance request is a letter: the decision leads to the letters app.
    assert ok.status_code == 302
    assert ok["Location"] == f"/letters/clearance/{decision.uuid}/"
    assert client.get(ok["Location"]).status_code == 200
    drafted = client.post(ok["Location"])
    letter = Letter.objects.get()
    assert drafted["Location"] == f"/letters/{letter.uuid}/"
    assert letter.template.kind == "clearance"
    assert letter.eligibility_decision_id == decision.pk
    assert "Safe?" in letter.body
    assert letter.recipient.name == "Dr Heart"
    # No PDF is made in intake any more (that view serves only the ones made before).
    assert (
        client.get(f"/intake/decisions/{decision.uuid}/letter.pdf").status_code == 404
    )
    eligibility_page = client.get(f"/intake/patients/{patient.uuid}/eligibility/")
    assert f"/letters/clearance/{decision.uuid}/" in eligibility_page.content.decode()
    answers = client.get(f"/intake/patients/{patient.uuid}/answers/").content.decode()
    assert XSS not in answers


def test_a_nurse_sees_the_review_but_cannot_sign(
    client: Client, patient: Patient, nurse: User
) -> None:
    login(client, nurse)
    page = client.get(f"/intake/patients/{patient.uuid}/eligibility/").content.decode()
    assert "Decide and sign" not in page
    assert (
        client.post(
            f"/intake/patients/{patient.uuid}/eligibility/",
            {"outcome": "eligible", "password": TEST_PASSWORD},
        ).status_code
        == 403
    )
    assert EligibilityDecision.objects.count() == 0


def test_signed_consent_pdf_is_served_to_staff_and_audited(
    client: Client, patient: Patient, front_desk: User, organization: Organization
) -> None:
    documents = publish_all(organization)
    signature = consents.sign_consent(
        patient,
        documents["privacy"],
        typed_name="Casey Testova",
        signature_png=signature_png(1),
        ip_address=None,
        channel=ConsentSignature.Channel.PORTAL,
    )
    login(client, front_desk)
    response = client.get(f"/intake/consents/{signature.uuid}/signed.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CONSENT_VIEWED, patient=patient
    ).exists()


def test_documents_are_served_only_through_the_checked_view(
    client: Client, patient: Patient, nurse: User, front_desk: User, outsider: User
) -> None:
    document = packets.upload_document(
        patient, kind="referral", name="r.pdf", content=b"%PDF-1.4 x", by=None
    )
    login(client, front_desk)
    assert (
        client.get(f"/intake/documents/{document.uuid}/").status_code == 403
    )  # no view_intake
    login(client, outsider)
    assert client.get(f"/intake/documents/{document.uuid}/").status_code == 404
    login(client, nurse)
    response = client.get(f"/intake/documents/{document.uuid}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_VIEWED).count() == 1
    )


def test_the_medical_director_publishes_consent_and_rules(
    client: Client, director: User, organization: Organization
) -> None:
    login(client, director)
    page = client.get("/intake/consent-forms/ketamine/").content.decode()
    assert "off-label" in page
    response = client.post(
        "/intake/consent-forms/ketamine/",
        {"title": "Ketamine consent", "body": "Text **v1**"},
    )
    assert response.status_code == 302
    response = client.post(
        "/intake/rules/",
        {
            "form": "rules",
            "overrides": '{"bmi_dosing_weight": {"enabled": false}}',
            "reason": "Policy.",
        },
    )
    assert response.status_code == 302
    bad = client.post(
        "/intake/rules/", {"form": "rules", "overrides": "{not json", "reason": "x"}
    )
    assert "Not valid JSON" in bad.content.decode()
    assert "clinic v1" in client.get("/intake/rules/").content.decode()


def test_the_chart_shows_intake_consent_and_eligibility(
    client: Client, patient: Patient, prescriber: User, organization: Organization
) -> None:
    publish_all(organization)
    eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=TEST_PASSWORD,
        outcome="eligible",
        reason="Intake taken in clinic; answers in the consult note",
    )
    login(client, prescriber)
    html = client.get(f"/patients/{patient.uuid}/").content.decode()
    assert "Intake, eligibility and consent" in html
    assert "Eligible" in html
    assert "not signed" in html


@pytest.mark.parametrize("key", packet.FORM_SECTIONS)
def test_every_section_page_renders(
    client: Client, patient: Patient, front_desk: User, key: str
) -> None:
    _, token = sign_in.create_sign_in_link(
        patient, channel=PortalSignInLink.Channel.SHOWN, by=front_desk
    )
    client.post(f"/portal/sign-in/{token}/")
    assert client.get(f"/portal/section/{key}/").status_code == 200


# Access: persona x page ------------------------------------------------------------------

# (path template, method, personas allowed)
ACCESS = [
    (
        "/intake/requests/",
        "get",
        {"admin", "director", "prescriber", "nurse", "front_desk"},
    ),
    (
        "/intake/requests/{request}/",
        "get",
        {"admin", "director", "prescriber", "nurse", "front_desk"},
    ),
    ("/intake/", "get", {"admin", "director", "prescriber", "nurse", "front_desk"}),
    (
        "/intake/patients/{patient}/",
        "get",
        {"admin", "director", "prescriber", "nurse", "front_desk"},
    ),
    (
        "/intake/patients/{patient}/answers/",
        "get",
        {"director", "prescriber", "nurse", "auditor"},
    ),
    (
        "/intake/patients/{patient}/eligibility/",
        "get",
        {"director", "prescriber", "nurse", "auditor"},
    ),
    ("/intake/consent-forms/", "get", {"admin", "director"}),
    ("/intake/rules/", "get", {"director"}),
    ("/staff/site/", "get", {"admin"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("path", "method", "allowed"), ACCESS, ids=[a[0] for a in ACCESS]
)
def test_access_table(
    as_persona: object,
    persona: str,
    path: str,
    method: str,
    allowed: set[str],
    organization: Organization,
    patient: Patient,
) -> None:
    request = consult_request(organization)
    client = as_persona(persona)  # type: ignore[operator]
    response = getattr(client, method)(
        path.format(request=request.uuid, patient=patient.uuid)
    )
    if persona == "anonymous":
        assert response.status_code == 302
        assert "/accounts/sign-in/" in response["Location"]
    elif persona in allowed:
        assert response.status_code == 200, persona
    else:
        assert response.status_code in (403, 404), persona


def test_another_clinic_sees_nothing(
    client: Client, organization: Organization, patient: Patient, outsider: User
) -> None:
    request = consult_request(organization)
    login(client, outsider)
    assert client.get(f"/intake/requests/{request.uuid}/").status_code == 404
    assert client.get(f"/intake/patients/{patient.uuid}/").status_code == 404
    assert "Examplewood" not in client.get("/intake/requests/").content.decode()


def test_item6_the_page_marks_required_facts_and_refuses_eligible_without_a_reason(
    client: Client, patient: Patient, prescriber: User
) -> None:
    fill_packet(patient, medical={"sleep_apnoea_airway": "unsure"})
    baselines(patient)
    login(client, prescriber)
    url = f"/intake/patients/{patient.uuid}/eligibility/"
    page = client.get(url).content.decode()
    assert "Required: an exclusion rule needs" in page
    assert "Sleep apnoea that is not treated" in page
    refused = client.post(url, {"outcome": "eligible", "password": TEST_PASSWORD})
    assert refused.status_code == 422
    assert "write the reason for this override" in refused.content.decode()
    assert EligibilityDecision.objects.count() == 0
    ok = client.post(
        url,
        {
            "outcome": "eligible",
            "password": TEST_PASSWORD,
            "reason": "Sleep study 2025 normal (letter scanned)",
        },
    )
    assert ok.status_code == 302
    shown = client.get(url).content.decode()
    assert "reason: Sleep study 2025 normal (letter scanned)" in shown
