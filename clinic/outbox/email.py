"""E-mail to patients over SMTP: plain text + HTML, the appointment attached as an .ics invitation.

SMTP_URL: `smtp://host:25` (plain), `smtp+starttls://user:password@host:587` (STARTTLS), `smtps://...:465`
(TLS from the start); user and password percent-encoded. The Message-ID is made from the outbox row's id,
so a resend after an uncertain failure carries the same Message-ID (receiving systems can drop the copy).
"""

from __future__ import annotations

import html
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Optional
from urllib.parse import unquote, urlsplit

from clinic.db.outbox import OutboxMessage

SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


class EmailNotConfigured(Exception):
    """SMTP_URL is unset or not understood."""


class EmailRefused(Exception):
    """The SMTP server refused the message for good (a 5xx answer): sending it again would not help."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes, from SMTP_URL."""

    security: str
    host: str
    port: int
    username: str = ""
    password: str = ""
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse SMTP_URL; EmailNotConfigured says what is wrong."""
        if not url:
            raise EmailNotConfigured("SMTP_URL is not set")
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise EmailNotConfigured(
                "SMTP_URL must look like smtp://host:25, smtp+starttls://user:password@host:587 or smtps://host:465"
            )
        security, default_port = SCHEMES[parts.scheme]
        try:
            port = parts.port or default_port
        except ValueError as error:
            raise EmailNotConfigured(f"SMTP_URL has a bad port: {error}") from error
        username, password = unquote(parts.username or ""), unquote(parts.password or "")
        return cls(security, parts.hostname, port, username, password)


def message_id(row: OutboxMessage, sender: str) -> str:
    """<row id@sender's domain>: the same for every attempt at this row."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "vitawell.invalid"
    return f"<{row.id}@{domain}>"


def html_body(text: str) -> str:
    """The plain text as simple HTML paragraphs (escaped)."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    inner = "\n".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    style = "font-family: sans-serif; line-height: 1.4"
    return f'<!doctype html>\n<html><body style="{style}">\n{inner}\n</body></html>\n'


def build_email(row: OutboxMessage, sender: str, now: datetime, ics: Optional[bytes] = None) -> EmailMessage:
    """The message for an outbox row (multipart/alternative text + HTML; the .ics attached)."""
    email = EmailMessage()
    email["Subject"] = row.subject or "Your Vitawell booking"
    email["From"] = sender
    email["To"] = row.recipient
    email["Date"] = format_datetime(now)
    email["Message-ID"] = message_id(row, sender)
    email["X-Vitawell-Booking"] = row.booking_reference
    email.set_content(row.body)
    email.add_alternative(html_body(row.body), subtype="html")
    if ics is not None:
        method = "CANCEL" if row.kind == "cancellation" else "REQUEST"
        email.add_attachment(ics, maintype="text", subtype="calendar",
                             filename=f"vitawell-{row.booking_reference}.ics", params={"method": method})
    return email


def send_email(settings: SmtpSettings, email: EmailMessage) -> None:
    """Hand the message to the SMTP server: EmailRefused if refused for good, else OSError/SMTPException."""
    context = ssl.create_default_context()
    if settings.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.username:
            client.login(settings.username, settings.password)
        try:
            client.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise EmailRefused(f"recipient refused ({', '.join(map(str, codes))})") from error
            raise
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
            if 500 <= error.smtp_code < 600:
                raise EmailRefused(f"message refused ({error.smtp_code})") from error
            raise
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
