"""Search paging by keyset cursors and `_revinclude`: pages stay put when records are
added, a page deep into a result set is found without OFFSET, and a bad or tampered
cursor is a 400 OperationOutcome. Validated with fhir.resources."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.interop.server import cursor as cursors
from neuroclinic.interop.server import views
from neuroclinic.interop.tests.test_fhir_server import body, validate
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.tests.factories import phq9
from neuroclinic.patients.models import Patient

Fhir = Callable[..., Any]


def _path(url: str) -> str:
    return url.split("/fhir/", 1)[1]


def _next(bundle: dict[str, Any]) -> str | None:
    found = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
    return _path(found[0]) if found else None


def _cursor(url: str) -> str:
    return parse_qs(urlsplit(url).query)["_cursor"][0]


def _responses(patient: Patient, nurse: User, n: int, *, days_ago: int) -> None:
    start = patient.created_at - timedelta(days=days_ago)
    for i in range(n):
        record_response(
            patient,
            instrument_code="phq9",
            answers=phq9(5 + i % 10),
            source=QuestionnaireResponse.Source.STAFF,
            completed_at=start + timedelta(hours=i),
            by=nurse,
        )


def _walk(fhir: Fhir, user: User, path: str, **params: Any) -> list[str]:
    seen: list[str] = []
    page = body(fhir(user, path, **params))
    while True:
        validate(page)
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        nxt = _next(page)
        if nxt is None:
            return seen
        page = body(fhir(user, nxt))


def test_pages_do_not_shift_when_earlier_records_are_added(
    patient: Patient, nurse: User, fhir: Fhir
) -> None:
    _responses(patient, nurse, 7, days_ago=10)
    before = _walk(fhir, nurse, "QuestionnaireResponse", _count=100)
    first = body(fhir(nurse, "QuestionnaireResponse", _count=3))
    assert first["total"] == 7
    # Two responses dated before everything on the first page: offset paging
    # would show two of the first page's responses again on the second.
    _responses(patient, nurse, 2, days_ago=30)
    rest: list[str] = []
    page = first
    while (nxt := _next(page)) is not None:
        page = body(fhir(nurse, nxt))
        assert "total" not in page  # a count of everything, on the first page only
        rest += [e["resource"]["id"] for e in page.get("entry", [])]
    assert [e["resource"]["id"] for e in first["entry"]] + rest == before


def test_a_deep_page_is_found_by_key_not_offset(
    patient: Patient, nurse: User, fhir: Fhir
) -> None:
    _responses(patient, nurse, 9, days_ago=10)
    page = body(fhir(nurse, "QuestionnaireResponse", _count=2))
    for _ in range(3):
        nxt = _next(page)
        assert nxt is not None
        page = body(fhir(nurse, nxt))
    nxt = _next(page)
    assert nxt is not None
    with CaptureQueriesContext(connection) as queries:
        last = fhir(nurse, nxt)
    assert last.status_code == 200
    assert len(body(last)["entry"]) == 1  # the 9th
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert " OFFSET " not in sql
    assert "COUNT(" not in sql  # no total on later pages


def test_paging_crosses_sources_and_splits_a_reading_across_pages(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    """Observations come from scores then vital signs (four per reading): every
    page size walks the same list once."""
    everything = body(fhir(director, "Observation", _count=100))
    ids = [e["resource"]["id"] for e in everything["entry"]]
    assert len(ids) == everything["total"] >= 5
    for size in (1, 2, 3, 4):
        assert _walk(fhir, director, "Observation", _count=size) == ids


def test_a_posted_search_pages_without_the_name_in_any_url(
    patient: Patient,
    director: User,
    front_desk: User,
    client: Client,
    bearer: Callable[[User], dict[str, str]],
    fhir: Fhir,
) -> None:
    from neuroclinic.patients.actions import register_patient

    for given in ("Alex", "Blair", "Cory"):
        register_patient(
            patient.organization,
            by=front_desk,
            family_name="Testova",
            given_name=given,
            birth_date=patient.birth_date,
            sex_at_birth=patient.sex_at_birth,
        )
    posted = body(
        client.post(
            "/fhir/Patient/_search",
            {"family": "testova", "_count": "3"},
            headers=bearer(director),
        )
    )
    assert posted["total"] == 4
    urls = [link["url"] for link in posted["link"]]
    assert not [u for u in urls if "testova" in u.lower()]
    nxt = _next(posted)
    assert nxt is not None
    second = body(fhir(director, nxt))
    names = [
        e["resource"]["name"][0]["given"][0] for e in posted["entry"] + second["entry"]
    ]
    assert sorted(names) == ["Alex", "Blair", "Casey", "Cory"]
    # POSTing the same search again with the cursor is the same page.
    again = body(
        client.post(
            "/fhir/Patient/_search",
            {"family": "testova", "_cursor": _cursor(nxt)},
            headers=bearer(director),
        )
    )
    assert again["entry"] == second["entry"]


def _tamper(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda good, other: _tamper(good), id="one-character-changed"),
        pytest.param(lambda good, other: good[:-10], id="cut-short"),
        pytest.param(lambda good, other: "x" * 50, id="garbage"),
        pytest.param(lambda good, other: "", id="empty"),
        pytest.param(lambda good, other: "%00" + good, id="not-ascii"),
        pytest.param(lambda good, other: good * 40, id="too-long"),
        pytest.param(lambda good, other: other, id="another-resource-type"),
        pytest.param(
            lambda good, other: cursors.encode(
                cursors.Cursor(
                    "QuestionnaireResponse", [], 2, cursors.Position(0, ("x",), 0)
                )
            ),
            id="a-key-of-the-wrong-shape",
        ),
        pytest.param(
            lambda good, other: cursors.encode(
                cursors.Cursor(
                    "QuestionnaireResponse", [], 2, cursors.Position(7, None, 0)
                )
            ),
            id="a-source-that-does-not-exist",
        ),
    ],
)
def test_a_bad_cursor_is_refused(
    patient: Patient,
    nurse: User,
    fhir: Fhir,
    make: Callable[[str, str], str],
) -> None:
    _responses(patient, nurse, 3, days_ago=5)
    good = _cursor(_next(body(fhir(nurse, "QuestionnaireResponse", _count=1))) or "")
    other = _cursor(
        _next(body(fhir(nurse, "Observation", _count=1, category="survey"))) or ""
    )
    before = AuditEvent.objects.count()
    response = fhir(nurse, "QuestionnaireResponse", _cursor=make(good, other))
    assert response.status_code == 400
    outcome = body(response)
    validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome"
    assert "_cursor" in outcome["issue"][0]["diagnostics"]
    # Nothing shown, so no read recorded.
    assert not [
        e
        for e in AuditEvent.objects.order_by("id")[before:]
        if e.data.get("via") == "fhir"
    ]


def test_a_cursor_from_another_server_key_or_search_is_refused(
    patient: Patient, nurse: User, fhir: Fhir
) -> None:
    _responses(patient, nurse, 3, days_ago=5)
    nxt = _next(body(fhir(nurse, "QuestionnaireResponse", _count=1)))
    assert nxt is not None
    with override_settings(SECRET_KEY="another-key-" + "x" * 40):
        assert fhir(nurse, nxt).status_code == 400
    changed = fhir(
        nurse, "QuestionnaireResponse", _cursor=_cursor(nxt), authored="ge2000"
    )
    assert changed.status_code == 400
    assert "another search" in body(changed)["issue"][0]["diagnostics"]
    twice = fhir(nurse, f"{nxt}&_cursor={_cursor(nxt)}")
    assert twice.status_code == 400
    assert fhir(nurse, nxt).status_code == 200  # the untouched link still works


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"_offset": "20"}, "next link"),
        ({"_offset": "20", "_count": "5"}, "next link"),
        ({"_total": "maybe"}, "_total"),
        ({"_count": "ten"}, "_count"),
    ],
)
def test_paging_parameters_are_checked(
    patient: Patient,
    nurse: User,
    fhir: Fhir,
    params: dict[str, str],
    fragment: str,
) -> None:
    response = fhir(nurse, "QuestionnaireResponse", **params)
    assert response.status_code == 400
    assert fragment in body(response)["issue"][0]["diagnostics"]
    lenient = fhir(
        nurse,
        "QuestionnaireResponse",
        headers={"Prefer": "handling=lenient"},
        **params,
    )
    assert lenient.status_code == 400  # paging is never silently ignored


def test_total_can_be_left_out_or_asked_for_on_every_page(
    patient: Patient, nurse: User, fhir: Fhir
) -> None:
    _responses(patient, nurse, 3, days_ago=5)
    assert "total" not in body(fhir(nurse, "QuestionnaireResponse", _total="none"))
    first = body(fhir(nurse, "QuestionnaireResponse", _count=1, _total="accurate"))
    nxt = _next(first)
    assert nxt is not None
    assert body(fhir(nurse, nxt))["total"] == 3


# _revinclude ------------------------------------------------------------------


def test_revinclude_adds_the_patients_observations_and_encounters(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    patient = charted.patient
    before = AuditEvent.objects.count()
    bundle = body(
        fhir(
            director,
            "Patient",
            _id=str(patient.uuid),
            _revinclude=["Observation:subject", "Encounter:subject"],
        )
    )
    validate(bundle)
    modes: dict[str, set[str]] = {}
    for entry in bundle["entry"]:
        validate(entry["resource"])
        modes.setdefault(entry["search"]["mode"], set()).add(
            entry["resource"]["resourceType"]
        )
    assert modes == {"match": {"Patient"}, "include": {"Observation", "Encounter"}}
    assert bundle["total"] == 1  # included resources are not counted
    observations = body(
        fhir(director, "Observation", patient=f"Patient/{patient.uuid}", _count=100)
    )
    included = {
        e["resource"]["id"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    assert included == {e["resource"]["id"] for e in observations["entry"]}
    # Each included type's reads are audited like its own search.
    audited = {
        e.data.get("resource_type")
        for e in AuditEvent.objects.order_by("id")[before:]
        if e.data.get("via") == "fhir"
    }
    assert {"Patient", "Observation", "Encounter"} <= audited


def test_revinclude_of_administrations_on_encounters(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    bundle = body(
        fhir(
            director,
            "Encounter",
            _id=str(charted.uuid),
            _revinclude="MedicationAdministration:context",
        )
    )
    validate(bundle)
    given = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    ]
    assert given
    assert all(g["context"]["reference"] == f"Encounter/{charted.uuid}" for g in given)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("Patient", "Observation:performer"),
        ("Patient", "Bogus:subject"),
        ("Patient", "Observation"),
        ("Patient", "Patient:subject"),
        ("Condition", "Observation:subject"),
        ("Encounter", "MedicationAdministration:patient"),
    ],
)
def test_unsupported_revinclude_pairs_are_refused(
    patient: Patient, director: User, fhir: Fhir, path: str, value: str
) -> None:
    response = fhir(director, path, _revinclude=value)
    assert response.status_code == 400
    outcome = body(response)
    validate(outcome)
    assert "_revinclude" in outcome["issue"][0]["diagnostics"]


def test_revinclude_of_a_type_the_role_may_not_read_is_refused(
    patient: Patient, front_desk: User, fhir: Fhir
) -> None:
    assert fhir(front_desk, "Patient").status_code == 200
    response = fhir(front_desk, "Patient", _revinclude="Observation:subject")
    assert response.status_code == 403


def test_revinclude_says_when_it_stops_at_its_limit(
    charted: InfusionSession,
    director: User,
    fhir: Fhir,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "REVINCLUDE_LIMIT", 2)
    bundle = body(
        fhir(
            director,
            "Patient",
            _id=str(charted.patient.uuid),
            _revinclude="Observation:subject",
        )
    )
    validate(bundle)
    included = [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
    outcomes = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(included) == 2
    assert len(outcomes) == 1
    assert outcomes[0]["resource"]["issue"][0]["code"] == "too-costly"


def _previous(bundle: dict[str, Any]) -> str | None:
    found = [link["url"] for link in bundle["link"] if link["relation"] == "previous"]
    return _path(found[0]) if found else None


def _pages_forward(fhir: Fhir, user: User, path: str, **params: Any) -> list[Any]:
    pages = [body(fhir(user, path, **params))]
    while (nxt := _next(pages[-1])) is not None:
        pages.append(body(fhir(user, nxt)))
    return pages


def _entry_ids(page: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in page.get("entry", [])]


def test_previous_links_walk_back_page_by_page(
    patient: Patient, nurse: User, fhir: Fhir
) -> None:
    """From the last page, `previous` links give every page again, in reverse, with
    the same entries; the first page has none."""
    _responses(patient, nurse, 7, days_ago=10)
    pages = _pages_forward(fhir, nurse, "QuestionnaireResponse", _count=3)
    assert [len(_entry_ids(p)) for p in pages] == [3, 3, 1]
    assert _previous(pages[0]) is None
    page = pages[-1]
    back = [_entry_ids(page)]
    while (prev := _previous(page)) is not None:
        page = body(fhir(nurse, prev))
        validate(page)
        back.append(_entry_ids(page))
    assert back == [_entry_ids(p) for p in reversed(pages)]


def test_previous_links_cross_sources_and_split_readings(
    charted: InfusionSession, director: User, fhir: Fhir
) -> None:
    """Observations (scores, then vital signs four to a reading, then EtCO2) walked
    back from the last page at every page size give the same pages as forward."""
    for size in (1, 2, 3, 5):
        pages = _pages_forward(fhir, director, "Observation", _count=size)
        forward = [_entry_ids(p) for p in pages]
        page = pages[-1]
        back = [_entry_ids(page)]
        while (prev := _previous(page)) is not None:
            page = body(fhir(director, prev))
            back.append(_entry_ids(page))
        assert list(reversed(back)) == forward, size
    # A derived source (a shift's slots) too.
    pages = _pages_forward(fhir, director, "Slot", _count=1)
    assert len(pages) == 3
    prev = _previous(pages[2])
    assert prev is not None
    assert _entry_ids(body(fhir(director, prev))) == _entry_ids(pages[1])


def test_a_tampered_previous_link_is_refused(
    patient: Patient, nurse: User, fhir: Fhir
) -> None:
    _responses(patient, nurse, 5, days_ago=10)
    pages = _pages_forward(fhir, nurse, "QuestionnaireResponse", _count=2)
    prev = _previous(pages[-1])
    assert prev is not None
    raw = _cursor(prev)
    changed = raw[:-5] + ("A" if raw[-5] != "A" else "B") + raw[-4:]
    response = fhir(nurse, "QuestionnaireResponse", _cursor=changed)
    assert response.status_code == 400
    outcome = body(response)
    validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome"
    # Nor does it work for another type.
    assert fhir(nurse, "Observation", _cursor=raw).status_code == 400
