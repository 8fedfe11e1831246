"""The measures API contract (issue #3): the instrument list, definitions and scoring.

A patient's responses and alerts: test_api.py.

Other tools rely on these shapes, so each test pins status, content type and
body precisely, runs over every instrument where the contract is per
instrument, and checks on every refusal that nothing was written.
"""

import json
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.tests import api_client as api
from neuroclinic.measures.tests.api_answers import (
    CODES,
    KNOWN_ITEM_LOINC,
    KNOWN_SCORES,
    LOWEST_EXPECTED,
    PUBLISHED_LINK_IDS,
    Expected,
    bad_values,
    lowest_answers,
    score_payload,
)
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

SCORE_LIMIT_PER_MINUTE = 60


def test_the_tables_cover_every_instrument() -> None:
    assert tuple(INSTRUMENTS) == CODES
    assert set(PUBLISHED_LINK_IDS) == set(CODES)
    assert set(LOWEST_EXPECTED) == set(CODES)
    assert {case[1] for case in KNOWN_SCORES} == set(CODES)


# GET /api/instruments ------------------------------------------------------------


def test_the_list_names_every_instrument_with_its_version_without_sign_in(
    client: Client,
) -> None:
    body = api.ok(client.get("/api/instruments"))

    assert [entry["code"] for entry in body] == list(CODES)
    for entry in body:
        instrument = INSTRUMENTS[entry["code"]]
        assert entry["name"] == instrument.name
        assert entry["version"] == instrument.version == "1.0"
        assert entry["rater"] == instrument.rater
        assert entry["recall_period"] == instrument.recall_period
        assert entry["loinc_panel"] == instrument.loinc_panel
        assert entry["loinc_total"] == instrument.loinc_total


def test_the_list_gives_the_published_loinc_totals(client: Client) -> None:
    body = {entry["code"]: entry for entry in api.ok(client.get("/api/instruments"))}

    assert (body["phq9"]["loinc_panel"], body["phq9"]["loinc_total"]) == (
        "44249-1",
        "44261-6",
    )
    assert body["gad7"]["loinc_total"] == "70274-6"
    assert body["audit-c"]["loinc_panel"] == "72109-2"
    assert body["madrs"]["rater"] == "clinician"
    assert body["phq9"]["rater"] == "patient"


# GET /api/instruments/{code} -----------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_a_definition_lists_its_items_in_published_order(
    client: Client, code: str
) -> None:
    instrument = INSTRUMENTS[code]

    body = api.ok(client.get(f"/api/instruments/{code}"))

    assert (body["code"], body["name"], body["version"]) == (
        code,
        instrument.name,
        instrument.version,
    )
    link_ids = [item["linkId"] for item in body["items"]]
    assert link_ids == PUBLISHED_LINK_IDS[code]
    assert link_ids == [item.link_id for item in instrument.items]
    assert body["total_range"] == (
        list(instrument.total_range) if instrument.total_range else None
    )
    for shown, item in zip(body["items"], instrument.items, strict=True):
        assert {"linkId", "text", "required", "loinc", "options"} <= set(shown)
        assert shown["text"] == item.text
        assert shown["text"]
        assert shown["required"] is item.required
        assert shown["loinc"] == item.loinc
        assert shown["options"] == [
            {"value": option.value, "label": option.label} for option in item.options
        ]
        assert shown["options"]


@pytest.mark.parametrize(("code", "link_id", "loinc"), KNOWN_ITEM_LOINC)
def test_items_carry_their_loinc_codes(
    client: Client, code: str, link_id: str, loinc: str
) -> None:
    body = api.ok(client.get(f"/api/instruments/{code}"))

    item = next(i for i in body["items"] if i["linkId"] == link_id)
    assert item["loinc"] == loinc


def test_phq9_item_10_is_optional_and_the_options_are_the_published_answers(
    client: Client,
) -> None:
    items = api.ok(client.get("/api/instruments/phq9"))["items"]

    assert [item["required"] for item in items] == [True] * 9 + [False]
    assert items[0]["options"] == [
        {"value": 0, "label": "Not at all"},
        {"value": 1, "label": "Several days"},
        {"value": 2, "label": "More than half the days"},
        {"value": 3, "label": "Nearly every day"},
    ]


