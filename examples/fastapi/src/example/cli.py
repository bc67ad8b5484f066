"""The management command line, `example`.

The same commands in both template flavors.
"""

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from example.settings import Settings

# Each command imports what it needs when it runs (the server, SQLAlchemy, the models,
# Argon2): `example --help` and the other commands do not pay for them.

app = typer.Typer(
    help="Manage Example.",
    no_args_is_help=True,
)


def _app_settings() -> "Settings":
    """The settings of a command that builds the app. Settings it must not start with
    (settings.checked_settings) are refused in one line, before any server process starts."""
    from example.settings import RefusedSettingsError, checked_settings

    try:
        return checked_settings()
    except RefusedSettingsError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
) -> None:
    """Start the production server (uvicorn)."""
    from example.server import run_server

    settings = _app_settings()
    if workers > 1 and not settings.redis_url:
        # Each process would keep its own login counts (AUTH_RATE_LIMIT times the workers).
        typer.echo(
            f"Error: --workers {workers} needs REDIS_URL (the login rate limit is shared"
            " through Redis); set REDIS_URL or serve with --workers 1.",
            err=True,
        )
        raise typer.Exit(code=2)
    run_server(host=host, port=port, workers=workers)


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="The user's e-mail address (their login).")],
    password: Annotated[
        str, typer.Option(help="The user's password.", prompt=True, hide_input=True)
    ],
    superuser: Annotated[bool, typer.Option(help="Grant access to everything.")] = False,
) -> None:
    """Create a user, or update the password and role of an existing one."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from example.models import User
    from example.security import (
        InvalidEmailError,
        hash_password,
        normalized_email,
        password_problem,
    )
    from example.settings import get_settings

    try:  # the same check as signup's: an account the API could not have made is refused
        email = normalized_email(email)
    except InvalidEmailError:
        typer.echo(f"Error: {email.strip()!r} is not an e-mail address.", err=True)
        raise typer.Exit(code=2) from None
    problem = password_problem(password)
    if problem is not None:
        typer.echo(f"Error: {problem}", err=True)
        raise typer.Exit(code=2)
    engine = create_engine(get_settings().sync_database_url)
    try:
        with Session(engine) as session, session.begin():
            user = session.scalar(select(User).where(User.email == email))
            created = user is None
            if user is None:
                user = User(email=email, hashed_password="")
                session.add(user)
            user.hashed_password = hash_password(password)
            user.is_superuser = superuser
            user.is_active = True
    finally:
        engine.dispose()
    role = "superuser" if superuser else "user"
    typer.echo(f"{'Created' if created else 'Updated'} {role} {email}.")
