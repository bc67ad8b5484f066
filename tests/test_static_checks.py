"""The optional files, checked without running them: Dockerfile, compose.yaml, CI, license.

- Dockerfile: hadolint (warnings and errors fail), plus what the image must be (multi-stage,
  uv, an unprivileged user, a HEALTHCHECK on /health).
- compose.yaml: the Compose specification's JSON schema (vendored in check-jsonschema),
  and exactly the services the answers call for.
- CI: actionlint and the GitHub workflow schema, or the GitLab CI schema; the pipeline runs
  every check the generated project has, with the database and broker services it needs.
- License: the LICENSE text and the PEP 639 metadata in pyproject.toml agree.

Every tool runs offline: the binaries come in their wheels, the schemas with check-jsonschema.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.licenses import canonicalize_license_expression

from tests.conftest import FRAMEWORKS, Rendered, cached_renderer, preset_answers, with_defaults

LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary")
# The answer presets of examples/presets (test_presets checks they use every value of every
# choice question per framework), and each one's answers with copier.yml's defaults.
PRESETS = preset_answers()
EFFECTIVE = {name: with_defaults(answers) for name, answers in PRESETS.items()}
DOCKER = [name for name, answers in EFFECTIVE.items() if answers["docker"]]
GITHUB = [name for name, answers in EFFECTIVE.items() if answers["ci"] == "github"]
GITLAB = [name for name, answers in EFFECTIVE.items() if answers["ci"] == "gitlab"]
SPDX = {
    "MIT": "MIT",
    "Apache-2.0": "Apache-2.0",
    "BSD-3-Clause": "BSD-3-Clause",
    "Proprietary": "LicenseRef-Proprietary",
}
# Phrases that together only the complete text has: its title, every clause and the end.
LICENSE_CLAUSES = {
    "MIT": [
        "MIT License",
        "Permission is hereby granted, free of charge, to any person obtaining a copy",
        "The above copyright notice and this permission notice shall be included in all",
        'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND',
        "OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.",
    ],
    "Apache-2.0": [
        "Apache License Version 2.0, January 2004",
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        "1. Definitions.",
        "2. Grant of Copyright License.",
        "3. Grant of Patent License.",
        "4. Redistribution.",
        "5. Submission of Contributions.",
        "6. Trademarks.",
        "7. Disclaimer of Warranty.",
        "8. Limitation of Liability.",
        "9. Accepting Warranty or Additional Liability.",
        "END OF TERMS AND CONDITIONS",
        'Licensed under the Apache License, Version 2.0 (the "License");',
    ],
    "BSD-3-Clause": [
        "BSD 3-Clause License",
        "1. Redistributions of source code must retain the above copyright notice",
        "2. Redistributions in binary form must reproduce the above copyright notice",
        "3. Neither the name of the copyright holder nor the names of its contributors",
        "EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.",
    ],
    "Proprietary": [
        "All rights reserved.",
        "without the prior written permission of the copyright holder.",
    ],
}


@pytest.fixture(scope="session")
def render(copie_session: Any) -> Callable[[str], Rendered]:
    return cached_renderer(copie_session, PRESETS)


def tool(name: str) -> str:
    """A command installed with scaffold's test extras (next to this interpreter)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'", pytrace=False)
    return found


def check(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in cmd],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return check(tool("hadolint"), "--no-color", "--failure-threshold", "warning", dockerfile)


