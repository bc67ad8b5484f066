"""``add_resource()``: add a resource (model, schemas, API, admin view, migration, tests, docs)
to a generated project, in its framework, from the resource template.

Every check runs before anything is written: the project (generated, tracked by git, clean),
the name, the plural, every ``--field`` (its name, its type from the resource template's
``field-types.yml``, a ``ref`` target that exists). Then the resource is rendered into a
staging directory, its files are moved into the project (none of them may exist: an add
writes new files only) and committed. A failure half-way removes what was moved.
"""

from __future__ import annotations

import keyword
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from scaffold import copier_bridge, gitrepo
from scaffold.errors import (
    DestinationError,
    Interrupted,
    InvalidAnswer,
    NotAProject,
    ScaffoldError,
)
from scaffold.projectcheck import check_clean, check_project
from scaffold.resource_source import field_types_file, resource_template

RESOURCE_ANSWERS = ".copier-answers.resource-{plural}.yml"
RESOURCE_ANSWERS_GLOB = ".copier-answers.resource-*.yml"

PASCAL = re.compile(r"[A-Z][A-Za-z0-9]*")
SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
MAX_NAME = 24
# PostgreSQL cuts identifiers (constraint and index names) at 63 bytes.
MAX_IDENTIFIER = 63
MAX_STR_LENGTH = 10_000

# Names a resource may not take: the project's own models, and the names its modules use.
RESERVED_NAMES = frozenset(
    [
        "User",
        "Item",
        "AdminSession",
        "Base",
        "Money",
        "UTCDateTime",
        "Decimal",
        "Any",
        "Annotated",
        "Admin",
        "Schema",
        "BaseModel",
        "Field",
        "Request",
        "Response",
        "Session",
        "Mapped",
        "Integer",
        "String",
        "Text",
        "Float",
        "Numeric",
        "Boolean",
        "Date",
        "DateTime",
        "Dialect",
        "TypeDecorator",
        "ForeignKey",
        "IntegrityError",
        "Message",
        "None",
        "True",
        "False",
    ]
)
# Tables and URL segments the project has already.
RESERVED_PLURALS = frozenset(
    [
        "users",
        "items",
        "admin_sessions",
        "auth",
        "ws",
        "tasks",
        "health",
        "metrics",
        "alembic_version",
    ]
)
# Columns every resource has, and names the models' and schemas' classes use for themselves.
RESERVED_FIELDS = frozenset(
    [
        "id",
        "owner",
        "owner_id",
        "created_at",
        "updated_at",
        "metadata",
        "registry",
        "query",
        "fields",
        "opts",
        "load",
        "dump",
        "loads",
        "dumps",
        "validate",
        "context",
        "json",
        "dict",
        "copy",
        "schema",
        "construct",
    ]
)


@dataclass(frozen=True)
class FieldSpec:
    """One ``--field NAME:TYPE[?]``, as the resource template reads it."""

    name: str
    type: str
    optional: bool = False
    length: int | None = None
    target: str | None = None
    target_plural: str | None = None

    @property
    def column(self) -> str:
        """The column and JSON key: ``<name>_id`` for a ``ref``."""
        return f"{self.name}_id" if self.type == "ref" else self.name

    def answer(self) -> dict[str, Any]:
        """The mapping recorded in the resource's answers file."""
        data: dict[str, Any] = {"name": self.name, "type": self.type, "optional": self.optional}
        if self.length is not None:
            data["length"] = self.length
        if self.target is not None:
            data["target"] = self.target
            data["target_plural"] = self.target_plural
        return data


