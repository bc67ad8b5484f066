from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from example.models import Base
from example.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def alembic_config(settings: Settings) -> Iterator[Config]:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", settings.sync_database_url)
    config.attributes["configure_logger"] = False
    yield config
    if settings.sync_database_url.startswith("sqlite"):
        return  # a SQLite file of this test's own
    # A PostgreSQL test database lives for the whole run: leave it empty for the next test.
    command.downgrade(config, "base")
    engine = create_engine(settings.sync_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_models_schema(
    alembic_config: Config, settings: Settings
) -> None:
    command.upgrade(alembic_config, "head")

    engine = create_engine(settings.sync_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_downgrade_to_an_empty_database(
    alembic_config: Config, settings: Settings
) -> None:
    command.upgrade(alembic_config, "head")
    command.downgrade(alembic_config, "base")

    engine = create_engine(settings.sync_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_there_is_a_single_head(alembic_config: Config) -> None:
    assert len(ScriptDirectory.from_config(alembic_config).get_heads()) == 1


def test_upgrading_keeps_existing_users_tokens_valid(
    alembic_config: Config, settings: Settings
) -> None:
    command.upgrade(alembic_config, "0001")
    engine = create_engine(settings.sync_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (email, hashed_password, is_active, is_superuser,"
                    " created_at) VALUES ('ada@example.com', 'x', true, false,"
                    " '2026-01-02 03:04:05')"
                )
            )
        command.upgrade(alembic_config, "head")
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT created_at, password_changed_at FROM users")
            ).one()
        assert row.password_changed_at == row.created_at
    finally:
        engine.dispose()
