"""Protocol actions: drafts from the cited defaults or from the active version, the
director's signature, and every refusal writing nothing."""

from decimal import Decimal
from typing import Any

import pytest

from conftest import TEST_PASSWORD, make_staff
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.treatment.actions import protocols
from neuroclinic.treatment.actions.signatures import content_hash
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.errors import TreatmentError
from neuroclinic.treatment.models import Protocol
from neuroclinic.treatment.tests import factories


def audited(action: AuditEvent.Action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def clinic(director: User) -> Organization:
    assert director.organization is not None
    return director.organization


def test_a_draft_from_the_defaults_is_version_1_and_audited(
    clinic: Organization, director: User
) -> None:
    draft = protocols.draft_protocol(clinic, kind=ProtocolKind.BOOSTER, by=director)

    assert (draft.kind, draft.version, draft.status) == (
        ProtocolKind.BOOSTER,
        1,
        Protocol.Status.DRAFT,
    )
    assert draft.created_by == director
    assert draft.signed_at is None
    [event] = audited(AuditEvent.Action.PROTOCOL_DRAFTED)
    assert (event.actor, event.organization_id, event.subject_id) == (
        director,
        clinic.pk,
        str(draft.uuid),
    )
    assert (event.data["version"], event.data["changed"]) == (1, [])


def test_a_new_version_names_what_changed_and_why(
    clinic: Organization, director: User
) -> None:
    active = factories.default_protocols(clinic.pk, director)[ProtocolKind.INDUCTION]

    draft = protocols.draft_protocol(
        clinic,
        kind=ProtocolKind.INDUCTION,
        base=active,
        changes={
            "min_recovery_minutes": 45,
            "duration_minutes": active.duration_minutes,
        },
        change_note="Longer observation",
        by=director,
    )

    assert (draft.version, draft.family, draft.min_recovery_minutes) == (
        2,
        active.family,
        45,
    )
    assert draft.citations["min_recovery_minutes"] == (
        "Changed by Director Tester in version 2: Longer observation"
    )
    # An unchanged value keeps its source.
    assert draft.citations["duration_minutes"] == active.citations["duration_minutes"]
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PROTOCOL_DRAFTED).latest(
        "seq"
    )
    assert event.data["changed"] == ["duration_minutes", "min_recovery_minutes"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unknown_setting": 1}, "unknown_setting"),
        ({"max_dose_mg": Decimal(0)}, "max_dose_mg"),
        ({"diluent_volume_ml": Decimal(2000)}, "diluent_volume_ml"),
        ({"duration_minutes": 5}, "duration_minutes"),
        ({"infusion_count": 0}, "infusion_count"),
        ({"infusions_per_week_min": 4}, "infusions_per_week_min"),
        ({"booster_interval_days_min": 60}, "booster_interval_days_min"),
        ({"min_moaas_score": 6}, "min_moaas_score"),
        ({"baseline_systolic_caution_mmhg": 190}, "baseline_systolic_caution_mmhg"),
        ({"dose_mg_per_kg": Decimal("1.2")}, "dose_mg_per_kg"),
        ({"alarm_thresholds": {"no_such_limit": 1}}, "alarm_thresholds"),
    ],
)
def test_a_contradictory_new_version_is_refused_and_nothing_is_written(
    clinic: Organization, director: User, changes: dict[str, Any], field: str
) -> None:
    active = factories.default_protocols(clinic.pk, director)[ProtocolKind.INDUCTION]
    before = (
        Protocol.objects.count(),
        len(audited(AuditEvent.Action.PROTOCOL_DRAFTED)),
    )

    with pytest.raises(TreatmentError) as refused:
        protocols.draft_protocol(
            clinic,
            kind=ProtocolKind.INDUCTION,
            base=active,
            changes=changes,
            by=director,
        )

    assert refused.value.field == field
    assert (
        Protocol.objects.count(),
        len(audited(AuditEvent.Action.PROTOCOL_DRAFTED)),
    ) == before


def test_a_base_of_another_kind_or_clinic_is_refused(
    clinic: Organization, director: User, other_organization: Organization
) -> None:
    made = factories.default_protocols(clinic.pk, director)
    with pytest.raises(TreatmentError) as refused:
        protocols.draft_protocol(
            clinic,
            kind=ProtocolKind.BOOSTER,
            base=made[ProtocolKind.INDUCTION],
            by=director,
        )
    assert refused.value.field == "base"
    with pytest.raises(TreatmentError):
        protocols.draft_protocol(
            other_organization,
            kind=ProtocolKind.INDUCTION,
            base=made[ProtocolKind.INDUCTION],
            by=director,
        )
    assert Protocol.objects.count() == 2


def test_signing_binds_the_content_and_retires_the_previous_version(
    clinic: Organization, director: User
) -> None:
    v1 = factories.default_protocols(clinic.pk, director)[ProtocolKind.INDUCTION]
    v2 = protocols.draft_protocol(
        clinic,
        kind=ProtocolKind.INDUCTION,
        base=v1,
        changes={"min_recovery_minutes": 45},
        by=director,
    )

    signed = protocols.sign_protocol(v2, password=TEST_PASSWORD, by=director)

    assert signed.status == Protocol.Status.ACTIVE
    assert signed.signed_by == director
    assert signed.content_sha256 == content_hash(protocols.protocol_content(signed))
    v1.refresh_from_db()
    assert (v1.status, v1.retired_at is not None) == (Protocol.Status.RETIRED, True)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PROTOCOL_SIGNED).latest(
        "seq"
    )
    assert (event.subject_id, event.data["replaces_version"]) == (str(v2.uuid), 1)
    assert event.data["content_sha256"] == signed.content_sha256
    assert protocols.active_protocols(clinic.pk, ProtocolKind.INDUCTION) == [signed]


