"""The clinic's public pages, the anonymous self-check, the consult request form,
and the clinic admin's editors for all of it.

Public pages need no account and show no patient data. The crisis line is on
every page (base template). Colours come from /site/theme.css, a generated
stylesheet, since the Content-Security-Policy forbids inline styles.
"""

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.record import client_ip
from neuroclinic.clinics.models import Organization
from neuroclinic.http import AuthenticatedHttpRequest, HtmxHttpRequest
from neuroclinic.intake.actions import consult_requests
from neuroclinic.intake.errors import IntakeError
from neuroclinic.intake.models import ConsultRequest
from neuroclinic.lib.safe_markdown import render_markdown
from neuroclinic.measures.forms import answers_from_post, item_views
from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    InvalidResponse,
    answer_raises_safety_alert,
)
from neuroclinic.site import actions, content, facts
from neuroclinic.site.colours import HEX
from neuroclinic.site.forms import (
    ClinicianForm,
    ConsultRequestForm,
    FaqEntryForm,
    PhotoForm,
    SitePageForm,
    SiteSettingsForm,
)
from neuroclinic.site.models import (
    ClinicianProfile,
    FaqEntry,
    SitePage,
    SitePhoto,
    SiteSettings,
)

PAGE_PATHS = {
    "home": "/",
    "conditions": "/conditions/",
    "treatments": "/treatments/",
    "process": "/process/",
    "faq": "/faq/",
    "contact": "/contact/",
}
NAV = [
    ("home", "Home"),
    ("conditions", "Conditions"),
    ("treatments", "Treatments"),
    ("process", "Our process"),
    ("faq", "FAQ"),
    ("contact", "Contact"),
]
# The site's menu: the editable pages, and the clinicians' page after "Our process".
SITE_NAV = [*NAV[:4], ("team", "Our team"), *NAV[4:]]
TEAM_PATH = "/team/"
# Photos shown on the home page; the contact page shows them all.
HOME_PHOTOS = 3

SELF_CHECK_RATE_LIMIT = 30

# What each band means, in plain words. A screen, not a diagnosis.
BAND_WORDS = {
    "minimal": "Few or no symptoms right now.",
    "mild": "Some symptoms. Worth keeping an eye on, and talking to someone if they last.",
    "moderate": "Symptoms that are likely affecting your life. Talking to a clinician is a good idea.",
    "moderately_severe": "Many symptoms, most days. Please talk to a clinician soon.",
    "severe": "Strong symptoms most days. Please talk to a clinician soon.",
}


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    meta_description: str
    body: SafeString


def _page(organization: Organization | None, slug: str) -> Page:
    stored = (
        SitePage.objects.filter(organization=organization, slug=slug).first()
        if organization
        else None
    )
    if stored is not None:
        return Page(
            slug, stored.title, stored.meta_description, render_markdown(stored.body)
        )
    default = content.PAGES[slug]
    return Page(
        slug, default.title, default.meta_description, render_markdown(default.body)
    )


def _context(
    request: HttpRequest, organization: Organization | None, current: str
) -> dict[str, object]:
    site = actions.site_settings(organization)
    name = site.clinic_name or (organization.name if organization else "Neuroclinic")
    return {
        "organization": organization,
        "site": site,
        "clinic_name": name,
        "phone": site.phone or (organization.phone if organization else ""),
        "nav": [
            (slug, label, PAGE_PATHS.get(slug, TEAM_PATH), slug == current)
            for slug, label in SITE_NAV
        ],
        "theme_version": int(site.updated_at.timestamp()) if site.pk else 0,
    }


def _faq(organization: Organization | None) -> list[tuple[str, SafeString]]:
    entries = (
        list(FaqEntry.objects.filter(organization=organization)) if organization else []
    )
    if entries:
        return [
            (e.question, render_markdown(e.answer)) for e in entries if e.is_published
        ]
    return [(e.question, render_markdown(e.answer)) for e in content.FAQ]


