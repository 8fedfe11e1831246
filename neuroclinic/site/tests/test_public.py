"""The public pages: wording, crisis line, titles, theme, and the clinic admin's edits."""

import re

import pytest
from django.test import Client

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.clinics.models import Organization
from neuroclinic.site import content
from neuroclinic.site.colours import contrast_ratio, readable_on_white
from neuroclinic.site.models import FaqEntry, SitePage, SiteSettings

PAGES = [
    "/",
    "/conditions/",
    "/treatments/",
    "/process/",
    "/faq/",
    "/contact/",
    "/team/",
    "/self-check/",
    "/self-check/phq9/",
    "/self-check/gad7/",
    "/consultation/",
    "/consultation/thanks/",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_public_page_carries_988_a_title_and_a_description(
    client: Client, organization: Organization, path: str
) -> None:
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="tel:988"' in html
    assert re.search(r"<title>[^<]+ · Lakeside Test Clinic</title>", html)
    assert re.search(r'<meta name="description" content="[^"]{20,}">', html)
    assert "style=" not in html.split("<body", 1)[1]  # the CSP forbids inline styles
    assert "<script>" not in html


def test_public_pages_need_no_database_organization(client: Client, db: None) -> None:
    assert client.get("/").status_code == 200


def test_default_wording_is_honest_and_cited(
    client: Client, organization: Organization
) -> None:
    html = client.get("/treatments/").content.decode()
    assert "off-label" in html
    assert "FDA-cleared for major depression" in html
    assert "six infusions over two to three weeks" in html
    assert "Murrough" in html
    assert "Sources" in html
    assert "short-lived" in html
    assert "Neither treatment is a cure" in content.PAGES["home"].body
    for page in content.PAGES.values():
        for promise in (
            "will cure",
            "cures depression",
            "guarantee",
            "permanent relief",
            "100%",
        ):
            assert promise not in page.body.lower()


def test_default_faq_answers_what_visitors_ask(
    client: Client, organization: Organization
) -> None:
    html = client.get("/faq/").content.decode()
    for question in (
        "take-home",
        "ketamine-assisted psychotherapy",
        "addictive",
        "own doctor is against it",
        "what does it cost",
    ):
        assert question.lower() in html.lower()


def test_staff_home_moved_to_staff(client: Client, nurse: User) -> None:
    assert client.get("/staff/").status_code == 302
    login(client, nurse)
    assert "Good to see you" in client.get("/staff/").content.decode()
    assert "Staff sign-in" in client.get("/").content.decode()


def test_theme_css_carries_the_clinic_colours(
    client: Client, organization: Organization
) -> None:
    SiteSettings.objects.create(
        organization=organization, primary_colour="#123456", accent_colour="#5a2d0c"
    )
    response = client.get("/site/theme.css")
    assert response["Content-Type"].startswith("text/css")
    assert "--site-primary: #123456" in response.content.decode()


def test_theme_css_never_echoes_a_bad_stored_colour(
    client: Client, organization: Organization
) -> None:
    SiteSettings.objects.create(organization=organization, primary_colour="red;}x")
    assert "red" not in client.get("/site/theme.css").content.decode()


def test_markdown_from_the_clinic_is_sanitized(
    client: Client, organization: Organization
) -> None:
    SitePage.objects.create(
        organization=organization,
        slug="home",
        title="<script>alert(1)</script>Welcome",
        meta_description='"><script>x</script>',
        body='Hello <script>alert(1)</script> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a> **bold**',
    )
    html = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "onerror" not in html
    assert "javascript:" not in html
    assert "<strong>bold</strong>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Welcome" in html


def test_admin_edits_a_page_and_it_is_audited(
    client: Client, admin: User, organization: Organization
) -> None:
    login(client, admin)
    response = client.post(
        "/staff/site/pages/process/",
        {
            "title": "How we work",
            "meta_description": "Our steps.",
            "body": "## Step one",
        },
    )
    assert response.status_code == 302
    assert "How we work" in client.get("/process/").content.decode()
    assert AuditEvent.objects.filter(action="site.edited").exists()


def test_admin_edits_settings_with_colour_contrast_checked(
    client: Client, admin: User, organization: Organization
) -> None:
    login(client, admin)
    data = {
        "clinic_name": "Calm Clinic",
        "tagline": "",
        "primary_colour": "#ffff00",
        "accent_colour": "#8a4b08",
        "address": "1 Main St",
        "phone": "555-0100",
        "email": "",
        "hours": "Mon-Fri 8-5",
    }
    response = client.post("/staff/site/settings/", data)
    assert response.status_code == 200
    assert "too light" in response.content.decode()
    data["primary_colour"] = "#1f4e79"
    assert client.post("/staff/site/settings/", data).status_code == 302
    html = client.get("/contact/").content.decode()
    assert "Calm Clinic" in html
    assert "Mon-Fri 8-5" in html


def test_logo_upload_is_checked_by_content(
    client: Client, admin: User, organization: Organization
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, admin)
    data = {
        "clinic_name": "",
        "tagline": "",
        "primary_colour": "#1f4e79",
        "accent_colour": "#8a4b08",
        "address": "",
        "phone": "",
        "email": "",
        "hours": "",
    }
    fake = SimpleUploadedFile(
        "logo.png", b"<svg onload=alert(1)>", content_type="image/png"
    )
    response = client.post("/staff/site/settings/", data | {"logo_upload": fake})
    assert "PNG or JPEG" in response.content.decode()
    png = SimpleUploadedFile(
        "logo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 40, content_type="image/png"
    )
    assert (
        client.post("/staff/site/settings/", data | {"logo_upload": png}).status_code
        == 302
    )
    response = client.get("/site/logo")
    assert response["Content-Type"] == "image/png"


def test_faq_can_be_seeded_and_edited(
    client: Client, admin: User, organization: Organization
) -> None:
    login(client, admin)
    client.post("/staff/site/faq/new/", {"seed": "1"})
    assert FaqEntry.objects.filter(organization=organization).count() == len(
        content.FAQ
    )
    entry = FaqEntry.objects.filter(organization=organization).first()
    assert entry is not None
    client.post(
        f"/staff/site/faq/{entry.uuid}/",
        {"question": "Edited?", "answer": "Yes.", "position": 1, "is_published": ""},
    )
    html = client.get("/faq/").content.decode()
    assert "Edited?" not in html  # unpublished


@pytest.mark.parametrize(
    "persona", ["director", "prescriber", "nurse", "front_desk", "auditor", "billing"]
)
def test_only_the_clinic_admin_edits_the_site(
    db: None, client: Client, persona: str, request: pytest.FixtureRequest
) -> None:
    login(client, request.getfixturevalue(persona))
    assert client.get("/staff/site/").status_code == 403
    assert (
        client.post(
            "/staff/site/pages/home/",
            {"title": "x", "meta_description": "x", "body": "x"},
        ).status_code
        == 403
    )


def test_anonymous_editors_go_to_sign_in(client: Client, db: None) -> None:
    assert client.get("/staff/site/")["Location"].startswith("/accounts/sign-in/")


@pytest.mark.parametrize(
    ("colour", "ok"),
    [
        ("#1f4e79", True),
        ("#767676", True),
        ("#777777", False),
        ("#ffff00", False),
        ("#000000", True),
    ],
)
def test_colours_must_be_readable_on_white(colour: str, ok: bool) -> None:
    assert readable_on_white(colour) is ok
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)


def test_item12_the_anonymous_self_check_promises_no_call_it_cannot_make(
    client: Client, organization: Organization
) -> None:
    """Issue 14, item 12: nothing is stored, so nobody can call; the page says so and
    offers the crisis lines now and a consultation request."""
    answers = {f"phq9-{n}": "0" for n in range(1, 9)} | {"phq9-9": "2"}

    result = client.post(
        "/self-check/phq9/", answers | {"instrument": "phq9"}
    ).content.decode()
    early = client.post(
        "/self-check/phq9/item/", {"item": "phq9-9", "phq9-9": "1"}
    ).content.decode()

    for page in (result, early):
        assert "will contact you" not in page
        assert organization.crisis_message not in page
        assert "cannot contact you" in page
        assert 'href="tel:988"' in page
        assert 'href="/consultation/"' in page
