"""scaffold/services.py: the servers a project needs are the URLs its .env.example names."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.services import project_services, service_settings

NONE: dict[str, list[str]] = {"postgresql": [], "redis": []}


@pytest.mark.parametrize(
    ("env_example", "needs"),
    [
        ("DATABASE_URL=sqlite:///./app.db\n# REDIS_URL=redis://localhost:6379/0", NONE),
        (
            "DATABASE_URL=postgresql://postgres@localhost:5432/app",
            {**NONE, "postgresql": ["DATABASE_URL"]},
        ),
        ("DATABASE_URL=postgresql+psycopg://db/app", {**NONE, "postgresql": ["DATABASE_URL"]}),
        ("DATABASE_URL=postgres://db/app", {**NONE, "postgresql": ["DATABASE_URL"]}),
        ("REDIS_URL=redis://localhost:6379/0", {**NONE, "redis": ["REDIS_URL"]}),
        # an option that needs a server only has to name it in .env.example
        (
            "REDIS_URL=redis://localhost:6379/0\n CACHE_URL = redis://localhost:6379/1",
            {**NONE, "redis": ["REDIS_URL", "CACHE_URL"]},
        ),
        ("# DATABASE_URL=postgresql://db/app\nSECRET_KEY=\nCORS_ORIGINS=https://a.example", NONE),
        ("SMTP_HOST=smtp.example.com\nnot a setting\nMAILER_URL=smtp://localhost:25", NONE),
        ("", NONE),
    ],
    ids=[
        "sqlite-no-redis",
        "postgresql",
        "postgresql-with-driver",
        "postgres-scheme",
        "redis",
        "a-second-redis-setting",
        "commented-out-and-no-urls",
        "unknown-schemes",
        "empty",
    ],
)
def test_the_servers_are_the_urls_the_settings_name(
    env_example: str, needs: dict[str, list[str]]
) -> None:
    assert service_settings(env_example) == needs


def test_a_directory_without_an_env_example_needs_nothing(tmp_path: Path) -> None:
    assert project_services(tmp_path) == NONE
