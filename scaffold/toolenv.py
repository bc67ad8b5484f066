"""The one environment a generated project's commands run in (``scaffold smoke``, our tests).

Our own virtualenv must not leak into a project's (uv would use or refuse it), and the
project's settings must not come from the caller's shell (a DATABASE_URL there would be
migrated by a SQLite project's ``alembic upgrade head``). Every place that runs a project's
commands builds its environment here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Our own interpreter's and virtualenv's settings.
FOREIGN_ENV = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME")
# The generated projects' settings (every key of their .env.example, and the test database's).
PROJECT_SETTINGS = (
    "ENVIRONMENT", "DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "SECRET_KEY",
    "CORS_ORIGINS", "AUTH_RATE_LIMIT", "TRUSTED_PROXIES", "ACCESS_TOKEN_EXPIRE_MINUTES",
    "WS_MAX_CONNECTIONS", "LOG_LEVEL", "METRICS_ENABLED", "REGISTRATION_OPEN", "SMTP_HOST",
    "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_TLS", "EMAIL_FROM", "PASSWORD_RESET_URL",
    "PASSWORD_RESET_EXPIRE_MINUTES",
)  # fmt: skip
SCRUBBED_ENV = FOREIGN_ENV + PROJECT_SETTINGS
"""What is removed from the caller's environment."""


def project_env(
    extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``environ`` (default: this process's) without :data:`SCRUBBED_ENV`, with interpreter
    downloads off (the Pythons on PATH, never a download), then ``extra``."""
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k not in SCRUBBED_ENV}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(extra or {})
    return env
