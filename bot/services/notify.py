"""Messages to the citizen outside the chat: booking confirmations and the day-before
reminder (with the appointment as an .ics calendar file), and one-time codes.

- E-mail goes through SMTP (BORGER_SMTP_HOST/PORT/USER/PASSWORD/FROM/SECURITY); without a
  host, no e-mail is sent and callers say so honestly.
- SMS goes through :class:`SmsSender`, a small interface; :class:`HttpSmsGateway` posts
  JSON to a provider's HTTP API (BORGER_SMS_GATEWAY_URL, BORGER_SMS_TOKEN). Off by default:
  most providers need a contract, and a phone number alone must never be enough to read
  someone's bookings.

Sending never raises into the chat: a failure is logged (without the address) and reported
as False, and the booking itself stands.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import httpx
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.config import Settings
from bot.db.models import (
    BOOKING_BOOKED,
    HELP_TOPICS,
    LOCAL_TZ,
    Booking,
    HelpSlot,
    local_now,
    utc_now,
)
from bot.language.datetime_da import format_slot
from bot.services.library import Library, load_library
from bot.services.lookups import CODE_MINUTES

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Appointment:
    """What a confirmation or reminder says about one booking."""

    reference: str
    name: str
    contact_kind: str
    contact: str
    starts_at: datetime  # naive local time
    ends_at: datetime
    branch_name: str
    address: str
    topic_label: str

    @classmethod
    def of(cls, booking: Booking, library: Library) -> Appointment:
        branch = library.branch(booking.slot.branch_id)
        return cls(
            booking.reference, booking.name, booking.contact_kind, booking.contact,
            booking.slot.starts_at, booking.slot.ends_at,
            branch.name if branch else booking.slot.branch_id,
            branch.address if branch else "",
            HELP_TOPICS.get(booking.topic, booking.topic),
        )


# --- calendar file ------------------------------------------------------------------------


def appointment_ics(appointment: Appointment, library: Library) -> bytes:
    """The appointment as an iCalendar file (RFC 5545) for the citizen's calendar."""
    calendar = Calendar()
    calendar.add("prodid", "-//Borgerservice-assistenten//DA")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    # Stable per booking: a reminder's file updates the same calendar entry.
    event.add("uid", f"{appointment.reference}@borgerservice-assistenten")
    event.add("dtstamp", datetime.now(LOCAL_TZ))
    event.add("dtstart", appointment.starts_at.replace(tzinfo=LOCAL_TZ))
    event.add("dtend", appointment.ends_at.replace(tzinfo=LOCAL_TZ))
    event.add("summary", f"It-hjælp på {appointment.branch_name}")
    event.add("location", ", ".join(p for p in (appointment.branch_name, appointment.address) if p))
    event.add(
        "description",
        f"Hjælp til: {appointment.topic_label}. Bookingnummer: {appointment.reference}. "
        f"Aflys eller flyt tiden i chatten på bibliotekets hjemmeside eller ring på "
        f"{library.phone}.",
    )
    calendar.add_component(event)
    return calendar.to_ical()


# --- e-mail -------------------------------------------------------------------------------


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.smtp_host and self.settings.smtp_from)

    def send(
        self, to: str, subject: str, body: str, ics: bytes | None = None
    ) -> bool:
        if not self.enabled:
            return False
        s = self.settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.smtp_from, to, subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=s.smtp_from.rpartition("@")[2] or None)
        message.set_content(body)
        if ics is not None:
            message.add_attachment(
                ics, maintype="text", subtype="calendar", filename="aftale.ics",
                params={"method": "PUBLISH"},
            )
        try:
            if s.smtp_security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=SEND_TIMEOUT_SECONDS,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SEND_TIMEOUT_SECONDS)
            with client:
                if s.smtp_security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    client.login(s.smtp_user, s.smtp_password)
                client.send_message(message)
            return True
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("could not send an e-mail (%s): %s", subject, type(exc).__name__)
            return False


# --- SMS ------------------------------------------------------------------------------------


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> bool:
        """Send one text message to a Danish number (8 digits); True when accepted."""


