"""Declarative base shared by every model module of the clinic database."""

from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import MetaData
from sqlalchemy.orm import declarative_base

# Named constraints, so Alembic migrations are stable on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

if TYPE_CHECKING:
    # SQLAlchemy 1.4 ships no types (pyproject.toml's [tool.mypy] says why it stays so): to mypy the
    # declarative base would be Any and every model a subclass of Any. This is what the models use of it.
    class Base:
        """The declarative base, as mypy sees it."""

        metadata: ClassVar[Any]
        __table__: ClassVar[Any]

        def __init__(self, **columns: Any) -> None: ...

else:
    Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))
