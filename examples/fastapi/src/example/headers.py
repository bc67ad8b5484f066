"""Security headers: one list of values for both flavors (API-CONTRACT.md, "Hardening").

- Every response: `X-Content-Type-Options: nosniff`; in production also
  `Strict-Transport-Security` (browsers heed it only over HTTPS, i.e. behind the TLS proxy).
- The pages (/admin, /docs): `X-Frame-Options: DENY` and a `Content-Security-Policy` that
  loads only the app's own files and cannot be framed. Their inline scripts run only with
  the response's nonce, fresh for each response, which the templates write into their
  `<script>` tags (script_nonce.py); a script injected into a page has none.
- The admin's pages and answers (not its static files): `Cache-Control: no-store`, as the
  token response (the token views set it).
"""

import base64
import hashlib
import secrets
from contextvars import ContextVar

Header = tuple[str, str]

NOSNIFF: Header = ("X-Content-Type-Options", "nosniff")
STRICT_TRANSPORT_SECURITY: Header = (
    "Strict-Transport-Security",
    "max-age=31536000; includeSubDomains",
)
FRAME_DENY: Header = ("X-Frame-Options", "DENY")
NO_STORE: Header = ("Cache-Control", "no-store")
CSP_HEADER = "Content-Security-Policy"
# The pages a browser shows: they get the framing and content policies.
PAGE_PREFIXES = ("/admin", "/docs", "/redoc")
ADMIN_PREFIX = "/admin"
# The admin's own scripts and styles (both admins serve them there): cached as usual.
ADMIN_STATIC = "/admin/static/"
# The admin library's inline event handlers and `javascript:` links, in its own templates
# (which cannot carry a nonce): allowed by their hashes on the admin's pages, and only these.
ADMIN_INLINE_HANDLERS = (
    "applyColumnVisibility()",
    "window.location = this.value",
)

_nonce: ContextVar[str] = ContextVar("csp_nonce", default="")


def csp_nonce() -> str:
    """The nonce of the page being answered (empty outside one)."""
    return _nonce.get()


def _sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


_ADMIN_HANDLER_SOURCES = " ".join(["'unsafe-hashes'", *map(_sha256, ADMIN_INLINE_HANDLERS)])


def content_security_policy(nonce: str, *, admin: bool = False) -> str:
    script_src = f"'self' 'nonce-{nonce}'"
    if admin and ADMIN_INLINE_HANDLERS:
        script_src = f"{script_src} {_ADMIN_HANDLER_SOURCES}"
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {script_src}",
            # Style attributes, which the admin's and Swagger UI's widgets write into their
            # markup, need 'unsafe-inline'; a style cannot run code, and only the app's own
            # style sheets load.
            "style-src 'self' 'unsafe-inline'",
            # Swagger UI and the admin's icons draw some images from data: URLs.
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith(f"{prefix}/") for prefix in prefixes)


class SecurityHeaders:
    """Which of the headers above a response gets, from its path; one per app."""

    def __init__(self, *, production: bool) -> None:
        self.always: list[Header] = [NOSNIFF]
        if production:
            self.always.append(STRICT_TRANSPORT_SECURITY)

    def for_path(self, path: str) -> list[Header]:
        """The headers of the response to a request for `path`, called before the response
        is made: a page's call sets the nonce its templates write (csp_nonce())."""
        if not _under(path, PAGE_PREFIXES):
            return self.always
        nonce = secrets.token_urlsafe(16)
        _nonce.set(nonce)
        admin = _under(path, (ADMIN_PREFIX,))
        policy = content_security_policy(nonce, admin=admin)
        headers = [*self.always, FRAME_DENY, (CSP_HEADER, policy)]
        if admin and not path.startswith(ADMIN_STATIC):
            headers.append(NO_STORE)
        return headers
