"""`scaffold add resource`: what it writes, and bad input refused with nothing written.

Rendering and checking the added resources (the projects' own lint, types, migrations and
tests) is the smoke run's job (tests/test_smoke.py, presets with `resources`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from scaffold import copier_bridge, gitrepo
from scaffold.errors import GitError
from scaffold.render import new_project
from scaffold.resource import (
    RESOURCE_ANSWERS,
    existing_resources,
    load_field_types,
    next_revision,
    pluralize,
    snake_case,
)
from scaffold.resource_source import PREFIX
from scaffold.update import update_project
from tests.conftest import FRAMEWORKS, REPO_ROOT, Snapshot, snapshot
from tests.helpers import (
    UV,
    assert_one_error_line,
    copy_project,
    explain,
    git,
    invoke,
    run,
    tool_env,
)

CUSTOMER = ["Customer", "--field", "name:str", "--field", "email:str:320", "--field", "vip:bool"]
ORDER = [
    "Order",
    "--field",
    "customer:ref:Customer",
    "--field",
    "note:text?",
    "--field",
    "total:decimal",
    "--field",
    "shipped_on:date?",
]


@pytest.fixture(scope="session", autouse=True)
def _resource_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The resource template's repository in a cache of this run's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session", params=FRAMEWORKS)
def with_customer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated project (git, no uv.lock) with the resource Customer; never changed."""
    project = tmp_path_factory.mktemp(request.param) / "shop"
    new_project(project, framework=request.param, defaults=True, lock=False)
    result = invoke("add", "resource", *CUSTOMER, "--project", str(project))
    assert result.exit_code == 0, result.output
    return project


@pytest.fixture
def project(with_customer: Path, tmp_path: Path) -> Path:
    """A copy of `with_customer` for a test that adds to it."""
    return copy_project(with_customer, tmp_path / "shop")


def _state(project: Path) -> tuple[Snapshot, str, str]:
    """The project's files (outside .git), its HEAD and its `git status`."""
    files = {path: entry for path, entry in snapshot(project).items() if ".git" not in path}
    return files, git(project, "rev-parse", "HEAD"), git(project, "status", "--short")


def test_adding_a_resource_writes_new_files_only_and_commits_them(project: Path) -> None:
    package = yaml.safe_load((project / ".copier-answers.yml").read_text())["package_name"]
    before = git(project, "rev-parse", "HEAD")
    customer = yaml.safe_load((project / RESOURCE_ANSWERS.format(plural="customers")).read_text())
    revision = f"{int(customer['revision']) + 1:04d}"  # after the Customer's, the head

    result = invoke("add", "resource", *ORDER, "--project", str(project))

    assert result.exit_code == 0, result.output
    changes = git(project, "diff", "--name-status", before, "HEAD").splitlines()
    assert all(line.startswith("A\t") for line in changes), changes
    added = {line.split("\t")[1] for line in changes}
    resource = f"src/{package}/resources/orders"
    expected = {
        ".copier-answers.resource-orders.yml",
        "docs/resources/orders.md",
        f"migrations/versions/{revision}_orders.py",
        f"{resource}/__init__.py",
        f"{resource}/admin.py",
        f"{resource}/api.py",
        f"{resource}/model.py",
        f"{resource}/schemas.py",
        "tests/test_orders.py",
    }
    assert added == expected
    assert git(project, "status", "--short") == ""
    assert git(project, "log", "-1", "--format=%s") == "Add resource Order (scaffold add resource)"
    answers = yaml.safe_load((project / RESOURCE_ANSWERS.format(plural="orders")).read_text())
    assert answers["_src_path"]
    assert answers["_commit"]
    assert (answers["revision"], answers["down_revision"]) == (revision, customer["revision"])
    assert answers["fields"][0] == {
        "name": "customer",
        "type": "ref",
        "optional": False,
        "target": "Customer",
        "target_plural": "customers",
    }
    assert {"name": "note", "type": "text", "optional": True} in answers["fields"]
    migration = (project / f"migrations/versions/{revision}_orders.py").read_text()
    assert f'down_revision: str | None = "{customer["revision"]}"' in migration
    assert "fk_orders_customer_id_customers" in migration


