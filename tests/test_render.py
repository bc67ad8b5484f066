"""Rendering the template with pytest-copie: which files each answer produces, and their content.

The expectations are one table (``RULES``): a path (a glob may be used) that must exist
*if and only if* a condition on the answers holds, plus text it must / must not contain.
Rules for files the framework trees do not ship yet are listed in ``PENDING``; they are skipped
(visibly) and ``test_pending_rules_are_still_pending`` fails as soon as such a file appears,
so that the entry is switched on instead of silently staying off.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import (
    FRAMEWORKS,
    Rendered,
    cached_renderer,
    copier_questions,
    preset_answers,
)

Answers = Mapping[str, Any]
# The answer presets of examples/presets; test_presets checks they use every value of every
# choice question at least once per framework.
PRESETS = preset_answers()


# --- the table of expected files ---------------------------------------------------------


def always(_: Answers) -> bool:
    return True


def when(key: str, *values: Any) -> Callable[[Answers], bool]:
    return lambda answers: answers[key] in values


def nothing(_: Answers) -> list[str]:
    return []


LICENSE_TEXT = {
    "MIT": "MIT License",
    "Apache-2.0": "Apache License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "Proprietary": "All rights reserved",
}


@dataclass(frozen=True)
class Rule:
    """``path`` exists iff ``exists_if(answers)``; when it exists it contains ``contains``
    and none of ``lacks``. ``{package_name}`` etc. in ``path`` are filled in from the answers."""

    path: str
    exists_if: Callable[[Answers], bool] = always
    contains: Callable[[Answers], list[str]] = nothing
    lacks: Callable[[Answers], list[str]] = nothing

    def matches(self, project: Path, answers: Answers) -> list[Path]:
        pattern = self.path.format(**answers)
        if any(char in pattern for char in "*?["):
            return sorted(project.glob(pattern))
        return [project / pattern] if (project / pattern).exists() else []


PKG = "src/{package_name}"
TASKS_REGISTRATION = {
    "fastapi": "    tasks.router,\n]",
    "flask": ", tasks, *resource_apis)",
}

RULES: list[Rule] = [
    # always, both frameworks
    Rule(".copier-answers.yml"),
    Rule(".env", contains=lambda a: ["SECRET_KEY="]),
    Rule(".env.example", contains=lambda a: ["DATABASE_URL=", "SECRET_KEY="]),
    Rule(".gitignore", contains=lambda a: [".env"]),
    Rule(".python-version", contains=lambda a: [a["python_version"]]),
    Rule(".pre-commit-config.yaml"),
    Rule(
        "pyproject.toml",
        contains=lambda a: [
            f'name = "{a["project_slug"]}"',
            f'requires-python = ">={a["python_version"]}"',
            f'{a["project_slug"]} = "{a["package_name"]}.cli:app"',
            '"flask>=' if a["framework"] == "flask" else '"fastapi',
            *(["psycopg"] if a["database"] == "postgresql" else []),
            *(["celery"] if a["background_tasks"] == "celery" else []),
        ],
        lacks=lambda a: [
            '"fastapi' if a["framework"] == "flask" else '"flask>=',
            *(["psycopg"] if a["database"] == "sqlite" else []),
            *(["celery"] if a["background_tasks"] == "none" else []),
        ],
    ),
    Rule("alembic.ini"),
    Rule("migrations/env.py"),
    Rule("migrations/versions/0001_initial.py"),
    Rule(f"{PKG}/__init__.py"),
    Rule(f"{PKG}/settings.py"),
    Rule(f"{PKG}/models.py"),
    Rule(f"{PKG}/security.py"),
    Rule(f"{PKG}/cli.py"),
    Rule(f"{PKG}/logging_config.py"),
    Rule(f"{PKG}/redaction.py"),
    Rule(f"{PKG}/app.py"),
    Rule(f"{PKG}/server.py"),
    Rule(f"{PKG}/db.py"),
    Rule(f"{PKG}/schemas.py"),
    # The tasks router / blueprint is registered iff there is one.
    Rule(
        f"{PKG}/api/__init__.py",
        contains=lambda a: (
            [TASKS_REGISTRATION[a["framework"]]] if a["background_tasks"] == "celery" else []
        ),
        lacks=lambda a: (
            [TASKS_REGISTRATION[a["framework"]]] if a["background_tasks"] == "none" else []
        ),
    ),
    # The same role has the same module name in both frameworks (tests/test_one_source.py).
    Rule(f"{PKG}/deps.py", contains=lambda _: ["def get_settings(", "def get_current_user("]),
    Rule(f"{PKG}/docs.py"),
    Rule(f"{PKG}/errors.py", contains=lambda _: ["def register_error_handlers("]),
    # WS /api/v1/ws/items: the shared fan-out (events.py) and each framework's glue (api/ws.py).
    Rule(
        f"{PKG}/events.py", contains=lambda a: [f'"{a["package_name"]}:db{{database}}:item-events"']
    ),
    Rule(
        f"{PKG}/api/ws.py",
        contains=lambda a: (
            ['@router.websocket("/ws/items")']
            if a["framework"] == "fastapi"
            else ['PATH = "/api/v1/ws/items"', "flask_sock"]
        ),
    ),
    Rule(
        f"{PKG}/server.py",
        contains=lambda a: (
            [f'"worker_class": "{a["package_name"]}.server.ThreadWorker"']
            if a["framework"] == "flask"
            else []
        ),
    ),
    Rule("tests/test_events.py"),
    Rule("tests/test_websocket.py"),
    # Accounts: signup, password change, password reset by e-mail (SMTP).
    Rule(
        f"{PKG}/api/accounts.py",
        contains=lambda a: [
            '"/users/me/password"',
            '"/auth/password-reset/confirm"',
            "queue_password_reset" if a["background_tasks"] == "celery" else "mail.send",
        ],
    ),
    Rule(f"{PKG}/accounts.py", contains=lambda a: ["def issue_reset_token", "def spend_reset_"]),
    Rule(f"{PKG}/mail.py", contains=lambda a: ["import smtplib", "add_alternative"]),
    Rule(f"{PKG}/mail_templates/password_reset.txt", contains=lambda a: ["$reset_url"]),
    Rule(f"{PKG}/mail_templates/password_reset.html", contains=lambda a: ['href="$reset_url"']),
    Rule(
        "migrations/versions/0004_password_reset_tokens.py",
        contains=lambda a: [f'down_revision: str | None = "{"0003" if a["admin"] else "0002"}"'],
    ),
    Rule("tests/test_accounts.py"),
    Rule(
        ".env.example",
        contains=lambda a: ["REGISTRATION_OPEN=false", "SMTP_HOST=", "SMTP_TLS=", "EMAIL_FROM="],
    ),
    Rule(
        "compose.yaml",
        exists_if=when("docker", True),
        contains=lambda a: ["axllent/mailpit", "SMTP_HOST: ${SMTP_HOST:-mailpit}"],
    ),
    Rule(
        "README.md",
        contains=lambda a: ["## Realtime item events (WebSocket)", 'new WebSocket("ws://'],
    ),
    Rule("tests/__init__.py"),
    Rule("tests/common.py"),
    Rule("tests/conftest.py"),
    Rule(
        "README.md",
        contains=lambda a: [
            a["project_name"],
            "python -m pip install uv",
            "uv run pytest",
            *(
                [f"celery -A {a['package_name']}.tasks worker", "POST /api/v1/tasks/item-summary"]
                if a["background_tasks"] == "celery"
                else []
            ),
        ],
    ),
    Rule(
        "LICENSE",
        contains=lambda a: [LICENSE_TEXT[a["license"]], a["author_name"]],
        lacks=lambda a: [text for key, text in LICENSE_TEXT.items() if key != a["license"]],
    ),
    Rule("mkdocs.yml"),
    Rule("docs/index.md"),
    # optional files: present iff their answer asks for them
    Rule("Dockerfile", exists_if=when("docker", True)),
    Rule("compose.yaml", exists_if=when("docker", True)),
    Rule(".dockerignore", exists_if=when("docker", True)),
    Rule(
        "deploy/kubernetes/*.yaml",
        exists_if=lambda a: a.get("kubernetes", False),  # not asked (nor recorded) without docker
        contains=lambda a: [a["project_slug"]],
    ),
    Rule(
        "deploy/kubernetes/worker-deployment.yaml",
        exists_if=lambda a: a.get("kubernetes", False) and a["background_tasks"] == "celery",
        contains=lambda a: [f"{a['package_name']}.tasks"],
    ),
    Rule("tests/test_kubernetes.py", exists_if=lambda a: a.get("kubernetes", False)),
    Rule(".github/workflows/ci.yml", exists_if=when("ci", "github")),
    Rule(".gitlab-ci.yml", exists_if=when("ci", "gitlab")),
    Rule(f"{PKG}/admin*", exists_if=when("admin", True)),
    Rule(f"{PKG}/tasks.py", exists_if=when("background_tasks", "celery")),
    Rule("tests/test_tasks.py", exists_if=when("background_tasks", "celery")),
    # The API's face of the task queue: POST /api/v1/tasks/item-summary, GET /api/v1/tasks/{id}.
    Rule(
        f"{PKG}/api/tasks.py",
        exists_if=when("background_tasks", "celery"),
        contains=lambda a: [
            '"/item-summary"',
            '"/{task_id}"' if a["framework"] == "fastapi" else '"/<task_id>"',
        ],
    ),
]

# (framework, rule path) pairs whose file that framework does not ship yet. Remove an entry
# when the file lands (test_pending_rules_are_still_pending tells you when).
PENDING: set[tuple[str, str]] = set()


# --- rendering (once per preset per session) ---------------------------------------------


@pytest.fixture(scope="session")
def render(copie_session: Any) -> Callable[[str], Rendered]:
    return cached_renderer(copie_session, PRESETS)


def rule_params() -> list[Any]:
    params = []
    for preset, answers in PRESETS.items():
        for rule in RULES:
            marks = []
            if (answers["framework"], rule.path) in PENDING:
                marks.append(
                    pytest.mark.skip(reason=f"pending: {rule.path} not in the template yet")
                )
            params.append(pytest.param(preset, rule, id=f"{preset}:{rule.path}", marks=marks))
    return params


@pytest.mark.parametrize(("preset", "rule"), rule_params())
def test_expected_files(render: Callable[[str], Rendered], preset: str, rule: Rule) -> None:
    rendered = render(preset)
    answers = rendered.answers
    found = rule.matches(rendered.project, answers)
    if not rule.exists_if(answers):
        assert not found, f"{rule.path} must not exist for this answer: {found}"
        return
    assert found, f"{rule.path} is missing"
    text = "\n".join(p.read_text(encoding="utf-8") for p in found if p.is_file())
    for expected in rule.contains(answers):
        assert expected in text, f"{rule.path} lacks {expected!r}"
    for unexpected in rule.lacks(answers):
        assert unexpected not in text, f"{rule.path} contains {unexpected!r}"


def test_pending_rules_are_still_pending(render: Callable[[str], Rendered]) -> None:
    """A pending file that now exists must be switched on in the table."""
    appeared = []
    for preset, answers in PRESETS.items():
        rendered = render(preset)
        for rule in RULES:
            key = (answers["framework"], rule.path)
            if key in PENDING and rule.matches(rendered.project, rendered.answers):
                appeared.append(key)
    assert not appeared, f"these files exist now; remove them from PENDING: {sorted(set(appeared))}"


JINJA_LEFT = re.compile(r"(?<!\$)\{\{|\{%")  # GitHub Actions' `${{ ... }}` is not Jinja
# The admin's own Jinja page templates (Starlette-Admin overrides) are meant to keep their
# tags: copier copies them verbatim (no .jinja suffix).
APP_TEMPLATES = ("src/*/admin/templates/*.html", "src/*/templates/*.html")


@pytest.mark.parametrize("preset", PRESETS)
def test_the_servers_a_project_needs_are_the_ones_its_answers_call_for(
    render: Callable[[str], Rendered], preset: str
) -> None:
    """`scaffold smoke` and CI provide what the project's .env.example names (services.py)."""
    from scaffold.services import project_services

    rendered = render(preset)
    postgresql = rendered.answers["database"] == "postgresql"
    redis = rendered.answers["background_tasks"] == "celery"
    assert project_services(rendered.project) == {
        "postgresql": ["DATABASE_URL"] if postgresql else [],
        "redis": ["REDIS_URL"] if redis else [],
    }


