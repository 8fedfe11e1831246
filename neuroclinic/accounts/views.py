import base64
import time

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.models import Group
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from neuroclinic.accounts import actions
from neuroclinic.accounts.access import require_capability, staff_required
from neuroclinic.accounts.forms import (
    CodeForm,
    EditUserForm,
    EnrolForm,
    NewUserForm,
    PasswordChangeForm,
    SignInForm,
)
from neuroclinic.accounts.models import Authenticator, RecoveryCodeSet, User
from neuroclinic.accounts.roles import Capability, Role
from neuroclinic.http import AuthenticatedHttpRequest

PENDING_USER = "_nc_pending_user"
PENDING_AT = "_nc_pending_at"
PENDING_NEXT = "_nc_pending_next"
PENDING_SECONDS = 300  # the second step must follow the password within 5 minutes

FAILED_MESSAGE = "That username and password do not match. Check them and try again."


def _locked_message(user: User) -> str:
    assert user.locked_until is not None
    minutes = max(1, int((user.locked_until.timestamp() - time.time()) // 60) + 1)
    return (
        f"This account is locked after too many failed attempts. Try again in {minutes} "
        "minutes, or ask a clinic admin."
    )


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("home")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        password = form.cleaned_data["password"]
        user = User.objects.filter(username=username).first()
        if user is not None and user.is_locked():
            actions.record_locked_attempt(user, stage="password")
            form.add_error(None, _locked_message(user))
        elif user is not None and user.is_active and user.check_password(password):
            request.session.cycle_key()
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_AT] = time.time()
            request.session[PENDING_NEXT] = _safe_next(request, request.GET.get("next"))
            return redirect("accounts:two_factor")
        else:
            if user is None:
                User().set_password(
                    password
                )  # same work as a real check: no timing oracle
            locked = actions.record_failed_sign_in(
                user, username=username, stage="password"
            )
            if locked and user is not None:
                user.refresh_from_db(fields=["locked_until"])
                form.add_error(None, _locked_message(user))
            else:
                form.add_error(None, FAILED_MESSAGE)
    return render(request, "accounts/sign_in.html", {"form": form})


def _pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT, 0)
    if user_id is None or time.time() - started > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def _clear_pending(request: HttpRequest) -> str:
    request.session.pop(PENDING_USER, None)
    request.session.pop(PENDING_AT, None)
    return str(request.session.pop(PENDING_NEXT, reverse("home")))


def _complete_sign_in(
    request: HttpRequest,
    user: User,
    device: Authenticator | RecoveryCodeSet,
    method: str,
) -> str:
    next_url = _clear_pending(request)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    otp_login(request, device)
    actions.record_sign_in(user, method=method)
    return next_url


@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        _clear_pending(request)
        messages.info(request, "Sign in with your username and password first.")
        return redirect("accounts:login")
    if user.is_locked():
        _clear_pending(request)
        messages.error(request, _locked_message(user))
        return redirect("accounts:login")

    device = Authenticator.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return _enrol(request, user)

    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            # django-otp slows guessing after a wrong code; a refusal now says
            # nothing about this code, so it is not counted as a failure.
            form.add_error(
                "code", "Too fast after a wrong code: wait a few seconds and try again."
            )
            return render(request, "accounts/two_factor.html", {"form": form})
        if device.verify_token(code):
            return redirect(_complete_sign_in(request, user, device, "totp"))
        static = RecoveryCodeSet.objects.filter(user=user, confirmed=True).first()
        if static is not None and static.verify_token(code):
            next_url = _complete_sign_in(request, user, static, "recovery_code")
            actions.record_recovery_code_used(user)
            messages.warning(
                request, "You signed in with a recovery code; it cannot be used again."
            )
            return redirect(next_url)
        if actions.record_failed_sign_in(
            user, username=user.username, stage="two_factor"
        ):
            _clear_pending(request)
            user.refresh_from_db(fields=["locked_until"])
            messages.error(request, _locked_message(user))
            return redirect("accounts:login")
        form.add_error("code", "That code is not right. Codes change every 30 seconds.")
    return render(request, "accounts/two_factor.html", {"form": form})


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return str(image.to_string(encoding="unicode"))


def _enrol(request: HttpRequest, user: User) -> HttpResponse:
    device = actions.pending_totp_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            codes = actions.confirm_totp_enrolment(user, device)
            next_url = _complete_sign_in(request, user, device, "totp_enrolment")
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next_url": next_url},
            )
        if actions.record_failed_sign_in(
            user, username=user.username, stage="enrolment"
        ):
            _clear_pending(request)
            user.refresh_from_db(fields=["locked_until"])
            messages.error(request, _locked_message(user))
            return redirect("accounts:login")
        form.add_error(
            "code", "That code does not match. Check the app shows Neuroclinic."
        )
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - generated here, no user input
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if isinstance(request.user, User) and request.user.is_authenticated:
        actions.record_sign_out(request.user)
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:login")


@staff_required
@require_http_methods(["GET", "POST"])
def password_change(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.change_password(
            request.user, new_password=form.cleaned_data["new_password"]
        )
        # Keep this session signed in (and verified) after the hash changes.
        update_session_auth_hash(request, request.user)
        messages.success(request, "Your password is changed.")
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


def _org_users(request: AuthenticatedHttpRequest) -> "list[User]":
    return list(
        User.objects.filter(
            organization_id=request.user.organization_pk
        ).prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
    )


@require_capability(Capability.MANAGE_USERS)
def users(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "accounts/users.html", {"users": _org_users(request)})


@require_capability(Capability.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def new_user(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = NewUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = actions.create_user(
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            title=data["title"],
            roles=[Role(r) for r in data["roles"]],
            password=data["password"],
            by=request.user,
        )
        messages.success(
            request, f"{user.display_name} can now sign in and enrol two-factor."
        )
        return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "new": True})


@require_capability(Capability.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def edit_user(request: AuthenticatedHttpRequest, user_uuid: str) -> HttpResponse:
    member = get_object_or_404(
        User, uuid=user_uuid, organization_id=request.user.organization_pk
    )
    initial = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "title": member.title,
        "is_active": member.is_active,
        "roles": [r.value for r in member.roles],
    }
    form = EditUserForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if member == request.user and not data["is_active"]:
            form.add_error("is_active", "You cannot deactivate your own account.")
        elif member == request.user and Role.CLINIC_ADMIN.value not in data["roles"]:
            form.add_error("roles", "You cannot remove your own clinic-admin role.")
        else:
            actions.update_user(
                member,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                title=data["title"],
                is_active=data["is_active"],
                roles=[Role(r) for r in data["roles"]],
                by=request.user,
            )
            messages.success(request, f"Saved {member.display_name}.")
            return redirect("accounts:users")
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "new": False, "member": member},
    )


@require_capability(Capability.MANAGE_USERS)
@require_POST
def reset_user_two_factor(
    request: AuthenticatedHttpRequest, user_uuid: str
) -> HttpResponse:
    member = get_object_or_404(
        User, uuid=user_uuid, organization_id=request.user.organization_pk
    )
    actions.reset_two_factor(member, by=request.user)
    messages.success(
        request, f"{member.display_name} will set up two-factor at next sign-in."
    )
    return redirect("accounts:edit_user", user_uuid=member.uuid)
