"""Each fact has one source: these tests fail when a second copy of one appears."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import COPIER_YML, FRAMEWORKS, PRESETS_DIR, REPO_ROOT, preset_answers

PACKAGE = REPO_ROOT / "scaffold"
TESTS = REPO_ROOT / "tests"
BENCHMARKS = REPO_ROOT / "benchmarks"


def _imported_modules(path: Path) -> Iterator[str]:
    """Every module ``path`` imports (``from x import y`` yields ``x`` and ``x.y``)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_only_the_copier_bridge_imports_copier() -> None:
    importers = sorted(
        path.name
        for path in PACKAGE.glob("*.py")
        if any(name.split(".")[0] == "copier" for name in _imported_modules(path))
    )
    assert importers == ["copier_bridge.py"]


def test_the_answers_file_name_is_the_one_copier_yml_sets() -> None:
    from scaffold.copier_bridge import ANSWERS_FILE

    config = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    assert config["_answers_file"] == ANSWERS_FILE


def test_no_test_module_imports_another_test_module() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for name in _imported_modules(path):
            if name.startswith("tests.") and name.split(".")[-1].startswith("test_"):
                offenders.append(f"{path.relative_to(REPO_ROOT)} imports {name}")
    assert offenders == [], "shared test code belongs in tests/helpers.py or a conftest.py"


def _python_files() -> list[Path]:
    return sorted([*PACKAGE.glob("*.py"), *TESTS.rglob("*.py"), *BENCHMARKS.glob("*.py")])


