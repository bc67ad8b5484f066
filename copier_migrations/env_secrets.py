"""Copier migration: give a generated project's `.env` the secrets a newer template expects.

`.env` is written once, at generation (`_skip_if_exists`), so an update never rewrites it and
its secrets never change. When a template release starts reading a new secret from `.env`,
the projects generated before it lack that key; this script adds each key it is given that
`.env` does not define yet, with a fresh random value, and leaves every existing line exactly
as it was. It runs in the project's directory (copier's `_migrations`, stage "after").

Usage: python env_secrets.py KEY [KEY...]
"""

from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path

ENV_FILE = Path(".env")
KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")


def defined_keys(text: str) -> set[str]:
    """The keys that `text` (a dotenv file) assigns, ignoring comments and blank lines."""
    keys = set()
    for line in text.splitlines():
        name, sep, _ = line.strip().removeprefix("export ").partition("=")
        if sep and not name.startswith("#"):
            keys.add(name.strip())
    return keys


def add_missing_secrets(env_file: Path, keys: list[str]) -> list[str]:
    """Append each of ``keys`` that ``env_file`` lacks, with a random value; return them."""
    text = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    missing = [key for key in dict.fromkeys(keys) if key not in defined_keys(text)]
    if missing:
        lines = [f"{key}={secrets.token_hex(32)}" for key in missing]
        separator = "" if not text or text.endswith("\n") else "\n"
        env_file.write_text(text + separator + "\n".join(lines) + "\n", encoding="utf-8")
    return missing


def main(argv: list[str]) -> int:
    bad = [key for key in argv if not KEY.match(key)]
    if not argv or bad:
        print(f"usage: env_secrets.py KEY [KEY...] (invalid: {' '.join(bad)})", file=sys.stderr)
        return 2
    for key in add_missing_secrets(ENV_FILE, argv):
        print(f"{ENV_FILE}: added a generated {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
