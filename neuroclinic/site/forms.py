"""Forms for the public site: the consult request, and the clinic admin's editors."""

from typing import Any

from django import forms

from neuroclinic.intake.models import ConsultRequest
from neuroclinic.lib.bidi import NoBidiModelForm
from neuroclinic.site.colours import HEX, readable_on_white
from neuroclinic.site.images import MAX_UPLOAD_BYTES
from neuroclinic.site.models import (
    ClinicianProfile,
    FaqEntry,
    SitePage,
    SitePhoto,
    SiteSettings,
)

PHOTO_LIMIT_MB = MAX_UPLOAD_BYTES // (1024 * 1024)


class ConsultRequestForm(NoBidiModelForm):
    # A field people never see; bots fill it in (the honeypot).
    website = forms.CharField(required=False, label="Leave this empty")
    consent_to_contact = forms.BooleanField(
        required=True,
        label="I agree that the clinic may contact me by the method I chose about this request.",
        error_messages={
            "required": "Please agree that we may contact you, or we cannot reply."
        },
    )
    attach_self_check = forms.BooleanField(
        required=False,
        label="Send my self-check result with this request. The clinic stores it with my request.",
    )
    self_check_token = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = ConsultRequest
        fields = [
            "given_name",
            "family_name",
            "phone",
            "email",
            "contact_method",
            "contact_time",
            "interest",
            "seeking_help_for",
            "referring_provider",
            "heard_about",
        ]
        widgets = {
            "seeking_help_for": forms.Textarea(attrs={"rows": 4}),
            "contact_method": forms.RadioSelect,
        }
        labels = {"referring_provider": "Your doctor or therapist (optional)"}
        help_texts = {
            "seeking_help_for": "A sentence or two is enough. Please do not include anything you would not want in an email.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update(
            {"autocomplete": "tel", "inputmode": "tel"}
        )
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["given_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["family_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["website"].widget.attrs.update(
            {"autocomplete": "off", "tabindex": "-1"}
        )
        self.fields["heard_about"].required = False
        # Phone or email: at least one, so neither is labelled optional.
        for name in ("phone", "email"):
            self.fields[name].either_or = True  # type: ignore[attr-defined]
        self.fields["phone"].help_text = "A phone number, an email address, or both."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("phone") and not data.get("email"):
            self.add_error("phone", "Give a phone number or an email address.")
        method = data.get("contact_method")
        if method in ("phone", "text") and not data.get("phone"):
            self.add_error("phone", "Give a phone number to be called or texted.")
        if method == "email" and not data.get("email"):
            self.add_error("email", "Give an email address to be emailed.")
        return data


class SiteSettingsForm(forms.ModelForm):  # type: ignore[type-arg]  # django-stubs: ModelForm generic
    logo_upload = forms.FileField(
        required=False, label="Logo (PNG or JPEG, up to 1 MB)"
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    class Meta:
        model = SiteSettings
        fields = [
            "clinic_name",
            "tagline",
            "primary_colour",
            "accent_colour",
            "address",
            "phone",
            "email",
            "hours",
            "infusion_setting",
            "price_ranges",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "hours": forms.Textarea(attrs={"rows": 4}),
            "infusion_setting": forms.Textarea(attrs={"rows": 6}),
            "price_ranges": forms.Textarea(attrs={"rows": 4}),
            "primary_colour": forms.TextInput(attrs={"type": "color"}),
            "accent_colour": forms.TextInput(attrs={"type": "color"}),
        }

    def _colour(self, name: str) -> str:
        value = str(self.cleaned_data.get(name, "")).lower()
        if not HEX.match(value):
            raise forms.ValidationError(
                "Enter a colour as # and six hex digits, such as #1f4e79."
            )
        if not readable_on_white(value):
            raise forms.ValidationError(
                "This colour is too light for text on white (WCAG AA needs 4.5:1): choose a darker one."
            )
        return value

    def clean_primary_colour(self) -> str:
        return self._colour("primary_colour")

    def clean_accent_colour(self) -> str:
        return self._colour("accent_colour")


class SitePageForm(forms.ModelForm):  # type: ignore[type-arg]  # django-stubs: ModelForm generic
    class Meta:
        model = SitePage
        fields = ["title", "meta_description", "body"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 24}),
            "meta_description": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "meta_description": "One or two sentences for search engines (under 160 characters is best).",
            "body": "Markdown: ## for a heading, **bold**, - for a list, [text](link). Other HTML is removed.",
        }


class FaqEntryForm(forms.ModelForm):  # type: ignore[type-arg]  # django-stubs: ModelForm generic
    class Meta:
        model = FaqEntry
        fields = ["question", "answer", "position", "is_published"]
        widgets = {"answer": forms.Textarea(attrs={"rows": 6})}


class ClinicianForm(forms.ModelForm):  # type: ignore[type-arg]  # django-stubs: ModelForm generic
    photo_upload = forms.FileField(
        required=False,
        label=f"Photo (JPEG, PNG or WebP, up to {PHOTO_LIMIT_MB} MB)",
        help_text="Resized to 600 pixels and saved without its camera data (EXIF, GPS).",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp"}
        ),
    )
    remove_photo = forms.BooleanField(required=False, label="Remove the photo")

    class Meta:
        model = ClinicianProfile
        fields = ["name", "credentials", "role", "bio", "position", "is_published"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 5})}


class PhotoForm(forms.ModelForm):  # type: ignore[type-arg]  # django-stubs: ModelForm generic
    image_upload = forms.FileField(
        required=False,
        label=f"Photo (JPEG, PNG or WebP, up to {PHOTO_LIMIT_MB} MB)",
        help_text="Resized to 1600 pixels and saved without its camera data (EXIF, GPS).",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp"}
        ),
    )

    class Meta:
        model = SitePhoto
        fields = ["alt_text", "caption", "position", "is_published"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["image_upload"].required = True
            self.fields["image_upload"].error_messages["required"] = (
                "Choose a photo to upload."
            )
            del self.fields["is_published"]
        else:
            del self.fields["image_upload"]