def test_an_added_resource_can_refer_to_the_example_item(project: Path) -> None:
    """The example Item has no answers file (it comes with the project): it is found as the
    app finds it, under src/<package>/resources/."""
    package = yaml.safe_load((project / ".copier-answers.yml").read_text())["package_name"]

    result = invoke(
        "add", "resource", "Review", "--field", "item:ref:Item", "--project", str(project)
    )

    assert result.exit_code == 0, result.output
    answers = yaml.safe_load((project / RESOURCE_ANSWERS.format(plural="reviews")).read_text())
    assert answers["fields"] == [
        {
            "name": "item",
            "type": "ref",
            "optional": False,
            "target": "Item",
            "target_plural": "items",
        }
    ]
    api = (project / f"src/{package}/resources/reviews/api.py").read_text()
    assert f"from {package}.resources.items.model import Item" in api
    assert existing_resources(project) == {
        "Customer": "customers",
        "Item": "items",
        "Review": "reviews",
    }


def test_without_the_admin_there_is_no_admin_view(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    new_project(project, framework="flask", defaults=True, lock=False, data={"admin": "false"})

    result = invoke("add", "resource", "Tag", "--field", "label:str:40", "--project", str(project))

    assert result.exit_code == 0, result.output
    assert not list(project.glob("src/*/resources/tags/admin.py"))
    assert "test_the_admin" not in (project / "tests/test_tags.py").read_text()


def test_pretend_shows_the_files_and_writes_nothing(with_customer: Path) -> None:
    before = _state(with_customer)

    result = invoke("add", "resource", *ORDER, "--project", str(with_customer), "--pretend")

    assert result.exit_code == 0, result.output
    assert "tests/test_orders.py" in result.stdout
    assert "Nothing was written." in result.stdout
    assert _state(with_customer) == before


BAD_INPUT = [
    (["Customer"], 2, "has a resource 'Customer' already"),
    (["User"], 2, "is reserved"),
    (["Item"], 2, "is reserved"),
    (["None"], 2, "is reserved"),
    (["order"], 2, "is not PascalCase"),
    (["Order_Line"], 2, "is not PascalCase"),
    (["Order", "--field", "id:int"], 2, "field name 'id' is reserved"),
    (["Order", "--field", "owner_id:int"], 2, "field name 'owner_id' is reserved"),
    (["Order", "--field", "created_at:datetime"], 2, "field name 'created_at' is reserved"),
    (["Order", "--field", "class:int"], 2, "field name 'class' is reserved"),
    (["Order", "--field", "Total:int"], 2, "is not snake_case"),
    (["Order", "--field", "total"], 2, "is not NAME:TYPE"),
    (["Order", "--field", "total:money"], 2, "unknown type 'money'"),
    (["Order", "--field", "buyer:ref:Buyer"], 2, "ref target 'Buyer' is not a resource"),
    (["Order", "--field", "n:int", "--field", "n:int"], 2, "'n' is given twice"),
    (["Order", "--field", "c:ref:Customer", "--field", "c_id:int"], 2, "'c_id' is given twice"),
    (["Order", "--field", "name:str:0"], 2, "the length must be a number"),
    (["Order", "--field", "note:text:5"], 2, "takes no argument"),
    (["Order", "--plural", "Orders"], 2, "plural 'Orders' is not snake_case"),
    (["Order", "--plural", "users"], 2, "plural 'users' is reserved"),
    (["Order", "--plural", "customers"], 2, "with plural 'customers' already"),
    (["Order" + "X" * 24], 2, "is too long"),
]


@pytest.mark.parametrize(
    ("args", "code", "message"), BAD_INPUT, ids=[" ".join(args) for args, _, _ in BAD_INPUT]
)
def test_bad_input_is_one_line_a_non_zero_exit_and_nothing_written(
    with_customer: Path, args: list[str], code: int, message: str
) -> None:
    before = _state(with_customer)

    result = invoke("add", "resource", *args, "--project", str(with_customer))

    assert_one_error_line(result, code, message)
    assert _state(with_customer) == before


def test_a_dirty_tree_is_refused(project: Path) -> None:
    (project / "notes.txt").write_text("work in progress\n")
    before = _state(project)

    result = invoke("add", "resource", *ORDER, "--project", str(project))

    assert_one_error_line(result, 8, "has uncommitted changes (notes.txt)")
    assert _state(project) == before


@pytest.mark.parametrize("what", ["empty", "not-git", "no-answers"])
def test_a_directory_that_is_not_a_generated_project_is_refused(
    project: Path, tmp_path: Path, what: str
) -> None:
    target = {"empty": tmp_path / "empty", "not-git": project, "no-answers": project}[what]
    target.mkdir(exist_ok=True)
    if what == "not-git":
        shutil.rmtree(project / ".git")
    if what == "no-answers":
        (project / ".copier-answers.yml").unlink()
        git(project, "commit", "-qam", "No answers")
    before = snapshot(target)

    result = invoke("add", "resource", *ORDER, "--project", str(target))

    assert_one_error_line(result, 3, str(target))
    assert snapshot(target) == before


def test_a_failure_half_way_leaves_nothing_behind(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _state(project)

    def broken(repo: Path, message: str) -> str:
        raise GitError("`git commit` failed: disk full")

    monkeypatch.setattr(gitrepo, "commit_all", broken)
    result = invoke("add", "resource", *ORDER, "--project", str(project))

    assert_one_error_line(result, 6, "disk full")
    assert _state(project) == before
    assert not list(project.parent.glob(".shop.*"))  # no staging directory left


@pytest.mark.parametrize(
    ("singular", "plural"),
    [("order", "orders"), ("box", "boxes"), ("category", "categories"), ("day", "days")],
)
def test_the_default_plural(singular: str, plural: str) -> None:
    assert pluralize(singular) == plural


def test_names_become_snake_case() -> None:
    assert snake_case("OrderLine") == "order_line"


def test_the_next_revision_follows_the_one_head(tmp_path: Path) -> None:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_a.py").write_text('revision: str = "0001"\ndown_revision = None\n')
    (versions / "0002_b.py").write_text('revision = "0002"\ndown_revision: str | None = "0001"\n')

    assert next_revision(tmp_path) == ("0003", "0002")


def test_the_field_types_are_one_table_that_the_docs_list() -> None:
    types = load_field_types(REPO_ROOT / PREFIX / "field-types.yml")
    readme = (REPO_ROOT / "README.md").read_text()
    guide = (REPO_ROOT / "docs" / "adding-a-resource.md").read_text()

    assert list(types) == [
        "str",
        "text",
        "int",
        "float",
        "decimal",
        "bool",
        "date",
        "datetime",
        "ref",
    ]
    for name, row in types.items():
        assert f"`{name}`" in guide, name
        assert row["help"] in guide, name
    assert "scaffold add resource" in readme


def _project_from_a_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, framework: str
) -> tuple[Path, Path]:
    """A clean clone of this checkout at HEAD, which scaffold takes both templates from, and a
    project rendered from it (a project rendered from uncommitted work records a draft commit,
    which an update would not find)."""
    clone = tmp_path / "scaffold"
    git(tmp_path, "clone", "--quiet", "--no-checkout", str(REPO_ROOT), str(clone))
    git(clone, "checkout", "--quiet", git(REPO_ROOT, "rev-parse", "HEAD"))
    monkeypatch.setattr("scaffold.resource_source.checkout_root", lambda: clone)
    project = tmp_path / "shop"
    new_project(project, framework=framework, defaults=True, lock=False, template=str(clone))
    return clone, project


def test_an_update_brings_a_template_change_into_a_resource_and_keeps_the_users_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The resource template from a clone of this checkout, which the test then changes.
    clone, project = _project_from_a_clone(tmp_path, monkeypatch, "flask")
    added = invoke("add", "resource", "Tag", "--field", "label:str:40", "--project", str(project))
    assert added.exit_code == 0, added.output
    package = yaml.safe_load((project / ".copier-answers.yml").read_text())["package_name"]
    resource = project / "src" / package / "resources" / "tags"
    with (resource / "api.py").open("a") as api:
        api.write("\n# The team's own note.\n")
    git(project, "commit", "-qam", "A note of ours")
    model_template = clone / PREFIX / "templates" / "shared" / "src" / "model.py.jinja"
    text = model_template.read_text()
    model_template.write_text(text.replace("` table.", "` table, updated."))
    git(clone, "commit", "-qam", "A better docstring")
    head = git(project, "rev-parse", "HEAD")
    answers_file = project / RESOURCE_ANSWERS.format(plural="tags")
    before = yaml.safe_load(answers_file.read_text())["_commit"]

    result = invoke("update", str(project), "--vcs-ref", "HEAD")

    assert result.exit_code == 0, result.output
    assert "`tags` table, updated." in (resource / "model.py").read_text()
    assert (resource / "api.py").read_text().endswith("# The team's own note.\n")
    assert yaml.safe_load(answers_file.read_text())["_commit"] != before
    assert git(project, "rev-parse", "HEAD") == head  # left uncommitted, to review
    changed = git(project, "status", "--short")
    assert f"src/{package}/resources/tags/model.py" in changed
    assert "api.py" not in changed


@pytest.mark.smoke
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_project_with_resources_stays_green_when_its_admin_is_turned_off(
    framework: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, project = _project_from_a_clone(tmp_path, monkeypatch, framework)
    for resource in (CUSTOMER, ORDER):
        added = invoke("add", "resource", *resource, "--project", str(project))
        assert added.exit_code == 0, added.output
    package = yaml.safe_load((project / ".copier-answers.yml").read_text())["package_name"]
    resources = project / "src" / package / "resources"
    assert (resources / "orders" / "admin.py").is_file()

    result = update_project(project, data=["admin=false"])

    assert not result.has_conflicts
    assert not list(resources.glob("*/admin.py"))
    for plural in ("customers", "orders"):
        answers = yaml.safe_load((project / RESOURCE_ANSWERS.format(plural=plural)).read_text())
        assert answers["admin"] is False
    steps = (
        [UV, "sync"],
        [UV, "run", "ruff", "check"],
        [UV, "run", "ruff", "format", "--check"],
        [UV, "run", "mypy"],
        [UV, "run", "pytest"],
    )
    for cmd in steps:
        proc = run(cmd, project, env=tool_env())
        assert proc.returncode == 0, explain(cmd, proc)


def test_the_example_item_is_the_resource_template_rendered_with_its_answers(
    with_customer: Path, tmp_path: Path
) -> None:
    """The project renders Item's files from the resource template's own (its wrappers include
    them with the answers in copier.yml's `example_item`): rendered by the resource template
    itself with those answers, they are the same files, byte for byte. A wrapper that adds to
    or changes them breaks this test."""
    answers = yaml.safe_load((with_customer / ".copier-answers.yml").read_text())
    questions = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    item = yaml.safe_load(questions["example_item"]["default"])
    work = tmp_path / "item"
    work.mkdir()
    shutil.copy(with_customer / ".copier-answers.yml", work)
    data = {
        "framework": answers["framework"],
        "package_name": answers["package_name"],
        "admin": answers["admin"],
        "resource_name": item["resource_name"],
        "plural": item["plural"],
        "fields": item["fields"],
        "events": item["events"],
        "example": item["example"],
        "revision": "0000item",
        "down_revision": "0001",
    }
    copier_bridge.copy(
        str(REPO_ROOT / "resource-template"), work, data, vcs_ref=None, defaults=True, pretend=False
    )
    resource = Path("src", answers["package_name"], "resources", "items")
    rendered = sorted(path.name for path in (work / resource).iterdir())

    assert rendered == sorted(path.name for path in (with_customer / resource).iterdir())
    assert "admin.py" in rendered
    for path in [*(resource / name for name in rendered), Path("tests", "test_items.py")]:
        assert (work / path).read_text() == (with_customer / path).read_text(), path
