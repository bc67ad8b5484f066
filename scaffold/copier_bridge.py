"""The one module that calls copier: its lazy import, its warnings, its errors, its answers file.

copier is imported inside the functions, never at module level: the import takes ~0.6 s and
``scaffold --help`` must stay fast. Every error copier raises leaves here as a
:class:`~scaffold.errors.ScaffoldError` (:func:`translate`); ``KeyboardInterrupt`` passes
through for the caller to word (what an interruption leaves behind differs per command).
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import yaml

from scaffold.errors import (
    AnswersFileError,
    InvalidAnswer,
    RenderError,
    ScaffoldError,
    UntrustedTemplate,
    one_line,
)

ANSWERS_FILE = ".copier-answers.yml"
"""Where a generated project records its answers (``_answers_file`` in copier.yml)."""

# How copier words the ValueErrors that mean "this answer is not acceptable".
ANSWER_ERROR_PREFIXES = ("Validation error for question", "Invalid choice for")


def translate(exc: Exception) -> ScaffoldError:
    """The user-facing error for something ``copier.run_copy`` / ``run_update`` raised.

    copier reports a failed validator or an unknown choice as a plain ValueError (and a few
    template problems, e.g. an unknown ref, too); its own errors are ``CopierError``s.
    """
    from copier.errors import UnsafeTemplateError, UserMessageError

    message = one_line(exc)
    if isinstance(exc, UnsafeTemplateError):
        return UntrustedTemplate(
            "this update runs commands from the template (copier migrations), and the template"
            " is not scaffold's own",
            hint="pass --trust if you trust the template's source",
        )
    if isinstance(exc, UserMessageError):
        return RenderError(message)
    if isinstance(exc, ValueError):
        if message.startswith(ANSWER_ERROR_PREFIXES):
            return InvalidAnswer(message)
        return RenderError(message)
    return RenderError(f"copier failed: {message}")


@contextmanager
def _copier_errors() -> Iterator[None]:
    """Silence the dirty-template warning and translate copier's errors."""
    from copier.errors import CopierError, DirtyLocalWarning

    try:
        with warnings.catch_warnings():
            # Rendering a checkout at HEAD includes uncommitted template work on purpose.
            warnings.simplefilter("ignore", DirtyLocalWarning)
            yield
    except KeyboardInterrupt:
        raise
    except (CopierError, ValueError) as exc:
        raise translate(exc) from exc


class _StringsCompiledOnce:
    """While copier runs, each Jinja environment compiles a given string once.

    copier renders the same short strings over and over: the answers file's name once per
    file it writes (316 times for a FastAPI project), each path segment, every question's
    default, help and condition. Jinja compiles a string anew on every ``from_string`` (its
    template cache holds files only): 817 compiles of 171 strings for a FastAPI project
    (`scaffold new` 2.12 -> 1.98 s, interleaved). The compiled code depends only on the
    environment and the string, so it is kept per environment; files keep Jinja's own cache.

    ``Environment.compile`` is replaced while at least one copier run is in progress (the
    smoke matrix renders presets in threads side by side) and put back when the last ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs = 0
        self._original: Any = None  # Jinja's own Environment.compile, while replaced
        self._compiled: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = (
            weakref.WeakKeyDictionary()
        )

    def _replacement(self, original: Callable[..., Any]) -> Callable[..., Any]:
        compiled = self._compiled

        def compile_once(
            env: Any,
            source: Any,
            name: str | None = None,
            filename: str | None = None,
            raw: bool = False,
            defer_init: bool = False,
        ) -> Any:
            if name is not None or not isinstance(source, str):
                return original(env, source, name, filename, raw, defer_init)
            key = (source, filename, raw, defer_init)
            known = compiled.setdefault(env, {})
            if key not in known:
                known[key] = original(env, source, name, filename, raw, defer_init)
            return known[key]

        return compile_once

    @contextmanager
    def __call__(self) -> Iterator[None]:
        from jinja2 import Environment

        with self._lock:
            if self._runs == 0:
                self._original = Environment.compile
                Environment.compile = self._replacement(self._original)  # type: ignore[method-assign]
            self._runs += 1
        try:
            yield
        finally:
            with self._lock:
                self._runs -= 1
                if self._runs == 0:
                    Environment.compile = self._original  # type: ignore[method-assign]
                    self._original = None
                    self._compiled.clear()


_strings_compiled_once = _StringsCompiledOnce()


def public(answers: Mapping[Any, Any]) -> dict[str, Any]:
    """The answers without copier's private ``_src_path``, ``_commit``..."""
    return {str(k): v for k, v in answers.items() if not str(k).startswith("_")}


def read_answers(project: Path, answers_file: str = ANSWERS_FILE) -> dict[str, Any]:
    """The project's recorded answers (``_src_path`` and ``_commit`` included), or those of
    another answers file of it (a resource's)."""
    path = project / answers_file
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AnswersFileError(
            f"{path} cannot be read as YAML", hint="restore it from git (`git checkout -- .`)"
        ) from exc
    if not isinstance(loaded, Mapping):
        raise AnswersFileError(
            f"{path} is not a mapping of answers", hint="restore it from git history"
        )
    return {str(key): value for key, value in loaded.items()}


def copy(
    src: str,
    dst: Path,
    data: Mapping[str, Any],
    *,
    vcs_ref: str | None,
    defaults: bool,
    pretend: bool,
    only: Sequence[str] = (),
) -> dict[str, Any]:
    """``copier copy`` (never overwriting, never running template tasks); the public answers,
    as recorded in the answers file (or, with ``pretend``, as they would be).

    ``only`` names the top-level files to render, and nothing else (not even the answers
    file): a quick look at what a project of these answers holds.
    """
    import copier  # imported here: it takes ~0.6 s and `scaffold --help` must stay fast

    with _copier_errors(), _strings_compiled_once():
        worker = copier.run_copy(
            src,
            dst,
            data=dict(data),
            vcs_ref=vcs_ref,
            defaults=defaults,
            pretend=pretend,
            quiet=not pretend,
            overwrite=False,
            unsafe=False,
            # Added to copier.yml's _exclude: all but `only`.
            exclude=["*", *(f"!{name}" for name in only)] if only else [],
        )
    if pretend or only:
        return public(worker.answers.combined)
    return public(yaml.safe_load((dst / worker.answers_relpath).read_text(encoding="utf-8")) or {})


def update(
    project: Path,
    data: Mapping[str, Any],
    *,
    vcs_ref: str | None,
    defaults: bool,
    conflict: Literal["inline", "rej"],
    pretend: bool,
    unsafe: bool,
    answers_file: str | None = None,
) -> str | None:
    """``copier update`` in place (three-way merge); the template commit it updated to.
    ``answers_file``: which answers file (and so which subproject) to update."""
    import copier  # imported here: it takes ~0.6 s and `scaffold --help` must stay fast

    with _copier_errors(), _strings_compiled_once():
        worker = copier.run_update(
            project,
            data=dict(data),
            defaults=defaults,
            overwrite=True,
            conflict=conflict,
            pretend=pretend,
            vcs_ref=vcs_ref,
            unsafe=unsafe,
            quiet=True,
            answers_file=answers_file,
        )
    commit = worker.template.commit
    return str(commit) if commit else None
