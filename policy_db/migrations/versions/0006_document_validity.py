"""document metadata and validity: 文号, effective and expiry dates, supersession

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00

Existing documents keep their rows and ids; they get no number and no dates, so they stay in
force until an admin records otherwise.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_document", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("document_number", sa.String(length=80), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("effective_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("expires_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("superseded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_policy_document_superseded_by_id",
            "policy_document",
            ["superseded_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("policy_document", schema=None) as batch_op:
        batch_op.drop_constraint("fk_policy_document_superseded_by_id", type_="foreignkey")
        batch_op.drop_column("superseded_by_id")
        batch_op.drop_column("expires_on")
        batch_op.drop_column("effective_on")
        batch_op.drop_column("document_number")
