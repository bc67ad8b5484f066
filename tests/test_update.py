"""``scaffold update``: three-way merges, conflicts, answer changes, refusals that change nothing.

One throwaway git copy of this repository's template gets two tags: v1 (the template as it is)
and v2 (the README's description line changed, a new NEWS.md). One project is rendered at v1
per module; every test updates its own copy of it (``.git`` included), so only the updates
themselves cost a copier run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import Result

from scaffold import gitrepo, source
from scaffold.errors import (
    AnswersFileError,
    DirtyProject,
    InvalidAnswer,
    NotAProject,
    NotARepository,
    TemplateNotFound,
)
from scaffold.render import new_project
from scaffold.update import UpdateResult, _target_questions, update_project
from tests import helpers
from tests.conftest import FRAMEWORKS, REPO_ROOT
from tests.helpers import (
    IDENTITY,
    UV,
    assert_one_error_line,
    contents,
    copy_project,
    explain,
    git,
    run,
    tool_env,
)

DESCRIPTION = "Acme: a Flask web service"
TEMPLATE_DESCRIPTION = f"{DESCRIPTION} (now with updates)"
LOCAL_NOTE = "Local note by the team."
OUR_DESCRIPTION = "Acme: the inventory service of the warehouse team"

# The machine's PostgreSQL (trust auth); the generated tests create and drop their database.
POSTGRES_SERVER = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def invoke(*args: str) -> Result:
    return helpers.invoke("update", *args)


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git copy of this repository's template: tag v1 as it is, tag v2 with two changes."""
    repo = tmp_path_factory.mktemp("template") / "tpl"
    repo.mkdir()
    shutil.copy2(REPO_ROOT / "copier.yml", repo / "copier.yml")
    # The project template renders the example Item from resource-template/'s files.
    for folder in ("templates", "resource-template"):
        shutil.copytree(
            REPO_ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "v1")
    git(repo, "tag", "v1")
    readme = repo / "templates" / "shared" / "README.md.jinja"
    text = readme.read_text(encoding="utf-8")
    assert "\n{{ description }}\n" in text
    readme.write_text(
        text.replace("\n{{ description }}\n", "\n{{ description }} (now with updates)\n", 1),
        encoding="utf-8",
    )
    (repo / "templates" / "flask" / "NEWS.md.jinja").write_text(
        "# News for {{ project_slug }}\n", encoding="utf-8"
    )
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "v2")
    git(repo, "tag", "v2")
    return repo


@pytest.fixture(scope="module")
def base_project(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A flask project rendered (and committed) at v1 of the template; copy it, never edit it."""
    dest = tmp_path_factory.mktemp("base") / "acme"
    new_project(
        dest,
        framework="flask",
        defaults=True,
        data={"project_name": "Acme"},
        template=str(template_repo),
        vcs_ref="v1",
    )
    return dest


@pytest.fixture
def project(base_project: Path, tmp_path: Path) -> Path:
    """This test's own copy of the v1 project (its git history included)."""
    return copy_project(base_project, tmp_path / "acme")


def commit_edit(project: Path, relpath: str, old: str | None, new: str) -> None:
    """Replace ``old`` by ``new`` in a file (append ``new`` when ``old`` is None) and commit."""
    path = project / relpath
    text = path.read_text(encoding="utf-8")
    if old is None:
        text += new + "\n"
    else:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    git(project, "commit", "--quiet", "--all", "--message", "local edit")


# --- the three-way merge -------------------------------------------------------------------


def test_update_merges_template_changes_with_local_edits(project: Path) -> None:
    commit_edit(project, "README.md", None, LOCAL_NOTE)
    head = git(project, "rev-parse", "HEAD")
    env_before = (project / ".env").read_bytes()

    started = time.monotonic()
    result = update_project(project)
    print(f"one update took {time.monotonic() - started:.1f} s")

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert TEMPLATE_DESCRIPTION in readme
    assert readme.rstrip().endswith(LOCAL_NOTE)
    assert "<<<<<<<" not in readme
    assert (project / "NEWS.md").read_text(encoding="utf-8") == "# News for acme\n"
    assert (result.old_commit, result.new_commit) == ("v1", "v2")
    assert result.changed == (".copier-answers.yml", "README.md")
    assert result.added == ("NEWS.md",)
    assert result.removed == result.conflicts == result.rejects == ()
    assert not result.has_conflicts
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v2"
    # Secrets are never regenerated, and the update is left for the user to review.
    assert (project / ".env").read_bytes() == env_before
    assert git(project, "rev-parse", "HEAD") == head


def test_update_is_reported_by_the_cli(project: Path) -> None:
    result = invoke(str(project))
    assert result.exit_code == 0, result.output
    assert "v1 -> v2" in result.stdout
    assert "NEWS.md" in result.stdout
    assert "added" in result.stdout
    assert "Nothing was committed" in result.stdout
    assert result.stderr == ""


def test_update_at_the_latest_version_changes_nothing(project: Path) -> None:
    update_project(project)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "update to v2")
    result = invoke(str(project))
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout
    assert git(project, "status", "--porcelain") == ""


