"""Issue 18, item 11: the public site shows the clinic: how an infusion is given there,
the "what makes the process better?" answer, clinician profiles, price ranges, a map
link, and photos the clinic uploads (checked and re-encoded by Pillow)."""

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, ImageFile

from conftest import login
from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.billing.actions import setup
from neuroclinic.billing.models import Package, Service
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.site import content, images
from neuroclinic.site.actions import SiteError, add_photo, save_clinician
from neuroclinic.site.demo import INFUSION_SETTING
from neuroclinic.site.models import ClinicianProfile, SitePhoto, SiteSettings

GPS_TAG = 0x8825
ORIENTATION_TAG = 0x0112


def jpeg(size: tuple[int, int] = (2400, 1200), *, orientation: int = 1) -> bytes:
    """A camera-like JPEG: EXIF with a GPS position, the camera make and an orientation."""
    image = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "Example Camera Co"  # Make
    exif[ORIENTATION_TAG] = orientation
    exif.get_ifd(GPS_TAG).update(
        {1: "N", 2: (41.0, 52.0, 0.0), 3: "W", 4: (87.0, 37.0, 0.0)}
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def noisy_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(out, format="JPEG")
    return out.getvalue()


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")
    return out.getvalue()


# The image checks ------------------------------------------------------------------------


def test_a_photo_is_resized_and_stored_without_exif_or_gps() -> None:
    original = jpeg()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_TAG)

    clean = images.clean_image(original)

    stored = Image.open(io.BytesIO(clean.data))
    assert stored.format == "JPEG"
    assert (stored.width, stored.height) == (1600, 800) == (clean.width, clean.height)
    assert not stored.getexif()
    assert "exif" not in stored.info
    assert b"Example Camera Co" not in clean.data


def test_a_photo_is_turned_upright_by_its_exif_orientation() -> None:
    clean = images.clean_image(jpeg((400, 200), orientation=6))  # rotated 90 degrees
    assert (clean.width, clean.height) == (200, 400)


def test_a_transparent_png_and_a_webp_are_accepted_as_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (1, 2, 3)).save(out, format="WEBP")
    for data in (png((300, 200), "RGBA"), out.getvalue()):
        clean = images.clean_image(data, max_side=images.PORTRAIT_MAX_SIDE)
        assert clean.data.startswith(b"\xff\xd8\xff")
        assert (clean.width, clean.height) == (300, 200)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"just some text, named photo.jpg", "not a JPEG, PNG or WebP"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "not a JPEG"),
        (b"GIF89a" + b"\x00" * 40, "not a JPEG"),
        (noisy_jpeg()[:20000], "damaged or incomplete"),
        (b"\xff\xd8\xff" + b"\x00" * images.MAX_UPLOAD_BYTES, "larger than 8 MB"),
    ],
    ids=["empty", "text", "svg", "gif", "truncated", "oversize"],
)
def test_bad_uploads_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(images.ImageRefused, match=message):
        images.clean_image(data)


def test_a_truncated_upload_is_refused_even_after_weasyprint_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # WeasyPrint turns Pillow's process-wide LOAD_TRUNCATED_IMAGES on when imported
    # (any PDF rendered in the same process); an upload must still be refused.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(images.ImageRefused, match="damaged or incomplete"):
        images.clean_image(noisy_jpeg()[:20000])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


@pytest.mark.parametrize(
    "size",
    [(7000, 7000), (12000, 12000)],
    ids=["over-our-40-megapixels", "pillow-decompression-bomb"],
)
def test_decompression_bombs_are_refused(size: tuple[int, int]) -> None:
    bomb = png(
        size, mode="1"
    )  # a few kilobytes that would decode to tens of megapixels
    assert len(bomb) < images.MAX_UPLOAD_BYTES
    with pytest.raises(images.ImageRefused, match="megapixels at most"):
        images.clean_image(bomb)


# The public pages ------------------------------------------------------------------------


def _settings(organization: Organization, **fields: str) -> SiteSettings:
    return SiteSettings.objects.create(organization=organization, **fields)


