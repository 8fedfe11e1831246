"""Protocols, plans, orders and PRN lines are append-only and tamper-evident (issue #15
item 1, which names orders and protocols, and its tamper suite).

A charted course touches every treatment table: two signed versions of the induction
protocol (the first retired) and a draft of a third, the booster protocol, a plan, an
induction order replaced by a dose change, one infusion counted, then the plan ended
(the order discontinued). The database refuses UPDATE and DELETE of each record; with
the triggers switched off, as the table's owner could, `neuroclinic verify` names each
edited, deleted, inserted or reordered record. Then each life-cycle step: what it may
change, and what it may not. Runs on SQLite and PostgreSQL.
"""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction

from conftest import TEST_PASSWORD
from neuroclinic.accounts.models import User
from neuroclinic.audit.seals import SEALED_MODELS, verify_seals
from neuroclinic.audit.tests.tamper import (
    assert_attacks_named,
    assert_refused,
    assert_statement_refused,
)
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions import plans, protocols
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.models import InfusionOrder, Protocol, TreatmentPlan
from neuroclinic.treatment.tests import factories

pytestmark = pytest.mark.django_db

TREATMENT_MODELS = [label for label in SEALED_MODELS if label.startswith("treatment.")]
NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


def _sql(statement: str, params: list[Any]) -> None:
    """A raw statement the triggers allow (inside the test's transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def course(patient: Patient, prescriber: User, director: User) -> TreatmentPlan:
    factories.ready_for_treatment(patient, prescriber)
    first = factories.default_protocols(patient.organization_id, director)
    assert director.organization is not None
    second = protocols.draft_protocol(
        director.organization,
        kind=ProtocolKind.INDUCTION,
        base=first[ProtocolKind.INDUCTION],
        change_note="Reviewed; no change.",
        by=director,
    )
    second = protocols.sign_protocol(second, password=TEST_PASSWORD, by=director)
    protocols.draft_protocol(  # a third version, left a draft
        director.organization,
        kind=ProtocolKind.INDUCTION,
        base=second,
        change_note="Under review.",
        by=director,
    )
    plan = plans.create_plan(
        patient,
        induction_protocol=second,
        booster_protocol=first[ProtocolKind.BOOSTER],
        indication="Treatment-resistant depression (F33.2)",
        by=prescriber,
    )
    replaced = factories.sign_order(plan, prescriber)
    order = factories.sign_order(
        plan, prescriber, supersedes=replaced, reason="Nausea at the first dose."
    )
    plans.record_infusion_given(order, ended_at=NOW, on=date(2026, 11, 16))
    return plans.end_plan(plan, reason="Moved to another clinic.", by=prescriber)


def test_every_treatment_record_refuses_update_and_delete_and_each_attack_is_named(
    course: TreatmentPlan,
) -> None:
    assert verify_seals() == []
    call_command("verify", stdout=_Quiet())
    assert set(TREATMENT_MODELS) == {
        "treatment.protocol",
        "treatment.treatmentplan",
        "treatment.infusionorder",
        "treatment.prnorder",
    }
    reordered = []
    for label in TREATMENT_MODELS:
        model = apps.get_model(label)
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        assert pks, f"the course has no {label}"
        for pk in pks:  # retired, active and draft protocols; both orders
            assert_refused(model, pk)
        made = assert_attacks_named(model, pks[-1], pks[0] if len(pks) > 1 else None)
        assert {"edit", "delete", "insert"} <= set(made), label
        if "reorder" in made:
            reordered.append(label)
    assert set(TREATMENT_MODELS) - set(reordered) == {"treatment.treatmentplan"}
    assert verify_seals() == []  # every attack was rolled back


def test_a_draft_protocol_is_only_signed_and_a_signed_one_only_retired(
    course: TreatmentPlan,
) -> None:
    draft = Protocol.objects.get(status=Protocol.Status.DRAFT)
    active = Protocol.objects.get(
        status=Protocol.Status.ACTIVE, kind=ProtocolKind.INDUCTION
    )
    retired = Protocol.objects.get(status=Protocol.Status.RETIRED)
    table = "treatment_protocol"
    for statement in (
        # A draft's settings are what the director will sign: a change is a new draft.
        f"UPDATE {table} SET dose_mg_per_kg = dose_mg_per_kg + 1 WHERE id = %s",
        f"UPDATE {table} SET status = 'retired' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        assert_statement_refused(statement, [draft.pk])
    for statement in (
        f"UPDATE {table} SET dose_mg_per_kg = dose_mg_per_kg + 1 WHERE id = %s",
        f"UPDATE {table} SET signed_at = NULL WHERE id = %s",
        f"UPDATE {table} SET status = 'draft' WHERE id = %s",
        # Retiring changes the status and its time, not what was signed.
        f"UPDATE {table} SET status = 'retired', content_sha256 = '' WHERE id = %s",
    ):
        assert_statement_refused(statement, [active.pk])
    assert_statement_refused(
        f"UPDATE {table} SET status = 'active' WHERE id = %s", [retired.pk]
    )
    _sql(
        f"UPDATE {table} SET status = 'retired', retired_at = %s WHERE id = %s",
        [NOW, active.pk],
    )
    _sql(
        f"UPDATE {table} SET status = 'active', signed_by_id = created_by_id, "
        "signed_at = created_at, content_sha256 = 'abc' WHERE id = %s",
        [draft.pk],
    )


def test_an_order_is_ended_once_and_counts_what_was_given(
    course: TreatmentPlan,
) -> None:
    ended = InfusionOrder.objects.get(status=InfusionOrder.Status.DISCONTINUED)
    table = "treatment_infusionorder"
    for statement in (
        f"UPDATE {table} SET dose_mg_per_kg = dose_mg_per_kg + 1 WHERE id = %s",
        f"UPDATE {table} SET status = 'active' WHERE id = %s",
        f"UPDATE {table} SET end_reason = 'Rewritten' WHERE id = %s",
        f"UPDATE {table} SET given_count = given_count + 2 WHERE id = %s",
        f"UPDATE {table} SET given_count = given_count - 1 WHERE id = %s",
        f"UPDATE {table} SET given_count = given_count + 1, infusion_count = 9 "
        "WHERE id = %s",
    ):
        assert_statement_refused(statement, [ended.pk])
    # An infusion running when the order ended still counts against it.
    _sql(f"UPDATE {table} SET given_count = given_count + 1 WHERE id = %s", [ended.pk])


def test_an_active_order_changes_only_by_ending(
    patient: Patient, prescriber: User, director: User
) -> None:
    plan = factories.make_plan(
        factories.ready_for_treatment(patient, prescriber), prescriber, director
    )
    order = factories.sign_order(plan, prescriber)
    table = "treatment_infusionorder"
    for statement in (
        f"UPDATE {table} SET dose_mg_per_kg = dose_mg_per_kg + 1 WHERE id = %s",
        f"UPDATE {table} SET signed_at = NULL WHERE id = %s",
        f"UPDATE {table} SET status = 'bogus' WHERE id = %s",
        f"UPDATE {table} SET end_reason = 'Why not' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        assert_statement_refused(statement, [order.pk])
    _sql(
        f"UPDATE {table} SET status = 'discontinued', ended_at = %s, "
        "end_reason = 'Stopped' WHERE id = %s",
        [NOW, order.pk],
    )


def test_a_plan_is_ended_once_and_counts_one_infusion_at_a_time(
    course: TreatmentPlan,
) -> None:
    table = "treatment_treatmentplan"
    for statement in (
        f"UPDATE {table} SET indication = 'Something else' WHERE id = %s",
        f"UPDATE {table} SET status = 'active' WHERE id = %s",
        f"UPDATE {table} SET end_reason = 'Rewritten' WHERE id = %s",
        f"UPDATE {table} SET booster_count = booster_count + 2 WHERE id = %s",
        f"UPDATE {table} SET last_infusion_at = NULL WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        assert_statement_refused(statement, [course.pk])
    _sql(
        f"UPDATE {table} SET booster_count = booster_count + 1, last_infusion_at = %s "
        "WHERE id = %s",
        [NOW, course.pk],
    )


def test_counting_an_induction_infusion_appends_exactly_one_date(
    course: TreatmentPlan,
) -> None:
    """The dates given so far are history: the counting step may only append one date."""
    table = "treatment_treatmentplan"
    assert course.induction_dates == ["2026-11-16"]
    update = f"UPDATE {table} SET induction_dates = %s WHERE id = %s"
    for dates in (
        '["2026-11-01"]',  # the date given replaced by another
        "[]",  # the date given removed
        '["2026-11-01", "2026-11-16"]',  # a date inserted before it
        '["2026-11-16", "2026-11-18", "2026-11-20"]',  # two dates appended at once
        '["2026-11-16", 20261118]',  # something that is not a date string appended
        '["2026-11-16", "2026-11-16", "2026-11-18"]',  # two, one a repeat
    ):
        assert_statement_refused(update, [dates, course.pk])
    # A booster counted with the dates changed is refused too.
    assert_statement_refused(
        f"UPDATE {table} SET booster_count = booster_count + 1, induction_dates = %s "
        "WHERE id = %s",
        ['["2026-11-16", "2026-11-18"]', course.pk],
    )
    # One more date after those given is the step the trigger allows.
    _sql(update, ['["2026-11-16", "2026-11-18"]', course.pk])
    course.refresh_from_db()
    assert course.induction_dates == ["2026-11-16", "2026-11-18"]


def test_the_series_is_completed_once(
    patient: Patient, prescriber: User, director: User
) -> None:
    plan = factories.make_plan(
        factories.ready_for_treatment(patient, prescriber), prescriber, director
    )
    order = factories.sign_order(plan, prescriber)
    days = [date(2026, 11, d) for d in (2, 4, 6, 9, 11, 13)]
    for day in days:
        plans.record_infusion_given(
            order, ended_at=datetime.combine(day, NOW.timetz()), on=day
        )
    plan.refresh_from_db()
    order.refresh_from_db()
    assert plan.induction_completed_at is not None
    assert order.status == InfusionOrder.Status.COMPLETED
    assert order.given_count == 6
    assert_statement_refused(
        "UPDATE treatment_treatmentplan SET induction_dates = '[]', "
        "induction_completed_at = %s WHERE id = %s",
        [NOW, plan.pk],
    )
    assert verify_seals() == []


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
