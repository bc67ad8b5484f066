"""The sdist and the wheel carry the template, and an installed wheel renders from it."""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from scaffold import __version__
from tests.conftest import REPO_ROOT
from tests.helpers import UV, explain, run

pytestmark = pytest.mark.packaging

TEMPLATE = "scaffold/_template"
EXPECTED_IN_WHEEL = [
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
    # every file of the template trees is in the wheel
    for path in (REPO_ROOT / "templates").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(REPO_ROOT).as_posix()
            assert f"{TEMPLATE}/{rel}" in names, rel
    assert not [name for name in names if name.startswith(("tests/", "templates/"))]


def test_sdist_keeps_the_repository_layout(dist: Path) -> None:
    (sdist,) = dist.glob(f"scaffold-{__version__}.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for name in ("copier.yml", "pyproject.toml", "README.md", "scaffold/render.py",
                 "templates/shared/reserved-names.txt", "templates/fastapi/pyproject.toml.jinja",
                 "templates/flask/pyproject.toml.jinja"):  # fmt: skip
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
    version = run([scaffold, "--version"], tmp_path)
    assert version.stdout.strip() == f"scaffold {__version__}", version.stdout
    cmd = [scaffold, "new", "X", "--defaults", "--no-git"]
    proc = run(cmd, tmp_path)
    assert proc.returncode == 0, explain(cmd, proc)
    answers = yaml.safe_load((tmp_path / "X" / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == "x"
    assert "site-packages/scaffold/_template" in answers["_src_path"]
    assert (tmp_path / "X" / "pyproject.toml").is_file()
