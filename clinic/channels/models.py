"""Tables of the messaging channels: opt-out state, numbered options awaiting a reply, messages seen."""

from sqlalchemy import JSON, Boolean, Column, DateTime, String

from clinic.db.base import Base

# "whatsapp:" + "+" + 15 digits fits in 32.
ADDRESS_LENGTH = 32


class MessagingConsent(Base):
    """Whether an address (SMS number or WhatsApp number) opted out, and by which keyword, when."""

    __tablename__ = "messaging_consent"

    address = Column(String(ADDRESS_LENGTH), primary_key=True)
    opted_out = Column(Boolean, nullable=False)
    keyword = Column(String(16), nullable=False)
    changed_at = Column(DateTime(timezone=True), nullable=False)


class MessagingReplyOptions(Base):
    """The numbered options last sent to an address, so that a reply of "1" maps to a button."""

    __tablename__ = "messaging_reply_options"

    address = Column(String(ADDRESS_LENGTH), primary_key=True)
    options = Column(JSON, nullable=False)
    sent_at = Column(DateTime(timezone=True), nullable=False)


# Twilio's MessageSid: "SM"/"MM" + 32 hex characters.
MESSAGE_SID_LENGTH = 64


class MessagingInbound(Base):
    """An inbound message already handled (by MessageSid), kept 48 hours, shared by every Rasa replica."""

    __tablename__ = "messaging_inbound"

    message_sid = Column(String(MESSAGE_SID_LENGTH), primary_key=True)
    received_at = Column(DateTime(timezone=True), nullable=False, index=True)
