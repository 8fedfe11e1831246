"""Issue 14, item 3: how an alert was closed matters. Closed as high risk, or with a
pause, an urgent evaluation or emergency services, it keeps holding treatment until a
prescriber signs that treatment may resume."""

from collections.abc import Callable

import pytest
from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.measures.actions.alerts import (
    acknowledge_alert,
    resume_treatment_after_alert,
    safety_alert_blocks_treatment,
)
from neuroclinic.measures.actions.common import MeasuresError
from neuroclinic.measures.models import SafetyAlert, TreatmentResumption
from neuroclinic.measures.tests.test_actions import (  # noqa: F401 (fixtures)
    ASSESSMENT,
    open_alert,
    treated,
)
from neuroclinic.patients.models import Patient

PASSWORD = "correct-horse-battery-staple"


@pytest.mark.parametrize(
    ("risk_level", "disposition", "holds"),
    [
        ("high", "safety_plan", True),
        ("moderate", "pause_treatment", True),
        ("low", "urgent_evaluation", True),
        ("moderate", "emergency_services", True),
        ("low", "safety_plan", False),
        ("moderate", "treat_with_monitoring", False),
    ],
)
def test_item3_an_alert_closed_as_high_risk_or_a_pause_keeps_blocking(
    open_alert: SafetyAlert,  # noqa: F811
    prescriber: User,
    treated: Patient,  # noqa: F811
    risk_level: str,
    disposition: str,
    holds: bool,
) -> None:
    acknowledge_alert(
        open_alert,
        by=prescriber,
        risk_level=risk_level,
        disposition=disposition,
        disposition_note="Noted",
        assessment=ASSESSMENT,
    )

    blocked = safety_alert_blocks_treatment(treated)

    assert (blocked is not None) == holds
    if holds:
        assert blocked is not None
        assert "until a prescriber signs" in blocked


def test_item3_a_signed_resumption_lifts_the_hold_and_is_audited(
    open_alert: SafetyAlert,  # noqa: F811
    prescriber: User,
    treated: Patient,  # noqa: F811
) -> None:
    acknowledge_alert(
        open_alert,
        by=prescriber,
        risk_level="high",
        disposition="urgent_evaluation",
        disposition_note="Seen by crisis team",
        assessment=ASSESSMENT,
    )
    with pytest.raises(MeasuresError, match="password"):
        resume_treatment_after_alert(
            open_alert, reason="Evaluated", password="wrong", by=prescriber
        )
    with pytest.raises(MeasuresError, match="why"):
        resume_treatment_after_alert(
            open_alert, reason=" ", password=PASSWORD, by=prescriber
        )
    assert safety_alert_blocks_treatment(treated) is not None

    resume_treatment_after_alert(
        open_alert,
        reason="Urgent evaluation done; safe to continue with weekly C-SSRS",
        password=PASSWORD,
        by=prescriber,
    )

    assert safety_alert_blocks_treatment(treated) is None
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SAFETY_ALERT_TREATMENT_RESUMED
    ).exists()
    with pytest.raises(MeasuresError, match="already"):
        resume_treatment_after_alert(
            open_alert, reason="Again", password=PASSWORD, by=prescriber
        )


def test_item3_a_nurse_cannot_resume_treatment(
    open_alert: SafetyAlert,  # noqa: F811
    prescriber: User,
    nurse: User,
    as_persona: Callable[[str], Client],
) -> None:
    acknowledge_alert(
        open_alert,
        by=prescriber,
        risk_level="high",
        disposition="pause_treatment",
        disposition_note="",
        assessment=ASSESSMENT,
    )
    with pytest.raises(MeasuresError, match="Only a prescriber"):
        resume_treatment_after_alert(
            open_alert, reason="Fine", password=PASSWORD, by=nurse
        )

    page = as_persona("nurse").post(
        f"/measures/alerts/{open_alert.uuid}/resume/",
        {"reason": "Fine", "password": PASSWORD},
    )

    assert page.status_code == 403
    assert not TreatmentResumption.objects.exists()


def test_item3_the_alert_page_signs_the_resumption(
    open_alert: SafetyAlert,  # noqa: F811
    prescriber: User,
    treated: Patient,  # noqa: F811
    as_persona: Callable[[str], Client],
) -> None:
    acknowledge_alert(
        open_alert,
        by=prescriber,
        risk_level="moderate",
        disposition="emergency_services",
        disposition_note="",
        assessment=ASSESSMENT,
    )
    client = as_persona("prescriber")
    shown = client.get(f"/measures/alerts/{open_alert.uuid}/")
    assert b"stay on hold" in shown.content

    refused = client.post(
        f"/measures/alerts/{open_alert.uuid}/resume/",
        {"reason": "Back from the ED, discharged", "password": "nope"},
    )
    assert refused.status_code == 200
    assert b"password is not right" in refused.content
    assert safety_alert_blocks_treatment(treated) is not None

    done = client.post(
        f"/measures/alerts/{open_alert.uuid}/resume/",
        {"reason": "Back from the ED, discharged", "password": PASSWORD},
    )
    assert done.status_code == 302
    assert safety_alert_blocks_treatment(treated) is None
