"""The FAQ and the site editor's index take a fixed number of queries, however many entries
(questions, clinicians, photos)."""

from collections.abc import Callable
from typing import Any

from django.test import Client

from neuroclinic.accounts.models import User
from neuroclinic.clinics.models import Organization
from neuroclinic.site.models import ClinicianProfile, FaqEntry, SitePhoto

PageQueries = Callable[[int], Any]


def _faq(organization: Organization, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        FaqEntry.objects.create(
            organization=organization,
            question=f"Demo question {n}?",
            answer=f"Demo answer {n}.",
            position=n,
        )


def _people_and_photos(organization: Organization, count: int, by: User) -> None:
    for n in range(count):
        ClinicianProfile.objects.create(
            organization=organization, name=f"Person {n}", role="Nurse", position=n
        )
        SitePhoto.objects.create(
            organization=organization,
            image=f"site/photos/{n}.jpg",
            width=10,
            height=10,
            alt_text=f"Photo {n}",
            uploaded_by=by,
        )


def test_the_public_faq(
    client: Client, organization: Organization, django_assert_num_queries: PageQueries
) -> None:
    _faq(organization, 1)
    client.get("/faq/")

    with django_assert_num_queries(4):
        assert client.get("/faq/").status_code == 200
    _faq(organization, 12, start=1)
    with django_assert_num_queries(4):
        assert "Demo question 12?" in client.get("/faq/").content.decode()


def test_the_site_editors_index(
    as_persona: Callable[[str], Client],
    organization: Organization,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("admin")
    admin = User.objects.get(username="admin")
    _faq(organization, 1)
    _people_and_photos(organization, 1, admin)
    client.get("/staff/site/")

    with django_assert_num_queries(14):
        assert client.get("/staff/site/").status_code == 200
    _faq(organization, 12, start=1)
    _people_and_photos(organization, 12, admin)
    with django_assert_num_queries(14):
        assert client.get("/staff/site/").status_code == 200