def _photos(
    organization: Organization | None, limit: int | None = None
) -> list[SitePhoto]:
    if organization is None:
        return []
    found = SitePhoto.objects.filter(organization=organization, is_published=True)
    return list(found[:limit] if limit else found)


@require_GET
def page(request: HttpRequest, slug: str) -> HttpResponse:
    organization = consult_requests.public_organization()
    found = _page(organization, slug)
    context = _context(request, organization, slug) | {"page": found}
    site = context["site"]
    assert isinstance(site, SiteSettings)
    if slug == "faq":
        context["faq"] = _faq(organization)
    elif slug == "treatments":
        context["infusion_setting"] = render_markdown(site.infusion_setting)
        context["prices"] = facts.price_ranges(organization)
        context["price_text"] = render_markdown(site.price_ranges)
    elif slug == "contact":
        context["places"] = facts.places(organization, site.address)
        context["photos"] = _photos(organization)
    elif slug == "home":
        context["photos"] = _photos(organization, HOME_PHOTOS)
    return render(request, "site/page.html", context)


@require_GET
def team(request: HttpRequest) -> HttpResponse:
    organization = consult_requests.public_organization()
    people = (
        list(
            ClinicianProfile.objects.filter(
                organization=organization, is_published=True
            )
        )
        if organization
        else []
    )
    return render(
        request,
        "site/team.html",
        _context(request, organization, "team") | {"people": people},
    )


def _image(name: str) -> FileResponse:
    return FileResponse(default_storage.open(name, "rb"), content_type="image/jpeg")


@require_GET
@cache_control(max_age=3600)
def photo(request: HttpRequest, photo_uuid: uuid.UUID) -> FileResponse:
    found = SitePhoto.objects.filter(
        organization=consult_requests.public_organization(),
        uuid=photo_uuid,
        is_published=True,
    ).first()
    if found is None:
        raise Http404("No such photo.")
    return _image(str(found.image.name))


@require_GET
@cache_control(max_age=3600)
def clinician_photo(request: HttpRequest, profile_uuid: uuid.UUID) -> FileResponse:
    found = ClinicianProfile.objects.filter(
        organization=consult_requests.public_organization(),
        uuid=profile_uuid,
        is_published=True,
    ).first()
    if found is None or not found.photo:
        raise Http404("No such photo.")
    return _image(str(found.photo.name))


def home(request: HttpRequest) -> HttpResponse:
    return page(request, "home")


@require_GET
@cache_control(max_age=300)
def theme_css(request: HttpRequest) -> HttpResponse:
    """The clinic's colours as CSS custom properties (validated again here: never echo raw input)."""
    site = actions.site_settings(consult_requests.public_organization())
    primary = site.primary_colour if HEX.match(site.primary_colour) else "#1f4e79"
    accent = site.accent_colour if HEX.match(site.accent_colour) else "#8a4b08"
    css = f":root {{ --site-primary: {primary}; --site-accent: {accent}; --brand: {primary}; }}\n"
    return HttpResponse(css, content_type="text/css; charset=utf-8")


@require_GET
@cache_control(max_age=300)
def logo(request: HttpRequest) -> FileResponse:
    site = actions.site_settings(consult_requests.public_organization())
    if not site.logo or site.logo_content_type not in ("image/png", "image/jpeg"):
        raise Http404("No logo.")
    return FileResponse(
        default_storage.open(str(site.logo.name), "rb"),
        content_type=site.logo_content_type,
    )


# Self-check ----------------------------------------------------------------------------


@require_GET
def self_check_start(request: HttpRequest) -> HttpResponse:
    organization = consult_requests.public_organization()
    return render(
        request,
        "site/self_check_start.html",
        _context(request, organization, "")
        | {
            "instruments": [
                INSTRUMENTS[c] for c in consult_requests.SELF_CHECK_INSTRUMENTS
            ]
        },
    )


def _risk_items(code: str) -> set[str]:
    instrument = INSTRUMENTS[code]
    return {
        item.link_id
        for item in instrument.items
        if any(
            answer_raises_safety_alert(code, item.link_id, o.value)
            for o in item.options
        )
    }