# --- conflicts -----------------------------------------------------------------------------


@pytest.fixture
def conflicting(project: Path) -> Path:
    """The v1 project with a committed edit of the very line v2 of the template changes."""
    commit_edit(project, "README.md", DESCRIPTION, OUR_DESCRIPTION)
    return project


def test_inline_conflict_keeps_both_sides_and_exits_1(conflicting: Path) -> None:
    result = invoke(str(conflicting))
    assert result.exit_code == 1, result.output
    assert "CONFLICT" in result.stdout
    assert "before updating" in result.stderr
    readme = (conflicting / "README.md").read_text(encoding="utf-8")
    assert "<<<<<<< before updating" in readme
    assert ">>>>>>> after updating" in readme
    assert OUR_DESCRIPTION in readme
    assert TEMPLATE_DESCRIPTION in readme
    assert (conflicting / "NEWS.md").is_file()


def test_rej_conflict_keeps_the_users_hunk_in_a_rej_file(conflicting: Path) -> None:
    # copier replays the user's edits onto the new template; a hunk that does not apply is
    # kept, intact, in FILE.rej and the file itself has the template's side.
    result = update_project(conflicting, conflict="rej")
    readme = (conflicting / "README.md").read_text(encoding="utf-8")
    assert TEMPLATE_DESCRIPTION in readme
    assert "<<<<<<<" not in readme
    rej = (conflicting / "README.md.rej").read_text(encoding="utf-8")
    assert f"+{OUR_DESCRIPTION}\n" in rej
    assert result.conflicts == ("README.md",)
    assert result.rejects == ("README.md.rej",)
    assert result.has_conflicts
    assert "NEWS.md" in result.added


# --- pretend and answer changes ------------------------------------------------------------


