"""copier ``_migrations``: what an update runs for template changes that projects need help with.

v0.2.0 reads the compose file's database password from ``.env`` (``POSTGRES_PASSWORD``), so a
project generated before it gets one added by ``copier_migrations/env_secrets.py`` when its
update crosses v0.2.0; every other line of ``.env`` stays byte for byte. Migrations run the
template's own commands, so scaffold runs them for its own template and wants ``--trust`` for
any other (plain ``copier update`` wants ``--trust`` too).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from scaffold import source
from scaffold.errors import UntrustedTemplate
from scaffold.render import new_project
from scaffold.update import update_project
from tests.conftest import REPO_ROOT
from tests.helpers import assert_one_error_line, contents, git, invoke

SECRET_LINE = re.compile(r"^POSTGRES_PASSWORD=[0-9a-f]{64}$", re.MULTILINE)


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "env_secrets", REPO_ROOT / "copier_migrations" / "env_secrets.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git copy of this repository's template, tagged v0.1.0 and (one commit later) v0.2.0."""
    repo = tmp_path_factory.mktemp("template") / "tpl"
    repo.mkdir()
    shutil.copy2(REPO_ROOT / "copier.yml", repo / "copier.yml")
    # The project template renders the example Item from resource-template/'s files.
    for folder in ("templates", "resource-template", "copier_migrations"):
        shutil.copytree(
            REPO_ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "0.1.0")
    git(repo, "tag", "v0.1.0")
    with (repo / "templates" / "shared" / "README.md.jinja").open("a") as readme:
        readme.write("\n")
    git(repo, "commit", "--quiet", "--all", "--message", "0.2.0")
    git(repo, "tag", "v0.2.0")
    return repo


def render_old_project(template_repo: Path, dest: Path, database: str) -> bytes:
    """A project at v0.1.0 whose .env has no POSTGRES_PASSWORD (as v0.1.0 wrote it)."""
    new_project(
        dest,
        framework="flask",
        defaults=True,
        data={"project_name": "Acme", "database": database, "docker": True},
        template=str(template_repo),
        vcs_ref="v0.1.0",
    )
    env = dest / ".env"
    lines = env.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if "POSTGRES_PASSWORD" not in line]
    env.write_text("".join(kept), encoding="utf-8")
    assert git(dest, "status", "--porcelain") == ""  # .env is git-ignored
    return env.read_bytes()


@pytest.fixture
def pg_project(template_repo: Path, tmp_path: Path) -> tuple[Path, bytes]:
    dest = tmp_path / "acme"
    return dest, render_old_project(template_repo, dest, "postgresql")


def test_crossing_v0_2_0_adds_the_database_password_and_keeps_every_secret(
    pg_project: tuple[Path, bytes],
) -> None:
    project, env_before = pg_project

    result = update_project(project, trust=True)

    env_after = (project / ".env").read_bytes()
    assert env_after.startswith(env_before)  # SECRET_KEY and the rest: byte for byte
    added = env_after[len(env_before) :].decode()
    assert SECRET_LINE.fullmatch(added.strip()), added
    assert (result.old_commit, result.new_commit) == ("v0.1.0", "v0.2.0")
    compose = (project / "compose.yaml").read_text(encoding="utf-8")
    assert "${POSTGRES_PASSWORD:?" in compose


def test_a_second_update_does_not_run_the_migration_again(
    pg_project: tuple[Path, bytes],
) -> None:
    project, _ = pg_project
    update_project(project, trust=True)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "update to v0.2.0")
    env = (project / ".env").read_bytes()

    result = update_project(project, vcs_ref="v0.2.0")  # nothing to migrate: no trust needed

    assert result.up_to_date
    assert (project / ".env").read_bytes() == env


def test_a_sqlite_project_gets_no_database_password(template_repo: Path, tmp_path: Path) -> None:
    project = tmp_path / "lite"
    env_before = render_old_project(template_repo, project, "sqlite")

    update_project(project, trust=True)

    assert (project / ".env").read_bytes() == env_before


def test_migrations_of_another_template_need_trust_and_nothing_changes(
    pg_project: tuple[Path, bytes],
) -> None:
    project, _ = pg_project
    before = contents(project)

    with pytest.raises(UntrustedTemplate, match="--trust"):
        update_project(project)
    result = invoke("update", str(project))

    assert_one_error_line(result, UntrustedTemplate.exit_code, "pass --trust")
    assert contents(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_scaffolds_own_template_is_trusted_without_the_flag(
    pg_project: tuple[Path, bytes], template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _ = pg_project
    monkeypatch.setattr(source, "checkout_root", lambda: template_repo)

    result = invoke("update", str(project))

    assert result.exit_code == 0, result.output
    assert SECRET_LINE.search((project / ".env").read_text(encoding="utf-8"))
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["_commit"] == "v0.2.0"


# --- the migration script on its own -------------------------------------------------------


def test_env_secrets_adds_only_missing_keys(tmp_path: Path) -> None:
    script = load_script()
    env = tmp_path / ".env"
    original = "# comment POSTGRES_PASSWORD=x\nSECRET_KEY=abc\nexport TOKEN=1"
    env.write_text(original, encoding="utf-8")

    added = script.add_missing_secrets(env, ["SECRET_KEY", "POSTGRES_PASSWORD", "TOKEN"])

    assert added == ["POSTGRES_PASSWORD"]
    text = env.read_text(encoding="utf-8")
    assert text.startswith(original + "\n")
    assert SECRET_LINE.search(text)
    assert script.add_missing_secrets(env, ["POSTGRES_PASSWORD"]) == []
    assert env.read_text(encoding="utf-8") == text


def test_env_secrets_creates_a_missing_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    assert load_script().add_missing_secrets(env, ["POSTGRES_PASSWORD"]) == ["POSTGRES_PASSWORD"]
    assert SECRET_LINE.fullmatch(env.read_text(encoding="utf-8").strip())


@pytest.mark.parametrize("argv", [[], ["lower_case"], ["OK", "BAD-KEY"]])
def test_env_secrets_refuses_bad_arguments(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_script().main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("usage:")
    assert not (tmp_path / ".env").exists()
