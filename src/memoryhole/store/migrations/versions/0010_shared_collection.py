"""Several collectors on one study: partition leases, shared budgets, id blocks.

``collect_claims`` (a worker's lease on a target and the checks of its posts),
``collect_workers`` (heartbeats), ``collect_budgets`` (token buckets every worker draws from)
and ``id_blocks`` (post and author ids handed out in blocks). Used on PostgreSQL only; on
SQLite the tables stay empty.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collect_claims",
        sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id"), primary_key=True),
        sa.Column("worker", sa.String(128)),
        sa.Column("lease_until", sa.Float, nullable=False),
    )
    op.create_table(
        "collect_workers",
        sa.Column("worker", sa.String(128), primary_key=True),
        sa.Column("alive_until", sa.Float, nullable=False),
    )
    op.create_table(
        "collect_budgets",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
    )
    op.create_table(
        "id_blocks",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("next_id", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for name in ("id_blocks", "collect_budgets", "collect_workers", "collect_claims"):
        op.drop_table(name)