def test_a_signed_version_cannot_be_signed_again(
    clinic: Organization, director: User
) -> None:
    active = factories.default_protocols(clinic.pk, director)[ProtocolKind.BOOSTER]
    signatures = len(audited(AuditEvent.Action.PROTOCOL_SIGNED))

    with pytest.raises(TreatmentError, match="Only a draft"):
        protocols.sign_protocol(active, password=TEST_PASSWORD, by=director)

    active.refresh_from_db()
    assert active.status == Protocol.Status.ACTIVE
    assert len(audited(AuditEvent.Action.PROTOCOL_SIGNED)) == signatures


def test_another_clinics_director_cannot_sign_and_no_password_is_asked(
    clinic: Organization, director: User, other_organization: Organization
) -> None:
    draft = protocols.draft_protocol(clinic, kind=ProtocolKind.INDUCTION, by=director)
    elsewhere = make_staff(other_organization, "elsewhere", Role.MEDICAL_DIRECTOR)

    with pytest.raises(TreatmentError, match="another clinic"):
        protocols.sign_protocol(draft, password=TEST_PASSWORD, by=elsewhere)

    draft.refresh_from_db()
    assert draft.status == Protocol.Status.DRAFT
    assert not audited(AuditEvent.Action.PROTOCOL_SIGNED)
    assert not audited(AuditEvent.Action.SIGNATURE_REFUSED)


@pytest.mark.parametrize("password", ["", "wrong"])
def test_a_wrong_password_is_a_refused_signature_on_the_audit_log(
    clinic: Organization, director: User, password: str
) -> None:
    draft = protocols.draft_protocol(clinic, kind=ProtocolKind.INDUCTION, by=director)

    with pytest.raises(TreatmentError) as refused:
        protocols.sign_protocol(draft, password=password, by=director)

    assert refused.value.field == "password"
    draft.refresh_from_db()
    assert draft.status == Protocol.Status.DRAFT
    [event] = audited(AuditEvent.Action.SIGNATURE_REFUSED)
    assert (event.actor, event.outcome, event.data["what"]) == (
        director,
        AuditEvent.Outcome.DENIED,
        f"protocol {draft.uuid}",
    )
    assert not audited(AuditEvent.Action.PROTOCOL_SIGNED)


def test_the_defaults_install_one_active_protocol_of_each_kind(
    clinic: Organization, director: User
) -> None:
    made = protocols.install_default_protocols(
        clinic, password=TEST_PASSWORD, by=director
    )

    assert sorted(p.kind for p in made) == sorted(ProtocolKind)
    assert all(p.status == Protocol.Status.ACTIVE for p in made)
    assert len(audited(AuditEvent.Action.PROTOCOL_DRAFTED)) == 2
    assert len(audited(AuditEvent.Action.PROTOCOL_SIGNED)) == 2


# Issue 14, items 9 and 10: protocol limits and the second nurse's dose check.


def test_item10_the_second_nurse_check_is_on_by_default_and_off_only_with_a_reason(
    clinic: Organization, director: User
) -> None:
    made = protocols.install_default_protocols(
        clinic, password=TEST_PASSWORD, by=director
    )
    assert all(p.second_check_required for p in made)
    with pytest.raises(TreatmentError, match="second nurse's dose check"):
        protocols.draft_protocol(
            clinic,
            kind=ProtocolKind.INDUCTION,
            base=made[0] if made[0].kind == ProtocolKind.INDUCTION else made[1],
            changes={"second_check_required": False},
            by=director,
        )
    off = protocols.draft_protocol(
        clinic,
        kind=ProtocolKind.INDUCTION,
        changes={"second_check_required": False},
        change_note="Two-nurse checks at the bedside by the pump's dose library",
        by=director,
    )
    assert off.second_check_required is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_dose_mg_per_kg": "1.2"}, "max_dose_mg_per_kg"),
        ({"duration_minutes": 30}, "duration_minutes"),
    ],
)
def test_item9_a_high_ceiling_or_short_infusion_needs_the_directors_reason(
    clinic: Organization, director: User, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(TreatmentError) as refused:
        protocols.draft_protocol(
            clinic, kind=ProtocolKind.INDUCTION, changes=changes, by=director
        )
    assert refused.value.field == field
    assert not Protocol.objects.exists()

    made = protocols.draft_protocol(
        clinic,
        kind=ProtocolKind.INDUCTION,
        changes=changes,
        change_note="Partial responders at 1.0 mg/kg; escalation per K3",
        by=director,
    )
    assert made.pk is not None


def test_item9_above_1_5_mg_per_kg_is_refused_even_with_a_reason(
    clinic: Organization, director: User
) -> None:
    with pytest.raises(TreatmentError, match=r"Above 1\.5 mg/kg is refused"):
        protocols.draft_protocol(
            clinic,
            kind=ProtocolKind.INDUCTION,
            changes={"max_dose_mg_per_kg": "1.6"},
            change_note="Because",
            by=director,
        )
    assert not Protocol.objects.exists()
