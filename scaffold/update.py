"""``update_project()``: bring a generated project up to date with its template.

Every check runs before copier touches anything: the project must be a directory with a
``.copier-answers.yml`` that records where its template lives (``_src_path``) and which
version rendered it (``_commit``), tracked by git with a clean tree (the update's changes are
then exactly what ``git status`` shows, and undoing them is one ``git checkout``), and the
new answers must fit the questionnaire. Then ``copier update`` does the three-way merge in
place, and the report is read back from git. The update is never committed: the user reviews
it (``git diff``) and commits it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scaffold import copier_bridge, gitrepo
from scaffold.copier_bridge import ANSWERS_FILE, read_answers
from scaffold.errors import (
    AnswersFileError,
    Interrupted,
    NoTerminal,
    ScaffoldError,
    TemplateNotFound,
)
from scaffold.projectcheck import check_clean, check_project
from scaffold.questionnaire import (
    Question,
    check_answers,
    load_questions,
    parse_data_items,
    parse_questions,
)
from scaffold.resource import update_resources
from scaffold.source import is_own_template, update_target

ConflictMode = Literal["inline", "rej"]
CONFLICT_MODES: tuple[ConflictMode, ...] = ("inline", "rej")
INLINE_MARKERS = (b"<<<<<<< before updating", b">>>>>>> after updating")
REJECT_SUFFIX = ".rej"


@dataclass(frozen=True)
class UpdateResult:
    """What ``update_project()`` changed in the project (nothing with ``pretend``)."""

    project: Path
    old_commit: str
    """The template version the project was at (``_commit`` before the update)."""
    new_commit: str
    """The template version it is at now (or would be, with ``pretend``)."""
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    """Files whose local edits and template changes overlap (not in ``changed``)."""
    rejects: tuple[str, ...] = ()
    """With ``conflict="rej"``: ``*.rej`` files holding the local edits that did not apply."""
    conflict_mode: ConflictMode = "inline"
    pretend: bool = False
    seconds: float = 0.0

    @property
    def has_conflicts(self) -> bool:
        """True when the user has conflicts to resolve before committing."""
        return bool(self.conflicts or self.rejects)

    @property
    def up_to_date(self) -> bool:
        """True when the update changed nothing at all."""
        return not (self.changed or self.added or self.removed or self.has_conflicts)

    def rows(self) -> list[tuple[str, str]]:
        """``(file, what happened)`` for every file touched, sorted by file."""
        rows = [(name, "changed") for name in self.changed]
        rows += [(name, "added") for name in self.added]
        rows += [(name, "removed") for name in self.removed]
        rows += [(name, "CONFLICT") for name in self.conflicts]
        rows += [(name, "rejected hunks") for name in self.rejects]
        return sorted(rows)


def _has_inline_markers(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return any(line.rstrip() in INLINE_MARKERS for line in handle)
    except OSError:
        return False


def _classify(root: Path, mode: ConflictMode) -> dict[str, list[str]]:
    """Read the update back from git: changed, added, removed, conflicts, rejects."""
    found: dict[str, list[str]] = {
        key: [] for key in ("changed", "added", "removed", "conflicts", "rejects")
    }
    entries = gitrepo.changes(root)
    names = {name for _, name in entries}
    for code, name in entries:
        if name.endswith(REJECT_SUFFIX) and code == "??":
            found["rejects"].append(name)
        elif "U" in code or code in ("AA", "DD"):
            found["conflicts"].append(name)
        elif "D" in code:
            found["removed"].append(name)
        elif code == "??" or "A" in code:
            found["added"].append(name)
        else:
            found["changed"].append(name)
    rejected = {name.removesuffix(REJECT_SUFFIX) for name in found["rejects"]}
    for kind in ("changed", "added"):
        for name in list(found[kind]):
            marked = mode == "inline" and _has_inline_markers(root / name)
            if marked or name in rejected:
                found[kind].remove(name)
                found["conflicts"].append(name)
    # A file whose every hunk was rejected is unchanged, but it is still in conflict.
    found["conflicts"] += sorted(rejected - names - set(found["conflicts"]))
    return {kind: sorted(set(files)) for kind, files in found.items()}


def _target_questions(config_file: Path, vcs_ref: str | None) -> list[Question]:
    """The questionnaire of the version being updated to: ``copier.yml`` at ``vcs_ref`` when
    the template is a git repository that has one there, else the file as it is."""
    if vcs_ref not in (None, "HEAD"):  # HEAD: the work tree is rendered, changes included
        text = gitrepo.show_file(config_file.parent, vcs_ref, config_file.name)
        if text is not None:
            return parse_questions(text, f"{config_file.name} at {vcs_ref}")
    return load_questions(config_file)


def update_project(
    project: str | os.PathLike[str] = ".",
    *,
    data: Sequence[str] | Mapping[str, Any] = (),
    defaults: bool = True,
    vcs_ref: str | None = None,
    conflict: str = "inline",
    pretend: bool = False,
    interactive: bool = False,
    trust: bool = False,
) -> UpdateResult:
    """Update the generated project at ``project`` to ``vcs_ref`` of its template.

    ``vcs_ref`` None means the template's latest release tag (copier's default); for scaffold's
    own template, the version this scaffold renders (its wheel's tag, or its checkout's HEAD).
    ``data`` changes earlier answers (a mapping, or ``KEY=VALUE`` strings); every other answer
    keeps its recorded value with ``defaults``, otherwise the questions are asked again (which
    needs ``interactive``). Conflicts are left as inline markers or ``*.rej`` files (``conflict``).
    Nothing is committed. The template's copier migrations run when the template is scaffold's
    own (:func:`is_own_template`) or with ``trust``; otherwise an update that needs them is
    refused. Raises a :class:`ScaffoldError` subclass for every problem the user can fix,
    before anything is changed.
    """
    shown = str(project)
    root = Path(project).expanduser().absolute()
    if conflict not in CONFLICT_MODES:
        raise ScaffoldError(
            f"--conflict {conflict!r} is not one of {', '.join(CONFLICT_MODES)}",
            hint="pass --conflict inline or --conflict rej",
        )
    mode: ConflictMode = "rej" if conflict == "rej" else "inline"
    check_project(root, shown)
    recorded = read_answers(root)
    src, old_commit = recorded.get("_src_path"), recorded.get("_commit")
    if not src or not old_commit:
        raise AnswersFileError(
            f"{ANSWERS_FILE} in {shown} does not record _src_path and _commit",
            hint="only projects generated from a git template (scaffold new) can be updated",
        )
    source = update_target(str(src), vcs_ref)
    vcs_ref = source.vcs_ref
    if source.local_path is not None:
        for ref, what in ((str(old_commit), "the version this project came from"), (vcs_ref, "")):
            if ref is not None and not gitrepo.has_commit(source.local_path, ref):
                raise TemplateNotFound(
                    f"the template {src} has no ref {ref!r}" + (f" ({what})" if what else ""),
                    hint="fetch the template's tags, or pass --vcs-ref an existing tag or commit",
                )
    answers = dict(data) if isinstance(data, Mapping) else parse_data_items(data)
    if source.config_file is not None:
        check_answers(answers, _target_questions(source.config_file, vcs_ref))
    if not defaults and not interactive:
        raise NoTerminal(
            "no terminal to ask the questions on",
            hint="drop --no-defaults (recorded answers are kept; --data changes one)",
        )
    check_clean(root, shown)

    started = time.monotonic()
    base = gitrepo.output(root, "rev-parse", "HEAD")
    try:
        template_commit = copier_bridge.update(
            root,
            answers,
            vcs_ref=vcs_ref,
            defaults=defaults,
            conflict=mode,
            pretend=pretend,
            unsafe=trust or is_own_template(str(src)),
        )
        # Then every resource (`scaffold add resource`), from the resource template.
        update_resources(root, conflict=mode, pretend=pretend)
    except KeyboardInterrupt:
        raise Interrupted(
            "interrupted; the project may be half-updated",
            hint="undo with `git reset --hard && git clean -fd` (the tree was clean before)",
        ) from None
    finally:
        # The resources' updates were committed in between (copier updates a clean tree
        # only): everything is left uncommitted, to review, as after a plain update.
        if not pretend and gitrepo.output(root, "rev-parse", "HEAD") != base:
            gitrepo.uncommit(root, base)
    seconds = time.monotonic() - started
    new_commit = str(template_commit or vcs_ref or old_commit)
    if pretend:
        return UpdateResult(
            root, str(old_commit), new_commit, conflict_mode=mode, pretend=True, seconds=seconds
        )
    found = _classify(root, mode)
    after = read_answers(root).get("_commit")
    return UpdateResult(
        root,
        str(old_commit),
        str(after or new_commit),
        changed=tuple(found["changed"]),
        added=tuple(found["added"]),
        removed=tuple(found["removed"]),
        conflicts=tuple(found["conflicts"]),
        rejects=tuple(found["rejects"]),
        conflict_mode=mode,
        seconds=seconds,
    )
