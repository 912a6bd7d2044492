"""Insight and editing in the console: staff roles, the article store with its versions, what
staff did with missed questions, the indexes the insight queries read by period, and JSONB for
the message payload on PostgreSQL.

Written by hand to match bot/db/models.py (test_migrations checks that autogenerate finds no
difference). The role column gets a server default, so existing accounts become "staff"; on
SQLite it is added in place, never through a table copy (see upgrade()), so that sessions,
tickets and notes keep their staff member (tests/test_migration_upgrade.py).

Revision ID: 0004_insight
Revises: 0003_trust
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004_insight"
down_revision = "0003_trust"
branch_labels = None
depends_on = None

_ARTICLE_COLUMNS = (
    ("topic", sa.String(length=32)),
    ("title", sa.String(length=200)),
    ("source", sa.String(length=500)),
    ("reviewed", sa.Date()),
    ("body", sa.Text()),
    ("questions", sa.JSON()),
    ("related", sa.JSON()),
)


def _article_columns() -> list[sa.Column]:
    return [sa.Column(name, kind, nullable=False) for name, kind in _ARTICLE_COLUMNS]


_ROLE_CHECK = "role IN ('staff', 'editor', 'admin')"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _sqlite():
        # Not batch mode: its table copy drops staff_users, and with foreign keys on that
        # deletes every staff session and unlinks every ticket and note from its staff member
        # (ON DELETE CASCADE / SET NULL). SQLite adds a column with its CHECK in place.
        op.execute(
            "ALTER TABLE staff_users ADD COLUMN role VARCHAR(16) DEFAULT 'staff' NOT NULL "
            f"CONSTRAINT ck_staff_users_role CHECK ({_ROLE_CHECK})"
        )
    else:
        op.add_column(
            "staff_users",
            sa.Column("role", sa.String(length=16), nullable=False, server_default="staff"),
        )
        op.create_check_constraint(op.f("ck_staff_users_role"), "staff_users", _ROLE_CHECK)
    op.create_table(
        "articles",
        sa.Column("id", sa.String(length=100), nullable=False),
        *_article_columns(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
    )
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_article_columns(),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "action IN ('imported', 'created', 'edited', 'restored', 'question_added')",
            name=op.f("ck_article_versions_action"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_versions_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_versions")),
        sa.UniqueConstraint(
            "article_id", "version", name=op.f("uq_article_versions_article_id_version")
        ),
    )
    op.create_table(
        "missed_question_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("article_id", sa.String(length=100), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "action IN ('dismissed', 'added_example', 'new_article')",
            name=op.f("ck_missed_question_actions_action"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missed_question_actions")),
    )
    op.create_index(
        "ix_missed_question_actions_group_key", "missed_question_actions", ["group_key"]
    )
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    op.create_index("ix_chat_messages_created_at", "chat_messages", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Binary JSON: the insight reads kind, topic, article and feedback from every message
        # of a period; plain json would be reparsed for each field (measured ~4x slower).
        op.alter_column(
            "chat_messages", "payload", type_=JSONB(), existing_type=sa.JSON(),
            postgresql_using="payload::jsonb",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "chat_messages", "payload", type_=sa.JSON(), existing_type=JSONB(),
            postgresql_using="payload::json",
        )
    op.drop_index("ix_chat_messages_created_at", table_name="chat_messages")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    for table in ("missed_question_actions", "article_versions", "articles"):
        op.drop_table(table)
    if _sqlite():
        # In place, like the upgrade (SQLite drops a column together with its own CHECK).
        op.execute("ALTER TABLE staff_users DROP COLUMN role")
    else:
        op.drop_constraint(op.f("ck_staff_users_role"), "staff_users", type_="check")
        op.drop_column("staff_users", "role")
