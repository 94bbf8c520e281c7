"""Every table of the clinic database, from the packages that own them, for Alembic (migrations/env.py).

Each package keeps its tables in its own models module; db/ holds the shared base and engine and the
tables booking/ and outbox/ share, and imports none of the packages above it. A package with a new models
module adds it here.
"""

from clinic.channels import models as messaging_models  # noqa: F401  (SMS/WhatsApp opt-outs)
from clinic.conversations import models as conversation_models  # noqa: F401  (the console's index)
from clinic.db import (
    booking,  # noqa: F401  (services, practitioners, patients, bookings)
    outbox,  # noqa: F401  (messages after the booking: confirmations, reminders)
    waitlist,  # noqa: F401  (patients offered freed times)
)
from clinic.db.base import Base
from clinic.staff import models as staff_models  # noqa: F401

metadata = Base.metadata
