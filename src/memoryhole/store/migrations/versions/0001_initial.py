"""Initial schema: targets, authors, posts, observations, verdicts, schedule.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("spec", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
        sa.Column("cursor", sa.String(200)),
        sa.Column("next_poll_at", sa.Float, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("raw_id", sa.String(128), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.UniqueConstraint("platform", "raw_id", name="uq_authors_platform_raw_id"),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("post_id", sa.String(128), nullable=False),
        sa.Column("author_pk", sa.Integer, sa.ForeignKey("authors.id"), nullable=False),
        sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id")),
        sa.Column("published_at", sa.Float, nullable=False),
        sa.Column("first_seen_at", sa.Float, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("discovered_by", sa.Integer),
        sa.UniqueConstraint("platform", "post_id", name="uq_posts_platform_post_id"),
    )
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("post_pk", sa.Integer, sa.ForeignKey("posts.id")),
        sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id")),
        sa.Column("seq", sa.Integer),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("sent_at", sa.Float, nullable=False),
        sa.Column("observed_at", sa.Float, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("elapsed", sa.Float, nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("response_headers", sa.Text, nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("body_size", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("code", sa.String(64)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("post_pk", "seq", name="uq_observations_post_seq"),
    )
    op.create_index("ix_observations_post_pk", "observations", ["post_pk"])
    op.create_table(
        "verdicts",
        sa.Column("post_pk", sa.Integer, sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("first_seen_at", sa.Float, nullable=False),
        sa.Column("last_seen_alive_at", sa.Float),
        sa.Column("first_seen_removed_at", sa.Float),
        sa.Column("signal", sa.Text, nullable=False),
        sa.Column("edited", sa.Boolean, nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("checks", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("history", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_verdicts_status", "verdicts", ["status"])
    op.create_table(
        "schedule",
        sa.Column("post_pk", sa.Integer, sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("next_check_at", sa.Float, nullable=False),
    )
    op.create_index("ix_schedule_next_check_at", "schedule", ["next_check_at"])


def downgrade() -> None:
    for name in ("schedule", "verdicts", "observations", "posts", "authors", "targets"):
        op.drop_table(name)
