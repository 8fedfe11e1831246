"""Site-wide behaviour: health check, security headers, the permission matrix document."""

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from neuroclinic.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from neuroclinic.clinics.models import Organization
from neuroclinic.patients.tests.factories import make_patient

ROOT = Path(__file__).resolve().parents[1]


def test_health_check_reports_the_database_and_migrations(
    client: Client, db: None
) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": response.json()["database"],
        "migrations": "applied",
    }
    assert response["Cache-Control"].startswith("max-age=0")


def test_pages_carry_strict_security_headers(client: Client, db: None) -> None:
    response = client.get("/accounts/sign-in/")

    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_sign_in_refuses_a_post_without_csrf(db: None) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/sign-in/", {"username": "x", "password": "y"}
    )

    assert response.status_code == 403


def test_cookies_are_secure_and_hsts_is_on_behind_tls(
    settings: pytest.FixtureRequest,
) -> None:
    # The same switches settings.py derives from HTTPS=True (the default when DEBUG is off).
    import importlib
    import os

    from neuroclinic import settings as settings_module

    old = dict(os.environ)
    try:
        os.environ.update(
            {
                "DEBUG": "False",
                "SECRET_KEY": "x" * 50,
                "HTTPS": "True",
                "PUBLIC_BASE_URL": "https://clinic.example.org",
            }
        )
        fresh = importlib.reload(settings_module)
        assert fresh.SESSION_COOKIE_SECURE is True
        assert fresh.CSRF_COOKIE_SECURE is True
        assert fresh.SECURE_HSTS_SECONDS >= 31_536_000
    finally:
        os.environ.clear()
        os.environ.update(old)
        importlib.reload(settings_module)


def test_the_development_secret_key_is_refused_with_debug_off() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {
        "DEBUG": "False"
    }
    result = subprocess.run(
        [sys.executable, "-c", "import neuroclinic.settings"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )

    assert result.returncode != 0
    assert "SECRET_KEY is the development key" in result.stderr


def _documented_matrix() -> dict[Role, set[Capability]]:
    lines = (ROOT / "docs" / "permissions.md").read_text().splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.startswith("| Capability | `")
    )
    header, table = lines[start], []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        table.append(line)
    roles = [
        Role(re.sub(r"[`\s]", "", cell)) for cell in header.strip("|").split("|")[1:]
    ]
    matrix: dict[Role, set[Capability]] = {role: set() for role in roles}
    for row in table:
        cells = [c.strip() for c in row.strip("|").split("|")]
        capability = Capability(cells[0].strip("`"))
        for role, cell in zip(roles, cells[1:], strict=True):
            if cell == "yes":
                matrix[role].add(capability)
    return matrix


def test_docs_permission_matrix_matches_the_code() -> None:
    documented = _documented_matrix()

    assert set(documented) == set(Role)
    for role, capabilities in ROLE_CAPABILITIES.items():
        assert documented[role] == set(capabilities), role


def test_the_staff_home_costs_the_same_queries_however_many_patients(
    as_persona: Callable[[str], Client],
    organization: Organization,
    django_assert_num_queries: Callable[[int], Any],
) -> None:
    client = as_persona("front_desk")
    make_patient(organization, family_name="Homeward")
    client.get("/staff/")  # the first request after sign-in warms the session
    # 10 for the page and recent patients, 4 for the front desk's counts (issue 18)

    with django_assert_num_queries(14):
        assert client.get("/staff/").status_code == 200
    for n in range(12):
        make_patient(organization, family_name=f"Homeward{n}")
    with django_assert_num_queries(14):
        assert "Homeward11" in client.get("/staff/").content.decode()


def test_a_deployment_must_say_where_it_is_served() -> None:
    # Links in emails and texts start with PUBLIC_BASE_URL: with DEBUG off there is no
    # sensible default, so settings refuse to load without it.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"} | {
        "DEBUG": "False",
        "SECRET_KEY": "x" * 50,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import neuroclinic.settings"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )

    assert result.returncode != 0
    assert "PUBLIC_BASE_URL is not set and DEBUG is off" in result.stderr


HTMX_CONFIG = re.compile(r"<meta name=\"htmx-config\" content='([^']*)'>")


@pytest.mark.parametrize(
    "url", ["/accounts/sign-in/", "/", "/sign-in/not-a-real-link/"], ids=str
)
def test_htmx_adds_no_inline_style_under_the_csp(
    client: Client, db: None, url: str
) -> None:
    # Staff, public and portal pages: the CSP refuses inline styles, so htmx may neither
    # add its indicator <style> nor copy style="" attributes while settling a swap.
    html = client.get(url).content.decode()

    config = json.loads(HTMX_CONFIG.findall(html)[0])
    assert config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"]
    assert config["allowEval"] is False


def test_every_page_that_loads_htmx_takes_the_shared_settings() -> None:
    loading = [
        path
        for path in [
            *ROOT.glob("templates/**/*.html"),
            *ROOT.glob("neuroclinic/**/*.html"),
        ]
        if "htmx.min.js" in path.read_text()
    ]

    assert loading
    for path in loading:
        assert '{% include "htmx_config.html" %}' in path.read_text(), path


def test_making_a_pdf_logs_nothing_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 18 item 10: log levels per logger. With the root at INFO (LOG_LEVEL's
    default) a PDF used to log each of WeasyPrint's steps, and the demo makes hundreds."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    with caplog.at_level(logging.INFO):
        HTML(string="<p>A consent, signed.</p>").write_pdf()
        logging.getLogger("neuroclinic").info("the clinic's own INFO still shows")

    names = {record.name for record in caplog.records}
    assert names == {"neuroclinic"}
