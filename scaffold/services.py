"""What outside servers a generated project's checks need, read from the project itself.

A project's ``.env.example`` lists every setting it reads, with an example value; a setting
whose value is a URL of a server `scaffold smoke` can provide (PostgreSQL, Redis) is one the
project needs. The template decides which settings a project has, so an option that needs
a server says so by writing its URL there: no code here knows the options.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from scaffold import copier_bridge
from scaffold.presets import Preset
from scaffold.source import TemplateSource, resolve_template

ENV_EXAMPLE = ".env.example"
# The servers `scaffold smoke` (and CI's smoke matrix) can provide, by URL scheme.
SERVICES = {"postgresql": "postgresql", "postgres": "postgresql", "redis": "redis"}


def service_settings(env_example: str) -> dict[str, list[str]]:
    """The servers an ``.env.example`` names: service -> the settings holding its URL.

    Every known service is a key (with no settings when the project does not use it).
    Commented-out lines are settings the project can do without.
    """
    needs: dict[str, list[str]] = {service: [] for service in dict.fromkeys(SERVICES.values())}
    for line in env_example.splitlines():
        name, equals, value = line.strip().partition("=")
        if not equals or name.startswith("#"):
            continue
        scheme = urlsplit(value.strip()).scheme.split("+")[0]
        if scheme in SERVICES:
            needs[SERVICES[scheme]].append(name.strip())
    return needs


def project_services(project: Path) -> dict[str, list[str]]:
    """The servers the generated project at ``project`` needs (see :func:`service_settings`)."""
    path = project / ENV_EXAMPLE
    return service_settings(path.read_text(encoding="utf-8") if path.is_file() else "")


def preset_services(preset: Preset, source: TemplateSource | None = None) -> dict[str, list[str]]:
    """The servers a project of ``preset`` would need: its ``.env.example`` alone is rendered
    (in a temporary directory) and read."""
    template = source or resolve_template()
    with tempfile.TemporaryDirectory(prefix="scaffold-services-") as tmp:
        project = Path(tmp) / preset.name
        copier_bridge.copy(
            template.src,
            project,
            preset.answers,
            vcs_ref=template.vcs_ref,
            defaults=True,
            pretend=False,
            only=[ENV_EXAMPLE],
        )
        return project_services(project)