def schema(name: str, path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return check(tool("check-jsonschema"), "--builtin-schema", name, *options, path)


def compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return schema("vendor.compose-spec", path)


def github_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return schema("vendor.github-workflows", path)


def gitlab_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return schema("vendor.gitlab-ci", path, "--data-transform", "gitlab-ci")


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    # -shellcheck= / -pyflakes=: the same result whether or not those are on PATH.
    return check(tool("actionlint"), "-no-color", "-shellcheck=", "-pyflakes=", path)


def passed(proc: subprocess.CompletedProcess[str]) -> bool:
    return proc.returncode == 0


# --- Docker ----------------------------------------------------------------------------


@pytest.mark.parametrize("preset", DOCKER)
def test_dockerfile_passes_hadolint(render: Callable[[str], Rendered], preset: str) -> None:
    proc = hadolint(render(preset).project / "Dockerfile")

    assert passed(proc), proc.stdout + proc.stderr


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_image_is_built_with_uv_in_stages_and_runs_unprivileged_with_a_healthcheck(
    render: Callable[[str], Rendered], framework: str
) -> None:
    preset = next(name for name in DOCKER if EFFECTIVE[name]["framework"] == framework)
    rendered = render(preset)
    lines = (rendered.project / "Dockerfile").read_text().splitlines()
    instructions = [line.split(None, 1) for line in lines if line and not line[0].isspace()]
    stages = [args for word, *args in instructions if word == "FROM"]
    users = [args[0] for word, *args in instructions if word == "USER"]
    text = "\n".join(lines)

    assert len(stages) >= 3, stages  # uv, builder, runtime
    assert "uv sync --locked" in text
    assert "COPY pyproject.toml uv.lock ./" in text
    assert "COPY --from=builder /app/.venv" in text
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    healthcheck = next(line for line in lines if line.startswith("HEALTHCHECK"))
    assert "/health" in text[text.index(healthcheck) :].split("\n\n")[0]
    slug = rendered.answers["project_slug"]
    assert lines[-1] == f'CMD ["{slug}", "serve", "--host", "0.0.0.0", "--port", "8000"]'


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_dockerignore_keeps_secrets_out_and_lets_in_what_the_image_copies(
    render: Callable[[str], Rendered], framework: str
) -> None:
    preset = next(name for name in DOCKER if EFFECTIVE[name]["framework"] == framework)
    project = render(preset).project
    patterns = [
        line.strip()
        for line in (project / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [
        source
        for line in (project / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and "--from=" not in line
        for source in line.split()[1:-1]
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, pattern.removeprefix("**/")) for pattern in patterns)

    assert ignored(".env")
    assert {"pyproject.toml", "README.md", "LICENSE", "src", "alembic.ini"} <= set(copied)
    assert not [source for source in copied if ignored(source.rstrip("*"))]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_wheel_the_image_installs_holds_every_file_of_the_package_and_the_command(
    render: Callable[[str], Rendered], framework: str, tmp_path: Path
) -> None:
    # The image installs the project as a wheel (`uv sync --no-editable`) built from what its
    # builder stage copies in (the test above checks the Dockerfile copies these); uv builds it
    # itself (uv_build), offline. A custom package name on purpose: the backend must be told it
    # (module-name), it would not guess it from the slug.
    preset = next(name for name in DOCKER if EFFECTIVE[name]["framework"] == framework)
    rendered = render(preset)
    context = tmp_path / "context"
    context.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(rendered.project / name, context / name)
    shutil.copytree(
        rendered.project / "src", context / "src", ignore=shutil.ignore_patterns("__pycache__")
    )
    package = rendered.answers["package_name"]
    renamed = "renamed_package"
    (context / "src" / package).rename(context / "src" / renamed)
    pyproject = context / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(package, renamed))

    proc = check(
        tool("uv"),
        "build",
        "--wheel",
        "--offline",
        "--quiet",
        "--out-dir",
        tmp_path / "dist",
        context,
    )

    assert passed(proc), proc.stdout + proc.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        commands = archive.read(entry_points).decode()
    sources = {
        path.relative_to(context / "src").as_posix()
        for path in (context / "src" / renamed).rglob("*")
        if path.is_file()
    }
    assert any(not name.endswith(".py") for name in sources)  # templates travel too
    assert sources <= names, sorted(sources - names)
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), sorted(names)
    assert f"{rendered.answers['project_slug']} = {renamed}.cli:app" in commands


@pytest.mark.parametrize("preset", DOCKER)
def test_compose_file_follows_the_compose_specification(
    render: Callable[[str], Rendered], preset: str
) -> None:
    proc = compose_schema(render(preset).project / "compose.yaml")

    assert passed(proc), proc.stdout + proc.stderr


@pytest.mark.parametrize("preset", DOCKER)
def test_compose_has_the_services_the_answers_call_for(
    render: Callable[[str], Rendered], preset: str
) -> None:
    rendered = render(preset)
    answers = rendered.answers
    compose = yaml.safe_load((rendered.project / "compose.yaml").read_text())
    services = compose["services"]
    postgresql = answers["database"] == "postgresql"
    celery = answers["background_tasks"] == "celery"

    # mailpit: the development mail server the app's e-mail goes to.
    expected = {"migrate", "app", "mailpit"} | ({"db"} if postgresql else set())
    expected |= {"redis", "worker"} if celery else set()
    assert set(services) == expected
    environment = services["app"]["environment"]
    assert environment["ENVIRONMENT"] == "production"
    assert environment["DATABASE_URL"].startswith("postgresql://" if postgresql else "sqlite:")
    assert ("@db:5432/" in environment["DATABASE_URL"]) is postgresql
    assert ("REDIS_URL" in environment) is celery
    assert environment["SMTP_HOST"] == "${SMTP_HOST:-mailpit}"
    if celery:
        assert environment["REDIS_URL"].startswith("redis://redis:6379/")
        worker = services["worker"]
        assert worker["command"][:4] == [
            "celery",
            "-A",
            f"{answers['package_name']}.tasks",
            "worker",
        ]
        assert worker["environment"] == environment
        assert {"redis", "migrate"} <= set(worker["depends_on"])
    if postgresql:
        assert services["db"]["image"].startswith("postgres:")
        assert services["app"]["depends_on"]["db"]["condition"] == "service_healthy"


# --- CI --------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", GITHUB)
def test_github_workflow_passes_actionlint_and_the_workflow_schema(
    render: Callable[[str], Rendered], preset: str
) -> None:
    workflow = render(preset).project / ".github" / "workflows" / "ci.yml"

    for proc in (actionlint(workflow), github_schema(workflow)):
        assert passed(proc), proc.stdout + proc.stderr


@pytest.mark.parametrize("preset", GITLAB)
def test_gitlab_pipeline_follows_the_gitlab_ci_schema(
    render: Callable[[str], Rendered], preset: str
) -> None:
    proc = gitlab_schema(render(preset).project / ".gitlab-ci.yml")

    assert passed(proc), proc.stdout + proc.stderr


def ci_commands_and_services(rendered: Rendered) -> tuple[str, set[str], dict[str, str]]:
    """The shell commands a pipeline runs, the images of its services, and its variables."""
    if rendered.answers["ci"] == "github":
        workflow = yaml.safe_load((rendered.project / ".github/workflows/ci.yml").read_text())
        (job,) = workflow["jobs"].values()
        commands = "\n".join(step["run"] for step in job["steps"] if "run" in step)
        images = {service["image"] for service in job.get("services", {}).values()}
        return commands, images, job.get("env", {})
    pipeline = yaml.safe_load((rendered.project / ".gitlab-ci.yml").read_text())
    (job,) = (value for value in pipeline.values() if isinstance(value, dict) and "script" in value)
    commands = "\n".join([*job.get("before_script", []), *job["script"]])
    images = {service["name"] for service in job.get("services", [])}
    return commands, images, job.get("variables", {})


@pytest.mark.parametrize("preset", GITHUB + GITLAB)
def test_ci_runs_every_check_with_the_services_the_tests_need(
    render: Callable[[str], Rendered], preset: str
) -> None:
    rendered = render(preset)
    commands, images, variables = ci_commands_and_services(rendered)
    postgresql = rendered.answers["database"] == "postgresql"

    for expected in (
        "uv sync --locked",
        "uv run ruff check",
        "uv run ruff format --check",
        "uv run mypy",
        "uv run alembic upgrade head",
        "uv run alembic check",
        "uv run pytest",
    ):
        assert re.search(rf"(^|&& ){re.escape(expected)}\b", commands, re.M), expected
    assert any(image.startswith("postgres:") for image in images) is postgresql
    assert ("TEST_DATABASE_URL" in variables) is postgresql
    # The generated tests need no Redis (Celery runs eagerly, its results stay in memory);
    # a REDIS_URL in the pipeline would leak into every test's settings.
    assert not [image for image in images if image.startswith("redis:")]
    assert "REDIS_URL" not in variables


# --- the checkers can fail ---------------------------------------------------------------


def test_the_checkers_reject_broken_files(
    render: Callable[[str], Rendered], tmp_path: Path
) -> None:
    """Each check above fails on a file with a mistake of the kind it exists to catch."""
    github = render(GITHUB[0]).project
    gitlab = render(GITLAB[0]).project

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        (github / "Dockerfile").read_text().replace("WORKDIR /app\n", "RUN cd /app\n", 1)
    )
    compose = tmp_path / "compose.yaml"
    compose.write_text((github / "compose.yaml").read_text().replace("restart:", "restarts:", 1))
    workflow = tmp_path / "ci.yml"
    workflow.write_text(
        (github / ".github/workflows/ci.yml")
        .read_text()
        .replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    needs: missing-job")
    )
    schema_workflow = tmp_path / "schema-ci.yml"
    schema_workflow.write_text(
        (github / ".github/workflows/ci.yml").read_text().replace("steps:", "stepz:", 1)
    )
    pipeline = tmp_path / ".gitlab-ci.yml"
    pipeline.write_text(
        (gitlab / ".gitlab-ci.yml").read_text().replace("timeout: 20 minutes", "timeout: [20]")
    )

    assert not passed(hadolint(dockerfile))
    assert not passed(compose_schema(compose))
    assert not passed(actionlint(workflow))
    assert not passed(github_schema(schema_workflow))
    assert not passed(gitlab_schema(pipeline))