@pytest.mark.parametrize("preset", PRESETS)
def test_no_jinja_left(render: Callable[[str], Rendered], preset: str) -> None:
    project = render(preset).project
    offenders = []
    for path in project.rglob("*"):
        if not path.is_file() or ".git" in path.parts:
            continue
        assert "{{" not in str(path.relative_to(project)), path
        if any(path.relative_to(project).match(pattern) for pattern in APP_TEMPLATES):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if JINJA_LEFT.search(line):
                offenders.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("preset", PRESETS)
def test_answers_file_records_answers_and_no_secret(
    render: Callable[[str], Rendered], preset: str
) -> None:
    rendered = render(preset)
    recorded = yaml.safe_load((rendered.project / ".copier-answers.yml").read_text())
    # copier records no answer for a question its `when` skipped (kubernetes without docker)
    skipped = {"kubernetes"} if not PRESETS[preset].get("kubernetes") else set()
    assert set(copier_questions()) - skipped <= set(recorded)
    for key, value in PRESETS[preset].items():
        assert recorded[key] == value, key
    assert "_src_path" in recorded
    secret = env_value(rendered.project / ".env", "SECRET_KEY")
    text = (rendered.project / ".copier-answers.yml").read_text()
    assert secret not in text
    assert not [key for key in recorded if re.search("secret|password|token", key, re.I)]


def env_value(path: Path, name: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.partition("=")[2].strip()
    raise AssertionError(f"{name} not in {path}")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_env_secret_is_random_and_git_ignored(copie: Any, framework: str) -> None:
    secrets = []
    for _ in range(2):
        result = copie.copy(extra_answers={"framework": framework})
        assert result.exception is None, repr(result.exception)
        project = Path(result.project_dir)
        secret = env_value(project / ".env", "SECRET_KEY")
        assert re.fullmatch(r"[0-9a-f]{64}", secret), secret
        secrets.append(secret)
        assert secret not in (project / ".env.example").read_text()
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=project, check=False)
        assert ignored.returncode == 0, ".env is not git-ignored"
    assert secrets[0] != secrets[1]