@dataclass(frozen=True)
class AddResourceResult:
    """What ``add_resource()`` wrote (or, with ``pretend``, would write)."""

    project: Path
    name: str
    plural: str
    framework: str
    files: tuple[str, ...]
    commit: str | None = None
    pretend: bool = False
    answers: Mapping[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"/api/v1/{self.plural}"


def load_field_types(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The resource template's field types (``field-types.yml``): name -> its table row."""
    source = path or field_types_file()
    loaded = yaml.safe_load(source.read_text(encoding="utf-8"))
    return {str(name): dict(row) for name, row in loaded.items()}


def snake_case(name: str) -> str:
    """``OrderLine`` -> ``order_line``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def pluralize(singular: str) -> str:
    """The English plural of a snake_case word's last part: order -> orders, box -> boxes,
    category -> categories (``--plural`` for anything irregular)."""
    if re.search(r"(s|x|z|ch|sh)$", singular):
        return singular + "es"
    if re.search(r"[^aeiou]y$", singular):
        return singular[:-1] + "ies"
    return singular + "s"


# A resource's model class, as the resource template writes it (model.py).
_MODEL_CLASS = re.compile(r"^class ([A-Z][A-Za-z0-9]*)\(Base\):", re.MULTILINE)


def existing_resources(project: Path) -> dict[str, str]:
    """The project's resources: name -> plural. Those added are read from their answers
    files; the project template's own (the example Item, which has none: it is updated with
    the project) from their package under ``src/<package>/resources/``, as the app finds them."""
    found: dict[str, str] = {}
    for path in sorted(project.glob(RESOURCE_ANSWERS_GLOB)):
        try:
            answers = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(answers, Mapping) and answers.get("resource_name"):
            found[str(answers["resource_name"])] = str(answers.get("plural"))
    for model in sorted(project.glob("src/*/resources/*/model.py")):
        plural = model.parent.name
        if plural in found.values():
            continue
        try:
            match = _MODEL_CLASS.search(model.read_text(encoding="utf-8"))
        except OSError:
            continue
        if match:
            found.setdefault(match.group(1), plural)
    return found


def _check_name(name: str, plural: str, resources: Mapping[str, str]) -> None:
    if not PASCAL.fullmatch(name):
        raise InvalidAnswer(
            f"resource name {name!r} is not PascalCase", hint="e.g. Order or OrderLine"
        )
    if name in RESERVED_NAMES or keyword.iskeyword(name):
        raise InvalidAnswer(f"resource name {name!r} is reserved", hint="choose another name")
    if name in resources:
        raise InvalidAnswer(f"the project has a resource {name!r} already", hint="choose another")
    if len(snake_case(name)) > MAX_NAME:
        raise InvalidAnswer(
            f"resource name {name!r} is too long", hint=f"at most {MAX_NAME} characters"
        )
    if not SNAKE.fullmatch(plural) or keyword.iskeyword(plural):
        raise InvalidAnswer(
            f"plural {plural!r} is not snake_case",
            hint="lowercase letters, digits and single underscores, e.g. --plural people",
        )
    if len(plural) > MAX_NAME:
        raise InvalidAnswer(f"plural {plural!r} is longer than {MAX_NAME} characters")
    if plural in RESERVED_PLURALS:
        raise InvalidAnswer(f"plural {plural!r} is reserved", hint="pass another --plural")
    if plural in resources.values():
        raise InvalidAnswer(f"the project has a resource with plural {plural!r} already")


def parse_field(
    text: str, types: Mapping[str, Mapping[str, Any]], resources: Mapping[str, str]
) -> FieldSpec:
    """One ``NAME:TYPE[?]`` (``str:N`` for a length, ``ref:<Resource>`` for a reference)."""
    spec = text.strip()
    optional = spec.endswith("?")
    name, _, kind = spec.removesuffix("?").partition(":")
    if not kind:
        raise InvalidAnswer(f"--field {text!r} is not NAME:TYPE", hint="e.g. --field total:decimal")
    if not SNAKE.fullmatch(name) or len(name) > MAX_NAME:
        raise InvalidAnswer(
            f"field name {name!r} is not snake_case (at most {MAX_NAME} characters)",
            hint="lowercase letters, digits and single underscores",
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in RESERVED_FIELDS:
        raise InvalidAnswer(f"field name {name!r} is reserved", hint="choose another name")
    kind, _, argument = kind.partition(":")
    if kind not in types:
        raise InvalidAnswer(
            f"--field {text!r}: unknown type {kind!r}", hint=f"one of {', '.join(types)}"
        )
    if kind == "ref":
        if argument != "User" and argument not in resources:
            known = ", ".join(["User", *sorted(resources)])
            raise InvalidAnswer(
                f"--field {text!r}: ref target {argument!r} is not a resource of the project",
                hint=f"one of {known}",
            )
        plural = "users" if argument == "User" else resources[argument]
        return FieldSpec(name, kind, optional, target=argument, target_plural=plural)
    if kind == "str" and argument:
        if not argument.isdigit() or not 1 <= int(argument) <= MAX_STR_LENGTH:
            raise InvalidAnswer(
                f"--field {text!r}: the length must be a number from 1 to {MAX_STR_LENGTH}"
            )
        return FieldSpec(name, kind, optional, length=int(argument))
    if argument:
        raise InvalidAnswer(f"--field {text!r}: type {kind!r} takes no argument")
    return FieldSpec(name, kind, optional)


def parse_fields(
    texts: Sequence[str], types: Mapping[str, Mapping[str, Any]], resources: Mapping[str, str]
) -> list[FieldSpec]:
    """Every ``--field``; a name (or column) given twice is refused."""
    specs: list[FieldSpec] = []
    taken: set[str] = set()
    for text in texts:
        spec = parse_field(text, types, resources)
        # A ref's relationship and its column, and what the FastAPI schemas call its type.
        names = {spec.name, spec.column, spec.column.replace("_", "")}
        if names & taken:
            raise InvalidAnswer(
                f"--field {spec.name!r} is given twice (or clashes with another field)",
                hint="give each field once",
            )
        taken |= names
        specs.append(spec)
    return specs


def _check_identifiers(plural: str, specs: Sequence[FieldSpec]) -> None:
    """Constraint and index names must fit PostgreSQL's 63 bytes (it would cut them)."""
    names = [f"fk_{plural}_owner_id_users", f"ix_{plural}_owner_id"]
    for spec in specs:
        if spec.type == "ref":
            names += [
                f"fk_{plural}_{spec.column}_{spec.target_plural}",
                f"ix_{plural}_{spec.column}",
            ]
    for name in names:
        if len(name) > MAX_IDENTIFIER:
            raise InvalidAnswer(
                f"the constraint name {name!r} is longer than PostgreSQL's {MAX_IDENTIFIER}"
                " characters",
                hint="choose shorter names",
            )


_REVISION = re.compile(r"""^revision(?:\s*:\s*[^=]+)?\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN = re.compile(r"""^down_revision(?:\s*:\s*[^=]+)?\s*=\s*(None|["']([^"']+)["'])""", re.M)


def next_revision(project: Path) -> tuple[str, str]:
    """``(revision, down_revision)`` for a new Alembic revision after the project's one head."""
    versions = project / "migrations" / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(text)
        if down is not None and down.group(2):
            parents.add(down.group(2))
    heads = sorted(revisions - parents)
    if len(heads) != 1:
        raise NotAProject(
            f"{versions} has {len(heads)} Alembic heads ({', '.join(heads) or 'none'})",
            hint="merge them into one (`alembic merge heads`) and commit first",
        )
    numbers = [int(rev) for rev in revisions if rev.isdigit()]
    if len(numbers) == len(revisions):
        width = max(len(rev) for rev in revisions)
        return f"{max(numbers) + 1:0{width}d}", heads[0]
    return os.urandom(6).hex(), heads[0]


def _project_answers(root: Path, shown: str) -> dict[str, Any]:
    check_project(root, shown)
    recorded = copier_bridge.read_answers(root)
    if recorded.get("framework") is None:
        raise NotAProject(
            f"{shown}'s {copier_bridge.ANSWERS_FILE} records no framework",
            hint="pass --project the root of a project made by scaffold new",
        )
    # The resource template reads the project's answers (_external_data) and records them.
    if not list(root.glob("src/*/resources/__init__.py")):
        raise NotAProject(
            f"{shown} has no src/<package>/resources/, where resources go",
            hint="bring the project up to date first (`scaffold update`), then commit",
        )
    return recorded


def _move_in(staging: Path, root: Path, files: Sequence[str]) -> list[Path]:
    """Move the rendered files into the project; the directories that this made. On any
    failure, everything moved is taken out again."""
    moved: list[Path] = []
    made: list[Path] = []
    try:
        for name in files:
            target = root / name
            made += [parent for parent in target.parents if not parent.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging / name, target)
            moved.append(target)
    except BaseException:
        _take_out(moved, made)
        raise
    return made


def _take_out(files: Sequence[Path], directories: Sequence[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)
    for directory in sorted(directories, key=lambda p: len(p.parts), reverse=True):
        shutil.rmtree(directory, ignore_errors=True)


def add_resource(
    name: str,
    *,
    fields: Sequence[str] = (),
    plural: str | None = None,
    project: str | os.PathLike[str] = ".",
    pretend: bool = False,
) -> AddResourceResult:
    """Add the resource ``name`` with ``fields`` (``NAME:TYPE[?]`` each) to ``project``.

    Raises a :class:`ScaffoldError` subclass, with nothing written, for every problem the
    user can fix. The files are committed (``Add resource NAME``), so the next add (and
    ``scaffold update``) finds a clean tree.
    """
    shown = str(project)
    root = Path(project).expanduser().absolute()
    recorded = _project_answers(root, shown)
    resources = existing_resources(root)
    plural = plural if plural is not None else pluralize(snake_case(name))
    _check_name(name, plural, resources)
    specs = parse_fields(fields, load_field_types(), resources)
    _check_identifiers(plural, specs)
    check_clean(root, shown)
    revision, down_revision = next_revision(root)
    src, ref = resource_template()
    data: dict[str, Any] = {
        "resource_name": name,
        "plural": plural,
        "fields": [spec.answer() for spec in specs],
        "revision": revision,
        "down_revision": down_revision,
    }
    framework = str(recorded["framework"])
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".resource", dir=root.parent))
    try:
        work = staging / root.name
        # The project's answers, which the resource template reads (not one of its files).
        work.mkdir()
        shutil.copy2(root / copier_bridge.ANSWERS_FILE, work / copier_bridge.ANSWERS_FILE)
        answers = copier_bridge.copy(src, work, data, vcs_ref=ref, defaults=True, pretend=False)
        files = tuple(
            sorted(
                str(path.relative_to(work))
                for path in work.rglob("*")
                if path.is_file() and path.name != copier_bridge.ANSWERS_FILE
            )
        )
        clashes = [name for name in files if (root / name).exists()]
        if clashes:
            raise DestinationError(
                f"adding {name} would overwrite {', '.join(clashes[:3])}",
                hint="an add writes new files only: choose another name or --plural",
            )
        if pretend:
            return AddResourceResult(root, name, plural, framework, files, None, True, answers)
        made = _move_in(work, root, files)
        try:
            commit = gitrepo.commit_all(root, f"Add resource {name} (scaffold add resource)")
        except BaseException:
            _take_out([root / name_ for name_ in files], made)
            gitrepo.output(root, "reset", "--quiet")
            raise
    except KeyboardInterrupt:
        raise Interrupted("interrupted; nothing was written") from None
    except OSError as exc:
        if isinstance(exc, ScaffoldError):  # pragma: no cover - ScaffoldError is no OSError
            raise
        raise DestinationError(f"cannot write to {shown}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return AddResourceResult(root, name, plural, framework, files, commit, False, answers)


def update_resources(root: Path, *, conflict: Literal["inline", "rej"], pretend: bool) -> None:
    """``copier update`` of every resource of the project (three-way, each from its own answers
    file) to the resource template this scaffold renders; the answers it shares with the
    project (its framework, package, admin...) take the project's current values.

    copier updates only a clean tree: what the project's update (and each resource's) changed
    is committed in between, and the caller takes those commits back (:func:`gitrepo.uncommit`).
    """
    answers_files = sorted(path.name for path in root.glob(RESOURCE_ANSWERS_GLOB))
    if not answers_files:
        return
    _, ref = resource_template()
    # The answers a resource shares with the project (whatever they are) follow the project's.
    project_answers = copier_bridge.public(copier_bridge.read_answers(root))
    for answers_file in answers_files:
        recorded = copier_bridge.read_answers(root, answers_file)
        follow = {key: value for key, value in project_answers.items() if key in recorded}
        if not pretend:
            gitrepo.commit_all(root, f"scaffold update: before {answers_file}", allow_empty=True)
        copier_bridge.update(
            root,
            follow,
            vcs_ref=ref,
            defaults=True,
            conflict=conflict,
            pretend=pretend,
            unsafe=False,
            answers_file=answers_file,
        )
