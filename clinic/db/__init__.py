"""The clinic's own database (bookings, staff, ...): models, engine, migrations."""
