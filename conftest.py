"""Shared test personas, in the spirit of healthchecks' alice/bob/charlie.

- one staff member per role at the Lakeside test clinic (`admin`, `director`,
  `prescriber`, `nurse`, `front_desk`, `tms`, `custodian`, `billing`, `auditor`);
- `outsider`: a nurse at another clinic, who must never see Lakeside's patients;
- `patient`: a synthetic Lakeside patient.

`login(client, user)` signs a test client in the way the sign-in views do:
session plus a verified second factor (a bare force_login is treated as
anonymous by RequireTwoFactorMiddleware, as it should be). `as_persona(name)`
does it by persona name; `bearer(user)` gives API headers with a fresh token.

Access tables parametrize over `EVERYONE` and expect `expected_status(persona,
personas_with(capability))`.
"""

from collections.abc import Callable, Collection
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.http.response import HttpResponseBase
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from hypothesis import settings as hypothesis_settings

from neuroclinic.accounts.actions import create_api_token
from neuroclinic.accounts.models import Authenticator, User
from neuroclinic.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from neuroclinic.clinics.models import Organization
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import Patient

TEST_PASSWORD = "correct-horse-battery-staple"

PERSONA_ROLES = {
    "admin": Role.CLINIC_ADMIN,
    "director": Role.MEDICAL_DIRECTOR,
    "prescriber": Role.PRESCRIBER,
    "nurse": Role.NURSE,
    "front_desk": Role.FRONT_DESK,
    "tms": Role.TMS_TECHNICIAN,
    "custodian": Role.CUSTODIAN,
    "billing": Role.BILLING,
    "auditor": Role.AUDITOR,
}

# Property tests check behaviour, never speed: no per-example deadline, which a
# loaded CI machine would turn into flaky failures (speed lives in benchmarks/).
hypothesis_settings.register_profile("neuroclinic", deadline=None)
hypothesis_settings.load_profile("neuroclinic")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Argon2 is deliberately slow; tests need correctness, not cost (healthchecks' trick).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The rate-limit cache is process memory, not the database a test rolls back.
    caches["ratelimit"].clear()


@pytest.fixture(autouse=True)
def _no_token_cache(settings: Any) -> None:
    # Tests revoke, expire and lock tokens by writing the database, as another
    # process would; the cache honours those within API_TOKEN_CACHE_SECONDS, which
    # accounts/tests/test_token_cache.py tests with the cache on.
    from neuroclinic.accounts.actions import forget_api_tokens

    forget_api_tokens()
    settings.API_TOKEN_CACHE_SECONDS = 0


def make_staff(organization: Organization, username: str, role: Role | None) -> User:
    user = User(
        username=username,
        first_name=username.title(),
        last_name="Tester",
        organization=organization,
    )
    user.set_password(TEST_PASSWORD)
    user.save()
    if role is not None:
        user.groups.set([Group.objects.get(name=role.value)])
    return user


def login(client: Client, user: User) -> Client:
    device = Authenticator.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = Authenticator.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def organization(db: None) -> Organization:
    return Organization.objects.create(name="Lakeside Test Clinic", mrn_prefix="LK")


@pytest.fixture
def other_organization(db: None) -> Organization:
    return Organization.objects.create(name="Elsewhere Test Clinic", mrn_prefix="EW")


@pytest.fixture
def staff(organization: Organization) -> Callable[[str], User]:
    made: dict[str, User] = {}

    def get(persona: str) -> User:
        if persona not in made:
            made[persona] = make_staff(organization, persona, PERSONA_ROLES[persona])
        return made[persona]

    return get


for _persona in PERSONA_ROLES:

    def _fixture(staff: Callable[[str], User], _name: str = _persona) -> User:
        return staff(_name)

    globals()[_persona] = pytest.fixture(_fixture, name=_persona)


@pytest.fixture
def outsider(other_organization: Organization) -> User:
    return make_staff(other_organization, "outsider", Role.NURSE)


@pytest.fixture
def patient(organization: Organization, front_desk: User) -> Patient:
    return patient_actions.register_patient(
        organization,
        by=front_desk,
        family_name="Testova",
        given_name="Casey",
        birth_date=date(1985, 4, 12),
        sex_at_birth=Patient.SexAtBirth.FEMALE,
        phone="555-0142",
        email="casey.testova@example.com",
    )


@pytest.fixture
def as_persona(
    db: None, client: Client, request: pytest.FixtureRequest
) -> Callable[[str], Client]:
    """Sign the test client in as a named persona ("anonymous" leaves it signed out)."""

    def sign_in(persona: str) -> Client:
        if persona != "anonymous":
            login(client, request.getfixturevalue(persona))
        return client

    return sign_in


# Access tables -----------------------------------------------------------------
# One row per persona for each endpoint: every role, a member of another clinic
# and an anonymous visitor. Expected answers come from the one permission matrix
# (accounts/roles.py), not from a list copied into each test module.

EVERYONE = (*PERSONA_ROLES, "outsider", "anonymous")
NON_ADMINS = tuple(p for p in EVERYONE if p not in ("admin", "anonymous"))


def personas_with(capability: Capability) -> frozenset[str]:
    """The Lakeside personas whose role grants `capability`."""
    return frozenset(
        persona
        for persona, role in PERSONA_ROLES.items()
        if capability in ROLE_CAPABILITIES[role]
    )


def expected_status(
    persona: str,
    allowed: Collection[str],
    *,
    ok: int = 200,
    refused: int = 403,
    anonymous: int = 302,
    outsider: int | None = None,
) -> int:
    """What an access table expects `persona` to get.

    `anonymous` is 302 for pages (to sign-in) and 401 for the API. `outsider`
    (a nurse at another clinic) answers as any persona outside `allowed`, unless
    given: 404 for another clinic's records, which must look like no record.
    """
    if persona == "anonymous":
        return anonymous
    if persona == "outsider" and outsider is not None:
        return outsider
    return ok if persona in allowed else refused


def assert_sent_to_sign_in(response: HttpResponseBase) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/?next=")


@pytest.fixture
def bearer(db: None) -> Callable[[User], dict[str, str]]:
    """Authorization headers carrying a fresh API token for a user (`client.get(..., headers=)`)."""

    def headers(user: User) -> dict[str, str]:
        _, raw = create_api_token(user, name="test", by=user)
        return {"Authorization": f"Bearer {raw}"}

    return headers
