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

from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
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
from sqlalchemy.orm import Mapped, declarative_base, relationship

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
CONVERSATION_STATES = ("bot", "queued", "with_staff", "closed")
MESSAGE_SENDERS = ("citizen", "bot", "staff", "system")

# Stable constraint names make Alembic migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def utc_now() -> datetime:
    """Naive UTC, the convention for audit stamps."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_now() -> datetime:
    """Naive Copenhagen wall-clock time, the convention for appointment times."""
    return datetime.now(LOCAL_TZ).replace(tzinfo=None)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Branch(Base):
    __tablename__ = "branches"

    id: Mapped[str] = Column(String(64), primary_key=True)  # slug, e.g. "hovedbiblioteket"
    name: Mapped[str] = Column(String(200), nullable=False)
    address: Mapped[str] = Column(String(300), nullable=False, default="")

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

    id: Mapped[int] = Column(Integer, primary_key=True)
    branch_id: Mapped[str] = Column(ForeignKey("branches.id"), nullable=False)
    starts_at: Mapped[datetime] = Column(DateTime, nullable=False)  # naive local time
    ends_at: Mapped[datetime] = Column(DateTime, nullable=False)  # naive local time
    capacity: Mapped[int] = Column(Integer, nullable=False, default=1, server_default="1")

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

    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(7), nullable=False, unique=True)  # "ABC-234"
    slot_id: Mapped[int] = Column(ForeignKey("help_slots.id"), nullable=False)
    topic: Mapped[str] = Column(String(32), nullable=False)
    name: Mapped[str] = Column(String(100), nullable=False)
    contact_kind: Mapped[str] = Column(String(8), nullable=False)
    contact: Mapped[str] = Column(String(254), nullable=False)  # normalised phone or e-mail
    status: Mapped[str] = Column(String(16), nullable=False, default=BOOKING_BOOKED)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
    cancelled_at: Mapped[datetime | None] = Column(DateTime, nullable=True)

    slot: Mapped[HelpSlot] = relationship(
        HelpSlot, back_populates="bookings", lazy="joined", innerjoin=True
    )

    def __repr__(self) -> str:
        return f"<Booking {self.reference} slot={self.slot_id} {self.status}>"


class Course(Base):
    """An IT course ("Lær mere om IT"), offered in one or more sessions."""

    __tablename__ = "courses"

    id: Mapped[str] = Column(String(64), primary_key=True)  # slug, e.g. "mitid-begyndere"
    title: Mapped[str] = Column(String(200), nullable=False)
    description: Mapped[str] = Column(Text, nullable=False, default="")
    topic: Mapped[str] = Column(String(32), nullable=False)

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

    id: Mapped[int] = Column(Integer, primary_key=True)
    course_id: Mapped[str] = Column(ForeignKey("courses.id"), nullable=False)
    branch_id: Mapped[str] = Column(ForeignKey("branches.id"), nullable=False)
    starts_at: Mapped[datetime] = Column(DateTime, nullable=False)  # naive local time
    ends_at: Mapped[datetime] = Column(DateTime, nullable=False)  # naive local time
    seats: Mapped[int] = Column(Integer, nullable=False)
    # Number of enrolments with status 'enrolled'; kept exact by bot/services/courses.py.
    seats_taken: Mapped[int] = Column(Integer, nullable=False, default=0, server_default="0")

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

    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(7), nullable=False, unique=True)
    session_id: Mapped[int] = Column(ForeignKey("course_sessions.id"), nullable=False)
    name: Mapped[str] = Column(String(100), nullable=False)
    contact_kind: Mapped[str] = Column(String(8), nullable=False)
    contact: Mapped[str] = Column(String(254), nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
    # Set when the enrolment joins the wait-list; its place in line orders by (queued_at, id).
    queued_at: Mapped[datetime | None] = Column(DateTime, nullable=True)
    promoted_at: Mapped[datetime | None] = Column(DateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = Column(DateTime, nullable=True)

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

    id: Mapped[str] = Column(String(64), primary_key=True)
    channel: Mapped[str] = Column(String(16), nullable=False, default="web", server_default="web")
    # Plain column, no foreign key: branch ids come from config/library.yml and the chat must
    # work even before the branches table is seeded.
    branch_id: Mapped[str | None] = Column(String(64), nullable=True)
    topic: Mapped[str | None] = Column(String(32), nullable=True)
    state: Mapped[str] = Column(String(16), nullable=False, default="bot", server_default="bot")
    assigned_staff: Mapped[str | None] = Column(String(64), nullable=True)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = Column(
        DateTime, nullable=False, default=utc_now, onupdate=utc_now
    )

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

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = Column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = Column(Integer, nullable=False)
    sender: Mapped[str] = Column(String(16), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    # buttons etc.; JSONB on PostgreSQL, so the insight queries read fields without reparsing.
    payload: Mapped[Any | None] = Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=True
    )
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)

    conversation: Mapped[Conversation] = relationship(Conversation, back_populates="messages")

    def __repr__(self) -> str:
        return f"<ChatMessage {self.conversation_id}#{self.seq} {self.sender}>"


# --- Staff and handoff to a person (issue #4) -------------------------------------------
#
# A ticket is one request for a person. Its ``kind`` says how staff answer it:
# - "live": a web chat waiting in the queue ("queued") until a staff member takes it
#   ("with_staff"); ends "returned_to_bot", "closed" (with an outcome) or "cancelled" (the
#   citizen left). Nobody taking it in time turns it into a "callback" ticket.
# - "callback": the library contacts the citizen later. "pending_details" while the bot still
#   collects name and contact (after a queue timeout), "open" until staff close it.
# - "kiosk": "Kald en medarbejder" at a foyer kiosk; staff walk over ("with_staff").
# The conversation's own ``state`` ("queued"/"with_staff") is what routes citizen messages to
# staff instead of Rasa; both live in the database, so a gateway restart changes nothing.

TICKET_KINDS = ("live", "callback", "kiosk")
TICKET_QUEUED = "queued"
TICKET_WITH_STAFF = "with_staff"
TICKET_PENDING_DETAILS = "pending_details"
TICKET_OPEN = "open"
TICKET_RETURNED = "returned_to_bot"
TICKET_CLOSED = "closed"
TICKET_CANCELLED = "cancelled"
TICKET_STATUSES = (
    TICKET_QUEUED,
    TICKET_WITH_STAFF,
    TICKET_PENDING_DETAILS,
    TICKET_OPEN,
    TICKET_RETURNED,
    TICKET_CLOSED,
    TICKET_CANCELLED,
)
# Statuses in which a ticket still needs staff.
TICKET_ACTIVE_STATUSES = (
    TICKET_QUEUED,
    TICKET_WITH_STAFF,
    TICKET_PENDING_DETAILS,
    TICKET_OPEN,
)


# Console roles, each including the ones before it: staff (chats, notes, insight), editor
# (also the knowledge articles), admin (also staff accounts).
ROLES = ("staff", "editor", "admin")


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    username: Mapped[str] = Column(String(64), nullable=False, unique=True)  # lower case
    name: Mapped[str] = Column(String(200), nullable=False)  # shown to citizens
    password_hash: Mapped[str] = Column(String(255), nullable=False)  # argon2id
    role: Mapped[str] = Column(String(16), nullable=False, default="staff", server_default="staff")
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
    last_login_at: Mapped[datetime | None] = Column(DateTime, nullable=True)
    # A timestamp instead of a flag: disabling is rare and worth knowing when it happened.
    disabled_at: Mapped[datetime | None] = Column(DateTime, nullable=True)

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def __repr__(self) -> str:
        return f"<StaffUser {self.username}>"


class StaffSession(Base):
    """A signed-in console. ``id`` is the SHA-256 of the cookie value, never the value."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_staff_id", "staff_id"),)

    id: Mapped[str] = Column(String(64), primary_key=True)
    staff_id: Mapped[int] = Column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
    )
    csrf_token: Mapped[str] = Column(String(64), nullable=False)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
    # Presence: the console's WebSocket refreshes it; recent = "staff are signed in".
    last_seen_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
    expires_at: Mapped[datetime] = Column(DateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = Column(DateTime, nullable=True)

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

    id: Mapped[int] = Column(Integer, primary_key=True)
    kind: Mapped[str] = Column(String(16), nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False)
    # A callback ticket outlives a purged transcript, hence SET NULL.
    conversation_id: Mapped[str | None] = Column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )
    branch_id: Mapped[str | None] = Column(String(64), nullable=True)
    topic: Mapped[str | None] = Column(String(32), nullable=True)
    # Why the bot handed off: requested, frustrated, fallback, complaint, callback, kiosk.
    reason: Mapped[str] = Column(String(32), nullable=False, default="requested")
    name: Mapped[str | None] = Column(String(100), nullable=True)
    contact_kind: Mapped[str | None] = Column(String(8), nullable=True)
    contact: Mapped[str | None] = Column(String(254), nullable=True)
    description: Mapped[str | None] = Column(Text, nullable=True)  # CPR numbers redacted
    staff_id: Mapped[int | None] = Column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    outcome: Mapped[str | None] = Column(String(32), nullable=True)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = Column(
        DateTime, nullable=False, default=utc_now, onupdate=utc_now
    )
    taken_at: Mapped[datetime | None] = Column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = Column(DateTime, nullable=True)
    # UTC moment a queued live chat turns into a callback request.
    expires_at: Mapped[datetime | None] = Column(DateTime, nullable=True)
    # Local wall-clock time the library promised to respond by (like appointment times).
    respond_by: Mapped[datetime | None] = Column(DateTime, nullable=True)

    staff: Mapped[StaffUser | None] = relationship(StaffUser, lazy="joined")

    def __repr__(self) -> str:
        return f"<HandoffTicket {self.id} {self.kind} {self.status}>"


