"""Evidence: leaf hashes on observations, signed checkpoints, redactions.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.add_column(sa.Column("leaf_hash", sa.LargeBinary(32)))
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "redactions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("author_pseudonym", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("redacted_at", sa.Float, nullable=False),
    )
    op.create_index("ix_redactions_body_sha256", "redactions", ["body_sha256"])


def downgrade() -> None:
    op.drop_index("ix_redactions_body_sha256", "redactions")
    op.drop_table("redactions")
    op.drop_table("checkpoints")
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("leaf_hash")
