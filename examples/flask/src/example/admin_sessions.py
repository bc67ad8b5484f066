"""Admin sessions kept on the server (the `admin_sessions` table), for both flavors' admin.

The admin's signed cookie holds only a random token; the table holds its SHA-256 (a copy of
the table lets no one in), the user and a fixed expiry. So a session
- ends on the server at logout (its row is deleted: the old cookie, replayed, no longer works,
  in any worker process), and
- ends LIFETIME after the login however active it is (the expiry is never pushed back).
Each flavor runs these statements on its own database session (synchronous or not).
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Delete, Select, delete, select

from example.models import AdminSession, User, utcnow
from example.security import token_digest

LIFETIME = timedelta(hours=12)
# What a logged-in user who is not a superuser gets on the admin's pages (403): a way out, the
# logout form ({logout}: its URL; {csrf}: the hidden field with the session's CSRF token).
FORBIDDEN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>403 Forbidden</title></head>
<body>
<h1>403 Forbidden</h1>
<p>The admin is for superusers only.</p>
<form method="post" action="{logout}">{csrf}<button type="submit">Log out</button></form>
</body>
</html>
"""


def now() -> datetime:
    """The current time (a function of its own, so that tests can move the clock)."""
    return utcnow()


def _session_id(token: str) -> str:
    return token_digest(token)


def start(user_id: int) -> tuple[str, AdminSession, Delete]:
    """A new session of `user_id`: the cookie's token, the row to add, and a statement that
    deletes the sessions that have expired (run it too: nothing else does)."""
    token = secrets.token_urlsafe(32)
    started = now()
    row = AdminSession(
        id=_session_id(token), user_id=user_id, created_at=started, expires_at=started + LIFETIME
    )
    return token, row, delete(AdminSession).where(AdminSession.expires_at <= started)


def user_of(token: str) -> Select[User]:
    """The active user of the session `token` names, if it has neither ended nor expired."""
    return (
        select(User)
        .join(AdminSession, AdminSession.user_id == User.id)
        .where(AdminSession.id == _session_id(token), AdminSession.expires_at > now())
        .where(User.is_active.is_(True))
    )


def end(token: str) -> Delete:
    """Delete the session `token` names (logging out)."""
    return delete(AdminSession).where(AdminSession.id == _session_id(token))
