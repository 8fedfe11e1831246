"""The demo clinic: synthetic staff, locations and patients for trying Neuroclinic.

Everything here is invented and says so: patients' family names are made-up
words, phones are in the 555-01xx range reserved for fiction, and emails use
example.com. Later apps add their own demo data by extending `load_demo`.
"""

import hashlib
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from neuroclinic.accounts.models import Authenticator, User
from neuroclinic.accounts.otp_secrets import encrypt_secret
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.seals import deferred_seals
from neuroclinic.clinics.models import (
    Device,
    Location,
    OpeningHours,
    Organization,
    Room,
)
from neuroclinic.lib.identifiers import complete_npi
from neuroclinic.patients import actions as patient_actions
from neuroclinic.patients.models import CareTeamProvider, Contact, Patient

DEMO_ORGANIZATION = "Lakeside Interventional Psychiatry (demo)"
# Both demo sites are in Illinois; the browser tests choose another zone so that their
# run falls in the clinic's working day whatever the hour (`neuroclinic demo --time-zone`).
DEMO_TIME_ZONE = "America/Chicago"
DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - published in the README on purpose

# username: (role, first name, last name, title)
DEMO_STAFF = {
    "admin": (Role.CLINIC_ADMIN, "Avery", "Adminson", ""),
    "director": (Role.MEDICAL_DIRECTOR, "Dana", "Directorova", "MD"),
    "prescriber": (Role.PRESCRIBER, "Priya", "Prescottia", "MD"),
    "nurse": (Role.NURSE, "Noah", "Nursewell", "RN"),
    "frontdesk": (Role.FRONT_DESK, "Frankie", "Deskworth", ""),
    "tms": (Role.TMS_TECHNICIAN, "Tomas", "Coilman", ""),
    "custodian": (Role.CUSTODIAN, "Cora", "Keyholder", "RN"),
    "billing": (Role.BILLING, "Billie", "Ledgerly", ""),
    "auditor": (Role.AUDITOR, "Audra", "Checkwell", ""),
}

GIVEN_NAMES = [
    "Alex",
    "Blair",
    "Casey",
    "Devon",
    "Emery",
    "Finley",
    "Gray",
    "Harper",
    "Indigo",
    "Jordan",
    "Kai",
    "Logan",
    "Morgan",
    "Nico",
    "Oakley",
    "Parker",
    "Quinn",
    "Riley",
    "Sage",
    "Taylor",
    "Umber",
    "Val",
    "Wren",
    "Xen",
    "Yael",
    "Zion",
    "Maya",
    "Omar",
    "Lena",
    "Tariq",
]
# Invented surnames, so nobody mistakes a demo chart for a real person's.
FAMILY_NAMES = [
    "Demowitz",
    "Samplesworth",
    "Testova",
    "Fictionson",
    "Mockingham",
    "Placeholder",
    "Synthetico",
    "Examplar",
    "Dummington",
    "Pretendez",
    "Notreal",
    "Madeupson",
    "Imaginari",
    "Specimenoff",
    "Trialworth",
    "Fauxley",
    "Simulado",
    "Prototypo",
    "Testaverde",
    "Inventova",
]
DIAGNOSES = [
    (
        "F33.2",
        "Major depressive disorder, recurrent, severe without psychotic features",
    ),
    (
        "F32.2",
        "Major depressive disorder, single episode, severe without psychotic features",
    ),
    ("F33.1", "Major depressive disorder, recurrent, moderate"),
    ("F41.1", "Generalized anxiety disorder"),
    ("F43.10", "Post-traumatic stress disorder, unspecified"),
    ("F42.2", "Mixed obsessional thoughts and acts"),
]
MEDICATIONS = [
    ("Sertraline", "100 mg daily"),
    ("Bupropion XL", "300 mg daily"),
    ("Escitalopram", "20 mg daily"),
    ("Venlafaxine XR", "150 mg daily"),
    ("Aripiprazole", "5 mg daily"),
    ("Lisinopril", "10 mg daily"),
    ("Levothyroxine", "75 mcg daily"),
    ("Lorazepam", "0.5 mg as needed"),
]
ALLERGIES = [
    ("Penicillin", "Rash"),
    ("Sulfa drugs", "Hives"),
    ("Latex", "Contact dermatitis"),
]


# The main location: its address and opening hours are also what the public site
# shows in its footer and the billing identity prints (one source, issue 18).
MAIN_LOCATION = {
    "name": "Lakeside Main (demo)",
    "street": "100 Example Avenue",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
}
OPENS_AT, CLOSES_AT = time(8), time(17)  # Monday to Friday, at both locations


def main_address_lines() -> tuple[str, str]:
    """The main location's address as two lines: street, then town."""
    town = (
        f"{MAIN_LOCATION['city']}, {MAIN_LOCATION['state']} "
        f"{MAIN_LOCATION['postal_code']}"
    )
    return MAIN_LOCATION["street"], town


