"""Order actions: a prescriber's signed order within the protocol, dose changes that
supersede, discontinuation; every refusal writes nothing."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.helpers import unguarded_update
from neuroclinic.intake.models import ConsentDocument
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions import orders, plans
from neuroclinic.treatment.actions.signatures import content_hash
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.errors import TreatmentError
from neuroclinic.treatment.models import InfusionOrder, PrnOrder, TreatmentPlan
from neuroclinic.treatment.tests import factories


@pytest.fixture
def plan(patient: Patient, prescriber: User, director: User) -> TreatmentPlan:
    factories.ready_for_treatment(patient, prescriber)
    return factories.make_plan(patient, prescriber, director)


def written() -> tuple[int, int, int]:
    return (
        InfusionOrder.objects.count(),
        PrnOrder.objects.count(),
        AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_SIGNED).count(),
    )


def refused(plan: TreatmentPlan, prescriber: User, **overrides: Any) -> TreatmentError:
    before = written()
    with pytest.raises(TreatmentError) as caught:
        factories.sign_order(plan, prescriber, **overrides)
    assert written() == before
    return caught.value


def test_a_signed_order_binds_its_content_and_is_audited(
    plan: TreatmentPlan, prescriber: User
) -> None:
    order = factories.sign_order(plan, prescriber)

    prn = orders.protocol_prn(plan.induction_protocol)
    assert order.content_sha256 == content_hash(orders.order_content(order, prn))
    assert (order.signed_by, order.kind, order.protocol) == (
        prescriber,
        InfusionOrder.Kind.INDUCTION,
        plan.induction_protocol,
    )
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_SIGNED)
    assert (event.actor, event.patient_id, event.subject_id) == (
        prescriber,
        plan.patient_id,
        str(order.uuid),
    )
    assert event.data["content_sha256"] == order.content_sha256
    assert event.data["supersedes"] is None
    assert orders.active_order(plan, ProtocolKind.INDUCTION) == order
    assert orders.active_order(plan, ProtocolKind.BOOSTER) is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"dosing_weight_rule": "lean"}, "dosing_weight_rule"),
        ({"diluent_volume_ml": Decimal(2000)}, "diluent_volume_ml"),
        ({"rate_min_percent": 90, "rate_max_percent": 80}, "rate_min_percent"),
        ({"dose_mg_per_kg": Decimal("0.01")}, "dose_mg_per_kg"),
        ({"max_dose_mg": Decimal(0)}, "max_dose_mg"),
        (
            {"prn": [orders.PrnInput("", Decimal(4), "mg", "IV", "Nausea")]},
            "prn.0",
        ),
        (
            {"prn": [orders.PrnInput("Ondansetron", Decimal(0), "mg", "IV", "Nausea")]},
            "prn.0.dose",
        ),
        (
            {"prn": [orders.PrnInput("Ondansetron", Decimal(4), "mg", "XX", "Nausea")]},
            "prn.0.route",
        ),
    ],
)
def test_an_order_outside_the_rules_is_refused_naming_the_field(
    plan: TreatmentPlan, prescriber: User, overrides: dict[str, Any], field: str
) -> None:
    assert refused(plan, prescriber, **overrides).field == field


def test_a_wrong_password_signs_nothing_and_is_on_the_audit_log(
    plan: TreatmentPlan, prescriber: User
) -> None:
    protocol = plan.induction_protocol
    before = written()
    with pytest.raises(TreatmentError) as caught:
        orders.sign_order(
            plan,
            password="not it",
            by=prescriber,
            **factories.order_fields(protocol, kind=ProtocolKind.INDUCTION),
        )
    assert caught.value.field == "password"
    assert written() == before
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGNATURE_REFUSED)
    assert (event.actor, event.data["what"]) == (
        prescriber,
        f"order for plan {plan.uuid}",
    )


def test_no_order_on_an_ended_plan(plan: TreatmentPlan, prescriber: User) -> None:
    plans.end_plan(plan, reason="Stopped treatment", by=prescriber)
    assert "ended" in refused(plan, prescriber).message


def test_no_order_when_the_consent_is_no_longer_current(
    plan: TreatmentPlan, prescriber: User
) -> None:
    ConsentDocument.objects.create(
        organization_id=plan.organization_id,
        kind=ConsentDocument.Kind.KETAMINE,
        version=2,
        title="Ketamine consent v2",
        body="New text.",
    )
    refusal = refused(plan, prescriber)
    assert "consent" in refusal.message.lower()
    assert refusal.field is None


def test_a_dose_change_needs_a_reason_and_the_same_kind(
    plan: TreatmentPlan, prescriber: User
) -> None:
    first = factories.sign_order(plan, prescriber)
    assert (
        refused(plan, prescriber, dose_mg_per_kg=Decimal("0.6"), supersedes=first).field
        == "reason"
    )
    first.refresh_from_db()
    assert first.status == InfusionOrder.Status.ACTIVE

    second = factories.sign_order(
        plan,
        prescriber,
        dose_mg_per_kg=Decimal("0.6"),
        supersedes=first,
        reason="Partial response",
    )

    first.refresh_from_db()
    assert (first.status, first.end_reason) == (
        InfusionOrder.Status.SUPERSEDED,
        "Replaced: Partial response",
    )
    event = AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_SIGNED).latest(
        "seq"
    )
    assert event.data["supersedes"] == str(first.uuid)
    assert second.infusion_count == 6
    # A superseded order cannot be changed again.
    assert "Only an active order" in (
        refused(
            plan,
            prescriber,
            dose_mg_per_kg=Decimal("0.6"),
            supersedes=first,
            reason="Again",
        ).message
    )


def test_a_dose_change_of_another_patients_order_is_refused(
    plan: TreatmentPlan,
    prescriber: User,
    director: User,
    front_desk: User,
) -> None:
    assert front_desk.organization is not None
    other = patient_actions.register_patient(
        front_desk.organization,
        by=front_desk,
        family_name="Demowitz",
        given_name="Alex",
        birth_date=date(1979, 3, 3),
        sex_at_birth=Patient.SexAtBirth.MALE,
    )
    factories.ready_for_treatment(other, prescriber)
    theirs = factories.sign_order(
        factories.make_plan(other, prescriber, director), prescriber
    )

    assert "Only an active order of this plan" in (
        refused(plan, prescriber, supersedes=theirs, reason="Mix-up").message
    )


def test_boosters_need_a_booster_protocol_and_follow_the_series(
    plan: TreatmentPlan, prescriber: User
) -> None:
    assert (
        "Boosters follow"
        in refused(plan, prescriber, kind=ProtocolKind.BOOSTER).message
    )
    unguarded_update(
        TreatmentPlan.objects.filter(pk=plan.pk),
        booster_protocol=None,
        induction_dates=[f"2026-10-{d:02d}" for d in (5, 7, 9, 12, 14, 16)],
    )
    plan.refresh_from_db()
    before = written()
    with pytest.raises(TreatmentError) as caught:
        orders.sign_order(
            plan,
            password=TEST_PASSWORD,
            by=prescriber,
            **factories.order_fields(
                plan.induction_protocol, kind=ProtocolKind.BOOSTER
            ),
        )
    assert (caught.value.field, caught.value.message) == (
        "kind",
        "The plan has no booster protocol.",
    )
    assert written() == before


def test_an_induction_order_after_the_series_is_refused(
    plan: TreatmentPlan, prescriber: User
) -> None:
    unguarded_update(
        TreatmentPlan.objects.filter(pk=plan.pk),
        induction_dates=[f"2026-10-{d:02d}" for d in (5, 7, 9, 12, 14, 16)],
    )
    plan.refresh_from_db()
    assert "order a booster" in refused(plan, prescriber).message


def test_discontinuing_needs_a_reason_and_is_audited(
    plan: TreatmentPlan, prescriber: User
) -> None:
    order = factories.sign_order(plan, prescriber)
    with pytest.raises(TreatmentError) as caught:
        orders.discontinue_order(order, reason=" ", by=prescriber)
    assert caught.value.field == "reason"
    order.refresh_from_db()
    assert order.status == InfusionOrder.Status.ACTIVE
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.ORDER_DISCONTINUED
    ).exists()

    orders.discontinue_order(order, reason="Side effects", by=prescriber)

    order.refresh_from_db()
    assert (order.status, order.ended_by, order.end_reason) == (
        InfusionOrder.Status.DISCONTINUED,
        prescriber,
        "Side effects",
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.ORDER_DISCONTINUED)
    assert (event.patient_id, event.data["reason"]) == (plan.patient_id, "Side effects")
    with pytest.raises(TreatmentError, match="Only an active order"):
        orders.discontinue_order(order, reason="Again", by=prescriber)
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_DISCONTINUED).count()
        == 1
    )
