"""The sdist and the wheel carry the template and its git history; an installed wheel renders
from that history, and a later wheel updates the project it generated, offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from scaffold import __version__
from tests.conftest import REPO_ROOT
from tests.helpers import UV, explain, run, tool_env

pytestmark = pytest.mark.packaging

TEMPLATE = "scaffold/_template"
EXPECTED_IN_WHEEL = [
    # the resource template's own history (scaffold/resource_source.py)
    "scaffold/_resource_template.bundle",
    f"{TEMPLATE}/copier.yml",
    f"{TEMPLATE}/templates/shared/reserved-names.txt",
    f"{TEMPLATE}/templates/shared/pyproject.toml.jinja",
    f"{TEMPLATE}/templates/fastapi/pyproject.toml.jinja",
    f"{TEMPLATE}/templates/fastapi/.gitignore.jinja",
    f"{TEMPLATE}/templates/fastapi/src/{{{{ package_name }}}}/settings.py.jinja",
    f"{TEMPLATE}/templates/flask/pyproject.toml.jinja",
    f"{TEMPLATE}/templates/flask/.env.jinja",
    f"{TEMPLATE}/templates/flask/src/{{{{ package_name }}}}/settings.py.jinja",
    "scaffold/__init__.py",
    "scaffold/cli.py",
    "scaffold/_template.bundle",
]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`uv build`: the sdist, then the wheel built from that sdist."""
    out = tmp_path_factory.mktemp("dist")
    cmd = [
        UV,
        "build",
        "--quiet",
        "--python",
        sys.executable,
        "--out-dir",
        str(out),
        str(REPO_ROOT),
    ]
    proc = run(cmd, REPO_ROOT)
    assert proc.returncode == 0, explain(cmd, proc)
    return out