def test_pretend_changes_nothing(project: Path) -> None:
    before = contents(project)
    result = update_project(project, pretend=True)
    assert result.pretend
    assert (result.old_commit, result.new_commit) == ("v1", "v2")
    assert contents(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_changing_an_answer_removes_the_admin_files(project: Path) -> None:
    admin_files = ["src/acme/admin.py", "tests/test_admin.py", "tests/test_admin_views.py"]
    assert all((project / name).is_file() for name in admin_files)
    env_before = (project / ".env").read_bytes()

    result = update_project(project, data=["admin=false"], vcs_ref="v1")

    assert not any((project / name).exists() for name in admin_files)
    assert set(admin_files) <= set(result.removed)
    assert ".copier-answers.yml" in result.changed
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["admin"] is False
    assert answers["_commit"] == "v1"
    assert "admin" not in (project / "pyproject.toml").read_text(encoding="utf-8").lower()
    assert (project / ".env").read_bytes() == env_before
    assert not result.has_conflicts


# --- refusals: one line, an exit code, nothing changed --------------------------------------


def test_dirty_tree_is_refused(project: Path) -> None:
    (project / "README.md").write_text("work in progress\n", encoding="utf-8")
    before = contents(project)
    result = invoke(str(project))
    assert_one_error_line(result, DirtyProject.exit_code, "commit or stash your changes first")
    assert "README.md" in result.stderr
    assert contents(project) == before


def _no_src_path(project: Path) -> None:
    path = project / ".copier-answers.yml"
    answers = yaml.safe_load(path.read_text())
    del answers["_src_path"]
    path.write_text(yaml.safe_dump(answers))
    git(project, "commit", "--quiet", "--all", "--message", "lose _src_path")


def _relative_src_path(project: Path) -> None:
    path = project / ".copier-answers.yml"
    answers = yaml.safe_load(path.read_text())
    answers["_src_path"] = os.path.relpath(answers["_src_path"], project)
    path.write_text(yaml.safe_dump(answers))
    git(project, "commit", "--quiet", "--all", "--message", "relative _src_path")


def _no_git(project: Path) -> None:
    shutil.rmtree(project / ".git")


def _nothing(project: Path) -> None:
    pass


REFUSALS = [
    ("unknown-key", ["-d", "colour=blue"], _nothing, InvalidAnswer, "unknown question 'colour'"),
    ("bad-choice", ["-d", "database=oracle"], _nothing, InvalidAnswer, "not one of"),
    ("bad-bool", ["-d", "admin=maybe"], _nothing, InvalidAnswer, "not a yes/no answer"),
    ("not-key-value", ["-d", "admin"], _nothing, InvalidAnswer, "is not KEY=VALUE"),
    ("unknown-ref", ["--vcs-ref", "v9"], _nothing, TemplateNotFound, "has no ref 'v9'"),
    ("not-git", [], _no_git, NotARepository, "is not a git repository"),
    ("no-src-path", [], _no_src_path, AnswersFileError, "does not record _src_path"),
    ("relative-src-path", [], _relative_src_path, TemplateNotFound, "is relative"),
]


@pytest.mark.parametrize(
    ("args", "setup", "error", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSALS],
)
def test_bad_input_is_refused_and_nothing_changes(
    project: Path,
    args: list[str],
    setup: object,
    error: type[Exception],
    fragment: str,
) -> None:
    assert callable(setup)
    setup(project)
    before = contents(project)
    result = invoke(str(project), *args)
    assert_one_error_line(result, getattr(error, "exit_code", -1), fragment)
    assert contents(project) == before


def test_answer_rejected_by_a_copier_validator_changes_nothing(project: Path) -> None:
    before = contents(project)
    result = invoke(str(project), "-d", "author_email=not-an-email")
    assert_one_error_line(result, InvalidAnswer.exit_code, "author_email")
    assert contents(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_not_a_project(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_error_line(invoke(str(empty)), NotAProject.exit_code, "no .copier-answers.yml")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x\n")
    assert_one_error_line(invoke(str(a_file)), NotAProject.exit_code, "is not a directory")
    assert_one_error_line(
        invoke(str(tmp_path / "missing")), NotAProject.exit_code, "is not a directory"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "file.txt"]


def test_unknown_conflict_mode_is_a_usage_error(project: Path) -> None:
    result = invoke(str(project), "--conflict", "theirs")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_result_rows_cover_every_kind() -> None:
    result = UpdateResult(
        Path("p"),
        "v1",
        "v2",
        changed=("b",),
        added=("a",),
        removed=("c",),
        conflicts=("d",),
        rejects=("d.rej",),
    )
    assert result.rows() == [
        ("a", "added"),
        ("b", "changed"),
        ("c", "removed"),
        ("d", "CONFLICT"),
        ("d.rej", "rejected hunks"),
    ]
    assert result.has_conflicts
    assert not result.up_to_date


# --- the installed wheel's template history (scaffold/_template.bundle) -------------------------


def _bundle(repo: Path, out: Path) -> Path:
    subprocess.run(["git", "bundle", "create", "--quiet", str(out), "--all"], cwd=repo, check=True)
    return out


def test_bundles_of_successive_versions_share_one_cache_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, cache = tmp_path / "repo", tmp_path / "cache" / "template"
    repo.mkdir()
    git = ["git", *IDENTITY, "-c", "commit.gpgsign=false"]
    (repo / "copier.yml").write_text("a: 1\n")
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "one"], ["tag", "v9.0.0"]):
        subprocess.run([*git, *cmd], cwd=repo, check=True)
    first = _bundle(repo, tmp_path / "first.bundle")
    monkeypatch.setattr(source, "__version__", "9.0.0")
    assert source.materialize_bundle(first, cache) == (cache, "v9.0.0")
    assert (cache / "copier.yml").read_text() == "a: 1\n"

    # The next version, built from an untagged commit: rendered at that commit, old tag kept.
    (repo / "copier.yml").write_text("a: 2\n")
    subprocess.run([*git, "commit", "-qam", "two"], cwd=repo, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    second = _bundle(repo, tmp_path / "second.bundle")
    monkeypatch.setattr(source, "__version__", "9.0.1")
    assert source.materialize_bundle(second, cache) == (cache, head)
    assert (cache / "copier.yml").read_text() == "a: 2\n"
    assert gitrepo.has_commit(cache, "v9.0.0")

    # A deleted cache is rebuilt from the bundle alone, the old version included.
    shutil.rmtree(cache)
    assert source.materialize_bundle(second, cache) == (cache, head)
    assert gitrepo.has_commit(cache, "v9.0.0")


# --- answer changes that the updated project must survive (slow: installs it) --------------


def _check_tests_pass(project: Path, env_extra: dict[str, str] | None = None) -> None:
    steps = ([UV, "sync"], [UV, "run", "ruff", "check"], [UV, "run", "mypy"], [UV, "run", "pytest"])
    for cmd in steps:
        proc = run(cmd, project, env=tool_env(env_extra))
        assert proc.returncode == 0, explain(cmd, proc)


@pytest.mark.smoke
def test_switching_to_postgresql_then_dropping_the_admin_keeps_the_project_green(
    project: Path,
) -> None:
    result = update_project(project, data=["database=postgresql"], vcs_ref="v1")

    assert not result.has_conflicts
    assert "psycopg" in (project / "pyproject.toml").read_text(encoding="utf-8")
    assert "postgresql://" in (project / "src/acme/settings.py").read_text(encoding="utf-8")
    # The project's own suite, against this machine's PostgreSQL (each run its own database).
    _check_tests_pass(project, {"TEST_DATABASE_URL": POSTGRES_SERVER})
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Switch to PostgreSQL")

    result = update_project(project, data=["admin=false"], vcs_ref="v1")

    assert "src/acme/admin.py" in result.removed
    _check_tests_pass(project, {"TEST_DATABASE_URL": POSTGRES_SERVER})


def test_a_project_from_this_checkout_updates_to_its_head_not_an_older_tag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # scaffold run from its checkout renders HEAD, which is newer than the latest release tag;
    # a clean clone stands in for the checkout (copier records no commit for a dirty one).
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "--quiet", str(REPO_ROOT), str(checkout))
    git(checkout, "commit", "--quiet", "--allow-empty", "--message", "after the release")
    git(checkout, "tag", "--force", "v0.0.1", "HEAD~1")
    monkeypatch.setattr(source, "checkout_root", lambda: checkout)
    dest = tmp_path / "fresh"
    new_project(dest, framework="flask", defaults=True)
    recorded = yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"]

    result = update_project(dest)

    assert result.old_commit == recorded
    assert result.up_to_date
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"] == recorded


def test_new_answers_are_checked_against_the_questionnaire_of_the_target_version(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "tpl"
    repo.mkdir()
    config = repo / "copier.yml"
    config.write_text("name:\n  type: str\n  default: x\n", encoding="utf-8")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "v1")
    git(repo, "tag", "v1")
    config.write_text(
        config.read_text() + "color:\n  type: str\n  choices: [red, blue]\n", encoding="utf-8"
    )
    git(repo, "commit", "--quiet", "--all", "--message", "v2")
    git(repo, "tag", "v2")

    assert [q.name for q in _target_questions(config, "v1")] == ["name"]
    assert [q.name for q in _target_questions(config, "v2")] == ["name", "color"]
    git(repo, "checkout", "--quiet", "v1")  # the work tree no longer has the question
    assert [q.name for q in _target_questions(config, "v2")] == ["name", "color"]
    assert [q.name for q in _target_questions(config, None)] == ["name"]
    assert [q.name for q in _target_questions(config, "HEAD")] == ["name"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_project_with_the_hand_written_item_updates_to_the_item_of_the_resource_template(
    framework: str, tmp_path: Path
) -> None:
    """A project made while the example Item was hand-written (api/items.py, its schemas in
    schemas.py, its model in models.py) updates to the Item rendered from the resource
    template (resources/items/): the old module goes, the new one comes, nothing conflicts."""
    old_module = f"templates/{framework}/src/{{{{ package_name }}}}/api/items.py.jinja"
    removed_in = subprocess.run(
        ["git", "rev-list", "-1", "HEAD", "--", old_module],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not removed_in:
        pytest.skip("the checkout's history does not reach the hand-written Item (shallow?)")
    repo = tmp_path / "tpl"
    repo.mkdir()
    tree = ["copier.yml", "templates", "resource-template"]
    archive = subprocess.run(
        ["git", "archive", f"{removed_in}^", "--", *tree],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x"], cwd=repo, input=archive, check=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "v1")
    git(repo, "tag", "v1")
    for name in tree:
        shutil.rmtree(repo / name) if (repo / name).is_dir() else (repo / name).unlink()
    shutil.copy2(REPO_ROOT / "copier.yml", repo / "copier.yml")
    for folder in tree[1:]:
        shutil.copytree(
            REPO_ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "v2")
    git(repo, "tag", "v2")
    project = tmp_path / "acme"
    new_project(project, framework=framework, defaults=True, template=str(repo), vcs_ref="v1")
    assert (project / "src" / "acme" / "api" / "items.py").is_file()

    result = update_project(project)

    assert not result.has_conflicts
    assert "src/acme/api/items.py" in result.removed
    for name in ("api.py", "model.py", "schemas.py", "admin.py"):
        assert f"src/acme/resources/items/{name}" in result.added
    assert not (project / "src" / "acme" / "api" / "items.py").exists()
    assert "class Item(" not in (project / "src" / "acme" / "models.py").read_text()
    assert (
        "class Item(" in (project / "src" / "acme" / "resources" / "items" / "model.py").read_text()
    )
