"""The clinic's office-visit (E/M) time rules as numbered versions (issue #12).

The medical director or clinic admin sets, for each E/M code, the minute its band
starts, the top band's last minute, and the new-patient look-back in years. Bands
are then contiguous by construction (each ends the minute before the next
starts); the starts must increase, and `EmTimeRules` checks the result again.
A change is the next version and applies to visits invoiced after it; an invoice
keeps the version it was coded under (`VisitCoding.rule_version`).
"""

from itertools import pairwise

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.billing.em_rules import DEFAULT_EM_RULES, EmTimeRules, TimeBand
from neuroclinic.billing.errors import BillingError
from neuroclinic.billing.models import EmRuleVersion
from neuroclinic.clinics.models import Organization

MAX_MINUTES = 600  # no office visit band starts or ends later (the page's limit too)
NEW_PATIENT_CODES = ("99202", "99203", "99204", "99205")
ESTABLISHED_CODES = ("99212", "99213", "99214", "99215")


def current_version(organization_id: int) -> EmRuleVersion | None:
    return (
        EmRuleVersion.objects.filter(organization_id=organization_id)
        .order_by("-version")
        .first()
    )


def rules_of(version: EmRuleVersion | None) -> EmTimeRules:
    """The rules a version holds (the built-in defaults, B4 and B4b, when None)."""
    if version is None:
        return DEFAULT_EM_RULES
    return EmTimeRules(
        new_patient=tuple(
            TimeBand(c, lo, hi) for c, lo, hi in version.new_patient_bands
        ),
        established=tuple(
            TimeBand(c, lo, hi) for c, lo, hi in version.established_bands
        ),
        lookback_years=version.lookback_years,
    )


def current_rules(organization_id: int) -> tuple[EmRuleVersion | None, EmTimeRules]:
    version = current_version(organization_id)
    return version, rules_of(version)


def _bands(
    prefix: str, codes: tuple[str, ...], starts: dict[str, int], top: int | None
) -> tuple[TimeBand, ...]:
    unknown = sorted(set(starts) - set(codes))
    if unknown:
        raise BillingError(
            f"Not a code of this family: {', '.join(unknown)} (the codes are "
            f"{', '.join(codes)}).",
            field=f"{prefix}_{unknown[0]}",
            code="band_code",
        )
    for code in codes:
        value = starts.get(code)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BillingError(
                f"{code} starts at minute 1 or later.",
                field=f"{prefix}_{code}",
                code="band_start",
            )
        if value > MAX_MINUTES:
            raise BillingError(
                f"{code} starts at minute {MAX_MINUTES} or earlier.",
                field=f"{prefix}_{code}",
                code="band_start",
            )
    if top is not None and top > MAX_MINUTES:
        raise BillingError(
            f"{codes[-1]}'s band ends at minute {MAX_MINUTES} or earlier (empty: no end).",
            field=f"{prefix}_top",
            code="band_end",
        )
    for before, after in pairwise(codes):
        if starts[after] <= starts[before]:
            raise BillingError(
                f"{after} must start after {before} starts ({starts[before]} min):"
                " the bands increase.",
                field=f"{prefix}_{after}",
                code="bands_increase",
            )
    if top is not None and top < starts[codes[-1]]:
        raise BillingError(
            f"{codes[-1]}'s band ends before it starts.",
            field=f"{prefix}_top",
            code="band_end",
        )
    return tuple(
        TimeBand(
            code, starts[code], starts[codes[n + 1]] - 1 if n + 1 < len(codes) else top
        )
        for n, code in enumerate(codes)
    )


@transaction.atomic
def change_em_rules(
    organization: Organization,
    *,
    new_patient_starts: dict[str, int],
    new_patient_top: int | None,
    established_starts: dict[str, int],
    established_top: int | None,
    lookback_years: int,
    change_note: str,
    by: User,
) -> EmRuleVersion:
    """The next version of the rules, checked; nothing is written when refused."""
    if not change_note.strip():
        raise BillingError(
            "Say why the rules change.", field="change_note", code="note"
        )
    if not 1 <= lookback_years <= 10:
        raise BillingError(
            "The new-patient look-back is 1 to 10 years.",
            field="lookback_years",
            code="lookback",
        )
    new = _bands("new", NEW_PATIENT_CODES, new_patient_starts, new_patient_top)
    established = _bands(
        "established", ESTABLISHED_CODES, established_starts, established_top
    )
    try:
        EmTimeRules(
            new_patient=new, established=established, lookback_years=lookback_years
        )
    except ValueError as exc:  # a second line of defence: the pure rule's own check
        raise BillingError(str(exc), field="bands", code="bands") from None
    previous = (
        EmRuleVersion.objects.select_for_update()
        .filter(organization=organization)
        .order_by("-version")
        .first()
    )
    version = EmRuleVersion.objects.create(
        organization=organization,
        version=(previous.version if previous else 0) + 1,
        new_patient_bands=[[b.code, b.low_minutes, b.high_minutes] for b in new],
        established_bands=[
            [b.code, b.low_minutes, b.high_minutes] for b in established
        ],
        lookback_years=lookback_years,
        change_note=change_note.strip(),
        created_by=by,
    )
    record(
        AuditEvent.Action.BILLING_EM_RULES_CHANGED,
        actor=by,
        organization=organization,
        subject=version,
        version=version.version,
        lookback_years=lookback_years,
    )
    return version
