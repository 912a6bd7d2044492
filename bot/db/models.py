"""Database models for IT help bookings, IT courses and the chat transcript.

Time convention (all DateTime columns are naive, because SQLite has no time zones and mixing
aware and naive values across engines causes subtle bugs):

- Appointment times (``starts_at``/``ends_at`` of help slots and course sessions) are naive
  *local wall-clock time in Europe/Copenhagen*, exactly as printed on the library's calendar.
  Compare them with :func:`local_now`, never with UTC.
- Audit stamps (``created_at``, ``updated_at``, ``cancelled_at``, ``queued_at``,
  ``promoted_at``) are naive *UTC*, from :func:`utc_now`.

How double booking is made impossible at the database level:

- Help slots: the partial unique index ``uq_bookings_active_slot`` allows at most one row with
  status 'booked' per slot. Both engines check a unique index atomically at INSERT time (a
  concurrent PostgreSQL insert waits for the other transaction and then fails; SQLite
  serialises writers), so the loser of a race gets an IntegrityError, never a second booking.
- Course seats: ``course_sessions.seats_taken`` is a counter guarded by a CHECK
  (0 <= seats_taken <= seats); see bot/services/courses.py for the locking that keeps it exact.
- One active enrolment per contact and session: partial unique index
  ``uq_enrolments_active_contact`` on (session_id, lower(contact)).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.core.handoff_states import ConversationState, Kind, Status

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")

# Values of Booking.topic / Course.topic with the Danish label shown to citizens and staff.
HELP_TOPICS: dict[str, str] = {
    "mitid": "MitID",
    "digital_post": "Digital Post",
    "borger_dk": "Selvbetjening på borger.dk",
    "tablet_phone": "Tablet og mobil",
    "andet": "Andet",
}

BOOKING_BOOKED = "booked"
BOOKING_CANCELLED = "cancelled"

ENROLMENT_ENROLLED = "enrolled"
ENROLMENT_WAITLISTED = "waitlisted"
ENROLMENT_CANCELLED = "cancelled"

CONTACT_KINDS = ("phone", "email")
CONVERSATION_STATES = tuple(state.value for state in ConversationState)
MESSAGE_SENDERS = ("citizen", "bot", "staff", "system")

# Stable constraint names make Alembic migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class Base(DeclarativeBase):
    """Typed declarative base (SQLAlchemy 2): columns are ``Mapped[...]`` with ``mapped_column``."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utc_now() -> datetime:
    """Naive UTC, the convention for audit stamps."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_now() -> datetime:
    """Naive Copenhagen wall-clock time, the convention for appointment times."""
    return datetime.now(LOCAL_TZ).replace(tzinfo=None)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Branch(Base):
    __tablename__ = "branches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # slug, e.g. "hovedbiblioteket"
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")

    def __repr__(self) -> str:
        return f"<Branch {self.id}>"


class HelpSlot(Base):
    """A one-to-one IT help appointment ("Digital hjælp") at a branch."""

    __tablename__ = "help_slots"
    __table_args__ = (
        UniqueConstraint("branch_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="time_order"),
        # One citizen per slot; the partial unique index on bookings relies on it. Group help
        # would need a seat counter like CourseSession's.
        CheckConstraint("capacity = 1", name="one_to_one"),
        Index("ix_help_slots_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)  # naive local time
    ends_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)  # naive local time
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    branch: Mapped[Branch] = relationship(Branch, lazy="joined", innerjoin=True)
    bookings: Mapped[list[Booking]] = relationship("Booking", back_populates="slot")

    def __repr__(self) -> str:
        return f"<HelpSlot {self.id} {self.branch_id} {self.starts_at:%Y-%m-%d %H:%M}>"


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(_in("status", (BOOKING_BOOKED, BOOKING_CANCELLED)), name="status"),
        CheckConstraint(_in("contact_kind", CONTACT_KINDS), name="contact_kind"),
        Index(
            "uq_bookings_active_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
        Index("ix_bookings_contact", "contact"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(7), nullable=False, unique=True)  # "ABC-234"
    slot_id: Mapped[int] = mapped_column(ForeignKey("help_slots.id"), nullable=False)
    topic: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    contact_kind: Mapped[str] = mapped_column(String(8), nullable=False)
    contact: Mapped[str] = mapped_column(String(254), nullable=False)  # normalised phone or e-mail
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=BOOKING_BOOKED)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # When the day-before reminder went out (e-mail/SMS); None until then.
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    slot: Mapped[HelpSlot] = relationship(
        HelpSlot, back_populates="bookings", lazy="joined", innerjoin=True
    )

    def __repr__(self) -> str:
        return f"<Booking {self.reference} slot={self.slot_id} {self.status}>"


class Course(Base):
    """An IT course ("Lær mere om IT"), offered in one or more sessions."""

    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # slug, e.g. "mitid-begyndere"
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    topic: Mapped[str] = mapped_column(String(32), nullable=False)

    def __repr__(self) -> str:
        return f"<Course {self.id}>"


class CourseSession(Base):
    __tablename__ = "course_sessions"
    __table_args__ = (
        UniqueConstraint("course_id", "branch_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="time_order"),
        CheckConstraint("seats > 0", name="seats_positive"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= seats", name="seats_taken_range"),
        Index("ix_course_sessions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"), nullable=False)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)  # naive local time
    ends_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)  # naive local time
    seats: Mapped[int] = mapped_column(Integer, nullable=False)
    # Number of enrolments with status 'enrolled'; kept exact by bot/services/courses.py.
    seats_taken: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")

    course: Mapped[Course] = relationship(Course, lazy="joined", innerjoin=True)
    branch: Mapped[Branch] = relationship(Branch, lazy="joined", innerjoin=True)

    @property
    def seats_left(self) -> int:
        return max(self.seats - self.seats_taken, 0)

    def __repr__(self) -> str:
        return f"<CourseSession {self.id} {self.course_id} {self.starts_at:%Y-%m-%d %H:%M}>"


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint(
            _in("status", (ENROLMENT_ENROLLED, ENROLMENT_WAITLISTED, ENROLMENT_CANCELLED)),
            name="status",
        ),
        CheckConstraint(_in("contact_kind", CONTACT_KINDS), name="contact_kind"),
        Index(
            "uq_enrolments_active_contact",
            "session_id",
            func.lower(text("contact")),
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        # The wait-list is read in (queued_at, id) order per session.
        Index("ix_enrolments_session_id_status_queued_at", "session_id", "status", "queued_at"),
        Index("ix_enrolments_contact", "contact"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(7), nullable=False, unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    contact_kind: Mapped[str] = mapped_column(String(8), nullable=False)
    contact: Mapped[str] = mapped_column(String(254), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    # Set when the enrolment joins the wait-list; its place in line orders by (queued_at, id).
    queued_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    course_session: Mapped[CourseSession] = relationship(
        CourseSession, lazy="joined", innerjoin=True
    )

    def __repr__(self) -> str:
        return f"<Enrolment {self.reference} session={self.session_id} {self.status}>"


class Conversation(Base):
    """A chat session (owned by the gateway); ``id`` is the chat session id."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(_in("state", CONVERSATION_STATES), name="state"),
        # The insight page reads conversations and messages by period.
        Index("ix_conversations_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(
        String(16), nullable=False, default="web", server_default="web"
    )
    # Plain column, no foreign key: branch ids come from config/library.yml and the chat must
    # work even before the branches table is seeded.
    branch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[str] = mapped_column(
        String(16), nullable=False, default="bot", server_default="bot"
    )
    assigned_staff: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, default=utc_now, onupdate=utc_now
    )
    # Set when the citizen's side ends it for good (kiosk reset, "Slet samtalen"): then the
    # id answers nothing any more. A chat that staff close may go on with the bot.
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    messages: Mapped[list[ChatMessage]] = relationship(
        "ChatMessage",
        back_populates="conversation",
        order_by="ChatMessage.seq",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Conversation {self.id} {self.state}>"


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint(_in("sender", MESSAGE_SENDERS), name="sender"),
        # Unique, so it is both the per-conversation ordering index and the guard against two
        # writers using the same sequence number.
        Index("ix_chat_messages_conversation_id_seq", "conversation_id", "seq", unique=True),
        Index("ix_chat_messages_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    sender: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    # buttons etc.; JSONB on PostgreSQL, so the insight queries read fields without reparsing.
    payload: Mapped[Any | None] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)

    conversation: Mapped[Conversation] = relationship(Conversation, back_populates="messages")

    def __repr__(self) -> str:
        return f"<ChatMessage {self.conversation_id}#{self.seq} {self.sender}>"


# --- Staff and handoff to a person (issue #4) -------------------------------------------
#
# The states of a ticket, of the conversation and what the citizen sees, and every allowed
# transition, are one table: bot/core/handoff_states.py. The CHECK constraints below take their
# values from it. Both live in the database, so a gateway restart changes nothing.

TICKET_KINDS = tuple(kind.value for kind in Kind)
TICKET_STATUSES = tuple(status.value for status in Status)


# Console roles, each including the ones before it: staff (chats, notes, insight), editor
# (also the knowledge articles), admin (also staff accounts).
ROLES = ("staff", "editor", "admin")


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)  # lower case
    name: Mapped[str] = mapped_column(String(200), nullable=False)  # shown to citizens
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)  # argon2id
    role: Mapped[str] = mapped_column(
        String(16), nullable=False, default="staff", server_default="staff"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # A timestamp instead of a flag: disabling is rare and worth knowing when it happened.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def __repr__(self) -> str:
        return f"<StaffUser {self.username}>"


class StaffSession(Base):
    """A signed-in console. ``id`` is the SHA-256 of the cookie value, never the value."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_staff_id", "staff_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
    )
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    # Presence: the console's WebSocket refreshes it; recent = "staff are signed in".
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    staff: Mapped[StaffUser] = relationship(StaffUser, lazy="joined", innerjoin=True)


class HandoffTicket(Base):
    __tablename__ = "handoff_tickets"
    __table_args__ = (
        CheckConstraint(_in("kind", TICKET_KINDS), name="kind"),
        CheckConstraint(_in("status", TICKET_STATUSES), name="status"),
        CheckConstraint(
            f"contact_kind IS NULL OR {_in('contact_kind', CONTACT_KINDS)}", name="contact_kind"
        ),
        Index("ix_handoff_tickets_status_created_at", "status", "created_at"),
        Index("ix_handoff_tickets_conversation_id", "conversation_id"),
        # At most one live or kiosk request in progress per conversation: a double click or
        # two gateway instances cannot queue the same chat twice.
        Index(
            "uq_handoff_tickets_active_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'with_staff')"),
            postgresql_where=text("status IN ('queued', 'with_staff')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    # A callback ticket outlives a purged transcript, hence SET NULL.
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )
    branch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Why the bot handed off: requested, frustrated, fallback, complaint, callback, kiosk.
    reason: Mapped[str] = mapped_column(String(32), nullable=False, default="requested")
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    contact_kind: Mapped[str | None] = mapped_column(String(8), nullable=True)
    contact: Mapped[str | None] = mapped_column(String(254), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)  # CPR numbers redacted
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, default=utc_now, onupdate=utc_now
    )
    taken_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # UTC moment a queued live chat turns into a callback request.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Local wall-clock time the library promised to respond by (like appointment times).
    respond_by: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    staff: Mapped[StaffUser | None] = relationship(StaffUser, lazy="joined")

    def __repr__(self) -> str:
        return f"<HandoffTicket {self.id} {self.kind} {self.status}>"


class HandoffNote(Base):
    """An internal note on a ticket; never shown to the citizen."""

    __tablename__ = "handoff_notes"
    __table_args__ = (Index("ix_handoff_notes_ticket_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)

    staff: Mapped[StaffUser | None] = relationship(StaffUser, lazy="joined")


class AuditEvent(Base):
    """Who did what: sign-ins (also failed ones, which drive the login rate limit), reading a
    transcript, taking, answering and closing tickets. Plain ids, no foreign keys: the record
    must survive the deletion of what it talks about."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_action_created_at", "action", "created_at"),
        Index("ix_audit_events_conversation_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[Any | None] = mapped_column(JSON, nullable=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} staff={self.staff_id}>"


# --- Trust (issue 13): one-time codes and failed look-ups ----------------------------------


class AccessCode(Base):
    """A one-time code sent to a contact so that "what have I booked?" shows that contact's
    bookings only to someone who can read its messages. Bound to the chat session that asked;
    only a hash of the code is stored."""

    __tablename__ = "access_codes"
    __table_args__ = (
        CheckConstraint(_in("contact_kind", CONTACT_KINDS), name="contact_kind"),
        Index("ix_access_codes_conversation_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), nullable=False)
    contact_kind: Mapped[str] = mapped_column(String(8), nullable=False)
    contact: Mapped[str] = mapped_column(String(254), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LookupFailure(Base):
    """A wrong reference or code. Counted per chat session and per contact (both as hashes,
    so this table holds no contact details) to lock guessing out for a while."""

    __tablename__ = "lookup_failures"
    __table_args__ = (Index("ix_lookup_failures_key_created_at", "key", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # sha256 of "session:…" or "contact:…"
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)


# --- Knowledge articles edited in the console (issue #10) ------------------------------------
#
# The app database is where every gateway and action-server instance reads the articles, so a
# saved change answers the next question everywhere. knowledge/*.md seeds it (`python -m bot
# knowledge import`, also run by `make run`) and `python -m bot knowledge export` writes it back.
# Every change is a new row in article_versions, in the same transaction as the article row:
# max(article_versions.id) is the cheap stamp the answer engine's cache keys on.

ARTICLE_ACTIONS = ("imported", "created", "edited", "restored", "question_added")


class _ArticleContent:
    """The fields of an article's front matter plus its body (an article and its versions)."""

    topic: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(String(500), nullable=False)
    reviewed: Mapped[date] = mapped_column(Date, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    questions: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    related: Mapped[list[str]] = mapped_column(JSON, nullable=False)


class KnowledgeArticle(_ArticleContent, Base):
    """The current version of one article; ids are permanent (knowledge/_moved.yml)."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
    # None: imported from knowledge/, not changed in the console since.
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    def __repr__(self) -> str:
        return f"<KnowledgeArticle {self.id} v{self.version}>"


class ArticleVersion(_ArticleContent, Base):
    """Every version of every article, with who made it and when (kept for restore)."""

    __tablename__ = "article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "version"),
        CheckConstraint(_in("action", ARTICLE_ACTIONS), name="action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # no FK: outlives accounts
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)

    def __repr__(self) -> str:
        return f"<ArticleVersion {self.article_id} v{self.version} {self.action}>"


MISSED_ACTIONS = ("dismissed", "added_example", "new_article")


class MissedQuestionAction(Base):
    """What staff did with a group of "Spørgsmål uden godt svar" (keyed by the group's
    normalised text). A group stays hidden until a question of it is asked again after the
    action, so a dismissed question that keeps coming back shows up again."""

    __tablename__ = "missed_question_actions"
    __table_args__ = (
        CheckConstraint(_in("action", MISSED_ACTIONS), name="action"),
        Index("ix_missed_question_actions_group_key", "group_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_key: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    article_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now)