def test_the_cssrs_definition_carries_its_branching(client: Client) -> None:
    items = {
        item["linkId"]: item
        for item in api.ok(client.get("/api/instruments/cssrs-screener"))["items"]
    }

    for link_id in ("cssrs-screener-3", "cssrs-screener-4", "cssrs-screener-5"):
        assert items[link_id]["enableWhen"] == {
            "question": "cssrs-screener-2",
            "answer": 1,
        }
    assert items["cssrs-screener-6a"]["enableWhen"] == {
        "question": "cssrs-screener-6",
        "answer": 1,
    }
    assert items["cssrs-screener-1"]["enableWhen"] is None


@pytest.mark.parametrize("code", ["phq4", "PHQ9", "phq-9", "nope"])
def test_an_unknown_instrument_is_404(client: Client, code: str) -> None:
    body = api.problem(client.get(f"/api/instruments/{code}"), 404)

    assert body["title"] == "Not found"


# POST /api/instruments/{code}/score: valid answers ------------------------------


@pytest.mark.parametrize("code", CODES)
def test_a_full_set_of_lowest_answers_scores_as_published_and_stores_nothing(
    client: Client, code: str
) -> None:
    before = api.written()

    response = api.score(client, code, score_payload(code, lowest_answers(code)))

    assert api.ok(response) == api.expected_body(code, LOWEST_EXPECTED[code])
    assert api.written() == before


@pytest.mark.parametrize(
    ("code", "answers", "sex", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in KNOWN_SCORES],
)
def test_known_inputs_score_as_published(
    client: Client,
    code: str,
    answers: dict[str, Any],
    sex: str | None,
    expected: Expected,
) -> None:
    before = api.written()
    payload: dict[str, Any] = {"answers": answers}
    if sex is not None:
        payload["sex"] = sex

    response = api.score(client, code, payload)

    assert api.ok(response) == api.expected_body(code, expected)
    assert api.written() == before


def test_phq9_all_3s_is_severe_with_the_item9_flag_and_crisis_resources(
    client: Client, patient: Patient, prescriber: User, director: User
) -> None:
    before = api.written()

    body = api.ok(
        api.score(client, "phq9", {"answers": {f"phq9-{n}": 3 for n in range(1, 10)}})
    )

    assert (body["total"], body["severity"]) == (27, "severe")
    assert body["flags"] == ["phq9_item9_positive"]
    assert body["safety_alert"] is True
    resources = " ".join(body["crisis_resources"])
    assert "988" in resources
    assert "911" in resources
    assert "press 1" in resources
    # The public self-check raises no alert, notifies nobody and logs nothing.
    assert api.written() == before


def test_scoring_needs_no_sign_in_and_gives_the_same_to_staff(
    client: Client, nurse: User
) -> None:
    payload = {"answers": {f"gad7-{n}": 1 for n in range(1, 8)}}
    anonymous = api.ok(api.score(client, "gad7", payload))

    signed_in = api.ok(api.score(login(Client(), nurse), "gad7", payload))

    assert anonymous == signed_in
    assert (anonymous["total"], anonymous["severity"]) == (7, "mild")


# POST /api/instruments/{code}/score: refusals -----------------------------------

MISSING_CASES = [
    pytest.param(code, link_id, id=f"{code}-without-{link_id}")
    for code in CODES
    for link_id in lowest_answers(code)
]


@pytest.mark.parametrize(("code", "link_id"), MISSING_CASES)
def test_a_missing_required_answer_is_422_naming_the_item(
    client: Client, code: str, link_id: str
) -> None:
    answers = lowest_answers(code)
    del answers[link_id]
    before = api.written()

    response = api.score(client, code, score_payload(code, answers))

    assert api.fields(response) == [f"answers.{link_id}"]
    [message] = api.messages(response)
    assert "required" in message or "at least one of" in message
    assert link_id in message
    assert api.written() == before


@pytest.mark.parametrize("code", CODES)
def test_null_is_the_same_as_no_answer(client: Client, code: str) -> None:
    answers = lowest_answers(code)
    first = next(iter(answers))
    answers[first] = None

    response = api.score(client, code, score_payload(code, answers))

    assert api.fields(response) == [f"answers.{first}"]
    assert api.messages(response) == [f"{first}: an answer is required."]


@pytest.mark.parametrize("code", CODES)
def test_no_answers_at_all_names_every_required_item(client: Client, code: str) -> None:
    response = api.score(client, code, score_payload(code, {}))

    fields = api.fields(response)
    assert sorted(fields) == sorted(
        f"answers.{link_id}" for link_id in lowest_answers(code)
    )


BAD_VALUE_CASES = [
    pytest.param(code, link_id, value, kind, id=f"{code}-{link_id}={value!r}")
    for code in CODES
    for link_id in [next(iter(lowest_answers(code))), list(lowest_answers(code))[-1]]
    for value, kind in bad_values(code, link_id)
]


