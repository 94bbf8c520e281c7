"""Alembic sees every table (clinic/schema.py, read by migrations/env.py), and the migrations make them.

db/ imports no package above it, so the tables of channels/, conversations/ and staff/ reach Alembic through
clinic/schema.py alone: a table left out there would be missed by `alembic revision --autogenerate`.
"""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from clinic.channels import models as channel_models
from clinic.conversations import models as conversation_models
from clinic.db import booking, outbox, waitlist
from clinic.db.base import Base
from clinic.schema import metadata
from clinic.staff import models as staff_models


def tables_of(module) -> set:
    return {value.__table__.name for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Base) and hasattr(value, "__table__")}


def test_the_schema_has_every_packages_tables():
    owners = [channel_models, conversation_models, staff_models, booking, outbox, waitlist]
    for owner in owners:
        assert tables_of(owner), owner.__name__
        assert tables_of(owner) <= set(metadata.tables), owner.__name__
    assert set(metadata.tables) == set().union(*(tables_of(owner) for owner in owners))


def test_the_migrations_make_exactly_the_schemas_tables(migrated_database):
    engine = create_engine(f"sqlite:///{migrated_database}")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    tables = [d for d in differences if isinstance(d, tuple) and d[0] in ("add_table", "remove_table")]
    assert not tables, [(kind, table.name) for kind, table, *_ in tables]
