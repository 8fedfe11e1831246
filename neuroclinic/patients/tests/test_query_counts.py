"""Patient lists take a fixed number of queries, however many patients they show.

Each test asks twice, with a few rows and with many, and pins the count both
times, so an N+1 query shows as a failure (docs/architecture.md, "Reads").
"""

from collections.abc import Callable
from typing import Any

from django.test import Client

from neuroclinic.clinics.models import Organization
from neuroclinic.patients.tests.factories import make_patient

PageQueries = Callable[[int], Any]


def _register(organization: Organization, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        make_patient(organization, family_name=f"Listwell{n:02d}")


def test_the_patient_list_page(
    as_persona: Callable[[str], Client],
    organization: Organization,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("front_desk")
    _register(organization, 2)
    client.get("/patients/")  # the first request after sign-in warms the session

    with django_assert_num_queries(11):
        assert client.get("/patients/").status_code == 200
    _register(organization, 30, start=2)
    with django_assert_num_queries(11):
        assert client.get("/patients/").status_code == 200


def test_a_search_on_the_patient_page(
    as_persona: Callable[[str], Client],
    organization: Organization,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("front_desk")
    _register(organization, 2)
    client.get("/patients/")

    with django_assert_num_queries(11):
        assert client.post("/patients/", {"q": "listwell"}).status_code == 200
    _register(organization, 18, start=2)
    with django_assert_num_queries(11):
        assert client.post("/patients/", {"q": "listwell"}).status_code == 200


def test_the_patient_list_api(
    as_persona: Callable[[str], Client],
    organization: Organization,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("front_desk")
    _register(organization, 2)
    client.get("/api/patients")

    with django_assert_num_queries(9):
        assert client.get("/api/patients").json()["count"] == 2
    _register(organization, 30, start=2)
    with django_assert_num_queries(9):
        assert client.get("/api/patients").json()["count"] == 32


def test_the_patient_search_api(
    as_persona: Callable[[str], Client],
    organization: Organization,
    django_assert_num_queries: PageQueries,
) -> None:
    client = as_persona("front_desk")
    _register(organization, 2)
    client.get("/api/patients")

    def search() -> list[Any]:
        response = client.post(
            "/api/patients/search", {"q": "listwell"}, content_type="application/json"
        )
        assert response.status_code == 200
        return list(response.json())

    with django_assert_num_queries(9):
        assert len(search()) == 2
    _register(organization, 18, start=2)
    with django_assert_num_queries(9):
        assert len(search()) == 20