@pytest.mark.parametrize(("code", "link_id", "value", "kind"), BAD_VALUE_CASES)
def test_a_value_not_among_the_options_or_of_the_wrong_type_is_422_naming_the_item(
    client: Client, code: str, link_id: str, value: object, kind: str
) -> None:
    answers = lowest_answers(code) | {link_id: value}
    before = api.written()

    response = api.score(client, code, score_payload(code, answers))

    assert api.fields(response) == [f"answers.{link_id}"]
    [message] = api.messages(response)
    assert message.startswith(f"{link_id}: ")
    if kind == "option":
        assert f"{value} is not an option" in message
    else:
        assert "must be an int option value" in message
    assert api.written() == before


UNKNOWN_ITEM_CASES = [
    pytest.param(code, extra, id=f"{code}+{extra}")
    for code in CODES
    for extra in (f"{code}-99", f"{code}-0", "not-an-item", "PHQ9-1")
]


@pytest.mark.parametrize(("code", "extra"), UNKNOWN_ITEM_CASES)
def test_an_unknown_link_id_is_422_naming_it(
    client: Client, code: str, extra: str
) -> None:
    answers = lowest_answers(code) | {extra: 0}
    before = api.written()

    response = api.score(client, code, score_payload(code, answers))

    assert api.fields(response) == [f"answers.{extra}"]
    assert api.messages(response) == [f"{extra!r} is not an item of {code}."]
    assert api.written() == before


def test_every_problem_in_a_response_is_named(client: Client) -> None:
    answers = lowest_answers("phq9") | {"phq9-2": 7, "phq9-3": "1", "phq9-11": 0}
    del answers["phq9-1"]

    response = api.score(client, "phq9", {"answers": answers})

    assert sorted(api.fields(response)) == [
        "answers.phq9-1",
        "answers.phq9-11",
        "answers.phq9-2",
        "answers.phq9-3",
    ]


def test_a_cssrs_item_asked_only_after_yes_to_item_2_must_be_left_unanswered(
    client: Client,
) -> None:
    answers = lowest_answers("cssrs-screener") | {"cssrs-screener-3": 0}

    response = api.score(client, "cssrs-screener", {"answers": answers})

    assert api.fields(response) == ["answers.cssrs-screener-3"]
    assert "must be left unanswered" in api.messages(response)[0]


def test_cssrs_yes_to_item_2_requires_items_3_to_5(client: Client) -> None:
    answers = lowest_answers("cssrs-screener") | {"cssrs-screener-2": 1}

    response = api.score(client, "cssrs-screener", {"answers": answers})

    assert api.fields(response) == [
        "answers.cssrs-screener-3",
        "answers.cssrs-screener-4",
        "answers.cssrs-screener-5",
    ]


def test_cssrs_item_6a_is_asked_only_after_lifetime_behaviour(client: Client) -> None:
    answers = lowest_answers("cssrs-screener") | {"cssrs-screener-6a": 1}

    response = api.score(client, "cssrs-screener", {"answers": answers})

    assert api.fields(response) == ["answers.cssrs-screener-6a"]


def test_qids_needs_one_of_each_appetite_and_weight_pair(client: Client) -> None:
    answers = lowest_answers("qids-sr16")
    del answers["qids-sr16-6"], answers["qids-sr16-8"]

    response = api.score(client, "qids-sr16", {"answers": answers})

    assert api.fields(response) == ["answers.qids-sr16-6", "answers.qids-sr16-8"]
    assert api.messages(response) == [
        "Answer at least one of qids-sr16-6, qids-sr16-7.",
        "Answer at least one of qids-sr16-8, qids-sr16-9.",
    ]


@pytest.mark.parametrize(
    "sex",
    [
        pytest.param(None, id="missing"),
        pytest.param("other", id="other"),
        pytest.param("", id="empty"),
        pytest.param("F", id="abbreviated"),
        pytest.param(1, id="number"),
    ],
)
def test_audit_c_without_a_usable_sex_is_422_naming_sex(
    client: Client, sex: object
) -> None:
    payload: dict[str, Any] = {"answers": lowest_answers("audit-c")}
    if sex is not None:
        payload["sex"] = sex
    before = api.written()

    response = api.score(client, "audit-c", payload)

    assert api.fields(response) == ["sex"]
    assert api.written() == before