@never_cache
@require_http_methods(["GET", "POST"])
def self_check(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Answer, score with the measures scorer, see the band. Nothing is stored."""
    if code not in consult_requests.SELF_CHECK_INSTRUMENTS:
        raise Http404("No such self-check.")
    organization = consult_requests.public_organization()
    instrument = INSTRUMENTS[code]
    carried = consult_requests.self_check_results(
        request.POST.get("carry", "") or request.GET.get("carry", "")
    )
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    general: list[str] = []
    if request.method == "POST":
        # The self-check stores nothing, so it allows more posts than the consult form.
        if consult_requests.rate_limited(
            "self_check", client_ip(request), limit=SELF_CHECK_RATE_LIMIT
        ):
            return _too_many(request, organization)
        values = answers_from_post(instrument, request.POST)
        try:
            result = consult_requests.score_self_check(code, values)
        except InvalidResponse as exc:
            for error in exc.errors:
                if error.link_id:
                    errors.setdefault(error.link_id, error.message)
                else:
                    general.append(error.message)
        else:
            results = [r for r in carried if r.instrument_code != code] + [result]
            other = next(
                (
                    c
                    for c in consult_requests.SELF_CHECK_INSTRUMENTS
                    if c not in {r.instrument_code for r in results}
                ),
                None,
            )
            context = _context(request, organization, "") | {
                "result": result,
                "band_words": BAND_WORDS.get(result.severity, ""),
                "band_label": result.severity.replace("_", " "),
                "results": results,
                "token": consult_requests.self_check_token(results),
                "other": INSTRUMENTS[other] if other else None,
                "max_total": (instrument.total_range or (0, 0))[1],
            }
            template = "site/self_check_result.html"
            if request.htmx:
                template += "#result"
            return render(request, template, context)
    return render(
        request,
        "site/self_check.html",
        _context(request, organization, "")
        | {
            "instrument": instrument,
            "items": item_views(instrument, wording={}, values=values, errors=errors),
            "general_errors": general,
            "carry": request.POST.get("carry", "") or request.GET.get("carry", ""),
            "check_url": reverse("site:self_check_item", kwargs={"code": code}),
            "risk_items": _risk_items(code),
        },
    )


@never_cache
@require_POST
def self_check_item(request: HttpRequest, code: str) -> HttpResponse:
    """htmx: an answer to the suicide item shows the crisis lines at once. Stores nothing."""
    if code not in consult_requests.SELF_CHECK_INSTRUMENTS:
        return HttpResponse("")
    link_id = request.POST.get("item", "")
    raw = request.POST.get(link_id, "")
    if not raw.isdigit() or not answer_raises_safety_alert(code, link_id, int(raw)):
        return HttpResponse("")
    return render(
        request,
        "site/crisis_box.html",
        {"organization": consult_requests.public_organization()},
    )


# Consult requests --------------------------------------------------------------------------


def _too_many(request: HttpRequest, organization: Organization | None) -> HttpResponse:
    consult_requests.record_refused_consult(organization, "rate_limited")
    response = render(
        request, "site/too_many.html", _context(request, organization, ""), status=429
    )
    response["Retry-After"] = str(consult_requests.RATE_WINDOW_SECONDS)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def consultation(request: HttpRequest) -> HttpResponse:
    organization = consult_requests.public_organization()
    token = request.POST.get("self_check_token") or request.GET.get("self_check", "")
    results = consult_requests.self_check_results(token)
    form = ConsultRequestForm(
        request.POST or None,
        initial={"self_check_token": token, "attach_self_check": bool(results)},
    )
    if request.method == "POST":
        if consult_requests.rate_limited("consult", client_ip(request)):
            return _too_many(request, organization)
        if request.POST.get("website"):
            # The honeypot was filled in: a bot. Look like success, store nothing.
            consult_requests.record_refused_consult(organization, "honeypot")
            return redirect("site:consultation_thanks")
        if organization is None:
            form.add_error(
                None, "The clinic is not set up to take requests yet. Please call us."
            )
        elif form.is_valid():
            data = form.cleaned_data
            try:
                consult_requests.submit_consult_request(
                    organization,
                    **{
                        k: data[k] for k in consult_requests.CONSULT_FIELDS if k in data
                    },
                    consent_to_contact=data["consent_to_contact"],
                    self_check=results if data.get("attach_self_check") else (),
                )
            except IntakeError as exc:
                form.add_error(
                    exc.field if exc.field in form.fields else None, exc.message
                )
            else:
                return redirect("site:consultation_thanks")
    return render(
        request,
        "site/consultation.html",
        _context(request, organization, "") | {"form": form, "results": results},
    )


@require_GET
def consultation_thanks(request: HttpRequest) -> HttpResponse:
    organization = consult_requests.public_organization()
    return render(
        request, "site/consultation_thanks.html", _context(request, organization, "")
    )


# The clinic admin's editors ----------------------------------------------------------------


def _organization(request: AuthenticatedHttpRequest) -> Organization:
    return Organization.objects.get(pk=request.user.organization_pk)


def _own[Owned: (FaqEntry, ClinicianProfile, SitePhoto)](
    model: type[Owned],
    request: AuthenticatedHttpRequest,
    row_uuid: uuid.UUID,
    missing: str,
) -> Owned:
    """The signed-in admin's own clinic's row, or 404 (another clinic's row is not found)."""
    found = model.objects.filter(
        organization_id=request.user.organization_pk, uuid=row_uuid
    ).first()
    if found is None:
        raise Http404(missing)
    return found


@require_capability(Capability.EDIT_PUBLIC_SITE)
@require_GET
def edit_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    organization = _organization(request)
    titles = dict(
        SitePage.objects.filter(organization=organization).values_list("slug", "title")
    )
    pages = [
        (slug, label, titles.get(slug, content.PAGES[slug].title), slug in titles)
        for slug, label in NAV
    ]
    return render(
        request,
        "site/edit_index.html",
        {
            "pages": pages,
            "faq": FaqEntry.objects.filter(organization=organization),
            "people": ClinicianProfile.objects.filter(organization=organization),
            "photos": SitePhoto.objects.filter(organization=organization),
        },
    )


@require_capability(Capability.EDIT_PUBLIC_SITE)
@require_http_methods(["GET", "POST"])
def edit_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    organization = _organization(request)
    current = actions.site_settings(organization)
    form = SiteSettingsForm(
        request.POST or None, request.FILES or None, instance=current
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("logo_upload")
        try:
            actions.save_site_settings(
                organization,
                logo=upload.read() if upload else None,
                remove_logo=form.cleaned_data.get("remove_logo", False),
                by=request.user,
                **{
                    name: form.cleaned_data[name]
                    for name in SiteSettingsForm.Meta.fields
                },
            )
        except actions.SiteError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, "Saved. The public site shows the changes now.")
            return redirect("site:edit_index")
    return render(request, "site/edit_settings.html", {"form": form})


@require_capability(Capability.EDIT_PUBLIC_SITE)
@require_http_methods(["GET", "POST"])
def edit_page(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    if slug not in content.PAGES:
        raise Http404("No such page.")
    organization = _organization(request)
    stored = SitePage.objects.filter(organization=organization, slug=slug).first()
    default = content.PAGES[slug]
    initial = {
        "title": default.title,
        "meta_description": default.meta_description,
        "body": default.body.strip(),
    }
    form = SitePageForm(
        request.POST or None, instance=stored, initial=None if stored else initial
    )
    if request.method == "POST" and form.is_valid():
        actions.save_page(
            organization,
            slug,
            by=request.user,
            title=form.cleaned_data["title"],
            meta_description=form.cleaned_data["meta_description"],
            body=form.cleaned_data["body"],
        )
        messages.success(request, "Page saved.")
        return redirect("site:edit_index")
    preview = render_markdown(form["body"].value() or "")
    return render(
        request,
        "site/edit_page.html",
        {"form": form, "slug": slug, "path": PAGE_PATHS[slug], "preview": preview},
    )


@require_capability(Capability.EDIT_PUBLIC_SITE)
@require_http_methods(["GET", "POST"])
def edit_faq(
    request: AuthenticatedHttpRequest, entry_uuid: uuid.UUID | None = None
) -> HttpResponse:
    organization = _organization(request)
    if request.method == "POST" and request.POST.get("seed"):
        actions.seed_faq(organization, by=request.user)
        return redirect("site:edit_index")
    entry = None
    if entry_uuid is not None:
        entry = _own(FaqEntry, request, entry_uuid, "No such entry.")
    form = FaqEntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        actions.save_faq_entry(
            organization,
            entry=entry,
            question=form.cleaned_data["question"],
            answer=form.cleaned_data["answer"],
            position=form.cleaned_data["position"],
            is_published=form.cleaned_data["is_published"],
            by=request.user,
        )
        messages.success(request, "Question saved.")
        return redirect("site:edit_index")
    return render(
        request,
        "site/edit_faq.html",
        {"form": form, "entry": entry, "ConsultRequest": ConsultRequest},
    )


@require_capability(Capability.EDIT_PUBLIC_SITE)
@require_http_methods(["GET", "POST"])
def edit_clinician(
    request: AuthenticatedHttpRequest, profile_uuid: uuid.UUID | None = None
) -> HttpResponse:
    organization = _organization(request)
    profile = None
    if profile_uuid is not None:
        profile = _own(ClinicianProfile, request, profile_uuid, "No such profile.")
    form = ClinicianForm(request.POST or None, request.FILES or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("photo_upload")
        data = form.cleaned_data
        try:
            actions.save_clinician(
                organization,
                profile=profile,
                photo=upload.read() if upload else None,
                remove_photo=data.get("remove_photo", False),
                by=request.user,
                name=data["name"],
                credentials=data["credentials"],
                role=data["role"],
                bio=data["bio"],
                position=data["position"],
                is_published=data["is_published"],
            )
        except actions.SiteError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Profile saved.")
            return redirect("site:edit_index")
    return render(
        request, "site/edit_clinician.html", {"form": form, "profile": profile}
    )


@require_capability(Capability.EDIT_PUBLIC_SITE)
@require_http_methods(["GET", "POST"])
def edit_photo(
    request: AuthenticatedHttpRequest, photo_uuid: uuid.UUID | None = None
) -> HttpResponse:
    organization = _organization(request)
    found = None
    if photo_uuid is not None:
        found = _own(SitePhoto, request, photo_uuid, "No such photo.")
    form = PhotoForm(request.POST or None, request.FILES or None, instance=found)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if found is None:
                actions.add_photo(
                    organization,
                    data=data["image_upload"].read(),
                    alt_text=data["alt_text"],
                    caption=data["caption"],
                    position=data["position"],
                    by=request.user,
                )
            else:
                actions.change_photo(
                    found,
                    alt_text=data["alt_text"],
                    caption=data["caption"],
                    position=data["position"],
                    is_published=data["is_published"],
                    by=request.user,
                )
        except actions.SiteError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Photo saved.")
            return redirect("site:edit_index")
    return render(request, "site/edit_photo.html", {"form": form, "photo": found})


@require_capability(Capability.EDIT_PUBLIC_SITE)
@require_GET
def edit_photo_image(
    request: AuthenticatedHttpRequest, photo_uuid: uuid.UUID
) -> FileResponse:
    """The stored photo, shown or not, for the editor's preview."""
    found = _own(SitePhoto, request, photo_uuid, "No such photo.")
    return _image(str(found.image.name))


@require_capability(Capability.EDIT_PUBLIC_SITE)
@require_GET
def edit_clinician_photo(
    request: AuthenticatedHttpRequest, profile_uuid: uuid.UUID
) -> FileResponse:
    found = _own(ClinicianProfile, request, profile_uuid, "No such photo.")
    if not found.photo:
        raise Http404("No such photo.")
    return _image(str(found.photo.name))
