"""Clinic configuration by the medical director: item wording and measurement rules."""

from collections.abc import Mapping

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.common import MeasuresError
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    get_instrument,
)
from neuroclinic.measures.models import (
    InstrumentWording,
    MeasurementRule,
)


@transaction.atomic
def save_item_wording(
    organization_id: int,
    *,
    instrument_code: str,
    texts: Mapping[str, str],
    by: User,
) -> int:
    """Store the clinic's licensed wording for an instrument's items; a blank text removes it.

    Returns how many items now have the clinic's own wording.
    """
    instrument = get_instrument(instrument_code)
    if instrument.wording_redistributable:
        raise MeasuresError(f"{instrument.name} ships with its published wording.")
    known = {item.link_id for item in instrument.items}
    unknown = sorted(set(texts) - known)
    if unknown:
        raise MeasuresError(
            f"{unknown[0]!r} is not an item of {instrument.name}.", field=unknown[0]
        )
    changed = []
    for link_id, raw in texts.items():
        text = raw.strip()
        existing = InstrumentWording.objects.filter(
            organization_id=organization_id,
            instrument_code=instrument.code,
            link_id=link_id,
        ).first()
        if not text:
            if existing is not None:
                existing.delete()
                changed.append(link_id)
        elif existing is None:
            InstrumentWording.objects.create(
                organization_id=organization_id,
                instrument_code=instrument.code,
                link_id=link_id,
                text=text,
                updated_by=by,
            )
            changed.append(link_id)
        elif existing.text != text:
            existing.text = text
            existing.updated_by = by
            existing.save(update_fields=["text", "updated_by", "updated_at"])
            changed.append(link_id)
    if changed:
        record(
            AuditEvent.Action.MEASURES_CONFIGURED,
            actor=by,
            what="item_wording",
            instrument=instrument.code,
            items=changed,
        )
    return InstrumentWording.objects.filter(
        organization_id=organization_id, instrument_code=instrument.code
    ).count()


@transaction.atomic
def add_measurement_rule(
    organization_id: int,
    *,
    instrument_code: str,
    trigger: str,
    offset_hours: int,
    repeat_count: int,
    repeat_every_days: int,
    window_hours: int,
    by: User,
) -> MeasurementRule:
    """Add a schedule rule. A clinic's first rule starts from the cited defaults, so they are kept."""
    if instrument_code not in INSTRUMENTS or not INSTRUMENTS[instrument_code].collected:
        raise MeasuresError("Choose a questionnaire.", field="instrument_code")
    if trigger not in MeasurementRule.Trigger.values:
        raise MeasuresError("Choose when it falls due.", field="trigger")
    if repeat_count < 1 or (repeat_count > 1 and repeat_every_days < 1):
        raise MeasuresError(
            "A repeating rule needs days between repeats.", field="repeat_every_days"
        )
    if not MeasurementRule.objects.filter(organization_id=organization_id).exists():
        for default in schedules.DEFAULT_RULES:
            MeasurementRule.objects.create(
                organization_id=organization_id,
                instrument_code=default.instrument_code,
                trigger=str(default.trigger),
                offset_hours=default.offset_hours,
                repeat_count=default.repeat_count,
                repeat_every_days=default.repeat_every_days,
                window_hours=default.window_hours,
            )
    rule = MeasurementRule.objects.create(
        organization_id=organization_id,
        instrument_code=instrument_code,
        trigger=trigger,
        offset_hours=offset_hours,
        repeat_count=repeat_count,
        repeat_every_days=repeat_every_days,
        window_hours=window_hours,
    )
    record(
        AuditEvent.Action.MEASURES_CONFIGURED,
        actor=by,
        what="rule_added",
        instrument=instrument_code,
        trigger=trigger,
        offset_hours=offset_hours,
        repeat_count=repeat_count,
    )
    return rule


@transaction.atomic
def set_rule_active(rule: MeasurementRule, *, active: bool, by: User) -> None:
    if rule.is_active == active:
        return
    rule.is_active = active
    rule.save(update_fields=["is_active"])
    record(
        AuditEvent.Action.MEASURES_CONFIGURED,
        actor=by,
        what="rule_active" if active else "rule_inactive",
        rule=rule.pk,
    )
