"""User-facing errors.

Every error the CLI reports is a :class:`ScaffoldError`: its ``str()`` is one line that
says what is wrong and what to do, and ``exit_code`` is the process exit status.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class ScaffoldError(Exception):
    """Root of every error scaffold reports to the user."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = " ".join(message.split())
        self.hint = " ".join(hint.split())
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        """The one line shown on stderr."""
        return f"{self.message}; {self.hint}" if self.hint else self.message


class InvalidAnswer(ScaffoldError):
    """An answer (from --data, --data-file, --framework or a prompt) is not acceptable."""

    exit_code = 2


class DestinationError(ScaffoldError):
    """DEST cannot receive a new project."""

    exit_code = 3


class NoTerminal(ScaffoldError):
    """The questionnaire needs a terminal and there is none."""

    exit_code = 4


class TemplateNotFound(ScaffoldError):
    """The template source does not exist or is not a copier template."""

    exit_code = 5


class GitError(ScaffoldError):
    """A git operation failed."""

    exit_code = 6


class RenderError(ScaffoldError):
    """copier failed for a reason that is not a bad answer."""

    exit_code = 7


class NotAProject(ScaffoldError):
    """PROJECT is not a project that ``scaffold update`` can update."""

    exit_code = 3


class NotARepository(NotAProject):
    """The project is not tracked by git, so a three-way update is impossible."""


class AnswersFileError(NotAProject):
    """The project's ``.copier-answers.yml`` does not say where its template came from."""


class DirtyProject(ScaffoldError):
    """The project has uncommitted changes; an update would mix them with the template's."""

    exit_code = 8


class UntrustedTemplate(ScaffoldError):
    """The update needs to run the template's own commands (copier ``_migrations``)."""

    exit_code = 10


class UnknownPreset(ScaffoldError):
    """A ``--preset`` name that is not one of the answer presets."""

    exit_code = 2


class MissingTool(ScaffoldError):
    """A program or library ``scaffold smoke`` needs is not installed."""

    exit_code = 9


class Interrupted(ScaffoldError):
    """The user pressed Ctrl-C."""

    exit_code = 130


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (its class name if it has none)."""
    return " ".join(str(exc).split()) or type(exc).__name__
