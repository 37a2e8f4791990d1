"""enterprise profiles, published policy changes, the notification outbox and the widget's inbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 09:00:00

New tables only: existing rows are untouched. Deleting a profile deletes its notifications and
inbox items with it (ON DELETE CASCADE); policy changes hold no personal data and stay.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enterprise_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("channel_user_id", sa.String(length=120), nullable=False),
        sa.Column("enterprise_types", sa.JSON(), nullable=False),
        sa.Column("industry", sa.String(length=60), nullable=False),
        sa.Column("street", sa.String(length=60), nullable=False),
        sa.Column("size", sa.String(length=20), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("match_key", sa.String(length=1000), nullable=False),
        sa.Column("consent_text_version", sa.String(length=20), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "channel_user_id"),
    )
    with op.batch_alter_table("enterprise_profile", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enterprise_profile_match_key"), ["match_key"], unique=False)

    op.create_table(
        "policy_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("measure_keys", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    with op.batch_alter_table("policy_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_change_created_at"), ["created_at"], unique=False)

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("measure_keys", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["change_id"], ["policy_change.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["merged_into_id"], ["notification.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["profile_id"], ["enterprise_profile.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile_id", "change_id"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_change_id"), ["change_id"], unique=False)
        batch_op.create_index("ix_notification_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_notification_profile_state", ["profile_id", "state"], unique=False)

    op.create_table(
        "inbox_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("measure_keys", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["profile_id"], ["enterprise_profile.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id"),
    )
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_item_profile_id"), ["profile_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_item_profile_id"))
    op.drop_table("inbox_item")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_profile_state")
        batch_op.drop_index("ix_notification_due")
        batch_op.drop_index(batch_op.f("ix_notification_change_id"))
    op.drop_table("notification")
    with op.batch_alter_table("policy_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_change_created_at"))
    op.drop_table("policy_change")
    with op.batch_alter_table("enterprise_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_profile_match_key"))
    op.drop_table("enterprise_profile")
