"""Every table of the clinic database, imported here so Alembic sees them all.

Each concern keeps its models in its own module and is imported below.
"""

from clinic.channels import models as messaging_models  # noqa: F401  (SMS/WhatsApp opt-outs)
from clinic.conversations import models as conversation_models  # noqa: F401,E402  (the console's index)
from clinic.db import (
    booking,  # noqa: F401  (services, practitioners, patients, bookings)
    outbox,  # noqa: F401,E402  (messages after the booking: confirmations, reminders)
    waitlist,  # noqa: F401,E402  (patients offered freed times)
)
from clinic.db.base import Base  # noqa: F401
from clinic.staff import models as staff_models  # noqa: F401,E402
