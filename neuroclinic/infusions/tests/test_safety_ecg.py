"""Issue 14, item 8: an optional ECG rhythm on each vital-sign reading, typed on the
tablet or sent by a monitor, shown on the monitoring screen and in the record; a bad
rhythm is refused with its reason and nothing is stored."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.actions import monitoring
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession, RejectedReading, VitalReading
from neuroclinic.infusions.note_text import vital_phases
from neuroclinic.infusions.tests import factories

VITALS = {
    "systolic_mmhg": "126",
    "diastolic_mmhg": "80",
    "heart_rate_bpm": "72",
    "spo2_percent": "98",
    "respiratory_rate_per_min": "14",
    "etco2_mmhg": "",
}


def step(session: InfusionSession, name: str) -> str:
    return reverse(
        "infusions:step", kwargs={"session_uuid": session.uuid, "step_name": name}
    )


def test_item8_a_typed_rhythm_is_stored_and_shown_on_the_screen(
    client: Client, running: InfusionSession, nurse: User
) -> None:
    login(client, nurse)
    before = VitalReading.objects.count()
    response = client.post(
        step(running, "vitals"),
        VITALS | {"ecg_rhythm": "other", "ecg_rhythm_other": "Frequent ectopic beats"},
    )
    assert response.status_code == 302
    assert VitalReading.objects.count() == before + 1
    reading = VitalReading.objects.latest("id")
    assert (reading.ecg_rhythm, reading.ecg_rhythm_other) == (
        "other",
        "Frequent ectopic beats",
    )
    page = client.get(
        reverse("infusions:session", kwargs={"session_uuid": running.uuid})
    ).content.decode()
    assert "ECG rhythm" in page  # the field on the form
    assert "Other: Frequent ectopic beats" in page
    assert "not sinus rhythm: review" in page


def test_item8_without_a_rhythm_nothing_is_recorded_for_it(
    running: InfusionSession, nurse: User
) -> None:
    monitoring.record_typed_vitals(running, VITALS, by=nurse)
    reading = VitalReading.objects.latest("id")
    assert reading.ecg_rhythm is None
    assert reading.ecg_rhythm_label == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ecg_rhythm": "other"}, "ecg_rhythm_other"),
        ({"ecg_rhythm": "vt"}, "ecg_rhythm"),
        (
            {"ecg_rhythm": "sinus_rhythm", "ecg_rhythm_other": "irregular"},
            "ecg_rhythm_other",
        ),
        ({"ecg_rhythm_other": "irregular"}, "ecg_rhythm"),
    ],
)
def test_item8_a_bad_rhythm_is_refused_and_nothing_is_stored(
    running: InfusionSession, nurse: User, changes: dict[str, str], field: str
) -> None:
    before = VitalReading.objects.count()
    with pytest.raises(InfusionError) as refused:
        monitoring.record_typed_vitals(running, VITALS | changes, by=nurse)
    assert field in refused.value.errors
    assert VitalReading.objects.count() == before


def test_item8_the_tablet_form_refuses_a_rhythm_not_in_the_list(
    client: Client, running: InfusionSession, nurse: User
) -> None:
    login(client, nurse)
    before = VitalReading.objects.count()
    response = client.post(step(running, "vitals"), VITALS | {"ecg_rhythm": "vt"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert VitalReading.objects.count() == before


def test_item8_a_monitor_sends_the_rhythm_and_a_bad_one_is_rejected_with_its_field(
    client: Client, running: InfusionSession, monitor: Device, nurse: User
) -> None:
    login(client, nurse)
    now = timezone.now()
    good = factories.reading(now, monitor) | {"ecg_rhythm": "atrial_fibrillation"}
    bad = factories.reading(now.replace(microsecond=0), monitor) | {
        "ecg_rhythm": "other"
    }
    response = client.post(
        f"/api/infusions/sessions/{running.uuid}/vitals",
        json.dumps([good, bad]),
        content_type="application/json",
    )
    body = response.json()
    assert body["accepted"] == 1
    assert body["rejected"][0]["index"] == 1
    assert "ecg_rhythm_other" in body["rejected"][0]["errors"]
    assert VitalReading.objects.latest("id").ecg_rhythm == "atrial_fibrillation"
    assert RejectedReading.objects.count() == 1


def test_item8_the_record_lists_the_rhythms_seen(
    running: InfusionSession, nurse: User
) -> None:
    monitoring.record_typed_vitals(
        running, VITALS | {"ecg_rhythm": "sinus_rhythm"}, by=nurse
    )
    monitoring.record_typed_vitals(
        running,
        VITALS | {"ecg_rhythm": "sinus_tachycardia"},
        taken_at=timezone.now(),
        by=nurse,
    )
    phases = vital_phases(list(running.vitals.order_by("taken_at", "id")))
    assert phases[-1]["ecg_rhythms"] == "Sinus rhythm x1, Sinus tachycardia x1"
