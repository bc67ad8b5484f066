"""Where the template comes from, and which version of it is rendered.

Order of precedence:

1. an explicit ``--template SRC`` (a local directory or anything copier accepts: a git URL,
   ``gh:owner/repo``...);
2. the git checkout this package lives in (its root has ``copier.yml`` and ``.git``), rendered
   at ``HEAD`` by default, which makes copier include uncommitted and untracked template
   changes, so a template maintainer sees their work at once;
3. an installed wheel's template history, ``scaffold/_template.bundle`` (a git bundle of the
   repository, written by ``hatch_build.py``), cloned once into the user's cache
   (:func:`cache_repo`) and rendered at the tag ``v<version>`` (or the commit the wheel was
   built from), so the project records a ``_src_path`` and ``_commit`` that a later scaffold
   can update from, offline: its bundle holds the same history, fetched into the same cache;
4. the plain copy of the template packaged in the wheel, ``scaffold/_template``, when git is
   not installed (such projects cannot be updated).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scaffold import __version__
from scaffold.errors import GitError, TemplateNotFound
from scaffold.gitrepo import has_commit
from scaffold.gitrepo import output as git

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_TEMPLATE = PACKAGE_DIR / "_template"
PACKAGED_BUNDLE = PACKAGE_DIR / "_template.bundle"
CONFIG_NAMES = ("copier.yml", "copier.yaml")

SourceKind = Literal["explicit", "checkout", "bundle", "packaged", "remote"]

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


def cache_dir() -> Path:
    """Where an installed scaffold keeps its template repository: ``$XDG_CACHE_HOME/scaffold``."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if Path(base).is_absolute() else Path.home() / ".cache"
    return root / "scaffold"


def cache_repo() -> Path:
    """The template repository every installed scaffold version shares (one path, so the
    ``_src_path`` a project records stays valid for the next version's update)."""
    return cache_dir() / "template"


def materialize_bundle(
    bundle: Path = PACKAGED_BUNDLE, repo: Path | None = None
) -> tuple[Path, str]:
    """Make sure the cache repository holds ``bundle``'s history; return it and the ref to render.

    The first run clones the bundle (into a temporary directory, then renamed into place); a
    later version fetches its bundle's branches and tags into the same repository. The work
    tree is checked out at the ref, so ``copier.yml`` there is this version's questionnaire.
    The ref is the tag ``v<version>`` when it names the commit the bundle was built from, else
    that commit.
    """
    repo = repo if repo is not None else cache_repo()
    heads = git(bundle.parent, "bundle", "list-heads", str(bundle), "HEAD").split()
    if not heads:
        raise GitError(f"{bundle} has no HEAD", hint="reinstall scaffold from a wheel built by git")
    head = heads[0]
    if not (repo / ".git").is_dir():
        repo.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".template-", dir=repo.parent))
        try:
            git(repo.parent, "clone", "--quiet", "--no-checkout", str(bundle), str(staging))
            try:
                staging.rename(repo)
            except OSError:
                if not (repo / ".git").is_dir():  # not a concurrent first run that won
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    tag = f"v{__version__}"
    if not has_commit(repo, head):
        # Branches go under refs/remotes: the work tree's checked-out branch cannot be fetched into.
        git(
            repo, "fetch", "--quiet", "--force", str(bundle),
            "+refs/heads/*:refs/remotes/bundle/*", "+refs/tags/*:refs/tags/*",
        )  # fmt: skip
    # The tag only when it names this very build: a wheel built from a later commit that still
    # carries the old version number must not render that older release.
    ref = (
        tag
        if has_commit(repo, tag) and git(repo, "rev-parse", f"{tag}^{{commit}}") == head
        else head
    )
    checked_out = git(repo, "rev-parse", "HEAD^{commit}")
    if find_config(repo) is None or checked_out != git(repo, "rev-parse", f"{ref}^{{commit}}"):
        git(repo, "checkout", "--quiet", "--force", "--detach", ref)
    return repo, ref


def bundled_template() -> TemplateSource | None:
    """The installed wheel's template (see :func:`materialize_bundle`), or None without one."""
    if not PACKAGED_BUNDLE.is_file() or shutil.which("git") is None:
        return None
    repo, ref = materialize_bundle()
    return TemplateSource(home_relative(repo), ref, "bundle", repo)


def home_relative(path: Path) -> str:
    """``path`` as ``~/...`` when it lies in the home directory (copier expands ``~``), so a
    project records a ``_src_path`` that is valid for every user and machine with the same
    cache layout; otherwise the absolute path."""
    try:
        return "~/" + path.absolute().relative_to(Path.home().absolute()).as_posix()
    except ValueError:
        return str(path.absolute())


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

    bundled = bundled_template()
    if bundled is not None:
        if vcs_ref is not None:
            if not has_commit(bundled.local_path or cache_repo(), vcs_ref):
                raise TemplateNotFound(
                    f"the packaged template has no ref {vcs_ref!r}",
                    hint="pass --vcs-ref a tag or commit of scaffold's repository",
                )
            return TemplateSource(bundled.src, vcs_ref, "bundle", bundled.local_path)
        return bundled

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


def _is_path(src: str, path: Path | None) -> bool:
    return (
        path is not None
        and not _REMOTE.match(src)
        and Path(src).expanduser().absolute() == path.absolute()
    )


def is_this_checkout(src: str) -> bool:
    """True when ``src`` is the git checkout this scaffold runs from."""
    return _is_path(src, checkout_root())


def is_cache_repo(src: str) -> bool:
    """True when ``src`` is the installed wheels' cache repository (:func:`cache_repo`)."""
    return _is_path(src, cache_repo())


def is_own_template(src: str) -> bool:
    """True when ``src`` is scaffold's own template: this checkout, or the installed wheels'
    cache repository. Its copier migrations are trusted; any other template's need --trust."""
    return is_this_checkout(src) or is_cache_repo(src)


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


def update_target(src: str, vcs_ref: str | None = None) -> TemplateSource:
    """The template a project records as ``_src_path``, at the version to update it to.

    ``vcs_ref`` None means the template's latest release tag (copier's default), except for
    scaffold's own template, which is updated to the version this scaffold renders: an
    installed scaffold's (its bundle, which holds the older versions' history too, is fetched
    into the cache repository first), or its checkout's HEAD (work in progress included: the
    latest tag may be older than what the project came from).
    """
    if PACKAGED_BUNDLE.is_file() and checkout_root() is None and is_cache_repo(src):
        _, ours = materialize_bundle()
        vcs_ref = vcs_ref if vcs_ref is not None else ours
    elif vcs_ref is None and is_this_checkout(src):
        vcs_ref = "HEAD"
    return recorded_template(src, vcs_ref)
