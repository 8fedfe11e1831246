"""Someone with a copy of the database edits, deletes or inserts clinical and DEA rows
in raw SQL: `neuroclinic verify` names the record (issue #15, items 1 and 2).

The charted infusion day below touches every clinical table the fixtures reach
(consent, eligibility, protocol, plan, order, session, events, dose, vitals,
ledger). Tampering switches the append-only triggers off first, as a table owner
could. Runs on SQLite and on PostgreSQL.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import Seal
from neuroclinic.audit.seals import SEALED_MODELS, verify_seals
from neuroclinic.audit.tests.helpers import triggers_off
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.actions import monitoring
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.infusions.tests import factories

pytestmark = pytest.mark.django_db(transaction=False)


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _triggers_off(table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")


@pytest.fixture
def charted(running: InfusionSession, monitor: Device) -> InfusionSession:
    monitoring.ingest_readings(
        running,
        [
            factories.reading(
                timezone.now(), monitor, systolic_mmhg=128, diastolic_mmhg=80
            )
        ],
        source=VitalReading.Source.MONITOR,
        by=None,
    )
    return running


def _verify_fails() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify")
    return str(caught.value)


def test_an_untouched_charted_day_verifies(charted: InfusionSession) -> None:
    assert verify_seals() == []
    call_command("verify")


def _tamperable(model: type[models.Model]) -> models.Field[object, object] | None:
    """A column raw SQL can change without breaking a constraint."""
    covered = SEALED_MODELS[model._meta.label_lower]
    for f in model._meta.concrete_fields:
        if f.primary_key or f.is_relation or getattr(f, "choices", None):
            continue
        if covered is not None and f.attname not in covered:
            continue
        if f.unique:
            continue
        if isinstance(f, models.CharField | models.TextField) and not isinstance(
            f, models.EmailField
        ):
            return f
        if isinstance(f, models.DecimalField | models.IntegerField) and not isinstance(
            f, models.PositiveIntegerField | models.PositiveSmallIntegerField
        ):
            return f
    return None


def _change_sql(table: str, field: models.Field[object, object], pk: object) -> str:
    column = connection.ops.quote_name(str(field.column))
    if isinstance(field, models.CharField | models.TextField):
        new = f"{column} || 'X'"
    else:
        new = f"{column} + 1"
    return f"UPDATE {table} SET {column} = {new} WHERE id = %s"


def test_a_raw_update_of_any_sealed_clinical_table_is_named(
    charted: InfusionSession,
) -> None:
    tampered = []
    for label in SEALED_MODELS:
        model = apps.get_model(label)
        row = model._base_manager.order_by("-pk").first()
        field = _tamperable(model)
        if row is None or field is None:
            continue
        table = model._meta.db_table
        _triggers_off(table)
        _sql(_change_sql(table, field, row.pk), [row.pk])
        problems = {(p.model, p.object_id) for p in verify_seals(limit=1000)}
        assert (label, str(row.pk)) in problems, f"{table}.{field.column}"
        tampered.append(label)
    # The day reached these tables: the test covers them, not a lucky few.
    for needed in (
        "infusions.infusionsession",
        "infusions.sessionevent",
        "infusions.doserecord",
        "infusions.vitalreading",
        "intake.eligibilitydecision",
        "intake.consentsignature",
        "treatment.protocol",
        "treatment.infusionorder",
        "ledger.lot",
        "ledger.receipt",
        "patients.patient",
        "accounts.user",
    ):
        assert needed in tampered


def test_the_command_names_the_first_edited_record(charted: InfusionSession) -> None:
    reading = VitalReading.objects.filter(session=charted).latest("pk")
    _triggers_off("infusions_vitalreading")
    _sql(
        "UPDATE infusions_vitalreading SET spo2_percent = 99 WHERE id = %s",
        [reading.pk],
    )
    _sql(
        "UPDATE infusions_vitalreading SET systolic_mmhg = 90 WHERE id = %s",
        [reading.pk],
    )
    message = _verify_fails()
    assert f"infusions.vitalreading #{reading.pk}" in message
    assert "edited outside the application" in message


def test_a_raw_delete_is_named(charted: InfusionSession) -> None:
    reading = VitalReading.objects.filter(session=charted).latest("pk")
    _triggers_off("infusions_vitalreading")
    _sql("DELETE FROM infusions_vitalreading WHERE id = %s", [reading.pk])
    message = _verify_fails()
    assert f"infusions.vitalreading #{reading.pk}" in message
    assert "deleted outside the application" in message


def test_a_raw_insert_is_named(charted: InfusionSession) -> None:
    columns = [
        str(f.column) for f in VitalReading._meta.concrete_fields if not f.primary_key
    ]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    replaced = {"device_key": "%s", "client_key": "NULL"}
    select = ", ".join(replaced.get(c, connection.ops.quote_name(c)) for c in columns)
    source = VitalReading.objects.latest("pk")
    _sql(
        f"INSERT INTO infusions_vitalreading ({quoted}) "
        f"SELECT {select} FROM infusions_vitalreading WHERE id = %s",
        ["forged-monitor", source.pk],
    )
    inserted = VitalReading.objects.get(device_key="forged-monitor")
    message = _verify_fails()
    assert f"infusions.vitalreading #{inserted.pk}" in message
    assert "inserted outside the application" in message


def test_a_seal_forged_to_match_an_edit_is_refused(charted: InfusionSession) -> None:
    """Writing a seal needs the HMAC key, which is not in the database."""
    reading = VitalReading.objects.filter(session=charted).latest("pk")
    _triggers_off("infusions_vitalreading")
    _sql(
        "UPDATE infusions_vitalreading SET spo2_percent = 99 WHERE id = %s",
        [reading.pk],
    )
    honest = Seal.objects.filter(
        model="infusions.vitalreading", object_id=str(reading.pk)
    ).latest("id")
    from neuroclinic.audit.seals import row_hash

    names = honest.fields.split(",")
    row = VitalReading.objects.filter(pk=reading.pk).values(*names).get()
    Seal.objects.create(
        model=honest.model,
        object_id=honest.object_id,
        content_hash=row_hash(names, [row[n] for n in names]),
        fields=honest.fields,
        sealed_at=timezone.now() + timedelta(seconds=1),
        mac="0" * 64,  # the attacker does not have INTEGRITY_KEY
    )
    message = _verify_fails()
    assert "does not carry a valid HMAC" in message


def test_legitimate_changes_through_actions_stay_intact(
    charted: InfusionSession, nurse: User
) -> None:
    from neuroclinic.infusions.actions import session_flow

    session_flow.change_rate(
        charted,
        by=nurse,
        rate_ml_per_hour=(session_flow.rate_limits(charted) or (Decimal(1),))[0],
        reason="Slower",
    )
    assert verify_seals() == []


# What a DEA record shows (21 CFR 1304): each column, edited in raw SQL, is named.
DEA_COLUMNS = [
    ("ledger_product", "name"),
    ("ledger_product", "ndc"),
    ("ledger_lot", "lot_number"),
    ("ledger_lot", "expiry_date"),
    ("ledger_supplier", "name"),
    ("ledger_supplier", "address"),
    ("ledger_supplier", "dea_number"),
    ("ledger_receipt", "invoice_number"),
    ("ledger_receipt", "supplier_name"),
    ("ledger_receipt", "invoice_date"),
    ("ledger_registrant", "dea_number"),
    ("ledger_registrant", "name"),
    ("ledger_container", "vial_identifier"),
    ("patients_patient", "family_name"),
    ("patients_patient", "given_name"),
    ("patients_patient", "address_line1"),
    ("patients_patient", "city"),
    ("accounts_user", "first_name"),
    ("accounts_user", "last_name"),
]


def _model_of(table: str) -> type[models.Model]:
    return next(m for m in apps.get_models() if m._meta.db_table == table)


def test_every_fact_a_dea_record_shows_is_covered(charted: InfusionSession) -> None:
    for table, column in DEA_COLUMNS:
        model = _model_of(table)
        row_id = model._base_manager.order_by("pk").values_list("pk", flat=True)[0]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column} FROM {table} WHERE id = %s",
                [row_id],
            )
            (original,) = cursor.fetchone()
        if "date" in column:
            changed: object = (
                original + timedelta(days=1)
                if not isinstance(original, str)
                else "2031-01-01"
            )
        else:
            changed = f"{original}X"[
                : getattr(model._meta.get_field(column), "max_length", None)
            ]
            if changed == original:
                changed = f"X{original}"[: len(original)]
        with triggers_off(table):  # most of these tables are append-only too
            _sql(f"UPDATE {table} SET {column} = %s WHERE id = %s", [changed, row_id])
        label = model._meta.label_lower
        found = {(p.model, p.object_id) for p in verify_seals(limit=1000)}
        assert (label, str(row_id)) in found, f"{table}.{column}"
        with triggers_off(table):
            _sql(f"UPDATE {table} SET {column} = %s WHERE id = %s", [original, row_id])
        assert verify_seals() == [], f"{table}.{column} restored"


APPEND_ONLY = [
    "infusions_vitalreading",
    "infusions_sessionevent",
    "infusions_noteaddendum",
    "infusions_prngiven",
    "infusions_sedationscore",
    "infusions_recoveryassessment",
    "infusions_adverseevent",
    "intake_consentsignature",
    "intake_eligibilitydecision",
]


def test_charted_records_refuse_update_and_delete(charted: InfusionSession) -> None:
    refused = 0
    for table in APPEND_ONLY:
        model = _model_of(table)
        row_id = model._base_manager.values_list("pk", flat=True).first()
        if row_id is None:
            continue
        for statement in (
            f"UPDATE {table} SET id = id WHERE id = %s",
            f"DELETE FROM {table} WHERE id = %s",
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                _sql(statement, [row_id])
        refused += 1
    assert refused >= 4  # vitals, events, consent, eligibility at least
