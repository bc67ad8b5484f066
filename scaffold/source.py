"""Where the template comes from, and which version of it is rendered.

Order of precedence:

1. an explicit ``--template SRC`` (a local directory or anything copier accepts: a git URL,
   ``gh:owner/repo``...);
2. the git checkout this package lives in (its root has ``copier.yml`` and ``.git``), rendered
   at ``HEAD`` by default, which makes copier include uncommitted and untracked template
   changes, so a template maintainer sees their work at once;
3. the copy of the template packaged in the wheel, ``scaffold/_template``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scaffold.errors import TemplateNotFound

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_TEMPLATE = PACKAGE_DIR / "_template"
CONFIG_NAMES = ("copier.yml", "copier.yaml")

SourceKind = Literal["explicit", "checkout", "packaged", "remote"]

_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|gh:|gl:)", re.IGNORECASE)


@dataclass(frozen=True)
class TemplateSource:
    """A template location as copier wants it, plus what scaffold knows about it."""

    src: str
    """What is passed to copier as ``src_path``."""
    vcs_ref: str | None
    """Git ref to render (None: copier's default, the latest tag / the files as they are)."""
    kind: SourceKind
    local_path: Path | None
    """The template's root on this machine, when there is one (to read ``copier.yml``)."""

    @property
    def config_file(self) -> Path | None:
        """The local ``copier.yml``, or None for a remote template."""
        if self.local_path is None:
            return None
        return find_config(self.local_path)


def find_config(root: Path) -> Path | None:
    """The copier config file at ``root``, if any."""
    for name in CONFIG_NAMES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


def checkout_root(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The git checkout that contains this package, if scaffold runs from one."""
    root = package_dir.parent
    if (root / ".git").exists() and find_config(root) is not None:
        return root
    return None


def resolve_template(template: str | None = None, vcs_ref: str | None = None) -> TemplateSource:
    """Decide which template to render; raise :class:`TemplateNotFound` if there is none."""
    if template is not None:
        if _REMOTE.match(template):
            return TemplateSource(template, vcs_ref, "remote", None)
        path = Path(template).expanduser().resolve()
        if not path.is_dir():
            raise TemplateNotFound(
                f"template {template!r} is not a directory",
                hint="pass --template a template directory or a git URL",
            )
        if find_config(path) is None:
            raise TemplateNotFound(
                f"template {template!r} has no copier.yml",
                hint="pass --template the root directory of a copier template",
            )
        # A local git repository is rendered at HEAD by default so that work in progress shows up.
        ref = vcs_ref if vcs_ref is not None else ("HEAD" if (path / ".git").exists() else None)
        return TemplateSource(str(path), ref, "explicit", path)

    root = checkout_root()
    if root is not None:
        return TemplateSource(str(root), vcs_ref or "HEAD", "checkout", root)

    if find_config(PACKAGED_TEMPLATE) is not None:
        if vcs_ref is not None:
            raise TemplateNotFound(
                "--vcs-ref needs a git template, but the packaged template is plain files",
                hint="drop --vcs-ref or pass --template a git repository",
            )
        return TemplateSource(str(PACKAGED_TEMPLATE), None, "packaged", PACKAGED_TEMPLATE)

    raise TemplateNotFound(
        "no template found: scaffold is neither installed from a wheel nor run from its checkout",
        hint="reinstall scaffold or pass --template SRC",
    )


def recorded_template(src: str, vcs_ref: str | None = None) -> TemplateSource:
    """The template a generated project records as ``_src_path``, checked to be usable.

    copier can only update from a git repository, and resolves a relative ``_src_path``
    against the wrong directory, so both are refused here with what to do instead. A remote
    template is checked by copier itself when it clones it.
    """
    if _REMOTE.match(src):
        return TemplateSource(src, vcs_ref, "remote", None)
    path = Path(src).expanduser()
    fix = "set _src_path in .copier-answers.yml to the template's absolute path or git URL"
    if not path.is_absolute():
        raise TemplateNotFound(f"the template path {src!r} is relative", hint=fix)
    if not path.is_dir() or find_config(path) is None:
        raise TemplateNotFound(
            f"the template {src!r} is not there (or has no copier.yml)",
            hint=f"restore it, or {fix}",
        )
    if not (path / ".git").exists():
        raise TemplateNotFound(
            f"the template {src!r} is not a git repository",
            hint=f"updates need the template's history; {fix}",
        )
    return TemplateSource(str(path), vcs_ref, "explicit", path)