def _literal_collections(path: Path) -> Iterator[tuple[int, set[object]]]:
    """(line, values) of every tuple, list and set literal of constants in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) > 1:
            yield node.lineno, {elt.value for elt in node.elts if isinstance(elt, ast.Constant)}


def test_the_scrubbed_environment_is_listed_once() -> None:
    """Only scaffold/toolenv.py lists variables to scrub (two or more of them together)."""
    from scaffold.toolenv import SCRUBBED_ENV

    lists = [
        f"{path.relative_to(REPO_ROOT)}:{line}"
        for path in _python_files()
        for line, values in _literal_collections(path)
        if len(values & set(SCRUBBED_ENV)) > 1
    ]
    assert {place.split(":")[0] for place in lists} == {"scaffold/toolenv.py"}, lists


def test_smoke_and_the_tests_run_projects_in_the_one_scrubbed_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scaffold.toolenv import SCRUBBED_ENV
    from tests.contract.conftest import base_env
    from tests.helpers import tool_env

    for name in SCRUBBED_ENV:
        monkeypatch.setenv(name, "from the caller's shell")
    for env in (tool_env(), base_env()):
        assert not set(SCRUBBED_ENV) & set(env)
        assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert "scaffold.toolenv.project_env" in set(_imported_modules(PACKAGE / "smoke.py"))


def test_every_setting_of_the_generated_projects_is_scrubbed() -> None:
    from scaffold.toolenv import PROJECT_SETTINGS

    for example in FRAMEWORKS:
        env_example = REPO_ROOT / "examples" / example / ".env.example"
        keys = {
            line.partition("=")[0].strip()
            for line in env_example.read_text(encoding="utf-8").splitlines()
            if "=" in line and not line.lstrip().startswith("#")
        }
        assert keys, env_example
        assert keys <= set(PROJECT_SETTINGS), (
            f"{env_example}: {sorted(keys - set(PROJECT_SETTINGS))}"
        )


@pytest.mark.parametrize("example", FRAMEWORKS)
def test_a_copy_of_env_example_keeps_the_compose_files_defaults(example: str) -> None:
    """compose reads .env for its ${VAR:-default}s: a copy of .env.example must not set one of
    them to another value (SMTP_HOST=localhost took the mail away from Mailpit)."""
    folder = REPO_ROOT / "examples" / example
    defaults = dict(re.findall(r"\$\{(\w+):-([^}]*)\}", (folder / "compose.yaml").read_text()))
    assert "SMTP_HOST" in defaults, defaults
    settings = dict(
        line.partition("=")[::2]
        for line in (folder / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    changed = {key: value for key, value in settings.items() if defaults.get(key, value) != value}
    assert not changed, f"{folder / '.env.example'} overrides compose.yaml's defaults: {changed}"


def test_the_framework_list_is_copier_ymls_framework_choices() -> None:
    config = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    assert tuple(config["framework"]["choices"].values()) == FRAMEWORKS


def test_no_code_spells_out_the_framework_list() -> None:
    """Every list of the frameworks is read from copier.yml (``FRAMEWORKS``)."""
    spelled = [
        f"{path.relative_to(REPO_ROOT)}:{line}"
        for path in _python_files()
        for line, values in _literal_collections(path)
        if values == set(FRAMEWORKS)
    ]
    assert spelled == []


def test_the_render_and_static_check_answer_sets_are_the_presets() -> None:
    from scaffold.presets import list_presets

    assert set(preset_answers()) == {preset.name for preset in list_presets(PRESETS_DIR)}
    for module in ("test_render.py", "test_static_checks.py"):
        tree = ast.parse((TESTS / module).read_text(encoding="utf-8"))
        (value,) = [
            node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["PRESETS"]
        ]
        assert isinstance(value, ast.Call), module
        assert getattr(value.func, "id", None) == "preset_answers", module


TEMPLATES = REPO_ROOT / "templates"
_STUB = re.compile(r'\s*\{%-? include "(?P<target>[^"]+)" -?%\}\s*')
_EXTENDS = re.compile(r'\s*\{%-? extends "(?P<target>templates/[^"]+)" -?%\}')
_CONDITIONAL_NAME = re.compile(r"\{%.*?%\}(?P<name>[^{]*)\{% endif %\}")


def _rendered_path(path: Path, root: Path) -> str:
    """``path`` under ``root`` as it renders when every option is on (the template suffix
    kept): `{% if admin %}admin.py{% endif %}.jinja` is `admin.py.jinja`."""
    return _CONDITIONAL_NAME.sub(r"\g<name>", path.relative_to(root).as_posix())


def _include_stubs(framework: str) -> dict[str, str]:
    """The framework tree's files made from a shared partial: path -> the partial.

    A file either only includes the partial, or extends it (and fills in its blocks). A path
    is the one it renders to with every option on (`_rendered_path`): one tree may render a
    module only under an option the other needs it without.
    """
    root = TEMPLATES / framework
    stubs = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if match := _STUB.fullmatch(text) or _EXTENDS.match(text):
            stubs[_rendered_path(path, root)] = match["target"]
    return stubs


def test_both_framework_trees_hold_the_same_include_stubs_naming_the_same_partials() -> None:
    stubs = {framework: _include_stubs(framework) for framework in FRAMEWORKS}
    first, *others = FRAMEWORKS

    assert stubs[first], "no include stub found: has the stub syntax changed?"
    for other in others:
        assert stubs[other] == stubs[first]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_include_stub_names_a_shared_partial_that_exists(framework: str) -> None:
    missing = {
        stub: target
        for stub, target in _include_stubs(framework).items()
        if not target.startswith("templates/shared/") or not (REPO_ROOT / target).is_file()
    }
    assert missing == {}


def test_no_shared_template_reads_the_framework_answer() -> None:
    """What differs by framework lives in the framework trees (their blocks or files), so no
    shared template branches on ``framework``."""
    import jinja2
    from jinja2 import meta

    # Parsed only, never rendered (so no autoescape), with the filters copier adds.
    extensions = ["jinja2_ansible_filters.AnsibleCoreFiltersExtension"]
    env = jinja2.Environment(extensions=extensions)  # noqa: S701
    # Every file: an include renders whatever it names, .jinja or not.
    shared = sorted(path for path in (TEMPLATES / "shared").rglob("*") if path.is_file())
    assert shared
    readers = [
        path.relative_to(TEMPLATES).as_posix()
        for path in shared
        if "framework" in meta.find_undeclared_variables(env.parse(path.read_text("utf-8")))
    ]
    assert readers == []


# Modules (and package data) under src/<package>/ that only one framework has, because only
# its library needs them; every other module of one tree, and every module of tests/, has a
# twin of the same name in the other tree (one role, one name: `deps.py` is what the views
# depend on, `docs.py` serves /docs, `tests/test_errors.py` checks the error answers...).
FRAMEWORK_ONLY_MODULES = {
    "flask": {
        # flask-smorest ships no type hints: a typed Protocol of its Blueprint for the views.
        "api/blueprint.py",
        # Flask-Admin's views, login and logout fit one module; its page template lives in
        # the app's template folder (Starlette-Admin's admin/ package below needs more).
        "admin.py",
        "templates/admin_base.html",
    },
    "fastapi": {
        # Starlette-Admin: an auth provider, a CSRF middleware (Flask-WTF's job in Flask) and
        # the page templates it is given.
        "admin/__init__.py",
        "admin/auth.py",
        "admin/csrf.py",
        "admin/views.py",
        "admin/templates/base.html",
        "admin/templates/login.html",
        "admin/templates/password_input.html",
    },
}


def _modules(framework: str, folder: str) -> set[str]:
    """The paths under ``folder`` of the framework tree, as they render when every option is
    on: `{% if admin %}admin.py{% endif %}.jinja` is `admin.py`."""
    root = TEMPLATES / framework / folder
    return {
        _rendered_path(path, root).removesuffix(".jinja")
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.mark.parametrize(
    ("folder", "allowed"),
    [("src/{{ package_name }}", FRAMEWORK_ONLY_MODULES), ("tests", {})],
    ids=["src", "tests"],
)
def test_a_module_has_the_same_name_in_every_framework_tree(
    folder: str, allowed: dict[str, set[str]]
) -> None:
    modules = {framework: _modules(framework, folder) for framework in FRAMEWORKS}
    common = set.intersection(*modules.values())
    assert "conftest.py" in common or "app.py" in common, f"{folder}: has the layout changed?"
    only = {framework: modules[framework] - common for framework in FRAMEWORKS}
    expected = {framework: allowed.get(framework, set()) for framework in FRAMEWORKS}
    assert only == expected, "a module of one framework names its twin differently"


# What the library may read from a project's answers: which tree it is, and its name.
# Anything an option decides (a database, a broker, a file...) it learns from the rendered
# project (scaffold/services.py), so adding an option never means editing scaffold/.
LIBRARY_ANSWERS = {"framework", "project_slug"}


def _answer_reads(path: Path, questions: set[str]) -> Iterator[tuple[int, str]]:
    """(line, key) of each ``x["key"]`` / ``x.get("key")`` in ``path`` whose key is a question."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.expr):
            continue
        key: object = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"get", "pop", "setdefault"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            key = node.args[0].value
        if isinstance(key, str) and key in questions:
            yield node.lineno, key