def opening_hours_text() -> str:
    """The demo's opening hours in words, as the site's footer shows them."""

    def clock(at: time) -> str:
        return at.strftime("%I %p").lstrip("0").lower().replace("m", ".m.")

    return f"Monday to Friday: {clock(OPENS_AT)} to {clock(CLOSES_AT)}"


@dataclass(frozen=True)
class DemoContext:
    """What each app's demo loader builds on: the clinic, its staff by username, its patients."""

    organization: Organization
    staff: dict[str, User]
    patients: list[Patient]
    rng: random.Random


# Later apps add their demo data here: a dotted path to a function taking a DemoContext.
# The demo clinic app cannot import them (imports run one way), so they are named.
DEMO_EXTENSIONS: list[str] = [
    "neuroclinic.measures.demo.load",
    "neuroclinic.ledger.demo.load",
    "neuroclinic.intake.demo.load",
    "neuroclinic.infusions.demo.load",
    "neuroclinic.tms.demo.load",
    "neuroclinic.billing.demo.load",
    "neuroclinic.letters.demo.load",
    "neuroclinic.outcomes.demo.load",
    "neuroclinic.scheduling.demo.load",
    "neuroclinic.site.demo.load",
]


def patient_count(organization: Organization) -> int:
    """The demo's patients: those asked for and any an app's loader adds for a journey."""
    return Patient.objects.filter(organization=organization).count()


def demo_totp_key(username: str) -> str:
    """A fixed authenticator secret per demo user, so the README can list it."""
    return hashlib.sha1(
        f"neuroclinic-demo-totp-{username}".encode(), usedforsecurity=False
    ).hexdigest()


class DemoPasswordHasher(Argon2PasswordHasher):
    """Argon2 at the project's full cost, remembering what it has already checked.

    The demo signs orders, eligibility decisions and notes as its staff, and each
    signature asks for the signer's password again (the rule stays: the password
    is checked). Every demo user has the same password and the same stored hash,
    so after the first check of a (password, hash) pair the answer is known; the
    demo asks it about two dozen times, each costing Argon2's deliberate second.
    Used only while the demo loads (`load_demo`), never to sign anyone in.
    """

    def __init__(self) -> None:
        self._checked: dict[tuple[str, str], bool] = {}

    def verify(self, password: str, encoded: str) -> bool:
        key = (password, encoded)
        if key not in self._checked:
            self._checked[key] = super().verify(password, encoded)
        return self._checked[key]


@contextmanager
def _demo_password_checks() -> Iterator[None]:
    # In Argon2's place in the list (hashers are looked up by algorithm), so the
    # preferred hasher stays the one the settings name (tests use a fast one).
    demo = f"{DemoPasswordHasher.__module__}.{DemoPasswordHasher.__qualname__}"
    hashers = [
        demo if import_string(path).algorithm == DemoPasswordHasher.algorithm else path
        for path in settings.PASSWORD_HASHERS
    ]
    with override_settings(PASSWORD_HASHERS=hashers):
        yield


def _staff(organization: Organization) -> dict[str, User]:
    users = {}
    # One Argon2 hash for the one published password: hashing it nine times over
    # (each with its own salt) cost the demo nine seconds and protected nothing.
    encoded = make_password(DEMO_PASSWORD)
    for username, (role, first, last, title) in DEMO_STAFF.items():
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            title=title,
            email=f"{username}@example.com",
            organization=organization,
        )
        user.password = encoded
        user.save()
        user.groups.set([Group.objects.get(name=role.value)])
        Authenticator.objects.create(
            user=user,
            name="Demo authenticator",
            secret_encrypted=encrypt_secret(bytes.fromhex(demo_totp_key(username))),
            confirmed=True,
        )
        users[username] = user
    return users