def test_sex_is_ignored_where_the_cut_offs_do_not_depend_on_it(client: Client) -> None:
    body = api.ok(
        api.score(client, "phq2", {"answers": {"phq2-1": 0, "phq2-2": 0}, "sex": "x"})
    )

    assert body["total"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="empty-body"),
        pytest.param({"sex": "male"}, id="no-answers"),
        pytest.param({"answer": {"phq9-1": 0}}, id="misspelt"),
        pytest.param({"answers": None}, id="null"),
        pytest.param({"answers": [0, 0, 0]}, id="list"),
        pytest.param({"answers": "phq9-1=0"}, id="string"),
    ],
)
def test_a_body_without_an_answers_object_is_422_naming_answers(
    client: Client, payload: dict[str, Any]
) -> None:
    before = api.written()

    response = api.score(client, "phq9", payload)

    assert api.fields(response) == ["answers"]
    assert api.written() == before


def test_scoring_an_unknown_instrument_is_404(client: Client) -> None:
    response = api.score(client, "phq4", {"answers": lowest_answers("phq9")})

    body = api.problem(response, 404)
    assert body["title"] == "Not found"
    assert "phq4" in body["detail"]


# Rate limit ---------------------------------------------------------------------


def test_the_throttle_counts_in_a_cache_that_is_not_the_database() -> None:
    # A database cache's count is a write transaction on every public call.
    backend = settings.CACHES["ratelimit"]["BACKEND"]

    assert backend == "django.core.cache.backends.locmem.LocMemCache"


def test_counting_a_score_writes_nothing_to_the_database(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    payload = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    with django_assert_max_num_queries(0):
        assert api.score(client, "phq2", payload).status_code == 200


def test_more_than_60_scores_a_minute_from_one_address_is_429(client: Client) -> None:
    payload = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    statuses = [
        api.score(client, "phq2", payload).status_code
        for _ in range(SCORE_LIMIT_PER_MINUTE)
    ]
    assert statuses == [200] * SCORE_LIMIT_PER_MINUTE
    before = api.written()

    refused = api.score(client, "phq2", payload)

    body = api.problem(refused, 429)
    assert body["title"] == "Too many requests"
    assert int(refused["Retry-After"]) > 0
    # Refused before the body is looked at: bad answers are still a 429.
    api.problem(api.score(client, "phq2", {"answers": {}}), 429)
    assert api.written() == before
    # Another address has its own allowance.
    other = client.post(
        "/api/instruments/phq2/score",
        json.dumps(payload),
        content_type="application/json",
        REMOTE_ADDR="192.0.2.10",
    )
    assert other.status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_limit(
    client: Client,
) -> None:
    payload = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    for _ in range(SCORE_LIMIT_PER_MINUTE):
        assert api.score(client, "phq2", payload).status_code == 200

    forged = client.post(
        "/api/instruments/phq2/score",
        json.dumps(payload),
        content_type="application/json",
        headers={"X-Forwarded-For": "198.51.100.23"},
    )

    api.problem(forged, 429)


def test_a_new_window_starts_a_new_allowance(client: Client) -> None:
    payload = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    for _ in range(SCORE_LIMIT_PER_MINUTE):
        api.score(client, "phq2", payload)
    api.problem(api.score(client, "phq2", payload), 429)

    caches["ratelimit"].clear()  # the minute's counter expired

    assert api.score(client, "phq2", payload).status_code == 200


def test_signed_in_staff_have_a_higher_limit_than_their_address(
    client: Client, nurse: User, bearer: Any
) -> None:
    payload = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    for _ in range(SCORE_LIMIT_PER_MINUTE + 1):
        api.score(client, "phq2", payload)
    api.problem(api.score(client, "phq2", payload), 429)  # the address is spent
    headers = bearer(nurse)

    by_token = [
        client.post(
            "/api/instruments/phq2/score",
            json.dumps(payload),
            content_type="application/json",
            headers=headers,
        ).status_code
        for _ in range(SCORE_LIMIT_PER_MINUTE + 5)
    ]
    login(client, nurse)
    by_session = api.score(client, "phq2", payload)

    assert by_token == [200] * (SCORE_LIMIT_PER_MINUTE + 5)
    assert by_session.status_code == 200


def test_a_bogus_bearer_token_counts_as_anonymous(client: Client) -> None:
    payload = {"answers": {"phq2-1": 0, "phq2-2": 0}}
    for _ in range(SCORE_LIMIT_PER_MINUTE):
        api.score(client, "phq2", payload)

    refused = client.post(
        "/api/instruments/phq2/score",
        json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": "Bearer nc_not-a-token"},
    )

    api.problem(refused, 429)