def test_the_library_reads_no_options_answer() -> None:
    config = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    questions = {name for name in config if not name.startswith("_")}
    reads = {
        f"{path.name}:{line}: {key}"
        for path in sorted(PACKAGE.glob("*.py"))
        for line, key in _answer_reads(path, questions)
    }
    assert reads, "no answer read found: has the way answers are read changed?"
    assert {read for read in reads if read.rsplit(": ", 1)[1] not in LIBRARY_ANSWERS} == set()


_IMPORTS_STRUCTLOG = re.compile(r"^\s*(?:import|from) structlog\b", re.MULTILINE)


def test_only_logging_config_imports_structlog_in_a_generated_package() -> None:
    """The generated package takes structlog from logging_config, which imports it with rich
    hidden (rich would cost every process ~0.1 s and ~4 MiB): a module that imported
    structlog itself, before logging_config, would load rich again."""
    templates = [*TEMPLATES.rglob("*.jinja"), *(REPO_ROOT / "resource-template").rglob("*.jinja")]
    importers = sorted(
        path.relative_to(REPO_ROOT).as_posix()
        for path in templates
        if "/tests/" not in path.as_posix() and _IMPORTS_STRUCTLOG.search(path.read_text("utf-8"))
    )
    assert importers == ["templates/shared/src/logging_config.py.jinja"]