class HttpSmsGateway:
    """A provider's HTTP API: ``POST url`` with ``{"to": "+45…", "from": …, "text": …}`` and
    ``Authorization: Bearer <token>``; any 2xx answer counts as accepted. Most Danish
    providers take this shape or one field-mapping away from it."""

    def __init__(self, url: str, token: str, sender: str) -> None:
        self.url, self.token, self.sender = url, token, sender

    def send(self, phone: str, text: str) -> bool:
        try:
            response = httpx.post(
                self.url,
                json={"to": f"+45{phone}", "from": self.sender, "text": text},
                headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
                timeout=SEND_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as exc:
            log.warning("could not send an SMS: %s", type(exc).__name__)
            return False
        if not response.is_success:
            log.warning("the SMS gateway refused a message: HTTP %s", response.status_code)
        return response.is_success


def sms_sender(settings: Settings) -> SmsSender | None:
    if not settings.sms_gateway_url:
        return None
    return HttpSmsGateway(settings.sms_gateway_url, settings.sms_token, settings.sms_sender)


# --- what is sent -------------------------------------------------------------------------


class Notifier:
    """Sends to whichever channel the contact is: e-mail or, when configured, SMS."""

    def __init__(self, settings: Settings, library: Library | None = None) -> None:
        self.settings = settings
        self.mailer = Mailer(settings)
        self.sms = sms_sender(settings)
        self._library = library

    @property
    def library(self) -> Library:
        return self._library or load_library(self.settings.library_config)

    def can_reach(self, kind: str) -> bool:
        return self.mailer.enabled if kind == "email" else self.sms is not None

    def _send(self, kind: str, contact: str, subject: str, body: str, sms: str,
              ics: bytes | None = None) -> bool:
        if kind == "email":
            return self.mailer.send(contact, subject, body, ics)
        return self.sms.send(contact, sms) if self.sms is not None else False

    def _signature(self) -> str:
        library = self.library
        return f"Venlig hilsen\n{library.name}\nTelefon {library.phone}"

    def booking_confirmation(self, appointment: Appointment) -> bool:
        when = format_slot(appointment.starts_at)
        return self._appointment(
            appointment,
            subject=f"Din tid til it-hjælp {when}",
            opening=f"Din tid til it-hjælp er booket: {when}",
            closing=(
                "Tiden er vedhæftet som kalenderfil. Husk din telefon eller tablet og dine "
                "koder. Du kan aflyse eller flytte tiden i chatten med bookingnummeret og denne "
                "e-mailadresse."
            ),
            sms=f"Din tid til it-hjælp: {when}",
        )

    def booking_reminder(self, appointment: Appointment) -> bool:
        when = format_slot(appointment.starts_at)
        return self._appointment(
            appointment,
            subject=f"Påmindelse: it-hjælp i morgen {when}",
            opening=f"Vi minder dig om din tid til it-hjælp i morgen: {when}",
            closing=(
                "Kan du ikke komme, så aflys tiden i chatten eller ring til os, så en anden "
                "kan få den."
            ),
            sms=f"Påmindelse: it-hjælp i morgen {when}",
        )

    def _appointment(
        self, appointment: Appointment, *, subject: str, opening: str, closing: str, sms: str
    ) -> bool:
        """A confirmation or reminder: the appointment in words and as an .ics file."""
        a = appointment
        body = (
            f"Kære {a.name}\n\n{opening} på {a.branch_name}, {a.address}.\n"
            f"Hjælp til: {a.topic_label}\nBookingnummer: {a.reference}\n\n{closing}\n\n"
            f"{self._signature()}\n"
        )
        text = f"{sms} på {a.branch_name}. Bookingnr. {a.reference}. {self.library.name}"
        ics = appointment_ics(a, self.library)
        return self._send(a.contact_kind, a.contact, subject, body, text, ics)

    def access_code(self, kind: str, contact: str, code: str) -> bool:
        body = (
            f"Din kode er: {code}\n\nSkriv koden i chatten for at se dine aftaler hos "
            f"biblioteket. Koden gælder i {CODE_MINUTES} minutter. Har du ikke bedt om den, "
            f"kan du se bort fra denne e-mail.\n\n{self._signature()}\n"
        )
        sms = f"Din kode til bibliotekets chat er {code}. Den gælder i {CODE_MINUTES} min."
        return self._send(kind, contact, "Din kode til bibliotekets chat", body, sms)


def send_reminders(session: Session, notifier: Notifier, now: datetime | None = None) -> int:
    """Remind everyone booked for tomorrow (local date) who has not been reminded; returns
    how many reminders went out. Each booking is marked in the same transaction as its send,
    so a second gateway instance or a rerun sends nothing twice (SQLite serialises writers;
    PostgreSQL row locks with SKIP LOCKED)."""
    now = now or local_now()
    tomorrow = (now + timedelta(days=1)).date()
    start = datetime.combine(tomorrow, datetime.min.time())
    due = session.execute(
        select(Booking)
        .join(Booking.slot)
        .where(
            Booking.status == BOOKING_BOOKED,
            Booking.reminder_sent_at.is_(None),
            HelpSlot.starts_at >= start,
            HelpSlot.starts_at < start + timedelta(days=1),
        )
        .with_for_update(of=Booking, skip_locked=True)
    ).scalars().all()
    sent = 0
    for booking in due:
        if not notifier.can_reach(booking.contact_kind):
            continue
        if notifier.booking_reminder(Appointment.of(booking, notifier.library)):
            booking.reminder_sent_at = utc_now()
            sent += 1
    return sent
