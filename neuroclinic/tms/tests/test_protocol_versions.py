"""Signed clinic TMS protocol versions (issue 10): drafted from the cited defaults,
signed by the medical director, versioned; a signed version never changes on any path
(action, page, API, raw SQL); a new version supersedes it and each course keeps the
exact version it was ordered under; bad input is refused and writes nothing."""

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import EVERYONE, TEST_PASSWORD, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.tests.tamper import assert_statement_refused
from neuroclinic.clinics.models import Organization
from neuroclinic.patients.models import Patient
from neuroclinic.tms import protocols
from neuroclinic.tms.actions import courses
from neuroclinic.tms.actions import protocols as protocol_actions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import TmsCourse, TmsProtocol
from neuroclinic.tms.tests import factories

SignIn = Callable[[str], Client]
Headers = Callable[[User], dict[str, str]]


def post_json(client: Client, url: str, body: object, headers: dict[str, str]) -> Any:
    return client.post(url, body, content_type="application/json", headers=headers)


# The pure check of a version's settings ------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"percent_of_mt": Decimal(125)}, "percent_of_mt"),  # above its own maximum
        ({"percent_of_mt": Decimal(0)}, "percent_of_mt"),
        ({"max_percent_of_mt": Decimal(151)}, "max_percent_of_mt"),
        ({"sessions_per_day": 11}, "sessions_per_day"),
        ({"sessions_per_day": 2, "min_interval_minutes": 0}, "min_interval_minutes"),
        ({"treatment_days_per_week": 8}, "treatment_days_per_week"),
        ({"acute_weeks": (6, 4)}, "acute_weeks"),
        ({"taper_sessions_by_week": (3, 0)}, "taper_sessions_by_week"),
        ({"trains_per_session": 0}, "trains_per_session"),
        ({"trains_per_session": 200}, "trains_per_session"),  # 8000 pulses
        ({"train_seconds": Decimal(0)}, "train_seconds"),
        ({"max_makeup_sessions": 21}, "max_makeup_sessions"),
        ({"name": " "}, "name"),
    ],
)
def test_validate_names_each_bad_setting(changes: dict[str, Any], field: str) -> None:
    assert list(protocols.validate(replace(protocols.RTMS_10HZ, **changes))) == [field]


def test_the_cited_defaults_are_valid() -> None:
    for default in protocols.DEFAULT_PROTOCOLS.values():
        assert protocols.validate(default) == {}


# Drafting, signing, superseding ----------------------------------------------------


@pytest.fixture
def director_org(director: User) -> Organization:
    assert director.organization is not None
    return director.organization


@pytest.mark.django_db
def test_the_director_drafts_and_signs_a_default(
    director: User, director_org: Organization
) -> None:
    draft = protocol_actions.draft_protocol(director_org, code="itbs-600", by=director)
    assert (draft.version, draft.is_signed, protocol_actions.status(draft)) == (
        1,
        False,
        "draft",
    )
    assert draft.parameters == protocols.snapshot(protocols.ITBS)
    signed = protocol_actions.sign_protocol(draft, password=TEST_PASSWORD, by=director)
    assert signed.signed_by == director
    assert len(signed.content_sha256) == 64
    assert protocol_actions.status(signed) == "active"
    assert protocol_actions.latest_signed(director_org.pk, "itbs-600") == signed
    actions = list(
        AuditEvent.objects.filter(subject_id=str(signed.uuid))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        AuditEvent.Action.TMS_PROTOCOL_DRAFTED,
        AuditEvent.Action.TMS_PROTOCOL_SIGNED,
    ]


