"""Plan actions: created under the clinic's active protocols for an eligible, consented
patient, ended with a reason, infusions counted; every refusal writes nothing."""

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from conftest import TEST_PASSWORD, make_staff
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.patients.models import Patient
from neuroclinic.treatment import phases
from neuroclinic.treatment.actions import plans, protocols
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.errors import TreatmentError
from neuroclinic.treatment.models import InfusionOrder, Protocol, TreatmentPlan
from neuroclinic.treatment.tests import factories


def audited(action: AuditEvent.Action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def eligible(patient: Patient, prescriber: User, director: User) -> Patient:
    factories.ready_for_treatment(patient, prescriber)
    factories.default_protocols(patient.organization_id, director)
    return patient


@pytest.fixture
def active(eligible: Patient, director: User) -> dict[str, Protocol]:
    return factories.default_protocols(eligible.organization_id, director)


def test_a_plan_is_created_under_the_active_protocols_and_audited(
    eligible: Patient, prescriber: User, active: dict[str, Protocol]
) -> None:
    plan = plans.create_plan(
        eligible,
        induction_protocol=active[ProtocolKind.INDUCTION],
        booster_protocol=None,
        indication="  Treatment-resistant depression (F33.2) ",
        by=prescriber,
    )

    assert (plan.status, plan.indication, plan.created_by) == (
        TreatmentPlan.Status.ACTIVE,
        "Treatment-resistant depression (F33.2)",
        prescriber,
    )
    assert plans.active_plan(eligible) == plan
    [event] = audited(AuditEvent.Action.PLAN_CREATED)
    assert (event.actor, event.patient_id, event.subject_id) == (
        prescriber,
        eligible.pk,
        str(plan.uuid),
    )
    assert event.data["induction_protocol"] == str(active[ProtocolKind.INDUCTION])
    assert event.data["booster_protocol"] is None


def _refused_plan(
    patient: Patient, prescriber: User, **fields: object
) -> TreatmentError:
    before = (
        TreatmentPlan.objects.count(),
        len(audited(AuditEvent.Action.PLAN_CREATED)),
    )
    with pytest.raises(TreatmentError) as refused:
        plans.create_plan(patient, by=prescriber, **fields)  # type: ignore[arg-type]  # the table mixes types
    assert (
        TreatmentPlan.objects.count(),
        len(audited(AuditEvent.Action.PLAN_CREATED)),
    ) == before
    return refused.value


def test_a_plan_under_a_draft_or_the_wrong_kind_of_protocol_is_refused(
    eligible: Patient, prescriber: User, director: User, active: dict[str, Protocol]
) -> None:
    assert director.organization is not None
    draft = protocols.draft_protocol(
        director.organization, kind=ProtocolKind.INDUCTION, by=director
    )
    for induction, booster, field in (
        (draft, None, "induction_protocol"),
        (active[ProtocolKind.BOOSTER], None, "induction_protocol"),
        (
            active[ProtocolKind.INDUCTION],
            active[ProtocolKind.INDUCTION],
            "booster_protocol",
        ),
    ):
        refused = _refused_plan(
            eligible,
            prescriber,
            induction_protocol=induction,
            booster_protocol=booster,
            indication="TRD",
        )
        assert refused.field == field


def test_a_plan_under_another_clinics_protocol_is_refused(
    eligible: Patient,
    prescriber: User,
    other_organization: Organization,
) -> None:
    elsewhere = make_staff(other_organization, "elsewhere", Role.MEDICAL_DIRECTOR)
    theirs = protocols.install_default_protocols(
        other_organization, password=TEST_PASSWORD, by=elsewhere
    )
    refused = _refused_plan(
        eligible,
        prescriber,
        induction_protocol=next(p for p in theirs if p.kind == ProtocolKind.INDUCTION),
        booster_protocol=None,
        indication="TRD",
    )
    assert refused.field == "induction_protocol"


def test_a_plan_says_what_it_treats(
    eligible: Patient, prescriber: User, active: dict[str, Protocol]
) -> None:
    refused = _refused_plan(
        eligible,
        prescriber,
        induction_protocol=active[ProtocolKind.INDUCTION],
        booster_protocol=None,
        indication="   ",
    )
    assert refused.field == "indication"


def test_ending_a_plan_ends_its_orders_and_is_audited(
    eligible: Patient, prescriber: User, director: User
) -> None:
    plan = factories.make_plan(eligible, prescriber, director)
    order = factories.sign_order(plan, prescriber)

    plans.end_plan(plan, reason=" Moved to another clinic ", by=prescriber)

    plan.refresh_from_db()
    order.refresh_from_db()
    assert (plan.status, plan.ended_by, plan.end_reason) == (
        TreatmentPlan.Status.ENDED,
        prescriber,
        "Moved to another clinic",
    )
    assert (order.status, order.ended_by, order.end_reason) == (
        InfusionOrder.Status.DISCONTINUED,
        prescriber,
        "Plan ended",
    )
    [event] = audited(AuditEvent.Action.PLAN_ENDED)
    assert (event.patient_id, event.data["reason"]) == (
        eligible.pk,
        "Moved to another clinic",
    )
    assert plans.active_plan(eligible) is None
    assert plans.plan_status(plan).phase is phases.Phase.ENDED


def test_a_plan_ends_once_and_with_a_reason(
    eligible: Patient, prescriber: User, director: User
) -> None:
    plan = factories.make_plan(eligible, prescriber, director)
    with pytest.raises(TreatmentError) as refused:
        plans.end_plan(plan, reason="", by=prescriber)
    assert refused.value.field == "reason"
    plan.refresh_from_db()
    assert plan.status == TreatmentPlan.Status.ACTIVE
    plans.end_plan(plan, reason="Done", by=prescriber)

    with pytest.raises(TreatmentError, match="already ended"):
        plans.end_plan(plan, reason="Again", by=prescriber)

    assert len(audited(AuditEvent.Action.PLAN_ENDED)) == 1


def test_intake_blocks_name_the_missing_eligibility_and_consent(
    patient: Patient, prescriber: User
) -> None:
    assert plans.intake_blocks(patient) == [
        plans.eligibility_block(patient),
        plans.consent_block(patient),
    ]
    assert len(plans.intake_blocks(patient)) == 2
    factories.ready_for_treatment(patient, prescriber)
    assert plans.intake_blocks(patient) == []


def test_today_is_the_clinics_date_not_utcs(organization: Organization) -> None:
    Location.objects.create(
        organization=organization,
        name="Lakeside Main",
        address_line1="100 Example Avenue",
        city="Springfield",
        state="IL",
        postal_code="62701",
        time_zone="America/Chicago",
    )
    late_evening_in_chicago = datetime(2026, 11, 17, 3, 30, tzinfo=UTC)
    assert plans.clinic_today(organization.pk, now=late_evening_in_chicago) == date(
        2026, 11, 16
    )


def test_a_booster_counts_on_the_plan_and_completes_its_order(
    eligible: Patient, prescriber: User, director: User
) -> None:
    plan = factories.make_plan(eligible, prescriber, director)
    unguarded_update(
        TreatmentPlan.objects.filter(pk=plan.pk),
        induction_dates=[f"2026-10-{d:02d}" for d in (5, 7, 9, 12, 14, 16)],
        induction_completed_at=timezone.now(),
    )
    plan.refresh_from_db()
    booster = factories.sign_order(plan, prescriber, kind=ProtocolKind.BOOSTER)

    completes = plans.record_infusion_given(
        booster, ended_at=timezone.now(), on=date(2026, 12, 1)
    )

    assert completes is False
    plan.refresh_from_db()
    booster.refresh_from_db()
    assert (plan.booster_count, booster.given_count, booster.status) == (
        1,
        1,
        InfusionOrder.Status.COMPLETED,
    )
    assert plan.induction_dates[-1] == "2026-10-16"
