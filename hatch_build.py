"""Hatch build hook: pack the git history into the wheel as ``scaffold/_template.bundle``.

An installed scaffold renders from that history (``scaffold/source.py``), so the projects it
generates record a template version (``_commit``) that a later scaffold, whose bundle holds the
same history, can rebuild for ``scaffold update`` without any network.

Built from a git checkout, the bundle is ``git bundle create --all`` of it (branches and tags),
added to both the sdist and the wheel. Built from an sdist, the sdist's bundle is used as is.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLE = "scaffold/_template.bundle"
# The resource template's own history (scaffold/resource_source.py): a `git subtree split` of
# resource-template/, so that copier updates a resource from a template root of its own.
RESOURCE_BUNDLE = "scaffold/_resource_template.bundle"
RESOURCE_PREFIX = "resource-template"


class TemplateBundleHook(BuildHookInterface):  # type: ignore[type-arg]
    """Add ``scaffold/_template.bundle`` to the sdist and the wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        if not (root / ".git").exists():
            if (root / BUNDLE).is_file() and (root / RESOURCE_BUNDLE).is_file():
                return  # an sdist: its bundles are package data already
            raise RuntimeError(
                f"cannot build scaffold: {root} is neither a git checkout nor an sdist with "
                f"{BUNDLE} (the wheel needs the template's git history; build from a clone)"
            )
        git = shutil.which("git")
        if git is None:
            raise RuntimeError("cannot build scaffold: git is not installed")
        self._tmp = tempfile.mkdtemp(prefix="scaffold-bundle-")
        bundle = Path(self._tmp) / "_template.bundle"
        proc = subprocess.run(
            [git, "bundle", "create", "--quiet", str(bundle), "--all"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"`git bundle create` failed in {root}: {proc.stderr.strip()}")
        build_data["force_include"][str(bundle)] = BUNDLE
        resources = Path(self._tmp) / "_resource_template.bundle"
        self._resource_bundle(git, root, resources)
        build_data["force_include"][str(resources)] = RESOURCE_BUNDLE

    def _resource_bundle(self, git: str, root: Path, bundle: Path) -> None:
        """The split history of resource-template/ at HEAD, as a bundle with one branch."""

        def run(*args: str, cwd: Path = root) -> str:
            proc = subprocess.run(
                [git, *args], cwd=cwd, capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                raise RuntimeError(f"`git {' '.join(args)}` failed: {proc.stderr.strip()}")
            return proc.stdout.strip()

        split = run("subtree", "split", "-q", f"--prefix={RESOURCE_PREFIX}", "HEAD")
        bare = Path(self._tmp) / "resource-template.git"
        run("init", "--quiet", "--bare", str(bare))
        run("push", "--quiet", str(bare), f"{split}:refs/heads/main")
        run("bundle", "create", "--quiet", str(bundle), "main", cwd=bare)

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
