"""Password hashing (Argon2 via pwdlib), access tokens (HS256 JWTs via PyJWT), the policies
for what users set (passwords, e-mail addresses), and the digests of opaque tokens."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pwdlib import PasswordHash

ALGORITHM = "HS256"
# The password policy, wherever a password is set (the command line, the admin, the API).
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128

_password_hash = PasswordHash.recommended()
# Verifying against this when the e-mail is unknown makes a failed login take the
# same time whether or not the account exists. Hashed on first use (see _dummy_hash), not
# at import: an Argon2 hash costs as much as a login, and most imports never need it.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _password_hash.hash("dummy password, never matches")
    return _DUMMY_HASH


def password_problem(password: str) -> str | None:
    """Why `password` may not be set (one sentence), or None if it may."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"The password must have at least {PASSWORD_MIN_LENGTH} characters."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"The password must have at most {PASSWORD_MAX_LENGTH} characters."
    return None


class InvalidEmailError(ValueError):
    """An e-mail address that cannot be an account's; the message says why, in one sentence."""


def normalized_email(address: str) -> str:
    """`address` as accounts store it (trimmed, in lower case), or InvalidEmailError.

    The syntax is email-validator's; no DNS lookup, and local names (`a@intranet`) pass.
    """
    # Imported on first use: most processes (and imports of the app) never check an address.
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(
            address.strip(), check_deliverability=False, globally_deliverable=False
        )
    except EmailNotValidError as error:
        raise InvalidEmailError(f"value is not a valid email address: {error}") from None
    return valid.normalized.lower()


def token_digest(token: str) -> str:
    """What the database keeps of an opaque token (a reset token, an admin session's): its
    SHA-256. The tokens are random (256 bits), so a fast hash is enough: a copy of the table
    lets no one in."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, hashed_password: str | None) -> bool:
    if hashed_password is None:
        _password_hash.verify(password, _dummy_hash())
        return False
    return _password_hash.verify(password, hashed_password)


@dataclass(frozen=True)
class AccessToken:
    """What a valid token says: whose it is, and when it was issued (seconds since the
    epoch, to the microsecond: a token issued in the same second as a password change must
    still be told apart from the ones issued before it)."""

    user_id: int
    issued_at: float


def create_access_token(user_id: int, secret_key: str, expires_minutes: int) -> str:
    # PyJWT is imported on first use: it imports `cryptography` whenever that is installed
    # (the tests' trustme brings it), ~0.1 s that an import of the app need not pay.
    import jwt

    now = datetime.now(UTC)
    # `iat` as a number, not a datetime: PyJWT would truncate a datetime to the second.
    claims = {
        "sub": str(user_id),
        "iat": now.timestamp(),
        "exp": now + timedelta(minutes=expires_minutes),
    }
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, secret_key: str) -> AccessToken | None:
    """What a valid token says, or None for an expired, tampered or malformed token."""
    import jwt  # on first use, as in create_access_token

    try:
        claims = jwt.decode(
            token, secret_key, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat"]}
        )
        return AccessToken(user_id=int(claims["sub"]), issued_at=float(claims["iat"]))
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
