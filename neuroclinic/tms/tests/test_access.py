"""Who may reach each TMS page and API endpoint: every persona against every endpoint.

Patient-scoped endpoints answer 404 to a role that may use them but cannot see the
patient (the outsider, a nurse at another clinic) and 403 to a role without the
capability; anonymous visitors go to sign-in (pages) or get 401 (API).
"""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from conftest import EVERYONE, expected_status, personas_with
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.tms.models import TmsCourse

pytestmark = pytest.mark.django_db

SignIn = Callable[[str], Client]


def _outsider(capability: Capability) -> int | None:
    # The outsider is a nurse: with the capability, the lookup answers 404; without, 403.
    return 404 if "nurse" in personas_with(capability) else None


def _unscoped_outsider(capability: Capability) -> int | None:
    # A list of the outsider's own clinic: allowed (and empty) with the capability.
    return 200 if "nurse" in personas_with(capability) else None


PAGES = [
    ("tms:courses", False, Capability.VIEW_TMS, "get"),
    ("tms:course", True, Capability.VIEW_TMS, "get"),
    ("tms:session", True, Capability.VIEW_TMS, "get"),
    ("tms:step", True, Capability.RUN_TMS, "post"),
]


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize(("name", "scoped", "capability", "method"), PAGES)
def test_pages(
    persona: str,
    name: str,
    scoped: bool,
    capability: Capability,
    method: str,
    tms_course: TmsCourse,
    as_persona: SignIn,
) -> None:
    if name == "tms:step":
        url = reverse(name, args=[tms_course.uuid, "side-effect"])
    elif scoped:
        url = reverse(name, args=[tms_course.uuid])
    else:
        url = reverse(name)
    client = as_persona(persona)
    response = client.post(url, {}) if method == "post" else client.get(url)
    expected = expected_status(
        persona,
        personas_with(capability),
        outsider=_outsider(capability) if scoped else _unscoped_outsider(capability),
    )
    # An allowed POST with an empty form shows the form again (200).
    assert response.status_code == expected


API = [
    ("get", "/api/tms/courses/{course}", Capability.VIEW_TMS, 200),
    ("get", "/api/tms/courses/{course}/planned-sessions", Capability.VIEW_TMS, 200),
    ("post", "/api/tms/courses/{course}/sessions", Capability.RUN_TMS, 422),
]


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize(("method", "path", "capability", "ok"), API)
def test_api(
    persona: str,
    method: str,
    path: str,
    capability: Capability,
    ok: int,
    tms_course: TmsCourse,
    client: Client,
    request: pytest.FixtureRequest,
    bearer: Callable[[User], dict[str, str]],
) -> None:
    url = path.format(course=tms_course.uuid)
    headers = {} if persona == "anonymous" else bearer(request.getfixturevalue(persona))
    if method == "post":
        response = client.post(
            url, {}, content_type="application/json", headers=headers
        )
    else:
        response = client.get(url, headers=headers)
    expected = expected_status(
        persona,
        personas_with(capability),
        ok=ok,
        anonymous=401,
        outsider=_outsider(capability),
    )
    assert response.status_code == expected
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
