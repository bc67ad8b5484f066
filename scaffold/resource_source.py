"""Where the resource template comes from: a git repository of its own.

The resource template (``resource-template/`` in scaffold's repository, with its own
``copier.yml``) must be a template root of its own for copier: a template in a subfolder of
another template's repository is read, on ``copier update``, with the root's ``copier.yml``
(copier issue 2560). So scaffold serves it from a repository made of that folder's history
alone, ``git subtree split --prefix=resource-template``: a deterministic rewrite (the same
history gives the same commits, on every machine), so a project's recorded ``_commit`` of a
resource is found again by any later scaffold whose history contains it.

That repository is :func:`resource_cache_repo` (``$XDG_CACHE_HOME/scaffold/resource-template``),
shared by every scaffold on the machine, and fed with:

- from a git checkout of scaffold: the split of its ``HEAD`` (and, while ``resource-template/``
  has uncommitted changes, a draft commit of the work tree on top, as copier itself renders a
  dirty template), so that template work shows up at once;
- from an installed wheel: ``scaffold/_resource_template.bundle``, the split made when the
  wheel was built (``hatch_build.py``), with no network and no ``git subtree``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from scaffold import gitrepo
from scaffold.errors import GitError, TemplateNotFound
from scaffold.source import PACKAGE_DIR, cache_dir, checkout_root, home_relative

PREFIX = "resource-template"
"""The resource template's folder in scaffold's repository."""
PACKAGED_BUNDLE = PACKAGE_DIR / "_resource_template.bundle"
# Where the splits are kept in the cache repository: one ref per commit, so none is ever lost.
SPLIT_REFS = "refs/heads/split/"
SOURCE_REFS = "refs/scaffold/source/"
# A draft commit is the same for the same work tree (its dates are fixed).
DRAFT_IDENTITY = {
    "GIT_AUTHOR_NAME": "scaffold",
    "GIT_AUTHOR_EMAIL": "scaffold@localhost",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "scaffold",
    "GIT_COMMITTER_EMAIL": "scaffold@localhost",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+00:00",
}


def resource_cache_repo() -> Path:
    """The repository of the resource template's history (one for every scaffold version)."""
    return cache_dir() / PREFIX


def _cache_repo() -> Path:
    """The cache repository, made on first use."""
    repo = resource_cache_repo()
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        gitrepo.init(repo)
    return repo


def _keep(repo: Path, source: Path, commit: str) -> None:
    """Copy ``commit`` (and its history) from the repository at ``source`` into ``repo``."""
    if not gitrepo.has_commit(repo, commit):
        gitrepo.output(source, "push", "--quiet", str(repo), f"{commit}:{SPLIT_REFS}{commit}")


def _draft(checkout: Path, split: str) -> str | None:
    """A commit on top of ``split`` holding ``resource-template/`` as it is in the work tree,
    or None when it has no uncommitted change."""
    if not gitrepo.output(checkout, "status", "--porcelain", "--", PREFIX):
        return None
    with tempfile.TemporaryDirectory(prefix="scaffold-index-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index"), **DRAFT_IDENTITY}
        run = gitrepo.output_env
        run(checkout, env, "read-tree", "HEAD")
        run(checkout, env, "add", "--all", "--", PREFIX)
        tree = run(checkout, env, "write-tree", f"--prefix={PREFIX}/")
        return run(
            checkout, env, "commit-tree", tree, "-p", split,
            "-m", f"Draft: the uncommitted changes of {PREFIX}/",
        )  # fmt: skip


def _from_checkout(checkout: Path) -> str:
    """The split of the checkout's HEAD (plus a draft of its uncommitted template work) in
    the cache repository; its commit."""
    repo = _cache_repo()
    head = gitrepo.output(checkout, "rev-parse", "HEAD")
    known = f"{SOURCE_REFS}{head}"
    if gitrepo.has_commit(repo, known):
        split = gitrepo.output(repo, "rev-parse", known)
    else:
        if shutil.which("git") is None:  # pragma: no cover - gitrepo fails before
            raise GitError("git is not installed")
        split = gitrepo.output(checkout, "subtree", "split", "-q", f"--prefix={PREFIX}", head)
        _keep(repo, checkout, split)
        gitrepo.output(repo, "update-ref", known, split)
    draft = _draft(checkout, split)
    if draft is None:
        return split
    _keep(repo, checkout, draft)
    return draft


def _from_bundle(bundle: Path) -> str:
    """The bundle's history in the cache repository; the commit it was built from."""
    repo = _cache_repo()
    heads = gitrepo.output(bundle.parent, "bundle", "list-heads", str(bundle)).split()
    if not heads:
        raise GitError(f"{bundle} has no commit", hint="reinstall scaffold from a wheel")
    head = heads[0]
    if not gitrepo.has_commit(repo, head):
        gitrepo.output(repo, "fetch", "--quiet", str(bundle), f"+{head}:{SPLIT_REFS}{head}")
    return head


def resource_template() -> tuple[str, str]:
    """``(src, ref)``: the resource template as copier wants it, at this scaffold's version.

    ``src`` is the cache repository (``~/...`` when it is in the home directory, which copier
    expands, as for the project template); ``ref`` the commit to render.
    """
    checkout = checkout_root()
    if checkout is not None and (checkout / PREFIX / "copier.yml").is_file():
        ref = _from_checkout(checkout)
    elif PACKAGED_BUNDLE.is_file() and shutil.which("git") is not None:
        ref = _from_bundle(PACKAGED_BUNDLE)
    else:
        raise TemplateNotFound(
            "the resource template is not there: scaffold runs neither from its checkout nor"
            " from a wheel with its resource template bundle (and git installed)",
            hint="reinstall scaffold from a wheel, and install git",
        )
    # Its work tree is the version last rendered, as committed: copier renders a local
    # repository's uncommitted changes too, and a plain `copier update -a
    # .copier-answers.resource-<plural>.yml` (no tags, no --vcs-ref) updates to its HEAD.
    repo = resource_cache_repo()
    checked_out = (
        gitrepo.output(repo, "rev-parse", "HEAD") if gitrepo.has_commit(repo, "HEAD") else ""
    )
    if checked_out != ref:
        gitrepo.output(repo, "checkout", "--quiet", "--force", "--detach", ref)
    return home_relative(repo), ref


def field_types_file() -> Path:
    """``field-types.yml`` of the resource template this scaffold renders (its work tree in a
    checkout, else the cache repository's file at the rendered commit, written to the cache)."""
    checkout = checkout_root()
    if checkout is not None and (checkout / PREFIX / "field-types.yml").is_file():
        return checkout / PREFIX / "field-types.yml"
    _, ref = resource_template()
    text = gitrepo.show_file(resource_cache_repo(), ref, "field-types.yml")
    if text is None:
        raise TemplateNotFound(f"the resource template at {ref} has no field-types.yml")
    path = cache_dir() / f"field-types-{ref}.yml"
    path.write_text(text, encoding="utf-8")
    return path
