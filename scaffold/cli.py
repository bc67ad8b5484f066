"""The ``scaffold`` command line: parse options, call one library function, print its result.

Every :class:`~scaffold.errors.ScaffoldError` becomes one line on stderr and its exit code;
nothing here knows how projects are rendered.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scaffold import __version__
from scaffold.errors import Interrupted, ScaffoldError

app = typer.Typer(
    name="scaffold",
    help="Generate a ready-to-run Flask or FastAPI service from one questionnaire.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)

T = TypeVar("T")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _call(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run one library call; report a ScaffoldError (or Ctrl-C) as one line and its exit code."""
    try:
        return func(*args, **kwargs)
    except ScaffoldError as exc:
        raise _fail(exc.user_message, exc.exit_code) from None
    except KeyboardInterrupt:
        exc2 = Interrupted("interrupted")
        raise _fail(exc2.user_message, exc2.exit_code) from None


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"scaffold {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Show the version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Generate a ready-to-run Flask or FastAPI service from one questionnaire."""


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


@app.command()
def new(
    dest: Annotated[Path, typer.Argument(help="Directory to create (must not exist or be empty).")],
    framework: Annotated[
        str | None,
        typer.Option(
            "--framework", "-f", help="flask or fastapi (asked, or fastapi with --defaults)."
        ),
    ] = None,
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Use the default for every answer not given.")
    ] = False,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="An answer; repeatable."),
    ] = None,
    data_file: Annotated[
        Path | None,
        typer.Option("--data-file", metavar="FILE", help="YAML mapping of answers."),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option("--template", metavar="SRC", help="Template directory or git URL."),
    ] = None,
    vcs_ref: Annotated[
        str | None,
        typer.Option("--vcs-ref", metavar="REF", help="Git ref of the template to render."),
    ] = None,
    git: Annotated[
        bool, typer.Option("--git/--no-git", help="git init and commit the new project.")
    ] = True,
    lock: Annotated[
        bool,
        typer.Option("--lock/--no-lock", help="Write uv.lock (uv lock; needs the package index)."),
    ] = True,
    pretend: Annotated[
        bool, typer.Option("--pretend", help="Show what would be done; write nothing.")
    ] = False,
) -> None:
    """Answer the questionnaire and render a new project into DEST."""
    from scaffold.render import new_project

    result = _call(
        new_project,
        dest,
        framework=framework,
        data=data or [],
        data_file=data_file,
        defaults=defaults,
        template=template,
        vcs_ref=vcs_ref,
        git=git,
        lock=lock,
        pretend=pretend,
        interactive=_stdin_is_tty(),
    )
    if result.pretend:
        console.print(
            f"[bold]Pretend:[/] would create a {result.framework} project "
            f"[bold]{result.slug}[/] in {result.dest}; nothing was written."
        )
        return
    console.print(
        f"[green]Created[/] a {result.framework} project [bold]{result.slug}[/] in {result.dest}"
        + (f" (git commit {result.commit[:7]})" if result.commit else "")
    )
    if result.lock_problem is not None:
        console.print(
            f"No uv.lock yet ({result.lock_problem}): the first `uv sync` will make it.",
            markup=False,
            highlight=False,
            soft_wrap=True,  # one line, however narrow the terminal
        )
    console.print("\nSet it up and run it:", style="bold")
    console.print(f"  {result.setup_command(dest)}", markup=False, highlight=False)
    console.print("Run its tests (inside the project):", style="bold")
    console.print(f"  {result.test_command}", markup=False, highlight=False)


class Conflict(StrEnum):
    """How ``scaffold update`` leaves a conflict: markers in the file, or a FILE.rej beside it."""

    inline = "inline"
    rej = "rej"


