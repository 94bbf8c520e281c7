"""The clinic's own database: the shared base and engine, the tables booking/ and outbox/ share, `migrate`.

It imports nothing above it. Each other package owns its tables (`clinic/<package>/models.py`);
clinic/schema.py lists every one for Alembic.
"""