def test_the_treatments_page_describes_how_the_clinic_gives_an_infusion(
    client: Client, organization: Organization
) -> None:
    assert (
        "How an infusion is given here"
        not in client.get("/treatments/").content.decode()
    )

    _settings(organization, infusion_setting=INFUSION_SETTING)
    html = client.get("/treatments/").content.decode()

    assert "How an infusion is given here" in html
    for fact in (
        "private, quiet room",
        "syringe pump",
        "continuously",
        "nurse stays with you",
    ):
        assert fact in html


def test_the_faq_says_what_makes_the_process_better_and_cites_it(
    client: Client, organization: Organization
) -> None:
    html = client.get("/faq/").content.decode()
    assert "What makes the process better?" in html
    answer = html.split("What makes the process better?", 1)[1].split("</details>", 1)[
        0
    ]
    for part in (
        "Preparation",
        "The setting",
        "10 to 14 days",
        "early results, not proof",
    ):
        assert part in answer
    treatments = client.get("/treatments/").content.decode()
    assert "Wilkinson ST et al." in treatments  # the cited studies are listed


def test_no_default_wording_promises_a_cure() -> None:
    texts = [p.body for p in content.PAGES.values()] + [
        f"{e.question} {e.answer}" for e in content.FAQ
    ]
    for text in texts:
        for promise in (
            "will cure",
            "cures depression",
            "guarantee",
            "permanent relief",
            "100%",
        ):
            assert promise not in text.lower()


def _prices(organization: Organization, by: User) -> None:
    for key, amount in (
        (Service.Key.CONSULT, "450.00"),
        (Service.Key.PSYCH_EVAL, "400.00"),
        (Service.Key.INFUSION, "475.00"),
        (Service.Key.BOOSTER, "495.00"),
        (Service.Key.KETAMINE, "0.00"),
    ):
        setup.set_price(organization, service_key=key, amount=amount, by=by)
    setup.set_price(
        organization, service_key=Service.Key.INFUSION, amount="485.00", by=by
    )
    setup.set_package_terms(
        organization,
        name="Induction series of six infusions",
        service_key=Service.Key.INFUSION,
        sessions=6,
        price=Decimal("2550.00"),
        deposit=Decimal("500.00"),
        unused_sessions=Package.UnusedSessions.REFUND,
        by=by,
    )


def test_price_ranges_come_from_the_billing_price_list_and_packages(
    client: Client, organization: Organization, billing: User
) -> None:
    _settings(organization, price_ranges="Ask us: about **$400** a visit.")
    assert (
        "about <strong>$400</strong> a visit"
        in client.get("/treatments/").content.decode()
    )

    _prices(organization, billing)
    html = client.get("/treatments/").content.decode()

    assert "What it costs" in html
    assert re.search(r"Consultation with a prescriber</dt><dd>\$400 to \$450", html)
    # The newest version of each price: the infusion's 485, not its first 475.
    assert re.search(
        r"Ketamine infusion \(single or booster\)</dt><dd>\$485 to \$495", html
    )
    assert "$475" not in html
    assert re.search(r"Induction series of six infusions</dt><dd>\$2,550", html)
    assert "6 sessions; deposit $500" in html
    assert "TMS session</dt>" not in html  # no price, no row
    # The price list wins over the clinic's text.
    assert "about <strong>$400</strong>" not in html
    assert "good-faith estimate" in html