@app.command()
def update(
    project: Annotated[
        Path, typer.Argument(help="The generated project to update (default: here).")
    ] = Path(),
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="Change an answer; repeatable."),
    ] = None,
    defaults: Annotated[
        bool,
        typer.Option(
            "--defaults/--no-defaults",
            help="Keep every recorded answer not given with --data (else ask again).",
        ),
    ] = True,
    vcs_ref: Annotated[
        str | None,
        typer.Option(
            "--vcs-ref", metavar="REF", help="Template version to update to (default: latest tag)."
        ),
    ] = None,
    conflict: Annotated[
        Conflict,
        typer.Option(
            "--conflict", help="Mark conflicts inline in the file, or write them to FILE.rej."
        ),
    ] = Conflict.inline,
    pretend: Annotated[
        bool, typer.Option("--pretend", help="Check and run the update; write nothing.")
    ] = False,
    trust: Annotated[
        bool,
        typer.Option(
            "--trust",
            help="Let another template than scaffold's own run its migration commands.",
        ),
    ] = False,
) -> None:
    """Three-way update of a generated project from its template; exit 1 if conflicts remain.

    The tree must be clean (commit or stash first); the update is left uncommitted to review.
    """
    from scaffold.update import update_project

    result = _call(
        update_project,
        project,
        data=data or [],
        defaults=defaults,
        vcs_ref=vcs_ref,
        conflict=conflict.value,
        pretend=pretend,
        interactive=_stdin_is_tty(),
        trust=trust,
    )
    versions = f"{result.old_commit} -> {result.new_commit}"
    if result.pretend:
        console.print(
            f"[bold]Pretend:[/] {project} would be updated from template {versions};"
            " nothing was written.",
            highlight=False,
        )
        return
    if result.up_to_date:
        console.print(f"{project} is up to date (template {result.new_commit}).", highlight=False)
        return
    table = Table(title=f"scaffold update {project}: template {versions}")
    table.add_column("file", overflow="fold")
    table.add_column("change", no_wrap=True)
    for name, change in result.rows():
        table.add_row(name, change)
    console.print(table, markup=False, highlight=False)
    console.print(
        f"{len(result.changed)} changed, {len(result.added)} added, {len(result.removed)} removed,"
        f" {len(result.conflicts)} in conflict ({result.seconds:.1f} s). Nothing was committed:"
        " review with `git diff`, then commit.",
        markup=False,
        highlight=False,
    )
    if result.has_conflicts:
        where = (
            "the `<<<<<<< before updating` markers"
            if result.conflict_mode == "inline"
            else "the *.rej files (your edits that did not apply; re-apply, then delete them)"
        )
        typer.echo(f"Conflicts remain: resolve {where} before committing.", err=True)
        raise typer.Exit(1)


add_app = typer.Typer(name="add", help="Add to a generated project.", no_args_is_help=True)
app.add_typer(add_app)


@add_app.command("resource")
def add_resource(
    name: Annotated[str, typer.Argument(help="The model class, PascalCase (e.g. Order).")],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            metavar="NAME:TYPE[?]",
            help="A field; repeatable. TYPE: str (str:N), text, int, float, decimal, bool, date,"
            " datetime, ref:<Resource>; a trailing ? makes it optional.",
        ),
    ] = None,
    plural: Annotated[
        str | None,
        typer.Option("--plural", metavar="P", help="Table and URL name (default: NAME + s)."),
    ] = None,
    project: Annotated[
        Path, typer.Option("--project", metavar="DIR", help="The project (default: here).")
    ] = Path(),
    pretend: Annotated[
        bool, typer.Option("--pretend", help="Show what would be added; write nothing.")
    ] = False,
) -> None:
    """Add a resource (model, schemas, API, admin view, migration, tests, docs) to a project.

    New files only, committed; the project's tree must be clean.
    """
    from scaffold.resource import add_resource as add

    result = _call(add, name, fields=field or [], plural=plural, project=project, pretend=pretend)
    verb = "Would add" if result.pretend else "Added"
    console.print(
        f"{verb} the resource {result.name} ({result.framework}) at {result.url}:",
        markup=False,
        highlight=False,
    )
    for path in result.files:
        console.print(f"  {path}", markup=False, highlight=False)
    if result.pretend:
        console.print("Nothing was written.", markup=False, highlight=False)
        return
    console.print(
        f"Committed ({(result.commit or '')[:7]}). Next: `uv run alembic upgrade head`, then"
        " `uv run pytest`.",
        markup=False,
        highlight=False,
    )


SMOKE_FAILED = 1  # the exit code when a preset fails a step
RESULT_STYLE = {"passed": "green", "failed": "bold red", "skipped": "yellow"}


