"""TMS adverse-event reports and structured post-ictal vitals (tms10f, issue #10 item 5).

The rules are pure and table-tested here; the reports are their own append-only, sealed
records, filed by the seizure path, by a manic switch and by hand (page and API), listed
on the course and the chart, and reviewed by a physician's signature.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import TEST_PASSWORD, login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.seals import verify_seals
from neuroclinic.audit.tests.tamper import assert_refused
from neuroclinic.measures.models import SafetyAlert
from neuroclinic.tms import adverse_events, postictal
from neuroclinic.tms.actions import adverse, seizures, sessions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import (
    AdverseEvent,
    AdverseEventReview,
    SeizureEvent,
    TmsCourse,
    TmsSession,
)

Headers = Callable[[User], dict[str, str]]
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
ONSET = NOW - timedelta(minutes=10)


# Post-ictal vitals: the pure rule --------------------------------------------------------


def _vitals(**values: Any) -> postictal.PostIctal:
    return postictal.PostIctal(**({"taken_at": NOW - timedelta(minutes=2)} | values))


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"heart_rate_bpm": 19},
            "heart_rate_bpm",
            "Heart rate 19 beats/min is outside 20-250",
        ),
        ({"heart_rate_bpm": 251}, "heart_rate_bpm", "outside 20-250 beats/min"),
        ({"spo2_percent": 49}, "spo2_percent", "SpO2 49 % is outside 50-100 %"),
        ({"spo2_percent": 101}, "spo2_percent", "outside 50-100"),
        (
            {"systolic_mmhg": 301, "diastolic_mmhg": 90},
            "systolic_mmhg",
            "Systolic blood pressure 301 mmHg is outside 50-300",
        ),
        (
            {"systolic_mmhg": 120, "diastolic_mmhg": 19},
            "diastolic_mmhg",
            "outside 20-200",
        ),
        ({"systolic_mmhg": 120}, "diastolic_mmhg", "both numbers"),
        ({"diastolic_mmhg": 80}, "systolic_mmhg", "both numbers"),
        (
            {"systolic_mmhg": 90, "diastolic_mmhg": 90},
            "diastolic_mmhg",
            "Diastolic 90 mmHg is not below systolic 90 mmHg",
        ),
        ({"gcs_total": 2}, "gcs_total", "3-15, not 2"),
        ({"gcs_total": 16}, "gcs_total", "3-15, not 16"),
        ({"consciousness_avpu": "drowsy"}, "consciousness_avpu", "AVPU"),
        (
            {"heart_rate_bpm": 90, "taken_at": None},
            "vitals_taken_at",
            "when the vitals",
        ),
        (
            {"heart_rate_bpm": 90, "taken_at": NOW + timedelta(minutes=1)},
            "vitals_taken_at",
            "future",
        ),
        (
            {"heart_rate_bpm": 90, "taken_at": ONSET - timedelta(minutes=1)},
            "vitals_taken_at",
            "after the seizure began",
        ),
    ],
)
def test_post_ictal_vitals_out_of_range_are_named(
    values: dict[str, Any], field: str, message: str
) -> None:
    errors = postictal.check(_vitals(**values), onset_at=ONSET, now=NOW)
    assert field in errors
    assert message in errors[field]


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"taken_at": None},
        {"heart_rate_bpm": 20, "spo2_percent": 50},
        {"heart_rate_bpm": 250, "spo2_percent": 100},
        {"systolic_mmhg": 300, "diastolic_mmhg": 200},
        {"systolic_mmhg": 50, "diastolic_mmhg": 20},
        {"consciousness_avpu": "pain", "gcs_total": 3},
        {"consciousness_avpu": "alert", "gcs_total": 15, "taken_at": ONSET},
        {"heart_rate_bpm": 96, "taken_at": NOW},
    ],
)
def test_post_ictal_vitals_in_range_pass(values: dict[str, Any]) -> None:
    assert postictal.check(_vitals(**values), onset_at=ONSET, now=NOW) == {}


def test_vitals_in_the_minute_the_seizure_began_are_not_before_it() -> None:
    onset = ONSET + timedelta(seconds=40)
    same_minute = _vitals(heart_rate_bpm=90, taken_at=ONSET)
    assert postictal.check(same_minute, onset_at=onset, now=NOW) == {}
    earlier = _vitals(heart_rate_bpm=90, taken_at=ONSET - timedelta(seconds=1))
    assert "vitals_taken_at" in postictal.check(earlier, onset_at=onset, now=NOW)


def test_post_ictal_vitals_read_as_one_line() -> None:
    line = postictal.describe(
        heart_rate_bpm=96,
        systolic_mmhg=150,
        diastolic_mmhg=90,
        spo2_percent=97,
        consciousness_avpu="voice",
        gcs_total=13,
        taken_at=datetime(2026, 12, 7, 10, 42, tzinfo=UTC),
    )
    assert line == (
        "HR 96 beats/min, BP 150/90 mmHg, SpO2 97 %, AVPU responds to voice, GCS 13"
        " at 10:42 UTC"
    )


# Adverse-event reports: the pure rule ----------------------------------------------------


def _report(**changes: Any) -> dict[str, str]:
    base: dict[str, Any] = {
        "kind": "syncope",
        "description": "",
        "severity": "moderate",
        "serious": False,
        "seriousness": [],
        "onset_at": ONSET,
        "action_taken": "session_stopped",
        "outcome": "recovered",
        "now": NOW,
    }
    return adverse_events.check_report(**(base | changes))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "nausea"}, "kind"),
        ({"kind": "other"}, "description"),
        ({"kind": "other", "description": "  "}, "description"),
        ({"severity": "extreme"}, "severity"),
        ({"serious": True}, "seriousness"),
        ({"seriousness": ["hospitalisation"]}, "serious"),
        ({"serious": True, "seriousness": ["bad"]}, "seriousness"),
        (
            {"serious": True, "seriousness": ["disability", "disability"]},
            "seriousness",
        ),
        (
            {"outcome": "fatal", "serious": True, "seriousness": ["life_threatening"]},
            "seriousness",
        ),
        ({"onset_at": None}, "onset_at"),
        ({"onset_at": NOW + timedelta(seconds=1)}, "onset_at"),
        ({"action_taken": "prayed"}, "action_taken"),
        ({"outcome": "fine"}, "outcome"),
    ],
)
def test_a_report_with_a_problem_names_the_field(
    changes: dict[str, Any], field: str
) -> None:
    assert field in _report(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"kind": "other", "description": "Jaw pain for a day"},
        {"serious": True, "seriousness": ["hospitalisation", "medically_important"]},
        {"outcome": "fatal", "serious": True, "seriousness": ["death"]},
        {"kind": "hearing_change", "severity": "mild", "onset_at": NOW},
    ],
)
def test_a_sound_report_passes(changes: dict[str, Any]) -> None:
    assert _report(**changes) == {}


# Records ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_seizure_files_its_own_report_with_structured_vitals(
    open_session: TmsSession, tms: User
) -> None:
    onset = timezone.now() - timedelta(minutes=4)
    seizure = seizures.record_seizure(
        open_session,
        onset_at=onset,
        ended_at=onset + timedelta(minutes=1),
        post_ictal_status="Drowsy, oriented at 10 min",
        vitals=postictal.PostIctal(
            heart_rate_bpm=104,
            systolic_mmhg=148,
            diastolic_mmhg=92,
            spo2_percent=95,
            consciousness_avpu="voice",
            gcs_total=14,
            taken_at=onset + timedelta(minutes=2),
        ),
        by=tms,
    )
    seizure.refresh_from_db()
    assert (seizure.heart_rate_bpm, seizure.systolic_mmhg, seizure.diastolic_mmhg) == (
        104,
        148,
        92,
    )
    assert (seizure.spo2_percent, seizure.consciousness_avpu, seizure.gcs_total) == (
        95,
        "voice",
        14,
    )
    assert seizure.vitals == ""  # no free text any more
    assert "HR 104 beats/min, BP 148/92 mmHg" in seizure.vitals_text
    report = seizure.adverse_event
    assert report.kind == "seizure"
    assert report.session == open_session
    assert report.course == open_session.course
    assert report.onset_at == onset
    assert (report.severity, report.serious, report.seriousness) == (
        "severe",
        True,
        ["medically_important"],
    )
    assert report.action_taken == "course_held"
    assert report.outcome == "recovering"  # the seizure had ended
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.TMS_ADVERSE_EVENT_FILED
        ).count()
        == 1
    )
    assert verify_seals() == []


@pytest.mark.django_db
def test_a_manic_switch_files_a_report_beside_its_alert(
    open_session: TmsSession, tms: User
) -> None:
    sessions.record_side_effect(
        open_session, kind="manic_switch", severity="moderate", by=tms
    )
    report = AdverseEvent.objects.get()
    assert (report.kind, report.severity, report.serious) == (
        "manic_switch",
        "moderate",
        False,
    )
    assert SafetyAlert.objects.get().reason == SafetyAlert.Reason.MANIC_SWITCH


@pytest.mark.django_db
def test_refused_reports_write_nothing(tms_course: TmsCourse, tms: User) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "seizure"}, "seizure button"),
        ({"kind": "other"}, "Describe"),
        ({"serious": True}, "why it is serious"),
        ({"onset_at": timezone.now() + timedelta(hours=1)}, "future"),
    ]
    for changes, message in cases:
        args: dict[str, Any] = {
            "course": tms_course,
            "kind": "syncope",
            "severity": "mild",
            "onset_at": timezone.now() - timedelta(minutes=1),
            "action_taken": "none",
            "outcome": "recovered",
            "by": tms,
        } | changes
        with pytest.raises(TmsError, match=message):
            adverse.record_adverse_event(args.pop("course"), **args)
    assert not AdverseEvent.objects.exists()


@pytest.fixture
def report(tms_course: TmsCourse, tms: User) -> AdverseEvent:
    return adverse.record_adverse_event(
        tms_course,
        kind="severe_headache",
        severity="severe",
        onset_at=timezone.now() - timedelta(hours=1),
        action_taken="intensity_reduced",
        outcome="recovering",
        by=tms,
    )


@pytest.mark.django_db
def test_a_physician_signs_the_review_once(
    report: AdverseEvent, prescriber: User, tms: User
) -> None:
    with pytest.raises(TmsError, match="physician"):
        adverse.review_adverse_event(
            report,
            causality="related",
            outcome="recovered",
            note="x",
            password=TEST_PASSWORD,
            by=tms,
        )
    with pytest.raises(TmsError, match="password"):
        adverse.review_adverse_event(
            report,
            causality="related",
            outcome="recovered",
            note="Resolved with paracetamol.",
            password="wrong",
            by=prescriber,
        )
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SIGNATURE_REFUSED, actor=prescriber
    ).exists()
    with pytest.raises(TmsError, match="Document"):
        adverse.review_adverse_event(
            report,
            causality="related",
            outcome="recovered",
            note=" ",
            password=TEST_PASSWORD,
            by=prescriber,
        )
    assert not AdverseEventReview.objects.exists()
    review = adverse.review_adverse_event(
        report,
        causality="possibly_related",
        outcome="recovered",
        note="Resolved with paracetamol.",
        password=TEST_PASSWORD,
        by=prescriber,
    )
    assert review.reviewed_by == prescriber
    assert len(review.content_sha256) == 64
    with pytest.raises(TmsError, match="already reviewed"):
        adverse.review_adverse_event(
            report,
            causality="related",
            outcome="recovered",
            note="Again.",
            password=TEST_PASSWORD,
            by=prescriber,
        )
    # The report itself is as filed: its outcome then, the review's outcome now.
    report.refresh_from_db()
    assert report.outcome == "recovering"
    assert verify_seals() == []


@pytest.mark.django_db
def test_reports_and_reviews_never_change(
    report: AdverseEvent, prescriber: User
) -> None:
    review = adverse.review_adverse_event(
        report,
        causality="related",
        outcome="recovered",
        note="Resolved.",
        password=TEST_PASSWORD,
        by=prescriber,
    )
    assert_refused(AdverseEvent, report.pk)
    assert_refused(AdverseEventReview, review.pk)


@pytest.mark.django_db
def test_the_seizure_table_keeps_its_trigger_after_the_new_columns(
    open_session: TmsSession, tms: User
) -> None:
    seizure = seizures.record_seizure(open_session, by=tms)
    assert_refused(SeizureEvent, seizure.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT heart_rate_bpm FROM tms_seizureevent")
        assert cursor.fetchone() == (None,)


# Pages and API ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_files_a_report_and_lists_it_on_the_course_and_chart(
    tms_course: TmsCourse, client: Client, tms: User, prescriber: User
) -> None:
    login(client, tms)
    url = reverse("tms:adverse_file", args=[tms_course.uuid])
    local = timezone.localtime(
        timezone.now() - timedelta(minutes=30),
        timezone=ZoneInfo(tms_course.location.time_zone),
    )
    data = {
        "kind": "scalp_burn",
        "description": "Small red mark under the coil",
        "severity": "mild",
        "onset_at": local.strftime("%Y-%m-%dT%H:%M"),
        "action_taken": "none",
        "outcome": "recovering",
    }
    refused = client.post(url, data | {"kind": "other", "description": ""})
    assert refused.status_code == 422
    assert "Describe the adverse event." in refused.content.decode()
    refused = client.post(url, data | {"serious": "on"})
    assert refused.status_code == 422
    assert "names why it is serious" in refused.content.decode()
    assert not AdverseEvent.objects.exists()
    assert client.post(url, data).status_code == 302
    event = AdverseEvent.objects.get()
    assert event.recorded_by == tms
    assert abs((event.onset_at - local).total_seconds()) < 60
    course_page = client.get(reverse("tms:course", args=[tms_course.uuid])).content
    assert b"Scalp burn" in course_page
    assert b"Awaiting a physician's review" in course_page
    # The technician cannot sign a review.
    review_url = reverse("tms:adverse_review", args=[event.uuid])
    assert client.post(review_url, {}).status_code == 403
    login(client, prescriber)
    refused = client.post(
        review_url,
        {
            "causality": "related",
            "outcome": "recovered",
            "note": "ok",
            "password": "no",
        },
    )
    assert refused.status_code == 422
    assert "password is not right" in refused.content.decode()
    assert (
        client.post(
            review_url,
            {
                "causality": "related",
                "outcome": "recovered",
                "note": "Healed in 3 days.",
                "password": TEST_PASSWORD,
            },
        ).status_code
        == 302
    )
    course_page = client.get(reverse("tms:course", args=[tms_course.uuid])).content
    assert b"Healed in 3 days." in course_page
    chart = client.get(
        reverse("patients:chart", args=[tms_course.patient.uuid])
    ).content.decode()
    assert 'id="tms-adverse-events"' in chart
    assert "Scalp burn" in chart
    assert "reviewed (related to tms)" in chart


@pytest.mark.django_db
def test_the_seizure_form_takes_structured_vitals_and_names_a_bad_one(
    open_session: TmsSession, client: Client, tms: User
) -> None:
    login(client, tms)
    url = reverse("tms:step", args=[open_session.course.uuid, "seizure"])
    refused = client.post(
        url, {"seizure-heart_rate_bpm": "300", "seizure-spo2_percent": "96"}
    )
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "Heart rate 300 beats/min is outside 20-250 beats/min" in page
    assert "Say when the vitals were taken." in page
    assert not SeizureEvent.objects.exists()
    zone = ZoneInfo(open_session.course.location.time_zone)
    taken = timezone.localtime(timezone.now(), timezone=zone).strftime("%Y-%m-%dT%H:%M")
    ok = client.post(
        url,
        {
            "seizure-heart_rate_bpm": "110",
            "seizure-systolic_mmhg": "150",
            "seizure-diastolic_mmhg": "95",
            "seizure-spo2_percent": "94",
            "seizure-consciousness_avpu": "pain",
            "seizure-gcs_total": "11",
            "seizure-vitals_taken_at": taken,
        },
    )
    assert ok.status_code == 302
    seizure = SeizureEvent.objects.get()
    assert seizure.gcs_total == 11
    assert seizure.consciousness_avpu == "pain"
    course_page = client.get(reverse("tms:course", args=[open_session.course.uuid]))
    assert "HR 110 beats/min, BP 150/95 mmHg, SpO2 94 %" in course_page.content.decode()


@pytest.mark.django_db
def test_the_api_files_lists_and_reviews_reports(
    client: Client,
    open_session: TmsSession,
    tms: User,
    prescriber: User,
    outsider: User,
    bearer: Headers,
) -> None:
    course = open_session.course

    def post(url: str, body: object, who: User) -> Any:
        return client.post(
            url, body, content_type="application/json", headers=bearer(who)
        )

    url = f"/api/tms/courses/{course.uuid}/adverse-events"
    body = {
        "kind": "hearing_change",
        "session": str(open_session.uuid),
        "severity": "moderate",
        "onset_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "action_taken": "session_stopped",
        "outcome": "not_recovered",
    }
    for changes, field in (
        ({"kind": "seizure"}, "kind"),
        ({"serious": True}, "seriousness"),
        ({"severity": "awful"}, "severity"),
        ({"session": "00000000-0000-0000-0000-000000000000"}, "session"),
        ({"onset_at": "2026-12-07T10:00:00"}, "onset_at"),
    ):
        r = post(url, body | changes, tms)
        assert r.status_code == 422, changes
        assert r["Content-Type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]]
    assert not AdverseEvent.objects.exists()
    assert post(url, body, outsider).status_code in (403, 404)
    r = post(url, body, tms)
    assert r.status_code == 201
    made = r.json()
    assert made["session"] == str(open_session.uuid)
    assert made["review"] is None
    listed = client.get(url, headers=bearer(prescriber)).json()
    assert [e["id"] for e in listed] == [made["id"]]
    review_url = f"/api/tms/adverse-events/{made['id']}/review"
    review = {
        "causality": "possibly_related",
        "outcome": "recovering",
        "note": "Audiology referral.",
        "password": TEST_PASSWORD,
    }
    assert post(review_url, review, tms).status_code == 403
    r = post(review_url, review | {"password": "bad"}, prescriber)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["password"]
    r = post(review_url, review, prescriber)
    assert r.status_code == 201
    assert r.json()["review"]["causality"] == "possibly_related"
    detail = client.get(
        f"/api/tms/adverse-events/{made['id']}", headers=bearer(outsider)
    )
    assert detail.status_code in (403, 404)


@pytest.mark.django_db
def test_the_api_refuses_free_text_vitals_and_bad_ones(
    client: Client, open_session: TmsSession, tms: User, bearer: Headers
) -> None:
    url = f"/api/tms/sessions/{open_session.uuid}/seizure"
    for body, field in (
        ({"vitals": "HR 110, BP 150/95"}, "vitals"),
        (
            {"spo2_percent": 40, "vitals_taken_at": timezone.now().isoformat()},
            "spo2_percent",
        ),
        ({"gcs_total": 20}, "gcs_total"),
        (
            {"heart_rate_bpm": 90, "vitals_taken_at": "2026-12-07T10:00:00"},
            "vitals_taken_at",
        ),
    ):
        r = client.post(url, body, content_type="application/json", headers=bearer(tms))
        assert r.status_code == 422, body
        assert field in [e["field"] for e in r.json()["errors"]]
    assert not SeizureEvent.objects.exists()
    assert not SafetyAlert.objects.exists()