@pytest.mark.django_db
def test_only_the_medical_director_signs_and_with_the_right_password(
    director: User, director_org: Organization, prescriber: User
) -> None:
    draft = protocol_actions.draft_protocol(director_org, code="itbs-600", by=director)
    with pytest.raises(TmsError, match="Only the medical director"):
        protocol_actions.sign_protocol(draft, password=TEST_PASSWORD, by=prescriber)
    with pytest.raises(TmsError) as wrong:
        protocol_actions.sign_protocol(draft, password="not it", by=director)
    assert list(wrong.value.errors) == ["password"]
    draft.refresh_from_db()
    assert not draft.is_signed
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SIGNATURE_REFUSED, actor=director
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": "rtms-50hz"}, "code"),
        ({"code": "itbs-600", "changes": {"percent_of_mt": "130"}}, "percent_of_mt"),
        (
            {"code": "itbs-600", "changes": {"pulses_per_train": "thirty"}},
            "pulses_per_train",
        ),
        (
            {"code": "itbs-600", "changes": {"pulses_per_train": 2.5}},
            "pulses_per_train",
        ),
        ({"code": "itbs-600", "changes": {"train_seconds": "NaN"}}, "train_seconds"),
        ({"code": "itbs-600", "changes": {"percent_of_mt": "110.25"}}, "percent_of_mt"),
        ({"code": "itbs-600", "changes": {"acute_weeks": 4}}, "acute_weeks"),
        ({"code": "itbs-600", "changes": {"coil": "figure-8"}}, "coil"),
        ({"code": "itbs-600", "changes": {"pattern": "5hz"}}, "pattern"),
    ],
)
def test_a_bad_draft_is_refused_and_writes_nothing(
    director: User, director_org: Organization, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(TmsError) as refused:
        protocol_actions.draft_protocol(director_org, by=director, **kwargs)
    assert field in refused.value.errors
    assert not TmsProtocol.objects.exists()


@pytest.mark.django_db
def test_a_default_is_drafted_once_then_versioned(
    director: User, director_org: Organization
) -> None:
    factories.signed_protocols(director_org.pk)
    with pytest.raises(TmsError, match="draft a new version"):
        protocol_actions.draft_protocol(director_org, code="itbs-600", by=director)
    assert TmsProtocol.objects.filter(code="itbs-600").count() == 1


@pytest.fixture
def screened(patient: Patient, tms: User, prescriber: User) -> Patient:
    factories.clear_screen(patient, tms)
    factories.threshold(patient, tms, prescriber)
    return patient


@pytest.mark.django_db
def test_no_order_without_a_signed_version(
    screened: Patient, prescriber: User, director: User
) -> None:
    assert director.organization_id == screened.organization_id
    protocol_actions.draft_protocol(
        director.organization,  # type: ignore[arg-type]
        code="rtms-10hz",
        by=director,
    )  # a draft is not enough
    with pytest.raises(TmsError, match="no signed version") as refused:
        courses.order_course(
            screened,
            protocol_code="rtms-10hz",
            target=TmsCourse.Target.BEAM_F3,
            acute_sessions=30,
            start_date=date(2026, 1, 5),
            location=factories.make_location(screened.organization_id),
            by=prescriber,
        )
    assert list(refused.value.errors) == ["protocol"]
    assert not TmsCourse.objects.exists()


@pytest.mark.django_db
def test_a_new_version_supersedes_and_each_course_keeps_its_own(
    screened: Patient, prescriber: User, director: User
) -> None:
    first = factories.course(screened, prescriber, protocol_code="itbs-600")
    v1 = first.protocol_version
    assert v1 is not None
    assert v1.version == 1
    assert first.parameters == v1.parameters
    assert first.percent_of_mt == Decimal(120)

    v2 = protocol_actions.draft_protocol(
        director.organization,  # type: ignore[arg-type]
        base=v1,
        changes={"percent_of_mt": "110", "taper_sessions_by_week": [2, 1]},
        change_note="Lower default for tolerability.",
        by=director,
    )
    protocol_actions.sign_protocol(v2, password=TEST_PASSWORD, by=director)
    v1.refresh_from_db()
    assert (v2.version, v2.family, protocol_actions.status(v1)) == (
        2,
        v1.family,
        "superseded",
    )
    v2.refresh_from_db()
    assert v2.supersedes == v1

    second = factories.course(screened, prescriber, protocol_code="itbs-600")
    assert second.protocol_version == v2
    assert second.percent_of_mt == Decimal(110)
    assert second.parameters["taper_sessions_by_week"] == [2, 1]
    first.refresh_from_db()
    assert first.protocol_version == v1
    assert first.parameters["percent_of_mt"] == "120"


# A signed version never changes -----------------------------------------------------


@pytest.fixture
def signed(director: User, director_org: Organization) -> TmsProtocol:
    draft = protocol_actions.draft_protocol(director_org, code="itbs-600", by=director)
    return protocol_actions.sign_protocol(draft, password=TEST_PASSWORD, by=director)


def _unchanged(version: TmsProtocol) -> None:
    before = (version.name, version.parameters, version.change_note)
    version.refresh_from_db()
    assert (version.name, version.parameters, version.change_note) == before
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.TMS_PROTOCOL_EDITED
    ).exists()