@app.command()
def smoke(
    framework: Annotated[
        str | None,
        typer.Option(
            "--framework", "-f", metavar="flask|fastapi", help="Only that framework's presets."
        ),
    ] = None,
    preset: Annotated[
        list[str] | None,
        typer.Option(
            "--preset", "-p", metavar="NAME", help="A preset from examples/presets; repeatable."
        ),
    ] = None,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", metavar="DIR", help="Keep the rendered projects in DIR/<preset>."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", metavar="N", help="Run N presets at once (default: one per CPU)."
        ),
    ] = None,
    list_: Annotated[
        bool,
        typer.Option(
            "--list",
            help="Print the presets as JSON (name, framework, needs PostgreSQL / Redis) "
            "for a CI matrix, and run nothing.",
        ),
    ] = False,
) -> None:
    """Render answer presets, install each project and run its lint, types, migrations and tests.

    Exit 1 if any step of any preset fails.
    """
    from scaffold.smoke import StepResult, list_smoke_presets, run_smoke

    if list_:
        entries = _call(list_smoke_presets, preset or [], framework=framework)
        print(json.dumps(entries))
        return
    progress = Console(stderr=True, soft_wrap=True)
    lock = threading.Lock()  # presets run in threads: one whole line at a time

    def show(preset: str, step: str, result: StepResult | None) -> None:
        with lock:
            if result is None:
                progress.print(f"[dim]{preset}: {step}...[/]", highlight=False)
            elif result.status != "skipped":
                style = RESULT_STYLE[result.status]
                progress.print(
                    f"{preset}: {step} [{style}]{result.status}[/] ({result.seconds:.1f} s)",
                    highlight=False,
                )

    report = _call(
        run_smoke, preset or [], framework=framework, keep=keep, on_progress=show, jobs=jobs
    )
    for failure in report.failures:
        if failure.output_tail:
            console.rule(f"{failure.preset}: {failure.step}", align="left")
            console.print(failure.output_tail, markup=False, highlight=False)
    table = Table(title="scaffold smoke")
    for column in ("preset", "step", "result"):
        table.add_column(column, no_wrap=True)
    table.add_column("seconds", justify="right")
    for result in report.results:
        status = Text(result.status, style=RESULT_STYLE[result.status])
        table.add_row(result.preset, result.step, status, f"{result.seconds:.1f}")
    console.print(table, highlight=False)
    for failure in report.failures:  # one line each, unwrapped: what to fix
        console.print(
            f"FAILED {failure.preset}: {failure.step}: {failure.detail}",
            markup=False,
            highlight=False,
        )
    failed = [run.preset.name for run in report.presets if not run.ok]
    count = len(report.presets)
    summary = f"{count} preset{'' if count == 1 else 's'}, {len(failed)} failed"
    if failed:
        summary += f" ({', '.join(failed)})"
    timing = f"{report.wall_seconds:.0f} s"
    if report.jobs > 1:
        timing += f" ({report.seconds:.0f} s of steps, {report.jobs} presets at a time)"
    console.print(f"{summary}; {timing}.", markup=False, highlight=False)
    if report.kept_in is not None:
        console.print(f"The projects are kept in {report.kept_in}.", markup=False, highlight=False)
    if failed:
        raise typer.Exit(SMOKE_FAILED)


@app.command()
def questions(
    template: Annotated[
        str | None,
        typer.Option("--template", metavar="SRC", help="Template directory (default: built in)."),
    ] = None,
) -> None:
    """Print the questionnaire (name, type, default, choices, help) from copier.yml."""
    from scaffold.questionnaire import template_questions

    table = Table(title="scaffold questionnaire (copier.yml)")
    table.add_column("name", no_wrap=True)
    for column in ("type", "default", "choices", "help"):
        table.add_column(column, overflow="fold")
    for question in _call(template_questions, template):
        table.add_row(
            question.name,
            question.type,
            question.display_default,
            " | ".join(str(choice) for choice in question.choices),
            question.help,
        )
    console.print(table, markup=False, highlight=False)


def main() -> None:
    """Console entry point for ``python -m scaffold``."""
    app(prog_name="scaffold")
