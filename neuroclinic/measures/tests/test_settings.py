"""The medical director configures schedules and enters licensed item wording."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import EVERYONE, expected_status
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.common import MeasuresError
from neuroclinic.measures.actions.configuration import (
    add_measurement_rule,
    save_item_wording,
    set_rule_active,
)
from neuroclinic.measures.actions.due_measures import schedule_measures
from neuroclinic.measures.models import DueMeasure, InstrumentWording, MeasurementRule
from neuroclinic.patients.models import Patient


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_the_medical_director_opens_measurement_settings(
    as_persona: Callable[[str], Client], persona: str
) -> None:
    response = as_persona(persona).get("/measures/settings/")

    assert response.status_code == expected_status(persona, {"director"})


def test_adding_a_rule_keeps_the_defaults_and_changes_what_falls_due(
    as_persona: Callable[[str], Client], director: User, patient: Patient
) -> None:
    client = as_persona("director")

    response = client.post(
        "/measures/settings/",
        {
            "form": "rule",
            "instrument_code": "gad7",
            "trigger": "before_infusion",
            "offset_hours": "-24",
            "repeat_count": "1",
            "repeat_every_days": "0",
            "window_hours": "24",
        },
    )
    made = schedule_measures(
        patient,
        trigger=schedules.Trigger.BEFORE_INFUSION,
        event_at=timezone.now() + timedelta(days=1),
        event_ref="x",
    )

    assert response.status_code == 302
    assert MeasurementRule.objects.count() == len(schedules.DEFAULT_RULES) + 1
    assert sorted(d.instrument_code for d in made) == ["gad7", "phq9"]
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.MEASURES_CONFIGURED).count()
        == 1
    )


def test_a_switched_off_rule_no_longer_schedules(
    director: User, patient: Patient
) -> None:
    add_measurement_rule(
        patient.organization_id,
        instrument_code="gad7",
        trigger="intake",
        offset_hours=0,
        repeat_count=1,
        repeat_every_days=0,
        window_hours=72,
        by=director,
    )
    for rule in MeasurementRule.objects.filter(trigger="intake"):
        set_rule_active(rule, active=False, by=director)

    made = schedule_measures(
        patient,
        trigger=schedules.Trigger.INTAKE,
        event_at=timezone.now(),
        event_ref="intake",
    )

    assert made == []
    assert DueMeasure.objects.exists() is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"repeat_count": "3", "repeat_every_days": "0"}, "repeat_every_days"),
        ({"offset_hours": "x"}, "offset_hours"),
    ],
)
def test_a_bad_rule_is_a_field_error_and_writes_nothing(
    as_persona: Callable[[str], Client], change: dict[str, str], field: str
) -> None:
    post = {
        "form": "rule",
        "instrument_code": "phq9",
        "trigger": "intake",
        "offset_hours": "0",
        "repeat_count": "1",
        "repeat_every_days": "0",
        "window_hours": "24",
    } | change

    response = as_persona("director").post("/measures/settings/", post)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert MeasurementRule.objects.exists() is False


def test_the_clinics_wording_replaces_the_short_labels_on_forms(
    as_persona: Callable[[str], Client], patient: Patient
) -> None:
    director = as_persona("director")

    director.post(
        "/measures/settings/wording/madrs/",
        {
            "madrs-1": "Representing despondency, gloom and despair (licensed text, demo).",
            "madrs-2": "",
        },
    )
    form = director.get(
        f"/measures/patients/{patient.uuid}/new/madrs/"
    ).content.decode()

    assert InstrumentWording.objects.get().link_id == "madrs-1"
    assert "Representing despondency, gloom and despair" in form
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.MEASURES_CONFIGURED).count()
        == 1
    )


def test_published_wording_cannot_be_replaced(
    as_persona: Callable[[str], Client],
) -> None:
    assert (
        as_persona("director").get("/measures/settings/wording/phq9/").status_code
        == 404
    )
    with pytest.raises(MeasuresError, match="published wording"):
        save_item_wording(1, instrument_code="phq9", texts={}, by=User())