@pytest.mark.django_db
def test_the_action_refuses_to_change_a_signed_version(
    signed: TmsProtocol, director: User
) -> None:
    with pytest.raises(protocol_actions.SignedProtocolError, match="never changes"):
        protocol_actions.change_draft(
            signed, changes={"percent_of_mt": "100"}, by=director
        )
    with pytest.raises(protocol_actions.SignedProtocolError):
        protocol_actions.sign_protocol(signed, password=TEST_PASSWORD, by=director)
    _unchanged(signed)


@pytest.mark.django_db
def test_the_page_refuses_to_change_a_signed_version(
    signed: TmsProtocol, as_persona: SignIn
) -> None:
    client = as_persona("director")
    page = client.get(reverse("tms:protocol", args=[signed.uuid]))
    body = page.content.decode()
    assert "Change this draft" not in body  # no edit form on a signed version
    assert "Draft version 2" in body
    data = {
        f"edit-{k}": v
        for k, v in {
            **protocols_form_data(),
            "percent_of_mt": "100",
        }.items()
    }
    response = client.post(reverse("tms:protocol", args=[signed.uuid]), data)
    assert response.status_code == 422
    assert "draft a new version" in response.content.decode()
    _unchanged(signed)


@pytest.mark.django_db
def test_the_api_refuses_to_change_a_signed_version(
    client: Client, signed: TmsProtocol, director: User, bearer: Headers
) -> None:
    url = f"/api/tms/protocols/{signed.uuid}"
    response = client.patch(
        url,
        {"changes": {"percent_of_mt": "100"}},
        content_type="application/json",
        headers=bearer(director),
    )
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "never changes" in response.json()["detail"]
    again = post_json(
        client, f"{url}/sign", {"password": TEST_PASSWORD}, bearer(director)
    )
    assert again.status_code == 409
    _unchanged(signed)


@pytest.mark.django_db
def test_the_database_refuses_to_change_a_signed_version(signed: TmsProtocol) -> None:
    for statement in (
        "UPDATE tms_tmsprotocol SET parameters = '{}' WHERE id = %s",
        "UPDATE tms_tmsprotocol SET signed_at = NULL WHERE id = %s",
        "UPDATE tms_tmsprotocol SET name = 'Edited' WHERE id = %s",
        "DELETE FROM tms_tmsprotocol WHERE id = %s",
    ):
        assert_statement_refused(statement, [signed.pk])
    _unchanged(signed)


@pytest.mark.django_db
def test_a_draft_changes_until_it_is_signed(
    director: User, director_org: Organization, as_persona: SignIn
) -> None:
    draft = protocol_actions.draft_protocol(director_org, code="itbs-600", by=director)
    client = as_persona("director")
    url = reverse("tms:protocol", args=[draft.uuid])
    data = {f"edit-{k}": v for k, v in protocols_form_data().items()}
    bad = client.post(url, data | {"edit-percent_of_mt": "130"})
    assert bad.status_code == 422
    assert "at most the protocol" in bad.content.decode()
    draft.refresh_from_db()
    assert draft.parameters["percent_of_mt"] == "120"
    ok = client.post(url, data | {"edit-percent_of_mt": "110"})
    assert ok.status_code == 302
    draft.refresh_from_db()
    assert draft.parameters["percent_of_mt"] == "110"
    signing = client.post(url, {"sign-password": TEST_PASSWORD})
    assert signing.status_code == 302
    draft.refresh_from_db()
    assert draft.signed_by == director


@pytest.mark.django_db
def test_each_draft_edit_keeps_what_it_changed_from_and_to_in_the_audit_log(
    director: User, director_org: Organization
) -> None:
    """Drafts are edited in place (decision tms10d); their history is the audit log."""
    draft = protocol_actions.draft_protocol(director_org, code="itbs-600", by=director)
    protocol_actions.change_draft(
        draft, changes={"percent_of_mt": Decimal(110)}, by=director
    )
    protocol_actions.change_draft(
        draft, changes={"percent_of_mt": Decimal(100)}, by=director
    )
    edits = AuditEvent.objects.filter(
        action=AuditEvent.Action.TMS_PROTOCOL_EDITED
    ).order_by("seq")
    assert [(e.data["before"], e.data["after"]) for e in edits] == [
        ({"percent_of_mt": "120"}, {"percent_of_mt": "110"}),
        ({"percent_of_mt": "110"}, {"percent_of_mt": "100"}),
    ]


