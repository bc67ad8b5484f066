"""The CLI: every bad input from PRODUCT.md is refused cleanly; the success paths work."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from scaffold import __version__, gitrepo
from scaffold.cli import app
from scaffold.errors import (
    DestinationError,
    GitError,
    Interrupted,
    InvalidAnswer,
    NoTerminal,
    TemplateNotFound,
)
from tests.conftest import REPO_ROOT, copier_questions, snapshot
from tests.helpers import assert_one_error_line, invoke, runner


def git_out(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


# --- bad input ---------------------------------------------------------------------------

Setup = Callable[[Path], None]


def _nothing(_: Path) -> None:
    pass


def _dest_not_empty(work: Path) -> None:
    (work / "acme").mkdir()
    (work / "acme" / "keep.txt").write_text("mine\n")


def _dest_is_file(work: Path) -> None:
    (work / "acme").write_text("a file\n")


def _blocker_file(work: Path) -> None:
    (work / "blocker").write_text("a file, not a directory\n")


def _data_file_list(work: Path) -> None:
    (work / "answers.yml").write_text("- database\n- sqlite\n")


def _data_file_bad_yaml(work: Path) -> None:
    (work / "answers.yml").write_text("database: [sqlite\n")


def _data_file_bad_choice(work: Path) -> None:
    (work / "answers.yml").write_text("database: oracle\n")


D = "--defaults"

# (id, args, setup, expected exit code, fragment of the one stderr line)
BAD_INPUTS: list[tuple[str, list[str], Setup, int, str]] = [
    (
        "slug-not-kebab",
        ["new", "acme", D, "-d", "project_slug=Acme_Inc"],
        _nothing,
        2,
        "must be kebab-case",
    ),
    (
        "slug-reserved",
        ["new", "acme", D, "-d", "project_slug=flask"],
        _nothing,
        2,
        "clashes with a dependency",
    ),
    (
        "name-empty",
        ["new", "acme", D, "-d", "project_name=  "],
        _nothing,
        2,
        "project_name must not be empty",
    ),
    (
        "slug-too-long",
        ["new", "acme", D, "-d", "project_slug=" + "a" * 33],
        _nothing,
        2,
        "is 33 characters long; at most 32 fit",
    ),
    (
        "name-too-long",
        ["new", "acme", D, "-d", "project_name=" + "A" * 51],
        _nothing,
        2,
        "project_name is 51 characters long; at most 50 fit",
    ),
    (
        "description-too-long",
        ["new", "acme", D, "-d", "description=" + "d" * 76],
        _nothing,
        2,
        "description is 76 characters long; at most 75 fit",
    ),
    (
        "package-invalid",
        ["new", "acme", D, "-d", "package_name=1acme"],
        _nothing,
        2,
        "must be a Python identifier",
    ),
    ("shadows-flask", ["new", "acme", D, "-d", "package_name=flask"], _nothing, 2, "would shadow"),
    (
        "shadows-fastapi",
        ["new", "acme", D, "-d", "package_name=fastapi"],
        _nothing,
        2,
        "would shadow",
    ),
    (
        "shadows-sqlalchemy",
        ["new", "acme", D, "-d", "package_name=sqlalchemy"],
        _nothing,
        2,
        "would shadow",
    ),
    ("shadows-test", ["new", "acme", D, "-d", "package_name=test"], _nothing, 2, "would shadow"),
    ("shadows-json", ["new", "acme", D, "-d", "package_name=json"], _nothing, 2, "would shadow"),
    ("dest-name-reserved", ["new", "json", D], _nothing, 2, 'project_slug "json" clashes'),
    ("keyword", ["new", "acme", D, "-d", "package_name=class"], _nothing, 2, "is a Python keyword"),
    (
        "email",
        ["new", "acme", D, "-d", "author_email=not-an-email"],
        _nothing,
        2,
        "is not a valid e-mail address",
    ),
    (
        "unknown-choice",
        ["new", "acme", D, "-d", "database=mysql"],
        _nothing,
        2,
        "database 'mysql' is not one of sqlite, postgresql",
    ),
    (
        "unknown-framework",
        ["new", "acme", D, "--framework", "django"],
        _nothing,
        2,
        "framework 'django' is not one of",
    ),
    ("not-a-bool", ["new", "acme", D, "-d", "admin=maybe"], _nothing, 2, "is not a yes/no answer"),
    (
        "unknown-key",
        ["new", "acme", D, "-d", "databse=sqlite"],
        _nothing,
        2,
        "unknown question 'databse'",
    ),
    ("data-no-equals", ["new", "acme", D, "-d", "database"], _nothing, 2, "is not KEY=VALUE"),
    (
        "data-file-missing",
        ["new", "acme", D, "--data-file", "nope.yml"],
        _nothing,
        2,
        "does not exist",
    ),
    (
        "data-file-not-mapping",
        ["new", "acme", D, "--data-file", "answers.yml"],
        _data_file_list,
        2,
        "must hold a mapping",
    ),
    (
        "data-file-bad-yaml",
        ["new", "acme", D, "--data-file", "answers.yml"],
        _data_file_bad_yaml,
        2,
        "is not valid YAML",
    ),
    (
        "data-file-bad-choice",
        ["new", "acme", D, "--data-file", "answers.yml"],
        _data_file_bad_choice,
        2,
        "database 'oracle' is not one of",
    ),
    ("dest-not-empty", ["new", "acme", D], _dest_not_empty, 3, "exists and is not empty"),
    ("dest-is-file", ["new", "acme", D], _dest_is_file, 3, "exists and is a file"),
    (
        "dest-parent-is-file",
        ["new", "blocker/acme", D],
        _blocker_file,
        3,
        "blocker is not a directory",
    ),
    ("no-tty", ["new", "acme"], _nothing, 4, "no terminal"),
    (
        "template-missing",
        ["new", "acme", D, "--template", "no/such/dir"],
        _nothing,
        5,
        "is not a directory",
    ),
    (
        "template-no-copier-yml",
        ["new", "acme", D, "--template", "."],
        _nothing,
        5,
        "has no copier.yml",
    ),
    (
        "vcs-ref-unknown",
        ["new", "acme", D, "--vcs-ref", "no-such-ref-xyz"],
        _nothing,
        7,
        "no-such-ref-xyz",
    ),
    # Missing parents would be created: a failure must remove them again.
    (
        "failure-removes-created-parents",
        ["new", "a/b/acme", D, "-d", "package_name=json"],
        _nothing,
        2,
        "would shadow",
    ),
]


@pytest.mark.parametrize(
    ("args", "setup", "code", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_bad_input_is_refused_and_nothing_changes(
    workdir: Path, args: list[str], setup: Setup, code: int, fragment: str
) -> None:
    setup(workdir)
    before = snapshot(workdir)
    result = invoke(*args)
    assert_one_error_line(result, code, fragment)
    assert snapshot(workdir) == before


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores directory permissions"
)
def test_dest_parent_not_writable(workdir: Path) -> None:
    locked = workdir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        before = snapshot(workdir)
        result = invoke("new", "locked/acme", "--defaults")
        assert_one_error_line(result, 3, "is not writable")
        assert snapshot(workdir) == before
    finally:
        locked.chmod(0o755)


def _fake_run_copy_then(exc: BaseException) -> Callable[..., object]:
    """A copier.run_copy that writes part of a project, then fails with ``exc``."""

    def fake(src_path: str, dst_path: str | Path = ".", *args: object, **kwargs: object) -> object:
        dst = Path(dst_path)
        (dst / "src").mkdir(parents=True)
        (dst / "src" / "half-written.py").write_text("x = 1\n")
        raise exc

    return fake


def test_ctrl_c_during_render_leaves_nothing(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copier

    monkeypatch.setattr(copier, "run_copy", _fake_run_copy_then(KeyboardInterrupt()))
    before = snapshot(workdir)
    result = invoke("new", "acme", "--defaults")
    assert_one_error_line(result, Interrupted.exit_code, "interrupted")
    assert snapshot(workdir) == before


def test_unexpected_failure_half_way_leaves_nothing(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (not a user error) keeps its traceback, but still leaves nothing behind."""
    import copier

    from scaffold.render import new_project

    monkeypatch.setattr(copier, "run_copy", _fake_run_copy_then(RuntimeError("boom")))
    before = snapshot(workdir)
    with pytest.raises(RuntimeError, match="boom"):
        new_project("x/y/acme", defaults=True)
    assert snapshot(workdir) == before


