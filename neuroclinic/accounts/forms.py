from typing import Any

from django import forms
from django.contrib.auth import password_validation

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.lib.bidi import NoBidiForm

ROLE_CHOICES = [(r.value, r.label) for r in Role]


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        return "".join(str(self.cleaned_data["code"]).split())


class EnrolForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\d{6}$",
        label="The 6-digit code your app shows now",
        error_messages={"invalid": "Enter the 6 digits your authenticator app shows."},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    confirm_password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_current_password(self) -> str:
        value: str = self.cleaned_data["current_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("This is not your current password.")
        return value

    def clean_new_password(self) -> str:
        value: str = self.cleaned_data["new_password"]
        password_validation.validate_password(value, self.user)
        return value

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if (
            data
            and data.get("new_password")
            and data.get("new_password") != data.get("confirm_password")
        ):
            self.add_error("confirm_password", "The two new passwords differ.")
        return data


class UserForm(NoBidiForm):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    title = forms.CharField(
        max_length=60, required=False, help_text="For example MD, NP, RN, CRNA."
    )
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple
    )


class NewUserForm(UserForm):
    username = forms.RegexField(
        regex=r"^[a-z0-9_.-]{2,150}$",
        error_messages={
            "invalid": "Use 2-150 lower-case letters, digits, dots, dashes or underscores."
        },
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="A first password; they change it after signing in.",
    )

    field_order = [
        "username",
        "first_name",
        "last_name",
        "email",
        "title",
        "roles",
        "password",
    ]

    def clean_username(self) -> str:
        value: str = self.cleaned_data["username"]
        if User.objects.filter(username=value).exists():
            raise forms.ValidationError("That username is taken.")
        return value

    def clean_password(self) -> str:
        value: str = self.cleaned_data["password"]
        password_validation.validate_password(value)
        return value


class EditUserForm(UserForm):
    is_active = forms.BooleanField(required=False, label="Active (may sign in)")
