"""Analysis: the term cache as integer ids (post_term_ids, term_vocab).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_term_ids",
        sa.Column("post_pk", sa.Integer, sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("tokenizer", sa.String(64), primary_key=True),
        sa.Column("term_ids", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "term_vocab",
        sa.Column("tokenizer", sa.String(64), primary_key=True),
        sa.Column("term_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("term", sa.Text, nullable=False),
        sa.UniqueConstraint("tokenizer", "term", name="uq_term_vocab_term"),
    )


def downgrade() -> None:
    op.drop_table("term_vocab")
    op.drop_table("post_term_ids")