def test_git_failure_leaves_nothing(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(repo: Path, message: str) -> str:
        raise GitError("git is broken here")

    monkeypatch.setattr(gitrepo, "init_and_commit", broken)
    before = snapshot(workdir)
    result = invoke("new", "acme", "--defaults")
    assert_one_error_line(result, GitError.exit_code, "git is broken here")
    assert snapshot(workdir) == before


@pytest.mark.uv_lock
def test_new_without_the_package_index_says_the_first_sync_will_lock(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_uv = workdir / "offline-uv"
    offline_uv.write_text(
        "#!/bin/sh\necho 'error: Request failed after 3 retries in 3.8s' >&2\n"
        "echo '  cause: Failed to fetch: https://pypi.org/simple/flask/' >&2\n"
        "echo '  cause: client error (Connect)' >&2\n"
        "echo '  cause: dns error: failed to lookup address information' >&2\nexit 2\n"
    )
    offline_uv.chmod(0o755)
    monkeypatch.setattr("scaffold.render._uv_binary", lambda: str(offline_uv))

    result = invoke("new", "acme", "--defaults")

    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "uv.lock" in line]
    assert lines == [
        "No uv.lock yet (Request failed after 3 retries in 3.8s; Failed to fetch:"
        " https://pypi.org/simple/flask/; dns error: failed to lookup address information):"
        " the first `uv sync` will make it."
    ]
    # the project is there all the same, committed
    project = workdir / "acme"
    assert (project / "pyproject.toml").is_file()
    assert not (project / "uv.lock").exists()
    assert gitrepo.commit_count(project) == 1
    assert gitrepo.is_clean(project)


def test_exit_codes_are_distinct() -> None:
    codes = [
        cls.exit_code
        for cls in (InvalidAnswer, DestinationError, NoTerminal, TemplateNotFound, GitError)
    ]
    assert len(set(codes)) == len(codes)
    assert 0 not in codes


# --- success ---------------------------------------------------------------------------


def read_answers(project: Path) -> dict[str, object]:
    loaded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_new_with_defaults(workdir: Path) -> None:
    result = invoke("new", "acme-shop", "--defaults")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    project = workdir / "acme-shop"
    answers = read_answers(project)
    assert answers["framework"] == "fastapi"
    assert answers["project_slug"] == "acme-shop"
    assert answers["package_name"] == "acme_shop"
    # the two next commands, with the slug read from the answers
    assert (
        "cd acme-shop && python -m pip install uv && uv run alembic upgrade head"
        " && uv run acme-shop serve" in result.stdout
    )
    assert "uv run pytest" in result.stdout
    # uv.lock (a stand-in here, see conftest.py), in the first commit
    assert "uv.lock" in git_out(project, "ls-files").splitlines()
    assert "No uv.lock" not in result.stdout
    # one commit, clean tree, .env ignored
    assert gitrepo.commit_count(project) == 1
    assert gitrepo.is_clean(project)
    assert ".env" not in git_out(project, "ls-files").splitlines()
    # nothing but the project appeared (no staging directory left)
    assert sorted(p.name for p in workdir.iterdir()) == ["acme-shop"]


def test_new_flask_with_data_and_data_file(workdir: Path) -> None:
    (workdir / "answers.yml").write_text("database: postgresql\nauthor_name: Data File\n")
    result = invoke(
        "new", "shop", "--framework", "flask", "--defaults", "--data-file", "answers.yml",
        "-d", "author_name=Command Line", "-d", "admin=false", "--no-git",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answers = read_answers(workdir / "shop")
    assert answers["framework"] == "flask"
    assert answers["database"] == "postgresql"
    assert answers["author_name"] == "Command Line"  # --data wins over --data-file
    assert answers["admin"] is False


def test_new_into_existing_empty_directory_and_missing_parents(workdir: Path) -> None:
    (workdir / "empty").mkdir()
    assert invoke("new", "empty", "--defaults", "--no-git").exit_code == 0
    assert (workdir / "empty" / ".copier-answers.yml").is_file()
    assert invoke("new", "deep/er/acme", "--defaults", "--no-git").exit_code == 0
    assert (workdir / "deep" / "er" / "acme" / ".copier-answers.yml").is_file()
    assert sorted(p.name for p in workdir.iterdir()) == ["deep", "empty"]


def test_works_without_git_identity(workdir: Path, no_git_identity: Path) -> None:
    result = invoke("new", "acme", "--defaults")
    assert result.exit_code == 0, result.output
    project = workdir / "acme"
    assert gitrepo.commit_count(project) == 1
    assert gitrepo.is_clean(project)
    assert git_out(project, "log", "--format=%an <%ae>") == "scaffold <scaffold@localhost>"
    # the fallback is passed per command, never written into the repository's config
    assert "user.name" not in (project / ".git" / "config").read_text()


def test_uses_the_configured_git_identity(
    workdir: Path, no_git_identity: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = no_git_identity / "gitconfig"
    config.write_text("[user]\n\tname = Jane Doe\n\temail = jane@example.org\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    assert invoke("new", "acme", "--defaults").exit_code == 0
    assert git_out(workdir / "acme", "log", "--format=%an <%ae>") == "Jane Doe <jane@example.org>"


def test_no_git(workdir: Path) -> None:
    result = invoke("new", "acme", "--defaults", "--no-git")
    assert result.exit_code == 0, result.output
    assert (workdir / "acme" / "pyproject.toml").is_file()
    assert not (workdir / "acme" / ".git").exists()


def test_pretend_writes_nothing(workdir: Path) -> None:
    before = snapshot(workdir)
    result = invoke("new", "acme", "--defaults", "--pretend", "-f", "flask")
    assert result.exit_code == 0, result.output
    assert "nothing was written" in result.stdout
    assert snapshot(workdir) == before


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"scaffold {__version__}"


def test_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for word in ("new", "questions", "--version", "--install-completion"):
        assert word in result.stdout
    new_help = invoke("new", "--help")
    assert new_help.exit_code == 0
    for option in (
        "--framework", "--defaults", "--data", "--data-file", "--template", "--vcs-ref",
        "--no-git", "--pretend",
    ):  # fmt: skip
        assert option in new_help.stdout


def test_questions_lists_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    result = runner.invoke(app, ["questions"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    listed = {line.split("│")[1].strip() for line in result.stdout.splitlines() if "│" in line}
    assert set(copier_questions()) <= listed
    assert "postgresql" in result.stdout  # choices are shown


def test_python_m_scaffold_version() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "scaffold", "--version"],
        capture_output=True, text=True, check=False, env=env, cwd=REPO_ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"scaffold {__version__}"


def test_help_does_not_import_copier() -> None:
    """`scaffold --help` / `--version` stay fast: copier is imported only to render."""
    code = "import sys; import scaffold.cli; print('copier' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert proc.stdout.strip() == "False"


@pytest.mark.uv_lock
@pytest.mark.parametrize("lock", [True, False], ids=["lock", "no-lock"])
def test_new_locks_the_project_with_uv_unless_told_not_to(workdir: Path, lock: bool) -> None:
    result = invoke("new", "acme", "--defaults", "--lock" if lock else "--no-lock")

    assert result.exit_code == 0, result.output
    project = workdir / "acme"
    assert (project / "uv.lock").is_file() is lock
    if lock:
        assert (project / "uv.lock").read_text().startswith("version = ")
        assert "uv.lock" in git_out(project, "ls-files").splitlines()
    assert "No uv.lock" not in result.stdout