class HandoffNote(Base):
    """An internal note on a ticket; never shown to the citizen."""

    __tablename__ = "handoff_notes"
    __table_args__ = (Index("ix_handoff_notes_ticket_id", "ticket_id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    ticket_id: Mapped[int] = Column(
        ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False
    )
    staff_id: Mapped[int | None] = Column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)

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

    id: Mapped[int] = Column(Integer, primary_key=True)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
    action: Mapped[str] = Column(String(32), nullable=False)
    staff_id: Mapped[int | None] = Column(Integer, nullable=True)
    username: Mapped[str | None] = Column(String(64), nullable=True)
    ip: Mapped[str | None] = Column(String(64), nullable=True)
    ticket_id: Mapped[int | None] = Column(Integer, nullable=True)
    conversation_id: Mapped[str | None] = Column(String(64), nullable=True)
    detail: Mapped[Any | None] = Column(JSON, nullable=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} staff={self.staff_id}>"


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

    topic: Mapped[str] = Column(String(32), nullable=False)
    title: Mapped[str] = Column(String(200), nullable=False)
    source: Mapped[str] = Column(String(500), nullable=False)
    reviewed: Mapped[date] = Column(Date, nullable=False)
    body: Mapped[str] = Column(Text, nullable=False)
    questions: Mapped[list[str]] = Column(JSON, nullable=False)
    related: Mapped[list[str]] = Column(JSON, nullable=False)