def test_the_contact_page_links_each_location_to_openstreetmap(
    client: Client, organization: Organization
) -> None:
    _settings(organization, address="1 Fallback Road\nSpringfield, IL")
    html = client.get("/contact/").content.decode()
    assert (
        'href="https://www.openstreetmap.org/search?query=1+Fallback+Road%2C+Springfield%2C+IL"'
        in html
    )

    Location.objects.create(
        organization=organization,
        name="Lakeside Main",
        address_line1="100 Example Avenue",
        address_line2="Suite 2",
        city="Springfield",
        state="IL",
        postal_code="62701",
        phone="555-0100",
    )
    html = client.get("/contact/").content.decode()
    assert "Lakeside Main" in html
    assert (
        "https://www.openstreetmap.org/search?query=100+Example+Avenue%2C+Suite+2%2C+"
        "Springfield%2C+IL+62701%2C+US" in html
    )
    assert "Fallback Road" not in html.split("Find us", 1)[1].split("</section>", 1)[0]
    assert "<iframe" not in html
    assert "<script src=" in html  # htmx, from our own static files only
    for src in re.findall(r'<script src="([^"]+)"', html):
        assert src.startswith("/static/")


def test_the_team_page_shows_published_clinicians(
    client: Client, organization: Organization, admin: User
) -> None:
    assert "introduce themselves" in client.get("/team/").content.decode()
    shown = save_clinician(
        organization,
        profile=None,
        photo=jpeg((900, 900)),
        by=admin,
        name="Dana Directorova",
        credentials="MD, psychiatrist",
        role="Medical director",
        bio="Reviews every history before a first infusion.",
        position=1,
        is_published=True,
    )
    save_clinician(
        organization,
        profile=None,
        by=admin,
        name="Hidden Person",
        credentials="",
        role="Nurse",
        bio="",
        position=2,
        is_published=False,
    )

    html = client.get("/team/").content.decode()

    assert "Dana Directorova" in html
    assert "MD, psychiatrist" in html
    assert "Medical director" in html
    assert "Reviews every history" in html
    assert "Hidden Person" not in html
    photo = client.get(f"/site/clinicians/{shown.uuid}.jpg")
    assert photo["Content-Type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(b"".join(photo.streaming_content)))  # type: ignore[attr-defined]
    assert stored.size == (images.PORTRAIT_MAX_SIDE, images.PORTRAIT_MAX_SIDE)
    assert not stored.getexif()


def test_unpublished_photos_and_other_clinics_photos_are_not_served(
    client: Client,
    organization: Organization,
    other_organization: Organization,
    admin: User,
) -> None:
    hidden = add_photo(organization, data=jpeg((300, 200)), alt_text="A room", by=admin)
    hidden.is_published = False
    hidden.save()
    elsewhere = add_photo(
        other_organization, data=jpeg((300, 200)), alt_text="A room", by=admin
    )
    profile = save_clinician(
        organization,
        profile=None,
        photo=jpeg((300, 300)),
        by=admin,
        name="Not shown",
        credentials="",
        role="Nurse",
        bio="",
        position=1,
        is_published=False,
    )
    assert client.get(f"/site/photos/{hidden.uuid}.jpg").status_code == 404
    assert client.get(f"/site/photos/{elsewhere.uuid}.jpg").status_code == 404
    assert client.get(f"/site/clinicians/{profile.uuid}.jpg").status_code == 404


# The staff pages -------------------------------------------------------------------------


def test_the_admin_uploads_a_photo_and_the_site_shows_it_without_exif(
    client: Client, organization: Organization, admin: User
) -> None:
    login(client, admin)
    upload = SimpleUploadedFile("room.jpg", jpeg(), content_type="image/jpeg")
    response = client.post(
        "/staff/site/photos/new/",
        {
            "alt_text": "An infusion room",
            "caption": "Room 1",
            "position": 1,
            "image_upload": upload,
        },
    )
    assert response.status_code == 302
    photo = SitePhoto.objects.get(organization=organization)
    assert (photo.width, photo.height) == (1600, 800)
    assert AuditEvent.objects.filter(action="site.edited", data__what="photo").exists()

    for path in ("/", "/contact/"):
        html = client.get(path).content.decode()
        assert f'src="/site/photos/{photo.uuid}.jpg"' in html
        assert 'alt="An infusion room"' in html
    served = client.get(f"/site/photos/{photo.uuid}.jpg")
    data = b"".join(served.streaming_content)  # type: ignore[attr-defined]
    assert b"Example Camera Co" not in data
    assert not Image.open(io.BytesIO(data)).getexif()

    # Hidden again from its edit page: off the site, still in the editor's preview.
    client.post(
        f"/staff/site/photos/{photo.uuid}/",
        {
            "alt_text": "An infusion room",
            "caption": "",
            "position": 1,
            "is_published": "",
        },
    )
    assert f"/site/photos/{photo.uuid}.jpg" not in client.get("/").content.decode()
    assert client.get(f"/staff/site/photos/{photo.uuid}/image").status_code == 200


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.jpg", b"<?php echo 'not a photo'; ?>", "not a JPEG, PNG or WebP"),
        ("bomb.png", png((12000, 12000), mode="1"), "megapixels at most"),
        (
            "huge.jpg",
            b"\xff\xd8\xff" + b"\x00" * images.MAX_UPLOAD_BYTES,
            "larger than 8 MB",
        ),
    ],
    ids=["not-an-image", "decompression-bomb", "oversize"],
)
def test_a_bad_upload_is_a_form_error_and_writes_nothing(
    client: Client,
    organization: Organization,
    admin: User,
    name: str,
    data: bytes,
    message: str,
) -> None:
    login(client, admin)
    events = AuditEvent.objects.count()
    upload = SimpleUploadedFile(name, data, content_type="image/jpeg")
    response = client.post(
        "/staff/site/photos/new/",
        {"alt_text": "A room", "caption": "", "position": 1, "image_upload": upload},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SitePhoto.objects.exists()

    upload = SimpleUploadedFile(name, data, content_type="image/jpeg")
    response = client.post(
        "/staff/site/clinicians/new/",
        {
            "name": "Dana",
            "credentials": "",
            "role": "Nurse",
            "bio": "",
            "position": 1,
            "is_published": "on",
            "photo_upload": upload,
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ClinicianProfile.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_photo_needs_a_description_and_a_file(
    client: Client, organization: Organization, admin: User
) -> None:
    login(client, admin)
    response = client.post("/staff/site/photos/new/", {"alt_text": "", "position": 1})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose a photo to upload." in html
    assert "This field is required." in html
    with pytest.raises(SiteError, match="Describe the photo"):
        add_photo(organization, data=jpeg((100, 100)), alt_text="  ", by=admin)
    assert not SitePhoto.objects.exists()


def test_the_admin_manages_clinician_profiles(
    client: Client, organization: Organization, admin: User
) -> None:
    login(client, admin)
    upload = SimpleUploadedFile("me.png", png((800, 1000)), content_type="image/png")
    response = client.post(
        "/staff/site/clinicians/new/",
        {
            "name": "Priya Prescottia",
            "credentials": "MD",
            "role": "Prescriber",
            "bio": "Sees new patients.",
            "position": 1,
            "is_published": "on",
            "photo_upload": upload,
        },
    )
    assert response.status_code == 302
    profile = ClinicianProfile.objects.get(organization=organization)
    assert profile.photo
    assert "Priya Prescottia" in client.get("/staff/site/").content.decode()

    response = client.post(
        f"/staff/site/clinicians/{profile.uuid}/",
        {
            "name": "Priya Prescottia",
            "credentials": "MD",
            "role": "Prescriber",
            "bio": "Sees new patients.",
            "position": 1,
            "is_published": "on",
            "remove_photo": "on",
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert not profile.photo
    assert "person-initials" in client.get("/team/").content.decode()


@pytest.mark.parametrize(
    "path",
    ["/staff/site/photos/new/", "/staff/site/clinicians/new/"],
)
@pytest.mark.parametrize(
    "persona", ["director", "prescriber", "nurse", "front_desk", "billing"]
)
@pytest.mark.django_db
def test_only_the_clinic_admin_manages_photos_and_profiles(
    client: Client, persona: str, path: str, request: pytest.FixtureRequest
) -> None:
    login(client, request.getfixturevalue(persona))
    assert client.get(path).status_code == 403
    assert client.post(path, {"alt_text": "x", "name": "x"}).status_code == 403
