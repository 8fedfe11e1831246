"""Demo intake: consult requests in every status, patients at every intake stage
(packet started, sent, decided each way, consented), published consent forms and
the public site's contact details. All synthetic."""

from datetime import date, timedelta
from io import BytesIO
from typing import Any

from django.utils import timezone
from PIL import Image, ImageDraw

from neuroclinic.clinics.demo import (
    DEMO_PASSWORD,
    DemoContext,
    main_address_lines,
    opening_hours_text,
)
from neuroclinic.intake import consent_defaults, eligibility
from neuroclinic.intake.actions import (
    consents,
    consult_requests,
    eligibility_decisions,
    packets,
)
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    ConsultRequest,
    EligibilityDecision,
)
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.instruments import get_instrument
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients.models import Patient
from neuroclinic.site.models import SiteSettings

REQUESTS: list[dict[str, Any]] = [
    {
        "given_name": "Robin",
        "family_name": "Examplewood",
        "status": "new",
        "interest": "ketamine",
        "hours_ago": 3,
        "self_check": ("phq9", 17),
    },
    {
        "given_name": "Sasha",
        "family_name": "Demoford",
        "status": "new",
        "interest": "tms",
        "hours_ago": 30,
    },
    {
        "given_name": "Taylor",
        "family_name": "Samplesby",
        "status": "contacted",
        "interest": "unsure",
        "hours_ago": 50,
    },
    {
        "given_name": "Morgan",
        "family_name": "Fictionton",
        "status": "consult_booked",
        "interest": "ketamine",
        "hours_ago": 80,
        "self_check": ("gad7", 12),
    },
    {
        "given_name": "Jamie",
        "family_name": "Placeholder",
        "status": "not_a_fit",
        "interest": "ketamine",
        "hours_ago": 120,
    },
    {
        "given_name": "Quinn",
        "family_name": "Mockingham",
        "status": "converted",
        "interest": "ketamine",
        "hours_ago": 200,
        "self_check": ("phq9", 19),
    },
]

FULL_PACKET: dict[str, dict[str, Any]] = {
    "about": {
        "address_line1": "12 Demo Lane",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "phone": "555-0166",
        "treatment": "ketamine",
    },
    "contacts": {
        "emergency_name": "Pat Example",
        "emergency_relationship": "Sibling",
        "emergency_phone": "555-0167",
        "escort_name": "Lee Example",
        "escort_relationship": "Partner",
        "escort_phone": "555-0168",
    },
    "medical": dict.fromkeys(eligibility.MEDICAL_HISTORY, "no"),
    "psychiatric": {
        "diagnoses": "Major depression (demo)",
        "psychosis_ever": "no",
        "mania_or_bipolar": "no",
        "mania_current": "no",
        "hospitalized": "no",
        "suicide_attempt": "no",
        "prior_ect": "no",
        "prior_tms": "no",
        "prior_ketamine": "no",
        "prior_esketamine": "no",
    },
    "trials": {
        "rows": [
            {
                "drug": "Sertraline",
                "dose": "150 mg",
                "weeks": "10",
                "full_dose": "yes",
                "effect": "helped_a_little",
            },
            {
                "drug": "Bupropion XL",
                "dose": "300 mg",
                "weeks": "8",
                "full_dose": "yes",
                "effect": "no_help",
            },
            {
                "drug": "Venlafaxine XR",
                "dose": "150 mg",
                "weeks": "3",
                "full_dose": "no",
                "effect": "side_effects",
            },
        ]
    },
    "substance": {"ketamine_misuse": "no"},
    "medications": {"rows": [{"name": "Escitalopram", "dose": "20 mg daily"}]},
    "allergies": {"no_allergies": True},
    "measurements": {
        "height_in": "67",
        "weight_lb": "160",
        "bp_systolic": "126",
        "bp_diastolic": "80",
    },
}


def _answers(code: str, total: int = 0) -> dict[str, object]:
    instrument = get_instrument(code)
    answers: dict[str, object] = {
        item.link_id: min(o.value for o in item.options)
        for item in instrument.items
        if item.required and item.enable_when is None
    }
    scored = [
        i
        for i in instrument.items
        if i.in_total and i.required and i.enable_when is None and i.link_id != "phq9-9"
    ]
    remaining = total
    for item in scored:
        step = min(max(o.value for o in item.options), remaining)
        answers[item.link_id] = step
        remaining -= step
    return answers


def signature_png(seed: int) -> bytes:
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + i * 25, 120 + ((i * 37 + seed) % 60) - 30) for i in range(20)]
    draw.line(points, fill=(17, 17, 17, 255), width=4)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _baselines(patient: Patient, context: DemoContext) -> None:
    nurse = context.staff["nurse"]
    for code, total in (("phq9", 18), ("gad7", 11), ("audit-c", 1), ("pcl5", 20)):
        record_response(
            patient,
            instrument_code=code,
            answers=_answers(code, total),
            source=QuestionnaireResponse.Source.PORTAL,
            by=None,
            sex=patient.sex_at_birth,
        )
    for code in ("mdq", "cssrs-screener", "dast10"):
        record_response(
            patient,
            instrument_code=code,
            answers=_answers(code),
            source=QuestionnaireResponse.Source.STAFF,
            by=nurse,
        )


def _fill(patient: Patient, sections: dict[str, dict[str, Any]]) -> None:
    packet_row = packets.open_packet(patient)
    for key, data in sections.items():
        packet_row = packets.save_section(packet_row, key, data)