class KnowledgeArticle(_ArticleContent, Base):
    """The current version of one article; ids are permanent (knowledge/_moved.yml)."""

    __tablename__ = "articles"

    id: Mapped[str] = Column(String(100), primary_key=True)
    version: Mapped[int] = Column(Integer, nullable=False)
    updated_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
    # None: imported from knowledge/, not changed in the console since.
    updated_by: Mapped[str | None] = Column(String(64), nullable=True)

    def __repr__(self) -> str:
        return f"<KnowledgeArticle {self.id} v{self.version}>"


class ArticleVersion(_ArticleContent, Base):
    """Every version of every article, with who made it and when (kept for restore)."""

    __tablename__ = "article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "version"),
        CheckConstraint(_in("action", ARTICLE_ACTIONS), name="action"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = Column(ForeignKey("articles.id"), nullable=False)
    version: Mapped[int] = Column(Integer, nullable=False)
    action: Mapped[str] = Column(String(32), nullable=False)
    staff_id: Mapped[int | None] = Column(Integer, nullable=True)  # no FK: outlives accounts
    username: Mapped[str | None] = Column(String(64), nullable=True)
    restored_from: Mapped[int | None] = Column(Integer, nullable=True)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)

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

    id: Mapped[int] = Column(Integer, primary_key=True)
    group_key: Mapped[str] = Column(String(64), nullable=False)
    action: Mapped[str] = Column(String(16), nullable=False)
    article_id: Mapped[str | None] = Column(String(100), nullable=True)
    staff_id: Mapped[int | None] = Column(Integer, nullable=True)
    username: Mapped[str | None] = Column(String(64), nullable=True)
    created_at: Mapped[datetime] = Column(DateTime, nullable=False, default=utc_now)
