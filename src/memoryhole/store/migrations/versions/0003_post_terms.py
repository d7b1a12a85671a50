"""Analysis: the per-post term cache (post_terms).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_terms",
        sa.Column("post_pk", sa.Integer, sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("tokenizer", sa.String(64), primary_key=True),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("post_terms")