def load(context: DemoContext) -> None:
    organization = context.organization
    staff = context.staff
    SiteSettings.objects.create(
        organization=organization,
        # The main location's address and hours, as the contact page lists them.
        address="\n".join(main_address_lines()),
        phone=organization.phone,
        email=organization.email,
        hours=opening_hours_text(),
        tagline="Careful, measured treatment for depression that has not lifted.",
    )
    for kind, (title, body) in consent_defaults.DEFAULTS.items():
        consents.publish_consent(
            organization,
            kind=kind,
            title=f"{title} (demo)",
            body=body,
            by=staff["director"],
        )

    # Consult requests in every status.
    now = timezone.now()
    # The converted request is an existing demo patient's, so the demo keeps its patient count.
    returning = context.patients[-1] if context.patients else None
    for n, spec in enumerate(REQUESTS):
        if spec["status"] == "converted" and returning is not None:
            spec = {
                **spec,
                "given_name": returning.given_name,
                "family_name": returning.family_name,
            }
        results = []
        if "self_check" in spec:
            code, total = spec["self_check"]
            results = [consult_requests.score_self_check(code, _answers(code, total))]
        request = consult_requests.submit_consult_request(
            organization,
            given_name=spec["given_name"],
            family_name=spec["family_name"],
            phone=f"555-01{70 + n}",
            email=f"{spec['given_name'].lower()}@example.com",
            contact_method="phone",
            contact_time="morning",
            interest=spec["interest"],
            seeking_help_for="Depression that has not improved with two medicines (demo request).",
            referring_provider="Dr Sample (demo)" if n % 2 else "",
            heard_about="provider" if n % 2 else "search",
            consent_to_contact=True,
            self_check=results,
        )
        ConsultRequest.objects.filter(pk=request.pk).update(
            created_at=now - timedelta(hours=spec["hours_ago"]),
            status_changed_at=now - timedelta(hours=spec["hours_ago"]),
        )
        request.refresh_from_db()
        if spec["status"] == "converted":
            consult_requests.convert_consult_request(
                request,
                by=staff["frontdesk"],
                birth_date=returning.birth_date if returning else date(1985, 3, 14),
                sex_at_birth=Patient.SexAtBirth.FEMALE,
                existing=returning,
                confirm_new=True,
            )
        elif spec["status"] != "new":
            consult_requests.update_consult_request(
                request,
                by=staff["frontdesk"],
                status=spec["status"],
                assigned_to=staff["frontdesk"],
            )
            consult_requests.add_consult_note(
                request, by=staff["frontdesk"], text="Called and left a message (demo)."
            )

    # Patients at every intake stage.
    stages = context.patients[:6]
    if len(stages) < 6:
        return
    started, submitted, eligible, clearance, not_eligible, conditions = stages
    _fill(started, {k: FULL_PACKET[k] for k in ("about", "contacts")})
    for patient in (submitted, eligible, clearance, not_eligible, conditions):
        sections = {k: dict(v) for k, v in FULL_PACKET.items()}
        if patient is clearance:
            sections["medical"] = {**sections["medical"], "heart_disease": "yes"}
        if patient is not_eligible:
            sections["psychiatric"] = {
                **sections["psychiatric"],
                "psychosis_ever": "yes",
                "psychosis_past_year": "yes",
            }
        if patient is conditions:
            sections["medications"] = {
                "rows": [{"name": "Lorazepam", "dose": "0.5 mg as needed"}]
            }
        _fill(patient, sections)
        _baselines(patient, context)
        packets.submit_packet(packets.open_packet(patient))

    prescriber = staff["prescriber"]
    Outcome = EligibilityDecision.Outcome
    eligibility_decisions.decide_eligibility(
        eligible, by=prescriber, password=DEMO_PASSWORD, outcome=Outcome.ELIGIBLE
    )
    eligibility_decisions.decide_eligibility(
        clearance,
        by=prescriber,
        password=DEMO_PASSWORD,
        outcome=Outcome.NEEDS_CLEARANCE,
        clearance_provider_name="Dr Heartwell (demo cardiology)",
        clearance_provider_fax="555-0190",
        clearance_question="Is it safe, from a cardiac point of view, for this patient to have IV ketamine, which raises blood pressure by about 10-20 mmHg for up to an hour?",
    )
    eligibility_decisions.decide_eligibility(
        not_eligible,
        by=prescriber,
        password=DEMO_PASSWORD,
        outcome=Outcome.NOT_ELIGIBLE,
        reason="Psychosis in the past year.",
    )
    eligibility_decisions.decide_eligibility(
        conditions,
        by=prescriber,
        password=DEMO_PASSWORD,
        outcome=Outcome.ELIGIBLE_WITH_CONDITIONS,
        conditions="Hold lorazepam for 12 hours before each infusion.",
    )

    # The eligible patient has signed everything; the one with conditions only the privacy notice.
    current = {
        d.kind: d for d in ConsentDocument.objects.filter(organization=organization)
    }
    # One batch: the PDFs are rendered side by side (consents.sign_consents).
    consents.sign_consents(
        [
            consents.ConsentToSign(
                eligible,
                current[kind],
                typed_name=eligible.legal_name,
                signature_png=signature_png(n),
                ip_address="127.0.0.1",
                channel=ConsentSignature.Channel.PORTAL,
            )
            for n, kind in enumerate(
                ("ketamine", "privacy", "financial", "communication")
            )
        ]
        + [
            consents.ConsentToSign(
                conditions,
                current["privacy"],
                typed_name=conditions.legal_name,
                signature_png=signature_png(9),
                ip_address="127.0.0.1",
                channel=ConsentSignature.Channel.TABLET,
                by=staff["frontdesk"],
            )
        ]
    )