# --- license ---------------------------------------------------------------------------


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("license_name", LICENSES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_license_text_and_package_metadata_agree(
    render: Callable[[str], Rendered], framework: str, license_name: str
) -> None:
    preset = next(
        name
        for name, answers in EFFECTIVE.items()
        if answers["framework"] == framework and answers["license"] == license_name
    )
    rendered = render(preset)
    text = words((rendered.project / "LICENSE").read_text())
    project = tomllib.loads((rendered.project / "pyproject.toml").read_text())["project"]

    for clause in LICENSE_CLAUSES[license_name]:
        assert words(clause) in text, clause
    for other, clauses in LICENSE_CLAUSES.items():
        if other != license_name:
            assert words(clauses[0]) not in text, f"{other} text in a {license_name} LICENSE"
    author = re.escape(rendered.answers["author_name"])
    assert re.search(rf"Copyright (\(c\) )?\d{{4}},? {author}", text), text[:200]

    assert canonicalize_license_expression(project["license"]) == SPDX[license_name]
    assert project["license"] == SPDX[license_name]
    assert project["license-files"] == ["LICENSE"]
    classifiers = project["classifiers"]
    # PEP 639: a license expression replaces the License :: classifiers.
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert ("Private :: Do Not Upload" in classifiers) is (license_name == "Proprietary")


# --- scaffold's own CI -------------------------------------------------------------------------

REPOSITORY = Path(__file__).resolve().parents[1]
OWN_WORKFLOW = REPOSITORY / ".github" / "workflows" / "ci.yml"


def own_jobs() -> dict[str, Any]:
    jobs: dict[str, Any] = yaml.safe_load(OWN_WORKFLOW.read_text())["jobs"]
    return jobs


def job_commands(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def test_scaffolds_own_workflow_passes_actionlint_and_the_workflow_schema() -> None:
    for proc in (actionlint(OWN_WORKFLOW), github_schema(OWN_WORKFLOW)):
        assert passed(proc), proc.stdout + proc.stderr


def test_the_smoke_matrix_is_computed_by_scaffold_smoke_list() -> None:
    from scaffold.smoke import list_smoke_presets

    jobs = own_jobs()
    lister = jobs[jobs["smoke"]["needs"]]
    assert "scaffold smoke --list" in job_commands(lister)
    (output,) = lister["outputs"].values()
    assert "steps.list.outputs.matrix" in output
    matrix = jobs["smoke"]["strategy"]["matrix"]
    assert matrix == {"preset": "${{ fromJSON(needs.presets.outputs.matrix) }}"}
    assert 'scaffold smoke --preset "${{ matrix.preset.name }}"' in job_commands(jobs["smoke"])
    # every key the workflow reads from an entry is one that --list prints, for every preset
    used = set(re.findall(r"matrix\.preset\.(\w+)", OWN_WORKFLOW.read_text()))
    assert used == {"name", "postgresql", "redis"}
    for entry in list_smoke_presets():
        assert used <= set(entry), entry
    # a service container is started exactly for the presets that need it
    services = jobs["smoke"]["services"]
    assert "matrix.preset.postgresql" in services["postgres"]["image"]
    assert "matrix.preset.redis" in services["redis"]["image"]


def test_every_test_marker_runs_in_some_job_of_scaffolds_own_workflow() -> None:
    jobs = own_jobs()
    config = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    markers = {line.split(":")[0] for line in config["tool"]["pytest"]["ini_options"]["markers"]}
    fast = job_commands(jobs["tests"])
    excluded = set(re.findall(r"not (\w+)", fast))
    assert "python -m pytest -m" in fast
    # what the fast job leaves out, another job runs: the smoke tests as `scaffold smoke` jobs
    assert excluded <= markers
    assert "scaffold smoke" in job_commands(jobs["smoke"])
    for marker in excluded - {"smoke"}:
        assert f"-m {marker}" in job_commands(jobs[marker]), marker
    assert "mkdocs build --strict" in job_commands(jobs["docs"])
