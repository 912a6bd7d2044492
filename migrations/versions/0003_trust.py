"""Trust (issue 13): one-time codes, failed look-ups, booking reminders; and a scrub of CPR
numbers that the earlier, narrower redaction let into transcripts, notes and tickets.

Written by hand to match bot/db/models.py (test_migrations checks that autogenerate finds no
difference). Rasa's tracker store is another database: `python -m bot scrub-cpr` scrubs it.

Revision ID: 0003_trust
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from bot.language.privacy import redact_cpr, redact_json

revision = "0003_trust"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("reminder_sent_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("ended_at", sa.DateTime(), nullable=True))
    op.create_table(
        "access_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("contact_kind", sa.String(length=8), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "contact_kind IN ('phone', 'email')", name=op.f("ck_access_codes_contact_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_codes")),
    )
    op.create_index("ix_access_codes_conversation_id", "access_codes", ["conversation_id"])
    op.create_table(
        "lookup_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_failures")),
    )
    op.create_index(
        "ix_lookup_failures_key_created_at", "lookup_failures", ["key", "created_at"]
    )
    _scrub_stored_cpr()


def _scrub_stored_cpr() -> None:
    """Redact CPR numbers in what is already stored (plain SQL: no ORM models here)."""
    conn = op.get_bind()
    messages = conn.execute(sa.text("SELECT id, text, payload FROM chat_messages")).all()
    for row_id, text, payload in messages:
        clean, found = redact_cpr(text or "")
        value = json.loads(payload) if isinstance(payload, str) else payload
        clean_payload, found_payload = redact_json(value)
        if found or found_payload:
            conn.execute(
                sa.text("UPDATE chat_messages SET text = :t, payload = :p WHERE id = :i"),
                {
                    "t": clean,
                    "p": None if clean_payload is None else json.dumps(clean_payload),
                    "i": row_id,
                },
            )
    text_columns = (("handoff_notes", ("text",)), ("handoff_tickets", ("description", "name")))
    for table, columns in text_columns:
        names = ", ".join(columns)
        for row in conn.execute(sa.text(f"SELECT id, {names} FROM {table}")).all():
            stored = dict(zip(columns, row[1:], strict=True))
            values = {c: redact_cpr(v)[0] if v else v for c, v in stored.items()}
            if values != stored:
                sets = ", ".join(f"{c} = :{c}" for c in columns)
                conn.execute(
                    sa.text(f"UPDATE {table} SET {sets} WHERE id = :id"), {**values, "id": row[0]}
                )


def downgrade() -> None:
    op.drop_index("ix_lookup_failures_key_created_at", table_name="lookup_failures")
    op.drop_table("lookup_failures")
    op.drop_index("ix_access_codes_conversation_id", table_name="access_codes")
    op.drop_table("access_codes")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("ended_at")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("reminder_sent_at")