def protocols_form_data() -> dict[str, str]:
    return {
        "name": "iTBS 600 pulses, left DLPFC",
        "pattern": "itbs",
        "pulses_per_train": "30",
        "train_seconds": "2",
        "inter_train_seconds": "8",
        "trains_per_session": "20",
        "percent_of_mt": "120",
        "max_percent_of_mt": "120",
        "sessions_per_day": "1",
        "min_interval_minutes": "0",
        "treatment_days_per_week": "5",
        "acute_weeks_min": "4",
        "acute_weeks_max": "6",
        "taper_sessions_by_week": "",
        "max_makeup_sessions": "5",
        "change_note": "",
    }


# The API ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_drafts_changes_and_signs(
    client: Client, director: User, bearer: Headers
) -> None:
    headers = bearer(director)
    made = post_json(
        client,
        "/api/tms/protocols",
        {"code": "rtms-10hz", "changes": {"max_makeup_sessions": 3}},
        headers,
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["status"], body["parameters"]["max_makeup_sessions"]) == ("draft", 3)
    url = f"/api/tms/protocols/{body['id']}"
    bad = client.patch(
        url,
        {"changes": {"sessions_per_day": 0}},
        content_type="application/json",
        headers=headers,
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["sessions_per_day"]
    wrong = post_json(client, f"{url}/sign", {"password": "nope"}, headers)
    assert wrong.status_code == 422
    signed = post_json(client, f"{url}/sign", {"password": TEST_PASSWORD}, headers)
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "active"
    assert signed.json()["signed_by"] == director.get_full_name()
    listed = client.get("/api/tms/protocols", headers=headers).json()
    assert [p["id"] for p in listed] == [body["id"]]


@pytest.mark.django_db
def test_an_order_under_a_superseded_version_is_refused(
    client: Client,
    screened: Patient,
    prescriber: User,
    director: User,
    bearer: Headers,
) -> None:
    factories.signed_protocols(screened.organization_id)
    v1 = protocol_actions.latest_signed(screened.organization_id, "rtms-10hz")
    assert v1 is not None
    v2 = protocol_actions.draft_protocol(
        director.organization,  # type: ignore[arg-type]
        base=v1,
        changes={"max_makeup_sessions": 2},
        by=director,
    )
    protocol_actions.sign_protocol(v2, password=TEST_PASSWORD, by=director)
    location = factories.make_location(screened.organization_id)
    order = {
        "protocol": "rtms-10hz",
        "protocol_version": str(v1.uuid),
        "target": "beam_f3",
        "acute_sessions": 30,
        "start_date": "2026-01-05",
        "location": str(location.uuid),
    }
    url = f"/api/tms/patients/{screened.uuid}/courses"
    refused = post_json(client, url, order, bearer(prescriber))
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["protocol_version"]
    assert not TmsCourse.objects.exists()
    made = post_json(
        client, url, order | {"protocol_version": str(v2.uuid)}, bearer(prescriber)
    )
    assert made.status_code == 201, made.content
    assert made.json()["protocol_version"] == str(v2.uuid)


# Who may do what --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("persona", EVERYONE)
def test_protocol_pages_access(
    persona: str, signed: TmsProtocol, as_persona: SignIn
) -> None:
    client = as_persona(persona)
    for url in (
        reverse("tms:protocols"),
        reverse("tms:protocol", args=[signed.uuid]),
    ):
        expected = expected_status(
            persona,
            personas_with(Capability.VIEW_TMS),
            # The nurse of another clinic: sees an empty list and no other clinic's protocol.
            outsider=(200 if url == reverse("tms:protocols") else 404)
            if "nurse" in personas_with(Capability.VIEW_TMS)
            else None,
        )
        assert client.get(url).status_code == expected, url
    drafting = client.post(reverse("tms:protocol_new"), {"code": "rtms-10hz"})
    assert drafting.status_code == expected_status(
        persona, personas_with(Capability.MANAGE_PROTOCOLS), ok=302
    )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", EVERYONE)
def test_protocol_api_access(
    persona: str,
    signed: TmsProtocol,
    client: Client,
    request: pytest.FixtureRequest,
    bearer: Headers,
) -> None:
    headers = {} if persona == "anonymous" else bearer(request.getfixturevalue(persona))
    listed = client.get("/api/tms/protocols", headers=headers)
    assert listed.status_code == expected_status(
        persona,
        personas_with(Capability.VIEW_TMS),
        anonymous=401,
        outsider=200 if "nurse" in personas_with(Capability.VIEW_TMS) else None,
    )
    drafted = post_json(client, "/api/tms/protocols", {"code": "rtms-10hz"}, headers)
    assert drafted.status_code == expected_status(
        persona, personas_with(Capability.MANAGE_PROTOCOLS), ok=201, anonymous=401
    )
