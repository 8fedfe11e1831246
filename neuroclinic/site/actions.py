"""Writes to the public site's content. Each runs in one transaction and is audited."""

import uuid
from typing import TypedDict, Unpack

from django.core.files.base import ContentFile
from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.intake import uploads
from neuroclinic.site import content, images
from neuroclinic.site.models import (
    ClinicianProfile,
    FaqEntry,
    SitePage,
    SitePhoto,
    SiteSettings,
)

MAX_LOGO_BYTES = 1024 * 1024


class SiteError(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def site_settings(organization: Organization | None) -> SiteSettings:
    """The clinic's settings, or unsaved defaults."""
    if organization is None:
        return SiteSettings()
    found = SiteSettings.objects.filter(organization=organization).first()
    return found or SiteSettings(organization=organization)


class SiteSettingsChanges(TypedDict, total=False):
    clinic_name: str
    tagline: str
    primary_colour: str
    accent_colour: str
    address: str
    phone: str
    email: str
    hours: str
    infusion_setting: str
    price_ranges: str


@transaction.atomic
def save_site_settings(
    organization: Organization,
    *,
    logo: bytes | None = None,
    remove_logo: bool = False,
    by: User,
    **changes: Unpack[SiteSettingsChanges],
) -> SiteSettings:
    settings_row = site_settings(organization)
    changed = sorted(k for k, v in changes.items() if getattr(settings_row, k) != v)
    for key, value in changes.items():
        setattr(settings_row, key, value)
    if remove_logo and settings_row.logo:
        settings_row.logo = ""  # an empty name clears a FileField
        settings_row.logo_content_type = ""
        changed.append("logo")
    elif logo is not None:
        if len(logo) > MAX_LOGO_BYTES:
            raise SiteError("The logo must be under 1 MB.", field="logo_upload")
        kind = uploads.sniff(logo[:16])
        if kind not in (uploads.PNG, uploads.JPEG):
            raise SiteError(
                "Upload the logo as a PNG or JPEG file.", field="logo_upload"
            )
        settings_row.logo.save(
            f"logo-{organization.uuid}.{uploads.EXTENSIONS[kind]}",
            ContentFile(logo),
            save=False,
        )
        settings_row.logo_content_type = kind
        changed.append("logo")
    settings_row.save()
    record(
        AuditEvent.Action.SITE_EDITED,
        actor=by,
        organization=organization,
        what="settings",
        fields=changed,
    )
    return settings_row


@transaction.atomic
def save_page(
    organization: Organization,
    slug: str,
    *,
    by: User,
    title: str,
    meta_description: str,
    body: str,
) -> SitePage:
    if slug not in SitePage.Slug.values:
        raise SiteError("No such page.", field="slug")
    page, _ = SitePage.objects.update_or_create(
        organization=organization,
        slug=slug,
        defaults={"title": title, "meta_description": meta_description, "body": body},
    )
    record(
        AuditEvent.Action.SITE_EDITED,
        actor=by,
        organization=organization,
        what="page",
        slug=slug,
    )
    return page


@transaction.atomic
def seed_faq(organization: Organization, *, by: User) -> list[FaqEntry]:
    """Copy the default FAQ into editable entries, once."""
    existing = list(FaqEntry.objects.filter(organization=organization))
    if existing:
        return existing
    entries = [
        FaqEntry.objects.create(
            organization=organization,
            question=entry.question,
            answer=entry.answer.strip(),
            position=(n + 1) * 10,
        )
        for n, entry in enumerate(content.FAQ)
    ]
    record(
        AuditEvent.Action.SITE_EDITED,
        actor=by,
        organization=organization,
        what="faq_seeded",
    )
    return entries


@transaction.atomic
def save_faq_entry(
    organization: Organization,
    *,
    entry: FaqEntry | None,
    question: str,
    answer: str,
    position: int,
    is_published: bool,
    by: User,
) -> FaqEntry:
    """Add a question (`entry` None) or change one."""
    if entry is None:
        entry = FaqEntry(organization=organization)
    elif entry.organization_id != organization.pk:
        raise SiteError("No such entry.")
    entry.question = question
    entry.answer = answer
    entry.position = position
    entry.is_published = is_published
    entry.save()
    record(
        AuditEvent.Action.SITE_EDITED,
        actor=by,
        organization=organization,
        what="faq",
        question=entry.question[:80],
    )
    return entry


def _clean(data: bytes, *, max_side: int, field: str) -> images.CleanImage:
    try:
        return images.clean_image(data, max_side=max_side)
    except images.ImageRefused as exc:
        raise SiteError(exc.message, field=field) from None


class ClinicianChanges(TypedDict):
    name: str
    credentials: str
    role: str
    bio: str
    position: int
    is_published: bool


@transaction.atomic
def save_clinician(
    organization: Organization,
    *,
    profile: ClinicianProfile | None,
    photo: bytes | None = None,
    remove_photo: bool = False,
    by: User,
    **changes: Unpack[ClinicianChanges],
) -> ClinicianProfile:
    """Add a clinician's profile (`profile` None) or change one; a photo is checked
    and re-encoded first, so a refused photo writes nothing."""
    clean = (
        _clean(photo, max_side=images.PORTRAIT_MAX_SIDE, field="photo_upload")
        if photo is not None
        else None
    )
    if profile is None:
        profile = ClinicianProfile(organization=organization)
    elif profile.organization_id != organization.pk:
        raise SiteError("No such profile.")
    for key, value in changes.items():
        setattr(profile, key, value)
    if clean is not None:
        profile.photo.save(f"{uuid.uuid4()}.jpg", ContentFile(clean.data), save=False)
    elif remove_photo and profile.photo:
        profile.photo = ""  # an empty name clears a FileField
    profile.save()
    record(
        AuditEvent.Action.SITE_EDITED,
        actor=by,
        organization=organization,
        what="clinician",
        name=profile.name[:80],
        photo="new" if clean else "removed" if remove_photo else "",
    )
    return profile


@transaction.atomic
def add_photo(
    organization: Organization,
    *,
    data: bytes,
    alt_text: str,
    caption: str = "",
    position: int = 0,
    by: User,
) -> SitePhoto:
    """A photo of the clinic: refused unless it is a real image of sane size; stored
    re-encoded as JPEG without EXIF or GPS."""
    clean = _clean(data, max_side=images.PHOTO_MAX_SIDE, field="image_upload")
    if not alt_text.strip():
        raise SiteError(
            "Describe the photo for people who cannot see it.", field="alt_text"
        )
    photo = SitePhoto(
        organization=organization,
        alt_text=alt_text.strip(),
        caption=caption.strip(),
        position=position,
        width=clean.width,
        height=clean.height,
        uploaded_by=by,
    )
    photo.image.save(f"{uuid.uuid4()}.jpg", ContentFile(clean.data), save=False)
    photo.save()
    record(
        AuditEvent.Action.SITE_EDITED,
        actor=by,
        organization=organization,
        what="photo",
        photo=str(photo.uuid),
    )
    return photo


@transaction.atomic
def change_photo(
    photo: SitePhoto,
    *,
    alt_text: str,
    caption: str,
    position: int,
    is_published: bool,
    by: User,
) -> SitePhoto:
    if not alt_text.strip():
        raise SiteError(
            "Describe the photo for people who cannot see it.", field="alt_text"
        )
    photo.alt_text = alt_text.strip()
    photo.caption = caption.strip()
    photo.position = position
    photo.is_published = is_published
    photo.save()
    record(
        AuditEvent.Action.SITE_EDITED,
        actor=by,
        organization=photo.organization,
        what="photo",
        photo=str(photo.uuid),
        shown=is_published,
    )
    return photo
