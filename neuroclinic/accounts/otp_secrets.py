"""Second-factor secrets at rest (issue 15 item 7; docs/security.md, "Two-factor secrets").

An authenticator's TOTP secret must be readable by the server (the code is
computed from it), so it is encrypted with Fernet (AES-128-CBC + HMAC-SHA256,
from the `cryptography` package) under a key that is not in the database:
OTP_SECRET_KEYS, a comma-separated list of passphrases where the first encrypts
and every one decrypts (so a new key rolls in ahead of the old one), or, when
unset, a key derived from SECRET_KEY. A copy of the database alone does not
give an attacker anybody's second factor.

Recovery codes are never needed again in clear: they carry 80 random bits and
are stored as SHA-256 digests, so a leaked table cannot be turned back into
codes (nothing to brute-force at 2^80) and no key has to be kept for them.
"""

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_BYTES = 20  # RFC 4226 section 4: 160 bits for HMAC-SHA1
RECOVERY_CODE_BYTES = 10  # 80 bits, written as 16 base32 letters and digits


class SecretUnreadable(Exception):
    """The stored secret was encrypted under a key that is no longer configured."""


def _fernet_key(passphrase: str) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"neuroclinic two-factor secrets",
    ).derive(passphrase.encode())
    return base64.urlsafe_b64encode(derived)


def _passphrases() -> list[str]:
    configured: str = getattr(settings, "OTP_SECRET_KEYS", "")
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    return keys or [f"derived from SECRET_KEY:{settings.SECRET_KEY}"]


def _cipher() -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(k)) for k in _passphrases()])


def encrypt_secret(secret: bytes) -> str:
    return _cipher().encrypt(secret).decode("ascii")


UNREADABLE = (
    "an authenticator's secret was encrypted with a key that is not in "
    "OTP_SECRET_KEYS; add the old key back, or reset the user's two-factor."
)


def decrypt_secret(token: str) -> bytes:
    try:
        return _cipher().decrypt(token.encode("ascii"))
    except InvalidToken:
        raise SecretUnreadable(UNREADABLE) from None


def reencrypt_secret(token: str) -> str:
    """The same secret under the first configured key (key rotation)."""
    try:
        return _cipher().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable(UNREADABLE) from None


def new_encrypted_secret() -> str:
    return encrypt_secret(secrets.token_bytes(SECRET_BYTES))


def new_recovery_code() -> str:
    """Sixteen base32 characters in four groups: 'k2mf-q7xa-...'."""
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def recovery_code_digest(code: str) -> str:
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()