def test_wheel_contains_the_template(dist: Path) -> None:
    (wheel,) = dist.glob(f"scaffold-{__version__}-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in EXPECTED_IN_WHEEL if name not in names]
    assert not missing, missing
    # every file of the template trees is in the wheel (the example Item's from resource-template/)
    for path in [
        *(REPO_ROOT / "templates").rglob("*"),
        *(REPO_ROOT / "resource-template").rglob("*"),
    ]:
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(REPO_ROOT).as_posix()
            assert f"{TEMPLATE}/{rel}" in names, rel
    assert not [name for name in names if name.startswith(("tests/", "templates/"))]
    # and the answer presets `scaffold smoke` renders
    presets = sorted(path.name for path in (REPO_ROOT / "examples" / "presets").glob("*.yml"))
    assert presets
    packaged = [n.rsplit("/", 1)[1] for n in names if re.fullmatch(r"scaffold/_presets/[^/]+", n)]
    assert sorted(packaged) == presets
    # with the resources `scaffold smoke` adds to some of them
    resources = sorted(p.name for p in (REPO_ROOT / "examples/presets/resources").glob("*.yml"))
    assert resources
    assert all(f"scaffold/_presets/resources/{name}" in names for name in resources)


def test_sdist_keeps_the_repository_layout(dist: Path) -> None:
    (sdist,) = dist.glob(f"scaffold-{__version__}.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for name in ("copier.yml", "pyproject.toml", "README.md", "scaffold/render.py",
                 "templates/shared/reserved-names.txt", "templates/fastapi/pyproject.toml.jinja",
                 "templates/flask/pyproject.toml.jinja", "hatch_build.py",
                 "scaffold/_template.bundle", "scaffold/_resource_template.bundle",
                 "resource-template/copier.yml", "resource-template/field-types.yml"):  # fmt: skip
        assert name in names, name
    assert not [name for name in names if name.startswith((".venv", ".ci-venv", ".git/"))]


def test_installed_wheel_renders_from_the_packaged_template(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("scaffold-*.whl")
    venv = tmp_path / "venv"
    for cmd in (
        [UV, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [UV, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
    ):
        proc = run(cmd, tmp_path)
        assert proc.returncode == 0, explain(cmd, proc)
    scaffold = str(venv / "bin" / "scaffold")
    env = tool_env({"XDG_CACHE_HOME": str(tmp_path / "cache")})
    version = run([scaffold, "--version"], tmp_path, env=env)
    assert version.stdout.strip() == f"scaffold {__version__}", version.stdout
    cmd = [scaffold, "new", "X", "--defaults", "--no-git"]
    proc = run(cmd, tmp_path, env=env)
    assert proc.returncode == 0, explain(cmd, proc)
    answers = yaml.safe_load((tmp_path / "X" / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == "x"
    # rendered from the bundled history, cloned into the cache: a git template, so updatable
    assert answers["_src_path"] == str(tmp_path / "cache" / "scaffold" / "template")
    assert answers["_commit"]
    assert (tmp_path / "X" / "pyproject.toml").is_file()
    # `scaffold smoke` finds the presets packaged in the wheel (an unknown one lists them)
    proc = run([scaffold, "smoke", "--preset", "nope"], tmp_path, env=env)
    assert proc.returncode == 2, proc.stdout
    assert "available presets: fastapi-default, " in proc.stdout, proc.stdout
    # `scaffold add resource` renders the wheel's resource template bundle, offline
    for cmd in (
        [scaffold, "new", "Y", "--defaults", "--no-lock"],
        [scaffold, "add", "resource", "Tag", "--field", "label:str:40", "--project", "Y"],
    ):
        proc = run(cmd, tmp_path, env={**env, **OFFLINE})
        assert proc.returncode == 0, explain(cmd, proc)
    resource = yaml.safe_load((tmp_path / "Y" / ".copier-answers.resource-tags.yml").read_text())
    assert resource["_src_path"] == str(tmp_path / "cache" / "scaffold" / "resource-template")
    assert (tmp_path / "Y" / "tests" / "test_tags.py").is_file()


# --- a wheel's project is updated by the next wheel, offline ------------------------------------

GIT_ID = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
OFFLINE = {
    "UV_OFFLINE": "1",
    "GIT_ALLOW_PROTOCOL": "file",  # git may not reach any remote
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
}
TEMPLATE_CHANGE = "# added by scaffold 0.1.1\n"
USER_EDIT = "\nLocal notes kept across updates.\n"


def _git(repo: Path, *args: str) -> None:
    proc = subprocess.run(
        ["git", *GIT_ID, *args], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"


def _set_version(repo: Path, version: str) -> None:
    init = repo / "scaffold" / "__init__.py"
    text = re.sub(r'__version__ = "[^"]*"', f'__version__ = "{version}"', init.read_text())
    init.write_text(text)


def _build_wheel(repo: Path, out: Path) -> Path:
    cmd = [UV, "build", "--wheel", "--quiet", "--python", sys.executable, "--out-dir", str(out)]
    proc = run([*cmd, str(repo)], repo)
    assert proc.returncode == 0, explain(cmd, proc)
    (wheel,) = out.glob("scaffold-*.whl")
    return wheel


def _install(wheel: Path, venv: Path) -> Path:
    for cmd in (
        [UV, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [UV, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
    ):
        proc = run(cmd, venv.parent, env=tool_env(OFFLINE))
        assert proc.returncode == 0, explain(cmd, proc)
    return venv / "bin" / "scaffold"


def test_next_wheel_updates_a_project_of_the_previous_wheel_offline(tmp_path: Path) -> None:
    # A throwaway copy of the repository (tracked and new files, as they are now): v0.1.0 ...
    repo = tmp_path / "repo"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    _set_version(repo, "0.1.0")
    _git(repo, "init", "--quiet", "--initial-branch", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "0.1.0")
    _git(repo, "tag", "v0.1.0")
    wheel_1 = _build_wheel(repo, tmp_path / "dist1")
    # ... and v0.1.1, with a template change
    with (repo / "templates" / "shared" / "gitignore").open("a") as handle:
        handle.write(TEMPLATE_CHANGE)
    _set_version(repo, "0.1.1")
    _git(repo, "commit", "--quiet", "-am", "0.1.1")
    _git(repo, "tag", "v0.1.1")
    wheel_2 = _build_wheel(repo, tmp_path / "dist2")

    home = tmp_path / "home"
    home.mkdir()
    env = tool_env({**OFFLINE, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})
    scaffold_1 = _install(wheel_1, tmp_path / "venv-a")
    cmd = [str(scaffold_1), "new", "proj", "--defaults", "--framework", "flask"]
    proc = run(cmd, tmp_path, env=env)
    assert proc.returncode == 0, explain(cmd, proc)
    project = tmp_path / "proj"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.1.0"
    # Recorded relative to the home directory: valid for another user or machine too.
    assert answers["_src_path"] == "~/.cache/scaffold/template"
    with (project / "README.md").open("a") as handle:
        handle.write(USER_EDIT)
    _git(project, "commit", "--quiet", "-am", "My notes")

    # Neither the first wheel nor the cache it filled is needed: the second wheel's bundle
    # holds the whole history. The update runs as another user (another home directory).
    shutil.rmtree(tmp_path / "venv-a")
    shutil.rmtree(home / ".cache" / "scaffold")
    other_home = tmp_path / "other-home"
    other_home.mkdir()
    env = tool_env(
        {**OFFLINE, "HOME": str(other_home), "XDG_CACHE_HOME": str(other_home / ".cache")}
    )
    scaffold_2 = _install(wheel_2, tmp_path / "venv-b")
    cmd = [str(scaffold_2), "update", str(project)]
    started = time.monotonic()
    proc = run(cmd, tmp_path, env=env)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, explain(cmd, proc)
    print(f"offline update from the next wheel took {seconds:.2f} s")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.1.1"
    assert (project / ".gitignore").read_text().endswith(TEMPLATE_CHANGE)
    assert (project / "README.md").read_text().endswith(USER_EDIT)
    assert os.sep + "venv-a" + os.sep not in (project / ".copier-answers.yml").read_text()
    assert answers["_src_path"] == "~/.cache/scaffold/template"
    assert (other_home / ".cache" / "scaffold" / "template" / ".git").is_dir()