def _locations(organization: Organization, time_zone: str) -> None:
    sites = [
        (
            MAIN_LOCATION["name"],
            MAIN_LOCATION["street"],
            MAIN_LOCATION["city"],
            MAIN_LOCATION["state"],
            MAIN_LOCATION["postal_code"],
            time_zone,
        ),
        (
            "Riverside Annex (demo)",
            "200 Sample Road",
            "Shelbyville",
            "IL",
            "62565",
            time_zone,
        ),
    ]
    for index, (name, street, city, state, postal, zone) in enumerate(sites):
        location = Location.objects.create(
            organization=organization,
            name=name,
            address_line1=street,
            city=city,
            state=state,
            postal_code=postal,
            time_zone=zone,
            phone=f"555-010{index}",
        )
        for weekday in range(5):
            OpeningHours.objects.create(
                location=location,
                weekday=weekday,
                opens_at=OPENS_AT,
                closes_at=CLOSES_AT,
            )
        rooms = [
            Room.objects.create(
                location=location, name=f"Infusion {n}", kind=Room.Kind.INFUSION
            )
            for n in (1, 2, 3)
        ]
        rooms.append(
            Room.objects.create(location=location, name="TMS 1", kind=Room.Kind.TMS)
        )
        Room.objects.create(location=location, name="Consult A", kind=Room.Kind.CONSULT)
        for n, room in enumerate(rooms[:3], start=1):
            Device.objects.create(
                location=location,
                room=room,
                kind=Device.Kind.INFUSION_PUMP,
                name=f"Pump {n}",
                manufacturer="Example Medical",
                model_name="Demo-Pump 100",
                serial_number=f"DP{index}{n:03d}",
            )
            Device.objects.create(
                location=location,
                room=room,
                kind=Device.Kind.MONITOR,
                name=f"Monitor {n}",
                manufacturer="Example Medical",
                model_name="Demo-Vitals 5",
                serial_number=f"DM{index}{n:03d}",
            )
        Device.objects.create(
            location=location,
            room=rooms[3],
            kind=Device.Kind.TMS_UNIT,
            name="TMS coil unit",
            manufacturer="Example Neuro",
            model_name="Demo-TMS",
            serial_number=f"DT{index}001",
        )


def _patients(
    organization: Organization,
    count: int,
    by: User,
    nurse: User,
    rng: random.Random,
) -> list[Patient]:
    patients = []
    today = date(2026, 11, 1)
    for n in range(count):
        given = rng.choice(GIVEN_NAMES)
        family = FAMILY_NAMES[n % len(FAMILY_NAMES)]
        birth = today - timedelta(days=rng.randint(19 * 365, 78 * 365))
        sex = rng.choice([Patient.SexAtBirth.FEMALE, Patient.SexAtBirth.MALE])
        patient = patient_actions.register_patient(
            organization,
            by=by,
            family_name=family,
            given_name=given,
            preferred_name=rng.choice(["", "", "", given[:3]]),
            birth_date=birth,
            sex_at_birth=sex,
            pronouns="she/her" if sex == Patient.SexAtBirth.FEMALE else "he/him",
            phone=f"555-01{n % 100:02d}",
            email=f"{given.lower()}.{family.lower()}{n}@example.com",
            address_line1=f"{100 + n} Demo Street",
            city="Springfield",
            state="IL",
            postal_code="62701",
        )
        patient_actions.add_contact(
            patient,
            by=by,
            kind=Contact.Kind.ESCORT,
            name=f"{rng.choice(GIVEN_NAMES)} {family}",
            relationship=rng.choice(["Spouse", "Parent", "Sibling", "Friend"]),
            phone=f"555-01{(n + 37) % 100:02d}",
        )
        patient_actions.add_care_team_provider(
            patient,
            by=by,
            role=CareTeamProvider.Role.REFERRING,
            name=f"Dr {rng.choice(FAMILY_NAMES)} (demo)",
            npi=complete_npi(f"1{rng.randint(10**7, 10**8 - 1)}"),
            practice="Example Family Practice",
            phone="555-0150",
            fax="555-0151",
        )
        code, description = rng.choice(DIAGNOSES)
        patient_actions.add_diagnosis(
            patient, by=nurse, icd10_code=code, description=description
        )
        for name, dose in rng.sample(MEDICATIONS, rng.randint(1, 3)):
            patient_actions.add_medication(patient, by=nurse, name=name, dose=dose)
        if rng.random() < 0.25:
            substance, reaction = rng.choice(ALLERGIES)
            patient_actions.add_allergy(
                patient, by=nurse, substance=substance, reaction=reaction
            )
        patients.append(patient)
    return patients


@transaction.atomic
def load_demo(
    *, patient_count: int = 220, seed: int = 2026, time_zone: str = DEMO_TIME_ZONE
) -> Organization:
    if Organization.objects.filter(name=DEMO_ORGANIZATION).exists():
        raise ValueError("The demo clinic is already loaded in this database.")
    # Each row the loaders save is sealed once, at the end, in one pass per table
    # (audit.seals.deferred_seals); signatures check the demo password once.
    with deferred_seals(), _demo_password_checks():
        return _load(patient_count, seed, time_zone)


def _load(patient_count: int, seed: int, time_zone: str) -> Organization:
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    organization = Organization.objects.create(
        name=DEMO_ORGANIZATION,
        phone="555-0100",
        email="hello@example.com",
        website="https://example.com",
        mrn_prefix="LK",
    )
    _locations(organization, time_zone)
    staff = _staff(organization)
    patients = _patients(
        organization, patient_count, staff["frontdesk"], staff["nurse"], rng
    )
    context = DemoContext(
        organization=organization, staff=staff, patients=patients, rng=rng
    )
    for path in DEMO_EXTENSIONS:
        loader: Callable[[DemoContext], None] = import_string(path)
        loader(context)
    return organization
