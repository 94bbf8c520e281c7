"""Apply the Alembic migrations to the clinic database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from clinic.config import PROJECT_ROOT, get_settings


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration for `url` (default: DATABASE_URL)."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "clinic" / "migrations"))
    config.set_main_option("sqlalchemy.url", url or get_settings().database_url)
    return config


def upgrade(url: str | None = None) -> None:
    """Bring the database to the latest schema."""
    command.upgrade(alembic_config(url), "heads")
