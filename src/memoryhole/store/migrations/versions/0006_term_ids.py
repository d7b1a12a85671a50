"""Analysis: the term cache as integer ids (post_terms.term_ids, term_vocab).

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
    # A plain ADD COLUMN (no table rebuild): existing rows get NULL, filled in on next use.
    op.add_column("post_terms", sa.Column("term_ids", sa.LargeBinary, nullable=True))
    op.create_index(
        "ix_post_terms_without_ids",
        "post_terms",
        ["tokenizer"],
        sqlite_where=sa.text("term_ids IS NULL"),
        postgresql_where=sa.text("term_ids IS NULL"),
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
    op.drop_index("ix_post_terms_without_ids", table_name="post_terms")
    with op.batch_alter_table("post_terms") as batch:
        batch.drop_column("term_ids")
