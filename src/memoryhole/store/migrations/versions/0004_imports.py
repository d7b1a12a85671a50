"""Imports of past datasets: the imports table and posts.imported_from.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_size", sa.BigInteger, nullable=False),
        sa.Column("encoding", sa.String(16), nullable=False),
        sa.Column("timing", sa.Text, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("new_posts", sa.Integer, nullable=False),
        sa.Column("updated_posts", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
    )
    op.create_index("ix_imports_source_sha256", "imports", ["source_sha256"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its REFERENCES clause in place. A batch "move and copy" of
        # posts would fail on any study that has observations of them (foreign keys are on).
        op.execute("ALTER TABLE posts ADD COLUMN imported_from INTEGER REFERENCES imports (id)")
    else:
        op.add_column("posts", sa.Column("imported_from", sa.Integer))
        op.create_foreign_key(
            "fk_posts_imported_from", "posts", "imports", ["imported_from"], ["id"]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_posts_imported_from", "posts", type_="foreignkey")
    op.drop_column("posts", "imported_from")  # SQLite >= 3.35 drops it in place
    op.drop_index("ix_imports_source_sha256", "imports")
    op.drop_table("imports")
