"""A monitor's token (scope "vitals") posts vital signs and nothing else."""

import json

from django.test import Client
from django.utils import timezone

from neuroclinic.accounts.actions import create_api_token
from neuroclinic.accounts.models import TokenScope, User
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.infusions.tests import factories


def test_a_vitals_token_posts_vitals_and_is_refused_the_session_record(
    client: Client, nurse: User, running: InfusionSession, monitor: Device
) -> None:
    _, raw = create_api_token(nurse, name="monitor", by=nurse, scope=TokenScope.VITALS)
    headers = {"Authorization": f"Bearer {raw}"}

    posted = client.post(
        f"/api/infusions/sessions/{running.uuid}/vitals",
        json.dumps(factories.reading(timezone.now(), monitor), default=str),
        content_type="application/json",
        headers=headers,
    )
    read = client.get(f"/api/patients/{running.patient.uuid}", headers=headers)

    assert posted.status_code == 200
    assert VitalReading.objects.filter(source="monitor").count() == 1
    assert read.status_code == 403
    assert running.patient.family_name not in read.content.decode()
