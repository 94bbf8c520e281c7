"""Personal data in the messaging tables: erased when the patient asks (through clinic.privacy).

The numbered options last texted to the address go. The opt-out record stays: it is what keeps the
clinic from texting a number that said STOP, and it holds nothing but the number and the keyword.
Seen MessageSids (`messaging_inbound`) hold no address.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from clinic.channels.models import MessagingReplyOptions


def erase_sender(db: Session, sender_id: str) -> int:
    """Delete the conversation's pending reply options (caller commits); how many rows."""
    rows = delete(MessagingReplyOptions).where(MessagingReplyOptions.address == sender_id)
    erased: int = db.execute(rows).rowcount
    return erased
