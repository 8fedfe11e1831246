import hashlib
import uuid
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone

from neuroclinic.accounts.roles import Capability, Role, capabilities_of


class User(AbstractUser):
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
