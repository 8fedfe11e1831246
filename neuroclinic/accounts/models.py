import base64
import hashlib
import logging
import time
import uuid
from functools import cached_property
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.oath import totp as totp_code

from neuroclinic.accounts import otp_secrets
from neuroclinic.accounts.roles import Capability, Role, capabilities_of

logger = logging.getLogger(__name__)


# The stubs cannot resolve the reverse managers of the two-factor devices, whose
# django-otp base is untyped (`authenticators`, `recovery_code_sets`).
class User(AbstractUser):  # type: ignore[django-manager-missing]
    """A member of staff. Patients are not users of this kind (see the portal)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "clinics.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    title = models.CharField(
        max_length=60, blank=True, help_text="For example MD, NP, RN, CRNA."
    )
    failed_sign_in_count = models.PositiveSmallIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractUser.Meta):
        ordering = ["last_name", "first_name", "username", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.title}" if self.title else name

    @cached_property
    def roles(self) -> frozenset[Role]:
        names = {g.name for g in self.groups.all()}
        return frozenset(r for r in Role if r.value in names)

    @cached_property
    def capabilities(self) -> frozenset[Capability]:
        if not self.is_active:
            return frozenset()
        return capabilities_of(self.roles)

    @property
    def organization_pk(self) -> int:
        """The staff member's organization. Someone without one may see nothing."""
        if self.organization_id is None:
            raise PermissionDenied
        return self.organization_id

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


def hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough: there is
    # nothing to brute-force, and lookups stay one indexed query.
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenScope(models.TextChoices):
    """What a token may do. FULL: whatever its user's role allows."""

    FULL = "full", "Everything the user's role allows"
    VITALS = "vitals", "Send vital signs from a monitor, nothing else"


# The API operations (method, ninja url name) a narrowed scope may call.
SCOPE_OPERATIONS: dict[str, frozenset[tuple[str, str]]] = {
    TokenScope.VITALS: frozenset({("POST", "send_vitals")}),
}


class ApiToken(models.Model):
    """A personal API token. Only its hash is stored; the token is shown once.

    It expires (API_TOKEN_DAYS after it is made, 90 by default), is revoked when
    its user is locked out or deactivated, and may be narrowed to one scope.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=12, help_text="The token's first characters, to tell it apart."
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Null only for a token made before expiry existed; such a token is refused.
    expires_at = models.DateTimeField(null=True)
    scope = models.CharField(
        max_length=20, choices=TokenScope.choices, default=TokenScope.FULL
    )

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is None or self.expires_at <= timezone.now()

    def allows(self, method: str, operation: str) -> bool:
        """May this token call the API operation (its ninja url name) with `method`?"""
        if self.scope == TokenScope.FULL:
            return True
        return (method, operation) in SCOPE_OPERATIONS.get(self.scope, frozenset())


# django-otp is untyped, so its device bases are Any to mypy.
class Authenticator(TimestampMixin, ThrottlingMixin, Device):  # type: ignore[misc]
    """A TOTP authenticator app (RFC 6238) whose secret is stored encrypted.

    Takes the place of django-otp's TOTP device, which keeps the secret in
    clear; verification follows that device's (the same drift, tolerance and
    replay rules), with the secret decrypted only to compute the code
    (accounts/otp_secrets.py).
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="authenticators"
    )
    secret_encrypted = models.TextField(default=otp_secrets.new_encrypted_secret)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the last accepted code: a code is never accepted twice.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = "authenticator app"

    @property
    def bin_key(self) -> bytes:
        return otp_secrets.decrypt_secret(self.secret_encrypted)

    def set_secret(self, secret: bytes) -> None:
        self.secret_encrypted = otp_secrets.encrypt_secret(secret)

    def get_throttle_factor(self) -> int:
        # django-otp's setting for its TOTP device, kept so configuration carries over.
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))

    def verify_token(self, token: object) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            number = int(str(token))
            key = self.bin_key
        except ValueError:
            verified = False
        except otp_secrets.SecretUnreadable:
            # A configuration fault, not the user's: say so in the log (no code,
            # no name) and refuse; recovery codes still work.
            logger.error("authenticator %s: %s", self.pk, otp_secrets.UNREADABLE)
            return False
        else:
            totp = TOTP(key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(number, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def current_code(self) -> str:
        """The code the user's app shows now (the `totp` command, tests)."""
        code = totp_code(
            self.bin_key,
            step=self.step,
            t0=self.t0,
            digits=self.digits,
            drift=self.drift,
        )
        return f"{code:0{self.digits}d}"

    @property
    def config_url(self) -> str:
        """The otpauth:// URL an authenticator app scans (Key Uri Format)."""
        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "")
        label = self.user.get_username()
        params = {
            "secret": base64.b32encode(self.bin_key).decode(),
            "algorithm": "SHA1",
            "digits": self.digits,
            "period": self.step,
        }
        if issuer:
            label = f"{issuer}:{label}"
        query = urlencode(params)
        if issuer:
            query += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{query}"


class RecoveryCodeSet(ThrottlingMixin, Device):  # type: ignore[misc]
    """A user's one-time recovery codes, held as SHA-256 digests (otp_secrets.py)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="recovery_code_sets"
    )

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = "recovery codes"

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1))

    def verify_token(self, token: object) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        digest = otp_secrets.recovery_code_digest(str(token))
        used, _ = self.codes.filter(digest=digest).delete()
        if used:
            self.throttle_reset(commit=True)
            return True
        self.throttle_increment(commit=True)
        return False


class RecoveryCode(models.Model):
    code_set = models.ForeignKey(
        RecoveryCodeSet, on_delete=models.CASCADE, related_name="codes"
    )
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["code_set", "digest"], name="recovery_code_once_per_set"
            )
        ]

    def __str__(self) -> str:
        return "recovery code"  # never the digest
